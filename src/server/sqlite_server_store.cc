#include <fmt/core.h>
#include <sqlite3.h>

#include <filesystem>
#include <mutex>
#include <nlohmann/json.hpp>

#include "connectors/sqlite/sqlite_client.h"
#include "server/server_store.h"
#include "server/store_codec.h"

namespace sluice::server {

using connectors::sqlite::Connection;
using connectors::sqlite::Statement;

namespace {

constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS teams(
  name TEXT PRIMARY KEY, max_concurrent_runs INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS tokens(
  hash TEXT PRIMARY KEY, name TEXT NOT NULL, team TEXT NOT NULL, admin INTEGER NOT NULL,
  created_us INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS connections(
  team TEXT NOT NULL, name TEXT NOT NULL, type TEXT NOT NULL, sealed_options TEXT NOT NULL,
  created_us INTEGER NOT NULL, updated_us INTEGER NOT NULL, PRIMARY KEY(team, name));
CREATE TABLE IF NOT EXISTS jobs(
  team TEXT NOT NULL, name TEXT NOT NULL, sealed_yaml TEXT NOT NULL,
  created_us INTEGER NOT NULL, updated_us INTEGER NOT NULL, PRIMARY KEY(team, name));
CREATE TABLE IF NOT EXISTS schedule_ledger(
  team TEXT NOT NULL, job TEXT NOT NULL, last_fire INTEGER NOT NULL, PRIMARY KEY(team, job));
CREATE TABLE IF NOT EXISTS runs(
  id INTEGER PRIMARY KEY AUTOINCREMENT, team TEXT NOT NULL, job TEXT NOT NULL,
  trigger TEXT NOT NULL, fire INTEGER NOT NULL, fresh INTEGER NOT NULL, state TEXT NOT NULL,
  queued_us INTEGER NOT NULL, started_us INTEGER NOT NULL, first_row_us INTEGER NOT NULL,
  ended_us INTEGER NOT NULL, rows_read INTEGER NOT NULL, rows_written INTEGER NOT NULL,
  bytes_read INTEGER NOT NULL, bytes_written INTEGER NOT NULL, resumed INTEGER NOT NULL,
  failure TEXT, tables TEXT);
CREATE UNIQUE INDEX IF NOT EXISTS runs_by_fire ON runs(team, job, trigger, fire) WHERE fire <> 0;
CREATE INDEX IF NOT EXISTS runs_by_job ON runs(team, job, id);
CREATE INDEX IF NOT EXISTS runs_by_state ON runs(state, id);
CREATE TABLE IF NOT EXISTS run_logs(
  run_id INTEGER NOT NULL, seq INTEGER NOT NULL, time_us INTEGER NOT NULL, level TEXT NOT NULL,
  component TEXT NOT NULL, message TEXT NOT NULL, PRIMARY KEY(run_id, seq));
CREATE TABLE IF NOT EXISTS catalog_streams(
  team TEXT NOT NULL, connection TEXT NOT NULL, stream TEXT NOT NULL, job TEXT NOT NULL,
  schema_json TEXT NOT NULL, previous_schema_json TEXT NOT NULL, discovered_us INTEGER NOT NULL,
  changed_us INTEGER NOT NULL, PRIMARY KEY(team, connection, stream));
)sql";

// A prepared statement with positional binds and typed column reads.
class Query {
 public:
  Query(Connection& db, std::string_view sql) : db_(db) {
    Result<Statement> prepared = db.Prepare(sql, "server store", /*persistent=*/true);
    if (prepared.ok())
      statement_ = std::move(*prepared);
    else
      status_ = prepared.status();
  }
  Query& Bind(std::string_view text) {
    if (statement_)
      sqlite3_bind_text(statement_.get(), ++index_, text.data(), static_cast<int>(text.size()),
                        SQLITE_TRANSIENT);
    return *this;
  }
  Query& Bind(const char* text) { return Bind(std::string_view(text)); }
  Query& Bind(const std::string& text) { return Bind(std::string_view(text)); }
  Query& Bind(int64_t value) {
    if (statement_)
      sqlite3_bind_int64(statement_.get(), ++index_, value);
    return *this;
  }
  Query& Bind(uint64_t value) { return Bind(static_cast<int64_t>(value)); }
  Query& Bind(int value) { return Bind(static_cast<int64_t>(value)); }
  Query& Bind(bool value) { return Bind(static_cast<int64_t>(value ? 1 : 0)); }

  /// Steps once: true with a row, false when done.
  Result<bool> Step() {
    if (!status_.ok())
      return status_;
    const int code = sqlite3_step(statement_.get());
    if (code == SQLITE_ROW)
      return true;
    if (code == SQLITE_DONE)
      return false;
    return db_.Error(code, "server store");
  }
  Status Run() {
    Result<bool> stepped = Step();
    return stepped.ok() ? Status::OK() : stepped.status();
  }
  int64_t Int(int column) const { return sqlite3_column_int64(statement_.get(), column); }
  std::string Text(int column) const {
    const unsigned char* text = sqlite3_column_text(statement_.get(), column);
    return text ? std::string(reinterpret_cast<const char*>(text),
                              static_cast<size_t>(sqlite3_column_bytes(statement_.get(), column)))
                : std::string();
  }
  int changes() const { return sqlite3_changes(db_.get()); }

 private:
  Connection& db_;
  Statement statement_;
  Status status_;
  int index_ = 0;
};

constexpr const char* kRunColumns =
    "id, team, job, trigger, fire, fresh, state, queued_us, started_us, first_row_us, ended_us, "
    "rows_read, rows_written, bytes_read, bytes_written, resumed, failure, tables";

RunRecord ReadRun(const Query& q) {
  RunRecord run;
  run.id = q.Int(0);
  run.team = q.Text(1);
  run.job = q.Text(2);
  run.trigger = q.Text(3);
  run.fire = q.Int(4);
  run.fresh = q.Int(5) != 0;
  run.state = ParseRunState(q.Text(6)).value_or(RunState::kFailed);
  run.queued_us = q.Int(7);
  run.started_us = q.Int(8);
  run.first_row_us = q.Int(9);
  run.ended_us = q.Int(10);
  run.rows_read = static_cast<uint64_t>(q.Int(11));
  run.rows_written = static_cast<uint64_t>(q.Int(12));
  run.bytes_read = static_cast<uint64_t>(q.Int(13));
  run.bytes_written = static_cast<uint64_t>(q.Int(14));
  run.resumed = q.Int(15) != 0;
  run.failure = FailureFromText(q.Text(16));
  run.tables = TablesFromText(q.Text(17));
  return run;
}

}  // namespace

class SqliteServerStore final : public ServerStore {
 public:
  SqliteServerStore(Connection db, SecretBox box) : db(std::move(db)), box(std::move(box)) {}

