#include "connectors/postgres/postgres_types.h"

#include <fmt/core.h>

#include <bit>
#include <limits>

#include "core/decimal.h"
#include "core/endian.h"
#include "core/temporal.h"
#include "core/value_text.h"

namespace sluice::connectors::postgres {

namespace {

// PostgreSQL counts dates and timestamps from 2000-01-01; Sluice from 1970-01-01.
constexpr int32_t kPgEpochDays = 10957;
constexpr int64_t kPgEpochMicros = int64_t{kPgEpochDays} * kMicrosPerDay;
// The ranges PostgreSQL accepts (datatype/timestamp.h), relative to its epoch.
constexpr int32_t kPgMinDate = -2451545;                  // 4714-11-24 BC
constexpr int32_t kPgEndDate = 2145031949;                // exclusive: 5874898-01-01
constexpr int64_t kPgMinTimestamp = -211813488000000000;  // 4714-11-24 00:00 BC
constexpr int64_t kPgEndTimestamp = 9223371331200000000;  // exclusive: 294277-01-01

// numeric's sign word.
constexpr uint16_t kNumericPositive = 0x0000;
constexpr uint16_t kNumericNegative = 0x4000;
constexpr uint16_t kNumericNaN = 0xC000;
constexpr uint16_t kNumericPlusInfinity = 0xD000;
constexpr uint16_t kNumericMinusInfinity = 0xF000;

Status BadSize(std::string_view type, size_t size) {
  return DataError(fmt::format("{} value has {} bytes on the wire", type, size));
}

// The text numeric_out() prints for base-10000 `digits` (host order).
void AppendNumericText(bool negative, int weight, int dscale, const char* digits, int ndigits,
                       std::string* out) {
  auto digit = [&](int i) -> int {
    return i >= 0 && i < ndigits ? ReadBigEndian<uint16_t>(digits + 2 * i) : 0;
  };
  if (negative)
    out->push_back('-');
  if (weight < 0) {
    out->push_back('0');
  } else {
    for (int i = 0; i <= weight; ++i) {
      int d = digit(i);
      char group[4] = {static_cast<char>('0' + d / 1000), static_cast<char>('0' + d / 100 % 10),
                       static_cast<char>('0' + d / 10 % 10), static_cast<char>('0' + d % 10)};
      if (i == 0) {
        int skip = 0;
        while (skip < 3 && group[skip] == '0')
          ++skip;
        out->append(group + skip, 4 - skip);
      } else {
        out->append(group, 4);
      }
    }
  }
  if (dscale > 0) {
    out->push_back('.');
    int written = 0;
    for (int i = weight + 1; written < dscale; ++i) {
      int d = digit(i);
      char group[4] = {static_cast<char>('0' + d / 1000), static_cast<char>('0' + d / 100 % 10),
                       static_cast<char>('0' + d / 10 % 10), static_cast<char>('0' + d % 10)};
      int take = std::min(4, dscale - written);
      out->append(group, static_cast<size_t>(take));
      written += take;
    }
  }
}

Status DecodeNumeric(const char* data, size_t size, Column* column, std::string* scratch) {
  if (size < 8)
    return BadSize("numeric", size);
  int ndigits = ReadBigEndian<int16_t>(data);
  int weight = ReadBigEndian<int16_t>(data + 2);
  uint16_t sign = ReadBigEndian<uint16_t>(data + 4);
  int dscale = ReadBigEndian<uint16_t>(data + 6);
  if (ndigits < 0 || size != 8 + 2 * static_cast<size_t>(ndigits))
    return BadSize("numeric", size);
  const char* digits = data + 8;
  const DataType& type = column->type();
  std::string_view special;
  if (sign == kNumericNaN)
    special = "NaN";
  if (sign == kNumericPlusInfinity)
    special = "Infinity";
  if (sign == kNumericMinusInfinity)
    special = "-Infinity";
  if (type.is_fast_decimal()) {
    if (!special.empty()) {
      return DataError(
          fmt::format("{} does not fit decimal({},{})", special, type.precision, type.scale));
    }
    int128 value = 0;
    for (int i = 0; i < ndigits; ++i) {
      int d = ReadBigEndian<uint16_t>(digits + 2 * i);
      int exponent = 4 * (weight - i) + type.scale;
      if (exponent > 38) {
        return DataError(
            fmt::format("numeric value does not fit decimal({},{})", type.precision, type.scale));
      }
      if (exponent >= 0) {
        value += d * Pow10Int128(exponent);
      } else if (exponent > -4) {
        value += d / static_cast<int>(Pow10Int128(-exponent));
      }
    }
    column->Append<int128>(sign == kNumericNegative ? -value : value);
    return Status::OK();
  }
  scratch->clear();
  if (!special.empty()) {
    if (type.precision > 0) {
      return DataError(
          fmt::format("{} does not fit decimal({},{})", special, type.precision, type.scale));
    }
    scratch->append(special);
  } else {
    AppendNumericText(sign == kNumericNegative, weight, dscale, digits, ndigits, scratch);
  }
  column->AppendView(*scratch);
  return Status::OK();
}

void AppendUuidText(const unsigned char* bytes, std::string* out) {
  static constexpr char kHex[] = "0123456789abcdef";
  for (int i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10)
      out->push_back('-');
    out->push_back(kHex[bytes[i] >> 4]);
    out->push_back(kHex[bytes[i] & 15]);
  }
}

Status AppendText(const char* data, size_t size, bool validate_utf8, Column* column) {
  std::string_view text(data, size);
  if (validate_utf8) {
    size_t bad = FindInvalidUtf8(text);
    if (bad != std::string_view::npos) {
      return DataError(fmt::format("invalid UTF-8 at byte {} (byte value 0x{:02x})", bad,
                                   static_cast<unsigned char>(text[bad])));
    }
  }
  column->AppendView(text);
  return Status::OK();
}

}  // namespace

