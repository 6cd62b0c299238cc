// The kafka sink against the real broker (the `servers` fixture), through the runtime: every
// format round trip (sink, then source), keys and Java-compatible partitioning, compression,
// clear errors, and exactly-once under SIGKILL at every transaction step.
#include <fmt/core.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>
#include <random>
#include <regex>
#include <set>
#include <sstream>

#include "config/job_config.h"
#include "connectors/registry.h"
#include "connectors/kafka/tests/kafka_test_util.h"
#include "runtime/job_runner.h"
#include "testing/crash_loop.h"
#include "testing/gtest_util.h"
#include "testing/random_rows.h"
#include "testing/stop_at_batch.h"
#include "testing/temp_dir.h"

namespace sluice::connectors {
void RegisterKafkaConnector(ConnectorRegistry& registry);
}

namespace sluice::connectors::kafka {
namespace {

using sluice::testing::MemorySinkData;
using sluice::testing::MemorySourceData;
using sluice::testing::Row;
using sluice::testing::TestServers;
using testing::UniqueTopic;
using ::testing::HasSubstr;
using ::testing::Not;

// Kafka's Java client's murmur2 (org.apache.kafka.common.utils.Utils.murmur2), to check that
// keyed messages land where a Java producer would put them.
int32_t JavaMurmur2(std::string_view data) {
  const uint32_t m = 0x5bd1e995;
  const int r = 24;
  const size_t length = data.size();
  uint32_t h = 0x9747b28c ^ static_cast<uint32_t>(length);
  size_t length4 = length / 4;
  for (size_t i = 0; i < length4; ++i) {
    size_t i4 = i * 4;
    uint32_t k = (static_cast<uint8_t>(data[i4 + 0]) & 0xff) +
                 ((static_cast<uint8_t>(data[i4 + 1]) & 0xff) << 8) +
                 ((static_cast<uint8_t>(data[i4 + 2]) & 0xff) << 16) +
                 ((static_cast<uint8_t>(data[i4 + 3]) & 0xff) << 24);
    k *= m;
    k ^= k >> r;
    k *= m;
    h *= m;
    h ^= k;
  }
  switch (length % 4) {
    case 3:
      h ^= (static_cast<uint8_t>(data[(length & ~3u) + 2]) & 0xff) << 16;
      [[fallthrough]];
    case 2:
      h ^= (static_cast<uint8_t>(data[(length & ~3u) + 1]) & 0xff) << 8;
      [[fallthrough]];
    case 1:
      h ^= static_cast<uint8_t>(data[length & ~3u]) & 0xff;
      h *= m;
  }
  h ^= h >> 13;
  h *= m;
  h ^= h >> 15;
  return static_cast<int32_t>(h);
}

int32_t JavaPartition(std::string_view key, int partitions) {
  return (JavaMurmur2(key) & 0x7fffffff) % partitions;
}

class KafkaSinkTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Result<TestServers> servers = TestServers::FromEnvironment();
    ASSERT_TRUE(servers.ok()) << servers.status().ToString();
    servers_ = *servers;
  }

  std::string NewTopic(const std::string& prefix, int partitions) {
    std::string topic = UniqueTopic(prefix);
    Status created = sluice::testing::KafkaCreateTopic(servers_, topic, partitions);
    EXPECT_TRUE(created.ok()) << created.ToString();
    return topic;
  }

  std::string Brokers() const { return "brokers: '" + servers_.kafka.bootstrap + "'"; }

  config::JobConfig Job(const std::string& name, const std::string& source,
                        const std::string& sink, const std::string& state,
                        const std::string& extra = "", double checkpoint_secs = 0.05) {
    std::string text = fmt::format(
        "name: {}\nsource: {{{}}}\nsink: {{{}}}\nparallelism: 1\nbatch_rows: 50\n"
        "state: '{}'\ncheckpoint: {{interval_secs: {}}}\n{}",
        name, source, sink, state, checkpoint_secs, extra);
    Result<config::JobConfig> job = config::LoadJobText(text, "test.yaml", {});
    EXPECT_TRUE(job.ok()) << job.status().ToString();
    return job.ok() ? *job : config::JobConfig{};
  }

