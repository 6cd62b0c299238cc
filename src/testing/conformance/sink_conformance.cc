// The sink half of the conformance suite (conformance.h): the memory source feeds the sink
// under test; what the target holds is read back through the connector's read_back source.
#include <fmt/core.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <future>
#include <random>
#include <set>

#include "core/logging.h"
#include "testing/conformance/conformance.h"
#include "testing/conformance/conformance_job.h"
#include "testing/crash_loop.h"
#include "testing/gtest_util.h"
#include "testing/temp_dir.h"
#include "verify/verifier.h"

namespace sluice::testing::conformance {

void SinkConformanceTest::SetUp() {
  source_ = std::make_shared<MemorySourceData>();
  unused_sink_ = std::make_shared<MemorySinkData>();
  RegisterMemoryConnector(registry_, source_, unused_sink_);
  GetParam().register_connectors(registry_);
  ASSERT_OK_AND_ASSIGN(store_, GetParam().open_store());
}

void SinkConformanceTest::TearDown() {
  store_.reset();
}

// A binary may join only the source half.
GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(SinkConformanceTest);

namespace {

using ::testing::HasSubstr;
using ::testing::IsEmpty;

constexpr uint64_t kStopBatch = 10;

std::string_view ModeName(WriteMode mode) {
  return mode == WriteMode::kAppend ? "append" : "overwrite";
}

// The modes a case runs in: append always, overwrite where the sink has it.
std::vector<WriteMode> Modes(const SinkUnderTest& sink) {
  if (sink.overwrite)
    return {WriteMode::kAppend, WriteMode::kOverwrite};
  return {WriteMode::kAppend};
}

// Serves `rows` from the memory source as stream "orders", in splits of 300 rows read 50 at a
// time, so that a job has several splits per reader and many batches.
void Serve(MemorySourceData* source, std::vector<Row> rows) {
  source->streams = {MemoryStream{"orders", OrdersSchema(), std::move(rows)}};
  source->split_rows = 300;
  source->rows_per_read = 50;
}

JobSpec SinkJob(ConformanceStore& store, const std::string& target, WriteMode mode,
                const TempDir& state) {
  JobSpec spec;
  spec.name = "conformance_" + target;
  spec.source = "{type: memory}";
  spec.sink = store.SinkBlock(target, mode);
  spec.state = state.path();
  return spec;
}

TEST_P(SinkConformanceTest, StoppedAndResumedWritesEveryRowOnce) {
  const SinkUnderTest& sink = GetParam();
  if (!sink.exactly_once)
    GTEST_SKIP() << "the sink is at-least-once";
  constexpr size_t kRows = 1500;
  Serve(source_.get(), OrdersRows(kRows));
  for (WriteMode mode : Modes(sink)) {
    SCOPED_TRACE(ModeName(mode));
    TempDir state;
    JobSpec spec = SinkJob(*store_, fmt::format("stopped_{}", ModeName(mode)), mode, state);
    runtime::JobSummary stopped = RunStoppedAtBatch(spec, registry_, kStopBatch);
    ASSERT_TRUE(stopped.interrupted) << stopped.status.ToString();
    EXPECT_EQ(stopped.guarantee, connectors::DeliveryGuarantee::kExactlyOnce);
    EXPECT_EQ(stopped.writers, sink.max_writers > 0 ? std::min(2, sink.max_writers) : 2);
    uint64_t first = stopped.metrics.rows_written;
    EXPECT_GT(first, 0u);
    EXPECT_LT(first, kRows);
    runtime::JobSummary resumed = RunJob(spec, registry_);
    ASSERT_OK(resumed.status);
    EXPECT_TRUE(resumed.resumed);
    EXPECT_EQ(first + resumed.metrics.rows_written, kRows);
    ASSERT_OK_AND_ASSIGN(std::vector<Row> held, ReadBack(registry_, spec.sink, OrdersSchema()));
    EXPECT_EQ(held, Sorted(OrdersRows(kRows))) << RowsDiff(held, Sorted(OrdersRows(kRows)));
    EXPECT_THAT(store_->Leftovers(fmt::format("stopped_{}", ModeName(mode))), IsEmpty());
  }
}

// kill -9 at every step of a commit (the runtime's failpoints and the sink's own), then a run
// that completes: every row exactly once. After each kill the target holds no row twice, an
// overwrite's readers still see the old rows, and an append holds what the killed runs
// committed: nothing more than before when the kill came before the child's first checkpoint,
// more when it came after.
TEST_P(SinkConformanceTest, KilledAtEveryCommitStepEndsExact) {
  const SinkUnderTest& sink = GetParam();
  if (!sink.exactly_once)
    GTEST_SKIP() << "the sink is at-least-once";
  constexpr size_t kRows = 6000;  // 120 batches: no child finishes before its crash point
  Serve(source_.get(), OrdersRows(kRows));
  std::random_device seed_source;
  const uint32_t seed = seed_source();
  SCOPED_TRACE(fmt::format("crash loop seed {}", seed));
  for (WriteMode mode : Modes(sink)) {
    SCOPED_TRACE(ModeName(mode));
    TempDir state;
    JobSpec spec = SinkJob(*store_, fmt::format("killed_{}", ModeName(mode)), mode, state);
    const bool overwrite = mode == WriteMode::kOverwrite;
    // A row already in the target: an append keeps it, an overwrite replaces it at Finish.
    const std::vector<Row> before = {Row{"-1", "there before", "0.00"}};
    const bool seeded = overwrite || sink.visible_at_commit;
    if (seeded)
      ASSERT_OK(SeedThroughSink(registry_, spec.sink, before));
    size_t committed = seeded ? 1 : 0;
    CrashLoopOptions options;
    options.seed = seed;
    options.connector_points = sink.crash_points;
    // Each point once, plus the two around Finish.
    options.kills = static_cast<int>(RuntimeCrashPoints().size() + sink.crash_points.size()) + 2;
    options.after_kill = [&](const std::string& plan) {
      SCOPED_TRACE(plan);
      // Before the first commit (or before Finish, for some sinks) there may be no target.
      Result<std::vector<Row>> held = ReadBack(registry_, spec.sink, OrdersSchema());
      if (!held.ok())
        return;
      EXPECT_THAT(Duplicates(*held), ::testing::IsEmpty()) << "rows committed twice";
      if (plan.find("runtime.finish.after") != std::string::npos)
        return;
      if (overwrite) {
        EXPECT_EQ(*held, before) << "an overwrite showed rows before Finish";
        return;
      }
      if (!sink.visible_at_commit || plan.find("runtime.finish.") != std::string::npos)
        return;
      EXPECT_GE(held->size(), committed) << "committed rows were lost";
      switch (CommittedBeforeCrash(plan)) {
        case CommittedAtCrash::kNothing:
          EXPECT_EQ(held->size(), committed) << "a child committed before its first checkpoint";
          break;
        case CommittedAtCrash::kSome:
          EXPECT_GT(held->size(), committed) << "a child recorded checkpoints without rows";
          break;
        case CommittedAtCrash::kUnknown:
          break;
      }
      committed = held->size();
    };
    CrashLoopResult crashes =
        RunCrashLoop([&] { return RunJob(spec, registry_).status.ok() ? 0 : 1; }, options);
    ASSERT_EQ(crashes.kills, options.kills) << "a child finished the job before its crash point";
    runtime::JobSummary last = RunJob(spec, registry_);
    ASSERT_OK(last.status);
    EXPECT_TRUE(last.resumed);
    EXPECT_EQ(last.metrics.rows_written, 0u) << "the kill just after Finish left nothing to do";
    ASSERT_OK_AND_ASSIGN(std::vector<Row> held, ReadBack(registry_, spec.sink, OrdersSchema()));
    std::vector<Row> expected = OrdersRows(kRows);
    if (seeded && !overwrite)
      expected.insert(expected.end(), before.begin(), before.end());
    EXPECT_EQ(held, Sorted(expected)) << RowsDiff(held, Sorted(expected));
    EXPECT_THAT(store_->Leftovers(fmt::format("killed_{}", ModeName(mode))), IsEmpty());
  }
}

// The runtime records that the job is finishing before Sink::Finish: a run resumed after a
// crash just before or just after Finish calls Finish again, which must complete what was left
// and publish nothing twice.
TEST_P(SinkConformanceTest, ResumedAfterACrashAroundFinishPublishesNothingTwice) {
  const SinkUnderTest& sink = GetParam();
  constexpr size_t kRows = 500;
  Serve(source_.get(), OrdersRows(kRows));
  for (WriteMode mode : Modes(sink)) {
    for (std::string_view point : {"runtime.finish.before", "runtime.finish.after"}) {
      SCOPED_TRACE(fmt::format("{} {}", ModeName(mode), point));
      TempDir state;
      JobSpec spec = SinkJob(*store_,
                             fmt::format("finish_{}_{}", ModeName(mode),
                                         point == "runtime.finish.before" ? "before" : "after"),
                             mode, state);
      ASSERT_TRUE(RunKilledAt(spec, registry_, fmt::format("{}=crash@1", point)));
      runtime::JobSummary resumed = RunJob(spec, registry_);
      ASSERT_OK(resumed.status);
      EXPECT_TRUE(resumed.resumed);
      EXPECT_EQ(resumed.metrics.rows_written, 0u);
      ASSERT_OK_AND_ASSIGN(std::vector<Row> held, ReadBack(registry_, spec.sink, OrdersSchema()));
      EXPECT_EQ(held, Sorted(OrdersRows(kRows))) << RowsDiff(held, Sorted(OrdersRows(kRows)));
      EXPECT_THAT(store_->Leftovers(fmt::format(
                      "finish_{}_{}", ModeName(mode),
                      point == "runtime.finish.before" ? "before" : "after")),
                  IsEmpty());
    }
  }
}

TEST_P(SinkConformanceTest, AtLeastOnceDeliversEveryRowAndStoresNoProgress) {
  constexpr size_t kRows = 1500;
  Serve(source_.get(), OrdersRows(kRows));
  TempDir state;
  JobSpec spec = SinkJob(*store_, "at_least_once", WriteMode::kAppend, state);
  spec.extra = "delivery: at_least_once\n";
  runtime::JobSummary stopped = RunStoppedAtBatch(spec, registry_, kStopBatch);
  ASSERT_TRUE(stopped.interrupted) << stopped.status.ToString();
  EXPECT_EQ(stopped.guarantee, connectors::DeliveryGuarantee::kAtLeastOnce);
  runtime::JobSummary resumed = RunJob(spec, registry_);
  ASSERT_OK(resumed.status);
  ASSERT_OK_AND_ASSIGN(std::vector<Row> held, ReadBack(registry_, spec.sink, OrdersSchema()));
  held.erase(std::unique(held.begin(), held.end()), held.end());
  EXPECT_EQ(held, Sorted(OrdersRows(kRows))) << RowsDiff(held, Sorted(OrdersRows(kRows)));
  EXPECT_THAT(store_->Leftovers("at_least_once"), IsEmpty());
  // Nothing for a resume to find in the target.
  ASSERT_OK_AND_ASSIGN(auto progress,
                       CommittedProgress(spec, registry_,
                                         connectors::DeliveryGuarantee::kAtLeastOnce));
  EXPECT_THAT(progress, ::testing::IsEmpty());
}

// --fresh over an interrupted run starts over: the target ends with every row once, or, where
// starting over would append the committed rows again, the fresh run is refused saying what to
// do and the interrupted run still resumes exactly.
TEST_P(SinkConformanceTest, FreshRunForgetsTheInterruptedOne) {
  const SinkUnderTest& sink = GetParam();
  constexpr size_t kRows = 1500;
  Serve(source_.get(), OrdersRows(kRows));
  for (WriteMode mode : Modes(sink)) {
    SCOPED_TRACE(ModeName(mode));
    TempDir state;
    JobSpec spec = SinkJob(*store_, fmt::format("fresh_{}", ModeName(mode)), mode, state);
    ASSERT_TRUE(RunStoppedAtBatch(spec, registry_, kStopBatch).interrupted);
    runtime::JobSummary fresh = RunJob(spec, registry_, /*fresh=*/true);
    if (mode == WriteMode::kAppend && sink.refuses_fresh_append && sink.exactly_once) {
      EXPECT_EQ(fresh.status.code(), StatusCode::kInvalidConfig) << fresh.status.ToString();
      EXPECT_THAT(fresh.status.message(), HasSubstr("--fresh"));
      runtime::JobSummary resumed = RunJob(spec, registry_);
      ASSERT_OK(resumed.status);
      EXPECT_TRUE(resumed.resumed);
    } else {
      ASSERT_OK(fresh.status);
      EXPECT_FALSE(fresh.resumed);
      EXPECT_EQ(fresh.metrics.rows_written, kRows);
    }
    ASSERT_OK_AND_ASSIGN(std::vector<Row> held, ReadBack(registry_, spec.sink, OrdersSchema()));
    if (sink.exactly_once) {
      EXPECT_EQ(held, Sorted(OrdersRows(kRows))) << RowsDiff(held, Sorted(OrdersRows(kRows)));
    } else {
      held.erase(std::unique(held.begin(), held.end()), held.end());
      EXPECT_EQ(held, Sorted(OrdersRows(kRows))) << RowsDiff(held, Sorted(OrdersRows(kRows)));
    }
    EXPECT_THAT(store_->Leftovers(fmt::format("fresh_{}", ModeName(mode))), IsEmpty());
  }
}

// Bad records found on the way (amounts a cast to decimal refuses, and a row the sink itself
// refuses where it has one) follow the job's `errors:` policy, and the sink holds exactly the
// good rows.
TEST_P(SinkConformanceTest, BadRecordsFollowTheErrorsPolicy) {
  constexpr size_t kRows = 600;
  constexpr int64_t kRefusedId = 250;
  std::set<int64_t> kBad = {17, 333};
  const std::optional<Row>& refused = GetParam().refused_row;
  if (refused)
    kBad.insert(kRefusedId);
  std::vector<Row> rows = OrdersRows(kRows);
  std::vector<Row> good;
  for (Row& row : rows) {
    int64_t id = std::stoll(*row[0]);
    if (refused && id == kRefusedId) {
      row = *refused;
      row[0] = std::to_string(id);
    } else if (kBad.count(id) != 0) {
      row[2] = "n/a";
    } else {
      good.push_back(row);
    }
  }
  Serve(source_.get(), rows);
  auto cast_schema = std::make_shared<const Schema>(
      std::vector<Field>{{"id", DataType::Int64(), false},
                         {"name", DataType::String(), true},
                         {"amount", DataType::Decimal(12, 2), true}});
  const std::string transform =
      "transform: {columns: {id: id, name: name, amount: 'amount::decimal(12,2)'}}\n";
  struct Policy {
    std::string name;
    std::string errors;  // the `errors:` map's body
    bool succeeds;
  };
  TempDir dead_letters;
  const std::string dead_letter_path = dead_letters.Join("bad.jsonl");
  const std::vector<Policy> policies = {
      {"fail", "mode: fail", false},
      {"skip", "mode: skip", true},
      {"dead_letter", fmt::format("mode: dead_letter, dead_letter_path: {}",
                                  YamlQuoted(dead_letter_path)),
       true},
      {"skip_max_count", "mode: skip, max_count: 1", false},
  };
  for (const Policy& policy : policies) {
    SCOPED_TRACE(policy.name);
    TempDir state;
    JobSpec spec = SinkJob(*store_, "bad_" + policy.name, WriteMode::kAppend, state);
    spec.extra = transform + fmt::format("errors: {{{}}}\n", policy.errors);
    runtime::JobSummary summary = RunJob(spec, registry_);
    if (!policy.succeeds) {
      EXPECT_EQ(summary.status.code(), StatusCode::kDataError) << summary.status.ToString();
      // Whatever was committed before the failure is there once.
      Result<std::vector<Row>> held = ReadBack(registry_, spec.sink, cast_schema);
      if (held.ok() && GetParam().exactly_once) {
        EXPECT_THAT(Duplicates(*held), ::testing::IsEmpty());
      }
      continue;
    }
    ASSERT_OK(summary.status);
    EXPECT_EQ(summary.metrics.bad_records, kBad.size());
    ASSERT_OK_AND_ASSIGN(std::vector<Row> held, ReadBack(registry_, spec.sink, cast_schema));
    // The good amounts have two decimals already: the cast keeps their text.
    EXPECT_EQ(held, Sorted(good)) << RowsDiff(held, Sorted(good));
    if (policy.name == "dead_letter") {
      std::string letters = ReadFileOrDie(dead_letter_path);
      EXPECT_EQ(std::count(letters.begin(), letters.end(), '\n'),
                static_cast<std::ptrdiff_t>(kBad.size()))
          << letters;
      EXPECT_THAT(letters, HasSubstr("cannot cast to decimal(12,2)"));
    }
  }
}

// `sluice verify` reads the target back through the connector's read_back (in its store's SQL
// where it can): a completed job's target is identical to its source.
TEST_P(SinkConformanceTest, VerifyFindsTheTargetIdenticalToTheSource) {
  constexpr size_t kRows = 700;
  Serve(source_.get(), OrdersRows(kRows));
  TempDir state;
  JobSpec spec = SinkJob(*store_, "verified", WriteMode::kAppend, state);
  ASSERT_OK(RunJob(spec, registry_).status);
  ASSERT_OK_AND_ASSIGN(config::JobConfig job, MakeJob(spec));
  for (bool push_down : {true, false}) {
    SCOPED_TRACE(push_down ? "computed in the store where it can" : "read through sluice");
    verify::VerifyOptions options;
    options.push_down = push_down;
    ASSERT_OK_AND_ASSIGN(verify::VerifyReport report,
                         verify::Verify(job, registry_, nullptr, options));
    EXPECT_TRUE(report.match);
    ASSERT_EQ(report.streams.size(), 1u);
    EXPECT_EQ(report.streams[0].source_rows, kRows);
    EXPECT_EQ(report.streams[0].target_rows, kRows);
  }
}

// SIGINT while a writer waits in the store (a lock held by another session): the job must end
// promptly, interrupted and resumable, without waiting for the lock.
//
// Disabled: it fails today. PostgreSQL: the writer's COPY waits for the lock and the runtime's
// final checkpoint waits for the writer (SinkWriter::Cancel exists, the runtime does not call it
// yet). MySQL: the job waits earlier, on the coordinator, in the sink's setup against the locked
// table, which no Cancel reaches. Run it with --gtest_also_run_disabled_tests.
TEST_P(SinkConformanceTest, StopWhileAWriteIsBlockedEndsPromptly) {
  Status blocking = store_->BlockWrites("blocked");
  if (blocking.code() == StatusCode::kUnsupported)
    GTEST_SKIP() << blocking.ToString();
  ASSERT_OK(blocking);
  Serve(source_.get(), OrdersRows(500));
  TempDir state;
  JobSpec spec = SinkJob(*store_, "blocked", WriteMode::kAppend, state);
  std::atomic<bool> stop{false};
  std::future<runtime::JobSummary> done = std::async(
      std::launch::async, [&] { return RunJob(spec, registry_, /*fresh=*/false, &stop); });
  Status blocked = store_->WaitUntilWriteBlocked();
  if (!blocked.ok()) {
    store_->EndBlockedWrites();
    stop = true;
    done.wait();
    FAIL() << "no write blocked: " << blocked.ToString();
  }
  const auto asked = std::chrono::steady_clock::now();
  stop = true;
  constexpr auto kPromptly = std::chrono::seconds(15);
  if (done.wait_for(kPromptly) == std::future_status::timeout) {
    ADD_FAILURE() << "the job did not end within 15 s of the stop while a write was blocked";
    store_->EndBlockedWrites();
  }
  runtime::JobSummary summary = done.get();
  EXPECT_LT(std::chrono::steady_clock::now() - asked, kPromptly);
  EXPECT_TRUE(summary.interrupted) << summary.status.ToString();
  store_->EndBlockedWrites();
}

TEST_P(SinkConformanceTest, EmptyInputLeavesAnEmptyTarget) {
  Serve(source_.get(), {});
  for (WriteMode mode : Modes(GetParam())) {
    SCOPED_TRACE(ModeName(mode));
    TempDir state;
    JobSpec spec = SinkJob(*store_, fmt::format("empty_{}", ModeName(mode)), mode, state);
    runtime::JobSummary summary = RunJob(spec, registry_);
    ASSERT_OK(summary.status);
    EXPECT_EQ(summary.metrics.rows_written, 0u);
    Result<std::vector<Row>> held = ReadBack(registry_, spec.sink, OrdersSchema());
    if (GetParam().empty_input_may_leave_no_target &&
        held.status().code() == StatusCode::kNotFound) {
      continue;
    }
    ASSERT_OK(held);
    EXPECT_THAT(*held, ::testing::IsEmpty());
  }
}

}  // namespace
}  // namespace sluice::testing::conformance
