#include "connectors/sqlite/sqlite_catalog.h"

#include <fmt/core.h>
#include <sqlite3.h>

namespace sluice::connectors::sqlite {

namespace {

std::string ColumnText(sqlite3_stmt* stmt, int index) {
  const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(stmt, index));
  if (text == nullptr) {
    return {};
  }
  return std::string(text, static_cast<size_t>(sqlite3_column_bytes(stmt, index)));
}

bool IsIdentifierChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '$' || static_cast<unsigned char>(c) >= 0x80;
}

// Skips blanks and SQL comments starting at `i`.
size_t SkipSpace(std::string_view sql, size_t i) {
  while (i < sql.size()) {
    char c = sql[i];
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f') {
      ++i;
    } else if (sql.substr(i, 2) == "--") {
      size_t end = sql.find('\n', i);
      i = end == std::string_view::npos ? sql.size() : end + 1;
    } else if (sql.substr(i, 2) == "/*") {
      size_t end = sql.find("*/", i + 2);
      i = end == std::string_view::npos ? sql.size() : end + 2;
    } else {
      break;
    }
  }
  return i;
}

// Reads a keyword (case-insensitive) at `*i`; advances past it and following blanks.
bool ReadKeyword(std::string_view sql, size_t* i, std::string_view keyword) {
  if (*i + keyword.size() > sql.size()) {
    return false;
  }
  if (!EqualsIgnoringAsciiCase(sql.substr(*i, keyword.size()), keyword)) {
    return false;
  }
  if (*i + keyword.size() < sql.size() && IsIdentifierChar(sql[*i + keyword.size()])) {
    return false;
  }
  *i = SkipSpace(sql, *i + keyword.size());
  return true;
}

// Reads one identifier token: "quoted", [bracketed], `backticked`, 'single' or bare.
bool ReadIdentifier(std::string_view sql, size_t* i) {
  if (*i >= sql.size()) {
    return false;
  }
  char open = sql[*i];
  char close = open == '[' ? ']' : open;
  if (open == '"' || open == '`' || open == '\'' || open == '[') {
    size_t j = *i + 1;
    while (j < sql.size()) {
      if (sql[j] == close) {
        // A doubled quote is an escaped quote (not for brackets).
        if (close != ']' && j + 1 < sql.size() && sql[j + 1] == close) {
          j += 2;
          continue;
        }
        *i = j + 1;
        return true;
      }
      ++j;
    }
    return false;
  }
  size_t j = *i;
  while (j < sql.size() && IsIdentifierChar(sql[j])) {
    ++j;
  }
  if (j == *i) {
    return false;
  }
  *i = j;
  return true;
}

}  // namespace


int TableInfo::FindColumn(std::string_view column) const {
  for (size_t i = 0; i < columns.size(); ++i) {
    if (EqualsIgnoringAsciiCase(columns[i].name, column)) {
      return static_cast<int>(i);
    }
  }
  return -1;
}

std::string TableInfo::ColumnList() const {
  std::string out;
  for (const ColumnInfo& column : columns) {
    if (!out.empty()) {
      out += ", ";
    }
    out += column.name;
  }
  return out;
}

Result<std::vector<std::string>> ListTables(Connection& db, bool include_views) {
  std::string sql = fmt::format(
      "SELECT name FROM sqlite_schema WHERE type IN ('table'{}) AND name NOT LIKE 'sqlite\\_%' "
      "ESCAPE '\\' AND name NOT LIKE '\\_sluice\\_staging\\_%' ESCAPE '\\' AND "
      "name <> '_sluice_progress' ORDER BY name",
      include_views ? ", 'view'" : "");
  SLUICE_ASSIGN_OR_RETURN(Statement stmt, db.Prepare(sql, "cannot list tables"));
  std::vector<std::string> names;
  int rc;
  while ((rc = sqlite3_step(stmt.get())) == SQLITE_ROW) {
    names.push_back(ColumnText(stmt.get(), 0));
  }
  if (rc != SQLITE_DONE) {
    return db.Error(rc, "cannot list tables");
  }
  return names;
}

Result<std::optional<std::string>> FindTable(Connection& db, std::string_view name,
                                             bool include_views) {
  std::string sql = fmt::format(
      "SELECT name FROM sqlite_schema WHERE type IN ('table'{}) AND name = ?1 COLLATE NOCASE "
      "ORDER BY name = ?1 DESC LIMIT 1",
      include_views ? ", 'view'" : "");
  SLUICE_ASSIGN_OR_RETURN(Statement stmt, db.Prepare(sql, "cannot look up table"));
  sqlite3_bind_text(stmt.get(), 1, name.data(), static_cast<int>(name.size()), SQLITE_STATIC);
  int rc = sqlite3_step(stmt.get());
  if (rc == SQLITE_DONE) {
    return std::optional<std::string>();
  }
  if (rc != SQLITE_ROW) {
    return db.Error(rc, fmt::format("cannot look up table '{}'", name));
  }
  return std::optional<std::string>(ColumnText(stmt.get(), 0));
}

