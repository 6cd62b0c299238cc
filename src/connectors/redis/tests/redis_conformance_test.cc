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
#include "connectors/redis/tests/redis_test_database.h"
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
  // Each case keys its rows under a prefix of its own, in a database of its own (the sink's run
  // and progress keys are named after the job, which the string and hash variants share).
  RedisStore(TestServers servers, std::string data_type,
             std::unique_ptr<testing::HeldDatabase> database)
      : servers_(std::move(servers)),
        data_type_(std::move(data_type)),
        database_(std::move(database)),
        db_(database_->db()) {
    static std::atomic<int> next_store{0};
    prefix_ = fmt::format("conformance:{}:{}:{}", getpid(), data_type_, next_store++);
  }

  std::string SinkBlock(const std::string& target, WriteMode) override {
    return fmt::format(
        "{{type: redis, host: {}, port: {}, password: \"{}\", db: {}, key: \"{}:{}:{{id}}\", "
        "data_type: {}, pipeline_commands: 50}}",
        servers_.redis.host, servers_.redis.port, servers_.redis.password, db_, prefix_, target,
        data_type_);
  }

 private:
  TestServers servers_;
  std::string data_type_;
  std::unique_ptr<testing::HeldDatabase> database_;
  int db_;
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
    SLUICE_ASSIGN_OR_RETURN(std::unique_ptr<testing::HeldDatabase> database,
                            testing::HeldDatabase::Take(servers));
    return std::unique_ptr<ConformanceStore>(
        std::make_unique<RedisStore>(servers, data_type, std::move(database)));
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
