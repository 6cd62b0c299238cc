#include "connectors/sqlite/sqlite_types.h"

#include <fmt/core.h>
#include <sqlite3.h>

#include <bit>
#include <charconv>
#include <cmath>
#include <cstring>
#include <limits>

#include "connectors/sqlite/sqlite_client.h"
#include "core/decimal.h"
#include "core/temporal.h"
#include "core/value_text.h"

namespace sluice::connectors::sqlite {

namespace {

constexpr uint64_t kDefaultDoubleNanBits = 0x7ff8000000000000ULL;
constexpr uint32_t kDefaultFloatNanBits = 0x7fc00000U;
// Julian day number of 1970-01-01 00:00 UTC.
constexpr double kUnixEpochJulianDay = 2440587.5;
constexpr int64_t kSecondsPerDay = 86'400;

std::string Upper(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'a' && c <= 'z') {
      c = static_cast<char>(c - 'a' + 'A');
    }
  }
  return out;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\n')) {
    s.remove_prefix(1);
  }
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\n')) {
    s.remove_suffix(1);
  }
  return s;
}

bool Contains(std::string_view haystack, std::string_view needle) {
  return haystack.find(needle) != std::string_view::npos;
}

bool ParseInt(std::string_view s, int* out) {
  s = Trim(s);
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && ptr == s.data() + s.size() && !s.empty();
}

// Splits "DECIMAL_TEXT(10, 2)" into the base name "DECIMAL_TEXT" and "10, 2".
void SplitDeclaredType(std::string_view upper, std::string_view* base, std::string_view* params) {
  *params = {};
  size_t open = upper.find('(');
  if (open == std::string_view::npos) {
    *base = Trim(upper);
    return;
  }
  *base = Trim(upper.substr(0, open));
  size_t close = upper.find(')', open);
  *params =
      upper.substr(open + 1, (close == std::string_view::npos ? upper.size() : close) - open - 1);
}

// decimal(p,s) from "p,s" or "p"; unconstrained when absent or out of range.
DataType DecimalFromParams(std::string_view params) {
  if (Trim(params).empty()) {
    return DataType::Decimal(0, 0);
  }
  int precision = 0;
  int scale = 0;
  size_t comma = params.find(',');
  if (!ParseInt(params.substr(0, comma), &precision)) {
    return DataType::Decimal(0, 0);
  }
  if (comma != std::string_view::npos && !ParseInt(params.substr(comma + 1), &scale)) {
    return DataType::Decimal(0, 0);
  }
  if (precision < 1 || precision > 1000 || scale < 0 || scale > precision) {
    return DataType::Decimal(0, 0);
  }
  return DataType::Decimal(precision, scale);
}

std::string_view StorageClassName(int storage) {
  switch (storage) {
    case SQLITE_INTEGER:
      return "INTEGER";
    case SQLITE_FLOAT:
      return "REAL";
    case SQLITE_TEXT:
      return "TEXT";
    case SQLITE_BLOB:
      return "BLOB";
    default:
      return "NULL";
  }
}

std::string_view TextAt(sqlite3_stmt* stmt, int index) {
  const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(stmt, index));
  int bytes = sqlite3_column_bytes(stmt, index);
  if (text == nullptr) {
    return {};
  }
  return {text, static_cast<size_t>(bytes)};
}

std::string_view BlobAt(sqlite3_stmt* stmt, int index) {
  const auto* blob = static_cast<const char*>(sqlite3_column_blob(stmt, index));
  int bytes = sqlite3_column_bytes(stmt, index);
  if (blob == nullptr) {
    return {};
  }
  return {blob, static_cast<size_t>(bytes)};
}

Status CannotConvert(int storage, const DataType& type) {
  return DataError(
      fmt::format("a {} value cannot be read as {}", StorageClassName(storage), type.ToString()));
}

// A REAL holding a whole number in int64 range, as int64.
bool WholeDouble(double d, int64_t* out) {
  // 2^63 is exactly representable; everything below it converts without overflow.
  if (!(d >= -9223372036854775808.0 && d < 9223372036854775808.0)) {
    return false;
  }
  if (std::trunc(d) != d) {
    return false;
  }
  *out = static_cast<int64_t>(d);
  return true;
}

