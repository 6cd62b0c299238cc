// mode: cdc against the real MariaDB while tables change: ALTER TABLE ADD COLUMN, DROP COLUMN
// and MODIFY, made while the job runs and while it is stopped, each under binlog_row_metadata
// FULL (the binlog names the columns) and MINIMAL (it does not: the job's schema history reads
// them). Every change arrives once with its values; a column added is left out until a restart,
// one dropped arrives as NULL; a type that no longer fits, a key column lost and (MINIMAL) a
// catalog already ahead of the binlog stop the job saying what to do.
//
// binlog_row_metadata is a global setting: a MINIMAL case holds the binlog lock alone (the other
// binlog readers, mysql_cdc_test.cc's and the FULL cases here, hold it shared) and sets FULL
// back when it ends.
#include <fmt/core.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <ostream>
#include <thread>
#include <unistd.h>

#include "connectors/mysql/mysql_options.h"
#include "connectors/mysql/mysql_binlog_source.h"
#include "connectors/mysql/tests/mysql_cdc_fixture.h"
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
using ::testing::Not;
using sluice::testing::TempDir;
using sluice::testing::conformance::BackgroundJob;
using sluice::testing::conformance::JobSpec;
using testing::TestDatabase;

enum class Metadata { kFull, kMinimal };

void PrintTo(Metadata metadata, std::ostream* out) {
  *out << "binlog_row_metadata " << (metadata == Metadata::kFull ? "FULL" : "MINIMAL");
}


class MysqlCdcSchemaTest : public testing::CdcFixture<::testing::TestWithParam<Metadata>> {
 protected:
  // MINIMAL changes how the server logs for every session: the binlog lock, exclusive.
  MysqlCdcSchemaTest() : CdcFixture("cdc_schema", GetParam() == Metadata::kMinimal) {}

  void SetUp() override {
    CdcFixture::SetUp();
    if (IsSkipped())
      return;
    // Sessions opened from here on log their table maps this way.
    db_.Exec(fmt::format("SET GLOBAL binlog_row_metadata = {}", minimal() ? "MINIMAL" : "FULL"));
  }

  void TearDown() override {
    if (lock_ && minimal())
      db_.Exec("SET GLOBAL binlog_row_metadata = FULL");
    lock_.reset();
  }

  bool minimal() const { return GetParam() == Metadata::kMinimal; }

  // Waits until the job ended by itself (an error), and returns how.
  runtime::JobSummary WaitForFailure(BackgroundJob& job) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (job.running() && std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(std::chrono::milliseconds(50));  // the next look
    EXPECT_FALSE(job.running()) << "the job did not stop";
    return job.Stop();
  }

  // Runs the job until `rows` rows are committed in this run, then stops it.
  void RunUntilCommitted(const JobSpec& spec, uint64_t rows) {
    BackgroundJob job(spec, registry_);
    EXPECT_TRUE(job.WaitForCommitted(rows, std::chrono::seconds(60)));
    runtime::JobSummary summary = job.Stop();
    EXPECT_TRUE(summary.interrupted) << summary.status.ToString();
  }

  // The committed changes of `stream`: "+I 1 a NULL", "-U ...", "+U ...", "-D ...".
  std::vector<std::string> Changes(const std::string& stream) {
    std::lock_guard<std::mutex> lock(sink_->mutex);
    std::vector<std::string> out;
    const auto& rows = sink_->committed[stream];
    const auto& kinds = sink_->committed_kinds[stream];
    for (size_t i = 0; i < rows.size(); ++i) {
      static constexpr const char* kKinds[] = {"+I", "-U", "+U", "-D"};
      std::string line = kKinds[static_cast<int>(kinds.at(i))];
      for (const auto& cell : rows[i]) {
        line.push_back(' ');
        line += cell.value_or("NULL");
      }
      out.push_back(std::move(line));
    }
    return out;
  }
};

