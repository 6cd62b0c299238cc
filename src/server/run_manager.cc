#include "server/run_manager.h"

#include <fmt/core.h>

#include <algorithm>
#include <chrono>
#include <filesystem>

#include "core/logging.h"

namespace sluice::server {

namespace {

constexpr std::string_view kComponent = "server:runs";
// A run's log keeps its last lines only: a chatty run must not fill the store.
constexpr size_t kMaxLogLinesPerRun = 2000;

std::string_view LevelName(log::Level level) {
  switch (level) {
    case log::Level::kTrace:
      return "trace";
    case log::Level::kDebug:
      return "debug";
    case log::Level::kInfo:
      return "info";
    case log::Level::kWarn:
      return "warn";
    case log::Level::kError:
      return "error";
    case log::Level::kOff:
      break;
  }
  return "off";
}

// Log lines by run tag, from every thread of every run, until the run takes them.
class LogCollector {
 public:
  static LogCollector& Instance() {
    static LogCollector* collector = [] {
      auto* created = new LogCollector;
      log::SetTaggedLineObserver([created](const std::string& tag, log::Level level,
                                           std::string_view component, std::string_view message) {
        created->Add(tag, level, component, message);
      });
      return created;
    }();
    return *collector;
  }

  void Open(const std::string& tag) {
    std::lock_guard<std::mutex> lock(mutex_);
    lines_[tag];
  }
  std::vector<RunLogLine> Take(const std::string& tag, bool close) {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = lines_.find(tag);
    if (it == lines_.end())
      return {};
    std::vector<RunLogLine> out = std::move(it->second);
    if (close)
      lines_.erase(it);
    else
      it->second.clear();
    return out;
  }

 private:
  void Add(const std::string& tag, log::Level level, std::string_view component,
           std::string_view message) {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = lines_.find(tag);
    if (it == lines_.end() || it->second.size() >= kMaxLogLinesPerRun)
      return;
    it->second.push_back(RunLogLine{NowMicros(), std::string(LevelName(level)),
                                    std::string(component), std::string(message)});
  }

