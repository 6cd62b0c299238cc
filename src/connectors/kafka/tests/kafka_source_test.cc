// The kafka source against the real broker (the `servers` fixture): formats, metadata columns,
// bad messages, start positions, group offsets, new partitions and the clear errors.
#include <fmt/core.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <condition_variable>
#include <mutex>

#include "connectors/kafka/kafka_source.h"
#include "connectors/kafka/tests/kafka_test_util.h"
#include "testing/gtest_util.h"

namespace sluice::connectors::kafka {
namespace {

using sluice::testing::Row;
using sluice::testing::TestServers;
using testing::DrivenSource;
using testing::Produce;
using testing::TestMessage;
using testing::UniqueTopic;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::UnorderedElementsAreArray;

class KafkaSourceTest : public ::testing::Test {
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

  TestServers servers_;
};

Row R(std::initializer_list<std::optional<std::string>> values) {
  return Row(values);
}

// NULLs, empty strings, unicode with 4-byte UTF-8, big and negative numbers, decimals exact.
const std::vector<std::string> kJsonValues = {
    R"({"id":1,"name":"plain","amount":"12.50","note":null})",
    R"({"id":2,"name":"","amount":0,"note":"Zürich 東京 😀 𝄞"})",
    R"({"id":-9223372036854775808,"name":"tab\tquote\"backslash\\","amount":"-99999999.99"})",
    R"({"id":9223372036854775807,"name":null,"amount":null,"note":"line\nbreak"})",
};
const std::vector<Row> kJsonRows = {
    R({"1", "plain", "12.50", std::nullopt}),
    R({"2", "", "0.00", "Zürich 東京 😀 𝄞"}),
    R({"-9223372036854775808", "tab\tquote\"backslash\\", "-99999999.99", std::nullopt}),
    R({"9223372036854775807", std::nullopt, std::nullopt, "line\nbreak"}),
};

TEST_F(KafkaSourceTest, JsonWithDeclaredColumnsKeepsEveryValue) {
  std::string topic = NewTopic("json_declared", 1);
  std::vector<TestMessage> messages;
  for (const std::string& value : kJsonValues)
    messages.push_back(TestMessage{value});
  ASSERT_OK(Produce(servers_, topic, messages));
  DrivenSource driven;
  ASSERT_OK(driven.Open(fmt::format("{}, topic: {}, stop_at: end, start_from: earliest, columns: "
                                    "{{id: int64, name: string, amount: 'decimal(10,2)', note: "
                                    "string}}",
                                    Brokers(), topic)));
  ASSERT_EQ(driven.source->streams().size(), 1u);
  EXPECT_EQ(driven.source->streams()[0].name, topic);
  EXPECT_FALSE(driven.source->bounded() == false);
  ASSERT_OK_AND_ASSIGN(std::vector<Row> rows, driven.ReadAll());
  EXPECT_EQ(rows, kJsonRows);
  EXPECT_TRUE(driven.bad_records.records().empty());
}

TEST_F(KafkaSourceTest, JsonColumnsAreInferredFromTheFirstMessages) {
  std::string topic = NewTopic("json_inferred", 1);
  ASSERT_OK(Produce(servers_, topic,
                    {TestMessage{R"({"id":1,"name":"a 😀","price":1.5,"tags":["x"]})"},
                     TestMessage{"{\n  \"id\": 2,\n  \"name\": null,\n  \"price\": 2\n}"}}));
  DrivenSource driven;
  ASSERT_OK(driven.Open(fmt::format("{}, topic: {}, stop_at: end, start_from: earliest",
                                    Brokers(), topic)));
  EXPECT_EQ(driven.source->streams()[0].schema->ToString(),
            "id int64, name string, price float64, tags json");
  ASSERT_OK_AND_ASSIGN(std::vector<Row> rows, driven.ReadAll());
  EXPECT_THAT(rows, ElementsAre(R({"1", "a 😀", "1.5", R"(["x"])"}),
                                R({"2", std::nullopt, "2", std::nullopt})));
}

TEST_F(KafkaSourceTest, AnEmptyTopicWithoutColumnsSaysToDeclareThem) {
  std::string topic = NewTopic("json_empty", 1);
  DrivenSource driven;
  Status opened = driven.Open(fmt::format("{}, topic: {}, stop_at: end", Brokers(), topic));
  EXPECT_EQ(opened.code(), StatusCode::kInvalidConfig);
  EXPECT_THAT(opened.message(), HasSubstr("declare them with 'columns'"));
}