  // Writes `rows` of `schema` with the kafka sink block `sink`, then reads the topic back with
  // a kafka source block `source` (stop_at: end) into memory; returns what came back.
  // With `kinds`, the rows are a changelog (their kinds come back in `*kinds_back`).
  std::vector<Row> RoundTrip(const SchemaPtr& schema, const std::vector<Row>& rows,
                             const std::string& sink, const std::string& source,
                             const std::string& extra = "", std::vector<RowKind> kinds = {},
                             std::vector<RowKind>* kinds_back = nullptr) {
    auto source_data = std::make_shared<MemorySourceData>();
    source_data->streams = {{"rows", schema, rows, !kinds.empty(), kinds}};
    source_data->split_rows = 100;
    auto ignored = std::make_shared<MemorySinkData>();
    ConnectorRegistry out_registry;
    sluice::testing::RegisterMemoryConnector(out_registry, source_data, ignored);
    RegisterKafkaConnector(out_registry);
    sluice::testing::TempDir state;
    std::string job_name = UniqueTopic("job");
    runtime::JobSummary written =
        runtime::JobRunner(Job(job_name, "type: memory", "type: kafka, " + sink, state.path(),
                               extra),
                           out_registry)
            .Run(nullptr);
    EXPECT_TRUE(written.status.ok()) << written.status.ToString();
    std::string topic = sink.substr(sink.find("topic: ") + 7);
    topic = topic.substr(0, topic.find(','));
    Status visible = testing::WaitForCommittedMessages(servers_, topic, rows.size() / 2);
    EXPECT_TRUE(visible.ok()) << visible.ToString();

    auto read_back = std::make_shared<MemorySinkData>();
    ConnectorRegistry in_registry;
    sluice::testing::RegisterMemoryConnector(in_registry, std::make_shared<MemorySourceData>(),
                                             read_back);
    RegisterKafkaConnector(in_registry);
    sluice::testing::TempDir state2;
    runtime::JobSummary read =
        runtime::JobRunner(Job(job_name + "_read", "type: kafka, " + source, "type: memory",
                               state2.path()),
                           in_registry)
            .Run(nullptr);
    EXPECT_TRUE(read.status.ok()) << read.status.ToString();
    std::lock_guard<std::mutex> lock(read_back->mutex);
    std::vector<Row> out;
    for (auto& [stream, stream_rows] : read_back->committed) {
      out.insert(out.end(), stream_rows.begin(), stream_rows.end());
      if (kinds_back != nullptr) {
        const std::vector<RowKind>& stream_kinds = read_back->committed_kinds[stream];
        kinds_back->insert(kinds_back->end(), stream_kinds.begin(), stream_kinds.end());
      }
    }
    return out;
  }

  static std::string ColumnsOf(const Schema& schema) {
    std::string out = "{";
    for (const Field& field : schema.fields()) {
      if (out.size() > 1)
        out += ", ";
      out += fmt::format("{}: '{}'", field.name, field.type.ToString());
    }
    return out + "}";
  }

  TestServers servers_;
};

// JSON Lines writes a json value that is the literal null as null, which reads back as NULL.
std::vector<Row> ExpectedFromJson(const Schema& schema, std::vector<Row> rows) {
  for (Row& row : rows) {
    for (size_t c = 0; c < schema.num_fields(); ++c) {
      if (schema.field(c).type.id == TypeId::kJson && row[c] == "null")
        row[c] = std::nullopt;
    }
  }
  return rows;
}

TEST_F(KafkaSinkTest, JsonRoundTripOfEveryTypeExactlyOnceWithEachCompression) {
  SchemaPtr schema = sluice::testing::AllTypesSchema();
  std::vector<Row> rows = sluice::testing::RandomRows(*schema, 300, 7);
  rows.push_back(Row(schema->num_fields(), std::nullopt));  // every value NULL
  for (const char* compression : {"zstd", "lz4", "snappy", "gzip", "none"}) {
    SCOPED_TRACE(compression);
    std::string topic = NewTopic(std::string("json_") + compression, 1);
    std::vector<Row> back = RoundTrip(
        schema, rows, fmt::format("{}, topic: {}, compression: {}", Brokers(), topic, compression),
        fmt::format("{}, topic: {}, stop_at: end, start_from: earliest, columns: {}", Brokers(),
                    topic, ColumnsOf(*schema)));
    EXPECT_EQ(back, ExpectedFromJson(*schema, rows));
  }
}

