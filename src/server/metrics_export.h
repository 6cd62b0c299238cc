// MetricsExport: the server's Prometheus /metrics, in the text exposition format 0.0.4.
//
// Series are bounded by jobs x tables: labels are team, job_name, table (and state for run
// counts), never a run id. The job's label is job_name, not job: Prometheus gives every series
// a `job` of its own (the scrape job). Units are base units (bytes, seconds). Row and byte counters add every
// finished run's figures to the live run's, so they only grow while the server runs (a restart
// starts them again, which Prometheus' rate() handles).
//
// Thread-safety: the RunObserver callbacks and Render may run on any thread.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <tuple>
#include <vector>

#include "server/run_manager.h"

namespace sluice::server {

class Scheduler;

class MetricsExport : public RunObserver {
 public:
  MetricsExport(RunManager* runs, Scheduler* scheduler, ServerStore* store);

  void OnRunFinished(const RunRecord& run, const config::JobConfig* job,
                     const runtime::JobSummary* summary) override;

  std::string Render() const;

 private:
  struct TableTotals {
    uint64_t rows_read = 0;
    uint64_t rows_written = 0;
    uint64_t bytes_read = 0;
    uint64_t bytes_written = 0;
  };
  struct JobFacts {
    std::map<std::string, uint64_t> runs_by_state;
    std::string last_state;
    double last_duration_seconds = 0;
    double last_success_time = 0;  // seconds since the epoch
  };
  using JobKey = std::pair<std::string, std::string>;                    // team, job
  using TableKey = std::tuple<std::string, std::string, std::string>;    // team, job, table

  RunManager* runs_;
  Scheduler* scheduler_;
  ServerStore* store_;
  double start_time_;
  mutable std::mutex mutex_;
  std::map<TableKey, TableTotals> finished_;  // guarded by mutex_
  std::map<JobKey, JobFacts> jobs_;           // guarded by mutex_
  // Trigger to first row, seconds, of every run that read a row (a histogram).
  std::vector<uint64_t> latency_buckets_;  // guarded by mutex_; cumulative at render
  uint64_t latency_count_ = 0;             // guarded by mutex_
  double latency_sum_ = 0;                 // guarded by mutex_
};

}  // namespace sluice::server
