// mode: cdc against the real MariaDB (binlog_format ROW, full row images with column names):
// changes of every column type arrive once, in commit order, across a stop and changes made
// while stopped, and fold into exactly what the snapshot source reads; a transaction larger
// than a batch, stopped inside, resumes inside it without loss or duplicate; and the refusals
// (a keyless table, a purged binlog) say what to do.
//
// Tests that purge the binlog would pull it from under the others' stopped jobs: every test
// here holds a lock on a file beside the server's data, shared, and the purging test holds it
// alone.
#include <fmt/core.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <thread>
#include <unistd.h>

#include "connectors/mysql/mysql_binlog_source.h"
#include "connectors/mysql/mysql_options.h"
#include "connectors/mysql/tests/mysql_cdc_fixture.h"
#include "connectors/registry.h"
#include "testing/conformance/conformance_job.h"
#include "testing/gtest_util.h"
#include "testing/memory_connector.h"
#include "testing/stop_at_batch.h"
#include "testing/temp_dir.h"

namespace sluice::connectors {
void RegisterMysqlConnector(ConnectorRegistry& registry);
}  // namespace sluice::connectors

namespace sluice::connectors::mysql {
namespace {

using ::testing::ElementsAreArray;
using ::testing::HasSubstr;
using sluice::testing::Row;
using sluice::testing::TempDir;
using sluice::testing::conformance::BackgroundJob;
using sluice::testing::conformance::JobSpec;
using testing::TestDatabase;


using Change = std::pair<RowKind, std::string>;

class MysqlCdcTest : public testing::CdcFixture<> {
 protected:
  explicit MysqlCdcTest(bool exclusive_lock = false) : CdcFixture("cdc", exclusive_lock) {}
};

constexpr std::string_view kTypesTable = R"sql(
  CREATE TABLE typed (
    id INT PRIMARY KEY,
    ti TINYINT, tb TINYINT(1), tu TINYINT UNSIGNED, si SMALLINT, su SMALLINT UNSIGNED,
    mi MEDIUMINT, mu MEDIUMINT UNSIGNED, i INT, iu INT UNSIGNED, bi BIGINT, bu BIGINT UNSIGNED,
    y YEAR, b3 BIT(3), b64 BIT(64), f FLOAT, d DOUBLE, dec1 DECIMAL(10,2), dec65 DECIMAL(65,30),
    c CHAR(3), vc VARCHAR(20), tx TEXT, e ENUM('a','b''c'), st SET('x','y','z'),
    bn BINARY(4), vb VARBINARY(10), bl BLOB, j JSON, l1 VARCHAR(10) CHARACTER SET latin1,
    dt DATE, tm TIME, tm3 TIME(3), dtm DATETIME, dtm6 DATETIME(6), ts TIMESTAMP(6) NULL,
    g GEOMETRY)
)sql";

// Row 1 holds every type's extremes, row 2 NULLs, row 3 zeros and empty values.
constexpr std::string_view kFirstRows = R"sql(
  INSERT INTO typed VALUES
  (1, -128, 1, 255, -32768, 65535, -8388608, 16777215, -2147483648, 4294967295,
   -9223372036854775808, 18446744073709551615, 2155, b'101',
   b'1111111111111111111111111111111111111111111111111111111111111111',
   -1.5e-38, 2.2250738585072014e-308, -12345678.91,
   '-12345678901234567890123456789012345.123456789012345678901234567891',
   'ab', 'Grüße 😀', 'line1\nline2\ttab\\', 'b''c', 'x,z',
   X'00FF0a0d', X'', X'000102FEFF', '{"a": [1, 2.5, "x"]}', 'café €ÿ',
   '1000-01-01', '-838:59:59', '838:59:58.999', '9999-12-31 23:59:59',
   '2024-02-29 13:45:07.000123', '2038-01-19 03:14:07.999999', ST_GeomFromText('POINT(1 2)'));
  INSERT INTO typed (id) VALUES (2);
  INSERT INTO typed VALUES
  (3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1901, b'0', b'0', -0.0, 0.1, 0, 0, '', '', '', 'a', '',
   X'00000000', X'00', X'', 'null', '', '2000-01-01', '00:00:00', '-00:00:00.5',
   '1970-01-01 00:00:00', '1970-01-01 00:00:00', '1970-01-01 00:00:01', NULL);
)sql";

