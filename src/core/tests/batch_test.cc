#include "core/batch.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <new>

// Counts heap allocations, to show that inserts-only batches never allocate row kinds.
namespace {
std::atomic<int64_t> allocations{0};
}  // namespace

void* operator new(size_t size) {
  allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(size == 0 ? 1 : size))
    return p;
  throw std::bad_alloc();
}
void* operator new[](size_t size) { return operator new(size); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, size_t) noexcept { std::free(p); }
void operator delete[](void* p, size_t) noexcept { std::free(p); }

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


SchemaPtr IntColumns() {
  return std::make_shared<Schema>(
      std::vector<Field>{{"id", DataType::Int64(), false}, {"n", DataType::Int32(), true}},
      std::vector<int>{0});
}

void AppendIntRow(Batch* batch, int64_t id) {
  batch->column(0).Append<int64_t>(id);
  batch->column(1).Append<int32_t>(static_cast<int32_t>(id * 2));
}

TEST(BatchRowKindTest, InsertsOnlyBatchesNeverAllocateKinds) {
  Batch batch(IntColumns(), 64);
  int64_t before = allocations.load();
  for (int round = 0; round < 3; ++round) {
    batch.Clear();
    for (int64_t i = 0; i < 64; ++i) {
      AppendIntRow(&batch, i);
      if (i % 2 == 0)
        batch.SetRowKind(RowKind::kInsert);  // explicit inserts cost nothing either
      batch.FinishRow();
    }
    EXPECT_FALSE(batch.has_row_kinds());
  }
  EXPECT_EQ(allocations.load() - before, 0);
  for (size_t row = 0; row < batch.num_rows(); ++row)
    EXPECT_EQ(batch.row_kind(row), RowKind::kInsert);
  // The first other kind allocates the array once; reuse after Clear keeps it.
  batch.Clear();
  AppendIntRow(&batch, 1);
  batch.SetRowKind(RowKind::kDelete);
  batch.FinishRow();
  EXPECT_EQ(allocations.load() - before, 1);
  batch.Clear();
  AppendIntRow(&batch, 1);
  batch.SetRowKind(RowKind::kUpdateAfter);
  batch.FinishRow();
  EXPECT_EQ(allocations.load() - before, 1);
}

TEST(BatchRowKindTest, KindsAreResetWhenTheBatchIsReused) {
  Batch batch(IntColumns(), 8);
  const RowKind kinds[] = {RowKind::kDelete, RowKind::kUpdateBefore, RowKind::kUpdateAfter,
                           RowKind::kInsert, RowKind::kDelete};
  for (size_t i = 0; i < 5; ++i) {
    AppendIntRow(&batch, static_cast<int64_t>(i));
    batch.SetRowKind(kinds[i]);
    batch.FinishRow();
  }
  ASSERT_TRUE(batch.has_row_kinds());
  for (size_t i = 0; i < 5; ++i)
    EXPECT_EQ(batch.row_kind(i), kinds[i]) << i;
  // Reused for inserts only: no stale kind of the earlier rows shows through.
  batch.Clear();
  EXPECT_FALSE(batch.has_row_kinds());
  for (int64_t i = 0; i < 5; ++i) {
    AppendIntRow(&batch, i);
    batch.FinishRow();
  }
  for (size_t i = 0; i < 5; ++i)
    EXPECT_EQ(batch.row_kind(i), RowKind::kInsert) << i;
  // A kind set on a later row only: the earlier rows (written before the array came back into
  // use) are inserts, not what the first round left there.
  AppendIntRow(&batch, 5);
  batch.SetRowKind(RowKind::kUpdateBefore);
  batch.FinishRow();
  AppendIntRow(&batch, 6);
  batch.FinishRow();
  EXPECT_TRUE(batch.has_row_kinds());
  for (size_t i = 0; i < 5; ++i)
    EXPECT_EQ(batch.row_kind(i), RowKind::kInsert) << i;
  EXPECT_EQ(batch.row_kind(5), RowKind::kUpdateBefore);
  EXPECT_EQ(batch.row_kind(6), RowKind::kInsert);
}