// debezium_json out, debezium_json in: every value as it was, the envelope as Debezium's
// JsonConverter writes it without schemas (inserts are "c").
TEST_F(KafkaSinkTest, DebeziumJsonRoundTripOfEveryType) {
  SchemaPtr schema = sluice::testing::AllTypesSchema();
  std::vector<Row> rows = sluice::testing::RandomRows(*schema, 300, 13);
  rows.push_back(Row(schema->num_fields(), std::nullopt));
  std::string topic = NewTopic("debezium_types", 1);
  std::vector<Row> back = RoundTrip(
      schema, rows, fmt::format("{}, topic: {}, format: debezium_json", Brokers(), topic),
      fmt::format("{}, topic: {}, stop_at: end, start_from: earliest, format: debezium_json, "
                  "primary_key: [i64], columns: {}",
                  Brokers(), topic, ColumnsOf(*schema)));
  EXPECT_EQ(back, ExpectedFromJson(*schema, rows));
  ASSERT_OK_AND_ASSIGN(std::string first,
                       sluice::testing::KafkaConsume(servers_, topic, 1, "%k|%s"));
  EXPECT_THAT(first, ::testing::StartsWith("|{\"before\":null,\"after\":{\"b\":"));
  EXPECT_THAT(first, ::testing::MatchesRegex(
                         ".*\\},\"op\":\"c\",\"ts_ms\":[0-9]+,\"source\":\\{\"connector\":"
                         "\"sluice\",\"name\":\"job_[0-9_]+\",\"table\":\"rows\"\\}\\}"));
}

// A changelog as Debezium events: an update's before and after in one "u" event, an
// update-after alone with before null, a key-changing update as a delete of the old key and an
// update of the new one, each delete followed by a tombstone (unless tombstones: false); keys
// are JSON objects of the primary key. Read back, the changes are the same.
TEST_F(KafkaSinkTest, DebeziumJsonChangelogPairsUpdatesAndTombstonesDeletes) {
  auto schema = std::make_shared<Schema>(
      std::vector<Field>{{"id", DataType::Int64(), false}, {"name", DataType::String()}},
      std::vector<int>{0});
  using K = RowKind;
  std::vector<Row> rows = {{"1", "a"},  {"2", "b"},  {"1", "a"},  {"1", "a2"}, {"2", "b2"},
                           {"2", "b2"}, {"3", "b3"}, {"1", "a2"}, {"4", "d"}};
  std::vector<RowKind> kinds = {K::kInsert,      K::kInsert,      K::kUpdateBefore,
                                K::kUpdateAfter, K::kUpdateAfter, K::kUpdateBefore,
                                K::kUpdateAfter, K::kDelete,      K::kInsert};
  std::vector<std::string> events = {
      R"({"id":1}|{"before":null,"after":{"id":1,"name":"a"},"op":"c"})",
      R"({"id":2}|{"before":null,"after":{"id":2,"name":"b"},"op":"c"})",
      R"({"id":1}|{"before":{"id":1,"name":"a"},"after":{"id":1,"name":"a2"},"op":"u"})",
      R"({"id":2}|{"before":null,"after":{"id":2,"name":"b2"},"op":"u"})",
      R"({"id":2}|{"before":{"id":2,"name":"b2"},"after":null,"op":"d"})",
      R"({"id":2}|-1)",
      R"({"id":3}|{"before":null,"after":{"id":3,"name":"b3"},"op":"u"})",
      R"({"id":1}|{"before":{"id":1,"name":"a2"},"after":null,"op":"d"})",
      R"({"id":1}|-1)",
      R"({"id":4}|{"before":null,"after":{"id":4,"name":"d"},"op":"c"})"};
  // The before image of a key-changing update comes back as a delete.
  std::vector<RowKind> kinds_expected = kinds;
  kinds_expected[5] = K::kDelete;
  for (bool tombstones : {true, false}) {
    SCOPED_TRACE(tombstones);
    std::string topic = NewTopic("debezium_changes", 1);
    std::vector<RowKind> kinds_back;
    std::vector<Row> back = RoundTrip(
        schema, rows,
        fmt::format("{}, topic: {}, format: debezium_json, tombstones: {}", Brokers(), topic,
                    tombstones),
        fmt::format("{}, topic: {}, stop_at: end, start_from: earliest, format: debezium_json, "
                    "primary_key: [id], columns: {{id: int64, name: string}}",
                    Brokers(), topic),
        "", kinds, &kinds_back);
    EXPECT_EQ(back, rows);
    EXPECT_EQ(kinds_back, kinds_expected);
    ASSERT_OK_AND_ASSIGN(std::string consumed,
                         sluice::testing::KafkaConsume(servers_, topic, 100, "%k|%S|%s\n"));
    std::vector<std::string> lines;
    std::regex envelope_end(R"(,"ts_ms":[0-9]+,"source":\{"connector":"sluice","name":"[^"]+",)"
                            R"("table":"rows"\}\})");
    std::stringstream stream(consumed);
    for (std::string line; std::getline(stream, line);) {
      size_t size_end = line.find('|', line.find('|') + 1);
      std::string key = line.substr(0, line.find('|'));
      std::string size = line.substr(key.size() + 1, size_end - key.size() - 1);
      lines.push_back(key + "|" +
                      (size == "-1" ? size
                                    : std::regex_replace(line.substr(size_end + 1),
                                                         envelope_end, "}")));
    }
    std::vector<std::string> expected = events;
    if (!tombstones)
      std::erase_if(expected, [](const std::string& event) { return event.ends_with("|-1"); });
    EXPECT_EQ(lines, expected);
  }
}

