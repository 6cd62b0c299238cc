#include "connectors/hive/hive_options.h"

#include <fmt/core.h>

#include "connectors/store_options.h"

namespace sluice::connectors::hive {

namespace {

using config::OptionType;

const std::vector<config::OptionSpec>& SinkTable() {
  static const std::vector<config::OptionSpec> table = [] {
    std::vector<config::OptionSpec> own = {
      {"location", OptionType::kString, "",
       "The table's directory: a local path, webhdfs://namenode:9870/warehouse/t (HDFS over "
       "its HTTP port) or s3://bucket/prefix; {stream} stands for the stream name.",
       true},
      {"format", OptionType::kEnum, "parquet", "parquet or avro (container files).", false,
       {"parquet", "avro"}},
      {"partition_by", OptionType::kStringList, "",
       "Value partitions: columns whose values name directories (country=DE), outermost first, "
       "after the time partitions. They are left out of the files, as Hive expects."},
      {"time_partition_column", OptionType::kString, "",
       "Event-time partitions from this timestamp, timestamp_tz or date column (UTC): "
       "dt=YYYY-MM-DD, and hr=HH when time_partition_every is hour."},
      {"time_partition_every", OptionType::kEnum, "hour", "hour (dt=/hr=) or day (dt=).", false,
       {"hour", "day"}},
      {.name = "lateness_secs", .type = OptionType::kInt, .default_value = "600",
       .description = "A time partition closes (files published, _SUCCESS written) once a row "
           "this far past its end arrives; later rows for it go to a file of their own there.",
       .min = 0},
      {.name = "target_file_bytes", .type = OptionType::kBytes, .default_value = "128MiB",
       .description = "A file ends once it holds this much; checkpoints do not end files.",
       .min = 1},
      {.name = "roll_interval_secs", .type = OptionType::kInt, .default_value = "3600",
       .description = "A file ends this long after it started (wall clock), whatever its size, "
           "so that a slow or quiet stream still publishes; 0 = never.", .min = 0},
      {.name = "max_open_files", .type = OptionType::kInt, .default_value = "32",
       .description = "Files open per writer at once (each holds a row group in memory); the "
           "least recently written ends beyond it.", .min = 1, .max = 10000},
      {.name = "writer_buffer_bytes", .type = OptionType::kBytes, .default_value = "64MiB",
       .description = "Parquet: the row groups a writer holds in memory across its open files; "
           "beyond it the largest is written out early.", .min = 1 << 20},
      {"success_marker", OptionType::kBool, "true",
       "Write an empty _SUCCESS into a partition once it closed, and into every partition "
       "written when a bounded job finishes."},
      {"mode", OptionType::kEnum, "append",
       "append (keep the table's files), overwrite (a fresh run deletes this job's earlier "
       "files) or error_if_exists (a fresh run fails when this job wrote files before).",
       false,
       {"append", "overwrite", "error_if_exists"}},
      {"parquet_compression", OptionType::kEnum, "snappy",
       "Parquet: none, snappy, gzip or zstd.", false, {"none", "snappy", "gzip", "zstd"}},
      {.name = "row_group_bytes", .type = OptionType::kBytes, .default_value = "64MiB",
       .description = "Parquet: a row group ends once it holds this much (a commit also ends "
           "one).", .min = 1},
      {"avro_codec", OptionType::kEnum, "deflate", "Avro: null, deflate or zstandard.", false,
       {"null", "deflate", "zstandard"}},
      {"metastore", OptionType::kString, "",
       "thrift://host:9083 of a Hive metastore to create the table and add its partitions in; "
       "without it the DDL is written to <location>/_sluice/<job>/<table>.sql."},
      {"database", OptionType::kString, "default", "The metastore database."},
      {"table", OptionType::kString, "", "The table's name; by default the stream's."},
      {"table_location", OptionType::kString, "",
       "The LOCATION given to the metastore, e.g. hdfs://namenode:8020/warehouse/t; by default "
       "the location (s3:// as s3a://)."},
    };
    std::vector<config::OptionSpec> store = StoreOptionSpecs(/*writes=*/true);
    own.insert(own.end(), store.begin(), store.end());
    return own;
  }();
  return table;
}

}  // namespace

std::span<const config::OptionSpec> HiveSinkOptionTable() { return SinkTable(); }

Result<HiveSinkOptions> HiveSinkOptions::FromOptions(const config::Options& options) {
  HiveSinkOptions parsed;
  parsed.store = ReadStoreOptions(options, /*writes=*/true);
  parsed.store.location = options.GetString("location");
  parsed.format = options.GetString("format") == "avro" ? formats::FileFormat::kAvro
                                                         : formats::FileFormat::kParquet;
  SLUICE_ASSIGN_OR_RETURN(parsed.format_options.parquet_compression,
                          formats::ParseParquetCompression(options.GetString("parquet_compression")));
  SLUICE_ASSIGN_OR_RETURN(parsed.format_options.avro_codec,
                          formats::ParseAvroCodec(options.GetString("avro_codec")));
  parsed.format_options.row_group_bytes = static_cast<size_t>(options.GetBytes("row_group_bytes"));
  parsed.partition_by = options.GetStringList("partition_by");
  std::string time_column = options.GetString("time_partition_column");
  if (!time_column.empty()) {
    parsed.time_partition = TimePartitioning{
        time_column, options.GetString("time_partition_every") == "day" ? TimeGranularity::kDay
                                                                        : TimeGranularity::kHour};
  }
  for (size_t i = 0; i < parsed.partition_by.size(); ++i) {
    const std::string& column = parsed.partition_by[i];
    for (size_t j = 0; j < i; ++j) {
      if (parsed.partition_by[j] == column)
        return options.ErrorAt("partition_by", fmt::format("'{}' is named twice", column));
    }
    if (parsed.time_partition && parsed.time_partition->column == column) {
      return options.ErrorAt(
          "partition_by",
          fmt::format("'{}' is the time partition column already: a value partition would "
                      "take it out of the files",
                      column));
    }
  }
  parsed.lateness_us = options.GetInt("lateness_secs") * 1000000;
  parsed.target_file_bytes = options.GetBytes("target_file_bytes");
  parsed.max_open_files = static_cast<int>(options.GetInt("max_open_files"));
  parsed.roll_interval_secs = options.GetInt("roll_interval_secs");
  parsed.writer_buffer_bytes = options.GetBytes("writer_buffer_bytes");
  parsed.success_marker = options.GetBool("success_marker");
  std::string mode = options.GetString("mode");
  parsed.mode = mode == "overwrite"         ? TableMode::kOverwrite
                : mode == "error_if_exists" ? TableMode::kErrorIfExists
                                            : TableMode::kAppend;
  parsed.metastore_uri = options.GetString("metastore");
  parsed.database = options.GetString("database");
  parsed.table = options.GetString("table");
  parsed.table_location = options.GetString("table_location");
  return parsed;
}

}  // namespace sluice::connectors::hive