  Status PutTeam(const Team& team) override;
  Result<std::optional<Team>> GetTeam(const std::string& name) override;
  Result<std::vector<Team>> ListTeams() override;
  Result<std::string> CreateToken(const TokenInfo& info) override;
  Result<std::optional<TokenInfo>> LookupToken(const std::string& token) override;
  Result<bool> AnyAdminToken() override;
  Status CreateConnection(const ConnectionRecord& record) override;
  Status ReplaceConnection(const ConnectionRecord& record) override;
  Result<std::optional<ConnectionRecord>> GetConnection(const std::string& team,
                                                        const std::string& name) override;
  Result<std::vector<ConnectionRecord>> ListConnections(const std::string& team) override;
  Status DeleteConnection(const std::string& team, const std::string& name) override;
  Status CreateJob(const JobRecord& record) override;
  Status ReplaceJob(const JobRecord& record) override;
  Result<std::optional<JobRecord>> GetJob(const std::string& team,
                                          const std::string& name) override;
  Result<std::vector<JobRecord>> ListJobs(const std::string& team) override;
  Status DeleteJob(const std::string& team, const std::string& name) override;
  Result<std::optional<int64_t>> LastFire(const std::string& team,
                                          const std::string& job) override;
  Result<std::vector<int64_t>> FireSchedules(const std::vector<DueFire>& fires,
                                             int64_t now_us) override;
  Status StartLedger(const std::string& team, const std::string& job, int64_t fire) override;
  Result<std::optional<int64_t>> CreateRun(const RunRecord& run) override;
  Status UpdateRun(const RunRecord& run) override;
  Result<bool> ClaimRun(int64_t id, int64_t started_us) override;
  Result<std::optional<RunRecord>> GetRun(const std::string& team, int64_t id) override;
  Result<std::vector<RunRecord>> ListRuns(const RunFilter& filter) override;
  Status AppendRunLog(int64_t run_id, const std::vector<RunLogLine>& lines) override;
  Result<std::vector<RunLogLine>> RunLog(int64_t run_id, int limit) override;
  Result<bool> RecordStream(const CatalogStream& stream) override;
  Result<std::vector<CatalogStream>> ListStreams(const std::string& team,
                                                 const std::string& connection) override;

