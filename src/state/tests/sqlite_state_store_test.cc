#include <gtest/gtest.h>

#include "state/state_store.h"
#include "testing/gtest_util.h"
#include "testing/temp_dir.h"

namespace sluice::state {
namespace {

connectors::Split MakeSplit(std::string id, std::string payload, std::optional<uint64_t> rows) {
  connectors::Split split;
  split.id = std::move(id);
  split.stream = 1;
  split.payload = std::move(payload);
  split.estimated_rows = rows;
  return split;
}

TEST(SqliteStateStoreTest, PlanAndCheckpointsSurviveReopening) {
  testing::TempDir dir;
  std::string path = dir.Join("state/sub/sluice.db");
  {
    ASSERT_OK_AND_ASSIGN(auto store, OpenSqliteStateStore(path));
    ASSERT_OK_AND_ASSIGN(std::optional<JobState> none, store->Load("orders"));
    EXPECT_FALSE(none.has_value());
    ASSERT_OK(store->Reset("orders", "fp-1"));
    ASSERT_OK(store->RecordSplits("orders", {MakeSplit("t#1", R"({"lo":1})", 100),
                                             MakeSplit("t#2", R"({"lo":2})", std::nullopt)}));
    // A cut re-records its parent with a smaller range: the parent keeps its place.
    ASSERT_OK(store->RecordSplits("orders", {MakeSplit("t#1", R"({"lo":1,"hi":5})", 50),
                                             MakeSplit("t#1.1", R"({"lo":5})", 50)}));
    ASSERT_OK(store->CommitCheckpoint("orders", 1, {{"t#1", R"({"after":3})", false}}, 0));
    ASSERT_OK(store->CommitCheckpoint("orders", 2,
                                      {{"t#1", R"({"after":4})", true}, {"t#2", "", false}}, 7));
    ASSERT_OK(store->SetStatus("orders", JobStatus::kInterrupted));
  }
  ASSERT_OK_AND_ASSIGN(auto store, OpenSqliteStateStore(path));
  ASSERT_OK_AND_ASSIGN(std::optional<JobState> state, store->Load("orders"));
  ASSERT_TRUE(state.has_value());
  EXPECT_EQ(state->fingerprint, "fp-1");
  EXPECT_EQ(state->status, JobStatus::kInterrupted);
  EXPECT_EQ(state->checkpoint, 2u);
  EXPECT_EQ(state->bad_records, 7u);
  ASSERT_EQ(state->splits.size(), 3u);
  EXPECT_EQ(state->splits[0].id, "t#1");
  EXPECT_EQ(state->splits[0].payload, R"({"lo":1,"hi":5})");
  EXPECT_EQ(state->splits[0].estimated_rows, 50u);
  EXPECT_EQ(state->splits[1].id, "t#2");
  EXPECT_FALSE(state->splits[1].estimated_rows.has_value());
  EXPECT_EQ(state->splits[2].id, "t#1.1");
  EXPECT_EQ(state->splits[2].stream, 1);
  ASSERT_EQ(state->progress.size(), 2u);
  EXPECT_EQ(state->progress.at("t#1"), (SplitProgress{"t#1", R"({"after":4})", true}));
  EXPECT_EQ(state->progress.at("t#2"), (SplitProgress{"t#2", "", false}));

  // Reset forgets everything of that job, and only of that job.
  ASSERT_OK(store->Reset("other", "fp-x"));
  ASSERT_OK(store->Reset("orders", "fp-2"));
  ASSERT_OK_AND_ASSIGN(state, store->Load("orders"));
  EXPECT_EQ(state->fingerprint, "fp-2");
  EXPECT_TRUE(state->splits.empty());
  EXPECT_TRUE(state->progress.empty());
  EXPECT_EQ(state->checkpoint, 0u);
  EXPECT_EQ(state->status, JobStatus::kRunning);
}

TEST(SqliteStateStoreTest, UnwritableLocationIsAClearError) {
  testing::TempDir dir;
  testing::WriteFileOrDie(dir.Join("blocker"), "x");
  Result<std::unique_ptr<StateStore>> store = OpenSqliteStateStore(dir.Join("blocker/state.db"));
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(store.status().message(),
            "Cannot create the state directory '" + dir.Join("blocker") + "': Not a directory");
}

TEST(SqliteStateStoreTest, SourceStateIsKeptWithTheLastCheckpointUntilReset) {
  testing::TempDir dir;
  std::string path = dir.Join("state.db");
  {
    ASSERT_OK_AND_ASSIGN(auto store, OpenSqliteStateStore(path));
    ASSERT_OK(store->Reset("cdc", "fp"));
    ASSERT_OK(store->CommitCheckpoint("cdc", 1, {{"p0", "5", false}}, 0));
    ASSERT_OK_AND_ASSIGN(std::optional<JobState> state, store->Load("cdc"));
    EXPECT_EQ(state->source_state, "");  // a source without state of its own
    ASSERT_OK(store->CommitCheckpoint("cdc", 2, {}, 0, R"({"binlog":"b.000001","pos":4})"));
    ASSERT_OK(store->CommitCheckpoint("cdc", 3, {{"p0", "9", false}}, 0, "zażółć ✓ \"quoted\""));
  }
  ASSERT_OK_AND_ASSIGN(auto store, OpenSqliteStateStore(path));
  ASSERT_OK_AND_ASSIGN(std::optional<JobState> state, store->Load("cdc"));
  EXPECT_EQ(state->checkpoint, 3u);
  EXPECT_EQ(state->source_state, "zażółć ✓ \"quoted\"");
  ASSERT_OK(store->Reset("cdc", "fp"));
  ASSERT_OK_AND_ASSIGN(state, store->Load("cdc"));
  EXPECT_EQ(state->source_state, "");
}

// A state taken when a run starts is durable before its first checkpoint, and leaves the
// job's checkpoint and progress as they were.
TEST(SqliteStateStoreTest, SourceStateRecordedBeforeTheFirstCheckpointIsKept) {
  testing::TempDir dir;
  std::string path = dir.Join("state.db");
  {
    ASSERT_OK_AND_ASSIGN(auto store, OpenSqliteStateStore(path));
    ASSERT_OK(store->Reset("cdc", "fp"));
    ASSERT_OK(store->RecordSourceState("cdc", R"({"binlog_start":{"pos":4}})"));
  }
  ASSERT_OK_AND_ASSIGN(auto store, OpenSqliteStateStore(path));
  ASSERT_OK_AND_ASSIGN(std::optional<JobState> state, store->Load("cdc"));
  EXPECT_EQ(state->checkpoint, 0u);
  EXPECT_EQ(state->source_state, R"({"binlog_start":{"pos":4}})");
  ASSERT_OK(store->CommitCheckpoint("cdc", 1, {{"p0", "5", false}}, 0, "later"));
  ASSERT_OK(store->RecordSourceState("cdc", "again"));
  ASSERT_OK_AND_ASSIGN(state, store->Load("cdc"));
  EXPECT_EQ(state->checkpoint, 1u);
  EXPECT_EQ(state->progress.at("p0").position, "5");
  EXPECT_EQ(state->source_state, "again");
}

}  // namespace
}  // namespace sluice::state
