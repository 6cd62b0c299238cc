// Pipeline: everything that exists only while a job's data moves: reader and writer threads,
// channels, batch pools, the open splits, and the coordinator loop that takes checkpoints and
// watches for stops. One Pipeline per attempt of a run (JobRunner::RunAttempt).
//
//   readers (ReadBounded / ReadUnbounded) ── ReadOne: read, project, push ──> channel per writer
//   writers (WriterLoop): Write; at a marker Prepare + Commit, then CheckpointCoordinator acks
//   coordinator (Run): a checkpoint every interval, stop requests, lease loss, lag samples
//
// Thread-safety: Run() is called once; SplitFraction() from any thread (the progress line);
// OfferCut() from reader threads (JobContext::offer_split).
#pragma once

#include <atomic>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "config/job_config.h"
#include "connectors/api.h"
#include "runtime/bad_records.h"
#include "runtime/metrics.h"
#include "transforms/projection.h"

namespace sluice::state {
class StateStore;
}

namespace sluice::runtime {

class RunLeaseKeeper;
class WorkQueue;

class Pipeline {
 public:
  struct Parts {
    const config::JobConfig* job;
    JobMetrics* metrics;
    connectors::Source* source;
    connectors::Sink* sink;
    std::vector<std::optional<transforms::Projection>> projections;
    connectors::JobContext* context;
    state::StateStore* store;
    BadRecordPolicy* bad_records;
    uint64_t last_checkpoint;     // the state store's; this run continues the numbering
    const RunLeaseKeeper* lease;  // turns lost when another run takes the job over
  };

  /// `cancelled` is JobContext::cancelled: set when the job stops or fails.
  Pipeline(Parts parts, std::atomic<bool>* cancelled);
  ~Pipeline();
  Pipeline(const Pipeline&) = delete;
  Pipeline& operator=(const Pipeline&) = delete;

  /// Moves the data with `readers` readers and `writers` writers, taking work from `work`, until
  /// the input ends (bounded sources), `*stop` or a stop failpoint (then *interrupted), or a
  /// failure. `*progress_made` is set once a checkpoint committed.
  Status Run(const std::atomic<bool>* stop, int readers, int writers, WorkQueue* work,
             bool* interrupted, bool* progress_made);

  /// Estimated fraction of split work done, or negative when unknown.
  double SplitFraction() const;

  /// JobContext::offer_split: a reader cut its own remainder.
  void OfferCut(const std::string& from, connectors::Split cut);

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace sluice::runtime
