// Running a job under a watcher thread, for tests that stop or disturb a job mid-way.
// Header-only: for tests that link the runtime.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <thread>

#include "runtime/job_runner.h"

namespace sluice::testing {

/// Decides, from the running job, whether to ask it to stop now.
using JobWatch = std::function<bool(const runtime::JobRunner&)>;

/// Runs `runner`; a thread calls `watch` every `every` until it returns true (the job is then
/// asked to stop, as SIGINT does) or the job ends. Without `watch` the job just runs.
inline runtime::JobSummary RunWatched(
    runtime::JobRunner& runner, const JobWatch& watch,
    std::chrono::microseconds every = std::chrono::milliseconds(1)) {
  std::atomic<bool> stop{false};
  std::atomic<bool> done{false};
  std::thread watcher;
  if (watch) {
    watcher = std::thread([&] {
      while (!done.load()) {
        if (watch(runner)) {
          stop = true;
          return;
        }
        std::this_thread::sleep_for(every);
      }
    });
  }
  runtime::JobSummary summary = runner.Run(&stop);
  done = true;
  if (watcher.joinable())
    watcher.join();
  return summary;
}

/// A watch that stops the job once it has written `rows` rows.
inline JobWatch StopAfterRowsWritten(uint64_t rows) {
  return [rows](const runtime::JobRunner& runner) {
    return runner.metrics().Snapshot().rows_written >= rows;
  };
}

}  // namespace sluice::testing
