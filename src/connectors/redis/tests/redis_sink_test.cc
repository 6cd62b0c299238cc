// The redis sink driven directly against the real primary (and replica) of
// scripts/test-servers.sh: strings and hashes, TTLs, bad rows, pipelining, and exactly-once
// (rows and progress in one MULTI/EXEC, nothing before Commit, fencing by run epoch, progress
// merged across slots, forgotten on a fresh start).
#include <fmt/core.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "config/node.h"
#include "connectors/redis/redis_client.h"
#include "connectors/redis/redis_sink.h"
#include "connectors/registry.h"
#include "core/value_text.h"
#include "testing/bad_records.h"
#include "testing/gtest_util.h"
#include "testing/test_servers.h"

namespace sluice::connectors {
void RegisterRedisConnector(ConnectorRegistry& registry);
}  // namespace sluice::connectors

namespace sluice::connectors::redis {
namespace {

using sluice::testing::RecordAndFail;
using sluice::testing::RecordAndSkip;
using sluice::testing::TestServers;
using Row = std::vector<std::optional<std::string>>;

SchemaPtr Users() {
  return std::make_shared<const Schema>(
      std::vector<Field>{{"id", DataType::Int64(), false},
                         {"name", DataType::String(), true},
                         {"ttl", DataType::Int64(), true},
                         {"payload", DataType::Bytes(), true}},
      std::vector<int>{0});
}

std::unique_ptr<Batch> BatchOf(const SchemaPtr& schema, const std::vector<Row>& rows) {
  auto batch = std::make_unique<Batch>(schema, std::max<size_t>(rows.size(), 1));
  batch->set_stream(0);
  for (const Row& row : rows) {
    for (size_t c = 0; c < row.size(); ++c) {
      if (!row[c]) {
        batch->column(c).AppendNull();
      } else {
        Status parsed = AppendParsedValue(*row[c], &batch->column(c));
        EXPECT_TRUE(parsed.ok()) << parsed.ToString();
      }
    }
    batch->FinishRow();
  }
  return batch;
}

std::vector<Row> UserRows(int from, int count) {
  std::vector<Row> rows;
  for (int id = from; id < from + count; ++id) {
    rows.push_back({std::to_string(id),
                    id % 5 == 0 ? std::nullopt : std::optional<std::string>(fmt::format("n{}", id)),
                    std::nullopt, std::nullopt});
  }
  return rows;
}

class RedisSinkTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto servers = TestServers::FromEnvironment();
    ASSERT_OK(servers.status());
    servers_ = *servers;
    RegisterRedisConnector(registry_);
    const auto* test = ::testing::UnitTest::GetInstance()->current_test_info();
    prefix_ = fmt::format("sink_test:{}:", test->name());
    ASSERT_OK_AND_ASSIGN(client_, RedisClient::Connect(Connection()));
    // Leftovers of an earlier run of this test (the servers outlive a ctest run only by hand).
    ASSERT_OK_AND_ASSIGN(RedisReply keys, client_->Command("KEYS", prefix_ + "*"));
    for (const RedisReply& key : keys.elements)
      ASSERT_OK(client_->Command("DEL", key.text).status());
    ASSERT_OK(client_->Command("DEL", RunKey(JobName())).status());
    for (int slot = 0; slot < 4; ++slot)
      ASSERT_OK(client_->Command("DEL", ProgressKey(JobName(), slot)).status());
  }

  RedisConnectOptions Connection() const {
    RedisConnectOptions options;
    options.host = servers_.redis.host;
    options.port = servers_.redis.port;
    options.password = Secret(servers_.redis.password);
    return options;
  }

  std::string JobName() const {
    return "job-" + std::string(::testing::UnitTest::GetInstance()->current_test_info()->name());
  }

