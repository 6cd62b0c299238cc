#include "core/temporal.h"

#include <fmt/core.h>
#include <gtest/gtest.h>

#include <random>

#include "testing/gtest_util.h"

namespace sluice {
namespace {

TEST(TemporalTest, CivilDaysRoundTripOverCenturies) {
  for (int64_t days = -800000; days <= 3000000; days += 997) {
    int64_t y;
    unsigned m;
    unsigned d;
    CivilFromDays(days, &y, &m, &d);
    ASSERT_EQ(DaysFromCivil(y, m, d), days);
  }
  EXPECT_EQ(DaysFromCivil(1970, 1, 1), 0);
  EXPECT_EQ(DaysFromCivil(2000, 3, 1), 11017);
}

TEST(TemporalTest, DateText) {
  for (const char* text : {"1970-01-01", "2024-02-29", "9999-12-31", "0001-01-01", "1066-10-14",
                           "infinity", "-infinity", "0044-03-15 BC"}) {
    ASSERT_OK_AND_ASSIGN(int32_t days, ParseDate(text));
    std::string out;
    AppendDate(days, &out);
    EXPECT_EQ(out, text);
  }
  EXPECT_FALSE(ParseDate("2023-02-29").ok());
  EXPECT_FALSE(ParseDate("0000-00-00").ok());
  EXPECT_FALSE(ParseDate("2023-1-5").ok());
  EXPECT_FALSE(ParseDate("yesterday").ok());
}

TEST(TemporalTest, TimeBeyondADayAndNegative) {
  for (const char* text : {"00:00:00", "13:45:07.25", "838:59:59", "-838:59:59", "-00:00:01.5",
                           "24:00:00", "100:00:00.000001"}) {
    ASSERT_OK_AND_ASSIGN(int64_t micros, ParseTime(text));
    std::string out;
    AppendTime(micros, &out);
    EXPECT_EQ(out, text);
  }
  ASSERT_OK_AND_ASSIGN(int64_t micros, ParseTime("12:30"));
  EXPECT_EQ(micros, (12 * 3600 + 30 * 60) * kMicrosPerSecond);
  EXPECT_FALSE(ParseTime("12:61:00").ok());
  EXPECT_FALSE(ParseTime("12:00:00.1234567").ok());
}

TEST(TemporalTest, TimestampsWithAndWithoutZone) {
  ASSERT_OK_AND_ASSIGN(int64_t a, ParseTimestamp("2024-02-29 13:45:07.000123", false));
  std::string out;
  AppendTimestamp(a, false, &out);
  EXPECT_EQ(out, "2024-02-29 13:45:07.000123");

  ASSERT_OK_AND_ASSIGN(int64_t b, ParseTimestamp("2024-02-29T15:45:07.000123+02:00", true));
  EXPECT_EQ(a, b);
  out.clear();
  AppendTimestamp(b, true, &out);
  EXPECT_EQ(out, "2024-02-29 13:45:07.000123+00:00");

  ASSERT_OK_AND_ASSIGN(int64_t c, ParseTimestamp("1969-12-31 23:59:59.5Z", true));
  EXPECT_EQ(c, -500000);
  out.clear();
  AppendTimestamp(c, true, &out);
  EXPECT_EQ(out, "1969-12-31 23:59:59.5+00:00");

  ASSERT_OK_AND_ASSIGN(int64_t d, ParseTimestamp("2000-01-01 05:30:00-0530", true));
  EXPECT_EQ(d, ParseTimestamp("2000-01-01 11:00:00", true).value());

  ASSERT_OK_AND_ASSIGN(int64_t midnight, ParseTimestamp("2001-09-09", false));
  out.clear();
  AppendTimestamp(midnight, false, &out);
  EXPECT_EQ(out, "2001-09-09 00:00:00");

  Result<int64_t> zoned = ParseTimestamp("2000-01-01 00:00:00+01", false);
  ASSERT_FALSE(zoned.ok());
  EXPECT_NE(zoned.status().message().find("without time zone"), std::string::npos);
  EXPECT_FALSE(ParseTimestamp("2000-13-01 00:00:00", false).ok());
  EXPECT_EQ(ParseTimestamp("infinity", true).value(), kTimestampInfinity);
}

TEST(TemporalTest, EveryPlainDayIsWrittenAsItsCivilDate) {
  std::string text;
  for (int64_t day = DaysFromCivil(1, 1, 1); day <= DaysFromCivil(9999, 12, 31); ++day) {
    int64_t year;
    unsigned month;
    unsigned d;
    CivilFromDays(day, &year, &month, &d);
    text.clear();
    AppendDate(static_cast<int32_t>(day), &text);
    ASSERT_EQ(text, fmt::format("{:04d}-{:02d}-{:02d}", year, month, d)) << day;
  }
}

}  // namespace
}  // namespace sluice

namespace sluice {
namespace {

// The canonical text, spelled the slow obvious way, to check the fast paths against.
std::string ReferenceTimestamp(int64_t micros, bool zone) {
  int64_t days = micros / kMicrosPerDay - (micros % kMicrosPerDay < 0 ? 1 : 0);
  int64_t in_day = micros - days * kMicrosPerDay;
  int64_t y;
  unsigned m;
  unsigned d;
  CivilFromDays(days, &y, &m, &d);
  std::string out = fmt::format("{:04d}-{:02d}-{:02d} {:02d}:{:02d}:{:02d}", y, m, d,
                                in_day / 3600000000, in_day / 60000000 % 60, in_day / 1000000 % 60);
  int64_t fraction = in_day % 1000000;
  if (fraction != 0) {
    std::string digits = fmt::format(".{:06d}", fraction);
    while (digits.back() == '0')
      digits.pop_back();
    out += digits;
  }
  if (zone)
    out += "+00:00";
  return out;
}

TEST(TemporalTest, FastTextMatchesTheReferenceOverTheWholePlainRange) {
  std::mt19937_64 random(11);
  const int64_t first = DaysFromCivil(1, 1, 1) * kMicrosPerDay;
  const int64_t last = (DaysFromCivil(9999, 12, 31) + 1) * kMicrosPerDay - 1;
  for (int i = 0; i < 200000; ++i) {
    int64_t micros = first + static_cast<int64_t>(random() % static_cast<uint64_t>(last - first));
    if (i % 3 == 0)
      micros -= micros % kMicrosPerSecond;  // whole seconds too
    for (bool zone : {false, true}) {
      std::string fast;
      AppendTimestamp(micros, zone, &fast);
      ASSERT_EQ(fast, ReferenceTimestamp(micros, zone)) << micros;
    }
    std::string date;
    AppendDate(static_cast<int32_t>(micros / kMicrosPerDay), &date);
    ASSERT_EQ(date,
              ReferenceTimestamp(micros / kMicrosPerDay * kMicrosPerDay, false).substr(0, 10));
  }
  for (int64_t edge : {first, last, int64_t{0}, int64_t{-1}}) {
    std::string fast;
    AppendTimestamp(edge, true, &fast);
    EXPECT_EQ(fast, ReferenceTimestamp(edge, true));
  }
}

}  // namespace
}  // namespace sluice
