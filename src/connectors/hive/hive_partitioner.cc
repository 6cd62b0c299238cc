#include "connectors/hive/hive_partitioner.h"

#include <fmt/core.h>

#include <chrono>
#include <limits>

#include "catalog/hive_ddl.h"
#include "core/value_text.h"

namespace sluice::connectors::hive {

namespace {

constexpr int64_t kMicrosPerHour = int64_t{3600} * 1000000;
constexpr int64_t kMicrosPerDay = 24 * kMicrosPerHour;

int64_t FloorDiv(int64_t a, int64_t b) {
  int64_t q = a / b;
  return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  return -1;
}

std::string UnescapeHivePathName(std::string_view text) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '%' && i + 2 < text.size() &&
        HexValue(text[i + 1]) >= 0 && HexValue(text[i + 2]) >= 0) {
      out.push_back(static_cast<char>(HexValue(text[i + 1]) * 16 + HexValue(text[i + 2])));
      i += 2;
    } else {
      out.push_back(text[i]);
    }
  }
  return out;
}

}  // namespace

Result<HivePartitioner> HivePartitioner::Make(SchemaPtr schema, const HiveSinkOptions& options) {
  HivePartitioner partitioner;
  partitioner.schema_ = schema;
  if (options.time_partition) {
    int index = schema->FieldIndex(options.time_partition->column);
    if (index < 0) {
      return InvalidConfig(fmt::format("time_partition_column '{}' is not a column of the stream",
                                       options.time_partition->column));
    }
    TypeId id = schema->field(index).type.id;
    if (id != TypeId::kTimestamp && id != TypeId::kTimestampTz && id != TypeId::kDate) {
      return InvalidConfig(fmt::format(
          "time_partition_column '{}' is {}: it must be a timestamp, timestamp_tz or date",
          options.time_partition->column, schema->field(index).type.ToString()));
    }
    partitioner.time_column_ = index;
    partitioner.every_ = options.time_partition->every;
    partitioner.keys_.push_back("dt");
    if (partitioner.every_ == TimeGranularity::kHour)
      partitioner.keys_.push_back("hr");
  }
  for (const std::string& column : options.partition_by) {
    int index = schema->FieldIndex(column);
    if (index < 0)
      return InvalidConfig(fmt::format("partition_by '{}' is not a column of the stream", column));
    TypeId id = schema->field(index).type.id;
    if (id == TypeId::kJson || id == TypeId::kBytes) {
      return InvalidConfig(fmt::format("partition_by '{}' is {}: a partition value must be text",
                                       column, schema->field(index).type.ToString()));
    }
    for (const std::string& key : partitioner.keys_) {
      if (key == column) {
        return InvalidConfig(fmt::format(
            "partition_by '{}' has the name of a time partition key: rename the column", column));
      }
    }
    partitioner.value_columns_.push_back(index);
    partitioner.keys_.push_back(column);
  }
  std::vector<Field> fields;
  for (size_t i = 0; i < schema->num_fields(); ++i) {
    bool dropped = false;
    for (int value : partitioner.value_columns_)
      dropped = dropped || value == static_cast<int>(i);
    if (dropped)
      continue;
    partitioner.file_columns_.push_back(static_cast<int>(i));
    fields.push_back(schema->field(i));
  }
  if (fields.empty()) {
    return InvalidConfig(
        "every column is a partition column: the files would hold no column");
  }
  partitioner.file_schema_ =
      partitioner.drops_columns() ? std::make_shared<Schema>(std::move(fields)) : schema;
  return partitioner;
}

std::optional<int64_t> HivePartitioner::TimeOf(const Batch& batch, size_t row) const {
  if (time_column_ < 0)
    return std::nullopt;
  const Column& column = batch.column(static_cast<size_t>(time_column_));
  if (column.IsNull(row))
    return std::nullopt;
  if (column.type().id == TypeId::kDate) {
    int32_t days = column.Get<int32_t>(row);
    if (days == std::numeric_limits<int32_t>::min() || days == std::numeric_limits<int32_t>::max())
      return std::nullopt;
    return int64_t{days} * kMicrosPerDay;
  }
  int64_t micros = column.Get<int64_t>(row);
  if (micros == std::numeric_limits<int64_t>::min() ||
      micros == std::numeric_limits<int64_t>::max()) {
    return std::nullopt;
  }
  return micros;
}