TEST_F(KafkaSourceTest, CsvRecordsFillTheDeclaredColumns) {
  std::string topic = NewTopic("csv", 1);
  ASSERT_OK(Produce(servers_, topic,
                    {TestMessage{"1,plain,2026-12-05"}, TestMessage{"2,\"comma, and \"\"quote\"\"\","},
                     TestMessage{"3,,2000-02-29"}, TestMessage{"4,\"\",1970-01-01"},
                     TestMessage{"5,😀 𝄞 naïve,"}}));
  DrivenSource driven;
  ASSERT_OK(driven.Open(fmt::format("{}, topic: {}, stop_at: end, start_from: earliest, format: "
                                    "csv, columns: {{id: int32, name: string, day: date}}",
                                    Brokers(), topic)));
  ASSERT_OK_AND_ASSIGN(std::vector<Row> rows, driven.ReadAll());
  EXPECT_THAT(rows, ElementsAre(R({"1", "plain", "2026-12-05"}),
                                R({"2", "comma, and \"quote\"", std::nullopt}),
                                R({"3", std::nullopt, "2000-02-29"}),
                                R({"4", "", "1970-01-01"}),
                                R({"5", "😀 𝄞 naïve", std::nullopt})));
}

TEST_F(KafkaSourceTest, RawValuesWithEveryMetadataColumn) {
  std::string topic = NewTopic("raw_metadata", 2);
  std::string huge(900 * 1000, 'x');
  huge += "😀";
  ASSERT_OK(Produce(
      servers_, topic,
      {TestMessage{"first", "k1", 0, {{"trace", "abc"}, {"empty", std::nullopt}}, 1764892800000},
       TestMessage{std::nullopt, "k2", 0, {}, 1764892800123},
       TestMessage{"", std::nullopt, 1, {{"bin", std::string("\xff\x00", 2)}}, 1764892800456},
       TestMessage{huge, "big", 1, {}, 1764892800789}}));
  DrivenSource driven;
  ASSERT_OK(driven.Open(fmt::format("{}, topic: {}, stop_at: end, start_from: earliest, format: "
                                    "raw, metadata_columns: [headers, key, offset, partition, "
                                    "timestamp]",
                                    Brokers(), topic)));
  const Schema& schema = *driven.source->streams()[0].schema;
  EXPECT_EQ(schema.ToString(),
            "value string, key string, partition int32 not null, offset int64 not null, "
            "timestamp timestamp_tz(3), headers json");
  // Asked for by name, so ordinary columns: the runtime drops Field::metadata ones unless a
  // transform selects them.
  for (size_t i = 0; i < schema.num_fields(); ++i)
    EXPECT_FALSE(schema.field(i).metadata) << schema.field(i).name;
  ASSERT_OK_AND_ASSIGN(std::vector<Row> rows, driven.ReadAll());
  ASSERT_EQ(rows.size(), 4u);
  EXPECT_EQ(rows[0], R({"first", "k1", "0", "0", "2025-12-05 00:00:00+00:00",
                        R"({"trace":"abc","empty":null})"}));
  EXPECT_EQ(rows[1], R({std::nullopt, "k2", "0", "1", "2025-12-05 00:00:00.123+00:00", std::nullopt}));
  EXPECT_EQ(rows[2], R({"", std::nullopt, "1", "0", "2025-12-05 00:00:00.456+00:00",
                        R"({"bin":"\\xff00"})"}));
  EXPECT_EQ(rows[3][0], huge);
}

TEST_F(KafkaSourceTest, RawBytesTakeAnyValue) {
  std::string topic = NewTopic("raw_bytes", 1);
  ASSERT_OK(Produce(servers_, topic, {TestMessage{std::string("\x00\xff\xfe", 3), "\x01"}}));
  DrivenSource driven;
  ASSERT_OK(driven.Open(fmt::format("{}, topic: {}, stop_at: end, start_from: earliest, format: "
                                    "raw, value_type: bytes, metadata_columns: [key]",
                                    Brokers(), topic)));
  ASSERT_OK_AND_ASSIGN(std::vector<Row> rows, driven.ReadAll());
  EXPECT_THAT(rows, ElementsAre(R({"\\x00fffe", "\\x01"})));
}

