// ConnectionPool: the source's connections to one server, and the consistent snapshot they share.
//
// consistency: snapshot — at Open the pool connects `readers` reader connections plus the
// planner's, takes FLUSH TABLES WITH READ LOCK on a short-lived extra connection, starts
// `START TRANSACTION WITH CONSISTENT SNAPSHOT` (REPEATABLE READ) on every pooled connection,
// reads the binlog position (SHOW MASTER STATUS; on MariaDB also @@gtid_binlog_pos) and unlocks:
// the global read lock is held for milliseconds, yet every reader sees the same instant, and
// that instant is the binlog position where change data capture can start later. Readers borrow
// a connection for each split and give it back when they are done; the pool never opens more,
// since a new connection could not join the snapshot.
//
// Without the privilege for FLUSH TABLES WITH READ LOCK (RELOAD), the pool falls back to
// per-split consistency with one warning. On TiDB the snapshot is a TSO shared through
// @@tidb_snapshot instead (untested: no TiDB here).
//
// consistency: per_split — connections are opened on demand and reused; each borrowed connection
// starts its own consistent-snapshot transaction, ended when it is given back.
//
// Thread-safety: Acquire and Release are thread-safe. planner() is used by the split enumerator
// only (under its own lock). Lifetime: the pool outlives every connection it lends (readers hold
// a shared_ptr to it).
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "connectors/mysql/mysql_client.h"
#include "connectors/mysql/mysql_options.h"

namespace sluice::connectors::mysql {

/// What the snapshot is and where the binlog stood when it was taken.
struct SnapshotInfo {
  /// True when every reader shares one snapshot.
  bool consistent = false;
  /// Binlog coordinates at the snapshot; empty file when the binlog is off or unknown.
  std::string binlog_file;
  uint64_t binlog_position = 0;
  /// MySQL's Executed_Gtid_Set or MariaDB's @@gtid_binlog_pos.
  std::string gtid;
  /// TiDB: the TSO every connection reads at.
  std::string tidb_snapshot_ts;
  /// Milliseconds the global read lock was held.
  double lock_millis = 0;

  /// "consistent snapshot at binlog 'binlog.000002' position 4567, GTID '0-1-42'".
  std::string Describe() const;
};

class ConnectionPool {
 public:
  /// Opens the planner's connection and, for consistency snapshot, `readers` reader connections
  /// in one snapshot. `component` names the log lines.
  static Result<std::shared_ptr<ConnectionPool>> Open(const MysqlSourceOptions& options,
                                                      int readers, bool tidb,
                                                      const std::atomic<bool>* cancelled,
                                                      std::string component);
  ~ConnectionPool();

  /// The enumerator's connection (in the snapshot when there is one).
  Connection& planner() { return planner_; }
  const SnapshotInfo& snapshot() const { return snapshot_; }

  /// Lends a reader connection: a free pooled one (waiting for one to come back if all are lent)
  /// or, per split, a new or reused one in a fresh transaction.
  Result<Connection> Acquire();
  /// Takes a connection back. `healthy` false (an error broke its session) drops it.
  void Release(Connection connection, bool healthy);
  /// Closes the idle connections and the planner's, ending their snapshot transactions (a long
  /// open one holds back InnoDB's purge of old row versions); Acquire fails afterwards. Call
  /// once nothing reads in the snapshot any more.
  void EndSnapshot();

 private:
  ConnectionPool(const MysqlSourceOptions& options, const std::atomic<bool>* cancelled,
                 std::string component)
      : options_(options), cancelled_(cancelled), component_(std::move(component)) {}
  Status SetUpSession(Connection& connection) const;
  Status TakeSnapshot(int readers);
  Status TakeTidbSnapshot(int readers);
  Status ReadBinlogPosition(Connection& connection);

  MysqlSourceOptions options_;
  const std::atomic<bool>* cancelled_;
  std::string component_;
  bool tidb_ = false;
  Connection planner_;
  SnapshotInfo snapshot_;

  std::mutex mutex_;
  std::condition_variable returned_;
  std::vector<Connection> idle_;  // guarded by mutex_
  int live_ = 0;                  // guarded by mutex_: snapshot connections not dropped
  bool ended_ = false;            // guarded by mutex_: EndSnapshot was called
};

}  // namespace sluice::connectors::mysql
