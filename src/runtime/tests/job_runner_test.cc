#include "runtime/job_runner.h"

#include <fmt/core.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <set>
#include <thread>

#include "core/failpoint.h"
#include "testing/gtest_util.h"
#include "testing/memory_connector.h"
#include "testing/stop_at_batch.h"
#include "testing/temp_dir.h"

namespace sluice::runtime {
namespace {

using testing::MemorySinkData;
using testing::MemorySourceData;
using testing::Row;
using Clock = std::chrono::steady_clock;

SchemaPtr OrdersSchema() {
  return std::make_shared<Schema>(std::vector<Field>{{"id", DataType::Int64(), false},
                                                     {"amount", DataType::String(), true},
                                                     {"note", DataType::String(), true}},
                                  std::vector<int>{0});
}

std::vector<Row> MakeRows(size_t count) {
  std::vector<Row> rows;
  for (size_t i = 0; i < count; ++i) {
    rows.push_back(
        Row{std::to_string(i), std::to_string(i) + ".50",
            i % 7 == 0 ? std::nullopt : std::optional<std::string>("note " + std::to_string(i))});
  }
  return rows;
}

class JobRunnerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    source_ = std::make_shared<MemorySourceData>();
    sink_ = std::make_shared<MemorySinkData>();
    testing::RegisterMemoryConnector(registry_, source_, sink_);
  }

  config::JobConfig Job(int parallelism, const std::string& extra = "") {
    std::string text = "name: test\nsource: {type: memory}\nsink: {type: memory}\nparallelism: " +
                       std::to_string(parallelism) + "\nbatch_rows: 100\nstate: " + state_.path() +
                       "\n" + extra;
    Result<config::JobConfig> job = config::LoadJobText(text, "test.yaml", {});
    EXPECT_TRUE(job.ok()) << job.status().ToString();
    return *job;
  }

  // Sorted copy of what the sink committed for `stream`.
  std::vector<Row> Committed(const std::string& stream) {
    std::vector<Row> rows = sink_->committed[stream];
    std::sort(rows.begin(), rows.end(),
              [](const Row& a, const Row& b) { return std::stoll(*a[0]) < std::stoll(*b[0]); });
    return rows;
  }

  testing::TempDir state_;
  connectors::ConnectorRegistry registry_;
  std::shared_ptr<MemorySourceData> source_;
  std::shared_ptr<MemorySinkData> sink_;
};

TEST_F(JobRunnerTest, CopiesEveryRowExactlyOnceAtAnyParallelism) {
  std::vector<Row> rows = MakeRows(5003);
  source_->streams = {{"orders", OrdersSchema(), rows}};
  source_->split_rows = 450;
  for (int parallelism : {1, 2, 4, 7}) {
    for (int max_writers : {0, 1, 3}) {
      sink_->committed.clear();
      sink_->max_writers = max_writers;
      JobRunner runner(Job(parallelism), registry_);
      JobSummary summary = runner.Run(nullptr);
      ASSERT_OK(summary.status);
      EXPECT_EQ(Committed("orders"), rows) << parallelism << " " << max_writers;
      EXPECT_EQ(summary.metrics.rows_read, rows.size());
      EXPECT_EQ(summary.metrics.rows_written, rows.size());
      EXPECT_EQ(summary.metrics.splits_done, summary.metrics.splits_total);
      EXPECT_EQ(summary.readers, parallelism);
      EXPECT_EQ(summary.writers,
                max_writers == 0 ? parallelism : std::min(parallelism, max_writers));
    }
  }
}

TEST_F(JobRunnerTest, EmptySourceSucceedsAndFinishes) {
  source_->streams = {{"orders", OrdersSchema(), {}}};
  JobRunner runner(Job(3), registry_);
  JobSummary summary = runner.Run(nullptr);
  ASSERT_OK(summary.status);
  EXPECT_EQ(summary.metrics.rows_written, 0u);
  EXPECT_EQ(sink_->finishes.load(), 1);
  EXPECT_EQ(sink_->opened_streams.size(), 1u);
}

