#include "core/decimal.h"
#include "core/strings.h"

#include <fmt/core.h>

#include <charconv>
#include <cstdint>
#include <cstring>
#include <limits>

namespace sluice {

int128 Pow10Int128(int n) {
  static const auto kTable = [] {
    struct Table {
      int128 values[39];
    } table{};
    table.values[0] = 1;
    for (int i = 1; i < 39; ++i)
      table.values[i] = table.values[i - 1] * 10;
    return table;
  }();
  return kTable.values[n];
}

char* WriteInt128(int128 value, char* out) {
  char buffer[48];
  char* end = buffer + sizeof(buffer);
  char* p = end;
  bool negative = value < 0;
  // Work on the negative side so that the minimum value does not overflow.
  int128 v = negative ? value : -value;
  do {
    *--p = static_cast<char>('0' - static_cast<int>(v % 10));
    v /= 10;
  } while (v != 0);
  if (negative)
    *--p = '-';
  std::memcpy(out, p, static_cast<size_t>(end - p));
  return out + (end - p);
}

void AppendInt128(int128 value, std::string* out) {
  char buffer[kMaxDecimal128Text];
  out->append(buffer, WriteInt128(value, buffer));
}

char* WriteDecimal128(int128 unscaled, int scale, char* out) {
  if (scale <= 0)
    return WriteInt128(unscaled, out);
  char* p = out;
  constexpr int128 kLimit = std::numeric_limits<int64_t>::max();
  if (unscaled <= kLimit && unscaled >= -kLimit) {
    // Most values fit 64 bits: one to_chars instead of an int128 division per digit.
    auto value = static_cast<int64_t>(unscaled);
    uint64_t magnitude =
        value < 0 ? 0 - static_cast<uint64_t>(value) : static_cast<uint64_t>(value);
    char digits[24];
    auto [end, ec] = std::to_chars(digits, digits + sizeof(digits), magnitude);
    auto count = static_cast<size_t>(end - digits);
    auto fraction = static_cast<size_t>(scale);
    if (value < 0)
      *p++ = '-';
    if (count <= fraction) {
      *p++ = '0';
      *p++ = '.';
      std::memset(p, '0', fraction - count);
      p += fraction - count;
      std::memcpy(p, digits, count);
      return p + count;
    }
    std::memcpy(p, digits, count - fraction);
    p += count - fraction;
    *p++ = '.';
    std::memcpy(p, digits + count - fraction, fraction);
    return p + fraction;
  }
  char digits[48];
  char* end = digits + sizeof(digits);
  char* first = end;
  bool negative = unscaled < 0;
  int128 v = negative ? unscaled : -unscaled;
  int written = 0;
  while (v != 0 || written <= scale) {
    *--first = static_cast<char>('0' - static_cast<int>(v % 10));
    v /= 10;
    ++written;
  }
  if (negative)
    *p++ = '-';
  size_t integer_digits = static_cast<size_t>(written - scale);
  std::memcpy(p, first, integer_digits);
  p += integer_digits;
  *p++ = '.';
  std::memcpy(p, first + integer_digits, static_cast<size_t>(end - first) - integer_digits);
  return p + (static_cast<size_t>(end - first) - integer_digits);
}

void AppendDecimal128(int128 unscaled, int scale, std::string* out) {
  if (scale > kMaxDecimal128Scale) {
    // More fractional digits than an int128 has (PostgreSQL allows numeric(p, s) with s > p):
    // "0." and zeros before the digits.
    char digits[kMaxDecimal128Text];
    const char* end = WriteInt128(unscaled, digits);
    const char* first = digits;
    if (*first == '-') {
      out->push_back('-');
      ++first;
    }
    auto count = static_cast<size_t>(end - first);
    out->append("0.");
    out->append(static_cast<size_t>(scale) - count, '0');
    out->append(first, count);
    return;
  }
  char buffer[kMaxDecimal128Text];
  out->append(buffer, WriteDecimal128(unscaled, scale, buffer));
}

namespace {

// The parts of a decimal literal, without leading zeros in the integer part.
struct DecimalParts {
  bool negative = false;
  std::string_view integer;   // digits
  std::string_view fraction;  // digits
  int exponent = 0;
  std::string_view special;  // "NaN", "Infinity", "-Infinity"
};

bool IsDigit(char c) {
  return c >= '0' && c <= '9';
}


Status BadDecimal(std::string_view text) {
  return DataError(fmt::format("'{}' is not a decimal number", text));
}

std::string DecimalTypeText(int precision, int scale) {
  if (precision > 0)
    return fmt::format("decimal({},{})", precision, scale);
  return fmt::format("{} fractional digits", scale);
}

Status WouldRound(std::string_view text, int precision, int scale) {
  return DataError(
      fmt::format("'{}' would be rounded to fit {}", text, DecimalTypeText(precision, scale)));
}

Status DoesNotFit(std::string_view text, int precision, int scale) {
  return DataError(fmt::format("'{}' does not fit decimal({},{})", text, precision, scale));
}

Status SplitDecimal(std::string_view text, DecimalParts* parts) {
  std::string_view s = text;
  while (!s.empty() && s.front() == ' ')
    s.remove_prefix(1);
  while (!s.empty() && s.back() == ' ')
    s.remove_suffix(1);
  if (EqualsIgnoringAsciiCase(s, "nan")) {
    parts->special = "NaN";
    return Status::OK();
  }
  if (EqualsIgnoringAsciiCase(s, "infinity") || EqualsIgnoringAsciiCase(s, "+infinity") ||
      EqualsIgnoringAsciiCase(s, "inf")) {
    parts->special = "Infinity";
    return Status::OK();
  }
  if (EqualsIgnoringAsciiCase(s, "-infinity") || EqualsIgnoringAsciiCase(s, "-inf")) {
    parts->special = "-Infinity";
    return Status::OK();
  }
  size_t i = 0;
  if (i < s.size() && (s[i] == '-' || s[i] == '+')) {
    parts->negative = s[i] == '-';
    ++i;
  }
  size_t int_start = i;
  while (i < s.size() && IsDigit(s[i]))
    ++i;
  parts->integer = s.substr(int_start, i - int_start);
  if (i < s.size() && s[i] == '.') {
    ++i;
    size_t frac_start = i;
    while (i < s.size() && IsDigit(s[i]))
      ++i;
    parts->fraction = s.substr(frac_start, i - frac_start);
  }
  if (parts->integer.empty() && parts->fraction.empty())
    return BadDecimal(text);
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    bool exp_negative = false;
    if (i < s.size() && (s[i] == '-' || s[i] == '+')) {
      exp_negative = s[i] == '-';
      ++i;
    }
    if (i == s.size())
      return BadDecimal(text);
    int exponent = 0;
    while (i < s.size() && IsDigit(s[i])) {
      exponent = exponent * 10 + (s[i] - '0');
      if (exponent > 100000)
        return BadDecimal(text);
      ++i;
    }
    parts->exponent = exp_negative ? -exponent : exponent;
  }
  if (i != s.size())
    return BadDecimal(text);
  while (parts->integer.size() > 0 && parts->integer.front() == '0') {
    parts->integer.remove_prefix(1);
  }
  return Status::OK();
}

// Digits of the value as one string with the decimal point `point` digits from the left,
// exponent applied. Returns the digit string and sets *point.
std::string ShiftedDigits(const DecimalParts& parts, long* point) {
  std::string digits;
  digits.reserve(parts.integer.size() + parts.fraction.size());
  digits.append(parts.integer);
  digits.append(parts.fraction);
  *point = static_cast<long>(parts.integer.size()) + parts.exponent;
  return digits;
}

}  // namespace

