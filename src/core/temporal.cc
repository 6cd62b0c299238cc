#include "core/temporal.h"
#include "core/strings.h"

#include <fmt/core.h>

#include <charconv>
#include <cstring>

namespace sluice {

// Howard Hinnant's civil-calendar algorithms (public domain description of the arithmetic).
int64_t DaysFromCivil(int64_t year, unsigned month, unsigned day) {
  year -= month <= 2;
  const int64_t era = (year >= 0 ? year : year - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(year - era * 400);
  const unsigned doy = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

void CivilFromDays(int64_t days, int64_t* year, unsigned* month, unsigned* day) {
  days += 719468;
  const int64_t era = (days >= 0 ? days : days - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(days - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  *day = doy - (153 * mp + 2) / 5 + 1;
  *month = mp < 10 ? mp + 3 : mp - 9;
  *year = static_cast<int64_t>(yoe) + era * 400 + (*month <= 2);
}

bool IsValidCivilDate(int64_t year, unsigned month, unsigned day) {
  if (month < 1 || month > 12 || day < 1)
    return false;
  static constexpr unsigned kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  unsigned limit = kDays[month - 1];
  bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  if (month == 2 && leap)
    limit = 29;
  return day <= limit;
}

namespace {

bool IsDigit(char c) {
  return c >= '0' && c <= '9';
}

// Reads exactly `count` digits at s[*i].
bool ReadDigits(std::string_view s, size_t* i, int count, int64_t* out) {
  int64_t value = 0;
  for (int k = 0; k < count; ++k) {
    if (*i >= s.size() || !IsDigit(s[*i]))
      return false;
    value = value * 10 + (s[*i] - '0');
    ++*i;
  }
  *out = value;
  return true;
}

// Reads 1..max_count digits.
bool ReadSomeDigits(std::string_view s, size_t* i, int max_count, int64_t* out) {
  size_t start = *i;
  int64_t value = 0;
  while (*i < s.size() && IsDigit(s[*i]) && static_cast<int>(*i - start) < max_count) {
    value = value * 10 + (s[*i] - '0');
    ++*i;
  }
  *out = value;
  return *i > start;
}

// Reads ".ffffff" (up to 6 digits kept; more digits must be zeros... or are rounded down).
bool ReadFraction(std::string_view s, size_t* i, int64_t* micros) {
  *micros = 0;
  if (*i >= s.size() || s[*i] != '.')
    return true;
  ++*i;
  int digits = 0;
  size_t start = *i;
  while (*i < s.size() && IsDigit(s[*i])) {
    if (digits < 6) {
      *micros = *micros * 10 + (s[*i] - '0');
      ++digits;
    } else if (s[*i] != '0') {
      return false;  // sub-microsecond precision would be lost
    }
    ++*i;
  }
  if (*i == start)
    return false;
  for (; digits < 6; ++digits)
    *micros *= 10;
  return true;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && s.front() == ' ')
    s.remove_prefix(1);
  while (!s.empty() && s.back() == ' ')
    s.remove_suffix(1);
  return s;
}


bool EndsWithBc(std::string_view* s) {
  if (s->size() > 3 && EqualsIgnoringAsciiCase(s->substr(s->size() - 3), " bc")) {
    s->remove_suffix(3);
    return true;
  }
  return false;
}

// Parses "YYYY-MM-DD" at s[*i] into days.
bool ReadDate(std::string_view s, size_t* i, bool bc, int64_t* days) {
  int64_t year = 0;
  int64_t month = 0;
  int64_t day = 0;
  size_t start = *i;
  if (!ReadSomeDigits(s, i, 7, &year) || *i - start < 4)
    return false;
  if (*i >= s.size() || s[*i] != '-')
    return false;
  ++*i;
  if (!ReadDigits(s, i, 2, &month))
    return false;
  if (*i >= s.size() || s[*i] != '-')
    return false;
  ++*i;
  if (!ReadDigits(s, i, 2, &day))
    return false;
  if (bc) {
    if (year == 0)
      return false;
    year = 1 - year;
  }
  if (!IsValidCivilDate(year, static_cast<unsigned>(month), static_cast<unsigned>(day))) {
    return false;
  }
  *days = DaysFromCivil(year, static_cast<unsigned>(month), static_cast<unsigned>(day));
  return true;
}

// Years 1..9999: the range where canonical dates are plain "YYYY-MM-DD".
constexpr int64_t kFirstPlainDay = -719162;  // 0001-01-01
constexpr int64_t kLastPlainDay = 2932896;   // 9999-12-31

// "00" to "99", two characters a number.
constexpr char kDigitPairs[] =
    "00010203040506070809101112131415161718192021222324252627282930313233343536373839"
    "40414243444546474849505152535455565758596061626364656667686970717273747576777879"
    "8081828384858687888990919293949596979899";

char* WritePair(char* p, unsigned value) {
  std::memcpy(p, kDigitPairs + 2 * value, 2);
  return p + 2;
}

// CivilFromDays for days of years 1..9999, with multiplications and shifts only: Neri and
// Schneider's Euclidean affine functions ("Euclidean affine functions and their application to
// calendar algorithms", Software: Practice and Experience, 2022). A test compares it with
// CivilFromDays on every day of the range.
void PlainCivilFromDays(int64_t days, unsigned* year, unsigned* month, unsigned* day) {
  constexpr uint32_t kCycles = 82;  // 400-year cycles added to keep every quantity unsigned
  constexpr uint32_t kShift = 719468 + 146097 * kCycles;
  const uint32_t n = static_cast<uint32_t>(days) + kShift;
  const uint32_t n1 = 4 * n + 3;
  const uint32_t century = n1 / 146097;
  const uint32_t n_century = n1 % 146097 / 4;
  const uint32_t n2 = 4 * n_century + 3;
  const uint64_t p2 = uint64_t{2939745} * n2;
  const uint32_t year_of_century = static_cast<uint32_t>(p2 >> 32);
  const uint32_t day_of_year = static_cast<uint32_t>(p2) / 2939745 / 4;  // from March 1st
  const uint32_t n3 = 2141 * day_of_year + 197913;
  const uint32_t march_month = n3 >> 16;
  const uint32_t january = day_of_year >= 306;
  *year = 100 * century + year_of_century - 400 * kCycles + january;
  *month = january ? march_month - 12 : march_month;
  *day = (n3 & 0xFFFF) / 2141 + 1;
}

char* WritePlainDate(char* p, int64_t days) {
  unsigned year;
  unsigned month;
  unsigned day;
  PlainCivilFromDays(days, &year, &month, &day);
  p = WritePair(p, year / 100);
  p = WritePair(p, year % 100);
  *p++ = '-';
  p = WritePair(p, month);
  *p++ = '-';
  return WritePair(p, day);
}

char* WriteTwo(char* p, int64_t v) {
  p[0] = static_cast<char>('0' + v / 10);
  p[1] = static_cast<char>('0' + v % 10);
  return p + 2;
}

// ".ffffff" with trailing zeros dropped; nothing for a whole second.
char* WriteFraction(char* p, int64_t micros) {
  if (micros == 0)
    return p;
  char digits[7] = {'.', '0', '0', '0', '0', '0', '0'};
  for (int k = 6; k >= 1; --k) {
    digits[k] = static_cast<char>('0' + micros % 10);
    micros /= 10;
  }
  int length = 7;
  while (digits[length - 1] == '0')
    --length;
  std::memcpy(p, digits, static_cast<size_t>(length));
  return p + length;
}

// Dates outside years 1..9999: at least four year digits, " BC" for year 0 and before.
char* WriteCivilDate(char* p, int64_t days) {
  int64_t year;
  unsigned month;
  unsigned day;
  CivilFromDays(days, &year, &month, &day);
  bool bc = year <= 0;
  int64_t shown = bc ? 1 - year : year;
  p = fmt::format_to(p, "{:04d}-{:02d}-{:02d}", shown, month, day);
  if (bc) {
    std::memcpy(p, " BC", 3);
    p += 3;
  }
  return p;
}

int64_t FloorDiv(int64_t a, int64_t b) {
  int64_t q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0)))
    --q;
  return q;
}

}  // namespace

Result<int32_t> ParseDate(std::string_view text) {
  std::string_view s = Trim(text);
  if (EqualsIgnoringAsciiCase(s, "infinity") || EqualsIgnoringAsciiCase(s, "+infinity"))
    return kDateInfinity;
  if (EqualsIgnoringAsciiCase(s, "-infinity"))
    return kDateMinusInfinity;
  bool bc = EndsWithBc(&s);
  size_t i = 0;
  int64_t days = 0;
  if (!ReadDate(s, &i, bc, &days) || i != s.size()) {
    return DataError(fmt::format("'{}' is not a date (expected YYYY-MM-DD)", text));
  }
  return static_cast<int32_t>(days);
}

char* WriteDate(int32_t days, char* out) {
  if (days == kDateInfinity) {
    std::memcpy(out, "infinity", 8);
    return out + 8;
  }
  if (days == kDateMinusInfinity) {
    std::memcpy(out, "-infinity", 9);
    return out + 9;
  }
  if (days >= kFirstPlainDay && days <= kLastPlainDay)
    return WritePlainDate(out, days);
  return WriteCivilDate(out, days);
}

void AppendDate(int32_t days, std::string* out) {
  char buffer[kMaxTemporalText];
  out->append(buffer, WriteDate(days, buffer));
}

Result<int64_t> ParseTime(std::string_view text) {
  std::string_view s = Trim(text);
  size_t i = 0;
  bool negative = false;
  if (i < s.size() && s[i] == '-') {
    negative = true;
    ++i;
  }
  int64_t hours = 0;
  int64_t minutes = 0;
  int64_t seconds = 0;
  int64_t micros = 0;
  auto bad = [&] {
    return DataError(fmt::format("'{}' is not a time (expected HH:MM:SS[.ffffff])", text));
  };
  if (!ReadSomeDigits(s, &i, 4, &hours))
    return bad();
  if (i >= s.size() || s[i] != ':')
    return bad();
  ++i;
  if (!ReadDigits(s, &i, 2, &minutes) || minutes > 59)
    return bad();
  if (i < s.size() && s[i] == ':') {
    ++i;
    if (!ReadDigits(s, &i, 2, &seconds) || seconds > 60)
      return bad();
    if (!ReadFraction(s, &i, &micros))
      return bad();
  }
  if (i != s.size())
    return bad();
  int64_t total = ((hours * 60 + minutes) * 60 + seconds) * kMicrosPerSecond + micros;
  return negative ? -total : total;
}

char* WriteTime(int64_t micros, char* out) {
  char* p = out;
  if (micros < 0) {
    *p++ = '-';
    micros = -micros;
  }
  int64_t seconds = micros / kMicrosPerSecond;
  int64_t fraction = micros % kMicrosPerSecond;
  int64_t hours = seconds / 3600;
  if (hours < 100) {
    p = WriteTwo(p, hours);
  } else {
    auto [end, ec] = std::to_chars(p, p + 24, hours);
    p = end;
  }
  *p++ = ':';
  p = WriteTwo(p, (seconds / 60) % 60);
  *p++ = ':';
  p = WriteTwo(p, seconds % 60);
  return WriteFraction(p, fraction);
}

void AppendTime(int64_t micros, std::string* out) {
  char buffer[kMaxTemporalText];
  out->append(buffer, WriteTime(micros, buffer));
}

Result<int64_t> ParseTimestamp(std::string_view text, bool with_zone) {
  std::string_view s = Trim(text);
  if (EqualsIgnoringAsciiCase(s, "infinity") || EqualsIgnoringAsciiCase(s, "+infinity")) {
    return kTimestampInfinity;
  }
  if (EqualsIgnoringAsciiCase(s, "-infinity"))
    return kTimestampMinusInfinity;
  bool bc = EndsWithBc(&s);
  auto bad = [&] {
    return DataError(
        fmt::format("'{}' is not a timestamp (expected YYYY-MM-DD HH:MM:SS[.ffffff]{})", text,
                    with_zone ? "[+HH:MM]" : ""));
  };
  size_t i = 0;
  int64_t days = 0;
  if (!ReadDate(s, &i, bc, &days))
    return bad();
  int64_t hours = 0;
  int64_t minutes = 0;
  int64_t seconds = 0;
  int64_t micros = 0;
  if (i < s.size() && (s[i] == ' ' || s[i] == 'T' || s[i] == 't')) {
    ++i;
    if (!ReadDigits(s, &i, 2, &hours) || hours > 24)
      return bad();
    if (i >= s.size() || s[i] != ':')
      return bad();
    ++i;
    if (!ReadDigits(s, &i, 2, &minutes) || minutes > 59)
      return bad();
    if (i < s.size() && s[i] == ':') {
      ++i;
      if (!ReadDigits(s, &i, 2, &seconds) || seconds > 60)
        return bad();
      if (!ReadFraction(s, &i, &micros))
        return bad();
    }
  }
  int64_t offset_seconds = 0;
  if (i < s.size()) {
    if (!with_zone) {
      return DataError(fmt::format(
          "'{}' has a time zone but the column is a timestamp without time zone", text));
    }
    if (s[i] == 'Z' || s[i] == 'z') {
      ++i;
    } else if (s[i] == '+' || s[i] == '-') {
      bool negative = s[i] == '-';
      ++i;
      int64_t zone_hours = 0;
      int64_t zone_minutes = 0;
      int64_t zone_seconds = 0;
      if (!ReadDigits(s, &i, 2, &zone_hours))
        return bad();
      if (i < s.size() && s[i] == ':')
        ++i;
      if (i < s.size()) {
        if (!ReadDigits(s, &i, 2, &zone_minutes))
          return bad();
        if (i < s.size() && s[i] == ':') {
          ++i;
          if (!ReadDigits(s, &i, 2, &zone_seconds))
            return bad();
        }
      }
      offset_seconds = (zone_hours * 60 + zone_minutes) * 60 + zone_seconds;
      if (negative)
        offset_seconds = -offset_seconds;
    } else {
      return bad();
    }
  }
  if (i != s.size())
    return bad();
  int64_t local =
      days * kMicrosPerDay + ((hours * 60 + minutes) * 60 + seconds) * kMicrosPerSecond + micros;
  return local - offset_seconds * kMicrosPerSecond;
}

char* WriteTimestamp(int64_t micros, bool with_zone, char* out) {
  if (micros == kTimestampInfinity) {
    std::memcpy(out, "infinity", 8);
    return out + 8;
  }
  if (micros == kTimestampMinusInfinity) {
    std::memcpy(out, "-infinity", 9);
    return out + 9;
  }
  int64_t days = FloorDiv(micros, kMicrosPerDay);
  int64_t in_day = micros - days * kMicrosPerDay;
  if (days >= kFirstPlainDay && days <= kLastPlainDay) {
    // The common case, without fmt.
    auto seconds = static_cast<unsigned>(in_day / kMicrosPerSecond);
    auto fraction = static_cast<unsigned>(in_day % kMicrosPerSecond);
    char* p = WritePlainDate(out, days);
    *p++ = ' ';
    p = WritePair(p, seconds / 3600);
    *p++ = ':';
    p = WritePair(p, seconds / 60 % 60);
    *p++ = ':';
    p = WritePair(p, seconds % 60);
    if (fraction != 0) {
      *p++ = '.';
      p = WritePair(p, fraction / 10000);
      p = WritePair(p, fraction / 100 % 100);
      p = WritePair(p, fraction % 100);
      while (p[-1] == '0')
        --p;  // trailing zeros dropped; a non-zero fraction keeps a digit
    }
    if (with_zone) {
      std::memcpy(p, "+00:00", 6);
      p += 6;
    }
    return p;
  }
  int64_t year;
  unsigned month;
  unsigned day;
  CivilFromDays(days, &year, &month, &day);
  bool bc = year <= 0;
  int64_t shown = bc ? 1 - year : year;
  int64_t seconds = in_day / kMicrosPerSecond;
  char* p = fmt::format_to(out, "{:04d}-{:02d}-{:02d} ", shown, month, day);
  p = WriteTwo(p, seconds / 3600);
  *p++ = ':';
  p = WriteTwo(p, (seconds / 60) % 60);
  *p++ = ':';
  p = WriteTwo(p, seconds % 60);
  p = WriteFraction(p, in_day % kMicrosPerSecond);
  if (with_zone) {
    std::memcpy(p, "+00:00", 6);
    p += 6;
  }
  if (bc) {
    std::memcpy(p, " BC", 3);
    p += 3;
  }
  return p;
}

void AppendTimestamp(int64_t micros, bool with_zone, std::string* out) {
  char buffer[kMaxTemporalText];
  out->append(buffer, WriteTimestamp(micros, with_zone, buffer));
}

}  // namespace sluice
