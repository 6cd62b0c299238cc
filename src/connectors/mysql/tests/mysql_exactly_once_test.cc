// Exactly-once delivery of the mysql sink against the real MariaDB, through the real job runner:
// rows and split progress commit together, a stopped, retried or killed job resumes without
// repeating or losing a row (append, upsert, overwrite; datagen -> MySQL and MySQL -> MySQL with
// cut splits), at-least-once stores no progress, a fresh run starts clean, and server errors are
// classified for retry. Stops, killed connections and kill -9 land at failpoints
// (core/failpoint.h), at known places in the data, never after a delay.
#include <fmt/core.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <future>
#include <random>
#include <thread>

#include "config/job_config.h"
#include "connectors/mysql/mysql_client.h"
#include "connectors/mysql/tests/mysql_test_util.h"
#include "core/failpoint.h"
#include "core/logging.h"
#include "state/state_store.h"
#include "testing/crash_loop.h"
#include "testing/gtest_util.h"
#include "testing/hold_reader_for_cut.h"
#include "testing/memory_connector.h"
#include "testing/stop_at_batch.h"
#include "testing/temp_dir.h"

namespace sluice::connectors::mysql::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using Clock = std::chrono::steady_clock;

ConnectionOptions Options(const TestDatabase& db) {
  ConnectionOptions options;
  options.host = db.servers().mysql.host;
  options.port = db.servers().mysql.port;
  options.user = db.servers().mysql.user;
  options.password = Secret(db.servers().mysql.password);
  options.database = db.name();
  return options;
}

// Row count, distinct keys, key range and the server's checksum of `table`: equal fingerprints
// mean equal contents (the tables were created alike).
std::string Fingerprint(const TestDatabase& db, const std::string& table,
                        const std::string& key = "id") {
  std::string counts = db.Exec(fmt::format(
      "SELECT COUNT(*), COUNT(DISTINCT `{0}`), MIN(`{0}`), MAX(`{0}`) FROM `{1}`", key, table));
  std::string checksum = db.Exec(fmt::format("CHECKSUM TABLE `{}`", table));
  return counts + checksum.substr(checksum.find('\t'));
}

// A datagen -> mysql job writing `rows` rows (batches of 1000) into table `orders` of `db`.
// `checkpoint_secs` 0: no timed checkpoints (tests that take them at failpoints).
std::string DatagenJob(const TestDatabase& db, const std::string& state, int rows,
                       const std::string& sink_extra, const std::string& job_extra = "",
                       int parallelism = 2, double checkpoint_secs = 0.05) {
  return fmt::format(
      "name: eo\nsource:\n  type: datagen\n  rows: {}\n  split_rows: {}\n  stream: orders\n"
      "sink:\n  type: mysql\n{}{}parallelism: {}\nbatch_rows: 1000\nstate: {}\n"
      "checkpoint: {{interval_secs: {}}}\nretry: {{max_attempts: 8, initial_backoff_secs: "
      "0.05, max_backoff_secs: 0.2}}\n{}",
      rows, std::max(1, rows / 8), Indent(db.ConnectionYaml(), 2), Indent(sink_extra, 2),
      parallelism, state, checkpoint_secs, job_extra);
}

// A mysql -> mysql job copying table `src` of `from` into `to`; small pages, and a first chunk
// holding most of the table, so that the reader of the short last chunk runs dry early and cuts
// the big one.
std::string CopyJob(const TestDatabase& from, const TestDatabase& to, const std::string& state,
                    int split_rows, double checkpoint_secs = 0.05) {
  return fmt::format(
      "name: eo-copy\nsource:\n  type: mysql\n{}  table: src\n  split_rows: {}\n"
      "  page_rows: 2000\n  consistency: per_split\nsink:\n  type: mysql\n{}parallelism: 2\n"
      "batch_rows: 1000\nstate: {}\ncheckpoint: {{interval_secs: {}}}\n"
      "retry: {{max_attempts: 8, initial_backoff_secs: 0.05, max_backoff_secs: 0.2}}\n",
      Indent(from.ConnectionYaml(), 2), split_rows, Indent(to.ConnectionYaml(), 2), state,
      checkpoint_secs);
}

// `rows` rows whose integer key is dense for the first 6/7 and sparse after: key ranges and row
// counts disagree, so only chunks planned from the data split evenly.
void CreateSkewedSource(const TestDatabase& db, int rows) {
  db.Exec(fmt::format(
      "CREATE TABLE src (id BIGINT PRIMARY KEY, name VARCHAR(40), amount DECIMAL(12,2), "
      "note TEXT); INSERT INTO src SELECT IF(seq <= {0}, seq, 1000000000 + seq * 1000), "
      "CONCAT('row ', seq), seq * 1.25, IF(seq % 7 = 0, NULL, MD5(seq)) FROM seq_1_to_{1}",
      rows / 7 * 6, rows));
}

config::JobConfig LoadJob(const std::string& yaml) {
  Result<config::JobConfig> job = config::LoadJobText(yaml, "test.yaml", {});
  EXPECT_TRUE(job.ok()) << job.status().ToString();
  return job.ok() ? *job : config::JobConfig();
}

runtime::JobSummary RunToEnd(const std::string& yaml, bool fresh = false) {
  runtime::RunOptions options;
  options.fresh = fresh;
  runtime::JobRunner runner(LoadJob(yaml), Registry(), options);
  return runner.Run(nullptr);
}

