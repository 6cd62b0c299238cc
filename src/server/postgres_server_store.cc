// The PostgreSQL ServerStore (`sluice server --db postgres://...`): the SQLite store's tables and
// semantics (sqlite_server_store.cc), prefixed sluice_server_ in the database's search_path, so
// that several servers can share one database.
//
// Concurrency between servers rests on the database: every multi-statement write is one
// transaction; a fire is a row of the partial unique index on (team, job, trigger, fire), so two
// servers recording the same fire at once get one run (the second INSERT waits for the first
// transaction, then does nothing); the ledger only moves forward (GREATEST). A transaction the
// server rolled back (deadlock, serialization failure) is run again.
//
// One connection behind a mutex. Before each call an idle connection is checked without a round
// trip (CheckIdle): one the server ended (restart, pg_terminate_backend) is replaced. A call whose
// connection is lost under it is repeated on a new connection only when repeating it cannot
// record something twice; otherwise it fails with Unavailable and the next call reconnects.
//
// The password (from the URL, else libpq's PGPASSWORD or ~/.pgpass) goes to libpq only; every
// error leaving this file is scrubbed of it besides.
#include <fmt/core.h>

#include <algorithm>
#include <charconv>
#include <mutex>
#include <numeric>
#include <tuple>
#include <type_traits>

#include "connectors/postgres/postgres_client.h"
#include "server/server_store.h"
#include "server/store_codec.h"

namespace sluice::server {

using connectors::postgres::ConnectionOptions;
using connectors::postgres::PgConnection;
using connectors::postgres::PgResult;

namespace {

constexpr const char* kWhat = "server store";

// Serializes the creation of the tables by servers starting at once (CREATE TABLE IF NOT EXISTS
// races on the catalog otherwise). An arbitrary constant of Sluice's.
constexpr const char* kSchemaLockKey = "7365727665720001";

constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS sluice_server_teams(
  name TEXT PRIMARY KEY, max_concurrent_runs INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS sluice_server_tokens(
  hash TEXT PRIMARY KEY, name TEXT NOT NULL, team TEXT NOT NULL, admin BOOLEAN NOT NULL,
  created_us BIGINT NOT NULL);
CREATE TABLE IF NOT EXISTS sluice_server_connections(
  team TEXT NOT NULL, name TEXT NOT NULL, type TEXT NOT NULL, sealed_options TEXT NOT NULL,
  created_us BIGINT NOT NULL, updated_us BIGINT NOT NULL, PRIMARY KEY(team, name));
CREATE TABLE IF NOT EXISTS sluice_server_jobs(
  team TEXT NOT NULL, name TEXT NOT NULL, sealed_yaml TEXT NOT NULL,
  created_us BIGINT NOT NULL, updated_us BIGINT NOT NULL, PRIMARY KEY(team, name));
CREATE TABLE IF NOT EXISTS sluice_server_schedule_ledger(
  team TEXT NOT NULL, job TEXT NOT NULL, last_fire BIGINT NOT NULL, PRIMARY KEY(team, job));
CREATE TABLE IF NOT EXISTS sluice_server_runs(
  id BIGSERIAL PRIMARY KEY, team TEXT NOT NULL, job TEXT NOT NULL,
  trigger TEXT NOT NULL, fire BIGINT NOT NULL, fresh BOOLEAN NOT NULL, state TEXT NOT NULL,
  queued_us BIGINT NOT NULL, started_us BIGINT NOT NULL, first_row_us BIGINT NOT NULL,
  ended_us BIGINT NOT NULL, rows_read BIGINT NOT NULL, rows_written BIGINT NOT NULL,
  bytes_read BIGINT NOT NULL, bytes_written BIGINT NOT NULL, resumed BOOLEAN NOT NULL,
  failure TEXT, tables TEXT);
CREATE UNIQUE INDEX IF NOT EXISTS sluice_server_runs_by_fire
  ON sluice_server_runs(team, job, trigger, fire) WHERE fire <> 0;
CREATE INDEX IF NOT EXISTS sluice_server_runs_by_job ON sluice_server_runs(team, job, id);
CREATE INDEX IF NOT EXISTS sluice_server_runs_by_state ON sluice_server_runs(state, id);
CREATE TABLE IF NOT EXISTS sluice_server_run_logs(
  run_id BIGINT NOT NULL, seq BIGINT NOT NULL, time_us BIGINT NOT NULL, level TEXT NOT NULL,
  component TEXT NOT NULL, message TEXT NOT NULL, PRIMARY KEY(run_id, seq));
CREATE TABLE IF NOT EXISTS sluice_server_catalog_streams(
  team TEXT NOT NULL, connection TEXT NOT NULL, stream TEXT NOT NULL, job TEXT NOT NULL,
  schema_json TEXT NOT NULL, previous_schema_json TEXT NOT NULL, discovered_us BIGINT NOT NULL,
  changed_us BIGINT NOT NULL, PRIMARY KEY(team, connection, stream));
)sql";

// Run columns in ReadRun's order. failure and tables are NULL until the first UpdateRun.
constexpr const char* kRunColumns =
    "id, team, job, trigger, fire, fresh, state, queued_us, started_us, first_row_us, ended_us, "
    "rows_read, rows_written, bytes_read, bytes_written, resumed, coalesce(failure, ''), "
    "coalesce(tables, '')";

// A transaction the server rolled back (deadlock, serialization failure) is run again, at most
// this many times in all.
constexpr int kAttempts = 4;

using Params = std::vector<std::optional<std::string>>;

std::string Param(const std::string& text) {
  return text;
}
std::string Param(std::string_view text) {
  return std::string(text);
}
std::string Param(int64_t value) {
  return std::to_string(value);
}
// Unsigned figures are kept as BIGINT, as the SQLite store keeps them.
std::string Param(uint64_t value) {
  return std::to_string(static_cast<int64_t>(value));
}
std::string Param(int value) {
  return std::to_string(value);
}
std::string Param(bool value) {
  return value ? "true" : "false";
}

std::optional<std::string> Param(std::optional<std::string> value) {
  return value;
}

// A negative limit is none, as in SQLite (LIMIT NULL is LIMIT ALL).
std::optional<std::string> LimitParam(int limit) {
  return limit < 0 ? std::nullopt : std::optional<std::string>(std::to_string(limit));
}

template <typename... Args>
Params P(const Args&... args) {
  Params params;
  params.reserve(sizeof...(args));
  (params.emplace_back(Param(args)), ...);
  return params;
}

int64_t Int(const PgResult& result, int row, int column) {
  std::string_view text = result.Value(row, column);
  int64_t value = 0;
  std::from_chars(text.data(), text.data() + text.size(), value);
  return value;
}

bool Bool(const PgResult& result, int row, int column) {
  return result.Value(row, column) == "t";
}

RunRecord ReadRun(const PgResult& r, int row) {
  RunRecord run;
  run.id = Int(r, row, 0);
  run.team = r.Text(row, 1);
  run.job = r.Text(row, 2);
  run.trigger = r.Text(row, 3);
  run.fire = Int(r, row, 4);
  run.fresh = Bool(r, row, 5);
  run.state = ParseRunState(r.Value(row, 6)).value_or(RunState::kFailed);
  run.queued_us = Int(r, row, 7);
  run.started_us = Int(r, row, 8);
  run.first_row_us = Int(r, row, 9);
  run.ended_us = Int(r, row, 10);
  run.rows_read = static_cast<uint64_t>(Int(r, row, 11));
  run.rows_written = static_cast<uint64_t>(Int(r, row, 12));
  run.bytes_read = static_cast<uint64_t>(Int(r, row, 13));
  run.bytes_written = static_cast<uint64_t>(Int(r, row, 14));
  run.resumed = Bool(r, row, 15);
  run.failure = FailureFromText(r.Text(row, 16));
  run.tables = TablesFromText(r.Text(row, 17));
  return run;
}

Status StatusOf(const Status& status) {
  return status;
}
template <typename T>
Status StatusOf(const Result<T>& result) {
  return result.status();
}

// The status with every occurrence of the password replaced. libpq's messages do not carry it;
// this makes sure of it.
Status ScrubPassword(const Status& status, const Secret& secret) {
  const std::string& password = secret.Reveal();
  if (status.ok() || password.empty() || status.message().find(password) == std::string::npos)
    return status;
  std::string message = status.message();
  constexpr std::string_view kRedacted = "**REDACTED**";
  for (size_t at = message.find(password); at != std::string::npos;
       at = message.find(password, at + kRedacted.size())) {
    message.replace(at, password.size(), kRedacted);
  }
  return Status(status.code(), std::move(message));
}

// Decodes %XX escapes of one part of the URL.
Result<std::string> PercentDecode(std::string_view text, std::string_view part) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '%') {
      out.push_back(text[i]);
      continue;
    }
    unsigned value = 0;
    if (i + 2 >= text.size() ||
        std::from_chars(text.data() + i + 1, text.data() + i + 3, value, 16).ptr !=
            text.data() + i + 3) {
      // The text itself is not repeated: the part may be the password.
      return InvalidConfig(
          fmt::format("{}: the --db URL's {} has a '%' not followed by two hex digits", kWhat,
                      part));
    }
    out.push_back(static_cast<char>(value));
    i += 2;
  }
  return out;
}