template <typename T>
Status AppendInteger(sqlite3_stmt* stmt, int index, int storage, Column* column,
                     std::string* scratch) {
  const DataType& type = column->type();
  int64_t value = 0;
  switch (storage) {
    case SQLITE_INTEGER:
      value = sqlite3_column_int64(stmt, index);
      break;
    case SQLITE_FLOAT: {
      double d = sqlite3_column_double(stmt, index);
      if (!WholeDouble(d, &value)) {
        scratch->clear();
        AppendDouble(d, scratch);
        return DataError(fmt::format("REAL value {} is not a whole number", *scratch));
      }
      break;
    }
    case SQLITE_TEXT:
      return AppendParsedValue(TextAt(stmt, index), column);
    default:
      return CannotConvert(storage, type);
  }
  if (value < static_cast<int64_t>(std::numeric_limits<T>::min()) ||
      (std::numeric_limits<T>::max() <= std::numeric_limits<int64_t>::max() &&
       value > static_cast<int64_t>(std::numeric_limits<T>::max()))) {
    return DataError(fmt::format("{} is out of range for {}", value, type.ToString()));
  }
  column->Append<T>(static_cast<T>(value));
  return Status::OK();
}

Status AppendUInt64(sqlite3_stmt* stmt, int index, int storage, Column* column) {
  switch (storage) {
    case SQLITE_INTEGER: {
      int64_t value = sqlite3_column_int64(stmt, index);
      if (value < 0) {
        return DataError(fmt::format("{} is out of range for uint64", value));
      }
      column->Append<uint64_t>(static_cast<uint64_t>(value));
      return Status::OK();
    }
    case SQLITE_FLOAT: {
      double d = sqlite3_column_double(stmt, index);
      if (!(d >= 0 && d < 18446744073709551616.0) || std::trunc(d) != d) {
        std::string text;
        AppendDouble(d, &text);
        return DataError(fmt::format("REAL value {} is not a uint64", text));
      }
      column->Append<uint64_t>(static_cast<uint64_t>(d));
      return Status::OK();
    }
    case SQLITE_TEXT:
      return AppendParsedValue(TextAt(stmt, index), column);
    default:
      return CannotConvert(storage, column->type());
  }
}

uint64_t LoadBigEndian(std::string_view bytes) {
  uint64_t value = 0;
  for (unsigned char c : bytes) {
    value = (value << 8) | c;
  }
  return value;
}

template <typename T>
Status AppendFloating(sqlite3_stmt* stmt, int index, int storage, Column* column) {
  switch (storage) {
    case SQLITE_FLOAT:
      column->Append<T>(static_cast<T>(sqlite3_column_double(stmt, index)));
      return Status::OK();
    case SQLITE_INTEGER:
      column->Append<T>(static_cast<T>(sqlite3_column_int64(stmt, index)));
      return Status::OK();
    case SQLITE_TEXT:
      return AppendParsedValue(TextAt(stmt, index), column);
    case SQLITE_BLOB: {
      // The bit-exact encoding of -0.0 and NaN payloads (see NeedsFloatBitsBlob).
      std::string_view blob = BlobAt(stmt, index);
      if (blob.size() == 8) {
        column->Append<T>(static_cast<T>(std::bit_cast<double>(LoadBigEndian(blob))));
        return Status::OK();
      }
      if (blob.size() == 4) {
        auto bits = static_cast<uint32_t>(LoadBigEndian(blob));
        column->Append<T>(static_cast<T>(std::bit_cast<float>(bits)));
        return Status::OK();
      }
      return DataError(fmt::format("a {}-byte BLOB cannot be read as {}", blob.size(),
                                   column->type().ToString()));
    }
    default:
      return CannotConvert(storage, column->type());
  }
}

