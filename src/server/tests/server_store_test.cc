// ServerStore conformance: every backend (SQLite in a temporary folder, PostgreSQL in a database
// of each test's own on the test servers) passes the same cases, with the SQLite store's
// semantics as the reference; then what only PostgreSQL has (connection errors, reconnecting).
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <cctype>
#include <barrier>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>

#include <fmt/core.h>

#include "server/server_store.h"
#include "testing/gtest_util.h"
#include "testing/temp_dir.h"
#include "testing/test_servers.h"

namespace sluice::server {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

enum class Backend { kSqlite, kPostgres };

SecretBox TestBox() {
  std::array<unsigned char, 32> key{};
  key.fill(7);
  return SecretBox(key);
}

const testing::TestServers& Servers() {
  static const testing::TestServers servers = [] {
    Result<testing::TestServers> found = testing::TestServers::FromEnvironment();
    if (!found.ok()) {
      ADD_FAILURE() << found.status().ToString();
      return testing::TestServers{};
    }
    return *found;
  }();
  return servers;
}

std::string PercentEncode(const std::string& text) {
  std::string out;
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~')
      out.push_back(static_cast<char>(c));
    else
      out += fmt::format("%{:02X}", c);
  }
  return out;
}

std::string PostgresUrl(const std::string& database, const std::string& password) {
  const testing::ServerEndpoint& pg = Servers().postgres;
  return fmt::format("postgres://{}:{}@{}:{}/{}", PercentEncode(pg.user), PercentEncode(password),
                     pg.host, pg.port, database);
}

// A PostgreSQL database of one test's own, dropped after it.
class ScratchDatabase {
 public:
  ScratchDatabase() {
    static std::atomic<int> counter{0};
    name_ = fmt::format("sluice_store_test_{}_{}_{}", getpid(), counter++,
                        std::chrono::steady_clock::now().time_since_epoch().count() % 1000000);
    status_ = testing::PsqlExec(Servers(), "postgres", "CREATE DATABASE " + name_).status();
  }
  ~ScratchDatabase() {
    if (status_.ok())
      (void)testing::PsqlExec(Servers(), "postgres",
                              "DROP DATABASE IF EXISTS " + name_ + " WITH (FORCE)");
  }
  const std::string& name() const { return name_; }
  const Status& status() const { return status_; }

 private:
  std::string name_;
  Status status_;
};

class ServerStoreTest : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    if (GetParam() == Backend::kPostgres) {
      database_.emplace();
      ASSERT_OK(database_->status());
    }
    ASSERT_OK_AND_ASSIGN(store_, Open());
  }
  void TearDown() override {
    store_.reset();
  }

  // A new store on this test's database.
  Result<std::unique_ptr<ServerStore>> Open() {
    if (GetParam() == Backend::kSqlite)
      return OpenServerStore(directory_.Join("server.db"), TestBox());
    return OpenServerStore(PostgresUrl(database_->name(), Servers().postgres.password),
                           TestBox());
  }

  // The raw sealed values as stored: SQLite's file (and its WAL), or the PostgreSQL column.
  void ExpectSealedAtRest(const std::string& table, const std::string& column,
                          const std::string& plaintext) {
    if (GetParam() == Backend::kSqlite) {
      for (const char* suffix : {"", "-wal"}) {
        const std::string path = directory_.Join(std::string("server.db") + suffix);
        if (!std::filesystem::exists(path))
          continue;
        EXPECT_THAT(testing::ReadFileOrDie(path), Not(HasSubstr(plaintext))) << path;
      }
      return;
    }
    ASSERT_OK_AND_ASSIGN(
        std::string raw,
        testing::PsqlExec(Servers(), database_->name(),
                          fmt::format("SELECT {} FROM sluice_server_{}", column, table)));
    ASSERT_FALSE(raw.empty());
    std::istringstream lines(raw);
    for (std::string line; std::getline(lines, line);) {
      EXPECT_THAT(line, StartsWith("sv1:"));
      EXPECT_THAT(line, Not(HasSubstr(plaintext)));
    }
  }

  RunRecord QueuedRun(const std::string& team, const std::string& job, std::string trigger,
                      int64_t fire) {
    RunRecord run;
    run.team = team;
    run.job = job;
    run.trigger = std::move(trigger);
    run.fire = fire;
    run.queued_us = 1000;
    return run;
  }

  testing::TempDir directory_;
  std::optional<ScratchDatabase> database_;
  std::unique_ptr<ServerStore> store_;
};

std::string BackendName(const ::testing::TestParamInfo<Backend>& info) {
  return info.param == Backend::kSqlite ? "Sqlite" : "Postgres";
}

INSTANTIATE_TEST_SUITE_P(Backends, ServerStoreTest,
                         ::testing::Values(Backend::kSqlite, Backend::kPostgres), BackendName);

