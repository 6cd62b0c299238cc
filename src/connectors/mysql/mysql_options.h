// Options of the mysql source and sink: defaults, effects and validation. The option tables
// (MysqlSourceOptionTable, MysqlSinkOptionTable) describe the same keys for job files,
// `sluice connectors` and the README.
//
// Plain values; thread-safe to read. The password is a Secret: it prints as **REDACTED**.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "config/options.h"
#include "connectors/sql/connection_options.h"
#include "core/secret.h"

namespace sluice::connectors::mysql {

/// Where and as whom to connect; shared by source and sink.
struct ConnectionOptions : sql::ConnectionOptions {
  ConnectionOptions() {
    system = "mysql";
    port = 3306;
  }
  /// Allow LOAD DATA LOCAL INFILE on this connection (sink connections only).
  bool local_infile = false;
};

enum class Consistency {
  /// One snapshot for every reader (FLUSH TABLES WITH READ LOCK for milliseconds, then
  /// START TRANSACTION WITH CONSISTENT SNAPSHOT on each connection); records the binlog position.
  kSnapshot,
  /// Each split is read in its own transaction; no lock, no binlog position.
  kPerSplit,
};

/// What to do with MySQL's zero and invalid dates ('0000-00-00', '2020-00-15').
enum class ZeroDates { kError, kNull, kString };

enum class GeometryFormat { kWkb, kWkt };

struct MysqlSourceOptions : sql::TableSelection {
  ConnectionOptions connection;
  Consistency consistency = Consistency::kSnapshot;
  ZeroDates zero_dates = ZeroDates::kError;
  GeometryFormat geometry = GeometryFormat::kWkb;
  /// TiDB only: SET tidb_replica_read (leader, follower, leader-and-follower).
  std::string tidb_replica_read = "leader";
  /// TiDB only: plan chunks along the table's regions instead of by row offsets.
  bool tidb_region_splits = false;

  /// Checks values the option table cannot. With `at`, errors point at the key in the job file.
  Status Validate(const config::Options* at = nullptr) const;
  /// Reads and validates options already checked against MysqlSourceOptionTable().
  static Result<MysqlSourceOptions> FromConfig(const config::Options& options);
};

enum class WriteMode {
  kAppend,     // insert; a duplicate key is a bad record
  kUpsert,     // insert or update by primary key (staging table + INSERT ... ON DUPLICATE KEY)
  kOverwrite,  // load `_sluice_staging_<table>`, swap it in atomically at the end
};

enum class LoadMethod {
  kLoadData,  // LOAD DATA LOCAL INFILE streamed from memory
  kInsert,    // multi-row INSERT statements
};

struct MysqlSinkOptions {
  ConnectionOptions connection;
  /// Target table; "{stream}" is replaced by the stream's name. Empty: the stream's name.
  std::string table;
  WriteMode mode = WriteMode::kAppend;
  /// CREATE TABLE IF NOT EXISTS through the type mapping; when false a missing table is an error.
  bool create = true;
  LoadMethod method = LoadMethod::kLoadData;
  /// Rows per transaction of each writer under delivery at_least_once. Under exactly_once a
  /// writer commits only at checkpoints (rows and progress in one transaction), so this is unused.
  int64_t commit_rows = 200'000;
  /// Rows per multi-row INSERT (method insert).
  int64_t insert_rows = 500;
  /// Exactly-once delivery: the table in `database` that stores each split's committed progress
  /// in the same transaction as its rows (created when missing).
  std::string progress_table = "_sluice_progress";

  Status Validate(const config::Options* at = nullptr) const;
  static Result<MysqlSinkOptions> FromConfig(const config::Options& options);

  /// The target table of stream `stream_name`.
  std::string TableFor(const std::string& stream_name) const;
};

/// The option tables, shared by registration, documentation and tests.
std::span<const config::OptionSpec> MysqlSourceOptionTable();
std::span<const config::OptionSpec> MysqlSinkOptionTable();

}  // namespace sluice::connectors::mysql