TEST_F(KafkaSinkTest, CsvRoundTripOfEveryTypeAtLeastOnce) {
  SchemaPtr schema = sluice::testing::AllTypesSchema();
  std::vector<Row> rows = sluice::testing::RandomRows(*schema, 300, 11);
  std::string topic = NewTopic("csv", 1);
  std::vector<Row> back = RoundTrip(
      schema, rows, fmt::format("{}, topic: {}, format: csv", Brokers(), topic),
      fmt::format("{}, topic: {}, stop_at: end, start_from: earliest, format: csv, columns: {}",
                  Brokers(), topic, ColumnsOf(*schema)),
      "delivery: at_least_once\n");
  EXPECT_EQ(back, rows);
}

TEST_F(KafkaSinkTest, RawRoundTripOfStringsAndBytes) {
  for (const char* type : {"string", "bytes"}) {
    SCOPED_TRACE(type);
    auto schema = std::make_shared<Schema>(std::vector<Field>{
        {"value", std::string(type) == "bytes" ? DataType::Bytes() : DataType::String()}});
    std::vector<Row> rows;
    for (const std::string& text : sluice::testing::TrickyStrings())
      rows.push_back(Row{std::string(type) == "bytes" ? fmt::format("\\x00ff{:02x}", rows.size())
                                                      : text});
    rows.push_back(Row{std::string(100000, 'z') + "😀𝄞"});
    if (std::string(type) == "bytes")
      rows.back() = Row{"\\x" + std::string(20000, 'a')};
    std::string topic = NewTopic(std::string("raw_") + type, 1);
    std::vector<Row> back = RoundTrip(
        schema, rows, fmt::format("{}, topic: {}, format: raw", Brokers(), topic),
        fmt::format("{}, topic: {}, stop_at: end, start_from: earliest, format: raw, "
                    "value_type: {}",
                    Brokers(), topic, type));
    EXPECT_EQ(back, rows);
  }
}

TEST_F(KafkaSinkTest, KeyedMessagesLandWhereTheJavaClientPutsThem) {
  auto schema = std::make_shared<Schema>(
      std::vector<Field>{{"id", DataType::Int64()}, {"region", DataType::String()},
                         {"note", DataType::String()}});
  std::vector<Row> rows;
  for (int i = 0; i < 200; ++i) {
    rows.push_back(Row{std::to_string(i), i % 3 == 0 ? "Zürich 😀" : "east",
                       i % 7 == 0 ? std::nullopt : std::optional<std::string>("n")});
  }
  std::string topic = NewTopic("keyed", 5);
  std::vector<Row> back = RoundTrip(
      schema, rows, fmt::format("{}, topic: {}, key_columns: [id, region]", Brokers(), topic),
      fmt::format("{}, topic: {}, stop_at: end, start_from: earliest, columns: {{id: int64, "
                  "region: string, note: string}}, metadata_columns: [key, partition]",
                  Brokers(), topic));
  ASSERT_EQ(back.size(), rows.size());
  std::set<int32_t> partitions;
  for (const Row& row : back) {
    std::string key = *row[0] + "|" + *row[1];
    EXPECT_EQ(row[3], key);
    int32_t partition = std::stoi(*row[4]);
    EXPECT_EQ(partition, JavaPartition(key, 5)) << key;
    partitions.insert(partition);
  }
  EXPECT_GT(partitions.size(), 1u);
}

