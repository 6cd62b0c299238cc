// The mysql source's consistent snapshot, its fallback without privileges, cutting a running
// split, cancellation and a connection killed mid-read, against the real MariaDB.
#include <fmt/core.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <set>
#include <thread>

#include "connectors/mysql/tests/mysql_test_util.h"
#include "testing/gtest_util.h"

namespace sluice::connectors::mysql::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::MatchesRegex;
using ::testing::Not;

class MysqlSnapshotTest : public ::testing::Test {
 protected:
  void SetUp() override {
    db_ = std::make_unique<TestDatabase>();
    if (!db_->ok())
      GTEST_SKIP() << "test servers not available (SLUICE_TEST_SERVERS_ENV)";
  }
  void TearDown() override {
    source_.reset();
    db_.reset();
  }

  Status Open(const std::string& yaml, int parallelism) {
    SLUICE_ASSIGN_OR_RETURN(source_, MakeSource(yaml));
    context_ = MakeContext(&fail_, parallelism, &cancelled_, 500);
    context_.offer_split = [this](const std::string&, Split split) {
      std::lock_guard<std::mutex> lock(offered_mutex_);
      offered_.push_back(std::move(split));
    };
    return source_->Open(context_);
  }

  std::vector<Split> AllSplits() {
    std::vector<Split> splits;
    Result<std::unique_ptr<SplitEnumerator>> enumerator = source_->CreateEnumerator();
    EXPECT_TRUE(enumerator.ok());
    for (;;) {
      Result<std::optional<Split>> next = (*enumerator)->Next();
      EXPECT_TRUE(next.ok()) << next.status().ToString();
      if (!next.ok() || !*next)
        break;
      splits.push_back(**next);
    }
    return splits;
  }

  // Reads a reader to its end, adding the first column of every row to `keys`.
  Status Drain(SplitReader& reader, std::vector<std::string>* keys) {
    Batch batch(source_->streams()[0].schema, 500);
    for (;;) {
      batch.Clear();
      SLUICE_ASSIGN_OR_RETURN(bool more, reader.ReadBatch(&batch));
      for (size_t r = 0; r < batch.num_rows(); ++r)
        keys->push_back(*CellOf(batch.column(0), r));
      if (!more)
        return Status::OK();
    }
  }

  std::unique_ptr<TestDatabase> db_;
  RecordAndFail fail_;
  std::atomic<bool> cancelled_{false};
  JobContext context_;
  std::unique_ptr<Source> source_;
  std::mutex offered_mutex_;
  std::vector<Split> offered_;
};

