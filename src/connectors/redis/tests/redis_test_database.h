// Test-only: a Redis database held by one test process while it runs, emptied first. CTest runs
// test cases as processes side by side, and the cases' keys (the sink's run and progress keys,
// named after the job; a source test's whole keyspace) must not meet. A lock key in database 0
// holds it; it expires on its own should the process die.
#pragma once

#include <fmt/core.h>
#include <unistd.h>

#include <chrono>
#include <memory>
#include <string>
#include <thread>

#include "connectors/redis/redis_client.h"
#include "testing/test_servers.h"

namespace sluice::connectors::redis::testing {

class HeldDatabase {
 public:
  /// Takes a free database (0 and 3 belong to the tests that name theirs) and empties it.
  static Result<std::unique_ptr<HeldDatabase>> Take(const sluice::testing::TestServers& servers) {
    static constexpr int kDatabases[] = {1, 2, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};
    SLUICE_ASSIGN_OR_RETURN(std::unique_ptr<RedisClient> client, Connect(servers));
    for (int attempt = 0; attempt < 600; ++attempt) {
      for (int db : kDatabases) {
        SLUICE_ASSIGN_OR_RETURN(RedisReply taken,
                                client->Command("SET", LockKey(db), std::to_string(getpid()),
                                                "NX", "EX", "900"));
        if (taken.is_nil())
          continue;
        SLUICE_RETURN_IF_ERROR(client->Command("SELECT", std::to_string(db)).status());
        SLUICE_RETURN_IF_ERROR(client->Command("FLUSHDB").status());
        return std::unique_ptr<HeldDatabase>(new HeldDatabase(servers, db));
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));  // all taken: wait
    }
    return Unavailable("no free redis database for a test");
  }

  /// Gives the database back; only the process that took it does (crash-loop children are
  /// forks of it).
  ~HeldDatabase() {
    if (getpid() != owner_)
      return;
    Result<std::unique_ptr<RedisClient>> client = Connect(servers_);
    if (client.ok())
      (void)(*client)->Command("DEL", LockKey(db_));
  }

  int db() const { return db_; }

  /// A client of the test servers' Redis at `port` (the primary or the replica), in `db`.
  static Result<std::unique_ptr<RedisClient>> ConnectTo(
      const sluice::testing::TestServers& servers, int port, int db) {
    RedisConnectOptions options;
    options.host = servers.redis.host;
    options.port = port;
    options.password = Secret(servers.redis.password);
    options.db = db;
    return RedisClient::Connect(options);
  }

 private:
  HeldDatabase(sluice::testing::TestServers servers, int db)
      : servers_(std::move(servers)), db_(db), owner_(getpid()) {}

  static std::string LockKey(int db) { return fmt::format("tests:database:{}", db); }
  static Result<std::unique_ptr<RedisClient>> Connect(
      const sluice::testing::TestServers& servers) {
    return ConnectTo(servers, servers.redis.port, 0);
  }

  sluice::testing::TestServers servers_;
  int db_;
  pid_t owner_;
};

}  // namespace sluice::connectors::redis::testing
