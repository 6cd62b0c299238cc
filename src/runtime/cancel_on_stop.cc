#include "runtime/cancel_on_stop.h"

#include <chrono>

namespace sluice::runtime {

CancelOnStop::CancelOnStop(std::function<bool()> stopping, double timeout_secs,
                           std::function<void()> cancel)
    : stopping_(std::move(stopping)), timeout_secs_(timeout_secs), cancel_(std::move(cancel)) {
  if (stopping_)
    thread_ = std::thread([this] { Watch(); });
}

CancelOnStop::CancelOnStop(const std::atomic<bool>* stop, double timeout_secs,
                           std::function<void()> cancel)
    : CancelOnStop(stop == nullptr ? std::function<bool()>()
                                   : std::function<bool()>([stop] { return stop->load(); }),
                   timeout_secs, std::move(cancel)) {}

CancelOnStop::~CancelOnStop() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    ended_ = true;
  }
  ended_cv_.notify_all();
  if (thread_.joinable())
    thread_.join();
}

void CancelOnStop::Watch() {
  using Clock = std::chrono::steady_clock;
  std::unique_lock<std::mutex> lock(mutex_);
  // The stop flag has no condition variable of its own: look at it every 50 ms.
  while (!ended_ && !stopping_())
    ended_cv_.wait_for(lock, std::chrono::milliseconds(50));
  const Clock::time_point deadline =
      Clock::now() +
      std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(timeout_secs_));
  if (ended_cv_.wait_until(lock, deadline, [&] { return ended_; }))
    return;
  while (!ended_) {
    cancelled_.store(true);
    lock.unlock();
    cancel_();
    lock.lock();
    ended_cv_.wait_for(lock, std::chrono::seconds(1), [&] { return ended_; });
  }
}

}  // namespace sluice::runtime