// The shortest text of a stored number: what decimal and string columns see of it.
void NumberText(sqlite3_stmt* stmt, int index, int storage, std::string* out) {
  out->clear();
  if (storage == SQLITE_INTEGER) {
    char buffer[24];
    auto [end, ec] =
        std::to_chars(buffer, buffer + sizeof(buffer), sqlite3_column_int64(stmt, index));
    out->append(buffer, end);
  } else {
    AppendDouble(sqlite3_column_double(stmt, index), out);
  }
}

// Unix seconds (INTEGER) or a Julian day (REAL) to microseconds since the epoch. SQLite's own
// date functions keep Julian days to the millisecond, so that is the precision kept here.
Status NumberToMicros(sqlite3_stmt* stmt, int index, int storage, int64_t* micros) {
  if (storage == SQLITE_INTEGER) {
    int64_t seconds = sqlite3_column_int64(stmt, index);
    if (__builtin_mul_overflow(seconds, kMicrosPerSecond, micros)) {
      return DataError(fmt::format("{} is out of range for unix seconds", seconds));
    }
    return Status::OK();
  }
  double julian_day = sqlite3_column_double(stmt, index);
  double millis = std::round((julian_day - kUnixEpochJulianDay) * 86'400'000.0);
  if (!(millis > -9.2e15 && millis < 9.2e15)) {
    std::string text;
    AppendDouble(julian_day, &text);
    return DataError(fmt::format("REAL value {} is out of range for a Julian day", text));
  }
  *micros = static_cast<int64_t>(millis) * 1000;
  return Status::OK();
}

int64_t FloorDiv(int64_t a, int64_t b) {
  int64_t q = a / b;
  if (a % b != 0 && ((a < 0) != (b < 0))) {
    --q;
  }
  return q;
}

// A timestamp text with or without a zone, as microseconds of UTC wall-clock time. SQLite's
// date functions accept a zone suffix and convert to UTC; so does this.
Result<int64_t> ParseTimestampText(std::string_view text, bool with_zone) {
  Result<int64_t> parsed = ParseTimestamp(text, with_zone);
  if (parsed.ok() || with_zone) {
    return parsed;
  }
  Result<int64_t> zoned = ParseTimestamp(text, true);
  if (zoned.ok()) {
    return zoned;
  }
  return parsed;
}

Status AppendTemporal(sqlite3_stmt* stmt, int index, int storage, Column* column) {
  const DataType& type = column->type();
  if (storage == SQLITE_BLOB) {
    return CannotConvert(storage, type);
  }
  switch (type.id) {
    case TypeId::kDate: {
      int64_t days = 0;
      if (storage == SQLITE_TEXT) {
        std::string_view text = Trim(TextAt(stmt, index));
        if (text.size() <= 10 || text.find_first_of(" Tt") == std::string_view::npos) {
          return AppendParsedValue(text, column);
        }
        // A date with a time of day: keep the date, as SQLite's date() does.
        SLUICE_ASSIGN_OR_RETURN(int64_t micros, ParseTimestampText(text, false));
        days = FloorDiv(micros, kMicrosPerDay);
      } else {
        int64_t micros = 0;
        SLUICE_RETURN_IF_ERROR(NumberToMicros(stmt, index, storage, &micros));
        days = FloorDiv(micros, kMicrosPerDay);
      }
      if (days <= kDateMinusInfinity || days >= kDateInfinity) {
        return DataError(fmt::format("day {} is out of range for a date", days));
      }
      column->Append<int32_t>(static_cast<int32_t>(days));
      return Status::OK();
    }
    case TypeId::kTime: {
      if (storage == SQLITE_TEXT) {
        return AppendParsedValue(TextAt(stmt, index), column);
      }
      // Seconds since midnight.
      if (storage == SQLITE_INTEGER) {
        int64_t seconds = sqlite3_column_int64(stmt, index);
        int64_t micros = 0;
        if (__builtin_mul_overflow(seconds, kMicrosPerSecond, &micros)) {
          return DataError(fmt::format("{} seconds is out of range for a time", seconds));
        }
        column->Append<int64_t>(micros);
        return Status::OK();
      }
      double micros = std::round(sqlite3_column_double(stmt, index) * 1e6);
      if (!(micros > -9.2e18 && micros < 9.2e18)) {
        return DataError("REAL value is out of range for a time");
      }
      column->Append<int64_t>(static_cast<int64_t>(micros));
      return Status::OK();
    }
    default: {  // timestamp, timestamp_tz
      int64_t micros = 0;
      if (storage == SQLITE_TEXT) {
        SLUICE_ASSIGN_OR_RETURN(
            micros, ParseTimestampText(TextAt(stmt, index), type.id == TypeId::kTimestampTz));
      } else {
        SLUICE_RETURN_IF_ERROR(NumberToMicros(stmt, index, storage, &micros));
      }
      column->Append<int64_t>(micros);
      return Status::OK();
    }
  }
}

}  // namespace