  // A sink from option text (plus the connection), validated as in a job.
  Result<std::unique_ptr<Sink>> MakeSink(const std::string& options, int port = 0) {
    std::string yaml = fmt::format("host: {}\nport: {}\npassword: {}\n{}", servers_.redis.host,
                                   port != 0 ? port : servers_.redis.port,
                                   servers_.redis.password, options);
    SLUICE_ASSIGN_OR_RETURN(config::Node node, config::ParseYaml(yaml, "test.yaml"));
    config::ConnectorBlock block;
    block.type = "redis";
    block.options = std::move(node);
    return registry_.CreateSink(block);
  }

  connectors::JobContext Context(BadRecordHandler* handler) {
    connectors::JobContext context = sluice::testing::MakeTestContext(handler);
    context.job_name = JobName();
    return context;
  }

  std::string Get(const std::string& key) {
    auto reply = client_->Command("GET", key);
    EXPECT_OK(reply.status());
    return reply.ok() && !reply->is_nil() ? reply->text : "(nil)";
  }

  std::map<std::string, std::string> HashOf(const std::string& key) {
    std::map<std::string, std::string> out;
    auto reply = client_->Command("HGETALL", key);
    EXPECT_OK(reply.status());
    if (!reply.ok())
      return out;
    for (size_t i = 0; i + 1 < reply->elements.size(); i += 2)
      out[reply->elements[i].text] = reply->elements[i + 1].text;
    return out;
  }

  int64_t Ttl(const std::string& key) {
    auto reply = client_->Command("TTL", key);
    EXPECT_OK(reply.status());
    return reply.ok() ? reply->integer : -100;
  }

  const std::vector<StreamInfo> streams_{StreamInfo{"users", Users(), std::nullopt}};
  TestServers servers_;
  ConnectorRegistry registry_;
  std::string prefix_;
  std::unique_ptr<RedisClient> client_;
};

TEST_F(RedisSinkTest, WritesStringsFromAColumnWithAFixedTtl) {
  RecordAndFail bad;
  auto context = Context(&bad);
  context.delivery = DeliveryGuarantee::kAtLeastOnce;
  ASSERT_OK_AND_ASSIGN(
      auto sink, MakeSink(fmt::format("key: '{}user:{{id}}'\nvalue_column: payload\n"
                                      "ttl_secs: 300\n",
                                      prefix_)));
  ASSERT_OK(sink->Open(context, streams_));
  ASSERT_OK_AND_ASSIGN(auto writer, sink->CreateWriter(0));
  // Bytes with NUL and a 4-byte UTF-8 character arrive as they are.
  std::string binary = std::string("a\0b", 3) + "\xF0\x9F\x98\x80";
  std::string hex;
  AppendHexBytes(binary, &hex);
  ASSERT_OK(writer->Write(*BatchOf(Users(), {{"1", "x", std::nullopt, hex}})));
  ASSERT_OK(writer->Prepare());
  ASSERT_OK(writer->Commit({}));
  ASSERT_OK(sink->Finish());
  EXPECT_EQ(Get(prefix_ + "user:1"), binary);
  int64_t ttl = Ttl(prefix_ + "user:1");
  EXPECT_GT(ttl, 290);
  EXPECT_LE(ttl, 300);
  // At-least-once stores no progress.
  ASSERT_OK_AND_ASSIGN(auto progress, sink->RecoverProgress(context));
  EXPECT_TRUE(progress.empty());
}

