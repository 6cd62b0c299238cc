// HivePartitioner: which partition directory a row belongs in, Hive's way:
// "dt=2026-12-04/hr=09/country=DE". Time partitions come first (the hour or day, in UTC, of a
// timestamp, timestamp_tz or date column), then value partitions (a column's canonical text,
// escaped as Hive escapes path names; NULL is __HIVE_DEFAULT_PARTITION__). Value partition
// columns are left out of the files; the time column stays in them.
//
// Thread-safety: none (it caches the last partition). Copyable.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "connectors/hive/hive_options.h"
#include "core/batch.h"
#include "core/schema.h"

namespace sluice::connectors::hive {

/// What Hive writes for a NULL (or unrepresentable) partition value.
inline constexpr std::string_view kHiveDefaultPartition = "__HIVE_DEFAULT_PARTITION__";

class HivePartitioner {
 public:
  /// Checks the partition columns against `schema`: they exist, the time column has a time
  /// type, value columns are not json or bytes; InvalidConfig names the column otherwise.
  static Result<HivePartitioner> Make(SchemaPtr schema, const HiveSinkOptions& options);

  /// The columns of the files: the stream's without the value partition columns.
  const SchemaPtr& file_schema() const { return file_schema_; }
  /// Indexes of the stream's columns in file_schema() order.
  const std::vector<int>& file_columns() const { return file_columns_; }
  bool drops_columns() const { return file_columns_.size() != schema_->num_fields(); }
  bool partitioned() const { return !keys_.empty(); }
  /// The partition keys in directory order: dt[, hr], then the value columns.
  const std::vector<std::string>& keys() const { return keys_; }

  /// The partition directory of row `row` of `batch` ("" when the table is not partitioned).
  std::string PathOf(const Batch& batch, size_t row) const;
  /// The event time of `row` in microseconds since the epoch (UTC; a date at its midnight);
  /// nullopt without time partitions or for a NULL or infinite time.
  std::optional<int64_t> TimeOf(const Batch& batch, size_t row) const;
  bool has_time() const { return time_column_ >= 0; }
  bool has_values() const { return !value_columns_.empty(); }
  /// The start of the time partition that holds `time_us`.
  int64_t PartitionStart(int64_t time_us) const;
  /// The end of the time partition starting at `start_us`.
  int64_t PartitionEnd(int64_t start_us) const;
  /// For a partition directory, the start of its time partition; nullopt when it has none or
  /// it is the default partition.
  std::optional<int64_t> StartOfPath(std::string_view path) const;

 private:
  HivePartitioner() = default;
  std::string TimePath(int64_t start_us) const;

  SchemaPtr schema_;
  SchemaPtr file_schema_;
  std::vector<int> file_columns_;
  std::vector<std::string> keys_;
  int time_column_ = -1;
  TimeGranularity every_ = TimeGranularity::kHour;
  std::vector<int> value_columns_;
};

/// The values of the partition directory `path` in key order, unescaped
/// ("dt=2026-12-04/hr=09" -> {"2026-12-04", "09"}).
std::vector<std::string> PartitionValues(std::string_view path);

}  // namespace sluice::connectors::hive