TEST_F(MysqlCdcTest, EveryChangeArrivesOnceInOrderAcrossAStopAndFoldsIntoTheTable) {
  db_.Exec(std::string(kTypesTable));
  JobSpec spec = Spec("typed");
  {
    BackgroundJob job(spec, registry_);
    WaitForStream();
    db_.Exec(std::string(kFirstRows));
    // One transaction: an update of every kind of value, and a primary-key change.
    db_.Exec("BEGIN;"
             "UPDATE typed SET vc = 'second 🚀', dec1 = 0.01, dec65 = -0.5, f = 3.25, "
             "d = -1e300, tm3 = '-12:34:56.789', dtm6 = '1999-12-31 23:59:59.999999', "
             "ts = '2001-02-03 04:05:06.7', e = 'a', st = '', bn = X'01', l1 = NULL, "
             "b64 = 0, y = 0, j = '[]' WHERE id = 1;"
             "UPDATE typed SET id = 4 WHERE id = 2;"
             "COMMIT;"
             // The stream follows the server into its next binlog file.
             "FLUSH BINARY LOGS;"
             "DELETE FROM typed WHERE id = 3;");
    ASSERT_TRUE(job.WaitForCommitted(8, std::chrono::seconds(60)));
    runtime::JobSummary summary = job.Stop();
    EXPECT_TRUE(summary.interrupted) << summary.status.ToString();
  }
  // Changes while no job runs wait in the binlog.
  db_.Exec("INSERT INTO typed (id, vc, st, g) VALUES (5, NULL, 'y,z', ST_GeomFromText("
           "'LINESTRING(0 0, 1 1)'));"
           "UPDATE typed SET tx = REPEAT('é', 3000), bl = REPEAT(X'00FF', 30000), "
           "dt = '0001-01-01', ts = NULL, c = 'xyz' WHERE id = 1;"
           "DELETE FROM typed WHERE id = 4;");
  {
    BackgroundJob job(spec, registry_);
    ASSERT_TRUE(job.WaitForCommitted(4, std::chrono::seconds(60)));
    runtime::JobSummary summary = job.Stop();
    EXPECT_TRUE(summary.interrupted) << summary.status.ToString();
  }
  using K = RowKind;
  EXPECT_THAT(sink_->CommittedChanges("typed"),
              ElementsAreArray(std::vector<Change>{
                  {K::kInsert, "1"}, {K::kInsert, "2"}, {K::kInsert, "3"},
                  {K::kUpdateBefore, "1"}, {K::kUpdateAfter, "1"},
                  {K::kUpdateBefore, "2"}, {K::kUpdateAfter, "4"}, {K::kDelete, "3"},
                  {K::kInsert, "5"}, {K::kUpdateBefore, "1"}, {K::kUpdateAfter, "1"},
                  {K::kDelete, "4"}}));
  // Folded by key, the changes are the table as the snapshot source reads it: every type's
  // value as the binary protocol gives it.
  std::map<std::string, Row> folded = sink_->CommittedFolded("typed");
  EXPECT_EQ(folded.size(), 2u);
  EXPECT_EQ(folded, TableRows("typed"));
}

