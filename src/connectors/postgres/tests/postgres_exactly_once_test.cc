// Exactly-once delivery into PostgreSQL through the job runner: rows and split progress committed
// in one transaction, resume after a stop, after terminated server sessions and after kill -9 of
// the process at every step of a commit and inside a cut, in append, upsert and overwrite modes;
// at_least_once stores no progress; a fresh run forgets it. Each test has its own database.
// Stops, terminations and kills land at failpoints (core/failpoint.h), at known places in the
// data, never after a delay.
#include <fmt/core.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <functional>
#include <random>
#include <set>
#include <sstream>
#include <thread>

#include "config/job_config.h"
#include "connectors/postgres/postgres_client.h"
#include "connectors/postgres/postgres_progress.h"
#include "connectors/postgres/tests/postgres_test_util.h"
#include "connectors/registry.h"
#include "core/failpoint.h"
#include "core/logging.h"
#include "runtime/job_runner.h"
#include "state/state_store.h"
#include "testing/crash_loop.h"
#include "testing/gtest_util.h"
#include "testing/hold_reader_for_cut.h"
#include "testing/stop_at_batch.h"
#include "testing/temp_dir.h"

namespace sluice::connectors {
void RegisterPostgresConnector(ConnectorRegistry& registry);
void RegisterDatagenConnector(ConnectorRegistry& registry);
}  // namespace sluice::connectors