TEST_P(ServerStoreTest, TeamsUpsertAndList) {
  ASSERT_OK_AND_ASSIGN(std::optional<Team> missing, store_->GetTeam("analytics"));
  EXPECT_FALSE(missing);
  ASSERT_OK(store_->PutTeam(Team{"zeta", 0}));
  ASSERT_OK(store_->PutTeam(Team{"analytics", 2}));
  ASSERT_OK(store_->PutTeam(Team{"analytics", 5}));  // an upsert: the limit changes
  ASSERT_OK(store_->PutTeam(Team{"Beta", 1}));
  ASSERT_OK_AND_ASSIGN(std::optional<Team> team, store_->GetTeam("analytics"));
  ASSERT_TRUE(team);
  EXPECT_EQ(team->max_concurrent_runs, 5);
  ASSERT_OK_AND_ASSIGN(std::vector<Team> teams, store_->ListTeams());
  std::vector<std::string> names;
  for (const Team& t : teams)
    names.push_back(t.name);
  // Byte order, as SQLite sorts, whatever the database's collation.
  EXPECT_THAT(names, ElementsAre("Beta", "analytics", "zeta"));
}

TEST_P(ServerStoreTest, Tokens) {
  ASSERT_OK_AND_ASSIGN(bool any_admin, store_->AnyAdminToken());
  EXPECT_FALSE(any_admin);
  ASSERT_OK_AND_ASSIGN(std::string user_token, store_->CreateToken(TokenInfo{"ci", "data", false}));
  EXPECT_THAT(user_token, StartsWith("slc_"));
  ASSERT_OK_AND_ASSIGN(any_admin, store_->AnyAdminToken());
  EXPECT_FALSE(any_admin);
  ASSERT_OK_AND_ASSIGN(std::string admin_token,
                       store_->CreateToken(TokenInfo{"admin", "default", true}));
  EXPECT_NE(admin_token, user_token);
  ASSERT_OK_AND_ASSIGN(any_admin, store_->AnyAdminToken());
  EXPECT_TRUE(any_admin);

  ASSERT_OK_AND_ASSIGN(std::optional<TokenInfo> found, store_->LookupToken(user_token));
  ASSERT_TRUE(found);
  EXPECT_EQ(found->name, "ci");
  EXPECT_EQ(found->team, "data");
  EXPECT_FALSE(found->admin);
  ASSERT_OK_AND_ASSIGN(found, store_->LookupToken(admin_token));
  ASSERT_TRUE(found);
  EXPECT_TRUE(found->admin);
  ASSERT_OK_AND_ASSIGN(found, store_->LookupToken(user_token + "0"));
  EXPECT_FALSE(found);
  ASSERT_OK_AND_ASSIGN(found, store_->LookupToken("slc_" + std::string(48, '0')));
  EXPECT_FALSE(found);
}

TEST_P(ServerStoreTest, Connections) {
  ConnectionRecord record{"data", "warehouse", "postgres", R"({"host":"db","password":"x"})"};
  ASSERT_OK(store_->CreateConnection(record));
  Status again = store_->CreateConnection(record);
  EXPECT_EQ(again.code(), StatusCode::kConflict) << again.ToString();
  // The same name in another team is another connection.
  ConnectionRecord other{"ops", "warehouse", "mysql", R"({"host":"other"})"};
  ASSERT_OK(store_->CreateConnection(other));
  ASSERT_OK(store_->CreateConnection(ConnectionRecord{"data", "files", "file", "{}"}));

  ASSERT_OK_AND_ASSIGN(std::optional<ConnectionRecord> got,
                       store_->GetConnection("data", "warehouse"));
  ASSERT_TRUE(got);
  EXPECT_EQ(got->team, "data");
  EXPECT_EQ(got->type, "postgres");
  EXPECT_EQ(got->options_json, record.options_json);
  EXPECT_GT(got->created_us, 0);
  EXPECT_EQ(got->created_us, got->updated_us);
  ASSERT_OK_AND_ASSIGN(std::optional<ConnectionRecord> got_other,
                       store_->GetConnection("ops", "warehouse"));
  ASSERT_TRUE(got_other);
  EXPECT_EQ(got_other->type, "mysql");
  EXPECT_EQ(got_other->options_json, other.options_json);
  ASSERT_OK_AND_ASSIGN(std::optional<ConnectionRecord> none,
                       store_->GetConnection("data", "nowhere"));
  EXPECT_FALSE(none);

  std::this_thread::sleep_for(std::chrono::milliseconds(2));
  ConnectionRecord replacement{"data", "warehouse", "mysql", R"({"host":"db2"})"};
  ASSERT_OK(store_->ReplaceConnection(replacement));
  ASSERT_OK_AND_ASSIGN(got, store_->GetConnection("data", "warehouse"));
  ASSERT_TRUE(got);
  EXPECT_EQ(got->type, "mysql");
  EXPECT_EQ(got->options_json, replacement.options_json);
  EXPECT_GT(got->updated_us, got->created_us);
  Status missing = store_->ReplaceConnection(ConnectionRecord{"data", "nowhere", "file", "{}"});
  EXPECT_EQ(missing.code(), StatusCode::kNotFound) << missing.ToString();
  // Another team's name does not count.
  missing = store_->ReplaceConnection(ConnectionRecord{"nobody", "warehouse", "file", "{}"});
  EXPECT_EQ(missing.code(), StatusCode::kNotFound) << missing.ToString();

  ASSERT_OK_AND_ASSIGN(std::vector<ConnectionRecord> listed, store_->ListConnections("data"));
  ASSERT_EQ(listed.size(), 2u);
  EXPECT_EQ(listed[0].name, "files");
  EXPECT_EQ(listed[1].name, "warehouse");
  EXPECT_EQ(listed[1].options_json, replacement.options_json);

  ASSERT_OK(store_->DeleteConnection("data", "warehouse"));
  Status deleted_twice = store_->DeleteConnection("data", "warehouse");
  EXPECT_EQ(deleted_twice.code(), StatusCode::kNotFound) << deleted_twice.ToString();
  ASSERT_OK_AND_ASSIGN(listed, store_->ListConnections("data"));
  ASSERT_EQ(listed.size(), 1u);
  ASSERT_OK_AND_ASSIGN(listed, store_->ListConnections("ops"));
  ASSERT_EQ(listed.size(), 1u);  // the other team's is still there
  EXPECT_EQ(listed[0].options_json, other.options_json);
}

