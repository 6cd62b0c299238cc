// What the change data capture tests share (mysql_cdc_*_test.cc, mysql_snapshot_then_cdc_test.cc):
// a database of the test's own, a memory sink, a job name and state directory, and the
// BinlogLock (shared, or exclusive for a test that purges the binlog or changes how the server
// logs); jobs of the tables in `mode: cdc` (or another mode), and a wait for the job's binlog
// stream to register with the server.
#pragma once

#include <fmt/core.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <thread>

#include "connectors/mysql/mysql_binlog_source.h"
#include "connectors/mysql/mysql_options.h"
#include "connectors/mysql/tests/mysql_test_util.h"
#include "connectors/registry.h"
#include "testing/conformance/conformance_job.h"
#include "testing/memory_connector.h"
#include "testing/temp_dir.h"

namespace sluice::connectors {
void RegisterMysqlConnector(ConnectorRegistry& registry);
}  // namespace sluice::connectors

namespace sluice::connectors::mysql::testing {

/// `Base`: ::testing::Test, or ::testing::TestWithParam<T> for a parameterized suite.
template <typename Base = ::testing::Test>
class CdcFixture : public Base {
 protected:
  /// Jobs are named `<job_prefix>_<test>_<pid>` (a parameterized test's index left out).
  explicit CdcFixture(const std::string& job_prefix, bool exclusive_lock = false)
      : exclusive_lock_(exclusive_lock),
        sink_(std::make_shared<sluice::testing::MemorySinkData>()) {
    RegisterMysqlConnector(registry_);
    sluice::testing::RegisterMemoryConnector(
        registry_, std::make_shared<sluice::testing::MemorySourceData>(), sink_);
    std::string test = ::testing::UnitTest::GetInstance()->current_test_info()->name();
    job_name_ = fmt::format("{}_{}_{}", job_prefix, test.substr(0, test.find('/')), ::getpid());
  }

  void SetUp() override {
    if (!db_.ok())
      GTEST_SKIP() << "test servers not available (SLUICE_TEST_SERVERS_ENV)";
    lock_ = std::make_unique<BinlogLock>(db_.servers().mysql_datadir, exclusive_lock_);
  }

  /// A job reading `tables` in `mode`, with `extra` source options (", server_id: 7"), into the
  /// memory sink: one reader, a checkpoint every 0.2 s.
  sluice::testing::conformance::JobSpec Spec(const std::string& tables,
                                             const std::string& extra = "",
                                             const std::string& mode = "cdc") const {
    sluice::testing::conformance::JobSpec spec;
    spec.name = job_name_;
    spec.source = fmt::format("{{type: mysql, {}, tables: [{}], mode: {}{}}}",
                              FlowConnection(db_), tables, mode, extra);
    spec.sink = "{type: memory}";
    spec.state = state_.path();
    spec.parallelism = 1;
    spec.checkpoint_secs = 0.2;
    return spec;
  }

  /// Waits until the job's binlog stream has registered with the server (SHOW SLAVE HOSTS lists
  /// its server id): changes from then on are captured.
  void WaitForStream() {
    const uint32_t server_id = DefaultServerId(job_name_);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (db_.Exec("SHOW SLAVE HOSTS").find(fmt::format("{}\t", server_id)) ==
           std::string::npos) {
      ASSERT_LT(std::chrono::steady_clock::now(), deadline) << "the binlog stream never started";
      std::this_thread::sleep_for(std::chrono::milliseconds(50));  // the next look
    }
  }

  /// Runs `spec` until its binlog stream registered, runs `sql`, waits until this run committed
  /// `rows` rows, and stops the job.
  void CaptureAndStop(const sluice::testing::conformance::JobSpec& spec, const std::string& sql,
                      uint64_t rows) {
    sluice::testing::conformance::BackgroundJob job(spec, registry_);
    ASSERT_NO_FATAL_FAILURE(WaitForStream());
    db_.Exec(sql);
    ASSERT_TRUE(job.WaitForCommitted(rows, std::chrono::seconds(60)));
    EXPECT_TRUE(job.Stop().interrupted);
  }

  /// `table` as the snapshot source reads it now, by key (the first column).
  std::map<std::string, sluice::testing::Row> TableRows(const std::string& table) {
    auto read = std::make_shared<sluice::testing::MemorySinkData>();
    ConnectorRegistry registry;
    RegisterMysqlConnector(registry);
    sluice::testing::RegisterMemoryConnector(
        registry, std::make_shared<sluice::testing::MemorySourceData>(), read);
    sluice::testing::TempDir state;
    sluice::testing::conformance::JobSpec spec;
    spec.name = job_name_ + "_now";
    spec.source = fmt::format("{{type: mysql, {}, table: {}}}", FlowConnection(db_), table);
    spec.sink = "{type: memory}";
    spec.state = state.path();
    runtime::JobSummary summary = sluice::testing::conformance::RunJob(spec, registry);
    EXPECT_TRUE(summary.status.ok()) << summary.status.ToString();
    std::map<std::string, sluice::testing::Row> out;
    for (const sluice::testing::Row& row : read->committed[table])
      out[*row[0]] = row;
    return out;
  }

  /// The binlog split's id, and the position the sink committed for it.
  std::string BinlogSplit() const { return std::string(kBinlogSplitPrefix) + db_.name(); }
  std::string CommittedPosition() {
    std::lock_guard<std::mutex> lock(sink_->mutex);
    return sink_->committed_progress[BinlogSplit()].position;
  }

  const bool exclusive_lock_;
  TestDatabase db_;
  std::string job_name_;
  std::shared_ptr<sluice::testing::MemorySinkData> sink_;
  ConnectorRegistry registry_;
  sluice::testing::TempDir state_;
  std::unique_ptr<BinlogLock> lock_;
};

}  // namespace sluice::connectors::mysql::testing