TEST_F(MysqlCdcTest, ATransactionLargerThanABatchResumesInsideItAfterAStop) {
  db_.Exec("CREATE TABLE t (id INT PRIMARY KEY, v VARCHAR(20));"
           "CREATE TABLE other (k VARCHAR(10) PRIMARY KEY, n INT)");
  JobSpec spec = Spec("t, other");
  spec.batch_rows = 10;
  {
    // A first run commits a change, so that the next one resumes after it (a run that committed
    // nothing is started over, from the server's position then).
    BackgroundJob job(spec, registry_);
    WaitForStream();
    db_.Exec("INSERT INTO t VALUES (500, 'first')");
    ASSERT_TRUE(job.WaitForCommitted(1, std::chrono::seconds(60)));
    EXPECT_TRUE(job.Stop().interrupted);
  }
  // While stopped: a transaction across both tables, then one of 210 rows in several statements.
  db_.Exec("BEGIN;"
           "INSERT INTO t VALUES (1000, 'a'), (1001, 'b');"
           "INSERT INTO other VALUES ('x', 1);"
           "UPDATE t SET v = 'c' WHERE id = 1000;"
           "DELETE FROM other WHERE k = 'x';"
           "COMMIT;"
           "BEGIN;"
           "INSERT INTO t SELECT seq, CONCAT('v', seq) FROM seq_1_to_100;"
           "UPDATE t SET v = 'u' WHERE id <= 50;"
           "DELETE FROM t WHERE id > 90 AND id <= 100;"
           "COMMIT;");
  std::vector<Change> expected_t = {{RowKind::kInsert, "500"},
                                    {RowKind::kInsert, "1000"},
                                    {RowKind::kInsert, "1001"},
                                    {RowKind::kUpdateBefore, "1000"},
                                    {RowKind::kUpdateAfter, "1000"}};
  for (int id = 1; id <= 100; ++id)
    expected_t.emplace_back(RowKind::kInsert, std::to_string(id));
  for (int id = 1; id <= 50; ++id) {
    expected_t.emplace_back(RowKind::kUpdateBefore, std::to_string(id));
    expected_t.emplace_back(RowKind::kUpdateAfter, std::to_string(id));
  }
  for (int id = 91; id <= 100; ++id)
    expected_t.emplace_back(RowKind::kDelete, std::to_string(id));
  {
    // Batches of at most 10 rows: the 8th ends at least 8 rows and at most 80 in, inside the
    // large transaction whatever the timing.
    runtime::JobSummary stopped =
        sluice::testing::conformance::RunStoppedAtBatch(spec, registry_, 8);
    EXPECT_TRUE(stopped.interrupted) << stopped.status.ToString();
  }
  {
    std::lock_guard<std::mutex> lock(sink_->mutex);
    ASSERT_EQ(sink_->committed_progress.count(BinlogSplit()), 1u);
    EXPECT_THAT(sink_->committed_progress[BinlogSplit()].position, HasSubstr("\"txn\""));
    EXPECT_LT(sink_->committed["t"].size(), expected_t.size());
  }
  {
    BackgroundJob job(spec, registry_);
    ASSERT_TRUE(sink_->WaitForCommitted("t", expected_t.size(), std::chrono::seconds(60)));
    EXPECT_TRUE(job.Stop().interrupted);
  }
  EXPECT_THAT(sink_->CommittedChanges("t"), ElementsAreArray(expected_t));
  EXPECT_THAT(sink_->CommittedChanges("other"),
              ElementsAreArray(std::vector<Change>{{RowKind::kInsert, "x"},
                                                   {RowKind::kDelete, "x"}}));
  EXPECT_EQ(sink_->CommittedFolded("t"), TableRows("t"));
  EXPECT_TRUE(sink_->CommittedFolded("other").empty());
}

TEST_F(MysqlCdcTest, AKeylessTableIsRefusedNamingIt) {
  db_.Exec("CREATE TABLE keyless (v TEXT, n INT UNIQUE)");
  runtime::JobSummary summary = sluice::testing::conformance::RunJob(Spec("keyless"), registry_);
  EXPECT_EQ(summary.status.code(), StatusCode::kInvalidConfig);
  EXPECT_THAT(summary.status.message(), HasSubstr(db_.name() + ".keyless has no primary key"));
}

TEST_F(MysqlCdcTest, AZeroDateIsABadRecordAndSkipsItsWholeChange) {
  db_.Exec("CREATE TABLE d (id INT PRIMARY KEY, day DATE)");
  JobSpec spec = Spec("d");
  spec.extra = "errors: {mode: skip}\n";
  BackgroundJob job(spec, registry_);
  WaitForStream();
  // The server's sql_mode allows zero dates; zero_dates: error refuses them.
  db_.Exec("INSERT INTO d VALUES (1, '2020-01-01'), (2, '0000-00-00'), (3, '2021-02-03');"
           "UPDATE d SET day = '0000-00-00' WHERE id = 1;"
           "UPDATE d SET day = '2022-01-01' WHERE id = 3;");
  ASSERT_TRUE(sink_->WaitForCommitted("d", 4, std::chrono::seconds(60)));
  runtime::JobSummary summary = job.Stop();
  EXPECT_TRUE(summary.interrupted) << summary.status.ToString();
  EXPECT_EQ(summary.metrics.bad_records, 2u);
  // The update whose after image was refused is left out whole: no update_before alone.
  using K = RowKind;
  EXPECT_THAT(sink_->CommittedChanges("d"),
              ElementsAreArray(std::vector<Change>{{K::kInsert, "1"}, {K::kInsert, "3"},
                                                   {K::kUpdateBefore, "3"},
                                                   {K::kUpdateAfter, "3"}}));
}