ReadMapping MapForRead(const PgType& type) {
  const int32_t typmod = type.typmod;
  auto time_precision = [&] {
    return typmod >= 0 && typmod <= kMaxTimePrecision ? typmod : kMaxTimePrecision;
  };
  switch (type.base_oid) {
    case pg_oid::kBool:
      return {DataType::Bool(), Decoder::kBool};
    case pg_oid::kInt2:
      return {DataType::Int16(), Decoder::kInt2};
    case pg_oid::kInt4:
      return {DataType::Int32(), Decoder::kInt4};
    case pg_oid::kInt8:
      return {DataType::Int64(), Decoder::kInt8};
    case pg_oid::kOid:
      return {DataType::UInt32(), Decoder::kOid};
    case pg_oid::kFloat4:
      return {DataType::Float32(), Decoder::kFloat4};
    case pg_oid::kFloat8:
      return {DataType::Float64(), Decoder::kFloat8};
    case pg_oid::kNumeric: {
      if (typmod < 4)
        return {DataType::Decimal(0, 0), Decoder::kNumeric};
      int precision = ((typmod - 4) >> 16) & 0xffff;
      int scale = (((typmod - 4) & 0x7ff) ^ 1024) - 1024;  // PostgreSQL 15 allows negative scales
      // Negative scales and scales above the precision have no logical twin: keep every digit.
      if (scale < 0 || scale > precision)
        return {DataType::Decimal(0, 0), Decoder::kNumeric};
      return {DataType::Decimal(precision, scale), Decoder::kNumeric};
    }
    case pg_oid::kText:
    case pg_oid::kName:
      return {DataType::String(), Decoder::kText};
    case pg_oid::kVarchar:
      return {DataType::String(typmod > 4 ? static_cast<uint32_t>(typmod - 4) : 0), Decoder::kText};
    case pg_oid::kBpchar:
      return {DataType::String(typmod > 4 ? static_cast<uint32_t>(typmod - 4) : 0),
              Decoder::kBpchar};
    case pg_oid::kJson:
      return {DataType::Json(), Decoder::kText};
    case pg_oid::kJsonb:
      return {DataType::Json(), Decoder::kJsonb};
    case pg_oid::kBytea:
      return {DataType::Bytes(), Decoder::kBytea};
    case pg_oid::kDate:
      return {DataType::Date(), Decoder::kDate};
    case pg_oid::kTime:
      return {DataType::Time(time_precision()), Decoder::kTime};
    case pg_oid::kTimestamp:
      return {DataType::Timestamp(time_precision()), Decoder::kTimestamp};
    case pg_oid::kTimestampTz:
      return {DataType::TimestampTz(time_precision()), Decoder::kTimestampTz};
    case pg_oid::kUuid:
      return {DataType::String(), Decoder::kUuid};
    default:
      break;
  }
  // An enum's binary form is its label: read it as is. Everything else goes through its text.
  if (type.typtype == 'e')
    return {DataType::String(), Decoder::kText};
  return {DataType::String(), Decoder::kText, /*as_text=*/true};
}

