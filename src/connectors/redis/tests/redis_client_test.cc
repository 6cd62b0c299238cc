// RedisClient against the real primary and replica of scripts/test-servers.sh: logins, the error
// mapping, binary-safe values and pipelines.
#include "connectors/redis/redis_client.h"

#include <gtest/gtest.h>

#include <string>

#include "testing/gtest_util.h"
#include "testing/test_servers.h"

namespace sluice::connectors::redis {
namespace {

using sluice::testing::TestServers;

class RedisClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto servers = TestServers::FromEnvironment();
    ASSERT_OK(servers.status());
    servers_ = *servers;
    ASSERT_NE(servers_.redis.port, 0) << "the env file has no Redis";
  }

  RedisConnectOptions Primary() const {
    RedisConnectOptions options;
    options.host = servers_.redis.host;
    options.port = servers_.redis.port;
    options.password = Secret(servers_.redis.password);
    return options;
  }

  // A key no other test (or run) uses.
  std::string Key(const std::string& name) const {
    const auto* test = ::testing::UnitTest::GetInstance()->current_test_info();
    return "client_test:" + std::string(test->name()) + ":" + name;
  }

  TestServers servers_;
};

TEST_F(RedisClientTest, SetsAndGetsAValue) {
  ASSERT_OK_AND_ASSIGN(auto client, RedisClient::Connect(Primary()));
  ASSERT_OK(client->Command("SET", Key("a"), "1").status());
  ASSERT_OK_AND_ASSIGN(RedisReply reply, client->Command("GET", Key("a")));
  EXPECT_EQ(reply.type, RedisReply::Type::kString);
  EXPECT_EQ(reply.text, "1");
  ASSERT_OK_AND_ASSIGN(RedisReply missing, client->Command("GET", Key("missing")));
  EXPECT_TRUE(missing.is_nil());
  ASSERT_OK_AND_ASSIGN(std::string role, client->Role());
  EXPECT_EQ(role, "master");
  EXPECT_OK(client->CheckWritable());
}

TEST_F(RedisClientTest, WrongPasswordIsPermissionDeniedWithoutThePassword) {
  RedisConnectOptions options = Primary();
  options.password = Secret("not-the-password-xyzzy");
  auto client = RedisClient::Connect(options);
  ASSERT_FALSE(client.ok());
  EXPECT_EQ(client.status().code(), StatusCode::kPermissionDenied) << client.status().ToString();
  EXPECT_NE(client.status().message().find("check the password"), std::string::npos);
  EXPECT_EQ(client.status().ToString().find("xyzzy"), std::string::npos);
  EXPECT_EQ(client.status().ToString().find(servers_.redis.password), std::string::npos);
}

TEST_F(RedisClientTest, NoPasswordIsPermissionDenied) {
  RedisConnectOptions options = Primary();
  options.password = Secret();
  ASSERT_OK_AND_ASSIGN(auto client, RedisClient::Connect(options));  // AUTH comes later
  auto reply = client->Command("GET", Key("a"));
  ASSERT_FALSE(reply.ok());
  EXPECT_EQ(reply.status().code(), StatusCode::kPermissionDenied) << reply.status().ToString();
  EXPECT_EQ(client->last_error_kind(), RedisErrorKind::kAuth);
}

TEST_F(RedisClientTest, UnreachablePortIsUnavailableNamingTheAddress) {
  RedisConnectOptions options = Primary();
  options.port = 1;  // nothing listens on port 1
  options.connect_timeout = std::chrono::milliseconds(2000);
  auto client = RedisClient::Connect(options);
  ASSERT_FALSE(client.ok());
  EXPECT_EQ(client.status().code(), StatusCode::kUnavailable) << client.status().ToString();
  EXPECT_NE(client.status().message().find("127.0.0.1:1"), std::string::npos)
      << client.status().ToString();
}

