#include "server/cron.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <ctime>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "core/temporal.h"
#include "testing/gtest_util.h"

namespace sluice::server {
namespace {

/// "2026-03-29 01:00:00" (UTC) to seconds since the epoch.
int64_t Utc(std::string_view text) {
  Result<int64_t> micros = ParseTimestamp(text, /*with_zone=*/true);
  EXPECT_TRUE(micros.ok()) << text;
  return micros.value_or(0) / kMicrosPerSecond;
}

std::string UtcText(std::optional<int64_t> seconds) {
  if (!seconds)
    return "none";
  std::string text;
  AppendTimestamp(*seconds * kMicrosPerSecond, /*with_zone=*/false, &text);
  return text;
}

/// The first fire after `after` as UTC text, or the parse error.
std::string NextAfter(std::string_view expr, std::string_view after,
                      std::string_view time_zone = "UTC") {
  Result<CronSchedule> schedule = CronSchedule::Parse(expr, time_zone);
  if (!schedule.ok())
    return schedule.status().ToString();
  return UtcText(schedule->NextAfter(Utc(after)));
}

/// The fires after `after`, `count` of them, as UTC text.
std::vector<std::string> Fires(std::string_view expr, std::string_view time_zone,
                               std::string_view after, int count) {
  std::vector<std::string> fires;
  Result<CronSchedule> schedule = CronSchedule::Parse(expr, time_zone);
  if (!schedule.ok())
    return {schedule.status().ToString()};
  std::optional<int64_t> time = Utc(after);
  for (int i = 0; i < count && time; ++i) {
    time = schedule->NextAfter(*time);
    fires.push_back(UtcText(time));
  }
  return fires;
}

struct Case {
  std::string_view expr;
  std::string_view after;  // UTC
  std::string_view want;   // UTC
};

void ExpectCases(const std::vector<Case>& cases, std::string_view time_zone = "UTC") {
  for (const Case& c : cases) {
    EXPECT_EQ(NextAfter(c.expr, c.after, time_zone), c.want)
        << "'" << c.expr << "' in " << time_zone << " after " << c.after;
  }
}

// 2026-03-10 is a Tuesday.
TEST(CronScheduleTest, FieldForms) {
  ExpectCases({
      {"* * * * *", "2026-03-10 12:34:56", "2026-03-10 12:35:00"},
      {"* * * * *", "2026-03-10 12:35:00", "2026-03-10 12:36:00"},
      {"5 * * * *", "2026-03-10 12:34:56", "2026-03-10 13:05:00"},
      {"0 9-17 * * *", "2026-03-10 17:30:00", "2026-03-11 09:00:00"},
      {"0 9-17 * * *", "2026-03-10 08:59:59", "2026-03-10 09:00:00"},
      {"0,30 * * * *", "2026-03-10 12:00:00", "2026-03-10 12:30:00"},
      {"0,30 * * * *", "2026-03-10 12:30:00", "2026-03-10 13:00:00"},
      {"*/20 * * * *", "2026-03-10 12:41:00", "2026-03-10 13:00:00"},
      {"10-50/20 * * * *", "2026-03-10 12:31:00", "2026-03-10 12:50:00"},
      {"10-50/20 * * * *", "2026-03-10 12:50:00", "2026-03-10 13:10:00"},
      {"15/20 * * * *", "2026-03-10 12:56:00", "2026-03-10 13:15:00"},
      {"15/20 * * * *", "2026-03-10 13:15:00", "2026-03-10 13:35:00"},
      {"0 0,12 * * *", "2026-03-10 12:00:00", "2026-03-11 00:00:00"},
      {"0 0 10,20 * *", "2026-03-10 00:00:00", "2026-03-20 00:00:00"},
      {"0 0 31 * *", "2026-03-31 00:00:00", "2026-05-31 00:00:00"},
      {"0 0 1 */3 *", "2026-03-10 00:00:00", "2026-04-01 00:00:00"},
      {"0 0 * 12 *", "2026-12-31 23:59:59", "2027-12-01 00:00:00"},
      {"59 23 31 12 *", "2026-03-10 00:00:00", "2026-12-31 23:59:00"},
      // Crossing the end of a month, of a year.
      {"0 0 * * *", "2026-02-28 00:00:00", "2026-03-01 00:00:00"},
      {"0 0 * * *", "2026-12-31 12:00:00", "2027-01-01 00:00:00"},
  });
}

TEST(CronScheduleTest, NamesAndSundays) {
  ExpectCases({
      {"0 0 * JAN,jul *", "2026-03-10 00:00:00", "2026-07-01 00:00:00"},
      {"0 0 * Mar-May *", "2026-05-31 00:00:00", "2027-03-01 00:00:00"},
      {"0 0 * * MON-FRI", "2026-03-13 12:00:00", "2026-03-16 00:00:00"},
      {"0 0 * * mon-fri", "2026-03-10 12:00:00", "2026-03-11 00:00:00"},
      {"0 0 * * 0", "2026-03-10 00:00:00", "2026-03-15 00:00:00"},
      {"0 0 * * 7", "2026-03-10 00:00:00", "2026-03-15 00:00:00"},
      {"0 0 * * Sun", "2026-03-10 00:00:00", "2026-03-15 00:00:00"},
      // SUN closing a range is 7, so FRI-SUN is Friday to Sunday, like 5-7.
      {"0 0 * * FRI-SUN", "2026-03-10 00:00:00", "2026-03-13 00:00:00"},
      {"0 0 * * FRI-SUN", "2026-03-14 12:00:00", "2026-03-15 00:00:00"},
      {"0 0 * * 5-7", "2026-03-14 12:00:00", "2026-03-15 00:00:00"},
      {"0 0 * * 5-7", "2026-03-15 12:00:00", "2026-03-20 00:00:00"},
      {"0 0 * * */2", "2026-03-10 00:00:00", "2026-03-12 00:00:00"},  // Sun, Tue, Thu, Sat
  });
}

TEST(CronScheduleTest, Macros) {
  ExpectCases({
      {"@yearly", "2026-03-10 12:34:56", "2027-01-01 00:00:00"},
      {"@annually", "2026-03-10 12:34:56", "2027-01-01 00:00:00"},
      {"@monthly", "2026-03-10 12:34:56", "2026-04-01 00:00:00"},
      {"@weekly", "2026-03-10 12:34:56", "2026-03-15 00:00:00"},
      {"@daily", "2026-03-10 12:34:56", "2026-03-11 00:00:00"},
      {"@midnight", "2026-03-10 12:34:56", "2026-03-11 00:00:00"},
      {"@hourly", "2026-03-10 12:34:56", "2026-03-10 13:00:00"},
      {"@DAILY", "2026-03-10 12:34:56", "2026-03-11 00:00:00"},
  });
  // In a zone, a macro is local time: midnight in Berlin (CET) is 23:00 UTC.
  ExpectCases({{"@daily", "2026-03-10 12:34:56", "2026-03-10 23:00:00"}}, "Europe/Berlin");
}

// Multiples of the interval since the epoch, the same in every zone.
TEST(CronScheduleTest, Every) {
  for (std::string_view zone : {"UTC", "Europe/Berlin", "America/New_York"}) {
    ExpectCases(
        {
            {"@every 30s", "2026-03-10 12:34:56", "2026-03-10 12:35:00"},
            {"@every 30s", "2026-03-10 12:35:00", "2026-03-10 12:35:30"},
            {"@every 5m", "2026-03-10 12:34:56", "2026-03-10 12:35:00"},
            {"@every 2h", "2026-03-10 12:34:56", "2026-03-10 14:00:00"},
            // 5400 s divides a day: 00:00, 01:30, ..., 12:00, 13:30.
            {"@every 1h30m", "2026-03-10 12:34:56", "2026-03-10 13:30:00"},
            {"@every 7s", "1970-01-01 00:00:00", "1970-01-01 00:00:07"},
            {"@every 7s", "1969-12-31 23:59:59", "1970-01-01 00:00:00"},
            {"@every 7s", "1969-12-31 23:59:52", "1969-12-31 23:59:53"},
            // Across the DST change: real seconds, nothing skipped or repeated.
            {"@every 1h", "2026-03-29 00:30:00", "2026-03-29 01:00:00"},
            {"@every 1h", "2026-10-25 00:30:00", "2026-10-25 01:00:00"},
        },
        zone);
  }
}

// Both restricted: either matches. 2026-03-16 and 2026-03-30 are Mondays.
TEST(CronScheduleTest, DayOfMonthOrDayOfWeek) {
  ExpectCases({
      {"0 0 1 * MON", "2026-03-10 00:00:00", "2026-03-16 00:00:00"},
      {"0 0 1 * MON", "2026-03-30 12:00:00", "2026-04-01 00:00:00"},
      {"0 0 1 * MON", "2026-04-01 00:00:00", "2026-04-06 00:00:00"},
      // One restricted: that one alone.
      {"0 0 1 * *", "2026-03-10 00:00:00", "2026-04-01 00:00:00"},
      {"0 0 * * MON", "2026-03-10 00:00:00", "2026-03-16 00:00:00"},
      // A step is a restriction (unlike Vixie cron): odd days or Mondays.
      {"0 0 */2 * MON", "2026-03-15 12:00:00", "2026-03-16 00:00:00"},
      {"0 0 */2 * MON", "2026-03-16 00:00:00", "2026-03-17 00:00:00"},
      {"0 0 1-31 * MON", "2026-03-10 00:00:00", "2026-03-11 00:00:00"},
      // Feb 29th or any Monday in February; 2027-02-01 is a Monday.
      {"0 0 29 2 MON", "2026-03-10 00:00:00", "2027-02-01 00:00:00"},
  });
}

TEST(CronScheduleTest, LeapDays) {
  ExpectCases({
      {"0 0 29 2 *", "2026-03-10 00:00:00", "2028-02-29 00:00:00"},
      {"0 0 29 2 *", "2028-02-29 00:00:00", "2032-02-29 00:00:00"},
      {"0 0 29 2 *", "2096-03-01 00:00:00", "2104-02-29 00:00:00"},  // 2100 is no leap year
      {"0 0 29 2 *", "1999-03-01 00:00:00", "2000-02-29 00:00:00"},  // 2000 is one
      {"0 0 31 2,3 *", "2026-03-10 00:00:00", "2026-03-31 00:00:00"},
  });
  ExpectCases({{"0 0 29 2 *", "2026-03-10 00:00:00", "2028-02-28 23:00:00"}}, "Europe/Berlin");
}

TEST(CronScheduleTest, NeverFires) {
  for (std::string_view expr : {"0 0 30 2 *", "0 0 31 4,6,9,11 *", "0 0 30,31 feb *"}) {
    ASSERT_OK_AND_ASSIGN(CronSchedule schedule, CronSchedule::Parse(expr));
    EXPECT_EQ(schedule.NextAfter(Utc("2026-03-10 00:00:00")), std::nullopt) << expr;
  }
}

TEST(CronScheduleTest, SecondsField) {
  ExpectCases({
      {"*/15 * * * * *", "2026-03-10 12:34:56", "2026-03-10 12:35:00"},
      {"*/15 * * * * *", "2026-03-10 12:35:00", "2026-03-10 12:35:15"},
      {"0-10/5 * * * * *", "2026-03-10 12:35:05", "2026-03-10 12:35:10"},
      {"0-10/5 * * * * *", "2026-03-10 12:35:10", "2026-03-10 12:36:00"},
      {"30 0 12 * * *", "2026-03-10 12:00:29", "2026-03-10 12:00:30"},
      {"30 0 12 * * *", "2026-03-10 12:00:30", "2026-03-11 12:00:30"},
      {"59 59 23 31 12 *", "2026-03-10 00:00:00", "2026-12-31 23:59:59"},
  });
}

// Europe/Berlin, 2026: spring forward on March 29th at 01:00 UTC (02:00 CET becomes 03:00 CEST),
// fall back on October 25th at 01:00 UTC (03:00 CEST becomes 02:00 CET).
TEST(CronScheduleTest, DaylightSavingBerlinWallClock) {
  const std::string_view berlin = "Europe/Berlin";
  // 02:30 does not exist on March 29th: it fires at the change, 03:00 CEST.
  EXPECT_EQ(Fires("30 2 * * *", berlin, "2026-03-27 12:00:00", 3),
            (std::vector<std::string>{"2026-03-28 01:30:00", "2026-03-29 01:00:00",
                                      "2026-03-30 00:30:00"}));
  // Several missing times of one gap fire once; 02:00 and 03:00 both mean the change.
  EXPECT_EQ(Fires("*/15 2 * * *", berlin, "2026-03-29 00:00:00", 2),
            (std::vector<std::string>{"2026-03-29 01:00:00", "2026-03-30 00:00:00"}));
  EXPECT_EQ(Fires("0 2,3 * * *", berlin, "2026-03-29 00:00:00", 3),
            (std::vector<std::string>{"2026-03-29 01:00:00", "2026-03-30 00:00:00",
                                      "2026-03-30 01:00:00"}));
  // 02:30 comes twice on October 25th: only the first (CEST) fires.
  EXPECT_EQ(Fires("30 2 * * *", berlin, "2026-10-24 12:00:00", 2),
            (std::vector<std::string>{"2026-10-25 00:30:00", "2026-10-26 01:30:00"}));
  // Starting inside the repeated hour, its second pass does not fire either.
  EXPECT_EQ(NextAfter("30 2 * * *", "2026-10-25 01:10:00", berlin), "2026-10-26 01:30:00");
  EXPECT_EQ(NextAfter("30 2 * * *", "2026-10-25 00:10:00", berlin), "2026-10-25 00:30:00");
  // Just outside the changes nothing is special.
  EXPECT_EQ(NextAfter("0 1 * * *", "2026-03-28 12:00:00", berlin), "2026-03-29 00:00:00");
  EXPECT_EQ(NextAfter("0 4 * * *", "2026-10-24 12:00:00", berlin), "2026-10-25 03:00:00");
}

TEST(CronScheduleTest, DaylightSavingBerlinRepeating) {
  const std::string_view berlin = "Europe/Berlin";
  // Hourly: one fire in every real hour, none skipped or doubled.
  EXPECT_EQ(Fires("0 * * * *", berlin, "2026-03-28 23:00:00", 3),
            (std::vector<std::string>{"2026-03-29 00:00:00", "2026-03-29 01:00:00",
                                      "2026-03-29 02:00:00"}));
  EXPECT_EQ(Fires("30 * * * *", berlin, "2026-03-28 23:30:00", 3),
            (std::vector<std::string>{"2026-03-29 00:30:00", "2026-03-29 01:30:00",
                                      "2026-03-29 02:30:00"}));
  EXPECT_EQ(Fires("@hourly", berlin, "2026-10-24 23:00:00", 3),
            (std::vector<std::string>{"2026-10-25 00:00:00", "2026-10-25 01:00:00",
                                      "2026-10-25 02:00:00"}));
  EXPECT_EQ(Fires("*/30 * * * *", berlin, "2026-10-24 23:45:00", 5),
            (std::vector<std::string>{"2026-10-25 00:00:00", "2026-10-25 00:30:00",
                                      "2026-10-25 01:00:00", "2026-10-25 01:30:00",
                                      "2026-10-25 02:00:00"}));
  // A step in the hour field fires at real instants too: 02:00 twice, at 00:00 and 01:00 UTC.
  EXPECT_EQ(Fires("0 */2 * * *", berlin, "2026-10-24 21:30:00", 4),
            (std::vector<std::string>{"2026-10-24 22:00:00", "2026-10-25 00:00:00",
                                      "2026-10-25 01:00:00", "2026-10-25 03:00:00"}));
  // ... and a missing 02:00 not at all.
  EXPECT_EQ(Fires("0 */2 * * *", berlin, "2026-03-28 22:30:00", 2),
            (std::vector<std::string>{"2026-03-28 23:00:00", "2026-03-29 02:00:00"}));
}

// America/New_York, 2026: spring forward on March 8th at 07:00 UTC (02:00 EST becomes 03:00
// EDT), fall back on November 1st at 06:00 UTC (02:00 EDT becomes 01:00 EST).
TEST(CronScheduleTest, DaylightSavingNewYork) {
  const std::string_view new_york = "America/New_York";
  EXPECT_EQ(Fires("30 2 * * *", new_york, "2026-03-07 00:00:00", 3),
            (std::vector<std::string>{"2026-03-07 07:30:00", "2026-03-08 07:00:00",
                                      "2026-03-09 06:30:00"}));
  EXPECT_EQ(Fires("30 1 * * *", new_york, "2026-10-31 12:00:00", 2),
            (std::vector<std::string>{"2026-11-01 05:30:00", "2026-11-02 06:30:00"}));
  EXPECT_EQ(NextAfter("30 1 * * *", "2026-11-01 06:10:00", new_york), "2026-11-02 06:30:00");
  EXPECT_EQ(Fires("0 * * * *", new_york, "2026-03-08 05:30:00", 3),
            (std::vector<std::string>{"2026-03-08 06:00:00", "2026-03-08 07:00:00",
                                      "2026-03-08 08:00:00"}));
  EXPECT_EQ(Fires("0 * * * *", new_york, "2026-11-01 04:30:00", 3),
            (std::vector<std::string>{"2026-11-01 05:00:00", "2026-11-01 06:00:00",
                                      "2026-11-01 07:00:00"}));
  EXPECT_EQ(Fires("*/20 1 * * *", new_york, "2026-11-01 05:30:00", 3),
            (std::vector<std::string>{"2026-11-01 05:40:00", "2026-11-02 06:00:00",
                                      "2026-11-02 06:20:00"}));
}

TEST(CronScheduleTest, OtherZones) {
  // India: +05:30 all year.
  ExpectCases({{"0 9 * * *", "2026-03-10 00:00:00", "2026-03-10 03:30:00"}}, "Asia/Kolkata");
  // Fixed offsets: Etc/GMT-2 is UTC+2.
  ExpectCases({{"0 9 * * *", "2026-03-10 00:00:00", "2026-03-10 07:00:00"}}, "Etc/GMT-2");
  // Southern hemisphere: Sydney is on AEDT (+11) in January.
  ExpectCases({{"0 9 * * *", "2026-01-10 00:00:00", "2026-01-10 22:00:00"}}, "Australia/Sydney");
}

TEST(CronScheduleTest, Accessors) {
  ASSERT_OK_AND_ASSIGN(CronSchedule schedule, CronSchedule::Parse("0 9 * * MON", "Europe/Berlin"));
  EXPECT_EQ(schedule.expression(), "0 9 * * MON");
  EXPECT_EQ(schedule.time_zone(), "Europe/Berlin");
  ASSERT_OK_AND_ASSIGN(CronSchedule utc, CronSchedule::Parse("@daily"));
  EXPECT_EQ(utc.time_zone(), "UTC");
}

TEST(CronScheduleTest, ParseErrors) {
  struct ErrorCase {
    std::string_view expr;
    std::string_view message;
  };
  const std::vector<ErrorCase> cases = {
      {"61 * * * *", "cron '61 * * * *': minute 61 is out of range 0-59"},
      {"* 24 * * *", "cron '* 24 * * *': hour 24 is out of range 0-23"},
      {"* * 0 * *", "cron '* * 0 * *': day-of-month 0 is out of range 1-31"},
      {"* * 32 * *", "cron '* * 32 * *': day-of-month 32 is out of range 1-31"},
      {"* * * 13 *", "cron '* * * 13 *': month 13 is out of range 1-12"},
      {"* * * * 8", "cron '* * * * 8': day-of-week 8 is out of range 0-7"},
      {"60 * * * * *", "cron '60 * * * * *': second 60 is out of range 0-59"},
      {"99999999999 * * * *",
       "cron '99999999999 * * * *': minute 99999999999 is out of range 0-59"},
      {"x * * * *", "cron 'x * * * *': minute 'x' is not a number"},
      {"* * * FOO *",
       "cron '* * * FOO *': month 'FOO' is not a number or a month name (JAN-DEC)"},
      {"* * * * FUN",
       "cron '* * * * FUN': day-of-week 'FUN' is not a number or a day name (SUN-SAT)"},
      {"*/ * * * *", "cron '*/ * * * *': minute '*/' has an empty step"},
      {"* 1-5/ * * *", "cron '* 1-5/ * * *': hour '1-5/' has an empty step"},
      {"*/0 * * * *", "cron '*/0 * * * *': minute '*/0' has step 0 (must be 1 or more)"},
      {"*/x * * * *", "cron '*/x * * * *': minute '*/x' has step 'x', not a number"},
      {"/5 * * * *", "cron '/5 * * * *': minute '/5' has no value before the step"},
      {"* 5-2 * * *", "cron '* 5-2 * * *': hour range '5-2' is reversed (5 is after 2)"},
      {"* * * * FRI-MON",
       "cron '* * * * FRI-MON': day-of-week range 'FRI-MON' is reversed (5 is after 1)"},
      {"1- * * * *", "cron '1- * * * *': minute range '1-' lacks a bound"},
      {"1,,2 * * * *", "cron '1,,2 * * * *': minute '1,,2' has an empty list item"},
      {"* * * *",
       "cron '* * * *': expected 5 fields (minute hour day-of-month month day-of-week) or 6 "
       "(second first), found 4"},
      {"* * * * * * *",
       "cron '* * * * * * *': expected 5 fields (minute hour day-of-month month day-of-week) "
       "or 6 (second first), found 7"},
      {"", "cron '': expected 5 fields (minute hour day-of-month month day-of-week) or 6 "
           "(second first), found 0"},
      {"@fortnightly",
       "cron '@fortnightly': unknown macro '@fortnightly' (allowed: @yearly, @annually, "
       "@monthly, @weekly, @daily, @midnight, @hourly, @every <interval>)"},
      {"@daily 5", "cron '@daily 5': @daily takes nothing after it"},
      {"@every", "cron '@every': @every takes one interval such as 30s, 5m or 2h"},
      {"@every 5x",
       "cron '@every 5x': interval '5x' is not a duration such as 30s, 5m, 2h or 1h30m"},
      {"@every 30",
       "cron '@every 30': interval '30' is not a duration such as 30s, 5m, 2h or 1h30m"},
      {"@every 0s", "cron '@every 0s': interval '0s' is not positive"},
  };
  for (const ErrorCase& c : cases) {
    Result<CronSchedule> schedule = CronSchedule::Parse(c.expr);
    ASSERT_FALSE(schedule.ok()) << c.expr;
    EXPECT_EQ(schedule.status().code(), StatusCode::kInvalidConfig) << c.expr;
    EXPECT_EQ(schedule.status().message(), c.message);
  }
}

TEST(CronScheduleTest, UnknownTimeZone) {
  for (std::string_view zone : {"Mars/Base", "", "europe/berlin"}) {
    Result<CronSchedule> schedule = CronSchedule::Parse("0 0 * * *", zone);
    ASSERT_FALSE(schedule.ok()) << zone;
    EXPECT_EQ(schedule.status().code(), StatusCode::kInvalidConfig);
    EXPECT_EQ(schedule.status().message(),
              "unknown time zone '" + std::string(zone) + "' (an IANA name such as Europe/Berlin)");
  }
}

// An independent reading of a generated schedule, to check NextAfter against.
struct Fields {
  int minute = 0;
  std::set<int> hours;
  int hour_step = 0;            // > 0: the hour field is `*/hour_step` (a repeating schedule)
  std::set<int> days_of_month;  // empty: `*`
  std::set<int> months;
  std::set<int> days_of_week;  // empty: `*`

