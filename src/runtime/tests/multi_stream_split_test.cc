// Splits that carry several streams (SplitReader::NextStream), as a database's change log
// carries every captured table in one ordered sequence: each run of one stream's rows reaches
// the sink as that stream's rows, through that stream's transform and (changelogs) that stream's
// key routing; a stop and a resume lose and repeat nothing.
#include <fmt/core.h>
#include <gtest/gtest.h>

#include <map>
#include <set>
#include <string>
#include <vector>

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

constexpr size_t kChanges = 3000;

// Three tables of different shapes; their changes interleave in runs of 1 to 9 rows.
std::vector<testing::MemoryStream> Tables(bool changelog) {
  auto keyed = [](std::vector<Field> fields) {
    return std::make_shared<Schema>(std::move(fields), std::vector<int>{0});
  };
  std::vector<testing::MemoryStream> tables = {
      {"orders", keyed({{"id", DataType::Int64(), false}, {"seq", DataType::Int64(), false}}), {}},
      {"customers",
       keyed({{"id", DataType::Int64(), false},
              {"seq", DataType::Int64(), false},
              {"name", DataType::String(), true}}),
       {}},
      {"notes", keyed({{"id", DataType::String(), false}, {"seq", DataType::Int64(), false}}),
       {}},
  };
  for (testing::MemoryStream& table : tables)
    table.changelog = changelog;
  return tables;
}

// The log: change i belongs to table (i / run) % 3 with runs of varying length; key i % 13.
std::vector<MemorySourceData::LogEntry> Log(bool changelog) {
  std::vector<MemorySourceData::LogEntry> log;
  int table = 0;
  size_t run_left = 1;
  static constexpr RowKind kCycle[] = {RowKind::kInsert, RowKind::kUpdateBefore,
                                       RowKind::kUpdateAfter, RowKind::kDelete};
  for (size_t i = 0; i < kChanges; ++i) {
    if (--run_left == 0) {
      table = static_cast<int>((i * 7) % 3);
      run_left = 1 + (i % 9);
    }
    const std::string key = std::to_string(i % 13);
    const std::string seq = std::to_string(i);
    Row row;
    if (table == 0)
      row = Row{key, seq};
    else if (table == 1)
      row = Row{key, seq, i % 5 == 0 ? std::nullopt : std::optional<std::string>("ñame " + seq)};
    else
      row = Row{"k" + key, seq};
    RowKind kind = changelog ? kCycle[(i / 13) % 4] : RowKind::kInsert;
    log.push_back({table, std::move(row), kind});
  }
  return log;
}

class MultiStreamSplitTest : public ::testing::TestWithParam<bool> {
 protected:
  void SetUp() override {
    source_ = std::make_shared<MemorySourceData>();
    sink_ = std::make_shared<MemorySinkData>();
    source_->streams = Tables(changelog());
    source_->log = Log(changelog());
    source_->rows_per_read = 50;
    sink_->max_writers = 3;
    testing::RegisterMemoryConnector(registry_, source_, sink_);
  }
  void TearDown() override { failpoint::DisarmAll(); }
  bool changelog() const { return GetParam(); }

  config::JobConfig Job(const std::string& extra = "") {
    std::string text = "name: log\nsource: {type: memory}\nsink: {type: memory}\nparallelism: 3\n"
                       "batch_rows: 64\nstate: " +
                       state_.path() + "\ncheckpoint: {interval_secs: 0.01}\n" + extra;
    Result<config::JobConfig> job = config::LoadJobText(text, "log.yaml", {});
    EXPECT_TRUE(job.ok()) << job.status().ToString();
    return *job;
  }