Status DecodeValue(Decoder decoder, const char* data, size_t size, bool validate_utf8,
                   Column* column, std::string* scratch) {
  switch (decoder) {
    case Decoder::kBool:
      if (size != 1)
        return BadSize("boolean", size);
      column->Append<uint8_t>(data[0] != 0 ? 1 : 0);
      return Status::OK();
    case Decoder::kInt2:
      if (size != 2)
        return BadSize("smallint", size);
      column->Append<int16_t>(ReadBigEndian<int16_t>(data));
      return Status::OK();
    case Decoder::kInt4:
      if (size != 4)
        return BadSize("integer", size);
      column->Append<int32_t>(ReadBigEndian<int32_t>(data));
      return Status::OK();
    case Decoder::kInt8:
      if (size != 8)
        return BadSize("bigint", size);
      column->Append<int64_t>(ReadBigEndian<int64_t>(data));
      return Status::OK();
    case Decoder::kOid:
      if (size != 4)
        return BadSize("oid", size);
      column->Append<uint32_t>(ReadBigEndian<uint32_t>(data));
      return Status::OK();
    case Decoder::kFloat4:
      if (size != 4)
        return BadSize("real", size);
      column->Append<float>(std::bit_cast<float>(ReadBigEndian<uint32_t>(data)));
      return Status::OK();
    case Decoder::kFloat8:
      if (size != 8)
        return BadSize("double precision", size);
      column->Append<double>(std::bit_cast<double>(ReadBigEndian<uint64_t>(data)));
      return Status::OK();
    case Decoder::kNumeric:
      return DecodeNumeric(data, size, column, scratch);
    case Decoder::kText:
      return AppendText(data, size, validate_utf8, column);
    case Decoder::kBpchar:
      // The binary form keeps the blanks character(n) pads with; PostgreSQL's own text of the
      // value (bpchar -> text, what comparisons use) drops trailing blanks.
      while (size > 0 && data[size - 1] == ' ')
        --size;
      return AppendText(data, size, validate_utf8, column);
    case Decoder::kJsonb:
      if (size < 1 || data[0] != 1) {
        return DataError(fmt::format("unsupported jsonb wire version {}",
                                     size < 1 ? -1 : static_cast<int>(data[0])));
      }
      return AppendText(data + 1, size - 1, validate_utf8, column);
    case Decoder::kBytea:
      column->AppendView({data, size});
      return Status::OK();
    case Decoder::kDate: {
      if (size != 4)
        return BadSize("date", size);
      int32_t days = ReadBigEndian<int32_t>(data);
      if (days == std::numeric_limits<int32_t>::max()) {
        column->Append<int32_t>(kDateInfinity);
      } else if (days == std::numeric_limits<int32_t>::min()) {
        column->Append<int32_t>(kDateMinusInfinity);
      } else {
        column->Append<int32_t>(days + kPgEpochDays);
      }
      return Status::OK();
    }
    case Decoder::kTime:
      if (size != 8)
        return BadSize("time", size);
      column->Append<int64_t>(ReadBigEndian<int64_t>(data));
      return Status::OK();
    case Decoder::kTimestamp:
    case Decoder::kTimestampTz: {
      if (size != 8)
        return BadSize("timestamp", size);
      int64_t micros = ReadBigEndian<int64_t>(data);
      if (micros == std::numeric_limits<int64_t>::max()) {
        column->Append<int64_t>(kTimestampInfinity);
      } else if (micros == std::numeric_limits<int64_t>::min()) {
        column->Append<int64_t>(kTimestampMinusInfinity);
      } else {
        int64_t unix_micros;
        if (__builtin_add_overflow(micros, kPgEpochMicros, &unix_micros) ||
            unix_micros == kTimestampInfinity) {
          return DataError("timestamp is beyond the largest Sluice timestamp (year 294247)");
        }
        column->Append<int64_t>(unix_micros);
      }
      return Status::OK();
    }
    case Decoder::kUuid: {
      if (size != 16)
        return BadSize("uuid", size);
      scratch->clear();
      AppendUuidText(reinterpret_cast<const unsigned char*>(data), scratch);
      column->AppendView(*scratch);
      return Status::OK();
    }
  }
  return Internal("unhandled PostgreSQL decoder");
}

