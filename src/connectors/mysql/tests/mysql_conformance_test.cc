// The mysql connector in the conformance suite (src/testing/conformance): its sink and its
// source against the real MariaDB, a database of its own for each case.
#include <fmt/core.h>
#include <gtest/gtest.h>

#include <chrono>
#include <sstream>
#include <thread>

#include "connectors/mysql/mysql_client.h"
#include "connectors/mysql/tests/mysql_test_util.h"
#include "testing/conformance/conformance.h"
#include "testing/conformance/conformance_job.h"

namespace sluice::connectors {
void RegisterMysqlConnector(ConnectorRegistry& registry);
}  // namespace sluice::connectors

namespace sluice::connectors::mysql {
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

// `changes`: the source reads the seeded table and then its binlog (mode: snapshot_then_cdc),
// and AppendRows adds rows it must capture.
class MysqlStore final : public ConformanceStore {
 public:
  explicit MysqlStore(bool changes) : changes_(changes) {
    if (changes_ && db_.ok()) {
      // Positions in the binlog must outlive a stop: no test may purge it meanwhile.
      binlog_lock_ = std::make_unique<testing::BinlogLock>(db_.servers().mysql_datadir, false);
    }
  }

  std::string SinkBlock(const std::string& target, WriteMode mode) override {
    return fmt::format("{{type: mysql, {}, table: {}, mode: {}}}", FlowConnection(db_), target,
                       mode == WriteMode::kAppend ? "append" : "overwrite");
  }

  // Staging tables of an overwrite.
  std::vector<std::string> Leftovers(const std::string& target) override {
    std::string tables = db_.Exec(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = DATABASE() "
        "AND LEFT(table_name, 16) = '_sluice_staging_'");
    std::vector<std::string> names;
    std::istringstream lines(tables);
    for (std::string name; std::getline(lines, name);)
      names.push_back(name);
    return names;
  }

  Result<std::string> SeedSource(const std::string& target, const std::vector<Row>& rows) override {
    ConnectorRegistry registry;
    RegisterMysqlConnector(registry);
    SLUICE_RETURN_IF_ERROR(sluice::testing::conformance::SeedThroughSink(
        registry, SinkBlock(target, WriteMode::kAppend), rows));
    // A key: splits are key ranges from the real distribution, read a page at a time.
    SLUICE_RETURN_IF_ERROR(
        db_.TryExec(fmt::format("ALTER TABLE {} ADD PRIMARY KEY (id)", target)).status());
    return fmt::format("{{type: mysql, {}, table: {}, split_rows: 400, page_rows: 100{}}}",
                       FlowConnection(db_), target,
                       changes_ ? ", mode: snapshot_then_cdc" : "");
  }

  Status AppendRows(const std::string& target, const std::vector<Row>& rows) override {
    if (!changes_)
      return Unsupported("a table snapshot never grows");
    ConnectorRegistry registry;
    RegisterMysqlConnector(registry);
    return sluice::testing::conformance::SeedThroughSink(
        registry, SinkBlock(target, WriteMode::kAppend), rows);
  }

  // A view whose rows wait in SLEEP(): the reader's query blocks in the server.
  Result<std::string> SeedBlockingSource(const std::string& target,
                                         const std::vector<Row>& rows) override {
    SLUICE_RETURN_IF_ERROR(SeedSource(target + "_rows", rows).status());
    SLUICE_RETURN_IF_ERROR(
        db_.TryExec(fmt::format("CREATE VIEW {0} AS SELECT * FROM {0}_rows WHERE SLEEP(600) = 0",
                                target))
            .status());
    return fmt::format("{{type: mysql, {}, table: {}}}", FlowConnection(db_), target);
  }

  Status WaitUntilReadBlocked() override {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (std::chrono::steady_clock::now() < deadline) {
      Result<std::string> waiting = db_.TryExec(
          "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE DB = DATABASE() AND "
          "STATE = 'User sleep'");
      if (waiting.ok() && *waiting != "0\n")
        return Status::OK();
      std::this_thread::sleep_for(std::chrono::milliseconds(20));  // the next look
    }
    return Unavailable("no read of the blocking view waited in the server within 30 s");
  }

