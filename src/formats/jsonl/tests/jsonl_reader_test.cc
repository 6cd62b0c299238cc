#include "formats/jsonl/jsonl_reader.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/decimal.h"
#include "core/value_text.h"
#include "formats/jsonl/jsonl_batch_builder.h"
#include "formats/jsonl/jsonl_schema.h"
#include "io/memory_stream.h"
#include "testing/gtest_util.h"
#include "testing/random_rows.h"

namespace sluice::formats {
namespace {

using ::testing::ElementsAre;
using testing::Row;

std::vector<std::string> Lines(const std::string& text, size_t buffer = 1 << 20,
                               size_t max_read = 0) {
  io::StringInputStream input(text, max_read);
  JsonlReadOptions options;
  options.buffer_bytes = buffer;
  JsonlReader reader(&input, "f.jsonl", options);
  std::vector<std::string> lines;
  JsonlLine line;
  for (;;) {
    Result<bool> more = reader.Next(&line);
    EXPECT_OK(more.status());
    if (!more.ok() || !*more)
      break;
    lines.push_back(std::to_string(line.line) + ":" + std::string(line.text));
  }
  return lines;
}

TEST(JsonlReaderTest, SplitsLinesSkippingBlanksAndCarriageReturns) {
  for (size_t buffer : {size_t{1}, size_t{3}, size_t{1 << 20}}) {
    EXPECT_THAT(Lines("{\"a\":1}\r\n\n  \t\n{\"a\":2}\n{\"a\":3}", buffer, 2),
                ElementsAre("1:{\"a\":1}", "4:{\"a\":2}", "5:{\"a\":3}"));
  }
  EXPECT_THAT(Lines(""), ElementsAre());
  EXPECT_THAT(Lines("\n\n"), ElementsAre());
}

TEST(JsonlReaderTest, ResumesFromASavedPosition) {
  std::string text = "{\"a\":1}\n\n{\"a\":2}\r\n{\"a\":3}\n{\"a\":4}";
  io::StringInputStream input(text);
  JsonlReader reader(&input, "f.jsonl");
  JsonlLine line;
  ASSERT_OK(reader.Next(&line).status());
  ASSERT_OK(reader.Next(&line).status());
  EXPECT_EQ(line.text, "{\"a\":2}");
  EXPECT_EQ(line.offset, 9u);
  uint64_t offset = reader.next_offset();
  int64_t number = reader.next_line();
  EXPECT_EQ(number, 4);

  io::StringInputStream again(text);
  JsonlReader resumed(&again, "f.jsonl");
  ASSERT_OK(resumed.SeekTo(offset, number));
  std::vector<std::string> rest;
  while (*resumed.Next(&line))
    rest.push_back(std::to_string(line.line) + std::string(line.text));
  EXPECT_THAT(rest, ElementsAre("4{\"a\":3}", "5{\"a\":4}"));
}

TEST(JsonlReaderTest, LinesOfManyMegabytes) {
  std::string big(5 << 20, 'x');
  for (size_t i = 0; i < big.size(); i += 997)
    big[i] = 'y';
  std::string text = "{\"id\": 1, \"s\": \"" + big + "\"}\n{\"id\": 2, \"s\": \"small\"}";
  io::StringInputStream input(text, 100000);
  JsonlReadOptions options;
  options.buffer_bytes = 64 * 1024;
  JsonlReader reader(&input, "big.jsonl", options);
  auto schema = std::make_shared<Schema>(
      std::vector<Field>{{"id", DataType::Int64()}, {"s", DataType::String()}});
  JsonlBatchBuilder builder(schema, "test");
  Batch batch(schema, 10);
  JsonlLine line;
  while (*reader.Next(&line))
    ASSERT_OK(builder.Append(line, &batch));
  ASSERT_EQ(batch.num_rows(), 2u);
  EXPECT_TRUE(batch.column(1).GetView(0) == big);
  EXPECT_EQ(batch.column(1).GetView(1), "small");
  EXPECT_EQ(reader.next_line(), 3);
}

SchemaPtr MakeSchema(std::vector<Field> fields) {
  return std::make_shared<Schema>(std::move(fields));
}

struct Converted {
  std::vector<Row> rows;
  std::vector<std::string> errors;
};

Converted Convert(const std::string& text, const SchemaPtr& schema) {
  io::StringInputStream input(text);
  JsonlReader reader(&input, "orders.jsonl");
  JsonlBatchBuilder builder(schema, "test");
  Batch batch(schema, 1000);
  Converted out;
  JsonlLine line;
  for (;;) {
    Result<bool> more = reader.Next(&line);
    EXPECT_OK(more.status());
    if (!more.ok() || !*more)
      break;
    Status status = builder.Append(line, &batch);
    if (!status.ok()) {
      EXPECT_EQ(status.code(), StatusCode::kDataError);
      out.errors.push_back(status.message());
    }
    for (size_t c = 0; c < batch.num_columns(); ++c) {
      EXPECT_EQ(batch.column(c).size(), batch.num_rows());
    }
  }
  out.rows = testing::RowsOf(batch);
  return out;
}

TEST(JsonlBatchBuilderTest, MapsKeysToColumns) {
  SchemaPtr schema = MakeSchema({{"id", DataType::Int64()},
                                 {"name", DataType::String()},
                                 {"amount", DataType::Decimal(12, 2)},
                                 {"big", DataType::UInt64()},
                                 {"doc", DataType::Json()},
                                 {"ok", DataType::Bool()}});
  Converted out = Convert(
      "{\"id\": 1, \"name\": \"a\\\"b\\u00e9\", \"amount\": 12.5, \"big\": 18446744073709551615, "
      "\"doc\": {\"x\": [1, {\"y\": null}]}, \"ok\": true}\n"
      "{\"name\": \"😀\", \"extra\": [1, 2], \"id\": 2, \"amount\": \"123.45\", \"doc\": \"s\"}\n"
      "{\"id\": null, \"doc\": 12345678901234567890123, \"ok\": \"yes\", \"amount\": -0.0100}\n"
      "{\"id\": 4, \"id\": 5, \"doc\": [], \"name\": 3.25, \"big\": \"7\"}\n"
      "{\"id\": 6, \"amount\": \"\", \"doc\": null, \"name\": {\"a\": 1}}\n",
      schema);
  EXPECT_THAT(out.errors, ElementsAre());
  EXPECT_THAT(
      out.rows,
      ElementsAre(
          Row{"1", "a\"bé", "12.50", "18446744073709551615", "{\"x\": [1, {\"y\": null}]}", "true"},
          Row{"2", "😀", "123.45", std::nullopt, "\"s\"", std::nullopt},
          Row{std::nullopt, std::nullopt, "-0.01", std::nullopt, "12345678901234567890123", "true"},
          Row{"5", "3.25", std::nullopt, "7", "[]", std::nullopt},
          Row{"6", "{\"a\": 1}", std::nullopt, std::nullopt, std::nullopt, std::nullopt}));
}

TEST(JsonlBatchBuilderTest, ErrorsNameFileLineColumnAndLeaveNoPartialRow) {
  SchemaPtr schema = MakeSchema(
      {{"id", DataType::Int64()}, {"amount", DataType::Int32()}, {"day", DataType::Date()}});
  Converted out = Convert(
      "{\"id\": 1, \"amount\": 2}\n"
      "{\"id\": 2, \"amount\": \"abc\"}\n"
      "{\"id\": 3, \"amount\": {\"a\": 1}}\n"
      "[1, 2]\n"
      "{\"id\": 5, \"amount\": tru}\n"
      "{\"id\": 6, \"other\": [1,,2]}\n"
      "{\"id\": 7,\n"
      "{\"id\": 8} x\n"
      "{\"day\": \"2024-02-30\", \"id\": 9}\n"
      "{\"id\": 1.5}\n"
      "{\"id\": 10, \"amount\": 3}\n",
      schema);
  EXPECT_THAT(
      out.errors,
      ElementsAre("orders.jsonl:2:21: 'abc' is not an integer (column 'amount')",
                  "orders.jsonl:3:21: expected int32, got an object (column 'amount')",
                  "orders.jsonl:4:1: expected a JSON object, got an array",
                  "orders.jsonl:5:21: invalid JSON: invalid literal 'tru'",
                  "orders.jsonl:6:23: invalid JSON: The JSON document has an improper "
                  "structure: missing or superfluous commas, braces, missing keys, etc.",
                  "orders.jsonl:7:1: invalid JSON: JSON document ended early in the middle of "
                  "an object or array.",
                  ::testing::StartsWith("orders.jsonl:8:1: invalid JSON: "),
                  "orders.jsonl:9:9: '2024-02-30' is not a date (expected YYYY-MM-DD) (column "
                  "'day')",
                  "orders.jsonl:10:8: '1.5' is not an integer (column 'id')"));
  EXPECT_THAT(out.rows, ElementsAre(Row{"1", "2", std::nullopt}, Row{"10", "3", std::nullopt}));
}

TEST(JsonlSchemaTest, InfersTypesInFirstSeenOrder) {
  std::string text =
      "{\"id\": 1, \"price\": 1, \"flag\": true, \"name\": \"a\", \"tags\": [1], \"mixed\": 1}\n"
      "not json\n"
      "{\"id\": 2, \"price\": 2.5, \"flag\": null, \"nothing\": null, \"mixed\": \"x\", "
      "\"big\": 18446744073709551615}\n"
      "{\"extra\": {\"a\": 1}, \"id\": -3}\n";
  io::StringInputStream input(text);
  JsonlReader reader(&input, "f.jsonl");
  ASSERT_OK_AND_ASSIGN(Schema schema, InferJsonlSchema(&reader));
  EXPECT_EQ(schema.ToString(),
            "id int64, price float64, flag bool, name string, tags json, mixed json, "
            "nothing string, big uint64, extra json");

  io::StringInputStream limited_input(text);
  JsonlReader limited(&limited_input, "f.jsonl");
  ASSERT_OK_AND_ASSIGN(Schema first, InferJsonlSchema(&limited, 1));
  EXPECT_EQ(first.ToString(),
            "id int64, price int64, flag bool, name string, tags json, "
            "mixed int64");

  io::StringInputStream empty_input("");
  JsonlReader empty(&empty_input, "f.jsonl");
  ASSERT_OK_AND_ASSIGN(Schema none, InferJsonlSchema(&empty));
  EXPECT_EQ(none.num_fields(), 0u);
}

// Issue 10: without a schema, 18446744073709551615 arrived as 18446744073709551616 and a 30-digit
// integer as 1.2345678901234568e+29: inference picked float64 for every number beyond int64.
TEST(JsonlSchemaTest, Issue10InferredTypesKeepEveryNumberExactly) {
  struct Case {
    std::vector<std::string> values;
    const char* type;
  };
  for (const Case& c : std::initializer_list<Case>{
           {{"1", "-9223372036854775808", "9223372036854775807"}, "int64"},
           {{"1", "18446744073709551615"}, "uint64"},
           {{"-1", "18446744073709551615"}, "decimal"},
           {{"123456789012345678901234567890"}, "decimal"},
           {{"-123456789012345678901234567890", "7"}, "decimal"},
           {{"0.1", "2.5e-3", "1e300", "-0.0", "3"}, "float64"},
           {{"0.1", "9007199254740993"}, "decimal"},    // 2^53 + 1 is no double
           {{"0.1", "9007199254740992"}, "float64"},    // 2^53 is
           {{"3.14159265358979323846"}, "decimal"},     // more digits than a double keeps
           {{"1e400"}, "decimal"},                      // beyond a double's range
           {{"0.10000000000000000555"}, "decimal"},
       }) {
    std::string text;
    for (const std::string& value : c.values)
      text += "{\"v\": " + value + "}\n";
    io::StringInputStream input(text);
    JsonlReader reader(&input, "f.jsonl");
    ASSERT_OK_AND_ASSIGN(Schema schema, InferJsonlSchema(&reader));
    EXPECT_EQ(schema.ToString(), std::string("v ") + c.type) << text;
    // And every value reads back with the same digits.
    io::StringInputStream again(text);
    JsonlReader lines(&again, "f.jsonl");
    auto shared = std::make_shared<Schema>(schema);
    JsonlBatchBuilder builder(shared, "test");
    Batch batch(shared, 16);
    JsonlLine line;
    while (true) {
      ASSERT_OK_AND_ASSIGN(bool more, lines.Next(&line));
      if (!more)
        break;
      ASSERT_OK(builder.Append(line, &batch));
    }
    ASSERT_EQ(batch.num_rows(), c.values.size());
    for (size_t i = 0; i < c.values.size(); ++i) {
      std::string back;
      AppendValueText(batch.column(0), i, &back);
      if (std::string(c.type) == "float64") {
        EXPECT_EQ(std::stod(back), std::stod(c.values[i])) << c.values[i];
      } else {
        std::string expected;
        ASSERT_OK(CanonicalDecimalText(c.values[i], 0, -1, &expected));
        EXPECT_EQ(back, expected) << c.values[i];
      }
    }
  }
}

}  // namespace
}  // namespace sluice::formats
