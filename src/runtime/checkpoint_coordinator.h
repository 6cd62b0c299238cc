// CheckpointCoordinator: takes a job's checkpoints.
//
//   Take():  marker N into every writer's channel ─> every writer commits its rows and progress
//            up to it (WriterCommitted) ─> the state store records N with the progress and the
//            source's CheckpointState() ─> Source::Acknowledge(N, progress)
//
// Changelog streams are routed to writers by key, so one batch of a split goes to several
// writers. A reader pushes those parts inside BeginRoutedPush/EndRoutedPush; Take() waits until no
// push is under way and holds new ones off while it puts its markers in, so every marker cuts
// every routed split at the same place in every channel. The split's position then travels in the
// markers (ChannelItem::routed_progress): every writer commits the same position for it.
//
// A source hears of a checkpoint only once it is durable everywhere: a checkpoint that a writer
// failed, or that the state store did not record, is never acknowledged. An acknowledgement's
// error is logged and the job goes on (the next one carries later positions).
//
// Thread-safety: Take() is called from one thread (the pipeline's coordinator) at a time;
// WriterCommitted() from writer threads; Abort() from any thread.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "connectors/api.h"
#include "runtime/bad_records.h"
#include "runtime/channel.h"
#include "runtime/channel_item.h"
#include "runtime/metrics.h"

namespace sluice::state {
class StateStore;
}

namespace sluice::runtime {

class CheckpointCoordinator {
 public:
  struct Parts {
    std::string job;
    state::StateStore* store;
    connectors::Source* source;
    const BadRecordPolicy* bad_records;
    JobMetrics* metrics;
    /// The state store's last checkpoint: this run continues the numbering.
    uint64_t last_checkpoint = 0;
  };

  /// `channels`: one per writer, in slot order; they outlive the coordinator.
  CheckpointCoordinator(Parts parts, std::vector<BoundedChannel<ChannelItem>*> channels);

  /// Takes the next checkpoint (see the top). Returns an error when a writer failed, the pipeline
  /// closed (Abort) or the state store could not record it; the checkpoint is then not recorded
  /// nor acknowledged.
  Status Take();

  /// A writer reached marker `checkpoint` and committed `progress` with its rows (or failed).
  void WriterCommitted(uint64_t checkpoint, bool failed,
                       std::vector<connectors::SplitProgress> progress);

  /// The pipeline failed: a Take() waiting for writers gives up.
  void Abort();

  /// Reader threads, around pushing the per-writer parts of one batch of a routed split (waits
  /// while a marker goes in). EndRoutedPush records the split's position after the batch, or
  /// its end (`done`); the next marker carries it to every writer.
  void BeginRoutedPush();
  void EndRoutedPush(const std::string& split_id, std::string position, bool done);

 private:
  struct Acks {
    size_t count = 0;
    bool failed = false;
    std::vector<connectors::SplitProgress> progress;
  };

  Parts parts_;
  std::vector<BoundedChannel<ChannelItem>*> channels_;
  uint64_t next_ = 1;  // Take()'s thread only

  std::mutex mutex_;
  std::condition_variable changed_;
  std::map<uint64_t, Acks> acks_;  // guarded by mutex_
  bool aborted_ = false;           // guarded by mutex_

  // Routed pushes against markers: a gate that prefers the marker, so that readers pushing all
  // the time cannot hold a checkpoint off.
  std::mutex gate_mutex_;
  std::condition_variable gate_changed_;
  int pushing_ = 0;        // guarded by gate_mutex_
  bool marking_ = false;   // guarded by gate_mutex_
  // Routed splits' progress since the last marker, by split id.
  std::map<std::string, connectors::SplitProgress> routed_;  // guarded by gate_mutex_
};

}  // namespace sluice::runtime
