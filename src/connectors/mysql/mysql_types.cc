#include "connectors/mysql/mysql_types.h"

#include <fmt/core.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>

#include "connectors/mysql/mysql_client.h"
#include "core/decimal.h"
#include "core/temporal.h"
#include "core/value_text.h"

namespace sluice::connectors::mysql {

namespace {

std::string Lower(std::string_view text) {
  std::string out(text);
  for (char& c : out)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool OneOf(std::string_view value, std::initializer_list<std::string_view> names) {
  return std::find(names.begin(), names.end(), value) != names.end();
}

// Fixed maximum lengths of the TEXT and BLOB families. Used instead of what a server reports so
// that the source's logical type and the sink's reading of a native spelling agree exactly,
// and so that a `text` from MySQL (length 65535) is told apart from another database's
// unbounded `text` (length 0).
int64_t FamilyLength(std::string_view data_type) {
  if (data_type == "tinytext" || data_type == "tinyblob")
    return 255;
  if (data_type == "text" || data_type == "blob")
    return 65535;
  if (data_type == "mediumtext" || data_type == "mediumblob")
    return 16777215;
  if (data_type == "longtext" || data_type == "longblob")
    return 4294967295LL;
  return -1;
}

bool IsTextFamily(std::string_view data_type) {
  return OneOf(data_type, {"tinytext", "text", "mediumtext", "longtext"});
}
bool IsBlobFamily(std::string_view data_type) {
  return OneOf(data_type, {"tinyblob", "blob", "mediumblob", "longblob"});
}

uint32_t ClampLength(int64_t length) {
  if (length <= 0)
    return 0;
  return length > 0xFFFFFFFFLL ? 0xFFFFFFFFu : static_cast<uint32_t>(length);
}

}  // namespace

bool ColumnInfo::is_unsigned() const {
  return column_type.find("unsigned") != std::string::npos;
}

std::string ColumnInfoQuery(std::string_view database, std::string_view table) {
  return fmt::format(
      "SELECT COLUMN_NAME, DATA_TYPE, COLUMN_TYPE, IS_NULLABLE, CHARACTER_MAXIMUM_LENGTH, "
      "NUMERIC_PRECISION, NUMERIC_SCALE, DATETIME_PRECISION, CHARACTER_SET_NAME, COLLATION_NAME "
      "FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = {} AND TABLE_NAME = {} ORDER BY "
      "ORDINAL_POSITION",
      Utf8Literal(database), Utf8Literal(table));
}

ColumnInfo ColumnInfoFromRow(const std::vector<std::optional<std::string>>& row) {
  auto number = [&](size_t i, int64_t otherwise) {
    int64_t value = otherwise;
    if (i < row.size() && row[i]) {
      const std::string& text = *row[i];
      std::from_chars(text.data(), text.data() + text.size(), value);
    }
    return value;
  };
  auto text = [&](size_t i) { return i < row.size() ? row[i].value_or("") : std::string(); };
  ColumnInfo info;
  info.name = text(0);
  info.data_type = Lower(text(1));
  info.column_type = text(2);
  info.nullable = text(3) != "NO";
  info.max_length = number(4, -1);
  info.numeric_precision = static_cast<int>(number(5, 0));
  info.numeric_scale = static_cast<int>(number(6, 0));
  info.datetime_precision = static_cast<int>(number(7, 0));
  info.charset = text(8);
  info.collation = text(9);
  return info;
}

bool IsSpatialType(std::string_view data_type) {
  return OneOf(data_type,
               {"geometry", "point", "linestring", "polygon", "multipoint", "multilinestring",
                "multipolygon", "geometrycollection", "geomcollection"});
}

bool IsTemporalType(std::string_view data_type) {
  return OneOf(data_type, {"date", "datetime", "timestamp"});
}

SourceColumn MapSourceColumn(const ColumnInfo& info, ZeroDates zero_dates, GeometryFormat geometry,
                             std::string* warning) {
  SourceColumn out;
  out.info = info;
  out.select_expression = QuoteIdentifier(info.name);
  const std::string& t = info.data_type;
  const bool is_unsigned = info.is_unsigned();
  auto integer = [&](ValueKind s, ValueKind u, DataType st, DataType ut) {
    out.kind = is_unsigned ? u : s;
    out.type = is_unsigned ? ut : st;
  };
  if (t == "tinyint") {
    integer(ValueKind::kInt8, ValueKind::kUInt8, DataType::Int8(), DataType::UInt8());
  } else if (t == "smallint") {
    integer(ValueKind::kInt16, ValueKind::kUInt16, DataType::Int16(), DataType::UInt16());
  } else if (t == "mediumint" || t == "int" || t == "integer") {
    integer(ValueKind::kInt32, ValueKind::kUInt32, DataType::Int32(), DataType::UInt32());
  } else if (t == "bigint") {
    integer(ValueKind::kInt64, ValueKind::kUInt64, DataType::Int64(), DataType::UInt64());
  } else if (t == "year") {
    out.kind = ValueKind::kYear;
    out.type = DataType::Int16();
  } else if (t == "bit") {
    out.kind = ValueKind::kBit;
    out.type = DataType::UInt64();
  } else if (t == "float") {
    out.kind = ValueKind::kFloat;
    out.type = DataType::Float32();
  } else if (t == "double" || t == "real" || t == "double precision") {
    out.kind = ValueKind::kDouble;
    out.type = DataType::Float64();
  } else if (t == "decimal" || t == "numeric" || t == "dec" || t == "fixed") {
    out.kind = ValueKind::kDecimal;
    out.type = DataType::Decimal(info.numeric_precision > 0 ? info.numeric_precision : 10,
                                 info.numeric_scale);
  } else if (t == "char" || t == "varchar") {
    out.kind = ValueKind::kText;
    out.type = info.json ? DataType::Json() : DataType::String(ClampLength(info.max_length));
  } else if (IsTextFamily(t)) {
    out.kind = ValueKind::kText;
    out.type = info.json ? DataType::Json() : DataType::String(ClampLength(FamilyLength(t)));
  } else if (t == "json") {
    out.kind = ValueKind::kText;
    out.type = DataType::Json();
  } else if (t == "enum" || t == "set") {
    out.kind = ValueKind::kText;
    out.type = DataType::String();
    out.members = ParseMembers(info.column_type);
  } else if (t == "binary" || t == "varbinary") {
    out.kind = ValueKind::kBytes;
    out.type = DataType::Bytes(ClampLength(info.max_length));
  } else if (IsBlobFamily(t)) {
    out.kind = ValueKind::kBytes;
    out.type = DataType::Bytes(ClampLength(FamilyLength(t)));
  } else if (t == "date" || t == "datetime" || t == "timestamp") {
    out.fsp = info.datetime_precision;
    if (zero_dates == ZeroDates::kString) {
      out.kind = ValueKind::kTemporalText;
      out.type = DataType::String();
    } else if (t == "date") {
      out.kind = ValueKind::kDate;
      out.type = DataType::Date();
    } else if (t == "datetime") {
      out.kind = ValueKind::kDateTime;
      out.type = DataType::Timestamp(info.datetime_precision);
    } else {
      out.kind = ValueKind::kTimestamp;
      out.type = DataType::TimestampTz(info.datetime_precision);
    }
  } else if (t == "time") {
    out.fsp = info.datetime_precision;
    out.kind = ValueKind::kTime;
    out.type = DataType::Time(info.datetime_precision);
  } else if (IsSpatialType(t)) {
    out.spatial = true;
    if (geometry == GeometryFormat::kWkt) {
      out.kind = ValueKind::kText;
      out.type = DataType::String();
      out.select_expression = fmt::format("ST_AsText({})", QuoteIdentifier(info.name));
    } else {
      out.kind = ValueKind::kBytes;
      out.type = DataType::Bytes();
      out.select_expression = fmt::format("ST_AsBinary({})", QuoteIdentifier(info.name));
    }
  } else if (t == "vector") {
    out.kind = ValueKind::kBytes;
    out.type = DataType::Bytes();
  } else {
    // MariaDB's uuid, inet4, inet6 and anything newer: the server sends their text form.
    out.kind = ValueKind::kText;
    out.type = DataType::String();
    if (warning != nullptr && !OneOf(t, {"uuid", "inet4", "inet6"})) {
      *warning = fmt::format("column '{}' has type '{}' unknown to Sluice; it is read as text",
                             info.name, info.column_type);
    }
  }
  return out;
}

std::vector<std::string> ParseMembers(std::string_view column_type) {
  std::vector<std::string> members;
  size_t open = column_type.find('(');
  if (open == std::string_view::npos)
    return members;
  size_t i = open + 1;
  while (i < column_type.size()) {
    if (column_type[i] != '\'')
      break;
    ++i;
    std::string member;
    while (i < column_type.size()) {
      char c = column_type[i];
      if (c == '\'') {
        if (i + 1 < column_type.size() && column_type[i + 1] == '\'') {
          member += '\'';
          i += 2;
          continue;
        }
        ++i;
        break;
      }
      if (c == '\\' && i + 1 < column_type.size()) {
        member += column_type[i + 1];
        i += 2;
        continue;
      }
      member += c;
      ++i;
    }
    members.push_back(std::move(member));
    if (i < column_type.size() && column_type[i] == ',')
      ++i;
  }
  return members;
}

std::optional<ColumnInfo> ParseColumnType(std::string_view column_type) {
  std::string text = Lower(column_type);
  size_t name_end = 0;
  while (name_end < text.size() &&
         (std::isalnum(static_cast<unsigned char>(text[name_end])) || text[name_end] == '_')) {
    ++name_end;
  }
  ColumnInfo info;
  info.data_type = text.substr(0, name_end);
  info.column_type = text;
  static const std::initializer_list<std::string_view> kKnown = {
      "tinyint",       "smallint",
      "mediumint",     "int",
      "integer",       "bigint",
      "year",          "bit",
      "float",         "double",
      "real",          "decimal",
      "numeric",       "char",
      "varchar",       "tinytext",
      "text",          "mediumtext",
      "longtext",      "json",
      "enum",          "set",
      "binary",        "varbinary",
      "tinyblob",      "blob",
      "mediumblob",    "longblob",
      "date",          "datetime",
      "timestamp",     "time",
      "geometry",      "point",
      "linestring",    "polygon",
      "multipoint",    "multilinestring",
      "multipolygon",  "geometrycollection",
      "geomcollection"};
  if (!OneOf(info.data_type, kKnown))
    return std::nullopt;
  if (info.data_type == "enum" || info.data_type == "set") {
    // Members are parsed separately; the spelling is just the list.
    if (name_end >= text.size() || text[name_end] != '(' || text.back() != ')') {
      return std::nullopt;
    }
    info.charset = "utf8mb4";
    return info;
  }
  // Parameters "(a[,b])" right after the name, then only attribute words.
  std::vector<int64_t> parameters;
  size_t rest = name_end;
  if (name_end < text.size() && text[name_end] == '(') {
    size_t close = text.find(')', name_end);
    if (close == std::string::npos)
      return std::nullopt;
    rest = close + 1;
    std::string_view inside(text.data() + name_end + 1, close - name_end - 1);
    while (!inside.empty()) {
      size_t comma = inside.find(',');
      std::string_view part = inside.substr(0, comma);
      while (!part.empty() && part.front() == ' ')
        part.remove_prefix(1);
      while (!part.empty() && part.back() == ' ')
        part.remove_suffix(1);
      int64_t value = 0;
      auto [end, ec] = std::from_chars(part.data(), part.data() + part.size(), value);
      if (ec != std::errc() || end != part.data() + part.size())
        return std::nullopt;
      parameters.push_back(value);
      if (comma == std::string_view::npos)
        break;
      inside.remove_prefix(comma + 1);
    }
  }
  for (size_t i = rest; i < text.size();) {
    if (text[i] == ' ') {
      ++i;
      continue;
    }
    size_t end = text.find(' ', i);
    std::string_view word(text.data() + i, (end == std::string::npos ? text.size() : end) - i);
    if (word != "unsigned" && word != "signed" && word != "zerofill")
      return std::nullopt;
    i += word.size();
  }
  const std::string& t = info.data_type;
  if (t == "decimal" || t == "numeric") {
    info.numeric_precision = parameters.empty() ? 10 : static_cast<int>(parameters[0]);
    info.numeric_scale = parameters.size() < 2 ? 0 : static_cast<int>(parameters[1]);
  } else if (t == "char" || t == "binary") {
    info.max_length = parameters.empty() ? 1 : parameters[0];
  } else if (t == "varchar" || t == "varbinary") {
    if (parameters.empty())
      return std::nullopt;
    info.max_length = parameters[0];
  } else if (t == "datetime" || t == "timestamp" || t == "time") {
    info.datetime_precision = parameters.empty() ? 0 : static_cast<int>(parameters[0]);
  }
  if (t == "char" || t == "varchar" || IsTextFamily(t)) {
    info.charset = "utf8mb4";
  }
  return info;
}

namespace {

// The mapping table's spelling of a logical type.
std::string LogicalTargetType(const DataType& type) {
  switch (type.id) {
    case TypeId::kNull:
      return "TEXT";
    case TypeId::kBool:
      return "BOOLEAN";
    case TypeId::kInt8:
      return "TINYINT";
    case TypeId::kInt16:
      return "SMALLINT";
    case TypeId::kInt32:
      return "INT";
    case TypeId::kInt64:
      return "BIGINT";
    case TypeId::kUInt8:
      return "TINYINT UNSIGNED";
    case TypeId::kUInt16:
      return "SMALLINT UNSIGNED";
    case TypeId::kUInt32:
      return "INT UNSIGNED";
    case TypeId::kUInt64:
      return "BIGINT UNSIGNED";
    case TypeId::kFloat32:
      return "FLOAT";
    case TypeId::kFloat64:
      return "DOUBLE";
    case TypeId::kDecimal:
      if (type.precision > 0 && type.precision <= 65 && type.scale >= 0 && type.scale <= 30 &&
          type.scale <= type.precision) {
        return fmt::format("DECIMAL({},{})", type.precision, type.scale);
      }
      return "LONGTEXT";
    case TypeId::kString:
      return "LONGTEXT";
    case TypeId::kBytes:
      return "LONGBLOB";
    case TypeId::kDate:
      return "DATE";
    case TypeId::kTime:
      return fmt::format("TIME({})", std::min<int>(type.precision, 6));
    case TypeId::kTimestamp:
    case TypeId::kTimestampTz:
      return fmt::format("DATETIME({})", std::min<int>(type.precision, 6));
    case TypeId::kJson:
      return "JSON";
  }
  return "LONGTEXT";
}

// Whether `field.native_type` is a MySQL spelling that holds exactly this field's values.
bool NativeTypeFits(const Field& field, bool in_key) {
  if (field.native_type.empty())
    return false;
  std::optional<ColumnInfo> parsed = ParseColumnType(field.native_type);
  if (!parsed)
    return false;
  const std::string& t = parsed->data_type;
  // A key needs a length MySQL can index; TEXT and BLOB cannot be keys without a prefix.
  if (in_key && (IsTextFamily(t) || IsBlobFamily(t) || IsSpatialType(t) || t == "json")) {
    return false;
  }
  if (IsSpatialType(t)) {
    return field.type.id == TypeId::kBytes || field.type.id == TypeId::kString;
  }
  // zero_dates: string turns dates into MySQL's own text, which the same type reads back.
  if (IsTemporalType(t) && field.type.id == TypeId::kString)
    return true;
  SourceColumn mapped = MapSourceColumn(*parsed, ZeroDates::kError, GeometryFormat::kWkb, nullptr);
  return mapped.type == field.type;
}

}  // namespace

std::vector<std::string> TargetColumnTypes(const Schema& schema) {
  // InnoDB's row limit is 65,535 bytes over all VARCHAR/VARBINARY/CHAR columns (TEXT and BLOB
  // count ~12 bytes); stay clear of it by turning wide columns into LONGTEXT/LONGBLOB.
  constexpr int64_t kRowBudget = 60000;
  std::vector<bool> in_key(schema.num_fields(), false);
  for (int index : schema.primary_key())
    in_key[static_cast<size_t>(index)] = true;
  std::vector<std::string> types(schema.num_fields());
  int64_t used = 0;
  // InnoDB keys hold at most 3,072 bytes (utf8mb4: 4 per character). Key columns that need a
  // length of our choosing (text, bytes) share what the others leave, smallest first, so that
  // (text, bigint) becomes VARCHAR(766) and (text, bytes) VARCHAR(384), VARBINARY(1536).
  constexpr int64_t kKeyBudget = 3072;
  int64_t key_left = kKeyBudget;
  struct Sized {
    size_t index;
    int64_t bytes;  // wanted, in bytes
    bool text;
  };
  std::vector<Sized> sized;
  // Native and key types first: they are not negotiable.
  for (size_t i = 0; i < schema.num_fields(); ++i) {
    const Field& field = schema.field(i);
    if (NativeTypeFits(field, in_key[i])) {
      types[i] = field.native_type;
      std::optional<ColumnInfo> parsed = ParseColumnType(field.native_type);
      if (parsed && parsed->max_length > 0 &&
          OneOf(parsed->data_type, {"char", "varchar", "binary", "varbinary"})) {
        bool text = parsed->data_type == "char" || parsed->data_type == "varchar";
        used += parsed->max_length * (text ? 4 : 1) + 2;
        if (in_key[i])
          key_left -= parsed->max_length * (text ? 4 : 1);
      } else {
        used += 12;
        // A DECIMAL takes up to 30 bytes, other fixed-size types 8 or fewer.
        if (in_key[i])
          key_left -= parsed && parsed->data_type == "decimal" ? 32 : 8;
      }
      continue;
    }
    if (in_key[i] && (field.type.id == TypeId::kString || field.type.id == TypeId::kJson ||
                      (field.type.id == TypeId::kDecimal && !field.type.is_fast_decimal() &&
                       LogicalTargetType(field.type) == "LONGTEXT"))) {
      int64_t length = field.type.length > 0 && field.type.length <= 768 ? field.type.length : 768;
      sized.push_back({i, length * 4, true});
    } else if (in_key[i] && field.type.id == TypeId::kBytes) {
      int64_t length =
          field.type.length > 0 && field.type.length <= 3072 ? field.type.length : 3072;
      sized.push_back({i, length, false});
    } else if (in_key[i]) {
      key_left -= field.type.id == TypeId::kDecimal ? 32 : 8;
    }
  }
  std::stable_sort(sized.begin(), sized.end(),
                   [](const Sized& a, const Sized& b) { return a.bytes < b.bytes; });
  for (size_t k = 0; k < sized.size(); ++k) {
    int64_t share = std::max<int64_t>(4, key_left / static_cast<int64_t>(sized.size() - k));
    int64_t bytes = std::min(sized[k].bytes, share);
    key_left -= bytes;
    if (sized[k].text) {
      int64_t length = std::max<int64_t>(1, bytes / 4);
      types[sized[k].index] = fmt::format("VARCHAR({})", length);
      used += length * 4 + 2;
    } else {
      types[sized[k].index] = fmt::format("VARBINARY({})", bytes);
      used += bytes + 2;
    }
  }
  for (size_t i = 0; i < schema.num_fields(); ++i) {
    if (!types[i].empty())
      continue;
    const DataType& type = schema.field(i).type;
    if (type.id == TypeId::kString && type.length > 0 && type.length <= 16383 &&
        used + type.length * 4 + 2 <= kRowBudget) {
      types[i] = fmt::format("VARCHAR({})", type.length);
      used += type.length * 4 + 2;
    } else if (type.id == TypeId::kBytes && type.length > 0 && type.length <= 65532 &&
               used + type.length + 2 <= kRowBudget) {
      types[i] = fmt::format("VARBINARY({})", type.length);
      used += type.length + 2;
    } else {
      types[i] = LogicalTargetType(type);
      used += 12;
    }
  }
  return types;
}

bool IsNoPadBinaryCollation(std::string_view collation) {
  if (collation == "binary")
    return true;
  for (std::string_view name : kNoPadBinaryCollations) {
    if (collation == name)
      return true;
  }
  // MariaDB's other character sets: latin1_nopad_bin, utf8mb3_nopad_bin, ...
  constexpr std::string_view kSuffix = "_nopad_bin";
  return collation.size() > kSuffix.size() && collation.ends_with(kSuffix);
}

namespace {

// PAD SPACE collations ignore trailing spaces ('a' = 'a '): all but MariaDB's *_nopad_* and
// MySQL 8's *_0900_* ones.
bool IsPadSpaceCollation(std::string_view collation) {
  return collation.find("_nopad_") == std::string_view::npos &&
         collation.find("_0900_") == std::string_view::npos && collation != "binary";
}

// The character set of a collation: the part before the first '_' ("utf8mb4_general_ci").
std::string_view CharsetOf(std::string_view collation) {
  return collation.substr(0, collation.find('_'));
}

bool IsTextColumnType(std::string_view column_type) {
  std::optional<ColumnInfo> parsed = ParseColumnType(column_type);
  return parsed && OneOf(parsed->data_type, {"char", "varchar"});
}

}  // namespace

bool CollationKeepsKeysApart(std::string_view target, std::string_view source_collation) {
  if (IsNoPadBinaryCollation(target))
    return true;
  if (source_collation.empty())
    return false;
  if (target == source_collation)
    return true;
  // A binary PAD SPACE collation tells apart all but trailing spaces, which a PAD SPACE source
  // never keeps apart either.
  return target.ends_with("_bin") && IsPadSpaceCollation(target) &&
         IsPadSpaceCollation(source_collation);
}

std::string KeyColumnCollation(const Field& field, std::string_view target_type,
                               const TableCollations& collations) {
  if (!IsTextColumnType(target_type))
    return {};
  if (!field.collation.empty() && std::find(collations.known.begin(), collations.known.end(),
                                            field.collation) != collations.known.end()) {
    return field.collation;
  }
  return collations.key_collation;
}

std::string CreateTableSql(std::string_view database, std::string_view table, const Schema& schema,
                           bool if_not_exists, const TableCollations& collations) {
  std::vector<std::string> types = TargetColumnTypes(schema);
  std::vector<bool> in_key(schema.num_fields(), false);
  for (int index : schema.primary_key())
    in_key[static_cast<size_t>(index)] = true;
  std::string sql = fmt::format("CREATE TABLE {}{} (", if_not_exists ? "IF NOT EXISTS " : "",
                                QualifiedName(database, table));
  for (size_t i = 0; i < schema.num_fields(); ++i) {
    const Field& field = schema.field(i);
    if (i > 0)
      sql += ", ";
    sql += fmt::format("{} {}", QuoteIdentifier(field.name), types[i]);
    if (in_key[i]) {
      std::string collation = KeyColumnCollation(field, types[i], collations);
      if (!collation.empty()) {
        sql += fmt::format(" CHARACTER SET {} COLLATE {}", CharsetOf(collation), collation);
      }
    }
    sql += field.nullable ? " NULL" : " NOT NULL";
  }
  if (!schema.primary_key().empty()) {
    sql += ", PRIMARY KEY (";
    for (size_t k = 0; k < schema.primary_key().size(); ++k) {
      if (k > 0)
        sql += ", ";
      sql += QuoteIdentifier(schema.field(static_cast<size_t>(schema.primary_key()[k])).name);
    }
    sql += ")";
  }
  sql += ")";
  if (collations.utf8mb4)
    sql += " DEFAULT CHARSET=utf8mb4";
  return sql;
}

}  // namespace sluice::connectors::mysql

namespace sluice::connectors::mysql {

void AppendDigits(uint64_t value, int width, std::string* out) {
  char buffer[24];
  int n = 0;
  do {
    buffer[n++] = static_cast<char>('0' + value % 10);
    value /= 10;
  } while (value != 0);
  for (int i = n; i < width; ++i)
    out->push_back('0');
  while (n > 0)
    out->push_back(buffer[--n]);
}

namespace {

void AppendFractionDigits(int64_t micros, std::string* out) {
  if (micros == 0)
    return;
  out->push_back('.');
  AppendDigits(static_cast<uint64_t>(micros), 6, out);
}

}  // namespace

bool AppendMysqlDate(int32_t days, std::string* out) {
  if (days == kDateInfinity || days == kDateMinusInfinity)
    return false;
  int64_t year;
  unsigned month;
  unsigned day;
  CivilFromDays(days, &year, &month, &day);
  if (year < 0 || year > 9999)
    return false;
  AppendDigits(static_cast<uint64_t>(year), 4, out);
  out->push_back('-');
  AppendDigits(month, 2, out);
  out->push_back('-');
  AppendDigits(day, 2, out);
  return true;
}

bool AppendMysqlDateTime(int64_t micros, std::string* out) {
  if (micros == kTimestampInfinity || micros == kTimestampMinusInfinity)
    return false;
  int64_t days = micros / kMicrosPerDay;
  int64_t in_day = micros % kMicrosPerDay;
  if (in_day < 0) {
    in_day += kMicrosPerDay;
    --days;
  }
  if (!AppendMysqlDate(static_cast<int32_t>(days), out))
    return false;
  int64_t seconds = in_day / kMicrosPerSecond;
  out->push_back(' ');
  AppendDigits(static_cast<uint64_t>(seconds / 3600), 2, out);
  out->push_back(':');
  AppendDigits(static_cast<uint64_t>((seconds / 60) % 60), 2, out);
  out->push_back(':');
  AppendDigits(static_cast<uint64_t>(seconds % 60), 2, out);
  AppendFractionDigits(in_day % kMicrosPerSecond, out);
  return true;
}

bool AppendMysqlTime(int64_t micros, std::string* out) {
  // MariaDB's TIME range is -838:59:59.999999 .. 838:59:59.999999; MySQL's stops at
  // 838:59:59.000000, and its strict mode refuses the fraction beyond.
  constexpr int64_t kLimit = (838LL * 3600 + 59 * 60 + 59) * kMicrosPerSecond + 999'999;
  if (micros > kLimit || micros < -kLimit)
    return false;
  if (micros < 0) {
    out->push_back('-');
    micros = -micros;
  }
  int64_t seconds = micros / kMicrosPerSecond;
  AppendDigits(static_cast<uint64_t>(seconds / 3600), 2, out);
  out->push_back(':');
  AppendDigits(static_cast<uint64_t>((seconds / 60) % 60), 2, out);
  out->push_back(':');
  AppendDigits(static_cast<uint64_t>(seconds % 60), 2, out);
  AppendFractionDigits(micros % kMicrosPerSecond, out);
  return true;
}

namespace {

bool IsIntegerColumn(std::string_view data_type) {
  return OneOf(data_type, {"tinyint", "smallint", "mediumint", "int", "integer", "bigint"});
}

// Whole numbers of any kind (PostgreSQL brings MySQL's BIT back as numeric(20,0)).
bool IsWholeNumber(const DataType& type) {
  return type.is_integer() ||
         (type.id == TypeId::kDecimal && type.precision > 0 && type.scale == 0);
}

// Significant binary digits of the values of `type`, for float columns: 24 for FLOAT, 53 for
// DOUBLE. 0 when the type is not a number a float column could be asked to hold.
int SignificantBits(const DataType& type) {
  switch (type.id) {
    case TypeId::kBool:
    case TypeId::kInt8:
    case TypeId::kUInt8:
      return 8;
    case TypeId::kInt16:
    case TypeId::kUInt16:
      return 16;
    case TypeId::kFloat32:
      return 24;
    case TypeId::kInt32:
    case TypeId::kUInt32:
      return 32;
    case TypeId::kFloat64:
      return 53;
    case TypeId::kInt64:
    case TypeId::kUInt64:
      return 64;
    case TypeId::kDecimal:
      return 1000;  // decimal digits beyond any float's
    default:
      return 0;
  }
}

// The time of day of a timestamp's microseconds.
int64_t TimeOfDay(int64_t micros) {
  int64_t in_day = micros % kMicrosPerDay;
  return in_day < 0 ? in_day + kMicrosPerDay : in_day;
}

std::string ValueText(const Column& column, size_t row) {
  std::string text;
  AppendValueText(column, row, &text);
  return text;
}

// Why a decimal text would not fit `write`'s DECIMAL exactly ("" when it does, or when the text
// is no number: the server refuses that itself).
std::string DecimalTextChange(std::string_view text, const ColumnWrite& write) {
  std::string canonical;
  if (!CanonicalDecimalText(text, 0, -1, &canonical).ok())
    return {};
  size_t point = canonical.find('.');
  size_t last = canonical.find_last_not_of('0');
  bool beyond = point != std::string::npos && last != std::string::npos && last > point &&
                last - point > static_cast<size_t>(write.decimal_scale);
  if (!beyond)
    return {};
  return fmt::format("{} would be rounded to fit {}", text, write.column_type);
}

}  // namespace

Result<ColumnWrite> PlanColumnWrite(const DataType& incoming, const ColumnInfo& target) {
  ColumnWrite write;
  write.column_type = Lower(target.column_type);
  const std::string& t = target.data_type;
  auto cannot_hold = [&](std::string_view why) -> Status {
    return InvalidConfig(fmt::format("column '{}' is {}, which cannot hold the stream's {} values "
                                     "exactly ({})",
                                     target.name, write.column_type, incoming.ToString(), why));
  };
  if (IsSpatialType(t)) {
    if (incoming.id == TypeId::kBytes)
      write.load = ColumnLoad::kGeometryFromWkb;
    if (incoming.id == TypeId::kString)
      write.load = ColumnLoad::kGeometryFromWkt;
    return write;
  }
  if (t == "bit") {
    if (IsWholeNumber(incoming))
      write.load = ColumnLoad::kBit;
    return write;
  }
  if (t == "year") {
    if (IsWholeNumber(incoming))
      write.load = ColumnLoad::kYear;
    return write;
  }
  if (t == "float" || t == "double" || t == "real" || t == "double precision") {
    const int kept = t == "float" ? 24 : 53;
    if (SignificantBits(incoming) > kept) {
      return cannot_hold(incoming.id == TypeId::kDecimal
                             ? "binary floats round decimal fractions"
                             : fmt::format("it keeps {} significant bits; use a wider column "
                                           "type or cast the column in the transform",
                                           kept));
    }
    write.folds_negative_zero = incoming.is_float();
    return write;
  }
  // MySQL rounds a number with more fractional digits than an exact column keeps, giving at
  // most a note; a string of digits too.
  const bool exact_number = t == "decimal" || t == "numeric" || IsIntegerColumn(t);
  const int target_scale = IsIntegerColumn(t) ? 0 : target.numeric_scale;
  const bool may_round =
      incoming.is_float() || incoming.id == TypeId::kString ||
      (incoming.id == TypeId::kDecimal &&
       (incoming.precision == 0 || incoming.scale > target_scale));
  if (exact_number && may_round) {
    write.decimal_scale = target_scale;
    return write;
  }
  if ((t == "datetime" || t == "timestamp" || t == "time") &&
      (incoming.id == TypeId::kTimestamp || incoming.id == TypeId::kTimestampTz ||
       incoming.id == TypeId::kTime) &&
      incoming.precision > target.datetime_precision) {
    write.fraction_digits = target.datetime_precision;
    return write;
  }
  if (t == "date" && (incoming.id == TypeId::kTimestamp || incoming.id == TypeId::kTimestampTz)) {
    write.date_only = true;
  }
  return write;
}

std::string NarrowingWarning(const DataType& incoming, const ColumnWrite& write) {
  // Text may hold anything; the warning is for types that say they need more than the column.
  if (incoming.id == TypeId::kString)
    return {};
  if (write.decimal_scale >= 0) {
    return fmt::format("{} values with digits beyond the {} of {} would be rounded by MySQL: "
                       "they are refused as data errors",
                       incoming.ToString(),
                       write.decimal_scale == 0
                           ? std::string("point")
                           : fmt::format("{} fractional digits", write.decimal_scale),
                       write.column_type);
  }
  if (write.fraction_digits < kMaxTimePrecision) {
    return fmt::format("{} values with more fractional seconds than the {} digits of {} would be "
                       "cut by MySQL: they are refused as data errors",
                       incoming.ToString(), write.fraction_digits, write.column_type);
  }
  if (write.date_only) {
    return fmt::format("{} values with a time of day would lose it in a date column: they are "
                       "refused as data errors",
                       incoming.ToString());
  }
  if (write.load == ColumnLoad::kYear) {
    return fmt::format("{} values outside 0 and 1901..2155 do not fit MySQL's year (it reads 1..99 "
                       "as 1970..2069): they are refused as data errors",
                       incoming.ToString());
  }
  return {};
}

std::string ValueChange(const Column& column, size_t row, const ColumnWrite& write,
                        bool negative_zero_as_zero) {
  const DataType& type = column.type();
  if (write.decimal_scale >= 0) {
    if (type.is_fast_decimal()) {
      // Precision is the server's to check (strict mode refuses an overflow); scale is ours.
      bool exact = type.scale <= write.decimal_scale ||
                   column.Get<int128>(row) % Pow10Int128(type.scale - write.decimal_scale) == 0;
      return exact ? std::string()
                   : fmt::format("{} would be rounded to fit {}", ValueText(column, row),
                                 write.column_type);
    }
    return DecimalTextChange(ValueText(column, row), write);
  }
  if (write.fraction_digits < kMaxTimePrecision && type.is_temporal()) {
    int64_t unit = 1;
    for (int i = write.fraction_digits; i < kMaxTimePrecision; ++i)
      unit *= 10;
    if (column.Get<int64_t>(row) % unit != 0) {
      return fmt::format("{} has more fractional seconds than {} keeps", ValueText(column, row),
                         write.column_type);
    }
    return {};
  }
  if (write.date_only && type.is_temporal()) {
    if (TimeOfDay(column.Get<int64_t>(row)) != 0) {
      return fmt::format("{} has a time of day, which a date column would drop",
                         ValueText(column, row));
    }
    return {};
  }
  if (write.load == ColumnLoad::kYear) {
    std::string text = ValueText(column, row);
    int64_t year = -1;
    std::from_chars(text.data(), text.data() + text.size(), year);
    if (year != 0 && (year < 1901 || year > 2155)) {
      return fmt::format("{} is outside MySQL's year range (0, 1901..2155){}", text,
                         year >= 1 && year <= 99 ? fmt::format("; MySQL would store {}",
                                                               year < 70 ? 2000 + year
                                                                         : 1900 + year)
                                                 : std::string());
    }
    return {};
  }
  if (write.folds_negative_zero && !negative_zero_as_zero) {
    bool negative_zero = type.id == TypeId::kFloat64
                             ? column.Get<double>(row) == 0 && std::signbit(column.Get<double>(row))
                             : type.id == TypeId::kFloat32 && column.Get<float>(row) == 0 &&
                                   std::signbit(column.Get<float>(row));
    if (negative_zero) {
      return "MySQL and MariaDB store a float's -0 as 0 (set negative_zero: zero to accept "
             "that)";
    }
  }
  return {};
}

}  // namespace sluice::connectors::mysql
