// The comparison behind `sluice verify`, shared with `sluice run` for jobs with `verify: true`:
// running it, and printing its outcome. Called from the command's thread.
#pragma once

#include <atomic>
#include <nlohmann/json.hpp>
#include <string_view>

#include "cli/commands.h"
#include "core/status.h"
#include "verify/verifier.h"

namespace sluice::cli {

/// How a verification ended.
struct VerificationOutcome {
  /// The report, or why the verification could not run.
  Result<verify::VerifyReport> report;
  /// kExitOk (identical), kExitVerifyMismatch, or the exit code of the error.
  int exit_code = 0;
};

/// Compares the job's source and target (`--read-through` from `flags`); prints nothing.
VerificationOutcome RunVerification(const config::JobConfig& job, const CommonFlags& flags,
                                    const std::atomic<bool>* stop);
/// Prints the report of a verification that ran, for people.
void PrintVerificationReport(const verify::VerifyReport& report);
/// Prints on stderr why the verification could not run (after `context`, which says what this
/// means for the command), or that the target differs; nothing when it passed.
void PrintVerificationErrors(const VerificationOutcome& outcome, std::string_view context);
/// The report, or {"error": {code, message}} when the verification could not run.
nlohmann::ordered_json VerificationJson(const VerificationOutcome& outcome);

}  // namespace sluice::cli