// postgres://[user[:password]@][host][:port][/database]. Errors never repeat the URL (it may
// hold the password).
Result<ConnectionOptions> ParsePostgresUrl(std::string_view url) {
  ConnectionOptions options;
  options.host.clear();  // libpq's default (PGHOST, else the local socket) when the URL has none
  for (std::string_view scheme : {"postgresql://", "postgres://"}) {
    if (url.substr(0, scheme.size()) == scheme) {
      url.remove_prefix(scheme.size());
      break;
    }
  }
  if (size_t query = url.find('?'); query != std::string_view::npos) {
    return InvalidConfig(fmt::format(
        "{}: the --db URL takes no parameters ('?...'); set libpq's environment variables "
        "instead (PGSSLMODE, PGSSLROOTCERT, PGCONNECT_TIMEOUT, ...)",
        kWhat));
  }
  std::string_view authority = url.substr(0, url.find('/'));
  std::string_view path =
      authority.size() < url.size() ? url.substr(authority.size() + 1) : std::string_view();
  if (size_t at = authority.rfind('@'); at != std::string_view::npos) {
    std::string_view user_info = authority.substr(0, at);
    authority.remove_prefix(at + 1);
    size_t colon = user_info.find(':');
    SLUICE_ASSIGN_OR_RETURN(options.user, PercentDecode(user_info.substr(0, colon), "user"));
    if (colon != std::string_view::npos) {
      SLUICE_ASSIGN_OR_RETURN(std::string password,
                              PercentDecode(user_info.substr(colon + 1), "password"));
      options.password = Secret(std::move(password));
    }
  }
  std::string_view host = authority;
  std::string_view port;
  if (!host.empty() && host.front() == '[') {
    size_t close = host.find(']');
    if (close == std::string_view::npos)
      return InvalidConfig(fmt::format("{}: the --db URL's host has '[' without ']'", kWhat));
    port = host.substr(close + 1);
    host = host.substr(1, close - 1);
    if (!port.empty() && port.front() != ':')
      return InvalidConfig(fmt::format("{}: the --db URL has text after its host's ']'", kWhat));
    if (!port.empty())
      port.remove_prefix(1);
  } else if (size_t colon = host.rfind(':'); colon != std::string_view::npos) {
    port = host.substr(colon + 1);
    host = host.substr(0, colon);
  }
  SLUICE_ASSIGN_OR_RETURN(options.host, PercentDecode(host, "host"));
  if (!port.empty()) {
    int value = 0;
    auto [end, error] = std::from_chars(port.data(), port.data() + port.size(), value);
    if (error != std::errc() || end != port.data() + port.size() || value < 1 || value > 65535) {
      return InvalidConfig(fmt::format("{}: the --db URL's port '{}' is not a port number", kWhat,
                                       std::string(port)));
    }
    options.port = value;
  }
  SLUICE_ASSIGN_OR_RETURN(options.database, PercentDecode(path, "database"));
  return options;
}

}  // namespace

