#include "server/api.h"

#include <fmt/core.h>
#include <httplib.h>

#include <ctime>
#include <nlohmann/json.hpp>
#include <regex>

#include "config/node.h"
#include "core/logging.h"
#include "server/alerts.h"
#include "server/definitions.h"
#include "server/run_manager.h"
#include "server/scheduler.h"
#include "server/server_store.h"

namespace sluice::server {

namespace {

using nlohmann::json;

constexpr std::string_view kComponent = "server:api";

// ----- the request and answer of one call ----------------------------------------------------

struct Call {
  const httplib::Request& http;
  TokenInfo principal;
  std::string team;                 // the team acted for
  std::vector<std::string> params;  // path parameters, in order
  json body;                        // the JSON body (routes that take one)
  std::string text;                 // the raw body
};

struct Reply {
  int status = 200;
  json body;
};

using Handler = std::function<Result<Reply>(ApiContext&, Call&)>;

struct Route {
  std::string method;  // "GET", "POST", "PUT", "DELETE"
  std::string path;    // OpenAPI form: /api/v1/jobs/{job}
  std::string summary;
  std::string tag;
  std::string request;   // schema name of the body ("" = none)
  std::string response;  // schema name of the answer ("" = none)
  int success = 200;
  bool admin = false;         // admin tokens only
  bool authenticated = true;  // false: open to all (health, the OpenAPI document)
  std::vector<std::pair<std::string, std::string>> query;  // name, description
  Handler handler;
};

int HttpStatusOf(const Status& status) {
  switch (status.code()) {
    case StatusCode::kInvalidConfig:
    case StatusCode::kUnsupported:
    case StatusCode::kDataError:
      return 400;
    case StatusCode::kPermissionDenied:
      return 403;
    case StatusCode::kNotFound:
      return 404;
    case StatusCode::kConflict:
      return 409;
    case StatusCode::kUnavailable:
    case StatusCode::kAborted:
      return 503;
    default:
      return 500;
  }
}

std::string ErrorCodeOf(int http_status) {
  switch (http_status) {
    case 400:
      return "bad_request";
    case 401:
      return "unauthenticated";
    case 403:
      return "forbidden";
    case 404:
      return "not_found";
    case 409:
      return "conflict";
    case 503:
      return "unavailable";
    default:
      return "internal";
  }
}

void SendJson(httplib::Response& response, int status, const json& body) {
  response.status = status;
  response.set_content(body.dump(), "application/json");
}

void SendError(httplib::Response& response, int status, const std::string& message) {
  SendJson(response, status, {{"error", {{"code", ErrorCodeOf(status)}, {"message", message}}}});
}

// Checks that `object` has only `allowed` fields, and the required ones.
Status CheckFields(const json& object, const std::vector<std::string>& allowed,
                   const std::vector<std::string>& required, std::string_view where) {
  if (!object.is_object())
    return InvalidConfig(fmt::format("{} must be a JSON object", where));
  for (const auto& [key, value] : object.items()) {
    if (std::find(allowed.begin(), allowed.end(), key) == allowed.end()) {
      std::string list;
      for (const std::string& name : allowed)
        list += (list.empty() ? "" : ", ") + name;
      return InvalidConfig(
          fmt::format("unknown field '{}' in {} (allowed: {})", key, where, list));
    }
  }
  for (const std::string& name : required) {
    if (!object.contains(name))
      return InvalidConfig(fmt::format("missing field '{}' in {}", name, where));
  }
  return Status::OK();
}

Result<std::string> StringField(const json& object, const std::string& name) {
  const json& value = object.at(name);
  if (!value.is_string())
    return InvalidConfig(fmt::format("field '{}' must be a string", name));
  return value.get<std::string>();
}

std::string IsoTime(int64_t micros) {
  if (micros <= 0)
    return "";
  const std::time_t seconds = static_cast<std::time_t>(micros / 1'000'000);
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", tm.tm_year + 1900,
                     tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                     (micros / 1000) % 1000);
}

json TimeOrNull(int64_t micros) {
  return micros > 0 ? json(IsoTime(micros)) : json(nullptr);
}

json TablesJson(const std::vector<TableFigures>& tables) {
  json out = json::array();
  for (const TableFigures& t : tables) {
    out.push_back({{"table", t.table},
                   {"rows_read", t.rows_read},
                   {"rows_written", t.rows_written},
                   {"bytes_read", t.bytes_read},
                   {"bytes_written", t.bytes_written},
                   {"lag_rows", t.lag_rows ? json(*t.lag_rows) : json(nullptr)},
                   {"lag_bytes", t.lag_bytes ? json(*t.lag_bytes) : json(nullptr)}});
  }
  return out;
}

json RunJson(ApiContext& context, const RunRecord& run) {
  json out = {{"id", run.id},
              {"team", run.team},
              {"job", run.job},
              {"trigger", run.trigger},
              {"state", std::string(RunStateName(run.state))},
              {"fresh", run.fresh},
              {"resumed", run.resumed},
              {"queued_at", TimeOrNull(run.queued_us)},
              {"started_at", TimeOrNull(run.started_us)},
              {"first_row_at", TimeOrNull(run.first_row_us)},
              {"ended_at", TimeOrNull(run.ended_us)},
              {"rows_read", run.rows_read},
              {"rows_written", run.rows_written},
              {"bytes_read", run.bytes_read},
              {"bytes_written", run.bytes_written},
              {"tables", TablesJson(run.tables)},
              {"failure", nullptr},
              {"live", nullptr}};
  if (run.trigger == "schedule")
    out["fire_time"] = IsoTime(run.fire * 1'000'000);
  if (run.started_us > 0) {
    const int64_t end = run.ended_us > 0 ? run.ended_us : NowMicros();
    out["duration_seconds"] = static_cast<double>(end - run.started_us) / 1e6;
  } else {
    out["duration_seconds"] = nullptr;
  }
  if (run.first_row_us > 0 && run.queued_us > 0)
    out["trigger_to_first_row_seconds"] = static_cast<double>(run.first_row_us - run.queued_us) / 1e6;
  if (run.failure) {
    out["failure"] = {{"origin", run.failure->origin},
                      {"table", run.failure->table.empty() ? json(nullptr) : json(run.failure->table)},
                      {"message", run.failure->message},
                      {"retryable", run.failure->retryable}};
  }
  if (run.state == RunState::kRunning) {
    if (std::optional<LiveRun> live = context.runs->Live(run.id)) {
      RunRecord now = run;  // the figures of earlier attempts, plus this one's so far
      AddFigures(&now, live->metrics, live->tables);
      out["rows_read"] = now.rows_read;
      out["rows_written"] = now.rows_written;
      out["bytes_read"] = now.bytes_read;
      out["bytes_written"] = now.bytes_written;
      out["tables"] = TablesJson(now.tables);
      out["first_row_at"] = TimeOrNull(now.first_row_us);
      if (now.first_row_us > 0 && now.queued_us > 0) {
        out["trigger_to_first_row_seconds"] =
            static_cast<double>(now.first_row_us - now.queued_us) / 1e6;
      }
      out["live"] = {{"rows_per_second", live->rows_per_second},
                     {"fraction", live->fraction >= 0 ? json(live->fraction) : json(nullptr)}};
    }
  }
  return out;
}

json ConnectionJson(ApiContext& context, const ConnectionRecord& record) {
  return {{"name", record.name},
          {"team", record.team},
          {"type", record.type},
          {"options", ShownOptions(*context.registry, record)},
          {"created_at", IsoTime(record.created_us)},
          {"updated_at", IsoTime(record.updated_us)}};
}

json ScheduleJson(const config::JobConfig& job, const Scheduler& scheduler,
                  const std::string& team) {
  if (!job.schedule)
    return nullptr;
  json out = {{"cron", job.schedule->cron.empty() ? json(nullptr) : json(job.schedule->cron)},
              {"time_zone", job.schedule->time_zone.empty() ? "UTC" : job.schedule->time_zone},
              {"after", job.schedule->after},
              {"next_fire", nullptr}};
  for (const ScheduleEntry& entry : scheduler.Entries()) {
    if (entry.team == team && entry.job == job.name && entry.next_fire)
      out["next_fire"] = IsoTime(*entry.next_fire * 1'000'000);
  }
  return out;
}

Result<json> JobJson(ApiContext& context, const JobRecord& record) {
  json out = {{"name", record.name},
              {"team", record.team},
              {"yaml", record.yaml},
              {"created_at", IsoTime(record.created_us)},
              {"updated_at", IsoTime(record.updated_us)}};
  Result<config::JobConfig> job =
      LoadServerJob(context.store, *context.registry, record.team, record.yaml, "job " + record.name);
  if (job.ok()) {
    out["source"] = job->source.type;
    out["sink"] = job->sink.type;
    out["connections"] = job->connections;
    out["schedule"] = ScheduleJson(*job, *context.scheduler, record.team);
    out["problem"] = nullptr;
  } else {
    // A connection it names was deleted or changed since: shown, not hidden.
    out["problem"] = job.status().message();
  }
  ServerStore::RunFilter filter;
  filter.team = record.team;
  filter.job = record.name;
  filter.limit = 1;
  SLUICE_ASSIGN_OR_RETURN(std::vector<RunRecord> runs, context.store->ListRuns(filter));
  out["last_run"] = runs.empty() ? json(nullptr) : RunJson(context, runs[0]);
  out["running"] = context.runs->IsActive(record.team, record.name);
  return out;
}

// ----- handlers --------------------------------------------------------------------------------

Result<Reply> Whoami(ApiContext&, Call& call) {
  return Reply{200,
               {{"token", call.principal.name},
                {"team", call.team},
                {"admin", call.principal.admin}}};
}

Result<Reply> ListTeams(ApiContext& context, Call&) {
  SLUICE_ASSIGN_OR_RETURN(std::vector<Team> teams, context.store->ListTeams());
  json out = json::array();
  for (const Team& team : teams)
    out.push_back({{"name", team.name}, {"max_concurrent_runs", team.max_concurrent_runs}});
  return Reply{200, {{"teams", out}}};
}

Result<Reply> PutTeam(ApiContext& context, Call& call) {
  SLUICE_RETURN_IF_ERROR(CheckFields(call.body, {"max_concurrent_runs"}, {}, "a team"));
  SLUICE_RETURN_IF_ERROR(CheckName("team", call.params[0]));
  Team team{call.params[0], 0};
  if (call.body.contains("max_concurrent_runs")) {
    const json& quota = call.body["max_concurrent_runs"];
    if (!quota.is_number_integer() || quota.get<int64_t>() < 0 || quota.get<int64_t>() > 100000)
      return InvalidConfig("'max_concurrent_runs' must be an integer from 0 (no limit) to 100000");
    team.max_concurrent_runs = quota.get<int>();
  }
  SLUICE_RETURN_IF_ERROR(context.store->PutTeam(team));
  context.runs->Wake();  // a raised quota may let queued runs start
  return Reply{200, {{"name", team.name}, {"max_concurrent_runs", team.max_concurrent_runs}}};
}

Result<Reply> CreateToken(ApiContext& context, Call& call) {
  SLUICE_RETURN_IF_ERROR(CheckFields(call.body, {"name", "team", "admin"}, {"name", "team"},
                                     "a token"));
  TokenInfo info;
  SLUICE_ASSIGN_OR_RETURN(info.name, StringField(call.body, "name"));
  SLUICE_ASSIGN_OR_RETURN(info.team, StringField(call.body, "team"));
  if (call.body.contains("admin")) {
    if (!call.body["admin"].is_boolean())
      return InvalidConfig("field 'admin' must be true or false");
    info.admin = call.body["admin"].get<bool>();
  }
  SLUICE_RETURN_IF_ERROR(CheckName("token", info.name));
  SLUICE_ASSIGN_OR_RETURN(std::optional<Team> team, context.store->GetTeam(info.team));
  if (!team)
    return NotFound(fmt::format("no team named '{}' (PUT /api/v1/teams/{} creates it)", info.team,
                                info.team));
  SLUICE_ASSIGN_OR_RETURN(std::string token, context.store->CreateToken(info));
  return Reply{201,
               {{"name", info.name}, {"team", info.team}, {"admin", info.admin}, {"token", token}}};
}

Result<Reply> ListConnections(ApiContext& context, Call& call) {
  SLUICE_ASSIGN_OR_RETURN(std::vector<ConnectionRecord> records,
                          context.store->ListConnections(call.team));
  json out = json::array();
  for (const ConnectionRecord& record : records)
    out.push_back(ConnectionJson(context, record));
  return Reply{200, {{"connections", out}}};
}

Result<ConnectionRecord> ConnectionFromBody(const Call& call, const std::string& name_in_path) {
  const bool named_in_path = !name_in_path.empty();
  SLUICE_RETURN_IF_ERROR(CheckFields(call.body, {"name", "type", "options"},
                                     named_in_path ? std::vector<std::string>{"type"}
                                                   : std::vector<std::string>{"name", "type"},
                                     "a connection"));
  ConnectionRecord record;
  record.team = call.team;
  if (call.body.contains("name")) {
    SLUICE_ASSIGN_OR_RETURN(record.name, StringField(call.body, "name"));
    if (named_in_path && record.name != name_in_path) {
      return InvalidConfig(fmt::format("the body names connection '{}' but the path '{}'",
                                       record.name, name_in_path));
    }
  } else {
    record.name = name_in_path;
  }
  SLUICE_ASSIGN_OR_RETURN(record.type, StringField(call.body, "type"));
  json options = call.body.value("options", json::object());
  if (!options.is_object())
    return InvalidConfig("field 'options' must be an object of the connector's options");
  record.options_json = options.dump();
  return record;
}

Result<Reply> CreateConnection(ApiContext& context, Call& call) {
  SLUICE_ASSIGN_OR_RETURN(ConnectionRecord record, ConnectionFromBody(call, ""));
  SLUICE_RETURN_IF_ERROR(CheckConnection(*context.registry, record));
  SLUICE_RETURN_IF_ERROR(context.store->CreateConnection(record));
  SLUICE_ASSIGN_OR_RETURN(std::optional<ConnectionRecord> stored,
                          context.store->GetConnection(call.team, record.name));
  return Reply{201, ConnectionJson(context, *stored)};
}

Result<Reply> GetConnection(ApiContext& context, Call& call) {
  SLUICE_ASSIGN_OR_RETURN(std::optional<ConnectionRecord> record,
                          context.store->GetConnection(call.team, call.params[0]));
  if (!record)
    return NotFound(fmt::format("no connection named '{}'", call.params[0]));
  return Reply{200, ConnectionJson(context, *record)};
}

Result<Reply> PutConnection(ApiContext& context, Call& call) {
  SLUICE_ASSIGN_OR_RETURN(ConnectionRecord record, ConnectionFromBody(call, call.params[0]));
  SLUICE_RETURN_IF_ERROR(CheckConnection(*context.registry, record));
  SLUICE_ASSIGN_OR_RETURN(std::optional<ConnectionRecord> existing,
                          context.store->GetConnection(call.team, record.name));
  if (existing)
    SLUICE_RETURN_IF_ERROR(context.store->ReplaceConnection(record));
  else
    SLUICE_RETURN_IF_ERROR(context.store->CreateConnection(record));
  SLUICE_ASSIGN_OR_RETURN(std::optional<ConnectionRecord> stored,
                          context.store->GetConnection(call.team, record.name));
  return Reply{existing ? 200 : 201, ConnectionJson(context, *stored)};
}

Result<Reply> DeleteConnection(ApiContext& context, Call& call) {
  SLUICE_ASSIGN_OR_RETURN(std::vector<JobRecord> jobs, context.store->ListJobs(call.team));
  for (const JobRecord& job : jobs) {
    Result<config::JobConfig> loaded =
        LoadServerJob(context.store, *context.registry, job.team, job.yaml, "job " + job.name);
    if (loaded.ok() && std::find(loaded->connections.begin(), loaded->connections.end(),
                                 call.params[0]) != loaded->connections.end()) {
      return Conflict(fmt::format("job '{}' uses connection '{}': change or delete the job first",
                                  job.name, call.params[0]));
    }
  }
  SLUICE_RETURN_IF_ERROR(context.store->DeleteConnection(call.team, call.params[0]));
  return Reply{204, nullptr};
}

json StreamsJson(const std::vector<CatalogStream>& streams) {
  json out = json::array();
  for (const CatalogStream& s : streams) {
    out.push_back({{"connection", s.connection.empty() ? json(nullptr) : json(s.connection)},
                   {"stream", s.stream},
                   {"job", s.job},
                   {"schema", json::parse(s.schema_json, nullptr, false)},
                   {"discovered_at", IsoTime(s.discovered_us)},
                   {"changed_at", TimeOrNull(s.changed_us)},
                   {"previous_schema", s.previous_schema_json.empty()
                                           ? json(nullptr)
                                           : json::parse(s.previous_schema_json, nullptr, false)}});
  }
  return {{"streams", out}};
}

Result<Reply> ConnectionStreams(ApiContext& context, Call& call) {
  SLUICE_ASSIGN_OR_RETURN(std::optional<ConnectionRecord> record,
                          context.store->GetConnection(call.team, call.params[0]));
  if (!record)
    return NotFound(fmt::format("no connection named '{}'", call.params[0]));
  SLUICE_ASSIGN_OR_RETURN(std::vector<CatalogStream> streams,
                          context.store->ListStreams(call.team, call.params[0]));
  return Reply{200, StreamsJson(streams)};
}

Result<Reply> CatalogStreams(ApiContext& context, Call& call) {
  SLUICE_ASSIGN_OR_RETURN(std::vector<CatalogStream> streams,
                          context.store->ListStreams(call.team, ""));
  return Reply{200, StreamsJson(streams)};
}

Result<Reply> ListAlerts(ApiContext& context, Call& call) {
  json out = json::array();
  if (context.alerts != nullptr) {
    for (const AlertState& alert : context.alerts->Alerts()) {
      if (alert.team != call.team)
        continue;
      out.push_back({{"rule", alert.rule},
                     {"team", alert.team},
                     {"job", alert.job},
                     {"table", alert.table.empty() ? json(nullptr) : json(alert.table)},
                     {"state", alert.firing ? "firing" : "pending"},
                     {"since", IsoTime(alert.active_since_us)}});
    }
  }
  return Reply{200, {{"alerts", out}}};
}

// The job's YAML from the body: raw YAML (Content-Type application/yaml) or {"yaml": "..."}.
Result<std::string> JobYamlFromBody(const Call& call) {
  if (!call.body.is_null()) {
    SLUICE_RETURN_IF_ERROR(CheckFields(call.body, {"yaml"}, {"yaml"}, "a job"));
    return StringField(call.body, "yaml");
  }
  if (call.text.empty())
    return InvalidConfig("the body must be the job's YAML, or JSON {\"yaml\": \"...\"}");
  return call.text;
}

// Checks a job fully before it is stored; `name_in_path` ("" on create) must match its name.
Result<config::JobConfig> CheckJob(ApiContext& context, const Call& call, const std::string& yaml,
                                   const std::string& name_in_path, bool dry_run = false) {
  SLUICE_ASSIGN_OR_RETURN(config::JobConfig job,
                          LoadServerJob(context.store, *context.registry, call.team, yaml,
                                        name_in_path.empty() ? "job" : "job " + name_in_path));
  if (!name_in_path.empty() && job.name != name_in_path) {
    return InvalidConfig(
        fmt::format("the YAML names job '{}' but the path '{}'", job.name, name_in_path));
  }
  // A dry run (sluice apply) checks a folder whose jobs may run after each other before any
  // exists: the upstream jobs are checked when the job is stored.
  if (job.schedule && !dry_run) {
    for (const std::string& upstream : job.schedule->after) {
      if (upstream == job.name)
        return InvalidConfig("a job cannot run after itself");
      SLUICE_ASSIGN_OR_RETURN(std::optional<JobRecord> found,
                              context.store->GetJob(call.team, upstream));
      if (!found) {
        return InvalidConfig(fmt::format(
            "{}: schedule.after names job '{}', which does not exist (create it first)",
            job.schedule->mark.ToString(), upstream));
      }
    }
  }
  return job;
}

Result<Reply> ListJobs(ApiContext& context, Call& call) {
  SLUICE_ASSIGN_OR_RETURN(std::vector<JobRecord> records, context.store->ListJobs(call.team));
  json out = json::array();
  for (const JobRecord& record : records) {
    SLUICE_ASSIGN_OR_RETURN(json job, JobJson(context, record));
    out.push_back(std::move(job));
  }
  return Reply{200, {{"jobs", out}}};
}

Result<Reply> CreateJob(ApiContext& context, Call& call) {
  SLUICE_ASSIGN_OR_RETURN(std::string yaml, JobYamlFromBody(call));
  SLUICE_ASSIGN_OR_RETURN(config::JobConfig job, CheckJob(context, call, yaml, ""));
  SLUICE_RETURN_IF_ERROR(context.store->CreateJob(JobRecord{call.team, job.name, yaml, 0, 0}));
  if (context.jobs_changed)
    context.jobs_changed(call.team, job.name);
  SLUICE_ASSIGN_OR_RETURN(std::optional<JobRecord> stored, context.store->GetJob(call.team, job.name));
  SLUICE_ASSIGN_OR_RETURN(json out, JobJson(context, *stored));
  return Reply{201, out};
}

Result<Reply> GetJob(ApiContext& context, Call& call) {
  SLUICE_ASSIGN_OR_RETURN(std::optional<JobRecord> record,
                          context.store->GetJob(call.team, call.params[0]));
  if (!record)
    return NotFound(fmt::format("no job named '{}'", call.params[0]));
  SLUICE_ASSIGN_OR_RETURN(json out, JobJson(context, *record));
  return Reply{200, out};
}

Result<Reply> PutJob(ApiContext& context, Call& call) {
  SLUICE_ASSIGN_OR_RETURN(std::string yaml, JobYamlFromBody(call));
  const bool dry_run = call.http.get_param_value("dry_run") == "true";
  SLUICE_ASSIGN_OR_RETURN(config::JobConfig job,
                          CheckJob(context, call, yaml, call.params[0], dry_run));
  if (dry_run)
    return Reply{200, {{"name", job.name}, {"valid", true}}};
  SLUICE_ASSIGN_OR_RETURN(std::optional<JobRecord> existing,
                          context.store->GetJob(call.team, job.name));
  if (existing)
    SLUICE_RETURN_IF_ERROR(context.store->ReplaceJob(JobRecord{call.team, job.name, yaml, 0, 0}));
  else
    SLUICE_RETURN_IF_ERROR(context.store->CreateJob(JobRecord{call.team, job.name, yaml, 0, 0}));
  if (context.jobs_changed)
    context.jobs_changed(call.team, job.name);
  SLUICE_ASSIGN_OR_RETURN(std::optional<JobRecord> stored, context.store->GetJob(call.team, job.name));
  SLUICE_ASSIGN_OR_RETURN(json out, JobJson(context, *stored));
  return Reply{existing ? 200 : 201, out};
}

Result<Reply> DeleteJob(ApiContext& context, Call& call) {
  if (context.runs->IsActive(call.team, call.params[0])) {
    return Conflict(fmt::format("job '{}' is running: stop its run first", call.params[0]));
  }
  SLUICE_RETURN_IF_ERROR(context.store->DeleteJob(call.team, call.params[0]));
  if (context.jobs_changed)
    context.jobs_changed(call.team, call.params[0]);
  return Reply{204, nullptr};
}

Result<Reply> StartRun(ApiContext& context, Call& call) {
  if (!call.body.is_null())
    SLUICE_RETURN_IF_ERROR(CheckFields(call.body, {"fresh"}, {}, "a run request"));
  bool fresh = false;
  if (call.body.is_object() && call.body.contains("fresh")) {
    if (!call.body["fresh"].is_boolean())
      return InvalidConfig("field 'fresh' must be true or false");
    fresh = call.body["fresh"].get<bool>();
  }
  SLUICE_ASSIGN_OR_RETURN(std::optional<JobRecord> record,
                          context.store->GetJob(call.team, call.params[0]));
  if (!record)
    return NotFound(fmt::format("no job named '{}'", call.params[0]));
  SLUICE_ASSIGN_OR_RETURN(std::optional<RunRecord> run,
                          context.runs->Trigger(call.team, call.params[0], "api", 0, fresh));
  return Reply{201, RunJson(context, *run)};
}

Result<Reply> JobStatus(ApiContext& context, Call& call) {
  SLUICE_ASSIGN_OR_RETURN(std::optional<JobRecord> record,
                          context.store->GetJob(call.team, call.params[0]));
  if (!record)
    return NotFound(fmt::format("no job named '{}'", call.params[0]));
  ServerStore::RunFilter filter;
  filter.team = call.team;
  filter.job = call.params[0];
  filter.limit = 1;
  SLUICE_ASSIGN_OR_RETURN(std::vector<RunRecord> runs, context.store->ListRuns(filter));
  json out = {{"job", record->name}, {"state", "never_run"}, {"run", nullptr}, {"tables", json::array()}};
  if (!runs.empty()) {
    json run = RunJson(context, runs[0]);
    out["state"] = run["state"];
    out["tables"] = run["tables"];
    out["run"] = std::move(run);
  }
  return Reply{200, out};
}

Result<Reply> ListRuns(ApiContext& context, Call& call) {
  ServerStore::RunFilter filter;
  filter.team = call.team;
  filter.job = call.http.get_param_value("job");
  if (call.http.has_param("state")) {
    std::optional<RunState> state = ParseRunState(call.http.get_param_value("state"));
    if (!state)
      return InvalidConfig("'state' must be queued, running, succeeded, failed or stopped");
    filter.state = state;
  }
  if (call.http.has_param("limit")) {
    const std::string text = call.http.get_param_value("limit");
    char* end = nullptr;
    const long limit = std::strtol(text.c_str(), &end, 10);
    if (text.empty() || *end != '\0' || limit < 1 || limit > 10000)
      return InvalidConfig("'limit' must be a whole number from 1 to 10000");
    filter.limit = static_cast<int>(limit);
  }
  SLUICE_ASSIGN_OR_RETURN(std::vector<RunRecord> runs, context.store->ListRuns(filter));
  json out = json::array();
  for (const RunRecord& run : runs)
    out.push_back(RunJson(context, run));
  return Reply{200, {{"runs", out}}};
}

Result<int64_t> RunId(const std::string& text) {
  char* end = nullptr;
  const long long id = std::strtoll(text.c_str(), &end, 10);
  if (text.empty() || *end != '\0' || id <= 0)
    return InvalidConfig(fmt::format("'{}' is not a run id (a positive number)", text));
  return static_cast<int64_t>(id);
}

Result<Reply> GetRun(ApiContext& context, Call& call) {
  SLUICE_ASSIGN_OR_RETURN(int64_t id, RunId(call.params[0]));
  SLUICE_ASSIGN_OR_RETURN(std::optional<RunRecord> run, context.store->GetRun(call.team, id));
  if (!run)
    return NotFound(fmt::format("no run {}", id));
  return Reply{200, RunJson(context, *run)};
}

Result<Reply> StopRun(ApiContext& context, Call& call) {
  SLUICE_ASSIGN_OR_RETURN(int64_t id, RunId(call.params[0]));
  SLUICE_RETURN_IF_ERROR(context.runs->Stop(call.team, id));
  SLUICE_ASSIGN_OR_RETURN(std::optional<RunRecord> run, context.store->GetRun(call.team, id));
  return Reply{202, RunJson(context, *run)};
}

Result<Reply> ResumeRun(ApiContext& context, Call& call) {
  SLUICE_ASSIGN_OR_RETURN(int64_t id, RunId(call.params[0]));
  SLUICE_ASSIGN_OR_RETURN(std::optional<RunRecord> run, context.store->GetRun(call.team, id));
  if (!run)
    return NotFound(fmt::format("no run {}", id));
  if (run->state != RunState::kStopped && run->state != RunState::kFailed) {
    return Conflict(fmt::format("run {} is {}: only a stopped or failed run can be resumed", id,
                                RunStateName(run->state)));
  }
  // A new run of the job continues from the job's last checkpoint.
  SLUICE_ASSIGN_OR_RETURN(std::optional<RunRecord> next,
                          context.runs->Trigger(call.team, run->job, "api", 0, false));
  return Reply{201, RunJson(context, *next)};
}

Result<Reply> RunLogs(ApiContext& context, Call& call) {
  SLUICE_ASSIGN_OR_RETURN(int64_t id, RunId(call.params[0]));
  SLUICE_ASSIGN_OR_RETURN(std::optional<RunRecord> run, context.store->GetRun(call.team, id));
  if (!run)
    return NotFound(fmt::format("no run {}", id));
  SLUICE_ASSIGN_OR_RETURN(std::vector<RunLogLine> lines, context.store->RunLog(id, 1000));
  json out = json::array();
  for (const RunLogLine& line : lines) {
    out.push_back({{"time", IsoTime(line.time_us)},
                   {"level", line.level},
                   {"component", line.component},
                   {"message", line.message}});
  }
  return Reply{200, {{"run", id}, {"lines", out}}};
}

Result<Reply> ListSchedules(ApiContext& context, Call& call) {
  json out = json::array();
  for (const ScheduleEntry& entry : context.scheduler->Entries()) {
    if (entry.team != call.team)
      continue;
    out.push_back({{"job", entry.job},
                   {"cron", entry.cron ? json(entry.cron->expression()) : json(nullptr)},
                   {"time_zone", entry.cron ? entry.cron->time_zone() : std::string("UTC")},
                   {"after", entry.after},
                   {"next_fire", entry.next_fire ? json(IsoTime(*entry.next_fire * 1'000'000))
                                                 : json(nullptr)}});
  }
  return Reply{200, {{"schedules", out}}};
}

Result<Reply> Health(ApiContext&, Call&) {
  return Reply{200, {{"status", "ok"}}};
}

Result<Reply> OpenApi(ApiContext&, Call&) {
  return Reply{200, OpenApiDocument()};
}

const std::vector<Route>& Routes() {
  static const std::vector<Route> kRoutes = {
      {"GET", "/api/v1/health", "Whether the server answers", "server", "", "Health", 200, false,
       false, {}, Health},
      {"GET", "/api/v1/openapi.json", "This document", "server", "", "", 200, false, false, {},
       OpenApi},
      {"GET", "/api/v1/whoami", "The token's name and team", "server", "", "Whoami", 200, false,
       true, {}, Whoami},
      {"GET", "/api/v1/teams", "Lists the teams (admin)", "teams", "", "TeamList", 200, true, true,
       {}, ListTeams},
      {"PUT", "/api/v1/teams/{team}", "Creates a team or sets its quota (admin)", "teams",
       "TeamInput", "Team", 200, true, true, {}, PutTeam},
      {"POST", "/api/v1/tokens", "Creates an API token for a team (admin); shown once", "teams",
       "TokenInput", "Token", 201, true, true, {}, CreateToken},
      {"GET", "/api/v1/connections", "Lists the team's connections", "connections", "",
       "ConnectionList", 200, false, true, {}, ListConnections},
      {"POST", "/api/v1/connections", "Creates a connection", "connections", "ConnectionInput",
       "Connection", 201, false, true, {}, CreateConnection},
      {"GET", "/api/v1/connections/{connection}", "A connection (secrets redacted)",
       "connections", "", "Connection", 200, false, true, {}, GetConnection},
      {"PUT", "/api/v1/connections/{connection}", "Creates or replaces a connection",
       "connections", "ConnectionInput", "Connection", 200, false, true, {}, PutConnection},
      {"DELETE", "/api/v1/connections/{connection}", "Deletes a connection no job uses",
       "connections", "", "", 204, false, true, {}, DeleteConnection},
      {"GET", "/api/v1/connections/{connection}/streams",
       "The connection's streams and schemas as last discovered", "catalog", "", "StreamList",
       200, false, true, {}, ConnectionStreams},
      {"GET", "/api/v1/catalog/streams", "Every stream the team's runs discovered", "catalog", "",
       "StreamList", 200, false, true, {}, CatalogStreams},
      {"GET", "/api/v1/jobs", "Lists the team's jobs", "jobs", "", "JobList", 200, false, true, {},
       ListJobs},
      {"POST", "/api/v1/jobs", "Creates a job from its YAML", "jobs", "JobInput", "Job", 201,
       false, true, {}, CreateJob},
      {"GET", "/api/v1/jobs/{job}", "A job, its schedule and last run", "jobs", "", "Job", 200,
       false, true, {}, GetJob},
      {"PUT", "/api/v1/jobs/{job}", "Creates or replaces a job", "jobs", "JobInput", "Job", 200,
       false, true, {{"dry_run", "true: only check the job (its `after` jobs need not exist)"}},
       PutJob},
      {"DELETE", "/api/v1/jobs/{job}", "Deletes a job that is not running", "jobs", "", "", 204,
       false, true, {}, DeleteJob},
      {"GET", "/api/v1/jobs/{job}/status", "The job's state and per-table figures", "jobs", "",
       "JobStatus", 200, false, true, {}, JobStatus},
      {"POST", "/api/v1/jobs/{job}/runs",
       "Starts a run (fresh: true re-syncs from scratch instead of resuming)", "runs",
       "RunInput", "Run", 201, false, true, {}, StartRun},
      {"GET", "/api/v1/runs", "Lists runs, newest first", "runs", "", "RunList", 200, false, true,
       {{"job", "only this job's runs"},
        {"state", "queued, running, succeeded, failed or stopped"},
        {"limit", "at most this many (1-10000, default 100)"}},
       ListRuns},
      {"GET", "/api/v1/runs/{run}", "A run: figures per table, failure reason, live rates",
       "runs", "", "Run", 200, false, true, {}, GetRun},
      {"POST", "/api/v1/runs/{run}/stop", "Stops a run at a checkpoint (resumable)", "runs", "",
       "Run", 202, false, true, {}, StopRun},
      {"POST", "/api/v1/runs/{run}/resume",
       "Starts a new run of the job from its last checkpoint", "runs", "", "Run", 201, false,
       true, {}, ResumeRun},
      {"GET", "/api/v1/runs/{run}/logs", "The run's log lines (the last 1000)", "runs", "",
       "RunLog", 200, false, true, {}, RunLogs},
      {"GET", "/api/v1/schedules", "The team's schedules and their next fire", "jobs", "",
       "ScheduleList", 200, false, true, {}, ListSchedules},
      {"GET", "/api/v1/alerts", "The team's pending and firing alerts", "alerts", "",
       "AlertList", 200, false, true, {}, ListAlerts},
  };
  return kRoutes;
}

// "/api/v1/jobs/{job}/runs" -> "/api/v1/jobs/([^/]+)/runs"
std::string PathPattern(const std::string& path) {
  return std::regex_replace(path, std::regex(R"(\{[a-z_]+\})"), "([^/]+)");
}

std::vector<std::string> PathParameters(const std::string& path) {
  std::vector<std::string> names;
  std::regex parameter(R"(\{([a-z_]+)\})");
  for (std::sregex_iterator it(path.begin(), path.end(), parameter), end; it != end; ++it)
    names.push_back((*it)[1]);
  return names;
}

void Serve(ApiContext* context, const Route& route, const httplib::Request& request,
           httplib::Response& response) {
  Call call{request, {}, "", {}, nullptr, request.body};
  if (route.authenticated) {
    std::string header = request.get_header_value("Authorization");
    if (header.rfind("Bearer ", 0) != 0) {
      SendError(response, 401, "send an API token: 'Authorization: Bearer <token>'");
      return;
    }
    Result<std::optional<TokenInfo>> token = context->store->LookupToken(header.substr(7));
    if (!token.ok()) {
      SendError(response, 500, token.status().ToString());
      return;
    }
    if (!*token) {
      SendError(response, 401, "the API token is not known to this server");
      return;
    }
    call.principal = **token;
    call.team = call.principal.team;
    if (request.has_param("team")) {
      const std::string team = request.get_param_value("team");
      if (!call.principal.admin && team != call.principal.team) {
        SendError(response, 403, fmt::format("this token belongs to team '{}' and cannot act "
                                             "for team '{}'",
                                             call.principal.team, team));
        return;
      }
      call.team = team;
    }
    if (route.admin && !call.principal.admin) {
      SendError(response, 403, fmt::format("{} {} needs an admin token", route.method, route.path));
      return;
    }
  }
  for (size_t i = 1; i < request.matches.size(); ++i)
    call.params.push_back(httplib::detail::decode_url(request.matches[i].str(), false));
  const std::string content_type = request.get_header_value("Content-Type");
  const bool yaml = content_type.find("yaml") != std::string::npos;
  if (!route.request.empty() && !request.body.empty() && !yaml) {
    try {
      call.body = json::parse(request.body);
    } catch (const json::parse_error& error) {
      SendError(response, 400,
                fmt::format("malformed JSON at byte {}: {}", error.byte,
                            std::string(error.what()).substr(std::string(error.what()).find(':') + 2)));
      return;
    }
  }
  if (!route.request.empty() && request.body.empty() && route.request != "RunInput") {
    SendError(response, 400, fmt::format("{} {} needs a body ({})", route.method, route.path,
                                         route.request));
    return;
  }
  Result<Reply> reply = route.handler(*context, call);
  if (!reply.ok()) {
    const int status = HttpStatusOf(reply.status());
    if (status >= 500)
      log::Error(kComponent, "{} {}: {}", route.method, request.path, reply.status().ToString());
    SendError(response, status, reply.status().message());
    return;
  }
  if (reply->status == 204) {
    response.status = 204;
    return;
  }
  SendJson(response, reply->status, reply->body);
}

json Schema(const std::string& name) {
  return {{"$ref", "#/components/schemas/" + name}};
}

json Components() {
  const json time = {{"type", "string"}, {"format", "date-time"}, {"nullable", true}};
  const json count = {{"type", "integer"}, {"minimum", 0}};
  const json tables = {
      {"type", "array"},
      {"items",
       {{"type", "object"},
        {"properties",
         {{"table", {{"type", "string"}}},
          {"rows_read", count},
          {"rows_written", count},
          {"bytes_read", count},
          {"bytes_written", count},
          {"lag_rows", {{"type", "integer"}, {"nullable", true}}},
          {"lag_bytes", {{"type", "integer"}, {"nullable", true}}}}}}}};
  json schemas = {
      {"Error",
       {{"type", "object"},
        {"properties",
         {{"error",
           {{"type", "object"},
            {"properties",
             {{"code", {{"type", "string"}}}, {"message", {{"type", "string"}}}}}}}}}}},
      {"Health", {{"type", "object"}, {"properties", {{"status", {{"type", "string"}}}}}}},
      {"Whoami",
       {{"type", "object"},
        {"properties",
         {{"token", {{"type", "string"}}},
          {"team", {{"type", "string"}}},
          {"admin", {{"type", "boolean"}}}}}}},
      {"Team",
       {{"type", "object"},
        {"properties",
         {{"name", {{"type", "string"}}}, {"max_concurrent_runs", count}}}}},
      {"TeamInput",
       {{"type", "object"},
        {"additionalProperties", false},
        {"properties", {{"max_concurrent_runs", count}}}}},
      {"TeamList",
       {{"type", "object"},
        {"properties", {{"teams", {{"type", "array"}, {"items", Schema("Team")}}}}}}},
      {"TokenInput",
       {{"type", "object"},
        {"additionalProperties", false},
        {"required", {"name", "team"}},
        {"properties",
         {{"name", {{"type", "string"}}},
          {"team", {{"type", "string"}}},
          {"admin", {{"type", "boolean"}}}}}}},
      {"Token",
       {{"type", "object"},
        {"properties",
         {{"name", {{"type", "string"}}},
          {"team", {{"type", "string"}}},
          {"admin", {{"type", "boolean"}}},
          {"token", {{"type", "string"}, {"description", "shown once"}}}}}}},
      {"ConnectionInput",
       {{"type", "object"},
        {"additionalProperties", false},
        {"required", {"type"}},
        {"properties",
         {{"name", {{"type", "string"}}},
          {"type", {{"type", "string"}, {"description", "a connector type (sluice connectors)"}}},
          {"options",
           {{"type", "object"},
            {"description",
             "the connector's options; secrets as ${env:NAME} or ${file:/path} references or "
             "literally (stored encrypted, never shown)"}}}}}}},
      {"Connection",
       {{"type", "object"},
        {"properties",
         {{"name", {{"type", "string"}}},
          {"team", {{"type", "string"}}},
          {"type", {{"type", "string"}}},
          {"options", {{"type", "object"}}},
          {"created_at", time},
          {"updated_at", time}}}}},
      {"ConnectionList",
       {{"type", "object"},
        {"properties", {{"connections", {{"type", "array"}, {"items", Schema("Connection")}}}}}}},
      {"JobInput",
       {{"type", "object"},
        {"additionalProperties", false},
        {"required", {"yaml"}},
        {"description", "or the YAML itself with Content-Type: application/yaml"},
        {"properties", {{"yaml", {{"type", "string"}}}}}}},
      {"Schedule",
       {{"type", "object"},
        {"nullable", true},
        {"properties",
         {{"cron", {{"type", "string"}, {"nullable", true}}},
          {"time_zone", {{"type", "string"}}},
          {"after", {{"type", "array"}, {"items", {{"type", "string"}}}}},
          {"next_fire", time}}}}},
      {"Job",
       {{"type", "object"},
        {"properties",
         {{"name", {{"type", "string"}}},
          {"team", {{"type", "string"}}},
          {"yaml", {{"type", "string"}}},
          {"source", {{"type", "string"}}},
          {"sink", {{"type", "string"}}},
          {"connections", {{"type", "array"}, {"items", {{"type", "string"}}}}},
          {"schedule", Schema("Schedule")},
          {"running", {{"type", "boolean"}}},
          {"last_run", Schema("Run")},
          {"problem", {{"type", "string"}, {"nullable", true}}},
          {"created_at", time},
          {"updated_at", time}}}}},
      {"JobList",
       {{"type", "object"},
        {"properties", {{"jobs", {{"type", "array"}, {"items", Schema("Job")}}}}}}},
      {"JobStatus",
       {{"type", "object"},
        {"properties",
         {{"job", {{"type", "string"}}},
          {"state", {{"type", "string"}}},
          {"run", Schema("Run")},
          {"tables", tables}}}}},
      {"RunInput",
       {{"type", "object"},
        {"additionalProperties", false},
        {"properties",
         {{"fresh",
           {{"type", "boolean"},
            {"description", "forget the job's earlier progress and copy everything again"}}}}}}},
      {"Failure",
       {{"type", "object"},
        {"nullable", true},
        {"properties",
         {{"origin", {{"type", "string"}, {"enum", {"source", "sink", "platform"}}}},
          {"table", {{"type", "string"}, {"nullable", true}}},
          {"message", {{"type", "string"}}},
          {"retryable", {{"type", "boolean"}}}}}}},
      {"Run",
       {{"type", "object"},
        {"nullable", true},
        {"properties",
         {{"id", {{"type", "integer"}}},
          {"team", {{"type", "string"}}},
          {"job", {{"type", "string"}}},
          {"trigger",
           {{"type", "string"}, {"enum", {"api", "schedule", "after", "apply", "restart"}}}},
          {"state",
           {{"type", "string"},
            {"enum", {"queued", "running", "succeeded", "failed", "stopped"}}}},
          {"fresh", {{"type", "boolean"}}},
          {"resumed", {{"type", "boolean"}}},
          {"queued_at", time},
          {"started_at", time},
          {"first_row_at", time},
          {"ended_at", time},
          {"duration_seconds", {{"type", "number"}, {"nullable", true}}},
          {"rows_read", count},
          {"rows_written", count},
          {"bytes_read", count},
          {"bytes_written", count},
          {"tables", tables},
          {"failure", Schema("Failure")},
          {"live",
           {{"type", "object"},
            {"nullable", true},
            {"properties",
             {{"rows_per_second", {{"type", "number"}}},
              {"fraction", {{"type", "number"}, {"nullable", true}}}}}}}}}}},
      {"RunList",
       {{"type", "object"},
        {"properties", {{"runs", {{"type", "array"}, {"items", Schema("Run")}}}}}}},
      {"RunLog",
       {{"type", "object"},
        {"properties",
         {{"run", {{"type", "integer"}}},
          {"lines",
           {{"type", "array"},
            {"items",
             {{"type", "object"},
              {"properties",
               {{"time", time},
                {"level", {{"type", "string"}}},
                {"component", {{"type", "string"}}},
                {"message", {{"type", "string"}}}}}}}}}}}}},
      {"ScheduleList",
       {{"type", "object"},
        {"properties",
         {{"schedules",
           {{"type", "array"},
            {"items",
             {{"type", "object"},
              {"properties",
               {{"job", {{"type", "string"}}},
                {"cron", {{"type", "string"}, {"nullable", true}}},
                {"time_zone", {{"type", "string"}}},
                {"after", {{"type", "array"}, {"items", {{"type", "string"}}}}},
                {"next_fire", time}}}}}}}}}}},
      {"AlertList",
       {{"type", "object"},
        {"properties",
         {{"alerts",
           {{"type", "array"},
            {"items",
             {{"type", "object"},
              {"properties",
               {{"rule", {{"type", "string"}}},
                {"team", {{"type", "string"}}},
                {"job", {{"type", "string"}}},
                {"table", {{"type", "string"}, {"nullable", true}}},
                {"state", {{"type", "string"}, {"enum", {"pending", "firing"}}}},
                {"since", time}}}}}}}}}}},
      {"StreamList",
       {{"type", "object"},
        {"properties",
         {{"streams",
           {{"type", "array"},
            {"items",
             {{"type", "object"},
              {"properties",
               {{"connection", {{"type", "string"}, {"nullable", true}}},
                {"stream", {{"type", "string"}}},
                {"job", {{"type", "string"}}},
                {"schema", {{"type", "array"}, {"items", {{"type", "object"}}}}},
                {"discovered_at", time},
                {"changed_at", time},
                {"previous_schema",
                 {{"type", "array"}, {"nullable", true}, {"items", {{"type", "object"}}}}}}}}}}}}}}},
  };
  return {{"schemas", schemas},
          {"securitySchemes", {{"token", {{"type", "http"}, {"scheme", "bearer"}}}}}};
}

}  // namespace

