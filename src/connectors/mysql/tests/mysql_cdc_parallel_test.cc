// mode: cdc decoding row events on several threads (decode_threads 2 and 4) against the real
// MariaDB: the binlog read by the parallel reader gives exactly what the reader decoding on its
// own thread (decode_threads 1) gives for the same binlog: every change once, in commit order,
// across transactions larger than a batch interleaving several tables, and a bad value's change
// handed to the job's policy in its place; a reader stopped inside a large transaction and
// resumed from its position continues exactly; and a job at parallelism 2 with 2 decode threads
// stopped and resumed commits every change once.
//
// Tests hold the shared BinlogLock (mysql_cdc_test.cc) while their readers use the binlog.
#include <fmt/core.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <mutex>
#include <thread>
#include <unistd.h>

#include "connectors/mysql/mysql_binlog_source.h"
#include "connectors/mysql/tests/mysql_test_util.h"
#include "connectors/registry.h"
#include "testing/conformance/conformance_job.h"
#include "testing/gtest_util.h"
#include "testing/memory_connector.h"
#include "testing/temp_dir.h"

namespace sluice::connectors {
void RegisterMysqlConnector(ConnectorRegistry& registry);
}  // namespace sluice::connectors

namespace sluice::connectors::mysql {
namespace {

using ::testing::ElementsAreArray;
using ::testing::HasSubstr;
using testing::BinlogLock;
using testing::Row;
using testing::TestDatabase;

// One row as read: its table, kind and values.
struct ReadRow {
  int stream = 0;
  RowKind kind = RowKind::kInsert;
  Row values;
  bool operator==(const ReadRow&) const = default;
};

void PrintTo(const ReadRow& row, std::ostream* out) {
  *out << row.stream << " " << RowKindName(row.kind) << " (";
  for (const auto& value : row.values)
    *out << (value ? *value : "NULL") << ",";
  *out << ")";
}

// What a reader returned: its rows in order.
struct ReadLog {
  std::vector<ReadRow> rows;
};

class MysqlCdcParallelTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!db_.ok())
      GTEST_SKIP() << "test servers not available (SLUICE_TEST_SERVERS_ENV)";
    lock_ = std::make_unique<BinlogLock>(db_.servers().mysql_datadir, false);
    db_.Exec("CREATE TABLE a (id INT PRIMARY KEY, v VARCHAR(40), d DATE);"
             "CREATE TABLE b (k VARCHAR(10) PRIMARY KEY, n INT);"
             "CREATE TABLE done (id INT PRIMARY KEY)");
  }

  // A cdc source of the tables with `decode_threads`, batches of `batch_rows`. The first one
  // opened gives the split that every reader reads: from the server's position then.
  void OpenSource(int decode_threads, size_t batch_rows = 0) {
    if (batch_rows == 0)
      batch_rows = context_.batch_rows;
    ASSERT_OK_AND_ASSIGN(
        source_, testing::MakeSource(db_.ConnectionYaml() +
                                     fmt::format("tables: [a, b, done]\nmode: cdc\n"
                                                 "server_id: {}\ndecode_threads: {}\n",
                                                 1000000 + ::getpid() % 1000000,
                                                 decode_threads)));
    BadRecordHandler* handler = context_.bad_records != nullptr ? context_.bad_records : &bad_;
    context_ = testing::MakeContext(handler, 1, nullptr, batch_rows);
    ASSERT_OK(source_->Open(context_));
    if (!split_.id.empty())
      return;
    ASSERT_OK_AND_ASSIGN(std::unique_ptr<SplitEnumerator> enumerator,
                         source_->CreateEnumerator());
    ASSERT_OK_AND_ASSIGN(std::optional<Split> split, enumerator->Next());
    ASSERT_TRUE(split.has_value());
    split_ = *split;
  }

  // Reads from `position` ("" = the split's start) until the row of table `done` arrives, or,
  // when `stop_after_batches` > 0, until that many non-empty batches were read; appends to
  // `log`. Returns the position after the last batch.
  std::string Read(const std::string& position, ReadLog* log, int stop_after_batches = 0) {
    Result<std::unique_ptr<SplitReader>> reader = source_->CreateReader(split_, position);
    EXPECT_TRUE(reader.ok()) << reader.status().ToString();
    if (!reader.ok())
      return "";
    std::map<int, std::unique_ptr<Batch>> batches;
    int batches_read = 0;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
    while (std::chrono::steady_clock::now() < deadline) {
      int stream = (*reader)->NextStream();
      std::unique_ptr<Batch>& batch = batches[stream];
      if (!batch) {
        batch = std::make_unique<Batch>(source_->streams()[static_cast<size_t>(stream)].schema,
                                        context_.batch_rows);
        batch->set_stream(stream);
      }
      batch->Clear();
      Result<bool> more = (*reader)->ReadBatch(batch.get());
      EXPECT_TRUE(more.ok()) << more.status().ToString();
      if (!more.ok() || !*more)
        break;
      if (batch->empty())
        continue;
      bool finished = false;
      for (size_t r = 0; r < batch->num_rows(); ++r) {
        log->rows.push_back({stream, batch->row_kind(r), testing::RowOf(*batch, r)});
        finished = finished || source_->streams()[static_cast<size_t>(stream)].name == "done";
      }
      if (finished || (stop_after_batches > 0 && ++batches_read == stop_after_batches))
        return (*reader)->Position();
    }
    ADD_FAILURE() << "the reader never returned the row of table 'done'";
    return "";
  }

  // Transactions larger than a batch across both tables, small ones in between, a zero date
  // (a bad value under zero_dates: error) inside the large one, and the row that ends the read.
  void WriteChanges() {
    db_.Exec("SET SESSION sql_mode = '';"
             "BEGIN;"
             "INSERT INTO a SELECT seq, CONCAT('v', seq), '2020-01-01' FROM seq_1_to_3000;"
             "INSERT INTO b SELECT CONCAT('k', seq), seq FROM seq_1_to_500;"
             "UPDATE a SET v = CONCAT(v, 'u') WHERE id <= 1500;"
             "UPDATE a SET d = '0000-00-00' WHERE id = 1200;"
             "DELETE FROM b WHERE n > 250;"
             "INSERT INTO a SELECT seq, REPEAT('w', 40), NULL FROM seq_3001_to_4000;"
             "COMMIT;");
    for (int i = 1; i <= 20; ++i) {
      db_.Exec(fmt::format("INSERT INTO b VALUES ('s{0}', {0});"
                           "UPDATE a SET d = '2021-01-01' WHERE id = {0};"
                           "BEGIN; DELETE FROM a WHERE id = {1}; INSERT INTO b VALUES ('t{0}', 0);"
                           "COMMIT;",
                           i, 3000 + i));
    }
    db_.Exec("BEGIN;"
             "UPDATE a SET v = 'last' WHERE id > 2000 AND id <= 2600;"
             "UPDATE b SET n = n + 1;"
             "COMMIT;"
             "INSERT INTO done VALUES (1)");
  }

  // What one thread decodes of the changes: the reference.
  ReadLog ReadOnOneThread() {
    ReadLog log;
    Read("", &log);
    return log;
  }

  TestDatabase db_;
  std::unique_ptr<BinlogLock> lock_;
  testing::RecordAndSkip bad_;
  std::unique_ptr<Source> source_;
  JobContext context_;
  Split split_;
};