TEST_P(MysqlCdcSchemaTest, AColumnAddedWhileRunningIsLeftOutUntilARestartCapturesIt) {
  db_.Exec("CREATE TABLE t (id INT PRIMARY KEY, v VARCHAR(20))");
  JobSpec spec = Spec("t");
  {
    BackgroundJob job(spec, registry_);
    WaitForStream();
    db_.Exec("INSERT INTO t VALUES (1, 'a');"
             "ALTER TABLE t ADD COLUMN w INT;"
             "INSERT INTO t VALUES (2, 'b', 20);"
             "UPDATE t SET w = 21, v = 'bb' WHERE id = 2");
    ASSERT_TRUE(job.WaitForCommitted(4, std::chrono::seconds(60)));
    runtime::JobSummary summary = job.Stop();
    EXPECT_TRUE(summary.interrupted) << summary.status.ToString();
  }
  db_.Exec("INSERT INTO t VALUES (3, 'c', 30)");
  RunUntilCommitted(spec, 1);
  EXPECT_THAT(Changes("t"), ElementsAreArray({"+I 1 a", "+I 2 b", "-U 2 b", "+U 2 bb",
                                              "+I 3 c 30"}));
  // Positions carry the tables' columns only when the binlog does not name them.
  if (minimal())
    EXPECT_THAT(CommittedPosition(), HasSubstr("\"columns\":{\"" + db_.name() + ".t\""));
  else
    EXPECT_THAT(CommittedPosition(), Not(HasSubstr("\"columns\"")));
}

TEST_P(MysqlCdcSchemaTest, AColumnDroppedWhileRunningArrivesAsNullUntilARestart) {
  db_.Exec("CREATE TABLE t (id INT PRIMARY KEY, v VARCHAR(20), w INT NOT NULL)");
  JobSpec spec = Spec("t");
  {
    BackgroundJob job(spec, registry_);
    WaitForStream();
    db_.Exec("INSERT INTO t VALUES (1, 'a', 10);"
             "ALTER TABLE t DROP COLUMN w;"
             "INSERT INTO t VALUES (2, 'b');"
             "DELETE FROM t WHERE id = 1");
    ASSERT_TRUE(job.WaitForCommitted(3, std::chrono::seconds(60)));
    runtime::JobSummary summary = job.Stop();
    EXPECT_TRUE(summary.interrupted) << summary.status.ToString();
  }
  db_.Exec("UPDATE t SET v = 'c' WHERE id = 2");
  RunUntilCommitted(spec, 2);
  EXPECT_THAT(Changes("t"), ElementsAreArray({"+I 1 a 10", "+I 2 b NULL", "-D 1 a NULL",
                                              "-U 2 b", "+U 2 c"}));
}

// A captured table renamed away and created again (qualified, quoted) while the job runs: the
// new table's rows are read by name onto the stream's columns.
TEST_P(MysqlCdcSchemaTest, ATableReplacedWhileRunningIsReadByName) {
  db_.Exec("CREATE TABLE t (id INT PRIMARY KEY, v VARCHAR(20));"
           "CREATE TABLE marker (id INT PRIMARY KEY)");
  BackgroundJob job(Spec("t, marker"), registry_);
  WaitForStream();
  db_.Exec("INSERT INTO t VALUES (1, 'a');"
           "RENAME TABLE t TO t_old;"
           "INSERT INTO marker VALUES (1)");
  // The marker's change is read after the RENAME: the reader knows the table is gone before it
  // is created again.
  ASSERT_TRUE(sink_->WaitForCommitted("marker", 1, std::chrono::seconds(60)));
  db_.Exec(fmt::format("CREATE TABLE `{}`.`t` (id INT PRIMARY KEY, extra INT, v VARCHAR(20));"
                       "INSERT INTO t VALUES (2, 22, 'b')",
                       db_.name()));
  ASSERT_TRUE(sink_->WaitForCommitted("t", 2, std::chrono::seconds(60)));
  runtime::JobSummary summary = job.Stop();
  EXPECT_TRUE(summary.interrupted) << summary.status.ToString();
  EXPECT_THAT(Changes("t"), ElementsAreArray({"+I 1 a", "+I 2 b"}));
}

// The changes logged before an ALTER made while the job was stopped are read with the columns
// they were logged with (by name, or from the position's schema history), then mapped onto the
// table as the restarted job reads it.
TEST_P(MysqlCdcSchemaTest, ChangesBeforeAnAlterMadeWhileStoppedKeepTheirValues) {
  db_.Exec("CREATE TABLE t (id INT PRIMARY KEY, v VARCHAR(10), old INT, n INT)");
  JobSpec spec = Spec("t");
  ASSERT_NO_FATAL_FAILURE(CaptureAndStop(spec, "INSERT INTO t VALUES (1, 'a', 1, 100)", 1));
  db_.Exec("INSERT INTO t VALUES (2, 'b', 2, 200);"
           "UPDATE t SET old = 11, v = 'aa' WHERE id = 1;"
           "ALTER TABLE t DROP COLUMN old, ADD COLUMN added INT AFTER id, "
           "MODIFY v VARCHAR(40);"
           "INSERT INTO t VALUES (3, 30, 'longer than ten', 300);"
           "DELETE FROM t WHERE id = 2");
  RunUntilCommitted(spec, 5);
  EXPECT_THAT(Changes("t"), ElementsAreArray({"+I 1 a 1 100", "+I 2 NULL b 200",
                                              "-U 1 NULL a 100", "+U 1 NULL aa 100",
                                              "+I 3 30 longer than ten 300",
                                              "-D 2 NULL b 200"}));
}