std::string TargetTypeFor(const DataType& type, bool from_jsonb) {
  switch (type.id) {
    case TypeId::kNull:
      return "text";
    case TypeId::kBool:
      return "boolean";
    case TypeId::kInt8:
    case TypeId::kInt16:
    case TypeId::kUInt8:
      return "smallint";
    case TypeId::kInt32:
    case TypeId::kUInt16:
      return "integer";
    case TypeId::kInt64:
    case TypeId::kUInt32:
      return "bigint";
    case TypeId::kUInt64:
      return "numeric(20,0)";
    case TypeId::kFloat32:
      return "real";
    case TypeId::kFloat64:
      return "double precision";
    case TypeId::kDecimal:
      if (type.precision == 0)
        return "numeric";
      return fmt::format("numeric({},{})", type.precision, type.scale);
    case TypeId::kString:
      if (type.length > 0 && type.length <= 10'485'760) {
        return fmt::format("character varying({})", type.length);
      }
      return "text";
    case TypeId::kJson:
      return from_jsonb ? "jsonb" : "json";
    case TypeId::kBytes:
      return "bytea";
    case TypeId::kDate:
      return "date";
    // MySQL's TIME is a duration of up to ±838 hours; PostgreSQL's time is a time of day.
    case TypeId::kTime:
      return "interval";
    case TypeId::kTimestamp:
      if (type.precision < kMaxTimePrecision) {
        return fmt::format("timestamp({}) without time zone", type.precision);
      }
      return "timestamp without time zone";
    case TypeId::kTimestampTz:
      if (type.precision < kMaxTimePrecision) {
        return fmt::format("timestamp({}) with time zone", type.precision);
      }
      return "timestamp with time zone";
  }
  return "text";
}

bool NativeTypeFits(const DataType& type, std::string_view spelled, const PgType& resolved) {
  if (resolved.base_oid == 0)
    return false;
  ReadMapping mapping = MapForRead(resolved);
  if (mapping.type.id != type.id)
    return false;
  switch (type.id) {
    case TypeId::kDecimal:
      return mapping.type.precision == type.precision && mapping.type.scale == type.scale;
    case TypeId::kTime:
      // Only PostgreSQL spells its time of day so; MySQL's "time" is a duration.
      return spelled.find("without time zone") != std::string_view::npos;
    default:
      return true;
  }
}

namespace {

// The encoder of `incoming` values for a column of `target`'s base type, without the checks of
// its type modifier.
std::optional<WriteMapping> EncoderFor(const DataType& incoming, const PgType& target) {
  const uint32_t b = target.base_oid;
  const bool string_target = target.category == 'S';
  auto direct = [](Encoder encoder) { return std::optional<WriteMapping>({encoder, false}); };
  if (incoming.id == TypeId::kNull)
    return direct(Encoder::kText);  // only NULLs are written
  // Text columns take any value as its canonical text.
  if (string_target)
    return direct(Encoder::kText);
  switch (incoming.id) {
    case TypeId::kBool:
      if (b == pg_oid::kBool)
        return direct(Encoder::kBool);
      return std::nullopt;
    case TypeId::kInt8:
    case TypeId::kInt16:
    case TypeId::kInt32:
    case TypeId::kInt64:
    case TypeId::kUInt8:
    case TypeId::kUInt16:
    case TypeId::kUInt32:
    case TypeId::kUInt64: {
      if (b == pg_oid::kBool)
        return direct(Encoder::kBool);  // 0 and 1 only: MySQL's TINYINT(1) and BIT(1)
      if (b == pg_oid::kInt2)
        return direct(Encoder::kInt2);
      if (b == pg_oid::kInt4)
        return direct(Encoder::kInt4);
      if (b == pg_oid::kInt8)
        return direct(Encoder::kInt8);
      if (b == pg_oid::kOid)
        return direct(Encoder::kOid);
      if (b == pg_oid::kNumeric)
        return direct(Encoder::kNumeric);
      // Floats only where every value converts exactly.
      bool small = incoming.id == TypeId::kInt8 || incoming.id == TypeId::kInt16 ||
                   incoming.id == TypeId::kUInt8 || incoming.id == TypeId::kUInt16;
      bool medium = small || incoming.id == TypeId::kInt32 || incoming.id == TypeId::kUInt32;
      if (b == pg_oid::kFloat4 && small)
        return direct(Encoder::kFloat4);
      if (b == pg_oid::kFloat8 && medium)
        return direct(Encoder::kFloat8);
      return std::nullopt;
    }
    case TypeId::kFloat32:
      if (b == pg_oid::kFloat4)
        return direct(Encoder::kFloat4);
      if (b == pg_oid::kFloat8)
        return direct(Encoder::kFloat8);
      return std::nullopt;
    case TypeId::kFloat64:
      if (b == pg_oid::kFloat8)
        return direct(Encoder::kFloat8);
      return std::nullopt;
    case TypeId::kDecimal:
      if (b == pg_oid::kNumeric)
        return direct(Encoder::kNumeric);
      return std::nullopt;
    case TypeId::kString:
      if (target.typtype == 'e' || b == pg_oid::kJson)
        return direct(Encoder::kText);
      if (b == pg_oid::kJsonb)
        return direct(Encoder::kJsonb);
      if (b == pg_oid::kUuid)
        return direct(Encoder::kUuid);
      if (b == pg_oid::kBytea)
        return std::nullopt;
      // interval, inet, arrays, tsvector, money, ...: the server parses the text.
      return std::optional<WriteMapping>({Encoder::kText, true});
    case TypeId::kJson:
      if (b == pg_oid::kJson)
        return direct(Encoder::kText);
      if (b == pg_oid::kJsonb)
        return direct(Encoder::kJsonb);
      return std::nullopt;
    case TypeId::kBytes:
      if (b == pg_oid::kBytea)
        return direct(Encoder::kBytea);
      return std::nullopt;
    case TypeId::kDate:
      if (b == pg_oid::kDate)
        return direct(Encoder::kDate);
      return std::nullopt;
    case TypeId::kTime:
      if (b == pg_oid::kTime)
        return direct(Encoder::kTime);
      if (b == pg_oid::kInterval)
        return direct(Encoder::kInterval);
      return std::nullopt;
    case TypeId::kTimestamp:
      if (b == pg_oid::kTimestamp)
        return direct(Encoder::kTimestamp);
      return std::nullopt;
    case TypeId::kTimestampTz:
      if (b == pg_oid::kTimestampTz)
        return direct(Encoder::kTimestampTz);
      return std::nullopt;
    case TypeId::kNull:
      break;
  }
  return std::nullopt;
}

// 10^(6 - digits): the microseconds one unit of the last kept fractional digit spans.
int64_t FractionUnit(int digits) {
  int64_t unit = 1;
  for (int i = digits; i < kMaxTimePrecision; ++i)
    unit *= 10;
  return unit;
}

}  // namespace