TEST_F(JobRunnerTest, SkewedSplitIsCutForIdleReaders) {
  // One split holds 90% of the rows; the other readers must take over parts. Its reader is held
  // after its first 500 rows until the idle readers have cut what it has left to 4000 rows or
  // less (three halvings), however the threads happen to be scheduled.
  std::vector<Row> rows = MakeRows(20000);
  source_->streams = {{"orders", OrdersSchema(), rows}};
  source_->first_split_rows[0] = 18000;
  source_->split_rows = 500;
  source_->rows_per_read = 100;
  const Clock::time_point deadline = Clock::now() + std::chrono::seconds(60);
  source_->hold_read = [&](int stream, size_t first_row, size_t next_row, size_t end_row) {
    return stream == 0 && first_row == 0 && next_row >= 500 && end_row - next_row > 4000 &&
           Clock::now() < deadline;
  };
  JobRunner runner(Job(4), registry_);
  JobSummary summary = runner.Run(nullptr);
  ASSERT_OK(summary.status);
  EXPECT_GT(summary.metrics.splits_cut, 2u);
  EXPECT_EQ(Committed("orders"), rows);
  // The reader of the big split kept its first 500 rows and at most 4000 more: the rest went to
  // the others.
  bool found = false;
  for (const SplitTiming& timing : runner.metrics().SlowestSplits(1000)) {
    if (timing.split_id == "0:0-18000") {
      found = true;
      EXPECT_LE(timing.rows, 4500u);
    }
  }
  EXPECT_TRUE(found);
}

TEST_F(JobRunnerTest, MultipleStreamsKeepTheirRowsApart) {
  std::vector<Row> a = MakeRows(1234);
  std::vector<Row> b = MakeRows(777);
  source_->streams = {{"a", OrdersSchema(), a}, {"b", OrdersSchema(), b}};
  source_->split_rows = 100;
  JobRunner runner(Job(3), registry_);
  ASSERT_OK(runner.Run(nullptr).status);
  EXPECT_EQ(Committed("a"), a);
  EXPECT_EQ(Committed("b"), b);
}

TEST_F(JobRunnerTest, SourceFailureAbortsEverythingAndPublishesNothing) {
  source_->streams = {{"orders", OrdersSchema(), MakeRows(3000)}};
  source_->split_rows = 100;
  source_->fail_at_row = 2050;
  source_->failure = PermissionDenied("injected permanent failure");
  JobRunner runner(Job(2), registry_);
  JobSummary summary = runner.Run(nullptr);
  ASSERT_FALSE(summary.status.ok());
  EXPECT_EQ(summary.status.code(), StatusCode::kPermissionDenied);
  EXPECT_THAT(
      summary.status.message(),
      ::testing::HasSubstr("source memory: split '0:2000-2100': injected permanent failure"));
  EXPECT_EQ(summary.metrics.retries, 0u);  // permanent: no retry
  EXPECT_EQ(sink_->finishes.load(), 0);
  EXPECT_EQ(sink_->sink_aborts.load(), 1);
  EXPECT_EQ(sink_->commits.load(), 0);
  EXPECT_TRUE(sink_->committed.empty());
  EXPECT_FALSE(summary.interrupted);
}

TEST_F(JobRunnerTest, SinkFailureStopsReaders) {
  source_->streams = {{"orders", OrdersSchema(), MakeRows(50000)}};
  source_->split_rows = 1000;
  sink_->fail_after_rows = 1000;
  JobRunner runner(Job(2, "retry: {max_attempts: 0}\n"), registry_);
  JobSummary summary = runner.Run(nullptr);
  ASSERT_FALSE(summary.status.ok());
  EXPECT_EQ(summary.status.code(), StatusCode::kIoError);
  EXPECT_THAT(summary.status.message(), ::testing::HasSubstr("sink memory: writer"));
  // Readers stopped early instead of reading everything into a closed pipe.
  EXPECT_LT(summary.metrics.rows_read, 50000u);
  EXPECT_EQ(sink_->finishes.load(), 0);
}

