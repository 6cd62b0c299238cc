#include "runtime/batch_pool.h"

namespace sluice::runtime {

std::unique_ptr<Batch> BatchPool::Get(int stream) {
  std::unique_ptr<Batch> batch;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (!free_.empty()) {
      batch = std::move(free_.back());
      free_.pop_back();
    }
  }
  if (!batch)
    batch = std::make_unique<Batch>(schema_, capacity_);
  batch->set_stream(stream);
  return batch;
}

void BatchPool::Put(std::unique_ptr<Batch> batch) {
  batch->Clear();
  std::lock_guard<std::mutex> lock(mutex_);
  free_.push_back(std::move(batch));
}

}  // namespace sluice::runtime
