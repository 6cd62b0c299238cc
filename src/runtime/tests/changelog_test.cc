// Changelog streams through the runtime: rows routed to writers by a hash of their key, so that a
// key's changes reach one writer in order whichever splits and readers they come from; row kinds
// kept through the projection and the routing; every checkpoint cuts every split at one place in
// all channels, so a stop and a resume lose and repeat nothing.
#include <fmt/core.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>
#include <set>
#include <tuple>

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
using testing::Row;

constexpr size_t kKeys = 37;
constexpr size_t kRows = 6000;
constexpr size_t kSplitRows = 150;

SchemaPtr ChangeSchema(bool with_key = true) {
  return std::make_shared<Schema>(
      std::vector<Field>{{"id", DataType::Int64(), false},
                         {"seq", DataType::Int64(), false},
                         {"value", DataType::String(), true}},
      with_key ? std::vector<int>{0} : std::vector<int>{});
}

// Row i changes key i % 37 (so a key's changes are spread over every split); per key the kinds
// cycle insert, update_before, update_after, delete. `seq` orders all changes.
void MakeChanges(testing::MemoryStream* stream) {
  for (size_t i = 0; i < kRows; ++i) {
    const size_t key = i % kKeys;
    std::optional<std::string> value;
    if (i % 11 == 3)
      value = fmt::format("ünïcödé ✓ {}", i);
    else if (i % 11 == 5)
      value = "";
    else if (i % 11 != 7)
      value = fmt::format("v{}", i);
    stream->rows.push_back(Row{std::to_string(key), std::to_string(i), value});
    static constexpr RowKind kCycle[] = {RowKind::kInsert, RowKind::kUpdateBefore,
                                         RowKind::kUpdateAfter, RowKind::kDelete};
    stream->kinds.push_back(kCycle[(i / kKeys) % 4]);
  }
}

class ChangelogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    source_ = std::make_shared<MemorySourceData>();
    sink_ = std::make_shared<MemorySinkData>();
    testing::MemoryStream stream{"changes", ChangeSchema(), {}};
    stream.changelog = true;
    MakeChanges(&stream);
    source_->streams = {stream};
    source_->split_rows = kSplitRows;
    source_->rows_per_read = 40;
    // No cuts: every change's split is then seq / kSplitRows, for the order checks below.
    source_->min_cut_rows = kRows;
    sink_->max_writers = 3;
    testing::RegisterMemoryConnector(registry_, source_, sink_);
  }
  void TearDown() override { failpoint::DisarmAll(); }

  config::JobConfig Job(const std::string& extra = "", const std::string& interval = "0.01") {
    std::string text = "name: cdc\nsource: {type: memory}\nsink: {type: memory}\nparallelism: 4\n"
                       "batch_rows: 100\nstate: " +
                       state_.path() + "\ncheckpoint: {interval_secs: " + interval + "}\n" + extra;
    Result<config::JobConfig> job = config::LoadJobText(text, "cdc.yaml", {});
    EXPECT_TRUE(job.ok()) << job.status().ToString();
    return *job;
  }

  // Checks what the sink committed against the source: every change exactly once with its kind,
  // each key's changes from one writer, and each key's changes from one split in order.
  void ExpectEveryChangeOnceInKeyOrder(const std::string& stream) {
    std::lock_guard<std::mutex> lock(sink_->mutex);
    const std::vector<Row>& rows = sink_->committed[stream];
    const std::vector<RowKind>& kinds = sink_->committed_kinds[stream];
    const std::vector<int>& slots = sink_->committed_slots[stream];
    ASSERT_EQ(rows.size(), kRows);
    ASSERT_EQ(kinds.size(), kRows);
    ASSERT_EQ(slots.size(), kRows);
    std::set<size_t> seen;
    std::map<std::string, std::set<int>> slots_of_key;
    std::map<std::pair<std::string, size_t>, size_t> last_seq;  // (key, split) -> seq
    const testing::MemoryStream& source = source_->streams[0];
    for (size_t i = 0; i < rows.size(); ++i) {
      const size_t seq = std::stoul(*rows[i][1]);
      ASSERT_LT(seq, kRows);
      EXPECT_TRUE(seen.insert(seq).second) << "change " << seq << " committed twice";
      EXPECT_EQ(rows[i], source.rows[seq]);
      EXPECT_EQ(kinds[i], source.kinds[seq]) << "change " << seq;
      const std::string& key = *rows[i][0];
      slots_of_key[key].insert(slots[i]);
      auto [entry, first] = last_seq.try_emplace({key, seq / kSplitRows}, seq);
      if (!first) {
        EXPECT_LT(entry->second, seq) << "key " << key << ": changes out of order";
        entry->second = seq;
      }
    }
    ASSERT_EQ(slots_of_key.size(), kKeys);
    std::set<int> writers_used;
    for (const auto& [key, slots_used] : slots_of_key) {
      EXPECT_EQ(slots_used.size(), 1u) << "key " << key << " went to several writers";
      writers_used.insert(*slots_used.begin());
    }
    EXPECT_EQ(writers_used.size(), 3u);  // 37 keys spread over all three writers
  }

  testing::TempDir state_;
  connectors::ConnectorRegistry registry_;
  std::shared_ptr<MemorySourceData> source_;
  std::shared_ptr<MemorySinkData> sink_;
};