Status CanonicalDecimalText(std::string_view text, int precision, int scale, std::string* out) {
  out->clear();
  DecimalParts parts;
  SLUICE_RETURN_IF_ERROR(SplitDecimal(text, &parts));
  if (!parts.special.empty()) {
    if (precision > 0) {
      return DoesNotFit(text, precision, scale);
    }
    out->append(parts.special);
    return Status::OK();
  }
  long point = 0;
  std::string digits = ShiftedDigits(parts, &point);
  // Integer digits: digits[0, point) with zero padding when point exceeds the digit count.
  std::string integer;
  std::string fraction;
  if (point <= 0) {
    fraction.assign(static_cast<size_t>(-point), '0');
    fraction += digits;
  } else if (static_cast<size_t>(point) >= digits.size()) {
    integer = digits;
    integer.append(static_cast<size_t>(point) - digits.size(), '0');
  } else {
    integer = digits.substr(0, static_cast<size_t>(point));
    fraction = digits.substr(static_cast<size_t>(point));
  }
  size_t lead = 0;
  while (lead < integer.size() && integer[lead] == '0')
    ++lead;
  integer.erase(0, lead);
  if (scale >= 0) {
    if (fraction.size() > static_cast<size_t>(scale)) {
      if (fraction.find_first_not_of('0', static_cast<size_t>(scale)) != std::string::npos) {
        return WouldRound(text, precision, scale);
      }
      fraction.resize(static_cast<size_t>(scale));
    } else {
      fraction.append(static_cast<size_t>(scale) - fraction.size(), '0');
    }
  }
  if (precision > 0 && static_cast<int>(integer.size()) > precision - scale) {
    return DoesNotFit(text, precision, scale);
  }
  bool is_zero = integer.find_first_not_of('0') == std::string::npos &&
                 fraction.find_first_not_of('0') == std::string::npos;
  if (parts.negative && !is_zero)
    out->push_back('-');
  if (integer.empty()) {
    out->push_back('0');
  } else {
    out->append(integer);
  }
  if (!fraction.empty()) {
    out->push_back('.');
    out->append(fraction);
  }
  return Status::OK();
}

