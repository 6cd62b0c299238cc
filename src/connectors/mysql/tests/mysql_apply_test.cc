// mode: apply into MariaDB through the runtime, with both load methods: a datagen changelog
// (inserts, updates, key-changing updates, deletes, deletes of missing keys; NULLs and unicode)
// ends in exactly the state the changelog implies, computed independently
// (datagen/tests/changelog_reference.h), also when the job is stopped and resumed or killed at
// every commit step; and the refusals. Each test has its own database.
#include <fmt/core.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>
#include <random>

#include "config/job_config.h"
#include "connectors/datagen/tests/changelog_reference.h"
#include "connectors/mysql/tests/mysql_test_util.h"
#include "runtime/job_runner.h"
#include "testing/crash_loop.h"
#include "testing/gtest_util.h"
#include "testing/stop_at_batch.h"
#include "testing/temp_dir.h"

namespace sluice::connectors::mysql {
namespace {

using ::testing::HasSubstr;
using testing::Indent;
using testing::TestDatabase;
using State = std::map<std::string, sluice::testing::Row>;

// Writers applying interleaved keys may deadlock in InnoDB (the gap locks of duplicate-key
// checks): a transient error the runtime retries from the last checkpoint, quickly here.
config::JobConfig Job(const TestDatabase& db, const datagen::DatagenOptions& source,
                      const std::string& state, const std::string& sink, int parallelism,
                      double checkpoint_secs = 0.005) {
  std::string text = fmt::format(
      "name: apply\nparallelism: {}\nbatch_rows: 50\nstate: '{}'\n"
      "checkpoint: {{interval_secs: {}}}\n"
      "retry: {{max_attempts: 20, initial_backoff_secs: 0.05, max_backoff_secs: 0.2}}\n"
      "source: {}\nsink:\n  type: mysql\n{}{}",
      parallelism, state, checkpoint_secs, datagen::testing::SourceYaml(source),
      Indent(db.ConnectionYaml(), 2), Indent(sink, 2));
  Result<config::JobConfig> job = config::LoadJobText(text, "job.yaml", {});
  EXPECT_TRUE(job.ok()) << job.status().ToString();
  return *job;
}

runtime::JobSummary RunApply(const config::JobConfig& job) {
  return runtime::JobRunner(job, testing::Registry()).Run(nullptr);
}

// The table's rows by id, read back through the mysql source.
State TableState(const TestDatabase& db, const std::string& table) {
  State state;
  auto source = testing::MakeSource(db.ConnectionYaml() + "table: " + table + "\n");
  EXPECT_TRUE(source.ok()) << source.status().ToString();
  testing::RecordAndFail handler;
  JobContext context = testing::MakeContext(&handler);
  Status opened = (*source)->Open(context);
  EXPECT_TRUE(opened.ok()) << opened.ToString();
  auto read = testing::ReadAll(**source);
  EXPECT_TRUE(read.ok()) << read.status().ToString();
  if (read.ok()) {
    for (const testing::Row& row : (*read)[0].rows)
      state[*row[0]] = row;
  }
  return state;
}

State Expected(const datagen::DatagenOptions& options) {
  datagen::testing::Changelog log = datagen::testing::ReadChangelog(options);
  return datagen::testing::FinalState(&log);
}

TEST(MysqlApplyTest, EndsWithTheStateTheChangelogImplies) {
  MYSQL_TEST_DATABASE(db);
  // Three readers; the sink takes one writer in apply mode (see MysqlSink::max_writers).
  datagen::DatagenOptions source = datagen::testing::TestChangelog(3000, 240, 1000);
  State expected = Expected(source);
  ASSERT_GT(expected.size(), 50u);
  for (const char* method : {"load_data", "insert"}) {
    for (int parallelism : {1, 3}) {
      SCOPED_TRACE(fmt::format("{} {}", method, parallelism));
      std::string table = fmt::format("changes_{}_{}", method, parallelism);
      // A row outside the key space stays as it is.
      db.Exec(fmt::format(
          "CREATE TABLE {0} (id bigint PRIMARY KEY, name text, amount decimal(12,2), at "
          "datetime(6)) DEFAULT CHARSET utf8mb4; INSERT INTO {0} VALUES (-1, 'kept', NULL, NULL)",
          table));
      for (int round = 0; round < 2; ++round) {  // the second applies every change again
        sluice::testing::TempDir state;
        ASSERT_OK(RunApply(Job(db, source, state.path(),
                          fmt::format("table: {}\nmode: apply\nmethod: {}\n", table, method),
                          parallelism))
                      .status);
        State rows = TableState(db, table);
        ASSERT_EQ(rows.count("-1"), 1u);
        EXPECT_EQ(*rows["-1"][1], "kept");
        rows.erase("-1");
        EXPECT_EQ(rows, expected);
      }
    }
  }
  // The table the sink creates takes the stream's key.
  sluice::testing::TempDir state;
  ASSERT_OK(RunApply(Job(db, source, state.path(), "table: created\nmode: apply\n", 2)).status);
  EXPECT_EQ(TableState(db, "created"), expected);
}

TEST(MysqlApplyTest, StoppedAndResumedEndsExact) {
  MYSQL_TEST_DATABASE(db);
  datagen::DatagenOptions source = datagen::testing::TestChangelog(4000, 200, 4000);
  sluice::testing::TempDir state;
  config::JobConfig job = Job(db, source, state.path(), "mode: apply\n", 1);
  {
    sluice::testing::StopAtBatch stop(23);
    runtime::JobSummary stopped = RunApply(job);
    ASSERT_TRUE(stopped.interrupted) << stopped.status.ToString();
  }
  runtime::JobSummary resumed = RunApply(job);
  ASSERT_OK(resumed.status);
  EXPECT_TRUE(resumed.resumed);
  EXPECT_EQ(TableState(db, "changes"), Expected(source));
}

// SIGKILL at every step of a commit: the run that finally completes leaves exactly the final
// state (a change applied again after a resume is idempotent; none is lost).
TEST(MysqlApplyTest, KilledAtEveryCommitStepEndsExact) {
  MYSQL_TEST_DATABASE(db);
  std::random_device seed_source;
  const unsigned seed = seed_source();
  SCOPED_TRACE(fmt::format("seed {}", seed));
  datagen::DatagenOptions source = datagen::testing::TestChangelog(12000, 400, 6000);
  sluice::testing::TempDir state;
  config::JobConfig job = Job(db, source, state.path(), "mode: apply\n", 2, 0);
  sluice::testing::CrashLoopOptions options;
  options.kills = 8;
  options.seed = seed;
  options.connector_points = {"mysql.commit.after_rows=crash@2",
                              "mysql.commit.before_fence_check=crash@3"};
  sluice::testing::CrashLoopResult crashes =
      sluice::testing::RunCrashLoop([&] { return RunApply(job).status.ok() ? 0 : 1; }, options);
  ASSERT_EQ(crashes.kills, options.kills) << "a child finished the job before its crash point";
  runtime::JobSummary summary = RunApply(job);
  ASSERT_OK(summary.status);
  EXPECT_TRUE(summary.resumed);
  EXPECT_EQ(TableState(db, "changes"), Expected(source));
}

TEST(MysqlApplyTest, ChangelogIntoOtherModesIsRefused) {
  MYSQL_TEST_DATABASE(db);
  datagen::DatagenOptions source = datagen::testing::TestChangelog(100, 10, 100);
  for (const char* mode : {"append", "upsert", "overwrite"}) {
    SCOPED_TRACE(mode);
    sluice::testing::TempDir state;
    runtime::JobSummary summary =
        RunApply(Job(db, source, state.path(), fmt::format("mode: {}\n", mode), 1));
    EXPECT_EQ(summary.status.code(), StatusCode::kInvalidConfig);
    EXPECT_THAT(summary.status.message(),
                HasSubstr(fmt::format("stream 'changes' is a changelog (inserts, updates and "
                                      "deletes), which mode: {} of the mysql sink cannot write: "
                                      "set mode: apply",
                                      mode)));
  }
}

TEST(MysqlApplyTest, ApplyWithoutPrimaryKeyIsRefused) {
  MYSQL_TEST_DATABASE(db);
  db.Exec("CREATE TABLE changes (id bigint, name text, amount decimal(12,2), at datetime(6))");
  datagen::DatagenOptions source = datagen::testing::TestChangelog(100, 10, 100);
  sluice::testing::TempDir state;
  runtime::JobSummary summary = RunApply(Job(db, source, state.path(), "mode: apply\n", 1));
  EXPECT_EQ(summary.status.code(), StatusCode::kInvalidConfig);
  EXPECT_THAT(summary.status.message(),
              HasSubstr(fmt::format("table '{}.changes' has no primary key, which mode: apply of "
                                    "the mysql sink needs",
                                    db.name())));
}

}  // namespace
}  // namespace sluice::connectors::mysql
