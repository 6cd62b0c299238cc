// Avro container files Sluice writes, read by another implementation: fastavro (read_avro.py, in
// the tests' Python venv) sees the codec, the logical types and every value, NULLs and extremes
// included, as Sluice wrote them.
#include <fmt/core.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "formats/avro/avro_container.h"
#include "io/file_system.h"
#include "testing/gtest_util.h"
#include "testing/independent_readers.h"
#include "testing/random_rows.h"
#include "testing/temp_dir.h"

namespace sluice::formats {
namespace {

using ::testing::Contains;
using sluice::testing::Row;

// Writes `rows` of `schema` to `path` in blocks of about `block_bytes`.
void WriteFile(const std::string& path, const SchemaPtr& schema, const std::vector<Row>& rows,
               AvroCodec codec, size_t block_bytes) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<io::OutputStream> output,
                       io::CreateOutputFile(path, io::Compression::kNone));
  AvroContainerOptions options;
  options.codec = codec;
  options.block_bytes = block_bytes;
  ASSERT_OK_AND_ASSIGN(auto writer,
                       AvroContainerWriter::Make(output.get(), *schema, "rows", path, options));
  ASSERT_OK(writer->WriteHeader());
  std::unique_ptr<Batch> batch = testing::MakeBatch(schema, rows);
  ASSERT_OK(writer->WriteRows(*batch, 0, batch->num_rows()));
  ASSERT_OK(writer->Flush());
  ASSERT_OK(output->Close());
}

std::vector<std::string> Expected(const SchemaPtr& schema, const std::vector<Row>& rows) {
  std::vector<std::string> lines;
  sluice::testing::AppendCanonicalRows(*testing::MakeBatch(schema, rows), &lines);
  return lines;
}

TEST(AvroIndependentReadTest, FastavroReadsEveryTypeAsWrittenWithEachCodec) {
  sluice::testing::TempDir dir;
  SchemaPtr schema = testing::AllTypesSchema();
  std::vector<Row> rows = testing::RandomRows(*schema, 300, 21);
  for (AvroCodec codec : {AvroCodec::kNull, AvroCodec::kDeflate, AvroCodec::kZstandard}) {
    SCOPED_TRACE(std::string(AvroCodecName(codec)));
    std::string path = dir.Join(fmt::format("all_{}.avro", AvroCodecName(codec)));
    WriteFile(path, schema, rows, codec, 4096);
    ASSERT_OK_AND_ASSIGN(std::string output, sluice::testing::RunPythonScript(
                                                 "src/formats/avro/tests/read_avro.py",
                                                 fmt::format("'{}'", path)));
    EXPECT_THAT(sluice::testing::LinesStartingWith(output, "codec\t"),
                ::testing::ElementsAre("codec\t" + std::string(AvroCodecName(codec))));
    std::vector<std::string> columns = sluice::testing::LinesStartingWith(output, "column\t");
    // The writer schema's fields as fastavro parsed them (keys sorted).
    EXPECT_THAT(columns, Contains("column\td\t{\"logicalType\": \"date\", \"type\": \"int\"}"));
    EXPECT_THAT(columns, Contains("column\ttz\t{\"logicalType\": \"timestamp-micros\", "
                                  "\"type\": \"long\"}"));
    EXPECT_THAT(columns, Contains("column\tdec\t{\"logicalType\": \"decimal\", \"precision\": "
                                  "12, \"scale\": 2, \"type\": \"bytes\"}"));
    EXPECT_EQ(sluice::testing::LinesStartingWith(output, "row\t"), Expected(schema, rows));
  }
}

TEST(AvroIndependentReadTest, FastavroReadsExtremesUnicodeAndEmptyValues) {
  sluice::testing::TempDir dir;
  auto schema = std::make_shared<Schema>(std::vector<Field>{
      {"i64", DataType::Int64()},
      {"u64", DataType::UInt64()},
      {"dec", DataType::Decimal(38, 10)},
      {"f32", DataType::Float32()},
      {"s", DataType::String()},
      {"raw", DataType::Bytes()},
      {"d", DataType::Date()},
      {"ts", DataType::Timestamp()},
  });
  std::vector<Row> rows = {
      {"-9223372036854775808", "18446744073709551615", "-9999999999999999999999999999.9999999999",
       "-inf", "", "\\x", "0001-01-01", "0001-01-01 00:00:00"},
      {"9223372036854775807", "0", "0.0000000001", "nan", "zażółć 😀 名前\ttab", "\\x00ff",
       "9999-12-31", "9999-12-31 23:59:59.999999"},
      {std::nullopt, std::nullopt, std::nullopt, std::nullopt, std::nullopt, std::nullopt,
       std::nullopt, std::nullopt},
  };
  std::string path = dir.Join("extremes.avro");
  WriteFile(path, schema, rows, AvroCodec::kDeflate, 1 << 20);
  ASSERT_OK_AND_ASSIGN(std::string output,
                       sluice::testing::RunPythonScript("src/formats/avro/tests/read_avro.py",
                                                        fmt::format("'{}'", path)));
  EXPECT_EQ(sluice::testing::LinesStartingWith(output, "row\t"), Expected(schema, rows));
}

}  // namespace
}  // namespace sluice::formats