TEST_F(KafkaSourceTest, AMessageThatDoesNotParseGoesToTheErrorsPolicyWithItsLocation) {
  std::string topic = NewTopic("bad_json", 1);
  ASSERT_OK(Produce(servers_, topic,
                    {TestMessage{R"({"id":1})"}, TestMessage{R"({"id":"not a number"})"},
                     TestMessage{"not json"}, TestMessage{R"({"id":4})"},
                     TestMessage{std::string("\xff", 1)}}));
  DrivenSource driven;
  ASSERT_OK(driven.Open(fmt::format("{}, topic: {}, stop_at: end, start_from: earliest, "
                                    "columns: {{id: int64}}",
                                    Brokers(), topic)));
  ASSERT_OK_AND_ASSIGN(std::vector<Row> rows, driven.ReadAll());
  EXPECT_THAT(rows, ElementsAre(R({"1"}), R({"4"})));
  std::vector<BadRecord> bad = driven.bad_records.records();
  ASSERT_EQ(bad.size(), 3u);
  EXPECT_EQ(bad[0].location, topic + "/0@1");
  EXPECT_EQ(bad[0].raw, R"({"id":"not a number"})");
  EXPECT_EQ(bad[0].reason.code(), StatusCode::kDataError);
  EXPECT_THAT(bad[0].reason.message(), HasSubstr(topic + "/0@1"));
  EXPECT_EQ(bad[1].location, topic + "/0@2");
  EXPECT_EQ(bad[2].location, topic + "/0@4");

  // Under `errors: fail` the first one stops the read with its reason.
  DrivenSource failing;
  ASSERT_OK(failing.Open(fmt::format("{}, topic: {}, stop_at: end, start_from: earliest, "
                                     "columns: {{id: int64}}",
                                     Brokers(), topic)));
  sluice::testing::RecordAndFail fail;
  failing.context.bad_records = &fail;
  Result<std::vector<Row>> failed = failing.ReadAll();
  ASSERT_FALSE(failed.ok());
  EXPECT_THAT(failed.status().message(), HasSubstr(topic + "/0@1"));
}

TEST_F(KafkaSourceTest, StartPositionsAndGroupOffsets) {
  std::string topic = NewTopic("start", 1);
  ASSERT_OK(Produce(servers_, topic,
                    {TestMessage{"a", {}, 0, {}, 1000000000000}, TestMessage{"b", {}, 0, {}, 1000000001000},
                     TestMessage{"c", {}, 0, {}, 1000000002000}}));
  std::string block = fmt::format("{}, topic: {}, stop_at: end, format: raw", Brokers(), topic);
  auto read = [&](const std::string& extra, const std::string& job) {
    DrivenSource driven;
    Status opened = driven.Open(block + extra, job);
    EXPECT_TRUE(opened.ok()) << opened.ToString();
    std::vector<SplitProgress> progress;
    Result<std::vector<Row>> rows = driven.ReadAll(&progress);
    EXPECT_TRUE(rows.ok()) << rows.status().ToString();
    return std::make_pair(rows.ok() ? *rows : std::vector<Row>{}, progress);
  };
  EXPECT_THAT(read(", start_from: earliest", "j1").first,
              ElementsAre(R({"a"}), R({"b"}), R({"c"})));
  EXPECT_TRUE(read(", start_from: latest", "j1").first.empty());
  EXPECT_THAT(read(", start_from: timestamp, start_timestamp_ms: 1000000000500", "j1").first,
              ElementsAre(R({"b"}), R({"c"})));

  // committed: a group without offsets starts at the beginning; Acknowledge commits them.
  std::string group = UniqueTopic("group");
  DrivenSource driven;
  ASSERT_OK(driven.Open(block + ", group_id: " + group, "j2"));
  std::vector<SplitProgress> progress;
  ASSERT_OK_AND_ASSIGN(std::vector<Row> rows, driven.ReadAll(&progress));
  EXPECT_EQ(rows.size(), 3u);
  ASSERT_EQ(progress.size(), 1u);
  EXPECT_EQ(progress[0].position, R"({"offset":3})");
  // Only the acknowledged offset counts: acknowledge the first two messages.
  ASSERT_OK(driven.source->Acknowledge(1, {SplitProgress{topic + "#0", R"({"offset":2})", false}}));
  ASSERT_OK(Produce(servers_, topic, {TestMessage{"d"}}));
  EXPECT_THAT(read(", group_id: " + group, "j3").first, ElementsAre(R({"c"}), R({"d"})));
}