// Runs the job, which stops (as SIGINT stops it) when its readers push their `batch`-th batch.
runtime::JobSummary RunStoppedAtBatch(const std::string& yaml, uint64_t batch) {
  sluice::testing::StopAtBatch stop(batch);
  return RunToEnd(yaml);
}

// The progress the sink committed for job `job`, through a sink of its own.
std::vector<SplitProgress> Recovered(const TestDatabase& db, const std::string& job,
                                     const std::string& sink_extra = "") {
  Result<std::unique_ptr<Sink>> sink = MakeSink(db.ConnectionYaml() + sink_extra);
  EXPECT_TRUE(sink.ok()) << sink.status().ToString();
  if (!sink.ok())
    return {};
  RecordAndFail fail;
  JobContext context = MakeContext(&fail);
  context.job_name = job;
  Result<std::vector<SplitProgress>> progress = (*sink)->RecoverProgress(context);
  EXPECT_TRUE(progress.ok()) << progress.status().ToString();
  return progress.ok() ? *progress : std::vector<SplitProgress>();
}

// The progress rows of `job` read straight from the table, without RecoverProgress (which ends
// the sessions of earlier runs, a live writer of the same job included).
std::vector<SplitProgress> Committed(const TestDatabase& db, const std::string& job) {
  std::string text = db.Exec("SELECT split_id, position, done FROM _sluice_progress WHERE job = '" +
                             job + "' AND split_id <> '' ORDER BY split_id");
  std::vector<SplitProgress> out;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    std::string line = text.substr(start, end - start);
    size_t a = line.find('\t');
    size_t b = line.find('\t', a + 1);
    out.push_back(
        SplitProgress{line.substr(0, a), line.substr(a + 1, b - a - 1), line.substr(b + 1) == "1"});
    start = end + 1;
  }
  return out;
}

// Rows that datagen progress covers: split "orders#lo-hi" at position {"row":n} holds n - lo.
uint64_t RowsCovered(const std::vector<SplitProgress>& progress) {
  uint64_t rows = 0;
  for (const SplitProgress& entry : progress) {
    unsigned long long lo = 0;
    unsigned long long hi = 0;
    unsigned long long next = 0;
    EXPECT_EQ(std::sscanf(entry.split_id.c_str(), "orders#%llu-%llu", &lo, &hi), 2)
        << entry.split_id;
    if (entry.position.empty())
      continue;
    EXPECT_EQ(std::sscanf(entry.position.c_str(), R"({"row":%llu})", &next), 1) << entry.position;
    rows += next - lo;
  }
  return rows;
}

SchemaPtr OrdersSchema() {
  return std::make_shared<Schema>(
      std::vector<Field>{{"id", DataType::Int64(), false}, {"name", DataType::String(), true}},
      std::vector<int>{0});
}

std::unique_ptr<Batch> Rows(int from, int to) {
  auto batch = std::make_unique<Batch>(OrdersSchema(), static_cast<size_t>(to - from + 1));
  for (int i = from; i <= to; ++i) {
    sluice::testing::AppendRow({std::to_string(i), "n" + std::to_string(i)}, batch.get());
  }
  return batch;
}

std::vector<StreamInfo> OrdersStreams() {
  StreamInfo stream;
  stream.name = "orders";
  stream.schema = OrdersSchema();
  return {stream};
}

// ----- (a) rows and progress commit together ---------------------------------------------------

