// Exactly-once delivery of the sqlite sink: rows and `_sluice_progress` commit in one
// transaction; a crash (objects destroyed without Abort, SIGKILL at every step of a commit) keeps
// both or neither; a stopped job resumes row for row, in append and overwrite mode;
// at-least-once still commits every commit_rows rows and stores no progress; a fresh run starts
// clean. Stops and kills land at failpoints (core/failpoint.h), never after a delay.
#include <fmt/core.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <random>

#include "connectors/registry.h"
#include "connectors/sqlite/tests/sqlite_test_util.h"
#include "core/logging.h"
#include "runtime/job_runner.h"
#include "testing/crash_loop.h"
#include "testing/gtest_util.h"
#include "testing/memory_connector.h"
#include "testing/stop_at_batch.h"
#include "testing/temp_dir.h"

namespace sluice::connectors {
void RegisterSqliteConnector(ConnectorRegistry& registry);
}  // namespace sluice::connectors

namespace sluice::connectors::sqlite {
namespace {

using testing::BatchOf;
using ::testing::ElementsAre;
using testing::ExecOrDie;
using ::testing::IsEmpty;
using testing::MakeContext;
using testing::MakeSink;
using testing::QueryOrDie;
using testing::RawRow;

// No primary key: a row written twice shows up twice instead of failing the insert.
SchemaPtr Orders() {
  return std::make_shared<const Schema>(
      std::vector<Field>{{"id", DataType::Int64(), false}, {"name", DataType::String(), true}});
}

std::vector<StreamInfo> OrdersStream() {
  return {StreamInfo{"orders", Orders(), std::nullopt}};
}

std::vector<testing::Row> OrderRows(int from, int count) {
  std::vector<testing::Row> rows;
  for (int id = from; id < from + count; ++id) {
    rows.push_back({std::to_string(id),
                    id % 5 == 0 ? std::nullopt : testing::Cell("name " + std::to_string(id))});
  }
  return rows;
}

std::unique_ptr<Batch> RowsBatch(int from, int count) {
  return BatchOf(Orders(), OrderRows(from, count));
}

// The rows an uninterrupted load of ids [0, count) leaves, as QueryOrDie reports them.
std::vector<RawRow> ExpectedRows(int count) {
  std::vector<RawRow> rows;
  for (int id = 0; id < count; ++id) {
    rows.push_back({fmt::format("INTEGER:{}", id),
                    id % 5 == 0 ? std::string("NULL") : fmt::format("TEXT:name {}", id)});
  }
  return rows;
}

std::vector<RawRow> Table(const std::string& path, const std::string& table = "orders") {
  return QueryOrDie(path, fmt::format("SELECT id, name FROM {} ORDER BY id, rowid", table));
}

// The splits' progress (not the run row, split id "", that Claim writes).
std::vector<RawRow> Progress(const std::string& path) {
  return QueryOrDie(path,
                    "SELECT job, split_id, position, done, checkpoint FROM _sluice_progress "
                    "WHERE split_id <> '' ORDER BY job, split_id");
}

bool HasTable(const std::string& path, const std::string& table) {
  return !QueryOrDie(path, fmt::format("SELECT name FROM sqlite_schema WHERE name = '{}'", table))
              .empty();
}

class SqliteSinkExactlyOnceTest : public ::testing::Test {
 protected:
  std::string Path() { return dir_.Join("sink.db"); }

