// ProgressReporter: the live progress of a running job.
//
// On a terminal it redraws one line on stderr a few times a second (rows, rows/s, MB/s, and
// percent and ETA when the total is known); otherwise (a pipe, CI, a log file) it writes an
// info log line every few seconds. Runs its own thread between Start() and Stop().
#pragma once

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "runtime/job_runner.h"

namespace sluice::cli {

class ProgressReporter {
 public:
  /// `interactive`: draw a redrawn line (stderr is a terminal) instead of log lines.
  ProgressReporter(const runtime::JobRunner& runner, bool interactive)
      : runner_(runner), interactive_(interactive) {}
  ~ProgressReporter() { Stop(); }

  void Start();
  /// Stops the thread and clears the progress line.
  void Stop();

  /// "1,234,567 rows  312,000 rows/s  45.1 MB/s  43%  ETA 0:12" (exposed for tests).
  static std::string FormatLine(const runtime::MetricsSnapshot& snapshot, double fraction,
                                double rows_per_second, double bytes_per_second);

 private:
  void Loop();

  const runtime::JobRunner& runner_;
  bool interactive_;
  std::thread thread_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;  // guarded by mutex_
};

}  // namespace sluice::cli