TEST_P(ServerStoreTest, Jobs) {
  JobRecord job{"data", "orders", "source: {type: datagen}\n"};
  ASSERT_OK(store_->CreateJob(job));
  Status again = store_->CreateJob(job);
  EXPECT_EQ(again.code(), StatusCode::kConflict) << again.ToString();
  ASSERT_OK(store_->CreateJob(JobRecord{"ops", "orders", "other: yes\n"}));
  ASSERT_OK(store_->CreateJob(JobRecord{"data", "accounts", "a: 1\n"}));

  ASSERT_OK_AND_ASSIGN(std::optional<JobRecord> got, store_->GetJob("data", "orders"));
  ASSERT_TRUE(got);
  EXPECT_EQ(got->yaml, job.yaml);
  EXPECT_GT(got->created_us, 0);
  ASSERT_OK_AND_ASSIGN(got, store_->GetJob("ops", "orders"));
  ASSERT_TRUE(got);
  EXPECT_EQ(got->yaml, "other: yes\n");
  ASSERT_OK_AND_ASSIGN(got, store_->GetJob("nobody", "orders"));
  EXPECT_FALSE(got);

  std::this_thread::sleep_for(std::chrono::milliseconds(2));
  ASSERT_OK(store_->ReplaceJob(JobRecord{"data", "orders", "replaced: true\n"}));
  ASSERT_OK_AND_ASSIGN(got, store_->GetJob("data", "orders"));
  ASSERT_TRUE(got);
  EXPECT_EQ(got->yaml, "replaced: true\n");
  EXPECT_GT(got->updated_us, got->created_us);
  Status missing = store_->ReplaceJob(JobRecord{"data", "nowhere", "x: 1\n"});
  EXPECT_EQ(missing.code(), StatusCode::kNotFound) << missing.ToString();

  ASSERT_OK_AND_ASSIGN(std::vector<JobRecord> listed, store_->ListJobs("data"));
  ASSERT_EQ(listed.size(), 2u);
  EXPECT_EQ(listed[0].name, "accounts");
  EXPECT_EQ(listed[1].name, "orders");
  ASSERT_OK_AND_ASSIGN(listed, store_->ListJobs(""));  // every team's
  ASSERT_EQ(listed.size(), 3u);
  EXPECT_EQ(listed[0].team, "data");
  EXPECT_EQ(listed[2].team, "ops");

  // Deleting a job forgets its ledger too.
  ASSERT_OK(store_->StartLedger("data", "orders", 100));
  ASSERT_OK(store_->DeleteJob("data", "orders"));
  ASSERT_OK_AND_ASSIGN(std::optional<int64_t> last, store_->LastFire("data", "orders"));
  EXPECT_FALSE(last);
  Status deleted_twice = store_->DeleteJob("data", "orders");
  EXPECT_EQ(deleted_twice.code(), StatusCode::kNotFound) << deleted_twice.ToString();
  ASSERT_OK_AND_ASSIGN(got, store_->GetJob("ops", "orders"));
  EXPECT_TRUE(got);
}

TEST_P(ServerStoreTest, SealedAtRest) {
  const std::string password = "canary-pw-1f3a9c";
  const std::string secret_line = "canary-yaml-7d2e4b";
  ASSERT_OK(store_->CreateConnection(
      ConnectionRecord{"data", "db", "postgres", fmt::format(R"({{"password":"{}"}})", password)}));
  ASSERT_OK(store_->CreateJob(JobRecord{"data", "job", "# " + secret_line + "\n"}));
  ExpectSealedAtRest("connections", "sealed_options", password);
  ExpectSealedAtRest("jobs", "sealed_yaml", secret_line);
  // And read back in the clear.
  ASSERT_OK_AND_ASSIGN(std::optional<ConnectionRecord> got, store_->GetConnection("data", "db"));
  ASSERT_TRUE(got);
  EXPECT_THAT(got->options_json, HasSubstr(password));
}

