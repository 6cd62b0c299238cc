// Options of the mysql source and sink: defaults, effects and validation. The option tables
// (MysqlSourceOptionTable, MysqlSinkOptionTable) describe the same keys for job files,
// `sluice connectors` and the README.
//
// Plain values; thread-safe to read. The password is a Secret: it prints as **REDACTED**.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
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
  /// Seconds a read may wait for the server before the connection counts as lost (0: no limit;
  /// the binlog stream's connection, which hears from the server at least every heartbeat).
  int read_timeout_secs = 0;
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

enum class SourceMode {
  /// Read the tables as they are and end.
  kSnapshot,
  /// Stream the tables' changes from the binary log until stopped (mysql_binlog_source.h).
  kCdc,
  /// Read the tables in one snapshot, then stream their changes from the binlog position the
  /// snapshot was taken at (mysql_snapshot_then_cdc.h).
  kSnapshotThenCdc,
};

struct MysqlSourceOptions : sql::TableSelection {
  ConnectionOptions connection;
  Consistency consistency = Consistency::kSnapshot;
  ZeroDates zero_dates = ZeroDates::kError;
  GeometryFormat geometry = GeometryFormat::kWkb;
  /// TiDB only: SET tidb_replica_read (leader, follower, leader-and-follower).
  std::string tidb_replica_read = "leader";
  /// TiDB only: plan chunks along the table's regions instead of by row offsets.
  bool tidb_region_splits = false;
  SourceMode mode = SourceMode::kSnapshot;
  /// cdc: the replica server id the binlog stream registers with; 0 for the default, derived
  /// from the job name (DefaultServerId).
  uint32_t server_id = 0;
  /// cdc, first run: where the stream starts: "current" (the server's binlog position at
  /// Open), "earliest" (the oldest binlog kept) or "FILE:POSITION".
  std::string start_from = "current";
  /// cdc: threads that decode row events; 1 decodes them on the reader's thread. More read the
  /// binlog ahead and decode on their own threads (mysql_binlog_source.h): this pays only where
  /// cores are idle beside the job's readers and writers.
  int decode_threads = 1;

  /// Checks values the option table cannot. With `at`, errors point at the key in the job file.
  Status Validate(const config::Options* at = nullptr) const;
  /// Reads and validates options already checked against MysqlSourceOptionTable().
  static Result<MysqlSourceOptions> FromConfig(const config::Options& options);
};

// append: LOAD DATA / INSERT into the table; upsert: a staging table, then INSERT ... ON
// DUPLICATE KEY UPDATE; overwrite: load `_sluice_staging_<table>`, swap it in with RENAME TABLE.
using sql::WriteMode;

enum class LoadMethod {
  kLoadData,  // LOAD DATA LOCAL INFILE streamed from memory
  kInsert,    // multi-row INSERT statements
};

/// The shared target options (table, mode, create, commit_rows, progress_table: a table in
/// `database`) and MySQL's own.
struct MysqlSinkOptions : sql::SinkTarget {
  MysqlSinkOptions() { progress_table = "_sluice_progress"; }

  ConnectionOptions connection;
  LoadMethod method = LoadMethod::kLoadData;
  /// Rows per multi-row INSERT (method insert).
  int64_t insert_rows = 500;
  /// A float's -0, which MySQL and MariaDB store in FLOAT and DOUBLE columns as 0: false (the
  /// default, `negative_zero: error`) refuses it as a data error; true stores 0.
  bool negative_zero_as_zero = false;

  Status Validate(const config::Options* at = nullptr) const;
  static Result<MysqlSinkOptions> FromConfig(const config::Options& options);
};

/// The replica server id of a cdc job without `server_id`: a hash of the job name in
/// 2^31..2^32-1, away from the small ids servers are usually given.
uint32_t DefaultServerId(std::string_view job_name);

/// The option tables, shared by registration, documentation and tests.
std::span<const config::OptionSpec> MysqlSourceOptionTable();
std::span<const config::OptionSpec> MysqlSinkOptionTable();

}  // namespace sluice::connectors::mysql
