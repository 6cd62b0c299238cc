// Where and as whom a SQL database connector connects: the options every SQL source and sink
// shares (host, port, user, password, database, connect_timeout_secs), their option specs, and
// their validation.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "config/options.h"
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

/// Reads table, tables, columns, where, split_rows and page_rows from a validated block.
Status ReadTableSelection(const config::Options& options, TableSelection* out);
/// Exactly one of table/tables, no empty names, positive sizes.
Status ValidateTableSelection(const TableSelection& selection, const config::Options* at,
                              std::string_view where);

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
