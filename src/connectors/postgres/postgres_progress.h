// ProgressTable: the postgres sink's record of what each split of a job has committed, kept in
// the target database so that it can be written in the same transaction as the rows (exactly-once
// delivery, see api.h SinkWriter::Commit).
//
//   CREATE TABLE <progress_table> (job text, split_id text, position text NOT NULL,
//     done boolean NOT NULL, checkpoint bigint, updated_at timestamptz,
//     PRIMARY KEY (job, split_id))
//
// One table serves every job writing into the database; a job's rows are keyed by its name.
// Writers own distinct splits, so their upserts never touch the same row.
//
// A session-level advisory lock, derived from the table and the job, fences off sessions of an
// earlier run: every connection that commits progress holds it shared for its lifetime, and
// recovery (RecoverProgress / ForgetProgress) takes it exclusively. A run killed while its
// server session was still executing (a COMMIT already sent, say) thus cannot commit behind the
// back of the run that resumes it: recovery waits until the server has ended that session.
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
  /// `qualified` is "table" or "schema.table" (the sink's progress_table option).
  ProgressTable(const std::string& qualified, std::string job);

  /// schema.table.
  std::string Display() const { return schema_ + "." + table_; }
  const std::string& job() const { return job_; }

  /// Creates the schema and the table when missing. Tolerates another session creating them at
  /// the same moment (CREATE ... IF NOT EXISTS alone does not: the loser fails with a unique
  /// violation on the catalog). Runs outside any transaction of `conn`.
  Status Ensure(PgConnection& conn) const;
  Result<bool> Exists(PgConnection& conn) const;

  /// Upserts `progress` with `checkpoint`, inside the caller's open transaction.
  Status Upsert(PgConnection& conn, uint64_t checkpoint,
                const std::vector<SplitProgress>& progress) const;
  /// The job's rows, ordered by split id; empty when the table does not exist.
  Result<std::vector<SplitProgress>> Load(PgConnection& conn) const;
  /// Deletes the job's rows (in the caller's transaction, if any). Nothing when the table does
  /// not exist.
  Status Delete(PgConnection& conn) const;

  /// Takes the job's fence shared, for the session's lifetime (writers, the coordinator).
  Status HoldShared(PgConnection& conn) const;
  /// Takes the job's fence exclusively for the session's lifetime, waiting at most
  /// `timeout_secs` for sessions of an earlier run to end (then Aborted: transient).
  Status HoldExclusive(PgConnection& conn, int timeout_secs) const;

 private:
  std::string Quoted() const;
  // The advisory lock key: a stable 64-bit hash of the table and the job.
  int64_t LockKey() const;

  std::string schema_;
  std::string table_;
  std::string job_;
};

}  // namespace sluice::connectors::postgres
