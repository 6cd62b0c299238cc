// The one SQLSTATE -> Status mapping against the real server: what the runtime retries
// (transient: Unavailable, Aborted) and what it does not. Codes are raised for real where a test
// can provoke them (a terminated session, a dead socket, a lock timeout, a serialization failure,
// a deadlock) and through RAISE ... USING ERRCODE for the rest.
#include "connectors/postgres/postgres_client.h"

#include <fmt/core.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "connectors/postgres/tests/postgres_test_util.h"
#include "testing/gtest_util.h"

namespace sluice::connectors::postgres {
namespace {

using testing::Servers;
using testing::TestDatabase;

ConnectionOptions Options(const TestDatabase& db) {
  ConnectionOptions options;
  const auto& pg = Servers().postgres;
  options.host = pg.host;
  options.port = pg.port;
  options.user = pg.user;
  options.password = Secret(pg.password);
  options.database = db.name();
  return options;
}

std::unique_ptr<PgConnection> Connect(const TestDatabase& db) {
  Result<std::unique_ptr<PgConnection>> conn = PgConnection::Connect(Options(db));
  EXPECT_TRUE(conn.ok()) << conn.status().ToString();
  return conn.ok() ? std::move(*conn) : nullptr;
}

TEST(PostgresClientTest, SqlStatesMapToRetryableOrPermanentCodes) {
  TestDatabase db("client_states");
  std::unique_ptr<PgConnection> conn = Connect(db);
  ASSERT_TRUE(conn);
  const std::vector<std::pair<std::string, StatusCode>> cases = {
      {"57P01", StatusCode::kUnavailable},       // admin shutdown (pg_terminate_backend)
      {"57P02", StatusCode::kUnavailable},       // crash shutdown
      {"57P03", StatusCode::kUnavailable},       // cannot connect now (starting up)
      {"08006", StatusCode::kUnavailable},       // connection failure
      {"08000", StatusCode::kUnavailable},       // connection exception
      {"53300", StatusCode::kUnavailable},       // too many connections
      {"40001", StatusCode::kAborted},           // serialization failure
      {"40P01", StatusCode::kAborted},           // deadlock detected
      {"55P03", StatusCode::kAborted},           // lock not available
      {"28P01", StatusCode::kPermissionDenied},  // invalid password
      {"42501", StatusCode::kPermissionDenied},  // insufficient privilege
      {"42P01", StatusCode::kNotFound},          // undefined table
      {"3D000", StatusCode::kNotFound},          // invalid catalog name (database)
      {"22003", StatusCode::kDataError},         // numeric value out of range
      {"22P02", StatusCode::kDataError},         // invalid text representation
      {"23505", StatusCode::kDataError},         // unique violation
      {"57014", StatusCode::kCancelled},         // query cancelled
      {"42601", StatusCode::kInvalidConfig},     // syntax error (a bad `where`)
      {"XX000", StatusCode::kInternal},          // internal error
  };
  for (const auto& [state, code] : cases) {
    SCOPED_TRACE(state);
    Status status = conn->Execute(
        fmt::format("DO $$ BEGIN RAISE EXCEPTION 'raised %', '{0}' USING ERRCODE = '{0}'; END $$",
                    state),
        "raising");
    EXPECT_EQ(status.code(), code) << status.ToString();
    EXPECT_EQ(status.IsTransient(),
              code == StatusCode::kUnavailable || code == StatusCode::kAborted);
    EXPECT_THAT(status.message(), ::testing::StartsWith(fmt::format(
                                      "postgres {}:{}: raising: ", Servers().postgres.host,
                                      Servers().postgres.port)));
    EXPECT_THAT(status.message(), ::testing::HasSubstr("raised " + state));
    EXPECT_THAT(status.message(),
                ::testing::Not(::testing::HasSubstr(Servers().postgres.password)));
  }
}

TEST(PostgresClientTest, TerminatedSessionAndDeadSocketAreUnavailable) {
  TestDatabase db("client_terminate");
  std::unique_ptr<PgConnection> conn = Connect(db);
  ASSERT_TRUE(conn);
  ASSERT_OK(conn->Execute("BEGIN", ""));
  ASSERT_OK(conn->Execute("CREATE TABLE t (id int)", ""));
  db.Exec(
      "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = "
      "current_database() AND application_name = 'sluice'");
  // The first statement meets the server's FATAL 57P01 (or the closed socket)...
  Status first = conn->Execute("INSERT INTO t VALUES (1)", "inserting");
  EXPECT_EQ(first.code(), StatusCode::kUnavailable) << first.ToString();
  // ... the next one a connection libpq knows to be gone.
  Status second = conn->Commit("committing");
  EXPECT_EQ(second.code(), StatusCode::kUnavailable) << second.ToString();
  EXPECT_TRUE(conn->Broken());
}

TEST(PostgresClientTest, CommitOfAFailedTransactionIsNotASuccess) {
  TestDatabase db("client_commit");
  std::unique_ptr<PgConnection> conn = Connect(db);
  ASSERT_TRUE(conn);
  ASSERT_OK(conn->Execute("CREATE TABLE t (id int PRIMARY KEY)", ""));
  ASSERT_OK(conn->Execute("BEGIN", ""));
  ASSERT_OK(conn->Execute("INSERT INTO t VALUES (1)", ""));
  EXPECT_FALSE(conn->Execute("INSERT INTO t VALUES (1)", "").ok());
  // The server answers COMMIT with ROLLBACK: nothing became durable.
  Status status = conn->Commit("committing");
  EXPECT_EQ(status.code(), StatusCode::kAborted) << status.ToString();
  EXPECT_EQ(db.Exec("SELECT count(*) FROM t"), "0\n");
}

TEST(PostgresClientTest, LockTimeoutSerializationFailureAndDeadlockAreRetried) {
  TestDatabase db("client_conflicts");
  std::unique_ptr<PgConnection> a = Connect(db);
  std::unique_ptr<PgConnection> b = Connect(db);
  ASSERT_TRUE(a && b);
  ASSERT_OK(
      a->Execute("CREATE TABLE t (id int PRIMARY KEY, v int);"
                 "INSERT INTO t VALUES (1, 0), (2, 0)",
                 ""));
  // 55P03: a lock wait beyond lock_timeout.
  ASSERT_OK(a->Execute("BEGIN; LOCK TABLE t", ""));
  ASSERT_OK(b->Execute("SET lock_timeout = '50ms'", ""));
  Status locked = b->Execute("SELECT * FROM t", "reading");
  EXPECT_EQ(locked.code(), StatusCode::kAborted) << locked.ToString();
  ASSERT_OK(a->Execute("ROLLBACK", ""));
  ASSERT_OK(b->Execute("RESET lock_timeout", ""));

  // 40001: a repeatable-read transaction updating a row changed since its snapshot.
  ASSERT_OK(a->Execute("BEGIN ISOLATION LEVEL REPEATABLE READ; SELECT * FROM t", ""));
  ASSERT_OK(b->Execute("UPDATE t SET v = 1 WHERE id = 1", ""));
  Status serialization = a->Execute("UPDATE t SET v = 2 WHERE id = 1", "updating");
  EXPECT_EQ(serialization.code(), StatusCode::kAborted) << serialization.ToString();
  ASSERT_OK(a->Execute("ROLLBACK", ""));

  // 40P01: two transactions waiting for each other's row.
  ASSERT_OK(a->Execute("SET deadlock_timeout = '50ms'", ""));
  ASSERT_OK(b->Execute("SET deadlock_timeout = '50ms'", ""));
  ASSERT_OK(a->Execute("BEGIN; UPDATE t SET v = 3 WHERE id = 1", ""));
  ASSERT_OK(b->Execute("BEGIN; UPDATE t SET v = 3 WHERE id = 2", ""));
  // Whichever update comes first waits for the other transaction, whose update then closes the
  // cycle: the server aborts one of them. Each rolls back at once, freeing the other.
  Status from_a;
  std::thread waiter([&] {
    from_a = a->Execute("UPDATE t SET v = 4 WHERE id = 2", "a");
    (void)a->Execute("ROLLBACK", "");
  });
  Status from_b = b->Execute("UPDATE t SET v = 4 WHERE id = 1", "b");
  (void)b->Execute("ROLLBACK", "");
  waiter.join();
  const Status& deadlock = from_a.ok() ? from_b : from_a;
  EXPECT_EQ(deadlock.code(), StatusCode::kAborted) << deadlock.ToString();
  EXPECT_THAT(deadlock.message(), ::testing::HasSubstr("deadlock"));
}

}  // namespace
}  // namespace sluice::connectors::postgres