Affinity AffinityOf(std::string_view declared_type) {
  std::string upper = Upper(declared_type);
  if (Contains(upper, "INT")) {
    return Affinity::kInteger;
  }
  if (Contains(upper, "CHAR") || Contains(upper, "CLOB") || Contains(upper, "TEXT")) {
    return Affinity::kText;
  }
  if (Contains(upper, "BLOB") || Trim(upper).empty()) {
    return Affinity::kBlob;
  }
  if (Contains(upper, "REAL") || Contains(upper, "FLOA") || Contains(upper, "DOUB")) {
    return Affinity::kReal;
  }
  return Affinity::kNumeric;
}

std::string DeclaredType(const DataType& type) {
  switch (type.id) {
    case TypeId::kNull:
      return "";
    case TypeId::kBool:
      return "BOOLEAN";
    case TypeId::kInt8:
      return "TINYINT";
    case TypeId::kInt16:
      return "SMALLINT";
    case TypeId::kInt32:
      return "INTEGER";
    case TypeId::kInt64:
      return "BIGINT";
    case TypeId::kUInt8:
    case TypeId::kUInt16:
      return "INTEGER";
    case TypeId::kUInt32:
      return "BIGINT";
    // No "INT" in the name: INTEGER affinity would turn values above 2^63-1 into REAL.
    case TypeId::kUInt64:
      return "UNSIGNED64_TEXT";
    // Not "FLOAT": other tools write doubles into FLOAT columns, so only this spelling reads
    // back as float32.
    case TypeId::kFloat32:
      return "FLOAT32";
    case TypeId::kFloat64:
      return "DOUBLE";
    // TEXT affinity: NUMERIC affinity would round to 15 significant digits.
    case TypeId::kDecimal:
      if (type.precision == 0) {
        return "DECIMAL_TEXT";
      }
      return fmt::format("DECIMAL_TEXT({},{})", type.precision, type.scale);
    case TypeId::kString:
      if (type.length == 0) {
        return "TEXT";
      }
      return fmt::format("VARCHAR({})", type.length);
    case TypeId::kBytes:
      return "BLOB";
    case TypeId::kDate:
      return "DATE";
    case TypeId::kTime:
      return "TIME";
    case TypeId::kTimestamp:
      return "DATETIME";
    case TypeId::kTimestampTz:
      return "TIMESTAMPTZ";
    case TypeId::kJson:
      return "JSON_TEXT";
  }
  return "";
}

DataType LogicalType(std::string_view declared_type) {
  std::string upper = Upper(declared_type);
  std::string_view base;
  std::string_view params;
  SplitDeclaredType(upper, &base, &params);
  if (base == "BOOL" || base == "BOOLEAN") {
    return DataType::Bool();
  }
  if (base == "UNSIGNED64_TEXT") {
    return DataType::UInt64();
  }
  if (base == "DECIMAL_TEXT") {
    return DecimalFromParams(params);
  }
  if (base == "JSON_TEXT" || base == "JSON") {
    return DataType::Json();
  }
  if (base == "FLOAT32") {
    return DataType::Float32();
  }
  if (base == "TIMESTAMPTZ" || base == "TIMESTAMP WITH TIME ZONE") {
    return DataType::TimestampTz();
  }
  if (base == "DATETIME" || base == "TIMESTAMP") {
    return DataType::Timestamp();
  }
  if (base == "DATE") {
    return DataType::Date();
  }
  if (base == "TIME") {
    return DataType::Time();
  }
  if (Contains(base, "INT")) {
    return DataType::Int64();
  }
  if (base == "DECIMAL" || base == "NUMERIC") {
    return DecimalFromParams(params);
  }
  if (Contains(base, "CHAR") || Contains(base, "CLOB") || Contains(base, "TEXT")) {
    int length = 0;
    if (!ParseInt(params, &length) || length < 1) {
      length = 0;
    }
    return DataType::String(static_cast<uint32_t>(length));
  }
  if (Contains(base, "BLOB")) {
    return DataType::Bytes();
  }
  if (Contains(base, "REAL") || Contains(base, "FLOA") || Contains(base, "DOUB")) {
    return DataType::Float64();
  }
  // No declared type, or one SQLite gives NUMERIC affinity that we cannot read more precisely:
  // text carries any value without loss.
  return DataType::String();
}

