// The redis connector in the conformance suite (src/testing/conformance). The sink: rows as JSON
// strings and as hashes on the test servers' primary, each case under a key prefix of its own,
// read back through the source's `columns` mode (read_back). The snapshot source: rows seeded as
// hashes on the primary, read from the replica in `columns` mode.
#include <fmt/core.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "connectors/redis/redis_client.h"
#include "connectors/redis/redis_options.h"
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
using sluice::testing::conformance::SourceConformanceTest;
using sluice::testing::conformance::SourceUnderTest;
using sluice::testing::Row;
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

  // One hash per row, its non-NULL columns as fields (as the sink writes data_type: hash), then
  // a wait until the replica the source reads has them.
  Result<std::string> SeedSource(const std::string& target, const std::vector<Row>& rows) override {
    return Seed(target, rows, -1);
  }
  // The bad record: a hash whose id is no number, after the row with `bad_after_id`.
  Result<std::string> SeedSourceWithBadRecord(const std::string& target,
                                              const std::vector<Row>& rows,
                                              int64_t bad_after_id) override {
    return Seed(target, rows, bad_after_id);
  }

 private:
  Result<std::string> Seed(const std::string& target, const std::vector<Row>& rows,
                           int64_t bad_after_id) {
    SLUICE_ASSIGN_OR_RETURN(auto primary,
                            testing::HeldDatabase::ConnectTo(servers_, servers_.redis.port, db_));
    static const char* kColumns[] = {"id", "name", "amount"};
    std::vector<std::vector<std::string>> commands;
    for (const Row& row : rows) {
      std::vector<std::string> command = {"HSET", fmt::format("{}:{}:{}", prefix_, target, *row[0])};
      for (size_t i = 0; i < row.size() && i < 3; ++i) {
        if (row[i].has_value()) {
          command.push_back(kColumns[i]);
          command.push_back(*row[i]);
        }
      }
      commands.push_back(std::move(command));
      if (*row[0] == std::to_string(bad_after_id)) {
        commands.push_back({"HSET", fmt::format("{}:{}:bad", prefix_, target), "id",
                            "not-a-number", "name", "bad"});
      }
    }
    if (!commands.empty())
      SLUICE_RETURN_IF_ERROR(primary->Pipeline(commands).status());
    SLUICE_ASSIGN_OR_RETURN(RedisReply waited, primary->Command("WAIT", "1", "10000"));
    if (waited.integer != 1)
      return Unavailable("the replica did not acknowledge the seeded keys");
    return fmt::format(
        "{{type: redis, host: {}, port: {}, password: \"{}\", db: {}, keys: \"{}:{}:*\", "
        "stream: orders, scan_count: 7, columns: {{id: int64, name: string, amount: string}}}}",
        servers_.redis.host, servers_.redis.replica_port, servers_.redis.password, db_,
        GlobEscape(prefix_), target);
  }

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

SourceUnderTest RedisSnapshotSource() {
  SourceUnderTest source;
  source.name = "redis_snapshot";
  source.register_connectors = [](ConnectorRegistry& registry) {
    RegisterRedisConnector(registry);
  };
  source.open_store = []() -> Result<std::unique_ptr<ConformanceStore>> {
    SLUICE_ASSIGN_OR_RETURN(TestServers servers, TestServers::FromEnvironment());
    SLUICE_ASSIGN_OR_RETURN(std::unique_ptr<testing::HeldDatabase> database,
                            testing::HeldDatabase::Take(servers));
    return std::unique_ptr<ConformanceStore>(
        std::make_unique<RedisStore>(servers, "source", std::move(database)));
  };
  source.bounded = true;
  return source;
}

INSTANTIATE_TEST_SUITE_P(Redis, SourceConformanceTest, ::testing::Values(RedisSnapshotSource()),
                         ConformanceName());

INSTANTIATE_TEST_SUITE_P(Redis, SinkConformanceTest,
                         ::testing::Values(RedisSink("string"), RedisSink("hash")),
                         ConformanceName());

}  // namespace
}  // namespace sluice::connectors::redis
