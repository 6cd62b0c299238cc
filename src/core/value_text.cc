#include "core/value_text.h"
#include "core/strings.h"

#include <fmt/core.h>

#include <charconv>
#include <cmath>
#include <cstring>
#include <limits>

#include "core/decimal.h"
#include "core/temporal.h"

namespace sluice {

namespace {

constexpr char kHexDigits[] = "0123456789abcdef";

template <typename T>
char* WriteInteger(T value, char* out) {
  return std::to_chars(out, out + 24, value).ptr;
}

std::string_view TrimSpaces(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
    s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t'))
    s.remove_suffix(1);
  return s;
}


template <typename T>
Status ParseInteger(std::string_view text, const DataType& type, Column* column) {
  std::string_view s = TrimSpaces(text);
  if (!s.empty() && s.front() == '+')
    s.remove_prefix(1);
  T value{};
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (ec == std::errc::result_out_of_range) {
    return DataError(fmt::format("'{}' is out of range for {}", text, type.ToString()));
  }
  if (ec != std::errc() || ptr != s.data() + s.size() || s.empty()) {
    return DataError(fmt::format("'{}' is not an integer", text));
  }
  column->Append<T>(value);
  return Status::OK();
}

template <typename T>
Status ParseFloating(std::string_view text, Column* column) {
  std::string_view s = TrimSpaces(text);
  T value{};
  if (EqualsIgnoringAsciiCase(s, "nan")) {
    value = std::numeric_limits<T>::quiet_NaN();
  } else if (EqualsIgnoringAsciiCase(s, "infinity") || EqualsIgnoringAsciiCase(s, "inf") ||
             EqualsIgnoringAsciiCase(s, "+infinity") || EqualsIgnoringAsciiCase(s, "+inf")) {
    value = std::numeric_limits<T>::infinity();
  } else if (EqualsIgnoringAsciiCase(s, "-infinity") || EqualsIgnoringAsciiCase(s, "-inf")) {
    value = -std::numeric_limits<T>::infinity();
  } else {
    if (!s.empty() && s.front() == '+')
      s.remove_prefix(1);
    auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
    if (ec == std::errc::result_out_of_range) {
      return DataError(fmt::format("'{}' is out of range for a {}-bit float", text, sizeof(T) * 8));
    }
    if (ec != std::errc() || ptr != s.data() + s.size() || s.empty()) {
      return DataError(fmt::format("'{}' is not a number", text));
    }
  }
  column->Append<T>(value);
  return Status::OK();
}

// Powers of ten, all exact as doubles.
constexpr double kPow10[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
                             1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};
constexpr uint64_t kPow10Int[] = {1ULL,
                                  10ULL,
                                  100ULL,
                                  1000ULL,
                                  10000ULL,
                                  100000ULL,
                                  1000000ULL,
                                  10000000ULL,
                                  100000000ULL,
                                  1000000000ULL,
                                  10000000000ULL,
                                  100000000000ULL,
                                  1000000000000ULL,
                                  10000000000000ULL,
                                  100000000000000ULL,
                                  1000000000000000ULL,
                                  10000000000000000ULL,
                                  100000000000000000ULL,
                                  1000000000000000000ULL,
                                  10000000000000000000ULL};

int DecimalDigits(uint64_t value) {
  int digits = 1;
  while (digits < 20 && value >= kPow10Int[digits])
    ++digits;
  return digits;
}

// The shortest text that reads back as `value`, exactly as std::to_chars(value) writes it, for
// the common values it can find cheaply: magnitudes in [1e-3, 1e15) (floats: [1e-3, 1e6))
// whose shortest decimal has at most 15 significant digits (floats: 6), and whose fixed
// notation is no longer than the scientific one. Returns nullptr for every other value; the
// caller falls back to std::to_chars.
//
// Why it is exact: a decimal of at most 15 digits (DBL_DIG; 6 = FLT_DIG for float) is the only
// decimal of that length that reads back as its double, so when such a decimal exists it is
// the shortest representation, with no tie to break. Scaled by 10^K into [10^14, 10^15), the
// value lies within 0.2 of that decimal's digits (its own rounding is at most 2^-53 relative,
// the multiplication's at most 1/16), so rounding finds them; the candidate is then checked by
// reading it back the way from_chars would (one correctly rounded multiply or divide), and
// anything that fails the check goes to to_chars.
template <typename T>
char* WriteShortDecimal(T value, char* out) {
  constexpr bool kFloat = sizeof(T) == 4;
  constexpr int kDigits = kFloat ? 6 : 15;
  constexpr double kLimit = kFloat ? 1e6 : 1e15;
  double v = value;
  const bool negative = v < 0;
  if (negative)
    v = -v;
  if (!(v >= 1e-3 && v < kLimit))
    return nullptr;  // also NaN, infinities, zeros
  // The decimal exponent of v (e10 <= log10(v) < e10 + 1), near enough: corrected below.
  int e10;
  if (v >= 1) {
    e10 = DecimalDigits(static_cast<uint64_t>(v)) - 1;
  } else {
    e10 = v >= 0.1 ? -1 : v >= 0.01 ? -2 : -3;
  }
  int k = kDigits - 1 - e10;  // v * 10^k in [10^(kDigits-1), 10^kDigits)
  uint64_t n = static_cast<uint64_t>(v * kPow10[k] + 0.5);
  if (n >= kPow10Int[kDigits]) {
    if (--k < 0)
      return nullptr;
    n = static_cast<uint64_t>(v * kPow10[k] + 0.5);
  } else if (n < kPow10Int[kDigits - 1]) {
    ++k;
    n = static_cast<uint64_t>(v * kPow10[k] + 0.5);
  }
  if (n >= kPow10Int[kDigits] || n < kPow10Int[kDigits - 1])
    return nullptr;
  // The candidate m * 10^e, without trailing zeros.
  uint64_t m = n;
  int e = -k;
  while (m % 10 == 0) {
    m /= 10;
    ++e;
  }
  const double back = e >= 0 ? static_cast<double>(m) * kPow10[e]
                             : static_cast<double>(m) / kPow10[-e];
  if constexpr (kFloat) {
    // Rounded to float through double: the same as rounding the decimal to float directly,
    // unless the double sits exactly halfway between two floats.
    uint64_t bits;
    std::memcpy(&bits, &back, sizeof(bits));
    if ((bits & ((uint64_t{1} << 29) - 1)) == (uint64_t{1} << 28))
      return nullptr;
    if (static_cast<float>(back) != static_cast<float>(v))
      return nullptr;
  } else {
    if (back != v)
      return nullptr;
  }
  // Fixed notation unless the scientific one is shorter (to_chars' rule; a tie goes to fixed).
  const int d = DecimalDigits(m);
  const int exponent = d - 1 + e;
  const int fixed_length = e >= 0 ? d + e : d + e > 0 ? d + 1 : 2 - e;
  const int scientific_length =
      d + (d > 1 ? 1 : 0) + 2 + (exponent >= 100 || exponent <= -100 ? 3 : 2);
  if (fixed_length > scientific_length)
    return nullptr;
  char digits[24];
  std::to_chars(digits, digits + sizeof(digits), m);
  char* p = out;
  if (negative)
    *p++ = '-';
  if (e >= 0) {
    std::memcpy(p, digits, static_cast<size_t>(d));
    p += d;
    std::memset(p, '0', static_cast<size_t>(e));
    return p + e;
  }
  const int integer_digits = d + e;
  if (integer_digits > 0) {
    std::memcpy(p, digits, static_cast<size_t>(integer_digits));
    p += integer_digits;
    *p++ = '.';
    std::memcpy(p, digits + integer_digits, static_cast<size_t>(-e));
    return p - e;
  }
  *p++ = '0';
  *p++ = '.';
  std::memset(p, '0', static_cast<size_t>(-integer_digits));
  p -= integer_digits;
  std::memcpy(p, digits, static_cast<size_t>(d));
  return p + d;
}

template <typename T>
char* WriteFloating(T value, char* out) {
  if (char* end = WriteShortDecimal(value, out))
    return end;
  if (std::isnan(value)) {
    std::memcpy(out, "NaN", 3);
    return out + 3;
  }
  if (std::isinf(value)) {
    if (value > 0) {
      std::memcpy(out, "Infinity", 8);
      return out + 8;
    }
    std::memcpy(out, "-Infinity", 9);
    return out + 9;
  }
  return std::to_chars(out, out + 40, value).ptr;
}

template <typename T>
void AppendFloating(T value, std::string* out) {
  char buffer[40];
  out->append(buffer, WriteFloating(value, buffer));
}

int HexValue(char c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

}  // namespace

void AppendDouble(double value, std::string* out) {
  AppendFloating(value, out);
}
void AppendFloat(float value, std::string* out) {
  AppendFloating(value, out);
}

void AppendHexDigits(std::string_view bytes, std::string* out) {
  size_t start = out->size();
  out->resize(start + bytes.size() * 2);
  char* p = out->data() + start;
  for (unsigned char c : bytes) {
    *p++ = kHexDigits[c >> 4];
    *p++ = kHexDigits[c & 15];
  }
}

void AppendHexBytes(std::string_view bytes, std::string* out) {
  out->append("\\x");
  AppendHexDigits(bytes, out);
}

Status DecodeHexBytes(std::string_view text, std::string* out) {
  out->clear();
  std::string_view s = text;
  if (s.size() >= 2 && s[0] == '\\' && (s[1] == 'x' || s[1] == 'X'))
    s.remove_prefix(2);
  if (s.size() % 2 != 0) {
    return DataError("bytes must be written as \\x followed by an even number of hex digits");
  }
  out->resize(s.size() / 2);
  for (size_t i = 0; i < s.size(); i += 2) {
    int high = HexValue(s[i]);
    int low = HexValue(s[i + 1]);
    if (high < 0 || low < 0) {
      return DataError(fmt::format("bad hex digit in bytes value at offset {}", i + 2));
    }
    (*out)[i / 2] = static_cast<char>(high * 16 + low);
  }
  return Status::OK();
}

bool HasFixedValueText(const DataType& type) {
  switch (type.id) {
    case TypeId::kString:
    case TypeId::kJson:
    case TypeId::kBytes:
      return false;
    case TypeId::kDecimal:
      return type.is_fast_decimal() && type.scale <= kMaxDecimal128Scale;
    default:
      return true;
  }
}

char* WriteFixedValueText(const Column& column, size_t row, char* out) {
  const DataType& type = column.type();
  switch (type.id) {
    case TypeId::kNull:
      return out;
    case TypeId::kBool:
      if (column.Get<uint8_t>(row)) {
        std::memcpy(out, "true", 4);
        return out + 4;
      }
      std::memcpy(out, "false", 5);
      return out + 5;
    case TypeId::kInt8:
    case TypeId::kInt16:
    case TypeId::kInt32:
    case TypeId::kInt64:
    case TypeId::kUInt8:
    case TypeId::kUInt16:
    case TypeId::kUInt32:
    case TypeId::kUInt64:
      return VisitIntegerType(type.id, [&]<typename T>(T) {
        return WriteInteger(column.Get<T>(row), out);
      });
    case TypeId::kFloat32:
      return WriteFloating(column.Get<float>(row), out);
    case TypeId::kFloat64:
      return WriteFloating(column.Get<double>(row), out);
    case TypeId::kDecimal:
      return WriteDecimal128(column.Get<int128>(row), type.scale, out);
    case TypeId::kDate:
      return WriteDate(column.Get<int32_t>(row), out);
    case TypeId::kTime:
      return WriteTime(column.Get<int64_t>(row), out);
    case TypeId::kTimestamp:
      return WriteTimestamp(column.Get<int64_t>(row), false, out);
    case TypeId::kTimestampTz:
      return WriteTimestamp(column.Get<int64_t>(row), true, out);
    case TypeId::kString:
    case TypeId::kJson:
    case TypeId::kBytes:
      break;
  }
  return out;
}

void AppendValueText(const Column& column, size_t row, std::string* out) {
  const DataType& type = column.type();
  if (HasFixedValueText(type)) {
    char buffer[kMaxFixedValueText];
    out->append(buffer, WriteFixedValueText(column, row, buffer));
    return;
  }
  switch (type.id) {
    case TypeId::kDecimal:
      if (type.is_fast_decimal()) {
        AppendDecimal128(column.Get<int128>(row), type.scale, out);
      } else {
        out->append(column.GetView(row));
      }
      return;
    case TypeId::kBytes:
      AppendHexBytes(column.GetView(row), out);
      return;
    default:  // string, json
      out->append(column.GetView(row));
      return;
  }
}

Status AppendParsedValue(std::string_view text, Column* column) {
  const DataType& type = column->type();
  switch (type.id) {
    case TypeId::kNull:
      return DataError(fmt::format("'{}' given for a column of type null", text));
    case TypeId::kBool: {
      std::string_view s = TrimSpaces(text);
      if (EqualsIgnoringAsciiCase(s, "true") || EqualsIgnoringAsciiCase(s, "t") || s == "1" ||
          EqualsIgnoringAsciiCase(s, "yes") || EqualsIgnoringAsciiCase(s, "y") || EqualsIgnoringAsciiCase(s, "on")) {
        column->Append<uint8_t>(1);
        return Status::OK();
      }
      if (EqualsIgnoringAsciiCase(s, "false") || EqualsIgnoringAsciiCase(s, "f") || s == "0" ||
          EqualsIgnoringAsciiCase(s, "no") || EqualsIgnoringAsciiCase(s, "n") || EqualsIgnoringAsciiCase(s, "off")) {
        column->Append<uint8_t>(0);
        return Status::OK();
      }
      return DataError(fmt::format("'{}' is not a boolean", text));
    }
    case TypeId::kInt8:
    case TypeId::kInt16:
    case TypeId::kInt32:
    case TypeId::kInt64:
    case TypeId::kUInt8:
    case TypeId::kUInt16:
    case TypeId::kUInt32:
    case TypeId::kUInt64:
      return VisitIntegerType(type.id, [&]<typename T>(T) {
        return ParseInteger<T>(text, type, column);
      });
    case TypeId::kFloat32:
      return ParseFloating<float>(text, column);
    case TypeId::kFloat64:
      return ParseFloating<double>(text, column);
    case TypeId::kDecimal: {
      if (type.is_fast_decimal()) {
        SLUICE_ASSIGN_OR_RETURN(int128 value, ParseDecimal128(text, type.precision, type.scale));
        column->Append<int128>(value);
        return Status::OK();
      }
      std::string canonical;
      SLUICE_RETURN_IF_ERROR(CanonicalDecimalText(
          text, type.precision, type.precision == 0 ? -1 : type.scale, &canonical));
      column->AppendView(canonical);
      return Status::OK();
    }
    case TypeId::kString:
      column->AppendView(text);
      return Status::OK();
    case TypeId::kJson:
      // Validity is checked by the formats that parse JSON; text columns carry it as is.
      column->AppendView(text);
      return Status::OK();
    case TypeId::kBytes: {
      std::string_view s = text;
      if (s.size() < 2 || s.size() % 2 != 0 || s[0] != '\\' || (s[1] != 'x' && s[1] != 'X')) {
        return DataError(fmt::format(
            "'{}' is not a bytes value (expected \\x followed by hex digits)", text.substr(0, 40)));
      }
      size_t hex_digits = s.size() - 2;
      char* out = column->arena()->Allocate(hex_digits / 2);
      for (size_t i = 0; i < hex_digits; i += 2) {
        int high = HexValue(s[2 + i]);
        int low = HexValue(s[3 + i]);
        if (high < 0 || low < 0) {
          return DataError(fmt::format("bad hex digit in bytes value at offset {}", i + 2));
        }
        out[i / 2] = static_cast<char>(high * 16 + low);
      }
      column->AppendViewNoCopy({out, hex_digits / 2});
      return Status::OK();
    }
    case TypeId::kDate: {
      SLUICE_ASSIGN_OR_RETURN(int32_t days, ParseDate(text));
      column->Append<int32_t>(days);
      return Status::OK();
    }
    case TypeId::kTime: {
      SLUICE_ASSIGN_OR_RETURN(int64_t micros, ParseTime(text));
      column->Append<int64_t>(micros);
      return Status::OK();
    }
    case TypeId::kTimestamp:
    case TypeId::kTimestampTz: {
      SLUICE_ASSIGN_OR_RETURN(int64_t micros,
                              ParseTimestamp(text, type.id == TypeId::kTimestampTz));
      column->Append<int64_t>(micros);
      return Status::OK();
    }
  }
  return Internal("unhandled type in AppendParsedValue");
}

size_t FindInvalidUtf8(std::string_view text) {
  const auto* s = reinterpret_cast<const unsigned char*>(text.data());
  size_t n = text.size();
  size_t i = 0;
  while (i < n) {
    // Skip ASCII eight bytes at a time.
    while (i + 8 <= n) {
      uint64_t chunk;
      __builtin_memcpy(&chunk, s + i, 8);
      if (chunk & 0x8080808080808080ULL)
        break;
      i += 8;
    }
    if (i >= n)
      break;
    unsigned char c = s[i];
    if (c < 0x80) {
      ++i;
      continue;
    }
    size_t length;
    uint32_t min_code;
    uint32_t code;
    if ((c & 0xE0) == 0xC0) {
      length = 2;
      min_code = 0x80;
      code = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      length = 3;
      min_code = 0x800;
      code = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      length = 4;
      min_code = 0x10000;
      code = c & 0x07;
    } else {
      return i;
    }
    if (i + length > n)
      return i;
    for (size_t k = 1; k < length; ++k) {
      if ((s[i + k] & 0xC0) != 0x80)
        return i;
      code = (code << 6) | (s[i + k] & 0x3F);
    }
    if (code < min_code || code > 0x10FFFF || (code >= 0xD800 && code <= 0xDFFF))
      return i;
    i += length;
  }
  return std::string_view::npos;
}

bool IsValidUtf8(std::string_view text) {
  return FindInvalidUtf8(text) == std::string_view::npos;
}

}  // namespace sluice