/// Thread-safety: every method may be called from any thread (one connection behind mutex_).
class PostgresServerStore final : public ServerStore {
 public:
  PostgresServerStore(ConnectionOptions options, std::unique_ptr<PgConnection> db, SecretBox box)
      : options_(std::move(options)), box_(std::move(box)), db_(std::move(db)) {}

  /// Connects (mapping failures to what to fix) and creates the tables when missing.
  static Result<std::unique_ptr<PgConnection>> Connect(const ConnectionOptions& options);
  static Status CreateTables(PgConnection& db);

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
  // Whether a call may run again on a new connection after the old one was lost under it: true
  // for reads and for writes whose repetition changes nothing (upserts, UPDATE ... SET).
  enum class Repeatable { kNo, kYes };

  // Runs `body(connection)` under the mutex: reconnects first when the connection is gone, runs
  // the body again when the server rolled its transaction back, and once more on a new
  // connection when the old one was lost and `repeatable`. Every error is scrubbed of the
  // password.
  template <typename Body>
  auto Call(Repeatable repeatable, Body body) -> std::invoke_result_t<Body, PgConnection&> {
    using Out = std::invoke_result_t<Body, PgConnection&>;
    std::lock_guard<std::mutex> lock(mutex_);
    bool reconnected = false;
    for (int attempt = 1;; ++attempt) {
      if (Status ready = Ready(&reconnected); !ready.ok())
        return Out(Scrub(ready));
      Out out = body(*db_);
      Status status = StatusOf(out);
      if (status.ok())
        return out;
      const bool lost = db_->Broken();
      const bool again =
          attempt < kAttempts &&
          ((!lost && status.code() == StatusCode::kAborted) ||
           (lost && repeatable == Repeatable::kYes && !reconnected));
      if (!again)
        return Out(Scrub(status));
    }
  }

  // A usable connection in db_: the current one unless the server ended it (then a new one,
  // once per call: `reconnected`).
  Status Ready(bool* reconnected) {
    if (db_ && !db_->Broken() && !db_->InTransaction() && db_->CheckIdle())
      return Status::OK();
    if (db_ && !db_->Broken() && db_->InTransaction()) {
      // Only a bug leaves a transaction open between calls; end it rather than build on it.
      if (db_->Execute("ROLLBACK", kWhat).ok())
        return Status::OK();
    }
    if (*reconnected) {
      return Unavailable(
          fmt::format("{}: {}: the connection was lost again", kWhat, options_.Describe()));
    }
    *reconnected = true;
    db_.reset();
    SLUICE_ASSIGN_OR_RETURN(db_, Connect(options_));
    return Status::OK();
  }

  // Runs `body()` in one transaction (rolled back when it fails).
  template <typename Body>
  static Status Transaction(PgConnection& db, std::string_view what, Body body) {
    SLUICE_RETURN_IF_ERROR(db.Execute("BEGIN", what));
    Status status = body();
    if (status.ok())
      return db.Commit(what);
    if (!db.Broken())
      (void)db.Execute("ROLLBACK", what);
    return status;
  }

  Status Scrub(const Status& status) const { return ScrubPassword(status, options_.password); }

  Result<std::vector<ConnectionRecord>> ReadConnections(const PgResult& result) const;
  Result<std::vector<JobRecord>> ReadJobs(const PgResult& result) const;

  const ConnectionOptions options_;
  const SecretBox box_;
  std::mutex mutex_;
  std::unique_ptr<PgConnection> db_;  // guarded by mutex_; null after a failed reconnect
};

Result<std::unique_ptr<PgConnection>> PostgresServerStore::Connect(
    const ConnectionOptions& options) {
  Result<std::unique_ptr<PgConnection>> db = PgConnection::Connect(options);
  if (db.ok())
    return db;
  const Status& status = db.status();
  std::string_view fix;
  switch (status.code()) {
    case StatusCode::kPermissionDenied:
      fix = "check the user and password (the --db URL's, else PGPASSWORD or ~/.pgpass) and "
            "that the server's pg_hba.conf lets them in";
      break;
    case StatusCode::kNotFound:
      fix = "check the --db URL's host and database (the database must exist: CREATE DATABASE)";
      break;
    case StatusCode::kUnavailable:
      fix = "check that PostgreSQL runs there and is reachable from this host";
      break;
    default:
      fix = "check the --db URL";
      break;
  }
  return Status(status.code(), fmt::format("{}: {}; {}", kWhat, status.message(), fix));
}

