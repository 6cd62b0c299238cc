#include "core/types.h"

#include <fmt/core.h>

#include <charconv>
#include <limits>

namespace sluice {

std::string_view TypeIdName(TypeId id) {
  switch (id) {
    case TypeId::kNull:
      return "null";
    case TypeId::kBool:
      return "bool";
    case TypeId::kInt8:
      return "int8";
    case TypeId::kInt16:
      return "int16";
    case TypeId::kInt32:
      return "int32";
    case TypeId::kInt64:
      return "int64";
    case TypeId::kUInt8:
      return "uint8";
    case TypeId::kUInt16:
      return "uint16";
    case TypeId::kUInt32:
      return "uint32";
    case TypeId::kUInt64:
      return "uint64";
    case TypeId::kFloat32:
      return "float32";
    case TypeId::kFloat64:
      return "float64";
    case TypeId::kDecimal:
      return "decimal";
    case TypeId::kString:
      return "string";
    case TypeId::kBytes:
      return "bytes";
    case TypeId::kDate:
      return "date";
    case TypeId::kTime:
      return "time";
    case TypeId::kTimestamp:
      return "timestamp";
    case TypeId::kTimestampTz:
      return "timestamp_tz";
    case TypeId::kJson:
      return "json";
  }
  return "unknown";
}

bool DataType::is_variable_width() const {
  switch (id) {
    case TypeId::kString:
    case TypeId::kBytes:
    case TypeId::kJson:
      return true;
    case TypeId::kDecimal:
      return !is_fast_decimal();
    default:
      return false;
  }
}

int DataType::physical_width() const {
  switch (id) {
    case TypeId::kNull:
      return 0;
    case TypeId::kBool:
    case TypeId::kInt8:
    case TypeId::kUInt8:
      return 1;
    case TypeId::kInt16:
    case TypeId::kUInt16:
      return 2;
    case TypeId::kInt32:
    case TypeId::kUInt32:
    case TypeId::kFloat32:
    case TypeId::kDate:
      return 4;
    case TypeId::kInt64:
    case TypeId::kUInt64:
    case TypeId::kFloat64:
    case TypeId::kTime:
    case TypeId::kTimestamp:
    case TypeId::kTimestampTz:
      return 8;
    case TypeId::kDecimal:
      return is_fast_decimal() ? 16 : static_cast<int>(sizeof(std::string_view));
    case TypeId::kString:
    case TypeId::kBytes:
    case TypeId::kJson:
      return static_cast<int>(sizeof(std::string_view));
  }
  return 0;
}

std::string DataType::ToString() const {
  switch (id) {
    case TypeId::kDecimal:
      if (precision == 0)
        return "decimal";
      return fmt::format("decimal({},{})", precision, scale);
    case TypeId::kTime:
    case TypeId::kTimestamp:
    case TypeId::kTimestampTz:
      if (precision == kMaxTimePrecision)
        return std::string(TypeIdName(id));
      return fmt::format("{}({})", TypeIdName(id), precision);
    case TypeId::kString:
    case TypeId::kBytes:
      if (length == 0)
        return std::string(TypeIdName(id));
      return fmt::format("{}({})", TypeIdName(id), length);
    default:
      return std::string(TypeIdName(id));
  }
}

namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
    s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t'))
    s.remove_suffix(1);
  return s;
}

// The whole of `s` (blanks around it aside) as a number of type T; false when it is not one or
// does not fit.
template <typename T>
bool ParseNumber(std::string_view s, T* out) {
  s = Trim(s);
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && ptr == s.data() + s.size();
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z')
      c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

}  // namespace

