#include "server/alerts.h"

#include <fmt/core.h>
#include <fnmatch.h>
#include <httplib.h>

#include <chrono>
#include <ctime>
#include <nlohmann/json.hpp>

#include "config/node.h"
#include "config/options.h"
#include "core/logging.h"

namespace sluice::server {

namespace {

constexpr std::string_view kComponent = "server:alerts";

std::string Rfc3339(int64_t micros) {
  const std::time_t seconds = static_cast<std::time_t>(micros / 1'000'000);
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", tm.tm_year + 1900,
                     tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                     (micros / 1000) % 1000);
}

std::string_view KindName(AlertRule::Kind kind) {
  switch (kind) {
    case AlertRule::Kind::kFailure:
      return "failure";
    case AlertRule::Kind::kLag:
      return "lag";
    case AlertRule::Kind::kStalled:
      return "stalled";
    case AlertRule::Kind::kSchemaChange:
      return "schema_change";
  }
  return "failure";
}

Result<AlertRule> ReadRule(const config::Node& node) {
  static const std::vector<config::OptionSpec> kTable = {
      {"name", config::OptionType::kString, "", "The alert's name (alertname).", true},
      {"kind", config::OptionType::kEnum, "", "What it watches.", true,
       {"failure", "lag", "stalled", "schema_change"}},
      {"jobs", config::OptionType::kString, "*", "A glob over job names."},
      {.name = "for_secs", .type = config::OptionType::kDouble, .default_value = "0",
       .description = "How long the condition must hold before the alert fires.", .min = 0},
      {.name = "threshold_rows", .type = config::OptionType::kInt, .default_value = "",
       .description = "lag: rows behind.", .min = 0},
      {.name = "threshold_bytes", .type = config::OptionType::kInt, .default_value = "",
       .description = "lag: bytes behind.", .min = 0},
      {.name = "window_secs", .type = config::OptionType::kDouble, .default_value = "300",
       .description = "schema_change: how long a change keeps the alert on.", .min = 1},
      {"severity", config::OptionType::kString, "warning", "The severity label."},
      {"summary", config::OptionType::kString, "", "The summary annotation."},
      {"labels", config::OptionType::kMap, "", "More labels."},
  };
  SLUICE_ASSIGN_OR_RETURN(config::Options options,
                          config::Options::Validate(node, kTable, "alert rule"));
  AlertRule rule;
  rule.name = options.GetString("name");
  const std::string kind = options.GetString("kind");
  rule.kind = kind == "lag"             ? AlertRule::Kind::kLag
              : kind == "stalled"       ? AlertRule::Kind::kStalled
              : kind == "schema_change" ? AlertRule::Kind::kSchemaChange
                                        : AlertRule::Kind::kFailure;
  rule.jobs = options.GetString("jobs");
  rule.for_secs = options.GetDouble("for_secs");
  if (options.Has("threshold_rows"))
    rule.threshold_rows = static_cast<uint64_t>(options.GetInt("threshold_rows"));
  if (options.Has("threshold_bytes"))
    rule.threshold_bytes = static_cast<uint64_t>(options.GetInt("threshold_bytes"));
  if (rule.kind == AlertRule::Kind::kLag && !rule.threshold_rows && !rule.threshold_bytes)
    return node.Error("a lag rule needs threshold_rows or threshold_bytes");
  rule.window_secs = options.GetDouble("window_secs");
  rule.severity = options.GetString("severity");
  rule.summary = options.GetString("summary");
  if (const config::Node* labels = node.Find("labels")) {
    for (const config::Node::Entry& entry : labels->entries()) {
      if (!entry.value.is_scalar())
        return entry.value.Error("a label's value must be text");
      rule.labels[entry.key] = entry.value.scalar();
    }
  }
  return rule;
}

}  // namespace