namespace sluice::connectors::postgres {
namespace {

using testing::MakeContext;
using testing::MakeSink;
using testing::RecordingBadRecords;
using testing::TestDatabase;

const ConnectorRegistry& Registry() {
  static const ConnectorRegistry* registry = [] {
    auto* r = new ConnectorRegistry();
    RegisterPostgresConnector(*r);
    RegisterDatagenConnector(*r);
    return r;
  }();
  return *registry;
}

// The columns datagen generates by default, as a table. Without a key a duplicate row shows in
// the counts instead of failing the load.
std::string OrdersTable(const std::string& name, bool key) {
  return fmt::format(
      "CREATE TABLE {} (id bigint{}, customer text, amount numeric(12,2), quantity integer, "
      "price double precision, paid boolean, ordered_on date, created_at timestamp, note text)",
      name, key ? " PRIMARY KEY" : "");
}

// Row count, distinct keys and the md5 of the dump ordered by `order`: equal digests mean equal
// contents.
std::string Digest(const TestDatabase& db, const std::string& table,
                   const std::string& order = "id") {
  return db.Exec(fmt::format(
      "SELECT count(*), count(DISTINCT id), md5(coalesce(string_agg(t::text, E'\\n' ORDER BY {}), "
      "'')) FROM {} t",
      order, table));
}

std::string Indent(const std::string& lines) {
  std::string out;
  std::istringstream in(lines);
  for (std::string line; std::getline(in, line);)
    out += "  " + line + "\n";
  return out;
}

struct JobSpec {
  std::string name = "eo";
  std::string state;         // state directory
  std::string source;        // the source block's lines (indented by Indent)
  std::string sink_options;  // the sink's lines beyond the connection
  std::string extra;         // job-level lines
  int parallelism = 2;
  double checkpoint_secs = 0.05;
};

std::string JobYaml(const TestDatabase& db, const JobSpec& spec) {
  return fmt::format(
      "name: {}\nparallelism: {}\nbatch_rows: 500\nstate: {}\n"
      "checkpoint: {{interval_secs: {}}}\n"
      "retry: {{max_attempts: 20, initial_backoff_secs: 0.05, max_backoff_secs: 0.2}}\n{}"
      "source:\n{}sink:\n  type: postgres\n{}{}",
      spec.name, spec.parallelism, spec.state, spec.checkpoint_secs, spec.extra,
      Indent(spec.source), Indent(db.ConnectionYaml()), Indent(spec.sink_options));
}

std::string DatagenSource(uint64_t rows, uint64_t split_rows) {
  return fmt::format("type: datagen\nrows: {}\nsplit_rows: {}\nseed: 7\n", rows, split_rows);
}

runtime::JobSummary RunJob(const std::string& yaml, bool fresh = false) {
  Result<config::JobConfig> job = config::LoadJobText(yaml, "job.yaml", {});
  if (!job.ok()) {
    runtime::JobSummary summary;
    summary.status = job.status();
    return summary;
  }
  return runtime::JobRunner(std::move(*job), Registry(), runtime::RunOptions{"", fresh})
      .Run(nullptr);
}

// Runs a job that stops, as SIGINT stops it, when its readers push their `batch`-th batch.
runtime::JobSummary RunStoppedAtBatch(const std::string& yaml, uint64_t batch) {
  sluice::testing::StopAtBatch stop(batch);
  return RunJob(yaml);
}

// What an uninterrupted at_least_once run of `source` writes into a fresh table `ref` of the
// same shape: the digest every interrupted run must reach.
std::string ReferenceDigest(const TestDatabase& db, const std::string& source, bool key) {
  db.Exec(OrdersTable("ref", key));
  sluice::testing::TempDir state;
  JobSpec spec;
  spec.name = "reference";
  spec.state = state.path();
  spec.source = source;
  spec.sink_options = "table: ref\n";
  spec.extra = "delivery: at_least_once\n";
  runtime::JobSummary summary = RunJob(JobYaml(db, spec));
  EXPECT_TRUE(summary.status.ok()) << summary.status.ToString();
  return Digest(db, "ref");
}

Result<std::vector<SplitProgress>> Recover(const TestDatabase& db, const std::string& job,
                                           const std::string& sink_options = "table: t\n") {
  SLUICE_ASSIGN_OR_RETURN(std::unique_ptr<Sink> sink, MakeSink(db.ConnectionYaml() + sink_options));
  JobContext context = MakeContext(nullptr, nullptr);
  context.job_name = job;
  return sink->RecoverProgress(context);
}

// Datagen splits are "generated#<lo>-<hi>" over rows lo..hi-1 (ids lo+1..hi), positions
// {"row":<next>}; a split that was cut keeps its id and ends where its cut-off part begins.
// Checks that table `t` holds exactly the rows the committed progress covers, each once.
void ExpectRowsMatchProgress(const TestDatabase& db, const std::vector<SplitProgress>& progress) {
  uint64_t covered = 0;
  for (const SplitProgress& entry : progress) {
    unsigned long long lo = 0;
    unsigned long long hi = 0;
    ASSERT_EQ(std::sscanf(entry.split_id.c_str(), "generated#%llu-%llu", &lo, &hi), 2)
        << entry.split_id;
    unsigned long long next = lo;
    if (!entry.position.empty()) {
      ASSERT_EQ(std::sscanf(entry.position.c_str(), R"({"row":%llu})", &next), 1) << entry.position;
    }
    EXPECT_LE(next, hi) << entry.split_id;
    EXPECT_EQ(db.Exec(fmt::format("SELECT count(*) FROM t WHERE id > {} AND id <= {}", lo, next)),
              fmt::format("{}\n", next - lo))
        << entry.split_id << " at " << entry.position;
    covered += next - lo;
  }
  EXPECT_EQ(db.Exec("SELECT count(*), count(DISTINCT id) FROM t"),
            fmt::format("{}\t{}\n", covered, covered));
}

std::string ProgressRows(const TestDatabase& db, const std::string& job) {
  return db.Exec(fmt::format("SELECT count(*) FROM public._sluice_progress WHERE job = '{}' AND split_id <> ''",
                             job));
}

// After a success the job's progress stays, every split done (see the README, "Finish").
void ExpectEverySplitDone(const TestDatabase& db, const std::string& job) {
  EXPECT_EQ(db.Exec(fmt::format("SELECT count(*) > 0, count(*) FILTER (WHERE NOT done) FROM "
                                "public._sluice_progress WHERE job = '{}' AND split_id <> ''",
                                job)),
            "t\t0\n");
}

TEST(PostgresExactlyOnceTest, RowsAndProgressAreCommittedTogether) {
  TestDatabase db("eo_together");
  db.Exec(OrdersTable("t", false));
  sluice::testing::TempDir state;
  JobSpec spec;
  spec.state = state.path();
  spec.source = DatagenSource(30000, 4000);
  spec.sink_options = "table: t\n";
  // 60 batches of 500 rows: stopped at the 18th.
  runtime::JobSummary summary = RunStoppedAtBatch(JobYaml(db, spec), 18);
  ASSERT_TRUE(summary.interrupted) << summary.status.ToString();
  EXPECT_EQ(summary.guarantee, DeliveryGuarantee::kExactlyOnce);

  // The sink's record is what its transactions committed: exactly the rows in the table...
  ASSERT_OK_AND_ASSIGN(std::vector<SplitProgress> recovered, Recover(db, "eo"));
  ASSERT_FALSE(recovered.empty());
  ExpectRowsMatchProgress(db, recovered);
  // ... and, after a clean stop, what the runtime recorded at its last checkpoint.
  ASSERT_OK_AND_ASSIGN(auto store, state::OpenSqliteStateStore(summary.state_path));
  ASSERT_OK_AND_ASSIGN(std::optional<state::JobState> job, store->Load("eo"));
  ASSERT_TRUE(job.has_value());
  std::vector<SplitProgress> recorded;
  for (const auto& [id, entry] : job->progress)
    recorded.push_back(entry);
  EXPECT_EQ(recovered, recorded);
  EXPECT_EQ(db.Exec("SELECT count(*) FROM public._sluice_progress WHERE job = 'eo' AND split_id <> '' "
                    "AND checkpoint IS NOT NULL AND updated_at IS NOT NULL"),
            fmt::format("{}\n", recovered.size()));
  // Another job's progress is its own.
  ASSERT_OK_AND_ASSIGN(std::vector<SplitProgress> other, Recover(db, "other"));
  EXPECT_TRUE(other.empty());
}

TEST(PostgresExactlyOnceTest, WriterCommitsRowsWithProgressAndAbortRollsBackBoth) {
  TestDatabase db("eo_writer");
  StreamInfo stream{"kv",
                    std::make_shared<Schema>(std::vector<Field>{{"id", DataType::Int64(), false},
                                                                {"v", DataType::String()}},
                                             std::vector<int>{0}),
                    std::nullopt};
  auto batch = [&](int from, int count) {
    auto out = std::make_unique<Batch>(stream.schema, static_cast<size_t>(count));
    for (int i = from; i < from + count; ++i) {
      sluice::testing::AppendRow({std::to_string(i), "v" + std::to_string(i)}, out.get());
    }
    return out;
  };
  RecordingBadRecords bad(false);
  JobContext context = MakeContext(&bad, nullptr);
  context.job_name = "w";
  // commit_rows is for at_least_once only: here nothing may commit before Commit().
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Sink> sink,
                       MakeSink(db.ConnectionYaml() + "table: kv\ncommit_rows: 10\n"));
  ASSERT_OK(sink->Open(context, {stream}));
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<SinkWriter> writer, sink->CreateWriter(0));
  ASSERT_OK(writer->Write(*batch(0, 100)));
  EXPECT_EQ(db.Exec("SELECT count(*) FROM kv"), "0\n");
  const std::vector<SplitProgress> first = {{"a", R"({"row":60})", false}, {"b", "", true}};
  ASSERT_OK(writer->Prepare());
  ASSERT_OK(writer->Commit(CommitContext{3, first}));
  EXPECT_EQ(db.Exec("SELECT count(*) FROM kv"), "100\n");
  // (RecoverProgress waits for the job's sessions to end: while writers live, look directly.)
  const char* progress =
      "SELECT split_id, position, done, checkpoint FROM _sluice_progress WHERE job = 'w' "
      "ORDER BY 1";
  EXPECT_EQ(db.Exec(progress), "a\t{\"row\":60}\tf\t3\nb\t\tt\t3\n");

