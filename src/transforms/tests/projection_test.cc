#include "transforms/projection.h"

#include <gtest/gtest.h>

#include "testing/gtest_util.h"
#include "testing/memory_connector.h"

namespace sluice::transforms {
namespace {

class CountingHandler final : public connectors::BadRecordHandler {
 public:
  Status Handle(const connectors::BadRecord& record) override {
    records.push_back(record);
    return Status::OK();
  }
  std::vector<connectors::BadRecord> records;
};

config::TransformConfig Columns(const std::string& yaml) {
  Result<config::JobConfig> job = config::LoadJobText(
      "name: t\nsource: {type: x}\nsink: {type: y}\ntransform:\n  columns: " + yaml + "\n",
      "t.yaml", {});
  EXPECT_TRUE(job.ok()) << job.status().ToString();
  return *job->transform;
}

TEST(ProjectionTest, SkipsRowsThatFailToCastWhenThePolicySkips) {
  auto input = std::make_shared<Schema>(
      std::vector<Field>{{"id", DataType::Int64(), false}, {"v", DataType::String(), true}},
      std::vector<int>{0});
  ASSERT_OK_AND_ASSIGN(Projection projection,
                       Projection::Make(Columns("{v: \"v::int32\", key: id}"), input, "s"));
  EXPECT_EQ(projection.output_schema()->ToString(),
            "v int32, key int64 not null, primary key (key)");
  Batch in(input, 8);
  testing::AppendRow({"1", "10"}, &in);
  testing::AppendRow({"2", "x"}, &in);
  testing::AppendRow({"3", std::nullopt}, &in);
  testing::AppendRow({"4", "99999999999"}, &in);
  Batch out(projection.output_schema(), 8);
  CountingHandler handler;
  ASSERT_OK(projection.Apply(in, &out, &handler));
  ASSERT_EQ(out.num_rows(), 2u);
  EXPECT_EQ(testing::RowFromBatch(out, 0), (testing::Row{"10", "1"}));
  EXPECT_EQ(testing::RowFromBatch(out, 1), (testing::Row{std::nullopt, "3"}));
  ASSERT_EQ(handler.records.size(), 2u);
  EXPECT_EQ(handler.records[0].reason.message(),
            "stream 's' id=2 column 'v': cannot cast to int32: 'x' is not an integer");
  EXPECT_EQ(handler.records[1].reason.message(),
            "stream 's' id=4 column 'v': cannot cast to int32: '99999999999' is out of range for "
            "int32");
}

// Issue 10: a cast to decimal(12,2) rounded 1.005 to 1.01 and -0.125 to -0.13 without a word.
TEST(ProjectionTest, Issue10DecimalCastRefusesValuesItWouldRound) {
  auto input = std::make_shared<Schema>(
      std::vector<Field>{{"id", DataType::Int64(), false}, {"v", DataType::Decimal(10, 3), true}},
      std::vector<int>{0});
  ASSERT_OK_AND_ASSIGN(Projection projection,
                       Projection::Make(Columns("{id: id, v: \"v::decimal(12,2)\"}"), input, "s"));
  Batch in(input, 8);
  testing::AppendRow({"1", "1.005"}, &in);
  testing::AppendRow({"2", "-0.125"}, &in);
  testing::AppendRow({"3", "2.500"}, &in);
  Batch out(projection.output_schema(), 8);
  CountingHandler handler;
  ASSERT_OK(projection.Apply(in, &out, &handler));
  ASSERT_EQ(out.num_rows(), 1u);
  EXPECT_EQ(testing::RowFromBatch(out, 0), (testing::Row{"3", "2.50"}));
  ASSERT_EQ(handler.records.size(), 2u);
  EXPECT_EQ(handler.records[0].location, "stream 's' id=1 column 'v'");
  EXPECT_EQ(handler.records[0].reason.code(), StatusCode::kDataError);
  EXPECT_EQ(handler.records[0].reason.message(),
            "stream 's' id=1 column 'v': cannot cast to decimal(12,2): '1.005' would be rounded "
            "to fit decimal(12,2)");
  EXPECT_EQ(handler.records[1].reason.message(),
            "stream 's' id=2 column 'v': cannot cast to decimal(12,2): '-0.125' would be rounded "
            "to fit decimal(12,2)");
}

// Issue 10: the explicit way to make a MySQL TINYINT(1) a boolean: 0 and 1 pass, 2 is refused.
TEST(ProjectionTest, Issue10TinyintCastToBoolTakesZeroAndOneOnly) {
  auto input = std::make_shared<Schema>(
      std::vector<Field>{{"id", DataType::Int32(), false},
                         {"active", DataType::Int8(), true, "tinyint(1)"}},
      std::vector<int>{0});
  ASSERT_OK_AND_ASSIGN(
      Projection projection,
      Projection::Make(Columns("{id: id, active: \"active::bool\"}"), input, "flags"));
  EXPECT_EQ(projection.output_schema()->field(1).native_type, "");
  Batch in(input, 8);
  testing::AppendRow({"1", "1"}, &in);
  testing::AppendRow({"2", "0"}, &in);
  testing::AppendRow({"3", "2"}, &in);
  Batch out(projection.output_schema(), 8);
  CountingHandler handler;
  ASSERT_OK(projection.Apply(in, &out, &handler));
  ASSERT_EQ(out.num_rows(), 2u);
  EXPECT_EQ(testing::RowFromBatch(out, 0), (testing::Row{"1", "true"}));
  EXPECT_EQ(testing::RowFromBatch(out, 1), (testing::Row{"2", "false"}));
  ASSERT_EQ(handler.records.size(), 1u);
  EXPECT_EQ(handler.records[0].reason.message(),
            "stream 'flags' id=3 column 'active': cannot cast to bool: '2' is not a boolean");
}

TEST(ProjectionTest, DroppingAKeyColumnDropsThePrimaryKey) {
  auto input = std::make_shared<Schema>(
      std::vector<Field>{{"a", DataType::Int64(), false}, {"b", DataType::Int64(), false}},
      std::vector<int>{0, 1});
  ASSERT_OK_AND_ASSIGN(Projection projection, Projection::Make(Columns("[a]"), input, "s"));
  EXPECT_TRUE(projection.output_schema()->primary_key().empty());
}

TEST(ProjectionTest, CastsEveryTypeToStringAndBack) {
  auto input = std::make_shared<Schema>(std::vector<Field>{{"d", DataType::Date(), true},
                                                           {"t", DataType::TimestampTz(), true},
                                                           {"n", DataType::Decimal(20, 4), true},
                                                           {"f", DataType::Float64(), true}});
  ASSERT_OK_AND_ASSIGN(Projection to_text,
                       Projection::Make(Columns("{d: \"d::string\", t: \"t::string\", n: "
                                                "\"n::string\", f: \"f::string\"}"),
                                        input, "s"));
  Batch in(input, 2);
  testing::Row row{"2024-02-29", "2024-02-29 10:00:00.5+00:00", "-12.3400", "0.1"};
  testing::AppendRow(row, &in);
  Batch out(to_text.output_schema(), 2);
  CountingHandler handler;
  ASSERT_OK(to_text.Apply(in, &out, &handler));
  EXPECT_EQ(testing::RowFromBatch(out, 0), row);
}

TEST(ProjectionTest, ChangelogRowsKeepTheirKinds) {
  auto input = std::make_shared<Schema>(
      std::vector<Field>{{"id", DataType::Int64(), false}, {"v", DataType::String(), true}},
      std::vector<int>{0});
  ASSERT_OK_AND_ASSIGN(Projection projection,
                       Projection::Make(Columns("{key: id, n: \"v::int32\"}"), input, "s"));
  Batch in(input, 8);
  const RowKind kinds[] = {RowKind::kInsert, RowKind::kUpdateBefore, RowKind::kUpdateAfter,
                           RowKind::kDelete};
  const char* values[] = {"1", "2", "x", "4"};
  for (int i = 0; i < 4; ++i) {
    testing::AppendRow({std::to_string(i), values[i]}, &in);
    in.SetRowKind(static_cast<size_t>(i), kinds[i]);
  }
  Batch out(projection.output_schema(), 8);
  CountingHandler handler;
  ASSERT_OK(projection.Apply(in, &out, &handler));
  // The row that failed its cast (update_after "x") is skipped; the others keep their kinds.
  ASSERT_EQ(out.num_rows(), 3u);
  EXPECT_EQ(out.row_kind(0), RowKind::kInsert);
  EXPECT_EQ(out.row_kind(1), RowKind::kUpdateBefore);
  EXPECT_EQ(out.row_kind(2), RowKind::kDelete);
}

}  // namespace
}  // namespace sluice::transforms
