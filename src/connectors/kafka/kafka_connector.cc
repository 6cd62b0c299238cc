// Registration of the `kafka` connector: its option tables and factories.
#include "connectors/kafka/kafka_options.h"
#include "connectors/kafka/kafka_sink.h"
#include "connectors/kafka/kafka_source.h"
#include "connectors/registry.h"

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
  registry.Register(std::move(info));
}

}  // namespace sluice::connectors
