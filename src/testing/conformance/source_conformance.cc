// The source half of the conformance suite (conformance.h): the source under test, seeded with
// known rows, feeds a SQLite sink (exactly-once, and its file outlives the crash loop's
// children); what it holds is read back and compared with the seeded rows.
#include <fmt/core.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <future>
#include <random>
#include <set>

#include "testing/conformance/conformance.h"
#include "testing/conformance/conformance_job.h"
#include "testing/crash_loop.h"
#include "testing/gtest_util.h"

namespace sluice::connectors {
void RegisterSqliteConnector(ConnectorRegistry& registry);
}  // namespace sluice::connectors

namespace sluice::testing::conformance {

void SourceConformanceTest::Prepare(bool bounded) {
  GetParam().register_connectors(registry_);
  if (registry_.Find("sqlite") == nullptr)
    connectors::RegisterSqliteConnector(registry_);
  if (!GetParam().bounded && bounded)
    GTEST_SKIP() << "the cases run jobs to their end; this source never ends (StreamConformanceTest "
                    "covers it)";
  if (GetParam().bounded && !bounded)
    GTEST_SKIP() << "the cases run jobs until stopped; this source ends on its own "
                    "(SourceConformanceTest covers it)";
  out_ = std::make_unique<TempDir>();
  ASSERT_OK_AND_ASSIGN(store_, GetParam().open_store());
}

void SourceConformanceTest::TearDown() {
  store_.reset();
  out_.reset();
}

// A binary may join only the sink half.
GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(SourceConformanceTest);

namespace {

using ::testing::HasSubstr;

class Seeded {
 public:
  // Seeds `target` with `count` rows and finds the rows a run must deliver.
  static Result<Seeded> Make(const SourceUnderTest& under_test, ConformanceStore& store,
                             const connectors::ConnectorRegistry& registry, const TempDir& out,
                             const std::string& target, size_t count) {
    Seeded seeded;
    std::vector<Row> rows = OrdersRows(count);
    SLUICE_ASSIGN_OR_RETURN(seeded.source, store.SeedSource(target, rows));
    if (under_test.seeds_given_rows) {
      seeded.expected = Sorted(std::move(rows));
      return seeded;
    }
    // The source makes its own rows: an uninterrupted run says which.
    TempDir state;
    std::string reference = SqliteSink(out, target + "_reference");
    SLUICE_RETURN_IF_ERROR(
        RunJob(SourceJob(seeded.source, reference, state, target + "_reference"), registry)
            .status);
    SLUICE_ASSIGN_OR_RETURN(seeded.expected, ReadBack(registry, reference, OrdersSchema()));
    if (seeded.expected.size() != count) {
      return Internal(fmt::format("the source was asked for {} rows and delivered {}", count,
                                  seeded.expected.size()));
    }
    return seeded;
  }

