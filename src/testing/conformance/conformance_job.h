// Jobs of the conformance suite: built from YAML text, run in-process with JobRunner, stopped
// at a batch, killed in a forked child at a failpoint, and a sink's target read back as rows.
// Stores (ConformanceStore) use these too, to seed a source through a sink. Test-only; call
// from the test's main thread.
#pragma once

#include <atomic>
#include <string>
#include <vector>

#include "config/job_config.h"
#include "connectors/registry.h"
#include "core/result.h"
#include "runtime/job_runner.h"
#include "testing/memory_connector.h"

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

/// Runs the job to its end or until `*stop` (`fresh`: as `sluice run --fresh`).
runtime::JobSummary RunJob(const JobSpec& spec, const connectors::ConnectorRegistry& registry,
                           bool fresh = false, const std::atomic<bool>* stop = nullptr);

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

/// `rows` sorted, for comparisons that ignore order.
std::vector<Row> Sorted(std::vector<Row> rows);

/// "'text'" with quotes doubled: a YAML single-quoted scalar.
std::string YamlQuoted(const std::string& text);

}  // namespace sluice::testing::conformance
