#include <fmt/core.h>
#include <sqlite3.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <map>
#include <mutex>

#include "connectors/sqlite/sqlite_client.h"
#include "state/state_store.h"

namespace sluice::state {

namespace {

using connectors::sqlite::Connection;
using connectors::sqlite::Statement;

constexpr std::string_view kSchema = R"sql(
CREATE TABLE IF NOT EXISTS sluice_jobs (
  job TEXT PRIMARY KEY,
  fingerprint TEXT NOT NULL,
  status TEXT NOT NULL,
  checkpoint INTEGER NOT NULL DEFAULT 0,
  bad_records INTEGER NOT NULL DEFAULT 0,
  updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%f', 'now'))
);
CREATE TABLE IF NOT EXISTS sluice_splits (
  job TEXT NOT NULL,
  seq INTEGER NOT NULL,
  id TEXT NOT NULL,
  stream INTEGER NOT NULL,
  payload TEXT NOT NULL,
  estimated_rows INTEGER,
  estimated_bytes INTEGER,
  PRIMARY KEY (job, id)
);
CREATE TABLE IF NOT EXISTS sluice_runs (
  job TEXT PRIMARY KEY,
  epoch INTEGER NOT NULL,
  host TEXT NOT NULL,
  pid INTEGER NOT NULL,
  process_space TEXT NOT NULL,
  process_start INTEGER NOT NULL,
  started_at TEXT NOT NULL,
  renewed_at REAL,
  released INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS sluice_source_state (
  job TEXT PRIMARY KEY,
  checkpoint INTEGER NOT NULL,
  state TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS sluice_progress (
  job TEXT NOT NULL,
  split_id TEXT NOT NULL,
  position TEXT NOT NULL,
  done INTEGER NOT NULL,
  checkpoint INTEGER NOT NULL,
  PRIMARY KEY (job, split_id)
);
)sql";

JobStatus ParseStatus(std::string_view text) {
  if (text == "succeeded")
    return JobStatus::kSucceeded;
  if (text == "failed")
    return JobStatus::kFailed;
  if (text == "interrupted")
    return JobStatus::kInterrupted;
  if (text == "finishing")
    return JobStatus::kFinishing;
  return JobStatus::kRunning;
}

void BindText(sqlite3_stmt* statement, int index, std::string_view text) {
  sqlite3_bind_text(statement, index, text.data(), static_cast<int>(text.size()), SQLITE_TRANSIENT);
}

void BindOptional(sqlite3_stmt* statement, int index, const std::optional<uint64_t>& value) {
  if (value) {
    sqlite3_bind_int64(statement, index, static_cast<sqlite3_int64>(*value));
  } else {
    sqlite3_bind_null(statement, index);
  }
}

std::string ColumnText(sqlite3_stmt* statement, int index) {
  const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(statement, index));
  return text ? std::string(text, static_cast<size_t>(sqlite3_column_bytes(statement, index)))
              : std::string();
}

// Seconds since the Unix epoch, with fractions, by SQLite's clock.
constexpr std::string_view kNow = "((julianday('now') - 2440587.5) * 86400.0)";

class SqliteStateStore final : public StateStore {
 public:
  explicit SqliteStateStore(Connection db) : db_(std::move(db)) {}

