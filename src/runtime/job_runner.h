// JobRunner: runs one job: source readers -> bounded channels -> sink writers.
//
//   reader 0 ─┐                          ┌─> writer 0
//   reader 1 ─┼─ projection ─> channel ──┤
//   reader N ─┘   (per reader)  (per     └─> writer M   M = min(parallelism, sink limit)
//                               writer)
//
// `parallelism` readers pull splits from the source's enumerator on demand; when it runs dry an
// idle reader cuts the remainder of the biggest running split (SplitReader::SplitRemainder), so
// that a skewed split never leaves the others idle. Reader i feeds the channel of writer
// i mod M; channels are bounded, so memory stays bounded whatever the input size, and a slow sink
// slows the readers. Batches are recycled through per-schema pools.
//
// Commit protocol: when every reader is done, writers Prepare(); only if all prepared does the
// coordinator Commit() each and then Sink::Finish(); otherwise everything is aborted.
//
// Thread-safety: Run() is called once, from one thread. metrics() and Fraction() may be read
// from another thread (the progress line) while Run() is under way.
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "config/job_config.h"
#include "connectors/api.h"
#include "connectors/registry.h"
#include "runtime/metrics.h"

namespace sluice::runtime {

struct JobSummary {
  std::string job_name;
  Status status;
  bool interrupted = false;
  MetricsSnapshot metrics;
  std::vector<SplitTiming> slowest_splits;
  std::vector<connectors::StreamInfo> streams;  // after the transform
  std::string source_type;
  std::string sink_type;
  connectors::DeliveryGuarantee guarantee = connectors::DeliveryGuarantee::kAtLeastOnce;
  int readers = 0;
  int writers = 0;
};

/// What `sluice check` found.
struct CheckSummary {
  std::vector<connectors::StreamInfo> source_streams;
  std::vector<connectors::StreamInfo> sink_streams;  // after the transform
  connectors::CheckReport report;
  connectors::DeliveryGuarantee guarantee = connectors::DeliveryGuarantee::kAtLeastOnce;
};

class JobRunner {
 public:
  JobRunner(config::JobConfig job, const connectors::ConnectorRegistry& registry);
  ~JobRunner();
  JobRunner(const JobRunner&) = delete;
  JobRunner& operator=(const JobRunner&) = delete;

  /// Runs the job until it completes, fails, or `*stop` becomes true (then the summary says
  /// interrupted and nothing uncommitted is published).
  JobSummary Run(const std::atomic<bool>* stop);

  /// Validates, connects and compares source and sink without moving data.
  Result<CheckSummary> Check();

  const JobMetrics& metrics() const { return metrics_; }
  /// Estimated completed fraction in [0, 1], or negative when unknown.
  double Fraction() const;

 private:
  class Pipeline;

  config::JobConfig job_;
  const connectors::ConnectorRegistry& registry_;
  JobMetrics metrics_;
  std::atomic<uint64_t> estimated_rows_{0};
  mutable std::mutex pipeline_mutex_;
  Pipeline* pipeline_ = nullptr;  // guarded by pipeline_mutex_; set while Run() is moving data
};

}  // namespace sluice::runtime
