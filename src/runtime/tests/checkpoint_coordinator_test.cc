// The checkpoint coordinator through whole jobs: a source hears of a checkpoint
// (Source::Acknowledge) only once the sink committed it and the state store recorded it, with the
// positions it recorded, never for a checkpoint that failed; the source's own state
// (CheckpointState) is recorded with each checkpoint and handed back on resume (RestoreState).
#include <fmt/core.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <fstream>
#include <map>

#include "core/failpoint.h"
#include "runtime/job_runner.h"
#include "state/state_store.h"
#include "testing/gtest_util.h"
#include "testing/memory_connector.h"
#include "testing/stop_at_batch.h"
#include "testing/temp_dir.h"

namespace sluice::runtime {
namespace {

using connectors::SplitProgress;
using testing::MemorySinkData;
using testing::MemorySourceData;
using testing::Row;

SchemaPtr KeyValueSchema() {
  return std::make_shared<Schema>(
      std::vector<Field>{{"id", DataType::Int64(), false}, {"value", DataType::String(), true}},
      std::vector<int>{0});
}

std::vector<Row> MakeRows(size_t count) {
  std::vector<Row> rows;
  for (size_t i = 0; i < count; ++i) {
    std::optional<std::string> value;
    if (i % 3 != 0)
      value = fmt::format("v{}", i);
    rows.push_back(Row{std::to_string(i), value});
  }
  return rows;
}

struct Ack {
  uint64_t checkpoint = 0;
  std::vector<SplitProgress> progress;
  /// The state store's last checkpoint and its progress of the acknowledged splits, read when
  /// the acknowledgement came.
  uint64_t recorded = 0;
  std::vector<SplitProgress> recorded_progress;
};

class CheckpointCoordinatorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    source_ = std::make_shared<MemorySourceData>();
    sink_ = std::make_shared<MemorySinkData>();
    source_->streams = {{"items", KeyValueSchema(), MakeRows(2000)}};
    source_->split_rows = 250;
    source_->on_acknowledge = [this](uint64_t checkpoint, const std::vector<SplitProgress>& p) {
      Ack ack{checkpoint, p, 0, {}};
      // What the state store holds right now: an acknowledgement must follow its record.
      Result<std::unique_ptr<state::StateStore>> store =
          state::OpenSqliteStateStore(state_.Join("state.db"));
      if (store.ok()) {
        Result<std::optional<state::JobState>> loaded = (*store)->Load("acks");
        if (loaded.ok() && *loaded) {
          ack.recorded = (*loaded)->checkpoint;
          for (const SplitProgress& entry : p)
            ack.recorded_progress.push_back((*loaded)->progress[entry.split_id]);
        }
      }
      std::lock_guard<std::mutex> lock(acks_mutex_);
      acks_.push_back(std::move(ack));
    };
    testing::RegisterMemoryConnector(registry_, source_, sink_);
  }
  void TearDown() override { failpoint::DisarmAll(); }

  config::JobConfig Job(int parallelism) {
    std::string text = "name: acks\nsource: {type: memory}\nsink: {type: memory}\nparallelism: " +
                       std::to_string(parallelism) + "\nbatch_rows: 100\nstate: " + state_.path() +
                       "\ncheckpoint: {interval_secs: 0}\n";
    Result<config::JobConfig> job = config::LoadJobText(text, "acks.yaml", {});
    EXPECT_TRUE(job.ok()) << job.status().ToString();
    return *job;
  }

  std::vector<Ack> Acks() {
    std::lock_guard<std::mutex> lock(acks_mutex_);
    return acks_;
  }

  testing::TempDir state_;
  connectors::ConnectorRegistry registry_;
  std::shared_ptr<MemorySourceData> source_;
  std::shared_ptr<MemorySinkData> sink_;
  std::mutex acks_mutex_;
  std::vector<Ack> acks_;  // guarded by acks_mutex_
};

TEST_F(CheckpointCoordinatorTest, AcknowledgesEachRecordedCheckpointWithItsPositions) {
  source_->min_cut_rows = 1000000;  // no cuts: the eight planned splits end where planned
  // Checkpoints after the 3rd, 9th and 14th batch, the final one at the end.
  ASSERT_OK(failpoint::Arm("runtime.reader.batch=checkpoint@3;runtime.reader.batch=checkpoint@9;"
                           "runtime.reader.batch=checkpoint@14"));
  JobSummary summary = JobRunner(Job(2), registry_).Run(nullptr);
  ASSERT_OK(summary.status);
  std::vector<Ack> acks = Acks();
  ASSERT_EQ(acks.size(), summary.metrics.checkpoints);
  ASSERT_GE(acks.size(), 2u);  // requests that come together share a checkpoint
  std::map<std::string, SplitProgress> last;
  for (size_t i = 0; i < acks.size(); ++i) {
    SCOPED_TRACE(fmt::format("acknowledgement of checkpoint {}", acks[i].checkpoint));
    EXPECT_EQ(acks[i].checkpoint, i + 1);
    // Recorded before acknowledged, with exactly the positions acknowledged.
    EXPECT_EQ(acks[i].recorded, acks[i].checkpoint);
    EXPECT_EQ(acks[i].recorded_progress, acks[i].progress);
    for (const SplitProgress& entry : acks[i].progress)
      last[entry.split_id] = entry;
  }
  // The acknowledgements end with every split done at its end.
  ASSERT_EQ(last.size(), 8u);
  for (size_t split = 0; split < 8; ++split) {
    const std::string id = fmt::format("0:{}-{}", split * 250, split * 250 + 250);
    EXPECT_EQ(last[id], (SplitProgress{id, std::to_string(split * 250 + 250), true}));
  }
}

