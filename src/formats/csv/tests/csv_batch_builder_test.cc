#include "formats/csv/csv_batch_builder.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "io/memory_stream.h"
#include "testing/gtest_util.h"
#include "testing/memory_connector.h"
#include "testing/random_rows.h"

namespace sluice::formats {
namespace {

using ::testing::ElementsAre;
using testing::Row;

SchemaPtr MakeSchema(std::vector<Field> fields) {
  return std::make_shared<Schema>(std::move(fields));
}

std::vector<int> Identity(size_t n) {
  std::vector<int> mapping(n);
  for (size_t i = 0; i < n; ++i)
    mapping[i] = static_cast<int>(i);
  return mapping;
}

struct Converted {
  std::vector<Row> rows;
  std::vector<std::string> errors;
};

// Reads `text` (no header) into a batch of `schema`, collecting errors per record.
Converted Convert(const std::string& text, const SchemaPtr& schema, CsvDialect dialect = {},
                  std::vector<int> mapping = {}, const char* file = "orders.csv") {
  if (mapping.empty())
    mapping = Identity(schema->num_fields());
  io::StringInputStream input(text);
  CsvReadOptions options;
  options.dialect = dialect;
  CsvReader reader(&input, file, options);
  CsvBatchBuilder builder(schema, std::move(mapping), dialect);
  Batch batch(schema, 1000);
  Converted out;
  for (;;) {
    Result<bool> next = reader.Next();
    if (!next.ok()) {
      out.errors.push_back(next.status().message());
      continue;
    }
    if (!*next)
      break;
    if (builder.Skips(reader.record()))
      continue;
    Status status = builder.Append(reader.record(), &batch);
    if (!status.ok()) {
      EXPECT_EQ(status.code(), StatusCode::kDataError);
      out.errors.push_back(status.message());
    }
    // A bad record never leaves values behind.
    for (size_t c = 0; c < batch.num_columns(); ++c) {
      EXPECT_EQ(batch.column(c).size(), batch.num_rows());
    }
  }
  out.rows = testing::RowsOf(batch);
  return out;
}

TEST(CsvBatchBuilderTest, NullsAndEmptyStringsByDefault) {
  SchemaPtr schema =
      MakeSchema({{"s", DataType::String()}, {"n", DataType::Int64()}, {"d", DataType::Date()}});
  Converted out = Convert(",,\n\"\",\"\",\"\"\n\\N,5,2024-02-29\n", schema);
  EXPECT_THAT(out.errors, ElementsAre());
  EXPECT_THAT(out.rows,
              ElementsAre(Row{std::nullopt, std::nullopt, std::nullopt},
                          Row{"", std::nullopt, std::nullopt}, Row{"\\N", "5", "2024-02-29"}));
}

TEST(CsvBatchBuilderTest, NullMarker) {
  SchemaPtr schema = MakeSchema({{"s", DataType::String()}, {"n", DataType::Int32()}});
  CsvDialect dialect;
  dialect.null_marker = "\\N";
  Converted out = Convert("\\N,\\N\n,\n\"\\N\",7\n\"\",\"\"\n", schema, dialect);
  EXPECT_THAT(out.errors, ElementsAre());
  EXPECT_THAT(out.rows, ElementsAre(Row{std::nullopt, std::nullopt}, Row{"", std::nullopt},
                                    Row{"\\N", "7"}, Row{"", std::nullopt}));
}

TEST(CsvBatchBuilderTest, ErrorsNameFileLineColumnAndLeaveNoPartialRow) {
  SchemaPtr schema = MakeSchema({{"id", DataType::Int64()},
                                 {"name", DataType::String()},
                                 {"amount", DataType::Int32()},
                                 {"day", DataType::Date()}});
  std::string text =
      "1,a,10,2024-01-01\n"
      "2,b,11,2024-01-02\n"
      "3,bcd,abc,2024-01-03\n"  // line 3: amount starts at column 7
      "4,d,12,2024-01-04\n"
      "5,abcdefg,\"\xff\",2024-01-05\n"  // line 5: not UTF-8, but amount is an integer
      "6,\"x\ny\",13,2024-13-01\n"       // lines 6-7: a bad date on the second line
      "7,ok,99999999999,2024-01-07\n"    // out of range for int32
      "8,x,1,2024-01-08\n"
      "9,short,1\n"  // line 9: ragged
      "10,\"name \xc3\x28\",1,2024-01-10\n";
  Converted out = Convert(text, schema);
  EXPECT_THAT(
      out.errors,
      ElementsAre("orders.csv:3:7: 'abc' is not an integer (column 'amount')",
                  "orders.csv:5:11: '\xff' is not an integer (column 'amount')",
                  "orders.csv:7:7: '2024-13-01' is not a date (expected YYYY-MM-DD) (column 'day')",
                  "orders.csv:8:6: '99999999999' is out of range for int32 (column 'amount')",
                  "orders.csv:10:1: expected 4 fields, got 3",
                  "orders.csv:11:4: invalid UTF-8 in column 'name'"));
  ASSERT_EQ(out.rows.size(), 4u);
  EXPECT_EQ(out.rows[3], (Row{"8", "x", "1", "2024-01-08"}));
}

TEST(CsvBatchBuilderTest, UnicodeAndJsonColumns) {
  SchemaPtr schema = MakeSchema({{"name", DataType::String()}, {"doc", DataType::Json()}});
  Converted out = Convert(
      "héllo 😀 𝄞,\"{\"\"a\"\": [1, 2]}\"\n"
      "x,\"{\"\"a\"\": tru}\"\n"
      "y,12345678901234567890123\n"
      "z,\"[1,,2]\"\n",
      schema);
  EXPECT_THAT(out.errors,
              ElementsAre("orders.csv:2:3: invalid JSON: invalid literal 'tru' (column 'doc')",
                          ::testing::StartsWith("orders.csv:4:3: invalid JSON: ")));
  EXPECT_THAT(out.rows, ElementsAre(Row{"héllo 😀 𝄞", "{\"a\": [1, 2]}"},
                                    Row{"y", "12345678901234567890123"}));
}

TEST(CsvBatchBuilderTest, MappingDropsFieldsAndNullsUnfilledColumns) {
  SchemaPtr schema =
      MakeSchema({{"a", DataType::String()}, {"b", DataType::Int64()}, {"c", DataType::String()}});
  Converted out = Convert("x,ignored,2\n", schema, {}, {0, -1, 1});
  EXPECT_THAT(out.errors, ElementsAre());
  EXPECT_THAT(out.rows, ElementsAre(Row{"x", "2", std::nullopt}));
}

TEST(CsvBatchBuilderTest, BlankLinesAreSkippedUnlessThereIsOneColumn) {
  SchemaPtr two = MakeSchema({{"a", DataType::String()}, {"b", DataType::String()}});
  EXPECT_THAT(Convert("1,2\n\n3,4\n\n", two).rows, ElementsAre(Row{"1", "2"}, Row{"3", "4"}));
  SchemaPtr one = MakeSchema({{"a", DataType::String()}});
  EXPECT_THAT(Convert("1\n\n\"\"\n", one).rows, ElementsAre(Row{"1"}, Row{std::nullopt}, Row{""}));
}

TEST(CsvBatchBuilderTest, EveryTypeParsesItsCanonicalText) {
  SchemaPtr schema = testing::AllTypesSchema();
  std::vector<Row> rows = testing::RandomRows(*schema, 300, 11);
  // Canonical text via a batch: what the columns hold, spelled as core spells it.
  std::vector<Row> expected = testing::RowsOf(*testing::MakeBatch(schema, rows));
  std::string text;
  for (const Row& row : expected) {
    for (size_t c = 0; c < row.size(); ++c) {
      if (c > 0)
        text += ',';
      if (!row[c])
        continue;
      text += '"';
      for (char ch : *row[c]) {
        text += ch;
        if (ch == '"')
          text += '"';
      }
      text += '"';
    }
    text += '\n';
  }
  Converted out = Convert(text, schema);
  EXPECT_THAT(out.errors, ElementsAre());
  ASSERT_EQ(out.rows.size(), expected.size());
  for (size_t r = 0; r < expected.size(); ++r) {
    for (size_t c = 0; c < schema->num_fields(); ++c) {
      // A quoted empty value is NULL in any column but a string one.
      std::optional<std::string> want = expected[r][c];
      if (want && want->empty() && schema->field(c).type.id != TypeId::kString) {
        want = std::nullopt;
      }
      EXPECT_EQ(out.rows[r][c], want) << "row " << r << " column " << schema->field(c).name;
    }
  }
}

}  // namespace
}  // namespace sluice::formats