  Result<RunClaim> AcquireRun(const std::string& job, const RunOwner& owner,
                              double lease_secs) override {
    std::lock_guard<std::mutex> lock(mutex_);
    // A look first, without the write lock (WAL readers never wait): a job held by a live run is
    // reported at once, even while that run (frozen, say) holds the store's write lock.
    {
      SLUICE_ASSIGN_OR_RETURN(std::optional<StoredRun> current, LoadRun(job));
      if (current && HeldFor(*current, owner, lease_secs))
        return RunClaim{std::nullopt, current->holder};
    }
    LeaseWrites fast(db_);
    SLUICE_RETURN_IF_ERROR(db_.Execute("BEGIN IMMEDIATE", "state: take the job's lease"));
    RunClaim claim;
    Status status = [&]() -> Status {
      SLUICE_ASSIGN_OR_RETURN(std::optional<StoredRun> current, LoadRun(job));
      // Microseconds of the wall clock, and always above the last epoch: epochs also rise
      // across state stores (a deleted one, a second one), so a sink that fences by them never
      // sees a newer run with a lower epoch than an older one.
      uint64_t epoch = static_cast<uint64_t>(
          std::chrono::duration_cast<std::chrono::microseconds>(
              std::chrono::system_clock::now().time_since_epoch())
              .count());
      if (current) {
        epoch = std::max(epoch, current->holder.epoch + 1);
        if (!current->released && !current->holder.owner.KnownGone(owner)) {
          if (HeldFor(*current, owner, lease_secs)) {
            claim.holder = current->holder;
            return Status::OK();
          }
          claim.lease.emplace();
          claim.lease->took_over_from = current->holder.owner;
        }
      }
      if (!claim.lease)
        claim.lease.emplace();
      claim.lease->epoch = epoch;
      SLUICE_ASSIGN_OR_RETURN(
          Statement statement,
          db_.Prepare(fmt::format("INSERT OR REPLACE INTO sluice_runs (job, epoch, host, pid, "
                                  "process_space, process_start, started_at, renewed_at, "
                                  "released) VALUES (?, ?, ?, ?, ?, ?, ?, {}, 0)",
                                  kNow),
                      "state: take the job's lease"));
      BindText(statement.get(), 1, job);
      sqlite3_bind_int64(statement.get(), 2, static_cast<sqlite3_int64>(epoch));
      BindText(statement.get(), 3, owner.host);
      sqlite3_bind_int64(statement.get(), 4, owner.pid);
      BindText(statement.get(), 5, owner.process_space);
      sqlite3_bind_int64(statement.get(), 6, static_cast<sqlite3_int64>(owner.process_start));
      BindText(statement.get(), 7, owner.started_at);
      int rc = sqlite3_step(statement.get());
      if (rc != SQLITE_DONE)
        return db_.Error(rc, "state: take the job's lease");
      return Status::OK();
    }();
    SLUICE_RETURN_IF_ERROR(Finish(std::move(status)));
    if (claim.lease)
      leases_[job] = claim.lease->epoch;
    return claim;
  }

  Status RenewRun(const std::string& job) override {
    std::lock_guard<std::mutex> lock(mutex_);
    LeaseWrites fast(db_);
    SLUICE_RETURN_IF_ERROR(db_.Execute("BEGIN IMMEDIATE", "state: renew the job's lease"));
    Status status = [&]() -> Status {
      SLUICE_RETURN_IF_ERROR(CheckLease(job));
      return Run(fmt::format("UPDATE sluice_runs SET renewed_at = {} WHERE job = ?", kNow), {job});
    }();
    return Finish(std::move(status));
  }

  Status ReleaseRun(const std::string& job) override {
    std::lock_guard<std::mutex> lock(mutex_);
    auto lease = leases_.find(job);
    if (lease == leases_.end())
      return Status::OK();
    LeaseWrites fast(db_);
    Status status =
        Run(fmt::format("UPDATE sluice_runs SET released = 1, renewed_at = NULL WHERE job = ? AND "
                        "epoch = {}",
                        lease->second),
            {job});
    leases_.erase(lease);
    return status;
  }

  Result<std::optional<JobState>> Load(const std::string& job) override {
    std::lock_guard<std::mutex> lock(mutex_);
    JobState state;
    state.job = job;
    {
      SLUICE_ASSIGN_OR_RETURN(Statement statement,
                              db_.Prepare("SELECT fingerprint, status, checkpoint, bad_records "
                                          "FROM sluice_jobs WHERE job = ?",
                                          "state: load job"));
      BindText(statement.get(), 1, job);
      int rc = sqlite3_step(statement.get());
      if (rc == SQLITE_DONE)
        return std::optional<JobState>();
      if (rc != SQLITE_ROW)
        return db_.Error(rc, "state: load job");
      state.fingerprint = ColumnText(statement.get(), 0);
      state.status = ParseStatus(ColumnText(statement.get(), 1));
      state.checkpoint = static_cast<uint64_t>(sqlite3_column_int64(statement.get(), 2));
      state.bad_records = static_cast<uint64_t>(sqlite3_column_int64(statement.get(), 3));
    }
    {
      SLUICE_ASSIGN_OR_RETURN(
          Statement statement,
          db_.Prepare("SELECT id, stream, payload, estimated_rows, estimated_bytes FROM "
                      "sluice_splits WHERE job = ? ORDER BY seq",
                      "state: load splits"));
      BindText(statement.get(), 1, job);
      int rc;
      while ((rc = sqlite3_step(statement.get())) == SQLITE_ROW) {
        connectors::Split split;
        split.id = ColumnText(statement.get(), 0);
        split.stream = sqlite3_column_int(statement.get(), 1);
        split.payload = ColumnText(statement.get(), 2);
        if (sqlite3_column_type(statement.get(), 3) != SQLITE_NULL) {
          split.estimated_rows = static_cast<uint64_t>(sqlite3_column_int64(statement.get(), 3));
        }
        if (sqlite3_column_type(statement.get(), 4) != SQLITE_NULL) {
          split.estimated_bytes = static_cast<uint64_t>(sqlite3_column_int64(statement.get(), 4));
        }
        state.splits.push_back(std::move(split));
      }
      if (rc != SQLITE_DONE)
        return db_.Error(rc, "state: load splits");
    }
    {
      SLUICE_ASSIGN_OR_RETURN(
          Statement statement,
          db_.Prepare("SELECT split_id, position, done FROM sluice_progress WHERE job = ?",
                      "state: load progress"));
      BindText(statement.get(), 1, job);
      int rc;
      while ((rc = sqlite3_step(statement.get())) == SQLITE_ROW) {
        SplitProgress progress{ColumnText(statement.get(), 0), ColumnText(statement.get(), 1),
                               sqlite3_column_int(statement.get(), 2) != 0};
        state.progress[progress.split_id] = std::move(progress);
      }
      if (rc != SQLITE_DONE)
        return db_.Error(rc, "state: load progress");
    }
    {
      SLUICE_ASSIGN_OR_RETURN(
          Statement statement,
          db_.Prepare("SELECT state FROM sluice_source_state WHERE job = ?",
                      "state: load source state"));
      BindText(statement.get(), 1, job);
      int rc = sqlite3_step(statement.get());
      if (rc == SQLITE_ROW)
        state.source_state = ColumnText(statement.get(), 0);
      else if (rc != SQLITE_DONE)
        return db_.Error(rc, "state: load source state");
    }
    return std::optional<JobState>(std::move(state));
  }