int RowidKeyColumn(const Schema& schema) {
  if (schema.primary_key().size() != 1) {
    return -1;
  }
  int column = schema.primary_key()[0];
  const Field& field = schema.field(static_cast<size_t>(column));
  if (field.nullable || !field.type.is_integer() || field.type.id == TypeId::kUInt64) {
    return -1;
  }
  return column;
}

std::string CreateTableSql(std::string_view table, const Schema& schema, bool if_not_exists) {
  const int rowid_key = RowidKeyColumn(schema);
  std::string sql = fmt::format("CREATE TABLE {}{} (", if_not_exists ? "IF NOT EXISTS " : "",
                                QuoteIdentifier(table));
  for (size_t i = 0; i < schema.num_fields(); ++i) {
    const Field& field = schema.field(i);
    if (i > 0) {
      sql += ", ";
    }
    sql += QuoteIdentifier(field.name);
    std::string declared =
        static_cast<int>(i) == rowid_key ? std::string("INTEGER") : DeclaredType(field.type);
    if (!declared.empty()) {
      sql += ' ';
      sql += declared;
    }
    if (!field.nullable) {
      sql += " NOT NULL";
    }
  }
  if (!schema.primary_key().empty()) {
    sql += ", PRIMARY KEY (";
    for (size_t k = 0; k < schema.primary_key().size(); ++k) {
      if (k > 0) {
        sql += ", ";
      }
      sql += QuoteIdentifier(schema.field(static_cast<size_t>(schema.primary_key()[k])).name);
    }
    sql += ')';
  }
  sql += ')';
  return sql;
}

std::string CompatibilityWarning(const DataType& incoming, std::string_view declared_type) {
  Affinity affinity = AffinityOf(declared_type);
  bool numeric = affinity == Affinity::kInteger || affinity == Affinity::kReal ||
                 affinity == Affinity::kNumeric;
  if (!numeric) {
    return {};
  }
  if (incoming.id == TypeId::kUInt64) {
    return fmt::format(
        "uint64 values above 9223372036854775807 would become approximate REAL values in a "
        "column declared '{}'",
        declared_type);
  }
  if (incoming.id == TypeId::kDecimal) {
    return fmt::format(
        "decimal values with more than 15 significant digits would be rounded by the numeric "
        "affinity of a column declared '{}'",
        declared_type);
  }
  if (incoming.is_temporal() && affinity != Affinity::kNumeric) {
    return fmt::format("{} values are written as text into a column declared '{}'",
                       incoming.ToString(), declared_type);
  }
  return {};
}

bool NeedsFloatBitsBlob(double value) {
  if (std::isnan(value)) {
    return std::bit_cast<uint64_t>(value) != kDefaultDoubleNanBits;
  }
  return value == 0 && std::signbit(value);
}

bool NeedsFloatBitsBlob(float value) {
  if (std::isnan(value)) {
    return std::bit_cast<uint32_t>(value) != kDefaultFloatNanBits;
  }
  return value == 0 && std::signbit(value);
}