Result<AlertConfig> LoadAlertConfig(const std::string& path) {
  SLUICE_ASSIGN_OR_RETURN(config::Node root, config::ParseYamlFile(path));
  SLUICE_RETURN_IF_ERROR(config::SubstituteEnvironment(&root));
  static const std::vector<config::OptionSpec> kTable = {
      {"webhook", config::OptionType::kString, "", "Where alerts are POSTed.", true},
      {.name = "evaluation_interval_secs", .type = config::OptionType::kDouble,
       .default_value = "15", .description = "How often rules are evaluated.", .min = 0.1},
      {.name = "repeat_interval_secs", .type = config::OptionType::kDouble,
       .default_value = "14400", .description = "How often a firing alert is sent again.",
       .min = 1},
      {"rules", config::OptionType::kAny, "", "The rules.", true},
  };
  SLUICE_ASSIGN_OR_RETURN(config::Options options,
                          config::Options::Validate(root, kTable, "alerts"));
  AlertConfig config;
  config.webhook = options.GetString("webhook");
  if (config.webhook.rfind("http://", 0) != 0 && config.webhook.rfind("https://", 0) != 0)
    return root.Find("webhook")->Error("'webhook' must be an http:// or https:// address");
  config.evaluation_interval_secs = options.GetDouble("evaluation_interval_secs");
  config.repeat_interval_secs = options.GetDouble("repeat_interval_secs");
  const config::Node* rules = root.Find("rules");
  if (!rules->is_sequence())
    return rules->Error("'rules' must be a list of rules");
  for (const config::Node& item : rules->items()) {
    SLUICE_ASSIGN_OR_RETURN(AlertRule rule, ReadRule(item));
    config.rules.push_back(std::move(rule));
  }
  return config;
}

AlertEvaluator::AlertEvaluator(AlertConfig config, ServerStore* store, RunManager* runs,
                               std::string external_url)
    : config_(std::move(config)),
      store_(store),
      runs_(runs),
      external_url_(std::move(external_url)) {}

AlertEvaluator::~AlertEvaluator() {
  Shutdown();
}

void AlertEvaluator::Start() {
  thread_ = std::thread([this] { Loop(); });
}

void AlertEvaluator::Shutdown() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
    wake_.notify_all();
  }
  if (thread_.joinable())
    thread_.join();
}

void AlertEvaluator::OnSchemaChange(const std::string& team, const std::string& job,
                                    const std::string& stream) {
  std::lock_guard<std::mutex> lock(mutex_);
  schema_changes_[{team, job, stream}] = NowMicros();
}

std::vector<AlertState> AlertEvaluator::Alerts() const {
  std::lock_guard<std::mutex> lock(mutex_);
  std::vector<AlertState> out;
  for (const auto& [key, tracked] : tracked_)
    out.push_back(tracked.state);
  return out;
}

void AlertEvaluator::Loop() {
  const auto interval = std::chrono::microseconds(
      static_cast<int64_t>(config_.evaluation_interval_secs * 1e6));
  auto next = std::chrono::steady_clock::now() + interval;
  while (true) {
    {
      std::unique_lock<std::mutex> lock(mutex_);
      wake_.wait_until(lock, next, [this] { return stopping_; });
      if (stopping_)
        return;
    }
    next += interval;
    Evaluate();
  }
}