Status PostgresServerStore::CreateTables(PgConnection& db) {
  return Transaction(db, "server store: create tables", [&]() -> Status {
    SLUICE_RETURN_IF_ERROR(
        db.Execute(fmt::format("SELECT pg_advisory_xact_lock({})", kSchemaLockKey),
                   "server store: create tables"));
    return db.Execute(kSchema, "server store: create tables");
  });
}

Result<std::unique_ptr<ServerStore>> OpenPostgresServerStore(const std::string& url,
                                                             SecretBox box) {
  SLUICE_ASSIGN_OR_RETURN(ConnectionOptions options, ParsePostgresUrl(url));
  Result<std::unique_ptr<PgConnection>> db = PostgresServerStore::Connect(options);
  if (!db.ok())
    return ScrubPassword(db.status(), options.password);
  if (Status created = PostgresServerStore::CreateTables(**db); !created.ok())
    return ScrubPassword(created, options.password);
  return std::unique_ptr<ServerStore>(
      new PostgresServerStore(std::move(options), std::move(*db), std::move(box)));
}

// ----- teams and tokens ------------------------------------------------------------------------

Status PostgresServerStore::PutTeam(const Team& team) {
  return Call(Repeatable::kYes, [&](PgConnection& db) {
    return db.Execute(
        "INSERT INTO sluice_server_teams(name, max_concurrent_runs) VALUES($1, $2) "
        "ON CONFLICT(name) DO UPDATE SET max_concurrent_runs = excluded.max_concurrent_runs",
        "server store: put team", P(team.name, team.max_concurrent_runs));
  });
}

Result<std::optional<Team>> PostgresServerStore::GetTeam(const std::string& name) {
  return Call(Repeatable::kYes, [&](PgConnection& db) -> Result<std::optional<Team>> {
    SLUICE_ASSIGN_OR_RETURN(
        PgResult r,
        db.Query("SELECT name, max_concurrent_runs FROM sluice_server_teams WHERE name = $1",
                 "server store: get team", P(name)));
    if (r.rows() == 0)
      return std::optional<Team>();
    return std::optional<Team>(Team{r.Text(0, 0), static_cast<int>(Int(r, 0, 1))});
  });
}

Result<std::vector<Team>> PostgresServerStore::ListTeams() {
  return Call(Repeatable::kYes, [&](PgConnection& db) -> Result<std::vector<Team>> {
    SLUICE_ASSIGN_OR_RETURN(PgResult r, db.Query("SELECT name, max_concurrent_runs FROM "
                                                 "sluice_server_teams ORDER BY name COLLATE \"C\"",
                                                 "server store: list teams"));
    std::vector<Team> teams;
    for (int row = 0; row < r.rows(); ++row)
      teams.push_back(Team{r.Text(row, 0), static_cast<int>(Int(r, row, 1))});
    return teams;
  });
}

Result<std::string> PostgresServerStore::CreateToken(const TokenInfo& info) {
  SLUICE_ASSIGN_OR_RETURN(std::string token, NewTokenText());
  SLUICE_RETURN_IF_ERROR(Call(Repeatable::kNo, [&](PgConnection& db) {
    return db.Execute(
        "INSERT INTO sluice_server_tokens(hash, name, team, admin, created_us) "
        "VALUES($1, $2, $3, $4, $5)",
        "server store: create token",
        P(Sha256Hex(token), info.name, info.team, info.admin, NowMicros()));
  }));
  return token;
}

Result<std::optional<TokenInfo>> PostgresServerStore::LookupToken(const std::string& token) {
  return Call(Repeatable::kYes, [&](PgConnection& db) -> Result<std::optional<TokenInfo>> {
    SLUICE_ASSIGN_OR_RETURN(
        PgResult r, db.Query("SELECT name, team, admin FROM sluice_server_tokens WHERE hash = $1",
                             "server store: look up token", P(Sha256Hex(token))));
    if (r.rows() == 0)
      return std::optional<TokenInfo>();
    return std::optional<TokenInfo>(TokenInfo{r.Text(0, 0), r.Text(0, 1), Bool(r, 0, 2)});
  });
}

Result<bool> PostgresServerStore::AnyAdminToken() {
  return Call(Repeatable::kYes, [&](PgConnection& db) -> Result<bool> {
    SLUICE_ASSIGN_OR_RETURN(
        PgResult r, db.Query("SELECT 1 FROM sluice_server_tokens WHERE admin LIMIT 1",
                             "server store: find an admin token"));
    return r.rows() > 0;
  });
}

// ----- connections and jobs --------------------------------------------------------------------

Status PostgresServerStore::CreateConnection(const ConnectionRecord& record) {
  SLUICE_ASSIGN_OR_RETURN(std::string sealed, box_.Seal(record.options_json));
  return Call(Repeatable::kNo, [&](PgConnection& db) -> Status {
    const int64_t now = NowMicros();
    SLUICE_ASSIGN_OR_RETURN(
        PgResult r,
        db.Query("INSERT INTO sluice_server_connections(team, name, type, sealed_options, "
                 "created_us, updated_us) VALUES($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING "
                 "RETURNING 1",
                 "server store: create connection",
                 P(record.team, record.name, record.type, sealed, now, now)));
    if (r.rows() == 0) {
      return Conflict(fmt::format("a connection named '{}' exists already (PUT replaces it)",
                                  record.name));
    }
    return Status::OK();
  });
}