TEST_F(KafkaSourceTest, AResumedSplitContinuesAfterItsPosition) {
  std::string topic = NewTopic("resume", 1);
  ASSERT_OK(Produce(servers_, topic, {TestMessage{"a"}, TestMessage{"b"}, TestMessage{"c"}}));
  DrivenSource driven;
  ASSERT_OK(driven.Open(fmt::format("{}, topic: {}, stop_at: end, format: raw, start_from: "
                                    "earliest",
                                    Brokers(), topic)));
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<SplitEnumerator> enumerator,
                       driven.source->CreateEnumerator());
  ASSERT_OK_AND_ASSIGN(std::optional<Split> split, enumerator->Next());
  ASSERT_TRUE(split.has_value());
  EXPECT_EQ(split->id, topic + "#0");
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<SplitReader> reader,
                       driven.source->CreateReader(*split, R"({"offset":1})"));
  Batch batch(driven.source->streams()[0].schema, 64);
  std::vector<Row> rows;
  while (true) {
    batch.Clear();
    ASSERT_OK_AND_ASSIGN(bool more, reader->ReadBatch(&batch));
    for (size_t i = 0; i < batch.num_rows(); ++i)
      rows.push_back(sluice::testing::RowFromBatch(batch, i));
    if (!more)
      break;
  }
  EXPECT_THAT(rows, ElementsAre(R({"b"}), R({"c"})));
  EXPECT_EQ(reader->Position(), R"({"offset":3})");
  EXPECT_EQ(reader->Progress(), 1.0);
  // A resumed bounded run plans nothing beyond the splits it had.
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<SplitEnumerator> resumed,
                       driven.source->ResumeEnumerator({*split}));
  ASSERT_OK_AND_ASSIGN(std::optional<Split> none, resumed->Next());
  EXPECT_FALSE(none.has_value());
}

TEST_F(KafkaSourceTest, AnUnboundedReaderReturnsEmptyBatchesAndReportsLag) {
  std::string topic = NewTopic("unbounded", 1);
  ASSERT_OK(Produce(servers_, topic, {TestMessage{"a"}, TestMessage{"b"}, TestMessage{"c"}}));
  DrivenSource driven;
  ASSERT_OK(driven.Open(fmt::format("{}, topic: {}, format: raw, start_from: earliest",
                                    Brokers(), topic)));
  EXPECT_FALSE(driven.source->bounded());
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<SplitEnumerator> enumerator,
                       driven.source->CreateEnumerator());
  ASSERT_OK_AND_ASSIGN(std::optional<Split> split, enumerator->Next());
  ASSERT_TRUE(split.has_value());
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<SplitReader> reader,
                       driven.source->CreateReader(*split, ""));
  // One row per batch: the lag after the first says two more wait.
  Batch one(driven.source->streams()[0].schema, 1);
  while (one.empty()) {
    ASSERT_OK_AND_ASSIGN(bool more, reader->ReadBatch(&one));
    ASSERT_TRUE(more);
  }
  EXPECT_EQ(reader->Lag().rows, std::optional<uint64_t>(2));
  EXPECT_TRUE(reader->Lag().last_event_time_us.has_value());
  // The rest, however the fetches split them (an empty batch whenever a read wait passes
  // without data), within a deadline.
  int rows = 1;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (rows < 3 && std::chrono::steady_clock::now() < deadline) {
    one.Clear();
    ASSERT_OK_AND_ASSIGN(bool more, reader->ReadBatch(&one));
    ASSERT_TRUE(more) << "an unbounded split never ends";
    rows += static_cast<int>(one.num_rows());
  }
  EXPECT_EQ(rows, 3);
  // Nothing more: an empty batch after the read wait, and the split goes on.
  one.Clear();
  ASSERT_OK_AND_ASSIGN(bool more, reader->ReadBatch(&one));
  EXPECT_TRUE(more);
  EXPECT_TRUE(one.empty());
  EXPECT_EQ(reader->Lag().rows, std::optional<uint64_t>(0));
}