TEST_F(MysqlSnapshotTest, ReadersSeeOneSnapshotAndTheBinlogPositionIsRecorded) {
  TestDatabase& db = *db_;
  db.Exec(
      "CREATE TABLE t (id INT PRIMARY KEY, v INT); "
      "INSERT INTO t SELECT seq, seq FROM seq_1_to_6000");
  std::string before = db.Exec("SHOW MASTER STATUS");
  ASSERT_OK(Open(db.ConnectionYaml() + "table: t\nsplit_rows: 1000\npage_rows: 250\n", 3));
  // Another connection changes the table after the snapshot.
  db.Exec(
      "INSERT INTO t SELECT 6000 + seq, 0 FROM seq_1_to_500; "
      "UPDATE t SET v = -1 WHERE id % 7 = 0; DELETE FROM t WHERE id BETWEEN 2000 AND 2999");
  ASSERT_EQ(db.Exec("SELECT COUNT(*) FROM t"), "5500\n");
  std::vector<Split> splits = AllSplits();
  ASSERT_EQ(splits.size(), 6u);
  // Three readers at once, interleaved: all three pooled connections share the snapshot.
  std::vector<std::string> keys;
  std::vector<std::unique_ptr<SplitReader>> readers;
  for (size_t i = 0; i < 3; ++i) {
    ASSERT_OK_AND_ASSIGN(std::unique_ptr<SplitReader> reader, source_->CreateReader(splits[i], ""));
    readers.push_back(std::move(reader));
  }
  Batch batch(source_->streams()[0].schema, 100);
  std::set<std::string> values;
  for (bool any = true; any;) {
    any = false;
    for (auto& reader : readers) {
      batch.Clear();
      ASSERT_OK_AND_ASSIGN(bool more, reader->ReadBatch(&batch));
      any = any || more;
      for (size_t r = 0; r < batch.num_rows(); ++r) {
        keys.push_back(*CellOf(batch.column(0), r));
        values.insert(*CellOf(batch.column(1), r));
      }
    }
  }
  readers.clear();
  for (size_t i = 3; i < splits.size(); ++i) {
    ASSERT_OK_AND_ASSIGN(std::unique_ptr<SplitReader> reader, source_->CreateReader(splits[i], ""));
    ASSERT_OK(Drain(*reader, &keys));
  }
  std::vector<std::string> expected;
  for (int i = 1; i <= 6000; ++i)
    expected.push_back(std::to_string(i));
  std::sort(keys.begin(), keys.end());
  std::sort(expected.begin(), expected.end());
  EXPECT_EQ(keys, expected);
  EXPECT_EQ(values.count("-1"), 0u);
  // The position recorded is where the binlog stood at the snapshot (no writes came between).
  CheckReport report;
  source_->Describe(&report);
  ASSERT_FALSE(report.notes.empty());
  std::vector<std::string> status = Lines(before);
  ASSERT_EQ(status.size(), 1u);
  std::string file = status[0].substr(0, status[0].find('\t'));
  EXPECT_THAT(report.notes[0], MatchesRegex("mysql: consistent snapshot at binlog '" + file +
                                            "' position [0-9]+, GTID '[0-9]+-[0-9]+-[0-9]+'"));
}

TEST_F(MysqlSnapshotTest, WithoutReloadPrivilegeFallsBackToPerSplitWithOneWarning) {
  TestDatabase& db = *db_;
  db.Exec("CREATE TABLE t (id INT PRIMARY KEY); INSERT INTO t SELECT seq FROM seq_1_to_100");
  ::testing::internal::CaptureStderr();
  Status opened = Open(db.ConnectionYaml("limited") + "table: t\n", 2);
  std::string log = ::testing::internal::GetCapturedStderr();
  ASSERT_OK(opened);
  EXPECT_THAT(log,
              HasSubstr("consistency: snapshot needs FLUSH TABLES WITH READ LOCK (the RELOAD "
                        "privilege), which user 'limited' lacks; falling back to per-split "
                        "consistency: rows changed during the copy may appear in some chunks and "
                        "not in others; no binlog position recorded"));
  EXPECT_THAT(log, Not(HasSubstr(db.servers().mysql.password)));
  size_t warnings = 0;
  for (size_t at = log.find("falling back"); at != std::string::npos;
       at = log.find("falling back", at + 1)) {
    ++warnings;
  }
  EXPECT_EQ(warnings, 1u);
  CheckReport report;
  source_->Describe(&report);
  EXPECT_EQ(report.notes[0],
            "mysql: per-split consistency: each chunk is read in its own transaction; no binlog "
            "position recorded");
  std::vector<std::string> keys;
  for (const Split& split : AllSplits()) {
    ASSERT_OK_AND_ASSIGN(std::unique_ptr<SplitReader> reader, source_->CreateReader(split, ""));
    ASSERT_OK(Drain(*reader, &keys));
  }
  EXPECT_EQ(keys.size(), 100u);
}