Result<DataType> ParseDataType(std::string_view text) {
  std::string spelled = Lower(Trim(text));
  std::string_view name = spelled;
  std::string_view args;
  if (auto open = name.find('('); open != std::string_view::npos) {
    if (name.back() != ')') {
      return InvalidConfig(fmt::format("unbalanced parentheses in type '{}'", text));
    }
    args = name.substr(open + 1, name.size() - open - 2);
    name = Trim(name.substr(0, open));
  }
  auto bad = [&] {
    return InvalidConfig(fmt::format(
        "unknown type '{}' (known: bool, int8, int16, int32, int64, uint8, uint16, uint32, "
        "uint64, float32, float64, decimal(p,s), string, bytes, date, time, timestamp, "
        "timestamp_tz, json)",
        text));
  };
  struct Alias {
    std::string_view name;
    TypeId id;
  };
  static constexpr Alias kNames[] = {
      {"null", TypeId::kNull},
      {"bool", TypeId::kBool},
      {"boolean", TypeId::kBool},
      {"int8", TypeId::kInt8},
      {"tinyint", TypeId::kInt8},
      {"int16", TypeId::kInt16},
      {"smallint", TypeId::kInt16},
      {"int32", TypeId::kInt32},
      {"int", TypeId::kInt32},
      {"integer", TypeId::kInt32},
      {"int64", TypeId::kInt64},
      {"bigint", TypeId::kInt64},
      {"long", TypeId::kInt64},
      {"uint8", TypeId::kUInt8},
      {"uint16", TypeId::kUInt16},
      {"uint32", TypeId::kUInt32},
      {"uint64", TypeId::kUInt64},
      {"float32", TypeId::kFloat32},
      {"float", TypeId::kFloat32},
      {"real", TypeId::kFloat32},
      {"float64", TypeId::kFloat64},
      {"double", TypeId::kFloat64},
      {"decimal", TypeId::kDecimal},
      {"numeric", TypeId::kDecimal},
      {"string", TypeId::kString},
      {"text", TypeId::kString},
      {"varchar", TypeId::kString},
      {"bytes", TypeId::kBytes},
      {"binary", TypeId::kBytes},
      {"blob", TypeId::kBytes},
      {"date", TypeId::kDate},
      {"time", TypeId::kTime},
      {"timestamp", TypeId::kTimestamp},
      {"datetime", TypeId::kTimestamp},
      {"timestamp_tz", TypeId::kTimestampTz},
      {"timestamptz", TypeId::kTimestampTz},
      {"json", TypeId::kJson},
  };
  const Alias* found = nullptr;
  for (const Alias& alias : kNames) {
    if (alias.name == name) {
      found = &alias;
      break;
    }
  }
  if (found == nullptr)
    return bad();
  DataType type{found->id};
  switch (type.id) {
    case TypeId::kDecimal: {
      if (args.empty())
        return DataType::Decimal(0, 0);
      int precision = 0;
      int scale = 0;
      auto comma = args.find(',');
      if (!ParseNumber(args.substr(0, comma), &precision) ||
          (comma != std::string_view::npos && !ParseNumber(args.substr(comma + 1), &scale))) {
        return InvalidConfig(fmt::format("bad decimal parameters in '{}'", text));
      }
      if (precision < 1 || precision > 1000 || scale < 0 || scale > precision) {
        return InvalidConfig(fmt::format(
            "decimal precision must be 1..1000 and scale 0..precision, got '{}'", text));
      }
      return DataType::Decimal(precision, scale);
    }
    case TypeId::kTime:
    case TypeId::kTimestamp:
    case TypeId::kTimestampTz: {
      type.precision = kMaxTimePrecision;
      if (!args.empty()) {
        int precision = 0;
        if (!ParseNumber(args, &precision) || precision < 0 || precision > kMaxTimePrecision) {
          return InvalidConfig(
              fmt::format("fractional-second precision must be 0..6, got '{}'", text));
        }
        type.precision = static_cast<uint16_t>(precision);
      }
      return type;
    }
    case TypeId::kString:
    case TypeId::kBytes: {
      // Any length a column can have: a MySQL LONGTEXT or LONGBLOB is 4294967295 (2^32 - 1).
      if (!args.empty() && (!ParseNumber(args, &type.length) || type.length == 0)) {
        return InvalidConfig(fmt::format("bad length in type '{}' (must be 1..{})", text,
                                         std::numeric_limits<uint32_t>::max()));
      }
      return type;
    }
    default:
      if (!args.empty())
        return bad();
      return type;
  }
}

}  // namespace sluice