  // Progress alone (a split ending after its rows were committed) is a transaction too.
  const std::vector<SplitProgress> ended = {{"a", R"({"row":100})", true}};
  ASSERT_OK(writer->Prepare());
  ASSERT_OK(writer->Commit(CommitContext{4, ended}));
  EXPECT_EQ(db.Exec(progress), "a\t{\"row\":100}\tt\t4\nb\t\tt\t3\n");

  // Rows written but not committed go with the progress that would have come with them.
  ASSERT_OK(writer->Write(*batch(100, 50)));
  ASSERT_OK(writer->Prepare());
  writer->Abort();
  writer.reset();
  sink->Abort();
  EXPECT_EQ(db.Exec("SELECT count(*) FROM kv"), "100\n");
  ASSERT_OK_AND_ASSIGN(std::vector<SplitProgress> recovered, Recover(db, "w", "table: kv\n"));
  EXPECT_EQ(recovered, (std::vector<SplitProgress>{ended[0], first[1]}));
  EXPECT_EQ(db.Exec("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                    "AND state LIKE 'idle in transaction%'"),
            "0\n");

  // Finish leaves the progress for a run that resumes after it; a fresh run's ForgetProgress
  // deletes the job's rows, and only its rows.
  db.Exec("INSERT INTO _sluice_progress (job, split_id, position, done, checkpoint, updated_at) VALUES ('other', 's', '', true, 1, now())");
  ASSERT_OK_AND_ASSIGN(sink, MakeSink(db.ConnectionYaml() + "table: kv\n"));
  context.resuming = true;
  ASSERT_OK(sink->Open(context, {stream}));
  ASSERT_OK(sink->Finish());
  sink.reset();
  EXPECT_EQ(db.Exec("SELECT job, split_id FROM _sluice_progress WHERE split_id <> '' ORDER BY 1, 2"),
            "other\ts\nw\ta\nw\tb\n");
  ASSERT_OK_AND_ASSIGN(sink, MakeSink(db.ConnectionYaml() + "table: kv\n"));
  ASSERT_OK(sink->ForgetProgress(context));
  EXPECT_EQ(db.Exec("SELECT job, split_id FROM _sluice_progress WHERE split_id <> ''"), "other\ts\n");
}

// Issue 10: a run that lost the job (frozen, then taken over by a newer run) cannot commit, in
// the session it had or in a new one, nor swap its staging table in, nor claim the job again;
// the newer run does not wait for the frozen run's sessions beyond a moment.
TEST(PostgresExactlyOnceTest, ARunTakenOverCannotCommitOrFinish) {
  for (const char* mode : {"append", "overwrite"}) {
    SCOPED_TRACE(mode);
    TestDatabase db(fmt::format("eo_fenced_{}", mode));
    StreamInfo stream{"kv",
                      std::make_shared<Schema>(std::vector<Field>{{"id", DataType::Int64(), false},
                                                                  {"v", DataType::String()}},
                                               std::vector<int>{0}),
                      std::nullopt};
    auto batch = [&](int from, int count) {
      auto out = std::make_unique<Batch>(stream.schema, static_cast<size_t>(count));
      for (int i = from; i < from + count; ++i)
        sluice::testing::AppendRow({std::to_string(i), "v" + std::to_string(i)}, out.get());
      return out;
    };
    const std::string yaml = db.ConnectionYaml() + fmt::format("table: kv\nmode: {}\n", mode);
    RecordingBadRecords bad(false);
    ASSERT_OK_AND_ASSIGN(std::unique_ptr<Sink> stale_sink, MakeSink(yaml));
    JobContext stale = MakeContext(&bad, nullptr);
    stale.job_name = "eo";
    stale.run_epoch = 100;
    ASSERT_OK(stale_sink->Claim(stale));
    ASSERT_OK(stale_sink->Open(stale, {stream}));
    ASSERT_OK_AND_ASSIGN(std::unique_ptr<SinkWriter> stale_writer, stale_sink->CreateWriter(0));
    ASSERT_OK(stale_writer->Write(*batch(0, 50)));
    ASSERT_OK(stale_writer->Prepare());
    ASSERT_OK(stale_writer->Commit(CommitContext{1, {{"a", "50", false}}}));
    ASSERT_OK(stale_writer->Write(*batch(50, 30)));  // frozen here, in a transaction

    ASSERT_OK_AND_ASSIGN(std::unique_ptr<Sink> sink, MakeSink(yaml));
    JobContext newer = MakeContext(&bad, nullptr);
    newer.job_name = "eo";
    newer.run_epoch = 200;
    newer.resuming = true;
    ASSERT_OK(sink->Claim(newer));  // ends the frozen run's sessions after a moment
    ASSERT_OK_AND_ASSIGN(std::vector<SplitProgress> recovered, sink->RecoverProgress(newer));
    EXPECT_EQ(recovered, (std::vector<SplitProgress>{{"a", "50", false}}));
    ASSERT_OK(sink->Open(newer, {stream}));
    ASSERT_OK_AND_ASSIGN(std::unique_ptr<SinkWriter> writer, sink->CreateWriter(0));
    ASSERT_OK(writer->Write(*batch(50, 50)));
    ASSERT_OK(writer->Prepare());
    ASSERT_OK(writer->Commit(CommitContext{2, {{"a", "100", true}}}));

    // The stale run wakes up: its old session is gone, and a new one may not commit either.
    EXPECT_FALSE(stale_writer->Prepare().ok() &&
                 stale_writer->Commit(CommitContext{2, {{"a", "80", false}}}).ok());
    stale_writer->Abort();
    ASSERT_OK_AND_ASSIGN(std::unique_ptr<SinkWriter> reconnected, stale_sink->CreateWriter(1));
    ASSERT_OK(reconnected->Write(*batch(100, 10)));
    ASSERT_OK(reconnected->Prepare());
    Status refused = reconnected->Commit(CommitContext{2, {{"b", "10", true}}});
    EXPECT_EQ(refused.code(), StatusCode::kConflict) << refused.ToString();
    EXPECT_THAT(refused.message(), ::testing::HasSubstr("has taken over this target"));
    reconnected->Abort();
    EXPECT_EQ(stale_sink->Claim(stale).code(), StatusCode::kConflict);
    if (std::string(mode) == "overwrite")
      EXPECT_FALSE(stale_sink->Finish().ok());  // its session is gone, or the epoch refuses
    stale_sink.reset();

    writer.reset();
    ASSERT_OK(sink->Finish());
    EXPECT_EQ(db.Exec("SELECT count(*), count(DISTINCT id), min(id), max(id) FROM kv"),
              "100\t100\t0\t99\n");
  }
}

TEST(PostgresExactlyOnceTest, WriterAbortAfterItsSessionWasTerminated) {
  TestDatabase db("eo_abort_dead");
  StreamInfo stream{"kv",
                    std::make_shared<Schema>(std::vector<Field>{{"id", DataType::Int64(), false}},
                                             std::vector<int>{0}),
                    std::nullopt};
  Batch batch(stream.schema, 10);
  for (int i = 0; i < 10; ++i)
    sluice::testing::AppendRow({std::to_string(i)}, &batch);
  RecordingBadRecords bad(false);
  JobContext context = MakeContext(&bad, nullptr);
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Sink> sink, MakeSink(db.ConnectionYaml() + "table: kv\n"));
  ASSERT_OK(sink->Open(context, {stream}));
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<SinkWriter> writer, sink->CreateWriter(0));
  ASSERT_OK(writer->Write(batch));  // a COPY is open
  db.Exec(
      "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = "
      "current_database() AND application_name = 'sluice'");
  Status status = writer->Prepare();
  EXPECT_EQ(status.code(), StatusCode::kUnavailable) << status.ToString();
  writer->Abort();  // must neither crash nor hang on the dead connection
  EXPECT_EQ(writer->Commit(CommitContext{1, {{"s", "", true}}}).code(), StatusCode::kUnavailable);
  writer.reset();
  sink->Abort();
  EXPECT_EQ(db.Exec("SELECT count(*) FROM kv"), "0\n");
  ASSERT_OK_AND_ASSIGN(std::vector<SplitProgress> recovered, Recover(db, "test", "table: kv\n"));
  EXPECT_TRUE(recovered.empty());
}

