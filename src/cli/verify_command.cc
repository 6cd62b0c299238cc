#include <fmt/core.h>

#include "cli/commands.h"
#include "cli/exit_codes.h"
#include "cli/verification.h"
#include "config/job_config.h"

namespace sluice::cli {

int VerifyCommand(const std::string& job_path, const CommonFlags& flags) {
  Result<config::JobConfig> job = config::LoadJobFile(job_path, flags.overrides);
  if (!job.ok()) {
    fmt::print(stderr, "sluice: {}\n", job.status().ToString());
    return ExitCodeFor(job.status());
  }
  VerificationOutcome outcome = RunVerification(*job, flags, InstallStopHandlers());
  if (flags.json) {
    fmt::print("{}\n", VerificationJson(outcome).dump(2));
  } else if (outcome.report.ok()) {
    PrintVerificationReport(*outcome.report);
  }
  PrintVerificationErrors(outcome, "");
  return outcome.exit_code;
}

}  // namespace sluice::cli
