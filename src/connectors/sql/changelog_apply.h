// Applying a changelog by primary key (`mode: apply` of the SQL sinks): which rows of a batch
// become upserts and which deletes, once each key's changes are folded into its last one.
//
// Rules, the same in every sink: insert and update_after put the row (insert or replace by key,
// so that applying again after a resume is idempotent); delete removes the key (a missing row is
// fine); update_before is ignored when the update_after right after it has the same key, and
// otherwise deletes its key (an update that changed the key: the old key goes). Within a batch
// only a key's last change counts, so upserts and deletes touch disjoint keys and may run as two
// set-wise statements in either order; batches are applied in order, so across batches (and
// commits) a key's later change wins as well.
//
// Thread-safety: ApplyPlanner is used by one writer thread.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/batch.h"
#include "core/status.h"

namespace sluice::connectors::sql {

/// The rows of one batch to write, in batch order.
struct ApplyPlan {
  /// Rows whose key ends up holding them.
  std::vector<uint32_t> upserts;
  /// Rows whose key ends up absent (their values but the key's are irrelevant).
  std::vector<uint32_t> deletes;
};

/// Folds a batch's changes per key. Keeps its scratch space between batches.
class ApplyPlanner {
 public:
  /// `key`: indexes of the key columns in the batches to come.
  explicit ApplyPlanner(std::vector<int> key) : key_(std::move(key)) {}

  /// Plans `batch` (inserts only, or a changelog) into `plan` (cleared first).
  void Plan(const Batch& batch, ApplyPlan* plan);

 private:
  bool SameKey(const Batch& batch, size_t a, size_t b) const;
  // Appends row `row`'s key, unambiguously, to `out`.
  void EncodeKey(const Batch& batch, size_t row, std::string* out) const;

  std::vector<int> key_;
  std::string scratch_;
  // Encoded key -> the row of its last change.
  std::unordered_map<std::string, uint32_t> last_;
  std::vector<uint8_t> action_;  // per row: 0 none, 1 upsert, 2 delete
};

/// Appends the rows `rows` of `from` to `to` (same physical schema) with their kinds.
void CopyRows(const Batch& from, const std::vector<uint32_t>& rows, Batch* to);

/// The refusal of a changelog stream by a mode that cannot apply it (`sink`: "postgres",
/// `mode`: "append").
Status ChangelogNeedsApplyMode(std::string_view sink, std::string_view stream,
                               std::string_view mode);
/// The refusal of `mode: apply` for `table` (as the sink names it), which has no primary key.
Status ApplyNeedsPrimaryKey(std::string_view sink, std::string_view table);

}  // namespace sluice::connectors::sql
