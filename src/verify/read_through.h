// The read-through side of verification: reads one side (the job's source after its transform,
// or a target through the source its connector registers for reading it back) with a job of its
// own whose sink folds the rows into SideDigests, in the canonical text of the reference types.
// Used for every side whose store cannot compute the digests itself (store_side.h).
//
// Thread-safety: ReadSide() blocks until the read ends; its writers fold rows into the digests
// from the job's writer threads.
#pragma once

#include <atomic>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "config/job_config.h"
#include "connectors/registry.h"
#include "core/schema.h"
#include "verify/side_digest.h"

namespace sluice::verify {

// The shared state of one read of one side through Sluice: the reference schemas rows are
// normalised to, and where each stream's digest goes.
struct DigestTarget {
  std::vector<SchemaPtr> reference;                   // by reference stream
  std::vector<std::unique_ptr<SideDigest>>* digests;  // by reference stream
  std::vector<StreamPlan> plans;                      // by reference stream
  /// Incoming stream index -> reference stream index (-1: not digested in this read).
  std::vector<int> stream_map;
  /// Second pass: collect only these buckets (empty: first pass, digests only).
  std::vector<std::set<size_t>> collect;
};

/// Reads `source` (with the job's transform when `with_transform`) into `target`'s digests with
/// a job of its own, whose state lives in `state_dir`.
Status ReadSide(const config::JobConfig& job, const connectors::ConnectorRegistry& connectors,
                const config::ConnectorBlock& source, bool with_transform,
                std::shared_ptr<DigestTarget> target, const std::string& state_dir,
                const std::atomic<bool>* stop);

}  // namespace sluice::verify