 private:

  // Runs `body` in one transaction (rolled back when it fails).
  template <typename Body>
  Status Transaction(Body body) {
    SLUICE_RETURN_IF_ERROR(db.Execute("BEGIN IMMEDIATE", "server store"));
    Status status = body();
    if (status.ok())
      status = db.Execute("COMMIT", "server store");
    if (!status.ok())
      (void)db.Execute("ROLLBACK", "server store");
    return status;
  }

  Connection db;
  SecretBox box;
  std::mutex mutex;
};

Result<std::unique_ptr<ServerStore>> OpenSqliteServerStore(const std::string& path,
                                                           SecretBox box) {
  std::error_code error;
  std::filesystem::path parent = std::filesystem::path(path).parent_path();
  if (!parent.empty())
    std::filesystem::create_directories(parent, error);
  SLUICE_ASSIGN_OR_RETURN(
      Connection db, Connection::Open(path, Connection::Mode::kReadWriteCreate, "server store"));
  SLUICE_RETURN_IF_ERROR(
      db.Execute("PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;", "server store"));
  SLUICE_RETURN_IF_ERROR(db.Execute(kSchema, "server store: create tables"));
  return std::unique_ptr<ServerStore>(new SqliteServerStore(std::move(db), std::move(box)));
}

// ----- teams and tokens ------------------------------------------------------------------------

Status SqliteServerStore::PutTeam(const Team& team) {
  std::lock_guard<std::mutex> lock(mutex);
  return Query(db,
               "INSERT INTO teams(name, max_concurrent_runs) VALUES(?, ?) ON CONFLICT(name) DO "
               "UPDATE SET max_concurrent_runs = excluded.max_concurrent_runs")
      .Bind(team.name)
      .Bind(team.max_concurrent_runs)
      .Run();
}

Result<std::optional<Team>> SqliteServerStore::GetTeam(const std::string& name) {
  std::lock_guard<std::mutex> lock(mutex);
  Query q(db, "SELECT name, max_concurrent_runs FROM teams WHERE name = ?");
  q.Bind(name);
  SLUICE_ASSIGN_OR_RETURN(bool row, q.Step());
  if (!row)
    return std::optional<Team>();
  return std::optional<Team>(Team{q.Text(0), static_cast<int>(q.Int(1))});
}

Result<std::vector<Team>> SqliteServerStore::ListTeams() {
  std::lock_guard<std::mutex> lock(mutex);
  Query q(db, "SELECT name, max_concurrent_runs FROM teams ORDER BY name");
  std::vector<Team> teams;
  while (true) {
    SLUICE_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row)
      break;
    teams.push_back(Team{q.Text(0), static_cast<int>(q.Int(1))});
  }
  return teams;
}

Result<std::string> SqliteServerStore::CreateToken(const TokenInfo& info) {
  SLUICE_ASSIGN_OR_RETURN(std::string token, NewTokenText());
  std::lock_guard<std::mutex> lock(mutex);
  SLUICE_RETURN_IF_ERROR(
      Query(db,
            "INSERT INTO tokens(hash, name, team, admin, created_us) VALUES(?, ?, ?, ?, ?)")
          .Bind(Sha256Hex(token))
          .Bind(info.name)
          .Bind(info.team)
          .Bind(info.admin)
          .Bind(NowMicros())
          .Run());
  return token;
}

Result<std::optional<TokenInfo>> SqliteServerStore::LookupToken(const std::string& token) {
  std::lock_guard<std::mutex> lock(mutex);
  Query q(db, "SELECT name, team, admin FROM tokens WHERE hash = ?");
  q.Bind(Sha256Hex(token));
  SLUICE_ASSIGN_OR_RETURN(bool row, q.Step());
  if (!row)
    return std::optional<TokenInfo>();
  return std::optional<TokenInfo>(TokenInfo{q.Text(0), q.Text(1), q.Int(2) != 0});
}

Result<bool> SqliteServerStore::AnyAdminToken() {
  std::lock_guard<std::mutex> lock(mutex);
  Query q(db, "SELECT 1 FROM tokens WHERE admin = 1 LIMIT 1");
  return q.Step();
}

// ----- connections and jobs --------------------------------------------------------------------

Status SqliteServerStore::CreateConnection(const ConnectionRecord& record) {
  SLUICE_ASSIGN_OR_RETURN(std::string sealed, box.Seal(record.options_json));
  std::lock_guard<std::mutex> lock(mutex);
  const int64_t now = NowMicros();
  Query q(db,
          "INSERT INTO connections(team, name, type, sealed_options, created_us, updated_us) "
          "VALUES(?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING");
  SLUICE_RETURN_IF_ERROR(
      q.Bind(record.team).Bind(record.name).Bind(record.type).Bind(sealed).Bind(now).Bind(now).Run());
  if (q.changes() == 0)
    return Conflict(fmt::format("a connection named '{}' exists already (PUT replaces it)",
                                record.name));
  return Status::OK();
}

Status SqliteServerStore::ReplaceConnection(const ConnectionRecord& record) {
  SLUICE_ASSIGN_OR_RETURN(std::string sealed, box.Seal(record.options_json));
  std::lock_guard<std::mutex> lock(mutex);
  Query q(db,
          "UPDATE connections SET type = ?, sealed_options = ?, updated_us = ? WHERE team = ? AND "
          "name = ?");
  SLUICE_RETURN_IF_ERROR(
      q.Bind(record.type).Bind(sealed).Bind(NowMicros()).Bind(record.team).Bind(record.name).Run());
  if (q.changes() == 0)
    return NotFound(fmt::format("no connection named '{}'", record.name));
  return Status::OK();
}

Result<std::optional<ConnectionRecord>> SqliteServerStore::GetConnection(const std::string& team,
                                                                   const std::string& name) {
  SLUICE_ASSIGN_OR_RETURN(std::vector<ConnectionRecord> all, ListConnections(team));
  for (ConnectionRecord& record : all) {
    if (record.name == name)
      return std::optional<ConnectionRecord>(std::move(record));
  }
  return std::optional<ConnectionRecord>();
}

Result<std::vector<ConnectionRecord>> SqliteServerStore::ListConnections(const std::string& team) {
  std::lock_guard<std::mutex> lock(mutex);
  Query q(db,
          "SELECT team, name, type, sealed_options, created_us, updated_us FROM connections "
          "WHERE team = ? ORDER BY name");
  q.Bind(team);
  std::vector<ConnectionRecord> out;
  while (true) {
    SLUICE_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row)
      break;
    ConnectionRecord record{q.Text(0), q.Text(1), q.Text(2), "", q.Int(4), q.Int(5)};
    SLUICE_ASSIGN_OR_RETURN(record.options_json, box.Open(q.Text(3)));
    out.push_back(std::move(record));
  }
  return out;
}