TEST_F(RedisClientTest, WritingToTheReplicaIsInvalidConfig) {
  RedisConnectOptions options = Primary();
  options.port = servers_.redis.replica_port;
  ASSERT_OK_AND_ASSIGN(auto client, RedisClient::Connect(options));
  Status writable = client->CheckWritable();
  EXPECT_EQ(writable.code(), StatusCode::kInvalidConfig) << writable.ToString();
  EXPECT_NE(writable.message().find("replica"), std::string::npos);
  auto set = client->Command("SET", Key("a"), "1");
  ASSERT_FALSE(set.ok());
  EXPECT_EQ(set.status().code(), StatusCode::kInvalidConfig) << set.status().ToString();
  EXPECT_EQ(client->last_error_kind(), RedisErrorKind::kReadOnly);
}

TEST_F(RedisClientTest, WrongTypeIsDataError) {
  ASSERT_OK_AND_ASSIGN(auto client, RedisClient::Connect(Primary()));
  ASSERT_OK(client->Command("DEL", Key("h")).status());
  ASSERT_OK(client->Command("HSET", Key("h"), "f", "v").status());
  auto get = client->Command("GET", Key("h"));
  ASSERT_FALSE(get.ok());
  EXPECT_EQ(get.status().code(), StatusCode::kDataError) << get.status().ToString();
  // An unknown command is another error reply: IoError with Redis's message.
  auto unknown = client->Command("NOSUCHCOMMAND");
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.status().code(), StatusCode::kIoError);
  EXPECT_NE(unknown.status().message().find("unknown command"), std::string::npos);
}

TEST(RedisErrorMappingTest, ClusterRedirectionsHaveTheirOwnKind) {
  EXPECT_EQ(ClassifyRedisError(0, "MOVED 3999 127.0.0.1:6381"), RedisErrorKind::kMoved);
  EXPECT_EQ(ClassifyRedisError(0, "ASK 3999 127.0.0.1:6381"), RedisErrorKind::kAsk);
  EXPECT_EQ(RedisStatus("h:1", "GET", 0, "MOVED 3999 127.0.0.1:6381").code(),
            StatusCode::kUnsupported);
  EXPECT_EQ(ClassifyRedisError(0, "WRONGPASS invalid username-password pair"),
            RedisErrorKind::kAuth);
  EXPECT_EQ(ClassifyRedisError(0, "ERR something"), RedisErrorKind::kOther);
}

TEST_F(RedisClientTest, ValuesAreBinarySafe) {
  ASSERT_OK_AND_ASSIGN(auto client, RedisClient::Connect(Primary()));
  std::string key = Key(std::string("nul\0key", 7));
  std::string value = std::string("a\0b\r\n\xff", 6) + "\xF0\x9F\x98\x80 emoji \xF0\x9F\x8C\x8D";
  ASSERT_OK(client->Command("SET", key, value).status());
  ASSERT_OK_AND_ASSIGN(RedisReply reply, client->Command("GET", key));
  EXPECT_EQ(reply.text, value);
  EXPECT_EQ(reply.text.size(), value.size());
  ASSERT_OK_AND_ASSIGN(RedisReply length, client->Command("STRLEN", key));
  EXPECT_EQ(length.integer, static_cast<int64_t>(value.size()));
}

TEST_F(RedisClientTest, PipelinesTenThousandCommands) {
  ASSERT_OK_AND_ASSIGN(auto client, RedisClient::Connect(Primary()));
  constexpr int kCommands = 10000;
  std::vector<std::vector<std::string>> commands;
  for (int i = 0; i < kCommands; ++i)
    commands.push_back({"SET", Key(std::to_string(i)), "value-" + std::to_string(i)});
  ASSERT_OK_AND_ASSIGN(auto replies, client->Pipeline(commands));
  ASSERT_EQ(replies.size(), static_cast<size_t>(kCommands));
  for (const RedisReply& reply : replies)
    ASSERT_EQ(reply.text, "OK");
  // Read back with Append/ReadReply.
  for (int i = 0; i < kCommands; ++i) {
    std::string key = Key(std::to_string(i));
    ASSERT_OK(client->Append({"GET", key}));
  }
  for (int i = 0; i < kCommands; ++i) {
    ASSERT_OK_AND_ASSIGN(RedisReply reply, client->ReadReply());
    ASSERT_EQ(reply.text, "value-" + std::to_string(i));
  }
}

