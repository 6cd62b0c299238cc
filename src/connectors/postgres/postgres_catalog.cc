#include "connectors/postgres/postgres_catalog.h"

#include <fmt/core.h>
#include <fnmatch.h>

#include <algorithm>
#include <charconv>
#include <cstdlib>

namespace sluice::connectors::postgres {

namespace {

// Columns with their types; a domain's chain is followed down to its base type, whose modifier
// is the last domain's typtypmod (a column of a domain type has atttypmod -1).
constexpr const char* kColumnsSql = R"sql(
WITH RECURSIVE chain AS (
  SELECT a.attnum, t.oid AS type_oid, t.typtype, t.typcategory, t.typbasetype, t.typtypmod,
         a.atttypmod AS typmod, 0 AS depth
  FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid
  WHERE a.attrelid = $1::oid AND a.attnum > 0 AND NOT a.attisdropped
  UNION ALL
  SELECT c.attnum, t.oid, t.typtype, t.typcategory, t.typbasetype, t.typtypmod, c.typtypmod,
         c.depth + 1
  FROM chain c JOIN pg_type t ON t.oid = c.typbasetype
  WHERE c.typtype = 'd')
SELECT a.attname, a.attnotnull, a.atttypid, format_type(a.atttypid, a.atttypmod),
       b.type_oid, b.typtype, b.typcategory, b.typmod, a.attnum
FROM pg_attribute a
JOIN (SELECT DISTINCT ON (attnum) * FROM chain ORDER BY attnum, depth DESC) b
  ON b.attnum = a.attnum
WHERE a.attrelid = $1::oid
ORDER BY a.attnum)sql";

// Candidate keys: the primary key first, then unique indexes by width and age. Partial and
// expression indexes cannot order a scan of every row.
constexpr const char* kKeysSql = R"sql(
SELECT i.indisprimary, array_to_string((i.indkey::int2[])[0:i.indnkeyatts - 1], ' ')
FROM pg_index i
WHERE i.indrelid = $1::oid AND i.indisunique AND i.indisvalid AND i.indpred IS NULL
  AND i.indexprs IS NULL
ORDER BY i.indisprimary DESC, i.indnkeyatts, i.indexrelid)sql";

constexpr const char* kTableSql = R"sql(
SELECT c.oid, c.relkind, has_table_privilege(c.oid, 'SELECT'),
       CASE WHEN c.relkind = 'p' THEN
         (SELECT sum(p.reltuples) FROM pg_partition_tree(c.oid) t
          JOIN pg_class p ON p.oid = t.relid WHERE t.isleaf AND p.reltuples > 0)
       ELSE c.reltuples END
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = $1 AND c.relname = $2 AND c.relkind IN ('r', 'p', 'v', 'm', 'f'))sql";

constexpr const char* kDomainChainSql = R"sql(
WITH RECURSIVE chain AS (
  SELECT t.oid, t.typtype, t.typcategory, t.typbasetype, t.typtypmod, $2::int AS typmod,
         0 AS depth
  FROM pg_type t WHERE t.oid = $1::oid
  UNION ALL
  SELECT t.oid, t.typtype, t.typcategory, t.typbasetype, t.typtypmod, c.typtypmod, c.depth + 1
  FROM chain c JOIN pg_type t ON t.oid = c.typbasetype WHERE c.typtype = 'd')
SELECT oid, typtype, typcategory, typmod FROM chain ORDER BY depth DESC LIMIT 1)sql";

uint32_t ToUint32(std::string_view text) {
  uint32_t value = 0;
  std::from_chars(text.data(), text.data() + text.size(), value);
  return value;
}

int32_t ToInt32(std::string_view text) {
  int32_t value = 0;
  std::from_chars(text.data(), text.data() + text.size(), value);
  return value;
}

char FirstChar(std::string_view text) {
  return text.empty() ? '\0' : text[0];
}

}  // namespace

int PgTableInfo::ColumnIndex(std::string_view column) const {
  for (size_t i = 0; i < columns.size(); ++i) {
    if (columns[i].name == column)
      return static_cast<int>(i);
  }
  return -1;
}

std::pair<std::string, std::string> SplitQualifiedName(std::string_view name) {
  size_t dot = name.find('.');
  if (dot == std::string_view::npos)
    return {"public", std::string(name)};
  return {std::string(name.substr(0, dot)), std::string(name.substr(dot + 1))};
}