Result<TableInfo> DescribeTable(Connection& db, std::string_view name) {
  std::string what = fmt::format("cannot describe table '{}'", name);
  TableInfo info;
  info.name = std::string(name);
  {
    SLUICE_ASSIGN_OR_RETURN(
        Statement stmt, db.Prepare("SELECT type, sql FROM sqlite_schema WHERE name = ?1", what));
    sqlite3_bind_text(stmt.get(), 1, name.data(), static_cast<int>(name.size()), SQLITE_STATIC);
    int rc = sqlite3_step(stmt.get());
    if (rc == SQLITE_ROW) {
      info.is_view = ColumnText(stmt.get(), 0) == "view";
      info.create_sql = ColumnText(stmt.get(), 1);
    } else if (rc != SQLITE_DONE) {
      return db.Error(rc, what);
    }
  }
  {
    // table_xinfo also lists generated columns; hidden = 1 marks virtual-table internals.
    SLUICE_ASSIGN_OR_RETURN(
        Statement stmt,
        db.Prepare("SELECT name, type, \"notnull\", pk, hidden FROM pragma_table_xinfo(?1)", what));
    sqlite3_bind_text(stmt.get(), 1, name.data(), static_cast<int>(name.size()), SQLITE_STATIC);
    int rc;
    while ((rc = sqlite3_step(stmt.get())) == SQLITE_ROW) {
      int hidden = sqlite3_column_int(stmt.get(), 4);
      if (hidden == 1) {
        continue;
      }
      ColumnInfo column;
      column.name = ColumnText(stmt.get(), 0);
      column.declared_type = ColumnText(stmt.get(), 1);
      column.not_null = sqlite3_column_int(stmt.get(), 2) != 0;
      column.primary_key_position = sqlite3_column_int(stmt.get(), 3);
      column.generated = hidden == 2 || hidden == 3;
      info.columns.push_back(std::move(column));
    }
    if (rc != SQLITE_DONE) {
      return db.Error(rc, what);
    }
  }
  if (!info.is_view) {
    // The rowid can be addressed by any of three names unless a column took it. A WITHOUT ROWID
    // table rejects all of them, which is how it is recognised.
    for (std::string_view candidate : {"rowid", "_rowid_", "oid"}) {
      if (info.FindColumn(candidate) >= 0) {
        continue;
      }
      std::string probe =
          fmt::format("SELECT {} FROM {} LIMIT 0", candidate, QuoteIdentifier(name));
      sqlite3_stmt* stmt = nullptr;
      int rc = sqlite3_prepare_v2(db.get(), probe.c_str(), -1, &stmt, nullptr);
      sqlite3_finalize(stmt);
      if (rc == SQLITE_OK) {
        info.rowid_name = std::string(candidate);
      }
      break;
    }
  }
  return info;
}

Result<std::vector<std::string>> DependentObjectSql(Connection& db, std::string_view name) {
  std::string what = fmt::format("cannot read the indexes of table '{}'", name);
  SLUICE_ASSIGN_OR_RETURN(
      Statement stmt,
      db.Prepare("SELECT sql FROM sqlite_schema WHERE type IN ('index', 'trigger') AND "
                 "tbl_name = ?1 AND sql IS NOT NULL ORDER BY rowid",
                 what));
  sqlite3_bind_text(stmt.get(), 1, name.data(), static_cast<int>(name.size()), SQLITE_STATIC);
  std::vector<std::string> out;
  int rc;
  while ((rc = sqlite3_step(stmt.get())) == SQLITE_ROW) {
    out.push_back(ColumnText(stmt.get(), 0));
  }
  if (rc != SQLITE_DONE) {
    return db.Error(rc, what);
  }
  return out;
}

std::optional<std::string> RenameCreateTableSql(std::string_view create_sql,
                                                std::string_view new_name) {
  size_t i = SkipSpace(create_sql, 0);
  if (!ReadKeyword(create_sql, &i, "CREATE")) {
    return std::nullopt;
  }
  if (!ReadKeyword(create_sql, &i, "TEMP")) {
    ReadKeyword(create_sql, &i, "TEMPORARY");
  }
  if (!ReadKeyword(create_sql, &i, "TABLE")) {
    return std::nullopt;
  }
  size_t before_if = i;
  if (ReadKeyword(create_sql, &i, "IF")) {
    if (!ReadKeyword(create_sql, &i, "NOT") || !ReadKeyword(create_sql, &i, "EXISTS")) {
      i = before_if;  // a table called "if"
    }
  }
  if (!ReadIdentifier(create_sql, &i)) {
    return std::nullopt;
  }
  size_t after = SkipSpace(create_sql, i);
  if (after < create_sql.size() && create_sql[after] == '.') {
    i = SkipSpace(create_sql, after + 1);
    if (!ReadIdentifier(create_sql, &i)) {
      return std::nullopt;
    }
  }
  std::string_view rest = create_sql.substr(i);
  size_t body = SkipSpace(rest, 0);
  if (body >= rest.size() || rest[body] != '(') {
    return std::nullopt;
  }
  return fmt::format("CREATE TABLE {} {}", QuoteIdentifier(new_name), rest.substr(body));
}

}  // namespace sluice::connectors::sqlite