TEST_F(KafkaSourceTest, PartitionsAddedWhileRunningAreHandedOutAndWakeTheReaders) {
  std::string topic = NewTopic("grow", 1);
  DrivenSource driven;
  ASSERT_OK(driven.Open(fmt::format("{}, topic: {}, format: raw, partition_discovery_secs: 0.2",
                                    Brokers(), topic)));
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<SplitEnumerator> enumerator,
                       driven.source->CreateEnumerator());
  std::mutex mutex;
  std::condition_variable woken;
  int wakes = 0;
  enumerator->SetWakeup([&] {
    std::lock_guard<std::mutex> lock(mutex);
    ++wakes;
    woken.notify_all();
  });
  ASSERT_OK_AND_ASSIGN(std::optional<Split> first, enumerator->Next());
  ASSERT_TRUE(first.has_value());
  ASSERT_OK_AND_ASSIGN(std::optional<Split> none, enumerator->Next());
  EXPECT_FALSE(none.has_value());
  ASSERT_OK(sluice::testing::RunShell(
                fmt::format("{} org.apache.kafka.tools.TopicCommand --bootstrap-server {} "
                            "--alter --topic {} --partitions 3",
                            servers_.kafka.run_class, servers_.kafka.bootstrap, topic))
                .status());
  std::vector<std::string> ids;
  std::unique_lock<std::mutex> lock(mutex);
  while (ids.size() < 2) {
    ASSERT_TRUE(woken.wait_for(lock, std::chrono::seconds(60), [&] { return wakes > 0; }))
        << "no wake-up within 60 s of adding partitions";
    wakes = 0;
    lock.unlock();
    while (true) {
      ASSERT_OK_AND_ASSIGN(std::optional<Split> next, enumerator->Next());
      if (!next)
        break;
      ids.push_back(next->id);
    }
    lock.lock();
  }
  EXPECT_THAT(ids, UnorderedElementsAreArray({topic + "#1", topic + "#2"}));
}

TEST_F(KafkaSourceTest, TopicsByRegularExpressionAreOneStreamEach) {
  std::string prefix = UniqueTopic("regex");
  ASSERT_OK(sluice::testing::KafkaCreateTopic(servers_, prefix + ".a", 1));
  ASSERT_OK(sluice::testing::KafkaCreateTopic(servers_, prefix + ".b", 2));
  ASSERT_OK(Produce(servers_, prefix + ".a", {TestMessage{"a"}}));
  ASSERT_OK(Produce(servers_, prefix + ".b", {TestMessage{"b0", {}, 0}, TestMessage{"b1", {}, 1}}));
  DrivenSource driven;
  ASSERT_OK(driven.Open(fmt::format("{}, topics: ['^{}\\..*'], stop_at: end, format: raw, "
                                    "start_from: earliest",
                                    Brokers(), prefix)));
  ASSERT_EQ(driven.source->streams().size(), 2u);
  EXPECT_EQ(driven.source->streams()[0].name, prefix + ".a");
  EXPECT_EQ(driven.source->streams()[1].name, prefix + ".b");
  ASSERT_OK_AND_ASSIGN(std::vector<Row> rows, driven.ReadAll());
  EXPECT_THAT(rows, UnorderedElementsAreArray({R({"a"}), R({"b0"}), R({"b1"})}));
}

TEST_F(KafkaSourceTest, AMissingTopicIsNotFound) {
  DrivenSource driven;
  Status opened = driven.Open(fmt::format("{}, topic: no_such_topic_xyz", Brokers()));
  EXPECT_EQ(opened.code(), StatusCode::kNotFound);
  EXPECT_THAT(opened.message(), HasSubstr("topic 'no_such_topic_xyz' does not exist on Kafka "
                                          "brokers '" + servers_.kafka.bootstrap + "'"));
}

TEST_F(KafkaSourceTest, AnUnreachableBrokerIsUnavailableAndNamesIt) {
  DrivenSource driven;
  // Port 1 on loopback: nothing listens there.
  Status opened = driven.Open("brokers: '127.0.0.1:1', topic: t, timeout_secs: 2");
  EXPECT_EQ(opened.code(), StatusCode::kUnavailable) << opened.ToString();
  EXPECT_THAT(opened.message(), HasSubstr("Cannot list the topics of Kafka brokers '127.0.0.1:1'"));
}

