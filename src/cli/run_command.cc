#include <fmt/core.h>
#include <unistd.h>

#include <cstdio>
#include <optional>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/exit_codes.h"
#include "cli/progress.h"
#include "cli/verification.h"
#include "config/job_config.h"
#include "connectors/registry.h"
#include "core/logging.h"
#include "core/temporal.h"
#include "runtime/job_runner.h"

namespace sluice::cli {

namespace {

std::string GuaranteeName(connectors::DeliveryGuarantee guarantee) {
  return guarantee == connectors::DeliveryGuarantee::kExactlyOnce ? "exactly-once"
                                                                  : "at-least-once";
}

std::string StatusWord(const runtime::JobSummary& summary) {
  if (summary.status.ok())
    return "succeeded";
  if (summary.interrupted)
    return "interrupted";
  return "failed";
}

// "2026-12-05 02:00:00.123456+00" for microseconds since the Unix epoch.
std::string EventTime(int64_t micros) {
  std::string text;
  AppendTimestamp(micros, /*with_zone=*/true, &text);
  return text;
}

// "120 rows, 8,192 bytes behind, last event 2026-12-05 02:00:00+00", the parts known.
std::string DescribeLag(const runtime::StreamLag& lag) {
  std::string text;
  if (lag.rows)
    text = fmt::format("{} rows", GroupThousands(*lag.rows));
  if (lag.bytes)
    text += fmt::format("{}{} bytes", text.empty() ? "" : ", ", GroupThousands(*lag.bytes));
  if (!text.empty())
    text += " behind";
  if (lag.last_event_time_us) {
    text += fmt::format("{}last event {}", text.empty() ? "" : ", ",
                        EventTime(*lag.last_event_time_us));
  }
  return text;
}

void PrintText(const runtime::JobSummary& summary) {
  const runtime::MetricsSnapshot& m = summary.metrics;
  double seconds = m.elapsed_seconds > 0 ? m.elapsed_seconds : 1e-9;
  fmt::print("Job '{}' {} in {:.2f} s\n", summary.job_name, StatusWord(summary), m.elapsed_seconds);
  if (summary.resumed) {
    fmt::print("  resumed from checkpoint {} of an unfinished run\n",
               summary.resumed_from_checkpoint);
  }
  if (summary.readers > 0) {
    fmt::print("  {} -> {}: {} reader{}, {} writer{}, {}\n", summary.source_type, summary.sink_type,
               summary.readers, summary.readers == 1 ? "" : "s", summary.writers,
               summary.writers == 1 ? "" : "s", GuaranteeName(summary.guarantee));
  }
  std::string uncommitted;
  if (m.rows_committed != m.rows_written)
    uncommitted = fmt::format(" ({} committed)", GroupThousands(m.rows_committed));
  fmt::print("  rows: {} read, {} written{}, {} bad\n", GroupThousands(m.rows_read),
             GroupThousands(m.rows_written), uncommitted, GroupThousands(m.bad_records));
  fmt::print("  throughput: {} rows/s, {:.1f} MB/s\n",
             GroupThousands(static_cast<uint64_t>(static_cast<double>(m.rows_written) / seconds)),
             static_cast<double>(m.bytes_written) / seconds / 1e6);
  if (m.splits_total > 0) {
    std::string slowest;
    if (!summary.slowest_splits.empty()) {
      slowest = fmt::format("; slowest: {} ({:.2f} s)", summary.slowest_splits[0].split_id,
                            summary.slowest_splits[0].seconds);
    }
    std::string before;
    if (m.splits_done_before > 0)
      before = fmt::format(", {} of them done by earlier runs", m.splits_done_before);
    fmt::print("  splits: {} done of {} ({} cut from running splits{}){}\n", m.splits_done,
               m.splits_total, m.splits_cut, before, slowest);
  }
  for (const runtime::StreamLag& lag : summary.lag)
    fmt::print("  lag of {}: {}\n", lag.stream, DescribeLag(lag));
  fmt::print("  checkpoints: {}{}; state: {}\n", m.checkpoints,
             m.retries > 0 ? fmt::format(", {} retries", m.retries) : std::string(),
             summary.state_path);
  if (summary.interrupted) {
    fmt::print("  run the same command again to resume from the last checkpoint\n");
  }
  std::fflush(stdout);
}

// `verification`: the outcome of `verify: true` (null: it did not run, or the job has none).
void PrintJson(const runtime::JobSummary& summary, int exit_code,
               const VerificationOutcome* verification = nullptr) {
  const runtime::MetricsSnapshot& m = summary.metrics;
  nlohmann::ordered_json out;
  out["job"] = summary.job_name;
  out["status"] = StatusWord(summary);
  out["exit_code"] = exit_code;
  if (!summary.status.ok()) {
    out["error"] = {{"code", std::string(StatusCodeName(summary.status.code()))},
                    {"message", summary.status.message()}};
  }
  out["source"] = summary.source_type;
  out["sink"] = summary.sink_type;
  out["delivery"] = GuaranteeName(summary.guarantee);
  out["readers"] = summary.readers;
  out["writers"] = summary.writers;
  out["rows_read"] = m.rows_read;
  out["rows_written"] = m.rows_written;
  out["rows_committed"] = m.rows_committed;
  out["bad_records"] = m.bad_records;
  out["bytes_read"] = m.bytes_read;
  out["bytes_written"] = m.bytes_written;
  out["batches"] = m.batches;
  out["errors"] = m.errors;
  out["splits"] = {{"total", m.splits_total},
                   {"done", m.splits_done},
                   {"done_before", m.splits_done_before},
                   {"cut", m.splits_cut}};
  out["checkpoints"] = m.checkpoints;
  out["retries"] = m.retries;
  out["resumed"] = summary.resumed;
  out["resumed_from_checkpoint"] = summary.resumed_from_checkpoint;
  out["state"] = summary.state_path;
  out["elapsed_seconds"] = m.elapsed_seconds;
  out["rows_per_second"] =
      m.elapsed_seconds > 0 ? static_cast<double>(m.rows_written) / m.elapsed_seconds : 0.0;
  nlohmann::ordered_json slowest = nlohmann::ordered_json::array();
  for (const runtime::SplitTiming& timing : summary.slowest_splits) {
    slowest.push_back(
        {{"split", timing.split_id}, {"rows", timing.rows}, {"seconds", timing.seconds}});
  }
  out["slowest_splits"] = slowest;
  nlohmann::ordered_json streams = nlohmann::ordered_json::array();
  for (const connectors::StreamInfo& stream : summary.streams) {
    streams.push_back({{"name", stream.name}, {"schema", stream.schema->ToString()}});
  }
  out["streams"] = streams;
  nlohmann::ordered_json lag = nlohmann::ordered_json::array();
  for (const runtime::StreamLag& entry : summary.lag) {
    nlohmann::ordered_json item = {{"stream", entry.stream}};
    item["rows"] = entry.rows ? nlohmann::ordered_json(*entry.rows) : nullptr;
    item["bytes"] = entry.bytes ? nlohmann::ordered_json(*entry.bytes) : nullptr;
    item["last_event_time"] = entry.last_event_time_us
                                  ? nlohmann::ordered_json(EventTime(*entry.last_event_time_us))
                                  : nullptr;
    lag.push_back(std::move(item));
  }
  out["lag"] = lag;
  if (verification != nullptr)
    out["verification"] = VerificationJson(*verification);
  std::fputs(out.dump(2).c_str(), stdout);
  std::fputc('\n', stdout);
  std::fflush(stdout);
}

}  // namespace

int RunCommand(const std::string& job_path, const CommonFlags& flags) {
  Result<config::JobConfig> job = config::LoadJobFile(job_path, flags.overrides);
  if (!job.ok()) {
    runtime::JobSummary summary;
    summary.job_name = job_path;
    summary.status = job.status();
    int code = ExitCodeFor(job.status());
    fmt::print(stderr, "sluice: {}\n", job.status().ToString());
    if (flags.json)
      PrintJson(summary, code);
    return code;
  }
  const std::atomic<bool>* stop = InstallStopHandlers();
  runtime::RunOptions options;
  options.state_dir = flags.state_dir;
  options.fresh = flags.fresh;
  options.wait = flags.wait;
  const bool verify = job->verify;
  config::JobConfig verify_job = *job;
  runtime::JobRunner runner(std::move(*job), connectors::ConnectorRegistry::Builtin(), options);
  ProgressReporter progress(runner, isatty(STDERR_FILENO) != 0);
  if (flags.progress)
    progress.Start();
  runtime::JobSummary summary = runner.Run(stop);
  progress.Stop();
  int code = ExitCodeFor(summary.status);
  if (summary.interrupted)
    code = kExitInterrupted;
  if (!summary.status.ok())
    fmt::print(stderr, "sluice: {}\n", summary.status.ToString());
  if (!flags.json && (summary.status.ok() || summary.readers > 0)) {
    // A job that failed before moving anything has nothing to summarise beyond its error.
    // Printed before the verification, which may take as long as the copy.
    PrintText(summary);
  }
  std::optional<VerificationOutcome> verification;
  if (code == kExitOk && verify) {
    verification = RunVerification(verify_job, flags, stop);
    code = verification->exit_code;
    if (!flags.json && verification->report.ok())
      PrintVerificationReport(verification->report.value());
    // The summary above said the copy succeeded; the exit code is now the verification's.
    PrintVerificationErrors(*verification,
                            "the copy succeeded, but the verification could not run: ");
  }
  if (flags.json)
    PrintJson(summary, code, verification ? &*verification : nullptr);
  return code;
}

}  // namespace sluice::cli