TEST_F(ChangelogTest, EachKeysChangesReachOneWriterInOrder) {
  JobSummary summary = JobRunner(Job(), registry_).Run(nullptr);
  ASSERT_OK(summary.status);
  EXPECT_EQ(summary.readers, 4);
  EXPECT_EQ(summary.writers, 3);
  ExpectEveryChangeOnceInKeyOrder("changes");
  // Every split is committed as done, by every writer alike.
  EXPECT_EQ(sink_->committed_progress.size(), kRows / kSplitRows);
  for (const auto& [id, progress] : sink_->committed_progress)
    EXPECT_TRUE(progress.done) << id;
}

TEST_F(ChangelogTest, KindsSurviveTheTransformAndAStopAndResumeLoseAndRepeatNothing) {
  const std::string transform = "transform: {columns: {id: id, seq: \"seq::int64\", value: value}}\n";
  {
    testing::StopAtBatch stop(40);
    JobSummary summary = JobRunner(Job(transform), registry_).Run(nullptr);
    EXPECT_TRUE(summary.interrupted);
    EXPECT_EQ(summary.status.code(), StatusCode::kCancelled) << summary.status.ToString();
    EXPECT_LT(summary.metrics.rows_read, kRows);
    std::lock_guard<std::mutex> lock(sink_->mutex);
    EXPECT_EQ(sink_->committed["changes"].size(), summary.metrics.rows_read);
  }
  JobSummary summary = JobRunner(Job(transform), registry_).Run(nullptr);
  ASSERT_OK(summary.status);
  EXPECT_TRUE(summary.resumed);
  ExpectEveryChangeOnceInKeyOrder("changes");
}

TEST_F(ChangelogTest, AFailureBetweenTheWritersCommitsResumesFromTheOlderPositions) {
  // The first writer to commit checkpoint 2 (the 4th commit: three writers committed 1) fails
  // right after it (a transient error): the others may not have committed 2. The retry must
  // resume every split from where all writers committed (checkpoint 1, the state store's),
  // re-applying a suffix rather than losing the rows of the writers that did not commit 2.
  ASSERT_OK(failpoint::Arm("runtime.reader.batch=checkpoint@12;"
                           "runtime.reader.batch=checkpoint@30;"
                           "runtime.writer.after_commit=fail@4"));
  JobSummary summary =
      JobRunner(Job("retry: {max_attempts: 3, initial_backoff_secs: 0.01}\n", "0"), registry_)
          .Run(nullptr);
  ASSERT_OK(summary.status);
  EXPECT_EQ(summary.metrics.retries, 1u);
  EXPECT_TRUE(summary.resumed);
  std::lock_guard<std::mutex> lock(sink_->mutex);
  std::set<std::string> seqs;
  for (const Row& row : sink_->committed["changes"])
    seqs.insert(*row[1]);
  EXPECT_EQ(seqs.size(), kRows);  // no change lost (some applied twice: idempotent by key)
}

TEST_F(ChangelogTest, AChangelogStreamWithoutAKeyIsAConfigError) {
  source_->streams[0].schema = ChangeSchema(/*with_key=*/false);
  JobSummary summary = JobRunner(Job(), registry_).Run(nullptr);
  EXPECT_EQ(summary.status.code(), StatusCode::kInvalidConfig);
  EXPECT_EQ(summary.status.message(),
            "stream 'changes' is a changelog (its rows update and delete by key) but has no "
            "primary key: give the source table a primary key: the runtime routes each key's "
            "changes to one writer, in order");

  source_->streams[0].schema = ChangeSchema();
  JobSummary dropped =
      JobRunner(Job("transform: {columns: [seq, value]}\n"), registry_).Run(nullptr);
  EXPECT_EQ(dropped.status.code(), StatusCode::kInvalidConfig);
  EXPECT_THAT(dropped.status.message(),
              ::testing::HasSubstr("has no primary key after the transform: keep every key "
                                   "column in transform.columns"));
  EXPECT_EQ(sink_->commits.load(), 0);
}

}  // namespace
}  // namespace sluice::runtime