TEST(PostgresExactlyOnceTest, StopAndResumeWritesEveryRowOnceInEveryMode) {
  TestDatabase db("eo_resume");
  const std::string source = DatagenSource(24000, 3000);
  const std::string expected_plain = ReferenceDigest(db, source, false);
  db.Exec("DROP TABLE ref");
  const std::string expected_keyed = ReferenceDigest(db, source, true);
  EXPECT_EQ(expected_plain, expected_keyed);
  for (const char* mode : {"append", "upsert", "overwrite"}) {
    SCOPED_TRACE(mode);
    const std::string table = fmt::format("t_{}", mode);
    db.Exec(OrdersTable(table, std::string(mode) == "upsert"));
    db.Exec(fmt::format("INSERT INTO {} (id, note) VALUES (-1, 'old')", table));
    if (std::string(mode) != "overwrite")
      db.Exec(fmt::format("DELETE FROM {}", table));
    sluice::testing::TempDir state;
    JobSpec spec;
    spec.name = table;
    spec.state = state.path();
    spec.source = source;
    spec.sink_options = fmt::format("table: {}\nmode: {}\n", table, mode);
    // 48 batches of 500 rows: stopped at the 16th.
    runtime::JobSummary first = RunStoppedAtBatch(JobYaml(db, spec), 16);
    ASSERT_TRUE(first.interrupted) << first.status.ToString();
    EXPECT_EQ(first.status.code(), StatusCode::kCancelled);
    if (std::string(mode) == "overwrite") {
      // Readers still see the old table; the loaded rows wait in the kept staging table.
      EXPECT_EQ(db.Exec(fmt::format("SELECT note FROM {}", table)), "old\n");
      EXPECT_NE(db.Exec(fmt::format("SELECT count(*) > 0 FROM _sluice_staging_{}", table)), "f\n");
    } else {
      EXPECT_NE(db.Exec(fmt::format("SELECT count(*) FROM {}", table)), "0\n");
    }
    EXPECT_NE(ProgressRows(db, table), "0\n");

    runtime::JobSummary second = RunJob(JobYaml(db, spec));
    ASSERT_OK(second.status);
    EXPECT_TRUE(second.resumed);
    // Continued where the stop committed everything it had read, not started over.
    EXPECT_EQ(first.metrics.rows_read + second.metrics.rows_read, 24000u);
    EXPECT_EQ(Digest(db, table), expected_plain);
    ExpectEverySplitDone(db, table);
    EXPECT_EQ(db.Exec(fmt::format("SELECT count(*) FROM pg_class WHERE relname = "
                                  "'_sluice_staging_{}'",
                                  table)),
              "0\n");
  }
}

