// JobMetrics: the counters of one job run, updated by readers and writers through one typed call
// per event, read by the progress line, the summary and (later) the server's Prometheus export.
//
// Thread-safe: counters are relaxed atomics; the per-split timing list takes a mutex once per
// finished split.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

namespace sluice::runtime {

struct SplitTiming {
  std::string split_id;
  uint64_t rows = 0;
  double seconds = 0;
};

/// A consistent-enough copy of the counters at one moment.
struct MetricsSnapshot {
  uint64_t rows_read = 0;
  uint64_t rows_written = 0;
  uint64_t bytes_read = 0;     // in-memory size of the rows read
  uint64_t bytes_written = 0;  // in-memory size of the rows handed to the sink
  uint64_t batches = 0;
  uint64_t bad_records = 0;
  uint64_t errors = 0;
  uint64_t splits_total = 0;
  uint64_t splits_done = 0;
  uint64_t splits_cut = 0;  // splits created by cutting a running split's remainder
  uint64_t checkpoints = 0;
  double last_checkpoint_seconds = 0;  // how long the last checkpoint took
  uint64_t retries = 0;
  double elapsed_seconds = 0;
};

class JobMetrics {
 public:
  JobMetrics() : start_(std::chrono::steady_clock::now()) {}

  void OnBatchRead(uint64_t rows, uint64_t bytes) {
    rows_read_.fetch_add(rows, std::memory_order_relaxed);
    bytes_read_.fetch_add(bytes, std::memory_order_relaxed);
  }
  void OnBatchWritten(uint64_t rows, uint64_t bytes) {
    rows_written_.fetch_add(rows, std::memory_order_relaxed);
    bytes_written_.fetch_add(bytes, std::memory_order_relaxed);
    batches_.fetch_add(1, std::memory_order_relaxed);
  }
  void OnBadRecord() { bad_records_.fetch_add(1, std::memory_order_relaxed); }
  void OnError() { errors_.fetch_add(1, std::memory_order_relaxed); }
  void OnSplitsPlanned(uint64_t count) {
    splits_total_.fetch_add(count, std::memory_order_relaxed);
  }
  void OnSplitCut() {
    splits_cut_.fetch_add(1, std::memory_order_relaxed);
    splits_total_.fetch_add(1, std::memory_order_relaxed);
  }
  void OnSplitDone(SplitTiming timing);
  /// A finished split counted without reading it (it was done before a resume).
  void OnSplitAlreadyDone() { splits_done_.fetch_add(1, std::memory_order_relaxed); }
  void OnCheckpoint(double seconds) {
    checkpoints_.fetch_add(1, std::memory_order_relaxed);
    last_checkpoint_micros_.store(static_cast<uint64_t>(seconds * 1e6), std::memory_order_relaxed);
  }
  void OnRetry() { retries_.fetch_add(1, std::memory_order_relaxed); }

  MetricsSnapshot Snapshot() const;
  /// Finished splits, slowest first.
  std::vector<SplitTiming> SlowestSplits(size_t limit) const;

 private:
  std::chrono::steady_clock::time_point start_;
  std::atomic<uint64_t> rows_read_{0};
  std::atomic<uint64_t> rows_written_{0};
  std::atomic<uint64_t> bytes_read_{0};
  std::atomic<uint64_t> bytes_written_{0};
  std::atomic<uint64_t> batches_{0};
  std::atomic<uint64_t> bad_records_{0};
  std::atomic<uint64_t> errors_{0};
  std::atomic<uint64_t> splits_total_{0};
  std::atomic<uint64_t> splits_done_{0};
  std::atomic<uint64_t> splits_cut_{0};
  std::atomic<uint64_t> checkpoints_{0};
  std::atomic<uint64_t> last_checkpoint_micros_{0};
  std::atomic<uint64_t> retries_{0};
  mutable std::mutex mutex_;
  std::vector<SplitTiming> split_timings_;  // guarded by mutex_
};

}  // namespace sluice::runtime
