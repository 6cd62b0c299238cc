// Options of the sqlite source and sink: defaults, effects and validation. The option tables in
// sqlite_connector.cc describe the same keys for job files and `sluice connectors`.
//
// Plain values; thread-safe to read.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "config/options.h"

namespace sluice::connectors::sqlite {

struct SqliteSourceOptions {
  /// The database file. Must exist: the source never creates one.
  std::string path;
  /// One table (or view) to read; exclusive with `tables`.
  std::string table;
  /// Table names or globs ("log_*"); each matching table becomes one stream.
  std::vector<std::string> tables;
  /// Columns to read, in this order; empty reads all of them.
  std::vector<std::string> columns;
  /// SQL condition added to every split's query ("status = 'paid'"); empty for none.
  std::string where;
  /// Rowids per planned split. Larger splits mean fewer queries, smaller ones more parallelism.
  int64_t split_rows = 200'000;

  /// Checks values that the option table cannot. With `at`, errors point at the offending key
  /// (or the block) in the job file.
  Status Validate(const config::Options* at = nullptr) const;
  /// Reads and validates options already checked against SqliteSourceOptionTable().
  static Result<SqliteSourceOptions> FromConfig(const config::Options& options);
};

enum class WriteMode {
  kAppend,     // insert into the table, creating it when missing
  kOverwrite,  // load a staging table and swap it in atomically at the end
  kApply,      // apply each change by primary key (connectors/sql/changelog_apply.h)
};

struct SqliteSinkOptions {
  /// The database file; created with its parent directories when missing.
  std::string path;
  /// Target table; "{stream}" is replaced by the stream's name. Empty: the stream's name.
  std::string table;
  WriteMode mode = WriteMode::kAppend;
  /// CREATE TABLE IF NOT EXISTS through the type mapping; when false a missing table is an error.
  bool create = true;
  /// Rows per transaction under delivery at_least_once: bigger is faster, smaller loses less
  /// work on a crash. Exactly-once delivery commits once per checkpoint instead (rows and
  /// progress together) and ignores it.
  int64_t commit_rows = 200'000;
  /// PRAGMA journal_mode: wal, delete, truncate, memory, off.
  std::string journal_mode = "delete";
  /// PRAGMA synchronous: off, normal, full, extra. Every commit survives a crash of the process
  /// (off excepted); surviving a power loss takes full with WAL, extra with the other journals.
  std::string synchronous = "normal";
  /// Rows bound into one multi-row INSERT statement (1 = one statement per row).
  int64_t rows_per_insert = 64;

  Status Validate(const config::Options* at = nullptr) const;
  static Result<SqliteSinkOptions> FromConfig(const config::Options& options);

  /// The target table of stream `stream_name`.
  std::string TableFor(const std::string& stream_name) const;
};

/// The option tables, shared by registration, documentation and tests.
std::span<const config::OptionSpec> SqliteSourceOptionTable();
std::span<const config::OptionSpec> SqliteSinkOptionTable();

}  // namespace sluice::connectors::sqlite