TEST(PostgresExactlyOnceTest, RunResumedAfterItsFinishWritesNothingAgain) {
  // A run that stopped between Finish (the swap committed, in overwrite mode) and recording its
  // success resumes with every split done (and no staging table): nothing may be written again,
  // and the swapped-in table must stay as it is.
  TestDatabase db("eo_finished");
  for (const char* mode : {"append", "overwrite"}) {
    SCOPED_TRACE(mode);
    const std::string table = fmt::format("t_{}", mode);
    db.Exec(OrdersTable(table, false));
    sluice::testing::TempDir state;
    JobSpec spec;
    spec.name = table;
    spec.state = state.path();
    spec.source = DatagenSource(5000, 1000);
    spec.sink_options = fmt::format("table: {}\nmode: {}\n", table, mode);
    runtime::JobSummary done = RunJob(JobYaml(db, spec));
    ASSERT_OK(done.status);
    const std::string digest = Digest(db, table);
    {
      ASSERT_OK_AND_ASSIGN(auto store, state::OpenSqliteStateStore(done.state_path));
      ASSERT_OK(store->SetStatus(table, state::JobStatus::kInterrupted));
    }
    runtime::JobSummary again = RunJob(JobYaml(db, spec));
    ASSERT_OK(again.status);
    EXPECT_TRUE(again.resumed);
    EXPECT_EQ(again.metrics.rows_read, 0u);
    EXPECT_EQ(Digest(db, table), digest);
  }
}

