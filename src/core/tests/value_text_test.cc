#include "core/value_text.h"

#include <gtest/gtest.h>

#include <bit>
#include <charconv>
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

// Floats take a short path for common values; their text must stay std::to_chars' exactly.
template <typename T>
std::string ToChars(T value) {
  char buffer[64];
  return std::string(buffer, std::to_chars(buffer, buffer + sizeof(buffer), value).ptr);
}

template <typename T>
std::string Written(T value) {
  std::string out;
  if constexpr (sizeof(T) == 4) {
    AppendFloat(value, &out);
  } else {
    AppendDouble(value, &out);
  }
  return out;
}

template <typename T>
void ExpectShortestText(T value, size_t* compared) {
  if (std::isnan(value) || std::isinf(value))
    return;
  ++*compared;
  ASSERT_EQ(Written(value), ToChars(value)) << std::hexfloat << value;
}

TEST(ValueTextTest, FloatTextIsToCharsText) {
  std::mt19937_64 random(20240229);
  size_t compared = 0;
  // Decimals of every length and scale, the values databases hold (prices, rates, ids).
  for (int i = 0; i < 400000; ++i) {
    int digits = 1 + static_cast<int>(random() % 17);
    uint64_t mantissa = random() % (uint64_t{1} << 53);
    uint64_t limit = 1;
    for (int d = 0; d < digits; ++d)
      limit *= 10;
    mantissa %= limit;
    int scale = static_cast<int>(random() % 20) - 2;
    double value = scale >= 0 ? static_cast<double>(mantissa) / std::pow(10.0, scale)
                              : static_cast<double>(mantissa) * std::pow(10.0, -scale);
    if (random() % 2)
      value = -value;
    ExpectShortestText(value, &compared);
    ExpectShortestText(static_cast<float>(value), &compared);
    ExpectShortestText(std::nextafter(value, 0.0), &compared);
    ExpectShortestText(std::nextafter(value, 1e300), &compared);
  }
  // Quotients (x / 7.0 and the like), random bit patterns, and the edges of the short path.
  for (int i = 0; i < 200000; ++i) {
    double quotient =
        static_cast<double>(random() % 10000000) / static_cast<double>(1 + random() % 1000);
    ExpectShortestText(quotient, &compared);
    ExpectShortestText(static_cast<float>(quotient), &compared);
    ExpectShortestText(std::bit_cast<double>(random()), &compared);
    ExpectShortestText(std::bit_cast<float>(static_cast<uint32_t>(random())), &compared);
  }
  for (double edge : {1e-3, 1e-4, 0.00099999999999999999, 0.001000000000000001, 1e15, 1e14,
                      999999999999999.0, 999999999999999.5, 999999999999999.9, 99999999999999.99,
                      1e6, 999999.5, 999999.0, 100000.0, 123456.0, 1234567.0, 0.1, 0.5, 1.0,
                      2.5, 10.0, 1e5, 1e-5, 5e-324, 1.7976931348623157e308, 0.3, 0.7}) {
    for (double value : {edge, -edge, std::nextafter(edge, 0.0), std::nextafter(edge, 1e300)}) {
      ExpectShortestText(value, &compared);
      ExpectShortestText(static_cast<float>(value), &compared);
    }
  }
  for (float value = 0.0009f; value < 2e6f; value = value * 1.0001f + 1e-7f)
    ExpectShortestText(value, &compared);
  EXPECT_GT(compared, 2000000u);
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
