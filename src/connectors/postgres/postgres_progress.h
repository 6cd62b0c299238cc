// ProgressTable: the postgres sink's record of what each split of a job has committed, kept in
// the target database so that it can be written in the same transaction as the rows (exactly-once
// delivery, see api.h SinkWriter::Commit).
//
//   CREATE TABLE <progress_table> (job text, split_id text, position text NOT NULL,
//     done boolean NOT NULL, checkpoint bigint, updated_at timestamptz,
//     epoch bigint NOT NULL DEFAULT 0, PRIMARY KEY (job, split_id))
//
// One table serves every job writing into the database; a job's rows are keyed by its name.
// Writers own distinct splits, so their upserts never touch the same row.
//
// Run epochs fence off earlier runs (Sink::Claim): the row with split id "" holds the job's
// current run epoch, every progress row the epoch of the run that committed it. A commit reads
// the current epoch FOR SHARE in its transaction and refuses to commit when it is no longer its
// own; a claim raises it FOR UPDATE, so it waits for commits in flight.
//
// A session-level advisory lock, derived from the table and the job, finds the sessions of
// earlier runs: every connection that commits progress holds it shared for its lifetime. A claim
// (and, unclaimed, recovery) takes it exclusively: it waits a moment for those sessions to end
// (a killed run's COMMIT may still be executing on the server) and then terminates the ones
// left (a run taken over while frozen holds them open).
//
// Thread-safety: immutable after construction; each call uses the caller's connection.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "connectors/api.h"
#include "core/result.h"

namespace sluice::connectors::postgres {

class PgConnection;

class ProgressTable {
 public:
  /// `qualified` is "table" or "schema.table" (the sink's progress_table option); `epoch` is the
  /// run epoch Claim() got (0: not claimed, commits unchecked).
  ProgressTable(const std::string& qualified, std::string job, uint64_t epoch = 0);

  /// schema.table.
  std::string Display() const { return schema_ + "." + table_; }
  const std::string& job() const { return job_; }

  /// Creates the schema and the table when missing, and adds the epoch column to a table an
  /// older Sluice created. Tolerates another session creating them at the same moment (CREATE
  /// ... IF NOT EXISTS alone does not: the loser fails with a unique violation on the catalog).
  /// Runs outside any transaction of `conn`.
  Status Ensure(PgConnection& conn) const;
  Result<bool> Exists(PgConnection& conn) const;

  /// Upserts `progress` with `checkpoint` and this run's epoch, inside the caller's open
  /// transaction.
  Status Upsert(PgConnection& conn, uint64_t checkpoint,
                const std::vector<SplitProgress>& progress) const;
  /// The job's splits' rows, ordered by split id; empty when the table does not exist.
  Result<std::vector<SplitProgress>> Load(PgConnection& conn) const;
  /// Deletes the job's splits' rows, keeping its run epoch (in the caller's transaction, if
  /// any). Nothing when the table does not exist.
  Status Delete(PgConnection& conn) const;

  /// Stores this object's run epoch and `owner` beside it, unless a higher epoch is stored (a
  /// newer run claimed the job: FencedOff naming `where`). The table must exist; runs its own
  /// transaction.
  Status StoreEpoch(PgConnection& conn, const std::string& owner, std::string_view where) const;
  /// FencedOff (naming `where`) when a newer run than this object's has claimed the job; OK
  /// otherwise (a quick look, without locks: a claim looks first, before it ends any session).
  Status CheckNotOvertaken(PgConnection& conn, std::string_view where) const;
  /// Inside the caller's transaction: OK while the job's run epoch is still this object's,
  /// FencedOff once a newer run claimed the job (`where` names the target). Nothing to check
  /// when not claimed.
  Status CheckEpoch(PgConnection& conn, std::string_view where) const;

  /// Takes the job's fence shared, for the session's lifetime (writers, the coordinator).
  Status HoldShared(PgConnection& conn) const;
  /// Takes the job's fence exclusively for the session's lifetime, waiting at most
  /// `timeout_secs` for sessions of an earlier run to end (then Aborted: transient).
  Status HoldExclusive(PgConnection& conn, int timeout_secs) const;
  /// HoldExclusive, but sessions of earlier runs still there after `patience_secs` are
  /// terminated (they belong to runs that lost the job) and waited for.
  Status TakeOver(PgConnection& conn, int patience_secs) const;

 private:
  std::string Quoted() const;
  // The advisory lock key: a stable 64-bit hash of the table and the job.
  int64_t LockKey() const;

  std::string schema_;
  std::string table_;
  std::string job_;
  uint64_t epoch_;
};

}  // namespace sluice::connectors::postgres
