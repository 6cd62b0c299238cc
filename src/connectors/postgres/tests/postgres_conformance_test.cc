// The postgres connector in the conformance suite (src/testing/conformance): its sink and its
// source against the real PostgreSQL, a database of its own for each case.
#include <fmt/core.h>
#include <gtest/gtest.h>

#include <chrono>
#include <sstream>
#include <thread>

#include "connectors/postgres/postgres_client.h"
#include "connectors/postgres/tests/postgres_test_util.h"
#include "testing/conformance/conformance.h"
#include "testing/conformance/conformance_job.h"

namespace sluice::connectors {
void RegisterPostgresConnector(ConnectorRegistry& registry);
}  // namespace sluice::connectors

namespace sluice::connectors::postgres {
namespace {

using sluice::testing::Row;
using sluice::testing::conformance::ConformanceName;
using sluice::testing::conformance::ConformanceStore;
using sluice::testing::conformance::SinkConformanceTest;
using sluice::testing::conformance::SinkUnderTest;
using sluice::testing::conformance::SourceConformanceTest;
using sluice::testing::conformance::SourceUnderTest;
using sluice::testing::conformance::StreamConformanceTest;
using sluice::testing::conformance::WriteMode;

// The connection options as one line of a YAML flow map.
std::string FlowConnection(const testing::TestDatabase& db) {
  std::string yaml = db.ConnectionYaml();
  while (!yaml.empty() && yaml.back() == '\n')
    yaml.pop_back();
  std::string out;
  for (char c : yaml)
    out += c == '\n' ? std::string(", ") : std::string(1, c);
  return out;
}

// `changes`: the source reads the seeded table and then its changes from a replication slot
// (mode: snapshot_then_cdc), and AppendRows adds rows it must capture.
class PostgresStore final : public ConformanceStore {
 public:
  explicit PostgresStore(bool changes) : changes_(changes) {}
  ~PostgresStore() override {
    // A database with a replication slot cannot be dropped.
    if (changes_) {
      (void)db_.TryExec("SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots "
                        "WHERE database = current_database() AND NOT active");
    }
  }

  std::string SinkBlock(const std::string& target, WriteMode mode) override {
    return fmt::format("{{type: postgres, {}, table: {}, mode: {}}}", FlowConnection(db_), target,
                       mode == WriteMode::kAppend ? "append" : "overwrite");
  }

  // Staging tables of an overwrite.
  std::vector<std::string> Leftovers(const std::string& target) override {
    std::string tables = db_.Exec(
        "SELECT relname FROM pg_class WHERE left(relname, 16) = '_sluice_staging_'");
    std::vector<std::string> names;
    std::istringstream lines(tables);
    for (std::string name; std::getline(lines, name);)
      names.push_back(name);
    return names;
  }

  Result<std::string> SeedSource(const std::string& target, const std::vector<Row>& rows) override {
    ConnectorRegistry registry;
    RegisterPostgresConnector(registry);
    SLUICE_RETURN_IF_ERROR(sluice::testing::conformance::SeedThroughSink(
        registry, SinkBlock(target, WriteMode::kAppend), rows));
    // A key: splits are key ranges from the real distribution, read a page at a time.
    SLUICE_RETURN_IF_ERROR(
        db_.TryExec(fmt::format("ALTER TABLE {} ADD PRIMARY KEY (id)", target)).status());
    return fmt::format("{{type: postgres, {}, table: {}, split_rows: 400, page_rows: 100{}}}",
                       FlowConnection(db_), target,
                       changes_ ? ", mode: snapshot_then_cdc" : "");
  }

  Status AppendRows(const std::string& target, const std::vector<Row>& rows) override {
    if (!changes_)
      return Unsupported("a table snapshot never grows");
    ConnectorRegistry registry;
    RegisterPostgresConnector(registry);
    return sluice::testing::conformance::SeedThroughSink(
        registry, SinkBlock(target, WriteMode::kAppend), rows);
  }

  // A view whose rows wait in pg_sleep: the reader's COPY blocks in the server.
  Result<std::string> SeedBlockingSource(const std::string& target,
                                         const std::vector<Row>& rows) override {
    SLUICE_RETURN_IF_ERROR(SeedSource(target + "_rows", rows).status());
    SLUICE_RETURN_IF_ERROR(
        db_.TryExec(fmt::format("CREATE VIEW {0} AS SELECT t.* FROM {0}_rows t, pg_sleep(600)",
                                target))
            .status());
    return fmt::format("{{type: postgres, {}, table: {}}}", FlowConnection(db_), target);
  }

