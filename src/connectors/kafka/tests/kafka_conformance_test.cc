// The kafka connector in the conformance suite (src/testing/conformance), against the real
// broker: its sink (json, exactly-once with transactions, a fresh topic per target), its source
// bounded (`stop_at: end`) in the source cases and unbounded in the stream cases, each over a
// fresh topic of three partitions holding the rows as JSON messages.
#include <fmt/core.h>
#include <gtest/gtest.h>
#include <librdkafka/rdkafka.h>

#include <nlohmann/json.hpp>

#include <atomic>
#include <chrono>
#include <map>
#include <optional>
#include <thread>
#include <utility>

#include "connectors/kafka/kafka_client.h"
#include "connectors/kafka/kafka_source.h"
#include "connectors/kafka/tests/kafka_test_util.h"
#include "core/failpoint.h"
#include "testing/conformance/conformance.h"
#include "testing/conformance/conformance_job.h"

namespace sluice::connectors {
void RegisterKafkaConnector(ConnectorRegistry& registry);
}  // namespace sluice::connectors

namespace sluice::connectors::kafka {
namespace {

using sluice::testing::Row;
using sluice::testing::TestServers;
using sluice::testing::conformance::AcknowledgedPositions;
using sluice::testing::conformance::ConformanceName;
using sluice::testing::conformance::ConformanceStore;
using sluice::testing::conformance::SinkConformanceTest;
using sluice::testing::conformance::SinkUnderTest;
using sluice::testing::conformance::SourceConformanceTest;
using sluice::testing::conformance::SourceUnderTest;
using sluice::testing::conformance::StreamConformanceTest;
using sluice::testing::conformance::WriteMode;

constexpr int kPartitions = 3;

// A row of OrdersSchema() as the JSON message a producer of that topic would send.
std::string RowMessage(const Row& row) {
  nlohmann::json message = nlohmann::json::object();
  message["id"] = std::stoll(*row[0]);
  message["name"] = row[1] ? nlohmann::json(*row[1]) : nlohmann::json(nullptr);
  message["amount"] = row[2] ? nlohmann::json(*row[2]) : nlohmann::json(nullptr);
  return message.dump();
}

// A topic for each target: source topics hold the rows spread over three partitions (row i in
// partition i mod 3, so that every partition grows when rows are added); sink topics are
// created empty, as the sink wants them. Topics, the progress topic and the source's consumer
// group are named after this process and store, so that cases never share one. No librdkafka
// handle outlives a call: the crash loop forks.
class KafkaStore final : public ConformanceStore {
 public:
  KafkaStore(TestServers servers, bool bounded)
      : servers_(std::move(servers)),
        bounded_(bounded),
        prefix_(testing::UniqueTopic("conformance")) {}

  std::string SinkBlock(const std::string& target, WriteMode mode) override {
    Result<std::string> topic = Topic(target);
    // A missing topic fails the job, saying so.
    std::string client;
    if (blocked_ && blocked_->first == target)
      client = fmt::format(", properties: {{client.id: {}}}", blocked_->second);
    return fmt::format(
        "{{type: kafka, brokers: '{}', topic: {}, format: json, progress_topic: {}{}}}",
        servers_.kafka.bootstrap, topic.ok() ? *topic : target + "_not_created",
        prefix_ + "_progress", client);
  }

  Result<std::string> SeedSource(const std::string& target, const std::vector<Row>& rows) override {
    return Seed(target, rows, std::nullopt);
  }

  Result<std::string> SeedSourceWithBadRecord(const std::string& target,
                                              const std::vector<Row>& rows,
                                              int64_t bad_after_id) override {
    return Seed(target, rows, bad_after_id);
  }

  Result<std::string> SeedBlockingSource(const std::string&, const std::vector<Row>&) override {
    return Unsupported(
        "a kafka reader never waits in the broker: it polls in steps of 100 ms for at most the "
        "job's read wait and then returns, so no read can be held for Cancel to end");
  }

  // The target's writers get a client.id whose produce quota is 1 KB/s: the broker answers
  // their first request and holds back the next ones for tens of seconds, so a flush waits.
  Status BlockWrites(const std::string& target) override {
    SLUICE_RETURN_IF_ERROR(Topic(target).status());
    blocked_ = {target, prefix_ + "_throttled"};
    SLUICE_RETURN_IF_ERROR(
        sluice::testing::KafkaSetProducerQuota(servers_, blocked_->second, /*bytes_per_second=*/1024));
    failpoint::ArmCallback(
        "kafka.sink.flush_waiting", 1,
        [this] {
          flush_waiting_.store(true);
          return Status::OK();
        },
        /*and_later=*/true);
    return Status::OK();
  }

  // A writer's flush has waited a slice for the held-back messages.
  Status WaitUntilWriteBlocked() override {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (!flush_waiting_.load()) {
      if (std::chrono::steady_clock::now() > deadline)
        return Unavailable("no kafka writer waited for the broker within 60 s");
      std::this_thread::sleep_for(std::chrono::milliseconds(20));  // the next look
    }
    return Status::OK();
  }