TEST_F(KafkaSourceTest, AWrongSaslPasswordIsAPermissionErrorWithoutThePassword) {
  std::string topic = NewTopic("sasl", 1);
  ASSERT_OK(Produce(servers_, topic, {TestMessage{"a"}}));
  DrivenSource wrong;
  Status opened = wrong.Open(fmt::format(
      "brokers: '{}', topic: {}, security_protocol: sasl_plaintext, sasl_user: {}, "
      "sasl_password: 'wrong-Secret-42', timeout_secs: 5",
      servers_.kafka.sasl_bootstrap, topic, servers_.kafka.sasl_user));
  EXPECT_EQ(opened.code(), StatusCode::kPermissionDenied) << opened.ToString();
  EXPECT_THAT(opened.message(), HasSubstr("check sasl_user, sasl_password"));
  EXPECT_THAT(opened.ToString(), Not(HasSubstr("wrong-Secret-42")));

  DrivenSource right;
  ASSERT_OK(right.Open(fmt::format(
      "brokers: '{}', topic: {}, security_protocol: sasl_plaintext, sasl_user: {}, "
      "sasl_password: '{}', stop_at: end, start_from: earliest, format: raw",
      servers_.kafka.sasl_bootstrap, topic, servers_.kafka.sasl_user,
      servers_.kafka.sasl_password)));
  ASSERT_OK_AND_ASSIGN(std::vector<Row> rows, right.ReadAll());
  EXPECT_THAT(rows, ElementsAre(R({"a"})));
}

// A topic that the user may not read (a DENY ACL for User:denied, who logs in fine): a
// permission error naming the topic (the sink's is in KafkaSinkTest.ClearErrors...).
TEST_F(KafkaSourceTest, ATopicTheUserMayNotReadIsAPermissionErrorNamingIt) {
  std::string topic = NewTopic("acl", 1);
  ASSERT_OK(Produce(servers_, topic, {TestMessage{"a"}}));
  ASSERT_OK(sluice::testing::RunShell(fmt::format(
                "{} org.apache.kafka.tools.AclCommand --bootstrap-server {} --add "
                "--deny-principal User:denied --operation All --topic {}",
                servers_.kafka.run_class, servers_.kafka.bootstrap, topic))
                .status());
  const std::string login = fmt::format(
      "brokers: '{}', security_protocol: sasl_plaintext, sasl_user: denied, sasl_password: '{}', "
      "timeout_secs: 5",
      servers_.kafka.sasl_bootstrap, servers_.kafka.sasl_password);
  DrivenSource source;
  Status opened = source.Open(
      fmt::format("{}, topic: {}, stop_at: end, start_from: earliest, format: raw", login, topic));
  EXPECT_EQ(opened.code(), StatusCode::kPermissionDenied) << opened.ToString();
  EXPECT_THAT(opened.message(), HasSubstr(topic));
  EXPECT_THAT(opened.ToString(), Not(HasSubstr(servers_.kafka.sasl_password)));
}

}  // namespace
}  // namespace sluice::connectors::kafka