// Issue 10: a run that lost the job (frozen, then taken over by a newer run) cannot commit, in
// the session it had or in a new one, nor swap its staging table in, nor claim the job again.
TEST(MysqlExactlyOnceTest, ARunTakenOverCannotCommitOrFinish) {
  for (const char* mode : {"append", "overwrite"}) {
    SCOPED_TRACE(mode);
    MYSQL_TEST_DATABASE(db);
    std::string yaml = db.ConnectionYaml() + fmt::format("mode: {}\n", mode);
    RecordAndFail fail;
    ASSERT_OK_AND_ASSIGN(std::unique_ptr<Sink> stale_sink, MakeSink(yaml));
    JobContext stale = MakeContext(&fail);
    stale.job_name = "eo";
    stale.run_epoch = 100;
    ASSERT_OK(stale_sink->Claim(stale));
    ASSERT_OK(stale_sink->Open(stale, OrdersStreams()));
    ASSERT_OK_AND_ASSIGN(std::unique_ptr<SinkWriter> stale_writer, stale_sink->CreateWriter(0));
    ASSERT_OK(stale_writer->Write(*Rows(1, 50)));
    ASSERT_OK(stale_writer->Prepare());
    ASSERT_OK(stale_writer->Commit(CommitContext{1, {{"orders#1", "50", false}}}));
    ASSERT_OK(stale_writer->Write(*Rows(51, 80)));  // frozen here, in a transaction

    ASSERT_OK_AND_ASSIGN(std::unique_ptr<Sink> sink, MakeSink(yaml));
    JobContext newer = MakeContext(&fail);
    newer.job_name = "eo";
    newer.run_epoch = 200;
    newer.resuming = true;
    ASSERT_OK(sink->Claim(newer));  // ends the stale run's sessions
    ASSERT_OK_AND_ASSIGN(std::vector<SplitProgress> recovered, sink->RecoverProgress(newer));
    EXPECT_THAT(recovered, ElementsAre(SplitProgress{"orders#1", "50", false}));
    ASSERT_OK(sink->Open(newer, OrdersStreams()));
    ASSERT_OK_AND_ASSIGN(std::unique_ptr<SinkWriter> writer, sink->CreateWriter(0));
    ASSERT_OK(writer->Write(*Rows(51, 100)));
    ASSERT_OK(writer->Prepare());
    ASSERT_OK(writer->Commit(CommitContext{2, {{"orders#1", "100", true}}}));

    // The stale run wakes up: its old session is gone, and a new one may not commit either.
    EXPECT_FALSE(stale_writer->Prepare().ok() &&
                 stale_writer->Commit(CommitContext{2, {{"orders#1", "80", false}}}).ok());
    stale_writer->Abort();
    ASSERT_OK_AND_ASSIGN(std::unique_ptr<SinkWriter> reconnected, stale_sink->CreateWriter(1));
    ASSERT_OK(reconnected->Write(*Rows(101, 110)));
    ASSERT_OK(reconnected->Prepare());
    Status refused = reconnected->Commit(CommitContext{2, {{"orders#2", "110", true}}});
    EXPECT_EQ(refused.code(), StatusCode::kConflict) << refused.ToString();
    EXPECT_THAT(refused.message(), HasSubstr("has taken over this target"));
    reconnected->Abort();
    EXPECT_EQ(stale_sink->Claim(stale).code(), StatusCode::kConflict);
    if (std::string(mode) == "overwrite")
      EXPECT_EQ(stale_sink->Finish().code(), StatusCode::kConflict);

    writer.reset();
    ASSERT_OK(sink->Finish());
    EXPECT_EQ(db.Exec("SELECT COUNT(*), COUNT(DISTINCT id), MIN(id), MAX(id) FROM orders"),
              "100\t100\t1\t100\n");
    EXPECT_THAT(Committed(db, "eo"), ElementsAre(SplitProgress{"orders#1", "100", true}));
  }
}


TEST(MysqlExactlyOnceTest, CommitStoresRowsAndProgressInOneTransaction) {
  MYSQL_TEST_DATABASE(db);
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Sink> sink, MakeSink(db.ConnectionYaml()));
  EXPECT_EQ(sink->guarantee(), DeliveryGuarantee::kExactlyOnce);
  RecordAndFail fail;
  JobContext context = MakeContext(&fail);
  context.job_name = "eo";
  // No progress table yet: nothing to recover or forget.
  ASSERT_OK_AND_ASSIGN(std::vector<SplitProgress> none, sink->RecoverProgress(context));
  EXPECT_TRUE(none.empty());
  ASSERT_OK(sink->ForgetProgress(context));
  ASSERT_OK(sink->Open(context, OrdersStreams()));
  db.Exec("INSERT INTO _sluice_progress (job, split_id, position, done, checkpoint, updated_at) VALUES ('other', 'orders#1', '{}', 0, 3, NOW())");

  ASSERT_OK_AND_ASSIGN(std::unique_ptr<SinkWriter> writer, sink->CreateWriter(0));
  ASSERT_OK(writer->Write(*Rows(1, 100)));
  ASSERT_OK(writer->Prepare());
  // Prepared rows are sent but not visible before the commit.
  EXPECT_EQ(db.Exec("SELECT COUNT(*) FROM orders"), "0\n");
  SplitProgress first{"orders#1", R"({"row":100})", false};
  ASSERT_OK(writer->Commit(CommitContext{1, {first}}));
  EXPECT_EQ(db.Exec("SELECT COUNT(*) FROM orders"), "100\n");
  EXPECT_THAT(Committed(db, "eo"), ElementsAre(first));

  ASSERT_OK(writer->Write(*Rows(101, 250)));
  ASSERT_OK(writer->Prepare());
  SplitProgress done{"orders#1", R"({"row":200})", true};
  SplitProgress second{"orders#2", R"({"row":250})", false};
  ASSERT_OK(writer->Commit(CommitContext{2, {done, second}}));
  EXPECT_THAT(Committed(db, "eo"), ElementsAre(done, second));
  EXPECT_EQ(db.Exec("SELECT job, split_id, position, done, checkpoint FROM _sluice_progress "
                    "ORDER BY job, split_id"),
            "eo\torders#1\t{\"row\":200}\t1\t2\neo\torders#2\t{\"row\":250}\t0\t2\n"
            "other\torders#1\t{}\t0\t3\n");

  // A commit whose progress the server refuses (not UTF-8) keeps none of its rows either.
  ASSERT_OK(writer->Write(*Rows(251, 300)));
  ASSERT_OK(writer->Prepare());
  Status refused = writer->Commit(CommitContext{3, {{"orders#2", "\xff\xfe", false}}});
  EXPECT_FALSE(refused.ok());
  writer->Abort();
  writer.reset();
  EXPECT_EQ(db.Exec("SELECT COUNT(*) FROM orders"), "250\n");
  EXPECT_THAT(Recovered(db, "eo"), ElementsAre(done, second));

  // Finish keeps the progress (a run resumed after it finds nothing left to load); ForgetProgress
  // clears this job's, and only this job's.
  ASSERT_OK(sink->Finish());
  EXPECT_THAT(Recovered(db, "eo"), ElementsAre(done, second));
  ASSERT_OK(sink->ForgetProgress(context));
  EXPECT_TRUE(Recovered(db, "eo").empty());
  EXPECT_EQ(db.Exec("SELECT job FROM _sluice_progress WHERE split_id <> ''"), "other\n");
}