TEST_P(ServerStoreTest, LedgerAndFireSchedules) {
  ASSERT_OK_AND_ASSIGN(std::optional<int64_t> last, store_->LastFire("data", "hourly"));
  EXPECT_FALSE(last);
  ASSERT_OK(store_->StartLedger("data", "hourly", 100));
  ASSERT_OK(store_->StartLedger("data", "hourly", 50));  // started already: unchanged
  ASSERT_OK_AND_ASSIGN(last, store_->LastFire("data", "hourly"));
  EXPECT_EQ(last, 100);

  ASSERT_OK_AND_ASSIGN(
      std::vector<int64_t> ids,
      store_->FireSchedules({{"data", "hourly", 200}, {"data", "hourly", 260},
                             {"data", "hourly", 260}, {"ops", "hourly", 200}},
                            /*now_us=*/5000));
  ASSERT_EQ(ids.size(), 3u);  // 260 twice is one run
  EXPECT_EQ(std::set<int64_t>(ids.begin(), ids.end()).size(), 3u);
  ASSERT_OK_AND_ASSIGN(last, store_->LastFire("data", "hourly"));
  EXPECT_EQ(last, 260);
  ASSERT_OK_AND_ASSIGN(last, store_->LastFire("ops", "hourly"));
  EXPECT_EQ(last, 200);
  for (int64_t id : ids) {
    ASSERT_OK_AND_ASSIGN(std::optional<RunRecord> run, store_->GetRun("", id));
    ASSERT_TRUE(run);
    EXPECT_EQ(run->trigger, "schedule");
    EXPECT_EQ(run->state, RunState::kQueued);
    EXPECT_EQ(run->queued_us, 5000);
    EXPECT_TRUE(run->fire == 200 || run->fire == 260) << run->fire;
  }

  // Recorded already: nothing new, whoever records them again.
  ASSERT_OK_AND_ASSIGN(ids, store_->FireSchedules({{"data", "hourly", 200}}, 6000));
  EXPECT_TRUE(ids.empty());
  // An earlier fire not yet recorded is a run, but the ledger does not move back.
  ASSERT_OK_AND_ASSIGN(ids, store_->FireSchedules({{"data", "hourly", 230}}, 6000));
  ASSERT_EQ(ids.size(), 1u);
  ASSERT_OK_AND_ASSIGN(last, store_->LastFire("data", "hourly"));
  EXPECT_EQ(last, 260);
  ASSERT_OK_AND_ASSIGN(std::optional<RunRecord> run, store_->GetRun("data", ids[0]));
  ASSERT_TRUE(run);
  EXPECT_EQ(run->fire, 230);

  ASSERT_OK_AND_ASSIGN(std::vector<RunRecord> runs, store_->ListRuns({.limit = 100}));
  EXPECT_EQ(runs.size(), 4u);
}

TEST_P(ServerStoreTest, CreateRunOncePerFire) {
  ASSERT_OK_AND_ASSIGN(std::optional<int64_t> first,
                       store_->CreateRun(QueuedRun("data", "j", "after", 42)));
  ASSERT_TRUE(first);
  ASSERT_OK_AND_ASSIGN(std::optional<int64_t> second,
                       store_->CreateRun(QueuedRun("data", "j", "after", 42)));
  EXPECT_FALSE(second);
  // Another trigger, job or team with the same fire is another run.
  ASSERT_OK_AND_ASSIGN(second, store_->CreateRun(QueuedRun("data", "j", "schedule", 42)));
  EXPECT_TRUE(second);
  ASSERT_OK_AND_ASSIGN(second, store_->CreateRun(QueuedRun("ops", "j", "after", 42)));
  EXPECT_TRUE(second);
  // fire 0: any number of runs.
  ASSERT_OK_AND_ASSIGN(std::optional<int64_t> a,
                       store_->CreateRun(QueuedRun("data", "j", "api", 0)));
  ASSERT_OK_AND_ASSIGN(std::optional<int64_t> b,
                       store_->CreateRun(QueuedRun("data", "j", "api", 0)));
  ASSERT_TRUE(a);
  ASSERT_TRUE(b);
  EXPECT_GT(*b, *a);
}

