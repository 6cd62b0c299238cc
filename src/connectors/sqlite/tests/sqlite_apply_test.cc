// mode: apply through the runtime: a datagen changelog (inserts, updates, key-changing updates,
// deletes, deletes of missing keys; NULLs and unicode) ends in exactly the state the changelog
// implies, computed independently (datagen/tests/changelog_reference.h), also when the job is
// stopped and resumed or killed at every commit step; and the refusals of what cannot work.
#include <fmt/core.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>
#include <random>

#include "connectors/datagen/tests/changelog_reference.h"
#include "connectors/registry.h"
#include "connectors/sqlite/tests/sqlite_test_util.h"
#include "runtime/job_runner.h"
#include "testing/crash_loop.h"
#include "testing/gtest_util.h"
#include "testing/stop_at_batch.h"
#include "testing/temp_dir.h"

namespace sluice::connectors {
void RegisterDatagenConnector(ConnectorRegistry& registry);
void RegisterSqliteConnector(ConnectorRegistry& registry);
}  // namespace sluice::connectors

namespace sluice::connectors::sqlite {
namespace {

using ::testing::HasSubstr;
using State = std::map<std::string, sluice::testing::Row>;

class SqliteApplyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    RegisterDatagenConnector(registry_);
    RegisterSqliteConnector(registry_);
  }

  config::JobConfig Job(const datagen::DatagenOptions& source, const std::string& sink,
                        int parallelism, double checkpoint_secs = 0.005) {
    std::string text = fmt::format(
        "name: apply\nsource: {}\nsink: {{type: sqlite, {}}}\nparallelism: {}\nbatch_rows: 50\n"
        "state: '{}'\ncheckpoint: {{interval_secs: {}}}\n",
        datagen::testing::SourceYaml(source), sink, parallelism, state_.path(), checkpoint_secs);
    Result<config::JobConfig> job = config::LoadJobText(text, "test.yaml", {});
    EXPECT_TRUE(job.ok()) << job.status().ToString();
    return *job;
  }

  runtime::JobSummary Run(const config::JobConfig& job) {
    return runtime::JobRunner(job, registry_).Run(nullptr);
  }

  // The table's rows by id, read back through the sqlite source.
  State TableState(const std::string& path, const std::string& table) {
    State state;
    auto source = testing::MakeSource(fmt::format("path: '{}'\ntable: {}", path, table));
    EXPECT_TRUE(source.ok()) << source.status().ToString();
    std::atomic<bool> cancelled{false};
    sluice::testing::RecordAndFail handler;
    JobContext context = testing::MakeContext(&handler, &cancelled);
    Status opened = (*source)->Open(context);
    EXPECT_TRUE(opened.ok()) << opened.ToString();
    auto read = testing::ReadAll(**source);
    EXPECT_TRUE(read.ok()) << read.status().ToString();
    for (const testing::Row& row : (*read)[0].rows)
      state[*row[0]] = sluice::testing::Row(row.begin(), row.end());
    return state;
  }

  static State Expected(const datagen::DatagenOptions& options) {
    datagen::testing::Changelog log = datagen::testing::ReadChangelog(options);
    return datagen::testing::FinalState(&log);
  }

  ConnectorRegistry registry_;
  sluice::testing::TempDir state_, out_;
};

TEST_F(SqliteApplyTest, EndsWithTheStateTheChangelogImplies) {
  // Three splits own disjoint keys, so three writers keep each key's changes in order.
  datagen::DatagenOptions source = datagen::testing::TestChangelog(3000, 240, 1000);
  State expected = Expected(source);
  ASSERT_GT(expected.size(), 50u);
  for (int parallelism : {1, 3}) {
    SCOPED_TRACE(parallelism);
    std::string path = out_.Join(fmt::format("apply{}.db", parallelism));
    // A row outside the key space stays as it is.
    testing::ExecOrDie(path,
                       "CREATE TABLE changes (id INTEGER PRIMARY KEY, name TEXT, amount "
                       "DECIMAL_TEXT(12,2), at DATETIME); INSERT INTO changes VALUES (-1, 'kept', "
                       "NULL, NULL)");
    runtime::JobSummary summary =
        Run(Job(source, fmt::format("path: '{}', mode: apply", path), parallelism));
    ASSERT_OK(summary.status);
    State table = TableState(path, "changes");
    ASSERT_EQ(table.count("-1"), 1u);
    EXPECT_EQ(*table["-1"][1], "kept");
    table.erase("-1");
    EXPECT_EQ(table, expected);
    // Run again from the start: applying the same changes again changes nothing.
    sluice::testing::TempDir again;
    config::JobConfig fresh = Job(source, fmt::format("path: '{}', mode: apply", path), 1);
    fresh.state_dir = again.path();
    ASSERT_OK(Run(fresh).status);
    table = TableState(path, "changes");
    table.erase("-1");
    EXPECT_EQ(table, expected);
  }
}

