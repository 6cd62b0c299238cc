// ServerStore: what `sluice server` keeps: teams and their API tokens, connections, jobs, the
// scheduler's fire ledger, runs with their per-table figures and failure reasons, run logs, and
// the catalog of streams (schemas as last discovered, and their changes).
//
// The embedded default is one SQLite file in the server's data folder (WAL, synchronous=FULL:
// a run or a fire recorded before a crash is there after it); a team's server may keep it in
// PostgreSQL instead (--db postgres://...). Both implement this interface and pass the same
// tests (server_store_test). Connection options and job
// files are sealed with the server's key (SecretBox) before they are written. Names are unique
// per team; teams never see each other's records (every call takes the team).
//
// The scheduler's guarantees rest on two things here: FireSchedules records each due fire as
// a run and advances the schedule's ledger in one transaction, and a run's (team, job, trigger,
// fire) is unique, so a fire can be recorded once only, whatever restarts in between.
//
// Thread-safety: all methods may be called from any thread (one connection behind a mutex;
// the server's writes are few and short).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/result.h"
#include "server/secret_box.h"

namespace sluice::server {

struct Team {
  std::string name;
  /// Runs of the team's jobs that may move data at once (0 = no limit).
  int max_concurrent_runs = 0;
};

struct TokenInfo {
  std::string name;
  std::string team;
  bool admin = false;  // sees and manages every team, their tokens and quotas
};

/// A connection: a connector type and its options (a JSON object), as the user gave them.
struct ConnectionRecord {
  std::string team;
  std::string name;
  std::string type;
  std::string options_json;
  int64_t created_us = 0;
  int64_t updated_us = 0;
};

struct JobRecord {
  std::string team;
  std::string name;
  std::string yaml;  // the job file, as `sluice run` reads it
  int64_t created_us = 0;
  int64_t updated_us = 0;
};

enum class RunState { kQueued, kRunning, kSucceeded, kFailed, kStopped };
std::string_view RunStateName(RunState state);
std::optional<RunState> ParseRunState(std::string_view name);
inline bool IsTerminal(RunState state) {
  return state != RunState::kQueued && state != RunState::kRunning;
}

/// Why a run failed: where (source, sink or platform), in which table when one, whether
/// running it again may help.
struct FailureReason {
  std::string origin;  // "source", "sink", "platform"
  std::string table;   // "" when not one table
  std::string message;
  bool retryable = false;
};

struct TableFigures {
  std::string table;
  uint64_t rows_read = 0;
  uint64_t rows_written = 0;
  uint64_t bytes_read = 0;
  uint64_t bytes_written = 0;
  std::optional<uint64_t> lag_rows;
  std::optional<uint64_t> lag_bytes;
};

struct RunRecord {
  int64_t id = 0;
  std::string team;
  std::string job;
  /// "api", "schedule", "after" (a job it depends on succeeded), "apply", "restart".
  std::string trigger;
  /// The fire time (seconds since the epoch) for "schedule"; the upstream run's id for
  /// "after"; 0 otherwise.
  int64_t fire = 0;
  /// Forget earlier progress (re-sync) instead of resuming it.
  bool fresh = false;
  RunState state = RunState::kQueued;
  int64_t queued_us = 0;
  int64_t started_us = 0;
  int64_t first_row_us = 0;
  int64_t ended_us = 0;
  uint64_t rows_read = 0;
  uint64_t rows_written = 0;
  uint64_t bytes_read = 0;
  uint64_t bytes_written = 0;
  std::optional<FailureReason> failure;
  std::vector<TableFigures> tables;
  /// The run resumed an earlier run's checkpoint.
  bool resumed = false;
};

struct RunLogLine {
  int64_t time_us = 0;
  std::string level;
  std::string component;
  std::string message;
};

/// One stream of a connection as last discovered by a run: its schema (JSON array of
/// {name, type, nullable}) and when it last changed.
struct CatalogStream {
  std::string team;
  std::string connection;  // "" when the job gives the connector inline
  std::string job;         // the job that discovered it
  std::string stream;
  std::string schema_json;
  int64_t discovered_us = 0;
  int64_t changed_us = 0;  // 0: never changed since first seen
  std::string previous_schema_json;
};

/// One due fire for FireSchedules.
struct DueFire {
  std::string team;
  std::string job;
  int64_t fire = 0;  // seconds since the epoch
};

class ServerStore {
 public:
  virtual ~ServerStore() = default;

