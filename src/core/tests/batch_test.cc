#include "core/batch.h"

#include <gtest/gtest.h>

namespace sluice {
namespace {

SchemaPtr TwoColumns() {
  return std::make_shared<Schema>(
      std::vector<Field>{{"id", DataType::Int64(), false}, {"name", DataType::String(), true}},
      std::vector<int>{0});
}

TEST(BatchTest, AppendsRowsWithNulls) {
  Batch batch(TwoColumns(), 8);
  for (int64_t i = 0; i < 8; ++i) {
    batch.column(0).Append<int64_t>(i);
    if (i % 3 == 0) {
      batch.column(1).AppendNull();
    } else {
      batch.column(1).AppendView("name-" + std::to_string(i));
    }
    batch.FinishRow();
  }
  EXPECT_TRUE(batch.full());
  ASSERT_EQ(batch.num_rows(), 8u);
  for (size_t i = 0; i < 8; ++i) {
    EXPECT_EQ(batch.column(0).Get<int64_t>(i), static_cast<int64_t>(i));
    EXPECT_EQ(batch.column(1).IsNull(i), i % 3 == 0);
    if (i % 3 != 0)
      EXPECT_EQ(batch.column(1).GetView(i), "name-" + std::to_string(i));
  }
}

TEST(BatchTest, DiscardPartialRowKeepsEarlierRows) {
  Batch batch(TwoColumns(), 4);
  batch.column(0).Append<int64_t>(1);
  batch.column(1).AppendView("kept");
  batch.FinishRow();
  batch.column(0).Append<int64_t>(2);  // the second column fails to parse
  batch.DiscardPartialRow();
  batch.column(0).Append<int64_t>(3);
  batch.column(1).AppendNull();
  batch.FinishRow();
  ASSERT_EQ(batch.num_rows(), 2u);
  EXPECT_EQ(batch.column(0).Get<int64_t>(1), 3);
  EXPECT_TRUE(batch.column(1).IsNull(1));
  EXPECT_EQ(batch.column(1).GetView(0), "kept");
}

TEST(BatchTest, ClearReusesBuffersAndValidityIsRewritten) {
  Batch batch(TwoColumns(), 4);
  for (int round = 0; round < 3; ++round) {
    batch.Clear();
    for (int i = 0; i < 4; ++i) {
      batch.column(0).Append<int64_t>(round * 10 + i);
      if ((i + round) % 2 == 0) {
        batch.column(1).AppendNull();
      } else {
        batch.column(1).AppendView(std::string(1000, static_cast<char>('a' + i)));
      }
      batch.FinishRow();
    }
    for (int i = 0; i < 4; ++i) {
      EXPECT_EQ(batch.column(1).IsNull(i), (i + round) % 2 == 0) << "round " << round;
    }
  }
  EXPECT_GE(batch.ByteSize(), 2000u);
}

TEST(BatchTest, HugeValueGetsItsOwnArenaBlock) {
  Batch batch(TwoColumns(), 2);
  std::string huge(16 << 20, 'x');
  huge.back() = 'y';
  batch.column(0).Append<int64_t>(1);
  batch.column(1).AppendView(huge);
  batch.FinishRow();
  batch.column(0).Append<int64_t>(2);
  batch.column(1).AppendView("");
  batch.FinishRow();
  EXPECT_EQ(batch.column(1).GetView(0), huge);
  EXPECT_EQ(batch.column(1).GetView(1), "");
  EXPECT_FALSE(batch.column(1).IsNull(1));
  EXPECT_GE(batch.arena_bytes(), huge.size());
}

TEST(BatchTest, ManyValuesAcrossBlocksStayValid) {
  auto schema = std::make_shared<Schema>(std::vector<Field>{{"s", DataType::String(), true}});
  Batch batch(schema, 4096);
  for (int i = 0; i < 4096; ++i) {
    batch.column(0).AppendView(std::string(100, static_cast<char>('A' + i % 26)) +
                               std::to_string(i));
    batch.FinishRow();
  }
  for (int i = 0; i < 4096; ++i) {
    EXPECT_EQ(batch.column(0).GetView(i),
              std::string(100, static_cast<char>('A' + i % 26)) + std::to_string(i));
  }
}

}  // namespace
}  // namespace sluice