  sluice::testing::TempDir dir_;
  testing::RecordAndFail fail_;
};

TEST_F(SqliteSinkExactlyOnceTest, RowsAndProgressCommitTogetherAndSurviveACrash) {
  for (const char* mode : {"append", "overwrite"}) {
    SCOPED_TRACE(mode);
    std::string path = dir_.Join(fmt::format("{}.db", mode));
    // commit_rows applies to at-least-once only: nothing may commit before Commit().
    std::string yaml = fmt::format("path: \"{}\"\nmode: {}\ncommit_rows: 10", path, mode);
    {
      ASSERT_OK_AND_ASSIGN(auto sink, MakeSink(yaml));
      JobContext context = MakeContext(&fail_);
      ASSERT_OK(sink->Open(context, OrdersStream()));
      std::string target = std::string(mode) == "append" ? "orders" : "_sluice_staging_orders";
      ASSERT_OK_AND_ASSIGN(auto writer, sink->CreateWriter(0));
      ASSERT_OK(writer->Write(*RowsBatch(0, 100)));
      EXPECT_THAT(QueryOrDie(path, "SELECT count(*) FROM " + target),
                  ElementsAre(RawRow{"INTEGER:0"}));
      EXPECT_FALSE(HasTable(path, "_sluice_progress"));
      ASSERT_OK(writer->Prepare());
      ASSERT_OK(
          writer->Commit(CommitContext{4, {{"s0", "{\"rowid\":100}", false}, {"s1", "", true}}}));
      EXPECT_THAT(QueryOrDie(path, "SELECT count(*) FROM " + target),
                  ElementsAre(RawRow{"INTEGER:100"}));
      EXPECT_THAT(Progress(path),
                  ElementsAre(RawRow{"TEXT:test", "TEXT:s0", "TEXT:{\"rowid\":100}", "INTEGER:0",
                                     "INTEGER:4"},
                              RawRow{"TEXT:test", "TEXT:s1", "TEXT:", "INTEGER:1", "INTEGER:4"}));
      ASSERT_OK(writer->Write(*RowsBatch(100, 50)));  // never committed
      // The crash: no Commit, no Abort.
    }
    ASSERT_OK_AND_ASSIGN(auto sink, MakeSink(yaml));
    JobContext context = MakeContext(&fail_);
    context.resuming = true;
    ASSERT_OK_AND_ASSIGN(std::vector<SplitProgress> progress, sink->RecoverProgress(context));
    EXPECT_THAT(progress, ElementsAre(SplitProgress{"s0", "{\"rowid\":100}", false},
                                      SplitProgress{"s1", "", true}));
    // Exactly the committed rows are there.
    EXPECT_EQ(Table(path, std::string(mode) == "append" ? "orders" : "_sluice_staging_orders"),
              ExpectedRows(100));
    // The resumed run continues the same load (in overwrite mode: the same staging table).
    ASSERT_OK(sink->Open(context, OrdersStream()));
    ASSERT_OK_AND_ASSIGN(auto writer, sink->CreateWriter(0));
    ASSERT_OK(writer->Write(*RowsBatch(100, 100)));
    ASSERT_OK(writer->Prepare());
    ASSERT_OK(writer->Commit(CommitContext{5, {{"s0", "{\"rowid\":200}", true}}}));
    writer->Abort();
    writer.reset();
    ASSERT_OK(sink->Finish());
    EXPECT_EQ(Table(path), ExpectedRows(200));
    // A finished job keeps its progress, every split done, until the next fresh run forgets it.
    EXPECT_THAT(Progress(path),
                ::testing::Contains(RawRow{"TEXT:test", "TEXT:s0", "TEXT:{\"rowid\":200}",
                                           "INTEGER:1", "INTEGER:5"}));
    EXPECT_FALSE(HasTable(path, "_sluice_staging_orders"));
  }
}

// Issue 10: a run that lost the job (frozen, then taken over by a newer run) cannot commit, nor
// swap its staging table in, nor claim the file again; the newer run's load is untouched.
TEST_F(SqliteSinkExactlyOnceTest, ARunTakenOverCannotCommitOrFinish) {
  for (const char* mode : {"append", "overwrite"}) {
    SCOPED_TRACE(mode);
    std::string path = dir_.Join(fmt::format("fenced_{}.db", mode));
    std::string yaml = fmt::format("path: \"{}\"\nmode: {}", path, mode);
    ASSERT_OK_AND_ASSIGN(auto stale_sink, MakeSink(yaml));
    JobContext stale = MakeContext(&fail_);
    stale.run_epoch = 100;
    ASSERT_OK(stale_sink->Claim(stale));
    ASSERT_OK(stale_sink->Open(stale, OrdersStream()));
    ASSERT_OK_AND_ASSIGN(auto stale_writer, stale_sink->CreateWriter(0));
    ASSERT_OK(stale_writer->Write(*RowsBatch(0, 10)));
    ASSERT_OK(stale_writer->Commit(CommitContext{1, {{"s0", "10", false}}}));
    // Frozen here, between two transactions (one frozen inside a transaction would hold the
    // file's write lock, and a newer run would wait for it); a newer run takes the job over and
    // resumes from what was committed.
    ASSERT_OK_AND_ASSIGN(auto sink, MakeSink(yaml));
    JobContext newer = MakeContext(&fail_);
    newer.run_epoch = 200;
    newer.resuming = true;
    ASSERT_OK(sink->Claim(newer));
    ASSERT_OK_AND_ASSIGN(std::vector<SplitProgress> recovered, sink->RecoverProgress(newer));
    EXPECT_THAT(recovered, ElementsAre(SplitProgress{"s0", "10", false}));
    ASSERT_OK(sink->Open(newer, OrdersStream()));
    ASSERT_OK_AND_ASSIGN(auto writer, sink->CreateWriter(0));
    ASSERT_OK(writer->Write(*RowsBatch(10, 20)));
    ASSERT_OK(writer->Commit(CommitContext{2, {{"s0", "30", true}}}));
    // The stale run wakes up: its commit is refused and leaves nothing behind.
    ASSERT_OK(stale_writer->Write(*RowsBatch(10, 10)));
    ASSERT_OK(stale_writer->Prepare());
    Status refused = stale_writer->Commit(CommitContext{2, {{"s0", "20", false}}});
    EXPECT_EQ(refused.code(), StatusCode::kConflict) << refused.ToString();
    EXPECT_THAT(refused.message(), ::testing::HasSubstr("has taken over this target"));
    stale_writer->Abort();
    EXPECT_EQ(stale_sink->Claim(stale).code(), StatusCode::kConflict);
    if (std::string(mode) == "overwrite") {
      EXPECT_EQ(stale_sink->Finish().code(), StatusCode::kConflict);
      EXPECT_FALSE(HasTable(path, "orders"));  // nothing swapped in by the stale run
    }
    writer.reset();
    ASSERT_OK(sink->Finish());
    EXPECT_EQ(Table(path), ExpectedRows(30));
    EXPECT_THAT(Progress(path), ElementsAre(RawRow{"TEXT:test", "TEXT:s0", "TEXT:30", "INTEGER:1",
                                                   "INTEGER:2"}));
  }
}

TEST_F(SqliteSinkExactlyOnceTest, ProgressOfSeveralJobsStaysApart) {
  // synchronous extra: the durable setting for the rollback journal.
  std::string yaml =
      fmt::format("path: \"{}\"\ntable: \"t_{{stream}}\"\nsynchronous: extra", Path());
  for (const char* job : {"a", "b"}) {
    ASSERT_OK_AND_ASSIGN(auto sink, MakeSink(yaml));
    JobContext context = MakeContext(&fail_);
    context.job_name = job;
    ASSERT_OK(sink->Open(context, OrdersStream()));
    ASSERT_OK_AND_ASSIGN(auto writer, sink->CreateWriter(0));
    ASSERT_OK(writer->Write(*RowsBatch(0, 1)));
    ASSERT_OK(writer->Commit(CommitContext{1, {{"same-split", job, false}}}));
  }
  ASSERT_OK_AND_ASSIGN(auto sink, MakeSink(yaml));
  JobContext context = MakeContext(&fail_);
  context.job_name = "b";
  ASSERT_OK_AND_ASSIGN(std::vector<SplitProgress> progress, sink->RecoverProgress(context));
  EXPECT_THAT(progress, ElementsAre(SplitProgress{"same-split", "b", false}));
  ASSERT_OK(sink->ForgetProgress(context));
  EXPECT_THAT(Progress(Path()),
              ElementsAre(RawRow{"TEXT:a", "TEXT:same-split", "TEXT:a", "INTEGER:0", "INTEGER:1"}));
  // Sluice's own tables never become streams of a source reading the file.
  ASSERT_OK_AND_ASSIGN(auto source,
                       testing::MakeSource(fmt::format("path: \"{}\"\ntables: [\"*\"]", Path())));
  ASSERT_OK(source->Open(context));
  ASSERT_EQ(source->streams().size(), 1u);
  EXPECT_EQ(source->streams()[0].name, "t_orders");
}

TEST_F(SqliteSinkExactlyOnceTest, AbortKeepsTheStagingTableForTheResumedRun) {
  ExecOrDie(Path(),
            "CREATE TABLE orders (id INTEGER, name TEXT); INSERT INTO orders VALUES (7, 'old');");
  std::string yaml = fmt::format("path: \"{}\"\nmode: overwrite", Path());
  ASSERT_OK_AND_ASSIGN(auto sink, MakeSink(yaml));
  JobContext context = MakeContext(&fail_);
  ASSERT_OK(sink->Open(context, OrdersStream()));
  ASSERT_OK_AND_ASSIGN(auto writer, sink->CreateWriter(0));
  ASSERT_OK(writer->Write(*RowsBatch(0, 3)));
  ASSERT_OK(writer->Commit(CommitContext{1, {{"s0", "3", false}}}));
  ASSERT_OK(writer->Write(*RowsBatch(3, 3)));
  writer->Abort();  // rolls back the 3 uncommitted rows
  sink->Abort();
  EXPECT_THAT(Table(Path()), ElementsAre(RawRow{"INTEGER:7", "TEXT:old"}));
  EXPECT_EQ(Table(Path(), "_sluice_staging_orders"), ExpectedRows(3));
}

TEST_F(SqliteSinkExactlyOnceTest, ResumeAfterTheSwapDoesNotReplaceTheTableAgain) {
  std::string yaml = fmt::format("path: \"{}\"\nmode: overwrite", Path());
  {
    ASSERT_OK_AND_ASSIGN(auto sink, MakeSink(yaml));
    std::vector<const Batch*> batches;
    auto rows = RowsBatch(0, 10);
    ASSERT_OK(testing::WriteAll(*sink, MakeContext(&fail_), OrdersStream(), {rows.get()}));
  }
  // The swap committed, and the run stopped before the runtime recorded its success: the
  // resumed run has nothing to load and must not swap an empty staging table in.
  JobContext context = MakeContext(&fail_);
  context.resuming = true;
  ASSERT_OK_AND_ASSIGN(auto sink, MakeSink(yaml));
  ASSERT_OK_AND_ASSIGN(std::vector<SplitProgress> progress, sink->RecoverProgress(context));
  EXPECT_THAT(progress, IsEmpty());
  ASSERT_OK(sink->Open(context, OrdersStream()));
  ASSERT_OK_AND_ASSIGN(auto writer, sink->CreateWriter(0));
  ASSERT_OK(writer->Commit(CommitContext{9, {}}));
  Status late = writer->Write(*RowsBatch(10, 1));
  EXPECT_EQ(late.code(), StatusCode::kInvalidConfig);
  EXPECT_THAT(late.message(), ::testing::HasSubstr("already replaced the table"));
  writer->Abort();
  writer.reset();
  ASSERT_OK(sink->Finish());
  EXPECT_EQ(Table(Path()), ExpectedRows(10));

  // Progress without its staging table: the load cannot continue.
  ExecOrDie(Path(),
            "CREATE TABLE _sluice_progress (job TEXT, split_id TEXT, position TEXT NOT NULL, "
            "done INTEGER NOT NULL, checkpoint INTEGER, PRIMARY KEY (job, split_id));"
            "INSERT INTO _sluice_progress VALUES ('test', 's0', '5', 0, 1);");
  ASSERT_OK_AND_ASSIGN(auto broken, MakeSink(yaml));
  Status status = broken->Open(context, OrdersStream());
  EXPECT_EQ(status.code(), StatusCode::kNotFound);
  EXPECT_EQ(status.message(),
            "table 'orders': staging table '_sluice_staging_orders' of the interrupted run of job "
            "'test' is gone although rows were committed to it; run the job with --fresh to load "
            "the table again");
}

TEST_F(SqliteSinkExactlyOnceTest, AtLeastOnceStoresNoProgress) {
  // (SqliteSinkTest.AtLeastOnceCommitsEveryCommitRows... covers the periodic commits.)
  ASSERT_OK_AND_ASSIGN(auto sink, MakeSink(fmt::format("path: \"{}\"\ncommit_rows: 100", Path())));
  JobContext context = MakeContext(&fail_);
  context.delivery = DeliveryGuarantee::kAtLeastOnce;
  ASSERT_OK(sink->Open(context, OrdersStream()));
  ASSERT_OK_AND_ASSIGN(auto writer, sink->CreateWriter(0));
  ASSERT_OK(writer->Write(*RowsBatch(0, 250)));
  ASSERT_OK(writer->Commit(CommitContext{1, {{"s0", "250", true}}}));
  EXPECT_THAT(QueryOrDie(Path(), "SELECT count(*) FROM orders"),
              ElementsAre(RawRow{"INTEGER:250"}));
  EXPECT_FALSE(HasTable(Path(), "_sluice_progress"));
  ASSERT_OK_AND_ASSIGN(std::vector<SplitProgress> progress, sink->RecoverProgress(context));
  EXPECT_THAT(progress, IsEmpty());
}

// ---- through the runtime --------------------------------------------------------------------

class SqliteSinkJobTest : public ::testing::Test {
 protected:
  void SetUp() override {
    source_ = std::make_shared<sluice::testing::MemorySourceData>();
    memory_sink_ = std::make_shared<sluice::testing::MemorySinkData>();
    sluice::testing::RegisterMemoryConnector(registry_, source_, memory_sink_);
    RegisterSqliteConnector(registry_);
  }

