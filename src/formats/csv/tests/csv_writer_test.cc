#include "formats/csv/csv_writer.h"

#include <gmock/gmock.h>

#include <limits>
#include <random>
#include <gtest/gtest.h>

#include "core/decimal.h"
#include "core/temporal.h"
#include "core/value_text.h"
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

// The quoting rule applied the plain way: every value's canonical text, checked whole. The
// writer skips checks that cannot succeed and scans before copying; its bytes must not differ.
Result<std::string> ReferenceCsv(const Batch& batch, const CsvDialect& dialect) {
  std::string out;
  for (size_t row = 0; row < batch.num_rows(); ++row) {
    for (size_t i = 0; i < batch.num_columns(); ++i) {
      if (i > 0)
        out += dialect.delimiter;
      const Column& column = batch.column(i);
      if (column.IsNull(row)) {
        out += dialect.null_marker;
        continue;
      }
      std::string text;
      AppendValueText(column, row, &text);
      bool needs = text.empty() || text.front() == ' ' || text.back() == ' ' ||
                   text == dialect.null_marker;
      for (char c : text) {
        needs = needs || c == dialect.delimiter || c == '\r' || c == '\n' ||
                (dialect.quote && c == *dialect.quote);
      }
      if (!needs) {
        out += text;
        continue;
      }
      if (!dialect.quote)
        return DataError("unquotable");
      out += *dialect.quote;
      for (char c : text) {
        out += c;
        if (c == *dialect.quote)
          out += c;
      }
      out += *dialect.quote;
    }
    out += '\n';
  }
  return out;
}

// Values at the edges of each type's text: BC and far-future dates, infinities, the widest
// integers and decimals, long and short strings with specials at block boundaries.
std::unique_ptr<Batch> EdgeBatch() {
  auto schema = std::make_shared<Schema>(std::vector<Field>{
      {"i64", DataType::Int64()},
      {"u64", DataType::UInt64()},
      {"f64", DataType::Float64()},
      {"f32", DataType::Float32()},
      {"dec", DataType::Decimal(38, 10)},
      {"tiny_scale", DataType::Decimal(3, 45)},
      {"d", DataType::Date()},
      {"t", DataType::Time()},
      {"ts", DataType::Timestamp()},
      {"tz", DataType::TimestampTz()},
      {"s", DataType::String()},
      {"raw", DataType::Bytes()},
      {"b", DataType::Bool()},
  });
  const std::vector<int32_t> days = {kDateInfinity, kDateMinusInfinity, 0, -719162, -719163,
                                     2932896, 2932897, -800000, 5000000, -5000000,
                                     std::numeric_limits<int32_t>::max() - 1,
                                     std::numeric_limits<int32_t>::min() + 1};
  const std::vector<int64_t> micros = {kTimestampInfinity, kTimestampMinusInfinity, 0, -1, 1,
                                       -62135596800000000LL, -62135596800000001LL,
                                       253402300799999999LL, 253402300800000000LL,
                                       9000000000000000000LL, -9000000000000000000LL,
                                       3020399000000LL, -3020399000000LL, 360000000000LL * 5000};
  const std::vector<double> doubles = {0.0, -0.0, 1e300, -1e-300, 100000.0, 123456789012345678.0,
                                       0.1, 4.428571428, 1.0 / 3.0,
                                       std::numeric_limits<double>::quiet_NaN(),
                                       std::numeric_limits<double>::infinity(),
                                       -std::numeric_limits<double>::infinity(),
                                       std::numeric_limits<double>::denorm_min(),
                                       std::numeric_limits<double>::max(), 1e-5, 1e-4, 1e15, 1e16};
  const std::vector<int128> decimals = {0, 1, -1, Pow10Int128(38) - 1, -(Pow10Int128(38) - 1),
                                        int128{std::numeric_limits<int64_t>::max()} + 1,
                                        -int128{std::numeric_limits<int64_t>::max()} - 1,
                                        123456789012LL};
  std::vector<std::string> strings = {"", " ", "x", "0123456789abcde,", "0123456789abcdef,",
                                      ",0123456789abcdef", std::string(33, 'a') + "\n",
                                      std::string(100, 'q'), "\"" + std::string(40, 'z') + "\"",
                                      "ends with space ", " starts with space", "\\N", "0",
                                      "1.5", "true", "infinity", "\\x00"};
  auto batch = std::make_unique<Batch>(schema, 64);
  std::mt19937_64 random(7);
  for (size_t r = 0; r < 64; ++r) {
    batch->column(0).Append<int64_t>(r % 3 == 0   ? std::numeric_limits<int64_t>::min()
                                     : r % 3 == 1 ? std::numeric_limits<int64_t>::max()
                                                  : static_cast<int64_t>(r) - 30);
    batch->column(1).Append<uint64_t>(r % 2 ? std::numeric_limits<uint64_t>::max() : r);
    batch->column(2).Append<double>(doubles[r % doubles.size()]);
    batch->column(3).Append<float>(static_cast<float>(doubles[(r + 3) % doubles.size()]));
    batch->column(4).Append<int128>(decimals[r % decimals.size()]);
    batch->column(5).Append<int128>(decimals[(r + 1) % decimals.size()] % 1000);
    batch->column(6).Append<int32_t>(days[r % days.size()]);
    batch->column(7).Append<int64_t>(micros[(r + 5) % micros.size()] % (3600000000LL * 900));
    batch->column(8).Append<int64_t>(micros[r % micros.size()]);
    batch->column(9).Append<int64_t>(micros[(r + 1) % micros.size()]);
    if (r % 7 == 6) {
      batch->column(10).AppendNull();
    } else {
      batch->column(10).AppendView(strings[r % strings.size()]);
    }
    std::string bytes;
    for (size_t k = 0; k < r % 5; ++k)
      bytes += static_cast<char>(random());
    batch->column(11).AppendView(bytes);
    batch->column(12).Append<uint8_t>(r % 2);
    batch->FinishRow();
  }
  return batch;
}

