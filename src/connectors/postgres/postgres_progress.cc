#include "connectors/postgres/postgres_progress.h"

#include <fmt/core.h>

#include <algorithm>

#include "connectors/postgres/postgres_catalog.h"
#include "connectors/postgres/postgres_client.h"
#include "core/logging.h"

namespace sluice::connectors::postgres {

namespace {

// Rows per upsert statement: keeps the parameter count far below the protocol's 65535.
constexpr size_t kRowsPerStatement = 1000;

}  // namespace

ProgressTable::ProgressTable(const std::string& qualified, std::string job, uint64_t epoch)
    : job_(std::move(job)), epoch_(epoch) {
  std::tie(schema_, table_) = SplitQualifiedName(qualified);
}

std::string ProgressTable::Quoted() const {
  return QuoteQualified(schema_, table_);
}

int64_t ProgressTable::LockKey() const {
  // FNV-1a: stable across builds and platforms (std::hash is not), so that every version of
  // Sluice fences the same job with the same key.
  uint64_t hash = 0xcbf29ce484222325ULL;
  auto byte = [&](unsigned char c) {
    hash ^= c;
    hash *= 0x100000001b3ULL;
  };
  auto mix = [&](std::string_view part) {
    for (char c : part)
      byte(static_cast<unsigned char>(c));
    byte(0);  // a separator, so that ("ab", "c") and ("a", "bc") differ
  };
  mix("sluice progress");
  mix(schema_);
  mix(table_);
  mix(job_);
  return static_cast<int64_t>(hash);
}

Result<bool> ProgressTable::Exists(PgConnection& conn) const {
  SLUICE_ASSIGN_OR_RETURN(
      PgResult result,
      conn.Query("SELECT to_regclass($1) IS NOT NULL",
                 fmt::format("cannot look up the progress table '{}'", Display()), {Quoted()}));
  return result.rows() == 1 && result.Value(0, 0) == "t";
}

Status ProgressTable::Ensure(PgConnection& conn) const {
  const std::string what = fmt::format("cannot create the progress table '{}'", Display());
  const std::string create = fmt::format(
      "CREATE TABLE IF NOT EXISTS {} (job text, split_id text, position text NOT NULL, "
      "done boolean NOT NULL, checkpoint bigint, updated_at timestamptz, "
      "epoch bigint NOT NULL DEFAULT 0, PRIMARY KEY (job, split_id))",
      Quoted());
  // A table an older Sluice created has no epoch column yet. Looked up first: ALTER needs the
  // table's ownership, which a user given the table may lack.
  auto ensure_epoch = [&]() -> Status {
    SLUICE_ASSIGN_OR_RETURN(
        PgResult found,
        conn.Query("SELECT 1 FROM pg_attribute WHERE attrelid = to_regclass($1) AND attname = "
                   "'epoch' AND NOT attisdropped",
                   what, {Quoted()}));
    if (found.rows() > 0)
      return Status::OK();
    return conn.Execute(
        fmt::format("ALTER TABLE {} ADD COLUMN IF NOT EXISTS epoch bigint NOT NULL DEFAULT 0",
                    Quoted()),
        what);
  };
  for (int attempt = 0;; ++attempt) {
    SLUICE_ASSIGN_OR_RETURN(bool exists, Exists(conn));
    if (exists)
      return ensure_epoch();
    Status status;
    if (schema_ != "public") {
      status = conn.Execute(fmt::format("CREATE SCHEMA IF NOT EXISTS {}", QuoteIdentifier(schema_)),
                            what);
    }
    if (status.ok())
      status = conn.Execute(create, what);
    if (status.ok())
      return Status::OK();
    // Two sessions creating the same schema or table at once: the loser fails on a catalog
    // unique index although IF NOT EXISTS was given. The next round finds what the winner made.
    SLUICE_ASSIGN_OR_RETURN(exists, Exists(conn));
    if (exists)
      return Status::OK();
    if (attempt >= 2)
      return status;
  }
}

Status ProgressTable::Upsert(PgConnection& conn, uint64_t checkpoint,
                             const std::vector<SplitProgress>& progress) const {
  const std::string what =
      fmt::format("cannot record progress in '{}' for job '{}'", Display(), job_);
  for (size_t begin = 0; begin < progress.size(); begin += kRowsPerStatement) {
    const size_t end = std::min(progress.size(), begin + kRowsPerStatement);
    std::vector<std::optional<std::string>> params = {job_, std::to_string(checkpoint),
                                                      std::to_string(epoch_)};
    std::string values;
    for (size_t i = begin; i < end; ++i) {
      const SplitProgress& entry = progress[i];
      const size_t first = params.size() + 1;
      params.emplace_back(entry.split_id);
      params.emplace_back(entry.position);
      params.emplace_back(entry.done ? "true" : "false");
      if (!values.empty())
        values += ", ";
      values += fmt::format(
          "($1, ${}, ${}, ${}::boolean, $2::bigint, statement_timestamp(), $3::bigint)", first,
          first + 1, first + 2);
    }
    SLUICE_RETURN_IF_ERROR(conn.Execute(
        fmt::format("INSERT INTO {} (job, split_id, position, done, checkpoint, updated_at, "
                    "epoch) VALUES {} ON CONFLICT (job, split_id) DO UPDATE SET "
                    "position = EXCLUDED.position, done = EXCLUDED.done, "
                    "checkpoint = EXCLUDED.checkpoint, updated_at = EXCLUDED.updated_at, "
                    "epoch = EXCLUDED.epoch",
                    Quoted(), values),
        what, params));
  }
  return Status::OK();
}

Result<std::vector<SplitProgress>> ProgressTable::Load(PgConnection& conn) const {
  std::vector<SplitProgress> out;
  SLUICE_ASSIGN_OR_RETURN(bool exists, Exists(conn));
  if (!exists)
    return out;
  SLUICE_ASSIGN_OR_RETURN(
      PgResult result,
      conn.Query(fmt::format("SELECT split_id, position, done FROM {} WHERE job = $1 "
                             "AND split_id <> '' ORDER BY split_id",
                             Quoted()),
                 fmt::format("cannot read progress from '{}' for job '{}'", Display(), job_),
                 {job_}));
  for (int r = 0; r < result.rows(); ++r) {
    out.push_back(SplitProgress{result.Text(r, 0), result.Text(r, 1), result.Value(r, 2) == "t"});
  }
  return out;
}

Status ProgressTable::Delete(PgConnection& conn) const {
  SLUICE_ASSIGN_OR_RETURN(bool exists, Exists(conn));
  if (!exists)
    return Status::OK();
  return conn.Execute(
      fmt::format("DELETE FROM {} WHERE job = $1 AND split_id <> ''", Quoted()),
      fmt::format("cannot delete the progress of job '{}' from '{}'", job_, Display()), {job_});
}

Status ProgressTable::StoreEpoch(PgConnection& conn, const std::string& owner,
                                 std::string_view where) const {
  const std::string what = fmt::format("cannot claim '{}' for job '{}'", Display(), job_);
  SLUICE_RETURN_IF_ERROR(conn.Execute("BEGIN", what));
  Status stored = [&]() -> Status {
    SLUICE_ASSIGN_OR_RETURN(
        PgResult current,
        conn.Query(fmt::format("SELECT epoch FROM {} WHERE job = $1 AND split_id = '' FOR UPDATE",
                               Quoted()),
                   what, {job_}));
    uint64_t newest = current.rows() > 0 ? std::stoull(current.Text(0, 0)) : 0;
    if (newest > epoch_)
      return FencedOff(job_, where, epoch_, newest);
    const uint64_t epoch = epoch_;
    SLUICE_RETURN_IF_ERROR(conn.Execute(
        fmt::format("INSERT INTO {} (job, split_id, position, done, checkpoint, updated_at, "
                    "epoch) VALUES ($1, '', $2, false, 0, statement_timestamp(), $3::bigint) ON "
                    "CONFLICT (job, split_id) DO UPDATE SET position = EXCLUDED.position, "
                    "updated_at = EXCLUDED.updated_at, epoch = EXCLUDED.epoch",
                    Quoted()),
        what, {job_, owner, std::to_string(epoch)}));
    return conn.Commit(what);
  }();
  if (!stored.ok() && conn.InTransaction())
    (void)conn.Execute("ROLLBACK", "");
  return stored;
}

Status ProgressTable::CheckNotOvertaken(PgConnection& conn, std::string_view where) const {
  SLUICE_ASSIGN_OR_RETURN(
      PgResult current,
      conn.Query(fmt::format("SELECT epoch FROM {} WHERE job = $1 AND split_id = ''", Quoted()),
                 fmt::format("cannot read the run epoch of job '{}' from '{}'", job_, Display()),
                 {job_}));
  uint64_t stored = current.rows() > 0 ? std::stoull(current.Text(0, 0)) : 0;
  if (stored > epoch_)
    return FencedOff(job_, where, epoch_, stored);
  return Status::OK();
}

Status ProgressTable::CheckEpoch(PgConnection& conn, std::string_view where) const {
  if (epoch_ == 0)
    return Status::OK();
  SLUICE_ASSIGN_OR_RETURN(
      PgResult current,
      conn.Query(
          fmt::format("SELECT epoch FROM {} WHERE job = $1 AND split_id = '' FOR SHARE", Quoted()),
          fmt::format("cannot read the run epoch of job '{}' from '{}'", job_, Display()),
          {job_}));
  uint64_t stored = current.rows() > 0 ? std::stoull(current.Text(0, 0)) : 0;
  if (stored == epoch_)
    return Status::OK();
  return FencedOff(job_, where, epoch_, stored);
}

Status ProgressTable::TakeOver(PgConnection& conn, int patience_secs) const {
  Status waited = HoldExclusive(conn, patience_secs);
  if (waited.ok() || waited.code() != StatusCode::kAborted)
    return waited;
  // Sessions of a run that lost the job (frozen, cut off) hold the lock shared: end them. The
  // advisory key's two halves show in pg_locks as classid and objid.
  uint64_t key = static_cast<uint64_t>(LockKey());
  SLUICE_ASSIGN_OR_RETURN(
      PgResult ended,
      conn.Query("SELECT count(pg_terminate_backend(pid)) FROM pg_locks WHERE locktype = "
                 "'advisory' AND classid = $1::bigint::oid AND objid = $2::bigint::oid AND "
                 "objsubid = 1 AND pid <> pg_backend_pid()",
                 fmt::format("cannot end the sessions of an earlier run of job '{}'", job_),
                 {std::to_string(key >> 32), std::to_string(key & 0xffffffffULL)}));
  log::Info("sink:postgres",
            "Ended {} session(s) that an earlier run of job '{}' still held open (their "
            "uncommitted rows are rolled back)",
            ended.rows() > 0 ? ended.Text(0, 0) : "0", job_);
  return HoldExclusive(conn, 300);
}

Status ProgressTable::HoldShared(PgConnection& conn) const {
  return conn
      .Query("SELECT pg_advisory_lock_shared($1::bigint)",
             fmt::format("cannot take the progress lock of job '{}'", job_),
             {std::to_string(LockKey())})
      .status();
}

Status ProgressTable::HoldExclusive(PgConnection& conn, int timeout_secs) const {
  SLUICE_RETURN_IF_ERROR(conn.Execute(fmt::format("SET lock_timeout = '{}s'", timeout_secs),
                                      "cannot set lock_timeout"));
  Status status =
      conn.Query("SELECT pg_advisory_lock($1::bigint)",
                 fmt::format("sessions of an earlier run of job '{}' are still open on the "
                             "server (waited {} s for them to end)",
                             job_, timeout_secs),
                 {std::to_string(LockKey())})
          .status();
  SLUICE_RETURN_IF_ERROR(status);
  return conn.Execute("RESET lock_timeout", "cannot reset lock_timeout");
}

}  // namespace sluice::connectors::postgres