  void EndBlockedReads() override {
    Result<std::string> ids = db_.TryExec(
        "SELECT ID FROM information_schema.PROCESSLIST WHERE DB = DATABASE() AND STATE = 'User "
        "sleep'");
    if (!ids.ok())
      return;
    std::istringstream lines(*ids);
    for (std::string id; std::getline(lines, id);)
      (void)db_.TryExec("KILL QUERY " + id);
  }

  // A session holding a READ lock on the target (LOCK TABLES): writes into it wait.
  Status BlockWrites(const std::string& target) override {
    ConnectorRegistry registry;
    RegisterMysqlConnector(registry);
    SLUICE_RETURN_IF_ERROR(sluice::testing::conformance::SeedThroughSink(
        registry, SinkBlock(target, WriteMode::kAppend), {}));
    ConnectionOptions options;
    options.system = "mysql";
    options.host = db_.servers().mysql.host;
    options.port = db_.servers().mysql.port;
    options.user = db_.servers().mysql.user;
    options.password = Secret(db_.servers().mysql.password);
    options.database = db_.name();
    SLUICE_ASSIGN_OR_RETURN(Connection locker, Connection::Open(options));
    locker_ = std::make_unique<Connection>(std::move(locker));
    return locker_->Execute(fmt::format("LOCK TABLES `{}` READ", target), "lock");
  }

  Status WaitUntilWriteBlocked() override {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (std::chrono::steady_clock::now() < deadline) {
      Result<std::string> waiting = db_.TryExec(
          "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE DB = DATABASE() AND STATE "
          "LIKE 'Waiting for table%lock'");
      if (waiting.ok() && *waiting != "0\n")
        return Status::OK();
      std::this_thread::sleep_for(std::chrono::milliseconds(20));  // the next look
    }
    return Unavailable("no write into the locked table waited in the server within 30 s");
  }

  void EndBlockedWrites() override { locker_.reset(); }

  Status ok() const {
    return db_.ok() ? Status::OK()
                    : Unavailable("the test servers are not running (SLUICE_TEST_SERVERS_ENV)");
  }

 private:
  const bool changes_;
  testing::TestDatabase db_;
  std::unique_ptr<testing::BinlogLock> binlog_lock_;
  std::unique_ptr<Connection> locker_;  // holds BlockWrites' lock while it lives
};

Result<std::unique_ptr<ConformanceStore>> OpenStore(bool changes) {
  auto store = std::make_unique<MysqlStore>(changes);
  SLUICE_RETURN_IF_ERROR(store->ok());
  return std::unique_ptr<ConformanceStore>(std::move(store));
}

void Register(ConnectorRegistry& registry) {
  RegisterMysqlConnector(registry);
}

SinkUnderTest MysqlSink() {
  SinkUnderTest sink;
  sink.name = "mysql";
  sink.register_connectors = Register;
  sink.open_store = [] { return OpenStore(/*changes=*/false); };
  sink.exactly_once = true;
  sink.overwrite = true;
  sink.crash_points = {"mysql.commit.after_rows=crash@2",
                       "mysql.commit.before_fence_check=crash@3"};
  return sink;
}

SourceUnderTest MysqlSource() {
  SourceUnderTest source;
  source.name = "mysql";
  source.register_connectors = Register;
  source.open_store = [] { return OpenStore(/*changes=*/false); };
  return source;
}

// mode: snapshot_then_cdc: the seeded rows from the snapshot, the appended ones from the binlog.
SourceUnderTest MysqlChangesSource() {
  SourceUnderTest source;
  source.name = "mysql_snapshot_then_cdc";
  source.register_connectors = Register;
  source.open_store = [] { return OpenStore(/*changes=*/true); };
  source.bounded = false;
  source.changelog = true;
  return source;
}

INSTANTIATE_TEST_SUITE_P(Mysql, SinkConformanceTest, ::testing::Values(MysqlSink()),
                         ConformanceName());
INSTANTIATE_TEST_SUITE_P(Mysql, SourceConformanceTest, ::testing::Values(MysqlSource()),
                         ConformanceName());
INSTANTIATE_TEST_SUITE_P(Mysql, StreamConformanceTest, ::testing::Values(MysqlChangesSource()),
                         ConformanceName());

}  // namespace
}  // namespace sluice::connectors::mysql
