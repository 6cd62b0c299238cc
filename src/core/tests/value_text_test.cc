#include "core/value_text.h"

#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <limits>
#include <random>

#include "testing/gtest_util.h"

namespace sluice {
namespace {

// Parses `text` into a one-row column of `type` and returns its canonical text.
Result<std::string> RoundTrip(const DataType& type, std::string_view text) {
  Arena arena;
  Column column(type, 1, &arena);
  SLUICE_RETURN_IF_ERROR(AppendParsedValue(text, &column));
  std::string out;
  AppendValueText(column, 0, &out);
  return out;
}

TEST(ValueTextTest, EveryTypeRoundTripsItsCanonicalText) {
  struct Case {
    DataType type;
    const char* text;
  };
  for (const Case& c : std::initializer_list<Case>{
           {DataType::Bool(), "true"},
           {DataType::Bool(), "false"},
           {DataType::Int8(), "-128"},
           {DataType::Int16(), "32767"},
           {DataType::Int32(), "-2147483648"},
           {DataType::Int64(), "-9223372036854775808"},
           {DataType::UInt8(), "255"},
           {DataType::UInt16(), "65535"},
           {DataType::UInt32(), "4294967295"},
           {DataType::UInt64(), "18446744073709551615"},
           {DataType::Float32(), "3.4028235e+38"},
           {DataType::Float32(), "0.1"},
           {DataType::Float64(), "0.1"},
           {DataType::Float64(), "1.7976931348623157e+308"},
           {DataType::Float64(), "5e-324"},
           {DataType::Float64(), "-0"},
           {DataType::Float64(), "NaN"},
           {DataType::Float64(), "-Infinity"},
           {DataType::Decimal(12, 2), "-1234567890.12"},
           {DataType::Decimal(65, 30),
            "-12345678901234567890123456789012345.123456789012345678901234567890"},
           {DataType::Decimal(0, 0),
            "3.14159265358979323846264338327950288419716939937510582097494459"},
           {DataType::String(), "héllo wörld 😀"},
           {DataType::String(), ""},
           {DataType::Bytes(), "\\x00ff7f80"},
           {DataType::Bytes(), "\\x"},
           {DataType::Date(), "2024-02-29"},
           {DataType::Time(), "-838:59:59"},
           {DataType::Timestamp(), "1999-12-31 23:59:59.999999"},
           {DataType::TimestampTz(), "2038-01-19 03:14:08+00:00"},
           {DataType::Json(), "{\"a\": [1, 2, null]}"},
       }) {
    ASSERT_OK_AND_ASSIGN(std::string out, RoundTrip(c.type, c.text));
    EXPECT_EQ(out, c.text) << c.type.ToString();
  }
}

TEST(ValueTextTest, DoublesAreBitExact) {
  std::mt19937_64 random(42);
  for (int i = 0; i < 20000; ++i) {
    double value = std::bit_cast<double>(random());
    if (std::isnan(value))
      continue;
    std::string text;
    AppendDouble(value, &text);
    Arena arena;
    Column column(DataType::Float64(), 1, &arena);
    ASSERT_OK(AppendParsedValue(text, &column));
    ASSERT_EQ(std::bit_cast<uint64_t>(column.Get<double>(0)), std::bit_cast<uint64_t>(value))
        << text;
  }
  for (int i = 0; i < 20000; ++i) {
    float value = std::bit_cast<float>(static_cast<uint32_t>(random()));
    if (std::isnan(value))
      continue;
    std::string text;
    AppendFloat(value, &text);
    Arena arena;
    Column column(DataType::Float32(), 1, &arena);
    ASSERT_OK(AppendParsedValue(text, &column));
    ASSERT_EQ(std::bit_cast<uint32_t>(column.Get<float>(0)), std::bit_cast<uint32_t>(value))
        << text;
  }
}

TEST(ValueTextTest, BadInputIsADataErrorAndAppendsNothing) {
  struct Case {
    DataType type;
    const char* text;
    const char* message;
  };
  for (const Case& c : std::initializer_list<Case>{
           {DataType::Int8(), "128", "'128' is out of range for int8"},
           {DataType::Int64(), "12x", "'12x' is not an integer"},
           {DataType::UInt64(), "-1", "'-1' is not an integer"},
           {DataType::Float64(), "1,5", "'1,5' is not a number"},
           {DataType::Bool(), "maybe", "'maybe' is not a boolean"},
           {DataType::Decimal(4, 2), "100", "'100' does not fit decimal(4,2)"},
           {DataType::Bytes(), "00ff",
            "'00ff' is not a bytes value (expected \\x followed by hex digits)"},
           {DataType::Date(), "2023-02-30", "'2023-02-30' is not a date (expected YYYY-MM-DD)"},
       }) {
    Arena arena;
    Column column(c.type, 1, &arena);
    Status status = AppendParsedValue(c.text, &column);
    EXPECT_EQ(status.code(), StatusCode::kDataError) << c.text;
    EXPECT_EQ(status.message(), c.message);
    EXPECT_EQ(column.size(), 0u);
  }
}

TEST(ValueTextTest, Utf8Validation) {
  EXPECT_TRUE(IsValidUtf8("plain ascii text that is long enough for the fast path"));
  EXPECT_TRUE(IsValidUtf8("日本語 😀 ñ"));
  EXPECT_EQ(FindInvalidUtf8("abc\xff"), 3u);
  EXPECT_EQ(FindInvalidUtf8("ok\xc0\xaf"), 2u);                   // overlong '/'
  EXPECT_EQ(FindInvalidUtf8("\xed\xa0\x80"), 0u);                 // surrogate
  EXPECT_EQ(FindInvalidUtf8("0123456789\xf4\x90\x80\x80"), 10u);  // above U+10FFFF
  EXPECT_EQ(FindInvalidUtf8("\xe6\x97"), 0u);                     // truncated
}

}  // namespace
}  // namespace sluice