Status SqliteServerStore::DeleteConnection(const std::string& team, const std::string& name) {
  std::lock_guard<std::mutex> lock(mutex);
  Query q(db, "DELETE FROM connections WHERE team = ? AND name = ?");
  SLUICE_RETURN_IF_ERROR(q.Bind(team).Bind(name).Run());
  if (q.changes() == 0)
    return NotFound(fmt::format("no connection named '{}'", name));
  return Status::OK();
}

Status SqliteServerStore::CreateJob(const JobRecord& record) {
  SLUICE_ASSIGN_OR_RETURN(std::string sealed, box.Seal(record.yaml));
  std::lock_guard<std::mutex> lock(mutex);
  const int64_t now = NowMicros();
  Query q(db,
          "INSERT INTO jobs(team, name, sealed_yaml, created_us, updated_us) VALUES(?, ?, ?, ?, "
          "?) ON CONFLICT DO NOTHING");
  SLUICE_RETURN_IF_ERROR(q.Bind(record.team).Bind(record.name).Bind(sealed).Bind(now).Bind(now).Run());
  if (q.changes() == 0)
    return Conflict(fmt::format("a job named '{}' exists already (PUT replaces it)", record.name));
  return Status::OK();
}

Status SqliteServerStore::ReplaceJob(const JobRecord& record) {
  SLUICE_ASSIGN_OR_RETURN(std::string sealed, box.Seal(record.yaml));
  std::lock_guard<std::mutex> lock(mutex);
  Query q(db, "UPDATE jobs SET sealed_yaml = ?, updated_us = ? WHERE team = ? AND name = ?");
  SLUICE_RETURN_IF_ERROR(q.Bind(sealed).Bind(NowMicros()).Bind(record.team).Bind(record.name).Run());
  if (q.changes() == 0)
    return NotFound(fmt::format("no job named '{}'", record.name));
  return Status::OK();
}