Status AppendStoredValue(sqlite3_stmt* stmt, int index, Column* column, std::string* scratch) {
  int storage = sqlite3_column_type(stmt, index);
  if (storage == SQLITE_NULL) {
    column->AppendNull();
    return Status::OK();
  }
  const DataType& type = column->type();
  switch (type.id) {
    case TypeId::kNull:
      return CannotConvert(storage, type);
    case TypeId::kBool: {
      if (storage == SQLITE_TEXT) {
        return AppendParsedValue(TextAt(stmt, index), column);
      }
      if (storage == SQLITE_BLOB) {
        return CannotConvert(storage, type);
      }
      double value = storage == SQLITE_INTEGER
                         ? static_cast<double>(sqlite3_column_int64(stmt, index))
                         : sqlite3_column_double(stmt, index);
      if (value != 0 && value != 1) {
        NumberText(stmt, index, storage, scratch);
        return DataError(fmt::format("{} is not a boolean (expected 0 or 1)", *scratch));
      }
      column->Append<uint8_t>(value == 1 ? 1 : 0);
      return Status::OK();
    }
    case TypeId::kInt8:
      return AppendInteger<int8_t>(stmt, index, storage, column, scratch);
    case TypeId::kInt16:
      return AppendInteger<int16_t>(stmt, index, storage, column, scratch);
    case TypeId::kInt32:
      return AppendInteger<int32_t>(stmt, index, storage, column, scratch);
    case TypeId::kInt64:
      if (storage == SQLITE_INTEGER) {  // the common case, first
        column->Append<int64_t>(sqlite3_column_int64(stmt, index));
        return Status::OK();
      }
      return AppendInteger<int64_t>(stmt, index, storage, column, scratch);
    case TypeId::kUInt8:
      return AppendInteger<uint8_t>(stmt, index, storage, column, scratch);
    case TypeId::kUInt16:
      return AppendInteger<uint16_t>(stmt, index, storage, column, scratch);
    case TypeId::kUInt32:
      return AppendInteger<uint32_t>(stmt, index, storage, column, scratch);
    case TypeId::kUInt64:
      return AppendUInt64(stmt, index, storage, column);
    case TypeId::kFloat32:
      return AppendFloating<float>(stmt, index, storage, column);
    case TypeId::kFloat64:
      return AppendFloating<double>(stmt, index, storage, column);
    case TypeId::kDecimal:
      if (storage == SQLITE_TEXT) {
        return AppendParsedValue(TextAt(stmt, index), column);
      }
      if (storage == SQLITE_BLOB) {
        return CannotConvert(storage, type);
      }
      // A REAL goes through its shortest round-trip text, which must fit the scale exactly.
      NumberText(stmt, index, storage, scratch);
      return AppendParsedValue(*scratch, column);
    case TypeId::kString:
      switch (storage) {
        case SQLITE_TEXT:
          column->AppendView(TextAt(stmt, index));
          return Status::OK();
        case SQLITE_BLOB:
          scratch->clear();
          AppendHexBytes(BlobAt(stmt, index), scratch);
          column->AppendView(*scratch);
          return Status::OK();
        default:
          NumberText(stmt, index, storage, scratch);
          column->AppendView(*scratch);
          return Status::OK();
      }
    case TypeId::kJson:
      if (storage == SQLITE_TEXT) {
        column->AppendView(TextAt(stmt, index));
        return Status::OK();
      }
      if (storage == SQLITE_BLOB) {
        return CannotConvert(storage, type);
      }
      NumberText(stmt, index, storage, scratch);
      column->AppendView(*scratch);
      return Status::OK();
    case TypeId::kBytes:
      switch (storage) {
        case SQLITE_BLOB:
          column->AppendView(BlobAt(stmt, index));
          return Status::OK();
        case SQLITE_TEXT:
          column->AppendView(TextAt(stmt, index));
          return Status::OK();
        default:
          NumberText(stmt, index, storage, scratch);
          column->AppendView(*scratch);
          return Status::OK();
      }
    case TypeId::kDate:
    case TypeId::kTime:
    case TypeId::kTimestamp:
    case TypeId::kTimestampTz:
      return AppendTemporal(stmt, index, storage, column);
  }
  return Internal("unhandled type in AppendStoredValue");
}

}  // namespace sluice::connectors::sqlite