// The number of rows WriteChanges makes: inserts, updates as two rows, deletes; the update to a
// zero date is a bad record and makes none.
constexpr size_t kRowsWritten = 3000 + 500 + 2 * 1500 + 250 + 1000 + 20 * (1 + 2 + 1 + 1) +
                                2 * 600 + 2 * (250 + 40) + 1;

TEST_F(MysqlCdcParallelTest, EveryChangeArrivesOnceInCommitOrderAsDecodedOnOneThread) {
  OpenSource(1, 500);
  WriteChanges();
  const ReadLog reference = ReadOnOneThread();
  ASSERT_EQ(reference.rows.size(), kRowsWritten);
  std::vector<connectors::BadRecord> reference_bad = bad_.records();
  ASSERT_EQ(reference_bad.size(), 1u);
  EXPECT_THAT(reference_bad[0].location, HasSubstr(".a id=1200 (binlog '"));
  // The inserts of table a in the large transaction come first, in the order written.
  for (int id = 1; id <= 3000; ++id) {
    const ReadRow& row = reference.rows[static_cast<size_t>(id - 1)];
    ASSERT_EQ(row.kind, RowKind::kInsert);
    ASSERT_EQ(row.values[0], std::to_string(id));
  }
  for (int threads : {2, 4}) {
    SCOPED_TRACE(fmt::format("decode_threads {}", threads));
    testing::RecordAndSkip bad;
    context_.bad_records = &bad;
    ASSERT_NO_FATAL_FAILURE(OpenSource(threads));
    ReadLog log;
    Read("", &log);
    context_.bad_records = &bad_;
    ASSERT_EQ(log.rows.size(), reference.rows.size());
    EXPECT_TRUE(log.rows == reference.rows);
    std::vector<connectors::BadRecord> records = bad.records();
    ASSERT_EQ(records.size(), 1u);
    EXPECT_EQ(records[0].location, reference_bad[0].location);
    EXPECT_EQ(records[0].reason.message(), reference_bad[0].reason.message());
  }
}

