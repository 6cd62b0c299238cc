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

#include <functional>
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

/// `errors:`: what a bad record (an unparsable value, a row the target refuses) does.
struct ErrorPolicy {
  enum class Mode { kFail, kSkip, kDeadLetter };
  Mode mode = Mode::kFail;
  /// skip/dead_letter: the job fails once more than this many records were bad (0 = no limit).
  uint64_t max_count = 0;
  /// skip/dead_letter: the job fails once bad records exceed this share of the rows read
  /// (checked after the first 1000 rows; 0 = no limit).
  double max_ratio = 0;
  /// dead_letter: a JSON Lines file receiving each bad record with its location and reason.
  std::string dead_letter_path;
};

/// `retry:`: transient failures (a lost connection, a restarted server, a deadlock) resume the
/// job from its last checkpoint after an exponential backoff with jitter.
struct RetryPolicy {
  int max_attempts = 5;  // retries after the first attempt; 0 = fail at once
  double initial_backoff_secs = 1;
  double max_backoff_secs = 60;
};

/// `schedule:` (read by `sluice server`; `sluice run` runs the job once whatever it says).
struct ScheduleConfig {
  std::string cron;       // "0 2 * * *", "@hourly", "@every 30s"; "" = on trigger only
  std::string time_zone;  // IANA name; "" = UTC
  std::vector<std::string> after;  // jobs whose success triggers this one
  Mark mark;
};

/// Finds a named connection (the server's catalog) for `source: { connection: NAME }`: returns
/// the connection's block (`type` and options). `reference` is the scalar naming it, for errors.
using ConnectionResolver =
    std::function<Result<Node>(const std::string& name, const Node& reference)>;

struct JobConfig {
  std::string name;
  std::string origin;  // the job file path
  ConnectorBlock source;
  ConnectorBlock sink;
  std::optional<TransformConfig> transform;
  int parallelism = 1;
  int batch_rows = 4096;
  /// `delivery:` exactly_once (default) or at_least_once.
  bool exactly_once = true;
  /// `checkpoint: { interval_secs }`: 0 = only at the end (no resume from the middle).
  double checkpoint_interval_secs = 10;
  /// `checkpoint: { stop_timeout_secs }`: after a stop request, how long the final checkpoint
  /// may take before the writers' blocked calls are cancelled (SinkWriter::Cancel).
  double stop_timeout_secs = 10;
  /// `state:` directory of the state store ("" = the default, see StatePath in runtime).
  std::string state_dir;
  ErrorPolicy errors;
  RetryPolicy retry;
  /// `verify: true`: compare source and target after a batch job.
  bool verify = false;
  /// `run_lease_secs`: a run renews its hold on the job every third of this; one that stopped
  /// renewing it this long (frozen, or cut off) may be taken over by another run.
  double run_lease_secs = 30;
  /// A digest of what defines the job's data (source, transform, sink; secrets and tuning
  /// left out): a resume is refused when it changed.
  std::string fingerprint;
  std::optional<ScheduleConfig> schedule;
  /// The connections the source and sink blocks name (`connection:`), in that order.
  std::vector<std::string> connections;
  std::string source_connection;  // "" when the source block names none
  std::string sink_connection;
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
/// Same, resolving `connection:` in the source and sink blocks through `resolver` (the block's
/// own keys win over the connection's). Without a resolver a `connection:` key is an error.
Result<JobConfig> LoadJobText(std::string_view text, std::string origin,
                              const std::vector<std::string>& overrides,
                              const ConnectionResolver& resolver);
/// Parses a `schedule:` node (also used by the server to check it).
Result<ScheduleConfig> ReadSchedule(const Node& node);

}  // namespace sluice::config