std::vector<std::pair<AlertEvaluator::Key, int64_t>> AlertEvaluator::Conditions(
    const AlertRule& rule, int64_t now_us) {
  std::vector<std::pair<Key, int64_t>> out;
  auto add = [&](std::string team, std::string job, std::string table, int64_t since) {
    out.emplace_back(Key{rule.name, std::move(team), std::move(job), std::move(table)}, since);
  };
  auto matches = [&](const std::string& job) {
    return fnmatch(rule.jobs.c_str(), job.c_str(), 0) == 0;
  };
  switch (rule.kind) {
    case AlertRule::Kind::kFailure: {
      Result<std::vector<JobRecord>> jobs = store_->ListJobs("");
      if (!jobs.ok())
        break;
      for (const JobRecord& job : *jobs) {
        if (!matches(job.name))
          continue;
        ServerStore::RunFilter filter;
        filter.team = job.team;
        filter.job = job.name;
        filter.limit = 20;
        Result<std::vector<RunRecord>> runs = store_->ListRuns(filter);
        if (!runs.ok())
          continue;
        for (const RunRecord& run : *runs) {
          if (!IsTerminal(run.state))
            continue;
          if (run.state == RunState::kFailed)
            add(job.team, job.name, run.failure ? run.failure->table : std::string(), now_us);
          break;  // the last finished run decides
        }
      }
      break;
    }
    case AlertRule::Kind::kLag:
      for (const LiveRun& run : runs_->LiveRuns()) {
        if (!matches(run.job))
          continue;
        for (const TableFigures& table : run.tables) {
          const bool rows_over =
              rule.threshold_rows && table.lag_rows && *table.lag_rows > *rule.threshold_rows;
          const bool bytes_over =
              rule.threshold_bytes && table.lag_bytes && *table.lag_bytes > *rule.threshold_bytes;
          if (rows_over || bytes_over)
            add(run.team, run.job, table.table, now_us);
        }
      }
      break;
    case AlertRule::Kind::kStalled: {
      // Rows unchanged since an earlier evaluation: the condition has held since the
      // evaluation that first saw this count (the last one at which rows had moved); `for`
      // says how long that must last.
      std::map<int64_t, std::pair<uint64_t, int64_t>> seen;
      for (const LiveRun& run : runs_->LiveRuns()) {
        auto before = progress_.find(run.id);
        const uint64_t rows = run.metrics.rows_written;
        if (before != progress_.end() && before->second.first == rows) {
          seen[run.id] = before->second;
          if (matches(run.job))
            add(run.team, run.job, "", before->second.second);
        } else {
          seen[run.id] = {rows, now_us};
        }
      }
      progress_ = std::move(seen);
      break;
    }
    case AlertRule::Kind::kSchemaChange: {
      std::lock_guard<std::mutex> lock(mutex_);
      for (const auto& [key, when] : schema_changes_) {
        const auto& [team, job, stream] = key;
        if (matches(job) && now_us - when < static_cast<int64_t>(rule.window_secs * 1e6))
          add(team, job, stream, when);
      }
      break;
    }
  }
  return out;
}

void AlertEvaluator::Evaluate() {
  std::lock_guard<std::mutex> evaluating(evaluate_mutex_);
  const int64_t now = NowMicros();
  std::map<Key, std::pair<const AlertRule*, int64_t>> holding;  // the rule, held since
  for (const AlertRule& rule : config_.rules) {
    for (auto& [key, since] : Conditions(rule, now))
      holding[std::move(key)] = {&rule, since};
  }
  std::vector<Tracked*> to_send;
  std::vector<Resolved> resolved;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    for (auto it = tracked_.begin(); it != tracked_.end();) {
      if (holding.count(it->first) == 0) {
        if (it->second.state.firing)
          unsent_resolved_.push_back(Resolved{it->second.state, now});
        it = tracked_.erase(it);
      } else {
        ++it;
      }
    }
    for (const auto& [key, held] : holding) {
      const auto& [rule, since] = held;
      auto [it, inserted] = tracked_.try_emplace(key);
      Tracked& tracked = it->second;
      if (inserted) {
        const auto& [name, team, job, table] = key;
        tracked.state = AlertState{name, team, job, table, false, std::min(since, now), 0};
      }
      if (!tracked.state.firing &&
          now - tracked.state.active_since_us >= static_cast<int64_t>(rule->for_secs * 1e6)) {
        tracked.state.firing = true;
        tracked.state.fired_at_us = now;
        tracked.unsent = true;
      }
      if (tracked.state.firing &&
          now - tracked.last_sent_us >= static_cast<int64_t>(config_.repeat_interval_secs * 1e6))
        tracked.unsent = true;
    }
    for (auto& [key, tracked] : tracked_) {
      if (tracked.unsent)
        to_send.push_back(&tracked);
    }
    resolved = unsent_resolved_;
  }
  if (!to_send.empty() || !resolved.empty())
    Send(to_send, resolved);
}

