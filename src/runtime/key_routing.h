// Changelog routing by key: the rows of a changelog batch go to writers by a hash of their key,
// so that one key's changes always reach the same writer, in order (as Flink's keyed upsert
// sinks keep them). The pipeline pushes the parts of one batch as one step against checkpoint
// markers (CheckpointCoordinator::BeginRoutedPush).
//
// A plain function; thread-safe as long as `pool` is (BatchPool is).
#pragma once

#include <cstddef>
#include <memory>
#include <span>
#include <vector>

#include "core/batch.h"
#include "runtime/batch_pool.h"

namespace sluice::runtime {

/// Splits the rows of `batch` into one batch per writer (`writers` of them) by a hash of the
/// text of its `key` columns (a NULL counts as a value), keeping the rows' order and kinds. Parts
/// come from `pool`; a writer that gets no row gets a null part.
std::vector<std::unique_ptr<Batch>> RouteByKey(const Batch& batch, std::span<const int> key,
                                               size_t writers, BatchPool& pool);

}  // namespace sluice::runtime
