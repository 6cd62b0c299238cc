// Unbounded sources through the runtime: readers holding many splits, splits appearing while the
// job runs, stops and resumes, and a reader blocked for data cancelled on a stop.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <future>
#include <map>
#include <set>
#include <thread>

#include "core/failpoint.h"
#include "runtime/job_runner.h"
#include "testing/gtest_util.h"
#include "testing/memory_connector.h"
#include "testing/stop_at_batch.h"
#include "testing/temp_dir.h"

namespace sluice::runtime {
namespace {

using testing::MemorySinkData;
using testing::MemorySourceData;
using testing::MemoryTopic;
using testing::Row;

constexpr auto kDeadline = std::chrono::seconds(60);

SchemaPtr EventSchema() {
  return std::make_shared<Schema>(
      std::vector<Field>{{"id", DataType::Int64(), false}, {"body", DataType::String(), true}},
      std::vector<int>{0});
}

// Rows [first, first + count) of partition `partition`: ids unique across partitions, some NULL,
// some unicode, some empty.
std::vector<Row> PartitionRows(size_t partition, size_t first, size_t count) {
  std::vector<Row> rows;
  for (size_t i = first; i < first + count; ++i) {
    std::optional<std::string> body;
    if (i % 5 == 1)
      body = "";
    else if (i % 5 == 2)
      body = "zażółć 🚀 " + std::to_string(i);
    else if (i % 5 != 0)
      body = "event " + std::to_string(i);
    rows.push_back(Row{std::to_string(partition * 1000000 + i), body});
  }
  return rows;
}

// Runs a job on another thread until the test stops it.
class BackgroundRun {
 public:
  explicit BackgroundRun(std::unique_ptr<JobRunner> runner) : runner_(std::move(runner)) {
    result_ = std::async(std::launch::async, [this] { return runner_->Run(&stop_); });
  }
  ~BackgroundRun() {
    stop_.store(true);
    if (result_.valid())
      result_.wait();
  }
  const JobRunner& runner() const { return *runner_; }
  /// Asks the job to stop, as SIGINT does, and returns its summary (or fails the test when it
  /// does not end in time).
  JobSummary Stop() {
    stop_.store(true);
    if (result_.wait_for(kDeadline) != std::future_status::ready) {
      ADD_FAILURE() << "the job did not stop";
      return JobSummary{};
    }
    return result_.get();
  }

 private:
  std::unique_ptr<JobRunner> runner_;
  std::atomic<bool> stop_{false};
  std::future<JobSummary> result_;
};

class StreamingTest : public ::testing::Test {
 protected:
  void SetUp() override {
    source_ = std::make_shared<MemorySourceData>();
    sink_ = std::make_shared<MemorySinkData>();
    topic_ = std::make_shared<MemoryTopic>();
    source_->topic = topic_;
    source_->streams = {{"events", EventSchema(), {}}};
    testing::RegisterMemoryConnector(registry_, source_, sink_);
  }
  void TearDown() override { failpoint::DisarmAll(); }

  config::JobConfig Job(int parallelism, const std::string& extra = "") {
    std::string text = "name: stream\nsource: {type: memory}\nsink: {type: memory}\nparallelism: " +
                       std::to_string(parallelism) + "\nbatch_rows: 100\nstate: " + state_.path() +
                       "\ncheckpoint: {interval_secs: 0.05}\n" + extra;
    Result<config::JobConfig> job = config::LoadJobText(text, "stream.yaml", {});
    EXPECT_TRUE(job.ok()) << job.status().ToString();
    return *job;
  }
  std::unique_ptr<JobRunner> Runner(int parallelism, const std::string& extra = "") {
    return std::make_unique<JobRunner>(Job(parallelism, extra), registry_);
  }

  // Adds `count` rows to every partition, after those it holds.
  std::vector<Row> Produce(size_t count) {
    std::vector<Row> added;
    for (size_t p = 0; p < topic_->partitions(); ++p) {
      std::vector<Row> rows = PartitionRows(p, topic_->rows(p), count);
      topic_->Append(p, rows);
      added.insert(added.end(), rows.begin(), rows.end());
    }
    return added;
  }

