// Registration of the `kafka` connector: its option tables and factories.
#include "connectors/kafka/kafka_options.h"
#include "connectors/kafka/kafka_sink.h"
#include "connectors/kafka/kafka_source.h"
#include "connectors/registry.h"
#include "connectors/stream_naming.h"

namespace sluice::connectors {

void RegisterKafkaConnector(ConnectorRegistry& registry) {
  ConnectorInfo info;
  info.type = "kafka";
  info.description =
      "Apache Kafka topics: read partitions as an unbounded stream (or up to their ends), "
      "committing the group's offsets after each checkpoint; write topics exactly-once with "
      "Kafka transactions (progress in a compacted topic) or at-least-once; JSON, CSV, raw, "
      "Avro with a schema registry, or Debezium change events (in and out)";
  auto source_table = kafka::KafkaSourceOptionTable();
  info.source_options.assign(source_table.begin(), source_table.end());
  info.create_source = [](const config::Options& options) -> Result<std::unique_ptr<Source>> {
    SLUICE_ASSIGN_OR_RETURN(kafka::KafkaSourceOptions parsed,
                            kafka::KafkaSourceOptions::FromConfig(options));
    return std::unique_ptr<Source>(std::make_unique<kafka::KafkaSource>(std::move(parsed)));
  };
  auto sink_table = kafka::KafkaSinkOptionTable();
  info.sink_options.assign(sink_table.begin(), sink_table.end());
  info.create_sink = [](const config::Options& options) -> Result<std::unique_ptr<Sink>> {
    SLUICE_ASSIGN_OR_RETURN(kafka::KafkaSinkOptions parsed,
                            kafka::KafkaSinkOptions::FromConfig(options));
    return std::unique_ptr<Sink>(std::make_unique<kafka::KafkaSink>(std::move(parsed)));
  };
  // `sluice verify` (and the conformance suite) read a target topic back through this
  // connector's source: from the beginning to the end it has when the read starts, committed
  // transactions only, the stream's columns declared.
  info.read_back = [](const config::ConnectorBlock& sink, const std::string& stream,
                      const Schema& schema) -> Result<ReadBack> {
    const std::string format = ScalarOption(sink, "format");
    if (format == "raw") {
      return Unsupported(
          "the kafka sink's format raw sends one column as each message's bytes: its topic "
          "cannot be read back as the stream's rows (use json or csv to verify)");
    }
    ReadBack read_back{
        ReadBackBlock(sink, {"brokers", "security_protocol", "sasl_mechanism", "sasl_user",
                             "sasl_password", "ssl_ca_location", "ssl_certificate_location",
                             "ssl_key_location", "ssl_key_password", "timeout_secs", "properties",
                             "format", "csv_delimiter"}),
        ExpandStreamName(ScalarOption(sink, "topic"), stream)};
    SetReadBackOption(&read_back.source, "topic", read_back.target);
    SetReadBackOption(&read_back.source, "stop_at", "end");
    SetReadBackOption(&read_back.source, "start_from", "earliest");
    SetReadBackOption(&read_back.source, "isolation", "read_committed");
    // Reading back commits no offsets to a job's own group.
    SetReadBackOption(&read_back.source, "group_id", "sluice-read-back");
    const config::Mark& mark = read_back.source.type_mark;
    config::Node columns = config::Node::Map(mark);
    for (const Field& field : schema.fields())
      columns.Set(field.name, mark, config::Node::Scalar(field.type.ToString(), mark));
    read_back.source.options.Set("columns", mark, std::move(columns));
    return read_back;
  };
  registry.Register(std::move(info));
}

}  // namespace sluice::connectors