  static std::string List(const std::set<int>& values) {
    if (values.empty())
      return "*";
    std::string text;
    for (int value : values) {
      if (!text.empty())
        text += ',';
      text += std::to_string(value);
    }
    return text;
  }
  std::string Expression() const {
    std::string hour_text = hour_step > 0 ? "*/" + std::to_string(hour_step) : List(hours);
    return std::to_string(minute) + " " + hour_text + " " + List(days_of_month) + " " +
           List(months) + " " + List(days_of_week);
  }
  /// `local`: wall-clock seconds since 1970-01-01 00:00.
  bool Matches(int64_t local) const {
    int64_t days = local >= 0 ? local / 86400 : (local - 86399) / 86400;
    int64_t second_of_day = local - days * 86400;
    int64_t year = 0;
    unsigned month = 0;
    unsigned day = 0;
    CivilFromDays(days, &year, &month, &day);
    int weekday = static_cast<int>(((days % 7) + 7 + 4) % 7);
    int hour = static_cast<int>(second_of_day / 3600);
    bool hour_matches = hour_step > 0 ? hour % hour_step == 0 : hours.count(hour) > 0;
    bool day_of_month = days_of_month.empty() || days_of_month.count(static_cast<int>(day)) > 0;
    bool day_of_week = days_of_week.empty() || days_of_week.count(weekday) > 0;
    bool day_matches = !days_of_month.empty() && !days_of_week.empty()
                           ? day_of_month || day_of_week
                           : day_of_month && day_of_week;
    return second_of_day % 60 == 0 && second_of_day / 60 % 60 == minute && hour_matches &&
           months.count(static_cast<int>(month)) > 0 && day_matches;
  }
};

/// A random schedule; `near_night` keeps to the small hours of every day, where DST changes
/// happen.
Fields RandomFields(std::mt19937& random, bool near_night = false) {
  auto pick = [&](int low, int high, int count) {
    std::set<int> values;
    for (int i = 0; i < count; ++i)
      values.insert(std::uniform_int_distribution<int>(low, high)(random));
    return values;
  };
  auto one_in = [&](int n) { return std::uniform_int_distribution<int>(1, n)(random) == 1; };
  Fields fields;
  fields.minute = std::uniform_int_distribution<int>(0, 59)(random);
  if (one_in(4))
    fields.hour_step = std::uniform_int_distribution<int>(1, 3)(random);
  else
    fields.hours = pick(0, near_night ? 4 : 23, 1 + static_cast<int>(random() % 3));
  if (near_night) {
    for (int month = 1; month <= 12; ++month)
      fields.months.insert(month);
    if (one_in(4))
      fields.days_of_week = pick(0, 6, 3);
    return fields;
  }
  if (one_in(2))
    fields.days_of_month = pick(1, 31, 1 + static_cast<int>(random() % 3));
  fields.months = pick(1, 12, 1 + static_cast<int>(random() % 6));
  if (one_in(2))
    fields.days_of_week = pick(0, 6, 1 + static_cast<int>(random() % 2));
  return fields;
}

/// The fires of `schedule` in [start, end).
std::vector<int64_t> FiresBetween(const CronSchedule& schedule, int64_t start, int64_t end) {
  std::vector<int64_t> fires;
  for (std::optional<int64_t> time = schedule.NextAfter(start - 1); time && *time < end;
       time = schedule.NextAfter(*time)) {
    fires.push_back(*time);
  }
  return fires;
}

// 1000 generated schedules through a year of fires each: every fire matches, in order; for the
// first 50, the fires are those a minute-by-minute scan finds. Also shows that a year of fires of
// 1000 schedules runs in a moment; the time is not asserted.
TEST(CronScheduleTest, GeneratedSchedulesAgreeWithAScan) {
  std::mt19937 random(20261205);
  const int64_t start = Utc("2026-01-01 00:00:00");
  const int64_t end = Utc("2027-01-01 00:00:00");
  size_t total_fires = 0;
  for (int i = 0; i < 1000; ++i) {
    Fields fields = RandomFields(random);
    std::string expr = fields.Expression();
    ASSERT_OK_AND_ASSIGN(CronSchedule schedule, CronSchedule::Parse(expr));
    std::vector<int64_t> fires = FiresBetween(schedule, start, end);
    for (size_t j = 0; j < fires.size(); ++j) {
      ASSERT_TRUE(fields.Matches(fires[j])) << expr << " fired at " << UtcText(fires[j]);
      ASSERT_TRUE(j == 0 || fires[j] > fires[j - 1]) << expr;
    }
    total_fires += fires.size();
    if (i < 50) {
      std::vector<int64_t> scanned;
      for (int64_t time = start; time < end; time += 60) {
        if (fields.Matches(time))
          scanned.push_back(time);
      }
      ASSERT_EQ(fires, scanned) << expr;
    }
  }
  EXPECT_GT(total_fires, 1000u);
}

/// The wall-clock time of each minute in [start, end) in `zone`, from glibc's localtime_r: the
/// same tz files as the date library, read by other code.
std::vector<int64_t> LocalMinutes(const std::string& zone, int64_t start, int64_t end) {
  const char* previous = std::getenv("TZ");
  std::string saved = previous != nullptr ? previous : "";
  setenv("TZ", (":" + zone).c_str(), 1);
  tzset();
  std::vector<int64_t> local;
  for (int64_t time = start; time < end; time += 60) {
    auto seconds = static_cast<time_t>(time);
    struct tm parts {};
    localtime_r(&seconds, &parts);
    local.push_back(time + parts.tm_gmtoff);
  }
  if (previous != nullptr)
    setenv("TZ", saved.c_str(), 1);
  else
    unsetenv("TZ");
  tzset();
  return local;
}

/// The fires cron.h's DST rules call for, found by a minute-by-minute scan of `local` (the
/// wall-clock time of each minute from `start`, which must not lie in a repeated hour).
std::vector<int64_t> ExpectedFires(const Fields& fields, const std::vector<int64_t>& local,
                                   int64_t start) {
  const bool real_time = fields.hour_step > 0;
  std::vector<int64_t> fires;
  int64_t latest_local = INT64_MIN;
  for (size_t i = 0; i < local.size(); ++i) {
    const int64_t time = start + static_cast<int64_t>(i) * 60;
    // Wall time jumped: a wall-clock schedule fires once, now, for the times it skipped.
    if (i > 0 && !real_time) {
      for (int64_t skipped = local[i - 1] + 60; skipped < local[i]; skipped += 60) {
        if (fields.Matches(skipped)) {
          fires.push_back(time);
          break;
        }
      }
    }
    // A repeated wall time fires again only for a repeating schedule.
    bool first_occurrence = local[i] > latest_local;
    latest_local = std::max(latest_local, local[i]);
    if (fields.Matches(local[i]) && (real_time || first_occurrence) &&
        (fires.empty() || fires.back() != time)) {
      fires.push_back(time);
    }
  }
  return fires;
}

// Generated schedules around the 2026 DST changes of two zones, against a scan that follows
// cron.h's rules on glibc's reading of the zones.
TEST(CronScheduleTest, GeneratedSchedulesAcrossDaylightSavingChanges) {
  struct Window {
    std::string_view zone;
    std::string_view start;
    std::string_view end;
  };
  const std::vector<Window> windows = {
      {"Europe/Berlin", "2026-03-27 00:00:00", "2026-03-31 00:00:00"},
      {"Europe/Berlin", "2026-10-23 00:00:00", "2026-10-27 00:00:00"},
      {"America/New_York", "2026-03-06 00:00:00", "2026-03-10 00:00:00"},
      {"America/New_York", "2026-10-30 00:00:00", "2026-11-03 00:00:00"},
  };
  std::mt19937 random(7);
  std::vector<Fields> schedules;
  for (int i = 0; i < 150; ++i)
    schedules.push_back(RandomFields(random, /*near_night=*/true));
  for (const Window& window : windows) {
    const int64_t start = Utc(window.start);
    const int64_t end = Utc(window.end);
    std::vector<int64_t> local = LocalMinutes(std::string(window.zone), start, end);
    for (const Fields& fields : schedules) {
      std::string expr = fields.Expression();
      ASSERT_OK_AND_ASSIGN(CronSchedule schedule, CronSchedule::Parse(expr, window.zone));
      std::vector<std::string> got;
      std::vector<std::string> want;
      for (int64_t time : FiresBetween(schedule, start, end))
        got.push_back(UtcText(time));
      for (int64_t time : ExpectedFires(fields, local, start))
        want.push_back(UtcText(time));
      ASSERT_EQ(got, want) << "'" << expr << "' in " << window.zone;
    }
  }
}

TEST(CronScheduleTest, FarAndEdgeInstants) {
  ASSERT_OK_AND_ASSIGN(CronSchedule yearly, CronSchedule::Parse("@yearly"));
  EXPECT_EQ(UtcText(yearly.NextAfter(Utc("9998-06-01 00:00:00"))), "9999-01-01 00:00:00");
  EXPECT_EQ(yearly.NextAfter(Utc("9999-06-01 00:00:00")), std::nullopt);
  EXPECT_EQ(yearly.NextAfter(INT64_MAX), std::nullopt);
  EXPECT_EQ(UtcText(yearly.NextAfter(INT64_MIN)), "0001-01-01 00:00:00");
  ASSERT_OK_AND_ASSIGN(CronSchedule every, CronSchedule::Parse("@every 1h"));
  EXPECT_EQ(every.NextAfter(INT64_MAX), std::nullopt);
}

}  // namespace
}  // namespace sluice::server
