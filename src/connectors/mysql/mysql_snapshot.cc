#include "connectors/mysql/mysql_snapshot.h"

#include <fmt/core.h>

#include <chrono>

#include "connectors/mysql/mysql_catalog.h"
#include "core/logging.h"

namespace sluice::connectors::mysql {

namespace {

using Clock = std::chrono::steady_clock;

// How long a reader waits for a snapshot connection to come back before giving up. With the
// runtime's one reader per connection this is only ever a moment.
constexpr auto kAcquireTimeout = std::chrono::minutes(10);

bool IsPrivilegeError(unsigned int code) {
  return code == 1227 || code == 1045 || code == 1044 || code == 1142;
}

// Unlocks FLUSH TABLES WITH READ LOCK however the snapshot setup ends.
class GlobalReadLock {
 public:
  explicit GlobalReadLock(Connection* connection) : connection_(connection) {}
  ~GlobalReadLock() { Unlock(); }
  void Unlock() {
    if (connection_ != nullptr)
      (void)connection_->Execute("UNLOCK TABLES", "unlocking tables");
    connection_ = nullptr;
  }

 private:
  Connection* connection_;
};

}  // namespace

std::string SnapshotInfo::Describe() const {
  if (!consistent) {
    return "per-split consistency: each chunk is read in its own transaction; no binlog "
           "position recorded";
  }
  if (!tidb_snapshot_ts.empty()) {
    return fmt::format("consistent snapshot at TiDB TSO {}", tidb_snapshot_ts);
  }
  if (binlog_file.empty()) {
    return "consistent snapshot; binary log is off, no binlog position recorded";
  }
  std::string out =
      fmt::format("consistent snapshot at binlog '{}' position {}", binlog_file, binlog_position);
  if (!gtid.empty())
    out += fmt::format(", GTID '{}'", gtid);
  return out;
}

Result<std::shared_ptr<ConnectionPool>> ConnectionPool::Open(const MysqlSourceOptions& options,
                                                             int readers, bool tidb,
                                                             const std::atomic<bool>* cancelled,
                                                             std::string component) {
  std::shared_ptr<ConnectionPool> pool(
      new ConnectionPool(options, cancelled, std::move(component)));
  pool->tidb_ = tidb;
  SLUICE_ASSIGN_OR_RETURN(pool->planner_, Connection::Open(options.connection));
  SLUICE_RETURN_IF_ERROR(pool->SetUpSession(pool->planner_));
  if (options.consistency == Consistency::kSnapshot) {
    Status taken = tidb ? pool->TakeTidbSnapshot(readers) : pool->TakeSnapshot(readers);
    if (!taken.ok())
      return taken;
  }
  if (pool->snapshot_.consistent) {
    log::Info(pool->component_, "Reading a {} (global read lock held {:.1f} ms)",
              pool->snapshot_.Describe(), pool->snapshot_.lock_millis);
  }
  return pool;
}

ConnectionPool::~ConnectionPool() = default;

Status ConnectionPool::SetUpSession(Connection& connection) const {
  // A reader may stall on a full channel while its page is half sent; do not let the server
  // give up on it after the default 60 seconds.
  SLUICE_RETURN_IF_ERROR(
      connection.Execute("SET SESSION net_write_timeout = 3600", "setting up the session"));
  if (tidb_) {
    SLUICE_RETURN_IF_ERROR(connection.Execute(
        fmt::format("SET SESSION tidb_replica_read = '{}'", options_.tidb_replica_read),
        "setting tidb_replica_read"));
  }
  return Status::OK();
}

Status ConnectionPool::TakeSnapshot(int readers) {
  std::vector<Connection> connections;
  for (int i = 0; i < readers; ++i) {
    SLUICE_ASSIGN_OR_RETURN(Connection connection, Connection::Open(options_.connection));
    SLUICE_RETURN_IF_ERROR(SetUpSession(connection));
    connections.push_back(std::move(connection));
  }
  SLUICE_ASSIGN_OR_RETURN(Connection locker, Connection::Open(options_.connection));
  // FLUSH TABLES waits for running statements; never wait on a stuck one for the default year.
  SLUICE_RETURN_IF_ERROR(
      locker.Execute("SET SESSION lock_wait_timeout = 60", "setting up the session"));
  Clock::time_point start = Clock::now();
  Status locked = locker.Execute("FLUSH TABLES WITH READ LOCK", "taking the snapshot lock");
  if (!locked.ok()) {
    if (!IsPrivilegeError(locker.last_errno()))
      return locked;
    log::Warn(component_,
              "consistency: snapshot needs FLUSH TABLES WITH READ LOCK (the RELOAD privilege), "
              "which user '{}' lacks; falling back to per-split consistency: rows changed during "
              "the copy may appear in some chunks and not in others; no binlog position recorded",
              options_.connection.user);
    options_.consistency = Consistency::kPerSplit;
    for (Connection& connection : connections)
      idle_.push_back(std::move(connection));
    return Status::OK();
  }
  GlobalReadLock lock(&locker);
  auto start_transaction = [](Connection& connection) -> Status {
    SLUICE_RETURN_IF_ERROR(connection.Execute(
        "SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ", "starting the snapshot"));
    return connection.Execute("START TRANSACTION WITH CONSISTENT SNAPSHOT",
                              "starting the snapshot");
  };
  SLUICE_RETURN_IF_ERROR(start_transaction(planner_));
  for (Connection& connection : connections)
    SLUICE_RETURN_IF_ERROR(start_transaction(connection));
  SLUICE_RETURN_IF_ERROR(ReadBinlogPosition(locker));
  lock.Unlock();
  snapshot_.lock_millis = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
  snapshot_.consistent = true;
  std::lock_guard<std::mutex> guard(mutex_);
  live_ = static_cast<int>(connections.size());
  for (Connection& connection : connections)
    idle_.push_back(std::move(connection));
  return Status::OK();
}

Status ConnectionPool::ReadBinlogPosition(Connection& connection) {
  Result<std::optional<BinlogCoordinates>> coordinates = ReadBinlogCoordinates(connection);
  if (!coordinates.ok()) {
    // Without the REPLICATION CLIENT privilege the snapshot still holds; only the position is
    // unknown.
    log::Warn(component_, "Cannot read the binlog position: {}", coordinates.status().message());
    return Status::OK();
  }
  if (*coordinates) {
    snapshot_.binlog_file = (*coordinates)->file;
    snapshot_.binlog_position = (*coordinates)->position;
    snapshot_.gtid = (*coordinates)->gtid;
  }
  return Status::OK();
}

Status ConnectionPool::TakeTidbSnapshot(int readers) {
  // TiDB has neither FLUSH TABLES WITH READ LOCK nor shared snapshots; a TSO read by one
  // transaction and set as @@tidb_snapshot on every session gives the same view. Untested.
  SLUICE_ASSIGN_OR_RETURN(Connection locker, Connection::Open(options_.connection));
  SLUICE_RETURN_IF_ERROR(locker.Execute("BEGIN", "starting the snapshot"));
  SLUICE_ASSIGN_OR_RETURN(std::vector<TextRow> ts,
                          locker.Query("SELECT @@tidb_current_ts", "reading the TiDB TSO"));
  (void)locker.Execute("ROLLBACK", "starting the snapshot");
  if (ts.empty() || ts.front().empty() || !ts.front()[0]) {
    return Internal(options_.connection.Describe() + ": TiDB returned no @@tidb_current_ts");
  }
  snapshot_.tidb_snapshot_ts = *ts.front()[0];
  std::string set = fmt::format("SET @@tidb_snapshot = '{}'", snapshot_.tidb_snapshot_ts);
  SLUICE_RETURN_IF_ERROR(planner_.Execute(set, "starting the snapshot"));
  std::lock_guard<std::mutex> guard(mutex_);
  for (int i = 0; i < readers; ++i) {
    SLUICE_ASSIGN_OR_RETURN(Connection connection, Connection::Open(options_.connection));
    SLUICE_RETURN_IF_ERROR(SetUpSession(connection));
    SLUICE_RETURN_IF_ERROR(connection.Execute(set, "starting the snapshot"));
    idle_.push_back(std::move(connection));
  }
  live_ = readers;
  snapshot_.consistent = true;
  return Status::OK();
}

Result<Connection> ConnectionPool::Acquire() {
  {
    std::lock_guard<std::mutex> guard(mutex_);
    if (ended_)
      return Internal("the snapshot's connections were closed: its splits are all read");
  }
  if (!snapshot_.consistent) {
    Connection connection;
    {
      std::lock_guard<std::mutex> guard(mutex_);
      if (!idle_.empty()) {
        connection = std::move(idle_.back());
        idle_.pop_back();
      }
    }
    if (!connection) {
      SLUICE_ASSIGN_OR_RETURN(connection, Connection::Open(options_.connection));
      SLUICE_RETURN_IF_ERROR(SetUpSession(connection));
    }
    if (!tidb_) {
      SLUICE_RETURN_IF_ERROR(connection.Execute("START TRANSACTION WITH CONSISTENT SNAPSHOT",
                                                "starting the split's transaction"));
    }
    return connection;
  }
  std::unique_lock<std::mutex> lock(mutex_);
  Clock::time_point deadline = Clock::now() + kAcquireTimeout;
  while (idle_.empty()) {
    if (cancelled_ != nullptr && cancelled_->load()) {
      return Cancelled(options_.connection.Describe() + ": cancelled");
    }
    if (live_ == 0) {
      return Unavailable(
          fmt::format("{}: every connection of the snapshot was lost; the job must start over",
                      options_.connection.Describe()));
    }
    if (Clock::now() >= deadline) {
      return Unavailable(fmt::format(
          "{}: no snapshot connection came back within 10 minutes (more readers than the "
          "job's parallelism?)",
          options_.connection.Describe()));
    }
    returned_.wait_for(lock, std::chrono::milliseconds(100));
  }
  Connection connection = std::move(idle_.back());
  idle_.pop_back();
  return connection;
}

void ConnectionPool::EndSnapshot() {
  std::vector<Connection> closing;
  {
    std::lock_guard<std::mutex> guard(mutex_);
    ended_ = true;
    closing.swap(idle_);
    live_ = 0;
  }
  returned_.notify_all();
  planner_ = Connection();  // the enumerator plans no more chunks once every split is read
}

void ConnectionPool::Release(Connection connection, bool healthy) {
  if (!connection)
    return;
  {
    std::lock_guard<std::mutex> guard(mutex_);
    if (ended_)
      return;  // closed
  }
  if (!snapshot_.consistent) {
    if (!healthy)
      return;
    if (!tidb_ && !connection.Execute("ROLLBACK", "ending the split's transaction").ok())
      return;
    std::lock_guard<std::mutex> guard(mutex_);
    idle_.push_back(std::move(connection));
    return;
  }
  {
    std::lock_guard<std::mutex> guard(mutex_);
    if (healthy) {
      idle_.push_back(std::move(connection));
    } else {
      --live_;
    }
  }
  returned_.notify_one();
}

}  // namespace sluice::connectors::mysql