TEST(MysqlExactlyOnceTest, ProgressTableIsConfigurableAndNeverATarget) {
  MYSQL_TEST_DATABASE(db);
  RecordAndFail fail;
  JobContext context = MakeContext(&fail);
  context.job_name = "eo";
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Sink> sink,
                       MakeSink(db.ConnectionYaml() + "progress_table: my_progress\n"));
  ASSERT_OK(sink->Open(context, OrdersStreams()));
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<SinkWriter> writer, sink->CreateWriter(0));
  ASSERT_OK(writer->Write(*Rows(1, 10)));
  ASSERT_OK(writer->Prepare());
  ASSERT_OK(writer->Commit(CommitContext{1, {{"orders#1", "p", true}}}));
  EXPECT_EQ(db.Exec("SHOW TABLES"), "my_progress\norders\n");
  EXPECT_THAT(Recovered(db, "eo", "progress_table: my_progress\n"),
              ElementsAre(SplitProgress{"orders#1", "p", true}));

  ASSERT_OK_AND_ASSIGN(sink, MakeSink(db.ConnectionYaml() + "table: _sluice_progress\n"));
  Status status = sink->Open(context, OrdersStreams());
  EXPECT_EQ(status.code(), StatusCode::kInvalidConfig);
  EXPECT_THAT(status.message(), HasSubstr("the sink's progress table"));
}

TEST(MysqlExactlyOnceTest, RecoverProgressWaitsForAProgressTransactionStillInFlight) {
  // What a killed process leaves: its last transaction, with rows and progress, still running on
  // the server. Reading around it would let it commit behind the resumed run's back.
  MYSQL_TEST_DATABASE(db);
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Sink> sink, MakeSink(db.ConnectionYaml()));
  RecordAndFail fail;
  JobContext context = MakeContext(&fail);
  context.job_name = "eo";
  ASSERT_OK(sink->Open(context, OrdersStreams()));
  sink->Abort();
  ASSERT_OK_AND_ASSIGN(Connection zombie, Connection::Open(Options(db)));
  ASSERT_OK(zombie.Execute("START TRANSACTION", ""));
  ASSERT_OK(zombie.Execute("INSERT INTO orders VALUES (1, 'a')", ""));
  ASSERT_OK(
      zombie.Execute("INSERT INTO _sluice_progress (job, split_id, position, done, checkpoint, updated_at) VALUES ('eo', 's1', 'p', 1, 7, NOW())", ""));
  std::future<std::vector<SplitProgress>> recovered =
      std::async(std::launch::async, [&] { return Recovered(db, "eo"); });
  EXPECT_EQ(recovered.wait_for(std::chrono::milliseconds(300)), std::future_status::timeout);
  ASSERT_OK(zombie.Execute("COMMIT", ""));
  EXPECT_THAT(recovered.get(), ElementsAre(SplitProgress{"s1", "p", true}));
}

// ----- (b) stop and resume ---------------------------------------------------------------------

class MysqlExactlyOnceModeTest : public ::testing::TestWithParam<std::string> {};

TEST_P(MysqlExactlyOnceModeTest, StopAndResumeWritesEveryRowExactlyOnce) {
  MYSQL_TEST_DATABASE(db);
  MYSQL_TEST_DATABASE(reference, "ref");
  const int rows = 60000;
  const std::string mode = "mode: " + GetParam() + "\n";
  sluice::testing::TempDir state;
  sluice::testing::TempDir reference_state;
  ASSERT_OK(RunToEnd(DatagenJob(reference, reference_state.path(), rows, mode)).status);

  // 60 batches: stopped at the 15th.
  runtime::JobSummary stopped = RunStoppedAtBatch(DatagenJob(db, state.path(), rows, mode), 15);
  ASSERT_TRUE(stopped.interrupted) << stopped.status.ToString();
  // What the sink committed is exactly what its progress covers.
  std::vector<SplitProgress> progress = Recovered(db, "eo");
  ASSERT_FALSE(progress.empty());
  std::string table = GetParam() == "overwrite" ? "_sluice_staging_orders" : "orders";
  EXPECT_EQ(db.Exec("SELECT COUNT(*) FROM " + table), fmt::format("{}\n", RowsCovered(progress)));

  runtime::JobSummary resumed = RunToEnd(DatagenJob(db, state.path(), rows, mode));
  ASSERT_OK(resumed.status);
  EXPECT_TRUE(resumed.resumed);
  EXPECT_EQ(resumed.metrics.rows_read, rows - RowsCovered(progress));
  EXPECT_EQ(Fingerprint(db, "orders"), Fingerprint(reference, "orders"));
  // A finished job keeps its progress, every split done, until its next fresh run.
  EXPECT_EQ(db.Exec("SELECT COUNT(*) FROM _sluice_progress WHERE done = 0 AND split_id <> ''"), "0\n");
  EXPECT_EQ(db.Exec("SHOW TABLES"), "_sluice_progress\norders\n");
}

INSTANTIATE_TEST_SUITE_P(Modes, MysqlExactlyOnceModeTest,
                         ::testing::Values("append", "upsert", "overwrite"));