std::optional<WriteMapping> MapForWrite(const DataType& incoming, const PgType& target) {
  std::optional<WriteMapping> mapping = EncoderFor(incoming, target);
  if (!mapping || mapping->via_text || target.typmod < 0)
    return mapping;
  const uint32_t b = target.base_oid;
  // Checked only where some incoming value may not fit: a numeric(12,2) into numeric(12,2)
  // costs nothing per value.
  if (b == pg_oid::kNumeric && mapping->encoder == Encoder::kNumeric) {
    DataType column = MapForRead(target).type;  // decimal(p,s), unconstrained for odd scales
    const int integer_digits = column.precision - column.scale;
    const bool always_fits =
        incoming.id == TypeId::kDecimal
            ? incoming.precision > 0 && incoming.scale <= column.scale &&
                  incoming.precision - incoming.scale <= integer_digits
            : integer_digits >= 20;  // any 64-bit integer
    if (column.precision > 0 && !always_fits) {
      mapping->numeric_precision = column.precision;
      mapping->numeric_scale = column.scale;
    }
  }
  const bool timed = b == pg_oid::kTime || b == pg_oid::kTimestamp || b == pg_oid::kTimestampTz;
  if (timed && target.typmod < kMaxTimePrecision && incoming.precision > target.typmod)
    mapping->fraction_digits = target.typmod;
  return mapping;
}

// --- CopyBuffer ------------------------------------------------------------------------------

void CopyBuffer::Grow(size_t at_least) {
  size_t capacity = std::max<size_t>(capacity_ * 2, at_least);
  auto data = std::make_unique<char[]>(capacity);
  if (size_ > 0)
    std::memcpy(data.get(), data_.get(), size_);
  data_ = std::move(data);
  capacity_ = capacity;
}

void CopyBuffer::PutHeader() {
  static constexpr char kSignature[11] = {'P',  'G',    'C',  'O',  'P', 'Y',
                                          '\n', '\377', '\r', '\n', '\0'};
  PutBytes(kSignature, sizeof(kSignature));
  PutInt32(0);  // flags: no OIDs
  PutInt32(0);  // header extension length
}

// --- encoders --------------------------------------------------------------------------------

