// The redis sink in the conformance suite (src/testing/conformance): rows as JSON strings and as
// hashes on the test servers' primary, each case under a key prefix of its own, read back through
// the source's `columns` mode (read_back).
#include <fmt/core.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "connectors/redis/redis_client.h"
#include "testing/conformance/conformance.h"
#include "testing/test_servers.h"

namespace sluice::connectors {
void RegisterRedisConnector(ConnectorRegistry& registry);
}  // namespace sluice::connectors

namespace sluice::connectors::redis {
namespace {

using sluice::testing::TestServers;
using sluice::testing::conformance::ConformanceName;
using sluice::testing::conformance::ConformanceStore;
using sluice::testing::conformance::SinkConformanceTest;
using sluice::testing::conformance::SinkUnderTest;
using sluice::testing::conformance::WriteMode;

class RedisStore final : public ConformanceStore {
 public:
  RedisStore(TestServers servers, std::string data_type, int db)
      : servers_(std::move(servers)), data_type_(std::move(data_type)), db_(db) {
    static std::atomic<int> next_store{0};
    prefix_ = fmt::format("conformance:{}:{}:{}", getpid(), data_type_, next_store++);
  }

  ~RedisStore() override {
    // Only the process that took the database gives it back (crash-loop children are forks).
    if (getpid() == owner_)
      (void)ReleaseDatabase(servers_, db_);
  }

  // Each case runs in a database of its own, held with a lock key while it runs: the sink's run
  // and progress keys are named after the job, which cases that CTest runs at once (the string
  // and hash variants) share, and a database is emptied before a case uses it.
  static Result<int> TakeDatabase(const TestServers& servers) {
    // Databases 0, 3 and 5 belong to the other redis tests.
    static constexpr int kDatabases[] = {1, 2, 4, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};
    SLUICE_ASSIGN_OR_RETURN(std::unique_ptr<RedisClient> client, Connect(servers));
    for (int attempt = 0; attempt < 600; ++attempt) {
      for (int db : kDatabases) {
        // Expires on its own should a test process die holding it.
        SLUICE_ASSIGN_OR_RETURN(RedisReply taken,
                                client->Command("SET", LockKey(db), std::to_string(getpid()),
                                                "NX", "EX", "900"));
        if (taken.type == RedisReply::Type::kNil)
          continue;
        SLUICE_RETURN_IF_ERROR(client->Command("SELECT", std::to_string(db)).status());
        SLUICE_RETURN_IF_ERROR(client->Command("FLUSHDB").status());
        return db;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));  // all taken: wait for one
    }
    return Unavailable("no free redis database for a conformance case");
  }

  static Status ReleaseDatabase(const TestServers& servers, int db) {
    SLUICE_ASSIGN_OR_RETURN(std::unique_ptr<RedisClient> client, Connect(servers));
    return client->Command("DEL", LockKey(db)).status();
  }

  std::string SinkBlock(const std::string& target, WriteMode) override {
    return fmt::format(
        "{{type: redis, host: {}, port: {}, password: \"{}\", db: {}, key: \"{}:{}:{{id}}\", "
        "data_type: {}, pipeline_commands: 50}}",
        servers_.redis.host, servers_.redis.port, servers_.redis.password, db_, prefix_, target,
        data_type_);
  }

 private:
  static std::string LockKey(int db) { return fmt::format("conformance:database:{}", db); }
  static Result<std::unique_ptr<RedisClient>> Connect(const TestServers& servers) {
    RedisConnectOptions options;
    options.host = servers.redis.host;
    options.port = servers.redis.port;
    options.password = Secret(servers.redis.password);
    return RedisClient::Connect(options);
  }

  TestServers servers_;
  std::string data_type_;
  int db_;
  pid_t owner_ = getpid();
  std::string prefix_;
};

SinkUnderTest RedisSink(const std::string& data_type) {
  SinkUnderTest sink;
  sink.name = "redis_" + data_type;
  sink.register_connectors = [](ConnectorRegistry& registry) {
    RegisterRedisConnector(registry);
  };
  sink.open_store = [data_type]() -> Result<std::unique_ptr<ConformanceStore>> {
    SLUICE_ASSIGN_OR_RETURN(TestServers servers, TestServers::FromEnvironment());
    SLUICE_ASSIGN_OR_RETURN(int db, RedisStore::TakeDatabase(servers));
    return std::unique_ptr<ConformanceStore>(
        std::make_unique<RedisStore>(servers, data_type, db));
  };
  sink.exactly_once = true;
  // Keys are written by id: a fresh run writes the same keys again, never a row twice.
  sink.refuses_fresh_append = false;
  sink.visible_at_commit = true;
  sink.crash_points = {"redis.commit.after_rows=crash@2",
                       "redis.commit.before_fence_check=crash@3"};
  return sink;
}

INSTANTIATE_TEST_SUITE_P(Redis, SinkConformanceTest,
                         ::testing::Values(RedisSink("string"), RedisSink("hash")),
                         ConformanceName());

}  // namespace
}  // namespace sluice::connectors::redis
