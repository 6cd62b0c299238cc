// Options of the postgres source and sink: defaults, effects and validation. The option tables
// (PostgresSourceOptionTable / PostgresSinkOptionTable) describe the same keys for job files,
// `sluice connectors` and README.md.
//
// Plain values; thread-safe to read.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "config/options.h"
#include "connectors/sql/connection_options.h"
#include "core/secret.h"

namespace sluice::connectors::postgres {

/// Where and as whom to connect. Shared by the source and the sink.
struct ConnectionOptions : sql::ConnectionOptions {
  ConnectionOptions() {
    system = "postgres";
    port = 5432;
  }
};

enum class Consistency {
  /// One exported snapshot shared by the planner and every reader: the job reads the database
  /// as of one instant, whatever parallelism it runs with.
  kSnapshot,
  /// Each split reads in its own REPEATABLE READ transaction: consistent within a split only.
  kPerSplit,
};

enum class SourceMode {
  /// Read the tables as they are, then end.
  kSnapshot,
  /// Stream the tables' changes from a logical replication slot until stopped.
  kCdc,
  /// Read the tables in the snapshot the slot's creation exported, then stream their changes
  /// from the slot: nothing lost or repeated at the handover.
  kSnapshotThenCdc,
};

struct PostgresSourceOptions : sql::TableSelection {
  ConnectionOptions connection;
  Consistency consistency = Consistency::kSnapshot;
  SourceMode mode = SourceMode::kSnapshot;
  /// cdc: the replication slot and publication; "" for the defaults (named after the job).
  std::string slot;
  std::string publication;
  int64_t slot_wal_warn_mb = 1024;

  Status Validate(const config::Options* at = nullptr) const;
  /// Reads and validates options already checked against PostgresSourceOptionTable().
  static Result<PostgresSourceOptions> FromConfig(const config::Options& options);
};

// append: COPY into the table; upsert: COPY into a per-writer staging table, then INSERT ... ON
// CONFLICT DO UPDATE; overwrite: load a staging table, swap it in atomically at Finish.
using sql::WriteMode;

/// The shared target options (the table may be "schema.table"; progress_table is
/// "schema.table", a bare name being in public, shared by every job writing into the database)
/// and the connection.
struct PostgresSinkOptions : sql::SinkTarget {
  PostgresSinkOptions() {
    commit_rows = 500'000;
    progress_table = "public._sluice_progress";
  }

  ConnectionOptions connection;

  Status Validate(const config::Options* at = nullptr) const;
  static Result<PostgresSinkOptions> FromConfig(const config::Options& options);
};

/// The option tables, shared by registration, documentation and tests.
std::span<const config::OptionSpec> PostgresSourceOptionTable();
std::span<const config::OptionSpec> PostgresSinkOptionTable();

}  // namespace sluice::connectors::postgres