TEST_P(ServerStoreTest, UpdateRunRoundTrip) {
  RunRecord queued = QueuedRun("data", "orders", "api", 0);
  queued.fresh = true;
  queued.queued_us = 1234;
  ASSERT_OK_AND_ASSIGN(std::optional<int64_t> id, store_->CreateRun(queued));
  ASSERT_TRUE(id);
  ASSERT_OK_AND_ASSIGN(std::optional<RunRecord> got, store_->GetRun("data", *id));
  ASSERT_TRUE(got);
  EXPECT_EQ(got->state, RunState::kQueued);
  EXPECT_TRUE(got->fresh);
  EXPECT_FALSE(got->failure);
  EXPECT_TRUE(got->tables.empty());

  RunRecord run = *got;
  run.state = RunState::kFailed;
  run.started_us = 2000;
  run.first_row_us = 2500;
  run.ended_us = 3000;
  run.rows_read = uint64_t{1} << 40;
  run.rows_written = 7;
  run.bytes_read = 123456789012;
  run.bytes_written = 9;
  run.resumed = true;
  run.failure = FailureReason{"sink", "public.orders", "it's \"broken\"\nline 2", true};
  TableFigures with_lag{"public.orders", 1, 2, 3, 4, uint64_t{5}, uint64_t{6}};
  TableFigures without_lag{"public.items", 10, 20, 30, 40, std::nullopt, std::nullopt};
  run.tables = {with_lag, without_lag};
  ASSERT_OK(store_->UpdateRun(run));

  for (const std::string& team : {std::string("data"), std::string()}) {
    ASSERT_OK_AND_ASSIGN(got, store_->GetRun(team, *id));
    ASSERT_TRUE(got) << team;
    EXPECT_EQ(got->id, *id);
    EXPECT_EQ(got->team, "data");
    EXPECT_EQ(got->job, "orders");
    EXPECT_EQ(got->trigger, "api");
    EXPECT_EQ(got->fire, 0);
    EXPECT_TRUE(got->fresh);
    EXPECT_EQ(got->state, RunState::kFailed);
    EXPECT_EQ(got->queued_us, 1234);
    EXPECT_EQ(got->started_us, 2000);
    EXPECT_EQ(got->first_row_us, 2500);
    EXPECT_EQ(got->ended_us, 3000);
    EXPECT_EQ(got->rows_read, uint64_t{1} << 40);
    EXPECT_EQ(got->rows_written, 7u);
    EXPECT_EQ(got->bytes_read, 123456789012u);
    EXPECT_EQ(got->bytes_written, 9u);
    EXPECT_TRUE(got->resumed);
    ASSERT_TRUE(got->failure);
    EXPECT_EQ(got->failure->origin, "sink");
    EXPECT_EQ(got->failure->table, "public.orders");
    EXPECT_EQ(got->failure->message, "it's \"broken\"\nline 2");
    EXPECT_TRUE(got->failure->retryable);
    ASSERT_EQ(got->tables.size(), 2u);
    EXPECT_EQ(got->tables[0].table, "public.orders");
    EXPECT_EQ(got->tables[0].rows_read, 1u);
    EXPECT_EQ(got->tables[0].rows_written, 2u);
    EXPECT_EQ(got->tables[0].bytes_read, 3u);
    EXPECT_EQ(got->tables[0].bytes_written, 4u);
    EXPECT_EQ(got->tables[0].lag_rows, uint64_t{5});
    EXPECT_EQ(got->tables[0].lag_bytes, uint64_t{6});
    EXPECT_EQ(got->tables[1].table, "public.items");
    EXPECT_EQ(got->tables[1].rows_written, 20u);
    EXPECT_FALSE(got->tables[1].lag_rows);
    EXPECT_FALSE(got->tables[1].lag_bytes);
  }

  // A failure cleared by a later update is gone.
  run.state = RunState::kSucceeded;
  run.failure.reset();
  ASSERT_OK(store_->UpdateRun(run));
  ASSERT_OK_AND_ASSIGN(got, store_->GetRun("data", *id));
  ASSERT_TRUE(got);
  EXPECT_EQ(got->state, RunState::kSucceeded);
  EXPECT_FALSE(got->failure);

  ASSERT_OK_AND_ASSIGN(got, store_->GetRun("ops", *id));
  EXPECT_FALSE(got);
  ASSERT_OK_AND_ASSIGN(got, store_->GetRun("", *id + 1000));
  EXPECT_FALSE(got);
}