TEST_F(SqliteApplyTest, StoppedAndResumedEndsExact) {
  datagen::DatagenOptions source = datagen::testing::TestChangelog(4000, 200, 4000);
  std::string path = out_.Join("stopped.db");
  config::JobConfig job = Job(source, fmt::format("path: '{}', mode: apply", path), 1);
  {
    sluice::testing::StopAtBatch stop(23);
    runtime::JobSummary stopped = Run(job);
    ASSERT_TRUE(stopped.interrupted) << stopped.status.ToString();
  }
  runtime::JobSummary resumed = Run(job);
  ASSERT_OK(resumed.status);
  EXPECT_TRUE(resumed.resumed);
  EXPECT_EQ(TableState(path, "changes"), Expected(source));
}

// SIGKILL at every step of a commit: the run that finally completes leaves exactly the final
// state (a change applied twice after a resume is idempotent; none is lost).
TEST_F(SqliteApplyTest, KilledAtEveryCommitStepEndsExact) {
  std::random_device seed_source;
  const unsigned seed = seed_source();
  SCOPED_TRACE(fmt::format("seed {}", seed));
  datagen::DatagenOptions source = datagen::testing::TestChangelog(12000, 400, 6000);
  std::string path = out_.Join("killed.db");
  config::JobConfig job = Job(source, fmt::format("path: '{}', mode: apply", path), 2, 0);
  sluice::testing::CrashLoopOptions options;
  options.kills = 8;
  options.seed = seed;
  options.connector_points = {"sqlite.commit.after_rows=crash@2",
                              "sqlite.commit.before_fence_check=crash@3"};
  sluice::testing::CrashLoopResult crashes = sluice::testing::RunCrashLoop(
      [&] { return Run(job).status.ok() ? 0 : 1; }, options);
  ASSERT_EQ(crashes.kills, options.kills) << "a child finished the job before its crash point";
  runtime::JobSummary summary = Run(job);
  ASSERT_OK(summary.status);
  EXPECT_TRUE(summary.resumed);
  EXPECT_EQ(TableState(path, "changes"), Expected(source));
}

TEST_F(SqliteApplyTest, ChangelogIntoAppendOrOverwriteIsRefused) {
  datagen::DatagenOptions source = datagen::testing::TestChangelog(100, 10, 100);
  for (const char* mode : {"append", "overwrite"}) {
    SCOPED_TRACE(mode);
    std::string path = out_.Join(fmt::format("{}.db", mode));
    runtime::JobSummary summary =
        Run(Job(source, fmt::format("path: '{}', mode: {}", path, mode), 1));
    EXPECT_EQ(summary.status.code(), StatusCode::kInvalidConfig);
    EXPECT_THAT(summary.status.message(),
                HasSubstr(fmt::format("stream 'changes' is a changelog (inserts, updates and "
                                      "deletes), which mode: {} of the sqlite sink cannot write: "
                                      "set mode: apply",
                                      mode)));
  }
}

TEST_F(SqliteApplyTest, ApplyWithoutPrimaryKeyIsRefused) {
  datagen::DatagenOptions source = datagen::testing::TestChangelog(100, 10, 100);
  std::string path = out_.Join("nokey.db");
  testing::ExecOrDie(path, "CREATE TABLE changes (id INTEGER, name TEXT, amount TEXT, at TEXT)");
  runtime::JobSummary summary = Run(Job(source, fmt::format("path: '{}', mode: apply", path), 1));
  EXPECT_EQ(summary.status.code(), StatusCode::kInvalidConfig);
  EXPECT_THAT(summary.status.message(),
              HasSubstr(fmt::format("table 'changes' in SQLite database '{}' has no primary key, "
                                    "which mode: apply of the sqlite sink needs",
                                    path)));
}

}  // namespace
}  // namespace sluice::connectors::sqlite