Status PostgresServerStore::ReplaceConnection(const ConnectionRecord& record) {
  SLUICE_ASSIGN_OR_RETURN(std::string sealed, box_.Seal(record.options_json));
  return Call(Repeatable::kYes, [&](PgConnection& db) -> Status {
    SLUICE_ASSIGN_OR_RETURN(
        PgResult r,
        db.Query("UPDATE sluice_server_connections SET type = $1, sealed_options = $2, "
                 "updated_us = $3 WHERE team = $4 AND name = $5 RETURNING 1",
                 "server store: replace connection",
                 P(record.type, sealed, NowMicros(), record.team, record.name)));
    if (r.rows() == 0)
      return NotFound(fmt::format("no connection named '{}'", record.name));
    return Status::OK();
  });
}

Result<std::vector<ConnectionRecord>> PostgresServerStore::ReadConnections(
    const PgResult& r) const {
  std::vector<ConnectionRecord> out;
  for (int row = 0; row < r.rows(); ++row) {
    ConnectionRecord record{r.Text(row, 0), r.Text(row, 1), r.Text(row, 2), "",
                            Int(r, row, 4),  Int(r, row, 5)};
    SLUICE_ASSIGN_OR_RETURN(record.options_json, box_.Open(r.Value(row, 3)));
    out.push_back(std::move(record));
  }
  return out;
}

Result<std::optional<ConnectionRecord>> PostgresServerStore::GetConnection(
    const std::string& team, const std::string& name) {
  SLUICE_ASSIGN_OR_RETURN(std::vector<ConnectionRecord> found,
                          Call(Repeatable::kYes, [&](PgConnection& db)
                                                     -> Result<std::vector<ConnectionRecord>> {
                            SLUICE_ASSIGN_OR_RETURN(
                                PgResult r,
                                db.Query("SELECT team, name, type, sealed_options, created_us, "
                                         "updated_us FROM sluice_server_connections WHERE team = "
                                         "$1 AND name = $2",
                                         "server store: get connection", P(team, name)));
                            return ReadConnections(r);
                          }));
  if (found.empty())
    return std::optional<ConnectionRecord>();
  return std::optional<ConnectionRecord>(std::move(found.front()));
}

Result<std::vector<ConnectionRecord>> PostgresServerStore::ListConnections(
    const std::string& team) {
  return Call(Repeatable::kYes,
              [&](PgConnection& db) -> Result<std::vector<ConnectionRecord>> {
                SLUICE_ASSIGN_OR_RETURN(
                    PgResult r,
                    db.Query("SELECT team, name, type, sealed_options, created_us, updated_us "
                             "FROM sluice_server_connections WHERE team = $1 "
                             "ORDER BY name COLLATE \"C\"",
                             "server store: list connections", P(team)));
                return ReadConnections(r);
              });
}

Status PostgresServerStore::DeleteConnection(const std::string& team, const std::string& name) {
  return Call(Repeatable::kNo, [&](PgConnection& db) -> Status {
    SLUICE_ASSIGN_OR_RETURN(
        PgResult r,
        db.Query("DELETE FROM sluice_server_connections WHERE team = $1 AND name = $2 RETURNING 1",
                 "server store: delete connection", P(team, name)));
    if (r.rows() == 0)
      return NotFound(fmt::format("no connection named '{}'", name));
    return Status::OK();
  });
}

Status PostgresServerStore::CreateJob(const JobRecord& record) {
  SLUICE_ASSIGN_OR_RETURN(std::string sealed, box_.Seal(record.yaml));
  return Call(Repeatable::kNo, [&](PgConnection& db) -> Status {
    const int64_t now = NowMicros();
    SLUICE_ASSIGN_OR_RETURN(
        PgResult r,
        db.Query("INSERT INTO sluice_server_jobs(team, name, sealed_yaml, created_us, updated_us) "
                 "VALUES($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING RETURNING 1",
                 "server store: create job", P(record.team, record.name, sealed, now, now)));
    if (r.rows() == 0) {
      return Conflict(
          fmt::format("a job named '{}' exists already (PUT replaces it)", record.name));
    }
    return Status::OK();
  });
}

Status PostgresServerStore::ReplaceJob(const JobRecord& record) {
  SLUICE_ASSIGN_OR_RETURN(std::string sealed, box_.Seal(record.yaml));
  return Call(Repeatable::kYes, [&](PgConnection& db) -> Status {
    SLUICE_ASSIGN_OR_RETURN(
        PgResult r,
        db.Query("UPDATE sluice_server_jobs SET sealed_yaml = $1, updated_us = $2 WHERE team = $3 "
                 "AND name = $4 RETURNING 1",
                 "server store: replace job", P(sealed, NowMicros(), record.team, record.name)));
    if (r.rows() == 0)
      return NotFound(fmt::format("no job named '{}'", record.name));
    return Status::OK();
  });
}

Result<std::vector<JobRecord>> PostgresServerStore::ReadJobs(const PgResult& r) const {
  std::vector<JobRecord> out;
  for (int row = 0; row < r.rows(); ++row) {
    JobRecord record{r.Text(row, 0), r.Text(row, 1), "", Int(r, row, 3), Int(r, row, 4)};
    SLUICE_ASSIGN_OR_RETURN(record.yaml, box_.Open(r.Value(row, 2)));
    out.push_back(std::move(record));
  }
  return out;
}

