// MysqlSink: writes streams into tables of a MySQL, MariaDB or MySQL-compatible database.
//
// Open() creates missing tables through the type mapping (mysql_types.h; the source's native
// MySQL type when the stream came from MySQL) or checks that an existing table has every stream
// column. Each writer has its own connection and transaction. Rows are rendered from the batch's
// columns into a chunk of a few MB and sent with LOAD DATA LOCAL INFILE fed from memory (method
// load_data) or multi-row INSERTs (method insert). Modes:
//   append     rows go straight into the table;
//   upsert     rows go into a per-writer TEMPORARY staging table, merged at each commit with
//              INSERT ... SELECT ... ON DUPLICATE KEY UPDATE by the primary key;
//   overwrite  every writer loads `_sluice_staging_<table>`, created at Open(); Finish() swaps it
//              in with one atomic RENAME TABLE and drops the old table;
//   apply      changelogs (connectors/sql/changelog_apply.h): each batch folded to its keys' last
//              changes in memory; deletes go out at once as DELETE ... WHERE (key) IN (...)
//              after the rows already chunked, upserts straight into the table with LOAD DATA
//              ... REPLACE or INSERT ... ON DUPLICATE KEY UPDATE, so the server sees every
//              change in order. A changelog stream in any other mode is refused at Open.
// A row the server refuses (duplicate key in append, data too long, out of range: the session
// runs in strict mode) goes to the job's bad-record policy with the table and key; LOAD DATA
// LOCAL only warns about such rows, so a chunk with warnings is rolled back to its savepoint and
// replayed row by row to find them.
//
// Delivery. Exactly-once (JobContext::delivery, the default): a writer's session runs with
// autocommit off and commits only in Commit(), where the rows written since its previous commit
// (and, in upsert mode, their merge) and the checkpoint's split progress, upserted into the
// progress table (`progress_table`, default `_sluice_progress`), become durable in one InnoDB
// transaction. Claim() ends the sessions an earlier run left behind and stores the run's epoch
// (the progress row with split id ""); each writer reads it under a shared lock just
// before its COMMIT and refuses to commit once a newer run has claimed the job.
// RecoverProgress() reads that table back on resume, after waiting for any transaction an
// earlier, crashed run still has in flight on it; ForgetProgress() clears it on a fresh start. An overwrite's staging table survives Abort() and
// is kept by a resumed Open(). At-least-once: no progress is written and writers also commit
// every `commit_rows` rows.
//
// Thread-safety: Open, Check, Finish, Abort, RecoverProgress and ForgetProgress run on the
// coordinator thread; CreateWriter may be called from any thread; each writer is driven by one
// thread with its own connection.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "config/options.h"
#include "connectors/api.h"
#include "connectors/mysql/mysql_options.h"
#include "connectors/mysql/mysql_types.h"

namespace sluice::connectors::mysql {

class Connection;

class MysqlSink final : public Sink {
 public:
  MysqlSink(MysqlSinkOptions options, config::Options config);
  ~MysqlSink() override;

  Status Open(const JobContext& context, const std::vector<StreamInfo>& streams) override;
  Status Check(const JobContext& context, const std::vector<StreamInfo>& streams,
               CheckReport* report) override;
  Result<std::unique_ptr<SinkWriter>> CreateWriter(int slot) override;
  Status Finish() override;
  void Abort() override;
  DeliveryGuarantee guarantee() const override { return DeliveryGuarantee::kExactlyOnce; }
  /// apply: one writer. A writer's transaction stays open until its checkpoint, and InnoDB's
  /// next-key locks on upserted and deleted keys block writers whose keys interleave (the
  /// runtime routes changelog keys by hash) until that commit: lock waits of
  /// innodb_lock_wait_timeout each, seen as 50 s stalls and retries with 3 writers.
  int max_writers() const override { return options_.mode == WriteMode::kApply ? 1 : 0; }
  Result<std::vector<SplitProgress>> RecoverProgress(const JobContext& context) override;
  Status ForgetProgress(const JobContext& context) override;
  /// append: refuses when a target table holds rows.
  Status CheckFreshStart(const JobContext& context,
                         const std::vector<StreamInfo>& streams) override;
  /// append, upsert: refuses a target table that is gone or empty.
  Status CheckCommittedTargets(const JobContext& context,
                               const std::vector<StreamInfo>& streams) override;
  /// Ends the sessions of earlier runs (named writer locks), creates the progress table and
  /// stores the run's epoch there; writers check it under a shared lock before each COMMIT.
  Status Claim(const JobContext& context) override;
  /// KILL QUERY on every session the coordinator opened (a closed one's id is simply unknown).
  void Cancel() override;