  Status Reset(const std::string& job, const std::string& fingerprint) override {
    std::lock_guard<std::mutex> lock(mutex_);
    SLUICE_RETURN_IF_ERROR(db_.Execute("BEGIN IMMEDIATE", "state: reset"));
    Status status = [&]() -> Status {
      SLUICE_RETURN_IF_ERROR(CheckLease(job));
      for (const char* sql :
           {"DELETE FROM sluice_progress WHERE job = ?", "DELETE FROM sluice_splits WHERE job = ?",
            "DELETE FROM sluice_source_state WHERE job = ?",
            "DELETE FROM sluice_jobs WHERE job = ?"}) {
        SLUICE_RETURN_IF_ERROR(Run(sql, {job}));
      }
      return Run("INSERT INTO sluice_jobs (job, fingerprint, status) VALUES (?, ?, 'running')",
                 {job, fingerprint});
    }();
    return Finish(std::move(status));
  }

  Status MarkRunning(const std::string& job) override {
    return SetStatus(job, JobStatus::kRunning);
  }

  Status RecordSplits(const std::string& job,
                      const std::vector<connectors::Split>& splits) override {
    if (splits.empty())
      return Status::OK();
    std::lock_guard<std::mutex> lock(mutex_);
    SLUICE_RETURN_IF_ERROR(db_.Execute("BEGIN IMMEDIATE", "state: record splits"));
    Status status = [&]() -> Status {
      SLUICE_RETURN_IF_ERROR(CheckLease(job));
      SLUICE_ASSIGN_OR_RETURN(
          Statement statement,
          // A split recorded again (its range shrank when it was cut) keeps its place.
          db_.Prepare("INSERT INTO sluice_splits (job, seq, id, stream, payload, estimated_rows, "
                      "estimated_bytes) VALUES (?, (SELECT COALESCE(MAX(seq), 0) + 1 FROM "
                      "sluice_splits WHERE job = ?1), ?, ?, ?, ?, ?) ON CONFLICT (job, id) DO "
                      "UPDATE SET payload = excluded.payload, estimated_rows = "
                      "excluded.estimated_rows, estimated_bytes = excluded.estimated_bytes",
                      "state: record splits"));
      for (const connectors::Split& split : splits) {
        sqlite3_reset(statement.get());
        BindText(statement.get(), 1, job);
        BindText(statement.get(), 2, split.id);
        sqlite3_bind_int(statement.get(), 3, split.stream);
        BindText(statement.get(), 4, split.payload);
        BindOptional(statement.get(), 5, split.estimated_rows);
        BindOptional(statement.get(), 6, split.estimated_bytes);
        int rc = sqlite3_step(statement.get());
        if (rc != SQLITE_DONE)
          return db_.Error(rc, "state: record splits");
      }
      return Status::OK();
    }();
    return Finish(std::move(status));
  }