// A split far bigger than planned (rows arrived after planning) is cut while it runs, and the
// readers that take the pieces read every row exactly once.
TEST_F(MysqlSnapshotTest, RunningSplitIsCutAndIdleReadersTakeTheRemainder) {
  TestDatabase& db = *db_;
  db.Exec(
      "CREATE TABLE t (id INT PRIMARY KEY, v VARCHAR(20)); "
      "INSERT INTO t SELECT seq * 100, 'planned' FROM seq_1_to_3000");
  ASSERT_OK(Open(
      db.ConnectionYaml() + "table: t\nsplit_rows: 1000\npage_rows: 2000\nconsistency: per_split\n",
      2));
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<SplitEnumerator> enumerator, source_->CreateEnumerator());
  ASSERT_OK_AND_ASSIGN(std::optional<Split> first, enumerator->Next());
  ASSERT_TRUE(first.has_value());
  // 40,000 rows land inside the first split's key range after it was planned.
  db.Exec("INSERT INTO t SELECT s.seq * 100 + r.seq, 'late' FROM seq_0_to_999 s, seq_1_to_40 r");
  size_t total = std::stoul(db.Exec("SELECT COUNT(*) FROM t"));
  std::vector<std::string> keys;
  {
    ASSERT_OK_AND_ASSIGN(std::unique_ptr<SplitReader> owner, source_->CreateReader(*first, ""));
    Batch batch(source_->streams()[0].schema, 500);
    ASSERT_OK_AND_ASSIGN(bool more, owner->ReadBatch(&batch));
    ASSERT_TRUE(more);
    for (size_t r = 0; r < batch.num_rows(); ++r)
      keys.push_back(*CellOf(batch.column(0), r));
    // Past its planned 1,000 rows, an idle reader asks for work: the owner cuts at its next
    // page boundary (a cut needs a key from the data, so it is never made on the spot).
    while (keys.size() < 1200) {
      batch.Clear();
      ASSERT_OK_AND_ASSIGN(more, owner->ReadBatch(&batch));
      for (size_t r = 0; r < batch.num_rows(); ++r)
        keys.push_back(*CellOf(batch.column(0), r));
    }
    EXPECT_FALSE(owner->SplitRemainder().has_value());
    std::vector<Split> taken;
    std::vector<std::unique_ptr<SplitReader>> helpers;
    while (more) {
      batch.Clear();
      ASSERT_OK_AND_ASSIGN(more, owner->ReadBatch(&batch));
      for (size_t r = 0; r < batch.num_rows(); ++r)
        keys.push_back(*CellOf(batch.column(0), r));
      std::lock_guard<std::mutex> lock(offered_mutex_);
      for (Split& split : offered_)
        taken.push_back(std::move(split));
      offered_.clear();
    }
    ASSERT_EQ(taken.size(), 1u);
    EXPECT_EQ(taken[0].id, first->id + ".1");
    size_t owner_rows = keys.size();
    EXPECT_LT(owner_rows, 25000u);
    // The helper reads the cut and, asked in turn, cuts again for a third reader.
    ASSERT_OK_AND_ASSIGN(std::unique_ptr<SplitReader> helper, source_->CreateReader(taken[0], ""));
    batch.Clear();
    ASSERT_OK_AND_ASSIGN(more, helper->ReadBatch(&batch));
    for (size_t r = 0; r < batch.num_rows(); ++r)
      keys.push_back(*CellOf(batch.column(0), r));
    EXPECT_FALSE(helper->SplitRemainder().has_value());
    ASSERT_OK(Drain(*helper, &keys));
    std::lock_guard<std::mutex> lock(offered_mutex_);
    ASSERT_EQ(offered_.size(), 1u);
    taken.assign(offered_.begin(), offered_.end());
    offered_.clear();
    ASSERT_OK_AND_ASSIGN(std::unique_ptr<SplitReader> third, source_->CreateReader(taken[0], ""));
    ASSERT_OK(Drain(*third, &keys));
  }
  for (;;) {
    ASSERT_OK_AND_ASSIGN(std::optional<Split> split, enumerator->Next());
    if (!split)
      break;
    ASSERT_OK_AND_ASSIGN(std::unique_ptr<SplitReader> reader, source_->CreateReader(*split, ""));
    ASSERT_OK(Drain(*reader, &keys));
  }
  std::set<std::string> unique(keys.begin(), keys.end());
  EXPECT_EQ(unique.size(), keys.size()) << "some rows were read twice";
  EXPECT_EQ(keys.size(), total);
}

