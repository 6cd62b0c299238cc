#include "runtime/work_queue.h"

#include "state/state_store.h"

namespace sluice::runtime {

WorkQueue::WorkQueue(std::deque<Work> resumed, std::unique_ptr<connectors::SplitEnumerator> source,
                     state::StateStore* store, std::string job, JobMetrics* metrics)
    : resumed_(std::move(resumed)),
      source_(std::move(source)),
      store_(store),
      job_(std::move(job)),
      metrics_(metrics) {
  source_->SetWakeup([this] { Wake(); });
}

Result<std::optional<Work>> WorkQueue::Next() {
  std::lock_guard<std::mutex> lock(mutex_);
  if (!cuts_.empty()) {
    Work work{std::move(cuts_.front()), ""};
    cuts_.pop_front();
    ++outstanding_;
    return std::optional<Work>(std::move(work));
  }
  if (!resumed_.empty()) {
    Work work = std::move(resumed_.front());
    resumed_.pop_front();
    ++outstanding_;
    return std::optional<Work>(std::move(work));
  }
  SLUICE_ASSIGN_OR_RETURN(std::optional<connectors::Split> split, source_->Next());
  if (!split)
    return std::optional<Work>();
  SLUICE_RETURN_IF_ERROR(store_->RecordSplits(job_, {*split}));
  metrics_->OnSplitPlanned();
  ++outstanding_;
  return std::optional<Work>(Work{std::move(*split), ""});
}

void WorkQueue::Done() {
  --outstanding_;
  Wake();
}

void WorkQueue::AddCut(connectors::Split split) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    cuts_.push_back(std::move(split));
  }
  Wake();
}

void WorkQueue::GiveBack(Work work) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    resumed_.push_back(std::move(work));
  }
  --outstanding_;
  Wake();
}

void WorkQueue::Wake() {
  std::lock_guard<std::mutex> lock(wake_mutex_);
  ++generation_;
  wake_cv_.notify_all();
}

uint64_t WorkQueue::generation() const {
  std::lock_guard<std::mutex> lock(wake_mutex_);
  return generation_;
}

void WorkQueue::WaitForChange(uint64_t seen) {
  std::unique_lock<std::mutex> lock(wake_mutex_);
  wake_cv_.wait(lock, [&] { return closed_ || generation_ != seen; });
}

void WorkQueue::Close() {
  std::lock_guard<std::mutex> lock(wake_mutex_);
  closed_ = true;
  ++generation_;
  wake_cv_.notify_all();
}

size_t WorkQueue::pending() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return cuts_.size() + resumed_.size() + source_->pending();
}

size_t WorkQueue::planned_not_taken() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return source_->pending();
}

}  // namespace sluice::runtime