TEST(PostgresExactlyOnceTest, TerminatedSessionsAreRetriedFromTheLastCheckpoint) {
  TestDatabase db("eo_terminate");
  const std::string source = DatagenSource(40000, 5000);  // 80 batches of 500 rows
  const std::string expected = ReferenceDigest(db, source, false);
  db.Exec(OrdersTable("t", false));
  sluice::testing::TempDir state;
  JobSpec spec;
  spec.state = state.path();
  spec.source = source;
  spec.sink_options = "table: t\n";
  spec.checkpoint_secs = 0;  // only the checkpoints taken after every batch
  // Every session of the sink is terminated twice, right after the 5th and the 15th checkpoint
  // recorded (counted over the attempts), while the readers wait for that record: the first
  // attempt cannot record more than 5 (its sessions are gone), so the second termination hits
  // the retry, which resumes from checkpoint 5.
  std::atomic<int> terminated{0};
  std::atomic<int> recorded{0};
  failpoint::ArmCallback(
      "runtime.checkpoint.after_record", 1,
      [&] {
        int now = ++recorded;
        if ((terminated == 0 && now >= 5) || (terminated == 1 && now >= 15)) {
          std::string killed = db.Exec(
              "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = "
              "current_database() AND application_name = 'sluice'");
          if (killed != "0\n")
            ++terminated;
        }
        return Status::OK();
      },
      /*and_later=*/true);
  ASSERT_OK(failpoint::Arm("runtime.reader.batch=checkpoint@1+"));
  runtime::JobSummary summary = RunJob(JobYaml(db, spec));
  failpoint::DisarmAll();
  ASSERT_OK(summary.status);
  EXPECT_EQ(terminated.load(), 2);
  EXPECT_EQ(summary.metrics.retries, 2u);
  EXPECT_EQ(Digest(db, "t"), expected);
  ExpectEverySplitDone(db, "eo");
}

// Runs `yaml` in child processes killed at failpoints (testing/crash_loop.h): at every step of a
// commit, the postgres sink's own included, and around Finish; `opening` first. Checks after
// every kill that the table holds exactly what the sink's progress covers (`rows` counts what is
// committed), and that each child committed what its crash point says. The job must take no
// timed checkpoints.
void KillAtEveryCommitStep(const std::string& yaml, int kills, std::vector<std::string> opening,
                           const std::function<uint64_t()>& rows,
                           const std::function<void()>& check) {
  const uint32_t seed = std::random_device{}();
  SCOPED_TRACE(fmt::format("seed {}", seed));
  uint64_t before = rows();
  sluice::testing::CrashLoopOptions options;
  options.kills = kills;
  options.seed = seed;
  options.opening_points = std::move(opening);
  options.in_child = [](const std::string& plan) {
    if (plan.find(".cut.") != std::string::npos)
      sluice::testing::HoldReaderForCut(3);
  };
  options.connector_points = {"postgres.commit.after_rows=crash@2",
                              "postgres.commit.before_fence_check=crash@3"};
  options.after_kill = [&](const std::string& plan) {
    SCOPED_TRACE(plan);
    check();
    uint64_t now = rows();
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
      [&] { return RunJob(yaml).status.ok() ? 0 : 1; }, options);
  ASSERT_EQ(crashes.kills, kills) << "a child finished the job before its crash point";
  ASSERT_FALSE(crashes.finished);
}

TEST(PostgresExactlyOnceTest, KilledAtEveryCommitStepThenResumeIsExact) {
  TestDatabase db("eo_kill");
  // 200 batches of 500 rows: the mid-job kills commit a few each.
  const std::string source = DatagenSource(100000, 25000);
  const std::string expected = ReferenceDigest(db, source, false);
  db.Exec(OrdersTable("t", false));
  sluice::testing::TempDir state;
  JobSpec spec;
  spec.state = state.path();
  spec.source = source;
  spec.sink_options = "table: t\n";
  spec.checkpoint_secs = 0;
  const std::string yaml = JobYaml(db, spec);
  KillAtEveryCommitStep(
      yaml, 12, {}, [&] { return std::stoull(db.Exec("SELECT count(*) FROM t")); },
      [&] {
        // Whatever step the process died at, the table holds exactly what its progress says.
        Result<std::vector<SplitProgress>> recovered = Recover(db, "eo");
        ASSERT_OK(recovered);
        ExpectRowsMatchProgress(db, *recovered);
      });
  if (::testing::Test::HasFatalFailure())
    return;
  runtime::JobSummary last = RunJob(yaml);
  ASSERT_OK(last.status);
  EXPECT_TRUE(last.resumed);
  // The kill just after Finish left nothing to copy.
  EXPECT_EQ(last.metrics.rows_read, 0u);
  EXPECT_EQ(Digest(db, "t"), expected);
  ExpectEverySplitDone(db, "eo");
}

