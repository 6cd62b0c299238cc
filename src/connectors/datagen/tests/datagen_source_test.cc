#include "connectors/datagen/datagen_source.h"

#include <gtest/gtest.h>

#include <set>

#include "testing/gtest_util.h"
#include "testing/memory_connector.h"

namespace sluice::connectors::datagen {
namespace {

std::vector<testing::Row> ReadAll(Source& source, const Split& split, const std::string& position,
                                  SplitReader** keep = nullptr) {
  auto reader = source.CreateReader(split, position);
  EXPECT_TRUE(reader.ok());
  std::vector<testing::Row> rows;
  Batch batch(source.streams()[0].schema, 1000);
  while (true) {
    batch.Clear();
    auto more = (*reader)->ReadBatch(&batch);
    EXPECT_TRUE(more.ok());
    if (!*more)
      break;
    for (size_t r = 0; r < batch.num_rows(); ++r)
      rows.push_back(testing::RowFromBatch(batch, r));
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
  std::vector<testing::Row> all;
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
  std::vector<testing::Row> tail = ReadAll(again, *first, R"({"row":6500})");
  ASSERT_EQ(tail.size(), 500u);
  EXPECT_EQ(tail.front(), all[6500]);
  EXPECT_EQ(tail.back(), all[6999]);
}

}  // namespace
}  // namespace sluice::connectors::datagen