  Status CommitCheckpoint(const std::string& job, uint64_t checkpoint,
                          const std::vector<SplitProgress>& progress, uint64_t bad_records,
                          const std::string& source_state) override {
    std::lock_guard<std::mutex> lock(mutex_);
    SLUICE_RETURN_IF_ERROR(db_.Execute("BEGIN IMMEDIATE", "state: checkpoint"));
    Status status = [&]() -> Status {
      SLUICE_RETURN_IF_ERROR(CheckLease(job));
      SLUICE_ASSIGN_OR_RETURN(
          Statement statement,
          db_.Prepare("INSERT OR REPLACE INTO sluice_progress (job, split_id, position, done, "
                      "checkpoint) VALUES (?, ?, ?, ?, ?)",
                      "state: checkpoint"));
      for (const SplitProgress& item : progress) {
        sqlite3_reset(statement.get());
        BindText(statement.get(), 1, job);
        BindText(statement.get(), 2, item.split_id);
        BindText(statement.get(), 3, item.position);
        sqlite3_bind_int(statement.get(), 4, item.done ? 1 : 0);
        sqlite3_bind_int64(statement.get(), 5, static_cast<sqlite3_int64>(checkpoint));
        int rc = sqlite3_step(statement.get());
        if (rc != SQLITE_DONE)
          return db_.Error(rc, "state: checkpoint");
      }
      SLUICE_RETURN_IF_ERROR(Run("INSERT OR REPLACE INTO sluice_source_state (job, checkpoint, "
                                 "state) VALUES (?, ?, ?)",
                                 {job, std::to_string(checkpoint), source_state}));
      return Run(fmt::format("UPDATE sluice_jobs SET checkpoint = {}, bad_records = {}, "
                             "updated_at = strftime('%Y-%m-%d %H:%M:%f', 'now') WHERE job = ?",
                             checkpoint, bad_records),
                 {job});
    }();
    return Finish(std::move(status));
  }

  Status RecordSourceState(const std::string& job, const std::string& source_state) override {
    std::lock_guard<std::mutex> lock(mutex_);
    SLUICE_RETURN_IF_ERROR(db_.Execute("BEGIN IMMEDIATE", "state: record source state"));
    Status status = [&]() -> Status {
      SLUICE_RETURN_IF_ERROR(CheckLease(job));
      return Run("INSERT OR REPLACE INTO sluice_source_state (job, checkpoint, state) SELECT job, "
                 "checkpoint, ? FROM sluice_jobs WHERE job = ?",
                 {source_state, job});
    }();
    return Finish(std::move(status));
  }

  Status SetStatus(const std::string& job, JobStatus status) override {
    std::lock_guard<std::mutex> lock(mutex_);
    SLUICE_RETURN_IF_ERROR(db_.Execute("BEGIN IMMEDIATE", "state: set status"));
    Status result = [&]() -> Status {
      SLUICE_RETURN_IF_ERROR(CheckLease(job));
      bool keeps_finishing = status == JobStatus::kFailed || status == JobStatus::kInterrupted;
      return Run(fmt::format("UPDATE sluice_jobs SET status = ?, updated_at = "
                             "strftime('%Y-%m-%d %H:%M:%f', 'now') WHERE job = ?{}",
                             keeps_finishing ? " AND status <> 'finishing'" : ""),
                 {std::string(JobStatusName(status)), job});
    }();
    return Finish(std::move(result));
  }

 private:
  struct StoredRun {
    RunHolder holder;
    bool released = false;
  };

  // True while `run` keeps the job from `owner`: not released, its process not known gone, and
  // renewed within `lease_secs`.
  static bool HeldFor(const StoredRun& run, const RunOwner& owner, double lease_secs) {
    return !run.released && !run.holder.owner.KnownGone(owner) &&
           run.holder.seconds_since_renewal < lease_secs;
  }

  // Lease writes skip the fsync of their commit (synchronous=NORMAL, still atomic in WAL mode):
  // they are frequent and worthless after a power loss, and the shorter they hold the store's
  // write lock, the less a run frozen in the middle of one blocks everyone else.
  class LeaseWrites {
   public:
    explicit LeaseWrites(Connection& db) : db_(db) {
      (void)db_.Execute("PRAGMA synchronous=NORMAL", "state");
    }
    ~LeaseWrites() { (void)db_.Execute("PRAGMA synchronous=FULL", "state"); }
    LeaseWrites(const LeaseWrites&) = delete;
    LeaseWrites& operator=(const LeaseWrites&) = delete;

   private:
    Connection& db_;
  };

