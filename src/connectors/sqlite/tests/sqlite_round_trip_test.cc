// Every logical type through sink -> SQLite file -> source, compared by canonical text and by
// float bit patterns.
#include <fmt/core.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <bit>
#include <cstring>
#include <random>

#include "connectors/sqlite/tests/sqlite_test_util.h"
#include "core/temporal.h"
#include "core/value_text.h"
#include "testing/gtest_util.h"
#include "testing/temp_dir.h"

namespace sluice::connectors::sqlite {
namespace {

using testing::MakeContext;
using testing::Row;

struct ColumnSpec {
  std::string name;
  DataType type;
  /// Canonical (or parseable) texts tried first, one per row, before random values.
  std::vector<std::string> edges;
};

std::string Utf8Sample() {
  return "\xF0\x9F\x98\x80\xF0\x9D\x84\x9E caf\xC3\xA9 \xE4\xB8\xAD";
}

std::string AllBytesHex() {
  std::string bytes;
  for (int b = 0; b < 256; ++b) {
    bytes.push_back(static_cast<char>(b));
  }
  std::string hex;
  AppendHexBytes(bytes, &hex);
  return hex;
}

std::vector<ColumnSpec> Columns() {
  return {
      {"id", DataType::Int64(), {}},
      {"c_bool", DataType::Bool(), {"true", "false"}},
      {"c_int8", DataType::Int8(), {"-128", "127", "0", "-1"}},
      {"c_int16", DataType::Int16(), {"-32768", "32767"}},
      {"c_int32", DataType::Int32(), {"-2147483648", "2147483647"}},
      {"c_int64", DataType::Int64(), {"-9223372036854775808", "9223372036854775807", "0"}},
      {"c_uint8", DataType::UInt8(), {"0", "255"}},
      {"c_uint16", DataType::UInt16(), {"65535"}},
      {"c_uint32", DataType::UInt32(), {"4294967295"}},
      {"c_uint64",
       DataType::UInt64(),
       {"18446744073709551615", "9223372036854775808", "9223372036854775807", "0"}},
      {"c_float32", DataType::Float32(), {}},
      {"c_float64", DataType::Float64(), {}},
      {"c_dec12_2",
       DataType::Decimal(12, 2),
       {"-9999999999.99", "0.00", "0.01", "-0.01", "1234.5"}},
      {"c_dec38_10",
       DataType::Decimal(38, 10),
       {"9999999999999999999999999999.9999999999", "-0.0000000001"}},
      {"c_dec65_30",
       DataType::Decimal(65, 30),
       {"99999999999999999999999999999999999.999999999999999999999999999999",
        "-12345678901234567890123456789012345.123456789012345678901234567890",
        "0.000000000000000000000000000001"}},
      {"c_decimal",
       DataType::Decimal(0, 0),
       {"123.4500", "-0.000001", "98765432109876543210987654321098765432109876543210.5", "0"}},
      {"c_string",
       DataType::String(),
       {"", "abc", Utf8Sample(), std::string("a\0b", 3), "it's \"quoted\"", "  spaces  ", "123",
        "1e5", "NaN", std::string(10000, 'x')}},
      {"c_varchar", DataType::String(20), {"short", ""}},
      {"c_bytes", DataType::Bytes(), {"\\x", AllBytesHex(), "\\x00", "\\x313233"}},
      {"c_date",
       DataType::Date(),
       {"1970-01-01", "2024-02-29", "9999-12-31", "0001-01-01", "infinity", "-infinity",
        "0044-03-15 BC"}},
      {"c_time",
       DataType::Time(),
       {"00:00:00", "-838:59:59", "838:59:59.999999", "100:00:00.5", "23:59:59.000001"}},
      {"c_timestamp",
       DataType::Timestamp(),
       {"1970-01-01 00:00:00", "1969-12-31 23:59:59.999999", "9999-12-31 23:59:59.999999",
        "2024-02-29 12:34:56.789", "infinity", "-infinity", "0001-01-01 00:00:00"}},
      {"c_timestamptz",
       DataType::TimestampTz(),
       {"1970-01-01 00:00:00+00:00", "2024-02-29 12:34:56.000001+05:30", "infinity", "-infinity",
        "9999-12-31 23:59:59.999999Z"}},
      {"c_json", DataType::Json(), {"{\"a\":[1,2,3]}", "[]", "\"x\"", "123", "null"}},
  };
}

const uint64_t kDoubleEdges[] = {
    0x8000000000000000ULL,  // -0.0
    0x0000000000000000ULL,  // +0.0
    0x0000000000000001ULL,  // smallest subnormal
    0x000fffffffffffffULL,  // largest subnormal
    0x7fefffffffffffffULL,  // max
    0xffefffffffffffffULL,  // lowest
    0x7ff0000000000000ULL,  // +inf
    0xfff0000000000000ULL,  // -inf
    0x7ff8000000000000ULL,  // NaN
    0x7ff8000000000001ULL,  // NaN with payload
    0xfff8000000000000ULL,  // negative NaN
    0x7ff0000000000001ULL,  // signalling NaN
    0x3fb999999999999aULL,  // 0.1
    0x4340000000000001ULL,  // 2^53 + 2
};
const uint32_t kFloatEdges[] = {
    0x80000000U, 0x00000000U, 0x00000001U, 0x7f7fffffU, 0xff7fffffU, 0x7f800000U,
    0xff800000U, 0x7fc00000U, 0x7fc00001U, 0xffc00000U, 0x7f800001U, 0x3dcccccdU,
};

std::string RandomDigits(std::mt19937_64& rng, int count) {
  std::string out;
  for (int i = 0; i < count; ++i) {
    out.push_back(static_cast<char>('0' + rng() % 10));
  }
  return out;
}

std::string RandomText(std::mt19937_64& rng, const ColumnSpec& spec) {
  switch (spec.type.id) {
    case TypeId::kBool:
      return rng() % 2 ? "true" : "false";
    case TypeId::kInt8:
      return std::to_string(static_cast<int8_t>(rng()));
    case TypeId::kInt16:
      return std::to_string(static_cast<int16_t>(rng()));
    case TypeId::kInt32:
      return std::to_string(static_cast<int32_t>(rng()));
    case TypeId::kInt64:
      return std::to_string(static_cast<int64_t>(rng()));
    case TypeId::kUInt8:
      return std::to_string(static_cast<uint8_t>(rng()));
    case TypeId::kUInt16:
      return std::to_string(static_cast<uint16_t>(rng()));
    case TypeId::kUInt32:
      return std::to_string(static_cast<uint32_t>(rng()));
    case TypeId::kUInt64:
      return std::to_string(rng());
    case TypeId::kDecimal: {
      int scale = spec.type.precision == 0 ? static_cast<int>(rng() % 12) : spec.type.scale;
      int integer_digits = spec.type.precision == 0 ? static_cast<int>(rng() % 40) + 1
                                                    : spec.type.precision - spec.type.scale;
      std::string text = rng() % 2 ? "-" : "";
      text +=
          RandomDigits(rng, static_cast<int>(rng() % static_cast<uint64_t>(integer_digits)) + 1);
      if (scale > 0) {
        text += "." + RandomDigits(rng, scale);
      }
      return text;
    }
    case TypeId::kString:
    case TypeId::kJson: {
      size_t length = rng() % (spec.type.length ? spec.type.length : 60);
      std::string text;
      for (size_t i = 0; i < length; ++i) {
        text.push_back(static_cast<char>(' ' + rng() % 95));
      }
      if (spec.type.length == 0 && rng() % 3 == 0) {
        text += Utf8Sample();
      }
      return spec.type.id == TypeId::kJson ? "\"" + RandomDigits(rng, 5) + "\"" : text;
    }
    case TypeId::kBytes: {
      std::string bytes;
      size_t length = rng() % 50;
      for (size_t i = 0; i < length; ++i) {
        bytes.push_back(static_cast<char>(rng()));
      }
      std::string hex;
      AppendHexBytes(bytes, &hex);
      return hex;
    }
    case TypeId::kDate: {
      int32_t days = -719162 + static_cast<int32_t>(rng() % (2932896 + 719162 + 1));
      std::string text;
      AppendDate(days, &text);
      return text;
    }
    case TypeId::kTime: {
      int64_t micros =
          static_cast<int64_t>(rng() % (2000ULL * 3600 * 1000000)) - 1000LL * 3600 * 1000000;
      std::string text;
      AppendTime(micros, &text);
      return text;
    }
    case TypeId::kTimestamp:
    case TypeId::kTimestampTz: {
      const int64_t lo = -62135596800LL * 1000000;
      const int64_t hi = 253402300799999999LL;
      int64_t micros = lo + static_cast<int64_t>(rng() % static_cast<uint64_t>(hi - lo));
      std::string text;
      AppendTimestamp(micros, spec.type.id == TypeId::kTimestampTz, &text);
      return text;
    }
    default:
      return "";
  }
}

// Appends the value of `spec` for row `row` (edge values first, then random, with NULLs).
void AppendValue(const ColumnSpec& spec, size_t column_index, size_t row, std::mt19937_64& rng,
                 Column* column) {
  if (spec.name == "id") {
    column->Append<int64_t>(static_cast<int64_t>(row) + 1);
    return;
  }
  bool edge_row = row < 16;
  if (row == 16 || (!edge_row && (row + column_index) % 11 == 0)) {
    column->AppendNull();
    return;
  }
  if (spec.type.id == TypeId::kFloat64) {
    uint64_t bits = edge_row ? kDoubleEdges[row % std::size(kDoubleEdges)] : rng();
    column->Append<double>(std::bit_cast<double>(bits));
    return;
  }
  if (spec.type.id == TypeId::kFloat32) {
    uint32_t bits =
        edge_row ? kFloatEdges[row % std::size(kFloatEdges)] : static_cast<uint32_t>(rng());
    column->Append<float>(std::bit_cast<float>(bits));
    return;
  }
  std::string text =
      edge_row && !spec.edges.empty() ? spec.edges[row % spec.edges.size()] : RandomText(rng, spec);
  Status parsed = AppendParsedValue(text, column);
  ASSERT_TRUE(parsed.ok()) << spec.name << " '" << text << "': " << parsed.ToString();
}

struct Generated {
  SchemaPtr schema;
  std::vector<std::unique_ptr<Batch>> batches;
  std::vector<Row> rows;
};

Generated Generate(size_t total_rows) {
  std::vector<ColumnSpec> specs = Columns();
  std::vector<Field> fields;
  for (const ColumnSpec& spec : specs) {
    fields.push_back({spec.name, spec.type, spec.name != "id"});
  }
  Generated out;
  out.schema = std::make_shared<const Schema>(std::move(fields), std::vector<int>{0});
  std::mt19937_64 rng(20240229);
  // Odd batch sizes exercise full multi-row statements and single-row tails.
  const size_t sizes[] = {1000, 999, 1, 64, 63, 65, 128, 7};
  size_t row = 0;
  for (size_t b = 0; row < total_rows; ++b) {
    size_t size = std::min(sizes[b % std::size(sizes)], total_rows - row);
    auto batch = std::make_unique<Batch>(out.schema, size);
    for (size_t r = 0; r < size; ++r, ++row) {
      for (size_t c = 0; c < specs.size(); ++c) {
        AppendValue(specs[c], c, row, rng, &batch->column(c));
      }
      batch->FinishRow();
      out.rows.push_back(testing::RowOf(*batch, r));
    }
    out.batches.push_back(std::move(batch));
  }
  return out;
}

TEST(SqliteRoundTripTest, EveryLogicalTypeSurvivesSinkThenSource) {
  Generated data = Generate(3000);
  std::vector<const Batch*> batches;
  for (const auto& batch : data.batches) {
    batches.push_back(batch.get());
  }
  StreamInfo stream{"all_types", data.schema, std::nullopt};

  for (int rows_per_insert : {1, 64}) {
    for (std::string journal_mode : {"wal", "delete"}) {
      SCOPED_TRACE(
          fmt::format("rows_per_insert {} journal_mode {}", rows_per_insert, journal_mode));
      sluice::testing::TempDir dir;
      std::string path = dir.Join("round_trip.db");
      testing::RecordAndFail bad_records;
      JobContext context = MakeContext(&bad_records);
      ASSERT_OK_AND_ASSIGN(
          auto sink, testing::MakeSink(fmt::format(
                         "path: \"{}\"\nrows_per_insert: {}\njournal_mode: {}\ncommit_rows: 1000",
                         path, rows_per_insert, journal_mode)));
      ASSERT_OK(testing::WriteAll(*sink, context, {stream}, batches));

      ASSERT_OK_AND_ASSIGN(
          auto source, testing::MakeSource(
                           fmt::format("path: \"{}\"\ntable: all_types\nsplit_rows: 500", path)));
      ASSERT_OK(source->Open(context));
      ASSERT_EQ(source->streams().size(), 1u);
      const Schema& read_schema = *source->streams()[0].schema;
      ASSERT_EQ(read_schema.num_fields(), data.schema->num_fields());
      EXPECT_EQ(read_schema.primary_key(), std::vector<int>{0});
      EXPECT_FALSE(read_schema.field(0).nullable);
      ASSERT_OK_AND_ASSIGN(auto results, testing::ReadAll(*source, 333));
      ASSERT_EQ(results[0].rows.size(), data.rows.size());
      for (size_t r = 0; r < data.rows.size(); ++r) {
        for (size_t c = 0; c < data.schema->num_fields(); ++c) {
          ASSERT_EQ(results[0].rows[r][c], data.rows[r][c])
              << "row " << r << " column " << data.schema->field(c).name;
        }
      }
      EXPECT_TRUE(bad_records.records().empty());
    }
  }
}

TEST(SqliteRoundTripTest, ValuesAreStoredSoThatOtherToolsReadThem) {
  std::vector<ColumnSpec> specs = Columns();
  Generated data = Generate(20);
  std::vector<const Batch*> batches;
  for (const auto& batch : data.batches) {
    batches.push_back(batch.get());
  }
  sluice::testing::TempDir dir;
  std::string path = dir.Join("stored.db");
  testing::RecordAndFail bad_records;
  ASSERT_OK_AND_ASSIGN(auto sink, testing::MakeSink(fmt::format("path: \"{}\"", path)));
  ASSERT_OK(testing::WriteAll(*sink, MakeContext(&bad_records),
                              {{"all_types", data.schema, std::nullopt}}, batches));

  auto rows = testing::QueryOrDie(
      path,
      "SELECT c_uint64, c_float64, c_dec65_30, c_date, c_timestamp, c_bool, c_bytes, c_string "
      "FROM all_types ORDER BY rowid LIMIT 3");
  // Row 0: uint64 max as text, -0.0 as its bit pattern, wide decimal as text.
  EXPECT_EQ(rows[0][0], "TEXT:18446744073709551615");
  EXPECT_EQ(rows[0][1], "BLOB:\\x8000000000000000");
  EXPECT_EQ(rows[0][2], "TEXT:99999999999999999999999999999999999.999999999999999999999999999999");
  EXPECT_EQ(rows[0][3], "TEXT:1970-01-01");
  EXPECT_EQ(rows[0][4], "TEXT:1970-01-01 00:00:00");
  EXPECT_EQ(rows[0][5], "INTEGER:1");
  EXPECT_EQ(rows[0][6], "BLOB:\\x");
  EXPECT_EQ(rows[0][7], "TEXT:");
  EXPECT_EQ(rows[1][1], "REAL:0");
  EXPECT_EQ(rows[2][1], "REAL:5e-324");
  auto nan = testing::QueryOrDie(path, "SELECT c_float64 FROM all_types WHERE id = 9");
  EXPECT_EQ(nan[0][0], "TEXT:NaN");
  auto types = testing::QueryOrDie(path, "SELECT sql FROM sqlite_schema WHERE name = 'all_types'");
  EXPECT_THAT(types[0][0], ::testing::HasSubstr("\"c_uint64\" UNSIGNED64_TEXT"));
  EXPECT_THAT(types[0][0], ::testing::HasSubstr("\"c_dec65_30\" DECIMAL_TEXT(65,30)"));
  EXPECT_THAT(types[0][0], ::testing::HasSubstr("\"id\" INTEGER NOT NULL"));
  EXPECT_THAT(types[0][0], ::testing::HasSubstr("PRIMARY KEY (\"id\")"));
}

}  // namespace
}  // namespace sluice::connectors::sqlite
