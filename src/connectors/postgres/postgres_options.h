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

struct PostgresSourceOptions : sql::TableSelection {
  ConnectionOptions connection;
  Consistency consistency = Consistency::kSnapshot;

  Status Validate(const config::Options* at = nullptr) const;
  /// Reads and validates options already checked against PostgresSourceOptionTable().
  static Result<PostgresSourceOptions> FromConfig(const config::Options& options);
};

enum class WriteMode {
  kAppend,     // COPY into the table
  kUpsert,     // COPY into a per-writer staging table, then INSERT ... ON CONFLICT DO UPDATE
  kOverwrite,  // load a staging table, swap it in atomically at Finish
};

struct PostgresSinkOptions {
  ConnectionOptions connection;
  /// Target table, may be "schema.table" and contain "{stream}". Empty: the stream's name.
  std::string table;
  WriteMode mode = WriteMode::kAppend;
  /// CREATE TABLE IF NOT EXISTS through the type mapping; when false a missing table is an error.
  bool create = true;
  /// Rows per transaction of each writer under at_least_once delivery: bigger is faster,
  /// smaller loses less on a crash. Under exactly_once a writer commits only at checkpoints (its
  /// rows and their progress in one transaction), so this has no effect there.
  int64_t commit_rows = 500'000;
  /// Where exactly-once progress is committed with the rows ("schema.table"; a bare name is in
  /// public). Created on demand; shared by every job writing into this database.
  std::string progress_table = "public._sluice_progress";

  Status Validate(const config::Options* at = nullptr) const;
  static Result<PostgresSinkOptions> FromConfig(const config::Options& options);

  /// The target table of stream `stream_name` ("{stream}" replaced).
  std::string TableFor(const std::string& stream_name) const;
};

/// The option tables, shared by registration, documentation and tests.
std::span<const config::OptionSpec> PostgresSourceOptionTable();
std::span<const config::OptionSpec> PostgresSinkOptionTable();

}  // namespace sluice::connectors::postgres
