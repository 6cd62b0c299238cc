// The stream half of the conformance suite (conformance.h): an unbounded source, seeded with
// known rows and fed more while its job runs, feeds a SQLite sink until the job is stopped or
// killed; what the sink holds is read back and compared with every row seeded and added, and
// what the source acknowledged to its store is compared with the progress the sink committed.
#include <fmt/core.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <random>
#include <thread>

#include "testing/conformance/conformance.h"
#include "testing/conformance/conformance_job.h"
#include "testing/crash_loop.h"
#include "testing/gtest_util.h"

namespace sluice::testing::conformance {

// A binary may join only the other halves.
GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(StreamConformanceTest);

namespace {

// How long rows may take to arrive: the machine is shared, the broker slow to start.
constexpr auto kArrival = std::chrono::seconds(90);

// A stream job: timed checkpoints, so that rows are committed while it runs; the same spec for
// every run of a case (a changed job file would refuse to resume).
// A changelog (SourceUnderTest::changelog) is applied by key.
JobSpec StreamJob(const std::string& source, const TempDir& out, const TempDir& state,
                  const std::string& target) {
  const bool changelog =
      ::testing::TestWithParam<SourceUnderTest>::GetParam().changelog;
  JobSpec spec =
      SourceJob(source, SqliteSink(out, target, changelog ? "apply" : "append"), state, target);
  spec.checkpoint_secs = 0.5;
  return spec;
}

// The progress the sink committed, as positions the store can compare (splits never read
// left out).
Result<AcknowledgedPositions> CommittedPositions(ConformanceStore& store, const JobSpec& spec,
                                                 const connectors::ConnectorRegistry& registry) {
  SLUICE_ASSIGN_OR_RETURN(auto committed, CommittedProgress(spec, registry));
  AcknowledgedPositions out;
  for (const auto& [split, position] : committed) {
    if (position.empty())
      continue;
    SLUICE_ASSIGN_OR_RETURN(out[split], store.PositionIndex(position));
  }
  return out;
}

// What the source acknowledged is never ahead of what the sink committed (`exact`: after a stop,
// equal to it: the final checkpoint was acknowledged).
void ExpectAcknowledged(ConformanceStore& store, const std::string& target, const JobSpec& spec,
                        const connectors::ConnectorRegistry& registry, bool exact) {
  Result<AcknowledgedPositions> acknowledged = store.Acknowledged(target);
  if (acknowledged.status().code() == StatusCode::kUnsupported)
    return;
  ASSERT_OK(acknowledged);
  ASSERT_OK_AND_ASSIGN(AcknowledgedPositions committed, CommittedPositions(store, spec, registry));
  if (exact) {
    EXPECT_EQ(*acknowledged, committed) << "acknowledged (left) differs from committed (right)";
    return;
  }
  for (const auto& [split, index] : *acknowledged) {
    auto found = committed.find(split);
    if (found == committed.end()) {
      ADD_FAILURE() << "split '" << split << "' acknowledged at " << index
                    << ", but the sink committed nothing of it";
      continue;
    }
    EXPECT_LE(index, found->second) << "split '" << split << "' acknowledged ahead of the sink";
  }
}

// A job on an unbounded source delivers what is there, keeps running, delivers what is added
// while it runs, and ends only when stopped: interrupted, after a final checkpoint that the
// source acknowledged.
TEST_P(StreamConformanceTest, RunsUntilStoppedAndDeliversRowsAddedWhileRunning) {
  ASSERT_OK_AND_ASSIGN(std::string source, store_->SeedSource("running", OrdersRows(600)));
  TempDir state;
  JobSpec spec = StreamJob(source, *out_, state, "running");
  BackgroundJob job(spec, registry_);
  ASSERT_TRUE(job.WaitForCommitted(600, kArrival))
      << "the rows there before the job did not arrive: " << job.Stop().status.ToString();
  EXPECT_TRUE(job.running()) << "the job ended with the rows there";
  ASSERT_OK(store_->AppendRows("running", OrdersRows(300, 601)));
  ASSERT_TRUE(job.WaitForCommitted(900, kArrival))
      << "rows added while the job ran did not arrive: " << job.Stop().status.ToString();
  EXPECT_TRUE(job.running());
  runtime::JobSummary stopped = job.Stop();
  EXPECT_TRUE(stopped.interrupted) << stopped.status.ToString();
  EXPECT_EQ(stopped.status.code(), StatusCode::kCancelled) << stopped.status.ToString();
  EXPECT_EQ(stopped.metrics.rows_written, 900u);
  ASSERT_OK_AND_ASSIGN(std::vector<Row> held, ReadBack(registry_, spec.sink, OrdersSchema()));
  EXPECT_EQ(held, Sorted(OrdersRows(900))) << RowsDiff(held, Sorted(OrdersRows(900)));
  ExpectAcknowledged(*store_, "running", spec, registry_, /*exact=*/true);
}

// Stopped at its 10th batch, then resumed with rows added meanwhile and stopped again once they
// arrived: every row once, and the acknowledgements at the committed progress after each stop.
TEST_P(StreamConformanceTest, StoppedAndResumedDeliversEveryRowOnce) {
  constexpr size_t kRows = 1500;
  constexpr size_t kAdded = 300;
  ASSERT_OK_AND_ASSIGN(std::string source, store_->SeedSource("stopped", OrdersRows(kRows)));
  TempDir state;
  JobSpec spec = StreamJob(source, *out_, state, "stopped");
  runtime::JobSummary stopped = RunStoppedAtBatch(spec, registry_, 10);
  ASSERT_TRUE(stopped.interrupted) << stopped.status.ToString();
  const uint64_t first = stopped.metrics.rows_written;
  EXPECT_GT(first, 0u);
  EXPECT_LT(first, kRows);
  ExpectAcknowledged(*store_, "stopped", spec, registry_, /*exact=*/true);
  BackgroundJob resumed(spec, registry_);
  // The rows are added once the resumed run delivers (it has opened its source): a snapshot
  // source resumed inside its snapshot reads the rest in a new snapshot while its stream starts
  // where the first one was taken, so a row added before that new snapshot would come twice
  // (documented for snapshot_then_cdc: an apply target converges, an append target does not).
  ASSERT_TRUE(resumed.WaitForCommitted(1, kArrival)) << "the resumed run delivered nothing";
  ASSERT_OK(store_->AppendRows("stopped", OrdersRows(kAdded, kRows + 1)));
  EXPECT_TRUE(resumed.WaitForCommitted(kRows + kAdded - first, kArrival))
      << "the resumed run did not deliver the rest";
  EXPECT_TRUE(resumed.running());
  runtime::JobSummary summary = resumed.Stop();
  EXPECT_TRUE(summary.interrupted) << summary.status.ToString();
  EXPECT_TRUE(summary.resumed);
  EXPECT_EQ(first + summary.metrics.rows_written, kRows + kAdded);
  ASSERT_OK_AND_ASSIGN(std::vector<Row> held, ReadBack(registry_, spec.sink, OrdersSchema()));
  EXPECT_EQ(held, Sorted(OrdersRows(kRows + kAdded))) << RowsDiff(held, Sorted(OrdersRows(kRows + kAdded)));
  ExpectAcknowledged(*store_, "stopped", spec, registry_, /*exact=*/true);
}

// kill -9 at every commit step (the runtime's failpoints and the source's own; none around
// Finish, which a stream never reaches): after each kill no row is held twice and no
// acknowledgement is ahead of the sink's committed progress. Then a resumed run, with rows added
// to every split while it runs, is stopped once they arrived: every row once, and the
// acknowledgements at the committed progress.
TEST_P(StreamConformanceTest, KilledAtEveryCommitStepEndsExact) {
  constexpr size_t kRows = 6000;
  constexpr size_t kAdded = 300;
  ASSERT_OK_AND_ASSIGN(std::string source, store_->SeedSource("killed", OrdersRows(kRows)));
  std::random_device seed_source;
  const uint32_t seed = seed_source();
  SCOPED_TRACE(fmt::format("crash loop seed {}", seed));
  TempDir state;
  JobSpec spec = StreamJob(source, *out_, state, "killed");
  CrashLoopOptions options;
  options.seed = seed;
  options.connector_points = GetParam().crash_points;
  options.kills = static_cast<int>(RuntimeCrashPoints().size() + options.connector_points.size());
  options.finish_points = false;
  options.after_kill = [&](const std::string& plan) {
    SCOPED_TRACE(plan);
    // Before the first commit there may be no table.
    Result<std::vector<Row>> held = ReadBack(registry_, spec.sink, OrdersSchema());
    if (held.ok()) {
      EXPECT_THAT(Duplicates(*held), ::testing::IsEmpty()) << "rows committed twice";
    }
    ExpectAcknowledged(*store_, "killed", spec, registry_, /*exact=*/false);
  };
  CrashLoopResult crashes = RunCrashLoop(
      [&] {
        // A stream ends only when stopped: a child that misses its crash point is stopped after
        // two minutes and fails the loop.
        auto stop = std::make_shared<std::atomic<bool>>(false);
        std::thread([stop] {
          std::this_thread::sleep_for(std::chrono::minutes(2));
          *stop = true;
        }).detach();
        RunJob(spec, registry_, /*fresh=*/false, stop.get());
        return 2;
      },
      options);
  ASSERT_EQ(crashes.kills, options.kills);
  Result<std::vector<Row>> before = ReadBack(registry_, spec.sink, OrdersSchema());
  const size_t committed = before.ok() ? before->size() : 0;
  BackgroundJob last(spec, registry_);
  ASSERT_OK(store_->AppendRows("killed", OrdersRows(kAdded, kRows + 1)));
  EXPECT_TRUE(last.WaitForCommitted(kRows + kAdded - committed, kArrival))
      << "the resumed run did not deliver the rest";
  runtime::JobSummary summary = last.Stop();
  EXPECT_TRUE(summary.interrupted) << summary.status.ToString();
  EXPECT_TRUE(summary.resumed);
  ASSERT_OK_AND_ASSIGN(std::vector<Row> held, ReadBack(registry_, spec.sink, OrdersSchema()));
  EXPECT_EQ(held, Sorted(OrdersRows(kRows + kAdded))) << RowsDiff(held, Sorted(OrdersRows(kRows + kAdded)));
  ExpectAcknowledged(*store_, "killed", spec, registry_, /*exact=*/true);
}

// kill -9 between a checkpoint's record and its acknowledgement, once every row was read: the
// positions that checkpoint committed are durable, so a resumed run acknowledges them although
// no split moves again (a Kafka group's offsets would otherwise show lag that is not there).
TEST_P(StreamConformanceTest, AResumedRunAcknowledgesWhatAKillLeftUnacknowledged) {
  constexpr size_t kRows = 150;
  ASSERT_OK_AND_ASSIGN(std::string source, store_->SeedSource("unacknowledged", OrdersRows(kRows)));
  if (store_->Acknowledged("unacknowledged").status().code() == StatusCode::kUnsupported)
    GTEST_SKIP() << "the store does not record what the source acknowledges";
  TempDir state;
  JobSpec spec = StreamJob(source, *out_, state, "unacknowledged");
  // Killed at a timed checkpoint, later each time, until the few rows were all committed (a
  // source may take a while to deliver its first rows).
  AcknowledgedPositions committed;
  for (int checkpoint = 1; checkpoint <= 6; ++checkpoint) {
    ASSERT_TRUE(RunKilledAt(
        spec, registry_, fmt::format("runtime.checkpoint.after_record=crash@{}", checkpoint)));
    ASSERT_OK_AND_ASSIGN(committed, CommittedPositions(*store_, spec, registry_));
    int64_t rows = 0;
    for (const auto& [split, index] : committed)
      rows += index;
    if (rows == static_cast<int64_t>(kRows))
      break;
  }
  Result<AcknowledgedPositions> acknowledged = store_->Acknowledged("unacknowledged");
  BackgroundJob resumed(spec, registry_);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (std::chrono::steady_clock::now() < deadline) {
    acknowledged = store_->Acknowledged("unacknowledged");
    if (acknowledged.ok() && *acknowledged == committed)
      break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));  // the next look
  }
  runtime::JobSummary summary = resumed.Stop();
  EXPECT_TRUE(summary.resumed) << summary.status.ToString();
  ASSERT_OK(acknowledged);
  EXPECT_EQ(*acknowledged, committed) << "acknowledged (left) differs from committed (right)";
  ASSERT_OK_AND_ASSIGN(std::vector<Row> held, ReadBack(registry_, spec.sink, OrdersSchema()));
  EXPECT_EQ(held, Sorted(OrdersRows(kRows))) << RowsDiff(held, Sorted(OrdersRows(kRows)));
}

}  // namespace
}  // namespace sluice::testing::conformance
