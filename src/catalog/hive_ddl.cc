// HiveQL text for tables and partitions: quoting, CREATE TABLE, ALTER TABLE ADD PARTITION, and
// Hive's partition names.
#include "catalog/hive_ddl.h"

#include <fmt/core.h>

#include <cctype>

#include "core/status.h"

namespace sluice::catalog {
namespace {

// "(`a` bigint, `b` string COMMENT '...')"
std::string ColumnList(const std::vector<HiveColumn>& columns) {
  std::string text = "(";
  for (size_t i = 0; i < columns.size(); ++i) {
    if (i > 0)
      text += ", ";
    text += QuoteHiveIdentifier(columns[i].name);
    text += ' ';
    text += columns[i].type;
    if (!columns[i].comment.empty())
      text += " COMMENT " + QuoteHiveString(columns[i].comment);
  }
  text += ')';
  return text;
}

std::string QualifiedName(std::string_view database, std::string_view table) {
  return QuoteHiveIdentifier(database) + "." + QuoteHiveIdentifier(table);
}

// The characters Hive's FileUtils.escapePathName writes as %XX in a partition's directory name
// (besides control characters): those with a meaning in paths, URIs or globs.
bool HiveEscapesInPath(unsigned char c) {
  if (c < 0x20 || c == 0x7F)
    return true;
  switch (c) {
    case '"': case '#': case '%': case '\'': case '*': case '/': case ':': case '=': case '?':
    case '\\': case '{': case '[': case ']': case '^':
      return true;
    default:
      return false;
  }
}


// Hive's name for a null or empty partition value.
constexpr std::string_view kDefaultPartitionName = "__HIVE_DEFAULT_PARTITION__";

}  // namespace

std::string EscapeHivePathName(std::string_view text) {
  std::string escaped;
  escaped.reserve(text.size());
  for (unsigned char c : text) {
    if (HiveEscapesInPath(c)) {
      escaped += fmt::format("%{:02X}", c);
    } else {
      escaped += static_cast<char>(c);
    }
  }
  return escaped;
}

std::string QuoteHiveIdentifier(std::string_view name) {
  std::string quoted = "`";
  for (char c : name) {
    if (c == '`')
      quoted += '`';
    quoted += c;
  }
  quoted += '`';
  return quoted;
}

std::string QuoteHiveString(std::string_view text) {
  std::string quoted = "'";
  for (char c : text) {
    switch (c) {
      case '\'':
        quoted += "\\'";
        break;
      case '\\':
        quoted += "\\\\";
        break;
      case '\n':
        quoted += "\\n";
        break;
      case '\r':
        quoted += "\\r";
        break;
      case '\t':
        quoted += "\\t";
        break;
      default:
        quoted += c;
    }
  }
  quoted += '\'';
  return quoted;
}

std::string CreateTableDdl(const HiveTableSpec& spec) {
  std::string ddl = spec.external ? "CREATE EXTERNAL TABLE IF NOT EXISTS "
                                  : "CREATE TABLE IF NOT EXISTS ";
  ddl += QualifiedName(spec.database, spec.table);
  ddl += ' ';
  ddl += ColumnList(spec.columns);
  if (!spec.comment.empty())
    ddl += " COMMENT " + QuoteHiveString(spec.comment);
  if (!spec.partition_keys.empty())
    ddl += " PARTITIONED BY " + ColumnList(spec.partition_keys);
  ddl += spec.format == HiveFileFormat::kAvro ? " STORED AS AVRO" : " STORED AS PARQUET";
  if (!spec.location.empty())
    ddl += " LOCATION " + QuoteHiveString(spec.location);
  return ddl;
}

std::string AddPartitionDdl(std::string_view database, std::string_view table,
                            const std::vector<HiveColumn>& keys,
                            const HivePartitionSpec& partition) {
  SLUICE_DCHECK(partition.values.size() == keys.size());
  std::string ddl = "ALTER TABLE " + QualifiedName(database, table) +
                    " ADD IF NOT EXISTS PARTITION (";
  for (size_t i = 0; i < keys.size(); ++i) {
    if (i > 0)
      ddl += ", ";
    ddl += QuoteHiveIdentifier(keys[i].name);
    ddl += '=';
    ddl += QuoteHiveString(i < partition.values.size() ? partition.values[i] : "");
  }
  ddl += ')';
  if (!partition.location.empty())
    ddl += " LOCATION " + QuoteHiveString(partition.location);
  return ddl;
}

std::string HivePartitionName(const std::vector<HiveColumn>& keys,
                              const std::vector<std::string>& values) {
  std::string name;
  for (size_t i = 0; i < keys.size(); ++i) {
    if (i > 0)
      name += '/';
    // Hive lower-cases the key with Java's toLowerCase; here only ASCII letters change, so a key
    // with non-ASCII capitals would differ from Hive's name (Sluice's keys are ASCII: dt, hr).
    std::string key = keys[i].name;
    for (char& c : key)
      c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    name += EscapeHivePathName(key);
    name += '=';
    std::string_view value = i < values.size() ? std::string_view(values[i]) : "";
    name += value.empty() ? std::string(kDefaultPartitionName) : EscapeHivePathName(value);
  }
  return name;
}

}  // namespace sluice::catalog
