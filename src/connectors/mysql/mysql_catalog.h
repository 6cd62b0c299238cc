// What information_schema says about the tables of a MySQL database: which tables `table` /
// `tables` select (names and globs), each table's columns through the type mapping
// (mysql_types.h, MariaDB's JSON found through its CHECK constraint) and its key; and where the
// server's binary log stands. Shared by the snapshot source and the binlog (cdc) source.
//
// Stateless functions over a caller's connection; use from the connection's thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "config/options.h"
#include "connectors/mysql/mysql_client.h"
#include "connectors/mysql/mysql_options.h"
#include "connectors/mysql/mysql_types.h"
#include "core/schema.h"

namespace sluice::connectors::mysql {

/// One entry of information_schema.TABLES.
struct TableListing {
  std::string name;
  /// BASE TABLE (else a view or system view).
  bool base = true;
  /// TABLE_ROWS: an estimate (exact for MyISAM), nullopt when the server does not know.
  std::optional<uint64_t> estimated_rows;
  std::string engine;
};

/// The tables and views of `database`, by name.
Result<std::vector<TableListing>> ListTables(Connection& connection, const std::string& database);

/// The entry of table `name` in `listing` (which SelectTables chose it from).
const TableListing& FindTable(const std::vector<TableListing>& listing, const std::string& name);

/// The names that `selection.table` or `selection.tables` (names and globs) select among
/// `listing`, in order, each once. A glob matches base tables only, never Sluice's own tables
/// (`_sluice_*`); a glob matching nothing and an unknown name are NotFound listing the tables.
Result<std::vector<std::string>> SelectTables(const std::vector<TableListing>& listing,
                                              const sql::TableSelection& selection,
                                              const ConnectionOptions& options);

/// A table's columns and key as the source reads them.
struct TableColumns {
  /// Every column in table order, mapped through MapSourceColumn.
  std::vector<SourceColumn> columns;
  /// Indexes into `columns` of the key: the PRIMARY KEY, else the first UNIQUE index (by name)
  /// whose columns are all NOT NULL and not spatial; empty when there is neither.
  std::vector<int> key;
  bool key_is_primary = false;

  /// The index of column `name`, -1 when there is none.
  int Find(const std::string& name) const;
  /// "a, b, c": the column names, for messages.
  std::string Names() const;
};

/// Describes `database`.`table`. Types Sluice does not know are read as text, with a warning
/// logged under `component`.
Result<TableColumns> DescribeColumns(Connection& connection, const std::string& database,
                                     const std::string& table, ZeroDates zero_dates,
                                     GeometryFormat geometry, const std::string& component);

/// The indexes into `table.columns` of the `columns:` a job asks for, in its order (every column
/// when it asks for none); an unknown one is a config error at `columns` in `config`, listing the
/// columns of `display` ("db.table").
Result<std::vector<int>> SelectColumns(const TableColumns& table,
                                       const std::vector<std::string>& requested,
                                       const config::Options& config, const std::string& display);

/// The stream field that `column` becomes (name, logical type, nullability under `zero_dates`,
/// native type, collation of text).
Field SourceField(const SourceColumn& column, ZeroDates zero_dates);

/// Where the server's binary log stands.
struct BinlogCoordinates {
  std::string file;
  uint64_t position = 0;
  /// MySQL's Executed_Gtid_Set or MariaDB's @@gtid_binlog_pos; empty when unknown.
  std::string gtid;
};

/// SHOW MASTER STATUS (SHOW BINARY LOG STATUS on MySQL 8.4), and on MariaDB @@gtid_binlog_pos;
/// nullopt when the binary log is off. Errors (a missing REPLICATION CLIENT privilege) are the
/// server's, through MysqlStatus.
Result<std::optional<BinlogCoordinates>> ReadBinlogCoordinates(Connection& connection);

}  // namespace sluice::connectors::mysql
