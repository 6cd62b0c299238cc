// mode: snapshot_then_cdc against the real MariaDB: the tables read in one consistent snapshot,
// then their changes from the binlog position it was taken at. Changes made while the snapshot
// is read come once, from the binlog, after the snapshot's rows; the snapshot's transactions end
// at the handover; a run stopped inside the snapshot hands over after its resume; and kill -9 at
// random steps of the snapshot, the handover and the stream, with writes in every phase, leaves
// an apply target equal to the source.
#include <fmt/core.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <random>
#include <thread>
#include <unistd.h>

#include "connectors/mysql/mysql_binlog_source.h"
#include "connectors/mysql/tests/mysql_cdc_fixture.h"
#include "connectors/registry.h"
#include "core/failpoint.h"
#include "testing/conformance/conformance_job.h"
#include "testing/crash_loop.h"
#include "testing/gtest_util.h"
#include "testing/memory_connector.h"
#include "testing/stop_at_batch.h"
#include "testing/temp_dir.h"

namespace sluice::connectors {
void RegisterMysqlConnector(ConnectorRegistry& registry);
}  // namespace sluice::connectors

namespace sluice::connectors::mysql {
namespace {

using ::testing::HasSubstr;
using sluice::testing::Row;
using sluice::testing::TempDir;
using sluice::testing::conformance::BackgroundJob;
using sluice::testing::conformance::JobSpec;
using testing::TestDatabase;

class MysqlHandoverTest : public testing::CdcFixture<> {
 protected:
  MysqlHandoverTest() : CdcFixture("handover") {}

  void TearDown() override { failpoint::DisarmAll(); }

  // The table `items` in chunks of 500 rows, pages of 100, two readers.
  JobSpec Spec(const std::string& extra = "") const {
    JobSpec spec = CdcFixture::Spec("items", ", split_rows: 500, page_rows: 100" + extra,
                                    "snapshot_then_cdc");
    spec.parallelism = 2;
    return spec;
  }

  std::map<std::string, Row> TableNow() { return TableRows("items"); }

  // Transactions open on connections to the test database (the snapshot's readers and planner;
  // the binlog stream runs none).
  int OpenTransactions() {
    return std::stoi(db_.Exec(fmt::format(
        "SELECT COUNT(*) FROM information_schema.INNODB_TRX t JOIN "
        "information_schema.PROCESSLIST p ON p.ID = t.trx_mysql_thread_id WHERE p.DB = '{}' "
        "AND p.ID <> CONNECTION_ID()",
        db_.name())));
  }

  void WaitUntilFoldedIsTable(BackgroundJob& job) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (sink_->CommittedFolded("items") != TableNow()) {
      if (std::chrono::steady_clock::now() > deadline || !job.running()) {
        runtime::JobSummary summary = job.Stop();
        FAIL() << "the stream never caught up (the job: " << summary.status.ToString() << ")";
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));  // the next look
    }
  }

  static constexpr const char* kWrites =
      "INSERT INTO items SELECT seq, CONCAT('new ', seq) FROM seq_100001_to_100050;"
      "UPDATE items SET v = CONCAT('changed ', id) WHERE id % 97 = 0;"
      "DELETE FROM items WHERE id % 89 = 0;"
      "UPDATE items SET id = id + 200000 WHERE id IN (5, 6, 7);";
};

TEST_F(MysqlHandoverTest, ChangesMadeWhileTheSnapshotIsReadComeOnceFromTheBinlog) {
  db_.Exec("CREATE TABLE items (id INT PRIMARY KEY, v VARCHAR(40));"
           "INSERT INTO items SELECT seq, CONCAT('row ', seq) FROM seq_1_to_3000");
  // The writes land while the snapshot is being read: after its second batch, before the rest.
  failpoint::ArmCallback("runtime.reader.batch", 2, [this] {
    db_.Exec(kWrites);
    return Status::OK();
  });
  BackgroundJob job(Spec(), registry_);
  // 3000 snapshot rows, then from the binlog what kWrites did: 50 inserts, an update (its before
  // and after images) per id divisible by 97, a delete per id divisible by 89, 3 key changes.
  size_t expected = 3000 + 50 + 3 * 2;
  for (int id = 1; id <= 100050; id = id == 3000 ? 100001 : id + 1)
    expected += (id % 97 == 0 ? 2 : 0) + (id % 89 == 0 ? 1 : 0);
  ASSERT_TRUE(sink_->WaitForCommitted("items", expected, std::chrono::seconds(120)))
      << sink_->CommittedChanges("items").size() << " of " << expected << " rows arrived";
  // The stream runs: the snapshot's transactions (which hold back InnoDB's purge) are over.
  EXPECT_EQ(OpenTransactions(), 0);
  runtime::JobSummary summary = job.Stop();
  EXPECT_TRUE(summary.interrupted) << summary.status.ToString();
  std::vector<std::pair<RowKind, std::string>> changes = sink_->CommittedChanges("items");
  ASSERT_EQ(changes.size(), expected);
  size_t inserts = 0;
  for (size_t i = 0; i < 3000; ++i)
    inserts += changes[i].first == RowKind::kInsert ? 1 : 0;
  EXPECT_EQ(inserts, 3000u) << "the snapshot's rows come first, all inserts";
  EXPECT_EQ(sink_->CommittedFolded("items"), TableNow());
}