Result<std::optional<JobRecord>> SqliteServerStore::GetJob(const std::string& team,
                                                     const std::string& name) {
  std::lock_guard<std::mutex> lock(mutex);
  Query q(db,
          "SELECT team, name, sealed_yaml, created_us, updated_us FROM jobs WHERE team = ? AND "
          "name = ?");
  q.Bind(team).Bind(name);
  SLUICE_ASSIGN_OR_RETURN(bool row, q.Step());
  if (!row)
    return std::optional<JobRecord>();
  JobRecord record{q.Text(0), q.Text(1), "", q.Int(3), q.Int(4)};
  SLUICE_ASSIGN_OR_RETURN(record.yaml, box.Open(q.Text(2)));
  return std::optional<JobRecord>(std::move(record));
}

Result<std::vector<JobRecord>> SqliteServerStore::ListJobs(const std::string& team) {
  std::lock_guard<std::mutex> lock(mutex);
  Query q(db,
          "SELECT team, name, sealed_yaml, created_us, updated_us FROM jobs WHERE ? = '' OR team "
          "= ? ORDER BY team, name");
  q.Bind(team).Bind(team);
  std::vector<JobRecord> out;
  while (true) {
    SLUICE_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row)
      break;
    JobRecord record{q.Text(0), q.Text(1), "", q.Int(3), q.Int(4)};
    SLUICE_ASSIGN_OR_RETURN(record.yaml, box.Open(q.Text(2)));
    out.push_back(std::move(record));
  }
  return out;
}

Status SqliteServerStore::DeleteJob(const std::string& team, const std::string& name) {
  std::lock_guard<std::mutex> lock(mutex);
  return Transaction([&]() -> Status {
    Query q(db, "DELETE FROM jobs WHERE team = ? AND name = ?");
    SLUICE_RETURN_IF_ERROR(q.Bind(team).Bind(name).Run());
    if (q.changes() == 0)
      return NotFound(fmt::format("no job named '{}'", name));
    return Query(db, "DELETE FROM schedule_ledger WHERE team = ? AND job = ?")
        .Bind(team)
        .Bind(name)
        .Run();
  });
}

// ----- the scheduler's ledger ------------------------------------------------------------------

Result<std::optional<int64_t>> SqliteServerStore::LastFire(const std::string& team,
                                                     const std::string& job) {
  std::lock_guard<std::mutex> lock(mutex);
  Query q(db, "SELECT last_fire FROM schedule_ledger WHERE team = ? AND job = ?");
  q.Bind(team).Bind(job);
  SLUICE_ASSIGN_OR_RETURN(bool row, q.Step());
  if (!row)
    return std::optional<int64_t>();
  return std::optional<int64_t>(q.Int(0));
}

Status SqliteServerStore::StartLedger(const std::string& team, const std::string& job, int64_t fire) {
  std::lock_guard<std::mutex> lock(mutex);
  return Query(db,
               "INSERT INTO schedule_ledger(team, job, last_fire) VALUES(?, ?, ?) ON CONFLICT DO "
               "NOTHING")
      .Bind(team)
      .Bind(job)
      .Bind(fire)
      .Run();
}

Result<std::vector<int64_t>> SqliteServerStore::FireSchedules(const std::vector<DueFire>& fires,
                                                        int64_t now_us) {
  std::vector<int64_t> ids;
  std::lock_guard<std::mutex> lock(mutex);
  SLUICE_RETURN_IF_ERROR(Transaction([&]() -> Status {
    for (const DueFire& fire : fires) {
      Query insert(db,
                   "INSERT INTO runs(team, job, trigger, fire, fresh, state, queued_us, "
                   "started_us, first_row_us, ended_us, rows_read, rows_written, bytes_read, "
                   "bytes_written, resumed) VALUES(?, ?, 'schedule', ?, 0, 'queued', ?, 0, 0, 0, "
                   "0, 0, 0, 0, 0) ON CONFLICT DO NOTHING");
      SLUICE_RETURN_IF_ERROR(insert.Bind(fire.team).Bind(fire.job).Bind(fire.fire).Bind(now_us).Run());
      if (insert.changes() > 0)
        ids.push_back(sqlite3_last_insert_rowid(db.get()));
      SLUICE_RETURN_IF_ERROR(
          Query(db,
                "INSERT INTO schedule_ledger(team, job, last_fire) VALUES(?, ?, ?) ON "
                "CONFLICT(team, job) DO UPDATE SET last_fire = max(last_fire, excluded.last_fire)")
              .Bind(fire.team)
              .Bind(fire.job)
              .Bind(fire.fire)
              .Run());
    }
    return Status::OK();
  }));
  return ids;
}

