// DatagenSource: synthetic rows for demos, benchmarks and volume tests (like Flink's datagen).
//
// Every value is a pure function of (seed, column, row number), so any split can be regenerated
// anywhere, in any order, and a resumed or re-cut split yields exactly the same rows. A column
// named `id` of an integer type counts 1, 2, 3, ... and is the primary key.
//
// With `changelog` the stream is a changelog (StreamInfo::changelog): each of the `rows` events
// changes one key of 1..`keys` (README.md describes the mix). Whether a key is present after its
// n-th change is a pure function of (seed, key, n), so every event, and the before image of an
// update or delete, is computed without replaying history. Split s of S owns the keys k with
// (k - 1) % S == s, so splits read in parallel never touch the same key; splits are not cut.
//
// Thread-safety: the source is used by the coordinator; each reader by one thread, except
// SplitRemainder/Progress which are thread-safe.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "config/options.h"
#include "connectors/api.h"

namespace sluice::connectors::datagen {

struct DatagenOptions {
  /// Rows to generate.
  uint64_t rows = 0;
  uint64_t seed = 42;
  /// Fraction of NULLs in nullable columns (all but `id`).
  double null_fraction = 0.05;
  uint64_t split_rows = 100000;
  std::string stream = "generated";
  /// Empty: the default order-like columns.
  std::vector<Field> columns;
  /// Emit a changelog (inserts, updates as update_before + update_after, deletes) instead of
  /// inserts; `rows` then counts changes.
  bool changelog = false;
  /// Changelog: the key space, ids 1..keys (a key-changing update moves a row above it).
  uint64_t keys = 1000;

  static Result<DatagenOptions> FromOptions(const config::Options& options);
  /// Changelog mode: an integer `id` column, and at least one key per split.
  Status ValidateChangelog() const;
};

class DatagenSource final : public Source {
 public:
  explicit DatagenSource(DatagenOptions options);

  Status Open(const JobContext& context) override;
  const std::vector<StreamInfo>& streams() const override { return streams_; }
  Result<std::unique_ptr<SplitEnumerator>> CreateEnumerator() override;
  Result<std::unique_ptr<SplitReader>> CreateReader(const Split& split,
                                                    const std::string& position) override;

 private:
  DatagenOptions options_;
  const JobContext* context_ = nullptr;
  std::vector<StreamInfo> streams_;
};

/// The option table shown by `sluice connectors datagen`.
const std::vector<config::OptionSpec>& DatagenSourceOptions();

}  // namespace sluice::connectors::datagen
