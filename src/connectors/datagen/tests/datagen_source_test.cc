#include "connectors/datagen/datagen_source.h"

#include <gtest/gtest.h>

#include <set>

#include "connectors/datagen/tests/changelog_reference.h"
#include "testing/gtest_util.h"
#include "testing/memory_connector.h"

namespace sluice::connectors::datagen {
namespace {

std::vector<sluice::testing::Row> ReadAll(Source& source, const Split& split, const std::string& position,
                                  SplitReader** keep = nullptr) {
  auto reader = source.CreateReader(split, position);
  EXPECT_TRUE(reader.ok());
  std::vector<sluice::testing::Row> rows;
  Batch batch(source.streams()[0].schema, 1000);
  while (true) {
    batch.Clear();
    auto more = (*reader)->ReadBatch(&batch);
    EXPECT_TRUE(more.ok());
    if (!*more)
      break;
    for (size_t r = 0; r < batch.num_rows(); ++r)
      rows.push_back(sluice::testing::RowFromBatch(batch, r));
  }
  return rows;
}

TEST(DatagenSourceTest, SplitsCoverEveryRowOnceAndAreDeterministic) {
  DatagenOptions options;
  options.rows = 25000;
  options.split_rows = 7000;
  options.columns = {{"id", DataType::Int64(), false},      {"s", DataType::String(), true},
                     {"d", DataType::Decimal(40, 3), true}, {"b", DataType::Bytes(), true},
                     {"t", DataType::TimestampTz(), true},  {"j", DataType::Json(), true}};
  DatagenSource source(options);
  std::atomic<bool> cancelled{false};
  FailOnBadRecord handler;
  JobContext context;
  context.cancelled = &cancelled;
  context.bad_records = &handler;
  ASSERT_OK(source.Open(context));
  EXPECT_EQ(source.streams()[0].schema->primary_key(), std::vector<int>{0});
  ASSERT_OK_AND_ASSIGN(auto enumerator, source.CreateEnumerator());
  EXPECT_EQ(enumerator->pending(), 4u);
  std::set<std::string> ids;
  std::vector<sluice::testing::Row> all;
  while (true) {
    ASSERT_OK_AND_ASSIGN(std::optional<Split> split, enumerator->Next());
    if (!split)
      break;
    for (auto& row : ReadAll(source, *split, "")) {
      EXPECT_TRUE(ids.insert(*row[0]).second);
      all.push_back(row);
    }
  }
  EXPECT_EQ(ids.size(), 25000u);
  // A second source with the same seed resumes mid-split with identical rows.
  DatagenSource again(options);
  ASSERT_OK(again.Open(context));
  ASSERT_OK_AND_ASSIGN(auto enumerator2, again.CreateEnumerator());
  ASSERT_OK_AND_ASSIGN(std::optional<Split> first, enumerator2->Next());
  std::vector<sluice::testing::Row> tail = ReadAll(again, *first, R"({"row":6500})");
  ASSERT_EQ(tail.size(), 500u);
  EXPECT_EQ(tail.front(), all[6500]);
  EXPECT_EQ(tail.back(), all[6999]);
}


DatagenOptions ChangelogOptions() {
  DatagenOptions options;
  options.changelog = true;
  options.rows = 6000;
  options.split_rows = 2000;
  options.keys = 300;
  options.null_fraction = 0.2;
  options.columns = {{"id", DataType::Int64(), false},
                     {"name", DataType::String(), true},
                     {"amount", DataType::Decimal(12, 2), true}};
  return options;
}

TEST(DatagenChangelogTest, EveryKindOfChangeOverDisjointKeysPerSplit) {
  DatagenOptions options = ChangelogOptions();
  DatagenSource source(options);
  std::atomic<bool> cancelled{false};
  FailOnBadRecord handler;
  JobContext context;
  context.cancelled = &cancelled;
  context.bad_records = &handler;
  ASSERT_OK(source.Open(context));
  EXPECT_TRUE(source.streams()[0].changelog);
  EXPECT_EQ(source.streams()[0].schema->primary_key(), std::vector<int>{0});

  testing::Changelog log = testing::ReadChangelog(options, 7);  // odd: pairs meet batch ends
  // Every event is one row, updates two.
  EXPECT_GT(log.changes.size(), options.rows);
  std::map<std::string, sluice::testing::Row> state = testing::FinalState(&log);
  EXPECT_GT(log.inserts, 500);
  EXPECT_GT(log.updates, 1000);
  EXPECT_GT(log.key_changes, 50);
  EXPECT_GT(log.deletes - log.deletes_of_missing_keys, 200);
  EXPECT_GT(log.deletes_of_missing_keys, 100);
  EXPECT_GT(state.size(), 100u);
  bool null_seen = false;
  for (const testing::ChangeRow& change : log.changes)
    null_seen = null_seen || !change.row[1].has_value();
  EXPECT_TRUE(null_seen);

  // Each split owns its keys (moved rows land on ids unique to their event).
  ASSERT_OK_AND_ASSIGN(auto enumerator, source.CreateEnumerator());
  std::map<std::string, std::string> split_of_key;
  while (true) {
    ASSERT_OK_AND_ASSIGN(std::optional<Split> split, enumerator->Next());
    if (!split)
      break;
    for (const auto& row : ReadAll(source, *split, "")) {
      auto [it, inserted] = split_of_key.emplace(*row[0], split->id);
      EXPECT_EQ(it->second, split->id) << "key " << *row[0] << " in two splits";
    }
  }
  // A changelog split is never cut: a cut would share its keys with another reader.
  ASSERT_OK_AND_ASSIGN(auto again, source.CreateEnumerator());
  ASSERT_OK_AND_ASSIGN(std::optional<Split> first, again->Next());
  ASSERT_OK_AND_ASSIGN(auto reader, source.CreateReader(*first, ""));
  EXPECT_FALSE(reader->SplitRemainder().has_value());
}

TEST(DatagenChangelogTest, ResumedSplitContinuesWithTheSameChanges) {
  DatagenOptions options = ChangelogOptions();
  DatagenSource source(options);
  std::atomic<bool> cancelled{false};
  FailOnBadRecord handler;
  JobContext context;
  context.cancelled = &cancelled;
  context.bad_records = &handler;
  ASSERT_OK(source.Open(context));
  ASSERT_OK_AND_ASSIGN(auto enumerator, source.CreateEnumerator());
  ASSERT_OK_AND_ASSIGN(std::optional<Split> split, enumerator->Next());
  // Read part of the split, then reopen at the reader's position: the rest must match.
  ASSERT_OK_AND_ASSIGN(auto reader, source.CreateReader(*split, ""));
  Batch batch(source.streams()[0].schema, 101);
  std::vector<std::pair<RowKind, sluice::testing::Row>> whole, resumed;
  std::string position;
  for (int i = 0; i < 3; ++i) {
    batch.Clear();
    ASSERT_OK_AND_ASSIGN(bool more, reader->ReadBatch(&batch));
    ASSERT_TRUE(more);
    EXPECT_LE(batch.num_rows(), 101u);
    for (size_t r = 0; r < batch.num_rows(); ++r)
      whole.emplace_back(batch.row_kind(r), sluice::testing::RowFromBatch(batch, r));
  }
  position = reader->Position();
  size_t head = whole.size();
  ASSERT_OK_AND_ASSIGN(auto second, source.CreateReader(*split, position));
  for (auto* target : {&whole, &resumed}) {
    SplitReader* from = target == &whole ? reader.get() : second.get();
    while (true) {
      batch.Clear();
      ASSERT_OK_AND_ASSIGN(bool more, from->ReadBatch(&batch));
      if (!more)
        break;
      for (size_t r = 0; r < batch.num_rows(); ++r)
        target->emplace_back(batch.row_kind(r), sluice::testing::RowFromBatch(batch, r));
    }
  }
  ASSERT_EQ(whole.size() - head, resumed.size());
  EXPECT_TRUE(std::equal(resumed.begin(), resumed.end(), whole.begin() + head));
}

TEST(DatagenChangelogTest, NeedsAnIdAndAKeyPerSplit) {
  DatagenOptions options = ChangelogOptions();
  options.keys = 2;  // three splits
  JobContext context;
  Status status = DatagenSource(options).Open(context);
  EXPECT_EQ(status.code(), StatusCode::kInvalidConfig);
  EXPECT_NE(status.message().find("'keys' (2) must be at least the number of splits"),
            std::string::npos)
      << status.message();
  options = ChangelogOptions();
  options.columns = {{"name", DataType::String(), true}};
  status = DatagenSource(options).Open(context);
  EXPECT_EQ(status.code(), StatusCode::kInvalidConfig);
  EXPECT_NE(status.message().find("integer column named 'id'"), std::string::npos);
}

}  // namespace
}  // namespace sluice::connectors::datagen