  /// Where one stream's rows go, fixed at Open.
  struct Target;

 private:
  Result<Target> PrepareTarget(Connection& db, const StreamInfo& stream, bool dry_run,
                               CheckReport* report);
  // overwrite: creates `staging` for `target` with `create_sql` on a fresh run; a resumed run
  // keeps the one an earlier run filled (see staging_recreated_).
  Status PrepareStagingTable(Connection& db, const Target& target, const std::string& create_sql);
  // Whether `table` holds a row; nullopt when it does not exist.
  Result<std::optional<bool>> TargetHoldsRows(Connection& db, const std::string& table) const;
  // A connection for the coordinator's own statements (no LOCAL INFILE).
  Result<Connection> ConnectCoordinator() const;
  // Exactly-once: creates the progress table when missing.
  Status CreateProgressTable(Connection& db);
  // Exactly-once: refuses tables whose engine has no transactions (MyISAM, Aria, ...), which
  // would keep rows of a transaction rolled back with its progress.
  Status CheckTransactional(Connection& db, const std::vector<std::string>& tables);
  // Exactly-once: deletes the progress rows of job `job`.
  Status DeleteProgress(Connection& db, const std::string& job);
  // method load_data needs the server's local_infile.
  Status CheckLocalInfile(Connection& db);
  // Tables created in a utf8mb4 database inherit its collation; elsewhere they say utf8mb4.
  Status ReadDatabaseCharset(Connection& db);
  // The collations of new tables' key columns: what the server has of binary NO PAD ones and
  // of the streams' source collations.
  Status ReadKeyCollations(Connection& db, const std::vector<StreamInfo>& streams);
  // Refuses a unique key (`index`: its name, `key_columns`: its columns) of an existing table
  // whose text columns' collation would treat keys that the source keeps apart as equal; notes in
  // `target` the keys the upsert merge must check for collisions.
  Status CheckKeyCollations(Target& target, const Schema& schema,
                            const std::map<std::string, ColumnInfo>& columns,
                            const std::string& index,
                            const std::vector<std::string>& key_columns) const;

  MysqlSinkOptions options_;
  config::Options config_;
  TableCollations collations_;  // of the tables Open creates: see ReadKeyCollations
  const JobContext* context_ = nullptr;
  std::unique_ptr<Connection> db_;  // the coordinator's connection: DDL and the final swap
  std::shared_ptr<const std::vector<Target>> targets_;
  std::vector<std::string> staging_tables_;  // overwrite: created at Open, swapped at Finish
  // overwrite, resumed run: tables whose staging table was gone. An earlier run creates it
  // before any split is recorded, so it is gone only because that run's Finish already swapped
  // it in (and crashed before the job was recorded as done); Finish then swaps nothing.
  std::set<std::string> staging_recreated_;
  bool finished_ = false;
  bool database_is_utf8mb4_ = false;
  uint64_t run_epoch_ = 0;  // set by Claim (exactly-once)
  mutable std::mutex sessions_mutex_;
  mutable std::vector<uint64_t> coordinator_sessions_;  // thread ids, for Cancel; sessions_mutex_
};

}  // namespace sluice::connectors::mysql