TEST_F(RedisClientTest, APipelineWithAFailingCommandStaysInStep) {
  ASSERT_OK_AND_ASSIGN(auto client, RedisClient::Connect(Primary()));
  ASSERT_OK(client->Command("DEL", Key("h")).status());
  ASSERT_OK(client->Command("HSET", Key("h"), "f", "v").status());
  auto replies = client->Pipeline({{"SET", Key("s"), "1"}, {"GET", Key("h")}, {"GET", Key("s")}});
  ASSERT_FALSE(replies.ok());
  EXPECT_EQ(replies.status().code(), StatusCode::kDataError);
  // The connection is still in step: the next command gets its own reply.
  ASSERT_OK_AND_ASSIGN(RedisReply reply, client->Command("GET", Key("s")));
  EXPECT_EQ(reply.text, "1");
}

TEST_F(RedisClientTest, ATallyCountsAnExecsRepliesAndKeepsTheFirstError) {
  ASSERT_OK_AND_ASSIGN(auto client, RedisClient::Connect(Primary()));
  ASSERT_OK(client->Command("DEL", Key("h")).status());
  ASSERT_OK(client->Command("HSET", Key("h"), "f", "v").status());
  ASSERT_OK(client->Command("MULTI").status());
  constexpr int kQueued = 5000;
  for (int i = 0; i < kQueued; ++i)
    ASSERT_OK(client->Command("SET", Key(std::to_string(i)), "v").status());
  // Fails when EXEC runs it (WRONGTYPE), after which the others still apply.
  ASSERT_OK(client->Command("INCR", Key("h")).status());
  ASSERT_OK(client->Command("INCR", Key("n")).status());
  ASSERT_OK_AND_ASSIGN(RedisReplyTally tally, client->CommandTally({"EXEC"}));
  EXPECT_EQ(tally.type, RedisReply::Type::kArray);
  EXPECT_EQ(tally.elements, static_cast<size_t>(kQueued + 2));
  EXPECT_NE(tally.first_error.find("WRONGTYPE"), std::string::npos) << tally.first_error;
  // The connection stays in step, with replies built again.
  ASSERT_OK_AND_ASSIGN(RedisReply reply, client->Command("GET", Key("n")));
  EXPECT_EQ(reply.text, "1");
  // A nil (a WATCHed key changed) and a top-level error.
  ASSERT_OK(client->Command("WATCH", Key("n")).status());
  ASSERT_OK_AND_ASSIGN(auto other, RedisClient::Connect(Primary()));
  ASSERT_OK(other->Command("INCR", Key("n")).status());
  ASSERT_OK(client->Command("MULTI").status());
  ASSERT_OK(client->Command("INCR", Key("n")).status());
  ASSERT_OK_AND_ASSIGN(RedisReplyTally nil, client->CommandTally({"EXEC"}));
  EXPECT_TRUE(nil.is_nil());
  auto error = client->CommandTally({"EXEC"});  // without MULTI
  ASSERT_FALSE(error.ok());
  EXPECT_NE(error.status().message().find("EXEC without MULTI"), std::string::npos)
      << error.status().message();
  ASSERT_OK_AND_ASSIGN(RedisReplyTally ok, client->CommandTally({"SET", Key("n"), "5"}));
  EXPECT_EQ(ok.type, RedisReply::Type::kStatus);
}

TEST_F(RedisClientTest, SelectsTheDatabase) {
  RedisConnectOptions options = Primary();
  options.db = 3;
  ASSERT_OK_AND_ASSIGN(auto in_three, RedisClient::Connect(options));
  ASSERT_OK(in_three->Command("SET", Key("db"), "three").status());
  ASSERT_OK_AND_ASSIGN(auto in_zero, RedisClient::Connect(Primary()));
  ASSERT_OK_AND_ASSIGN(RedisReply reply, in_zero->Command("GET", Key("db")));
  EXPECT_TRUE(reply.is_nil());
  ASSERT_OK_AND_ASSIGN(reply, in_three->Command("GET", Key("db")));
  EXPECT_EQ(reply.text, "three");
}

}  // namespace
}  // namespace sluice::connectors::redis