TEST_F(JobRunnerTest, StopTakesAFinalCheckpointAndTheNextRunResumesExactlyOnce) {
  std::vector<Row> rows = MakeRows(20000);
  source_->streams = {{"orders", OrdersSchema(), rows}};
  source_->split_rows = 1000;
  uint64_t read_before_stop = 0;
  {
    // The 30th batch of 100 rows; the other reader may push one more before it stops.
    testing::StopAtBatch stop_at(30);
    JobRunner runner(Job(2), registry_);
    JobSummary summary = runner.Run(nullptr);
    EXPECT_TRUE(summary.interrupted);
    EXPECT_EQ(summary.status.code(), StatusCode::kCancelled);
    read_before_stop = summary.metrics.rows_read;
    EXPECT_GE(read_before_stop, 3000u);
    EXPECT_LE(read_before_stop, 3100u);
    EXPECT_EQ(sink_->finishes.load(), 0);
    EXPECT_GE(summary.metrics.checkpoints, 1u);
  }
  // Everything read before the stop is committed, not thrown away.
  size_t first_run = sink_->committed["orders"].size();
  EXPECT_EQ(first_run, read_before_stop);
  JobRunner again(Job(2), registry_);
  JobSummary summary = again.Run(nullptr);
  ASSERT_OK(summary.status);
  EXPECT_TRUE(summary.resumed);
  EXPECT_TRUE(sink_->opened_resuming.load());
  EXPECT_EQ(summary.metrics.rows_read, 20000u - first_run);
  EXPECT_EQ(Committed("orders"), rows);  // every row exactly once across both runs
  EXPECT_EQ(sink_->finishes.load(), 1);
}

// Issue 10: a stop asked from inside the pipeline (the `stop` failpoint) was lost when the
// reader that asked it ended before the coordinator looked: the job then took its final
// checkpoint and finished, Sink::Finish included, with the rest of the data never read.
TEST_F(JobRunnerTest, Issue10StopAskedByTheOnlyReaderIsNeverLost) {
  source_->streams = {{"orders", OrdersSchema(), MakeRows(5000)}};
  source_->split_rows = 1000;
  for (int round = 0; round < 50; ++round) {
    testing::StopAtBatch stop(3);
    JobSummary summary = JobRunner(Job(1), registry_, RunOptions{"", true}).Run(nullptr);
    ASSERT_TRUE(summary.interrupted) << "round " << round << ": " << summary.status.ToString();
    ASSERT_EQ(summary.status.code(), StatusCode::kCancelled) << "round " << round;
    ASSERT_EQ(sink_->finishes.load(), 0) << "round " << round;
    ASSERT_EQ(summary.metrics.rows_read, 300u) << "round " << round;
  }
}

TEST_F(JobRunnerTest, TransientFailureIsRetriedFromTheLastCheckpoint) {
  std::vector<Row> rows = MakeRows(8000);
  source_->streams = {{"orders", OrdersSchema(), rows}};
  source_->split_rows = 1000;
  source_->fail_at_row = 6500;
  source_->failures_left = 2;
  JobRunner runner(Job(2,
                       "retry: {max_attempts: 3, initial_backoff_secs: 0.01}\n"
                       "checkpoint: {interval_secs: 0.01}\n"),
                   registry_);
  JobSummary summary = runner.Run(nullptr);
  ASSERT_OK(summary.status);
  EXPECT_EQ(summary.metrics.retries, 2u);
  EXPECT_EQ(Committed("orders"), rows);  // no row lost, none twice
}

TEST_F(JobRunnerTest, RetriesRunOutWithTheLastError) {
  source_->streams = {{"orders", OrdersSchema(), MakeRows(3000)}};
  source_->split_rows = 1000;
  source_->fail_at_row = 10;
  JobRunner runner(Job(1, "retry: {max_attempts: 2, initial_backoff_secs: 0.01}\n"), registry_);
  JobSummary summary = runner.Run(nullptr);
  EXPECT_EQ(summary.status.code(), StatusCode::kUnavailable);
  EXPECT_THAT(summary.status.message(), ::testing::StartsWith("giving up after 2 retries: "));
  EXPECT_EQ(summary.metrics.retries, 2u);
}

TEST_F(JobRunnerTest, PeriodicCheckpointsCommitWhileReadingGoesOn) {
  std::vector<Row> rows = MakeRows(12000);
  source_->streams = {{"orders", OrdersSchema(), rows}};
  source_->split_rows = 500;
  source_->rows_per_read = 100;
  source_->read_delay_micros = 5000;
  JobRunner runner(Job(2, "checkpoint: {interval_secs: 0.02}\n"), registry_);
  JobSummary summary = runner.Run(nullptr);
  ASSERT_OK(summary.status);
  // 120 reads of 5 ms over two readers: at least 0.3 s of reading, checkpoints every 20 ms.
  EXPECT_GE(summary.metrics.checkpoints, 4u);
  EXPECT_GE(sink_->commits.load(), 8);
  EXPECT_EQ(Committed("orders"), rows);
  // Every split is committed as done with the rows.
  EXPECT_EQ(sink_->committed_progress.size(), summary.metrics.splits_total);
  for (const auto& [id, progress] : sink_->committed_progress)
    EXPECT_TRUE(progress.done) << id;
}

