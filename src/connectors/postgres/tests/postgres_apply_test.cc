// mode: apply into PostgreSQL through the runtime: a datagen changelog (inserts, updates,
// key-changing updates, deletes, deletes of missing keys; NULLs and unicode) ends in exactly the
// state the changelog implies, computed independently (datagen/tests/changelog_reference.h),
// also when the job is stopped and resumed or killed at every commit step; and the refusals.
// Each test has its own database.
#include <fmt/core.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>
#include <random>

#include "config/job_config.h"
#include "connectors/datagen/tests/changelog_reference.h"
#include "connectors/postgres/tests/postgres_test_util.h"
#include "connectors/registry.h"
#include "runtime/job_runner.h"
#include "testing/crash_loop.h"
#include "testing/gtest_util.h"
#include "testing/stop_at_batch.h"
#include "testing/temp_dir.h"

namespace sluice::connectors {
void RegisterPostgresConnector(ConnectorRegistry& registry);
void RegisterDatagenConnector(ConnectorRegistry& registry);
}  // namespace sluice::connectors

namespace sluice::connectors::postgres {
namespace {

using ::testing::HasSubstr;
using testing::TestDatabase;
using State = std::map<std::string, sluice::testing::Row>;

const ConnectorRegistry& ApplyRegistry() {
  static const ConnectorRegistry* registry = [] {
    auto* r = new ConnectorRegistry();
    RegisterPostgresConnector(*r);
    RegisterDatagenConnector(*r);
    return r;
  }();
  return *registry;
}

std::string Indented(const std::string& lines) {
  std::string out;
  size_t start = 0;
  while (start < lines.size()) {
    size_t end = lines.find('\n', start);
    if (end == std::string::npos)
      end = lines.size();
    out += "  " + lines.substr(start, end - start) + "\n";
    start = end + 1;
  }
  return out;
}

config::JobConfig Job(const TestDatabase& db, const datagen::DatagenOptions& source,
                      const std::string& state, const std::string& mode, int parallelism,
                      double checkpoint_secs = 0.005, const std::string& table = "changes") {
  std::string text = fmt::format(
      "name: apply\nparallelism: {}\nbatch_rows: 50\nstate: '{}'\n"
      "checkpoint: {{interval_secs: {}}}\nsource: {}\nsink:\n  type: postgres\n{}  mode: {}\n"
      "  table: {}\n",
      parallelism, state, checkpoint_secs, datagen::testing::SourceYaml(source),
      Indented(db.ConnectionYaml()), mode, table);
  Result<config::JobConfig> job = config::LoadJobText(text, "job.yaml", {});
  EXPECT_TRUE(job.ok()) << job.status().ToString();
  return *job;
}

runtime::JobSummary RunApply(const config::JobConfig& job) {
  return runtime::JobRunner(job, ApplyRegistry()).Run(nullptr);
}

// The table's rows by id, read back through the postgres source.
State TableState(const TestDatabase& db, const std::string& table) {
  State state;
  auto source = testing::MakeSource(db.ConnectionYaml() + "table: " + table + "\n");
  EXPECT_TRUE(source.ok()) << source.status().ToString();
  std::atomic<bool> cancelled{false};
  testing::RecordingBadRecords handler(false);
  JobContext context = testing::MakeContext(&handler, &cancelled, 1);
  Status opened = (*source)->Open(context);
  EXPECT_TRUE(opened.ok()) << opened.ToString();
  auto read = testing::ReadAll(**source, context);
  EXPECT_TRUE(read.ok()) << read.status().ToString();
  if (read.ok()) {
    for (const sluice::testing::Row& row : (*read)[0].rows)
      state[*row[0]] = row;
  }
  return state;
}

State Expected(const datagen::DatagenOptions& options) {
  datagen::testing::Changelog log = datagen::testing::ReadChangelog(options);
  return datagen::testing::FinalState(&log);
}

TEST(PostgresApplyTest, EndsWithTheStateTheChangelogImplies) {
  TestDatabase db("apply_final");
  // Three splits own disjoint keys, so three writers keep each key's changes in order.
  datagen::DatagenOptions source = datagen::testing::TestChangelog(3000, 240, 1000);
  State expected = Expected(source);
  ASSERT_GT(expected.size(), 50u);
  // A row outside the key space stays as it is.
  db.Exec(
      "CREATE TABLE changes (id bigint PRIMARY KEY, name text, amount numeric(12,2), at "
      "timestamp); INSERT INTO changes VALUES (-1, 'kept', NULL, NULL)");
  for (int parallelism : {1, 3}) {
    SCOPED_TRACE(parallelism);
    sluice::testing::TempDir state;
    ASSERT_OK(RunApply(Job(db, source, state.path(), "apply", parallelism)).status);
    State table = TableState(db, "changes");
    ASSERT_EQ(table.count("-1"), 1u);
    EXPECT_EQ(*table["-1"][1], "kept");
    table.erase("-1");
    EXPECT_EQ(table, expected);  // the second round applies every change again: no difference
  }
  // The table the sink creates takes the stream's key.
  sluice::testing::TempDir state;
  ASSERT_OK(RunApply(Job(db, source, state.path(), "apply", 2, 0.005, "created_changes")).status);
  EXPECT_EQ(TableState(db, "created_changes"), expected);
}

TEST(PostgresApplyTest, StoppedAndResumedEndsExact) {
  TestDatabase db("apply_stop");
  datagen::DatagenOptions source = datagen::testing::TestChangelog(4000, 200, 4000);
  sluice::testing::TempDir state;
  config::JobConfig job = Job(db, source, state.path(), "apply", 1);
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
TEST(PostgresApplyTest, KilledAtEveryCommitStepEndsExact) {
  TestDatabase db("apply_kill");
  std::random_device seed_source;
  const unsigned seed = seed_source();
  SCOPED_TRACE(fmt::format("seed {}", seed));
  datagen::DatagenOptions source = datagen::testing::TestChangelog(12000, 400, 6000);
  sluice::testing::TempDir state;
  config::JobConfig job = Job(db, source, state.path(), "apply", 2, 0);
  sluice::testing::CrashLoopOptions options;
  options.kills = 8;
  options.seed = seed;
  options.connector_points = {"postgres.commit.after_rows=crash@2",
                              "postgres.commit.before_fence_check=crash@3"};
  sluice::testing::CrashLoopResult crashes =
      sluice::testing::RunCrashLoop([&] { return RunApply(job).status.ok() ? 0 : 1; }, options);
  ASSERT_EQ(crashes.kills, options.kills) << "a child finished the job before its crash point";
  runtime::JobSummary summary = RunApply(job);
  ASSERT_OK(summary.status);
  EXPECT_TRUE(summary.resumed);
  EXPECT_EQ(TableState(db, "changes"), Expected(source));
}

TEST(PostgresApplyTest, ChangelogIntoOtherModesIsRefused) {
  TestDatabase db("apply_refused");
  datagen::DatagenOptions source = datagen::testing::TestChangelog(100, 10, 100);
  for (const char* mode : {"append", "upsert", "overwrite"}) {
    SCOPED_TRACE(mode);
    sluice::testing::TempDir state;
    runtime::JobSummary summary = RunApply(Job(db, source, state.path(), mode, 1));
    EXPECT_EQ(summary.status.code(), StatusCode::kInvalidConfig);
    EXPECT_THAT(summary.status.message(),
                HasSubstr(fmt::format("stream 'changes' is a changelog (inserts, updates and "
                                      "deletes), which mode: {} of the postgres sink cannot "
                                      "write: set mode: apply",
                                      mode)));
  }
}

TEST(PostgresApplyTest, ApplyWithoutPrimaryKeyIsRefused) {
  TestDatabase db("apply_nokey");
  db.Exec("CREATE TABLE changes (id bigint, name text, amount numeric(12,2), at timestamp)");
  datagen::DatagenOptions source = datagen::testing::TestChangelog(100, 10, 100);
  sluice::testing::TempDir state;
  runtime::JobSummary summary = RunApply(Job(db, source, state.path(), "apply", 1));
  EXPECT_EQ(summary.status.code(), StatusCode::kInvalidConfig);
  EXPECT_THAT(summary.status.message(), HasSubstr("table 'public.changes' on "));
  EXPECT_THAT(summary.status.message(),
              HasSubstr("has no primary key, which mode: apply of the postgres sink needs"));
}

}  // namespace
}  // namespace sluice::connectors::postgres