  std::string source;
  std::vector<Row> expected;
};

TEST_P(SourceConformanceTest, StoppedAndResumedDeliversEveryRowOnce) {
  ASSERT_OK_AND_ASSIGN(Seeded seeded,
                       Seeded::Make(GetParam(), *store_, registry_, *out_, "stopped", 1500));
  TempDir state;
  JobSpec spec = SourceJob(seeded.source, SqliteSink(*out_, "stopped"), state, "stopped");
  runtime::JobSummary stopped = RunStoppedAtBatch(spec, registry_, 10);
  ASSERT_TRUE(stopped.interrupted) << stopped.status.ToString();
  uint64_t first = stopped.metrics.rows_written;
  EXPECT_GT(first, 0u);
  EXPECT_LT(first, seeded.expected.size());
  runtime::JobSummary resumed = RunJob(spec, registry_);
  ASSERT_OK(resumed.status);
  EXPECT_TRUE(resumed.resumed);
  EXPECT_EQ(first + resumed.metrics.rows_written, seeded.expected.size());
  ASSERT_OK_AND_ASSIGN(std::vector<Row> held, ReadBack(registry_, spec.sink, OrdersSchema()));
  EXPECT_EQ(held, seeded.expected) << RowsDiff(held, seeded.expected);
}

// kill -9 at every commit step (the runtime's failpoints and the source's own), then a run that
// completes: the positions the source gave resume every split exactly where it was committed.
TEST_P(SourceConformanceTest, KilledAtEveryCommitStepEndsExact) {
  ASSERT_OK_AND_ASSIGN(Seeded seeded,
                       Seeded::Make(GetParam(), *store_, registry_, *out_, "killed", 6000));
  std::random_device seed_source;
  const uint32_t seed = seed_source();
  SCOPED_TRACE(fmt::format("crash loop seed {}", seed));
  TempDir state;
  JobSpec spec = SourceJob(seeded.source, SqliteSink(*out_, "killed"), state, "killed");
  CrashLoopOptions options;
  options.seed = seed;
  options.connector_points = GetParam().crash_points;
  options.kills =
      static_cast<int>(RuntimeCrashPoints().size() + options.connector_points.size()) + 2;
  CrashLoopResult crashes =
      RunCrashLoop([&] { return RunJob(spec, registry_).status.ok() ? 0 : 1; }, options);
  ASSERT_EQ(crashes.kills, options.kills) << "a child finished the job before its crash point";
  runtime::JobSummary last = RunJob(spec, registry_);
  ASSERT_OK(last.status);
  EXPECT_TRUE(last.resumed);
  ASSERT_OK_AND_ASSIGN(std::vector<Row> held, ReadBack(registry_, spec.sink, OrdersSchema()));
  EXPECT_EQ(held, seeded.expected) << RowsDiff(held, seeded.expected);
}

TEST_P(SourceConformanceTest, FreshRunStartsOver) {
  ASSERT_OK_AND_ASSIGN(Seeded seeded,
                       Seeded::Make(GetParam(), *store_, registry_, *out_, "fresh", 1500));
  TempDir state;
  JobSpec spec = SourceJob(seeded.source, SqliteSink(*out_, "fresh", "overwrite"), state,
                           "fresh");
  ASSERT_TRUE(RunStoppedAtBatch(spec, registry_, 10).interrupted);
  runtime::JobSummary fresh = RunJob(spec, registry_, /*fresh=*/true);
  ASSERT_OK(fresh.status);
  EXPECT_FALSE(fresh.resumed);
  EXPECT_EQ(fresh.metrics.rows_written, seeded.expected.size());
  ASSERT_OK_AND_ASSIGN(std::vector<Row> held, ReadBack(registry_, spec.sink, OrdersSchema()));
  EXPECT_EQ(held, seeded.expected) << RowsDiff(held, seeded.expected);
}

// A record the source itself cannot read follows the job's `errors:` policy.
TEST_P(SourceConformanceTest, BadRecordsFollowTheErrorsPolicy) {
  constexpr size_t kRows = 400;
  std::vector<Row> rows = OrdersRows(kRows);
  TempDir dead_letters;
  const std::string dead_letter_path = dead_letters.Join("bad.jsonl");
  struct Policy {
    std::string name;
    std::string errors;
  };
  const std::vector<Policy> policies = {
      {"fail", "mode: fail"},
      {"skip", "mode: skip"},
      {"dead_letter",
       fmt::format("mode: dead_letter, dead_letter_path: {}", YamlQuoted(dead_letter_path))},
  };
  for (const Policy& policy : policies) {
    SCOPED_TRACE(policy.name);
    std::string target = "bad_" + policy.name;
    Result<std::string> source = store_->SeedSourceWithBadRecord(target, rows, 100);
    if (source.status().code() == StatusCode::kUnsupported)
      GTEST_SKIP() << source.status().ToString();
    ASSERT_OK(source);
    TempDir state;
    JobSpec spec = SourceJob(*source, SqliteSink(*out_, target), state, target);
    spec.extra = fmt::format("errors: {{{}}}\n", policy.errors);
    runtime::JobSummary summary = RunJob(spec, registry_);
    if (policy.name == "fail") {
      EXPECT_EQ(summary.status.code(), StatusCode::kDataError) << summary.status.ToString();
      continue;
    }
    ASSERT_OK(summary.status);
    EXPECT_EQ(summary.metrics.bad_records, 1u);
    ASSERT_OK_AND_ASSIGN(std::vector<Row> held, ReadBack(registry_, spec.sink, OrdersSchema()));
    EXPECT_EQ(held, Sorted(rows)) << RowsDiff(held, Sorted(rows));
    if (policy.name == "dead_letter") {
      std::string letters = ReadFileOrDie(dead_letter_path);
      EXPECT_EQ(std::count(letters.begin(), letters.end(), '\n'), 1) << letters;
    }
  }
}

// SIGINT while a reader waits in the store: the runtime cancels the reader (SplitReader::Cancel),
// which must end the blocked read at once, and the job stops, resumable.
TEST_P(SourceConformanceTest, StopWhileAReadIsBlockedEndsPromptly) {
  Result<std::string> source = store_->SeedBlockingSource("blocked", OrdersRows(100));
  if (source.status().code() == StatusCode::kUnsupported)
    GTEST_SKIP() << source.status().ToString();
  ASSERT_OK(source);
  TempDir state;
  JobSpec spec = SourceJob(*source, SqliteSink(*out_, "blocked"), state, "blocked");
  std::atomic<bool> stop{false};
  std::future<runtime::JobSummary> done = std::async(
      std::launch::async, [&] { return RunJob(spec, registry_, /*fresh=*/false, &stop); });
  Status blocked = store_->WaitUntilReadBlocked();
  if (!blocked.ok()) {
    store_->EndBlockedReads();
    stop = true;
    done.wait();
    FAIL() << "no read blocked: " << blocked.ToString();
  }
  const auto asked = std::chrono::steady_clock::now();
  stop = true;
  constexpr auto kPromptly = std::chrono::seconds(15);
  if (done.wait_for(kPromptly) == std::future_status::timeout) {
    ADD_FAILURE() << "the job did not end within 15 s of the stop while a read was blocked";
    store_->EndBlockedReads();
  }
  runtime::JobSummary summary = done.get();
  EXPECT_LT(std::chrono::steady_clock::now() - asked, kPromptly);
  EXPECT_TRUE(summary.interrupted) << summary.status.ToString();
  EXPECT_EQ(summary.status.code(), StatusCode::kCancelled) << summary.status.ToString();
}

TEST_P(SourceConformanceTest, EmptySourceDeliversNothing) {
  ASSERT_OK_AND_ASSIGN(Seeded seeded,
                       Seeded::Make(GetParam(), *store_, registry_, *out_, "empty", 0));
  TempDir state;
  JobSpec spec = SourceJob(seeded.source, SqliteSink(*out_, "empty"), state, "empty");
  runtime::JobSummary summary = RunJob(spec, registry_);
  ASSERT_OK(summary.status);
  EXPECT_EQ(summary.metrics.rows_written, 0u);
  ASSERT_OK_AND_ASSIGN(std::vector<Row> held, ReadBack(registry_, spec.sink, OrdersSchema()));
  EXPECT_EQ(held, seeded.expected) << RowsDiff(held, seeded.expected);
}

}  // namespace
}  // namespace sluice::testing::conformance
