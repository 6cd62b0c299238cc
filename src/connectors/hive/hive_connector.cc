// Registration of the `hive` connector (a sink): Hive tables of Parquet or Avro files in a
// local directory, on HDFS or in S3, partitioned by event time and values, exactly once.
#include "connectors/hive/hive_options.h"
#include "connectors/hive/hive_sink.h"
#include "connectors/registry.h"
#include "connectors/stream_naming.h"

#include <fmt/core.h>

namespace sluice::connectors {

void RegisterHiveConnector(ConnectorRegistry& registry) {
  ConnectorInfo info;
  info.type = "hive";
  info.description =
      "Hive tables: Parquet or Avro files partitioned by event time (dt=/hr=) and column values, "
      "in a local directory, on HDFS (WebHDFS) or in S3; exactly once; registered in a Hive "
      "metastore";
  auto sink_table = hive::HiveSinkOptionTable();
  info.sink_options.assign(sink_table.begin(), sink_table.end());
  info.create_sink = [](const config::Options& options) -> Result<std::unique_ptr<Sink>> {
    SLUICE_ASSIGN_OR_RETURN(hive::HiveSinkOptions parsed,
                            hive::HiveSinkOptions::FromOptions(options));
    return std::unique_ptr<Sink>(new hive::HiveSink(std::move(parsed)));
  };
  // `sluice verify` reads a table back through the file source (local, HDFS or S3): every data
  // file at the partition depth. Value partition columns are not in the files, so such tables are not
  // verified this way.
  info.read_back = [](const config::ConnectorBlock& sink, const std::string& stream,
                      const Schema& schema) -> Result<ReadBack> {
    std::string location = ExpandStreamName(ScalarOption(sink, "location"), stream);
    if (location.starts_with("file://"))
      location = location.substr(7);
    const config::Node* partition_by = sink.options.Find("partition_by");
    if (partition_by != nullptr && !(partition_by->is_sequence() && partition_by->items().empty())) {
      return Unsupported(
          "verify cannot compare a table with value partitions: their columns are in the "
          "directory names, not the files");
    }
    std::string depth;
    if (!ScalarOption(sink, "time_partition_column").empty())
      depth = ScalarOption(sink, "time_partition_every") == "day" ? "*/" : "*/*/";
    std::string format = ScalarOption(sink, "format");
    if (format.empty())
      format = "parquet";
    // The store options go along: the file source reads webhdfs:// and s3:// paths too.
    ReadBack read_back{ReadBackBlock(sink, {"format", "hdfs_user", "s3_endpoint", "s3_region",
                                            "s3_access_key_id", "s3_secret_access_key"}),
                       ""};
    read_back.source.type = "file";
    read_back.target = fmt::format("{}/{}*.{}", location, depth, format);
    SetReadBackOption(&read_back.source, "path", read_back.target);
    SetReadBackOption(&read_back.source, "format", format);
    SetReadBackOption(&read_back.source, "stream", stream);
    return read_back;
  };
  registry.Register(std::move(info));
}

}  // namespace sluice::connectors