TEST(BatchRowKindTest, DiscardPartialRowResetsTheKind) {
  Batch batch(IntColumns(), 4);
  AppendIntRow(&batch, 1);
  batch.SetRowKind(RowKind::kDelete);
  batch.FinishRow();
  batch.column(0).Append<int64_t>(2);
  batch.SetRowKind(RowKind::kUpdateAfter);  // the row fails half-way
  batch.DiscardPartialRow();
  AppendIntRow(&batch, 3);  // built without a kind: an insert
  batch.FinishRow();
  ASSERT_EQ(batch.num_rows(), 2u);
  EXPECT_EQ(batch.row_kind(0), RowKind::kDelete);
  EXPECT_EQ(batch.row_kind(1), RowKind::kInsert);
  EXPECT_EQ(batch.column(0).Get<int64_t>(1), 3);
}

TEST(BatchRowKindTest, FullBatchKeepsEveryKind) {
  constexpr size_t kCapacity = 130;  // not a multiple of 64 nor of 8
  Batch batch(IntColumns(), kCapacity);
  for (size_t i = 0; i < kCapacity; ++i) {
    AppendIntRow(&batch, static_cast<int64_t>(i));
    batch.SetRowKind(static_cast<RowKind>(i % 4));
    batch.FinishRow();
  }
  ASSERT_TRUE(batch.full());
  batch.DiscardPartialRow();  // nothing partial; must not touch a slot past the end
  ASSERT_EQ(batch.num_rows(), kCapacity);
  for (size_t i = 0; i < kCapacity; ++i)
    EXPECT_EQ(batch.row_kind(i), static_cast<RowKind>(i % 4)) << i;
  // SetRowKind by index rewrites an earlier row.
  batch.SetRowKind(kCapacity - 1, RowKind::kInsert);
  EXPECT_EQ(batch.row_kind(kCapacity - 1), RowKind::kInsert);
  EXPECT_EQ(RowKindName(batch.row_kind(2)), "update_after");
}

TEST(BatchRowKindTest, AppendRowCopiesValuesAndKind) {
  Batch from(TwoColumns(), 4);
  from.column(0).Append<int64_t>(7);
  from.column(1).AppendView("Zürich 東京 😀");
  from.SetRowKind(RowKind::kUpdateAfter);
  from.FinishRow();
  from.column(0).Append<int64_t>(8);
  from.column(1).AppendNull();
  from.SetRowKind(RowKind::kDelete);
  from.FinishRow();
  Batch to(TwoColumns(), 4);
  to.AppendRow(from, 1);
  to.AppendRow(from, 0);
  from.Clear();  // the copies own their bytes
  from.column(0).Append<int64_t>(0);
  from.column(1).AppendView("overwritten");
  from.FinishRow();
  ASSERT_EQ(to.num_rows(), 2u);
  EXPECT_EQ(to.row_kind(0), RowKind::kDelete);
  EXPECT_TRUE(to.column(1).IsNull(0));
  EXPECT_EQ(to.row_kind(1), RowKind::kUpdateAfter);
  EXPECT_EQ(to.column(1).GetView(1), "Zürich 東京 😀");
  EXPECT_TRUE(to.column(0).ValueEquals(1, to.column(0), 1));
  EXPECT_FALSE(to.column(0).ValueEquals(0, to.column(0), 1));
  EXPECT_FALSE(to.column(1).ValueEquals(0, to.column(1), 1));  // NULL vs a value
  EXPECT_TRUE(to.column(1).ValueEquals(0, to.column(1), 0));   // NULL vs NULL
  // Inserts copied into a batch do not start its kinds.
  Batch inserts(TwoColumns(), 4);
  inserts.AppendRow(from, 0);
  EXPECT_FALSE(inserts.has_row_kinds());
}

}  // namespace
}  // namespace sluice