TEST_F(JobRunnerTest, ResumeAfterCutsNeverRepeatsOrLosesRows) {
  std::vector<Row> rows = MakeRows(20000);
  source_->streams = {{"orders", OrdersSchema(), rows}};
  source_->first_split_rows[0] = 18000;
  source_->split_rows = 500;
  source_->rows_per_read = 100;
  // The big split's reader waits after 500 rows until an idle reader cut it and recorded the
  // cut; the job stops once two readers (the big split's and the cut's) read 3 batches after
  // that first cut.
  const Clock::time_point deadline = Clock::now() + std::chrono::seconds(60);
  const JobRunner* running = nullptr;
  source_->hold_read = [&](int stream, size_t first_row, size_t next_row, size_t end_row) {
    return stream == 0 && first_row == 0 && next_row >= 500 &&
           (end_row == 18000 || running->metrics().Snapshot().splits_cut == 0) &&
           Clock::now() < deadline;
  };
  {
    testing::StopAfterCut stop(2, 3);
    JobRunner runner(Job(4, "checkpoint: {interval_secs: 0.01}\n"), registry_);
    running = &runner;
    JobSummary summary = runner.Run(nullptr);
    EXPECT_TRUE(summary.interrupted);
    EXPECT_EQ(summary.status.code(), StatusCode::kCancelled);
    EXPECT_GT(summary.metrics.splits_cut, 0u);
    EXPECT_LT(summary.metrics.rows_read, 20000u);
  }
  source_->hold_read = nullptr;
  JobRunner again(Job(4, "checkpoint: {interval_secs: 0.01}\n"), registry_);
  JobSummary summary = again.Run(nullptr);
  ASSERT_OK(summary.status);
  EXPECT_TRUE(summary.resumed);
  EXPECT_EQ(Committed("orders"), rows);
}

TEST_F(JobRunnerTest, ChangedJobRefusesToResumeUntilFresh) {
  source_->streams = {{"orders", OrdersSchema(), MakeRows(5000)}};
  source_->split_rows = 100;
  {
    testing::StopAtBatch stop(1);
    ASSERT_TRUE(JobRunner(Job(1), registry_).Run(nullptr).interrupted);
  }
  config::JobConfig changed = Job(1, "transform: {columns: [id, note]}\n");
  JobSummary refused = JobRunner(changed, registry_).Run(nullptr);
  EXPECT_EQ(refused.status.code(), StatusCode::kInvalidConfig);
  EXPECT_THAT(refused.status.message(),
              ::testing::HasSubstr("job 'test' changed since its unfinished run"));
  sink_->committed.clear();
  int forgets = sink_->forgets.load();
  JobSummary fresh = JobRunner(changed, registry_, RunOptions{"", true}).Run(nullptr);
  ASSERT_OK(fresh.status);
  EXPECT_FALSE(fresh.resumed);
  EXPECT_EQ(sink_->forgets.load(), forgets + 1);
  EXPECT_EQ(sink_->committed["orders"].size(), 5000u);
}

TEST_F(JobRunnerTest, BadRecordsAreSkippedCountedAndDeadLettered) {
  std::vector<Row> rows = MakeRows(3000);
  for (size_t i = 0; i < rows.size(); i += 500)
    rows[i][1] = "not a number";
  source_->streams = {{"orders", OrdersSchema(), rows}};
  std::string dead = state_.Join("bad/dead.jsonl");
  JobRunner runner(Job(2,
                       "transform: {columns: {id: id, amount: \"amount::decimal(10,2)\"}}\n"
                       "errors: {mode: dead_letter, dead_letter_path: " +
                           dead + "}\n"),
                   registry_);
  JobSummary summary = runner.Run(nullptr);
  ASSERT_OK(summary.status);
  EXPECT_EQ(summary.metrics.bad_records, 6u);
  EXPECT_EQ(Committed("orders").size(), 2994u);
  std::string lines = testing::ReadFileOrDie(dead);
  EXPECT_EQ(std::count(lines.begin(), lines.end(), '\n'), 6);
  EXPECT_THAT(lines, ::testing::HasSubstr(
                         R"({"job":"test","stream":"orders","location":"stream 'orders' id=500 )"
                         R"(column 'amount'","reason":"stream 'orders' id=500 column 'amount': )"
                         R"(cannot cast to decimal(10,2): 'not a number' is not a decimal )"
                         R"(number","raw":"not a number"})"));

  JobRunner limited(Job(2,
                        "transform: {columns: {id: id, amount: \"amount::decimal(10,2)\"}}\n"
                        "errors: {mode: skip, max_count: 3}\n"),
                    registry_, RunOptions{"", true});
  JobSummary over = limited.Run(nullptr);
  EXPECT_EQ(over.status.code(), StatusCode::kDataError);
  EXPECT_THAT(over.status.message(),
              ::testing::StartsWith("more than 3 bad records (errors.max_count)"));
}