  std::mutex mutex_;
  std::map<std::string, std::vector<RunLogLine>> lines_;
};

std::string RunTag(int64_t id) {
  return fmt::format("run:{}", id);
}

std::vector<TableFigures> TablesOf(const std::vector<runtime::StreamMetrics>& streams,
                                   const std::vector<runtime::StreamLag>& lag) {
  std::vector<TableFigures> tables;
  for (const runtime::StreamMetrics& stream : streams) {
    if (stream.stream.empty() && stream.rows_read == 0 && stream.rows_written == 0)
      continue;
    TableFigures t{stream.stream, stream.rows_read, stream.rows_written, stream.bytes_read,
                   stream.bytes_written, std::nullopt, std::nullopt};
    for (const runtime::StreamLag& l : lag) {
      if (l.stream == stream.stream) {
        t.lag_rows = l.rows;
        t.lag_bytes = l.bytes;
      }
    }
    tables.push_back(std::move(t));
  }
  return tables;
}

}  // namespace

void AddFigures(RunRecord* run, const runtime::MetricsSnapshot& metrics,
                const std::vector<TableFigures>& tables) {
  run->rows_read += metrics.rows_read;
  run->rows_written += metrics.rows_written;
  run->bytes_read += metrics.bytes_read;
  run->bytes_written += metrics.bytes_written;
  if (run->first_row_us == 0)
    run->first_row_us = metrics.first_row_time_us;
  for (const TableFigures& table : tables) {
    auto it = std::find_if(run->tables.begin(), run->tables.end(),
                           [&](const TableFigures& t) { return t.table == table.table; });
    if (it == run->tables.end()) {
      run->tables.push_back(table);
      continue;
    }
    it->rows_read += table.rows_read;
    it->rows_written += table.rows_written;
    it->bytes_read += table.bytes_read;
    it->bytes_written += table.bytes_written;
    it->lag_rows = table.lag_rows;
    it->lag_bytes = table.lag_bytes;
  }
}

struct RunManager::Active {
  int64_t id = 0;
  std::string team;
  std::string job;
  std::atomic<bool> stop{false};
  bool by_request = false;  // guarded by the manager's mutex: a user asked, not a shutdown
  runtime::JobRunner* runner = nullptr;  // guarded by the manager's mutex; set while it runs
  std::thread thread;
  // Rate sampling (the dispatcher, under the manager's mutex).
  uint64_t sampled_rows = 0;
  std::chrono::steady_clock::time_point sampled_at = std::chrono::steady_clock::now();
  double rows_per_second = 0;
};

RunManager::RunManager(ServerStore* store, const connectors::ConnectorRegistry& registry,
                       JobLoader loader, RunManagerOptions options)
    : store_(store), registry_(registry), loader_(std::move(loader)), options_(std::move(options)) {
  LogCollector::Instance();  // installs the log observer before any run's thread starts
}

RunManager::~RunManager() {
  Shutdown();
}

void RunManager::AddObserver(RunObserver* observer) {
  observers_.push_back(observer);
}

Status RunManager::Start() {
  // Runs an earlier server left behind: queued ones simply wait again; running ones resume.
  ServerStore::RunFilter filter;
  filter.state = RunState::kRunning;
  filter.limit = 1'000'000;
  SLUICE_ASSIGN_OR_RETURN(std::vector<RunRecord> running, store_->ListRuns(filter));
  for (RunRecord& run : running) {
    run.state = RunState::kQueued;
    run.resumed = true;
    SLUICE_RETURN_IF_ERROR(store_->UpdateRun(run));
    SLUICE_RETURN_IF_ERROR(store_->AppendRunLog(
        run.id, {RunLogLine{NowMicros(), "warn", std::string(kComponent),
                            "the server stopped during this run; it resumes from the job's last "
                            "checkpoint"}}));
  }
  dispatcher_ = std::thread([this] { DispatchLoop(); });
  return Status::OK();
}

void RunManager::Shutdown() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (shutting_down_ && !dispatcher_.joinable())
      return;
    shutting_down_ = true;
    for (auto& [id, active] : active_)
      active->stop.store(true);
    wake_.notify_all();
  }
  if (dispatcher_.joinable())
    dispatcher_.join();
  std::vector<std::thread> threads;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    for (auto& [id, active] : active_) {
      if (active->thread.joinable())
        threads.push_back(std::move(active->thread));
    }
    for (std::thread& t : finished_threads_)
      threads.push_back(std::move(t));
    finished_threads_.clear();
  }
  for (std::thread& t : threads)
    t.join();
}

Result<std::optional<RunRecord>> RunManager::Trigger(const std::string& team,
                                                     const std::string& job,
                                                     const std::string& trigger, int64_t fire,
                                                     bool fresh) {
  RunRecord run;
  run.team = team;
  run.job = job;
  run.trigger = trigger;
  run.fire = fire;
  run.fresh = fresh;
  run.queued_us = NowMicros();
  SLUICE_ASSIGN_OR_RETURN(std::optional<int64_t> id, store_->CreateRun(run));
  if (!id)
    return std::optional<RunRecord>();
  run.id = *id;
  Wake();
  return std::optional<RunRecord>(std::move(run));
}

void RunManager::Wake() {
  std::lock_guard<std::mutex> lock(mutex_);
  woken_ = true;
  wake_.notify_all();
}

Status RunManager::Stop(const std::string& team, int64_t run_id) {
  SLUICE_ASSIGN_OR_RETURN(std::optional<RunRecord> run, store_->GetRun(team, run_id));
  if (!run)
    return NotFound(fmt::format("no run {}", run_id));
  if (IsTerminal(run->state))
    return Conflict(fmt::format("run {} has ended already ({})", run_id, RunStateName(run->state)));
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = active_.find(run_id);
  if (it != active_.end()) {
    it->second->by_request = true;
    it->second->stop.store(true);
    return Status::OK();
  }
  // Still queued: it ends without moving data.
  run->state = RunState::kStopped;
  run->ended_us = NowMicros();
  SLUICE_RETURN_IF_ERROR(store_->UpdateRun(*run));
  return Status::OK();
}