Result<std::optional<PgTableInfo>> DescribeTable(PgConnection& conn, const std::string& schema,
                                                 const std::string& table) {
  std::string what = fmt::format("cannot describe table '{}.{}'", schema, table);
  SLUICE_ASSIGN_OR_RETURN(PgResult found, conn.Query(kTableSql, what, {schema, table}));
  if (found.rows() == 0)
    return std::optional<PgTableInfo>();
  PgTableInfo info;
  info.schema = schema;
  info.name = table;
  info.oid = ToUint32(found.Value(0, 0));
  info.relkind = FirstChar(found.Value(0, 1));
  info.can_select = found.Value(0, 2) == "t";
  if (!found.IsNull(0, 3)) {
    double tuples = std::strtod(found.Text(0, 3).c_str(), nullptr);
    if (tuples > 0)
      info.estimated_rows = static_cast<uint64_t>(tuples);
  }
  std::string oid = std::to_string(info.oid);
  SLUICE_ASSIGN_OR_RETURN(PgResult columns, conn.Query(kColumnsSql, what, {oid}));
  std::vector<int> attnums;
  for (int r = 0; r < columns.rows(); ++r) {
    PgColumn column;
    column.name = columns.Text(r, 0);
    column.not_null = columns.Value(r, 1) == "t";
    column.type.oid = ToUint32(columns.Value(r, 2));
    column.type.spelled = columns.Text(r, 3);
    column.type.base_oid = ToUint32(columns.Value(r, 4));
    column.type.typtype = FirstChar(columns.Value(r, 5));
    column.type.category = FirstChar(columns.Value(r, 6));
    column.type.typmod = ToInt32(columns.Value(r, 7));
    attnums.push_back(ToInt32(columns.Value(r, 8)));
    info.columns.push_back(std::move(column));
  }
  SLUICE_ASSIGN_OR_RETURN(PgResult keys, conn.Query(kKeysSql, what, {oid}));
  for (int r = 0; r < keys.rows() && info.key.empty(); ++r) {
    std::vector<int> key;
    bool usable = true;
    std::string_view list = keys.Value(r, 1);
    while (!list.empty() && usable) {
      size_t space = list.find(' ');
      int attnum = ToInt32(list.substr(0, space));
      list = space == std::string_view::npos ? std::string_view() : list.substr(space + 1);
      int index = -1;
      for (size_t i = 0; i < attnums.size(); ++i) {
        if (attnums[i] == attnum)
          index = static_cast<int>(i);
      }
      // A key column that may be NULL cannot order or bound a scan of every row.
      if (index < 0 || !info.columns[static_cast<size_t>(index)].not_null)
        usable = false;
      key.push_back(index);
    }
    if (usable && !key.empty()) {
      info.key = std::move(key);
      info.key_is_primary = keys.Value(r, 0) == "t";
    }
  }
  return std::optional<PgTableInfo>(std::move(info));
}

Result<std::vector<std::string>> MatchTables(PgConnection& conn, const std::string& schema,
                                             const std::string& pattern) {
  SLUICE_ASSIGN_OR_RETURN(
      PgResult result,
      conn.Query("SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                 "WHERE n.nspname = $1 AND c.relkind IN ('r', 'p') AND NOT c.relispartition "
                 "ORDER BY c.relname COLLATE \"C\"",
                 fmt::format("cannot list the tables of schema '{}'", schema), {schema}));
  // The sink's own tables (progress, overwrite staging) live next to the data of a database
  // that is also a target; "*" must not copy them along. A pattern that names them still does.
  constexpr std::string_view kOwnPrefix = "_sluice_";
  const bool own_wanted = pattern.rfind(kOwnPrefix, 0) == 0;
  std::vector<std::string> names;
  for (int r = 0; r < result.rows(); ++r) {
    std::string name = result.Text(r, 0);
    if (!own_wanted && name.rfind(kOwnPrefix, 0) == 0)
      continue;
    if (fnmatch(pattern.c_str(), name.c_str(), 0) == 0)
      names.push_back(std::move(name));
  }
  return names;
}

Result<PgType> ResolveTypeName(PgConnection& conn, const std::string& spelled) {
  PgType type;
  type.spelled = spelled;
  // to_regtype() first, with the name as a parameter: only a string that parses as a type name
  // is then spliced into SQL to learn its modifier. A syntax error just means "not a type here".
  Result<PgResult> regtype = conn.Query("SELECT to_regtype($1)::oid", "", {spelled});
  if (!regtype.ok()) {
    if (regtype.status().code() == StatusCode::kUnavailable)
      return regtype.status();
    return type;
  }
  if (regtype->rows() == 0 || regtype->IsNull(0, 0))
    return type;
  Result<PgResult> probe = conn.Query("SELECT NULL::" + spelled, "");
  if (!probe.ok())
    return type;
  uint32_t oid = probe->ColumnType(0);
  int typmod = probe->ColumnTypmod(0);
  SLUICE_ASSIGN_OR_RETURN(
      PgResult chain, conn.Query(kDomainChainSql, fmt::format("cannot resolve type '{}'", spelled),
                                 {std::to_string(oid), std::to_string(typmod)}));
  if (chain.rows() == 0)
    return type;
  type.oid = oid;
  type.base_oid = ToUint32(chain.Value(0, 0));
  type.typtype = FirstChar(chain.Value(0, 1));
  type.category = FirstChar(chain.Value(0, 2));
  type.typmod = ToInt32(chain.Value(0, 3));
  return type;
}

Result<std::vector<std::pair<std::string, std::string>>> ResolveTables(
    PgConnection& conn, const sql::TableSelection& selection) {
  std::vector<std::pair<std::string, std::string>> chosen;
  if (!selection.table.empty()) {
    chosen.push_back(SplitQualifiedName(selection.table));
    return chosen;
  }
  for (const std::string& pattern : selection.tables) {
    auto [schema, name] = SplitQualifiedName(pattern);
    std::vector<std::string> names;
    if (name.find_first_of("*?[") != std::string::npos) {
      SLUICE_ASSIGN_OR_RETURN(names, MatchTables(conn, schema, name));
      if (names.empty()) {
        return NotFound(fmt::format("{}: no table of schema '{}' matches '{}'", conn.endpoint(),
                                    schema, name));
      }
    } else {
      names.push_back(name);
    }
    for (std::string& table : names) {
      std::pair<std::string, std::string> entry{schema, std::move(table)};
      if (std::find(chosen.begin(), chosen.end(), entry) == chosen.end())
        chosen.push_back(std::move(entry));
    }
  }
  return chosen;
}

}  // namespace sluice::connectors::postgres