TEST_F(JobRunnerTest, MemoryStaysBoundedWithASlowSink) {
  // Readers are fast and the sink is slow: the rows in flight must stay a few batches' worth.
  source_->streams = {{"orders", OrdersSchema(), MakeRows(40000)}};
  source_->split_rows = 2000;
  sink_->write_delay_micros = 500;
  JobRunner* runner_ptr = nullptr;
  uint64_t max_in_flight = 0;
  sink_->on_write = [&] {
    MetricsSnapshot s = runner_ptr->metrics().Snapshot();
    max_in_flight = std::max<uint64_t>(max_in_flight, s.rows_read - s.rows_written);
  };
  JobRunner runner(Job(3), registry_);
  runner_ptr = &runner;
  ASSERT_OK(runner.Run(nullptr).status);
  // 3 readers each holding one batch plus 3 channels of 2 batches plus 3 writers: 12 batches.
  EXPECT_LE(max_in_flight, 12u * 100u);
  EXPECT_GT(max_in_flight, 0u);
}

TEST_F(JobRunnerTest, TransformSelectsRenamesAndCasts) {
  source_->streams = {{"orders", OrdersSchema(), MakeRows(1000)}};
  JobRunner runner(
      Job(2, "transform:\n  columns: {order_id: id, total: \"amount::decimal(10,2)\"}\n"),
      registry_);
  JobSummary summary = runner.Run(nullptr);
  ASSERT_OK(summary.status);
  ASSERT_EQ(sink_->opened_streams.size(), 1u);
  EXPECT_EQ(sink_->opened_streams[0].schema->ToString(),
            "order_id int64 not null, total decimal(10,2), primary key (order_id)");
  std::vector<Row> rows = Committed("orders");
  ASSERT_EQ(rows.size(), 1000u);
  EXPECT_EQ(rows[5], (Row{"5", "5.50"}));
}

TEST_F(JobRunnerTest, FailedCastIsADataErrorNamingTheColumn) {
  std::vector<Row> rows = MakeRows(10);
  rows[4][1] = "not a number";
  source_->streams = {{"orders", OrdersSchema(), rows}};
  JobRunner runner(Job(1, "transform:\n  columns: {id: id, amount: \"amount::decimal(10,2)\"}\n"),
                   registry_);
  JobSummary summary = runner.Run(nullptr);
  EXPECT_EQ(summary.status.code(), StatusCode::kDataError);
  EXPECT_EQ(summary.status.message(),
            "stream 'orders' id=4 column 'amount': cannot cast to decimal(10,2): 'not a number' is "
            "not a decimal number");
}

TEST_F(JobRunnerTest, TransformOfUnknownColumnIsAConfigError) {
  source_->streams = {{"orders", OrdersSchema(), MakeRows(1)}};
  JobRunner runner(Job(1, "transform:\n  columns: [id, price]\n"), registry_);
  JobSummary summary = runner.Run(nullptr);
  EXPECT_EQ(summary.status.code(), StatusCode::kInvalidConfig);
  EXPECT_EQ(summary.status.message(),
            "test.yaml:8:17: transform: no column 'price' in stream 'orders' (columns: id, "
            "amount, note)");
}

TEST_F(JobRunnerTest, UnknownConnectorTypeListsTheKnownOnes) {
  Result<config::JobConfig> job =
      config::LoadJobText("name: t\nsource: {type: memroy}\nsink: {type: memory}\n", "t.yaml", {});
  ASSERT_OK(job);
  JobRunner runner(*job, registry_);
  JobSummary summary = runner.Run(nullptr);
  EXPECT_EQ(summary.status.message(),
            "t.yaml:2:16: unknown source type 'memroy' (available: memory)");
}

}  // namespace
}  // namespace sluice::runtime

