// Bad-record handlers and job contexts for tests that drive a source or sink directly.
#pragma once

#include <atomic>
#include <mutex>
#include <vector>

#include "connectors/api.h"

namespace sluice::testing {

/// Keeps every bad record, then skips it (`skip`) or fails with its reason as `errors: fail`
/// does. Thread-safe.
class RecordingBadRecords : public connectors::BadRecordHandler {
 public:
  explicit RecordingBadRecords(bool skip) : skip_(skip) {}
  Status Handle(const connectors::BadRecord& record) override {
    std::lock_guard<std::mutex> lock(mutex_);
    records_.push_back(record);
    return skip_ ? Status::OK() : record.reason;
  }
  std::vector<connectors::BadRecord> records() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return records_;
  }

 private:
  const bool skip_;
  mutable std::mutex mutex_;
  std::vector<connectors::BadRecord> records_;
};

/// Keeps each bad record and fails with its reason, so that the first one stops the job.
class RecordAndFail final : public RecordingBadRecords {
 public:
  RecordAndFail() : RecordingBadRecords(false) {}
};

/// Keeps each bad record and skips it.
class RecordAndSkip final : public RecordingBadRecords {
 public:
  RecordAndSkip() : RecordingBadRecords(true) {}
};

/// A JobContext over `handler`, never cancelled unless `cancelled` is given.
inline connectors::JobContext MakeTestContext(connectors::BadRecordHandler* handler,
                                              const std::atomic<bool>* cancelled = nullptr,
                                              int parallelism = 1,
                                              size_t batch_rows = Batch::kDefaultCapacity) {
  static const std::atomic<bool> kNeverCancelled{false};
  connectors::JobContext context;
  context.job_name = "test";
  context.parallelism = parallelism;
  context.batch_rows = batch_rows;
  context.cancelled = cancelled != nullptr ? cancelled : &kNeverCancelled;
  context.bad_records = handler;
  return context;
}

}  // namespace sluice::testing
