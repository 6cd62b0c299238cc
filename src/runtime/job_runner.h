// JobRunner: runs one job: source readers -> bounded channels -> sink writers, with
// checkpoints, resume and retries.
//
//   reader 0 ─┐                          ┌─> writer 0
//   reader 1 ─┼─ projection ─> channel ──┤
//   reader N ─┘   (per reader)  (per     └─> writer M   M = min(parallelism, sink limit)
//                               writer)
//
// `parallelism` readers pull splits from the source's enumerator on demand; when it runs dry an
// idle reader asks the busiest reader to cut its remainder (SplitReader::SplitRemainder), so a
// skewed split never leaves the others idle. Reader i feeds the channel of writer i mod M, so all
// rows of a split go through one writer; a changelog stream's rows go to writers by a hash of
// their key instead, so each key's changes stay in order. An unbounded source's readers hold
// several splits each and serve them in turn until the job is stopped. Channels are bounded: memory stays bounded whatever the
// input size, and a slow sink slows the readers. Batches are recycled through per-schema pools.
//
// Checkpoints (docs/STATE_FORMAT.md): every batch carries its split and the reader's position
// after it. Every `checkpoint.interval_secs` the coordinator puts a marker into each writer's
// channel; a writer reaching it prepares and commits its rows together with the progress of the
// splits it wrote (atomically when delivery is exactly-once), then the coordinator records the
// checkpoint in the state store. Readers never pause. Every split is recorded in the state store
// before anyone reads it, and a cut records the shrunk parent with its new child, so a resumed run
// knows exactly what is covered.
//
// Resume: a run of a job whose last run did not succeed continues from the last checkpoint
// (splits done are skipped, running ones reopen at their position; exactly-once sinks report
// their own committed progress, which wins). A stop request (SIGINT/SIGTERM) takes a final
// checkpoint and ends interrupted, resumable. Transient failures resume in-process after an
// exponential backoff with jitter.
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

namespace sluice::state {
class StateStore;
}

namespace sluice::runtime {
class Pipeline;
class RunLeaseKeeper;
}

namespace sluice::runtime {

struct RunOptions {
  /// --state DIR: overrides the job's `state:` (and the default .sluice).
  std::string state_dir;
  /// --fresh: forget any earlier run and start over.
  bool fresh = false;
  /// --wait: when another run of the job is running, wait for it to end instead of failing.
  bool wait = false;
};

struct JobSummary {
  std::string job_name;
  Status status;
  bool interrupted = false;
  /// This run continued an earlier one from its checkpoint.
  bool resumed = false;
  uint64_t resumed_from_checkpoint = 0;
  MetricsSnapshot metrics;
  /// Per stream (table), in the source's stream order.
  std::vector<StreamMetrics> stream_metrics;
  /// Where the failure arose (status not ok, and not a stop).
  FailureSite failure_site;
  std::vector<SplitTiming> slowest_splits;
  /// The last lag each stream reported (unbounded sources, mostly); empty when none did.
  std::vector<StreamLag> lag;
  std::vector<connectors::StreamInfo> streams;  // after the transform
  std::vector<connectors::StreamInfo> source_streams;  // as the source discovered them
  std::string source_type;
  std::string sink_type;
  connectors::DeliveryGuarantee guarantee = connectors::DeliveryGuarantee::kAtLeastOnce;
  std::string state_path;
  int readers = 0;
  int writers = 0;
};

/// What `sluice check` found.
struct CheckSummary {
  std::vector<connectors::StreamInfo> source_streams;
  std::vector<connectors::StreamInfo> sink_streams;  // after the transform
  connectors::CheckReport report;
  connectors::DeliveryGuarantee guarantee = connectors::DeliveryGuarantee::kAtLeastOnce;
  /// Why the job gets that guarantee, in a sentence.
  std::string guarantee_reason;
};

class JobRunner {
 public:
  JobRunner(config::JobConfig job, const connectors::ConnectorRegistry& registry,
            RunOptions options = {});
  ~JobRunner();
  JobRunner(const JobRunner&) = delete;
  JobRunner& operator=(const JobRunner&) = delete;

  /// Runs the job until it completes, fails, or `*stop` becomes true.
  JobSummary Run(const std::atomic<bool>* stop);

  /// Validates, connects and compares source and sink without moving data.
  Result<CheckSummary> Check();

  const JobMetrics& metrics() const { return metrics_; }
  /// Estimated completed fraction in [0, 1], or negative when unknown.
  double Fraction() const;

  /// Where the state store of this job lives.
  std::string StatePath() const;

 private:
  Status RunAttempt(const std::atomic<bool>* stop, bool resume, state::StateStore* store,
                    JobSummary* summary, bool* progress_made);

  config::JobConfig job_;
  const connectors::ConnectorRegistry& registry_;
  RunOptions options_;
  JobMetrics metrics_;
  std::atomic<uint64_t> estimated_rows_{0};
  mutable std::mutex pipeline_mutex_;
  Pipeline* pipeline_ = nullptr;  // guarded by pipeline_mutex_; set while data moves
  const RunLeaseKeeper* lease_ = nullptr;  // the job's run lease, held during Run()
  // Set by Run() from the earlier run's state: --fresh over an unfinished run, and a job file
  // changed since an unfinished run (a resume is refused only if that run committed rows).
  bool fresh_over_unfinished_ = false;
  bool changed_since_unfinished_ = false;
};

/// The delivery a job gets from its `delivery:` and its sink, and why.
connectors::DeliveryGuarantee EffectiveGuarantee(const config::JobConfig& job,
                                                 const connectors::Sink& sink, std::string* reason);

}  // namespace sluice::runtime
