#include "runtime/checkpoint_coordinator.h"

#include <fmt/core.h>

#include <chrono>

#include "core/failpoint.h"
#include "core/logging.h"
#include "state/state_store.h"

namespace sluice::runtime {

namespace {
constexpr std::string_view kComponent = "runtime";
}

CheckpointCoordinator::CheckpointCoordinator(Parts parts,
                                             std::vector<BoundedChannel<ChannelItem>*> channels)
    : parts_(std::move(parts)), channels_(std::move(channels)), next_(parts_.last_checkpoint + 1) {}

Status CheckpointCoordinator::Take() {
  const uint64_t number = next_++;
  const auto start = std::chrono::steady_clock::now();
  // Everything read before the markers is in this checkpoint, and so is the source's state now.
  std::string source_state = parts_.source->CheckpointState();
  for (BoundedChannel<ChannelItem>* channel : channels_) {
    ChannelItem marker;
    marker.checkpoint = number;
    if (!channel->PushControl(marker))
      return Internal("the pipeline closed");
  }
  Acks acks;
  {
    std::unique_lock<std::mutex> lock(mutex_);
    changed_.wait(lock, [&] { return acks_[number].count == channels_.size() || aborted_; });
    acks = std::move(acks_[number]);
    acks_.erase(number);
  }
  if (acks.failed || acks.count < channels_.size())
    return Internal("a writer failed");
  SLUICE_FAILPOINT("runtime.checkpoint.before_record");
  SLUICE_RETURN_IF_ERROR(parts_.store
                             ->CommitCheckpoint(parts_.job, number, acks.progress,
                                                parts_.bad_records->count(), source_state)
                             .WithContext(fmt::format("recording checkpoint {}", number)));
  SLUICE_FAILPOINT("runtime.checkpoint.after_record");
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  parts_.metrics->OnCheckpoint(seconds);
  log::Debug(kComponent, "Checkpoint {} committed in {:.3f} s ({} splits advanced)", number,
             seconds, acks.progress.size());
  // Durable in the sink and the state store: now the source may tell its server.
  Status acknowledged = parts_.source->Acknowledge(number, acks.progress);
  if (!acknowledged.ok()) {
    log::Warn(kComponent, "The source could not acknowledge checkpoint {}: {}; the job goes on",
              number, acknowledged.ToString());
  }
  return Status::OK();
}

void CheckpointCoordinator::WriterCommitted(uint64_t checkpoint, bool failed,
                                            std::vector<connectors::SplitProgress> progress) {
  std::lock_guard<std::mutex> lock(mutex_);
  Acks& acks = acks_[checkpoint];
  ++acks.count;
  acks.failed = acks.failed || failed;
  for (connectors::SplitProgress& entry : progress)
    acks.progress.push_back(std::move(entry));
  changed_.notify_all();
}

void CheckpointCoordinator::Abort() {
  std::lock_guard<std::mutex> lock(mutex_);
  aborted_ = true;
  changed_.notify_all();
}

}  // namespace sluice::runtime
