#include "formats/csv/csv_writer.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "formats/csv/csv_batch_builder.h"
#include "io/memory_stream.h"
#include "testing/gtest_util.h"
#include "testing/random_rows.h"

namespace sluice::formats {
namespace {

using ::testing::ElementsAre;
using testing::Row;

std::string Write(const SchemaPtr& schema, const std::vector<Row>& rows, CsvDialect dialect = {},
                  bool header = true) {
  std::string out;
  io::StringOutputStream stream(&out);
  CsvWriter writer(&stream, dialect, 64);  // a tiny flush size exercises flushing
  std::unique_ptr<Batch> batch = testing::MakeBatch(schema, rows);
  if (header)
    EXPECT_OK(writer.WriteHeader(*schema));
  EXPECT_OK(writer.WriteRows(*batch, 0, batch->num_rows()));
  EXPECT_GE(writer.bytes_written(), out.size());
  EXPECT_OK(writer.Flush());
  EXPECT_EQ(writer.bytes_written(), out.size());
  return out;
}

TEST(CsvWriterTest, QuotesOnlyWhatNeedsIt) {
  auto schema = std::make_shared<Schema>(std::vector<Field>{
      {"s", DataType::String()}, {"n", DataType::Int64()}, {"full name", DataType::String()}});
  std::string out = Write(schema, {{"plain", "1", "a,b"},
                                   {"", std::nullopt, "say \"hi\""},
                                   {" lead", "-2", "trail "},
                                   {"l1\nl2", "3", "cr\rx"},
                                   {std::nullopt, std::nullopt, "mid space"},
                                   {"\\N", "4", "😀"}});
  EXPECT_EQ(out,
            "s,n,full name\n"
            "plain,1,\"a,b\"\n"
            "\"\",,\"say \"\"hi\"\"\"\n"
            "\" lead\",-2,\"trail \"\n"
            "\"l1\nl2\",3,\"cr\rx\"\n"
            ",,mid space\n"
            "\\N,4,😀\n");
}

TEST(CsvWriterTest, NullMarkerAndDialect) {
  auto schema = std::make_shared<Schema>(
      std::vector<Field>{{"s", DataType::String()}, {"n", DataType::Int64()}});
  CsvDialect dialect;
  dialect.delimiter = '\t';
  dialect.quote = '\'';
  dialect.null_marker = "\\N";
  EXPECT_EQ(Write(schema, {{"\\N", std::nullopt}, {"", "1"}, {"it's\tx", "2"}}, dialect, false),
            "'\\N'\t\\N\n"
            "''\t1\n"
            "'it''s\tx'\t2\n");
  CsvDialect unquoted;
  unquoted.quote = std::nullopt;
  std::string out;
  io::StringOutputStream stream(&out);
  CsvWriter writer(&stream, unquoted);
  std::unique_ptr<Batch> batch = testing::MakeBatch(schema, {{"a,b", "1"}});
  Status status = writer.WriteRows(*batch, 0, 1);
  EXPECT_EQ(status.code(), StatusCode::kDataError);
}

// Writes random rows of every type and reads them back through CsvReader + CsvBatchBuilder.
void ExpectRoundTrip(const CsvDialect& dialect, uint64_t seed) {
  SchemaPtr schema = testing::AllTypesSchema();
  std::vector<Row> rows = testing::RandomRows(*schema, 500, seed);
  std::unique_ptr<Batch> batch = testing::MakeBatch(schema, rows);
  std::vector<Row> expected = testing::RowsOf(*batch);

  std::string text;
  io::StringOutputStream stream(&text);
  CsvWriter writer(&stream, dialect, 1000);
  ASSERT_OK(writer.WriteHeader(*schema));
  // In uneven slices, as a sink rolling files would.
  for (size_t begin = 0; begin < batch->num_rows(); begin += 37) {
    ASSERT_OK(writer.WriteRows(*batch, begin, std::min(begin + 37, batch->num_rows())));
  }
  ASSERT_OK(writer.Flush());

  io::StringInputStream input(text, 4093);
  CsvReadOptions options;
  options.dialect = dialect;
  options.buffer_bytes = 512;
  CsvReader reader(&input, "round.csv", options);
  ASSERT_OK_AND_ASSIGN(std::vector<std::string> header, reader.ReadHeader());
  ASSERT_EQ(header.size(), schema->num_fields());
  std::vector<int> mapping;
  for (const std::string& name : header)
    mapping.push_back(schema->FieldIndex(name));
  CsvBatchBuilder builder(schema, mapping, dialect);
  Batch back(schema, rows.size());
  for (;;) {
    ASSERT_OK_AND_ASSIGN(bool more, reader.Next());
    if (!more)
      break;
    ASSERT_FALSE(builder.Skips(reader.record()));
    ASSERT_OK(builder.Append(reader.record(), &back));
  }
  std::vector<Row> got = testing::RowsOf(back);
  ASSERT_EQ(got.size(), expected.size());
  for (size_t r = 0; r < got.size(); ++r)
    ASSERT_EQ(got[r], expected[r]) << "row " << r;
}

TEST(CsvWriterTest, EveryTypeRoundTripsWithNulls) {
  ExpectRoundTrip(CsvDialect{}, 1);
  CsvDialect marker;
  marker.null_marker = "\\N";
  ExpectRoundTrip(marker, 2);
  CsvDialect tabs;
  tabs.delimiter = '\t';
  tabs.quote = '\'';
  ExpectRoundTrip(tabs, 3);
}

TEST(CsvWriterTest, SingleColumnNullsSurviveAsBlankLines) {
  auto schema = std::make_shared<Schema>(std::vector<Field>{{"s", DataType::String()}});
  std::string text = Write(schema, {{std::nullopt}, {""}, {"x"}}, CsvDialect{}, false);
  EXPECT_EQ(text, "\n\"\"\nx\n");
  io::StringInputStream input(text);
  CsvReader reader(&input, "one.csv");
  CsvBatchBuilder builder(schema, {0}, CsvDialect{});
  Batch back(schema, 10);
  while (*reader.Next()) {
    ASSERT_FALSE(builder.Skips(reader.record()));
    ASSERT_OK(builder.Append(reader.record(), &back));
  }
  EXPECT_THAT(testing::RowsOf(back), ElementsAre(Row{std::nullopt}, Row{""}, Row{"x"}));
}

}  // namespace
}  // namespace sluice::formats
