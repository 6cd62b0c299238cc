#include "server/metrics_export.h"

#include <fmt/core.h>
#include <unistd.h>

#include <array>
#include <fstream>
#include <set>

#include "server/scheduler.h"

namespace sluice::server {

namespace {

constexpr std::array<double, 10> kLatencyBounds = {0.01, 0.025, 0.05, 0.1, 0.25,
                                                   0.5,  1,     2.5,  5,   10};

// Label values escape backslash, quote and newline.
std::string Escape(std::string_view value) {
  std::string out;
  for (char c : value) {
    if (c == '\\' || c == '"')
      out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out;
}

std::string Labels(std::initializer_list<std::pair<std::string_view, std::string_view>> labels) {
  std::string out = "{";
  for (const auto& [name, value] : labels) {
    if (out.size() > 1)
      out += ',';
    out += fmt::format("{}=\"{}\"", name, Escape(value));
  }
  return out + "}";
}

void Header(std::string* out, std::string_view name, std::string_view type,
            std::string_view help) {
  *out += fmt::format("# HELP {} {}\n# TYPE {} {}\n", name, help, name, type);
}

uint64_t ResidentBytes() {
  std::ifstream statm("/proc/self/statm");
  uint64_t size = 0;
  uint64_t resident = 0;
  statm >> size >> resident;
  return resident * static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
}

}  // namespace

MetricsExport::MetricsExport(RunManager* runs, Scheduler* scheduler, ServerStore* store)
    : runs_(runs),
      scheduler_(scheduler),
      store_(store),
      start_time_(static_cast<double>(NowMicros()) / 1e6),
      latency_buckets_(kLatencyBounds.size(), 0) {}

void MetricsExport::OnRunFinished(const RunRecord& run, const config::JobConfig*,
                                  const runtime::JobSummary*) {
  std::lock_guard<std::mutex> lock(mutex_);
  for (const TableFigures& table : run.tables) {
    TableTotals& totals = finished_[{run.team, run.job, table.table}];
    totals.rows_read += table.rows_read;
    totals.rows_written += table.rows_written;
    totals.bytes_read += table.bytes_read;
    totals.bytes_written += table.bytes_written;
  }
  JobFacts& facts = jobs_[{run.team, run.job}];
  ++facts.runs_by_state[std::string(RunStateName(run.state))];
  facts.last_state = RunStateName(run.state);
  if (run.started_us > 0 && run.ended_us > 0)
    facts.last_duration_seconds = static_cast<double>(run.ended_us - run.started_us) / 1e6;
  if (run.state == RunState::kSucceeded)
    facts.last_success_time = static_cast<double>(run.ended_us) / 1e6;
  if (run.first_row_us > 0 && run.queued_us > 0) {
    const double seconds = static_cast<double>(run.first_row_us - run.queued_us) / 1e6;
    for (size_t i = 0; i < kLatencyBounds.size(); ++i) {
      if (seconds <= kLatencyBounds[i])
        ++latency_buckets_[i];
    }
    ++latency_count_;
    latency_sum_ += seconds;
  }
}

std::string MetricsExport::Render() const {
  std::vector<LiveRun> live = runs_->LiveRuns();
  std::map<TableKey, TableTotals> totals;
  std::map<JobKey, JobFacts> jobs;
  std::vector<uint64_t> buckets;
  uint64_t latency_count = 0;
  double latency_sum = 0;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    totals = finished_;
    jobs = jobs_;
    buckets = latency_buckets_;
    latency_count = latency_count_;
    latency_sum = latency_sum_;
  }
  std::set<JobKey> running;
  std::map<TableKey, TableFigures> lag;
  for (const LiveRun& run : live) {
    running.insert({run.team, run.job});
    for (const TableFigures& table : run.tables) {
      TableTotals& t = totals[{run.team, run.job, table.table}];
      t.rows_read += table.rows_read;
      t.rows_written += table.rows_written;
      t.bytes_read += table.bytes_read;
      t.bytes_written += table.bytes_written;
      lag[{run.team, run.job, table.table}] = table;
    }
  }

  std::string out;
  auto table_counter = [&](std::string_view name, std::string_view help, auto field) {
    Header(&out, name, "counter", help);
    for (const auto& [key, t] : totals) {
      const auto& [team, job, table] = key;
      out += fmt::format("{}{} {}\n", name,
                         Labels({{"team", team}, {"job_name", job}, {"table", table}}), t.*field);
    }
  };
  table_counter("sluice_table_rows_read_total", "Rows read from the table's source.",
                &TableTotals::rows_read);
  table_counter("sluice_table_rows_written_total", "Rows written to the table's sink.",
                &TableTotals::rows_written);
  table_counter("sluice_table_read_bytes_total", "In-memory bytes of the rows read.",
                &TableTotals::bytes_read);
  table_counter("sluice_table_written_bytes_total", "In-memory bytes of the rows written.",
                &TableTotals::bytes_written);

