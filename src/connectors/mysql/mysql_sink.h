// MysqlSink: writes streams into tables of a MySQL, MariaDB or MySQL-compatible database.
//
// Open() creates missing tables through the type mapping (mysql_types.h; the source's native
// MySQL type when the stream came from MySQL) or checks that an existing table has every stream
// column. Each writer has its own connection and transaction, committed every `commit_rows` rows
// and at Commit(). Rows are rendered from the batch's columns into a chunk of a few MB and sent
// with LOAD DATA LOCAL INFILE fed from memory (method load_data) or multi-row INSERTs (method
// insert). Modes:
//   append     rows go straight into the table;
//   upsert     rows go into a per-writer TEMPORARY staging table, merged at each commit with
//              INSERT ... SELECT ... ON DUPLICATE KEY UPDATE by the primary key;
//   overwrite  every writer loads `_sluice_staging_<table>`, created at Open(); Finish() swaps it
//              in with one atomic RENAME TABLE and drops the old table; Abort() drops staging.
// A row the server refuses (duplicate key in append, data too long, out of range: the session
// runs in strict mode) goes to the job's bad-record policy with the table and key; LOAD DATA
// LOCAL only warns about such rows, so a chunk with warnings is rolled back to its savepoint and
// replayed row by row to find them.
//
// Thread-safety: Open, Check, Finish and Abort run on the coordinator thread; CreateWriter may
// be called from any thread; each writer is driven by one thread with its own connection.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "config/options.h"
#include "connectors/api.h"
#include "connectors/mysql/mysql_options.h"

namespace sluice::connectors::mysql {

class Connection;

class MysqlSink final : public Sink {
 public:
  MysqlSink(MysqlSinkOptions options, config::Options config);
  ~MysqlSink() override;

  Status Open(const JobContext& context, const std::vector<StreamInfo>& streams) override;
  Status Check(const JobContext& context, const std::vector<StreamInfo>& streams,
               CheckReport* report) override;
  Result<std::unique_ptr<SinkWriter>> CreateWriter(int slot) override;
  Status Finish() override;
  void Abort() override;
  DeliveryGuarantee guarantee() const override { return DeliveryGuarantee::kAtLeastOnce; }

  /// Where one stream's rows go, fixed at Open.
  struct Target;

 private:
  Result<Target> PrepareTarget(Connection& db, const StreamInfo& stream, bool dry_run,
                               CheckReport* report);
  Status DropStagingTables();
  // method load_data needs the server's local_infile.
  Status CheckLocalInfile(Connection& db);
  // Tables created in a utf8mb4 database inherit its collation; elsewhere they say utf8mb4.
  Status ReadDatabaseCharset(Connection& db);

  MysqlSinkOptions options_;
  config::Options config_;
  const JobContext* context_ = nullptr;
  std::unique_ptr<Connection> db_;  // the coordinator's connection: DDL and the final swap
  std::shared_ptr<const std::vector<Target>> targets_;
  std::vector<std::string> staging_tables_;  // overwrite: created at Open, swapped at Finish
  bool finished_ = false;
  bool database_is_utf8mb4_ = false;
};

}  // namespace sluice::connectors::mysql