TEST_F(RedisSinkTest, WritesTheRowAsJsonWithTtlFromAColumn) {
  RecordAndSkip bad;
  auto context = Context(&bad);
  ASSERT_OK_AND_ASSIGN(auto sink, MakeSink(fmt::format("key: '{}{{stream}}:{{id}}'\n"
                                                       "ttl_column: ttl\n",
                                                       prefix_)));
  ASSERT_OK(sink->Open(context, streams_));
  ASSERT_OK_AND_ASSIGN(auto writer, sink->CreateWriter(0));
  ASSERT_OK(writer->Write(*BatchOf(Users(), {{"1", "Zoë \"q\"", "120", std::nullopt},
                                              {"2", std::nullopt, std::nullopt, std::nullopt},
                                              {"3", "bad ttl", "-5", std::nullopt}})));
  ASSERT_OK(writer->Prepare());
  ASSERT_OK(writer->Commit({1, {{"users#0", "{\"row\":3}", false}}}));
  nlohmann::json first = nlohmann::json::parse(Get(prefix_ + "users:1"));
  EXPECT_EQ(first["id"], 1);
  EXPECT_EQ(first["name"], "Zoë \"q\"");
  EXPECT_TRUE(first["payload"].is_null());
  EXPECT_GT(Ttl(prefix_ + "users:1"), 100);
  EXPECT_EQ(Ttl(prefix_ + "users:2"), -1);  // NULL TTL: none
  // A TTL that is not a positive number is a bad row, skipped by the policy.
  EXPECT_EQ(Get(prefix_ + "users:3"), "(nil)");
  ASSERT_EQ(bad.records().size(), 1u);
  EXPECT_NE(bad.records()[0].reason.message().find("ttl"), std::string::npos);
  EXPECT_NE(bad.records()[0].location.find("id=3"), std::string::npos)
      << bad.records()[0].location;
}

TEST_F(RedisSinkTest, WritesHashesReplacingEarlierFields) {
  RecordAndFail bad;
  auto context = Context(&bad);
  ASSERT_OK(client_->Command("HSET", prefix_ + "h:7", "stale", "field").status());
  ASSERT_OK(client_->Command("SET", prefix_ + "h:8", "a string before").status());
  ASSERT_OK_AND_ASSIGN(auto sink, MakeSink(fmt::format("key: '{}h:{{id}}'\ndata_type: hash\n"
                                                       "fields: [id, name]\n",
                                                       prefix_)));
  ASSERT_OK(sink->Open(context, streams_));
  ASSERT_OK_AND_ASSIGN(auto writer, sink->CreateWriter(0));
  ASSERT_OK(writer->Write(*BatchOf(Users(), {{"7", "seven", "5", std::nullopt},
                                              {"8", std::nullopt, std::nullopt, std::nullopt}})));
  ASSERT_OK(writer->Prepare());
  ASSERT_OK(writer->Commit({1, {}}));
  EXPECT_EQ(HashOf(prefix_ + "h:7"),
            (std::map<std::string, std::string>{{"id", "7"}, {"name", "seven"}}));
  // NULL fields are absent; the string that held the key before is replaced.
  EXPECT_EQ(HashOf(prefix_ + "h:8"), (std::map<std::string, std::string>{{"id", "8"}}));
}

TEST_F(RedisSinkTest, ANullKeyColumnIsABadRecord) {
  auto schema = std::make_shared<const Schema>(
      std::vector<Field>{{"id", DataType::Int64(), true}, {"name", DataType::String(), true}});
  RecordAndFail bad;
  auto context = Context(&bad);
  ASSERT_OK_AND_ASSIGN(auto sink,
                       MakeSink(fmt::format("key: '{}k:{{id}}'\nvalue_column: name\n", prefix_)));
  ASSERT_OK(sink->Open(context, {StreamInfo{"t", schema, std::nullopt}}));
  ASSERT_OK_AND_ASSIGN(auto writer, sink->CreateWriter(0));
  Status written = writer->Write(*BatchOf(schema, {{std::nullopt, "x"}}));
  EXPECT_EQ(written.code(), StatusCode::kDataError) << written.ToString();
  EXPECT_NE(written.message().find("key column 'id' is NULL"), std::string::npos);
  writer->Abort();
}

