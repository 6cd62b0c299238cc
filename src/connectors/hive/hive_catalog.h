// TableCatalog: where the hive sink declares its table and partitions. With a metastore
// configured, a Hive metastore (catalog/hive_metastore.h) gets the table (CREATE EXTERNAL TABLE
// when missing) and every partition a file was published in; without one, the DDL is written
// to <location>/_sluice/<job>/<table>.sql (CREATE, then ALTER TABLE ... ADD PARTITION per
// partition), to be run by hand or replaced by MSCK REPAIR TABLE.
//
// Thread-safety: none; the sink creates one per writer.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "connectors/hive/hive_options.h"
#include "core/schema.h"
#include "io/file_store.h"

namespace sluice::connectors::hive {

struct TableDescription {
  std::string database;
  std::string table;
  SchemaPtr file_schema;                    // the columns in the files
  std::vector<std::string> partition_keys;  // all of type string
  formats::FileFormat format = formats::FileFormat::kParquet;
  std::string location;                     // as the metastore should see it
};

class TableCatalog {
 public:
  virtual ~TableCatalog() = default;
  /// Creates the table when missing; a table of that name with other columns is a Conflict.
  virtual Status RegisterTable() = 0;
  /// Declares the partitions (directories relative to the location); known ones are fine.
  virtual Status AddPartitions(const std::vector<std::string>& partitions) = 0;
};

/// The metastore of `options.metastore_uri`, or the DDL file in `store` when there is none.
Result<std::unique_ptr<TableCatalog>> OpenTableCatalog(const HiveSinkOptions& options,
                                                       const TableDescription& table,
                                                       io::FileStore* store,
                                                       const std::string& job);

/// The table's CREATE EXTERNAL TABLE statement.
std::string CreateTableStatement(const TableDescription& table);

}  // namespace sluice::connectors::hive
