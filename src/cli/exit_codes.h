// Process exit codes of the `sluice` command (documented in the README).
#pragma once

#include "core/status.h"

namespace sluice::cli {

enum ExitCode : int {
  kExitOk = 0,
  kExitInternal = 1,    // a bug in Sluice
  kExitConfig = 2,      // job file, option or command-line error: fix the configuration
  kExitConnection = 3,  // server unreachable, authentication, missing table/file, permission, disk
  kExitData = 4,        // a bad record under `errors: fail`
  kExitVerifyMismatch = 5,  // `sluice verify` / `verify: true`: the target differs from the source
  kExitConflict = 6,  // another run of the job is running, or took the job over from this run
  kExitInterrupted = 130,   // stopped by SIGINT/SIGTERM
};

/// Maps the status a command ended with to the exit code.
int ExitCodeFor(const Status& status);

}  // namespace sluice::cli