// A longer VARCHAR still reads as the stream's; a DECIMAL of another precision and scale
// converts through its text, and a value that does not fit the stream's is a bad record.
TEST_P(MysqlCdcSchemaTest, AWiderTypeWhileRunningIsReadOrConvertedValueByValue) {
  db_.Exec("CREATE TABLE t (id INT PRIMARY KEY, v VARCHAR(5), d DECIMAL(6,2))");
  JobSpec spec = Spec("t");
  spec.extra = "errors: {mode: skip}\n";
  BackgroundJob job(spec, registry_);
  WaitForStream();
  db_.Exec("INSERT INTO t VALUES (1, 'a', 1.5);"
           "ALTER TABLE t MODIFY v VARCHAR(40), MODIFY d DECIMAL(10,4);"
           "INSERT INTO t VALUES (2, 'much longer than five', 2.25);"
           "INSERT INTO t VALUES (3, 'c', 3.125);"
           "INSERT INTO t VALUES (4, 'd', -4)");
  ASSERT_TRUE(job.WaitForCommitted(3, std::chrono::seconds(60)));
  runtime::JobSummary summary = job.Stop();
  EXPECT_TRUE(summary.interrupted) << summary.status.ToString();
  EXPECT_EQ(summary.metrics.bad_records, 1u);
  EXPECT_THAT(Changes("t"), ElementsAreArray({"+I 1 a 1.50", "+I 2 much longer than five 2.25",
                                              "+I 4 d -4.00"}));
}

// After a restart the stream has the wider type: the changes logged with the narrower one
// before the ALTER convert to it.
TEST_P(MysqlCdcSchemaTest, AWiderTypeWhileStoppedConvertsTheChangesBeforeIt) {
  db_.Exec("CREATE TABLE t (id INT PRIMARY KEY, d DECIMAL(6,2), f FLOAT)");
  JobSpec spec = Spec("t");
  ASSERT_NO_FATAL_FAILURE(CaptureAndStop(spec, "INSERT INTO t VALUES (1, 1.5, 0.5)", 1));
  db_.Exec("INSERT INTO t VALUES (2, -2.25, -0.25);"
           "ALTER TABLE t MODIFY d DECIMAL(12,4), MODIFY f DOUBLE;"
           "INSERT INTO t VALUES (3, 12345678.1234, 1e300)");
  RunUntilCommitted(spec, 2);
  EXPECT_THAT(Changes("t"), ElementsAreArray({"+I 1 1.50 0.5", "+I 2 -2.2500 -0.25",
                                              "+I 3 12345678.1234 1e+300"}));
}

TEST_P(MysqlCdcSchemaTest, ATypeChangedWhileRunningStopsTheJobNamingColumnAndTypes) {
  db_.Exec("CREATE TABLE t (id INT PRIMARY KEY, n INT)");
  BackgroundJob job(Spec("t"), registry_);
  WaitForStream();
  db_.Exec("INSERT INTO t VALUES (1, 1)");
  ASSERT_TRUE(job.WaitForCommitted(1, std::chrono::seconds(60)));
  db_.Exec("ALTER TABLE t MODIFY n VARCHAR(10);"
           "INSERT INTO t VALUES (2, 'two')");
  runtime::JobSummary summary = WaitForFailure(job);
  EXPECT_EQ(summary.status.code(), StatusCode::kUnsupported) << summary.status.ToString();
  EXPECT_THAT(summary.status.message(),
              HasSubstr("table " + db_.name() + ".t: column 'n' changed its type"));
  EXPECT_THAT(summary.status.message(), HasSubstr("varchar"));
  EXPECT_THAT(summary.status.message(), HasSubstr("the job reads it as int"));
  EXPECT_THAT(summary.status.message(), HasSubstr("position"));
  EXPECT_THAT(summary.status.message(), HasSubstr("--fresh"));
  EXPECT_THAT(Changes("t"), ElementsAreArray({"+I 1 1"}));
}

