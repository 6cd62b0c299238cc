#include "connectors/sql/changelog_apply.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>
#include <random>
#include <string>

namespace sluice::connectors::sql {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

// Key (id int64, region string), plus a value column.
SchemaPtr Keyed() {
  return std::make_shared<Schema>(std::vector<Field>{{"id", DataType::Int64(), false},
                                                     {"region", DataType::String(), true},
                                                     {"v", DataType::String(), true}},
                                  std::vector<int>{0, 1});
}

void Add(Batch* batch, RowKind kind, int64_t id, const char* region, const char* value) {
  batch->column(0).Append<int64_t>(id);
  if (region == nullptr)
    batch->column(1).AppendNull();
  else
    batch->column(1).AppendView(region);
  if (value == nullptr)
    batch->column(2).AppendNull();
  else
    batch->column(2).AppendView(value);
  batch->SetRowKind(kind);
  batch->FinishRow();
}

TEST(ChangelogApplyTest, LastChangePerKeyWins) {
  Batch batch(Keyed(), 32);
  Add(&batch, RowKind::kInsert, 1, "eu", "a");            // 0: superseded by 3
  Add(&batch, RowKind::kInsert, 2, "eu", "b");            // 1: superseded by 2
  Add(&batch, RowKind::kDelete, 2, "eu", nullptr);        // 2: delete 2/eu
  Add(&batch, RowKind::kUpdateBefore, 1, "eu", "a");      // ignored: same key follows
  Add(&batch, RowKind::kUpdateAfter, 1, "eu", "a2");      // 4: upsert 1/eu
  Add(&batch, RowKind::kUpdateBefore, 3, "東京", "c");    // 5: key changes: delete 3/東京
  Add(&batch, RowKind::kUpdateAfter, 4, "東京", "c");     // 6: upsert 4/東京
  Add(&batch, RowKind::kDelete, 9, "nowhere", nullptr);   // 7: delete of a missing key
  Add(&batch, RowKind::kInsert, 5, nullptr, "null key");  // 8: NULL is a key value too
  Add(&batch, RowKind::kInsert, 5, "", "empty region");   // 9: "" differs from NULL
  Add(&batch, RowKind::kDelete, 6, "eu", nullptr);        // 10: superseded by 11
  Add(&batch, RowKind::kInsert, 6, "eu", "back");         // 11: upsert
  ApplyPlanner planner({0, 1});
  ApplyPlan plan;
  planner.Plan(batch, &plan);
  EXPECT_THAT(plan.upserts, ElementsAre(4, 6, 8, 9, 11));
  EXPECT_THAT(plan.deletes, ElementsAre(2, 5, 7));

  // The planner is reused: nothing of the first batch leaks into the second.
  Batch inserts(Keyed(), 4);
  Add(&inserts, RowKind::kInsert, 1, "eu", "x");
  Add(&inserts, RowKind::kInsert, 2, "eu", "y");
  planner.Plan(inserts, &plan);
  EXPECT_THAT(plan.upserts, ElementsAre(0, 1));
  EXPECT_THAT(plan.deletes, IsEmpty());

  // An update_before at the end of a batch deletes its key: its update_after cannot be seen.
  Batch tail(Keyed(), 4);
  Add(&tail, RowKind::kUpdateBefore, 1, "eu", "x");
  planner.Plan(tail, &plan);
  EXPECT_THAT(plan.upserts, IsEmpty());
  EXPECT_THAT(plan.deletes, ElementsAre(0));
}

// Random changelogs applied through plans batch by batch end as applying them row by row does.
TEST(ChangelogApplyTest, PlansMatchRowByRowApplication) {
  std::mt19937 random(7);
  for (int round = 0; round < 20; ++round) {
    std::map<int64_t, std::string> by_rows, by_plans;
    ApplyPlanner planner({0});
    ApplyPlan plan;
    for (int b = 0; b < 10; ++b) {
      Batch batch(Keyed(), 64);
      while (batch.num_rows() + 2 <= batch.capacity()) {
        int64_t id = static_cast<int64_t>(random() % 12);
        std::string value = std::to_string(random() % 1000);
        switch (random() % 4) {
          case 0:
            Add(&batch, RowKind::kInsert, id, "r", value.c_str());
            by_rows[id] = value;
            break;
          case 1:
            Add(&batch, RowKind::kDelete, id, "r", nullptr);
            by_rows.erase(id);
            break;
          case 2:
            Add(&batch, RowKind::kUpdateBefore, id, "r", "old");
            Add(&batch, RowKind::kUpdateAfter, id, "r", value.c_str());
            by_rows[id] = value;
            break;
          default: {
            int64_t to = static_cast<int64_t>(random() % 12);
            Add(&batch, RowKind::kUpdateBefore, id, "r", "old");
            Add(&batch, RowKind::kUpdateAfter, to, "r", value.c_str());
            if (to != id)
              by_rows.erase(id);
            by_rows[to] = value;
          }
        }
      }
      planner.Plan(batch, &plan);
      for (uint32_t row : plan.deletes)
        by_plans.erase(batch.column(0).Get<int64_t>(row));
      for (uint32_t row : plan.upserts)
        by_plans[batch.column(0).Get<int64_t>(row)] = std::string(batch.column(2).GetView(row));
    }
    EXPECT_EQ(by_plans, by_rows) << "round " << round;
  }
}

TEST(ChangelogApplyTest, CopyRowsKeepsKinds) {
  Batch batch(Keyed(), 8);
  Add(&batch, RowKind::kInsert, 1, "a", "x");
  Add(&batch, RowKind::kDelete, 2, nullptr, nullptr);
  Batch copy(Keyed(), 8);
  CopyRows(batch, {1, 0}, &copy);
  ASSERT_EQ(copy.num_rows(), 2u);
  EXPECT_EQ(copy.row_kind(0), RowKind::kDelete);
  EXPECT_EQ(copy.column(0).Get<int64_t>(1), 1);
}

TEST(ChangelogApplyTest, ErrorsSayWhatToDo) {
  Status refused = ChangelogNeedsApplyMode("postgres", "orders", "append");
  EXPECT_EQ(refused.code(), StatusCode::kInvalidConfig);
  EXPECT_EQ(refused.message(),
            "stream 'orders' is a changelog (inserts, updates and deletes), which mode: append of "
            "the postgres sink cannot write: set mode: apply to apply each change by primary key");
  Status no_key = ApplyNeedsPrimaryKey("sqlite", "table 't' of 'x.db'");
  EXPECT_EQ(no_key.code(), StatusCode::kInvalidConfig);
  EXPECT_NE(no_key.message().find("table 't' of 'x.db' has no primary key"), std::string::npos);
}

}  // namespace
}  // namespace sluice::connectors::sql
