// CronSchedule: when a scheduled job fires, from a cron expression and an IANA time zone.
//
// Expressions:
//   5 fields   "minute hour day-of-month month day-of-week"  (fires at second 0)
//   6 fields   "second minute hour day-of-month month day-of-week"
//   macros     @yearly = @annually = "0 0 1 1 *", @monthly = "0 0 1 * *", @weekly = "0 0 * * 0",
//              @daily = @midnight = "0 0 * * *", @hourly = "0 * * * *"
//   intervals  "@every 30s", "@every 5m", "@every 2h", "@every 1h30m" (units s, m, h): fires at
//              every multiple of the interval since the Unix epoch, whatever the time zone
// A field is `*`, a number, a range `a-b`, a step `*/n`, `a-b/n` or `a/n` (a to the field's
// maximum), or a comma list of these. Ranges: second 0-59, minute 0-59, hour 0-23,
// day-of-month 1-31, month 1-12 or JAN-DEC, day-of-week 0-7 or SUN-SAT (0 and 7 are Sunday; SUN
// ending a range means 7, so FRI-SUN works). Names are case-insensitive.
//
// Day-of-month and day-of-week: when both fields are restricted (neither is written `*`), a
// day matches if either matches, as in Vixie cron ("0 0 1 * MON": the 1st and every Monday).
// Otherwise the restricted one alone decides. Unlike Vixie cron, a step such as `*/2` counts as
// restricted: "0 0 */2 * MON" fires on odd days and on Mondays.
//
// Daylight saving time. Fields match local wall-clock time in the schedule's zone. Where wall
// time jumps or repeats, the schedule's hour field decides, as Vixie cron does for wildcards:
// - A wall-clock schedule (hour field a number, list or range, e.g. "30 2 * * *"):
//   - a local time that does not exist (spring forward) fires once, at the transition, the
//     first instant after the gap (02:30 on 2026-03-29 in Europe/Berlin fires at 03:00 CEST);
//     several missing times in one gap fire once together, also with a match at the transition
//     itself ("0 2,3 * * *" fires once that day, at 03:00 CEST);
//   - a local time that occurs twice (fall back) fires only at its first occurrence, before the
//     clocks go back.
// - A repeating schedule (hour field `*` or with a step anywhere, e.g. "*/15 * * * *",
//   "0 */2 * * *", "0 8-18/2 * * *", @hourly): every real instant whose local time matches
//   fires, so repeated local times fire twice and missing ones not at all. An hourly job fires
//   once in every real hour, none skipped or doubled.
//
// Range and time zone data: instants from year 1 to year 9999; NextAfter returns nullopt past
// that. The time zone data is the system's (/usr/share/zoneinfo) read by Howard Hinnant's date
// library, which ignores the rule that TZif files give for years after their last listed
// transition: with Debian's tzdata, 2037 is the last year with daylight saving time, and later
// years keep standard time.
//
// Thread-safety: a CronSchedule is immutable; NextAfter may be called from any thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/result.h"

namespace date {
class time_zone;
}

namespace sluice::server {

class CronSchedule {
 public:
  /// Parses `expr` for `time_zone`, an IANA name ("Europe/Berlin", "UTC") looked up in the
  /// system time zone database. Returns InvalidConfig naming the field and what is wrong, e.g.
  /// "cron '61 * * * *': minute 61 is out of range 0-59", or "unknown time zone 'Mars/Base' (an
  /// IANA name such as Europe/Berlin)".
  static Result<CronSchedule> Parse(std::string_view expr, std::string_view time_zone = "UTC");

  /// Returns the first fire time strictly after `after` (seconds since the Unix epoch, UTC), or
  /// nullopt when there is none (e.g. "0 0 30 2 *"). Skips whole months, days, hours and
  /// minutes at a time, so a rare schedule costs about as much as a frequent one (microseconds).
  std::optional<int64_t> NextAfter(int64_t after) const;

  /// The expression as given to Parse.
  const std::string& expression() const { return expression_; }
  /// The time zone name as given to Parse.
  const std::string& time_zone() const { return time_zone_; }

 private:
  CronSchedule() = default;

  /// The first local wall-clock time (seconds since 1970-01-01 00:00 local) at or after `start`
  /// that the fields match, ignoring time zones; nullopt when none comes within the search
  /// horizon.
  std::optional<int64_t> NextLocalMatch(int64_t start) const;
  bool DayMatches(int64_t year, unsigned month, unsigned day) const;
  std::optional<int64_t> NextAfterInZone(int64_t after) const;

  std::string expression_;
  std::string time_zone_;
  // Null for a zone with one fixed offset (UTC), which then needs no lookups.
  const date::time_zone* zone_ = nullptr;
  int64_t fixed_offset_seconds_ = 0;

  // @every: the interval in seconds; 0 for a field schedule.
  int64_t every_seconds_ = 0;

  // Field schedules: bit i set when value i matches.
  uint64_t seconds_ = 0;
  uint64_t minutes_ = 0;
  uint32_t hours_ = 0;
  uint32_t days_of_month_ = 0;  // bits 1-31
  uint16_t months_ = 0;         // bits 1-12
  uint8_t days_of_week_ = 0;    // bits 0-6, 0 = Sunday
  bool day_of_month_is_star_ = false;
  bool day_of_week_is_star_ = false;
  // Hour field `*` or a step: every real instant whose local time matches fires, across DST
  // changes too (see above).
  bool fires_by_real_time_ = false;
  // No day can ever match (e.g. February 30th).
  bool never_fires_ = false;
};

}  // namespace sluice::server