TEST_F(RedisSinkTest, OptionsNamingMissingColumnsAreConfigErrors) {
  RecordAndFail bad;
  auto context = Context(&bad);
  ASSERT_OK_AND_ASSIGN(auto sink, MakeSink(fmt::format("key: '{}k:{{nope}}'\n", prefix_)));
  Status opened = sink->Open(context, streams_);
  EXPECT_EQ(opened.code(), StatusCode::kInvalidConfig) << opened.ToString();
  EXPECT_NE(opened.message().find("nope"), std::string::npos);
  // A key without any column writes every row to one key.
  auto constant = MakeSink("key: 'always-the-same'\n");
  EXPECT_EQ(constant.status().code(), StatusCode::kInvalidConfig);
  auto both = MakeSink("key: 'k:{id}'\nttl_secs: 5\nttl_column: ttl\n");
  EXPECT_EQ(both.status().code(), StatusCode::kInvalidConfig);
}

TEST_F(RedisSinkTest, RefusesToWriteToAReplica) {
  RecordAndFail bad;
  auto context = Context(&bad);
  ASSERT_OK_AND_ASSIGN(auto sink, MakeSink(fmt::format("key: '{}k:{{id}}'\n", prefix_),
                                           servers_.redis.replica_port));
  Status opened = sink->Open(context, streams_);
  EXPECT_EQ(opened.code(), StatusCode::kInvalidConfig) << opened.ToString();
  EXPECT_NE(opened.message().find("replica"), std::string::npos);
  EXPECT_EQ(opened.ToString().find(servers_.redis.password), std::string::npos);
}

TEST_F(RedisSinkTest, AWrongPasswordIsPermissionDeniedAndNeverPrinted) {
  RecordAndFail bad;
  auto context = Context(&bad);
  std::string yaml = fmt::format("host: {}\nport: {}\npassword: wrong-secret-42\nkey: 'k:{{id}}'\n",
                                 servers_.redis.host, servers_.redis.port);
  ASSERT_OK_AND_ASSIGN(config::Node node, config::ParseYaml(yaml, "test.yaml"));
  config::ConnectorBlock block;
  block.type = "redis";
  block.options = std::move(node);
  ASSERT_OK_AND_ASSIGN(auto sink, registry_.CreateSink(block));
  Status opened = sink->Open(context, streams_);
  EXPECT_EQ(opened.code(), StatusCode::kPermissionDenied) << opened.ToString();
  EXPECT_EQ(opened.ToString().find("wrong-secret-42"), std::string::npos);
}

TEST_F(RedisSinkTest, ExactlyOnceShowsNothingBeforeCommitAndStoresProgressWithTheRows) {
  RecordAndFail bad;
  auto context = Context(&bad);
  context.run_epoch = 3;
  ASSERT_OK_AND_ASSIGN(auto sink,
                       MakeSink(fmt::format("key: '{}u:{{id}}'\nvalue_column: name\n"
                                            "pipeline_commands: 100\n",
                                            prefix_)));
  ASSERT_OK(sink->Claim(context));
  ASSERT_OK(sink->Open(context, streams_));
  ASSERT_OK_AND_ASSIGN(auto writer, sink->CreateWriter(0));
  std::vector<Row> rows = UserRows(1, 4999);  // multiples of 5 have a NULL name: skipped
  for (Row& row : rows) {
    if (!row[1])
      row[1] = "named";
  }
  ASSERT_OK(writer->Write(*BatchOf(Users(), rows)));
  ASSERT_OK(writer->Prepare());
  EXPECT_EQ(Get(prefix_ + "u:1"), "(nil)");  // queued in MULTI, not applied
  ASSERT_OK(writer->Commit({7, {{"users#0", "{\"row\":4999}", false}}}));
  EXPECT_EQ(Get(prefix_ + "u:1"), "n1");
  EXPECT_EQ(Get(prefix_ + "u:4999"), "n4999");
  ASSERT_OK_AND_ASSIGN(auto progress, sink->RecoverProgress(context));
  ASSERT_EQ(progress.size(), 1u);
  EXPECT_EQ(progress[0], (SplitProgress{"users#0", "{\"row\":4999}", false}));

  // Rows written after the last commit and aborted leave nothing.
  ASSERT_OK(writer->Write(*BatchOf(Users(), {{"9999", "late", std::nullopt, std::nullopt}})));
  writer->Abort();
  EXPECT_EQ(Get(prefix_ + "u:9999"), "(nil)");
}