TEST_F(KafkaSinkTest, ClearErrorsForAMissingTopicATooLargeRowAWrongPasswordAndADeniedTopic) {
  auto schema = std::make_shared<Schema>(std::vector<Field>{{"value", DataType::String()}});
  auto source_data = std::make_shared<MemorySourceData>();
  auto ignored = std::make_shared<MemorySinkData>();
  ConnectorRegistry registry;
  sluice::testing::RegisterMemoryConnector(registry, source_data, ignored);
  RegisterKafkaConnector(registry);
  sluice::testing::TempDir state;
  auto run = [&](const std::string& sink, std::vector<Row> rows) {
    source_data->streams = {{"rows", schema, std::move(rows)}};
    return runtime::JobRunner(Job(UniqueTopic("err"), "type: memory", "type: kafka, " + sink,
                                  state.path(), "delivery: at_least_once\n"),
                              registry)
        .Run(nullptr)
        .status;
  };
  Status missing = run(fmt::format("{}, topic: no_such_topic_abc, format: raw", Brokers()),
                       {Row{"a"}});
  EXPECT_EQ(missing.code(), StatusCode::kNotFound) << missing.ToString();
  EXPECT_THAT(missing.message(), HasSubstr("topic 'no_such_topic_abc' does not exist"));

  std::string topic = NewTopic("too_large", 1);
  Status large = run(fmt::format("{}, topic: {}, format: raw, message_max_bytes: 10000",
                                 Brokers(), topic),
                     {Row{"small"}, Row{std::string(20000, 'x')}});
  EXPECT_EQ(large.code(), StatusCode::kDataError) << large.ToString();
  EXPECT_THAT(large.message(), HasSubstr("raise message_max_bytes"));
  EXPECT_THAT(large.message(), HasSubstr("topic '" + topic + "'"));

  Status login = run(fmt::format("brokers: '{}', topic: {}, format: raw, security_protocol: "
                                 "sasl_plaintext, sasl_user: {}, sasl_password: "
                                 "'not-The-Password-7', timeout_secs: 5",
                                 servers_.kafka.sasl_bootstrap, topic, servers_.kafka.sasl_user),
                     {Row{"a"}});
  EXPECT_EQ(login.code(), StatusCode::kPermissionDenied) << login.ToString();
  EXPECT_THAT(login.ToString(), Not(HasSubstr("not-The-Password-7")));

  // A user who logs in but may not write the topic (a DENY ACL for User:denied).
  std::string denied_topic = NewTopic("acl", 1);
  ASSERT_OK(sluice::testing::RunShell(fmt::format(
                "{} org.apache.kafka.tools.AclCommand --bootstrap-server {} --add "
                "--deny-principal User:denied --operation All --topic {}",
                servers_.kafka.run_class, servers_.kafka.bootstrap, denied_topic))
                .status());
  Status denied = run(fmt::format("brokers: '{}', topic: {}, format: raw, security_protocol: "
                                  "sasl_plaintext, sasl_user: denied, sasl_password: '{}', "
                                  "timeout_secs: 5",
                                  servers_.kafka.sasl_bootstrap, denied_topic,
                                  servers_.kafka.sasl_password),
                      {Row{"a"}});
  EXPECT_EQ(denied.code(), StatusCode::kPermissionDenied) << denied.ToString();
  EXPECT_THAT(denied.message(), HasSubstr(denied_topic));
  EXPECT_THAT(denied.ToString(), Not(HasSubstr(servers_.kafka.sasl_password)));
}