TEST_F(MysqlCdcParallelTest, AReaderStoppedInsideALargeTransactionResumesExactly) {
  OpenSource(1, 300);
  WriteChanges();
  const ReadLog reference = ReadOnOneThread();
  ASSERT_EQ(reference.rows.size(), kRowsWritten);
  // Stops after 1, 7 and 23 batches of at most 300 rows: inside the large transaction (over
  // 9000 rows), once in the middle of a row event, once past the bad record.
  for (int threads : {2, 4}) {
    ASSERT_NO_FATAL_FAILURE(OpenSource(threads));
    for (int stop : {1, 7, 23}) {
      SCOPED_TRACE(fmt::format("decode_threads {}, stopped after {} batches", threads, stop));
      ReadLog log;
      std::string position = Read("", &log, stop);
      EXPECT_THAT(position, HasSubstr("\"txn\""));
      const size_t before = log.rows.size();
      Read(position, &log);
      ASSERT_EQ(log.rows.size(), reference.rows.size()) << "stopped after " << before << " rows";
      EXPECT_TRUE(log.rows == reference.rows);
    }
  }
}

// A whole job at parallelism 2 (the changes routed to two writers by key) decoding on 2 threads,
// stopped inside the large transaction and resumed: every change committed once, each key's in order.
TEST_F(MysqlCdcParallelTest, AJobAtParallelismTwoStoppedAndResumedCommitsEveryChangeOnce) {
  auto sink = std::make_shared<sluice::testing::MemorySinkData>();
  ConnectorRegistry registry;
  RegisterMysqlConnector(registry);
  sluice::testing::RegisterMemoryConnector(
      registry, std::make_shared<sluice::testing::MemorySourceData>(), sink);
  sluice::testing::TempDir state;
  sluice::testing::conformance::JobSpec spec;
  spec.name = fmt::format("cdc_parallel_{}", ::getpid());
  spec.source = fmt::format("{{type: mysql, {}, tables: [a, b, done], mode: cdc, "
                            "decode_threads: 2}}",
                            testing::FlowConnection(db_));
  spec.sink = "{type: memory}";
  spec.state = state.path();
  spec.parallelism = 2;
  spec.batch_rows = 200;
  spec.checkpoint_secs = 0.2;
  spec.extra = "errors: {mode: skip}\n";
  {
    // A first run commits a change, so that the next ones resume after it.
    sluice::testing::conformance::BackgroundJob job(spec, registry);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (db_.Exec("SHOW SLAVE HOSTS").find(fmt::format("{}\t", DefaultServerId(spec.name))) ==
           std::string::npos) {
      ASSERT_LT(std::chrono::steady_clock::now(), deadline) << "the binlog stream never started";
      std::this_thread::sleep_for(std::chrono::milliseconds(50));  // the next look
    }
    db_.Exec("INSERT INTO done VALUES (0)");
    ASSERT_TRUE(sink->WaitForCommitted("done", 1, std::chrono::seconds(60)));
    EXPECT_TRUE(job.Stop().interrupted);
  }
  WriteChanges();
  {
    runtime::JobSummary stopped =
        sluice::testing::conformance::RunStoppedAtBatch(spec, registry, 10);
    EXPECT_TRUE(stopped.interrupted) << stopped.status.ToString();
  }
  {
    // Batches of at most 200 rows: the 10th ends inside the large transaction (over 9000 rows).
    std::lock_guard<std::mutex> lock(sink->mutex);
    const std::string split = std::string(kBinlogSplitPrefix) + db_.name();
    ASSERT_EQ(sink->committed_progress.count(split), 1u);
    EXPECT_THAT(sink->committed_progress[split].position, HasSubstr("\"txn\""));
  }
  {
    sluice::testing::conformance::BackgroundJob job(spec, registry);
    ASSERT_TRUE(sink->WaitForCommitted("done", 2, std::chrono::seconds(120)));
    EXPECT_TRUE(job.Stop().interrupted);
  }
  size_t committed = 0;
  for (const char* table : {"a", "b", "done"})
    committed += sink->CommittedChanges(table).size();
  EXPECT_EQ(committed, kRowsWritten + 1);
  // Each key's changes in the order written: a's row 1200 kept its date (the zero date was a
  // bad record), row 1 got its inserts, update and second update.
  using K = RowKind;
  std::vector<std::pair<RowKind, std::string>> of_key;
  for (const auto& change : sink->CommittedChanges("a")) {
    if (change.second == "1")
      of_key.push_back(change);
  }
  EXPECT_THAT(of_key, ElementsAreArray(std::vector<std::pair<RowKind, std::string>>{
                          {K::kInsert, "1"},
                          {K::kUpdateBefore, "1"},
                          {K::kUpdateAfter, "1"},
                          {K::kUpdateBefore, "1"},
                          {K::kUpdateAfter, "1"}}));
  std::map<std::string, Row> folded = sink->CommittedFolded("a");
  EXPECT_EQ(folded.size(), 4000u - 20u);
}

}  // namespace
}  // namespace sluice::connectors::mysql
