// BoundedChannel: a fixed-capacity multi-producer multi-consumer queue between readers and
// writers. A full channel blocks producers, which is how a slow sink slows the sources down
// (backpressure) and keeps memory bounded whatever the input size.
//
// Thread-safe. Close() wakes everyone: Push then fails, Pop drains what is left, then fails.
// Control items (PushControl) never wait for room, so the channel holds at most its capacity plus
// the control items in flight.
#pragma once

#include <condition_variable>
#include <deque>
#include <mutex>
#include <optional>

namespace sluice::runtime {

template <typename T>
class BoundedChannel {
 public:
  explicit BoundedChannel(size_t capacity) : capacity_(capacity) {}

  /// Blocks while full. Returns false (and drops nothing: `item` is left unmoved) when closed.
  bool Push(T& item) {
    std::unique_lock<std::mutex> lock(mutex_);
    not_full_.wait(lock, [&] { return closed_ || items_.size() < capacity_; });
    if (closed_)
      return false;
    items_.push_back(std::move(item));
    not_empty_.notify_one();
    return true;
  }

  /// Queues a control item (a checkpoint marker) behind what is queued, without waiting for room:
  /// producers blocked on a full channel would otherwise win every freed place before it, and
  /// with a slow consumer the checkpoint would wait for the end of the input. Returns false
  /// when closed.
  bool PushControl(T& item) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (closed_)
      return false;
    items_.push_back(std::move(item));
    not_empty_.notify_one();
    return true;
  }

  /// Blocks while empty and open. Returns nullopt once closed and drained.
  std::optional<T> Pop() {
    std::unique_lock<std::mutex> lock(mutex_);
    not_empty_.wait(lock, [&] { return closed_ || !items_.empty(); });
    if (items_.empty())
      return std::nullopt;
    T item = std::move(items_.front());
    items_.pop_front();
    not_full_.notify_one();
    return item;
  }

  void Close() {
    std::lock_guard<std::mutex> lock(mutex_);
    closed_ = true;
    not_full_.notify_all();
    not_empty_.notify_all();
  }

  size_t size() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return items_.size();
  }

 private:
  const size_t capacity_;
  mutable std::mutex mutex_;
  std::condition_variable not_full_;
  std::condition_variable not_empty_;
  std::deque<T> items_;  // guarded by mutex_
  bool closed_ = false;  // guarded by mutex_
};

}  // namespace sluice::runtime