// `rows` rows in `from`.skewed; the last `sparse` keys are spread a thousand times wider than
// the rest. Planned in chunks of rows - sparse, so that the reader of the short last chunk runs
// dry early and has the first one's remainder cut. `to` gets the same table without a key, so
// that a row copied twice shows in the digest. Returns the source block.
std::string SkewedTable(const TestDatabase& from, const TestDatabase& to,
                        const std::vector<std::string>& targets, int rows, int sparse) {
  const int dense = rows - sparse;
  from.Exec(
      "CREATE TABLE skewed (id bigint PRIMARY KEY, name text, amount numeric(12,2), at "
      "timestamptz, flag boolean)");
  from.Exec(fmt::format(
      "INSERT INTO skewed SELECT CASE WHEN i <= {0} THEN i ELSE {0} + (i - {0}) * 1000 END, "
      "'name ' || i || repeat('x', i % 40), (i * 7 % 100000) / 100.0, "
      "timestamptz '2024-01-01 00:00:00+00' + i * interval '1 minute', i % 3 = 0 "
      "FROM generate_series(1, {1}) i; ANALYZE skewed",
      dense, rows));
  for (const std::string& target : targets) {
    to.Exec(
        fmt::format("CREATE TABLE {} (id bigint, name text, amount numeric(12,2), at "
                    "timestamptz, flag boolean)",
                    target));
  }
  return from.ConnectionYaml() +
         fmt::format("type: postgres\ntable: skewed\nsplit_rows: {}\npage_rows: 1000\n", dense);
}

TEST(PostgresExactlyOnceTest, PostgresCopyWithCutSplitsSurvivesKillNine) {
  TestDatabase from("eo_kill_from");
  TestDatabase to("eo_kill_to");
  // Chunks of 78500 and 1500 rows (two pages): 160 batches of 500.
  const std::string source = SkewedTable(from, to, {"skewed"}, 80000, 1500);
  sluice::testing::TempDir state;
  JobSpec spec;
  spec.state = state.path();
  spec.source = source;
  spec.sink_options = "table: skewed\n";
  spec.checkpoint_secs = 0;
  const std::string yaml = JobYaml(to, spec);
  // The first two children die inside cuts: the first once the reader of the short chunk, run
  // dry, had the big one cut (the cut key found, nothing recorded); the second, resuming, once
  // its idle reader's cut was recorded; in both the big chunk's reader waits at its third page
  // until the cut is asked for. The later children resume cut splits.
  KillAtEveryCommitStep(
      yaml, 12, {"sql.cut.before_offer=crash@1", "runtime.cut.after_record=crash@1"},
      [&] { return std::stoull(to.Exec("SELECT count(*) FROM skewed")); },
      [&] {
        EXPECT_EQ(to.Exec("SELECT count(*) - count(DISTINCT id) FROM skewed"), "0\n")
            << "a row was committed twice";
      });
  if (::testing::Test::HasFatalFailure())
    return;
  runtime::JobSummary last = RunJob(yaml);
  ASSERT_OK(last.status);
  EXPECT_TRUE(last.resumed);
  EXPECT_EQ(Digest(to, "skewed"), Digest(from, "skewed"));
  // Running splits were cut ("<split>.<n>": the state store records the shrunk parents and
  // their children), and no two splits share an id.
  ASSERT_OK_AND_ASSIGN(auto store, state::OpenSqliteStateStore(state.Join("state.db")));
  ASSERT_OK_AND_ASSIGN(std::optional<state::JobState> job, store->Load("eo"));
  ASSERT_TRUE(job.has_value());
  std::vector<std::string> ids;
  for (const Split& split : job->splits)
    ids.push_back(split.id);
  EXPECT_THAT(ids, ::testing::Contains(::testing::HasSubstr("#00001.")));
  std::set<std::string> unique(ids.begin(), ids.end());
  EXPECT_EQ(unique.size(), ids.size());
}