TEST_F(RedisSinkTest, RecoveredProgressMergesSlotsAndRuns) {
  RecordAndFail bad;
  auto context = Context(&bad);
  context.run_epoch = 1;
  std::string options = fmt::format("key: '{}u:{{id}}'\nvalue_column: name\n", prefix_);
  {
    ASSERT_OK_AND_ASSIGN(auto sink, MakeSink(options));
    ASSERT_OK(sink->Claim(context));
    ASSERT_OK(sink->Open(context, streams_));
    ASSERT_OK_AND_ASSIGN(auto slot0, sink->CreateWriter(0));
    ASSERT_OK_AND_ASSIGN(auto slot1, sink->CreateWriter(1));
    ASSERT_OK(slot0->Commit({1, {{"a", "a1", false}, {"b", "b1", false}}}));
    ASSERT_OK(slot1->Commit({1, {{"c", "c1", false}}}));
    ASSERT_OK(slot0->Commit({2, {{"a", "a2", true}}}));  // keeps b from checkpoint 1
  }
  // A second run: split b moved to slot 1, which commits it at a lower checkpoint number but a
  // later generation.
  context.run_epoch = 2;
  ASSERT_OK_AND_ASSIGN(auto sink, MakeSink(options));
  ASSERT_OK(sink->Claim(context));
  ASSERT_OK(sink->Open(context, streams_));
  ASSERT_OK_AND_ASSIGN(auto slot1, sink->CreateWriter(1));
  ASSERT_OK(slot1->Commit({1, {{"b", "b2", false}}}));
  ASSERT_OK_AND_ASSIGN(auto progress, sink->RecoverProgress(context));
  EXPECT_EQ(progress, (std::vector<SplitProgress>{
                          {"a", "a2", true}, {"b", "b2", false}, {"c", "c1", false}}));

  ASSERT_OK(sink->ForgetProgress(context));
  ASSERT_OK_AND_ASSIGN(progress, sink->RecoverProgress(context));
  EXPECT_TRUE(progress.empty());
}

TEST_F(RedisSinkTest, ARunTakenOverCannotCommit) {
  RecordAndFail bad;
  auto old_context = Context(&bad);
  old_context.run_epoch = 5;
  std::string options = fmt::format("key: '{}u:{{id}}'\nvalue_column: name\n", prefix_);
  ASSERT_OK_AND_ASSIGN(auto old_sink, MakeSink(options));
  ASSERT_OK(old_sink->Claim(old_context));
  ASSERT_OK(old_sink->Open(old_context, streams_));
  ASSERT_OK_AND_ASSIGN(auto old_writer, old_sink->CreateWriter(0));
  ASSERT_OK(old_writer->Write(*BatchOf(Users(), {{"1", "old", std::nullopt, std::nullopt}})));

  auto new_context = Context(&bad);
  new_context.run_epoch = 6;
  ASSERT_OK_AND_ASSIGN(auto new_sink, MakeSink(options));
  ASSERT_OK(new_sink->Claim(new_context));

  // The old run's open transaction watched the run key: its EXEC applies nothing.
  Status committed = old_writer->Commit({1, {{"users#0", "x", false}}});
  EXPECT_EQ(committed.code(), StatusCode::kConflict) << committed.ToString();
  EXPECT_EQ(Get(prefix_ + "u:1"), "(nil)");
  // Its next transaction is refused before it starts.
  Status written =
      old_writer->Write(*BatchOf(Users(), {{"2", "old", std::nullopt, std::nullopt}}));
  EXPECT_EQ(written.code(), StatusCode::kConflict) << written.ToString();
  // And an older run cannot claim again.
  Status claimed = old_sink->Claim(old_context);
  EXPECT_EQ(claimed.code(), StatusCode::kConflict) << claimed.ToString();
}

}  // namespace
}  // namespace sluice::connectors::redis