nlohmann::json OpenApiDocument() {
  json paths = json::object();
  for (const Route& route : Routes()) {
    json operation = {{"summary", route.summary}, {"tags", {route.tag}}};
    std::string method = route.method;
    std::transform(method.begin(), method.end(), method.begin(), ::tolower);
    operation["operationId"] = method + std::regex_replace(route.path.substr(7),
                                                           std::regex(R"([^A-Za-z0-9]+)"), "_");
    json parameters = json::array();
    for (const std::string& name : PathParameters(route.path)) {
      parameters.push_back(
          {{"name", name}, {"in", "path"}, {"required", true}, {"schema", {{"type", "string"}}}});
    }
    for (const auto& [name, description] : route.query) {
      parameters.push_back({{"name", name},
                            {"in", "query"},
                            {"required", false},
                            {"description", description},
                            {"schema", {{"type", "string"}}}});
    }
    if (route.authenticated) {
      parameters.push_back({{"name", "team"},
                            {"in", "query"},
                            {"required", false},
                            {"description", "act for this team (admin tokens)"},
                            {"schema", {{"type", "string"}}}});
      operation["security"] = json::array({{{"token", json::array()}}});
    } else {
      operation["security"] = json::array();
    }
    if (!parameters.empty())
      operation["parameters"] = parameters;
    if (!route.request.empty()) {
      json content = {{"application/json", {{"schema", Schema(route.request)}}}};
      if (route.request == "JobInput")
        content["application/yaml"] = {{"schema", {{"type", "string"}}}};
      operation["requestBody"] = {{"required", route.request != "RunInput"}, {"content", content}};
    }
    json responses = json::object();
    json success = {{"description", "success"}};
    if (!route.response.empty())
      success["content"] = {{"application/json", {{"schema", Schema(route.response)}}}};
    else if (route.path == "/api/v1/openapi.json")
      success["content"] = {{"application/json", {{"schema", {{"type", "object"}}}}}};
    responses[std::to_string(route.success)] = success;
    if (route.method == "PUT")
      responses["201"] = success;  // PUT creates when the record is new
    const json error = {{"content", {{"application/json", {{"schema", Schema("Error")}}}}}};
    auto error_response = [&](const char* description) {
      json response = error;
      response["description"] = description;
      return response;
    };
    responses["400"] = error_response("malformed or invalid input; the message says what to fix");
    if (route.authenticated) {
      responses["401"] = error_response("no or unknown API token");
      responses["403"] = error_response("the token lacks the right");
    }
    responses["404"] = error_response("no such record");
    responses["409"] = error_response("a duplicate name, or a run in the wrong state");
    operation["responses"] = responses;
    paths[route.path][method] = operation;
  }
  return {{"openapi", "3.0.3"},
          {"info",
           {{"title", "Sluice server API"},
            {"version", "1"},
            {"description",
             "Connections, jobs, schedules, runs, logs and the catalog of a Sluice server."}}},
          {"servers", json::array({{{"url", "/"}}})},
          {"paths", paths},
          {"components", Components()}};
}

void InstallApi(httplib::Server* http, ApiContext* context) {
  for (const Route& route : Routes()) {
    const std::string pattern = PathPattern(route.path);
    auto handler = [context, &route](const httplib::Request& request, httplib::Response& response) {
      Serve(context, route, request, response);
    };
    if (route.method == "GET")
      http->Get(pattern, handler);
    else if (route.method == "POST")
      http->Post(pattern, handler);
    else if (route.method == "PUT")
      http->Put(pattern, handler);
    else if (route.method == "DELETE")
      http->Delete(pattern, handler);
  }
}

}  // namespace sluice::server
