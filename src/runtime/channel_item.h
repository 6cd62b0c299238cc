// ChannelItem: what travels from a reader to a writer through a BoundedChannel.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "connectors/api.h"
#include "core/batch.h"

namespace sluice::runtime {

/// A batch with the position of its split after it, the end of a split, or a checkpoint marker.
struct ChannelItem {
  std::unique_ptr<Batch> batch;  // null for an end-of-split or a marker
  std::string split_id;
  std::string position;
  bool split_done = false;
  uint64_t checkpoint = 0;  // non-zero: a checkpoint marker
  /// A batch of a split routed by key: its progress travels in the markers instead.
  bool routed = false;
  /// A marker's progress of the splits whose rows are routed to several writers (changelog
  /// streams), as of the marker: every writer commits these same positions at this checkpoint.
  std::shared_ptr<const std::vector<connectors::SplitProgress>> routed_progress;
};

}  // namespace sluice::runtime
