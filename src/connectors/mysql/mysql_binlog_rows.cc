#include "connectors/mysql/mysql_binlog_rows.h"

#include <fmt/core.h>
#include <mysql.h>

#include <algorithm>
#include <bit>
#include <cstring>

#include "connectors/mysql/mysql_values.h"
#include "core/endian.h"
#include "core/temporal.h"

namespace sluice::connectors::mysql {

namespace {

using binlog::ColumnType;
using binlog::ReadLittleEndian;
namespace field = binlog::field;

// Bytes of a DECIMAL's binary form for 0..9 decimal digits that do not fill a group of 9.
constexpr int kDigitBytes[10] = {0, 1, 1, 2, 2, 3, 3, 4, 4, 4};

size_t DecimalBinarySize(int precision, int scale) {
  int integer = precision - scale;
  return static_cast<size_t>((integer / 9) * 4 + kDigitBytes[integer % 9] + (scale / 9) * 4 +
                             kDigitBytes[scale % 9]);
}

uint64_t ReadBig(const char* data, size_t size) {
  uint64_t value = 0;
  for (size_t i = 0; i < size; ++i)
    value = (value << 8) | static_cast<unsigned char>(data[i]);
  return value;
}

bool IsBlobType(uint8_t type) {
  return type == field::kBlob || type == field::kTinyBlob || type == field::kMediumBlob ||
         type == field::kLongBlob;
}

bool IsStringType(uint8_t type) {
  return type == field::kString || type == field::kVarchar || type == field::kVarString ||
         IsBlobType(type);
}

// The size of one stored value of `type` at `data` (`available` bytes left), prefixes included.
Result<size_t> ValueSize(const ColumnType& type, const char* data, size_t available) {
  auto prefixed = [&](size_t prefix) -> Result<size_t> {
    if (available < prefix)
      return prefix;  // more than is left: the caller reports the overrun
    return prefix + ReadLittleEndian(data, prefix);
  };
  const size_t fraction = (type.fsp + 1u) / 2u;
  switch (type.type) {
    case field::kNull:
      return size_t{0};
    case field::kTiny:
    case field::kYear:
      return size_t{1};
    case field::kShort:
      return size_t{2};
    case field::kInt24:
    case field::kDate:
    case field::kNewDate:
    case field::kTime:
      return size_t{3};
    case field::kLong:
    case field::kFloat:
    case field::kTimestamp:
      return size_t{4};
    case field::kLongLong:
    case field::kDouble:
    case field::kDateTime:
      return size_t{8};
    case field::kTimestamp2:
      return 4 + fraction;
    case field::kDateTime2:
      return 5 + fraction;
    case field::kTime2:
      return 3 + fraction;
    case field::kNewDecimal:
      return DecimalBinarySize(type.precision, type.scale);
    case field::kBit:
      return size_t{(type.bits + 7) / 8};
    case field::kEnum:
    case field::kSet:
      return size_t{type.length};
    case field::kString:
    case field::kVarchar:
    case field::kVarString:
      return prefixed(type.length > 255 ? 2 : 1);
    case field::kBlob:
    case field::kTinyBlob:
    case field::kMediumBlob:
    case field::kLongBlob:
    case field::kGeometry:
    case field::kJson:
      if (type.length < 1 || type.length > 4)
        return Internal(fmt::format("a BLOB with a length prefix of {} bytes", type.length));
      return prefixed(type.length);
    default:
      return Unsupported(fmt::format("binlog column type {} ({})",
                                     binlog::FieldTypeName(type.type), type.type));
  }
}

// The bytes of a string value after its length prefix.
std::string_view StringPayload(const ColumnType& type, std::string_view value) {
  size_t prefix = IsBlobType(type.type) || type.type == field::kGeometry ||
                          type.type == field::kJson
                      ? type.length
                      : (type.length > 255 ? 2 : 1);
  return value.substr(std::min(prefix, value.size()));
}

// MySQL's latin1 is Windows-1252, its five undefined bytes mapped to the C1 controls.
constexpr char16_t kLatin1High[32] = {
    0x20AC, 0x0081, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160,
    0x2039, 0x0152, 0x008D, 0x017D, 0x008F, 0x0090, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022,
    0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0x009D, 0x017E, 0x0178};

void Latin1ToUtf8(std::string_view text, std::string* out) {
  out->clear();
  for (char c : text) {
    auto byte = static_cast<unsigned char>(c);
    char32_t code = byte < 0x80 ? byte : byte < 0xA0 ? kLatin1High[byte - 0x80] : byte;
    if (code < 0x80) {
      out->push_back(static_cast<char>(code));
    } else if (code < 0x800) {
      out->push_back(static_cast<char>(0xC0 | (code >> 6)));
      out->push_back(static_cast<char>(0x80 | (code & 0x3F)));
    } else {
      out->push_back(static_cast<char>(0xE0 | (code >> 12)));
      out->push_back(static_cast<char>(0x80 | ((code >> 6) & 0x3F)));
      out->push_back(static_cast<char>(0x80 | (code & 0x3F)));
    }
  }
}

// The fractional seconds of TIMESTAMP2 and DATETIME2 (`fsp` digits, big-endian) as micros.
uint32_t Fraction(const char* data, uint8_t fsp) {
  switch ((fsp + 1) / 2) {
    case 1:
      return static_cast<uint32_t>(static_cast<unsigned char>(data[0])) * 10000;
    case 2:
      return static_cast<uint32_t>(ReadBig(data, 2)) * 100;
    case 3:
      return static_cast<uint32_t>(ReadBig(data, 3));
    default:
      return 0;
  }
}

// Fills `t` from a stored DATE, DATETIME, TIMESTAMP or TIME of any format.
Status DecodeTemporal(const ColumnType& type, std::string_view value, MYSQL_TIME* t) {
  std::memset(t, 0, sizeof(*t));
  const char* p = value.data();
  switch (type.type) {
    case field::kDate:
    case field::kNewDate: {
      // day (5 bits), month (4 bits), year, little-endian in 3 bytes.
      auto packed = static_cast<uint32_t>(ReadLittleEndian(p, 3));
      t->day = packed & 31;
      t->month = (packed >> 5) & 15;
      t->year = packed >> 9;
      t->time_type = MYSQL_TIMESTAMP_DATE;
      return Status::OK();
    }
    case field::kDateTime2: {
      // 1 sign bit, 17 bits year * 13 + month, 5 day, 5 hour, 6 minute, 6 second, big-endian,
      // then the fraction.
      uint64_t packed = ReadBig(p, 5) - 0x8000000000ULL;
      uint64_t date = packed >> 17;
      uint64_t time = packed & 0x1FFFF;
      uint64_t year_month = date >> 5;
      t->day = static_cast<unsigned>(date & 31);
      t->month = static_cast<unsigned>(year_month % 13);
      t->year = static_cast<unsigned>(year_month / 13);
      t->second = static_cast<unsigned>(time & 63);
      t->minute = static_cast<unsigned>((time >> 6) & 63);
      t->hour = static_cast<unsigned>(time >> 12);
      t->second_part = Fraction(p + 5, type.fsp);
      t->time_type = MYSQL_TIMESTAMP_DATETIME;
      return Status::OK();
    }
    case field::kDateTime: {
      // MySQL 5.5: YYYYMMDDhhmmss as a little-endian integer.
      uint64_t packed = ReadLittleEndian(p, 8);
      uint64_t date = packed / 1000000;
      uint64_t time = packed % 1000000;
      t->year = static_cast<unsigned>(date / 10000);
      t->month = static_cast<unsigned>(date / 100 % 100);
      t->day = static_cast<unsigned>(date % 100);
      t->hour = static_cast<unsigned>(time / 10000);
      t->minute = static_cast<unsigned>(time / 100 % 100);
      t->second = static_cast<unsigned>(time % 100);
      t->time_type = MYSQL_TIMESTAMP_DATETIME;
      return Status::OK();
    }
    case field::kTimestamp2:
    case field::kTimestamp: {
      // Seconds since the epoch (TIMESTAMP2 big-endian, then the fraction; MySQL 5.5's
      // little-endian). Zero is the zero timestamp: the range starts at 00:00:01.
      bool two = type.type == field::kTimestamp2;
      int64_t seconds = static_cast<int64_t>(two ? ReadBig(p, 4) : ReadLittleEndian(p, 4));
      uint32_t micros = two ? Fraction(p + 4, type.fsp) : 0;
      t->time_type = MYSQL_TIMESTAMP_DATETIME;
      if (seconds == 0 && micros == 0)
        return Status::OK();
      int64_t year = 0;
      unsigned month = 0;
      unsigned day = 0;
      CivilFromDays(seconds / 86400, &year, &month, &day);
      int64_t of_day = seconds % 86400;
      t->year = static_cast<unsigned>(year);
      t->month = month;
      t->day = day;
      t->hour = static_cast<unsigned>(of_day / 3600);
      t->minute = static_cast<unsigned>(of_day / 60 % 60);
      t->second = static_cast<unsigned>(of_day % 60);
      t->second_part = micros;
      return Status::OK();
    }
    case field::kTime2: {
      // MySQL's packed TIME (my_time_packed_from_binary): the integer part offset by 0x800000;
      // a negative value's fraction counts down from the next second.
      int64_t packed = 0;
      int64_t integer = static_cast<int64_t>(ReadBig(p, 3)) - 0x800000;
      switch ((type.fsp + 1) / 2) {
        case 0:
          packed = integer * (int64_t{1} << 24);
          break;
        case 1: {
          int64_t fraction = static_cast<unsigned char>(p[3]);
          if (integer < 0 && fraction != 0) {
            ++integer;
            fraction -= 0x100;
          }
          packed = integer * (int64_t{1} << 24) + fraction * 10000;
          break;
        }
        case 2: {
          int64_t fraction = static_cast<int64_t>(ReadBig(p + 3, 2));
          if (integer < 0 && fraction != 0) {
            ++integer;
            fraction -= 0x10000;
          }
          packed = integer * (int64_t{1} << 24) + fraction * 100;
          break;
        }
        default:
          packed = static_cast<int64_t>(ReadBig(p, 6)) - 0x800000000000LL;
          break;
      }
      t->neg = packed < 0;
      if (packed < 0)
        packed = -packed;
      int64_t hms = packed >> 24;
      t->hour = static_cast<unsigned>((hms >> 12) % (1 << 10));
      t->minute = static_cast<unsigned>((hms >> 6) % (1 << 6));
      t->second = static_cast<unsigned>(hms % (1 << 6));
      t->second_part = static_cast<unsigned long>(packed % (1 << 24));
      t->time_type = MYSQL_TIMESTAMP_TIME;
      return Status::OK();
    }
    case field::kTime: {
      // MySQL 5.5: [-]hhhmmss as a signed little-endian 3-byte integer.
      auto raw = static_cast<int32_t>(ReadLittleEndian(p, 3));
      if (raw & 0x800000)
        raw -= 0x1000000;
      t->neg = raw < 0;
      uint32_t value = static_cast<uint32_t>(raw < 0 ? -raw : raw);
      t->hour = value / 10000;
      t->minute = value / 100 % 100;
      t->second = value % 100;
      t->time_type = MYSQL_TIMESTAMP_TIME;
      return Status::OK();
    }
    default:
      return Internal(fmt::format("binlog type {} is no date or time",
                                  binlog::FieldTypeName(type.type)));
  }
}

Status AppendMembers(const ColumnType& type, std::string_view value, const SourceColumn& column,
                     Column* out, std::string* scratch) {
  uint64_t number = ReadLittleEndian(value.data(), value.size());
  const std::vector<std::string>& members = column.members;
  if (type.type == field::kEnum) {
    // 0 is the empty string MySQL stores for an invalid value; members count from 1.
    if (number == 0) {
      out->AppendView({});
      return Status::OK();
    }
    if (number > members.size()) {
      return Internal(fmt::format("column '{}': ENUM index {} of {} members", column.info.name,
                                  number, members.size()));
    }
    out->AppendView(members[number - 1]);
    return Status::OK();
  }
  scratch->clear();
  for (size_t i = 0; i < members.size() && i < 64; ++i) {
    if ((number >> i) & 1) {
      if (!scratch->empty())
        scratch->push_back(',');
      scratch->append(members[i]);
    }
  }
  out->AppendView(*scratch);
  return Status::OK();
}

}  // namespace

Status ReadRowImage(std::string_view rows, size_t* offset, std::string_view present,
                    const std::vector<ColumnType>& columns, std::vector<ImageValue>* values) {
  const size_t count = columns.size();
  if (present.size() * 8 < count) {
    return Internal(fmt::format("a row event's column bitmap covers {} bytes for {} columns",
                                present.size(), count));
  }
  auto is_present = [&](size_t c) {
    return (static_cast<unsigned char>(present[c / 8]) >> (c % 8)) & 1;
  };
  size_t present_count = 0;
  for (size_t c = 0; c < count; ++c)
    present_count += is_present(c);
  size_t at = *offset;
  const size_t null_bytes = (present_count + 7) / 8;
  if (rows.size() - at < null_bytes)
    return Internal("a row image ends in its NULL bitmap");
  std::string_view nulls = rows.substr(at, null_bytes);
  at += null_bytes;
  values->assign(count, ImageValue());
  size_t index = 0;  // among the present columns
  for (size_t c = 0; c < count; ++c) {
    ImageValue& value = (*values)[c];
    if (!is_present(c))
      continue;
    bool null = (static_cast<unsigned char>(nulls[index / 8]) >> (index % 8)) & 1;
    ++index;
    if (null) {
      value.state = ImageValue::State::kNull;
      continue;
    }
    SLUICE_ASSIGN_OR_RETURN(size_t size,
                            ValueSize(columns[c], rows.data() + at, rows.size() - at));
    if (rows.size() - at < size) {
      return Internal(fmt::format("a row image ends in column {} ({})", c + 1,
                                  binlog::FieldTypeName(columns[c].type)));
    }
    value.state = ImageValue::State::kValue;
    value.bytes = rows.substr(at, size);
    at += size;
  }
  *offset = at;
  return Status::OK();
}

std::string BinlogReadRefusal(const SourceColumn& column) {
  const ColumnInfo& info = column.info;
  static const std::initializer_list<std::string_view> kReadable = {
      "tinyint", "smallint", "mediumint", "int", "integer", "bigint", "year", "bit", "float",
      "double", "real", "decimal", "numeric", "char", "varchar", "tinytext", "text",
      "mediumtext", "longtext", "enum", "set", "binary", "varbinary", "tinyblob", "blob",
      "mediumblob", "longblob", "date", "datetime", "timestamp", "time"};
  if (info.data_type == "json") {
    return fmt::format("column '{}' is MySQL's JSON, whose binary form in the binlog is not "
                       "decoded yet",
                       info.name);
  }
  if (column.spatial) {
    if (column.kind != ValueKind::kBytes) {
      return fmt::format("column '{}' is spatial and the source has geometry: wkt; change data "
                         "capture reads spatial values as WKB only (geometry: wkb)",
                         info.name);
    }
    return "";
  }
  if (std::find(kReadable.begin(), kReadable.end(), info.data_type) == kReadable.end()) {
    return fmt::format("column '{}' has type '{}', which change data capture does not read yet",
                       info.name, info.column_type);
  }
  if (column.kind == ValueKind::kText && column.members.empty()) {
    static const std::initializer_list<std::string_view> kCharsets = {
        "", "utf8mb4", "utf8mb3", "utf8", "ascii", "latin1", "binary"};
    if (std::find(kCharsets.begin(), kCharsets.end(), info.charset) == kCharsets.end()) {
      return fmt::format("column '{}' has character set '{}'; change data capture reads text in "
                         "utf8mb4, utf8mb3, ascii and latin1",
                         info.name, info.charset);
    }
  }
  return "";
}

bool BinlogTypeFits(const ColumnType& type, const SourceColumn& column) {
  const uint8_t t = type.type;
  const std::string& data_type = column.info.data_type;
  switch (column.kind) {
    case ValueKind::kInt8:
    case ValueKind::kUInt8:
      return t == field::kTiny;
    case ValueKind::kInt16:
    case ValueKind::kUInt16:
      return t == field::kShort;
    case ValueKind::kInt32:
    case ValueKind::kUInt32:
      return data_type == "mediumint" ? t == field::kInt24 : t == field::kLong;
    case ValueKind::kInt64:
    case ValueKind::kUInt64:
      return t == field::kLongLong;
    case ValueKind::kYear:
      return t == field::kYear;
    case ValueKind::kBit:
      return t == field::kBit && type.bits <= 64;
    case ValueKind::kFloat:
      return t == field::kFloat;
    case ValueKind::kDouble:
      return t == field::kDouble;
    case ValueKind::kDecimal:
      return t == field::kNewDecimal && type.precision == column.type.precision &&
             type.scale == column.type.scale;
    case ValueKind::kText:
      if (data_type == "enum")
        return t == field::kEnum;
      if (data_type == "set")
        return t == field::kSet;
      return IsStringType(t);
    case ValueKind::kBytes:
      return column.spatial ? t == field::kGeometry : IsStringType(t);
    case ValueKind::kDate:
      return t == field::kDate || t == field::kNewDate;
    case ValueKind::kDateTime:
      return t == field::kDateTime2 || t == field::kDateTime;
    case ValueKind::kTimestamp:
      return t == field::kTimestamp2 || t == field::kTimestamp;
    case ValueKind::kTime:
      return t == field::kTime2 || t == field::kTime;
    case ValueKind::kTemporalText:
      if (data_type == "date")
        return t == field::kDate || t == field::kNewDate;
      if (data_type == "datetime")
        return t == field::kDateTime2 || t == field::kDateTime;
      return t == field::kTimestamp2 || t == field::kTimestamp;
  }
  return false;
}

bool BinlogValueConverts(const ColumnType& type, const SourceColumn& column) {
  if (BinlogTypeFits(type, column))
    return true;
  switch (column.kind) {
    case ValueKind::kDecimal:
      return type.type == field::kNewDecimal;
    case ValueKind::kDouble:
      return type.type == field::kFloat;
    default:
      return false;
  }
}

Status DecodeBinlogDecimal(std::string_view bytes, int precision, int scale, std::string* out) {
  out->clear();
  if (precision < 1 || scale < 0 || scale > precision)
    return Internal(fmt::format("DECIMAL({},{}) in the binlog", precision, scale));
  const size_t size = DecimalBinarySize(precision, scale);
  if (bytes.size() != size) {
    return Internal(fmt::format("DECIMAL({},{}) of {} bytes ({} expected)", precision, scale,
                                bytes.size(), size));
  }
  // Groups of 9 digits in 4 big-endian bytes, a shorter group first in the integer part and last
  // in the fraction. The sign bit is flipped; a negative value has every byte inverted.
  unsigned char copy[40];
  std::memcpy(copy, bytes.data(), size);
  const bool negative = (copy[0] & 0x80) == 0;
  copy[0] ^= 0x80;
  if (negative) {
    for (size_t i = 0; i < size; ++i)
      copy[i] = static_cast<unsigned char>(~copy[i]);
  }
  const char* p = reinterpret_cast<const char*>(copy);
  auto digits = [&](int count, std::string* text) {
    int group_bytes = count == 9 ? 4 : kDigitBytes[count];
    uint64_t value = ReadBig(p, static_cast<size_t>(group_bytes));
    p += group_bytes;
    char buffer[9];
    for (int i = count - 1; i >= 0; --i) {
      buffer[i] = static_cast<char>('0' + value % 10);
      value /= 10;
    }
    text->append(buffer, static_cast<size_t>(count));
  };
  const int integer = precision - scale;
  std::string integer_digits;
  if (integer % 9 != 0)
    digits(integer % 9, &integer_digits);
  for (int i = 0; i < integer / 9; ++i)
    digits(9, &integer_digits);
  size_t first = integer_digits.find_first_not_of('0');
  if (negative)
    out->push_back('-');
  if (first == std::string::npos)
    out->push_back('0');
  else
    out->append(integer_digits, first);
  if (scale > 0) {
    out->push_back('.');
    for (int i = 0; i < scale / 9; ++i)
      digits(9, out);
    if (scale % 9 != 0)
      digits(scale % 9, out);
  }
  return Status::OK();
}

Status AppendBinlogValue(const ColumnType& type, std::string_view value,
                         const SourceColumn& column, ZeroDates zero_dates, Column* out,
                         BinlogScratch* scratch) {
  const char* p = value.data();
  switch (column.kind) {
    case ValueKind::kInt8:
      out->Append<int8_t>(static_cast<int8_t>(p[0]));
      return Status::OK();
    case ValueKind::kUInt8:
      out->Append<uint8_t>(static_cast<uint8_t>(p[0]));
      return Status::OK();
    case ValueKind::kInt16:
      out->Append<int16_t>(static_cast<int16_t>(ReadLittleEndian(p, 2)));
      return Status::OK();
    case ValueKind::kUInt16:
      out->Append<uint16_t>(static_cast<uint16_t>(ReadLittleEndian(p, 2)));
      return Status::OK();
    case ValueKind::kYear: {
      // 0 is the zero year; anything else counts from 1900.
      auto stored = static_cast<unsigned char>(p[0]);
      out->Append<int16_t>(static_cast<int16_t>(stored == 0 ? 0 : 1900 + stored));
      return Status::OK();
    }
    case ValueKind::kInt32:
    case ValueKind::kUInt32: {
      auto bits = static_cast<uint32_t>(ReadLittleEndian(p, value.size()));
      if (column.kind == ValueKind::kUInt32) {
        out->Append<uint32_t>(bits);
      } else if (value.size() == 3) {
        out->Append<int32_t>((bits & 0x800000) ? static_cast<int32_t>(bits | 0xFF000000u)
                                               : static_cast<int32_t>(bits));
      } else {
        out->Append<int32_t>(static_cast<int32_t>(bits));
      }
      return Status::OK();
    }
    case ValueKind::kInt64:
      out->Append<int64_t>(static_cast<int64_t>(ReadLittleEndian(p, 8)));
      return Status::OK();
    case ValueKind::kUInt64:
      out->Append<uint64_t>(ReadLittleEndian(p, 8));
      return Status::OK();
    case ValueKind::kBit: {
      size_t size = std::min<size_t>(value.size(), 8);
      out->Append<uint64_t>(ReadBig(p + value.size() - size, size));
      return Status::OK();
    }
    case ValueKind::kFloat:
      out->Append<float>(std::bit_cast<float>(static_cast<uint32_t>(ReadLittleEndian(p, 4))));
      return Status::OK();
    case ValueKind::kDouble:
      if (type.type == field::kFloat) {  // a FLOAT column altered to DOUBLE since: exact
        out->Append<double>(
            std::bit_cast<float>(static_cast<uint32_t>(ReadLittleEndian(p, 4))));
        return Status::OK();
      }
      out->Append<double>(std::bit_cast<double>(ReadLittleEndian(p, 8)));
      return Status::OK();
    case ValueKind::kDecimal: {
      Status decoded = DecodeBinlogDecimal(value, type.precision, type.scale, &scratch->text);
      if (!decoded.ok())
        return decoded.WithContext(fmt::format("column '{}'", column.info.name));
      return AppendDecimalValue(scratch->text, column, out, &scratch->other);
    }
    case ValueKind::kText: {
      if (type.type == field::kEnum || type.type == field::kSet)
        return AppendMembers(type, value, column, out, &scratch->text);
      std::string_view text = StringPayload(type, value);
      if (column.info.charset == "latin1") {
        Latin1ToUtf8(text, &scratch->text);
        out->AppendView(scratch->text);
      } else {
        out->AppendView(text);
      }
      return Status::OK();
    }
    case ValueKind::kBytes: {
      std::string_view bytes = StringPayload(type, value);
      if (column.spatial) {
        // The server's geometry: a 4-byte SRID, then the WKB that ST_AsBinary returns.
        out->AppendView(bytes.substr(std::min<size_t>(4, bytes.size())));
        return Status::OK();
      }
      if (column.info.data_type == "binary" && column.info.max_length > 0 &&
          bytes.size() < static_cast<size_t>(column.info.max_length)) {
        // BINARY(n) is logged without its trailing zero bytes; reads pad it back to n.
        scratch->text.assign(bytes);
        scratch->text.resize(static_cast<size_t>(column.info.max_length), '\0');
        out->AppendView(scratch->text);
        return Status::OK();
      }
      out->AppendView(bytes);
      return Status::OK();
    }
    case ValueKind::kDate:
    case ValueKind::kDateTime:
    case ValueKind::kTimestamp:
    case ValueKind::kTime:
    case ValueKind::kTemporalText: {
      MYSQL_TIME time;
      SLUICE_RETURN_IF_ERROR(DecodeTemporal(type, value, &time));
      return AppendTemporalValue(time, column, zero_dates, out, &scratch->text);
    }
  }
  return Internal(fmt::format("column '{}': unknown value kind", column.info.name));
}

}  // namespace sluice::connectors::mysql
