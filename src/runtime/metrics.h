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
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sluice::runtime {

struct SplitTiming {
  std::string split_id;
  uint64_t rows = 0;
  double seconds = 0;
};

/// How far a stream's readers are behind its source's head (SplitReader::Lag, summed over the
/// stream's open splits). Each field is unknown (nullopt) unless some split reported it.
struct StreamLag {
  std::string stream;
  /// Rows (Kafka: messages) behind, summed over the splits that know.
  std::optional<uint64_t> rows;
  /// Bytes behind, summed over the splits that know.
  std::optional<uint64_t> bytes;
  /// The oldest of the splits' last event times (the one furthest behind), microseconds since
  /// the Unix epoch.
  std::optional<int64_t> last_event_time_us;

  friend bool operator==(const StreamLag&, const StreamLag&) = default;
};

/// One stream's (table's) share of the counters, for the server's per-table status.
struct StreamMetrics {
  std::string stream;
  uint64_t rows_read = 0;
  uint64_t rows_written = 0;
  uint64_t bytes_read = 0;
  uint64_t bytes_written = 0;
};

/// Where a run's failure arose: in the source, in the sink, or around them (state store,
/// lease, configuration), and in which stream when one is known.
enum class FailureOrigin { kPlatform, kSource, kSink };
std::string_view FailureOriginName(FailureOrigin origin);
struct FailureSite {
  FailureOrigin origin = FailureOrigin::kPlatform;
  int stream = -1;  // index into the source's streams; -1 when no single stream failed
};

/// A consistent-enough copy of the counters at one moment.
struct MetricsSnapshot {
  uint64_t rows_read = 0;
  uint64_t rows_written = 0;
  /// Of rows_written, those the sink committed at a checkpoint (all of them when a job ends
  /// well; those of the last commit before a failure otherwise).
  uint64_t rows_committed = 0;
  uint64_t bytes_read = 0;     // in-memory size of the rows read
  uint64_t bytes_written = 0;  // in-memory size of the rows handed to the sink
  uint64_t batches = 0;
  uint64_t bad_records = 0;
  uint64_t errors = 0;
  /// Splits known to this run: done before it resumed, resumed, planned, cut.
  uint64_t splits_total = 0;
  /// Of which done: before this run resumed (splits_done_before), or by this run.
  uint64_t splits_done = 0;
  uint64_t splits_done_before = 0;
  uint64_t splits_cut = 0;  // splits created by cutting a running split's remainder
  uint64_t checkpoints = 0;
  double last_checkpoint_seconds = 0;  // how long the last checkpoint took
  uint64_t retries = 0;
  double elapsed_seconds = 0;
  /// When the first row was read, microseconds since the Unix epoch (0: none yet).
  int64_t first_row_time_us = 0;
};

class JobMetrics {
 public:
  JobMetrics() : start_(std::chrono::steady_clock::now()) {}

  void OnBatchRead(uint64_t rows, uint64_t bytes) {
    rows_read_.fetch_add(rows, std::memory_order_relaxed);
    bytes_read_.fetch_add(bytes, std::memory_order_relaxed);
    if (first_row_time_us_.load(std::memory_order_relaxed) == 0 && rows > 0)
      NoteFirstRow();
  }
  /// The per-stream share of OnBatchRead / OnBatchWritten (one short lock per batch).
  void OnStreamRead(int stream, uint64_t rows, uint64_t bytes);
  void OnStreamWritten(int stream, uint64_t rows, uint64_t bytes);
  /// Names the streams by index (the source's streams), for StreamSnapshot.
  void SetStreamNames(std::vector<std::string> names);
  /// Every stream's counters so far, in stream order.
  std::vector<StreamMetrics> StreamSnapshot() const;
  /// Records where the attempt's first failure arose (later calls are ignored until the next
  /// attempt starts).
  void NoteFailureSite(FailureOrigin origin, int stream);
  FailureSite failure_site() const;
  void OnBatchWritten(uint64_t rows, uint64_t bytes) {
    rows_written_.fetch_add(rows, std::memory_order_relaxed);
    bytes_written_.fetch_add(bytes, std::memory_order_relaxed);
    batches_.fetch_add(1, std::memory_order_relaxed);
  }
  void OnBadRecord() { bad_records_.fetch_add(1, std::memory_order_relaxed); }
  void OnError() { errors_.fetch_add(1, std::memory_order_relaxed); }
  /// At the start of each attempt: the splits it starts with (earlier attempts' counts are
  /// replaced, so that a retry counts nothing twice). `done_before`: of which done already.
  void OnAttemptStart(uint64_t known, uint64_t done_before) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      failure_site_.reset();
    }
    splits_total_.store(known, std::memory_order_relaxed);
    splits_done_.store(done_before, std::memory_order_relaxed);
    splits_done_before_.store(done_before, std::memory_order_relaxed);
    splits_cut_.store(0, std::memory_order_relaxed);
  }
  /// A split the source planned while the run went on.
  void OnSplitPlanned() { splits_total_.fetch_add(1, std::memory_order_relaxed); }
  void OnSplitCut() {
    splits_cut_.fetch_add(1, std::memory_order_relaxed);
    splits_total_.fetch_add(1, std::memory_order_relaxed);
  }
  void OnSplitDone(SplitTiming timing);
  /// Rows a writer's checkpoint commit made durable.
  void OnRowsCommitted(uint64_t rows) {
    rows_committed_.fetch_add(rows, std::memory_order_relaxed);
  }
  /// Rows the sink refused as bad records after they were counted as written.
  void OnRowsRefusedBySink(uint64_t rows) {
    rows_written_.fetch_sub(rows, std::memory_order_relaxed);
  }
  void OnCheckpoint(double seconds) {
    checkpoints_.fetch_add(1, std::memory_order_relaxed);
    last_checkpoint_micros_.store(static_cast<uint64_t>(seconds * 1e6), std::memory_order_relaxed);
  }
  void OnRetry() { retries_.fetch_add(1, std::memory_order_relaxed); }
  /// The latest lag of every stream that reports one (replaces the previous).
  void OnLag(std::vector<StreamLag> lag) {
    std::lock_guard<std::mutex> lock(mutex_);
    lag_ = std::move(lag);
  }
  std::vector<StreamLag> Lag() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return lag_;
  }

  MetricsSnapshot Snapshot() const;
  /// Finished splits, slowest first.
  std::vector<SplitTiming> SlowestSplits(size_t limit) const;

 private:
  void NoteFirstRow();

  std::chrono::steady_clock::time_point start_;
  std::atomic<int64_t> first_row_time_us_{0};
  std::atomic<uint64_t> rows_read_{0};
  std::atomic<uint64_t> rows_written_{0};
  std::atomic<uint64_t> rows_committed_{0};
  std::atomic<uint64_t> bytes_read_{0};
  std::atomic<uint64_t> bytes_written_{0};
  std::atomic<uint64_t> batches_{0};
  std::atomic<uint64_t> bad_records_{0};
  std::atomic<uint64_t> errors_{0};
  std::atomic<uint64_t> splits_total_{0};
  std::atomic<uint64_t> splits_done_{0};
  std::atomic<uint64_t> splits_done_before_{0};
  std::atomic<uint64_t> splits_cut_{0};
  std::atomic<uint64_t> checkpoints_{0};
  std::atomic<uint64_t> last_checkpoint_micros_{0};
  std::atomic<uint64_t> retries_{0};
  mutable std::mutex mutex_;
  std::vector<SplitTiming> split_timings_;  // guarded by mutex_
  std::vector<StreamLag> lag_;              // guarded by mutex_
  std::vector<StreamMetrics> streams_;      // guarded by mutex_; by stream index
  std::optional<FailureSite> failure_site_;  // guarded by mutex_
};

}  // namespace sluice::runtime
