#include "server/cron.h"

#include <date/tz.h>
#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <bit>
#include <chrono>
#include <exception>
#include <vector>

#include "core/strings.h"
#include "core/temporal.h"

namespace sluice::server {
namespace {

constexpr int64_t kSecondsPerDay = 86'400;
// Instants from 0001-01-01 to before 10000-01-01 (UTC); NextAfter answers nullopt beyond.
const int64_t kFirstInstant = DaysFromCivil(1, 1, 1) * kSecondsPerDay;
const int64_t kEndInstant = DaysFromCivil(10000, 1, 1) * kSecondsPerDay;
// Any day-of-month and month that can match at all does within 8 years (February 29th from
// 2096 to 2104), and a day-of-week matches within a week.
constexpr int64_t kSearchYears = 9;
// Bounds the walk over time zone segments (two a year in DST zones) for one answer.
constexpr int kMaxZoneSegments = 100'000;

int64_t FloorDivide(int64_t a, int64_t b) {
  int64_t quotient = a / b;
  return (a % b != 0 && (a < 0) != (b < 0)) ? quotient - 1 : quotient;
}

unsigned DaysInMonth(int64_t year, unsigned month) {
  static constexpr std::array<unsigned, 13> kDays = {0, 31, 28, 31, 30, 31, 30,
                                                     31, 31, 30, 31, 30, 31};
  bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  return month == 2 && leap ? 29 : kDays[month];
}

/// The lowest set bit of `mask` at position `from` or above.
std::optional<unsigned> NextBit(uint64_t mask, unsigned from) {
  if (from >= 64)
    return std::nullopt;
  uint64_t rest = mask >> from;
  if (rest == 0)
    return std::nullopt;
  return from + static_cast<unsigned>(std::countr_zero(rest));
}

bool IsDigits(std::string_view text) {
  return !text.empty() && std::all_of(text.begin(), text.end(),
                                      [](char c) { return c >= '0' && c <= '9'; });
}

/// Digits to a number, saturating at 1'000'000'000 so that huge numbers read as out of range.
unsigned DigitsValue(std::string_view digits) {
  uint64_t value = 0;
  for (char c : digits) {
    value = std::min<uint64_t>(value * 10 + static_cast<unsigned>(c - '0'), 1'000'000'000);
  }
  return static_cast<unsigned>(value);
}

std::vector<std::string_view> Split(std::string_view text, char separator) {
  std::vector<std::string_view> parts;
  size_t start = 0;
  while (true) {
    size_t end = text.find(separator, start);
    if (end == std::string_view::npos) {
      parts.push_back(text.substr(start));
      return parts;
    }
    parts.push_back(text.substr(start, end - start));
    start = end + 1;
  }
}

std::vector<std::string_view> SplitOnWhitespace(std::string_view text) {
  std::vector<std::string_view> words;
  size_t i = 0;
  auto is_space = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; };
  while (i < text.size()) {
    while (i < text.size() && is_space(text[i]))
      ++i;
    size_t start = i;
    while (i < text.size() && !is_space(text[i]))
      ++i;
    if (i > start)
      words.push_back(text.substr(start, i - start));
  }
  return words;
}

/// What a field may hold.
struct FieldSpec {
  std::string_view name;
  unsigned min;
  unsigned max;
  // Names for min, min + 1, ... (months from 1, days of week from 0); empty when none.
  std::array<std::string_view, 12> names;
  std::string_view names_hint;  // "a month name (JAN-DEC)"
};

constexpr FieldSpec kSecondField{"second", 0, 59, {}, {}};
constexpr FieldSpec kMinuteField{"minute", 0, 59, {}, {}};
constexpr FieldSpec kHourField{"hour", 0, 23, {}, {}};
constexpr FieldSpec kDayOfMonthField{"day-of-month", 1, 31, {}, {}};
constexpr FieldSpec kMonthField{
    "month",
    1,
    12,
    {"jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"},
    "a month name (JAN-DEC)"};
// 7 is Sunday as well as 0; the bit for 7 folds into bit 0 after parsing.
constexpr FieldSpec kDayOfWeekField{
    "day-of-week", 0, 7, {"sun", "mon", "tue", "wed", "thu", "fri", "sat"}, "a day name (SUN-SAT)"};

/// One value of a field: a number or a name. `ends_range`: SUN closing a range means 7.
Result<unsigned> ParseValue(std::string_view text, const FieldSpec& spec, bool ends_range) {
  if (IsDigits(text)) {
    unsigned value = DigitsValue(text);
    if (value < spec.min || value > spec.max) {
      return InvalidConfig(
          fmt::format("{} {} is out of range {}-{}", spec.name, text, spec.min, spec.max));
    }
    return value;
  }
  for (size_t i = 0; i < spec.names.size() && !spec.names[i].empty(); ++i) {
    if (EqualsIgnoringAsciiCase(text, spec.names[i])) {
      unsigned value = spec.min + static_cast<unsigned>(i);
      return &spec == &kDayOfWeekField && value == 0 && ends_range ? 7 : value;
    }
  }
  if (spec.names_hint.empty())
    return InvalidConfig(fmt::format("{} '{}' is not a number", spec.name, text));
  return InvalidConfig(
      fmt::format("{} '{}' is not a number or {}", spec.name, text, spec.names_hint));
}

/// One list item: `*`, `v`, `a-b`, each optionally followed by `/step`. Returns its bits.
Result<uint64_t> ParseItem(std::string_view item, const FieldSpec& spec) {
  std::string_view base = item;
  unsigned step = 1;
  bool has_step = false;
  if (size_t slash = item.find('/'); slash != std::string_view::npos) {
    has_step = true;
    base = item.substr(0, slash);
    std::string_view step_text = item.substr(slash + 1);
    if (step_text.empty())
      return InvalidConfig(fmt::format("{} '{}' has an empty step", spec.name, item));
    if (!IsDigits(step_text)) {
      return InvalidConfig(
          fmt::format("{} '{}' has step '{}', not a number", spec.name, item, step_text));
    }
    step = DigitsValue(step_text);
    if (step == 0)
      return InvalidConfig(fmt::format("{} '{}' has step 0 (must be 1 or more)", spec.name, item));
  }
  if (base.empty())
    return InvalidConfig(fmt::format("{} '{}' has no value before the step", spec.name, item));

  unsigned low = 0;
  unsigned high = 0;
  if (base == "*") {
    low = spec.min;
    // 7 repeats Sunday; `*/2` over 0-6 keeps the week's rhythm.
    high = &spec == &kDayOfWeekField ? 6 : spec.max;
  } else if (size_t dash = base.find('-'); dash != std::string_view::npos) {
    std::string_view low_text = base.substr(0, dash);
    std::string_view high_text = base.substr(dash + 1);
    if (low_text.empty() || high_text.empty())
      return InvalidConfig(fmt::format("{} range '{}' lacks a bound", spec.name, base));
    SLUICE_ASSIGN_OR_RETURN(low, ParseValue(low_text, spec, /*ends_range=*/false));
    SLUICE_ASSIGN_OR_RETURN(high, ParseValue(high_text, spec, /*ends_range=*/true));
    if (low > high) {
      return InvalidConfig(
          fmt::format("{} range '{}' is reversed ({} is after {})", spec.name, base, low, high));
    }
  } else {
    SLUICE_ASSIGN_OR_RETURN(low, ParseValue(base, spec, /*ends_range=*/false));
    // "a/n" means from a to the field's maximum, every n.
    high = has_step ? spec.max : low;
  }
  uint64_t bits = 0;
  for (unsigned value = low; value <= high; value += step)
    bits |= uint64_t{1} << value;
  return bits;
}

struct ParsedField {
  uint64_t bits = 0;
  bool is_star = false;           // written `*`
  bool has_star_or_step = false;  // `*` or a step somewhere in the list
};

Result<ParsedField> ParseField(std::string_view text, const FieldSpec& spec) {
  ParsedField field;
  field.is_star = text == "*";
  field.has_star_or_step = text.find_first_of("*/") != std::string_view::npos;
  for (std::string_view item : Split(text, ',')) {
    if (item.empty())
      return InvalidConfig(fmt::format("{} '{}' has an empty list item", spec.name, text));
    SLUICE_ASSIGN_OR_RETURN(uint64_t bits, ParseItem(item, spec));
    field.bits |= bits;
  }
  if (&spec == &kDayOfWeekField && (field.bits & (uint64_t{1} << 7)) != 0)
    field.bits = (field.bits & ~(uint64_t{1} << 7)) | 1;
  return field;
}

/// "30s", "5m", "2h", "1h30m" to seconds.
std::optional<int64_t> ParseInterval(std::string_view text) {
  if (text.empty())
    return std::nullopt;
  int64_t total = 0;
  size_t i = 0;
  while (i < text.size()) {
    size_t start = i;
    while (i < text.size() && text[i] >= '0' && text[i] <= '9')
      ++i;
    if (i == start || i == text.size())
      return std::nullopt;
    int64_t unit = 0;
    if (text[i] == 's') {
      unit = 1;
    } else if (text[i] == 'm') {
      unit = 60;
    } else if (text[i] == 'h') {
      unit = 3600;
    } else {
      return std::nullopt;
    }
    // Saturates far beyond year 9999, where NextAfter answers nullopt, rather than overflow.
    total = std::min(total + int64_t{DigitsValue(text.substr(start, i - start))} * unit,
                     kEndInstant);
    ++i;
  }
  return total;
}

struct Macro {
  std::string_view name;
  std::string_view fields;
};
constexpr std::array<Macro, 7> kMacros = {{
    {"@yearly", "0 0 1 1 *"},
    {"@annually", "0 0 1 1 *"},
    {"@monthly", "0 0 1 * *"},
    {"@weekly", "0 0 * * 0"},
    {"@daily", "0 0 * * *"},
    {"@midnight", "0 0 * * *"},
    {"@hourly", "0 * * * *"},
}};

constexpr std::string_view kFieldsHint =
    "expected 5 fields (minute hour day-of-month month day-of-week) or 6 (second first)";

}  // namespace

Result<CronSchedule> CronSchedule::Parse(std::string_view expr, std::string_view time_zone) {
  CronSchedule schedule;
  schedule.expression_ = std::string(expr);
  schedule.time_zone_ = std::string(time_zone);
  const std::string context = fmt::format("cron '{}'", expr);

  std::vector<std::string_view> words = SplitOnWhitespace(expr);
  if (!words.empty() && words[0].starts_with('@')) {
    if (EqualsIgnoringAsciiCase(words[0], "@every")) {
      if (words.size() != 2) {
        return InvalidConfig(
            fmt::format("{}: @every takes one interval such as 30s, 5m or 2h", context));
      }
      std::optional<int64_t> interval = ParseInterval(words[1]);
      if (!interval) {
        return InvalidConfig(fmt::format(
            "{}: interval '{}' is not a duration such as 30s, 5m, 2h or 1h30m", context,
            words[1]));
      }
      if (*interval <= 0)
        return InvalidConfig(fmt::format("{}: interval '{}' is not positive", context, words[1]));
      schedule.every_seconds_ = *interval;
    } else {
      auto macro = std::find_if(kMacros.begin(), kMacros.end(), [&](const Macro& m) {
        return EqualsIgnoringAsciiCase(words[0], m.name);
      });
      if (macro == kMacros.end()) {
        return InvalidConfig(fmt::format(
            "{}: unknown macro '{}' (allowed: @yearly, @annually, @monthly, @weekly, @daily, "
            "@midnight, @hourly, @every <interval>)",
            context, words[0]));
      }
      if (words.size() != 1)
        return InvalidConfig(fmt::format("{}: {} takes nothing after it", context, macro->name));
      words = SplitOnWhitespace(macro->fields);
    }
  }

  if (schedule.every_seconds_ == 0) {
    if (words.size() != 5 && words.size() != 6)
      return InvalidConfig(fmt::format("{}: {}, found {}", context, kFieldsHint, words.size()));
    size_t next = 0;
    uint64_t seconds = 1;  // second 0 when there is no seconds field
    if (words.size() == 6) {
      Result<ParsedField> field = ParseField(words[next++], kSecondField);
      if (!field.ok())
        return field.status().WithContext(context);
      seconds = field->bits;
    }
    std::array<const FieldSpec*, 5> specs = {&kMinuteField, &kHourField, &kDayOfMonthField,
                                             &kMonthField, &kDayOfWeekField};
    std::array<ParsedField, 5> fields;
    for (size_t i = 0; i < specs.size(); ++i) {
      Result<ParsedField> field = ParseField(words[next++], *specs[i]);
      if (!field.ok())
        return field.status().WithContext(context);
      fields[i] = *field;
    }
    schedule.seconds_ = seconds;
    schedule.minutes_ = fields[0].bits;
    schedule.hours_ = static_cast<uint32_t>(fields[1].bits);
    schedule.days_of_month_ = static_cast<uint32_t>(fields[2].bits);
    schedule.months_ = static_cast<uint16_t>(fields[3].bits);
    schedule.days_of_week_ = static_cast<uint8_t>(fields[4].bits);
    schedule.fires_by_real_time_ = fields[1].has_star_or_step;
    schedule.day_of_month_is_star_ = fields[2].is_star;
    schedule.day_of_week_is_star_ = fields[4].is_star;
    // Only a restricted day-of-month under a `*` day-of-week can rule out every day; check the
    // longest each chosen month gets (February 29th counts).
    if (schedule.day_of_week_is_star_ && !schedule.day_of_month_is_star_) {
      bool possible = false;
      for (unsigned month = 1; month <= 12; ++month) {
        if ((schedule.months_ & (1u << month)) == 0)
          continue;
        uint32_t days_in_month = (uint32_t{2} << DaysInMonth(2000, month)) - 2;  // bits 1..n
        possible = possible || (schedule.days_of_month_ & days_in_month) != 0;
      }
      schedule.never_fires_ = !possible;
    }
  }

  // Zone errors come from the library as exceptions; turn them into values here.
  try {
    (void)date::get_tzdb();
  } catch (const std::exception& error) {
    return InvalidConfig(fmt::format(
        "cannot read the time zone database (/usr/share/zoneinfo) for time zone '{}': {}",
        time_zone, error.what()));
  }
  const date::time_zone* zone = nullptr;
  try {
    zone = date::locate_zone(time_zone);
  } catch (const std::exception&) {
    return InvalidConfig(fmt::format(
        "unknown time zone '{}' (an IANA name such as Europe/Berlin)", time_zone));
  }
  using std::chrono::seconds;
  date::sys_info info = zone->get_info(date::sys_seconds(seconds(0)));
  if (info.begin <= date::sys_seconds(seconds(kFirstInstant)) &&
      info.end >= date::sys_seconds(seconds(kEndInstant))) {
    schedule.fixed_offset_seconds_ = info.offset.count();  // UTC and other fixed zones
  } else {
    schedule.zone_ = zone;
  }
  return schedule;
}

std::optional<int64_t> CronSchedule::NextAfter(int64_t after) const {
  if (after >= kEndInstant - 1)
    return std::nullopt;
  after = std::max(after, kFirstInstant - 1);
  std::optional<int64_t> next;
  if (every_seconds_ > 0) {
    next = (FloorDivide(after, every_seconds_) + 1) * every_seconds_;
  } else if (never_fires_) {
    return std::nullopt;
  } else if (zone_ == nullptr) {
    std::optional<int64_t> local = NextLocalMatch(after + 1 + fixed_offset_seconds_);
    if (local)
      next = *local - fixed_offset_seconds_;
  } else {
    next = NextAfterInZone(after);
  }
  if (next && *next >= kEndInstant)
    return std::nullopt;
  return next;
}

// Walks the zone's segments of constant UTC offset from `after` on. Within a segment local time
// is UTC plus the offset, so the calendar search answers; at the segment's end the DST rules of
// cron.h decide about local times that the change skips or repeats.
std::optional<int64_t> CronSchedule::NextAfterInZone(int64_t after) const {
  using std::chrono::seconds;
  auto to_sys = [](int64_t instant) { return date::sys_seconds(seconds(instant)); };
  auto to_instant = [](date::sys_seconds time) { return time.time_since_epoch().count(); };

  int64_t instant = after + 1;  // the earliest acceptable fire time
  date::sys_info segment = zone_->get_info(to_sys(instant));
  int64_t previous_offset = segment.offset.count();
  // Only a segment that began within the last day can still be repeating local times.
  if (!fires_by_real_time_ && instant - to_instant(segment.begin) < kSecondsPerDay) {
    previous_offset = zone_->get_info(segment.begin - seconds(1)).offset.count();
  }
  // The calendar search's last answer and where it started: still the answer for a later start
  // that does not pass it, which spares a search per segment when the next fire is years away.
  std::optional<int64_t> match;
  int64_t match_searched_from = 0;

  for (int walked = 0; walked < kMaxZoneSegments; ++walked) {
    const int64_t offset = segment.offset.count();
    const int64_t end = to_instant(segment.end);
    int64_t local_start = instant + offset;
    // After falling back, local times up to the old offset's last one come again: a wall-clock
    // schedule had its chance at their first occurrence.
    if (!fires_by_real_time_ && previous_offset > offset)
      local_start = std::max(local_start, to_instant(segment.begin) + previous_offset);
    if (!match || match_searched_from > local_start || *match < local_start) {
      match = NextLocalMatch(local_start);
      match_searched_from = local_start;
      if (!match)
        return std::nullopt;
    }
    if (*match - offset < end)
      return *match - offset;

    // The match lies past this segment.
    date::sys_info following = zone_->get_info(segment.end);
    const int64_t following_offset = following.offset.count();
    // Spring forward: local times from end + offset to end + following_offset do not exist; a
    // wall-clock schedule fires for them once, at the change.
    if (!fires_by_real_time_ && following_offset > offset && *match < end + following_offset)
      return end;
    previous_offset = offset;
    instant = end;
    segment = std::move(following);
  }
  return std::nullopt;
}

std::optional<int64_t> CronSchedule::NextLocalMatch(int64_t start) const {
  int64_t days = FloorDivide(start, kSecondsPerDay);
  const auto second_of_day = static_cast<unsigned>(start - days * kSecondsPerDay);
  int64_t year = 0;
  unsigned month = 0;
  unsigned day = 0;
  CivilFromDays(days, &year, &month, &day);
  unsigned hour = second_of_day / 3600;
  unsigned minute = second_of_day / 60 % 60;
  unsigned second = second_of_day % 60;
  const int64_t last_year = year + kSearchYears;

  auto start_of_day = [&] { hour = minute = second = 0; };
  auto next_month = [&] {
    day = 1;
    start_of_day();
    if (++month > 12) {
      month = 1;
      ++year;
    }
  };
  // Each step either returns or moves forward to the next candidate a field allows, from the
  // largest unit down; a changed unit resets the smaller ones.
  while (year <= last_year) {
    if ((months_ & (1u << month)) == 0) {
      std::optional<unsigned> next = NextBit(months_, month);
      if (!next) {
        ++year;
        next = NextBit(months_, 1);
      }
      month = *next;
      day = 1;
      start_of_day();
      continue;
    }
    if (day > DaysInMonth(year, month)) {
      next_month();
      continue;
    }
    if (!DayMatches(year, month, day)) {
      if (day_of_week_is_star_) {
        std::optional<unsigned> next = NextBit(days_of_month_, day);
        if (!next) {
          next_month();
          continue;
        }
        day = *next;
      } else {
        ++day;
      }
      start_of_day();
      continue;
    }
    std::optional<unsigned> next_hour = NextBit(hours_, hour);
    if (!next_hour) {
      ++day;
      start_of_day();
      continue;
    }
    if (*next_hour != hour) {
      hour = *next_hour;
      minute = second = 0;
    }
    std::optional<unsigned> next_minute = NextBit(minutes_, minute);
    if (!next_minute) {
      ++hour;
      minute = second = 0;
      continue;
    }
    if (*next_minute != minute) {
      minute = *next_minute;
      second = 0;
    }
    std::optional<unsigned> next_second = NextBit(seconds_, second);
    if (!next_second) {
      ++minute;
      second = 0;
      continue;
    }
    return DaysFromCivil(year, month, day) * kSecondsPerDay + int64_t{hour} * 3600 +
           int64_t{minute} * 60 + *next_second;
  }
  return std::nullopt;
}

bool CronSchedule::DayMatches(int64_t year, unsigned month, unsigned day) const {
  bool day_of_month = (days_of_month_ >> day) & 1;
  int64_t days = DaysFromCivil(year, month, day) + 4;  // 1970-01-01 was a Thursday (4)
  int64_t weekday = days - FloorDivide(days, 7) * 7;
  bool day_of_week = (days_of_week_ >> weekday) & 1;
  if (!day_of_month_is_star_ && !day_of_week_is_star_)
    return day_of_month || day_of_week;
  return day_of_month && day_of_week;
}

}  // namespace sluice::server
