#include "config/job_config.h"

#include <fmt/core.h>

#include <algorithm>

namespace sluice::config {

namespace {

const std::vector<OptionSpec>& JobTable() {
  static const std::vector<OptionSpec> kTable = {
      {"name", OptionType::kString, "", "Job name, used in logs, metrics and state.", true},
      {"source", OptionType::kMap, "", "Where rows come from: `type:` plus its options.", true},
      {"sink", OptionType::kMap, "", "Where rows go: `type:` plus its options.", true},
      {"transform", OptionType::kMap, "",
       "Optional `columns:` that select, rename and cast: `out: \"in::type\"`."},
      {.name = "parallelism", .type = OptionType::kInt, .default_value = "1",
       .description = "Parallel readers and writers (writers capped by what the sink allows).",
       .min = 1, .max = 256},
      {.name = "batch_rows", .type = OptionType::kInt, .default_value = "4096",
       .description = "Rows per batch between readers and writers.", .min = 1, .max = 1'000'000},
      {"delivery",
       OptionType::kEnum,
       "exactly_once",
       "exactly_once (rows and progress commit together) or at_least_once.",
       false,
       {"exactly_once", "at_least_once"}},
      {"checkpoint", OptionType::kMap, "",
       "`interval_secs` (default 10; 0 = only at the end): how often progress is committed; "
       "`stop_timeout_secs` (10): how long a stop waits for the final checkpoint."},
      {"state", OptionType::kString, "",
       "Directory of the state store (plans and checkpoints); default .sluice or --state."},
      {"errors", OptionType::kMap, "",
       "Bad records: `mode` fail|skip|dead_letter, `max_count`, `max_ratio`, "
       "`dead_letter_path`."},
      {"retry", OptionType::kMap, "",
       "Transient failures: `max_attempts` (5), `initial_backoff_secs` (1), "
       "`max_backoff_secs` (60)."},
      {"verify", OptionType::kBool, "false",
       "After a batch job, compare source and target (counts and checksums per key range)."},
      {.name = "run_lease_secs", .type = OptionType::kDouble, .default_value = "30",
       .description =
           "One run of a job at a time: a run that stopped renewing its hold on the job this "
           "long (frozen, cut off) may be taken over, and its later commits are refused.",
       .min = 0.3, .max = 86400},
      {"schedule", OptionType::kMap, "",
       "For `sluice server`: `cron` (\"0 2 * * *\", @hourly, \"@every 30s\"), `time_zone` "
       "(IANA, default UTC), `after` (jobs whose success starts this one). `sluice run` ignores "
       "it."},
  };
  return kTable;
}

// Replaces `connection: NAME` in a source or sink block by the connection's keys; the block's
// own keys win.
Status ResolveConnection(Node* root, std::string_view key, const ConnectionResolver* resolver,
                         std::vector<std::string>* used) {
  Node* block = root->Find(key);
  if (block == nullptr || !block->is_map())
    return Status::OK();
  const Node* reference = block->Find("connection");
  if (reference == nullptr)
    return Status::OK();
  if (!reference->is_scalar() || reference->scalar().empty())
    return reference->Error(fmt::format("'connection' in {} must name a connection", key));
  if (resolver == nullptr || !*resolver) {
    return reference->Error(
        "'connection' names a connection of `sluice server`; in a job file for `sluice run`, "
        "give the connector's type and options instead");
  }
  const std::string name = reference->scalar();
  SLUICE_ASSIGN_OR_RETURN(Node merged, (*resolver)(name, *reference));
  if (!merged.is_map())
    return reference->Error(fmt::format("connection '{}' is not a map of options", name));
  for (const Node::Entry& entry : block->entries()) {
    if (entry.key != "connection")
      merged.Set(entry.key, entry.key_mark, entry.value);
  }
  used->push_back(name);
  *block = std::move(merged);
  return Status::OK();
}

Status ReadCheckpoint(const Node& node, JobConfig* job) {
  static const std::vector<OptionSpec> kTable = {
      {.name = "interval_secs", .type = OptionType::kDouble, .default_value = "10",
       .description = "Seconds between checkpoints; 0 = only at the end.", .min = 0},
      {"stop_timeout_secs", OptionType::kDouble, "10",
       "After a stop (SIGINT/SIGTERM), how long the final checkpoint may take before writes "
       "blocked in the sink are cancelled (the next run then resumes from the checkpoint "
       "before)."},
  };
  SLUICE_ASSIGN_OR_RETURN(Options options, Options::Validate(node, kTable, "checkpoint"));
  job->checkpoint_interval_secs = options.GetDouble("interval_secs");
  if (options.Has("stop_timeout_secs"))
    job->stop_timeout_secs = options.GetDouble("stop_timeout_secs");
  if (job->stop_timeout_secs <= 0) {  // an open bound, which an option's range cannot say
    return options.ErrorAt(
        "stop_timeout_secs",
        fmt::format("'stop_timeout_secs' in checkpoint must be more than 0, got {}",
                    options.GetString("stop_timeout_secs")));
  }
  return Status::OK();
}

Status ReadErrors(const Node& node, JobConfig* job) {
  static const std::vector<OptionSpec> kTable = {
      {"mode",
       OptionType::kEnum,
       "fail",
       "fail (stop at the first bad record), skip, or dead_letter (skip and keep it).",
       false,
       {"fail", "skip", "dead_letter"}},
      {.name = "max_count", .type = OptionType::kInt, .default_value = "0",
       .description = "Fail once more records than this were bad (0 = no limit).", .min = 0},
      {.name = "max_ratio", .type = OptionType::kDouble, .default_value = "0",
       .description = "Fail once bad records exceed this share of rows read (0 = no limit).",
       .min = 0, .max = 1},
      {"dead_letter_path", OptionType::kString, "",
       "dead_letter: JSON Lines file receiving each bad record, its location and reason."},
  };
  SLUICE_ASSIGN_OR_RETURN(Options options, Options::Validate(node, kTable, "errors"));
  std::string mode = options.GetString("mode");
  job->errors.mode = mode == "skip"          ? ErrorPolicy::Mode::kSkip
                     : mode == "dead_letter" ? ErrorPolicy::Mode::kDeadLetter
                                             : ErrorPolicy::Mode::kFail;
  job->errors.max_count = static_cast<uint64_t>(options.GetInt("max_count"));
  job->errors.max_ratio = options.GetDouble("max_ratio");
  job->errors.dead_letter_path = options.GetString("dead_letter_path");
  if (job->errors.mode == ErrorPolicy::Mode::kDeadLetter && job->errors.dead_letter_path.empty()) {
    return options.ErrorAt("mode", "errors mode dead_letter needs 'dead_letter_path'");
  }
  return Status::OK();
}

Status ReadRetry(const Node& node, JobConfig* job) {
  static const std::vector<OptionSpec> kTable = {
      {.name = "max_attempts", .type = OptionType::kInt, .default_value = "5",
       .description =
           "Retries of a transient failure, each resuming from the last checkpoint; 0 = none.",
       .min = 0, .max = 1000},
      {.name = "initial_backoff_secs", .type = OptionType::kDouble, .default_value = "1",
       .description = "Wait before the first retry.", .min = 0},
      {"max_backoff_secs", OptionType::kDouble, "60", "Longest wait between retries."},
  };
  SLUICE_ASSIGN_OR_RETURN(Options options, Options::Validate(node, kTable, "retry"));
  job->retry.max_attempts = static_cast<int>(options.GetInt("max_attempts"));
  job->retry.initial_backoff_secs = options.GetDouble("initial_backoff_secs");
  job->retry.max_backoff_secs = options.GetDouble("max_backoff_secs");
  if (job->retry.max_backoff_secs < job->retry.initial_backoff_secs) {
    return options.ErrorAt(
        "max_backoff_secs",
        fmt::format("'max_backoff_secs' in retry must be at least 'initial_backoff_secs' ({}), "
                    "got {}",
                    job->retry.initial_backoff_secs, job->retry.max_backoff_secs));
  }
  return Status::OK();
}

// Canonical text of a subtree for the fingerprint: keys sorted, positions and secrets left out.
void AppendCanonical(const Node& node, std::string* out) {
  switch (node.kind()) {
    case Node::Kind::kNull:
      out->append("~");
      return;
    case Node::Kind::kScalar:
      out->append(std::to_string(node.scalar().size()));
      out->push_back(':');
      out->append(node.scalar());
      return;
    case Node::Kind::kSequence:
      out->push_back('[');
      for (const Node& item : node.items()) {
        AppendCanonical(item, out);
        out->push_back(',');
      }
      out->push_back(']');
      return;
    case Node::Kind::kMap: {
      std::vector<const Node::Entry*> entries;
      for (const Node::Entry& entry : node.entries())
        entries.push_back(&entry);
      std::sort(entries.begin(), entries.end(),
                [](const Node::Entry* a, const Node::Entry* b) { return a->key < b->key; });
      out->push_back('{');
      for (const Node::Entry* entry : entries) {
        if (entry->key.find("password") != std::string::npos)
          continue;
        out->append(entry->key);
        out->push_back('=');
        AppendCanonical(entry->value, out);
        out->push_back(';');
      }
      out->push_back('}');
      return;
    }
  }
}

std::string Fingerprint(const Node& root) {
  std::string text;
  for (const char* key : {"source", "transform", "sink"}) {
    text.append(key);
    if (const Node* node = root.Find(key))
      AppendCanonical(*node, &text);
  }
  // FNV-1a, 64 bits: a change detector, not a security boundary.
  uint64_t hash = 1469598103934665603ULL;
  for (unsigned char c : text) {
    hash ^= c;
    hash *= 1099511628211ULL;
  }
  return fmt::format("{:016x}", hash);
}

Result<ConnectorBlock> ReadConnectorBlock(const Node& root, std::string_view key) {
  const Node* block = root.Find(key);
  ConnectorBlock out;
  const Node* type = block->Find("type");
  if (type == nullptr) {
    return block->Error(
        fmt::format("missing required key 'type' in {} (run `sluice "
                    "connectors` to list the types)",
                    key));
  }
  if (!type->is_scalar() || type->scalar().empty()) {
    return type->Error(fmt::format("'type' in {} must be a connector name", key));
  }
  out.type = type->scalar();
  out.type_mark = type->mark();
  out.options = Node::Map(block->mark());
  for (const Node::Entry& entry : block->entries()) {
    if (entry.key != "type")
      out.options.entries().push_back(entry);
  }
  return out;
}

Result<TransformConfig> ReadTransform(const Node& transform) {
  static const std::vector<OptionSpec> kTransformTable = {
      {"columns", OptionType::kAny, "",
       "Output columns in order: a list of names, or a map `output: \"input::type\"`.", true},
  };
  SLUICE_ASSIGN_OR_RETURN(Options options,
                          Options::Validate(transform, kTransformTable, "transform"));
  (void)options;
  const Node& columns = *transform.Find("columns");
  TransformConfig out;
  auto add = [&](const std::string& output, const Node& expression) -> Status {
    if (!expression.is_scalar() || expression.scalar().empty()) {
      return expression.Error(
          fmt::format("column '{}' must map to \"input\" or \"input::type\", got a {}", output,
                      expression.KindName()));
    }
    ColumnMapping mapping;
    mapping.output = output;
    mapping.mark = expression.mark();
    const std::string& text = expression.scalar();
    size_t cast = text.find("::");
    mapping.input = text.substr(0, cast);
    if (cast != std::string::npos) {
      Result<DataType> type = ParseDataType(text.substr(cast + 2));
      if (!type.ok())
        return expression.Error(type.status().message());
      mapping.cast = *type;
    }
    if (mapping.input.empty()) {
      return expression.Error(fmt::format("column '{}' names no input column", output));
    }
    for (const ColumnMapping& existing : out.columns) {
      if (existing.output == output) {
        return expression.Error(fmt::format("output column '{}' appears twice", output));
      }
    }
    out.columns.push_back(std::move(mapping));
    return Status::OK();
  };
  if (columns.is_map()) {
    for (const Node::Entry& entry : columns.entries()) {
      SLUICE_RETURN_IF_ERROR(add(entry.key, entry.value));
    }
  } else if (columns.is_sequence()) {
    for (const Node& item : columns.items()) {
      if (!item.is_scalar())
        return item.Error("transform columns list must hold column names");
      std::string text = item.scalar();
      std::string output = text.substr(0, text.find("::"));
      SLUICE_RETURN_IF_ERROR(add(output, item));
    }
  } else {
    return columns.Error("transform 'columns' must be a list of names or a map");
  }
  if (out.columns.empty())
    return columns.Error("transform 'columns' is empty");
  return out;
}

}  // namespace

Result<ScheduleConfig> ReadSchedule(const Node& node) {
  static const std::vector<OptionSpec> kTable = {
      {"cron", OptionType::kString, "", "When the job runs."},
      {"time_zone", OptionType::kString, "UTC", "The zone the cron fields are read in."},
      {"after", OptionType::kAny, "", "Jobs whose success starts this one."},
  };
  SLUICE_ASSIGN_OR_RETURN(Options options, Options::Validate(node, kTable, "schedule"));
  ScheduleConfig schedule;
  schedule.mark = node.mark();
  schedule.cron = options.GetString("cron");
  schedule.time_zone = options.GetString("time_zone");
  if (const Node* after = node.Find("after")) {
    if (after->is_scalar()) {
      schedule.after.push_back(after->scalar());
    } else if (after->is_sequence()) {
      for (const Node& item : after->items()) {
        if (!item.is_scalar() || item.scalar().empty())
          return item.Error("'after' lists job names");
        schedule.after.push_back(item.scalar());
      }
    } else {
      return after->Error("'after' is a job name or a list of job names");
    }
  }
  if (schedule.cron.empty() && schedule.after.empty())
    return node.Error("a schedule needs 'cron', 'after' or both");
  return schedule;
}

namespace {

Result<JobConfig> LoadRoot(Node root, const std::vector<std::string>& overrides,
                           std::string origin, const ConnectionResolver* resolver = nullptr) {
  if (!root.is_map()) {
    Mark mark = root.mark();
    if (!mark.origin)
      mark.origin = std::make_shared<const std::string>(origin);
    return InvalidConfig(
        fmt::format("{}: a job file must be a map with name, source and sink, got a {}",
                    mark.ToString(), root.KindName()));
  }
  std::vector<std::string> connections;
  SLUICE_RETURN_IF_ERROR(ResolveConnection(&root, "source", resolver, &connections));
  const std::string source_connection = connections.empty() ? "" : connections.back();
  SLUICE_RETURN_IF_ERROR(ResolveConnection(&root, "sink", resolver, &connections));
  const std::string sink_connection =
      connections.size() > (source_connection.empty() ? 0u : 1u) ? connections.back() : "";
  SLUICE_RETURN_IF_ERROR(SubstituteEnvironment(&root));
  for (const std::string& assignment : overrides) {
    SLUICE_RETURN_IF_ERROR(ApplyOverride(&root, assignment));
  }
  SLUICE_ASSIGN_OR_RETURN(Options options, Options::Validate(root, JobTable(), "job"));
  JobConfig job;
  job.origin = std::move(origin);
  job.name = options.GetString("name");
  if (job.name.empty())
    return options.ErrorAt("name", "'name' must not be empty");
  SLUICE_ASSIGN_OR_RETURN(job.source, ReadConnectorBlock(root, "source"));
  SLUICE_ASSIGN_OR_RETURN(job.sink, ReadConnectorBlock(root, "sink"));
  if (const Node* transform = root.Find("transform")) {
    SLUICE_ASSIGN_OR_RETURN(job.transform, ReadTransform(*transform));
  }
  job.parallelism = static_cast<int>(options.GetInt("parallelism"));
  job.batch_rows = static_cast<int>(options.GetInt("batch_rows"));
  job.exactly_once = options.GetString("delivery") != "at_least_once";
  if (const Node* node = root.Find("checkpoint"))
    SLUICE_RETURN_IF_ERROR(ReadCheckpoint(*node, &job));
  job.state_dir = options.GetString("state");
  if (const Node* node = root.Find("errors"))
    SLUICE_RETURN_IF_ERROR(ReadErrors(*node, &job));
  if (const Node* node = root.Find("retry"))
    SLUICE_RETURN_IF_ERROR(ReadRetry(*node, &job));
  job.verify = options.GetBool("verify");
  job.run_lease_secs = options.GetDouble("run_lease_secs");
  if (const Node* node = root.Find("schedule")) {
    SLUICE_ASSIGN_OR_RETURN(job.schedule, ReadSchedule(*node));
  }
  job.connections = std::move(connections);
  job.source_connection = source_connection;
  job.sink_connection = sink_connection;
  job.fingerprint = Fingerprint(root);
  job.root = std::move(root);
  return job;
}

}  // namespace

std::span<const OptionSpec> JobOptionTable() {
  return JobTable();
}

Result<JobConfig> LoadJobFile(const std::string& path, const std::vector<std::string>& overrides) {
  SLUICE_ASSIGN_OR_RETURN(Node root, ParseYamlFile(path));
  return LoadRoot(std::move(root), overrides, path);
}

Result<JobConfig> LoadJobText(std::string_view text, std::string origin,
                              const std::vector<std::string>& overrides) {
  SLUICE_ASSIGN_OR_RETURN(Node root, ParseYaml(text, origin));
  return LoadRoot(std::move(root), overrides, std::move(origin));
}

Result<JobConfig> LoadJobText(std::string_view text, std::string origin,
                              const std::vector<std::string>& overrides,
                              const ConnectionResolver& resolver) {
  SLUICE_ASSIGN_OR_RETURN(Node root, ParseYaml(text, origin));
  return LoadRoot(std::move(root), overrides, std::move(origin), &resolver);
}

}  // namespace sluice::config