  void EndBlockedWrites() override {
    failpoint::DisarmAll();
    if (blocked_) {
      Status removed = sluice::testing::KafkaSetProducerQuota(servers_, blocked_->second, std::nullopt);
      EXPECT_TRUE(removed.ok()) << removed.ToString();
      blocked_.reset();
    }
  }

  Status AppendRows(const std::string& target, const std::vector<Row>& rows) override {
    auto topic = topics_.find(target);
    if (topic == topics_.end())
      return NotFound(fmt::format("no source topic for '{}'", target));
    return ProduceRows(topic->second, rows, std::nullopt);
  }

  // The source's consumer group's committed offsets.
  Result<AcknowledgedPositions> Acknowledged(const std::string& target) override {
    auto topic = topics_.find(target);
    if (topic == topics_.end())
      return NotFound(fmt::format("no source topic for '{}'", target));
    KafkaConnection connection;
    connection.brokers = servers_.kafka.bootstrap;
    SLUICE_ASSIGN_OR_RETURN(
        KafkaHandle consumer,
        KafkaHandle::Open(KafkaHandle::Kind::kConsumer, connection, {{"group.id", Group()}},
                          "conformance"));
    PartitionList list;
    for (int32_t partition = 0; partition < kPartitions; ++partition)
      list.Add(topic->second, partition, RD_KAFKA_OFFSET_INVALID);
    rd_kafka_resp_err_t error = rd_kafka_committed(consumer.get(), list.get(), 10000);
    if (error != RD_KAFKA_RESP_ERR_NO_ERROR)
      return consumer.Error(error, "Cannot read the group's committed offsets");
    AcknowledgedPositions positions;
    for (int i = 0; i < list.size(); ++i) {
      const rd_kafka_topic_partition_t& entry = list.get()->elems[i];
      if (entry.err != RD_KAFKA_RESP_ERR_NO_ERROR)
        return KafkaStatus(entry.err, "Cannot read a committed offset");
      if (entry.offset >= 0)
        positions[PartitionSplitId(entry.topic, entry.partition)] = entry.offset;
    }
    return positions;
  }

  // Offsets: the seeded messages are the only ones, from offset 0, no transaction markers.
  Result<int64_t> PositionIndex(const std::string& position) override {
    return KafkaSource::ParsePosition(position);
  }

 private:
  std::string Group() const { return prefix_ + "_group"; }

  // Creates the topic of `target` (once) and returns its name.
  Result<std::string> Topic(const std::string& target) {
    if (auto found = topics_.find(target); found != topics_.end())
      return found->second;
    std::string topic = fmt::format("{}_{}", prefix_, target);
    SLUICE_RETURN_IF_ERROR(CreateTopic(topic));
    topics_[target] = topic;
    return topic;
  }

  Status CreateTopic(const std::string& topic) {
    KafkaConnection connection;
    connection.brokers = servers_.kafka.bootstrap;
    SLUICE_ASSIGN_OR_RETURN(
        KafkaHandle admin,
        KafkaHandle::Open(KafkaHandle::Kind::kProducer, connection, {}, "conformance"));
    char error_text[512];
    std::unique_ptr<rd_kafka_NewTopic_t, void (*)(rd_kafka_NewTopic_t*)> request(
        rd_kafka_NewTopic_new(topic.c_str(), kPartitions, 1, error_text, sizeof(error_text)),
        rd_kafka_NewTopic_destroy);
    if (!request)
      return Internal(error_text);
    std::unique_ptr<rd_kafka_queue_t, void (*)(rd_kafka_queue_t*)> queue(
        rd_kafka_queue_new(admin.get()), rd_kafka_queue_destroy);
    rd_kafka_NewTopic_t* requests[] = {request.get()};
    rd_kafka_CreateTopics(admin.get(), requests, 1, nullptr, queue.get());
    std::unique_ptr<rd_kafka_event_t, void (*)(rd_kafka_event_t*)> event(
        rd_kafka_queue_poll(queue.get(), 30000), rd_kafka_event_destroy);
    if (!event)
      return Unavailable(fmt::format("topic '{}' not created within 30 s", topic));
    size_t count = 0;
    const rd_kafka_topic_result_t** results = rd_kafka_CreateTopics_result_topics(
        rd_kafka_event_CreateTopics_result(event.get()), &count);
    for (size_t i = 0; i < count; ++i) {
      if (rd_kafka_topic_result_error(results[i]) != RD_KAFKA_RESP_ERR_NO_ERROR) {
        return KafkaStatus(rd_kafka_topic_result_error(results[i]),
                           fmt::format("Cannot create topic '{}'", topic));
      }
    }
    // Until every partition has a leader, watermark queries fail.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (true) {
      const rd_kafka_metadata_t* metadata = nullptr;
      std::unique_ptr<rd_kafka_topic_t, void (*)(rd_kafka_topic_t*)> handle(
          rd_kafka_topic_new(admin.get(), topic.c_str(), nullptr), rd_kafka_topic_destroy);
      int leaders = 0;
      if (rd_kafka_metadata(admin.get(), 0, handle.get(), &metadata, 5000) ==
          RD_KAFKA_RESP_ERR_NO_ERROR) {
        for (int t = 0; t < metadata->topic_cnt; ++t) {
          for (int p = 0; p < metadata->topics[t].partition_cnt; ++p)
            leaders += metadata->topics[t].partitions[p].leader >= 0 ? 1 : 0;
        }
        rd_kafka_metadata_destroy(metadata);
      }
      if (leaders == kPartitions)
        return Status::OK();
      if (std::chrono::steady_clock::now() > deadline)
        return Unavailable(fmt::format("topic '{}': {} partitions have a leader", topic, leaders));
      std::this_thread::sleep_for(std::chrono::milliseconds(50));  // the next look
    }
  }

