// PostgresSink: writes streams into PostgreSQL tables through binary COPY.
//
// Open() resolves each stream's target table (`table`, "{stream}" substituted, "schema.table"
// allowed), creates it when missing (`create`, through docs/TYPE_MAPPING.md; a source's native
// PostgreSQL type is kept when the target server knows it and it reads back as the same logical
// type) or checks an existing table's columns against the stream, and picks a binary encoder per
// column (postgres_types.h). Each writer has its own connection and transaction and streams
// rows with COPY ... FROM STDIN (FORMAT binary), encoding values straight from the batch's
// columns into large CopyData chunks. Under at_least_once delivery it commits every
// `commit_rows` rows and at Commit(); under exactly_once only at Commit(), where the rows and the
// progress of their splits (postgres_progress.h) become durable in one transaction.
//
// Modes:
//   append     COPY into the table.
//   upsert     COPY into a per-writer TEMP staging table, then INSERT ... SELECT ... ON CONFLICT
//              (key) DO UPDATE SET c = EXCLUDED.c, ... (the last row of a key wins).
//   apply      changelogs (connectors/sql/changelog_apply.h): each batch folded to its keys'
//              last changes in memory, COPY into the TEMP staging table with an op column
//              (a delete carries its key only), then per commit, from each key's last change:
//              DELETE ... USING the deleted keys and INSERT ... ON CONFLICT DO UPDATE the rest.
//              A changelog stream in any other mode is refused at Open.
//   overwrite  every writer loads `_sluice_staging_<table>`, created by Open() (kept as it is
//              when the run resumes an earlier one); Finish() swaps it in, in one transaction
//              for all streams (DROP old; RENAME staging; index names fixed up; sequences owned
//              by the old table handed over); Abort() keeps it for the resumed run and leaves
//              the old table untouched.
// Columns whose target type has no binary encoder for the incoming values (a string into an
// interval, inet, array or tsvector column) also go through a per-writer staging table, loaded
// as text and cast by the server.
//
// Bad values (a NUL byte in text, a number out of range, a time beyond 24:00 for a time column)
// go to the job's bad-record policy with the table, column and row named.
//
// Exactly-once (README.md, "Guarantees"): the progress table is the sink's own record of what
// each split committed; RecoverProgress reads it on resume, ForgetProgress clears it for a fresh
// run, and Finish leaves it in place (every split done) so that a run resumed after Finish has
// nothing left to load.
//
// Thread-safety: Open, Check, Finish and Abort run on the coordinator thread; CreateWriter may
// be called from any thread; each writer is driven by one thread.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "config/options.h"
#include "connectors/api.h"
#include "connectors/postgres/postgres_options.h"

namespace sluice::connectors::postgres {

class PgConnection;
class ProgressTable;

class PostgresSink final : public Sink {
 public:
  /// `config` is kept to point config errors found at Open (a missing column) at the job file.
  PostgresSink(PostgresSinkOptions options, config::Options config);
  ~PostgresSink() override;

  Status Open(const JobContext& context, const std::vector<StreamInfo>& streams) override;
  Status Check(const JobContext& context, const std::vector<StreamInfo>& streams,
               CheckReport* report) override;
  Result<std::unique_ptr<SinkWriter>> CreateWriter(int slot) override;
  Status Finish() override;
  void Abort() override;
  DeliveryGuarantee guarantee() const override { return DeliveryGuarantee::kExactlyOnce; }
  /// Waits for sessions of earlier runs of the job to end (see postgres_progress.h), then reads
  /// the job's rows of the progress table. Connects on its own.
  Result<std::vector<SplitProgress>> RecoverProgress(const JobContext& context) override;
  /// Deletes the job's rows of the progress table. Connects on its own.
  Status ForgetProgress(const JobContext& context) override;
  /// append: refuses when a target table holds rows.
  Status CheckFreshStart(const JobContext& context,
                         const std::vector<StreamInfo>& streams) override;
  /// append, upsert: refuses a target table that is gone or empty (not apply: deletes may have
  /// emptied it).
  Status CheckCommittedTargets(const JobContext& context,
                               const std::vector<StreamInfo>& streams) override;
  /// Ends the sessions of earlier runs (after a moment's patience), creates the progress table
  /// and stores the run's epoch there; writers and the swap check it before they commit.
  Status Claim(const JobContext& context) override;

  /// Where one stream's rows go, fixed at Open.
  struct Target;

 private:
  // Resolves the target of `stream` and checks it. Unless `dry_run`, also creates the table or
  // the staging table.
  Result<Target> PrepareTarget(PgConnection& conn, const StreamInfo& stream, bool dry_run,
                               CheckReport* report);
  Status DropStagingTables();
  bool exactly_once() const;
  // Under exactly-once, a stream may not target the progress table itself.
  Status CheckNotProgressTable(const JobContext& context, const StreamInfo& stream) const;
  // Swaps the staging tables in (overwrite), in the coordinator's open transaction.
  Status Swap();

  PostgresSinkOptions options_;
  config::Options config_;
  const JobContext* context_ = nullptr;
  std::unique_ptr<PgConnection> conn_;                  // the coordinator's: DDL and the final swap
  std::shared_ptr<const std::vector<Target>> targets_;  // one per stream
  /// Where progress is committed with the rows; null under at_least_once delivery.
  std::shared_ptr<const ProgressTable> progress_;
  /// overwrite, resuming: the staging tables are gone because an earlier run already swapped
  /// them in (it stopped between Finish and recording its success).
  bool published_ = false;
  bool finished_ = false;
  uint64_t run_epoch_ = 0;  // set by Claim (exactly-once)
};

}  // namespace sluice::connectors::postgres
