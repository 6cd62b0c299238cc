// Test-only: drives a hive sink through the Sink API into any store (local, HDFS, S3): events
// over three hours in several commits, a crash after a commit and a resumed run, then Finish;
// and reads back what a reader of the table sees, through the store (FileStore::List and
// ReadFile) and Sluice's own Parquet reader. The store tests and the metastore test share it.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "connectors/hive/hive_options.h"
#include "core/schema.h"
#include "core/result.h"
#include "io/file_store.h"

namespace sluice::connectors::hive::testing {

/// The schema of the driver's events (and of the sink tests').
SchemaPtr EventsSchema();

/// The events the driver writes: id int64, ts timestamp_tz (hours 09..11 of 2026-12-04),
/// country string, amount decimal(12,2); some NULLs, 4-byte UTF-8.
inline constexpr int kDriverEvents = 600;

/// `options_yaml`: the sink block's options after `location` ("hdfs_user: x, ..."), parsed as a
/// job file's would be.
Result<HiveSinkOptions> ParseSinkOptions(const std::string& location,
                                         const std::string& options_yaml);

/// Writes kDriverEvents events with `options` as job `job`: a first run commits half of them in
/// three checkpoints, writes more and dies (no commit, no abort); a resumed run writes the rest
/// in three checkpoints and finishes.
Status WriteEventsWithACrash(const HiveSinkOptions& options, const std::string& job);

/// What a reader of the table at `store`'s root sees: every file not starting with '.' or '_'
/// below it, read with Sluice's Parquet reader, as "<partition>\t<id>" lines, sorted; plus the
/// partitions holding a _SUCCESS.
struct VisibleTable {
  std::vector<std::string> rows;
  std::vector<std::string> files;
  std::vector<std::string> partitions_with_success;
};
Result<VisibleTable> ReadVisibleTable(io::FileStore* store);

/// The ids of the events the file source reads from `path_glob` (a local path or a
/// webhdfs:// or s3:// URL with a glob), given the source's store options (YAML, may be ""):
/// Sluice reading its own table back from the store. Sorted.
Result<std::vector<int64_t>> ReadThroughFileSource(const std::string& path_glob,
                                                   const std::string& options_yaml);

/// The "<partition>\t<id>" lines ReadVisibleTable gives for the driver's events.
std::vector<std::string> ExpectedRows();

}  // namespace sluice::connectors::hive::testing