TEST(MysqlExactlyOnceTest, MysqlToMysqlStoppedAfterCutsResumesExactlyOnce) {
  MYSQL_TEST_DATABASE(from, "from");
  MYSQL_TEST_DATABASE(to, "to");
  // Chunks of 67,000 and 3,000 rows (two pages): the second's reader cuts the first when it is
  // done, with plenty of the first left to stop in; the first's reader waits at its third page
  // until then.
  CreateSkewedSource(from, 70000);
  sluice::testing::TempDir state;
  runtime::JobSummary stopped;
  {
    // Stopped once both readers read 4 batches after the first cut: the cut-off split has rows
    // of its own.
    sluice::testing::StopAfterCut stop(2, 4);
    sluice::testing::HoldReaderForCut(3);
    stopped = RunToEnd(CopyJob(from, to, state.path(), 67000));
  }
  ASSERT_TRUE(stopped.interrupted) << stopped.status.ToString();
  ASSERT_GE(stopped.metrics.splits_cut, 1u);
  runtime::JobSummary resumed = RunToEnd(CopyJob(from, to, state.path(), 67000));
  ASSERT_OK(resumed.status);
  EXPECT_TRUE(resumed.resumed);
  EXPECT_EQ(Fingerprint(to, "src"), Fingerprint(from, "src"));
}

// ----- (c) connections killed mid-job --------------------------------------------------------

TEST(MysqlExactlyOnceTest, KilledConnectionsAreRetriedFromTheLastCheckpoint) {
  MYSQL_TEST_DATABASE(db);
  MYSQL_TEST_DATABASE(reference, "ref");
  const int rows = 60000;  // 60 batches
  sluice::testing::TempDir state;
  sluice::testing::TempDir reference_state;
  ASSERT_OK(RunToEnd(DatagenJob(reference, reference_state.path(), rows, "")).status);

  // Every session of the job is killed twice, right after the 4th and the 12th checkpoint
  // recorded (counted over the attempts; a checkpoint after every batch), while the readers wait
  // for that record: the first attempt cannot record more than 4 (its sessions are gone), so
  // the second kill hits the retry, which resumes from checkpoint 4.
  ASSERT_OK_AND_ASSIGN(Connection admin, Connection::Open(Options(db)));
  std::atomic<int> rounds{0};
  std::atomic<int> killed{0};
  std::atomic<int> recorded{0};
  failpoint::ArmCallback(
      "runtime.checkpoint.after_record", 1,
      [&] {
        int now = ++recorded;
        if ((rounds == 0 && now >= 4) || (rounds == 1 && now >= 12)) {
          Result<std::vector<TextRow>> sessions = admin.Query(
              fmt::format("SELECT ID FROM information_schema.PROCESSLIST WHERE DB = '{}' AND "
                          "ID <> CONNECTION_ID()",
                          db.name()),
              "");
          int before = killed;
          if (sessions.ok()) {
            for (const TextRow& session : *sessions) {
              if (admin.Execute("KILL " + session[0].value_or("0"), "").ok())
                ++killed;
            }
          }
          if (killed > before)
            ++rounds;
        }
        return Status::OK();
      },
      /*and_later=*/true);
  ASSERT_OK(failpoint::Arm("runtime.reader.batch=checkpoint@1+"));
  runtime::JobSummary summary =
      RunToEnd(DatagenJob(db, state.path(), rows, "", "", 2, /*checkpoint_secs=*/0));
  failpoint::DisarmAll();
  ASSERT_OK(summary.status);
  EXPECT_EQ(rounds.load(), 2);
  EXPECT_GE(killed.load(), 4);  // both writers' sessions, each time
  EXPECT_EQ(summary.metrics.retries, 2u);
  EXPECT_EQ(Fingerprint(db, "orders"), Fingerprint(reference, "orders"));
}

// ----- (d) kill -9 at every commit step ----------------------------------------------------

