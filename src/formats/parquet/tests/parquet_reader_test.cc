// ParquetReader on files another writer made: pyarrow's defaults (dictionary pages, data pages
// v1 and v2, each codec), compared value for value with what pyarrow reads; and the errors for
// what it refuses.
#include "formats/parquet/parquet_reader.h"

#include <fmt/core.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "formats/parquet/tests/parquet_test_util.h"
#include "testing/gtest_util.h"
#include "testing/temp_dir.h"

namespace sluice::formats {
namespace {

using ::sluice::formats::testing::LinesStartingWith;
using ::sluice::formats::testing::ReadWithSluice;
using ::sluice::formats::testing::RunReadParquet;
using ::testing::HasSubstr;

TEST(ParquetReaderTest, ReadsWhatPyarrowWritesWithEachCodecAndPageVersion) {
  for (std::string compression : {"snappy", "zstd", "gzip", "none"}) {
    for (std::string page_version : {"1.0", "2.0"}) {
      SCOPED_TRACE(compression + " data page " + page_version);
      sluice::testing::TempDir dir;
      std::string path = dir.Join("pyarrow.parquet");
      ASSERT_OK(RunReadParquet(fmt::format("write '{}' {} {}", path, compression, page_version))
                    .status());
      ASSERT_OK_AND_ASSIGN(std::string pyarrow, RunReadParquet("pyarrow '" + path + "'"));
      SchemaPtr schema;
      ASSERT_OK_AND_ASSIGN(auto rows, ReadWithSluice(path, &schema));
      EXPECT_EQ(rows, LinesStartingWith(pyarrow, "row\t"));
      EXPECT_EQ(schema->ToString(),
                "b bool, i8 int8, i16 int16, i32 int32, i64 int64, u8 uint8, u16 uint16, "
                "u32 uint32, u64 uint64, f32 float32, f64 float64, d9 decimal(9,2), "
                "d18 decimal(18,3), d38 decimal(38,10), s string, bin bytes, date date, "
                "time time, ts timestamp, tstz timestamp_tz, ts_ms timestamp");
    }
  }
}

TEST(ParquetReaderTest, RefusesNestedColumnsNamingThem) {
  sluice::testing::TempDir dir;
  std::string path = dir.Join("nested.parquet");
  ASSERT_OK(RunReadParquet(fmt::format("write-nested '{}'", path)).status());
  ASSERT_OK_AND_ASSIGN(auto file, LocalRandomAccessFile::Open(path));
  auto reader = ParquetReader::Open(std::move(file));
  ASSERT_FALSE(reader.ok());
  EXPECT_EQ(reader.status().code(), StatusCode::kUnsupported);
  EXPECT_THAT(reader.status().message(), HasSubstr("column 'tags'"));
  EXPECT_THAT(reader.status().message(), HasSubstr(path));
}

TEST(ParquetReaderTest, RefusesFilesThatAreNotParquet) {
  for (std::string contents : {std::string("PAR1"), std::string("PAR1 not a footer PAR1"),
                               std::string("PAR1") + std::string(100, '\xff') + "\x10\0\0\0PAR1"}) {
    auto reader = ParquetReader::Open(std::make_unique<StringRandomAccessFile>(contents, "x.pq"));
    ASSERT_FALSE(reader.ok());
    EXPECT_EQ(reader.status().code(), StatusCode::kDataError) << reader.status().ToString();
    EXPECT_THAT(reader.status().message(), HasSubstr("'x.pq'"));
  }
  auto missing = LocalRandomAccessFile::Open("/nonexistent/file.parquet");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace sluice::formats
