// What verification compares: how one stream's rows are bucketed (StreamPlan, the same for both
// sides) and what one side produced for one stream (SideDigest: a row count and a sum of row
// hashes per bucket, then the rows of the differing buckets).
//
// Thread-safety: SideDigest's counters are atomics and Collect() locks, so the readers of one
// side may fold rows into it at once; the rest is read after they finished.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "connectors/store_digest.h"

namespace sluice::verify {

// How one stream's rows are bucketed and rendered; both sides use the same plan.
struct StreamPlan {
  // Positions of the key fields in the reference schema; empty for keyless streams.
  std::vector<size_t> key;
  size_t buckets = 4096;
  std::optional<connectors::DigestKeyRange> range;
};

// What one side of the comparison produced for one stream.
struct SideDigest {
  explicit SideDigest(size_t buckets) : counts(buckets), sums(buckets) {}
  std::vector<std::atomic<uint64_t>> counts;
  std::vector<std::atomic<uint64_t>> sums;
  std::atomic<uint64_t> rows{0};
  // Second pass: the rows of the differing buckets, key text -> row texts.
  std::mutex mutex;
  std::multimap<std::string, std::string> collected;  // guarded by mutex

  void Set(const std::vector<connectors::BucketDigest>& digests) {
    uint64_t total = 0;
    for (size_t b = 0; b < digests.size() && b < counts.size(); ++b) {
      counts[b] = digests[b].rows;
      sums[b] = digests[b].sum;
      total += digests[b].rows;
    }
    rows = total;
  }
  void Collect(std::string_view key, std::string_view row) {
    std::lock_guard<std::mutex> lock(mutex);
    collected.emplace(std::string(key), std::string(row));
  }
};

}  // namespace sluice::verify
