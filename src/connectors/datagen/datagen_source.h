// DatagenSource: synthetic rows for demos, benchmarks and volume tests (like Flink's datagen).
//
// Every value is a pure function of (seed, column, row number), so any split can be regenerated
// anywhere, in any order, and a resumed or re-cut split yields exactly the same rows. A column
// named `id` of an integer type counts 1, 2, 3, ... and is the primary key.
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

  static Result<DatagenOptions> FromOptions(const config::Options& options);
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
