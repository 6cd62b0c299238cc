// Scheduler: fires the server's cron schedules and `after` dependencies as queued runs.
//
// Guarantees (README, "Scheduler guarantees"):
//  - No duplicated fire: each fire is recorded as a run together with its schedule's ledger in
//    one transaction, and a (job, fire time) can be recorded once only; a restart, a second
//    look at the same second, or 1000 schedules due at once change nothing.
//  - No missed fire: the ledger holds each schedule's last recorded fire; on start the
//    scheduler catches up from there. Fires missed while the server was down are coalesced
//    into one run, the latest (a nightly job does not run five times after a long outage);
//    a running server that wakes late (a loaded machine) fires every due time it passed.
//  - `after: [a, b]`: the job runs once every upstream job has succeeded since the job's last
//    dependency-triggered run; checked when a run succeeds and again on start, so a crash
//    between an upstream's success and the trigger loses nothing.
//  - Latency: the scheduler sleeps until the next fire is due (no polling interval) and the
//    run manager starts the run at once.
//
// Thread-safety: every public method may be called from any thread.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "server/cron.h"
#include "server/run_manager.h"
#include "server/server_store.h"

namespace sluice::server {

struct ScheduleEntry {
  std::string team;
  std::string job;
  std::optional<CronSchedule> cron;
  std::vector<std::string> after;
  std::optional<int64_t> next_fire;  // seconds since the epoch
};

class Scheduler : public RunObserver {
 public:
  /// Lists every job's schedule (the server's jobs, parsed).
  using ScheduleSource = std::function<Result<std::vector<ScheduleEntry>>()>;
  /// One job's schedule; nullopt when the job is gone or has none.
  using JobScheduleSource = std::function<Result<std::optional<ScheduleEntry>>(
      const std::string& team, const std::string& job)>;
  Scheduler(ServerStore* store, RunManager* runs, ScheduleSource source,
            JobScheduleSource job_source);
  ~Scheduler() override;

  /// Loads the schedules, fires what was missed, checks dependencies, starts the timer thread.
  Status Start();
  void Shutdown();
  /// Re-reads every schedule.
  Status Reload();
  /// Re-reads one job's schedule (it was created, changed or deleted).
  Status Update(const std::string& team, const std::string& job);
  std::vector<ScheduleEntry> Entries() const;

  // RunObserver: a succeeded run may start the jobs that run after it.
  void OnRunFinished(const RunRecord& run, const config::JobConfig* job,
                     const runtime::JobSummary* summary) override;

  /// Fires counted since start (the metrics).
  uint64_t fires() const;

 private:
  void Loop();
  // Records every fire due at `now` (seconds); `coalesce`: one fire per schedule, the latest
  // (catching up after the server was down). Returns whether any run was queued.
  bool FireDue(int64_t now, bool coalesce);
  Status CheckDependents(const std::string& team, const std::string& upstream);
  // Sets a new or changed entry's next fire from its ledger (unchanged ones keep theirs).
  Status Prepare(ScheduleEntry* entry, const std::vector<ScheduleEntry>& previous, int64_t now);

  ServerStore* store_;
  RunManager* runs_;
  ScheduleSource source_;
  JobScheduleSource job_source_;
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  bool stopping_ = false;
  std::vector<ScheduleEntry> entries_;  // guarded by mutex_
  uint64_t fires_ = 0;                  // guarded by mutex_
  std::thread thread_;
};

}  // namespace sluice::server