Result<std::optional<JobRecord>> PostgresServerStore::GetJob(const std::string& team,
                                                             const std::string& name) {
  SLUICE_ASSIGN_OR_RETURN(
      std::vector<JobRecord> found,
      Call(Repeatable::kYes, [&](PgConnection& db) -> Result<std::vector<JobRecord>> {
        SLUICE_ASSIGN_OR_RETURN(
            PgResult r,
            db.Query("SELECT team, name, sealed_yaml, created_us, updated_us FROM "
                     "sluice_server_jobs WHERE team = $1 AND name = $2",
                     "server store: get job", P(team, name)));
        return ReadJobs(r);
      }));
  if (found.empty())
    return std::optional<JobRecord>();
  return std::optional<JobRecord>(std::move(found.front()));
}

Result<std::vector<JobRecord>> PostgresServerStore::ListJobs(const std::string& team) {
  return Call(Repeatable::kYes, [&](PgConnection& db) -> Result<std::vector<JobRecord>> {
    SLUICE_ASSIGN_OR_RETURN(
        PgResult r,
        db.Query("SELECT team, name, sealed_yaml, created_us, updated_us FROM sluice_server_jobs "
                 "WHERE $1::text = '' OR team = $1 ORDER BY team COLLATE \"C\", name COLLATE \"C\"",
                 "server store: list jobs", P(team)));
    return ReadJobs(r);
  });
}

Status PostgresServerStore::DeleteJob(const std::string& team, const std::string& name) {
  return Call(Repeatable::kNo, [&](PgConnection& db) -> Status {
    return Transaction(db, "server store: delete job", [&]() -> Status {
      SLUICE_ASSIGN_OR_RETURN(
          PgResult r,
          db.Query("DELETE FROM sluice_server_jobs WHERE team = $1 AND name = $2 RETURNING 1",
                   "server store: delete job", P(team, name)));
      if (r.rows() == 0)
        return NotFound(fmt::format("no job named '{}'", name));
      return db.Execute("DELETE FROM sluice_server_schedule_ledger WHERE team = $1 AND job = $2",
                        "server store: delete job", P(team, name));
    });
  });
}

// ----- the scheduler's ledger ------------------------------------------------------------------

Result<std::optional<int64_t>> PostgresServerStore::LastFire(const std::string& team,
                                                             const std::string& job) {
  return Call(Repeatable::kYes, [&](PgConnection& db) -> Result<std::optional<int64_t>> {
    SLUICE_ASSIGN_OR_RETURN(
        PgResult r,
        db.Query("SELECT last_fire FROM sluice_server_schedule_ledger WHERE team = $1 AND job = $2",
                 "server store: read the schedule ledger", P(team, job)));
    if (r.rows() == 0)
      return std::optional<int64_t>();
    return std::optional<int64_t>(Int(r, 0, 0));
  });
}

Status PostgresServerStore::StartLedger(const std::string& team, const std::string& job,
                                        int64_t fire) {
  return Call(Repeatable::kYes, [&](PgConnection& db) {
    return db.Execute(
        "INSERT INTO sluice_server_schedule_ledger(team, job, last_fire) VALUES($1, $2, $3) "
        "ON CONFLICT DO NOTHING",
        "server store: start the schedule ledger", P(team, job, fire));
  });
}

Result<std::vector<int64_t>> PostgresServerStore::FireSchedules(const std::vector<DueFire>& fires,
                                                                int64_t now_us) {
  // Rows are locked in one order (team, job, fire) whoever records them, so that two servers
  // recording overlapping fires wait for each other rather than deadlock.
  std::vector<size_t> order(fires.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return std::tie(fires[a].team, fires[a].job, fires[a].fire) <
           std::tie(fires[b].team, fires[b].job, fires[b].fire);
  });
  return Call(Repeatable::kNo, [&](PgConnection& db) -> Result<std::vector<int64_t>> {
    std::vector<int64_t> ids;
    SLUICE_RETURN_IF_ERROR(Transaction(db, "server store: record due fires", [&]() -> Status {
      for (size_t index : order) {
        const DueFire& fire = fires[index];
        SLUICE_ASSIGN_OR_RETURN(
            PgResult inserted,
            db.Query("INSERT INTO sluice_server_runs(team, job, trigger, fire, fresh, state, "
                     "queued_us, started_us, first_row_us, ended_us, rows_read, rows_written, "
                     "bytes_read, bytes_written, resumed) VALUES($1, $2, 'schedule', $3, false, "
                     "'queued', $4, 0, 0, 0, 0, 0, 0, 0, false) ON CONFLICT DO NOTHING "
                     "RETURNING id",
                     "server store: record a due fire", P(fire.team, fire.job, fire.fire, now_us)));
        if (inserted.rows() > 0)
          ids.push_back(Int(inserted, 0, 0));
        SLUICE_RETURN_IF_ERROR(db.Execute(
            "INSERT INTO sluice_server_schedule_ledger AS ledger(team, job, last_fire) "
            "VALUES($1, $2, $3) ON CONFLICT(team, job) DO UPDATE SET last_fire = "
            "GREATEST(ledger.last_fire, excluded.last_fire)",
            "server store: advance the schedule ledger", P(fire.team, fire.job, fire.fire)));
      }
      return Status::OK();
    }));
    return ids;
  });
}