std::optional<LiveRun> RunManager::Live(int64_t run_id) const {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = active_.find(run_id);
  if (it == active_.end() || it->second->runner == nullptr)
    return std::nullopt;
  const Active& active = *it->second;
  LiveRun live{active.id, active.team, active.job, active.runner->metrics().Snapshot(),
               TablesOf(active.runner->metrics().StreamSnapshot(), active.runner->metrics().Lag()),
               active.rows_per_second, active.runner->Fraction()};
  return live;
}

std::vector<LiveRun> RunManager::LiveRuns() const {
  std::vector<int64_t> ids;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    for (const auto& [id, active] : active_)
      ids.push_back(id);
  }
  std::vector<LiveRun> out;
  for (int64_t id : ids) {
    if (std::optional<LiveRun> live = Live(id))
      out.push_back(std::move(*live));
  }
  return out;
}

bool RunManager::IsActive(const std::string& team, const std::string& job) const {
  std::lock_guard<std::mutex> lock(mutex_);
  return std::any_of(active_.begin(), active_.end(), [&](const auto& entry) {
    return entry.second->team == team && entry.second->job == job;
  });
}

void RunManager::DispatchLoop() {
  while (true) {
    {
      std::unique_lock<std::mutex> lock(mutex_);
      wake_.wait_for(lock, std::chrono::seconds(1), [this] { return woken_ || shutting_down_; });
      if (shutting_down_)
        return;
      woken_ = false;
      for (std::thread& t : finished_threads_)
        t.join();
      finished_threads_.clear();
    }
    StartQueued();
    SampleRates();
    FlushLogs();
  }
}

void RunManager::FlushLogs() {
  std::vector<int64_t> ids;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    for (const auto& [id, active] : active_)
      ids.push_back(id);
  }
  // A running run's log is readable while it runs, a second behind.
  for (int64_t id : ids) {
    std::vector<RunLogLine> lines = LogCollector::Instance().Take(RunTag(id), /*close=*/false);
    if (Status logged = store_->AppendRunLog(id, lines); !logged.ok())
      log::Error(kComponent, "cannot record the log of run {}: {}", id, logged.ToString());
  }
}

void RunManager::SampleRates() {
  std::lock_guard<std::mutex> lock(mutex_);
  const auto now = std::chrono::steady_clock::now();
  for (auto& [id, active] : active_) {
    if (active->runner == nullptr)
      continue;
    const uint64_t rows = active->runner->metrics().Snapshot().rows_written;
    const double seconds = std::chrono::duration<double>(now - active->sampled_at).count();
    if (seconds >= 0.5) {
      active->rows_per_second = static_cast<double>(rows - std::min(rows, active->sampled_rows)) /
                                seconds;
      active->sampled_rows = rows;
      active->sampled_at = now;
    }
  }
}

void RunManager::StartQueued() {
  ServerStore::RunFilter filter;
  filter.state = RunState::kQueued;
  filter.oldest_first = true;
  filter.limit = 10'000;
  Result<std::vector<RunRecord>> queued = store_->ListRuns(filter);
  if (!queued.ok()) {
    log::Error(kComponent, "cannot list queued runs: {}", queued.status().ToString());
    return;
  }
  std::map<std::string, int> quota;  // by team, read once per pass
  std::lock_guard<std::mutex> lock(mutex_);
  std::map<std::string, int> running_by_team;
  std::set<std::pair<std::string, std::string>> busy_jobs;
  for (const auto& [id, active] : active_) {
    ++running_by_team[active->team];
    busy_jobs.emplace(active->team, active->job);
  }
  for (RunRecord& run : *queued) {
    if (shutting_down_ || static_cast<int>(active_.size()) >= options_.max_parallel_runs)
      return;
    if (active_.count(run.id) != 0 || busy_jobs.count({run.team, run.job}) != 0)
      continue;  // one run of a job at a time: the next waits for this one
    if (quota.count(run.team) == 0) {
      Result<std::optional<Team>> team = store_->GetTeam(run.team);
      quota[run.team] = team.ok() && *team ? (*team)->max_concurrent_runs : 0;
    }
    if (quota[run.team] > 0 && running_by_team[run.team] >= quota[run.team])
      continue;
    // The store decides who runs it: a run stopped meanwhile, or taken by another server on the
    // same store, is not started twice.
    run.started_us = NowMicros();
    Result<bool> claimed = store_->ClaimRun(run.id, run.started_us);
    if (!claimed.ok() || !*claimed)
      continue;
    run.state = RunState::kRunning;
    auto active = std::make_shared<Active>();
    active->id = run.id;
    active->team = run.team;
    active->job = run.job;
    active_[run.id] = active;
    ++running_by_team[run.team];
    busy_jobs.emplace(run.team, run.job);
    LogCollector::Instance().Open(RunTag(run.id));
    active->thread = std::thread([this, run, active]() mutable { Execute(std::move(run), active); });
  }
}

