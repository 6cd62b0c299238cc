// Avro container files: every type round trips with NULLs through each codec and across block
// boundaries, a file continued after a cut reads as one written in one go, a reader resumes at
// a (block, record) position, and malformed files are refused naming the file and the byte.
#include "formats/avro/avro_container.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "formats/avro/avro_schema.h"
#include "io/memory_stream.h"
#include "testing/gtest_util.h"
#include "testing/random_rows.h"

namespace sluice::formats {
namespace {

using ::testing::HasSubstr;
using testing::Row;

AvroContainerOptions Options(AvroCodec codec, size_t block_bytes) {
  AvroContainerOptions options;
  options.codec = codec;
  options.block_bytes = block_bytes;
  return options;
}

// Writes `rows` in slices of `slice` rows, ending a block after every slice when `flush_each`.
std::string Write(const SchemaPtr& schema, const std::vector<Row>& rows,
                  AvroContainerOptions options, size_t slice = 37, bool flush_each = false) {
  std::string out;
  io::StringOutputStream stream(&out);
  Result<std::unique_ptr<AvroContainerWriter>> writer =
      AvroContainerWriter::Make(&stream, *schema, "rows", "part-00000.avro", options);
  EXPECT_OK(writer.status());
  if (!writer.ok())
    return out;
  EXPECT_OK((*writer)->WriteHeader());
  std::unique_ptr<Batch> batch = testing::MakeBatch(schema, rows);
  for (size_t begin = 0; begin < batch->num_rows(); begin += slice) {
    EXPECT_OK((*writer)->WriteRows(*batch, begin, std::min(begin + slice, batch->num_rows())));
    if (flush_each)
      EXPECT_OK((*writer)->Flush());
  }
  EXPECT_OK((*writer)->Flush());
  EXPECT_EQ((*writer)->bytes_written(), out.size());
  return out;
}

std::vector<Row> Read(const SchemaPtr& schema, const std::string& file, size_t max_rows = 50) {
  io::StringInputStream input(file, 333);
  Result<std::unique_ptr<AvroContainerReader>> reader =
      AvroContainerReader::Open(&input, "test.avro");
  EXPECT_OK(reader.status());
  std::vector<Row> rows;
  if (!reader.ok())
    return rows;
  for (;;) {
    Batch batch(schema, max_rows);
    Result<bool> more = (*reader)->Read(&batch, max_rows);
    EXPECT_OK(more.status());
    if (!more.ok() || !*more)
      break;
    for (Row& row : testing::RowsOf(batch))
      rows.push_back(std::move(row));
  }
  return rows;
}

TEST(AvroContainerTest, EveryTypeRoundTripsWithNullsThroughEachCodec) {
  SchemaPtr schema = testing::AllTypesSchema();
  for (AvroCodec codec : {AvroCodec::kNull, AvroCodec::kDeflate, AvroCodec::kZstandard}) {
    SCOPED_TRACE(std::string(AvroCodecName(codec)));
    std::vector<Row> rows = testing::RandomRows(*schema, 500, 7);
    std::vector<Row> expected = testing::RowsOf(*testing::MakeBatch(schema, rows));
    // Small blocks: many of them, and batches that end inside one.
    std::string file = Write(schema, rows, Options(codec, 2000));
    EXPECT_EQ(Read(schema, file), expected);
  }
}

TEST(AvroContainerTest, ExtremesUnicodeAndEmptyStringsSurvive) {
  auto schema = std::make_shared<Schema>(std::vector<Field>{
      {"i64", DataType::Int64()},
      {"u64", DataType::UInt64()},
      {"dec", DataType::Decimal(38, 10)},
      {"f64", DataType::Float64()},
      {"s", DataType::String()},
      {"raw", DataType::Bytes()},
      {"ts", DataType::TimestampTz()},
  });
  std::vector<Row> rows = {
      {"-9223372036854775808", "18446744073709551615", "-9999999999999999999999999999.9999999999",
       "-inf", "", "\\x", "0001-01-01 00:00:00+00"},
      {"9223372036854775807", "0", "9999999999999999999999999999.9999999999", "nan",
       "zażółć 😀 名前", "\\x00ff", "9999-12-31 23:59:59.999999+00"},
      {std::nullopt, std::nullopt, std::nullopt, std::nullopt, std::nullopt, std::nullopt,
       std::nullopt},
  };
  std::vector<Row> expected = testing::RowsOf(*testing::MakeBatch(schema, rows));
  EXPECT_EQ(Read(schema, Write(schema, rows, Options(AvroCodec::kDeflate, 1 << 20))), expected);
}

TEST(AvroContainerTest, AFileWithoutRowsIsAHeaderThatReadsAsNothing) {
  SchemaPtr schema = testing::AllTypesSchema();
  std::string file = Write(schema, {}, Options(AvroCodec::kZstandard, 1 << 20));
  EXPECT_EQ(file.substr(0, 4), std::string("Obj\x01", 4));
  EXPECT_TRUE(Read(schema, file).empty());
}

TEST(AvroContainerTest, AHugeValueFillsABlockOfItsOwn) {
  auto schema = std::make_shared<Schema>(std::vector<Field>{{"s", DataType::String()}});
  std::vector<Row> rows = {{"small"}, {std::string(5 << 20, 'x')}, {"after"}};
  std::vector<Row> expected = testing::RowsOf(*testing::MakeBatch(schema, rows));
  EXPECT_EQ(Read(schema, Write(schema, rows, Options(AvroCodec::kDeflate, 1 << 20), 1)),
            expected);
}

// The exactly-once file sink cuts a part back to its last committed block after a crash and
// writes on: the result is what one uninterrupted writer writes.
TEST(AvroContainerTest, AFileCutAtABlockAndContinuedEqualsOneWrittenInOneGo) {
  SchemaPtr schema = testing::AllTypesSchema();
  std::vector<Row> rows = testing::RandomRows(*schema, 300, 11);
  std::unique_ptr<Batch> batch = testing::MakeBatch(schema, rows);
  const AvroContainerOptions options = Options(AvroCodec::kZstandard, 1 << 20);
  std::string whole;
  size_t committed = 0;
  {
    io::StringOutputStream stream(&whole);
    ASSERT_OK_AND_ASSIGN(auto writer, AvroContainerWriter::Make(&stream, *schema, "rows",
                                                                "part-00003.avro", options));
    ASSERT_OK(writer->WriteHeader());
    ASSERT_OK(writer->WriteRows(*batch, 0, 100));
    ASSERT_OK(writer->Flush());
    committed = whole.size();
    ASSERT_OK(writer->WriteRows(*batch, 100, 300));
    ASSERT_OK(writer->Flush());
  }
  // A crash after the first commit: 50 rows written past it are lost, the rest rewritten.
  std::string cut = whole.substr(0, committed);
  {
    io::StringOutputStream stream(&cut);
    ASSERT_OK_AND_ASSIGN(auto writer, AvroContainerWriter::Make(&stream, *schema, "rows",
                                                                "part-00003.avro", options));
    ASSERT_OK(writer->WriteRows(*batch, 100, 300));
    ASSERT_OK(writer->Flush());
  }
  EXPECT_EQ(cut, whole);
  EXPECT_EQ(Read(schema, cut).size(), 300u);
}

// Positions mid-block and at a block's end (where the next record starts the next block).
class AvroResumeTest : public ::testing::TestWithParam<size_t> {};

TEST_P(AvroResumeTest, AReaderResumesAtABlockAndRecord) {
  const size_t first = GetParam();
  SchemaPtr schema = testing::AllTypesSchema();
  std::vector<Row> rows = testing::RandomRows(*schema, 400, 5);
  std::vector<Row> expected = testing::RowsOf(*testing::MakeBatch(schema, rows));
  std::string file = Write(schema, rows, Options(AvroCodec::kDeflate, 1 << 20), 90, true);
  uint64_t block = 0;
  uint64_t into = 0;
  {
    io::StringInputStream input(file, 1000);
    ASSERT_OK_AND_ASSIGN(auto reader, AvroContainerReader::Open(&input, "test.avro"));
    Batch batch(schema, 200);
    // Row by row, as the file source reads.
    for (size_t row = 0; row < first; ++row) {
      ASSERT_OK_AND_ASSIGN(bool more, reader->Read(&batch, 1));
      ASSERT_TRUE(more);
    }
    block = reader->block_offset();
    into = reader->records_into_block();
    EXPECT_EQ(into, first % 90);
  }
  io::StringInputStream input(file, 1000);
  ASSERT_OK_AND_ASSIGN(auto reader, AvroContainerReader::Open(&input, "test.avro"));
  Batch scratch(schema, 100);
  ASSERT_OK(reader->SeekTo(block, into, &scratch));
  std::vector<Row> rest;
  for (;;) {
    Batch batch(schema, 64);
    ASSERT_OK_AND_ASSIGN(bool more, reader->Read(&batch, 64));
    if (!more)
      break;
    for (Row& row : testing::RowsOf(batch))
      rest.push_back(std::move(row));
  }
  EXPECT_EQ(rest, std::vector<Row>(expected.begin() + static_cast<std::ptrdiff_t>(first),
                                   expected.end()));
}

INSTANTIATE_TEST_SUITE_P(Positions, AvroResumeTest, ::testing::Values(130, 90, 180, 1));

TEST(AvroContainerTest, MalformedFilesAreRefusedNamingTheFileAndByte) {
  auto schema = std::make_shared<Schema>(std::vector<Field>{{"s", DataType::String()}});
  std::vector<Row> rows(100, Row{"value"});
  std::string file = Write(schema, rows, Options(AvroCodec::kDeflate, 1 << 20));
  {
    io::StringInputStream input("PAR1 not avro", 100);
    Result<std::unique_ptr<AvroContainerReader>> reader =
        AvroContainerReader::Open(&input, "x.avro");
    EXPECT_EQ(reader.status().code(), StatusCode::kDataError);
    EXPECT_THAT(reader.status().message(), HasSubstr("x.avro: not an Avro container file"));
  }
  {
    std::string cut = file.substr(0, file.size() - 5);  // the sync marker cut short
    io::StringInputStream input(cut, 100);
    ASSERT_OK_AND_ASSIGN(auto reader, AvroContainerReader::Open(&input, "cut.avro"));
    Batch batch(schema, 200);
    Result<bool> read = reader->Read(&batch, 200);
    EXPECT_EQ(read.status().code(), StatusCode::kDataError);
    EXPECT_THAT(read.status().message(), HasSubstr("cut.avro: the file ends inside a block"));
  }
  {
    std::string bad = file;
    bad[bad.size() - 1] ^= 0x55;  // the block's sync marker
    io::StringInputStream input(bad, 100);
    ASSERT_OK_AND_ASSIGN(auto reader, AvroContainerReader::Open(&input, "bad.avro"));
    Batch batch(schema, 200);
    Result<bool> read = reader->Read(&batch, 200);
    EXPECT_THAT(read.status().message(), HasSubstr("does not end with the file's sync marker"));
  }
}

TEST(AvroContainerTest, CodecNamesParseAndUnknownOnesAreRefused) {
  EXPECT_EQ(*ParseAvroCodec("zstd"), AvroCodec::kZstandard);
  EXPECT_EQ(*ParseAvroCodec("null"), AvroCodec::kNull);
  Result<AvroCodec> bad = ParseAvroCodec("lzma");
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidConfig);
  EXPECT_THAT(bad.status().message(), HasSubstr("null, deflate or zstandard"));
}

}  // namespace
}  // namespace sluice::formats