// ----- runs ------------------------------------------------------------------------------------

Result<std::optional<int64_t>> PostgresServerStore::CreateRun(const RunRecord& run) {
  return Call(Repeatable::kNo, [&](PgConnection& db) -> Result<std::optional<int64_t>> {
    SLUICE_ASSIGN_OR_RETURN(
        PgResult r,
        db.Query("INSERT INTO sluice_server_runs(team, job, trigger, fire, fresh, state, "
                 "queued_us, started_us, first_row_us, ended_us, rows_read, rows_written, "
                 "bytes_read, bytes_written, resumed) VALUES($1, $2, $3, $4, $5, $6, $7, 0, 0, 0, "
                 "0, 0, 0, 0, false) ON CONFLICT DO NOTHING RETURNING id",
                 "server store: create run",
                 P(run.team, run.job, run.trigger, run.fire, run.fresh, RunStateName(run.state),
                   run.queued_us)));
    if (r.rows() == 0)
      return std::optional<int64_t>();
    return std::optional<int64_t>(Int(r, 0, 0));
  });
}

Status PostgresServerStore::UpdateRun(const RunRecord& run) {
  return Call(Repeatable::kYes, [&](PgConnection& db) {
    return db.Execute(
        "UPDATE sluice_server_runs SET state = $1, started_us = $2, first_row_us = $3, "
        "ended_us = $4, rows_read = $5, rows_written = $6, bytes_read = $7, bytes_written = $8, "
        "resumed = $9, failure = $10, tables = $11 WHERE id = $12",
        "server store: update run",
        P(RunStateName(run.state), run.started_us, run.first_row_us, run.ended_us, run.rows_read,
          run.rows_written, run.bytes_read, run.bytes_written, run.resumed,
          FailureText(run.failure), TablesText(run.tables), run.id));
  });
}

// Not repeatable: a claim that committed before the connection dropped would read as lost.
Result<bool> PostgresServerStore::ClaimRun(int64_t id, int64_t started_us) {
  return Call(Repeatable::kNo, [&](PgConnection& db) -> Result<bool> {
    SLUICE_ASSIGN_OR_RETURN(
        PgResult r,
        db.Query("UPDATE sluice_server_runs SET state = 'running', started_us = $1 WHERE id = $2 "
                 "AND state = 'queued' RETURNING id",
                 "server store: claim run", P(started_us, id)));
    return r.rows() == 1;
  });
}

Result<std::optional<RunRecord>> PostgresServerStore::GetRun(const std::string& team, int64_t id) {
  return Call(Repeatable::kYes, [&](PgConnection& db) -> Result<std::optional<RunRecord>> {
    SLUICE_ASSIGN_OR_RETURN(
        PgResult r, db.Query(fmt::format("SELECT {} FROM sluice_server_runs WHERE id = $1 AND "
                                         "($2::text = '' OR team = $2)",
                                         kRunColumns),
                             "server store: get run", P(id, team)));
    if (r.rows() == 0)
      return std::optional<RunRecord>();
    return std::optional<RunRecord>(ReadRun(r, 0));
  });
}

Result<std::vector<RunRecord>> PostgresServerStore::ListRuns(const RunFilter& filter) {
  const std::string state = filter.state ? std::string(RunStateName(*filter.state)) : "";
  return Call(Repeatable::kYes, [&](PgConnection& db) -> Result<std::vector<RunRecord>> {
    SLUICE_ASSIGN_OR_RETURN(
        PgResult r,
        db.Query(fmt::format("SELECT {} FROM sluice_server_runs WHERE ($1::text = '' OR team = "
                             "$1) AND ($2::text = '' OR job = $2) AND ($3::text = '' OR state = "
                             "$3) ORDER BY id {} LIMIT $4",
                             kRunColumns, filter.oldest_first ? "ASC" : "DESC"),
                 "server store: list runs",
                 P(filter.team, filter.job, state, LimitParam(filter.limit))));
    std::vector<RunRecord> runs;
    for (int row = 0; row < r.rows(); ++row)
      runs.push_back(ReadRun(r, row));
    return runs;
  });
}

Status PostgresServerStore::AppendRunLog(int64_t run_id, const std::vector<RunLogLine>& lines) {
  if (lines.empty())
    return Status::OK();
  return Call(Repeatable::kNo, [&](PgConnection& db) -> Status {
    return Transaction(db, "server store: append run log", [&]() -> Status {
      // One appender per run at a time, whichever server: the next seq is read, then used.
      SLUICE_RETURN_IF_ERROR(db.Execute(
          "SELECT pg_advisory_xact_lock(hashtextextended('sluice_server_run_logs', $1))",
          "server store: append run log", P(run_id)));
      SLUICE_ASSIGN_OR_RETURN(
          PgResult next,
          db.Query("SELECT coalesce(max(seq), 0) FROM sluice_server_run_logs WHERE run_id = $1",
                   "server store: append run log", P(run_id)));
      int64_t seq = Int(next, 0, 0);
      // Up to 1000 lines per INSERT (6 parameters each, within the protocol's 65535).
      constexpr size_t kLinesPerInsert = 1000;
      for (size_t begin = 0; begin < lines.size(); begin += kLinesPerInsert) {
        const size_t end = std::min(lines.size(), begin + kLinesPerInsert);
        std::string sql =
            "INSERT INTO sluice_server_run_logs(run_id, seq, time_us, level, component, message) "
            "VALUES";
        Params params;
        params.reserve((end - begin) * 6);
        for (size_t i = begin; i < end; ++i) {
          const size_t base = params.size();
          sql += fmt::format("{}(${}, ${}, ${}, ${}, ${}, ${})", i == begin ? "" : ", ", base + 1,
                             base + 2, base + 3, base + 4, base + 5, base + 6);
          const RunLogLine& line = lines[i];
          for (std::string value : {Param(run_id), Param(++seq), Param(line.time_us), line.level,
                                    line.component, line.message}) {
            params.emplace_back(std::move(value));
          }
        }
        SLUICE_RETURN_IF_ERROR(db.Execute(sql, "server store: append run log", params));
      }
      return Status::OK();
    });
  });
}