TEST_F(MysqlSnapshotTest, ConnectionKilledMidReadIsUnavailable) {
  TestDatabase& db = *db_;
  db.Exec(
      "CREATE TABLE t (id INT PRIMARY KEY, pad VARCHAR(200)); "
      "INSERT INTO t SELECT seq, REPEAT('x', 200) FROM seq_1_to_100000");
  ASSERT_OK(Open(db.ConnectionYaml() + "table: t\npage_rows: 1000000\n", 1));
  std::vector<Split> splits = AllSplits();
  ASSERT_EQ(splits.size(), 1u);
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<SplitReader> reader, source_->CreateReader(splits[0], ""));
  Batch batch(source_->streams()[0].schema, 100);
  ASSERT_OK_AND_ASSIGN(bool more, reader->ReadBatch(&batch));
  ASSERT_TRUE(more);
  std::string id = db.Exec(fmt::format(
      "SELECT ID FROM information_schema.PROCESSLIST WHERE ID <> CONNECTION_ID() AND INFO LIKE "
      "'SELECT %FROM `{}`.`t`%'",
      db.name()));
  ASSERT_EQ(Lines(id).size(), 1u) << id;
  ASSERT_FALSE(id.empty());
  db.Exec("KILL " + id);
  Status status;
  for (int i = 0; i < 2000 && status.ok(); ++i) {
    batch.Clear();
    Result<bool> next = reader->ReadBatch(&batch);
    if (!next.ok())
      status = next.status();
    if (next.ok() && !*next)
      break;
  }
  ASSERT_FALSE(status.ok()) << "the read survived KILL";
  EXPECT_EQ(status.code(), StatusCode::kUnavailable);
  const auto& mysql = db.servers().mysql;
  EXPECT_EQ(status.message(),
            fmt::format("mysql {}:{}: reading {}.t: connection lost: Lost connection to server "
                        "during query (error 2013)",
                        mysql.host, mysql.port, db.name()));
  EXPECT_THAT(status.message(), Not(HasSubstr(mysql.password)));
}

TEST_F(MysqlSnapshotTest, CancelStopsAReadInProgress) {
  TestDatabase& db = *db_;
  db.Exec(
      "CREATE TABLE t (id INT PRIMARY KEY, pad VARCHAR(200)); "
      "INSERT INTO t SELECT seq, REPEAT('y', 200) FROM seq_1_to_100000");
  ASSERT_OK(Open(db.ConnectionYaml() + "table: t\npage_rows: 1000000\n", 1));
  std::vector<Split> splits = AllSplits();
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<SplitReader> reader, source_->CreateReader(splits[0], ""));
  Batch batch(source_->streams()[0].schema, 100);
  ASSERT_OK_AND_ASSIGN(bool more, reader->ReadBatch(&batch));
  ASSERT_TRUE(more);
  reader->Cancel();  // KILL QUERY over a connection of its own
  Status status;
  size_t rows = batch.num_rows();
  for (int i = 0; i < 2000 && status.ok(); ++i) {
    batch.Clear();
    Result<bool> next = reader->ReadBatch(&batch);
    if (!next.ok())
      status = next.status();
    if (next.ok() && !*next)
      break;
    rows += batch.num_rows();
  }
  ASSERT_FALSE(status.ok()) << "read all " << rows << " rows despite Cancel";
  EXPECT_EQ(status.code(), StatusCode::kCancelled) << status.ToString();
  // The job's stop flag is honoured at the next batch.
  cancelled_.store(true);
  reader.reset();
  Result<std::unique_ptr<SplitReader>> second = source_->CreateReader(splits[0], "");
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), StatusCode::kCancelled) << second.status().ToString();
}

}  // namespace
}  // namespace sluice::connectors::mysql::testing
