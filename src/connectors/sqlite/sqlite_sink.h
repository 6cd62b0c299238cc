// SqliteSink: writes streams into tables of a SQLite database file (created when missing).
//
// Open() creates the file, its directories and the tables (through the type mapping in
// sqlite_types.h), or checks an existing table's columns against the stream. SQLite has one
// writer at a time, so there is one SinkWriter: it inserts through cached multi-row INSERT
// statements bound straight from the batch's columns and commits every `commit_rows` rows and at
// Commit(). With mode overwrite rows go into a staging table `_sluice_staging_<table>` that
// Finish() swaps in, in one transaction, so readers see the old table or the new one, never a
// half-loaded one; Abort() drops the staging table and leaves the old data intact.
//
// Thread-safety: Open, Check, Finish and Abort run on the coordinator thread; CreateWriter may
// be called from any thread; the writer is driven by one thread. Each uses its own connection.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "config/options.h"
#include "connectors/api.h"
#include "connectors/sqlite/sqlite_client.h"
#include "connectors/sqlite/sqlite_options.h"

namespace sluice::connectors::sqlite {

class SqliteSink final : public Sink {
 public:
  /// `config` is kept to point config errors found at Open (a missing column) at the job file.
  SqliteSink(SqliteSinkOptions options, config::Options config);
  ~SqliteSink() override;

  Status Open(const JobContext& context, const std::vector<StreamInfo>& streams) override;
  Status Check(const JobContext& context, const std::vector<StreamInfo>& streams,
               CheckReport* report) override;
  int max_writers() const override { return 1; }
  Result<std::unique_ptr<SinkWriter>> CreateWriter(int slot) override;
  Status Finish() override;
  void Abort() override;
  DeliveryGuarantee guarantee() const override { return DeliveryGuarantee::kAtLeastOnce; }

  /// Where one stream's rows go, fixed at Open.
  struct Target;
  /// A staging table to swap in at Finish.
  struct Swap;

 private:
  // Resolves the target of `stream` and checks it against the stream. Unless `dry_run`, also
  // creates the table (or the staging table) on `db`, which must be in a write transaction.
  Result<Target> PrepareTarget(Connection& db, const StreamInfo& stream, bool dry_run,
                               CheckReport* report);
  Status DropStagingTables();

  SqliteSinkOptions options_;
  config::Options config_;
  JobContext context_;
  std::optional<Connection> db_;  // the coordinator's connection: DDL and the final swap
  std::shared_ptr<const std::vector<Target>> targets_;  // one per stream
  std::vector<Swap> swaps_;
  bool finished_ = false;
};

}  // namespace sluice::connectors::sqlite
