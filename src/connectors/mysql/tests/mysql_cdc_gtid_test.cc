// mode: cdc against the real MariaDB, whose binlog always carries GTIDs: transactions logged
// while gtid_strict_mode is switched on (while the job is stopped) and off (while it runs)
// arrive once, and the position records the last group's GTID. Positions resume by file and
// offset, so the setting does not change where a run resumes. (A transaction in another
// replication domain, gtid_domain_id, would stay in the shared server's @@gtid_binlog_pos for
// good; MariaDB's GTID event with its domain is parsed in mysql_binlog_test.cc.)
//
// gtid_strict_mode is a global setting: the test holds the binlog lock alone (the other binlog
// readers hold it shared) and sets the server's value back when it ends.
#include <fmt/core.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
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
using ::testing::MatchesRegex;
using sluice::testing::TempDir;
using sluice::testing::conformance::BackgroundJob;
using sluice::testing::conformance::JobSpec;
using testing::TestDatabase;


class MysqlCdcGtidTest : public testing::CdcFixture<> {
 protected:
  MysqlCdcGtidTest() : CdcFixture("cdc_gtid", /*exclusive_lock=*/true) {}

  void SetUp() override {
    CdcFixture::SetUp();
    if (IsSkipped())
      return;
    strict_mode_ = db_.Exec("SELECT @@GLOBAL.gtid_strict_mode");
    strict_mode_ = strict_mode_.substr(0, strict_mode_.find('\n'));
  }

  void TearDown() override {
    if (lock_ && !strict_mode_.empty())
      db_.Exec(fmt::format("SET GLOBAL gtid_strict_mode = {}", strict_mode_));
    lock_.reset();
  }

  std::string strict_mode_;  // the server's, set back at the end
};

TEST_F(MysqlCdcGtidTest, ChangesUnderStrictModeSwitchedOnAndOffArriveOnceAcrossAStop) {
  db_.Exec("SET GLOBAL gtid_strict_mode = OFF; CREATE TABLE t (id INT PRIMARY KEY, v INT)");
  JobSpec spec = Spec("t");
  ASSERT_NO_FATAL_FAILURE(CaptureAndStop(spec,
                                         "INSERT INTO t VALUES (1, 1); BEGIN; UPDATE t SET v = "
                                         "10 WHERE id = 1; INSERT INTO t VALUES (2, 2); COMMIT",
                                         4));
  EXPECT_THAT(CommittedPosition(), MatchesRegex(".*\"gtid\":\"0-1-[0-9]+\".*"));
  db_.Exec("SET GLOBAL gtid_strict_mode = ON");
  db_.Exec("DELETE FROM t WHERE id = 1; INSERT INTO t VALUES (3, 3)");
  {
    BackgroundJob job(spec, registry_);
    ASSERT_TRUE(job.WaitForCommitted(2, std::chrono::seconds(60)));
    // Switched off again while the job runs.
    db_.Exec("SET GLOBAL gtid_strict_mode = OFF");
    db_.Exec("UPDATE t SET v = 30 WHERE id = 3");
    ASSERT_TRUE(job.WaitForCommitted(4, std::chrono::seconds(60)));
    EXPECT_TRUE(job.Stop().interrupted);
  }
  using K = RowKind;
  EXPECT_THAT(sink_->CommittedChanges("t"),
              ElementsAreArray(std::vector<std::pair<RowKind, std::string>>{
                  {K::kInsert, "1"}, {K::kUpdateBefore, "1"}, {K::kUpdateAfter, "1"},
                  {K::kInsert, "2"}, {K::kDelete, "1"}, {K::kInsert, "3"},
                  {K::kUpdateBefore, "3"}, {K::kUpdateAfter, "3"}}));
}

}  // namespace
}  // namespace sluice::connectors::mysql
