// Failpoints: named places in the code where a test makes Sluice crash, fail, pause or stop, so
// that a fault lands at an exact step of a job (after the 3rd commit, inside a cut, between the
// rows and their progress) instead of after a guessed delay that a busy machine overruns.
//
// They are compiled into every build and cost one relaxed atomic load while nothing is armed.
// Only the environment variable SLUICE_FAILPOINTS (read once by ArmFromEnvironment) or a test
// calling Arm()/ArmCallback() arms them; a run that has them armed says so in its log.
//
//   SLUICE_FAILPOINTS="runtime.writer.after_commit=crash@3;runtime.reader.batch=stop@5"
//
// Each entry is `name=action[@hit]`:
//   crash  the process kills itself with SIGKILL at once, as `kill -9` does (no cleanup);
//   fail   the operation at that point returns a transient error (Unavailable): a retry follows;
//   error  the operation returns a permanent error (Internal);
//   pause  the process stops itself with SIGSTOP, frozen with every thread, until released
//          with SIGUSR2 then SIGCONT (a SIGCONT alone, as the kernel sends to an orphaned
//          process group, stops it again);
//   stop   the job is asked to stop as SIGINT asks it (only at points that can stop a job: the
//          runtime's; elsewhere it does nothing);
//   checkpoint  a checkpoint is taken now, and the thread waits until it is recorded (only at
//          runtime.reader.batch): commits land at a known place in the data, whatever the speed.
// `@N` fires on the Nth time the point is reached (counted from 1, the default), `@N+` on the
// Nth and every later time. A point may be armed several times (`runtime.reader.batch=
// checkpoint@1+;runtime.reader.batch=stop@5`); when two fire at one pass, the stronger action
// wins (crash, pause, error/fail, stop, checkpoint). Callbacks (tests: ArmCallback) all run, in
// the order armed, before that action. The names in use are listed in docs/FAILPOINTS.md.
//
// Thread-safety: every function may be called from any thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <string_view>

#include "core/result.h"

namespace sluice::failpoint {

enum class Action { kNone, kCrash, kFail, kError, kPause, kStop, kCheckpoint };

namespace internal {
extern std::atomic<bool> any_armed;
}

/// True when some failpoint is armed; the fast path of every point.
inline bool AnyArmed() {
  return internal::any_armed.load(std::memory_order_relaxed);
}

/// Counts a pass through point `name` and carries out what is armed there for this pass: crash
/// and pause happen inside; a callback (ArmCallback) runs inside. Returns the action for the
/// caller to carry out (kFail, kError, kStop) or kNone.
Action Hit(std::string_view name);

/// Hit() for points where an operation can fail: kFail and kError become the Status to return
/// (naming the point); a callback's Status is returned as it is; everything else is OK.
Status Check(std::string_view name);

/// Arms the points of a SLUICE_FAILPOINTS-style specification (adds to what is armed). An
/// unknown action or a malformed entry is InvalidConfig.
Status Arm(std::string_view specification);

/// Tests in the same process: runs `callback` on pass `hit` of point `name` (every pass from
/// `hit` on when `and_later`), before the action armed for that pass if any; an error it
/// returns is what Check() returns there (the action is then not carried out). It may block, to
/// hold a thread at that point while the test looks around, and may arm more (a stop at the
/// point's next pass: `Passes(name) + 1`).
void ArmCallback(std::string_view name, uint64_t hit, std::function<Status()> callback,
                 bool and_later = false);

/// Disarms every point and resets the pass counts.
void DisarmAll();

/// How many times point `name` was passed since it was armed (0 when it is not armed).
uint64_t Passes(std::string_view name);

/// Arms what SLUICE_FAILPOINTS says, once per process; returns what it armed ("" for nothing),
/// or the error of a malformed value.
Result<std::string> ArmFromEnvironment();

}  // namespace sluice::failpoint

/// Returns the failpoint's error from the enclosing function (a function returning Status or
/// Result) when one is armed at `name` for this pass.
#define SLUICE_FAILPOINT(name)                                                 \
  do {                                                                         \
    if (::sluice::failpoint::AnyArmed())                                       \
      SLUICE_RETURN_IF_ERROR(::sluice::failpoint::Check(name));                \
  } while (false)