TEST_F(CheckpointCoordinatorTest, ACheckpointThatFailedToRecordIsNeverAcknowledged) {
  ASSERT_OK(failpoint::Arm("runtime.reader.batch=checkpoint@4;"
                           "runtime.checkpoint.before_record=error@1"));
  JobSummary summary = JobRunner(Job(1), registry_).Run(nullptr);
  ASSERT_OK(summary.status);
  std::vector<Ack> acks = Acks();
  // Checkpoint 1 failed before its record: only the final one, 2, is acknowledged.
  ASSERT_EQ(acks.size(), 1u);
  EXPECT_EQ(acks[0].checkpoint, 2u);
  EXPECT_EQ(acks[0].recorded, 2u);
  EXPECT_EQ(sink_->committed["items"].size(), 2000u);
}

TEST_F(CheckpointCoordinatorTest, ACrashBeforeTheRecordAcknowledgesNothing) {
  const std::string log = state_.Join("acks.log");
  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    // The child writes each acknowledgement to a file: what the parent can see after its death.
    source_->on_acknowledge = [log](uint64_t checkpoint, const std::vector<SplitProgress>&) {
      std::ofstream(log, std::ios::app) << checkpoint << "\n";
    };
    (void)failpoint::Arm("runtime.reader.batch=checkpoint@4;"
                         "runtime.checkpoint.before_record=crash@1");
    JobRunner(Job(1), registry_).Run(nullptr);
    _exit(0);  // not reached: the crash comes first
  }
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << status;
  EXPECT_FALSE(std::ifstream(log).good()) << "a checkpoint was acknowledged before its record";

  // The memory sink's commits died with the child: the next run starts over, and acknowledges
  // each of its checkpoints after recording it.
  JobSummary summary = JobRunner(Job(1), registry_).Run(nullptr);
  ASSERT_OK(summary.status);
  std::vector<Ack> acks = Acks();
  ASSERT_FALSE(acks.empty());
  for (const Ack& ack : acks)
    EXPECT_EQ(ack.recorded, ack.checkpoint);
  EXPECT_EQ(sink_->committed["items"].size(), 2000u);
}

TEST_F(CheckpointCoordinatorTest, AFailedAcknowledgementIsOnlyAWarning) {
  source_->acknowledge_result = Unavailable("the broker is away");
  JobSummary summary = JobRunner(Job(2), registry_).Run(nullptr);
  ASSERT_OK(summary.status);
  EXPECT_EQ(Acks().size(), summary.metrics.checkpoints);
  EXPECT_EQ(sink_->committed["items"].size(), 2000u);
}

TEST_F(CheckpointCoordinatorTest, SourceStateIsRecordedWithEachCheckpointAndRestoredOnResume) {
  std::atomic<int> states{0};
  // Unicode, quotes and a NUL-free binary-ish text survive the round trip.
  source_->checkpoint_state = [&] {
    return fmt::format(R"({{"binlog":"mariadb-bin.000042","pos":{},"note":"zażółć ✓"}})",
                       ++states);
  };
  std::string last_state;
  {
    testing::StopAtBatch stop(7);
    JobSummary summary = JobRunner(Job(2), registry_).Run(nullptr);
    ASSERT_TRUE(summary.interrupted);
    last_state = fmt::format(R"({{"binlog":"mariadb-bin.000042","pos":{},"note":"zażółć ✓"}})",
                             states.load());
  }
  {
    std::lock_guard<std::mutex> lock(source_->mutex);
    EXPECT_TRUE(source_->restored_states.empty());  // a fresh run restores nothing
  }
  JobSummary summary = JobRunner(Job(2), registry_).Run(nullptr);
  ASSERT_OK(summary.status);
  EXPECT_TRUE(summary.resumed);
  std::lock_guard<std::mutex> lock(source_->mutex);
  EXPECT_EQ(source_->restored_states, std::vector<std::string>{last_state});
  EXPECT_EQ(sink_->committed["items"].size(), 2000u);
}

}  // namespace
}  // namespace sluice::runtime