// A first run stopped before it committed anything is resumed, not started over: its recorded
// split holds where its stream began, so changes made while no run ran are captured.
TEST_F(MysqlCdcTest, ChangesWhileNoRunRanAfterAQuietFirstRunAreCaptured) {
  db_.Exec("CREATE TABLE t (id INT PRIMARY KEY, v INT)");
  JobSpec spec = Spec("t");
  {
    BackgroundJob job(spec, registry_);
    WaitForStream();
    runtime::JobSummary summary = job.Stop();
    EXPECT_TRUE(summary.interrupted) << summary.status.ToString();
  }
  db_.Exec("INSERT INTO t VALUES (1, 1), (2, 2); DELETE FROM t WHERE id = 2");
  BackgroundJob job(spec, registry_);
  ASSERT_TRUE(sink_->WaitForCommitted("t", 3, std::chrono::seconds(60)));
  runtime::JobSummary summary = job.Stop();
  EXPECT_TRUE(summary.resumed);
  using K = RowKind;
  EXPECT_THAT(sink_->CommittedChanges("t"),
              ElementsAreArray(std::vector<Change>{{K::kInsert, "1"}, {K::kInsert, "2"},
                                                   {K::kDelete, "2"}}));
}

TEST_F(MysqlCdcTest, ALostStreamIsRetriedWithoutLossOrDuplicate) {
  db_.Exec("CREATE TABLE t (id INT PRIMARY KEY, v INT)");
  BackgroundJob job(Spec("t"), registry_);
  WaitForStream();
  db_.Exec("INSERT INTO t VALUES (1, 1)");
  ASSERT_TRUE(sink_->WaitForCommitted("t", 1, std::chrono::seconds(60)));
  // The server ends the job's binlog dump (as a restart or a network cut would): the reader's
  // error is transient, and the runtime resumes from the last checkpoint.
  db_.Exec(fmt::format("SELECT ID INTO @dump FROM information_schema.PROCESSLIST WHERE COMMAND "
                       "= 'Binlog Dump' AND DB = '{}' LIMIT 1; KILL CONNECTION @dump",
                       db_.name()));
  db_.Exec("INSERT INTO t VALUES (2, 2); UPDATE t SET v = 10 WHERE id = 1");
  ASSERT_TRUE(sink_->WaitForCommitted("t", 4, std::chrono::seconds(60)));
  runtime::JobSummary summary = job.Stop();
  EXPECT_TRUE(summary.interrupted) << summary.status.ToString();
  EXPECT_GE(summary.metrics.retries, 1u);
  using K = RowKind;
  EXPECT_THAT(sink_->CommittedChanges("t"),
              ElementsAreArray(std::vector<Change>{{K::kInsert, "1"}, {K::kInsert, "2"},
                                                   {K::kUpdateBefore, "1"},
                                                   {K::kUpdateAfter, "1"}}));
}

// The stream's columns are those the job read when it started: a column added while it runs is
// left out (mysql_cdc_schema_test.cc follows ALTER TABLE in full).
TEST_F(MysqlCdcTest, AColumnAddedWhileRunningIsLeftOutOfTheStream) {
  db_.Exec("CREATE TABLE t (id INT PRIMARY KEY, v INT)");
  BackgroundJob job(Spec("t"), registry_);
  WaitForStream();
  db_.Exec("ALTER TABLE t ADD COLUMN w INT; INSERT INTO t VALUES (1, 1, 1)");
  ASSERT_TRUE(sink_->WaitForCommitted("t", 1, std::chrono::seconds(60)));
  runtime::JobSummary summary = job.Stop();
  EXPECT_TRUE(summary.interrupted) << summary.status.ToString();
  std::lock_guard<std::mutex> lock(sink_->mutex);
  EXPECT_EQ(sink_->committed["t"], (std::vector<Row>{{"1", "1"}}));
}