// A run stopped inside the snapshot: the resumed run finishes the chunks left, then hands over
// to the binlog, which starts where the first run's snapshot was taken.
TEST_F(MysqlHandoverTest, ARunResumedInsideTheSnapshotHandsOverToTheBinlog) {
  db_.Exec("CREATE TABLE items (id INT PRIMARY KEY, v VARCHAR(40));"
           "INSERT INTO items SELECT seq, CONCAT('row ', seq) FROM seq_1_to_1000");
  JobSpec spec = Spec();
  spec.parallelism = 1;
  {
    sluice::testing::StopAtBatch stop(4);
    runtime::JobSummary stopped = sluice::testing::conformance::RunJob(spec, registry_);
    ASSERT_TRUE(stopped.interrupted) << stopped.status.ToString();
  }
  db_.Exec("INSERT INTO items VALUES (5000, 'after the stop'); DELETE FROM items WHERE id = 1");
  BackgroundJob job(spec, registry_);
  WaitUntilFoldedIsTable(job);
  EXPECT_TRUE(job.Stop().interrupted);
  EXPECT_EQ(sink_->committed_progress.count(BinlogSplit()), 1u);
}

// The first run commits rows of its snapshot and dies before any checkpoint is recorded; rows
// it committed change before the next run. That run reads the rest in a new snapshot, but the
// binlog must start where the first snapshot was taken, or the changes are lost: the position
// is recorded before any row is read.
TEST_F(MysqlHandoverTest, ARunThatDiesBeforeItsFirstCheckpointKeepsItsSnapshotsPosition) {
  db_.Exec("CREATE TABLE items (id INT PRIMARY KEY, v VARCHAR(40));"
           "INSERT INTO items SELECT seq, CONCAT('row ', seq) FROM seq_1_to_1000");
  JobSpec spec = Spec();
  spec.parallelism = 1;
  spec.checkpoint_secs = 0;  // the only checkpoint is the one armed below
  {
    // Checkpoint 1 commits rows in the sink, its record fails, and so does the stop's.
    ASSERT_OK(failpoint::Arm("runtime.reader.batch=checkpoint@3;runtime.reader.batch=stop@5;"
                             "runtime.checkpoint.before_record=error@1+"));
    runtime::JobSummary failed = sluice::testing::conformance::RunJob(spec, registry_);
    failpoint::DisarmAll();
    ASSERT_FALSE(failed.status.ok());
    ASSERT_FALSE(sink_->CommittedChanges("items").empty()) << "the first checkpoint's rows";
  }
  db_.Exec("UPDATE items SET v = 'changed between the runs' WHERE id = 1; "
           "DELETE FROM items WHERE id = 2");
  spec.checkpoint_secs = Spec().checkpoint_secs;  // the handover waits for one
  BackgroundJob job(spec, registry_);
  WaitUntilFoldedIsTable(job);
  EXPECT_TRUE(job.Stop().interrupted);
}

TEST_F(MysqlHandoverTest, PerSplitConsistencyIsRefusedNamingTheOption) {
  db_.Exec("CREATE TABLE items (id INT PRIMARY KEY, v VARCHAR(40))");
  runtime::JobSummary summary = sluice::testing::conformance::RunJob(
      Spec(", consistency: per_split"), registry_);
  EXPECT_EQ(summary.status.code(), StatusCode::kInvalidConfig);
  EXPECT_THAT(summary.status.message(), HasSubstr("consistency: per_split"));
}

