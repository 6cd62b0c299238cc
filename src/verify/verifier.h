// Verifier: `sluice verify JOB` and `verify: true` — compares what a job's source holds (after
// its transform) with what its sink's target holds, stream by stream.
//
// Each side is reduced to per-bucket digests (a row count and a sum of row hashes per bucket;
// connectors/store_digest.h defines them). Buckets are key ranges when the key is a single
// integer column (bounds from the source), else hash buckets of the key. A side whose store can
// compute the digests (MySQL, PostgreSQL: Source::digester()) does so in SQL, and only the
// bucket totals cross the network; any other side (SQLite, files, a column SQL cannot render
// canonically, a transform that casts) is read through Sluice's own connectors (the target
// through the source its connector registers for reading it back, ConnectorInfo::read_back) and
// digested here. Both ways give the same digests for the same values. Only when buckets differ
// are the rows of those buckets fetched (by key range where buckets are key ranges), within a
// bound, to name the differing keys and key ranges.
//
// Values are compared in canonical form despite type differences between stores: each side's
// value is rendered as the reference column's logical type (a MySQL BOOLEAN read back as 1 is
// true; a PostgreSQL numeric(20,0) is a uint64 again; a DATETIME holding UTC is a
// timestamp_tz), so a mapping that keeps values keeps digests.
//
// Thread-safety: Verify() is called from one thread; it runs its own reader threads.
#pragma once

#include <atomic>
#include <string>
#include <vector>

#include "config/job_config.h"
#include "connectors/registry.h"

namespace sluice::verify {

struct StreamReport {
  std::string stream;
  std::string target;  // the target table or file pattern
  uint64_t source_rows = 0;
  uint64_t target_rows = 0;
  bool match = true;
  /// Up to VerifyOptions::max_examples of each, as "key=value" descriptions.
  std::vector<std::string> missing_in_target;
  std::vector<std::string> extra_in_target;
  std::vector<std::string> different;  // "id=7: amount '1.50' in the source, '1.5' in the target"
  /// The differing keys folded into ranges ("id 5..9 (3 rows)").
  std::vector<std::string> differing_ranges;
  /// How each side was digested: "in mysql" (SQL on the server) or "read through sluice: why".
  std::string source_method;
  std::string target_method;
  uint64_t missing_count = 0;
  uint64_t extra_count = 0;
  uint64_t different_count = 0;
};

struct VerifyReport {
  bool match = true;
  std::vector<StreamReport> streams;
  double seconds = 0;
};

struct VerifyOptions {
  size_t buckets = 4096;
  size_t max_examples = 10;
  /// Rows of differing buckets fetched per side for the report: buckets are narrowed down
  /// until about this many rows; the rest of the differences are only counted.
  size_t max_collected_rows = 200000;
  /// False: read every side through Sluice (tests compare both ways).
  bool push_down = true;
};

/// Compares the job's source and target. A mismatch is a report with match == false, not an
/// error; errors are for what prevents the comparison (unreachable server, missing table, a
/// table without a usable key is fine: rows are then compared as a multiset).
Result<VerifyReport> Verify(const config::JobConfig& job,
                            const connectors::ConnectorRegistry& registry,
                            const std::atomic<bool>* stop, VerifyOptions options = {});

}  // namespace sluice::verify
