#include "runtime/metrics.h"

#include <algorithm>

namespace sluice::runtime {

void JobMetrics::OnSplitDone(SplitTiming timing) {
  splits_done_.fetch_add(1, std::memory_order_relaxed);
  std::lock_guard<std::mutex> lock(mutex_);
  split_timings_.push_back(std::move(timing));
}

std::string_view FailureOriginName(FailureOrigin origin) {
  switch (origin) {
    case FailureOrigin::kSource:
      return "source";
    case FailureOrigin::kSink:
      return "sink";
    case FailureOrigin::kPlatform:
      break;
  }
  return "platform";
}

void JobMetrics::NoteFirstRow() {
  const int64_t now = std::chrono::duration_cast<std::chrono::microseconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
  int64_t none = 0;
  first_row_time_us_.compare_exchange_strong(none, now, std::memory_order_relaxed);
}

namespace {
StreamMetrics& StreamSlot(std::vector<StreamMetrics>* streams, int stream) {
  const size_t index = stream < 0 ? 0 : static_cast<size_t>(stream);
  if (streams->size() <= index)
    streams->resize(index + 1);
  return (*streams)[index];
}
}  // namespace

void JobMetrics::OnStreamRead(int stream, uint64_t rows, uint64_t bytes) {
  std::lock_guard<std::mutex> lock(mutex_);
  StreamMetrics& slot = StreamSlot(&streams_, stream);
  slot.rows_read += rows;
  slot.bytes_read += bytes;
}

void JobMetrics::OnStreamWritten(int stream, uint64_t rows, uint64_t bytes) {
  std::lock_guard<std::mutex> lock(mutex_);
  StreamMetrics& slot = StreamSlot(&streams_, stream);
  slot.rows_written += rows;
  slot.bytes_written += bytes;
}

void JobMetrics::SetStreamNames(std::vector<std::string> names) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (streams_.size() < names.size())
    streams_.resize(names.size());
  for (size_t i = 0; i < names.size(); ++i)
    streams_[i].stream = std::move(names[i]);
}

std::vector<StreamMetrics> JobMetrics::StreamSnapshot() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return streams_;
}

void JobMetrics::NoteFailureSite(FailureOrigin origin, int stream) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (!failure_site_)
    failure_site_ = FailureSite{origin, stream};
}

FailureSite JobMetrics::failure_site() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return failure_site_.value_or(FailureSite{});
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
  s.first_row_time_us = first_row_time_us_.load(std::memory_order_relaxed);
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