Result<int128> ParseDecimal128(std::string_view text, int precision, int scale) {
  // Fast path: plain "[-]digits[.digits]" with no exponent and no rounding needed.
  std::string_view s = text;
  bool negative = false;
  size_t i = 0;
  if (!s.empty() && (s[0] == '-' || s[0] == '+')) {
    negative = s[0] == '-';
    i = 1;
  }
  int128 value = 0;
  int integer_digits = 0;
  int fraction_digits = 0;
  bool any_digit = false;
  bool simple = true;
  while (i < s.size() && IsDigit(s[i])) {
    if (integer_digits > 0 || s[i] != '0')
      ++integer_digits;
    value = value * 10 + (s[i] - '0');
    any_digit = true;
    ++i;
    if (integer_digits > 38) {
      simple = false;
      break;
    }
  }
  if (simple && i < s.size() && s[i] == '.') {
    ++i;
    while (i < s.size() && IsDigit(s[i])) {
      if (fraction_digits == scale) {
        simple = false;
        break;
      }
      value = value * 10 + (s[i] - '0');
      ++fraction_digits;
      any_digit = true;
      ++i;
    }
  }
  if (simple && any_digit && i == s.size()) {
    if (integer_digits > precision - scale) {
      return DoesNotFit(text, precision, scale);
    }
    value *= Pow10Int128(scale - fraction_digits);
    return negative ? -value : value;
  }
  // General path: exponents, digits beyond the scale, spaces.
  std::string canonical;
  SLUICE_RETURN_IF_ERROR(CanonicalDecimalText(text, precision, scale, &canonical));
  if (canonical == "NaN" || canonical == "Infinity" || canonical == "-Infinity") {
    return DoesNotFit(text, precision, scale);
  }
  int128 result = 0;
  bool result_negative = false;
  for (char c : canonical) {
    if (c == '-') {
      result_negative = true;
    } else if (c != '.') {
      result = result * 10 + (c - '0');
    }
  }
  return result_negative ? -result : result;
}

Status CheckDecimal128Fits(int128 unscaled, int value_scale, int precision, int scale) {
  auto text = [&] {
    std::string out;
    AppendDecimal128(unscaled, value_scale, &out);
    return out;
  };
  if (value_scale > scale && unscaled % Pow10Int128(value_scale - scale) != 0) {
    return WouldRound(text(), precision, scale);
  }
  // Any int128 has fewer than 39 integer digits.
  const int integer_digits = precision - scale;
  const int128 integer_part = unscaled / Pow10Int128(value_scale);
  if (integer_digits < 39 &&
      (integer_part >= Pow10Int128(integer_digits) || integer_part <= -Pow10Int128(integer_digits))) {
    return DoesNotFit(text(), precision, scale);
  }
  return Status::OK();
}

}  // namespace sluice
