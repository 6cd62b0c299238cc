// SQLite catalog: what the source and the sink need to know about tables, read from
// sqlite_schema and the table_xinfo pragma.
//
// Free functions over a Connection; they run on the caller's thread and change nothing.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "connectors/sqlite/sqlite_client.h"
#include "core/strings.h"

namespace sluice::connectors::sqlite {

struct ColumnInfo {
  std::string name;
  /// The declared type as written in CREATE TABLE ("NVARCHAR(160)", "" when none).
  std::string declared_type;
  bool not_null = false;
  /// 1-based position in the primary key; 0 when not part of it.
  int primary_key_position = 0;
  /// GENERATED ALWAYS AS (...): readable, never writable.
  bool generated = false;
};

struct TableInfo {
  /// The name as stored in sqlite_schema (SQLite matches names case-insensitively).
  std::string name;
  bool is_view = false;
  std::vector<ColumnInfo> columns;
  /// How to address the rowid in SQL ("rowid", or "_rowid_"/"oid" when a column is called
  /// rowid); empty for WITHOUT ROWID tables and views.
  std::string rowid_name;
  /// The CREATE statement from sqlite_schema.
  std::string create_sql;

  bool has_rowid() const { return !rowid_name.empty(); }
  /// Index of the column named `name` (case-insensitive, as SQLite does), or -1.
  int FindColumn(std::string_view name) const;
  /// "a, b, c" for error messages.
  std::string ColumnList() const;
};

/// Names of the user tables (and views when `include_views`), sorted; SQLite's internal
/// sqlite_* tables and Sluice's own _sluice_staging_* and _sluice_progress tables are left out.
Result<std::vector<std::string>> ListTables(Connection& db, bool include_views);

/// The stored name of the table (or view when `include_views`) called `name`, matched
/// case-insensitively; nullopt when there is none.
Result<std::optional<std::string>> FindTable(Connection& db, std::string_view name,
                                             bool include_views);

/// Columns, primary key and rowid of the table or view `name` (its stored name).
Result<TableInfo> DescribeTable(Connection& db, std::string_view name);

/// The CREATE INDEX and CREATE TRIGGER statements attached to table `name`, in creation order.
Result<std::vector<std::string>> DependentObjectSql(Connection& db, std::string_view name);

/// Rewrites a stored "CREATE TABLE <name> (...)" statement to create `new_name` instead,
/// keeping every column definition and table option. nullopt when the text cannot be parsed.
std::optional<std::string> RenameCreateTableSql(std::string_view create_sql,
                                                std::string_view new_name);

}  // namespace sluice::connectors::sqlite
