#include "formats/jsonl/jsonl_writer.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>

#include "formats/jsonl/jsonl_batch_builder.h"
#include "io/memory_stream.h"
#include "testing/gtest_util.h"
#include "testing/random_rows.h"

namespace sluice::formats {
namespace {

using testing::Row;

std::string Write(const SchemaPtr& schema, const std::vector<Row>& rows) {
  std::string out;
  io::StringOutputStream stream(&out);
  JsonlWriter writer(&stream, 64);
  std::unique_ptr<Batch> batch = testing::MakeBatch(schema, rows);
  EXPECT_OK(writer.WriteRows(*batch, 0, batch->num_rows()));
  EXPECT_OK(writer.Flush());
  EXPECT_EQ(writer.bytes_written(), out.size());
  return out;
}

TEST(JsonlWriterTest, WritesEveryTypeAsSpecified) {
  auto schema = std::make_shared<Schema>(std::vector<Field>{{"b", DataType::Bool()},
                                                            {"i", DataType::Int64()},
                                                            {"u", DataType::UInt64()},
                                                            {"f", DataType::Float64()},
                                                            {"g", DataType::Float32()},
                                                            {"dec", DataType::Decimal(12, 2)},
                                                            {"raw", DataType::Bytes()},
                                                            {"d", DataType::Date()},
                                                            {"t", DataType::Time()},
                                                            {"ts", DataType::TimestampTz()},
                                                            {"j", DataType::Json()},
                                                            {"s", DataType::String()},
                                                            {"we\"ird", DataType::String()}});
  EXPECT_EQ(Write(schema,
                  {{"true", "-9223372036854775808", "18446744073709551615", "0.1", "NaN", "-12.50",
                    "\\x00ff", "2024-02-29", "-838:59:59", "2024-02-29 13:45:07.5+00:00",
                    "{\"a\": [1]}", "say \"hi\"\n\t😀", std::nullopt},
                   {"false", std::nullopt, "0", "-Infinity", "Infinity", "0.00", "\\x", "infinity",
                    "00:00:00", std::nullopt, "\"x\"", "", "v"}}),
            "{\"b\":true,\"i\":-9223372036854775808,\"u\":18446744073709551615,\"f\":0.1,"
            "\"g\":\"NaN\",\"dec\":\"-12.50\",\"raw\":\"\\\\x00ff\",\"d\":\"2024-02-29\","
            "\"t\":\"-838:59:59\",\"ts\":\"2024-02-29 13:45:07.5+00:00\",\"j\":{\"a\": [1]},"
            "\"s\":\"say \\\"hi\\\"\\n\\t😀\",\"we\\\"ird\":null}\n"
            "{\"b\":false,\"i\":null,\"u\":0,\"f\":\"-Infinity\",\"g\":\"Infinity\","
            "\"dec\":\"0.00\",\"raw\":\"\\\\x\",\"d\":\"infinity\",\"t\":\"00:00:00\","
            "\"ts\":null,\"j\":\"x\",\"s\":\"\",\"we\\\"ird\":\"v\"}\n");
}

TEST(JsonlWriterTest, EveryTypeRoundTripsWithNulls) {
  SchemaPtr schema = testing::AllTypesSchema();
  for (uint64_t seed : {1u, 2u, 3u}) {
    std::vector<Row> rows = testing::RandomRows(*schema, 400, seed);
    std::unique_ptr<Batch> batch = testing::MakeBatch(schema, rows);
    std::vector<Row> expected = testing::RowsOf(*batch);
    std::string text;
    io::StringOutputStream stream(&text);
    JsonlWriter writer(&stream, 4096);
    for (size_t begin = 0; begin < batch->num_rows(); begin += 41) {
      ASSERT_OK(writer.WriteRows(*batch, begin, std::min(begin + 41, batch->num_rows())));
    }
    ASSERT_OK(writer.Flush());

    io::StringInputStream input(text, 1000);
    JsonlReadOptions options;
    options.buffer_bytes = 256;
    JsonlReader reader(&input, "round.jsonl", options);
    JsonlBatchBuilder builder(schema, "test");
    Batch back(schema, rows.size());
    JsonlLine line;
    for (;;) {
      ASSERT_OK_AND_ASSIGN(bool more, reader.Next(&line));
      if (!more)
        break;
      Status status = builder.Append(line, &back);
      ASSERT_TRUE(status.ok()) << status.ToString();
    }
    std::vector<Row> got = testing::RowsOf(back);
    ASSERT_EQ(got.size(), expected.size());
    for (size_t r = 0; r < got.size(); ++r) {
      for (size_t c = 0; c < schema->num_fields(); ++c) {
        std::optional<std::string> want = expected[r][c];
        // JSON Lines cannot tell a json column holding the JSON value null from NULL.
        if (schema->field(c).type.id == TypeId::kJson && want == "null")
          want = std::nullopt;
        ASSERT_EQ(got[r][c], want)
            << "row " << r << " column " << schema->field(c).name << " line " << r + 1;
      }
    }
  }
}

}  // namespace
}  // namespace sluice::formats
