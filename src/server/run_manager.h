// RunManager: runs the server's jobs. A run is a row in the store first (queued), then a thread
// that drives one JobRunner, the same engine as `sluice run`; its figures, per-table counters,
// failure reason and log lines go back to the store when it ends.
//
// Dispatch: one thread starts queued runs oldest first, at most one run of a job at a time, at
// most `max_parallel_runs` in all, and at most the team's `max_concurrent_runs`; a run that
// must wait stays queued. Triggers wake it at once (the trigger-to-first-row path: a store
// insert, a wake-up, a thread, the job's connectors).
//
// Restarts: a run the server left queued or running (a kill -9, a power cut; a graceful
// shutdown leaves its running runs so on purpose) is started again on the next start and
// resumes from its job's last checkpoint; a run whose job is gone is marked failed with a
// reason. No run stays in a non-terminal state across a restart.
//
// Thread-safety: every public method may be called from any thread.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "config/job_config.h"
#include "connectors/registry.h"
#include "runtime/job_runner.h"
#include "server/server_store.h"

namespace sluice::server {

struct RunManagerOptions {
  /// Where the jobs' state stores live: one folder per team below it.
  std::string state_root;
  /// Runs moving data at once, over all teams.
  int max_parallel_runs = 32;
};

/// A run's figures while it moves data.
struct LiveRun {
  int64_t id = 0;
  std::string team;
  std::string job;
  runtime::MetricsSnapshot metrics;
  std::vector<TableFigures> tables;
  /// Rows written per second over the last sampling interval (about a second).
  double rows_per_second = 0;
  double fraction = -1;  // estimated completed share, or negative when unknown
};

/// Adds an attempt's figures to a run's (a run resumed after a restart counts both attempts).
void AddFigures(RunRecord* run, const runtime::MetricsSnapshot& metrics,
                const std::vector<TableFigures>& tables);

/// What the rest of the server hears about runs (lineage, alerts, catalog, dependencies).
/// Called on the run's own thread, outside any lock of the manager.
class RunObserver {
 public:
  virtual ~RunObserver() = default;
  virtual void OnRunStarted(const RunRecord& run, const config::JobConfig& job) {}
  virtual void OnRunFinished(const RunRecord& run, const config::JobConfig* job,
                             const runtime::JobSummary* summary) {}
};

/// Loads a team's job by name, its connections resolved (the server's catalog).
using JobLoader =
    std::function<Result<config::JobConfig>(const std::string& team, const std::string& job)>;

class RunManager {
 public:
  RunManager(ServerStore* store, const connectors::ConnectorRegistry& registry, JobLoader loader,
             RunManagerOptions options);
  ~RunManager();

  void AddObserver(RunObserver* observer);
  /// Re-queues the runs an earlier server left unfinished, then starts dispatching.
  Status Start();
  /// Stops every running run (each ends at a checkpoint and stays queued for the next start)
  /// and joins the threads.
  void Shutdown();

  /// Queues a run of `team`'s job; nullopt when that fire is recorded already.
  Result<std::optional<RunRecord>> Trigger(const std::string& team, const std::string& job,
                                           const std::string& trigger, int64_t fire, bool fresh);
  /// Wakes the dispatcher (after runs were queued elsewhere: the scheduler's fires).
  void Wake();
  /// Asks a queued or running run to stop (a running one checkpoints and ends "stopped").
  Status Stop(const std::string& team, int64_t run_id);

  std::optional<LiveRun> Live(int64_t run_id) const;
  std::vector<LiveRun> LiveRuns() const;
  /// The team/job pairs with a run moving data now.
  bool IsActive(const std::string& team, const std::string& job) const;

 private:
  struct Active;
  void DispatchLoop();
  void StartQueued();
  void Execute(RunRecord run, std::shared_ptr<Active> active);
  void Finish(RunRecord* run, const config::JobConfig* job, const runtime::JobSummary* summary);
  void SampleRates();
  void FlushLogs();

  ServerStore* store_;
  const connectors::ConnectorRegistry& registry_;
  JobLoader loader_;
  RunManagerOptions options_;
  std::vector<RunObserver*> observers_;

  mutable std::mutex mutex_;
  std::condition_variable wake_;
  bool woken_ = false;
  bool shutting_down_ = false;
  std::map<int64_t, std::shared_ptr<Active>> active_;  // by run id
  std::set<int64_t> stop_requested_;                     // queued runs asked to stop
  std::vector<std::thread> finished_threads_;           // joined by the dispatcher
  std::thread dispatcher_;
};

}  // namespace sluice::server