void AlertEvaluator::Send(const std::vector<Tracked*>& firing,
                          const std::vector<Resolved>& resolved) {
  // One POST per alert name, as Alertmanager groups by alertname.
  std::map<std::string, nlohmann::json> groups;
  std::map<std::string, bool> any_firing;
  auto rule_of = [&](const std::string& name) -> const AlertRule* {
    for (const AlertRule& rule : config_.rules) {
      if (rule.name == name)
        return &rule;
    }
    return nullptr;
  };
  auto alert_json = [&](const AlertState& state, bool is_firing, int64_t ended_us) {
    const AlertRule* rule = rule_of(state.rule);
    nlohmann::json labels = {{"alertname", state.rule},
                             {"team", state.team},
                             {"job", state.job},
                             {"severity", rule ? rule->severity : "warning"}};
    if (!state.table.empty())
      labels["table"] = state.table;
    if (rule != nullptr) {
      for (const auto& [name, value] : rule->labels)
        labels[name] = value;
    }
    std::string summary = rule && !rule->summary.empty()
                              ? rule->summary
                              : fmt::format("{} of job {}", KindName(rule ? rule->kind
                                                                          : AlertRule::Kind::kFailure),
                                            state.job);
    std::string fingerprint_source = labels.dump();
    const uint64_t hash = std::hash<std::string>{}(fingerprint_source);
    return nlohmann::json{
        {"status", is_firing ? "firing" : "resolved"},
        {"labels", labels},
        {"annotations", {{"summary", summary}}},
        {"startsAt", Rfc3339(state.active_since_us)},
        {"endsAt", is_firing ? "0001-01-01T00:00:00Z" : Rfc3339(ended_us)},
        {"generatorURL", fmt::format("{}/#/jobs/{}", external_url_, state.job)},
        {"fingerprint", fmt::format("{:016x}", hash)}};
  };
  for (const Tracked* tracked : firing) {
    groups[tracked->state.rule].push_back(alert_json(tracked->state, true, 0));
    any_firing[tracked->state.rule] = true;
  }
  for (const Resolved& r : resolved)
    groups[r.state.rule].push_back(alert_json(r.state, false, r.ended_us));

  // Split "http://host:port/path".
  const std::string& url = config_.webhook;
  const size_t scheme_end = url.find("://") + 3;
  const size_t path_start = url.find('/', scheme_end);
  const std::string base = url.substr(0, path_start);
  const std::string path = path_start == std::string::npos ? "/" : url.substr(path_start);
  httplib::Client client(base);
  client.set_connection_timeout(5);
  client.set_read_timeout(10);
  bool all_sent = true;
  for (auto& [name, alerts] : groups) {
    nlohmann::json common_labels = {{"alertname", name}};
    nlohmann::json payload = {{"version", "4"},
                              {"groupKey", fmt::format("{{}}:{{alertname=\"{}\"}}", name)},
                              {"truncatedAlerts", 0},
                              {"status", any_firing[name] ? "firing" : "resolved"},
                              {"receiver", "sluice"},
                              {"groupLabels", {{"alertname", name}}},
                              {"commonLabels", common_labels},
                              {"commonAnnotations", nlohmann::json::object()},
                              {"externalURL", external_url_},
                              {"alerts", alerts}};
    httplib::Result result = client.Post(path, payload.dump(), "application/json");
    if (!result || result->status / 100 != 2) {
      all_sent = false;
      log::Warn(kComponent, "the alert webhook did not take alert '{}' ({}); trying again at the "
                "next evaluation",
                name, result ? fmt::format("HTTP {}", result->status) : httplib::to_string(result.error()));
    }
  }
  if (!all_sent)
    return;
  std::lock_guard<std::mutex> lock(mutex_);
  const int64_t now = NowMicros();
  for (auto& [key, tracked] : tracked_) {
    for (const Tracked* sent : firing) {
      if (sent == &tracked) {
        tracked.unsent = false;
        tracked.last_sent_us = now;
      }
    }
  }
  unsent_resolved_.erase(unsent_resolved_.begin(),
                         unsent_resolved_.begin() +
                             static_cast<std::ptrdiff_t>(std::min(resolved.size(), unsent_resolved_.size())));
}

}  // namespace sluice::server
