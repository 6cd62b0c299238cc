// SplitQueue: a SplitEnumerator over a list of splits planned up front, the common case for
// bounded sources (files, table chunks). Splits are handed out in order; splits cut from running
// readers go to the front so that the tail of a big split is picked up first.
//
// Thread-safe.
#pragma once

#include <deque>
#include <mutex>
#include <vector>

#include "connectors/api.h"

namespace sluice::connectors {

class SplitQueue final : public SplitEnumerator {
 public:
  explicit SplitQueue(std::vector<Split> splits) : splits_(splits.begin(), splits.end()) {}

  Result<std::optional<Split>> Next() override {
    std::lock_guard<std::mutex> lock(mutex_);
    if (splits_.empty())
      return std::optional<Split>();
    Split split = std::move(splits_.front());
    splits_.pop_front();
    return std::optional<Split>(std::move(split));
  }
  void Add(Split split) override {
    std::lock_guard<std::mutex> lock(mutex_);
    splits_.push_front(std::move(split));
  }
  size_t pending() const override {
    std::lock_guard<std::mutex> lock(mutex_);
    return splits_.size();
  }

 private:
  mutable std::mutex mutex_;
  std::deque<Split> splits_;  // guarded by mutex_
};

}  // namespace sluice::connectors