// Runs `yaml` in child processes killed at failpoints (testing/crash_loop.h): at every step of a
// commit, the mysql sink's own included, inside cuts (`opening`, first), and around Finish; then
// once more in this process to the end. After every kill the committed rows (`committed`) never
// went back, and each child committed what its crash point says. The job must take no timed
// checkpoints.
void KillAtEveryCommitStepThenFinish(const std::string& yaml, int kills,
                                     std::vector<std::string> opening,
                                     const std::function<uint64_t()>& committed) {
  config::JobConfig job = LoadJob(yaml);
  const uint32_t seed = std::random_device{}();
  SCOPED_TRACE(fmt::format("seed {}", seed));
  uint64_t before = committed();
  sluice::testing::CrashLoopOptions options;
  options.kills = kills;
  options.seed = seed;
  options.opening_points = std::move(opening);
  options.in_child = [](const std::string& plan) {
    if (plan.find(".cut.") != std::string::npos)
      sluice::testing::HoldReaderForCut(3);
  };
  options.connector_points = {"mysql.commit.after_rows=crash@2",
                              "mysql.commit.before_fence_check=crash@3"};
  options.after_kill = [&](const std::string& plan) {
    SCOPED_TRACE(plan);
    uint64_t now = committed();
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
  // No other thread runs in this process between jobs, so each child is a sound copy of it.
  sluice::testing::CrashLoopResult crashes = sluice::testing::RunCrashLoop(
      [&] { return runtime::JobRunner(job, Registry()).Run(nullptr).status.ok() ? 0 : 3; },
      options);
  ASSERT_EQ(crashes.kills, kills) << "a child finished the job before its crash point";
  runtime::JobRunner runner(job, Registry());
  runtime::JobSummary summary = runner.Run(nullptr);
  ASSERT_OK(summary.status);
  EXPECT_TRUE(summary.resumed);
  // The kill just after Finish left nothing to copy.
  EXPECT_EQ(summary.metrics.rows_read, 0u);
}

// Rows in `table` of `db` (committed rows only: the test reads outside any job's transaction).
uint64_t CommittedRows(const TestDatabase& db, const std::string& table) {
  Result<std::string> count = db.TryExec(fmt::format("SELECT COUNT(*) FROM `{}`", table));
  if (!count.ok())
    return 0;  // not created yet
  return std::stoull(*count);
}

TEST(MysqlExactlyOnceTest, KilledAtEveryCommitStepThenFinishDatagen) {
  MYSQL_TEST_DATABASE(db);
  MYSQL_TEST_DATABASE(reference, "ref");
  const int rows = 200000;  // 200 batches: the mid-job kills commit a few each
  sluice::testing::TempDir state;
  sluice::testing::TempDir reference_state;
  ASSERT_OK(RunToEnd(DatagenJob(reference, reference_state.path(), rows, "")).status);
  KillAtEveryCommitStepThenFinish(
      DatagenJob(db, state.path(), rows, "", "", 2, /*checkpoint_secs=*/0), 10, {}, [&] {
        // Whatever step the process died at, the table holds exactly what its progress says.
        uint64_t now = CommittedRows(db, "orders");
        if (db.TryExec("SELECT 1 FROM _sluice_progress LIMIT 1").ok()) {
          EXPECT_EQ(RowsCovered(Committed(db, "eo")), now);
        }
        return now;
      });
  EXPECT_EQ(Fingerprint(db, "orders"), Fingerprint(reference, "orders"));
  // A finished job keeps its progress, every split done, until its next fresh run.
  EXPECT_EQ(db.Exec("SELECT COUNT(*) FROM _sluice_progress WHERE done = 0 AND split_id <> ''"), "0\n");
}

TEST(MysqlExactlyOnceTest, KilledAtEveryCommitStepThenFinishMysqlToMysqlWithCuts) {
  MYSQL_TEST_DATABASE(from, "from");
  MYSQL_TEST_DATABASE(to, "to");
  MYSQL_TEST_DATABASE(reference, "ref");
  const int rows = 100000;  // 100 batches
  CreateSkewedSource(from, rows);
  sluice::testing::TempDir state;
  sluice::testing::TempDir reference_state;
  // Chunks of 97,000 and 3,000 rows (two pages): the second's reader runs dry at once and cuts
  // the first, whose reader waits at its third page until then (HoldReaderForCut).
  const int split_rows = rows - 3000;
  ASSERT_OK(RunToEnd(CopyJob(from, reference, reference_state.path(), split_rows)).status);
  // The first child dies inside that cut (the cut key found, nothing recorded), the second,
  // resuming, once its idle reader's cut was recorded; the later ones resume cut splits.
  KillAtEveryCommitStepThenFinish(
      CopyJob(from, to, state.path(), split_rows, /*checkpoint_secs=*/0), 10,
      {"sql.cut.before_offer=crash@1", "runtime.cut.after_record=crash@1"},
      [&] { return CommittedRows(to, "src"); });
  EXPECT_EQ(Fingerprint(to, "src"), Fingerprint(from, "src"));
  EXPECT_EQ(Fingerprint(reference, "src"), Fingerprint(from, "src"));
  // Splits were cut along the way (ids "src#00001.1", ...).
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<state::StateStore> store,
                       state::OpenSqliteStateStore(state.Join("state.db")));
  ASSERT_OK_AND_ASSIGN(std::optional<state::JobState> job, store->Load("eo-copy"));
  ASSERT_TRUE(job.has_value());
  EXPECT_TRUE(std::any_of(job->splits.begin(), job->splits.end(), [](const Split& split) {
    return split.id.find('.') != std::string::npos;
  }));
}

// ----- (e) at-least-once, (f) forgetting ---------------------------------------------------

TEST(MysqlExactlyOnceTest, AtLeastOnceStoresNoProgress) {
  MYSQL_TEST_DATABASE(db);
  sluice::testing::TempDir state;
  std::string yaml = DatagenJob(db, state.path(), 20000, "", "delivery: at_least_once\n");
  runtime::JobSummary stopped = RunStoppedAtBatch(yaml, 5);  // of 20
  ASSERT_TRUE(stopped.interrupted) << stopped.status.ToString();
  EXPECT_EQ(stopped.guarantee, DeliveryGuarantee::kAtLeastOnce);
  EXPECT_EQ(db.Exec("SHOW TABLES"), "orders\n");
  ASSERT_OK(RunToEnd(yaml).status);
  EXPECT_EQ(db.Exec("SHOW TABLES"), "orders\n");
  EXPECT_TRUE(Recovered(db, "eo").empty());
}

