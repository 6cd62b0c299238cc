#include "testing/conformance/conformance_job.h"

#include <fmt/core.h>
#include <fmt/ranges.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <map>
#include <set>

#include "core/failpoint.h"
#include "core/logging.h"
#include "testing/bad_records.h"
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

std::string SqliteSink(const TempDir& out, const std::string& table, std::string_view mode) {
  return fmt::format("{{type: sqlite, path: {}, table: {}, mode: {}}}",
                     YamlQuoted(out.Join("out.db")), table, mode);
}

JobSpec SourceJob(const std::string& source, const std::string& sink, const TempDir& state,
                  const std::string& name) {
  JobSpec spec;
  spec.name = "conformance_" + name;
  spec.source = source;
  spec.sink = sink;
  spec.state = state.path();
  return spec;
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

BackgroundJob::BackgroundJob(const JobSpec& spec, const connectors::ConnectorRegistry& registry) {
  Result<config::JobConfig> job = MakeJob(spec);
  if (!job.ok()) {
    summary_.status = job.status();
    ended_ = true;
    return;
  }
  runner_ = std::make_unique<runtime::JobRunner>(std::move(*job), registry);
  thread_ = std::thread([this] {
    summary_ = runner_->Run(&stop_);
    ended_ = true;
  });
}

BackgroundJob::~BackgroundJob() {
  if (thread_.joinable())
    Stop();
}

bool BackgroundJob::WaitForCommitted(uint64_t rows, std::chrono::seconds timeout) const {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!ended_.load()) {
    if (runner_->metrics().Snapshot().rows_committed >= rows)
      return true;
    if (std::chrono::steady_clock::now() > deadline)
      return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));  // the next look
  }
  return summary_.metrics.rows_committed >= rows;
}

bool BackgroundJob::running() const {
  return !ended_.load();
}

runtime::JobSummary BackgroundJob::Stop() {
  stop_ = true;
  if (thread_.joinable())
    thread_.join();
  return summary_;
}

Result<std::map<std::string, std::string>> CommittedProgress(
    const JobSpec& spec, const connectors::ConnectorRegistry& registry,
    connectors::DeliveryGuarantee delivery) {
  SLUICE_ASSIGN_OR_RETURN(config::JobConfig job, MakeJob(spec));
  SLUICE_ASSIGN_OR_RETURN(std::unique_ptr<connectors::Sink> sink, registry.CreateSink(job.sink));
  RecordAndFail bad_records;
  connectors::JobContext context = MakeTestContext(&bad_records);
  context.job_name = job.name;
  context.delivery = delivery;
  SLUICE_ASSIGN_OR_RETURN(std::vector<connectors::SplitProgress> progress,
                          sink->RecoverProgress(context));
  std::map<std::string, std::string> positions;
  for (const connectors::SplitProgress& entry : progress)
    positions[entry.split_id] = entry.position;
  return positions;
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

std::vector<std::string> Duplicates(const std::vector<Row>& rows) {
  std::set<std::string> seen;
  std::vector<std::string> twice;
  for (const Row& row : rows) {
    if (row[0] && !seen.insert(*row[0]).second)
      twice.push_back(*row[0]);
  }
  return twice;
}

std::vector<Row> Sorted(std::vector<Row> rows) {
  std::sort(rows.begin(), rows.end());
  return rows;
}

std::string RowsDiff(const std::vector<Row>& held, const std::vector<Row>& expected) {
  auto by_id = [](const std::vector<Row>& rows) {
    std::map<std::string, std::vector<Row>> out;
    for (const Row& row : rows)
      out[row.empty() || !row[0] ? "NULL" : *row[0]].push_back(row);
    return out;
  };
  const auto held_ids = by_id(held);
  const auto expected_ids = by_id(expected);
  std::vector<std::string> missing, repeated, changed;
  for (const auto& [id, rows] : expected_ids) {
    auto found = held_ids.find(id);
    if (found == held_ids.end()) {
      missing.push_back(id);
    } else if (found->second.size() > rows.size()) {
      repeated.push_back(fmt::format("{} ({}x)", id, found->second.size()));
    } else if (found->second != rows) {
      changed.push_back(id);
    }
  }
  for (const auto& [id, rows] : held_ids) {
    if (!expected_ids.count(id))
      repeated.push_back(fmt::format("{} (unexpected, {}x)", id, rows.size()));
  }
  auto first_ten = [](std::vector<std::string> ids) {
    const size_t count = ids.size();
    if (ids.size() > 10)
      ids.resize(10);
    return fmt::format("{} [{}{}]", count, fmt::join(ids, ", "), count > 10 ? ", ..." : "");
  };
  return fmt::format("{} rows held, {} expected; missing ids: {}; held too often: {}; held "
                     "with other values: {}",
                     held.size(), expected.size(), first_ten(missing), first_ten(repeated),
                     first_ten(changed));
}

std::string YamlLinesAsFlow(const std::string& lines) {
  std::string out;
  size_t start = 0;
  while (start < lines.size()) {
    size_t end = lines.find('\n', start);
    if (end == std::string::npos)
      end = lines.size();
    if (end > start)
      out += (out.empty() ? "" : ", ") + lines.substr(start, end - start);
    start = end + 1;
  }
  return out;
}

}  // namespace sluice::testing::conformance