// ----- runs ------------------------------------------------------------------------------------

Result<std::optional<int64_t>> SqliteServerStore::CreateRun(const RunRecord& run) {
  std::lock_guard<std::mutex> lock(mutex);
  Query q(db,
          "INSERT INTO runs(team, job, trigger, fire, fresh, state, queued_us, started_us, "
          "first_row_us, ended_us, rows_read, rows_written, bytes_read, bytes_written, resumed) "
          "VALUES(?, ?, ?, ?, ?, ?, ?, 0, 0, 0, 0, 0, 0, 0, 0) ON CONFLICT DO NOTHING");
  SLUICE_RETURN_IF_ERROR(q.Bind(run.team)
                             .Bind(run.job)
                             .Bind(run.trigger)
                             .Bind(run.fire)
                             .Bind(run.fresh)
                             .Bind(RunStateName(run.state))
                             .Bind(run.queued_us)
                             .Run());
  if (q.changes() == 0)
    return std::optional<int64_t>();
  return std::optional<int64_t>(sqlite3_last_insert_rowid(db.get()));
}

Status SqliteServerStore::UpdateRun(const RunRecord& run) {
  std::lock_guard<std::mutex> lock(mutex);
  return Query(db,
               "UPDATE runs SET state = ?, started_us = ?, first_row_us = ?, ended_us = ?, "
               "rows_read = ?, rows_written = ?, bytes_read = ?, bytes_written = ?, resumed = ?, "
               "failure = ?, tables = ? WHERE id = ?")
      .Bind(RunStateName(run.state))
      .Bind(run.started_us)
      .Bind(run.first_row_us)
      .Bind(run.ended_us)
      .Bind(run.rows_read)
      .Bind(run.rows_written)
      .Bind(run.bytes_read)
      .Bind(run.bytes_written)
      .Bind(run.resumed)
      .Bind(FailureText(run.failure))
      .Bind(TablesText(run.tables))
      .Bind(run.id)
      .Run();
}

Result<bool> SqliteServerStore::ClaimRun(int64_t id, int64_t started_us) {
  std::lock_guard<std::mutex> lock(mutex);
  Query q(db, "UPDATE runs SET state = 'running', started_us = ? WHERE id = ? AND state = 'queued'");
  SLUICE_RETURN_IF_ERROR(q.Bind(started_us).Bind(id).Run());
  return q.changes() == 1;
}

Result<std::optional<RunRecord>> SqliteServerStore::GetRun(const std::string& team, int64_t id) {
  std::lock_guard<std::mutex> lock(mutex);
  Query q(db, fmt::format("SELECT {} FROM runs WHERE id = ? AND (? = '' OR team = ?)",
                                 kRunColumns));
  q.Bind(id).Bind(team).Bind(team);
  SLUICE_ASSIGN_OR_RETURN(bool row, q.Step());
  if (!row)
    return std::optional<RunRecord>();
  return std::optional<RunRecord>(ReadRun(q));
}

Result<std::vector<RunRecord>> SqliteServerStore::ListRuns(const RunFilter& filter) {
  std::lock_guard<std::mutex> lock(mutex);
  Query q(db,
          fmt::format("SELECT {} FROM runs WHERE (? = '' OR team = ?) AND (? = '' OR job = ?) "
                      "AND (? = '' OR state = ?) ORDER BY id {} LIMIT ?",
                      kRunColumns, filter.oldest_first ? "ASC" : "DESC"));
  const std::string state = filter.state ? std::string(RunStateName(*filter.state)) : "";
  q.Bind(filter.team).Bind(filter.team).Bind(filter.job).Bind(filter.job).Bind(state).Bind(state);
  q.Bind(filter.limit);
  std::vector<RunRecord> runs;
  while (true) {
    SLUICE_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row)
      break;
    runs.push_back(ReadRun(q));
  }
  return runs;
}