TEST_P(ServerStoreTest, ListRunsFilters) {
  struct Spec {
    const char* team;
    const char* job;
    RunState state;
  };
  const std::vector<Spec> specs = {
      {"data", "a", RunState::kSucceeded}, {"data", "b", RunState::kFailed},
      {"data", "a", RunState::kFailed},    {"ops", "a", RunState::kSucceeded},
      {"data", "a", RunState::kQueued},
  };
  std::vector<int64_t> ids;
  for (const Spec& spec : specs) {
    ASSERT_OK_AND_ASSIGN(std::optional<int64_t> id,
                         store_->CreateRun(QueuedRun(spec.team, spec.job, "api", 0)));
    ASSERT_TRUE(id);
    RunRecord run = QueuedRun(spec.team, spec.job, "api", 0);
    run.id = *id;
    run.state = spec.state;
    ASSERT_OK(store_->UpdateRun(run));
    ids.push_back(*id);
  }
  auto list = [&](ServerStore::RunFilter filter) {
    std::vector<int64_t> out;
    Result<std::vector<RunRecord>> runs = store_->ListRuns(filter);
    EXPECT_OK(runs);
    if (runs.ok()) {
      for (const RunRecord& run : *runs)
        out.push_back(run.id);
    }
    return out;
  };
  EXPECT_THAT(list({}), ElementsAre(ids[4], ids[3], ids[2], ids[1], ids[0]));
  EXPECT_THAT(list({.oldest_first = true}), ElementsAre(ids[0], ids[1], ids[2], ids[3], ids[4]));
  EXPECT_THAT(list({.team = "data"}), ElementsAre(ids[4], ids[2], ids[1], ids[0]));
  EXPECT_THAT(list({.team = "data", .job = "a"}), ElementsAre(ids[4], ids[2], ids[0]));
  EXPECT_THAT(list({.job = "a"}), ElementsAre(ids[4], ids[3], ids[2], ids[0]));
  EXPECT_THAT(list({.state = RunState::kFailed}), ElementsAre(ids[2], ids[1]));
  EXPECT_THAT(list({.team = "data", .job = "a", .state = RunState::kSucceeded}),
              ElementsAre(ids[0]));
  EXPECT_THAT(list({.limit = 2}), ElementsAre(ids[4], ids[3]));
  EXPECT_THAT(list({.team = "data", .limit = 2, .oldest_first = true}),
              ElementsAre(ids[0], ids[1]));
  EXPECT_THAT(list({.team = "nobody"}), ElementsAre());
  EXPECT_THAT(list({.team = "ops", .limit = -1}), ElementsAre(ids[3]));  // negative: no limit
}

TEST_P(ServerStoreTest, RunLogs) {
  ASSERT_OK(store_->AppendRunLog(1, {{10, "info", "runner", "one"}, {11, "warn", "sink", "two"}}));
  ASSERT_OK(store_->AppendRunLog(2, {{12, "info", "runner", "other run"}}));
  ASSERT_OK(store_->AppendRunLog(1, {}));
  ASSERT_OK(store_->AppendRunLog(
      1, {{13, "error", "source", "three 'quoted'"}, {14, "info", "runner", "four\nlines"}}));
  ASSERT_OK_AND_ASSIGN(std::vector<RunLogLine> lines, store_->RunLog(1, 100));
  std::vector<std::string> messages;
  for (const RunLogLine& line : lines)
    messages.push_back(line.message);
  EXPECT_THAT(messages, ElementsAre("one", "two", "three 'quoted'", "four\nlines"));
  ASSERT_EQ(lines.size(), 4u);
  EXPECT_EQ(lines[1].time_us, 11);
  EXPECT_EQ(lines[1].level, "warn");
  EXPECT_EQ(lines[1].component, "sink");

  // A limit keeps the last lines, oldest first.
  ASSERT_OK_AND_ASSIGN(lines, store_->RunLog(1, 2));
  messages.clear();
  for (const RunLogLine& line : lines)
    messages.push_back(line.message);
  EXPECT_THAT(messages, ElementsAre("three 'quoted'", "four\nlines"));

  ASSERT_OK_AND_ASSIGN(lines, store_->RunLog(1, -1));  // negative: no limit
  EXPECT_EQ(lines.size(), 4u);

  ASSERT_OK_AND_ASSIGN(lines, store_->RunLog(3, 100));
  EXPECT_TRUE(lines.empty());

  // Many lines in one call.
  std::vector<RunLogLine> many;
  for (int i = 0; i < 2500; ++i)
    many.push_back(RunLogLine{i, "info", "runner", fmt::format("line {}", i)});
  ASSERT_OK(store_->AppendRunLog(4, many));
  ASSERT_OK_AND_ASSIGN(lines, store_->RunLog(4, 3000));
  ASSERT_EQ(lines.size(), 2500u);
  EXPECT_EQ(lines.front().message, "line 0");
  EXPECT_EQ(lines.back().message, "line 2499");
}

