#include "runtime/metrics.h"

#include <algorithm>

namespace sluice::runtime {

void JobMetrics::OnSplitDone(SplitTiming timing) {
  splits_done_.fetch_add(1, std::memory_order_relaxed);
  std::lock_guard<std::mutex> lock(mutex_);
  split_timings_.push_back(std::move(timing));
}

MetricsSnapshot JobMetrics::Snapshot() const {
  MetricsSnapshot s;
  s.rows_read = rows_read_.load(std::memory_order_relaxed);
  s.rows_written = rows_written_.load(std::memory_order_relaxed);
  s.rows_committed = rows_committed_.load(std::memory_order_relaxed);
  s.bytes_read = bytes_read_.load(std::memory_order_relaxed);
  s.bytes_written = bytes_written_.load(std::memory_order_relaxed);
  s.batches = batches_.load(std::memory_order_relaxed);
  s.bad_records = bad_records_.load(std::memory_order_relaxed);
  s.errors = errors_.load(std::memory_order_relaxed);
  s.splits_total = splits_total_.load(std::memory_order_relaxed);
  s.splits_done = splits_done_.load(std::memory_order_relaxed);
  s.splits_done_before = splits_done_before_.load(std::memory_order_relaxed);
  s.splits_cut = splits_cut_.load(std::memory_order_relaxed);
  s.checkpoints = checkpoints_.load(std::memory_order_relaxed);
  s.last_checkpoint_seconds =
      static_cast<double>(last_checkpoint_micros_.load(std::memory_order_relaxed)) / 1e6;
  s.retries = retries_.load(std::memory_order_relaxed);
  s.elapsed_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  return s;
}

std::vector<SplitTiming> JobMetrics::SlowestSplits(size_t limit) const {
  std::vector<SplitTiming> out;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    out = split_timings_;
  }
  std::sort(out.begin(), out.end(),
            [](const SplitTiming& a, const SplitTiming& b) { return a.seconds > b.seconds; });
  if (out.size() > limit)
    out.resize(limit);
  return out;
}

}  // namespace sluice::runtime
