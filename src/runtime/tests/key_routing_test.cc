#include "runtime/key_routing.h"

#include <gtest/gtest.h>

#include <map>

namespace sluice::runtime {
namespace {

SchemaPtr KeyValueSchema() {
  return std::make_shared<Schema>(
      std::vector<Field>{{"id", DataType::Int64(), true}, {"value", DataType::Int64(), false}},
      std::vector<int>{0});
}

TEST(KeyRoutingTest, OneKeysChangesGoToOneWriterInOrder) {
  SchemaPtr schema = KeyValueSchema();
  BatchPool pool(schema, 64);
  Batch batch(schema, 64);
  batch.set_stream(3);
  const RowKind kinds[] = {RowKind::kInsert, RowKind::kUpdateBefore, RowKind::kUpdateAfter,
                           RowKind::kDelete};
  for (int64_t row = 0; row < 40; ++row) {
    if (row % 10 == 9) {
      batch.column(0).AppendNull();
    } else {
      batch.column(0).Append<int64_t>(row % 7);
    }
    batch.column(1).Append<int64_t>(row);
    batch.SetRowKind(kinds[row % 4]);
    batch.FinishRow();
  }
  const std::vector<int> key = {0};
  std::vector<std::unique_ptr<Batch>> parts = RouteByKey(batch, key, 3, pool);
  ASSERT_EQ(parts.size(), 3u);

  std::map<std::string, size_t> writer_of_key;
  size_t rows = 0;
  for (size_t w = 0; w < parts.size(); ++w) {
    if (!parts[w])
      continue;
    EXPECT_EQ(parts[w]->stream(), 3);
    int64_t last = -1;
    for (size_t row = 0; row < parts[w]->num_rows(); ++row) {
      const Column& ids = parts[w]->column(0);
      std::string id = ids.IsNull(row) ? "NULL" : std::to_string(ids.Get<int64_t>(row));
      auto [it, inserted] = writer_of_key.emplace(id, w);
      EXPECT_EQ(it->second, w) << "key " << id << " went to two writers";
      int64_t original = parts[w]->column(1).Get<int64_t>(row);
      EXPECT_GT(original, last) << "rows out of order";
      last = original;
      EXPECT_EQ(parts[w]->row_kind(row), kinds[original % 4]);
      ++rows;
    }
  }
  EXPECT_EQ(rows, batch.num_rows());
  EXPECT_EQ(writer_of_key.size(), 8u);  // ids 0..6 and NULL
}

}  // namespace
}  // namespace sluice::runtime
