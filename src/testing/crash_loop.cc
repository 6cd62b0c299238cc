#include "testing/crash_loop.h"

#include <fmt/core.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <cstdlib>
#include <random>

#include "core/failpoint.h"
#include "core/logging.h"

namespace sluice::testing {

std::vector<std::string> RuntimeCrashPoints() {
  return {
      "runtime.reader.batch=crash@2",              // mid-read, a checkpoint in
      "runtime.writer.before_commit=crash@3",      // rows written and prepared, not committed
      "runtime.writer.after_commit=crash@1",       // the sink committed, the store did not record
      "runtime.writer.after_commit=crash@4",       // the same, a few checkpoints in
      "runtime.checkpoint.before_record=crash@2",  // every writer committed, no record yet
      "runtime.checkpoint.after_record=crash@3",   // recorded
  };
}

CrashLoopResult RunCrashLoop(const std::function<int()>& run_job,
                             const CrashLoopOptions& options) {
  std::vector<std::string> points = RuntimeCrashPoints();
  points.insert(points.end(), options.connector_points.begin(), options.connector_points.end());
  std::mt19937 random(options.seed);
  CrashLoopResult result;
  // The last two kills come at the end of the job, around Sink::Finish; the others mid-job, at
  // every point in turn (in a random order), so that each is exercised.
  const int opening = static_cast<int>(options.opening_points.size());
  const int mid_job = options.finish_points ? std::max(0, options.kills - 2) : options.kills;
  for (int attempt = 0; result.kills < options.kills; ++attempt) {
    std::string point;
    if (result.kills < opening) {
      point = options.opening_points[static_cast<size_t>(result.kills)];
    } else if (result.kills >= mid_job) {
      point = result.kills == mid_job ? "runtime.finish.before=crash@1"
                                      : "runtime.finish.after=crash@1";
    } else {
      const int turn = attempt - opening;
      if (turn % static_cast<int>(points.size()) == 0)
        std::shuffle(points.begin(), points.end(), random);
      point = points[static_cast<size_t>(turn) % points.size()];
    }
    // One action per point: a crash at the batch point comes without checkpoints (nothing is
    // committed before it). The children that crash around Finish run the rest of the job at its
    // own pace; the others checkpoint after every batch.
    std::string plan = point.starts_with("runtime.reader.batch=") ||
                               point.starts_with("runtime.finish.")
                           ? point
                           : "runtime.reader.batch=checkpoint@1+;" + point;
    result.plans.push_back(plan);
    pid_t child = fork();
    if (child < 0) {
      ADD_FAILURE() << "fork failed";
      return result;
    }
    if (child == 0) {
      log::SetLevel(log::Level::kOff);
      failpoint::DisarmAll();
      if (!failpoint::Arm(plan).ok())
        _exit(90);
      if (options.in_child)
        options.in_child(plan);
      _exit(run_job());
    }
    int status = 0;
    if (waitpid(child, &status, 0) != child) {
      ADD_FAILURE() << "waitpid failed";
      return result;
    }
    if (WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) {
      ++result.kills;
      if (options.after_kill)
        options.after_kill(plan);
      if (::testing::Test::HasFatalFailure())
        return result;
      continue;
    }
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
      result.finished = true;
      return result;
    }
    ADD_FAILURE() << "a child armed with '" << plan << "' neither crashed there nor finished ("
                  << (WIFEXITED(status) ? fmt::format("exit {}", WEXITSTATUS(status))
                                        : fmt::format("signal {}", WTERMSIG(status)))
                  << ")";
    return result;
  }
  return result;
}

namespace {

// The hit number of `point`'s crash in `plan` ("...;point=crash@N"), or 0 when it has none.
uint64_t CrashHit(const std::string& plan, const std::string& point) {
  std::string prefix = point + "=crash@";
  size_t at = plan.find(prefix);
  if (at == std::string::npos)
    return 0;
  return std::strtoull(plan.c_str() + at + prefix.size(), nullptr, 10);
}

}  // namespace

CommittedAtCrash CommittedBeforeCrash(const std::string& plan) {
  // The batch point's crash replaces its checkpoints: no checkpoint at all.
  if (CrashHit(plan, "runtime.reader.batch") > 0)
    return CommittedAtCrash::kNothing;
  // Each checkpoint is asked for by a reader after a batch and carries that batch, so the first
  // one a child records holds rows. after_record@N: N recorded; before_record@N: N - 1.
  if (CrashHit(plan, "runtime.checkpoint.after_record") >= 1 ||
      CrashHit(plan, "runtime.checkpoint.before_record") >= 2) {
    return CommittedAtCrash::kSome;
  }
  return CommittedAtCrash::kUnknown;
}

}  // namespace sluice::testing
