#include "connectors/postgres/postgres_progress.h"

#include <fmt/core.h>

#include <algorithm>

#include "connectors/postgres/postgres_catalog.h"
#include "connectors/postgres/postgres_client.h"

namespace sluice::connectors::postgres {

namespace {

// Rows per upsert statement: keeps the parameter count far below the protocol's 65535.
constexpr size_t kRowsPerStatement = 1000;

}  // namespace

ProgressTable::ProgressTable(const std::string& qualified, std::string job) : job_(std::move(job)) {
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
      "PRIMARY KEY (job, split_id))",
      Quoted());
  for (int attempt = 0;; ++attempt) {
    SLUICE_ASSIGN_OR_RETURN(bool exists, Exists(conn));
    if (exists)
      return Status::OK();
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
    std::vector<std::optional<std::string>> params = {job_, std::to_string(checkpoint)};
    std::string values;
    for (size_t i = begin; i < end; ++i) {
      const SplitProgress& entry = progress[i];
      const size_t first = params.size() + 1;
      params.emplace_back(entry.split_id);
      params.emplace_back(entry.position);
      params.emplace_back(entry.done ? "true" : "false");
      if (!values.empty())
        values += ", ";
      values += fmt::format("($1, ${}, ${}, ${}::boolean, $2::bigint, statement_timestamp())",
                            first, first + 1, first + 2);
    }
    SLUICE_RETURN_IF_ERROR(conn.Execute(
        fmt::format("INSERT INTO {} (job, split_id, position, done, checkpoint, updated_at) "
                    "VALUES {} ON CONFLICT (job, split_id) DO UPDATE SET "
                    "position = EXCLUDED.position, done = EXCLUDED.done, "
                    "checkpoint = EXCLUDED.checkpoint, updated_at = EXCLUDED.updated_at",
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
                             "ORDER BY split_id",
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
      fmt::format("DELETE FROM {} WHERE job = $1", Quoted()),
      fmt::format("cannot delete the progress of job '{}' from '{}'", job_, Display()), {job_});
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
