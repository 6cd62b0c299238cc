// Ends calls blocked in a store when the job is asked to stop: a lock that someone else holds,
// a server that stopped answering. While a CancelOnStop lives, a thread watches `stopping`; once
// it has been true for `timeout_secs` (time for the call to end on its own: a final checkpoint, a
// table's setup), `cancel` is called, then again every second until the CancelOnStop is
// destroyed (a cancel may land between two statements).
#pragma once

#include <atomic>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>

namespace sluice::runtime {

class CancelOnStop {
 public:
  /// `stopping` is polled (stop flags have no condition variable); a null one never stops.
  CancelOnStop(std::function<bool()> stopping, double timeout_secs, std::function<void()> cancel);
  /// Watches a stop flag (may be null).
  CancelOnStop(const std::atomic<bool>* stop, double timeout_secs, std::function<void()> cancel);
  ~CancelOnStop();
  CancelOnStop(const CancelOnStop&) = delete;
  CancelOnStop& operator=(const CancelOnStop&) = delete;

  /// Whether `cancel` was called.
  bool cancelled() const { return cancelled_.load(); }

 private:
  void Watch();

  std::function<bool()> stopping_;
  const double timeout_secs_;
  std::function<void()> cancel_;
  std::atomic<bool> cancelled_{false};
  std::mutex mutex_;
  std::condition_variable ended_cv_;
  bool ended_ = false;  // guarded by mutex_
  std::thread thread_;
};

}  // namespace sluice::runtime
