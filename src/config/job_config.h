// JobConfig: a job file read, substituted, overridden and checked at the job level.
//
// The source and sink blocks stay as Nodes here: their options are validated against the
// connector's own option table once the registry has found the connector by its `type:`.
//
// Job file shape (see README, "Job files"):
//   name: orders_to_sqlite
//   source: { type: file, path: "data/*.csv.gz", format: csv }
//   transform: { columns: { id: id, amount: "amount::decimal(12,2)" } }
//   sink: { type: sqlite, path: out/shop.db, table: orders }
//   parallelism: 2
#pragma once

#include <optional>
#include <span>
#include <string>
#include <vector>

#include "config/node.h"
#include "config/options.h"
#include "core/types.h"

namespace sluice::config {

/// One output column of the `transform:` block: `output: "input::type"`.
struct ColumnMapping {
  std::string output;
  std::string input;
  std::optional<DataType> cast;
  Mark mark;
};

struct TransformConfig {
  std::vector<ColumnMapping> columns;
};

/// A `source:` or `sink:` block: the connector type and its remaining options.
struct ConnectorBlock {
  std::string type;
  Mark type_mark;
  Node options;  // the block without `type`
};

struct JobConfig {
  std::string name;
  std::string origin;  // the job file path
  ConnectorBlock source;
  ConnectorBlock sink;
  std::optional<TransformConfig> transform;
  int parallelism = 1;
  int batch_rows = 4096;
  Node root;  // the whole substituted tree, for later sections
};

/// The job-level option table (shown by `sluice connectors` and in the README).
std::span<const OptionSpec> JobOptionTable();

/// Reads `path`, substitutes ${VAR}, applies `overrides` ("sink.table=x") and validates the
/// job-level keys.
Result<JobConfig> LoadJobFile(const std::string& path, const std::vector<std::string>& overrides);
/// Same from text already in memory; `origin` names it in errors.
Result<JobConfig> LoadJobText(std::string_view text, std::string origin,
                              const std::vector<std::string>& overrides);

}  // namespace sluice::config