TEST_P(ServerStoreTest, CatalogStreams) {
  CatalogStream stream{"data", "warehouse", "sync", "public.orders", R"([{"name":"id"}])"};
  ASSERT_OK_AND_ASSIGN(bool changed, store_->RecordStream(stream));
  EXPECT_FALSE(changed);  // first seen
  ASSERT_OK_AND_ASSIGN(changed, store_->RecordStream(stream));
  EXPECT_FALSE(changed);
  ASSERT_OK(store_->RecordStream(
      CatalogStream{"data", "files", "sync", "a.csv", R"([{"name":"x"}])"}));
  ASSERT_OK(store_->RecordStream(
      CatalogStream{"ops", "warehouse", "sync", "public.orders", R"([{"name":"other"}])"}));

  ASSERT_OK_AND_ASSIGN(std::vector<CatalogStream> listed, store_->ListStreams("data", "warehouse"));
  ASSERT_EQ(listed.size(), 1u);
  EXPECT_EQ(listed[0].changed_us, 0);
  EXPECT_EQ(listed[0].previous_schema_json, "");
  EXPECT_GT(listed[0].discovered_us, 0);

  CatalogStream widened = stream;
  widened.job = "sync2";
  widened.schema_json = R"([{"name":"id"},{"name":"total"}])";
  ASSERT_OK_AND_ASSIGN(changed, store_->RecordStream(widened));
  EXPECT_TRUE(changed);
  ASSERT_OK_AND_ASSIGN(changed, store_->RecordStream(widened));
  EXPECT_FALSE(changed);

  ASSERT_OK_AND_ASSIGN(listed, store_->ListStreams("data", "warehouse"));
  ASSERT_EQ(listed.size(), 1u);
  EXPECT_EQ(listed[0].team, "data");
  EXPECT_EQ(listed[0].connection, "warehouse");
  EXPECT_EQ(listed[0].job, "sync2");
  EXPECT_EQ(listed[0].stream, "public.orders");
  EXPECT_EQ(listed[0].schema_json, widened.schema_json);
  EXPECT_EQ(listed[0].previous_schema_json, stream.schema_json);  // kept
  EXPECT_GT(listed[0].changed_us, 0);

  ASSERT_OK_AND_ASSIGN(listed, store_->ListStreams("data", ""));
  ASSERT_EQ(listed.size(), 2u);
  EXPECT_EQ(listed[0].connection, "files");
  EXPECT_EQ(listed[1].connection, "warehouse");
  ASSERT_OK_AND_ASSIGN(listed, store_->ListStreams("ops", ""));
  ASSERT_EQ(listed.size(), 1u);
  EXPECT_EQ(listed[0].schema_json, R"([{"name":"other"}])");
}

// Two servers on one database record the same due fires at the same moment: each fire is one
// run, and the ids both return are those runs.
TEST_P(ServerStoreTest, TwoStoresFireTheSameSchedulesAtOnce) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<ServerStore> other, Open());
  std::vector<DueFire> fires;
  for (int i = 0; i < 200; ++i)
    fires.push_back(DueFire{"data", i % 2 == 0 ? "even" : "odd", 1'700'000'000 + i});
  std::barrier start(2);
  Result<std::vector<int64_t>> first = std::vector<int64_t>();
  Result<std::vector<int64_t>> second = std::vector<int64_t>();
  std::thread a([&] {
    start.arrive_and_wait();
    first = store_->FireSchedules(fires, 1);
  });
  std::thread b([&] {
    start.arrive_and_wait();
    second = other->FireSchedules(fires, 2);
  });
  a.join();
  b.join();
  ASSERT_OK(first);
  ASSERT_OK(second);
  std::set<int64_t> ids(first->begin(), first->end());
  ids.insert(second->begin(), second->end());
  EXPECT_EQ(first->size() + second->size(), 200u);
  EXPECT_EQ(ids.size(), 200u);

  ASSERT_OK_AND_ASSIGN(std::vector<RunRecord> runs, other->ListRuns({.limit = 1000}));
  ASSERT_EQ(runs.size(), 200u);
  std::set<std::pair<std::string, int64_t>> fired;
  for (const RunRecord& run : runs) {
    fired.emplace(run.job, run.fire);
    EXPECT_TRUE(ids.count(run.id)) << run.id;
  }
  EXPECT_EQ(fired.size(), 200u);
  ASSERT_OK_AND_ASSIGN(std::optional<int64_t> last, store_->LastFire("data", "odd"));
  EXPECT_EQ(last, 1'700'000'199);
  ASSERT_OK_AND_ASSIGN(last, other->LastFire("data", "even"));
  EXPECT_EQ(last, 1'700'000'198);
}

TEST_P(ServerStoreTest, TwoStoresClaimEachQueuedRunOnce) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<ServerStore> other, Open());
  std::vector<int64_t> ids;
  for (int i = 0; i < 100; ++i) {
    ASSERT_OK_AND_ASSIGN(std::optional<int64_t> id,
                         store_->CreateRun(QueuedRun("data", "j" + std::to_string(i), "api", 0)));
    ids.push_back(*id);
  }
  std::barrier start(2);
  std::atomic<int> claimed{0};
  auto claim_all = [&](ServerStore* store) {
    start.arrive_and_wait();
    for (int64_t id : ids) {
      Result<bool> got = store->ClaimRun(id, 5);
      ASSERT_OK(got);
      claimed += *got ? 1 : 0;
    }
  };
  std::thread a([&] { claim_all(store_.get()); });
  std::thread b([&] { claim_all(other.get()); });
  a.join();
  b.join();
  EXPECT_EQ(claimed.load(), 100);
  ASSERT_OK_AND_ASSIGN(std::optional<RunRecord> run, other->GetRun("", ids[7]));
  EXPECT_EQ(run->state, RunState::kRunning);
  EXPECT_EQ(run->started_us, 5);
  // A run no longer queued (stopped) cannot be claimed.
  ASSERT_OK_AND_ASSIGN(std::optional<int64_t> stopped,
                       store_->CreateRun(QueuedRun("data", "k", "api", 0)));
  RunRecord record = *store_->GetRun("", *stopped).value();
  record.state = RunState::kStopped;
  ASSERT_OK(store_->UpdateRun(record));
  ASSERT_OK_AND_ASSIGN(bool claimed_stopped, store_->ClaimRun(*stopped, 6));
  EXPECT_FALSE(claimed_stopped);
}

// ----- PostgreSQL only ---------------------------------------------------------------------------

TEST(ServerStorePostgresTest, WrongPasswordIsPermissionDeniedWithoutThePassword) {
  const std::string password = "Wr0ng-canary-5e81c2";
  Result<std::unique_ptr<ServerStore>> store =
      OpenServerStore(PostgresUrl("postgres", password), TestBox());
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), StatusCode::kPermissionDenied) << store.status().ToString();
  EXPECT_THAT(store.status().message(), Not(HasSubstr(password)));
  EXPECT_THAT(store.status().message(), HasSubstr("password"));  // says what to fix
  EXPECT_THAT(store.status().message(), HasSubstr("PGPASSWORD"));
}