// Dialects whose characters collide with the text of numbers, dates and times.
std::vector<CsvDialect> AwkwardDialects() {
  std::vector<CsvDialect> dialects;
  const std::vector<char> delimiters = {',', '\t', ' ', '.', '-', '0', '9', 'x', ':', 'e',
                                        'N', 'B', '+', 't', '\\', ';', 'a', 'f'};
  const std::vector<std::optional<char>> quotes = {'"', '\'', '0', '.', ':', std::nullopt};
  const std::vector<std::string> markers = {"", "\\N", "0", "1", "NULL", "NaN", "true",
                                            "infinity", "\\x", "-1", "00:00:00"};
  for (char delimiter : delimiters) {
    for (const std::optional<char>& quote : quotes) {
      for (const std::string& marker : markers) {
        CsvDialect dialect;
        dialect.delimiter = delimiter;
        dialect.quote = quote;
        dialect.null_marker = marker;
        if (dialect.Validate().ok())
          dialects.push_back(dialect);
      }
    }
  }
  return dialects;
}

TEST(CsvWriterTest, SameBytesAsTheRuleAppliedToEveryValue) {
  SchemaPtr all = testing::AllTypesSchema();
  std::vector<std::unique_ptr<Batch>> batches;
  batches.push_back(testing::MakeBatch(all, testing::RandomRows(*all, 300, 11)));
  batches.push_back(EdgeBatch());
  size_t compared = 0;
  for (const CsvDialect& dialect : AwkwardDialects()) {
    for (const auto& batch : batches) {
      Result<std::string> expected = ReferenceCsv(*batch, dialect);
      std::string out;
      io::StringOutputStream stream(&out);
      CsvWriter writer(&stream, dialect, 100);
      Status status = writer.WriteRows(*batch, 0, batch->num_rows());
      if (!expected.ok()) {
        EXPECT_EQ(status.code(), StatusCode::kDataError);
        continue;
      }
      ASSERT_OK(status);
      ASSERT_OK(writer.Flush());
      ASSERT_EQ(out, *expected) << "delimiter '" << dialect.delimiter << "' quote '"
                                << dialect.quote.value_or('?') << "' null marker '"
                                << dialect.null_marker << "'";
      ++compared;
    }
  }
  EXPECT_GT(compared, 200u);
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
