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
  std::string source_state;
  bool routed_in_markers = false;
  {
    // No routed batch is half pushed while the markers go in.
    std::unique_lock<std::mutex> gate(gate_mutex_);
    marking_ = true;
    gate_changed_.wait(gate, [&] { return pushing_ == 0; });
    // Everything read before the markers is in this checkpoint, and so is the source's state.
    source_state = parts_.source->CheckpointState();
    std::shared_ptr<const std::vector<connectors::SplitProgress>> routed;
    if (!routed_.empty()) {
      auto progress = std::make_shared<std::vector<connectors::SplitProgress>>();
      for (auto& [id, entry] : routed_)
        progress->push_back(std::move(entry));
      routed_.clear();
      routed = std::move(progress);
      routed_in_markers = true;
    }
    bool closed = false;
    for (BoundedChannel<ChannelItem>* channel : channels_) {
      ChannelItem marker;
      marker.checkpoint = number;
      marker.routed_progress = routed;
      closed = closed || !channel->PushControl(marker);
    }
    marking_ = false;
    gate_changed_.notify_all();
    if (closed)
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
  if (routed_in_markers) {
    // Every writer committed the routed splits' positions: keep one of each.
    std::map<std::string, connectors::SplitProgress> unique;
    for (connectors::SplitProgress& entry : acks.progress)
      unique[entry.split_id] = std::move(entry);
    acks.progress.clear();
    for (auto& [id, entry] : unique)
      acks.progress.push_back(std::move(entry));
  }
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

void CheckpointCoordinator::BeginRoutedPush() {
  std::unique_lock<std::mutex> gate(gate_mutex_);
  gate_changed_.wait(gate, [&] { return !marking_; });
  ++pushing_;
}

void CheckpointCoordinator::EndRoutedPush(const std::string& split_id, std::string position,
                                          bool done) {
  std::lock_guard<std::mutex> gate(gate_mutex_);
  connectors::SplitProgress& entry = routed_[split_id];
  entry.split_id = split_id;
  entry.position = std::move(position);
  entry.done = entry.done || done;
  --pushing_;
  if (pushing_ == 0)
    gate_changed_.notify_all();
}

void CheckpointCoordinator::Abort() {
  std::lock_guard<std::mutex> lock(mutex_);
  aborted_ = true;
  changed_.notify_all();
}

}  // namespace sluice::runtime