TEST(MysqlExactlyOnceTest, ForgetProgressAndAFreshRunStartClean) {
  MYSQL_TEST_DATABASE(db);
  MYSQL_TEST_DATABASE(reference, "ref");
  const int rows = 60000;
  sluice::testing::TempDir state;
  sluice::testing::TempDir reference_state;
  std::string yaml = DatagenJob(db, state.path(), rows, "mode: overwrite\n");
  ASSERT_OK(
      RunToEnd(DatagenJob(reference, reference_state.path(), rows, "mode: overwrite\n")).status);
  ASSERT_TRUE(RunStoppedAtBatch(yaml, 15).interrupted);  // of 60
  ASSERT_FALSE(Recovered(db, "eo").empty());
  EXPECT_NE(db.Exec("SELECT COUNT(*) FROM _sluice_staging_orders"), "0\n");

  // ForgetProgress deletes the job's progress and nothing else.
  db.Exec("INSERT INTO _sluice_progress (job, split_id, position, done, checkpoint, updated_at) VALUES ('other', 'x', '', 1, 1, NOW())");
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Sink> sink, MakeSink(db.ConnectionYaml()));
  RecordAndFail fail;
  JobContext context = MakeContext(&fail);
  context.job_name = "eo";
  ASSERT_OK(sink->ForgetProgress(context));
  EXPECT_TRUE(Recovered(db, "eo").empty());
  EXPECT_EQ(db.Exec("SELECT job FROM _sluice_progress WHERE split_id <> ''"), "other\n");

  // A fresh run (--fresh) starts over: the earlier run's staging rows are gone, not doubled.
  runtime::JobSummary fresh = RunToEnd(yaml, /*fresh=*/true);
  ASSERT_OK(fresh.status);
  EXPECT_FALSE(fresh.resumed);
  EXPECT_EQ(fresh.metrics.rows_read, static_cast<uint64_t>(rows));
  EXPECT_EQ(Fingerprint(db, "orders"), Fingerprint(reference, "orders"));
  // The finished job keeps its progress, every split done, until its next fresh run.
  EXPECT_EQ(db.Exec("SELECT COUNT(*) FROM _sluice_progress WHERE job = 'eo' AND done = 0 AND split_id <> ''"), "0\n");
  EXPECT_EQ(db.Exec("SELECT COUNT(*) FROM _sluice_progress WHERE job = 'other' AND split_id <> ''"), "1\n");
}

TEST(MysqlExactlyOnceTest, NonTransactionalTargetIsRefusedUnderExactlyOnce) {
  MYSQL_TEST_DATABASE(db);
  db.Exec("CREATE TABLE orders (id BIGINT PRIMARY KEY, name TEXT) ENGINE=MyISAM");
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Sink> sink, MakeSink(db.ConnectionYaml()));
  RecordAndFail fail;
  JobContext context = MakeContext(&fail);
  Status status = sink->Open(context, OrdersStreams());
  EXPECT_EQ(status.code(), StatusCode::kInvalidConfig);
  EXPECT_THAT(status.message(),
              HasSubstr(fmt::format("table '{}.orders' uses engine MyISAM, which has no "
                                    "transactions",
                                    db.name())));
  context.delivery = DeliveryGuarantee::kAtLeastOnce;
  ASSERT_OK_AND_ASSIGN(sink, MakeSink(db.ConnectionYaml()));
  EXPECT_OK(sink->Open(context, OrdersStreams()));
}

// ----- transient and permanent errors --------------------------------------------------------

TEST(MysqlExactlyOnceTest, ErrorNumbersMapToRetryableOrPermanent) {
  ConnectionOptions options;
  options.user = "u";
  struct Case {
    unsigned int code;
    StatusCode expected;
  };
  for (const Case& c : std::vector<Case>{{2002, StatusCode::kUnavailable},
                                         {2003, StatusCode::kUnavailable},
                                         {2006, StatusCode::kUnavailable},
                                         {2013, StatusCode::kUnavailable},
                                         {1927, StatusCode::kUnavailable},
                                         {1053, StatusCode::kUnavailable},
                                         {1160, StatusCode::kUnavailable},
                                         {4031, StatusCode::kUnavailable},
                                         {1213, StatusCode::kAborted},
                                         {1205, StatusCode::kAborted},
                                         {1045, StatusCode::kPermissionDenied},
                                         {1044, StatusCode::kPermissionDenied},
                                         {1142, StatusCode::kPermissionDenied},
                                         {1146, StatusCode::kNotFound},
                                         {1049, StatusCode::kNotFound},
                                         {1062, StatusCode::kDataError},
                                         {1406, StatusCode::kDataError}}) {
    Status status = MysqlStatus(c.code, "server text 'x'", options, "");
    EXPECT_EQ(status.code(), c.expected) << c.code << ": " << status.ToString();
    bool transient = c.expected == StatusCode::kUnavailable || c.expected == StatusCode::kAborted;
    EXPECT_EQ(status.IsTransient(), transient) << c.code;
  }
}

