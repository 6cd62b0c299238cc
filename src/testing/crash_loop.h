// Crash loops for exactly-once tests: a job run again and again in child processes, each armed
// to crash (SIGKILL itself, as `kill -9` would) at a failpoint (core/failpoint.h), so that the
// kills land at chosen steps of the job: mid-read, between the rows and their progress, right
// after a sink's commit, between the sink's commit and the state store's record, at Finish. On
// an idle machine and on a loaded one alike, each kill lands where it was planned, and a child
// that reaches its crash point never finishes the job first.
//
// Every child killed mid-job also takes a checkpoint after each batch it reads
// (`runtime.reader.batch=checkpoint@1+`), so commits happen at known places in the data rather
// than on a timer; with the job's own checkpoint interval at 0 they are the only ones, and
// CommittedBeforeCrash says what each child had committed when it died.
//
// Test-only. Not thread-safe: call from the test's main thread, with no other thread running
// (fork copies only the calling thread).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace sluice::testing {

struct CrashLoopOptions {
  /// Crashes wanted before the job is left to finish.
  int kills = 10;
  /// Seed of the choice of crash points (log it with SCOPED_TRACE to replay a failure).
  uint32_t seed = 1;
  /// Points the connector under test adds to the generic runtime ones, each "name=crash@N".
  std::vector<std::string> connector_points;
  /// Points crashed at first, once each and in this order, before the others (counted in
  /// `kills`): places only the first runs of a job reach, such as a cut of a running split.
  std::vector<std::string> opening_points;
  /// False for a job that never ends on its own (an unbounded source): every kill comes mid-job,
  /// none around Sink::Finish, which such a job never reaches.
  bool finish_points = true;
  /// Called after every crash, e.g. to check what a reader of the target sees.
  std::function<void(const std::string& plan)> after_kill;
  /// Called in each child once its plan is armed, before the job runs: to arm what the plan
  /// needs besides (failpoint::ArmCallback, e.g. HoldReaderForCut before a cut point).
  std::function<void(const std::string& plan)> in_child;
};

struct CrashLoopResult {
  int kills = 0;
  /// A child finished the job (exit 0) before all kills were made.
  bool finished = false;
  /// The failpoints armed in each child, in order.
  std::vector<std::string> plans;
};

/// Runs `run_job` in child processes (its return value is the child's exit code: 0 when the
/// job succeeded) until `options.kills` children crashed at their planned point, or one
/// finished. A child that exits otherwise (a failure) fails the test; one that never reaches its
/// point finishes the job, which `finished` reports. The opening points come first; all kills
/// but the last two (all of them without `finish_points`) come mid-job: each such child commits at most a few checkpoints (a few
/// batches per reader), so a job of many more batches than that times the kills is never
/// finished by one; the last two come just before and just after Sink::Finish (those children
/// run the rest of the job with its own checkpoint interval).
CrashLoopResult RunCrashLoop(const std::function<int()>& run_job, const CrashLoopOptions& options);

/// What a child armed with `plan` (one of CrashLoopResult::plans) had committed of its own when
/// it crashed, for a job whose checkpoint interval is 0 (no checkpoints but the crash loop's).
enum class CommittedAtCrash {
  kNothing,  // it crashed before its first checkpoint: the target is as the last child left it
  kSome,     // at least one checkpoint of its own was recorded, with the rows of a batch or more
  kUnknown,  // it depends on which writer got there first
};
CommittedAtCrash CommittedBeforeCrash(const std::string& plan);

/// The generic crash points of the runtime, each "name=crash@N" (N small, so that a job of many
/// batches always reaches it).
std::vector<std::string> RuntimeCrashPoints();

}  // namespace sluice::testing