  // Rows [0, count) in splits of `split_rows`, read in batches of 50.
  void Source(int count, size_t split_rows) {
    std::vector<sluice::testing::Row> rows;
    for (const testing::Row& row : OrderRows(0, count))
      rows.push_back(row);
    source_->streams = {{"orders", Orders(), std::move(rows)}};
    source_->split_rows = split_rows;
    source_->rows_per_read = 50;
  }

  // `checkpoint_secs` 0: no timed checkpoints (the crash loop takes them at failpoints).
  config::JobConfig Job(const std::string& state, const std::string& sink, int parallelism,
                        const std::string& extra = "", double checkpoint_secs = 0.005) {
    std::string text = fmt::format(
        "name: test\nsource: {{type: memory}}\nsink: {{type: sqlite, {}}}\nparallelism: {}\n"
        "batch_rows: 50\nstate: '{}'\ncheckpoint: {{interval_secs: {}}}\n{}",
        sink, parallelism, state, checkpoint_secs, extra);
    Result<config::JobConfig> job = config::LoadJobText(text, "test.yaml", {});
    EXPECT_TRUE(job.ok()) << job.status().ToString();
    return *job;
  }

  // Runs `job`, which stops (as SIGINT stops it) when its readers push their `batch`-th batch.
  runtime::JobSummary RunStoppedAtBatch(const config::JobConfig& job, uint64_t batch) {
    sluice::testing::StopAtBatch stop(batch);
    return runtime::JobRunner(job, registry_).Run(nullptr);
  }

