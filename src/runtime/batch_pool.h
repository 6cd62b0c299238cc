// BatchPool: a free list of batches of one schema, so that a job in steady state allocates no
// batches: readers take one, writers give it back once written.
//
// Thread-safe: Get() and Put() may be called from any thread.
#pragma once

#include <cstddef>
#include <memory>
#include <mutex>
#include <vector>

#include "core/batch.h"
#include "core/schema.h"

namespace sluice::runtime {

class BatchPool {
 public:
  /// Batches of `schema` holding up to `capacity` rows.
  BatchPool(SchemaPtr schema, size_t capacity) : schema_(std::move(schema)), capacity_(capacity) {}

  /// An empty batch of stream `stream`: a returned one, else a new one.
  std::unique_ptr<Batch> Get(int stream);
  /// Takes `batch` back, cleared.
  void Put(std::unique_ptr<Batch> batch);

 private:
  SchemaPtr schema_;
  size_t capacity_;
  std::mutex mutex_;
  std::vector<std::unique_ptr<Batch>> free_;  // guarded by mutex_
};

}  // namespace sluice::runtime