  Status WaitUntilReadBlocked() override {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (std::chrono::steady_clock::now() < deadline) {
      Result<std::string> waiting = db_.TryExec(
          "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND "
          "wait_event = 'PgSleep'");
      if (waiting.ok() && *waiting != "0\n")
        return Status::OK();
      std::this_thread::sleep_for(std::chrono::milliseconds(20));  // the next look
    }
    return Unavailable("no read of the blocking view waited in the server within 30 s");
  }

  void EndBlockedReads() override {
    (void)db_.TryExec(
        "SELECT pg_cancel_backend(pid) FROM pg_stat_activity WHERE datname = current_database() "
        "AND wait_event = 'PgSleep'");
  }

  // A session holding a SHARE lock on the target: COPY into it waits for the lock.
  Status BlockWrites(const std::string& target) override {
    ConnectorRegistry registry;
    RegisterPostgresConnector(registry);
    SLUICE_RETURN_IF_ERROR(sluice::testing::conformance::SeedThroughSink(
        registry, SinkBlock(target, WriteMode::kAppend), {}));
    ConnectionOptions options;
    const auto& pg = testing::Servers().postgres;
    options.system = "postgres";
    options.host = pg.host;
    options.port = pg.port;
    options.user = pg.user;
    options.password = Secret(pg.password);
    options.database = db_.name();
    SLUICE_ASSIGN_OR_RETURN(locker_, PgConnection::Connect(options));
    SLUICE_RETURN_IF_ERROR(locker_->Execute("BEGIN", "begin"));
    return locker_->Execute(fmt::format("LOCK TABLE {} IN SHARE MODE", target), "lock");
  }

  Status WaitUntilWriteBlocked() override {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (std::chrono::steady_clock::now() < deadline) {
      Result<std::string> waiting = db_.TryExec(
          "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND "
          "wait_event_type = 'Lock'");
      if (waiting.ok() && *waiting != "0\n")
        return Status::OK();
      std::this_thread::sleep_for(std::chrono::milliseconds(20));  // the next look
    }
    return Unavailable("no write into the locked table waited in the server within 30 s");
  }

  void EndBlockedWrites() override { locker_.reset(); }

  Status ok() const { return Status::OK(); }

 private:
  // A database per case; the counter keeps names apart within the process.
  static std::string NextName() {
    static int cases = 0;
    return fmt::format("sluice_conformance_{}", ++cases);
  }

  const bool changes_;
  testing::TestDatabase db_{NextName()};
  std::unique_ptr<PgConnection> locker_;  // holds BlockWrites' lock while it lives
};

Result<std::unique_ptr<ConformanceStore>> OpenStore(bool changes) {
  auto store = std::make_unique<PostgresStore>(changes);
  SLUICE_RETURN_IF_ERROR(store->ok());
  return std::unique_ptr<ConformanceStore>(std::move(store));
}

void Register(ConnectorRegistry& registry) {
  RegisterPostgresConnector(registry);
}

SinkUnderTest PostgresSink() {
  SinkUnderTest sink;
  sink.name = "postgres";
  sink.register_connectors = Register;
  sink.open_store = [] { return OpenStore(/*changes=*/false); };
  sink.exactly_once = true;
  sink.overwrite = true;
  // PostgreSQL text cannot hold a NUL byte.
  sink.refused_row = Row{"0", std::string("nul\0byte", 8), "1.00"};
  sink.crash_points = {"postgres.commit.after_rows=crash@2",
                       "postgres.commit.before_fence_check=crash@3"};
  return sink;
}

SourceUnderTest PostgresSource() {
  SourceUnderTest source;
  source.name = "postgres";
  source.register_connectors = Register;
  source.open_store = [] { return OpenStore(/*changes=*/false); };
  return source;
}

// mode: snapshot_then_cdc: the seeded rows from the snapshot, the appended ones from the slot.
SourceUnderTest PostgresChangesSource() {
  SourceUnderTest source;
  source.name = "postgres_snapshot_then_cdc";
  source.register_connectors = Register;
  source.open_store = [] { return OpenStore(/*changes=*/true); };
  source.bounded = false;
  source.changelog = true;
  return source;
}

INSTANTIATE_TEST_SUITE_P(Postgres, SinkConformanceTest, ::testing::Values(PostgresSink()),
                         ConformanceName());
INSTANTIATE_TEST_SUITE_P(Postgres, SourceConformanceTest, ::testing::Values(PostgresSource()),
                         ConformanceName());
INSTANTIATE_TEST_SUITE_P(Postgres, StreamConformanceTest,
                         ::testing::Values(PostgresChangesSource()), ConformanceName());

}  // namespace
}  // namespace sluice::connectors::postgres