  runtime::JobSummary Run(const config::JobConfig& job, runtime::RunOptions options = {}) {
    return runtime::JobRunner(job, registry_, std::move(options)).Run(nullptr);
  }

  ConnectorRegistry registry_;
  std::shared_ptr<sluice::testing::MemorySourceData> source_;
  std::shared_ptr<sluice::testing::MemorySinkData> memory_sink_;
};

TEST_F(SqliteSinkJobTest, StoppedJobResumesRowForRow) {
  constexpr int kRows = 5000;
  Source(kRows, 700);
  for (const char* mode : {"append", "overwrite"}) {
    for (int parallelism : {1, 3}) {
      SCOPED_TRACE(fmt::format("{} {}", mode, parallelism));
      sluice::testing::TempDir state, out;
      std::string path = out.Join("out.db");
      ExecOrDie(path,
                "CREATE TABLE orders (id INTEGER, name TEXT); "
                "INSERT INTO orders VALUES (-1, 'there before');");
      std::string sink = fmt::format("path: '{}', mode: {}", path, mode);
      // At the 30th batch of 50 rows; the other readers may push one more each.
      runtime::JobSummary stopped = RunStoppedAtBatch(Job(state.path(), sink, parallelism), 30);
      ASSERT_TRUE(stopped.interrupted) << stopped.status.ToString();
      EXPECT_EQ(stopped.guarantee, DeliveryGuarantee::kExactlyOnce);
      uint64_t first = stopped.metrics.rows_written;
      EXPECT_GE(first, 1500u);
      EXPECT_LE(first, 1500u + 50u * static_cast<uint64_t>(parallelism - 1));
      std::vector<RawRow> before = {{"INTEGER:-1", "TEXT:there before"}};
      if (std::string(mode) == "overwrite") {
        EXPECT_EQ(Table(path), before);  // readers still see the old table
        EXPECT_EQ(Table(path, "_sluice_staging_orders").size(), first);
      } else {
        EXPECT_EQ(Table(path).size(), first + 1);
      }
      runtime::JobSummary resumed = Run(Job(state.path(), sink, parallelism));
      ASSERT_OK(resumed.status);
      EXPECT_TRUE(resumed.resumed);
      EXPECT_EQ(first + resumed.metrics.rows_written, static_cast<uint64_t>(kRows));
      std::vector<RawRow> expected = ExpectedRows(kRows);
      if (std::string(mode) == "append")
        expected.insert(expected.begin(), before.begin(), before.end());
      EXPECT_EQ(Table(path), expected);
      for (const RawRow& row : Progress(path))
        EXPECT_EQ(row[3], "INTEGER:1");  // all done
      EXPECT_FALSE(HasTable(path, "_sluice_staging_orders"));
    }
  }
}

TEST_F(SqliteSinkJobTest, AtLeastOnceDeliveryStillWorksAndStoresNoProgress) {
  constexpr int kRows = 3000;
  Source(kRows, 500);
  sluice::testing::TempDir state, out;
  std::string path = out.Join("out.db");
  std::string sink = fmt::format("path: '{}', commit_rows: 100", path);
  runtime::JobSummary stopped =
      RunStoppedAtBatch(Job(state.path(), sink, 1, "delivery: at_least_once\n"), 20);
  ASSERT_TRUE(stopped.interrupted);
  EXPECT_EQ(stopped.guarantee, DeliveryGuarantee::kAtLeastOnce);
  ASSERT_OK(Run(Job(state.path(), sink, 1, "delivery: at_least_once\n")).status);
  EXPECT_FALSE(HasTable(path, "_sluice_progress"));
  EXPECT_EQ(QueryOrDie(path, "SELECT DISTINCT id, name FROM orders ORDER BY id"),
            ExpectedRows(kRows));  // every row at least once
}

TEST_F(SqliteSinkJobTest, FreshRunForgetsTheInterruptedOne) {
  constexpr int kRows = 3000;
  Source(kRows, 500);
  sluice::testing::TempDir state, out;
  std::string path = out.Join("out.db");
  std::string sink = fmt::format("path: '{}', mode: overwrite", path);
  ASSERT_TRUE(RunStoppedAtBatch(Job(state.path(), sink, 2), 20).interrupted);
  EXPECT_FALSE(Progress(path).empty());
  runtime::JobSummary fresh = Run(Job(state.path(), sink, 2), runtime::RunOptions{"", true});
  ASSERT_OK(fresh.status);
  EXPECT_FALSE(fresh.resumed);
  EXPECT_EQ(fresh.metrics.rows_written, static_cast<uint64_t>(kRows));
  EXPECT_EQ(Table(path), ExpectedRows(kRows));
  for (const RawRow& row : Progress(path))
    EXPECT_EQ(row[3], "INTEGER:1");  // all done
}

// SIGKILL at every step of a commit (failpoints: mid-read, between the rows and their progress,
// before the fence check, between the sink's commit and the state store's record, around
// Finish): readers see the old table or committed rows only, each child committed what its crash
// point says, and the run that finally completes holds every row exactly once.
TEST_F(SqliteSinkJobTest, KilledAtEveryCommitStepEveryRowExactlyOnce) {
  constexpr int kRows = 12000;  // 240 batches of 50 rows
  constexpr int kKills = 10;
  std::random_device seed_source;
  const unsigned seed = seed_source();
  SCOPED_TRACE(fmt::format("seed {}", seed));
  std::mt19937 random(seed);
  for (const char* mode : {"append", "overwrite"}) {
    SCOPED_TRACE(mode);
    Source(kRows, 1500);
    sluice::testing::TempDir state, out;
    std::string path = out.Join("out.db");
    ExecOrDie(path,
              "CREATE TABLE orders (id INTEGER, name TEXT); "
              "INSERT INTO orders VALUES (-1, 'there before');");
    bool overwrite = std::string(mode) == "overwrite";
    std::string table = overwrite ? "_sluice_staging_orders" : "orders";
    // Both ways SQLite recovers a crashed transaction: the rollback journal and the WAL.
    config::JobConfig job = Job(state.path(),
                                fmt::format("path: '{}', mode: {}, journal_mode: {}", path, mode,
                                            overwrite ? "wal" : "delete"),
                                2, "", /*checkpoint_secs=*/0);
    auto committed = [&]() -> size_t {
      return HasTable(path, table) ? Table(path, table).size() : 0;
    };
    size_t before = committed();
    sluice::testing::CrashLoopOptions options;
    options.kills = kKills;
    options.seed = static_cast<uint32_t>(random());
    options.connector_points = {"sqlite.commit.after_rows=crash@2",
                                "sqlite.commit.before_fence_check=crash@3"};
    options.after_kill = [&](const std::string& plan) {
      SCOPED_TRACE(plan);
      ExecOrDie(path, "SELECT count(*) FROM sqlite_schema");  // recovers a crashed transaction
      if (overwrite && plan.find("runtime.finish.after") == std::string::npos) {
        EXPECT_THAT(Table(path), ElementsAre(RawRow{"INTEGER:-1", "TEXT:there before"}));
      }
      // Committed rows match committed progress: never a row twice.
      if (HasTable(path, table)) {
        EXPECT_THAT(
            QueryOrDie(path, fmt::format("SELECT count(*) - count(DISTINCT id) FROM {}", table)),
            ElementsAre(RawRow{"INTEGER:0"}));
      }
      if (plan.find("runtime.finish.") != std::string::npos)
        return;  // Finish swaps the staging table in overwrite mode
      size_t now = committed();
      EXPECT_GE(now, before) << "committed rows were lost";
      switch (sluice::testing::CommittedBeforeCrash(plan)) {
        case sluice::testing::CommittedAtCrash::kNothing:
          EXPECT_EQ(now, before) << "a child committed before its first checkpoint";
          break;
        case sluice::testing::CommittedAtCrash::kSome:
          EXPECT_GT(now, before) << "a child recorded checkpoints without committing rows";
          break;
        case sluice::testing::CommittedAtCrash::kUnknown:
          break;
      }
      before = now;
    };
    sluice::testing::CrashLoopResult crashes = sluice::testing::RunCrashLoop(
        [&] { return runtime::JobRunner(job, registry_).Run(nullptr).status.ok() ? 0 : 1; },
        options);
    ASSERT_EQ(crashes.kills, kKills) << "a child finished the job before its crash point";
    runtime::JobSummary summary = Run(job);
    ASSERT_OK(summary.status);
    EXPECT_TRUE(summary.resumed);
    // The kill just after Finish left nothing to copy.
    EXPECT_EQ(summary.metrics.rows_written, 0u);
    std::vector<RawRow> expected = ExpectedRows(kRows);
    if (!overwrite)
      expected.insert(expected.begin(), RawRow{"INTEGER:-1", "TEXT:there before"});
    EXPECT_EQ(Table(path), expected);
    for (const RawRow& row : Progress(path))
      EXPECT_EQ(row[3], "INTEGER:1");  // all done
  }
}

}  // namespace
}  // namespace sluice::connectors::sqlite
