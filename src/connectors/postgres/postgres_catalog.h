// What the PostgreSQL catalog says about tables: columns with their types (domains resolved to
// their base types), the key used to split a table, row estimates, privileges; table names
// matched against globs; type names resolved on a target server.
//
// Stateless functions over a caller's connection; use from the connection's thread.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "connectors/postgres/postgres_client.h"
#include "connectors/postgres/postgres_types.h"
#include "connectors/sql/connection_options.h"

namespace sluice::connectors::postgres {

struct PgColumn {
  std::string name;
  PgType type;
  bool not_null = false;
};

struct PgTableInfo {
  uint32_t oid = 0;
  std::string schema;
  std::string name;
  char relkind = 'r';  // r table, p partitioned table, v view, m materialized view, f foreign
  std::vector<PgColumn> columns;
  /// Indexes into `columns` of the key: the primary key, else the first unique index on NOT NULL
  /// columns (no expressions, not partial); empty when the table has neither.
  std::vector<int> key;
  bool key_is_primary = false;
  std::optional<uint64_t> estimated_rows;
  /// Whether the connected user may SELECT from it.
  bool can_select = true;

  /// "schema"."name".
  std::string Quoted() const { return QuoteQualified(schema, name); }
  /// schema.name.
  std::string Display() const { return schema + "." + name; }
  int ColumnIndex(std::string_view column) const;
};

/// Splits "schema.table" at the first dot; a bare name is in `public`.
std::pair<std::string, std::string> SplitQualifiedName(std::string_view name);

/// Describes `schema`.`table` (tables, partitioned tables, views, materialized views, foreign
/// tables); nullopt when there is no such relation.
Result<std::optional<PgTableInfo>> DescribeTable(PgConnection& conn, const std::string& schema,
                                                 const std::string& table);

/// Names of the tables (ordinary and partitioned, partitions excluded: they are read through
/// their parent) of `schema` matching the glob `pattern`, sorted. Tables named `_sluice_*` (a
/// sink's progress and staging tables) match only a pattern that starts with `_sluice_`.
Result<std::vector<std::string>> MatchTables(PgConnection& conn, const std::string& schema,
                                             const std::string& pattern);

/// The tables (schema, name) that `table` or `tables` (names and globs, see MatchTables) select,
/// in order, each once. A glob matching nothing is NotFound; a plain name is not checked here.
Result<std::vector<std::pair<std::string, std::string>>> ResolveTables(
    PgConnection& conn, const sql::TableSelection& selection);

/// Resolves a type name as this server understands it ("numeric(10,2)", "mpaa_rating"). Returns
/// a PgType with base_oid 0 when the name does not denote a type here.
Result<PgType> ResolveTypeName(PgConnection& conn, const std::string& spelled);

}  // namespace sluice::connectors::postgres
