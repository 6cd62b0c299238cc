// Naming what differs: which differing buckets are fetched again (a bounded number of rows), and
// the comparison of their rows that fills a StreamReport with missing, extra and different keys
// and the differing keys folded into key ranges ("id 5..9 (5 rows)").
//
// Plain functions; thread-safe.
#pragma once

#include <cstddef>
#include <set>

#include "core/schema.h"
#include "verify/side_digest.h"
#include "verify/verifier.h"

namespace sluice::verify {

/// Differing buckets, in order, until their rows reach `max_rows` (at least one bucket); sets
/// `truncated` when some were left out.
std::set<size_t> NarrowedBuckets(const SideDigest& a, const SideDigest& b,
                                 const std::set<size_t>& differing, size_t max_rows,
                                 bool* truncated);

/// Compares the collected rows of one stream and fills the report's differences.
void CompareCollectedRows(const Schema& schema, const StreamPlan& plan, const SideDigest& source,
                          const SideDigest& target, const VerifyOptions& options,
                          StreamReport* stream);

}  // namespace sluice::verify
