#include "testing/conformance/conformance_job.h"

#include <fmt/core.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>

#include "core/failpoint.h"
#include "core/logging.h"
#include "testing/conformance/conformance.h"
#include "testing/stop_at_batch.h"
#include "testing/temp_dir.h"

namespace sluice::testing::conformance {

std::string YamlQuoted(const std::string& text) {
  std::string out = "'";
  for (char c : text) {
    if (c == '\'')
      out += '\'';
    out += c;
  }
  return out + "'";
}

Result<config::JobConfig> MakeJob(const JobSpec& spec) {
  std::string text = fmt::format(
      "name: {}\nsource: {}\nsink: {}\nparallelism: {}\nbatch_rows: {}\nstate: {}\n"
      "checkpoint: {{interval_secs: {}}}\n"
      "retry: {{max_attempts: 3, initial_backoff_secs: 0.01, max_backoff_secs: 0.05}}\n{}",
      spec.name, spec.source, spec.sink, spec.parallelism, spec.batch_rows,
      YamlQuoted(spec.state), spec.checkpoint_secs, spec.extra);
  return config::LoadJobText(text, "conformance.yaml", {});
}

runtime::JobSummary RunJob(const JobSpec& spec, const connectors::ConnectorRegistry& registry,
                           bool fresh, const std::atomic<bool>* stop) {
  Result<config::JobConfig> job = MakeJob(spec);
  if (!job.ok()) {
    runtime::JobSummary summary;
    summary.status = job.status();
    return summary;
  }
  runtime::RunOptions options;
  options.fresh = fresh;
  return runtime::JobRunner(std::move(*job), registry, options).Run(stop);
}

runtime::JobSummary RunStoppedAtBatch(const JobSpec& spec,
                                      const connectors::ConnectorRegistry& registry,
                                      uint64_t batch) {
  StopAtBatch stop(batch);
  return RunJob(spec, registry);
}

bool RunKilledAt(const JobSpec& spec, const connectors::ConnectorRegistry& registry,
                 const std::string& plan) {
  pid_t child = fork();
  if (child < 0) {
    ADD_FAILURE() << "fork failed";
    return false;
  }
  if (child == 0) {
    log::SetLevel(log::Level::kOff);
    failpoint::DisarmAll();
    if (!failpoint::Arm(plan).ok())
      _exit(90);
    _exit(RunJob(spec, registry).status.ok() ? 0 : 1);
  }
  int status = 0;
  if (waitpid(child, &status, 0) != child) {
    ADD_FAILURE() << "waitpid failed";
    return false;
  }
  if (WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
    return true;
  ADD_FAILURE() << "the job armed with '" << plan << "' was not killed there (wait status "
                << status << ")";
  return false;
}

namespace {

// A registry whose "memory" connector is bound to `source` and `sink`, followed by every
// connector of `registry` (a "memory" there is shadowed: Find returns the first).
std::unique_ptr<connectors::ConnectorRegistry> WithMemory(
    const connectors::ConnectorRegistry& registry, std::shared_ptr<MemorySourceData> source,
    std::shared_ptr<MemorySinkData> sink) {
  auto out = std::make_unique<connectors::ConnectorRegistry>();
  RegisterMemoryConnector(*out, std::move(source), std::move(sink));
  out->RegisterAll(registry);
  return out;
}

}  // namespace

Result<std::vector<Row>> ReadBack(const connectors::ConnectorRegistry& registry,
                                  const std::string& sink_block, const SchemaPtr& schema,
                                  const std::string& stream) {
  TempDir state;
  JobSpec spec;
  spec.name = "conformance_read_back";
  spec.source = "{type: memory}";
  spec.sink = sink_block;
  spec.state = state.path();
  spec.parallelism = 2;
  spec.batch_rows = 1000;
  spec.extra = "delivery: at_least_once\n";
  SLUICE_ASSIGN_OR_RETURN(config::JobConfig job, MakeJob(spec));
  SLUICE_ASSIGN_OR_RETURN(connectors::ReadBack read_back,
                          registry.ReadBackSource(job.sink, stream, *schema));
  job.source = read_back.source;
  job.sink.type = "memory";
  job.sink.options = config::Node::Map(job.sink.type_mark);
  auto captured = std::make_shared<MemorySinkData>();
  captured->exactly_once = false;
  std::unique_ptr<connectors::ConnectorRegistry> reading =
      WithMemory(registry, std::make_shared<MemorySourceData>(), captured);
  runtime::RunOptions options;
  options.fresh = true;
  runtime::JobSummary summary = runtime::JobRunner(std::move(job), *reading, options).Run(nullptr);
  // The target, not the block: a block may hold a password.
  SLUICE_RETURN_IF_ERROR(summary.status.WithContext(fmt::format(
      "reading back the target '{}' of the {} sink", read_back.target, read_back.source.type)));
  std::vector<Row> rows;
  std::lock_guard<std::mutex> lock(captured->mutex);
  for (auto& [name, committed] : captured->committed)
    rows.insert(rows.end(), committed.begin(), committed.end());
  return Sorted(std::move(rows));
}

Status SeedThroughSink(const connectors::ConnectorRegistry& registry,
                       const std::string& sink_block, const std::vector<Row>& rows) {
  auto source = std::make_shared<MemorySourceData>();
  source->streams = {MemoryStream{"orders", OrdersSchema(), rows}};
  source->split_rows = 500;
  std::unique_ptr<connectors::ConnectorRegistry> seeding =
      WithMemory(registry, source, std::make_shared<MemorySinkData>());
  TempDir state;
  JobSpec spec;
  spec.name = "conformance_seed";
  spec.source = "{type: memory}";
  spec.sink = sink_block;
  spec.state = state.path();
  spec.parallelism = 1;
  spec.batch_rows = 1000;
  spec.extra = "delivery: at_least_once\n";
  SLUICE_ASSIGN_OR_RETURN(config::JobConfig job, MakeJob(spec));
  return RunJob(spec, *seeding, /*fresh=*/true)
      .status.WithContext(fmt::format("seeding through the {} sink", job.sink.type));
}

std::vector<Row> Sorted(std::vector<Row> rows) {
  std::sort(rows.begin(), rows.end());
  return rows;
}

}  // namespace sluice::testing::conformance
