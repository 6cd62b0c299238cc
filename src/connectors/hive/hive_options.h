// Options of the `hive` sink: where the table's files go (location and store credentials), how
// they are laid out (format, partitions, file size), and the metastore to register them in.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "config/options.h"
#include "formats/writer/format_writer.h"
#include "io/file_store.h"

namespace sluice::connectors::hive {

/// Event-time partitions: the hour or day a timestamp column falls in (UTC).
enum class TimeGranularity { kHour, kDay };

struct TimePartitioning {
  std::string column;  // a timestamp, timestamp_tz or date column
  TimeGranularity every = TimeGranularity::kHour;
};

enum class TableMode {
  kAppend,         // keep the table's files; this job's new files are numbered after its old ones
  kOverwrite,      // a fresh run deletes the files an earlier run of this job published
  kErrorIfExists,  // a fresh run fails when the table holds files of this job
};

struct HiveSinkOptions {
  io::FileStoreOptions store;  // store.location may hold {stream}
  formats::FileFormat format = formats::FileFormat::kParquet;
  formats::FormatWriterOptions format_options;
  /// Value partitions, outermost first after the time partitions: columns whose values name
  /// directories (country=DE). They are not stored in the files, as Hive expects.
  std::vector<std::string> partition_by;
  std::optional<TimePartitioning> time_partition;
  /// A time partition closes (its files are published, _SUCCESS written) once a row this much
  /// past its end arrived; rows for a closed partition still land there, in a file of their own.
  int64_t lateness_us = int64_t{10} * 60 * 1000000;
  /// A file ends once it holds this many bytes (encoded).
  int64_t target_file_bytes = int64_t{128} << 20;
  /// A file ends this long after it started (wall clock), whatever its size: a slow stream
  /// still publishes, and the last hour of a stream that went quiet too. 0 = never.
  int64_t roll_interval_secs = 3600;
  /// Where the sink reads the wall clock; tests replace it.
  std::function<std::chrono::steady_clock::time_point()> clock = std::chrono::steady_clock::now;
  /// At most this many files open per writer: the least recently written one ends beyond it.
  int max_open_files = 32;
  /// Row groups buffered by a writer's open files together: beyond it the largest one is
  /// written out early (a smaller row group), so memory stays bounded however many files
  /// are open.
  int64_t writer_buffer_bytes = int64_t{64} << 20;
  bool success_marker = true;
  TableMode mode = TableMode::kAppend;
  /// Metastore registration ("" = none: the DDL is written to _sluice/<job>/<table>.sql).
  std::string metastore_uri;
  std::string database = "default";
  std::string table;  // "" = the stream's name; may hold {stream}
  /// The table's LOCATION as the metastore should see it ("" = the store's URI of the root).
  std::string table_location;

  static Result<HiveSinkOptions> FromOptions(const config::Options& options);
};

std::span<const config::OptionSpec> HiveSinkOptionTable();

}  // namespace sluice::connectors::hive
