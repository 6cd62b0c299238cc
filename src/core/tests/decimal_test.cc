#include "core/decimal.h"

#include <fmt/core.h>
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
           {"1.500", 5, 2, "1.50"},  // zeros beyond the scale change nothing
           {"-2.5000e1", 5, 2, "-25.00"},
           {" 42 ", 4, 0, "42"},
       }) {
    ASSERT_OK_AND_ASSIGN(int128 v, ParseDecimal128(c.text, c.precision, c.scale));
    EXPECT_EQ(Format128(v, c.scale), c.canonical) << c.text;
  }
}

TEST(DecimalTest, FastPathRejectsOverflowAndGarbage) {
  EXPECT_EQ(ParseDecimal128("1000.00", 5, 2).status().code(), StatusCode::kDataError);
  EXPECT_FALSE(ParseDecimal128("999.995", 5, 2).ok());  // would round (to 1000.00)
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
  EXPECT_EQ(CanonicalDecimalText("9.995", 0, 2, &out).code(), StatusCode::kDataError);
  ASSERT_OK(CanonicalDecimalText("9.9950", 0, 3, &out));
  EXPECT_EQ(out, "9.995");
}

// Issue 10: a decimal(12,2) cast or schema turned 1.005 into 1.01 and -0.125 into -0.13. A value
// that does not fit its scale exactly is a data error, whichever path parses it.
TEST(DecimalTest, Issue10ValuesBeyondTheScaleAreRefusedNotRounded) {
  for (const char* text : {"1.005", "-0.125", "0.001", "1.0000001", "1.005e0", "100.5e-2"}) {
    Result<int128> fast = ParseDecimal128(text, 12, 2);
    ASSERT_FALSE(fast.ok()) << text;
    EXPECT_EQ(fast.status().code(), StatusCode::kDataError);
    EXPECT_EQ(fast.status().message(), fmt::format("'{}' would be rounded to fit decimal(12,2)", text));
    std::string out;
    Status wide = CanonicalDecimalText(text, 50, 2, &out);
    EXPECT_EQ(wide.code(), StatusCode::kDataError) << text;
    EXPECT_EQ(wide.message(), fmt::format("'{}' would be rounded to fit decimal(50,2)", text));
  }
}

TEST(DecimalTest, CheckDecimal128FitsNamesRoundingAndOverflow) {
  // 1.005 as decimal(10,3) into decimal(5,2).
  Status rounded = CheckDecimal128Fits(1005, 3, 5, 2);
  EXPECT_EQ(rounded.code(), StatusCode::kDataError);
  EXPECT_EQ(rounded.message(), "'1.005' would be rounded to fit decimal(5,2)");
  EXPECT_OK(CheckDecimal128Fits(1010, 3, 5, 2));     // 1.010
  EXPECT_OK(CheckDecimal128Fits(-99999, 2, 5, 2));   // -999.99
  EXPECT_OK(CheckDecimal128Fits(-999, 0, 5, 2));     // -999
  EXPECT_OK(CheckDecimal128Fits(5, 0, 38, 0));
  EXPECT_EQ(CheckDecimal128Fits(1000, 0, 5, 2).message(), "'1000' does not fit decimal(5,2)");
  EXPECT_EQ(CheckDecimal128Fits(-100000, 2, 5, 2).message(),
            "'-1000.00' does not fit decimal(5,2)");
  int128 max = Pow10Int128(38) - 1;
  EXPECT_OK(CheckDecimal128Fits(max, 0, 65, 0));
  EXPECT_OK(CheckDecimal128Fits(max, 38, 65, 30 + 8));
  EXPECT_FALSE(CheckDecimal128Fits(max, 38, 65, 30).ok());
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