namespace sluice::runtime {
namespace {

// Holds a thread at a failpoint until released: a run frozen at a known place.
class Gate {
 public:
  Status Wait() {
    std::unique_lock<std::mutex> lock(mutex_);
    arrived_ = true;
    changed_.notify_all();
    changed_.wait(lock, [&] { return open_; });
    return Status::OK();
  }
  void AwaitArrival() {
    std::unique_lock<std::mutex> lock(mutex_);
    changed_.wait(lock, [&] { return arrived_; });
  }
  void Open() {
    std::lock_guard<std::mutex> lock(mutex_);
    open_ = true;
    changed_.notify_all();
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  bool arrived_ = false;
  bool open_ = false;
};

class RunLeaseJobTest : public JobRunnerTest {
 protected:
  void TearDown() override { failpoint::DisarmAll(); }
};

TEST_F(RunLeaseJobTest, ASecondRunOfARunningJobFailsAtOnceNamingTheRunningOne) {
  source_->streams = {{"orders", OrdersSchema(), MakeRows(3000)}};
  Gate gate;
  failpoint::ArmCallback("runtime.reader.batch", 1, [&] { return gate.Wait(); });
  JobSummary first;
  std::thread running([&] { first = JobRunner(Job(1), registry_).Run(nullptr); });
  gate.AwaitArrival();

  JobRunner second(Job(1), registry_);
  JobSummary refused = second.Run(nullptr);
  EXPECT_EQ(refused.status.code(), StatusCode::kConflict);
  EXPECT_THAT(refused.status.message(),
              ::testing::StartsWith(fmt::format("job 'test' is already running (pid {} on host ",
                                                getpid())));
  EXPECT_THAT(refused.status.message(), ::testing::HasSubstr("sluice run --wait"));
  EXPECT_EQ(refused.metrics.rows_read, 0u);

  gate.Open();
  running.join();
  ASSERT_OK(first.status);
  EXPECT_EQ(Committed("orders"), MakeRows(3000));  // the refused run changed nothing
}

TEST_F(RunLeaseJobTest, WaitRunsAfterTheRunningOneEnds) {
  source_->streams = {{"orders", OrdersSchema(), MakeRows(2000)}};
  Gate gate;
  failpoint::ArmCallback("runtime.reader.batch", 1, [&] { return gate.Wait(); });
  JobSummary first;
  std::thread running([&] { first = JobRunner(Job(1), registry_).Run(nullptr); });
  gate.AwaitArrival();

  RunOptions wait;
  wait.wait = true;
  std::atomic<bool> second_done{false};
  JobSummary second;
  std::thread waiting([&] {
    second = JobRunner(Job(1), registry_, wait).Run(nullptr);
    second_done = true;
  });
  // Held back while the first run is frozen: it has read nothing (its first batch would pass
  // the failpoint a second time).
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  EXPECT_FALSE(second_done.load());
  EXPECT_EQ(failpoint::Passes("runtime.reader.batch"), 1u);
  gate.Open();
  running.join();
  waiting.join();
  ASSERT_OK(first.status);
  ASSERT_OK(second.status);
  // The first run succeeded, so the second started the job over.
  EXPECT_FALSE(second.resumed);
  EXPECT_EQ(second.metrics.rows_written, 2000u);
}

TEST_F(RunLeaseJobTest, AStopWhileWaitingEndsTheWait) {
  source_->streams = {{"orders", OrdersSchema(), MakeRows(500)}};
  Gate gate;
  failpoint::ArmCallback("runtime.reader.batch", 1, [&] { return gate.Wait(); });
  std::thread running([&] { (void)JobRunner(Job(1), registry_).Run(nullptr); });
  gate.AwaitArrival();
  RunOptions wait;
  wait.wait = true;
  std::atomic<bool> stop{true};
  JobSummary stopped = JobRunner(Job(1), registry_, wait).Run(&stop);
  EXPECT_EQ(stopped.status.code(), StatusCode::kCancelled) << stopped.status.ToString();
  gate.Open();
  running.join();
}

}  // namespace
}  // namespace sluice::runtime