  // Every change committed once, under its own table, with its kind; per key in log order.
  void ExpectEveryChangeOnceUnderItsTable() {
    std::lock_guard<std::mutex> lock(sink_->mutex);
    size_t committed = 0;
    for (size_t t = 0; t < source_->streams.size(); ++t) {
      const std::string& name = source_->streams[t].name;
      const std::vector<Row>& rows = sink_->committed[name];
      const std::vector<RowKind>& kinds = sink_->committed_kinds[name];
      ASSERT_EQ(kinds.size(), rows.size());
      std::map<std::string, size_t> last_seq_of_key;
      std::vector<bool> seen(kChanges);
      for (size_t i = 0; i < rows.size(); ++i) {
        const size_t seq = std::stoul(*rows[i][1]);
        ASSERT_LT(seq, kChanges);
        const MemorySourceData::LogEntry& entry = source_->log[seq];
        EXPECT_EQ(entry.stream, static_cast<int>(t)) << "change " << seq << " under " << name;
        EXPECT_EQ(rows[i], entry.row);
        EXPECT_EQ(kinds[i], entry.kind) << "change " << seq;
        EXPECT_FALSE(seen[seq]) << "change " << seq << " committed twice";
        seen[seq] = true;
        auto [last, first] = last_seq_of_key.try_emplace(*rows[i][0], seq);
        if (!first) {
          EXPECT_LT(last->second, seq) << name << " key " << *rows[i][0] << " out of order";
          last->second = seq;
        }
      }
      committed += rows.size();
    }
    EXPECT_EQ(committed, kChanges);
  }

  testing::TempDir state_;
  connectors::ConnectorRegistry registry_;
  std::shared_ptr<MemorySourceData> source_;
  std::shared_ptr<MemorySinkData> sink_;
};

TEST_P(MultiStreamSplitTest, EachTablesRowsArriveUnderItsOwnStream) {
  JobSummary summary = JobRunner(Job(), registry_).Run(nullptr);
  ASSERT_OK(summary.status);
  EXPECT_EQ(summary.metrics.rows_read, kChanges);
  ExpectEveryChangeOnceUnderItsTable();
  ASSERT_EQ(sink_->committed_progress.size(), 1u);
  EXPECT_TRUE(sink_->committed_progress["log"].done);
  if (changelog()) {
    // Routed by each table's key: a key's changes of one table all from one writer.
    std::lock_guard<std::mutex> lock(sink_->mutex);
    std::set<int> writers_used;
    for (const auto& [name, slots] : sink_->committed_slots) {
      std::map<std::string, std::set<int>> slots_of_key;
      for (size_t i = 0; i < slots.size(); ++i)
        slots_of_key[*sink_->committed[name][i][0]].insert(slots[i]);
      for (const auto& [key, used] : slots_of_key) {
        EXPECT_EQ(used.size(), 1u) << name << " key " << key;
        writers_used.insert(*used.begin());
      }
    }
    EXPECT_EQ(writers_used.size(), 3u);
  }
}

// The transform selects (seq, id) from tables of three shapes: each table's batches go through
// the projection made for its own schema.
TEST_P(MultiStreamSplitTest, EachStreamGoesThroughItsOwnTransform) {
  JobSummary summary = JobRunner(Job("transform: {columns: [seq, id]}\n"), registry_).Run(nullptr);
  ASSERT_OK(summary.status);
  std::lock_guard<std::mutex> lock(sink_->mutex);
  size_t committed = 0;
  for (size_t t = 0; t < source_->streams.size(); ++t) {
    for (const Row& row : sink_->committed[source_->streams[t].name]) {
      ASSERT_EQ(row.size(), 2u);
      const MemorySourceData::LogEntry& entry = source_->log.at(std::stoul(*row[0]));
      EXPECT_EQ(entry.stream, static_cast<int>(t));
      EXPECT_EQ(row[1], entry.row[0]);
      ++committed;
    }
  }
  EXPECT_EQ(committed, kChanges);
}

TEST_P(MultiStreamSplitTest, AStopAndAResumeLoseAndRepeatNothing) {
  {
    testing::StopAtBatch stop(17);
    JobSummary summary = JobRunner(Job(), registry_).Run(nullptr);
    EXPECT_TRUE(summary.interrupted);
    EXPECT_EQ(summary.status.code(), StatusCode::kCancelled) << summary.status.ToString();
    EXPECT_LT(summary.metrics.rows_read, kChanges);
  }
  JobSummary summary = JobRunner(Job(), registry_).Run(nullptr);
  ASSERT_OK(summary.status);
  EXPECT_TRUE(summary.resumed);
  ExpectEveryChangeOnceUnderItsTable();
}

INSTANTIATE_TEST_SUITE_P(Runtime, MultiStreamSplitTest, ::testing::Values(false, true),
                         [](const ::testing::TestParamInfo<bool>& info) {
                           return info.param ? std::string("changelog") : std::string("inserts");
                         });

}  // namespace
}  // namespace sluice::runtime