// start_from FILE:POSITION: a first run starts there, so changes made before it are captured;
// a binlog the server does not keep, or a malformed value, is refused naming the option.
TEST_F(MysqlCdcTest, AFirstRunStartsFromAGivenBinlogPosition) {
  db_.Exec("CREATE TABLE t (id INT PRIMARY KEY, v INT)");
  std::string status = db_.Exec("SHOW MASTER STATUS");
  std::string file = status.substr(0, status.find('\t'));
  std::string rest = status.substr(status.find('\t') + 1);
  std::string position = rest.substr(0, rest.find('\t'));
  db_.Exec("INSERT INTO t VALUES (1, 1); UPDATE t SET v = 2 WHERE id = 1");
  BackgroundJob job(Spec("t", fmt::format(", start_from: '{}:{}'", file, position)), registry_);
  ASSERT_TRUE(job.WaitForCommitted(3, std::chrono::seconds(60)));
  EXPECT_TRUE(job.Stop().interrupted);
  EXPECT_THAT(sink_->CommittedChanges("t"),
              ElementsAreArray({Change{RowKind::kInsert, "1"}, Change{RowKind::kUpdateBefore, "1"},
                                Change{RowKind::kUpdateAfter, "1"}}));

  runtime::JobSummary missing = sluice::testing::conformance::RunJob(
      Spec("t", ", start_from: 'nosuch-bin.000001:4'"), registry_, /*fresh=*/true);
  EXPECT_EQ(missing.status.code(), StatusCode::kInvalidConfig) << missing.status.ToString();
  EXPECT_THAT(missing.status.message(), HasSubstr("keeps no binlog 'nosuch-bin.000001'"));
  runtime::JobSummary malformed = sluice::testing::conformance::RunJob(
      Spec("t", ", start_from: yesterday"), registry_, /*fresh=*/true);
  EXPECT_EQ(malformed.status.code(), StatusCode::kInvalidConfig) << malformed.status.ToString();
  EXPECT_THAT(malformed.status.message(), HasSubstr("current, earliest or FILE:POSITION"));
}

class MysqlCdcPurgeTest : public MysqlCdcTest {
 protected:
  MysqlCdcPurgeTest() : MysqlCdcTest(/*exclusive_lock=*/true) {}
};

TEST_F(MysqlCdcPurgeTest, APurgedBinlogFailsTheResumeSayingWhatToDo) {
  db_.Exec("CREATE TABLE t (id INT PRIMARY KEY)");
  JobSpec spec = Spec("t");
  ASSERT_NO_FATAL_FAILURE(CaptureAndStop(spec, "INSERT INTO t VALUES (1)", 1));
  std::string position;
  {
    std::lock_guard<std::mutex> lock(sink_->mutex);
    position = sink_->committed_progress[BinlogSplit()].position;
  }
  // The file the position names goes, once no other reader holds it.
  db_.Exec("FLUSH BINARY LOGS");
  std::string current = db_.Exec("SHOW MASTER STATUS");
  current = current.substr(0, current.find('\t'));
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  for (;;) {
    db_.Exec(fmt::format("PURGE BINARY LOGS TO '{}'", current));
    std::string logs = db_.Exec("SHOW BINARY LOGS");
    if (logs.find(current) == 0)
      break;
    ASSERT_LT(std::chrono::steady_clock::now(), deadline) << "the old binlogs stayed: " << logs;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));  // the next try
  }
  runtime::JobSummary resumed = sluice::testing::conformance::RunJob(spec, registry_);
  EXPECT_EQ(resumed.status.code(), StatusCode::kNotFound) << resumed.status.ToString();
  EXPECT_THAT(resumed.status.message(), HasSubstr("purged"));
  EXPECT_THAT(resumed.status.message(), HasSubstr("--fresh"));
  EXPECT_THAT(position, HasSubstr("\"file\""));
}

}  // namespace
}  // namespace sluice::connectors::mysql