TEST(ServerStorePostgresTest, UnreachableIsUnavailable) {
  // A port nothing listens on: bound, then closed.
  int port = 0;
  {
    Result<std::string> free_port =
        testing::RunShell("python3 -c 'import socket; s=socket.socket(); s.bind((\"127.0.0.1\", "
                          "0)); print(s.getsockname()[1])'");
    ASSERT_OK(free_port);
    port = std::stoi(*free_port);
  }
  const std::string password = "unreachable-canary-77aa";
  Result<std::unique_ptr<ServerStore>> store = OpenServerStore(
      fmt::format("postgresql://someone:{}@127.0.0.1:{}/db", password, port), TestBox());
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), StatusCode::kUnavailable) << store.status().ToString();
  EXPECT_THAT(store.status().message(), HasSubstr(fmt::format("127.0.0.1:{}", port)));
  EXPECT_THAT(store.status().message(), HasSubstr("reachable"));
  EXPECT_THAT(store.status().message(), Not(HasSubstr(password)));
}

TEST(ServerStorePostgresTest, BadUrlsSayWhatIsWrongWithoutThePassword) {
  const std::string password = "url-canary-0b9d";
  for (const std::string& url :
       {fmt::format("postgres://u:{}@127.0.0.1:notaport/db", password),
        fmt::format("postgres://u:{}@127.0.0.1:5432/db?sslmode=require", password),
        fmt::format("postgres://u:{}%zz@127.0.0.1:5432/db", password)}) {
    Result<std::unique_ptr<ServerStore>> store = OpenServerStore(url, TestBox());
    ASSERT_FALSE(store.ok()) << url;
    EXPECT_EQ(store.status().code(), StatusCode::kInvalidConfig) << store.status().ToString();
    EXPECT_THAT(store.status().message(), Not(HasSubstr(password)));
  }
}

TEST(ServerStorePostgresTest, MissingDatabaseIsNotFound) {
  Result<std::unique_ptr<ServerStore>> store = OpenServerStore(
      PostgresUrl("sluice_no_such_database", Servers().postgres.password), TestBox());
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), StatusCode::kNotFound) << store.status().ToString();
  EXPECT_THAT(store.status().message(), HasSubstr("sluice_no_such_database"));
  EXPECT_THAT(store.status().message(), Not(HasSubstr(Servers().postgres.password)));
}

// The server ended the store's session (a restart, an administrator): the next call connects
// again instead of failing.
TEST(ServerStorePostgresTest, ReconnectsAfterTheSessionEnded) {
  ScratchDatabase database;
  ASSERT_OK(database.status());
  ASSERT_OK_AND_ASSIGN(
      std::unique_ptr<ServerStore> store,
      OpenServerStore(PostgresUrl(database.name(), Servers().postgres.password), TestBox()));
  ASSERT_OK(store->PutTeam(Team{"data", 1}));
  ASSERT_OK_AND_ASSIGN(
      std::string ended,
      testing::PsqlExec(Servers(), "postgres",
                        fmt::format("SELECT count(pg_terminate_backend(pid)) FROM "
                                    "pg_stat_activity WHERE datname = '{}' AND pid <> "
                                    "pg_backend_pid()",
                                    database.name())));
  EXPECT_EQ(ended, "1\n");
  // pg_terminate_backend returns before the session has gone: wait until it has.
  for (int i = 0; i < 100; ++i) {
    Result<std::string> left = testing::PsqlExec(
        Servers(), "postgres",
        fmt::format("SELECT count(*) FROM pg_stat_activity WHERE datname = '{}'",
                    database.name()));
    if (left.ok() && *left == "0\n")
      break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_OK_AND_ASSIGN(std::optional<Team> team, store->GetTeam("data"));
  ASSERT_TRUE(team);
  EXPECT_EQ(team->max_concurrent_runs, 1);
  ASSERT_OK(store->PutTeam(Team{"data", 2}));
}

}  // namespace
}  // namespace sluice::server