TEST(MysqlExactlyOnceTest, ProvokedServerErrorsAreClassifiedForRetry) {
  MYSQL_TEST_DATABASE(db);
  ConnectionOptions options = Options(db);
  auto code_of = [](const Status& status) { return status.code(); };

  // Permanent: wrong password, unknown database, missing table, missing privilege.
  ConnectionOptions wrong = options;
  wrong.password = Secret("not the password");
  EXPECT_EQ(code_of(Connection::Open(wrong).status()), StatusCode::kPermissionDenied);
  ConnectionOptions nowhere = options;
  nowhere.database = "sluice_no_such_database";
  EXPECT_EQ(code_of(Connection::Open(nowhere).status()), StatusCode::kNotFound);
  ASSERT_OK_AND_ASSIGN(Connection a, Connection::Open(options));
  EXPECT_EQ(code_of(a.Execute("SELECT * FROM no_such_table", "")), StatusCode::kNotFound);
  ConnectionOptions limited = options;
  limited.user = "limited";
  ASSERT_OK_AND_ASSIGN(Connection weak, Connection::Open(limited));
  ASSERT_OK(a.Execute("CREATE TABLE t (id INT PRIMARY KEY, v INT) ENGINE=InnoDB", ""));
  EXPECT_EQ(code_of(weak.Execute("LOCK TABLES t READ", "")), StatusCode::kPermissionDenied);

  // Transient: refused, killed, lock wait, deadlock.
  ConnectionOptions closed = options;
  closed.port = 1;
  EXPECT_EQ(code_of(Connection::Open(closed).status()), StatusCode::kUnavailable);

  ASSERT_OK_AND_ASSIGN(Connection victim, Connection::Open(options));
  ASSERT_OK(a.Execute(fmt::format("KILL {}", victim.thread_id()), ""));
  Status after_kill = victim.Execute("SELECT 1", "");
  EXPECT_EQ(code_of(after_kill), StatusCode::kUnavailable) << after_kill.ToString();

  ASSERT_OK(a.Execute("INSERT INTO t VALUES (1, 0), (2, 0)", ""));
  ASSERT_OK_AND_ASSIGN(Connection b, Connection::Open(options));
  ASSERT_OK(a.Execute("START TRANSACTION", ""));
  ASSERT_OK(a.Execute("UPDATE t SET v = 1 WHERE id = 1", ""));
  ASSERT_OK(b.Execute("SET SESSION innodb_lock_wait_timeout = 1", ""));
  ASSERT_OK(b.Execute("START TRANSACTION", ""));
  Status waited = b.Execute("UPDATE t SET v = 2 WHERE id = 1", "");
  EXPECT_EQ(code_of(waited), StatusCode::kAborted) << waited.ToString();
  EXPECT_THAT(waited.message(), HasSubstr("(error 1205)"));

  ASSERT_OK(a.Execute("ROLLBACK", ""));
  ASSERT_OK(b.Execute("ROLLBACK", ""));

  // A deadlock needs a's update to wait for b's lock before b closes the cycle. Tests running
  // alongside take global read locks that can hold either statement back, so a round may end in
  // a plain lock wait instead; a few rounds make sure InnoDB's deadlock verdict is seen.
  auto provoke_deadlock = [&]() -> Status {
    SLUICE_ASSIGN_OR_RETURN(Connection x, Connection::Open(options));
    SLUICE_ASSIGN_OR_RETURN(Connection y, Connection::Open(options));
    SLUICE_ASSIGN_OR_RETURN(Connection watcher, Connection::Open(options));
    SLUICE_RETURN_IF_ERROR(x.Execute("SET SESSION innodb_lock_wait_timeout = 5", ""));
    SLUICE_RETURN_IF_ERROR(y.Execute("SET SESSION innodb_lock_wait_timeout = 5", ""));
    SLUICE_RETURN_IF_ERROR(x.Execute("START TRANSACTION", ""));
    SLUICE_RETURN_IF_ERROR(x.Execute("UPDATE t SET v = 1 WHERE id = 1", ""));
    SLUICE_RETURN_IF_ERROR(y.Execute("START TRANSACTION", ""));
    SLUICE_RETURN_IF_ERROR(y.Execute("UPDATE t SET v = 2 WHERE id = 2", ""));
    std::future<Status> blocked = std::async(
        std::launch::async, [&] { return x.Execute("UPDATE t SET v = 1 WHERE id = 2", ""); });
    // Wait until x's update waits for y's lock, then close the cycle.
    Clock::time_point deadline = Clock::now() + std::chrono::seconds(4);
    while (Clock::now() < deadline) {
      Result<std::optional<TextRow>> waiting =
          watcher.QueryRow(fmt::format("SELECT COUNT(*) FROM information_schema.INNODB_TRX "
                                       "WHERE trx_state = 'LOCK WAIT' AND trx_mysql_thread_id = {}",
                                       x.thread_id()),
                           "");
      if (waiting.ok() && *waiting && (**waiting)[0] == "1")
        break;
      // InnoDB refreshes INNODB_TRX only when nobody read it for 100 ms.
      std::this_thread::sleep_for(std::chrono::milliseconds(120));
    }
    Status closing = y.Execute("UPDATE t SET v = 2 WHERE id = 1", "");
    Status first = blocked.get();
    (void)x.Execute("ROLLBACK", "");
    (void)y.Execute("ROLLBACK", "");
    // InnoDB rolls back one of the two.
    return !closing.ok() ? closing : first;
  };
  bool saw_deadlock = false;
  for (int round = 0; round < 4 && !saw_deadlock; ++round) {
    Status failed = provoke_deadlock();
    EXPECT_EQ(code_of(failed), StatusCode::kAborted) << failed.ToString();
    saw_deadlock = failed.message().find("(error 1213)") != std::string::npos;
  }
  EXPECT_TRUE(saw_deadlock) << "InnoDB never reported a deadlock (error 1213)";
}

}  // namespace
}  // namespace sluice::connectors::mysql::testing
