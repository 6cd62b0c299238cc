#include "connectors/kafka/tests/kafka_test_util.h"

#include <fmt/core.h>
#include <librdkafka/rdkafka.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <thread>

#include "config/job_config.h"

namespace sluice::connectors::kafka::testing {

std::string UniqueTopic(const std::string& prefix) {
  static std::atomic<int> counter{0};
  return fmt::format("{}_{}_{}", prefix, getpid(), counter.fetch_add(1));
}

Status Produce(const sluice::testing::TestServers& servers, const std::string& topic,
               const std::vector<TestMessage>& messages) {
  char error[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  rd_kafka_conf_set(conf, "bootstrap.servers", servers.kafka.bootstrap.c_str(), error,
                    sizeof(error));
  rd_kafka_conf_set(conf, "acks", "all", error, sizeof(error));
  rd_kafka_t* producer = rd_kafka_new(RD_KAFKA_PRODUCER, conf, error, sizeof(error));
  if (producer == nullptr) {
    rd_kafka_conf_destroy(conf);
    return Internal(error);
  }
  std::unique_ptr<rd_kafka_t, void (*)(rd_kafka_t*)> owned(producer, rd_kafka_destroy);
  for (const TestMessage& message : messages) {
    rd_kafka_headers_t* headers = rd_kafka_headers_new(message.headers.size());
    for (const auto& [name, value] : message.headers) {
      rd_kafka_header_add(headers, name.data(), static_cast<ssize_t>(name.size()),
                          value ? value->data() : nullptr,
                          value ? static_cast<ssize_t>(value->size()) : 0);
    }
    // The macros cast their arguments without parentheses: compute them first.
    void* value = message.value ? const_cast<char*>(message.value->data()) : nullptr;
    size_t value_size = message.value ? message.value->size() : 0;
    const void* key = message.key ? message.key->data() : nullptr;
    size_t key_size = message.key ? message.key->size() : 0;
    rd_kafka_resp_err_t err = rd_kafka_producev(
        producer, RD_KAFKA_V_TOPIC(topic.c_str()), RD_KAFKA_V_PARTITION(message.partition),
        RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
        RD_KAFKA_V_VALUE(value, value_size), RD_KAFKA_V_KEY(key, key_size),
        RD_KAFKA_V_TIMESTAMP(message.timestamp_ms), RD_KAFKA_V_HEADERS(headers), RD_KAFKA_V_END);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      rd_kafka_headers_destroy(headers);
      return Internal(fmt::format("produce: {}", rd_kafka_err2str(err)));
    }
    rd_kafka_poll(producer, 0);
  }
  rd_kafka_resp_err_t err = rd_kafka_flush(producer, 60000);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR)
    return Internal(fmt::format("flush: {}", rd_kafka_err2str(err)));
  return Status::OK();
}

Status WaitForCommittedMessages(const sluice::testing::TestServers& servers,
                                const std::string& topic, size_t count) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  size_t seen = 0;
  while (true) {
    SLUICE_ASSIGN_OR_RETURN(std::string offsets,
                            sluice::testing::KafkaConsume(servers, topic,
                                                          static_cast<int>(count) + 1, "%o\n"));
    seen = static_cast<size_t>(std::count(offsets.begin(), offsets.end(), '\n'));
    if (seen >= count)
      return Status::OK();
    if (std::chrono::steady_clock::now() > deadline)
      break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return Unavailable(fmt::format("topic '{}': {} committed messages after 60 s, expected {}",
                                 topic, seen, count));
}

Status DrivenSource::Open(const std::string& block, const std::string& job_name) {
  std::string text = fmt::format(
      "name: {}\nsource: {{type: kafka, {}}}\nsink: {{type: memory}}\n", job_name, block);
  SLUICE_ASSIGN_OR_RETURN(config::JobConfig job, config::LoadJobText(text, "test.yaml", {}));
  ConnectorRegistry registry;
  RegisterBuiltinConnectors(registry);
  SLUICE_ASSIGN_OR_RETURN(source, registry.CreateSource(job.source));
  context.job_name = job_name;
  context.cancelled = &cancelled;
  context.bad_records = &bad_records;
  context.read_wait = std::chrono::milliseconds(50);
  return source->Open(context);
}

Result<std::vector<sluice::testing::Row>> DrivenSource::ReadAll(
    std::vector<SplitProgress>* progress) {
  SLUICE_ASSIGN_OR_RETURN(std::unique_ptr<SplitEnumerator> enumerator,
                          source->CreateEnumerator());
  std::vector<sluice::testing::Row> rows;
  while (true) {
    SLUICE_ASSIGN_OR_RETURN(std::optional<Split> split, enumerator->Next());
    if (!split)
      break;
    SLUICE_ASSIGN_OR_RETURN(std::unique_ptr<SplitReader> reader,
                            source->CreateReader(*split, ""));
    const StreamInfo& stream = source->streams()[static_cast<size_t>(split->stream)];
    while (true) {
      Batch batch(stream.schema, 64);
      SLUICE_ASSIGN_OR_RETURN(bool more, reader->ReadBatch(&batch));
      for (size_t row = 0; row < batch.num_rows(); ++row)
        rows.push_back(sluice::testing::RowFromBatch(batch, row));
      if (!more)
        break;
    }
    if (progress != nullptr)
      progress->push_back(SplitProgress{split->id, reader->Position(), true});
  }
  return rows;
}

}  // namespace sluice::connectors::kafka::testing
