#include "connectors/hive/hive_catalog.h"

#include <fmt/core.h>

#include <mutex>

#include "catalog/hive_ddl.h"
#include "catalog/hive_metastore_client.h"
#include "connectors/hive/hive_manifest.h"
#include "connectors/hive/hive_partitioner.h"
#include "core/logging.h"

namespace sluice::connectors::hive {

namespace {

catalog::HiveTableSpec SpecOf(const TableDescription& table) {
  catalog::HiveTableSpec spec;
  spec.database = table.database;
  spec.table = table.table;
  for (const Field& field : table.file_schema->fields())
    spec.columns.push_back(catalog::HiveColumn{field.name, catalog::HiveTypeOf(field.type), ""});
  for (const std::string& key : table.partition_keys)
    spec.partition_keys.push_back(catalog::HiveColumn{key, "string", ""});
  spec.format = table.format == formats::FileFormat::kAvro ? catalog::HiveFileFormat::kAvro
                                                           : catalog::HiveFileFormat::kParquet;
  spec.location = table.location;
  spec.comment = "written by sluice";
  spec.external = true;
  return spec;
}

catalog::HivePartitionSpec PartitionSpecOf(const TableDescription& table,
                                           const std::string& partition) {
  std::string location = table.location;
  if (!location.empty() && location.back() != '/')
    location.push_back('/');
  return catalog::HivePartitionSpec{PartitionValues(partition), location + partition};
}

class MetastoreCatalog final : public TableCatalog {
 public:
  MetastoreCatalog(std::string uri, TableDescription table)
      : uri_(std::move(uri)), table_(std::move(table)), spec_(SpecOf(table_)) {}

  Status RegisterTable() override {
    return WithClient([&](catalog::HiveMetastoreClient& client) -> Status {
      SLUICE_RETURN_IF_ERROR(client.EnsureDatabase(table_.database));
      return client.EnsureTable(spec_);
    });
  }

  Status AddPartitions(const std::vector<std::string>& partitions) override {
    std::vector<catalog::HivePartitionSpec> specs;
    for (const std::string& partition : partitions)
      specs.push_back(PartitionSpecOf(table_, partition));
    return WithClient([&](catalog::HiveMetastoreClient& client) {
      return client.AddPartitions(table_.database, table_.table, specs);
    });
  }

 private:
  // Runs `call` on a connected client; a connection lost since the last call is made again
  // once (the calls are idempotent).
  template <typename Call>
  Status WithClient(Call call) {
    for (int attempt = 0;; ++attempt) {
      if (!client_) {
        SLUICE_ASSIGN_OR_RETURN(catalog::HiveMetastoreClient client,
                                catalog::HiveMetastoreClient::Connect(uri_));
        client_ = std::make_unique<catalog::HiveMetastoreClient>(std::move(client));
      }
      Status status = call(*client_);
      if (status.ok() || status.code() != StatusCode::kUnavailable || attempt > 0)
        return status;
      client_.reset();
    }
  }

  std::string uri_;
  TableDescription table_;
  catalog::HiveTableSpec spec_;
  std::unique_ptr<catalog::HiveMetastoreClient> client_;
};

// The writers of a job each add their partitions to the one DDL file: read, add, write back,
// one writer at a time (they run in one process; a file per table and job).
std::mutex& DdlFileMutex() {
  static std::mutex mutex;
  return mutex;
}

// No metastore: the statements go to a file beside the manifests, to run by hand.
class DdlFileCatalog final : public TableCatalog {
 public:
  DdlFileCatalog(TableDescription table, io::FileStore* store, const std::string& job)
      : table_(std::move(table)),
        spec_(SpecOf(table_)),
        store_(store),
        path_(ManifestDirectory(job) + fmt::format("{}.sql", table_.table)) {}

  Status RegisterTable() override {
    std::lock_guard<std::mutex> lock(DdlFileMutex());
    Result<std::string> existing = store_->ReadFile(path_);
    if (existing.ok())
      return Status::OK();  // kept with the partitions added so far
    if (existing.status().code() != StatusCode::kNotFound)
      return existing.status();
    std::string statement = catalog::CreateTableDdl(spec_);
    log::Info(fmt::format("sink:hive:{}", table_.table),
              "No metastore configured: the table's DDL is in {}", store_->Uri(path_));
    return store_->WriteFile(path_, statement + ";\n");
  }

  Status AddPartitions(const std::vector<std::string>& partitions) override {
    std::lock_guard<std::mutex> lock(DdlFileMutex());
    SLUICE_ASSIGN_OR_RETURN(std::string text, store_->ReadFile(path_));
    bool changed = false;
    for (const std::string& partition : partitions) {
      std::string statement = catalog::AddPartitionDdl(
                                  table_.database, table_.table, spec_.partition_keys,
                                  PartitionSpecOf(table_, partition)) +
                              ";\n";
      if (text.find(statement) != std::string::npos)
        continue;
      text += statement;
      changed = true;
    }
    return changed ? store_->WriteFile(path_, text) : Status::OK();
  }

 private:
  TableDescription table_;
  catalog::HiveTableSpec spec_;
  io::FileStore* store_;
  std::string path_;
};

}  // namespace

Result<std::unique_ptr<TableCatalog>> OpenTableCatalog(const HiveSinkOptions& options,
                                                       const TableDescription& table,
                                                       io::FileStore* store,
                                                       const std::string& job) {
  if (options.metastore_uri.empty())
    return std::unique_ptr<TableCatalog>(std::make_unique<DdlFileCatalog>(table, store, job));
  return std::unique_ptr<TableCatalog>(
      std::make_unique<MetastoreCatalog>(options.metastore_uri, table));
}

std::string CreateTableStatement(const TableDescription& table) {
  return catalog::CreateTableDdl(SpecOf(table));
}

}  // namespace sluice::connectors::hive