namespace sluice::connectors::kafka {
namespace {

// Reads every split in batches of `capacity` rows, each row's kind first ("+I", "-U", "+U",
// "-D") then its values.
Result<std::vector<Row>> ReadChanges(DrivenSource& driven, size_t capacity) {
  SLUICE_ASSIGN_OR_RETURN(std::unique_ptr<SplitEnumerator> enumerator,
                          driven.source->CreateEnumerator());
  std::vector<Row> rows;
  while (true) {
    SLUICE_ASSIGN_OR_RETURN(std::optional<Split> split, enumerator->Next());
    if (!split)
      break;
    SLUICE_ASSIGN_OR_RETURN(std::unique_ptr<SplitReader> reader,
                            driven.source->CreateReader(*split, ""));
    Batch batch(driven.source->streams()[0].schema, capacity);
    while (true) {
      batch.Clear();
      SLUICE_ASSIGN_OR_RETURN(bool more, reader->ReadBatch(&batch));
      for (size_t i = 0; i < batch.num_rows(); ++i) {
        static const char* kKinds[] = {"+I", "-U", "+U", "-D"};
        Row row = sluice::testing::RowFromBatch(batch, i);
        row.insert(row.begin(), kKinds[static_cast<int>(batch.row_kind(i))]);
        rows.push_back(std::move(row));
      }
      if (!more)
        break;
    }
  }
  return rows;
}

TEST_F(KafkaSourceTest, ChangeEventEnvelopesBecomeChangelogRows) {
  struct Case {
    std::string format;
    std::vector<std::string> events;
  };
  const std::vector<Case> cases = {
      {"debezium_json",
       {R"({"before":null,"after":{"id":1,"name":"a 😀"},"op":"c","ts_ms":1})",
        R"({"schema":{},"payload":{"before":{"id":1,"name":"a 😀"},"after":{"id":1,"name":null},"op":"u"}})",
        R"({"before":null,"after":{"id":2,"name":"b"},"op":"r"})",
        R"({"before":{"id":2,"name":"b"},"after":null,"op":"d"})", "", R"({"op":"t"})",
        R"({"after":{"id":3,"name":"𝄞"},"op":"c"})"}},
      {"maxwell_json",
       {R"({"database":"d","table":"t","type":"insert","data":{"id":1,"name":"a 😀"}})",
        R"({"type":"update","data":{"id":1,"name":null},"old":{"name":"a 😀"}})",
        R"({"type":"bootstrap-insert","data":{"id":2,"name":"b"}})",
        R"({"type":"delete","data":{"id":2,"name":"b"}})", R"({"type":"table-create"})",
        R"({"type":"insert","data":{"id":3,"name":"𝄞"}})"}},
      {"canal_json",
       {R"({"data":[{"id":"1","name":"a 😀"}],"type":"INSERT","isDdl":false})",
        R"({"data":[{"id":"1","name":null}],"old":[{"name":"a 😀"}],"type":"UPDATE","isDdl":false})",
        R"({"data":[{"id":"2","name":"b"}],"type":"INSERT","isDdl":false})",
        R"({"data":[{"id":"2","name":"b"}],"type":"DELETE","isDdl":false})",
        R"({"sql":"ALTER TABLE t","isDdl":true,"type":"ALTER"})",
        R"({"data":[{"id":"3","name":"𝄞"}],"type":"INSERT","isDdl":false})"}},
  };
  const std::vector<Row> expected = {
      R({"+I", "1", "a 😀"}), R({"-U", "1", "a 😀"}), R({"+U", "1", std::nullopt}),
      R({"+I", "2", "b"}),    R({"-D", "2", "b"}),    R({"+I", "3", "𝄞"}),
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.format);
    std::string topic = NewTopic(c.format, 1);
    std::vector<TestMessage> messages;
    for (const std::string& event : c.events) {
      TestMessage message;
      if (!event.empty())
        message.value = event;  // "" stands for a tombstone
      messages.push_back(message);
    }
    ASSERT_OK(Produce(servers_, topic, messages));
    for (bool declared : {true, false}) {
      SCOPED_TRACE(declared ? "declared columns" : "inferred columns");
      DrivenSource driven;
      ASSERT_OK(driven.Open(fmt::format(
          "{}, topic: {}, stop_at: end, start_from: earliest, format: {}, primary_key: [id]{}",
          Brokers(), topic, c.format, declared ? ", columns: {id: int64, name: string}" : "")));
      const StreamInfo& stream = driven.source->streams()[0];
      EXPECT_TRUE(stream.changelog);
      EXPECT_EQ(stream.schema->primary_key(), std::vector<int>{0});
      if (!declared && c.format != "canal_json") {
        EXPECT_EQ(stream.schema->ToString(), "id int64, name string, primary key (id)");
      }
      // Batches of 3: an update's two rows never straddle two batches.
      ASSERT_OK_AND_ASSIGN(std::vector<Row> rows, ReadChanges(driven, 3));
      EXPECT_EQ(rows, expected);
      EXPECT_TRUE(driven.bad_records.records().empty());
    }
  }
  DrivenSource missing_key;
  Status refused = missing_key.Open(fmt::format("{}, topic: t, format: debezium_json", Brokers()));
  EXPECT_EQ(refused.code(), StatusCode::kInvalidConfig);
  EXPECT_THAT(refused.message(), HasSubstr("needs primary_key"));
}

}  // namespace
}  // namespace sluice::connectors::kafka