Status SqliteServerStore::AppendRunLog(int64_t run_id, const std::vector<RunLogLine>& lines) {
  if (lines.empty())
    return Status::OK();
  std::lock_guard<std::mutex> lock(mutex);
  return Transaction([&]() -> Status {
    Query next(db, "SELECT coalesce(max(seq), 0) FROM run_logs WHERE run_id = ?");
    next.Bind(run_id);
    SLUICE_RETURN_IF_ERROR(next.Run());
    int64_t seq = next.Int(0);
    for (const RunLogLine& line : lines) {
      SLUICE_RETURN_IF_ERROR(
          Query(db,
                "INSERT INTO run_logs(run_id, seq, time_us, level, component, message) VALUES(?, "
                "?, ?, ?, ?, ?)")
              .Bind(run_id)
              .Bind(++seq)
              .Bind(line.time_us)
              .Bind(line.level)
              .Bind(line.component)
              .Bind(line.message)
              .Run());
    }
    return Status::OK();
  });
}

Result<std::vector<RunLogLine>> SqliteServerStore::RunLog(int64_t run_id, int limit) {
  std::lock_guard<std::mutex> lock(mutex);
  Query q(db,
          "SELECT time_us, level, component, message FROM (SELECT * FROM run_logs WHERE run_id = "
          "? ORDER BY seq DESC LIMIT ?) ORDER BY seq");
  q.Bind(run_id).Bind(limit);
  std::vector<RunLogLine> lines;
  while (true) {
    SLUICE_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row)
      break;
    lines.push_back(RunLogLine{q.Int(0), q.Text(1), q.Text(2), q.Text(3)});
  }
  return lines;
}

// ----- catalog ---------------------------------------------------------------------------------

Result<bool> SqliteServerStore::RecordStream(const CatalogStream& stream) {
  std::lock_guard<std::mutex> lock(mutex);
  bool changed = false;
  SLUICE_RETURN_IF_ERROR(Transaction([&]() -> Status {
    Query q(db,
            "SELECT schema_json FROM catalog_streams WHERE team = ? AND connection = ? AND "
            "stream = ?");
    q.Bind(stream.team).Bind(stream.connection).Bind(stream.stream);
    SLUICE_ASSIGN_OR_RETURN(bool row, q.Step());
    const int64_t now = NowMicros();
    if (!row) {
      return Query(db,
                   "INSERT INTO catalog_streams(team, connection, stream, job, schema_json, "
                   "previous_schema_json, discovered_us, changed_us) VALUES(?, ?, ?, ?, ?, '', ?, "
                   "0)")
          .Bind(stream.team)
          .Bind(stream.connection)
          .Bind(stream.stream)
          .Bind(stream.job)
          .Bind(stream.schema_json)
          .Bind(now)
          .Run();
    }
    const std::string before = q.Text(0);
    changed = before != stream.schema_json;
    if (changed) {
      return Query(db,
                   "UPDATE catalog_streams SET job = ?, previous_schema_json = schema_json, "
                   "schema_json = ?, discovered_us = ?, changed_us = ? WHERE team = ? AND "
                   "connection = ? AND stream = ?")
          .Bind(stream.job)
          .Bind(stream.schema_json)
          .Bind(now)
          .Bind(now)
          .Bind(stream.team)
          .Bind(stream.connection)
          .Bind(stream.stream)
          .Run();
    }
    return Query(db,
                 "UPDATE catalog_streams SET job = ?, discovered_us = ? WHERE team = ? AND "
                 "connection = ? AND stream = ?")
        .Bind(stream.job)
        .Bind(now)
        .Bind(stream.team)
        .Bind(stream.connection)
        .Bind(stream.stream)
        .Run();
  }));
  return changed;
}

Result<std::vector<CatalogStream>> SqliteServerStore::ListStreams(const std::string& team,
                                                            const std::string& connection) {
  std::lock_guard<std::mutex> lock(mutex);
  Query q(db,
          "SELECT team, connection, job, stream, schema_json, discovered_us, changed_us, "
          "previous_schema_json FROM catalog_streams WHERE team = ? AND (? = '' OR connection = "
          "?) ORDER BY connection, stream");
  q.Bind(team).Bind(connection).Bind(connection);
  std::vector<CatalogStream> out;
  while (true) {
    SLUICE_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row)
      break;
    out.push_back(CatalogStream{q.Text(0), q.Text(1), q.Text(2), q.Text(3), q.Text(4), q.Int(5),
                                q.Int(6), q.Text(7)});
  }
  return out;
}

}  // namespace sluice::server
