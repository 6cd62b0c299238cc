// BadRecordPolicy: the job's `errors:` section applied to every bad record a reader, a cast or
// a sink reports.
//
//   fail         the first bad record stops the job with its error (the default)
//   skip         count it and go on, up to max_count records or max_ratio of the rows read
//   dead_letter  like skip, and append it to a JSON Lines file:
//                {"job", "stream", "location", "reason", "raw"}
//
// The count carries over a resume (the budget spans restarts).
//
// Thread-safety: Handle() may be called from any thread.
#pragma once

#include <atomic>
#include <fstream>
#include <mutex>
#include <string>

#include "config/job_config.h"
#include "connectors/api.h"
#include "runtime/metrics.h"

namespace sluice::runtime {

class BadRecordPolicy final : public connectors::BadRecordHandler {
 public:
  /// `already` is the count of bad records skipped by earlier runs of the job.
  BadRecordPolicy(std::string job, config::ErrorPolicy policy, JobMetrics* metrics,
                  uint64_t already);

  /// Opens the dead-letter file (append mode) when the policy needs one.
  Status Open();

  Status Handle(const connectors::BadRecord& record) override;

  uint64_t count() const { return count_.load(); }

  /// Bad records skipped on the calling thread so far: a writer compares it before and after
  /// Write to tell the rows its sink refused from the rows it wrote.
  static uint64_t SkippedOnThisThread();

 private:
  std::string job_;
  config::ErrorPolicy policy_;
  JobMetrics* metrics_;
  std::atomic<uint64_t> count_;
  std::mutex mutex_;
  std::ofstream dead_letter_;  // guarded by mutex_
};

}  // namespace sluice::runtime
