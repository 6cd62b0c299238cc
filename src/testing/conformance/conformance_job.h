// Jobs of the conformance suite: built from YAML text, run in-process with JobRunner, stopped
// at a batch, killed in a forked child at a failpoint, and a sink's target read back as rows.
// Stores (ConformanceStore) use these too, to seed a source through a sink. Test-only; call
// from the test's main thread.
#pragma once

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "config/job_config.h"
#include "connectors/registry.h"
#include "core/result.h"
#include "runtime/job_runner.h"
#include "testing/memory_connector.h"
#include "testing/temp_dir.h"

namespace sluice::testing::conformance {

/// A job of the suite. Blocks are YAML flow maps with `type:`.
struct JobSpec {
  std::string name = "conformance";
  std::string source;
  std::string sink;
  /// The state directory (a TempDir of the case).
  std::string state;
  int parallelism = 2;
  size_t batch_rows = 50;
  /// 0: no timed checkpoints, only those a stop or the crash loop asks for.
  double checkpoint_secs = 0;
  /// Job-level YAML lines ("delivery: at_least_once\n").
  std::string extra;
};

Result<config::JobConfig> MakeJob(const JobSpec& spec);

/// The source cases' sink: table `table` of the SQLite database in `out` (exactly-once, and its
/// file outlives the crash loop's children), in `mode` (append, overwrite or apply).
std::string SqliteSink(const TempDir& out, const std::string& table,
                       std::string_view mode = "append");

/// A job of the source cases: `source` into `sink`, state in `state`, named after `name`.
JobSpec SourceJob(const std::string& source, const std::string& sink, const TempDir& state,
                  const std::string& name);

/// Runs the job to its end or until `*stop` (`fresh`: as `sluice run --fresh`).
runtime::JobSummary RunJob(const JobSpec& spec, const connectors::ConnectorRegistry& registry,
                           bool fresh = false, const std::atomic<bool>* stop = nullptr);

/// A job running on a thread of its own until Stop(): how the stream cases run an unbounded
/// source. Not thread-safe: drive it from the test's main thread.
class BackgroundJob {
 public:
  BackgroundJob(const JobSpec& spec, const connectors::ConnectorRegistry& registry);
  /// Stops the job and waits for it, if Stop() was not called.
  ~BackgroundJob();
  BackgroundJob(const BackgroundJob&) = delete;
  BackgroundJob& operator=(const BackgroundJob&) = delete;

  /// Waits until the sink committed at least `rows` rows in this run (its metrics), or
  /// `timeout` passed, or the job ended; returns whether it committed them.
  bool WaitForCommitted(uint64_t rows, std::chrono::seconds timeout) const;
  /// Whether the job still runs.
  bool running() const;
  /// Asks the job to stop, as SIGINT and SIGTERM do (its stop token), and waits for its end.
  runtime::JobSummary Stop();

 private:
  std::unique_ptr<runtime::JobRunner> runner_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> ended_{false};
  runtime::JobSummary summary_;
  std::thread thread_;
};

/// The progress the sink of `spec` committed with its rows (Sink::RecoverProgress, for a job of
/// `delivery`), by split id.
Result<std::map<std::string, std::string>> CommittedProgress(
    const JobSpec& spec, const connectors::ConnectorRegistry& registry,
    connectors::DeliveryGuarantee delivery = connectors::DeliveryGuarantee::kExactlyOnce);

/// Runs the job, which stops as SIGINT stops it when its readers push their `batch`-th batch.
runtime::JobSummary RunStoppedAtBatch(const JobSpec& spec,
                                      const connectors::ConnectorRegistry& registry,
                                      uint64_t batch);

/// Runs the job in a forked child armed with failpoints `plan` ("runtime.finish.after=crash@1");
/// returns true when the child died of SIGKILL there, false (with a test failure) otherwise.
bool RunKilledAt(const JobSpec& spec, const connectors::ConnectorRegistry& registry,
                 const std::string& plan);

/// The rows the target of `sink_block` holds for `stream` (of `schema`, after the transform),
/// read through the source its connector registers as read_back, sorted.
Result<std::vector<Row>> ReadBack(const connectors::ConnectorRegistry& registry,
                                  const std::string& sink_block, const SchemaPtr& schema,
                                  const std::string& stream = "orders");

/// Writes `rows` (OrdersSchema()) through `sink_block` with an at_least_once job from the memory
/// source: how a store seeds a source of its own kind.
Status SeedThroughSink(const connectors::ConnectorRegistry& registry,
                       const std::string& sink_block, const std::vector<Row>& rows);

/// "key: value" lines (a store's connection block, say) as the entries of a YAML flow map:
/// "key: value, key: value", to put inside a job's `{type: ..., ...}` block.
std::string YamlLinesAsFlow(const std::string& lines);

/// The ids (first column) of the rows that occur more than once.
std::vector<std::string> Duplicates(const std::vector<Row>& rows);

/// `rows` sorted, for comparisons that ignore order.
std::vector<Row> Sorted(std::vector<Row> rows);

/// What tells `held` from `expected` apart, by id (the first column), for a failure message:
/// the counts, ids missing, ids held too often, ids held with other values (ten of each).
std::string RowsDiff(const std::vector<Row>& held, const std::vector<Row>& expected);

/// "'text'" with quotes doubled: a YAML single-quoted scalar.
std::string YamlQuoted(const std::string& text);

}  // namespace sluice::testing::conformance