  static std::vector<Row> Sorted(std::vector<Row> rows) {
    std::sort(rows.begin(), rows.end(),
              [](const Row& a, const Row& b) { return std::stoll(*a[0]) < std::stoll(*b[0]); });
    return rows;
  }
  std::vector<Row> Committed() {
    std::lock_guard<std::mutex> lock(sink_->mutex);
    return Sorted(sink_->committed["events"]);
  }
  // Partitions that committed rows, from the ids.
  std::set<int64_t> PartitionsSeen() {
    std::set<int64_t> seen;
    for (const Row& row : Committed())
      seen.insert(std::stoll(*row[0]) / 1000000);
    return seen;
  }

  testing::TempDir state_;
  connectors::ConnectorRegistry registry_;
  std::shared_ptr<MemorySourceData> source_;
  std::shared_ptr<MemorySinkData> sink_;
  std::shared_ptr<MemoryTopic> topic_;
};

TEST_F(StreamingTest, ReadsEveryPartitionUntilStoppedAndPicksUpNewOnes) {
  for (size_t p = 0; p < 64; ++p)
    topic_->AddPartition();
  std::vector<Row> expected = Produce(30);
  BackgroundRun run(Runner(2));
  ASSERT_TRUE(sink_->WaitForCommitted("events", expected.size(), kDeadline));
  EXPECT_EQ(PartitionsSeen().size(), 64u);

  // Two new partitions while the job runs (the enumerator's wake-up brings them to the readers),
  // one with rows, one empty, then new rows in every partition.
  topic_->AddPartition(PartitionRows(64, 0, 17));
  topic_->AddPartition(PartitionRows(65, 0, 0));
  std::vector<Row> more = Produce(3);
  expected.insert(expected.end(), more.begin(), more.end());
  std::vector<Row> first_new = PartitionRows(64, 0, 17);
  expected.insert(expected.end(), first_new.begin(), first_new.end());
  ASSERT_TRUE(sink_->WaitForCommitted("events", expected.size(), kDeadline));

  JobSummary summary = run.Stop();
  EXPECT_TRUE(summary.interrupted);
  EXPECT_EQ(summary.status.code(), StatusCode::kCancelled) << summary.status.ToString();
  EXPECT_EQ(summary.readers, 2);
  EXPECT_GE(summary.metrics.checkpoints, 2u);  // periodic ones, then the final one
  EXPECT_EQ(Committed(), Sorted(expected));
  EXPECT_EQ(PartitionsSeen().size(), 66u);
  EXPECT_EQ(sink_->finishes.load(), 0);  // a stream never finishes
  // Every partition is committed with its position, none done.
  EXPECT_EQ(sink_->committed_progress.size(), 66u);
  for (const auto& [id, progress] : sink_->committed_progress)
    EXPECT_FALSE(progress.done) << id;
  EXPECT_EQ(sink_->committed_progress["p0"].position, "33");
  EXPECT_EQ(sink_->committed_progress["p64"].position, "20");
  EXPECT_EQ(sink_->committed_progress["p65"].position, "3");
}

// A reader holding 32 idle partitions waits a share of read_wait on each, so that a round over
// them (and the wait of a row arriving in any of them) stays about read_wait, not 32 times it.
TEST_F(StreamingTest, AReaderHoldingManyIdlePartitionsSharesItsReadWaitBetweenThem) {
  for (size_t p = 0; p < 64; ++p)
    topic_->AddPartition();
  std::vector<Row> expected = Produce(2);
  BackgroundRun run(Runner(2));
  ASSERT_TRUE(sink_->WaitForCommitted("events", expected.size(), kDeadline));
  // Every partition read again since, now idle: each reader holds its 32.
  topic_->ForgetReaders();
  std::vector<Row> more = Produce(1);
  ASSERT_TRUE(sink_->WaitForCommitted("events", expected.size() + more.size(), kDeadline));
  topic_->ForgetReaders();
  auto partitions_read = [&] {
    size_t read = 0;
    for (const auto& [reader, partitions] : topic_->PartitionsPerReader())
      read += partitions;
    return read;
  };
  const auto deadline = std::chrono::steady_clock::now() + kDeadline;
  while (partitions_read() < 64 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  ASSERT_EQ(partitions_read(), 64u);
  run.Stop();
  std::map<std::thread::id, std::chrono::milliseconds> rounds = topic_->RoundWaitPerReader();
  ASSERT_EQ(rounds.size(), 2u);
  for (const auto& [reader, round] : rounds) {
    EXPECT_GT(round.count(), 0);
    EXPECT_LE(round, std::chrono::milliseconds(100)) << "a reader's round over its partitions";
  }
}

TEST_F(StreamingTest, StopAtABatchThenResumeLosesAndRepeatsNothing) {
  for (size_t p = 0; p < 64; ++p)
    topic_->AddPartition();
  source_->rows_per_read = 7;
  std::vector<Row> expected = Produce(40);
  {
    testing::StopAtBatch stop(50);
    JobSummary summary = JobRunner(Job(2), registry_).Run(nullptr);
    EXPECT_TRUE(summary.interrupted);
    EXPECT_EQ(summary.status.code(), StatusCode::kCancelled) << summary.status.ToString();
    // 50 batches of 7 rows, and perhaps one more batch of the other reader.
    EXPECT_GE(summary.metrics.rows_read, 350u);
    EXPECT_LE(summary.metrics.rows_read, 357u);
    EXPECT_EQ(Committed().size(), summary.metrics.rows_read);
  }
  std::vector<Row> more = Produce(5);
  expected.insert(expected.end(), more.begin(), more.end());
  topic_->ForgetReaders();
  BackgroundRun run(Runner(2));
  ASSERT_TRUE(sink_->WaitForCommitted("events", expected.size(), kDeadline));
  JobSummary summary = run.Stop();
  EXPECT_TRUE(summary.resumed);
  EXPECT_TRUE(summary.interrupted);
  EXPECT_EQ(Committed(), Sorted(expected));  // every row exactly once across both runs
  EXPECT_EQ(PartitionsSeen().size(), 64u);
  // The resumed partitions are shared out evenly, not all taken by the first reader.
  std::map<std::thread::id, size_t> shares = topic_->PartitionsPerReader();
  ASSERT_EQ(shares.size(), 2u);
  for (const auto& [reader, partitions] : shares)
    EXPECT_EQ(partitions, 32u);
}

// Records that are not rows move a reader's position in batches of their own (empty): the next
// checkpoint records and acknowledges that position, or the source could never tell its server
// (a replication slot, a consumer group) that they were read.
TEST_F(StreamingTest, APositionMovedWithoutRowsIsCheckpointedAndAcknowledged) {
  source_->rows_per_read = 2;  // the two rows in one batch, the marker alone in the next
  std::mutex mutex;
  std::condition_variable acknowledged;
  std::string last;
  source_->on_acknowledge = [&](uint64_t, const std::vector<connectors::SplitProgress>& progress) {
    std::lock_guard<std::mutex> lock(mutex);
    for (const connectors::SplitProgress& entry : progress)
      last = entry.position;
    acknowledged.notify_all();
  };
  topic_->AddPartition(PartitionRows(0, 0, 2));
  topic_->Append(0, {Row{}});
  BackgroundRun run(Runner(1));
  {
    std::unique_lock<std::mutex> lock(mutex);
    EXPECT_TRUE(acknowledged.wait_for(lock, kDeadline, [&] { return last == "3"; }))
        << "the last acknowledged position is '" << last << "', not 3";
  }
  JobSummary summary = run.Stop();
  EXPECT_TRUE(summary.interrupted) << summary.status.ToString();
  EXPECT_EQ(Committed().size(), 2u);
}

TEST_F(StreamingTest, AReaderBlockedForDataIsCancelledPromptlyOnStop) {
  for (size_t p = 0; p < 4; ++p)
    topic_->AddPartition();
  std::vector<Row> expected = Produce(2);
  BackgroundRun run(Runner(2));
  ASSERT_TRUE(sink_->WaitForCommitted("events", expected.size(), kDeadline));
  // Every row is read: from now on a reader with nothing to read waits for good, and only
  // Cancel() can end its ReadBatch. (Blocking from the start could leave a partition unread
  // forever behind a reader blocked on another one, whatever order the splits were taken in.)
  topic_->block_until_cancelled.store(true);
  ASSERT_TRUE(topic_->WaitForWaitingReaders(2, kDeadline));
  auto asked = std::chrono::steady_clock::now();
  JobSummary summary = run.Stop();
  double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - asked).count();
  topic_->block_until_cancelled.store(false);  // lets a reader go should the stop have failed
  topic_->WakeReaders();
  EXPECT_TRUE(summary.interrupted);
  EXPECT_EQ(summary.status.code(), StatusCode::kCancelled) << summary.status.ToString();
  EXPECT_LT(seconds, 10.0);  // within the coordinator's tick, not a deadline
  EXPECT_EQ(Committed(), Sorted(expected));
}

TEST_F(StreamingTest, IdleReadersWaitWithoutPartitionsAndTakeTheFirstThatAppears) {
  BackgroundRun run(Runner(3));
  topic_->AddPartition(PartitionRows(0, 0, 5));
  ASSERT_TRUE(sink_->WaitForCommitted("events", 5, kDeadline));
  JobSummary summary = run.Stop();
  EXPECT_TRUE(summary.interrupted);
  EXPECT_EQ(Committed(), PartitionRows(0, 0, 5));
}

TEST_F(StreamingTest, LagIsReportedPerStreamInTheSummaryAndMetrics) {
  topic_->lag_bytes = 4096;
  topic_->last_event_time_us = 1796433600123456;  // 2026-12-04 ...
  topic_->AddPartition(PartitionRows(0, 0, 50));
  topic_->AddPartition(PartitionRows(1, 0, 50));
  source_->rows_per_read = 10;
  testing::StopAtBatch stop(3);
  JobSummary summary = JobRunner(Job(1), registry_).Run(nullptr);
  ASSERT_TRUE(summary.interrupted);
  ASSERT_EQ(summary.metrics.rows_read, 30u);
  // The splits were left 70 rows behind the topic's head between them; bytes add up, the
  // oldest event time stands for the stream.
  std::vector<StreamLag> expected{{"events", 70u, 8192u, 1796433600123456}};
  EXPECT_EQ(summary.lag, expected);
  std::vector<StreamLag> metrics = JobRunner(Job(1), registry_).metrics().Lag();
  EXPECT_TRUE(metrics.empty());  // a runner that ran nothing knows no lag
}

TEST_F(StreamingTest, BoundedJobsReportNoLag) {
  source_->topic = nullptr;
  source_->streams[0].rows = PartitionRows(0, 0, 300);
  JobSummary summary = JobRunner(Job(2), registry_).Run(nullptr);
  ASSERT_OK(summary.status);
  EXPECT_TRUE(summary.lag.empty());
}

TEST_F(StreamingTest, MetadataColumnsReachTheSinkOnlyWhenTheTransformSelectsThem) {
  source_->topic = nullptr;
  auto schema = std::make_shared<Schema>(
      std::vector<Field>{{"id", DataType::Int64(), false},
                         {"_partition", DataType::Int32(), false},
                         {"body", DataType::String(), true},
                         {"_offset", DataType::Int64(), false}},
      std::vector<int>{0});
  std::vector<Field> fields = schema->fields();
  fields[1].metadata = true;
  fields[3].metadata = true;
  schema = std::make_shared<Schema>(fields, std::vector<int>{0});
  std::vector<Row> rows;
  for (int i = 0; i < 250; ++i) {
    rows.push_back(Row{std::to_string(i), std::to_string(i % 4),
                       i % 9 == 0 ? std::nullopt : std::optional<std::string>("b" + std::to_string(i)),
                       std::to_string(1000 + i)});
  }
  source_->streams = {{"events", schema, rows}};

  // Without a transform: dropped.
  JobSummary plain = JobRunner(Job(2), registry_).Run(nullptr);
  ASSERT_OK(plain.status);
  EXPECT_EQ(sink_->opened_streams.at(0).schema->ToString(),
            "id int64 not null, body string, primary key (id)");
  std::vector<Row> without;
  for (const Row& row : rows)
    without.push_back(Row{row[0], row[2]});
  EXPECT_EQ(Committed(), without);

  // Selected by name: an ordinary column at the sink.
  sink_->committed.clear();
  JobSummary selected = JobRunner(Job(2, "transform: {columns: [id, body, _offset]}\n"), registry_,
                                  RunOptions{"", true})
                            .Run(nullptr);
  ASSERT_OK(selected.status);
  const Schema& out = *sink_->opened_streams.at(0).schema;
  EXPECT_EQ(out.ToString(), "id int64 not null, body string, _offset int64 not null, primary key (id)");
  EXPECT_FALSE(out.field(2).metadata);
  std::vector<Row> with;
  for (const Row& row : rows)
    with.push_back(Row{row[0], row[2], row[3]});
  EXPECT_EQ(Committed(), with);
}

}  // namespace
}  // namespace sluice::runtime