// What a read_committed consumer sees: value -> times seen.
std::map<std::string, int> CommittedValues(const TestServers& servers, const std::string& topic,
                                           int expected) {
  Result<std::string> consumed = sluice::testing::KafkaConsume(servers, topic, expected + 100,
                                                               "%s\n");
  EXPECT_TRUE(consumed.ok()) << consumed.status().ToString();
  std::map<std::string, int> seen;
  size_t start = 0;
  std::string text = consumed.ok() ? *consumed : "";
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    ++seen[text.substr(start, end - start)];
    start = end + 1;
  }
  return seen;
}

// Transactions of the job's producers still open on the broker (state Ongoing); -1 when the
// broker lists none of them (the check would prove nothing).
int OpenTransactions(const TestServers& servers, const std::string& job) {
  Result<std::string> listed = sluice::testing::RunShell(fmt::format(
      "{} org.apache.kafka.tools.TransactionsCommand --bootstrap-server {} list",
      servers.kafka.run_class, servers.kafka.bootstrap));
  EXPECT_TRUE(listed.ok()) << listed.status().ToString();
  int open = 0;
  int listed_ids = 0;
  std::string text = listed.ok() ? *listed : "";
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    std::string line = text.substr(start, end == std::string::npos ? end : end - start);
    if (line.find("sluice-" + job + "-") != std::string::npos) {
      ++listed_ids;
      if (line.find("Ongoing") != std::string::npos)
        ++open;
    }
    if (end == std::string::npos)
      break;
    start = end + 1;
  }
  return listed_ids == 0 ? -1 : open;
}

// SIGKILL at every step of a transaction (begun, rows sent, progress sent before the commit,
// after the commit) and at the runtime's points: a read_committed consumer never sees a row
// twice, and after the resumed run sees every row exactly once with no transaction left open.
TEST_F(KafkaSinkTest, KilledAtEveryTransactionStepEveryRowExactlyOnce) {
  constexpr int kRows = 6000;  // 120 batches of 50 rows
  constexpr int kKills = 10;
  std::random_device seed_source;
  const unsigned seed = seed_source();
  SCOPED_TRACE(fmt::format("seed {}", seed));
  auto schema = std::make_shared<Schema>(
      std::vector<Field>{{"id", DataType::Int64(), false}, {"name", DataType::String()}});
  std::vector<Row> rows;
  for (int i = 0; i < kRows; ++i)
    rows.push_back(Row{std::to_string(i), i % 5 == 0 ? std::nullopt
                                                      : std::optional<std::string>("名前 😀")});
  auto source_data = std::make_shared<MemorySourceData>();
  source_data->streams = {{"orders", schema, rows}};
  source_data->split_rows = 750;
  source_data->rows_per_read = 50;
  auto ignored = std::make_shared<MemorySinkData>();
  ConnectorRegistry registry;
  sluice::testing::RegisterMemoryConnector(registry, source_data, ignored);
  RegisterKafkaConnector(registry);
  std::string topic = NewTopic("exactly_once", 3);
  std::string job_name = UniqueTopic("eo");
  sluice::testing::TempDir state;
  std::string extra = "parallelism: 2\n";
  config::JobConfig job =
      Job(job_name, "type: memory",
          fmt::format("type: kafka, {}, topic: {}, key_columns: [id], format: csv, "
                      "progress_topic: {}_progress",
                      Brokers(), topic, topic),
          state.path(), "", /*checkpoint_secs=*/0);
  job.parallelism = 2;
  sluice::testing::CrashLoopOptions options;
  options.kills = kKills;
  options.seed = seed;
  options.connector_points = {"kafka.sink.after_begin=crash@3", "kafka.sink.write=crash@4",
                              "kafka.sink.before_commit=crash@2",
                              "kafka.sink.after_commit=crash@2"};
  options.after_kill = [&](const std::string& plan) {
    SCOPED_TRACE(plan);
    for (const auto& [value, times] : CommittedValues(servers_, topic, kRows))
      ASSERT_EQ(times, 1) << "row seen twice: " << value;
  };
  sluice::testing::CrashLoopResult crashes = sluice::testing::RunCrashLoop(
      [&] { return runtime::JobRunner(job, registry).Run(nullptr).status.ok() ? 0 : 1; },
      options);
  ASSERT_EQ(crashes.kills, kKills) << "a child finished the job before its crash point";
  runtime::JobSummary summary = runtime::JobRunner(job, registry).Run(nullptr);
  ASSERT_OK(summary.status);
  EXPECT_TRUE(summary.resumed);
  ASSERT_OK(testing::WaitForCommittedMessages(servers_, topic, kRows));
  std::map<std::string, int> seen = CommittedValues(servers_, topic, kRows);
  EXPECT_EQ(seen.size(), static_cast<size_t>(kRows));
  for (const auto& [value, times] : seen)
    EXPECT_EQ(times, 1) << value;
  EXPECT_EQ(OpenTransactions(servers_, job_name), 0);
}