int64_t HivePartitioner::PartitionStart(int64_t time_us) const {
  int64_t unit = every_ == TimeGranularity::kHour ? kMicrosPerHour : kMicrosPerDay;
  return FloorDiv(time_us, unit) * unit;
}

int64_t HivePartitioner::PartitionEnd(int64_t start_us) const {
  return start_us + (every_ == TimeGranularity::kHour ? kMicrosPerHour : kMicrosPerDay);
}

std::string HivePartitioner::TimePath(int64_t start_us) const {
  using namespace std::chrono;
  int64_t days = FloorDiv(start_us, kMicrosPerDay);
  year_month_day date{sys_days{std::chrono::days{days}}};
  std::string path = fmt::format("dt={:04}-{:02}-{:02}", static_cast<int>(date.year()),
                                 static_cast<unsigned>(date.month()),
                                 static_cast<unsigned>(date.day()));
  if (every_ == TimeGranularity::kHour)
    path += fmt::format("/hr={:02}", (start_us - days * kMicrosPerDay) / kMicrosPerHour);
  return path;
}

std::string HivePartitioner::PathOf(const Batch& batch, size_t row) const {
  std::string path;
  if (time_column_ >= 0) {
    std::optional<int64_t> time = TimeOf(batch, row);
    if (time) {
      path = TimePath(PartitionStart(*time));
    } else {
      path = fmt::format("dt={}", kHiveDefaultPartition);
      if (every_ == TimeGranularity::kHour)
        path += fmt::format("/hr={}", kHiveDefaultPartition);
    }
  }
  std::string text;
  for (size_t k = 0; k < value_columns_.size(); ++k) {
    const Column& column = batch.column(static_cast<size_t>(value_columns_[k]));
    if (!path.empty())
      path.push_back('/');
    path += catalog::EscapeHivePathName(schema_->field(value_columns_[k]).name);
    path.push_back('=');
    text.clear();
    if (column.IsValid(row))
      AppendValueText(column, row, &text);
    path += text.empty() ? std::string(kHiveDefaultPartition) : catalog::EscapeHivePathName(text);
  }
  return path;
}

std::optional<int64_t> HivePartitioner::StartOfPath(std::string_view path) const {
  if (time_column_ < 0)
    return std::nullopt;
  std::vector<std::string> values = PartitionValues(path);
  if (values.empty() || values[0].size() != 10 || values[0] == kHiveDefaultPartition)
    return std::nullopt;
  int year = 0;
  unsigned month = 0, day = 0, hour = 0;
  if (std::sscanf(values[0].c_str(), "%d-%u-%u", &year, &month, &day) != 3)
    return std::nullopt;
  using namespace std::chrono;
  sys_days date{year_month_day{std::chrono::year{year}, std::chrono::month{month},
                               std::chrono::day{day}}};
  int64_t start = int64_t{date.time_since_epoch().count()} * kMicrosPerDay;
  if (every_ == TimeGranularity::kHour) {
    if (values.size() < 2 || std::sscanf(values[1].c_str(), "%u", &hour) != 1)
      return std::nullopt;
    start += int64_t{hour} * kMicrosPerHour;
  }
  return start;
}

std::vector<std::string> PartitionValues(std::string_view path) {
  std::vector<std::string> values;
  while (!path.empty()) {
    size_t slash = path.find('/');
    std::string_view component = path.substr(0, slash);
    size_t equals = component.find('=');
    if (equals != std::string_view::npos)
      values.push_back(UnescapeHivePathName(component.substr(equals + 1)));
    if (slash == std::string_view::npos)
      break;
    path.remove_prefix(slash + 1);
  }
  return values;
}

}  // namespace sluice::connectors::hive