// A restart after MODIFY reads the new type; the changes logged with the old one before it
// cannot become values of the new one.
TEST_P(MysqlCdcSchemaTest, ATypeChangedWhileStoppedIsRefusedForTheChangesBeforeIt) {
  db_.Exec("CREATE TABLE t (id INT PRIMARY KEY, n INT)");
  JobSpec spec = Spec("t");
  ASSERT_NO_FATAL_FAILURE(CaptureAndStop(spec, "INSERT INTO t VALUES (1, 1)", 1));
  db_.Exec("INSERT INTO t VALUES (2, 2);"
           "ALTER TABLE t MODIFY n BIGINT;"
           "INSERT INTO t VALUES (3, 3)");
  BackgroundJob job(spec, registry_);
  runtime::JobSummary summary = WaitForFailure(job);
  EXPECT_EQ(summary.status.code(), StatusCode::kUnsupported) << summary.status.ToString();
  EXPECT_THAT(summary.status.message(), HasSubstr("column 'n' changed its type"));
  EXPECT_THAT(summary.status.message(), HasSubstr("the job reads it as bigint"));
  EXPECT_THAT(Changes("t"), ElementsAreArray({"+I 1 1"}));
}

TEST_P(MysqlCdcSchemaTest, AKeyColumnLostWhileRunningStopsTheJob) {
  db_.Exec("CREATE TABLE t (id INT PRIMARY KEY, v INT)");
  BackgroundJob job(Spec("t"), registry_);
  WaitForStream();
  db_.Exec("INSERT INTO t VALUES (1, 1)");
  ASSERT_TRUE(job.WaitForCommitted(1, std::chrono::seconds(60)));
  db_.Exec("ALTER TABLE t CHANGE id key_id INT;"
           "INSERT INTO t VALUES (2, 2)");
  runtime::JobSummary summary = WaitForFailure(job);
  EXPECT_EQ(summary.status.code(), StatusCode::kUnsupported) << summary.status.ToString();
  EXPECT_THAT(summary.status.message(),
              HasSubstr("table " + db_.name() + ".t: its primary key column 'id' is gone"));
  EXPECT_THAT(summary.status.message(), HasSubstr("--fresh"));
  EXPECT_THAT(Changes("t"), ElementsAreArray({"+I 1 1"}));
}

// Two ALTERs while stopped, changes between them: at the first, the catalog already describes
// the table after the second. Named columns read through it; without names the binlog cannot
// be read there.
TEST_P(MysqlCdcSchemaTest, TwoAltersWhileStoppedNeedColumnNamesInTheBinlog) {
  db_.Exec("CREATE TABLE t (id INT PRIMARY KEY, v INT)");
  JobSpec spec = Spec("t");
  ASSERT_NO_FATAL_FAILURE(CaptureAndStop(spec, "INSERT INTO t VALUES (1, 1)", 1));
  db_.Exec("INSERT INTO t VALUES (2, 2);"
           "ALTER TABLE t ADD COLUMN a INT;"
           "INSERT INTO t VALUES (3, 3, 3);"
           "ALTER TABLE t ADD COLUMN b VARCHAR(5);"
           "INSERT INTO t VALUES (4, 4, 4, 'x')");
  BackgroundJob job(spec, registry_);
  if (!minimal()) {
    ASSERT_TRUE(job.WaitForCommitted(3, std::chrono::seconds(60)));
    EXPECT_TRUE(job.Stop().interrupted);
    EXPECT_THAT(Changes("t"), ElementsAreArray({"+I 1 1", "+I 2 2 NULL NULL",
                                                "+I 3 3 3 NULL", "+I 4 4 4 x"}));
    return;
  }
  runtime::JobSummary summary = WaitForFailure(job);
  EXPECT_EQ(summary.status.code(), StatusCode::kUnsupported) << summary.status.ToString();
  EXPECT_THAT(summary.status.message(), HasSubstr("binlog_row_metadata = FULL"));
  EXPECT_THAT(summary.status.message(),
              HasSubstr("id int(11), v int(11), a int(11), b varchar(5)"));
  EXPECT_THAT(summary.status.message(), HasSubstr("--fresh"));
  // A job that fails commits nothing more: the change before the first ALTER (read with the
  // columns the position recorded) is delivered only if a checkpoint came before the failure.
  EXPECT_THAT(Changes("t"), ::testing::AnyOf(ElementsAreArray({"+I 1 1"}),
                                             ElementsAreArray({"+I 1 1", "+I 2 2 NULL NULL"})));
}