  // Sends the rows (and a message that is not JSON right after row `bad_after_id`, in its
  // partition), row i of the topic to partition i mod 3.
  Status ProduceRows(const std::string& topic, const std::vector<Row>& rows,
                     std::optional<int64_t> bad_after_id) {
    std::vector<testing::TestMessage> messages;
    for (const Row& row : rows) {
      testing::TestMessage message;
      message.value = RowMessage(row);
      message.partition = static_cast<int32_t>(produced_[topic]++ % kPartitions);
      messages.push_back(message);
      if (bad_after_id && std::stoll(*row[0]) == *bad_after_id) {
        message.value = "{\"id\": 0, not json";
        messages.push_back(message);
      }
    }
    return testing::Produce(servers_, topic, messages);
  }

  Result<std::string> Seed(const std::string& target, const std::vector<Row>& rows,
                           std::optional<int64_t> bad_after_id) {
    SLUICE_ASSIGN_OR_RETURN(std::string topic, Topic(target));
    SLUICE_RETURN_IF_ERROR(ProduceRows(topic, rows, bad_after_id));
    return fmt::format(
        "{{type: kafka, brokers: '{}', topic: {}, group_id: {}, start_from: earliest, "
        "format: json, columns: {{id: int64, name: string, amount: string}}{}}}",
        servers_.kafka.bootstrap, topic, Group(), bounded_ ? ", stop_at: end" : "");
  }

  TestServers servers_;
  const bool bounded_;
  const std::string prefix_;
  std::map<std::string, std::string> topics_;  // target -> topic
  std::map<std::string, size_t> produced_;     // topic -> rows sent
  std::optional<std::pair<std::string, std::string>> blocked_;  // BlockWrites: target, client.id
  std::atomic<bool> flush_waiting_{false};  // BlockWrites: a writer's flush waited
};

std::function<Result<std::unique_ptr<ConformanceStore>>()> OpenStore(bool bounded) {
  return [bounded]() -> Result<std::unique_ptr<ConformanceStore>> {
    SLUICE_ASSIGN_OR_RETURN(TestServers servers, TestServers::FromEnvironment());
    return std::unique_ptr<ConformanceStore>(new KafkaStore(std::move(servers), bounded));
  };
}

void Register(ConnectorRegistry& registry) {
  RegisterKafkaConnector(registry);
}

SinkUnderTest KafkaSink() {
  SinkUnderTest sink;
  sink.name = "kafka";
  sink.register_connectors = Register;
  sink.open_store = OpenStore(/*bounded=*/true);
  sink.exactly_once = true;
  // A topic cannot be replaced: append only.
  sink.overwrite = false;
  // After a kill, the killed run's open transaction holds the partition's last stable offset
  // back until the next run's Claim aborts it (or transaction_timeout_secs passes), so a
  // read_committed reader sees none of the rows committed after it began: rows are visible at
  // their commit only while no transaction of the job is left open.
  sink.visible_at_commit = false;
  sink.crash_points = {"kafka.sink.after_begin=crash@2", "kafka.sink.before_commit=crash@2",
                       "kafka.sink.after_commit=crash@3"};
  return sink;
}

SourceUnderTest KafkaSource(bool bounded) {
  SourceUnderTest source;
  source.name = bounded ? "kafka_stop_at_end" : "kafka";
  source.register_connectors = Register;
  source.open_store = OpenStore(bounded);
  source.bounded = bounded;
  source.crash_points = {"kafka.source.message=crash@120", "kafka.source.acknowledge=crash@2"};
  return source;
}

INSTANTIATE_TEST_SUITE_P(Kafka, SinkConformanceTest, ::testing::Values(KafkaSink()),
                         ConformanceName());
INSTANTIATE_TEST_SUITE_P(Kafka, SourceConformanceTest, ::testing::Values(KafkaSource(true)),
                         ConformanceName());
INSTANTIATE_TEST_SUITE_P(Kafka, StreamConformanceTest, ::testing::Values(KafkaSource(false)),
                         ConformanceName());

}  // namespace
}  // namespace sluice::connectors::kafka
