#include <fmt/core.h>

#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/exit_codes.h"
#include "config/job_config.h"
#include "connectors/registry.h"
#include "verify/verifier.h"

namespace sluice::cli {

namespace {

void PrintReport(const verify::VerifyReport& report) {
  fmt::print("Verification {} in {:.2f} s\n", report.match ? "passed" : "FAILED", report.seconds);
  for (const verify::StreamReport& stream : report.streams) {
    fmt::print("  stream '{}' -> {}: {} source rows, {} target rows, {}\n", stream.stream,
               stream.target, GroupThousands(stream.source_rows),
               GroupThousands(stream.target_rows), stream.match ? "identical" : "DIFFERENT");
    fmt::print("    source: {}; target: {}\n", stream.source_method, stream.target_method);
    if (stream.match)
      continue;
    fmt::print("    {} missing in the target, {} extra in the target, {} different\n",
               stream.missing_count, stream.extra_count, stream.different_count);
    for (const std::string& key : stream.missing_in_target) {
      fmt::print("    missing in the target: {}\n", key);
    }
    for (const std::string& key : stream.extra_in_target) {
      fmt::print("    extra in the target: {}\n", key);
    }
    for (const std::string& line : stream.different)
      fmt::print("    different: {}\n", line);
    for (const std::string& range : stream.differing_ranges) {
      fmt::print("    differing keys: {}\n", range);
    }
  }
}

nlohmann::ordered_json ReportJson(const verify::VerifyReport& report) {
  nlohmann::ordered_json out;
  out["match"] = report.match;
  out["seconds"] = report.seconds;
  out["streams"] = nlohmann::ordered_json::array();
  for (const verify::StreamReport& stream : report.streams) {
    out["streams"].push_back({{"stream", stream.stream},
                              {"target", stream.target},
                              {"match", stream.match},
                              {"source_rows", stream.source_rows},
                              {"target_rows", stream.target_rows},
                              {"source_method", stream.source_method},
                              {"target_method", stream.target_method},
                              {"missing_count", stream.missing_count},
                              {"extra_count", stream.extra_count},
                              {"different_count", stream.different_count},
                              {"missing_in_target", stream.missing_in_target},
                              {"extra_in_target", stream.extra_in_target},
                              {"different", stream.different},
                              {"differing_ranges", stream.differing_ranges}});
  }
  return out;
}

}  // namespace

int RunVerification(const config::JobConfig& job, const CommonFlags& flags,
                    const std::atomic<bool>* stop) {
  verify::VerifyOptions options;
  options.push_down = !flags.read_through;
  Result<verify::VerifyReport> report =
      verify::Verify(job, connectors::ConnectorRegistry::Builtin(), stop, options);
  if (!report.ok()) {
    fmt::print(stderr, "sluice: {}\n", report.status().ToString());
    return ExitCodeFor(report.status());
  }
  if (flags.json) {
    fmt::print("{}\n", ReportJson(*report).dump(2));
  } else {
    PrintReport(*report);
  }
  if (!report->match) {
    fmt::print(stderr, "sluice: verification failed: the target differs from the source\n");
    return kExitVerifyMismatch;
  }
  return kExitOk;
}

int VerifyCommand(const std::string& job_path, const CommonFlags& flags) {
  Result<config::JobConfig> job = config::LoadJobFile(job_path, flags.overrides);
  if (!job.ok()) {
    fmt::print(stderr, "sluice: {}\n", job.status().ToString());
    return ExitCodeFor(job.status());
  }
  return RunVerification(*job, flags, InstallStopHandlers());
}

}  // namespace sluice::cli