void RunManager::Execute(RunRecord run, std::shared_ptr<Active> active) {
  log::ScopedTag tag(RunTag(run.id));

  Result<config::JobConfig> job = loader_(run.team, run.job);
  if (!job.ok()) {
    run.state = RunState::kFailed;
    run.failure = FailureReason{"platform", "", job.status().ToString(), false};
    log::Error(kComponent, "run {} of job '{}' cannot start: {}", run.id, run.job,
               job.status().ToString());
    Finish(&run, nullptr, nullptr);
  } else {
    runtime::RunOptions options;
    options.state_dir = (std::filesystem::path(options_.state_root) / run.team).string();
    options.fresh = run.fresh;
    runtime::JobRunner runner(*job, registry_, options);
    {
      std::lock_guard<std::mutex> lock(mutex_);
      active->runner = &runner;
    }
    for (RunObserver* observer : observers_)
      observer->OnRunStarted(run, *job);
    runtime::JobSummary summary = runner.Run(&active->stop);
    bool shutting_down = false;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      active->runner = nullptr;
      shutting_down = shutting_down_ && !active->by_request;
    }
    // A run the server resumed after a restart adds this attempt's figures to the earlier's.
    AddFigures(&run, summary.metrics, TablesOf(summary.stream_metrics, summary.lag));
    run.resumed = run.resumed || summary.resumed;
    if (summary.status.ok()) {
      run.state = RunState::kSucceeded;
    } else if (summary.interrupted && shutting_down) {
      // The server is shutting down: the run stays queued and resumes at the next start.
      run.state = RunState::kQueued;
      run.resumed = true;
    } else if (summary.interrupted) {
      run.state = RunState::kStopped;
    } else {
      run.state = RunState::kFailed;
      const runtime::FailureSite site = summary.failure_site;
      std::string table;
      if (site.stream >= 0 && static_cast<size_t>(site.stream) < summary.stream_metrics.size())
        table = summary.stream_metrics[static_cast<size_t>(site.stream)].stream;
      run.failure = FailureReason{std::string(runtime::FailureOriginName(site.origin)), table,
                                  summary.status.ToString(), summary.status.IsTransient()};
      // The run's log ends with why it failed (the run's tag is this thread's).
      log::Error(kComponent, "run {} failed ({}{}): {}", run.id, run.failure->origin,
                 table.empty() ? "" : ", table " + table, run.failure->message);
    }
    Finish(&run, &*job, &summary);
  }
  std::lock_guard<std::mutex> lock(mutex_);
  active_.erase(run.id);
  if (active->thread.joinable())
    finished_threads_.push_back(std::move(active->thread));
  woken_ = true;  // a slot is free: the next queued run of this job or team may start
  wake_.notify_all();
}

void RunManager::Finish(RunRecord* run, const config::JobConfig* job,
                        const runtime::JobSummary* summary) {
  if (IsTerminal(run->state))
    run->ended_us = NowMicros();
  if (Status updated = store_->UpdateRun(*run); !updated.ok())
    log::Error(kComponent, "cannot record run {}: {}", run->id, updated.ToString());
  if (Status logged = store_->AppendRunLog(run->id, LogCollector::Instance().Take(
                                                        RunTag(run->id), /*close=*/true));
      !logged.ok()) {
    log::Error(kComponent, "cannot record the log of run {}: {}", run->id, logged.ToString());
  }
  if (IsTerminal(run->state)) {
    for (RunObserver* observer : observers_)
      observer->OnRunFinished(*run, job, summary);
  }
}

}  // namespace sluice::server
