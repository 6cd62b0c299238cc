// SqliteSink: writes streams into tables of a SQLite database file (created when missing).
//
// Open() creates the file, its directories and the tables (through the type mapping in
// sqlite_types.h), or checks an existing table's columns against the stream. SQLite has one
// writer at a time, so there is one SinkWriter: it inserts through cached multi-row INSERT
// statements bound straight from the batch's columns.
//
// Exactly-once (JobContext::delivery == kExactlyOnce, the default): the writer keeps one
// transaction open from its first row after a Commit() to the next Commit(), which upserts the
// checkpoint's SplitProgress into `_sluice_progress` (job, split_id, position, done, checkpoint,
// epoch) in that same transaction, so rows and progress become durable together or not at all.
// Claim() stores the run's epoch (the row with split id ""); every commit and the overwrite
// swap check it inside their transaction, so a run that a newer run took over cannot commit.
// RecoverProgress() reads that table back (SQLite rolls back whatever a crash left half-done
// when the file is opened); ForgetProgress() deletes the job's rows there. At-least-once: the
// writer also commits every `commit_rows` rows and stores no progress.
//
// With mode overwrite rows go into a staging table `_sluice_staging_<table>` that Finish()
// swaps in, in one transaction that also deletes the job's progress, so readers see the old
// table or the new one, never a half-loaded one. The staging table outlives a failed or stopped
// run (Abort() keeps it) and a resumed run (JobContext::resuming) keeps loading it; a fresh run
// recreates it empty.
//
// Thread-safety: Open, Check, Finish, Abort, RecoverProgress and ForgetProgress run on the
// coordinator thread; CreateWriter may be called from any thread; the writer is driven by one
// thread. Each uses its own connection.
// Lifetime: writers share the targets with the sink (shared_ptr) and may outlive it.
#pragma once

#include <memory>
#include <optional>
#include <set>
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
  /// Releases the connection. Keeps the staging tables and the committed progress, which a
  /// resumed run continues from.
  void Abort() override;
  DeliveryGuarantee guarantee() const override { return DeliveryGuarantee::kExactlyOnce; }
  /// The job's rows of `_sluice_progress`; none when the file or the table does not exist.
  Result<std::vector<SplitProgress>> RecoverProgress(const JobContext& context) override;
  /// Deletes the job's rows of `_sluice_progress` (a fresh Open recreates staging tables).
  Status ForgetProgress(const JobContext& context) override;
  /// Stores the run's epoch in `_sluice_progress` (creating the file and the table when
  /// missing); the writer's commits and the overwrite swap check it in their transactions.
  Status Claim(const JobContext& context) override;

  /// Where one stream's rows go, fixed at Open.
  struct Target;
  /// A staging table to swap in at Finish.
  struct Swap;

 private:
  // Resolves the target of `stream` and checks it against the stream. Unless `dry_run`, also
  // creates the table (or the staging table) on `db`, which must be in a write transaction.
  Result<Target> PrepareTarget(Connection& db, const StreamInfo& stream, bool dry_run,
                               CheckReport* report);
  // Records the swap of `target`'s staging table: a fresh run (re)creates it with
  // `create_sql`; a resumed run keeps the one the earlier run loaded, or marks the target
  // published when that run already swapped it in.
  Status PrepareStaging(Connection& db, const std::string& create_sql,
                        std::vector<std::string> dependents, Target* target);

  // Creates the file and its directories when missing; a read-write connection configured for
  // writing.
  Result<Connection> OpenForWriting() const;

  SqliteSinkOptions options_;
  config::Options config_;
  uint64_t run_epoch_ = 0;  // set by Claim (exactly-once)
  JobContext context_;
  std::optional<Connection> db_;  // the coordinator's connection: DDL and the final swap
  std::shared_ptr<const std::vector<Target>> targets_;  // one per stream
  std::vector<Swap> swaps_;
  std::set<std::string> published_staging_;  // staging tables an earlier run already swapped in
};

}  // namespace sluice::connectors::sqlite
