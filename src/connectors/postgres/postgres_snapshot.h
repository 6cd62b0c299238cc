// The source's view of the database and the connections that read it.
//
// ReadSession: with `consistency: snapshot`, a coordinator connection opens a REPEATABLE READ
// READ ONLY transaction, exports its snapshot (pg_export_snapshot) and records the WAL position
// (where change data capture will start later). It stays open for the whole job, so every other
// connection can import the snapshot (SET TRANSACTION SNAPSHOT) and the planner and all readers
// see the database as of one instant. When exporting fails (a standby without the function, a
// revoked privilege) the session falls back to per-split consistency with one warning. With
// `consistency: per_split` every split reads in its own REPEATABLE READ transaction.
//
// ConnectionPool: up to `size` idle reader connections, already in the job's snapshot. Borrow()
// hands one out as a shared_ptr whose deleter gives it back (ending a per-split transaction, and
// dropping a connection that broke or whose transaction failed), so a reader returns its
// connection simply by being destroyed.
//
// Thread-safety: ReadSession is immutable after Open (Connect may run on any thread);
// ConnectionPool is thread-safe. Lifetime: the pool and every borrowed connection keep the
// session (and its coordinator transaction) alive through shared_ptr.
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "connectors/postgres/postgres_client.h"
#include "connectors/postgres/postgres_options.h"

namespace sluice::connectors::postgres {

class ReadSession {
 public:
  /// Connects the coordinator and exports the snapshot (snapshot consistency), or just checks
  /// that the server is reachable (per_split). `component` names log lines.
  static Result<std::shared_ptr<ReadSession>> Open(const ConnectionOptions& options,
                                                   Consistency consistency, std::string component);

  /// A session over a snapshot exported elsewhere: `holder` keeps it alive (the replication
  /// connection whose CREATE_REPLICATION_SLOT exported it, idle until the session ends).
  static std::shared_ptr<ReadSession> Adopt(const ConnectionOptions& options,
                                            std::unique_ptr<PgConnection> holder,
                                            std::string snapshot_id, std::string lsn);

  /// The consistency in force (per_split after a failed export).
  Consistency consistency() const { return consistency_; }
  /// The exported snapshot's id and the WAL LSN it was taken at; empty without a snapshot.
  const std::string& snapshot_id() const { return snapshot_id_; }
  const std::string& lsn() const { return lsn_; }
  /// Why the requested snapshot could not be had ("" when it was, or was not asked for).
  const std::string& fallback_reason() const { return fallback_reason_; }
  const ConnectionOptions& options() const { return options_; }

  /// Opens a new connection and starts its read transaction: imports the snapshot, or begins a
  /// REPEATABLE READ transaction when `per_split_transaction` (else stays in autocommit).
  Result<std::unique_ptr<PgConnection>> Connect(bool per_split_transaction) const;
  /// Starts the read transaction on `conn` (see Connect).
  Status Begin(PgConnection& conn) const;
  /// Ends the coordinator's transaction (or closes the snapshot's holder): the snapshot can no
  /// longer be imported, and the server may clean up row versions it kept for it.
  void End() const;

 private:
  ReadSession(ConnectionOptions options, Consistency consistency)
      : options_(std::move(options)), consistency_(consistency) {}

  ConnectionOptions options_;
  Consistency consistency_;
  mutable std::mutex end_mutex_;
  mutable std::unique_ptr<PgConnection> coordinator_;  // holds the exporting transaction open
  std::string snapshot_id_;
  std::string lsn_;
  std::string fallback_reason_;
};

class ConnectionPool : public std::enable_shared_from_this<ConnectionPool> {
 public:
  /// Keeps at most `size` idle connections.
  ConnectionPool(std::shared_ptr<const ReadSession> session, int size)
      : session_(std::move(session)), size_(size) {}

  /// A connection ready to read: in the snapshot, or in a fresh transaction (per_split). Opens a
  /// new one when none is idle.
  Result<std::shared_ptr<PgConnection>> Borrow();

  size_t idle() const;
  /// Drops the idle connections (their transactions end) and opens none any more: Borrow fails.
  void Close();

 private:
  void Return(PgConnection* conn);

  std::shared_ptr<const ReadSession> session_;
  const int size_;
  mutable std::mutex mutex_;
  std::vector<std::unique_ptr<PgConnection>> idle_;  // guarded by mutex_
  bool closed_ = false;                               // guarded by mutex_
};

}  // namespace sluice::connectors::postgres
