#include "connectors/postgres/postgres_snapshot.h"

#include <fmt/core.h>

#include "core/logging.h"

namespace sluice::connectors::postgres {

namespace {

constexpr const char* kBeginRead = "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY";

}  // namespace

Result<std::shared_ptr<ReadSession>> ReadSession::Open(const ConnectionOptions& options,
                                                       Consistency consistency,
                                                       std::string component) {
  std::shared_ptr<ReadSession> session(new ReadSession(options, consistency));
  SLUICE_ASSIGN_OR_RETURN(session->coordinator_, PgConnection::Connect(options));
  if (consistency == Consistency::kPerSplit) {
    session->coordinator_.reset();
    return session;
  }
  PgConnection& conn = *session->coordinator_;
  SLUICE_RETURN_IF_ERROR(conn.Execute(kBeginRead, "cannot begin the snapshot transaction"));
  // A standby has no current WAL position of its own: its replay position stands for it.
  Result<PgResult> exported = conn.Query(
      "SELECT pg_export_snapshot(), CASE WHEN pg_is_in_recovery() THEN "
      "pg_last_wal_replay_lsn() ELSE pg_current_wal_lsn() END",
      "cannot export a snapshot");
  if (exported.ok()) {
    session->snapshot_id_ = exported->Text(0, 0);
    session->lsn_ = exported->Text(0, 1);
    log::Info(component, "Reading snapshot '{}' taken at WAL LSN {}", session->snapshot_id_,
              session->lsn_);
    return session;
  }
  if (exported.status().code() == StatusCode::kUnavailable)
    return exported.status();
  session->fallback_reason_ = exported.status().message();
  session->consistency_ = Consistency::kPerSplit;
  session->coordinator_.reset();
  log::Warn(component,
            "Cannot export a snapshot ({}): falling back to per-split consistency; each split "
            "is consistent in itself, but rows changed while the job runs may be seen by some "
            "splits and not others, and no WAL position is recorded for change data capture",
            session->fallback_reason_);
  return session;
}

std::shared_ptr<ReadSession> ReadSession::Adopt(const ConnectionOptions& options,
                                                std::unique_ptr<PgConnection> holder,
                                                std::string snapshot_id, std::string lsn) {
  std::shared_ptr<ReadSession> session(new ReadSession(options, Consistency::kSnapshot));
  session->coordinator_ = std::move(holder);
  session->snapshot_id_ = std::move(snapshot_id);
  session->lsn_ = std::move(lsn);
  return session;
}

Status ReadSession::Begin(PgConnection& conn) const {
  SLUICE_RETURN_IF_ERROR(conn.Execute(kBeginRead, "cannot begin a read transaction"));
  if (consistency_ == Consistency::kSnapshot) {
    SLUICE_RETURN_IF_ERROR(
        conn.Execute(fmt::format("SET TRANSACTION SNAPSHOT {}", QuoteLiteral(snapshot_id_)),
                     fmt::format("cannot import snapshot '{}'", snapshot_id_)));
  }
  return Status::OK();
}

void ReadSession::End() const {
  std::lock_guard<std::mutex> lock(end_mutex_);
  coordinator_.reset();
}

Result<std::unique_ptr<PgConnection>> ReadSession::Connect(bool per_split_transaction) const {
  SLUICE_ASSIGN_OR_RETURN(std::unique_ptr<PgConnection> conn, PgConnection::Connect(options_));
  if (consistency_ == Consistency::kSnapshot || per_split_transaction) {
    SLUICE_RETURN_IF_ERROR(Begin(*conn));
  }
  return conn;
}

Result<std::shared_ptr<PgConnection>> ConnectionPool::Borrow() {
  std::unique_ptr<PgConnection> conn;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (closed_)
      return Internal("the snapshot's connections were closed: its splits are all read");
    if (!idle_.empty()) {
      conn = std::move(idle_.back());
      idle_.pop_back();
    }
  }
  if (conn && session_->consistency() == Consistency::kPerSplit) {
    SLUICE_RETURN_IF_ERROR(session_->Begin(*conn));
  }
  if (!conn) {
    SLUICE_ASSIGN_OR_RETURN(conn, session_->Connect(/*per_split_transaction=*/true));
  }
  std::shared_ptr<ConnectionPool> self = shared_from_this();
  return std::shared_ptr<PgConnection>(conn.release(),
                                       [self](PgConnection* c) { self->Return(c); });
}

void ConnectionPool::Return(PgConnection* raw) {
  std::unique_ptr<PgConnection> conn(raw);
  if (!conn->Healthy())
    return;  // broken, or its transaction failed: close it
  if (session_->consistency() == Consistency::kPerSplit) {
    if (!conn->Execute("COMMIT", "").ok())
      return;
  } else if (!conn->InTransaction()) {
    return;  // left the snapshot: useless for the next split
  }
  std::lock_guard<std::mutex> lock(mutex_);
  if (!closed_ && static_cast<int>(idle_.size()) < size_)
    idle_.push_back(std::move(conn));
}

void ConnectionPool::Close() {
  std::vector<std::unique_ptr<PgConnection>> closing;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    closed_ = true;
    closing.swap(idle_);
  }
  // Closed outside the lock: a disconnect may wait on the network.
}

size_t ConnectionPool::idle() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return idle_.size();
}

}  // namespace sluice::connectors::postgres