// Writes of round `round`: inserts, updates, deletes and a key change, different every round,
// in one transaction, one round at a time (a killed child's client may still be running).
std::string RoundWrites(int round) {
  int base = 1'000'000 + round * 1000;
  return fmt::format(
      "DO GET_LOCK('sluice_handover_writes', 60); START TRANSACTION;"
      "INSERT INTO items SELECT seq, CONCAT('round {0} ', seq) FROM seq_{1}_to_{2};"
      "UPDATE items SET v = 'updated in {0}' WHERE id % {3} = 0;"
      "DELETE FROM items WHERE id % {4} = 0 AND id < 1000000;"
      "SELECT MIN(id) INTO @moved FROM items WHERE id > {1};"
      "UPDATE items SET id = id + 5000000 WHERE id = @moved;"
      "COMMIT; DO RELEASE_LOCK('sluice_handover_writes');",
      round, base, base + 19, 7 + round % 13, 50 + round);
}

// kill -9 at random steps of the snapshot, the handover and the stream, with writes landing in
// every phase (in each child after its third batch, and between children): the run that
// finally catches up leaves the target table exactly as the source table is.
TEST_F(MysqlHandoverTest, KilledRepeatedlyOverSnapshotHandoverAndStreamEndsExact) {
  TestDatabase target("cdc_target");
  db_.Exec("CREATE TABLE items (id INT PRIMARY KEY, v VARCHAR(40));"
           "INSERT INTO items SELECT seq, CONCAT('row ', seq) FROM seq_1_to_1000");
  target.Exec("CREATE TABLE items (id INT PRIMARY KEY, v VARCHAR(40))");
  JobSpec spec = Spec();
  spec.sink = fmt::format("{{type: mysql, {}, table: items, mode: apply}}",
                          testing::FlowConnection(target));
  const unsigned seed = std::random_device()();
  SCOPED_TRACE(fmt::format("crash loop seed {}", seed));
  int round = 0;
  sluice::testing::CrashLoopOptions options;
  options.kills = 100;
  options.seed = seed;
  options.finish_points = false;
  options.connector_points = {"mysql.commit.after_rows=crash@2",
                              "mysql.commit.before_fence_check=crash@3"};
  options.in_child = [&](const std::string&) {
    alarm(300);  // a child that never reaches its point fails instead of hanging
    failpoint::ArmCallback("runtime.reader.batch", 3, [&] {
      db_.Exec(RoundWrites(1000 + round));
      return Status::OK();
    });
  };
  options.after_kill = [&](const std::string&) { db_.Exec(RoundWrites(++round)); };
  sluice::testing::CrashLoopResult crashes = sluice::testing::RunCrashLoop(
      [&] { return sluice::testing::conformance::RunJob(spec, registry_).status.ok() ? 0 : 1; },
      options);
  ASSERT_EQ(crashes.kills, options.kills);
  // The first children died in the snapshot, the last ones while streaming: the binlog's split
  // has committed progress.
  EXPECT_EQ(target.Exec(fmt::format(
                "SELECT COUNT(*) FROM _sluice_progress WHERE split_id = '{}'", BinlogSplit())),
            "1\n");
  auto dump = [](const TestDatabase& db) { return db.Exec("SELECT id, v FROM items ORDER BY id"); };
  auto checksum = [](const TestDatabase& db) { return db.Exec("CHECKSUM TABLE items"); };
  const std::string want = dump(db_);
  BackgroundJob job(spec, registry_);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (dump(target) != want) {
    if (std::chrono::steady_clock::now() > deadline || !job.running()) {
      runtime::JobSummary summary = job.Stop();
      FAIL() << "the target never caught up (the job: " << summary.status.ToString() << "):\n"
             << sluice::testing::LineDifferences(want, dump(target))
             << "progress in the target: " << target.Exec("SELECT * FROM _sluice_progress");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200));  // the next look
  }
  EXPECT_TRUE(job.Stop().interrupted);
  // Same rows, and the same table checksum (the table's name aside).
  auto sum = [&](const TestDatabase& db) {
    std::string line = checksum(db);
    return line.substr(line.find('\t'));
  };
  EXPECT_EQ(sum(target), sum(db_));
}

}  // namespace
}  // namespace sluice::connectors::mysql