TEST(PostgresExactlyOnceTest, AtLeastOnceStoresNoProgress) {
  TestDatabase db("eo_at_least_once");
  db.Exec(OrdersTable("t", false));
  sluice::testing::TempDir state;
  JobSpec spec;
  spec.state = state.path();
  spec.source = DatagenSource(20000, 4000);
  spec.sink_options = "table: t\ncommit_rows: 1000\n";
  spec.extra = "delivery: at_least_once\n";
  runtime::JobSummary first = RunStoppedAtBatch(JobYaml(db, spec), 12);  // of 40
  ASSERT_TRUE(first.interrupted) << first.status.ToString();
  EXPECT_EQ(first.guarantee, DeliveryGuarantee::kAtLeastOnce);
  EXPECT_EQ(db.Exec("SELECT to_regclass('public._sluice_progress') IS NULL"), "t\n");
  runtime::JobSummary second = RunJob(JobYaml(db, spec));
  ASSERT_OK(second.status);
  EXPECT_TRUE(second.resumed);
  EXPECT_EQ(db.Exec("SELECT to_regclass('public._sluice_progress') IS NULL"), "t\n");
  // A resume repeats at most what followed the last checkpoint; nothing is lost.
  EXPECT_EQ(db.Exec("SELECT count(DISTINCT id) FROM t"), "20000\n");
}

TEST(PostgresExactlyOnceTest, FreshRunForgetsTheProgressAndStartsClean) {
  TestDatabase db("eo_fresh");
  const std::string source = DatagenSource(20000, 4000);
  const std::string expected = ReferenceDigest(db, source, false);
  db.Exec(OrdersTable("t", false));
  sluice::testing::TempDir state;
  JobSpec spec;
  spec.state = state.path();
  spec.source = source;
  spec.sink_options = "table: t\nmode: overwrite\nprogress_table: sluice.progress\n";
  runtime::JobSummary first = RunStoppedAtBatch(JobYaml(db, spec), 12);  // of 40
  ASSERT_TRUE(first.interrupted) << first.status.ToString();
  db.Exec("INSERT INTO sluice.progress (job, split_id, position, done, checkpoint, updated_at) VALUES ('other', 's', '', true, 1, now())");
  EXPECT_NE(db.Exec("SELECT count(*) FROM sluice.progress WHERE job = 'eo' AND split_id <> ''"), "0\n");

  // ForgetProgress on its own: the job's rows go, other jobs' stay.
  {
    ASSERT_OK_AND_ASSIGN(std::unique_ptr<Sink> sink,
                         MakeSink(db.ConnectionYaml() + spec.sink_options));
    JobContext context = MakeContext(nullptr, nullptr);
    context.job_name = "eo";
    ASSERT_OK(sink->ForgetProgress(context));
    EXPECT_EQ(db.Exec("SELECT job FROM sluice.progress WHERE split_id <> ''"), "other\n");
    ASSERT_OK_AND_ASSIGN(std::vector<SplitProgress> recovered, sink->RecoverProgress(context));
    EXPECT_TRUE(recovered.empty());
  }
  // A fresh run (--fresh) starts over: a new staging table, every row once.
  runtime::JobSummary fresh = RunJob(JobYaml(db, spec), /*fresh=*/true);
  ASSERT_OK(fresh.status);
  EXPECT_FALSE(fresh.resumed);
  EXPECT_EQ(fresh.metrics.rows_read, 20000u);
  EXPECT_EQ(Digest(db, "t"), expected);
  EXPECT_EQ(db.Exec("SELECT job, count(*), count(*) FILTER (WHERE done) FROM sluice.progress "
                    "WHERE split_id <> '' GROUP BY job ORDER BY job"),
            "eo\t5\t5\nother\t1\t1\n");
}

TEST(PostgresExactlyOnceTest, ProgressTableCreationToleratesConcurrentCreators) {
  TestDatabase db("eo_create_race");
  for (int round = 0; round < 4; ++round) {
    const std::string name = fmt::format("race{}.progress", round);
    std::vector<std::unique_ptr<PgConnection>> connections;
    ConnectionOptions options;
    const auto& pg = testing::Servers().postgres;
    options.host = pg.host;
    options.port = pg.port;
    options.user = pg.user;
    options.password = Secret(pg.password);
    options.database = db.name();
    for (int i = 0; i < 4; ++i) {
      ASSERT_OK_AND_ASSIGN(std::unique_ptr<PgConnection> conn, PgConnection::Connect(options));
      connections.push_back(std::move(conn));
    }
    std::atomic<int> ready{0};
    std::vector<Status> results(connections.size());
    std::vector<std::thread> threads;
    for (size_t i = 0; i < connections.size(); ++i) {
      threads.emplace_back([&, i] {
        ++ready;
        while (ready.load() < static_cast<int>(connections.size()))
          std::this_thread::yield();
        results[i] = ProgressTable(name, "job").Ensure(*connections[i]);
      });
    }
    for (std::thread& thread : threads)
      thread.join();
    for (const Status& status : results)
      EXPECT_OK(status);
    EXPECT_EQ(db.Exec(fmt::format("SELECT to_regclass('{}') IS NOT NULL", name)), "t\n");
  }
}

}  // namespace
}  // namespace sluice::connectors::postgres
