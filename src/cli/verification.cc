#include "cli/verification.h"

#include <fmt/core.h>

#include "cli/exit_codes.h"
#include "connectors/registry.h"

namespace sluice::cli {

VerificationOutcome RunVerification(const config::JobConfig& job, const CommonFlags& flags,
                                    const std::atomic<bool>* stop) {
  verify::VerifyOptions options;
  options.push_down = !flags.read_through;
  VerificationOutcome outcome{
      verify::Verify(job, connectors::ConnectorRegistry::Builtin(), stop, options)};
  if (!outcome.report.ok()) {
    outcome.exit_code = ExitCodeFor(outcome.report.status());
  } else {
    outcome.exit_code = outcome.report->match ? kExitOk : kExitVerifyMismatch;
  }
  return outcome;
}

void PrintVerificationReport(const verify::VerifyReport& report) {
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
  std::fflush(stdout);  // before the diagnostics on stderr
}

void PrintVerificationErrors(const VerificationOutcome& outcome, std::string_view context) {
  if (!outcome.report.ok()) {
    fmt::print(stderr, "sluice: {}{}\n", context, outcome.report.status().ToString());
  } else if (!outcome.report->match) {
    fmt::print(stderr, "sluice: verification failed: the target differs from the source\n");
  }
}

nlohmann::ordered_json VerificationJson(const VerificationOutcome& outcome) {
  nlohmann::ordered_json out;
  if (!outcome.report.ok()) {
    const Status& status = outcome.report.status();
    out["error"] = {{"code", std::string(StatusCodeName(status.code()))},
                    {"message", status.message()}};
    return out;
  }
  const verify::VerifyReport& report = outcome.report.value();
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

}  // namespace sluice::cli
