// Where and as whom a SQL database connector connects: the options every SQL source and sink
// shares (host, port, user, password, database, connect_timeout_secs), their option specs, and
// their validation.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "config/options.h"
#include "connectors/sql/where_condition.h"
#include "core/secret.h"

namespace sluice::connectors::sql {

struct ConnectionOptions {
  /// The connector type ("mysql", "postgres"), the first word of every error about the server.
  std::string system;
  std::string host = "127.0.0.1";
  int port = 0;
  std::string user;
  /// Never logged, never part of an error: only handed to the client library.
  Secret password;
  std::string database;
  /// Seconds to wait for a connection.
  int connect_timeout_secs = 10;

  /// "<system> <host>:<port>": the prefix of every error about this server.
  std::string Describe() const;
};

/// What a SQL source reads: one table or a list of names and globs, optionally a column subset
/// and a filter, chunked by key.
struct TableSelection {
  /// One table; exclusive with `tables`.
  std::string table;
  /// Names or globs ("log_*", "*"); each matching table is one stream.
  std::vector<std::string> tables;
  /// Columns to read, in this order; empty reads all.
  std::vector<std::string> columns;
  /// SQL condition added to every query ("status = 'paid'"); empty for none.
  std::string where;
  /// Rows per planned chunk.
  int64_t split_rows = 200'000;
  /// Rows per query while reading a chunk (keyset pagination).
  int64_t page_rows = 50'000;
};

/// How a SQL sink writes a stream into its table (each sink says how it does it).
enum class WriteMode {
  kAppend,     // rows go into the table; a duplicate key is a bad record
  kUpsert,     // rows go into a staging table, then insert or update by primary key
  kOverwrite,  // rows go into a staging table that replaces the table atomically at the end
  kApply,      // each change applied by primary key: upsert or delete (changelog_apply.h)
};

/// The name of `mode` in job files.
std::string_view WriteModeName(WriteMode mode);

/// Where and how a SQL sink writes: the options every SQL sink shares.
struct SinkTarget {
  /// Target table; "{stream}" is replaced by the stream's name. Empty: the stream's name.
  std::string table;
  WriteMode mode = WriteMode::kAppend;
  /// CREATE TABLE IF NOT EXISTS through the type mapping; when false a missing table is an error.
  bool create = true;
  /// Rows per transaction of each writer under at_least_once delivery: bigger is faster,
  /// smaller loses less on a crash. Under exactly_once a writer commits only at checkpoints (its
  /// rows and their progress in one transaction), so this has no effect there.
  int64_t commit_rows = 200'000;
  /// Exactly-once delivery: the table holding each split's committed progress, written in the
  /// same transaction as its rows (created when missing).
  std::string progress_table;

  /// The target table of stream `stream_name` ("{stream}" replaced).
  std::string TableFor(const std::string& stream_name) const;
};

/// Reads table, mode, create, commit_rows and progress_table from a validated block.
void ReadSinkTarget(const config::Options& options, SinkTarget* out);
/// Positive commit_rows (the progress table's name is checked by each sink: its rules differ).
Status ValidateSinkTarget(const SinkTarget& target, const config::Options* at,
                          std::string_view where);

/// Reads table, tables, columns, where, split_rows and page_rows from a validated block.
Status ReadTableSelection(const config::Options& options, TableSelection* out);
/// Exactly one of table/tables, no empty names, positive sizes, a self-contained `where`
/// (where_condition.h) read with the server's `quote_rules`.
Status ValidateTableSelection(const TableSelection& selection, const config::Options* at,
                              std::string_view where, QuoteRules quote_rules);

/// The connection's option specs followed by `rest`.
std::vector<config::OptionSpec> WithConnectionOptions(std::string_view default_port,
                                                      std::string_view database_description,
                                                      std::vector<config::OptionSpec> rest);

/// Reads the connection options of a block validated against WithConnectionOptions().
void ReadConnection(const config::Options& options, ConnectionOptions* out);

/// Checks what the option table cannot (empty names, port range). With `at`, errors point at
/// the key in the job file; `where` names the block ("source (type mysql)").
Status ValidateConnection(const ConnectionOptions& connection, const config::Options* at,
                          std::string_view where);

/// A config error at `key` of the block when the block is known, else a plain config error.
Status OptionError(const config::Options* at, std::string_view key, std::string message);
/// The block's name for messages ("sink (type postgres)"), or `fallback`.
std::string_view BlockName(const config::Options* at, std::string_view fallback);

}  // namespace sluice::connectors::sql
