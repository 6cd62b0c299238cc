#include "connectors/mysql/mysql_catalog.h"

#include <fmt/core.h>
#include <fnmatch.h>

#include <algorithm>
#include <set>

#include "core/logging.h"
#include "core/strings.h"

namespace sluice::connectors::mysql {

namespace {

bool IsGlob(std::string_view pattern) {
  return pattern.find_first_of("*?[") != std::string_view::npos;
}

// Sluice's own tables in a database it writes to (the sink's `_sluice_progress`, an overwrite's
// `_sluice_staging_<t>`): a glob never matches them, so that copying such a database does not
// carry one job's bookkeeping into another's. Named explicitly, they are read like any table.
bool IsSluiceTable(std::string_view name) {
  return name.rfind("_sluice_", 0) == 0;
}

}  // namespace

Result<std::vector<TableListing>> ListTables(Connection& connection, const std::string& database) {
  SLUICE_ASSIGN_OR_RETURN(
      std::vector<TextRow> rows,
      connection.Query(fmt::format("SELECT TABLE_NAME, TABLE_TYPE, TABLE_ROWS, ENGINE FROM "
                                   "information_schema.TABLES WHERE TABLE_SCHEMA = {} ORDER BY "
                                   "TABLE_NAME",
                                   Utf8Literal(database)),
                       "listing tables"));
  std::vector<TableListing> out;
  for (const TextRow& row : rows) {
    if (!row[0])
      continue;
    TableListing entry;
    entry.name = *row[0];
    entry.base = row[1] && *row[1] == "BASE TABLE";
    if (row[2])
      entry.estimated_rows = std::stoull(*row[2]);
    if (row[3])
      entry.engine = *row[3];
    out.push_back(std::move(entry));
  }
  return out;
}

const TableListing& FindTable(const std::vector<TableListing>& listing, const std::string& name) {
  return *std::find_if(listing.begin(), listing.end(),
                       [&](const TableListing& table) { return table.name == name; });
}

Result<std::vector<std::string>> SelectTables(const std::vector<TableListing>& listing,
                                              const sql::TableSelection& selection,
                                              const ConnectionOptions& options) {
  std::vector<std::string> base_names;
  for (const TableListing& entry : listing) {
    if (entry.base)
      base_names.push_back(entry.name);
  }
  std::vector<std::string> names;
  auto add = [&](const std::string& name) {
    if (std::find(names.begin(), names.end(), name) == names.end())
      names.push_back(name);
  };
  std::vector<std::string> requested =
      selection.table.empty() ? selection.tables : std::vector<std::string>{selection.table};
  for (const std::string& entry : requested) {
    if (IsGlob(entry)) {
      size_t before = names.size();
      for (const std::string& name : base_names) {
        if (!IsSluiceTable(name) && fnmatch(entry.c_str(), name.c_str(), 0) == 0)
          add(name);
      }
      if (names.size() == before) {
        return NotFound(fmt::format("{}: no table matches '{}' in database '{}' (tables: {})",
                                    options.Describe(), entry, options.database,
                                    JoinNames(base_names)));
      }
      continue;
    }
    bool known = std::any_of(listing.begin(), listing.end(),
                             [&](const TableListing& table) { return table.name == entry; });
    if (!known) {
      return NotFound(fmt::format("{}: table '{}.{}' does not exist (tables: {})",
                                  options.Describe(), options.database, entry,
                                  JoinNames(base_names)));
    }
    add(entry);
  }
  return names;
}

int TableColumns::Find(const std::string& name) const {
  for (size_t i = 0; i < columns.size(); ++i) {
    if (columns[i].info.name == name)
      return static_cast<int>(i);
  }
  return -1;
}

std::string TableColumns::Names() const {
  std::string out;
  for (const SourceColumn& column : columns) {
    if (!out.empty())
      out += ", ";
    out += column.info.name;
  }
  return out;
}

Result<TableColumns> DescribeColumns(Connection& connection, const std::string& database,
                                     const std::string& table, ZeroDates zero_dates,
                                     GeometryFormat geometry, const std::string& component) {
  const std::string display = database + "." + table;
  std::string schema_literal = Utf8Literal(database);
  std::string table_literal = Utf8Literal(table);
  SLUICE_ASSIGN_OR_RETURN(std::vector<TextRow> column_rows,
                          connection.Query(ColumnInfoQuery(database, table),
                                           fmt::format("reading the columns of {}", display)));
  std::set<std::string> json_columns;
  if (connection.flavor() == ServerFlavor::kMariaDb) {
    // MariaDB's JSON is LONGTEXT plus CHECK (json_valid(`c`)).
    Result<std::vector<TextRow>> checks = connection.Query(
        fmt::format("SELECT CHECK_CLAUSE FROM information_schema.CHECK_CONSTRAINTS WHERE "
                    "CONSTRAINT_SCHEMA = {} AND TABLE_NAME = {}",
                    schema_literal, table_literal),
        "reading check constraints");
    if (checks.ok()) {
      for (const TextRow& row : *checks) {
        if (!row[0])
          continue;
        const std::string& clause = *row[0];
        if (clause.rfind("json_valid(`", 0) == 0 && clause.size() > 14 &&
            clause.compare(clause.size() - 2, 2, "`)") == 0) {
          json_columns.insert(clause.substr(12, clause.size() - 14));
        }
      }
    }
  }
  TableColumns out;
  for (const TextRow& row : column_rows) {
    ColumnInfo info = ColumnInfoFromRow(row);
    info.json = info.data_type == "json" || json_columns.count(info.name) > 0;
    std::string warning;
    out.columns.push_back(MapSourceColumn(info, zero_dates, geometry, &warning));
    if (!warning.empty())
      log::Warn(component, "table '{}': {}", display, warning);
  }

  // Key: PRIMARY, else the first UNIQUE index (by name) whose columns are all NOT NULL.
  SLUICE_ASSIGN_OR_RETURN(
      std::vector<TextRow> index_rows,
      connection.Query(
          fmt::format("SELECT INDEX_NAME, COLUMN_NAME FROM information_schema.STATISTICS WHERE "
                      "TABLE_SCHEMA = {} AND TABLE_NAME = {} AND NON_UNIQUE = 0 ORDER BY "
                      "INDEX_NAME = 'PRIMARY' DESC, INDEX_NAME, SEQ_IN_INDEX",
                      schema_literal, table_literal),
          fmt::format("reading the keys of {}", display)));
  std::string current;
  std::vector<int> candidate;
  bool usable = true;
  auto settle = [&] {
    if (out.key.empty() && !candidate.empty() && usable) {
      out.key = candidate;
      out.key_is_primary = current == "PRIMARY";
    }
    candidate.clear();
    usable = true;
  };
  for (const TextRow& row : index_rows) {
    std::string index_name = row[0].value_or("");
    if (index_name != current) {
      settle();
      current = index_name;
    }
    int position = row[1] ? out.Find(*row[1]) : -1;  // NULL: a functional key part
    if (position < 0 || out.columns[static_cast<size_t>(position)].info.nullable ||
        out.columns[static_cast<size_t>(position)].spatial) {
      usable = false;
    } else {
      candidate.push_back(position);
    }
  }
  settle();
  return out;
}

Result<std::vector<int>> SelectColumns(const TableColumns& table,
                                       const std::vector<std::string>& requested,
                                       const config::Options& config, const std::string& display) {
  std::vector<int> selected;
  if (requested.empty()) {
    for (size_t i = 0; i < table.columns.size(); ++i)
      selected.push_back(static_cast<int>(i));
    return selected;
  }
  for (const std::string& column : requested) {
    int index = table.Find(column);
    if (index < 0) {
      return config.ErrorAt("columns", fmt::format("unknown column '{}' in table '{}' (columns: "
                                                   "{})",
                                                   column, display, table.Names()));
    }
    selected.push_back(index);
  }
  return selected;
}

Field SourceField(const SourceColumn& column, ZeroDates zero_dates) {
  Field field;
  field.name = column.info.name;
  field.type = column.type;
  field.nullable = column.info.nullable ||
                   (zero_dates == ZeroDates::kNull && IsTemporalType(column.info.data_type));
  field.native_type = column.info.column_type;
  if (column.type.id == TypeId::kString)
    field.collation = column.info.collation;
  return field;
}

Result<std::optional<BinlogCoordinates>> ReadBinlogCoordinates(Connection& connection) {
  // Query() rather than QueryRow(): GCC 12 misreads optional<vector> lifetimes here.
  Result<std::vector<TextRow>> status =
      connection.Query("SHOW MASTER STATUS", "reading the binlog position");
  if (!status.ok() && connection.last_errno() == 1064) {
    // MySQL 8.4 renamed it.
    status = connection.Query("SHOW BINARY LOG STATUS", "reading the binlog position");
  }
  if (!status.ok())
    return status.status();
  if (status->empty() || status->front().size() < 2 || !status->front()[0])
    return std::optional<BinlogCoordinates>();
  const TextRow& row = status->front();
  BinlogCoordinates out;
  out.file = *row[0];
  out.position = row[1] ? std::stoull(*row[1]) : 0;
  if (row.size() >= 5 && row[4] && !row[4]->empty())
    out.gtid = *row[4];
  if (connection.flavor() == ServerFlavor::kMariaDb) {
    Result<std::vector<TextRow>> gtid =
        connection.Query("SELECT @@gtid_binlog_pos", "reading the GTID position");
    if (gtid.ok() && !gtid->empty() && !gtid->front().empty() && gtid->front()[0])
      out.gtid = *gtid->front()[0];
  }
  return std::optional<BinlogCoordinates>(std::move(out));
}

}  // namespace sluice::connectors::mysql
