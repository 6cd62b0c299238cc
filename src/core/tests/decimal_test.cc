#include "core/decimal.h"

#include <gtest/gtest.h>

#include <random>

#include "testing/gtest_util.h"

namespace sluice {
namespace {

std::string Format128(int128 v, int scale) {
  std::string out;
  AppendDecimal128(v, scale, &out);
  return out;
}

TEST(DecimalTest, FastPathRoundTrips) {
  struct Case {
    const char* text;
    int precision, scale;
    const char* canonical;
  };
  for (const Case& c : std::initializer_list<Case>{
           {"123.45", 12, 2, "123.45"},
           {"-0.05", 12, 2, "-0.05"},
           {"7", 12, 2, "7.00"},
           {"+3.1", 5, 1, "3.1"},
           {".5", 3, 2, "0.50"},
           {"000012.30", 6, 2, "12.30"},
           {"99999999999999999999999999999999999999", 38, 0,
            "99999999999999999999999999999999999999"},
           {"-9999999999999999999999999999.9999999999", 38, 10,
            "-9999999999999999999999999999.9999999999"},
           {"1.25e2", 6, 1, "125.0"},
           {"1.005", 5, 2, "1.01"},  // half away from zero
           {"-1.005", 5, 2, "-1.01"},
           {" 42 ", 4, 0, "42"},
       }) {
    ASSERT_OK_AND_ASSIGN(int128 v, ParseDecimal128(c.text, c.precision, c.scale));
    EXPECT_EQ(Format128(v, c.scale), c.canonical) << c.text;
  }
}

TEST(DecimalTest, FastPathRejectsOverflowAndGarbage) {
  EXPECT_EQ(ParseDecimal128("1000.00", 5, 2).status().code(), StatusCode::kDataError);
  EXPECT_FALSE(ParseDecimal128("999.995", 5, 2).ok());  // rounds to 1000.00
  EXPECT_FALSE(ParseDecimal128("abc", 5, 2).ok());
  EXPECT_FALSE(ParseDecimal128("", 5, 2).ok());
  EXPECT_FALSE(ParseDecimal128("1.2.3", 5, 2).ok());
  EXPECT_FALSE(ParseDecimal128("NaN", 5, 2).ok());
  EXPECT_FALSE(ParseDecimal128("1e", 5, 2).ok());
}

TEST(DecimalTest, WideTextIsExact) {
  std::string out;
  // MySQL's widest: DECIMAL(65,30).
  const std::string widest = "99999999999999999999999999999999999.999999999999999999999999999999";
  ASSERT_OK(CanonicalDecimalText(widest, 65, 30, &out));
  EXPECT_EQ(out, widest);
  ASSERT_OK(CanonicalDecimalText("-" + widest, 65, 30, &out));
  EXPECT_EQ(out, "-" + widest);
  ASSERT_OK(CanonicalDecimalText("1.5", 65, 30, &out));
  EXPECT_EQ(out, "1.500000000000000000000000000000");
  EXPECT_FALSE(CanonicalDecimalText("1" + widest, 65, 30, &out).ok());
  // Unconstrained NUMERIC keeps digits as written.
  ASSERT_OK(CanonicalDecimalText("000123.4500", 0, -1, &out));
  EXPECT_EQ(out, "123.4500");
  ASSERT_OK(CanonicalDecimalText("-0.000", 0, -1, &out));
  EXPECT_EQ(out, "0.000");
  ASSERT_OK(CanonicalDecimalText("NaN", 0, -1, &out));
  EXPECT_EQ(out, "NaN");
  ASSERT_OK(CanonicalDecimalText("-infinity", 0, -1, &out));
  EXPECT_EQ(out, "-Infinity");
  ASSERT_OK(CanonicalDecimalText("1e3", 0, -1, &out));
  EXPECT_EQ(out, "1000");
  ASSERT_OK(CanonicalDecimalText("12.5e-3", 0, -1, &out));
  EXPECT_EQ(out, "0.0125");
  ASSERT_OK(CanonicalDecimalText("9.995", 0, 2, &out));
  EXPECT_EQ(out, "10.00");
}

TEST(DecimalTest, Int128Extremes) {
  int128 max = Pow10Int128(38) - 1;
  EXPECT_EQ(Format128(max, 0), std::string(38, '9'));
  EXPECT_EQ(Format128(-max, 38), "-0." + std::string(38, '9'));
  EXPECT_EQ(Format128(0, 3), "0.000");
}

}  // namespace
}  // namespace sluice

namespace sluice {
namespace {

TEST(DecimalTest, SixtyFourBitFastPathMatchesTheWideAlgorithm) {
  std::mt19937_64 random(5);
  for (int i = 0; i < 100000; ++i) {
    int scale = static_cast<int>(random() % 20);
    int128 value = static_cast<int64_t>(random()) >> (random() % 60);
    if (i % 7 == 0)
      value = -value;
    std::string fast;
    AppendDecimal128(value, scale, &fast);
    // Reference: all digits with int128 arithmetic, then the point inserted.
    std::string digits;
    AppendInt128(value < 0 ? -value : value, &digits);
    if (scale > 0) {
      if (digits.size() <= static_cast<size_t>(scale)) {
        digits.insert(0, static_cast<size_t>(scale) + 1 - digits.size(), '0');
      }
      digits.insert(digits.size() - static_cast<size_t>(scale), ".");
    }
    ASSERT_EQ(fast, (value < 0 ? "-" : "") + digits) << scale;
  }
}

}  // namespace
}  // namespace sluice