TEST_F(KafkaSinkTest, AnOlderRunIsFencedOff) {
  std::string topic = NewTopic("fence", 1);
  std::string job_name = UniqueTopic("fence");
  ConnectorRegistry registry;
  RegisterKafkaConnector(registry);
  std::string text = fmt::format(
      "name: {}\nsource: {{type: kafka, {}, topic: {}}}\nsink: {{type: kafka, {}, topic: {}, "
      "format: raw, progress_topic: {}_progress}}\n",
      job_name, Brokers(), topic, Brokers(), topic, topic);
  ASSERT_OK_AND_ASSIGN(config::JobConfig job, config::LoadJobText(text, "test.yaml", {}));
  std::atomic<bool> cancelled{false};
  sluice::testing::RecordAndFail bad;
  auto context = [&](uint64_t epoch) {
    JobContext out;
    out.job_name = job_name;
    out.cancelled = &cancelled;
    out.bad_records = &bad;
    out.run_epoch = epoch;
    out.run_owner = fmt::format("run {}", epoch);
    return out;
  };
  JobContext first = context(5);
  JobContext newer = context(6);
  JobContext older = context(4);
  auto streams = std::vector<StreamInfo>{
      StreamInfo{"s", std::make_shared<Schema>(std::vector<Field>{{"v", DataType::String()}})}};
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Sink> sink, registry.CreateSink(job.sink));
  ASSERT_OK(sink->Claim(first));
  ASSERT_OK(sink->Open(first, streams));
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<SinkWriter> writer, sink->CreateWriter(0));
  Batch batch(streams[0].schema, 4);
  batch.column(0).AppendView("from the first run");
  batch.FinishRow();
  ASSERT_OK(writer->Write(batch));
  ASSERT_OK(writer->Prepare());

  // A newer run claims the target: the first run's open transaction is aborted, its commit
  // refused.
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Sink> newer_sink, registry.CreateSink(job.sink));
  ASSERT_OK(newer_sink->Claim(newer));
  Status commit = writer->Commit(CommitContext{1, {SplitProgress{"s#0", "{\"offset\":1}", false}}});
  EXPECT_EQ(commit.code(), StatusCode::kConflict) << commit.ToString();
  ASSERT_OK_AND_ASSIGN(std::vector<SplitProgress> progress, newer_sink->RecoverProgress(newer));
  EXPECT_TRUE(progress.empty());
  EXPECT_EQ(OpenTransactions(servers_, job_name), 0);
  Result<std::string> consumed = sluice::testing::KafkaConsume(servers_, topic, 10, "%s\n");
  ASSERT_OK(consumed.status());
  EXPECT_EQ(*consumed, "");

  // A changelog stream is refused: messages would lose the row kinds; debezium_json is the way.
  std::vector<StreamInfo> changelog = streams;
  changelog[0].changelog = true;
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Sink> refusing, registry.CreateSink(job.sink));
  Status refused = refusing->Open(newer, changelog);
  EXPECT_EQ(refused.code(), StatusCode::kInvalidConfig) << refused.ToString();
  EXPECT_THAT(refused.message(), HasSubstr("is a changelog"));
  EXPECT_THAT(refused.message(), HasSubstr("format raw cannot carry"));
  EXPECT_THAT(refused.message(), HasSubstr("format: debezium_json"));

  // A run older than the recorded one cannot claim it back.
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Sink> older_sink, registry.CreateSink(job.sink));
  Status claimed = older_sink->Claim(older);
  EXPECT_EQ(claimed.code(), StatusCode::kConflict) << claimed.ToString();
}

}  // namespace
}  // namespace sluice::connectors::kafka