  Header(&out, "sluice_table_lag_rows", "gauge",
         "Rows (messages) the running job's reader is behind its source, where known.");
  for (const auto& [key, t] : lag) {
    if (t.lag_rows) {
      const auto& [team, job, table] = key;
      out += fmt::format("sluice_table_lag_rows{} {}\n",
                         Labels({{"team", team}, {"job_name", job}, {"table", table}}), *t.lag_rows);
    }
  }
  Header(&out, "sluice_table_lag_bytes", "gauge",
         "Bytes the running job's reader is behind its source, where known.");
  for (const auto& [key, t] : lag) {
    if (t.lag_bytes) {
      const auto& [team, job, table] = key;
      out += fmt::format("sluice_table_lag_bytes{} {}\n",
                         Labels({{"team", team}, {"job_name", job}, {"table", table}}), *t.lag_bytes);
    }
  }

  Header(&out, "sluice_job_running", "gauge", "1 while a run of the job moves data.");
  std::set<JobKey> all_jobs = running;
  for (const auto& [key, facts] : jobs)
    all_jobs.insert(key);
  for (const JobKey& key : all_jobs) {
    out += fmt::format("sluice_job_running{} {}\n",
                       Labels({{"team", key.first}, {"job_name", key.second}}),
                       running.count(key) ? 1 : 0);
  }
  Header(&out, "sluice_job_runs_total", "counter", "Runs that ended, by their final state.");
  for (const auto& [key, facts] : jobs) {
    for (const auto& [state, count] : facts.runs_by_state) {
      out += fmt::format("sluice_job_runs_total{} {}\n",
                         Labels({{"team", key.first}, {"job_name", key.second}, {"state", state}}),
                         count);
    }
  }
  Header(&out, "sluice_job_last_run_duration_seconds", "gauge",
         "How long the job's last finished run took.");
  for (const auto& [key, facts] : jobs) {
    out += fmt::format("sluice_job_last_run_duration_seconds{} {}\n",
                       Labels({{"team", key.first}, {"job_name", key.second}}),
                       facts.last_duration_seconds);
  }
  Header(&out, "sluice_job_last_success_timestamp_seconds", "gauge",
         "When the job's last successful run ended (0: none since the server started).");
  for (const auto& [key, facts] : jobs) {
    out += fmt::format("sluice_job_last_success_timestamp_seconds{} {}\n",
                       Labels({{"team", key.first}, {"job_name", key.second}}),
                       facts.last_success_time);
  }
  Header(&out, "sluice_job_last_run_failed", "gauge", "1 when the job's last finished run failed.");
  for (const auto& [key, facts] : jobs) {
    out += fmt::format("sluice_job_last_run_failed{} {}\n",
                       Labels({{"team", key.first}, {"job_name", key.second}}),
                       facts.last_state == "failed" ? 1 : 0);
  }

  Header(&out, "sluice_run_trigger_to_first_row_seconds", "histogram",
         "From a run's trigger (queued) to its first row read.");
  for (size_t i = 0; i < kLatencyBounds.size(); ++i) {
    out += fmt::format("sluice_run_trigger_to_first_row_seconds_bucket{{le=\"{}\"}} {}\n",
                       kLatencyBounds[i], buckets[i]);
  }
  out += fmt::format("sluice_run_trigger_to_first_row_seconds_bucket{{le=\"+Inf\"}} {}\n",
                     latency_count);
  out += fmt::format("sluice_run_trigger_to_first_row_seconds_sum {}\n", latency_sum);
  out += fmt::format("sluice_run_trigger_to_first_row_seconds_count {}\n", latency_count);

  ServerStore::RunFilter queued;
  queued.state = RunState::kQueued;
  queued.limit = 1'000'000;
  Result<std::vector<RunRecord>> waiting = store_->ListRuns(queued);
  Header(&out, "sluice_runs_queued", "gauge", "Runs waiting to start.");
  out += fmt::format("sluice_runs_queued {}\n", waiting.ok() ? waiting->size() : 0);
  Header(&out, "sluice_runs_active", "gauge", "Runs moving data now.");
  out += fmt::format("sluice_runs_active {}\n", live.size());
  Header(&out, "sluice_scheduler_fires_total", "counter", "Schedule fires recorded as runs.");
  out += fmt::format("sluice_scheduler_fires_total {}\n", scheduler_->fires());
  Header(&out, "process_resident_memory_bytes", "gauge", "Resident memory of the server.");
  out += fmt::format("process_resident_memory_bytes {}\n", ResidentBytes());
  Header(&out, "process_start_time_seconds", "gauge", "When the server started.");
  out += fmt::format("process_start_time_seconds {:.3f}\n", start_time_);
  return out;
}

}  // namespace sluice::server