// Changes logged while the job was stopped, before an ALTER, are read with the columns the
// position recorded (MINIMAL: every type's spelling goes through the position and back) and
// fold into the table as the snapshot source reads it after the ALTER.
TEST_P(MysqlCdcSchemaTest, EveryTypeReadsRightWithTheColumnsTheBinlogLoggedItWith) {
  db_.Exec(R"sql(
    CREATE TABLE typed (
      id INT PRIMARY KEY, ti TINYINT, tb TINYINT(1), tu TINYINT UNSIGNED, si SMALLINT,
      mi MEDIUMINT, mu MEDIUMINT UNSIGNED, iu INT UNSIGNED, bi BIGINT, bu BIGINT UNSIGNED,
      y YEAR, b3 BIT(3), f FLOAT, d DOUBLE, dec1 DECIMAL(10,2), c CHAR(3), vc VARCHAR(20),
      tx TEXT, e ENUM('a','b''c'), st SET('x','y','z'), bn BINARY(4), vb VARBINARY(10), bl BLOB,
      j JSON, l1 VARCHAR(10) CHARACTER SET latin1, dt DATE, tm3 TIME(3), dtm6 DATETIME(6),
      ts TIMESTAMP(6) NULL, g GEOMETRY)
  )sql");
  constexpr std::string_view kRow = R"sql(
    INSERT INTO typed VALUES
    ({}, -128, 1, 255, -32768, -8388608, 16777215, 4294967295, -9223372036854775808,
     18446744073709551615, 2155, b'101', -1.5e-38, 2.2250738585072014e-308, -12345678.91,
     'ab', 'Grüße 😀', 'line1\nline2', 'b''c', 'x,z', X'00FF0a0d', X'', X'000102FEFF',
     '{{"a": [1, 2.5]}}', 'café €ÿ', '1000-01-01', '-838:59:58.999',
     '2024-02-29 13:45:07.000123', '2038-01-19 03:14:07.999999', ST_GeomFromText('POINT(1 2)'))
  )sql";
  JobSpec spec = Spec("typed");
  {
    BackgroundJob job(spec, registry_);
    WaitForStream();
    db_.Exec(fmt::format(kRow, 1));
    ASSERT_TRUE(job.WaitForCommitted(1, std::chrono::seconds(60)));
    EXPECT_TRUE(job.Stop().interrupted);
  }
  db_.Exec(fmt::format(kRow, 2) + ";" +
           "UPDATE typed SET vc = 'second', e = 'a', dec1 = 0.5, tm3 = '-00:00:00.5' WHERE id = 1;"
           "ALTER TABLE typed ADD COLUMN added INT DEFAULT 7 AFTER id, DROP COLUMN tx;"
           "INSERT INTO typed (id, vc) VALUES (3, 'after')");
  RunUntilCommitted(spec, 4);
  std::map<std::string, sluice::testing::Row> folded = sink_->CommittedFolded("typed");
  // Row 1 was inserted by the first run, with the columns it read then.
  folded.erase("1");
  std::map<std::string, sluice::testing::Row> snapshot = TableRows("typed");
  // The rows logged before the ALTER carry NULL for the column it added (the snapshot reads
  // its default).
  for (const char* key : {"1", "2"}) {
    ASSERT_EQ(snapshot.count(key), 1u);
    snapshot[key][1] = std::nullopt;
  }
  sluice::testing::Row update_after;
  {
    std::lock_guard<std::mutex> lock(sink_->mutex);
    update_after = sink_->committed["typed"].at(3);  // +I 1, +I 2, -U 1, +U 1
    EXPECT_EQ(sink_->committed_kinds["typed"].at(3), RowKind::kUpdateAfter);
  }
  EXPECT_EQ(update_after, snapshot["1"]);
  snapshot.erase("1");
  EXPECT_EQ(folded, snapshot);
}

INSTANTIATE_TEST_SUITE_P(RowMetadata, MysqlCdcSchemaTest,
                         ::testing::Values(Metadata::kFull, Metadata::kMinimal),
                         [](const ::testing::TestParamInfo<Metadata>& info) {
                           return info.param == Metadata::kFull ? "Full" : "Minimal";
                         });

}  // namespace
}  // namespace sluice::connectors::mysql