  // Teams and tokens.
  virtual Status PutTeam(const Team& team) = 0;
  virtual Result<std::optional<Team>> GetTeam(const std::string& name) = 0;
  virtual Result<std::vector<Team>> ListTeams() = 0;
  /// Creates a token and returns its text (shown once; only its SHA-256 is kept).
  virtual Result<std::string> CreateToken(const TokenInfo& info) = 0;
  virtual Result<std::optional<TokenInfo>> LookupToken(const std::string& token) = 0;
  virtual Result<bool> AnyAdminToken() = 0;

  // Connections and jobs: Create fails with Conflict when the name is taken, Replace with
  // NotFound when it is not.
  virtual Status CreateConnection(const ConnectionRecord& record) = 0;
  virtual Status ReplaceConnection(const ConnectionRecord& record) = 0;
  virtual Result<std::optional<ConnectionRecord>> GetConnection(const std::string& team,
                                                                const std::string& name) = 0;
  virtual Result<std::vector<ConnectionRecord>> ListConnections(const std::string& team) = 0;
  /// NotFound when missing.
  virtual Status DeleteConnection(const std::string& team, const std::string& name) = 0;

  virtual Status CreateJob(const JobRecord& record) = 0;
  virtual Status ReplaceJob(const JobRecord& record) = 0;
  virtual Result<std::optional<JobRecord>> GetJob(const std::string& team,
                                                  const std::string& name) = 0;
  /// Every team's jobs when `team` is empty.
  virtual Result<std::vector<JobRecord>> ListJobs(const std::string& team) = 0;
  virtual Status DeleteJob(const std::string& team, const std::string& name) = 0;

  // The scheduler's ledger: the last fire recorded per job (nullopt: none yet, start from now).
  virtual Result<std::optional<int64_t>> LastFire(const std::string& team,
                                                  const std::string& job) = 0;
  /// Records each fire as a queued run and advances its job's ledger, all in one transaction;
  /// a fire already recorded is skipped. Returns the new runs' ids.
  virtual Result<std::vector<int64_t>> FireSchedules(const std::vector<DueFire>& fires,
                                                     int64_t now_us) = 0;
  /// Starts a job's ledger at `fire` without a run (a schedule seen for the first time).
  virtual Status StartLedger(const std::string& team, const std::string& job, int64_t fire) = 0;

  // Runs.
  /// Inserts a queued run; nullopt when a run with the same (team, job, trigger, fire) exists
  /// (fire != 0 only).
  virtual Result<std::optional<int64_t>> CreateRun(const RunRecord& run) = 0;
  virtual Status UpdateRun(const RunRecord& run) = 0;
  /// Moves a queued run to running (started at `started_us`); false when it is no longer
  /// queued: stopped meanwhile, or taken by another server sharing the store.
  virtual Result<bool> ClaimRun(int64_t id, int64_t started_us) = 0;
  /// `team` "" finds a run of any team.
  virtual Result<std::optional<RunRecord>> GetRun(const std::string& team, int64_t id) = 0;
  struct RunFilter {
    std::string team;  // "" = all teams
    std::string job;   // "" = all jobs
    std::optional<RunState> state;
    int limit = 100;
    bool oldest_first = false;
  };
  virtual Result<std::vector<RunRecord>> ListRuns(const RunFilter& filter) = 0;
  virtual Status AppendRunLog(int64_t run_id, const std::vector<RunLogLine>& lines) = 0;
  /// The last `limit` lines, oldest first.
  virtual Result<std::vector<RunLogLine>> RunLog(int64_t run_id, int limit) = 0;

  // Catalog.
  /// Records a stream's schema; returns true when it differs from the one recorded before.
  virtual Result<bool> RecordStream(const CatalogStream& stream) = 0;
  /// `connection` "" lists every stream of the team.
  virtual Result<std::vector<CatalogStream>> ListStreams(const std::string& team,
                                                         const std::string& connection) = 0;
};

/// The embedded default: an SQLite file (created when missing, parent folders too).
Result<std::unique_ptr<ServerStore>> OpenSqliteServerStore(const std::string& path, SecretBox box);
/// A PostgreSQL database for a team's server (`--db postgres://...`): the same tables, created
/// when missing; several servers may share it.
Result<std::unique_ptr<ServerStore>> OpenPostgresServerStore(const std::string& url,
                                                             SecretBox box);
/// `db`: a postgres:// or postgresql:// URL, else the path of an SQLite file.
Result<std::unique_ptr<ServerStore>> OpenServerStore(const std::string& db, SecretBox box);

/// Microseconds since the Unix epoch, now.
int64_t NowMicros();

}  // namespace sluice::server