namespace {

// The integer value of an integer (or bool) column's row.
int128 IntegerAt(const Column& column, size_t row) {
  if (column.type().id == TypeId::kBool)
    return column.Get<uint8_t>(row);
  if (!column.type().is_integer())
    return 0;
  return VisitIntegerType(column.type().id,
                          [&]<typename T>(T) { return static_cast<int128>(column.Get<T>(row)); });
}

Status OutOfRange(const Column& column, size_t row, std::string_view target) {
  std::string text;
  AppendValueText(column, row, &text);
  return DataError(fmt::format("{} is out of range for PostgreSQL {}", text, target));
}

// numeric's binary form from decimal digits: `integer` (may have leading zeros) and `fraction`
// (its length is the display scale). Groups of four digits are aligned on the decimal point.
void PutNumericDigits(bool negative, std::string_view integer, std::string_view fraction,
                      CopyBuffer* out) {
  const size_t pad_left = (4 - integer.size() % 4) % 4;
  const size_t pad_right = (4 - fraction.size() % 4) % 4;
  const size_t total = pad_left + integer.size() + fraction.size() + pad_right;
  const int groups = static_cast<int>(total / 4);
  auto digit_at = [&](size_t padded) -> int {
    if (padded < pad_left)
      return 0;
    size_t i = padded - pad_left;
    if (i < integer.size())
      return integer[i] - '0';
    i -= integer.size();
    return i < fraction.size() ? fraction[i] - '0' : 0;
  };
  auto group = [&](int g) {
    size_t at = static_cast<size_t>(g) * 4;
    return digit_at(at) * 1000 + digit_at(at + 1) * 100 + digit_at(at + 2) * 10 + digit_at(at + 3);
  };
  int first = 0;
  while (first < groups && group(first) == 0)
    ++first;
  int last = groups - 1;
  while (last >= first && group(last) == 0)
    --last;
  int weight = static_cast<int>((pad_left + integer.size()) / 4) - 1 - first;
  int ndigits = last >= first ? last - first + 1 : 0;
  if (ndigits == 0) {
    weight = 0;
    negative = false;
  }
  out->PutInt32(8 + 2 * ndigits);
  out->PutInt16(static_cast<int16_t>(ndigits));
  out->PutInt16(static_cast<int16_t>(weight));
  out->PutInt16(static_cast<int16_t>(negative ? kNumericNegative : kNumericPositive));
  out->PutInt16(static_cast<int16_t>(fraction.size()));
  for (int g = first; g <= last; ++g)
    out->PutInt16(static_cast<int16_t>(group(g)));
}

void PutNumericSpecial(uint16_t sign, CopyBuffer* out) {
  out->PutInt32(8);
  out->PutInt16(0);
  out->PutInt16(0);
  out->PutInt16(static_cast<int16_t>(sign));
  out->PutInt16(0);
}

// From an unscaled int128 with `scale` fractional digits.
void PutNumeric128(int128 value, int scale, CopyBuffer* out) {
  char buffer[48];
  char* end = buffer + sizeof(buffer);
  char* p = end;
  bool negative = value < 0;
  int128 v = negative ? value : -value;  // negative side: the minimum does not overflow
  do {
    *--p = static_cast<char>('0' - static_cast<int>(v % 10));
    v /= 10;
  } while (v != 0);
  while (end - p < scale)
    *--p = '0';
  std::string_view digits(p, static_cast<size_t>(end - p));
  size_t integer_size = digits.size() - static_cast<size_t>(std::max(scale, 0));
  PutNumericDigits(negative, digits.substr(0, integer_size), digits.substr(integer_size), out);
}

Status PutNumericText(std::string_view text, CopyBuffer* out) {
  if (text == "NaN") {
    PutNumericSpecial(kNumericNaN, out);
    return Status::OK();
  }
  if (text == "Infinity") {
    PutNumericSpecial(kNumericPlusInfinity, out);
    return Status::OK();
  }
  if (text == "-Infinity") {
    PutNumericSpecial(kNumericMinusInfinity, out);
    return Status::OK();
  }
  std::string_view s = text;
  bool negative = false;
  if (!s.empty() && (s[0] == '-' || s[0] == '+')) {
    negative = s[0] == '-';
    s.remove_prefix(1);
  }
  size_t point = s.find('.');
  std::string_view integer = s.substr(0, point);
  std::string_view fraction =
      point == std::string_view::npos ? std::string_view() : s.substr(point + 1);
  bool any = !integer.empty() || !fraction.empty();
  for (char c : integer)
    any = any && c >= '0' && c <= '9';
  for (char c : fraction)
    any = any && c >= '0' && c <= '9';
  if (!any)
    return DataError(fmt::format("'{}' is not a decimal number", text.substr(0, 60)));
  PutNumericDigits(negative, integer, fraction, out);
  return Status::OK();
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

Status PutUuid(std::string_view text, CopyBuffer* out) {
  unsigned char bytes[16];
  int nibbles = 0;
  std::string_view s = text;
  if (s.size() >= 2 && s.front() == '{' && s.back() == '}')
    s = s.substr(1, s.size() - 2);
  for (char c : s) {
    if (c == '-')
      continue;
    int v = HexValue(c);
    if (v < 0 || nibbles >= 32) {
      nibbles = -1;
      break;
    }
    if (nibbles % 2 == 0) {
      bytes[nibbles / 2] = static_cast<unsigned char>(v << 4);
    } else {
      bytes[nibbles / 2] |= static_cast<unsigned char>(v);
    }
    ++nibbles;
  }
  if (nibbles != 32)
    return DataError(fmt::format("'{}' is not a UUID", text.substr(0, 60)));
  out->PutInt32(16);
  out->PutBytes(bytes, 16);
  return Status::OK();
}

Status PutText(std::string_view text, CopyBuffer* out) {
  if (std::memchr(text.data(), 0, text.size()) != nullptr) {
    return DataError("PostgreSQL text cannot contain NUL (0x00) bytes");
  }
  out->PutField(text);
  return Status::OK();
}

}  // namespace

Status EncodeValue(Encoder encoder, const Column& column, size_t row, CopyBuffer* out,
                   std::string* scratch) {
  const DataType& type = column.type();
  switch (encoder) {
    case Encoder::kBool: {
      bool value = false;
      if (type.id == TypeId::kBool) {
        value = column.Get<uint8_t>(row) != 0;
      } else {
        // An integer standing for a boolean (MySQL's TINYINT(1)): 0 or 1, nothing else.
        int128 v = IntegerAt(column, row);
        if (v != 0 && v != 1)
          return OutOfRange(column, row, "boolean (0 or 1)");
        value = v == 1;
      }
      out->PutInt32(1);
      *out->Extend(1) = static_cast<char>(value);
      return Status::OK();
    }
    case Encoder::kInt2: {
      int128 v = IntegerAt(column, row);
      if (v < -32768 || v > 32767)
        return OutOfRange(column, row, "smallint");
      out->PutInt32(2);
      out->PutInt16(static_cast<int16_t>(v));
      return Status::OK();
    }
    case Encoder::kInt4: {
      int128 v = IntegerAt(column, row);
      if (v < std::numeric_limits<int32_t>::min() || v > std::numeric_limits<int32_t>::max()) {
        return OutOfRange(column, row, "integer");
      }
      out->PutInt32(4);
      out->PutInt32(static_cast<int32_t>(v));
      return Status::OK();
    }
    case Encoder::kInt8: {
      int128 v = IntegerAt(column, row);
      if (v < std::numeric_limits<int64_t>::min() || v > std::numeric_limits<int64_t>::max()) {
        return OutOfRange(column, row, "bigint");
      }
      out->PutInt32(8);
      out->PutInt64(static_cast<int64_t>(v));
      return Status::OK();
    }
    case Encoder::kOid: {
      int128 v = IntegerAt(column, row);
      if (v < 0 || v > std::numeric_limits<uint32_t>::max())
        return OutOfRange(column, row, "oid");
      out->PutInt32(4);
      out->PutInt32(static_cast<int32_t>(static_cast<uint32_t>(v)));
      return Status::OK();
    }
    case Encoder::kFloat4: {
      float v = type.id == TypeId::kFloat32 ? column.Get<float>(row)
                                            : static_cast<float>(IntegerAt(column, row));
      out->PutInt32(4);
      out->PutInt32(static_cast<int32_t>(std::bit_cast<uint32_t>(v)));
      return Status::OK();
    }
    case Encoder::kFloat8: {
      double v = type.id == TypeId::kFloat64   ? column.Get<double>(row)
                 : type.id == TypeId::kFloat32 ? static_cast<double>(column.Get<float>(row))
                                               : static_cast<double>(IntegerAt(column, row));
      out->PutInt32(8);
      out->PutInt64(static_cast<int64_t>(std::bit_cast<uint64_t>(v)));
      return Status::OK();
    }
    case Encoder::kNumeric:
      if (type.id == TypeId::kDecimal) {
        if (type.is_fast_decimal()) {
          PutNumeric128(column.Get<int128>(row), type.scale, out);
          return Status::OK();
        }
        return PutNumericText(column.GetView(row), out);
      }
      PutNumeric128(IntegerAt(column, row), 0, out);
      return Status::OK();
    case Encoder::kText:
      if (type.id == TypeId::kString || type.id == TypeId::kJson) {
        return PutText(column.GetView(row), out);
      }
      scratch->clear();
      AppendValueText(column, row, scratch);
      return PutText(*scratch, out);
    case Encoder::kJsonb: {
      std::string_view text = column.GetView(row);
      if (std::memchr(text.data(), 0, text.size()) != nullptr) {
        return DataError("PostgreSQL text cannot contain NUL (0x00) bytes");
      }
      out->PutInt32(static_cast<int32_t>(text.size() + 1));
      *out->Extend(1) = 1;  // jsonb wire version
      out->PutBytes(text.data(), text.size());
      return Status::OK();
    }
    case Encoder::kBytea:
      out->PutField(column.GetView(row));
      return Status::OK();
    case Encoder::kDate: {
      int32_t days = column.Get<int32_t>(row);
      int32_t pg_days;
      if (days == kDateInfinity) {
        pg_days = std::numeric_limits<int32_t>::max();
      } else if (days == kDateMinusInfinity) {
        pg_days = std::numeric_limits<int32_t>::min();
      } else {
        int64_t shifted = int64_t{days} - kPgEpochDays;
        if (shifted < kPgMinDate || shifted >= kPgEndDate) {
          return OutOfRange(column, row, "date (4713 BC .. 5874897 AD)");
        }
        pg_days = static_cast<int32_t>(shifted);
      }
      out->PutInt32(4);
      out->PutInt32(pg_days);
      return Status::OK();
    }
    case Encoder::kTime: {
      int64_t micros = column.Get<int64_t>(row);
      if (micros < 0 || micros > kMicrosPerDay) {
        return OutOfRange(column, row,
                          "time (00:00:00 .. 24:00:00; an interval column holds "
                          "durations)");
      }
      out->PutInt32(8);
      out->PutInt64(micros);
      return Status::OK();
    }
    case Encoder::kInterval:
      out->PutInt32(16);
      out->PutInt64(column.Get<int64_t>(row));
      out->PutInt32(0);  // days
      out->PutInt32(0);  // months
      return Status::OK();
    case Encoder::kTimestamp:
    case Encoder::kTimestampTz: {
      int64_t micros = column.Get<int64_t>(row);
      int64_t pg_micros;
      if (micros == kTimestampInfinity) {
        pg_micros = std::numeric_limits<int64_t>::max();
      } else if (micros == kTimestampMinusInfinity) {
        pg_micros = std::numeric_limits<int64_t>::min();
      } else if (__builtin_sub_overflow(micros, kPgEpochMicros, &pg_micros) ||
                 pg_micros < kPgMinTimestamp || pg_micros >= kPgEndTimestamp) {
        return OutOfRange(column, row, "timestamp (4713 BC .. 294276 AD)");
      }
      out->PutInt32(8);
      out->PutInt64(pg_micros);
      return Status::OK();
    }
    case Encoder::kUuid:
      return PutUuid(column.GetView(row), out);
  }
  return Internal("unhandled PostgreSQL encoder");
}

// --- value checks ----------------------------------------------------------------------------

Status CheckValueFits(const WriteMapping& mapping, const Column& column, size_t row) {
  const DataType& type = column.type();
  if (mapping.numeric_precision > 0) {
    const int precision = mapping.numeric_precision;
    const int scale = mapping.numeric_scale;
    if (type.is_fast_decimal())
      return CheckDecimal128Fits(column.Get<int128>(row), type.scale, precision, scale);
    if (type.id == TypeId::kDecimal) {
      std::string_view text = column.GetView(row);
      if (text == "NaN" || text == "Infinity" || text == "-Infinity")
        return Status::OK();  // the server decides (numeric(p,s) takes NaN)
      std::string canonical;
      return CanonicalDecimalText(text, precision, scale, &canonical);
    }
    if (type.is_integer() || type.id == TypeId::kBool)
      return CheckDecimal128Fits(IntegerAt(column, row), 0, precision, scale);
    return Status::OK();
  }
  if (mapping.fraction_digits < kMaxTimePrecision && type.is_temporal()) {
    int64_t micros = column.Get<int64_t>(row);
    if (micros == kTimestampInfinity || micros == kTimestampMinusInfinity)
      return Status::OK();
    if (micros % FractionUnit(mapping.fraction_digits) != 0) {
      std::string text;
      AppendValueText(column, row, &text);
      return DataError(fmt::format("'{}' would be rounded to {} fractional-second digits", text,
                                   mapping.fraction_digits));
    }
  }
  return Status::OK();
}

std::string NarrowingWarning(const DataType& incoming, const WriteMapping& mapping) {
  if (mapping.numeric_precision > 0 && incoming.id == TypeId::kDecimal &&
      (incoming.precision == 0 || incoming.scale > mapping.numeric_scale)) {
    return fmt::format("{} values with digits beyond the scale of numeric({},{}) would be rounded "
                       "by PostgreSQL: they are refused as data errors",
                       incoming.ToString(), mapping.numeric_precision, mapping.numeric_scale);
  }
  if (mapping.fraction_digits < kMaxTimePrecision && incoming.is_temporal() &&
      incoming.precision > mapping.fraction_digits) {
    return fmt::format("{} values with more than {} fractional-second digits would be rounded by "
                       "PostgreSQL: they are refused as data errors",
                       incoming.ToString(), mapping.fraction_digits);
  }
  return {};
}

}  // namespace sluice::connectors::postgres