  // The job's row of sluice_runs, with the seconds since its renewal by SQLite's clock.
  Result<std::optional<StoredRun>> LoadRun(const std::string& job) {
    SLUICE_ASSIGN_OR_RETURN(
        Statement statement,
        db_.Prepare(fmt::format("SELECT epoch, host, pid, process_space, process_start, "
                                "started_at, released, {} - COALESCE(renewed_at, 0) FROM "
                                "sluice_runs WHERE job = ?",
                                kNow),
                    "state: read the job's lease"));
    BindText(statement.get(), 1, job);
    int rc = sqlite3_step(statement.get());
    if (rc == SQLITE_DONE)
      return std::optional<StoredRun>();
    if (rc != SQLITE_ROW)
      return db_.Error(rc, "state: read the job's lease");
    StoredRun run;
    run.holder.epoch = static_cast<uint64_t>(sqlite3_column_int64(statement.get(), 0));
    run.holder.owner.host = ColumnText(statement.get(), 1);
    run.holder.owner.pid = sqlite3_column_int64(statement.get(), 2);
    run.holder.owner.process_space = ColumnText(statement.get(), 3);
    run.holder.owner.process_start =
        static_cast<uint64_t>(sqlite3_column_int64(statement.get(), 4));
    run.holder.owner.started_at = ColumnText(statement.get(), 5);
    run.released = sqlite3_column_int(statement.get(), 6) != 0;
    run.holder.seconds_since_renewal = sqlite3_column_double(statement.get(), 7);
    return std::optional<StoredRun>(std::move(run));
  }

  // Inside a transaction: refuses a change to `job` once another run has taken it from the
  // lease this store object holds. Jobs without a lease here (tools, tests) are not fenced.
  Status CheckLease(const std::string& job) {
    auto lease = leases_.find(job);
    if (lease == leases_.end())
      return Status::OK();
    SLUICE_ASSIGN_OR_RETURN(std::optional<StoredRun> current, LoadRun(job));
    if (current && current->holder.epoch == lease->second)
      return Status::OK();
    if (!current) {
      return Conflict(fmt::format("the lease of job '{}' disappeared from the state store; this "
                                  "run (epoch {}) stops without changing it",
                                  job, lease->second));
    }
    return Conflict(fmt::format(
        "job '{}' was taken over by a newer run ({}, epoch {}) after this run (epoch {}) stopped "
        "renewing its lease; this run stops without committing anything more",
        job, current->holder.owner.Describe(), current->holder.epoch, lease->second));
  }

  // Runs one statement with text parameters.
  Status Run(std::string_view sql, const std::vector<std::string>& parameters) {
    SLUICE_ASSIGN_OR_RETURN(Statement statement, db_.Prepare(sql, "state"));
    for (size_t i = 0; i < parameters.size(); ++i) {
      BindText(statement.get(), static_cast<int>(i + 1), parameters[i]);
    }
    int rc = sqlite3_step(statement.get());
    if (rc != SQLITE_DONE && rc != SQLITE_ROW)
      return db_.Error(rc, "state");
    return Status::OK();
  }

  // Commits the open transaction, or rolls it back when `status` is an error.
  Status Finish(Status status) {
    if (!status.ok()) {
      (void)db_.Execute("ROLLBACK", "state: rollback");
      return status;
    }
    return db_.Execute("COMMIT", "state: commit");
  }

  std::mutex mutex_;
  Connection db_;                                // guarded by mutex_
  std::map<std::string, uint64_t> leases_;  // job -> epoch this object holds; guarded by mutex_
};

}  // namespace

std::string_view JobStatusName(JobStatus status) {
  switch (status) {
    case JobStatus::kRunning:
      return "running";
    case JobStatus::kSucceeded:
      return "succeeded";
    case JobStatus::kFailed:
      return "failed";
    case JobStatus::kFinishing:
      return "finishing";
    case JobStatus::kInterrupted:
      return "interrupted";
  }
  return "running";
}

Result<std::unique_ptr<StateStore>> OpenSqliteStateStore(const std::string& path) {
  std::error_code error;
  std::filesystem::path parent = std::filesystem::path(path).parent_path();
  if (!parent.empty())
    std::filesystem::create_directories(parent, error);
  if (error) {
    return ErrnoStatus("Cannot create the state directory", parent.string(), error.value());
  }
  SLUICE_ASSIGN_OR_RETURN(Connection db,
                          Connection::Open(path, Connection::Mode::kReadWriteCreate, "state"));
  // The state file is small and written rarely; durability matters more than speed here.
  SLUICE_RETURN_IF_ERROR(db.Execute("PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;", "state"));
  SLUICE_RETURN_IF_ERROR(db.Execute(kSchema, "state: create tables"));
  return std::unique_ptr<StateStore>(new SqliteStateStore(std::move(db)));
}

}  // namespace sluice::state