Result<std::vector<RunLogLine>> PostgresServerStore::RunLog(int64_t run_id, int limit) {
  return Call(Repeatable::kYes, [&](PgConnection& db) -> Result<std::vector<RunLogLine>> {
    SLUICE_ASSIGN_OR_RETURN(
        PgResult r,
        db.Query("SELECT time_us, level, component, message FROM (SELECT * FROM "
                 "sluice_server_run_logs WHERE run_id = $1 ORDER BY seq DESC LIMIT $2) AS last "
                 "ORDER BY seq",
                 "server store: read run log", P(run_id, LimitParam(limit))));
    std::vector<RunLogLine> lines;
    for (int row = 0; row < r.rows(); ++row)
      lines.push_back(RunLogLine{Int(r, row, 0), r.Text(row, 1), r.Text(row, 2), r.Text(row, 3)});
    return lines;
  });
}

// ----- catalog ---------------------------------------------------------------------------------

Result<bool> PostgresServerStore::RecordStream(const CatalogStream& stream) {
  return Call(Repeatable::kNo, [&](PgConnection& db) -> Result<bool> {
    bool changed = false;
    constexpr std::string_view kWhatRecord = "server store: record stream";
    SLUICE_RETURN_IF_ERROR(Transaction(db, kWhatRecord, [&]() -> Status {
      const Params key = P(stream.team, stream.connection, stream.stream);
      const int64_t now = NowMicros();
      // The row is locked while compared; when it is new and another server inserted it since,
      // the INSERT does nothing and the second SELECT (a new snapshot) sees and locks it.
      std::optional<std::string> before;
      for (int pass = 0; pass < 2 && !before; ++pass) {
        SLUICE_ASSIGN_OR_RETURN(
            PgResult r, db.Query("SELECT schema_json FROM sluice_server_catalog_streams WHERE "
                                 "team = $1 AND connection = $2 AND stream = $3 FOR UPDATE",
                                 kWhatRecord, key));
        if (r.rows() > 0) {
          before = r.Text(0, 0);
          break;
        }
        if (pass > 0)
          break;
        SLUICE_ASSIGN_OR_RETURN(
            PgResult inserted,
            db.Query("INSERT INTO sluice_server_catalog_streams(team, connection, stream, job, "
                     "schema_json, previous_schema_json, discovered_us, changed_us) VALUES($1, "
                     "$2, $3, $4, $5, '', $6, 0) ON CONFLICT DO NOTHING RETURNING 1",
                     kWhatRecord,
                     P(stream.team, stream.connection, stream.stream, stream.job,
                       stream.schema_json, now)));
        if (inserted.rows() > 0)
          return Status::OK();
      }
      if (!before) {
        return Internal(fmt::format("{}: stream '{}' neither found nor inserted", kWhatRecord,
                                    stream.stream));
      }
      changed = *before != stream.schema_json;
      if (changed) {
        return db.Execute(
            "UPDATE sluice_server_catalog_streams SET job = $1, previous_schema_json = "
            "schema_json, schema_json = $2, discovered_us = $3, changed_us = $4 WHERE team = $5 "
            "AND connection = $6 AND stream = $7",
            kWhatRecord,
            P(stream.job, stream.schema_json, now, now, stream.team, stream.connection,
              stream.stream));
      }
      return db.Execute(
          "UPDATE sluice_server_catalog_streams SET job = $1, discovered_us = $2 WHERE team = $3 "
          "AND connection = $4 AND stream = $5",
          kWhatRecord, P(stream.job, now, stream.team, stream.connection, stream.stream));
    }));
    return changed;
  });
}

Result<std::vector<CatalogStream>> PostgresServerStore::ListStreams(
    const std::string& team, const std::string& connection) {
  return Call(Repeatable::kYes, [&](PgConnection& db) -> Result<std::vector<CatalogStream>> {
    SLUICE_ASSIGN_OR_RETURN(
        PgResult r,
        db.Query("SELECT team, connection, job, stream, schema_json, discovered_us, changed_us, "
                 "previous_schema_json FROM sluice_server_catalog_streams WHERE team = $1 AND "
                 "($2::text = '' OR connection = $2) ORDER BY connection COLLATE \"C\", stream "
                 "COLLATE \"C\"",
                 "server store: list streams", P(team, connection)));
    std::vector<CatalogStream> out;
    for (int row = 0; row < r.rows(); ++row) {
      out.push_back(CatalogStream{r.Text(row, 0), r.Text(row, 1), r.Text(row, 2), r.Text(row, 3),
                                  r.Text(row, 4), Int(r, row, 5), Int(r, row, 6),
                                  r.Text(row, 7)});
    }
    return out;
  });
}

}  // namespace sluice::server
