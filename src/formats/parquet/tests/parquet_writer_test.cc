// ParquetWriter: every Sluice type, NULLs, extremes, sizes, codecs, dictionary fallback and
// resumption, each file read back by ParquetReader and by two independent readers (pyarrow and
// DuckDB, through read_parquet.py), value for value, with pyarrow checking the statistics.
#include "formats/parquet/parquet_writer.h"

#include <fmt/core.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <limits>

#include "core/decimal.h"
#include "core/temporal.h"
#include "formats/parquet/parquet_reader.h"
#include "formats/parquet/tests/parquet_test_util.h"
#include "io/file_system.h"
#include "io/memory_stream.h"
#include "testing/gtest_util.h"
#include "testing/temp_dir.h"

namespace sluice::formats {
namespace {

using ::sluice::formats::testing::AppendRowTexts;
using ::sluice::formats::testing::IndependentRead;
using ::sluice::formats::testing::ReadIndependently;
using ::sluice::formats::testing::ReadWithSluice;
using ::testing::HasSubstr;

using Appender = std::function<void(Column*)>;

// One column of a test table: its field and the values its rows cycle through.
struct ColumnValues {
  Field field;
  std::vector<Appender> values;
};

template <typename T>
std::vector<Appender> Fixed(std::initializer_list<T> values) {
  std::vector<Appender> out;
  for (T value : values)
    out.push_back([value](Column* column) { column->Append<T>(value); });
  return out;
}

std::vector<Appender> Views(std::initializer_list<std::string> values) {
  std::vector<Appender> out;
  for (const std::string& value : values)
    out.push_back([value](Column* column) { column->AppendView(value); });
  return out;
}

int128 Decimal(std::string_view text, int precision, int scale) {
  auto value = ParseDecimal128(text, precision, scale);
  EXPECT_TRUE(value.ok()) << value.status().ToString();
  return value.ok() ? *value : 0;
}

// Every Sluice type Parquet holds, nullable, with its extremes.
std::vector<ColumnValues> AllTypes() {
  constexpr double kInf = std::numeric_limits<double>::infinity();
  constexpr float kInfF = std::numeric_limits<float>::infinity();
  const std::string max38(38, '9');
  return {
      {{"id", DataType::Int64(), false}, Fixed<int64_t>({1, 2, 3, 4, 5, 6, 7})},
      {{"b", DataType::Bool()}, Fixed<uint8_t>({1, 0})},
      {{"i8", DataType::Int8()}, Fixed<int8_t>({-128, 127, 0, -1})},
      {{"i16", DataType::Int16()}, Fixed<int16_t>({-32768, 32767, 0})},
      {{"i32", DataType::Int32()},
       Fixed<int32_t>({std::numeric_limits<int32_t>::min(), std::numeric_limits<int32_t>::max(),
                       0, -7})},
      {{"i64", DataType::Int64()},
       Fixed<int64_t>({std::numeric_limits<int64_t>::min(), std::numeric_limits<int64_t>::max(),
                       0, 42})},
      {{"u8", DataType::UInt8()}, Fixed<uint8_t>({0, 255, 128})},
      {{"u16", DataType::UInt16()}, Fixed<uint16_t>({0, 65535, 32768})},
      {{"u32", DataType::UInt32()}, Fixed<uint32_t>({0, 4294967295u, 2147483648u})},
      {{"u64", DataType::UInt64()},
       Fixed<uint64_t>({0, std::numeric_limits<uint64_t>::max(), uint64_t{1} << 63, 1})},
      {{"f32", DataType::Float32()},
       Fixed<float>({1.5f, std::nanf(""), kInfF, -kInfF, -0.0f, 0.0f,
                     std::numeric_limits<float>::denorm_min()})},
      {{"f64", DataType::Float64()},
       Fixed<double>({std::nan(""), -kInf, kInf, -0.0, 0.1, 1e300,
                      std::numeric_limits<double>::lowest()})},
      {{"d9", DataType::Decimal(9, 2)},
       Fixed<int128>({Decimal("-9999999.99", 9, 2), Decimal("9999999.99", 9, 2),
                      Decimal("0.01", 9, 2)})},
      {{"d18", DataType::Decimal(18, 4)},
       Fixed<int128>({Decimal("-99999999999999.9999", 18, 4),
                      Decimal("99999999999999.9999", 18, 4), Decimal("-0.0001", 18, 4)})},
      {{"d20", DataType::Decimal(20, 0)},
       Fixed<int128>({Decimal("-99999999999999999999", 20, 0),
                      Decimal("99999999999999999999", 20, 0), Decimal("-1", 20, 0)})},
      {{"d38", DataType::Decimal(38, 10)},
       Fixed<int128>({Decimal(fmt::format("-{}.{}", max38.substr(0, 28), max38.substr(0, 10)),
                              38, 10),
                      Decimal(fmt::format("{}.{}", max38.substr(0, 28), max38.substr(0, 10)),
                              38, 10),
                      Decimal("0", 38, 10), Decimal("-0.0000000001", 38, 10)})},
      {{"d38_0", DataType::Decimal(38, 0)},
       Fixed<int128>({Decimal(fmt::format("-{}", max38), 38, 0), Decimal(max38, 38, 0), 0})},
      {{"s", DataType::String()},
       Views({"", "plain", "héllo wörld", "emoji 😀 and 𝄞", "tab\there\nnewline\\", "Ω"})},
      {{"j", DataType::Json()}, Views({R"({"a":[1,2,{"b":null}]})", "[]", R"("😀")"})},
      {{"bin", DataType::Bytes()}, Views({"", std::string("\0\xff\x80", 3), "abc"})},
      {{"date", DataType::Date()},
       Fixed<int32_t>({static_cast<int32_t>(DaysFromCivil(1, 1, 1)), -1, 0,
                       static_cast<int32_t>(DaysFromCivil(1900, 2, 28)),
                       static_cast<int32_t>(DaysFromCivil(9999, 12, 31))})},
      {{"time", DataType::Time()}, Fixed<int64_t>({0, kMicrosPerDay - 1, 1, 45296789012})},
      {{"ts", DataType::Timestamp()},
       Fixed<int64_t>({DaysFromCivil(1, 1, 1) * kMicrosPerDay, -1, 0, 1,
                       DaysFromCivil(10000, 1, 1) * kMicrosPerDay - 1})},
      {{"tstz", DataType::TimestampTz()},
       Fixed<int64_t>({DaysFromCivil(1, 1, 1) * kMicrosPerDay, -1, 0, 1700000000123456,
                       DaysFromCivil(10000, 1, 1) * kMicrosPerDay - 1})},
  };
}

SchemaPtr SchemaOf(const std::vector<ColumnValues>& columns) {
  std::vector<Field> fields;
  for (const auto& column : columns)
    fields.push_back(column.field);
  return std::make_shared<Schema>(fields);
}

// Rows [first, first + count): row r of column c is NULL when nullable and (r + c) % 5 == 4,
// else value r % n of its list.
void FillBatch(const std::vector<ColumnValues>& columns, size_t first, size_t count,
               Batch* batch) {
  for (size_t r = first; r < first + count; ++r) {
    for (size_t c = 0; c < columns.size(); ++c) {
      const auto& spec = columns[c];
      if (spec.field.nullable && (r + c) % 5 == 4)
        batch->column(c).AppendNull();
      else
        spec.values[r % spec.values.size()](&batch->column(c));
    }
    batch->FinishRow();
  }
}

// Writes `rows` rows of `columns` in batches of `batch_rows` to `path`; returns the row texts.
std::vector<std::string> WriteTable(const std::string& path,
                                    const std::vector<ColumnValues>& columns, size_t rows,
                                    const ParquetWriterOptions& options,
                                    size_t batch_rows = 1000) {
  std::vector<std::string> texts;
  auto output = io::CreateOutputFile(path, io::Compression::kNone);
  EXPECT_TRUE(output.ok()) << output.status().ToString();
  SchemaPtr schema = SchemaOf(columns);
  auto writer = ParquetWriter::Open(output->get(), schema, options);
  EXPECT_TRUE(writer.ok()) << writer.status().ToString();
  if (!writer.ok())
    return texts;
  Batch batch(schema, batch_rows);
  for (size_t first = 0; first < rows; first += batch_rows) {
    batch.Clear();
    FillBatch(columns, first, std::min(batch_rows, rows - first), &batch);
    EXPECT_OK((*writer)->Write(batch));
    AppendRowTexts(batch, &texts);
  }
  EXPECT_OK((*writer)->Finish());
  EXPECT_OK((*output)->Close());
  return texts;
}

// Reports the first difference rather than two huge vectors.
void ExpectSameRows(const std::vector<std::string>& expected,
                    const std::vector<std::string>& actual, const std::string& reader) {
  ASSERT_EQ(expected.size(), actual.size()) << reader << " row count";
  for (size_t i = 0; i < expected.size(); ++i) {
    if (expected[i] != actual[i]) {
      ADD_FAILURE() << reader << " row " << i << ":\nexpected " << expected[i].substr(0, 2000)
                    << "\nactual   " << actual[i].substr(0, 2000);
      return;
    }
  }
}

// Reads `path` with ParquetReader, pyarrow and DuckDB, expecting `expected` from each and
// statistics pyarrow agrees with; returns what the independent readers said.
IndependentRead ExpectReadersAgree(const std::string& path,
                                   const std::vector<std::string>& expected) {
  auto ours = ReadWithSluice(path);
  EXPECT_TRUE(ours.ok()) << ours.status().ToString();
  if (ours.ok())
    ExpectSameRows(expected, *ours, "ParquetReader");
  auto independent = ReadIndependently(path);
  EXPECT_TRUE(independent.ok()) << independent.status().ToString();
  if (!independent.ok())
    return {};
  ExpectSameRows(expected, independent->pyarrow_rows, "pyarrow");
  ExpectSameRows(expected, independent->duckdb_rows, "duckdb");
  for (const std::string& line : independent->statistics)
    EXPECT_THAT(line, ::testing::EndsWith("\tok"));
  return *independent;
}

TEST(ParquetWriterTest, EveryTypeWithNullsAndExtremesReadsBackEverywhere) {
  sluice::testing::TempDir dir;
  std::string path = dir.Join("types.parquet");
  auto columns = AllTypes();
  auto expected = WriteTable(path, columns, 60, ParquetWriterOptions(), 25);
  IndependentRead read = ExpectReadersAgree(path, expected);
  // The exact Parquet types, as pyarrow reports them.
  EXPECT_THAT(read.pyarrow_columns,
              ::testing::ElementsAre(
                  "column\tid\tINT64\tInt(bitWidth=64, isSigned=true)\tINT_64\tREQUIRED",
                  "column\tb\tBOOLEAN\tNone\tNONE\tOPTIONAL",
                  "column\ti8\tINT32\tInt(bitWidth=8, isSigned=true)\tINT_8\tOPTIONAL",
                  "column\ti16\tINT32\tInt(bitWidth=16, isSigned=true)\tINT_16\tOPTIONAL",
                  "column\ti32\tINT32\tInt(bitWidth=32, isSigned=true)\tINT_32\tOPTIONAL",
                  "column\ti64\tINT64\tInt(bitWidth=64, isSigned=true)\tINT_64\tOPTIONAL",
                  "column\tu8\tINT32\tInt(bitWidth=8, isSigned=false)\tUINT_8\tOPTIONAL",
                  "column\tu16\tINT32\tInt(bitWidth=16, isSigned=false)\tUINT_16\tOPTIONAL",
                  "column\tu32\tINT32\tInt(bitWidth=32, isSigned=false)\tUINT_32\tOPTIONAL",
                  "column\tu64\tINT64\tInt(bitWidth=64, isSigned=false)\tUINT_64\tOPTIONAL",
                  "column\tf32\tFLOAT\tNone\tNONE\tOPTIONAL",
                  "column\tf64\tDOUBLE\tNone\tNONE\tOPTIONAL",
                  "column\td9\tINT32\tDecimal(precision=9, scale=2)\tDECIMAL\tOPTIONAL",
                  "column\td18\tINT64\tDecimal(precision=18, scale=4)\tDECIMAL\tOPTIONAL",
                  "column\td20\tFIXED_LEN_BYTE_ARRAY\tDecimal(precision=20, scale=0)\tDECIMAL\t"
                  "OPTIONAL",
                  "column\td38\tFIXED_LEN_BYTE_ARRAY\tDecimal(precision=38, scale=10)\tDECIMAL\t"
                  "OPTIONAL",
                  "column\td38_0\tFIXED_LEN_BYTE_ARRAY\tDecimal(precision=38, scale=0)\tDECIMAL\t"
                  "OPTIONAL",
                  "column\ts\tBYTE_ARRAY\tString\tUTF8\tOPTIONAL",
                  "column\tj\tBYTE_ARRAY\tJSON\tJSON\tOPTIONAL",
                  "column\tbin\tBYTE_ARRAY\tNone\tNONE\tOPTIONAL",
                  "column\tdate\tINT32\tDate\tDATE\tOPTIONAL",
                  "column\ttime\tINT64\tTime(isAdjustedToUTC=false, timeUnit=microseconds)\t"
                  "NONE\tOPTIONAL",
                  "column\tts\tINT64\tTimestamp(isAdjustedToUTC=false, timeUnit=microseconds, "
                  "is_from_converted_type=false, force_set_converted_type=false)\tNONE\tOPTIONAL",
                  "column\ttstz\tINT64\tTimestamp(isAdjustedToUTC=true, timeUnit=microseconds, "
                  "is_from_converted_type=false, force_set_converted_type=false)\t"
                  "TIMESTAMP_MICROS\tOPTIONAL"));
  EXPECT_THAT(read.duckdb_columns,
              ::testing::ElementsAre(
                  "column\tid\tBIGINT", "column\tb\tBOOLEAN", "column\ti8\tTINYINT",
                  "column\ti16\tSMALLINT", "column\ti32\tINTEGER", "column\ti64\tBIGINT",
                  "column\tu8\tUTINYINT", "column\tu16\tUSMALLINT", "column\tu32\tUINTEGER",
                  "column\tu64\tUBIGINT", "column\tf32\tFLOAT", "column\tf64\tDOUBLE",
                  "column\td9\tDECIMAL(9,2)", "column\td18\tDECIMAL(18,4)",
                  "column\td20\tDECIMAL(20,0)", "column\td38\tDECIMAL(38,10)",
                  "column\td38_0\tDECIMAL(38,0)", "column\ts\tVARCHAR", "column\tj\tJSON",
                  "column\tbin\tBLOB", "column\tdate\tDATE", "column\ttime\tTIME",
                  "column\tts\tTIMESTAMP", "column\ttstz\tTIMESTAMP WITH TIME ZONE"));
  // The schema maps back exactly.
  SchemaPtr schema;
  ASSERT_OK(ReadWithSluice(path, &schema).status());
  EXPECT_EQ(schema->ToString(), SchemaOf(columns)->ToString());
}

TEST(ParquetWriterTest, EmptyFileHasTheColumnsAndNoRows) {
  sluice::testing::TempDir dir;
  std::string path = dir.Join("empty.parquet");
  auto expected = WriteTable(path, AllTypes(), 0, ParquetWriterOptions());
  IndependentRead read = ExpectReadersAgree(path, expected);
  EXPECT_EQ(read.pyarrow_columns.size(), AllTypes().size());
  EXPECT_EQ(read.duckdb_columns.size(), AllTypes().size());
  EXPECT_TRUE(read.pyarrow_rows.empty());
}

TEST(ParquetWriterTest, EmptyStringIsNotNullAndUnicodeSurvives) {
  sluice::testing::TempDir dir;
  std::string path = dir.Join("strings.parquet");
  std::vector<ColumnValues> columns = {
      {{"s", DataType::String()},
       Views({"", "a", "\xF0\x9F\x98\x80", "\xF0\x90\x8D\x88 four bytes", "日本語", " "})},
      {{"b", DataType::Bytes()}, Views({"", std::string(1, '\0')})},
  };
  auto expected = WriteTable(path, columns, 30, ParquetWriterOptions());
  ExpectReadersAgree(path, expected);
  // Both an empty string and a NULL are in there.
  EXPECT_THAT(expected, ::testing::Contains("row\t\t\\N"));
  EXPECT_THAT(expected, ::testing::Contains("row\t\\N\t\\\\x"));
}

TEST(ParquetWriterTest, HugeStringsGetPagesOfTheirOwn) {
  sluice::testing::TempDir dir;
  std::string path = dir.Join("huge.parquet");
  std::string big(5 << 20, 'x');
  for (size_t i = 0; i < big.size(); i += 997)
    big[i] = static_cast<char>('a' + i % 26);
  std::vector<ColumnValues> columns = {
      {{"id", DataType::Int32(), false}, Fixed<int32_t>({1, 2, 3})},
      {{"text", DataType::String()}, Views({big, "small", big + "tail"})},
  };
  auto expected = WriteTable(path, columns, 6, ParquetWriterOptions(), 2);
  ExpectReadersAgree(path, expected);
}

TEST(ParquetWriterTest, ManyRowsCrossPageAndRowGroupLimits) {
  sluice::testing::TempDir dir;
  std::string path = dir.Join("many.parquet");
  std::vector<Appender> ids;
  std::vector<ColumnValues> columns = {
      {{"n", DataType::Int64(), false}, {}},
      {{"label", DataType::String()}, {}},
      {{"x", DataType::Float64()}, {}},
  };
  for (int i = 0; i < 1009; ++i) {
    columns[0].values.push_back([i](Column* c) { c->Append<int64_t>(i * 7919LL); });
    columns[1].values.push_back(
        [i](Column* c) { c->AppendView("label-" + std::to_string(i % 300)); });
    columns[2].values.push_back([i](Column* c) { c->Append<double>(i / 3.0); });
  }
  ParquetWriterOptions options;
  options.page_bytes = 4096;
  options.row_group_bytes = 64 << 10;
  auto expected = WriteTable(path, columns, 120000, options, 4096);
  IndependentRead read = ExpectReadersAgree(path, expected);
  ASSERT_OK_AND_ASSIGN(auto file, LocalRandomAccessFile::Open(path));
  ASSERT_OK_AND_ASSIGN(auto reader, ParquetReader::Open(std::move(file)));
  EXPECT_GT(reader->num_row_groups(), 3);
  EXPECT_EQ(reader->num_rows(), 120000);
}

TEST(ParquetWriterTest, EachCompressionReadsBack) {
  for (auto [compression, level] : {std::pair{ParquetCompression::kNone, 0},
                                    std::pair{ParquetCompression::kSnappy, 0},
                                    std::pair{ParquetCompression::kGzip, 9},
                                    std::pair{ParquetCompression::kZstd, 0},
                                    std::pair{ParquetCompression::kZstd, 19}}) {
    SCOPED_TRACE(std::string(ParquetCompressionName(compression)));
    sluice::testing::TempDir dir;
    std::string path = dir.Join("codec.parquet");
    ParquetWriterOptions options;
    options.compression = compression;
    options.compression_level = level;
    auto expected = WriteTable(path, AllTypes(), 500, options, 128);
    IndependentRead read = ExpectReadersAgree(path, expected);
    std::string codec = compression == ParquetCompression::kNone
                            ? "UNCOMPRESSED"
                            : [&] {
                                std::string name(ParquetCompressionName(compression));
                                for (char& c : name)
                                  c = static_cast<char>(std::toupper(c));
                                return name;
                              }();
    ASSERT_FALSE(read.chunks.empty());
    for (const std::string& chunk : read.chunks)
      EXPECT_THAT(chunk, HasSubstr("\t" + codec + "\t"));
  }
}

TEST(ParquetWriterTest, DictionaryFallsBackToPlainWhenFull) {
  sluice::testing::TempDir dir;
  std::string path = dir.Join("fallback.parquet");
  std::vector<ColumnValues> columns = {
      {{"distinct", DataType::String()}, {}},
      {{"few", DataType::String()}, Views({"red", "green", "blue"})},
      {{"n", DataType::Int64()}, {}},
  };
  for (int i = 0; i < 20000; ++i) {
    columns[0].values.push_back([i](Column* c) {
      c->AppendView(fmt::format("a fairly long distinct value number {:08d}", i));
    });
    columns[2].values.push_back([i](Column* c) { c->Append<int64_t>(i * 1000003LL); });
  }
  ParquetWriterOptions options;
  options.dictionary_bytes = 64 << 10;
  options.page_bytes = 16 << 10;
  auto expected = WriteTable(path, columns, 20000, options);
  IndependentRead read = ExpectReadersAgree(path, expected);
  ASSERT_EQ(read.chunks.size(), 3u);
  EXPECT_THAT(read.chunks[0], HasSubstr("PLAIN,RLE,RLE_DICTIONARY"));  // fell back
  EXPECT_THAT(read.chunks[1], ::testing::EndsWith("PLAIN,RLE,RLE_DICTIONARY"));
  EXPECT_THAT(read.chunks[2], HasSubstr("PLAIN,RLE,RLE_DICTIONARY"));

  // Without dictionaries every page is PLAIN.
  options.dictionary = false;
  expected = WriteTable(path, columns, 20000, options);
  read = ExpectReadersAgree(path, expected);
  for (const std::string& chunk : read.chunks)
    EXPECT_THAT(chunk, ::testing::EndsWith("\tPLAIN,RLE"));
}

// A file written over three checkpoints by two processes equals the file written in one go.
TEST(ParquetWriterTest, ResumedFileEqualsOneWrittenInOneGo) {
  auto columns = AllTypes();
  SchemaPtr schema = SchemaOf(columns);
  ParquetWriterOptions options;
  options.compression = ParquetCompression::kZstd;
  std::vector<std::unique_ptr<Batch>> batches;
  for (size_t i = 0; i < 4; ++i) {
    batches.push_back(std::make_unique<Batch>(schema, 300));
    FillBatch(columns, i * 300, 300, batches.back().get());
  }

  // In one go, a row group per batch.
  std::string whole;
  {
    io::StringOutputStream output(&whole);
    ASSERT_OK_AND_ASSIGN(auto writer, ParquetWriter::Open(&output, schema, options));
    for (const auto& batch : batches) {
      ASSERT_OK(writer->Write(*batch));
      ASSERT_OK(writer->FlushRowGroup());
    }
    ASSERT_OK(writer->Finish());
  }

  // With a crash after the second checkpoint: the third batch was written but not committed.
  std::string file;
  std::string state;
  {
    io::StringOutputStream output(&file);
    ASSERT_OK_AND_ASSIGN(auto writer, ParquetWriter::Open(&output, schema, options));
    for (size_t i = 0; i < 3; ++i) {
      ASSERT_OK(writer->Write(*batches[i]));
      if (i < 2) {
        ASSERT_OK(writer->FlushRowGroup());
        state = writer->CommittedState();
        EXPECT_EQ(writer->committed_bytes(), file.size());
      }
    }
  }  // the writer dies without Finish()
  ASSERT_OK_AND_ASSIGN(uint64_t length, ParquetWriter::CommittedFileBytes(state));
  ASSERT_LE(length, file.size());
  file.resize(length);
  {
    io::StringOutputStream output(&file);
    ASSERT_OK_AND_ASSIGN(auto writer, ParquetWriter::Resume(&output, schema, options, state));
    EXPECT_EQ(writer->rows_written(), 600);
    for (size_t i = 2; i < 4; ++i) {
      ASSERT_OK(writer->Write(*batches[i]));
      ASSERT_OK(writer->FlushRowGroup());
    }
    ASSERT_OK(writer->Finish());
  }
  EXPECT_EQ(file.size(), whole.size());
  EXPECT_TRUE(file == whole) << "resumed file differs from the one written in one go";

  // And pyarrow and DuckDB read every row once.
  sluice::testing::TempDir dir;
  std::string path = dir.Join("resumed.parquet");
  sluice::testing::WriteFileOrDie(path, file);
  std::vector<std::string> expected;
  for (const auto& batch : batches)
    AppendRowTexts(*batch, &expected);
  ExpectReadersAgree(path, expected);
}

TEST(ParquetWriterTest, ResumeRefusesAnotherSchemaAndGarbage) {
  auto schema = std::make_shared<Schema>(std::vector<Field>{{"a", DataType::Int32()}});
  auto other = std::make_shared<Schema>(std::vector<Field>{{"a", DataType::Int64()}});
  std::string file;
  io::StringOutputStream output(&file);
  ASSERT_OK_AND_ASSIGN(auto writer, ParquetWriter::Open(&output, schema));
  std::string state = writer->CommittedState();
  EXPECT_EQ(ParquetWriter::CommittedFileBytes(state).value_or(0), 4u);
  auto resumed = ParquetWriter::Resume(&output, other, {}, state);
  ASSERT_FALSE(resumed.ok());
  EXPECT_THAT(resumed.status().message(), HasSubstr("a int64"));
  auto garbage = ParquetWriter::Resume(&output, schema, {}, "not a state");
  ASSERT_FALSE(garbage.ok());
  EXPECT_EQ(garbage.status().code(), StatusCode::kDataError);
}

TEST(ParquetWriterTest, RefusesWhatParquetCannotHoldExactly) {
  std::string file;
  io::StringOutputStream output(&file);
  for (DataType type : {DataType::Decimal(65, 30), DataType::Decimal(0, 0)}) {
    auto schema = std::make_shared<Schema>(std::vector<Field>{{"amount", type}});
    auto writer = ParquetWriter::Open(&output, schema);
    ASSERT_FALSE(writer.ok());
    EXPECT_EQ(writer.status().code(), StatusCode::kUnsupported);
    EXPECT_THAT(writer.status().message(), HasSubstr("column 'amount'"));
    EXPECT_THAT(writer.status().message(), HasSubstr("cast the column to string"));
  }

  auto schema = std::make_shared<Schema>(
      std::vector<Field>{{"t", DataType::Time()}, {"k", DataType::Int32(), false}});
  ASSERT_OK_AND_ASSIGN(auto writer, ParquetWriter::Open(&output, schema));
  Batch batch(schema, 4);
  batch.column(0).Append<int64_t>(-1);
  batch.column(1).Append<int32_t>(1);
  batch.FinishRow();
  Status status = writer->Write(batch);
  EXPECT_EQ(status.code(), StatusCode::kDataError);
  EXPECT_THAT(status.message(), HasSubstr("column 't': time -00:00:00.000001"));

  batch.Clear();
  batch.column(0).Append<int64_t>(1);
  batch.column(1).AppendNull();
  batch.FinishRow();
  status = writer->Write(batch);
  EXPECT_EQ(status.code(), StatusCode::kDataError);
  EXPECT_THAT(status.message(), HasSubstr("column 'k' is not nullable"));
  // Data errors leave the writer usable.
  batch.Clear();
  batch.column(0).Append<int64_t>(kMicrosPerDay);
  batch.column(1).Append<int32_t>(2);
  batch.FinishRow();
  EXPECT_OK(writer->Write(batch));
  EXPECT_OK(writer->Finish());
  EXPECT_EQ(writer->rows_written(), 1);
}

}  // namespace
}  // namespace sluice::formats
