#include "config/job_config.h"

#include <fmt/core.h>

namespace sluice::config {

namespace {

const std::vector<OptionSpec>& JobTable() {
  static const std::vector<OptionSpec> kTable = {
      {"name", OptionType::kString, "", "Job name, used in logs, metrics and state.", true},
      {"source", OptionType::kMap, "", "Where rows come from: `type:` plus its options.", true},
      {"sink", OptionType::kMap, "", "Where rows go: `type:` plus its options.", true},
      {"transform", OptionType::kMap, "",
       "Optional `columns:` that select, rename and cast: `out: \"in::type\"`."},
      {"parallelism", OptionType::kInt, "1",
       "Parallel readers and writers (writers capped by what the sink allows)."},
      {"batch_rows", OptionType::kInt, "4096", "Rows per batch between readers and writers."},
  };
  return kTable;
}

Result<ConnectorBlock> ReadConnectorBlock(const Node& root, std::string_view key) {
  const Node* block = root.Find(key);
  ConnectorBlock out;
  const Node* type = block->Find("type");
  if (type == nullptr) {
    return block->Error(fmt::format("missing required key 'type' in {} (run `sluice "
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
    if (entry.key != "type") out.options.entries().push_back(entry);
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
      return expression.Error(fmt::format(
          "column '{}' must map to \"input\" or \"input::type\", got a {}", output,
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
      if (!type.ok()) return expression.Error(type.status().message());
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
      if (!item.is_scalar()) return item.Error("transform columns list must hold column names");
      std::string text = item.scalar();
      std::string output = text.substr(0, text.find("::"));
      SLUICE_RETURN_IF_ERROR(add(output, item));
    }
  } else {
    return columns.Error("transform 'columns' must be a list of names or a map");
  }
  if (out.columns.empty()) return columns.Error("transform 'columns' is empty");
  return out;
}

Result<JobConfig> LoadRoot(Node root, const std::vector<std::string>& overrides,
                           std::string origin) {
  if (!root.is_map()) {
    Mark mark = root.mark();
    if (!mark.origin) mark.origin = std::make_shared<const std::string>(origin);
    return InvalidConfig(fmt::format(
        "{}: a job file must be a map with name, source and sink, got a {}", mark.ToString(),
        root.KindName()));
  }
  SLUICE_RETURN_IF_ERROR(SubstituteEnvironment(&root));
  for (const std::string& assignment : overrides) {
    SLUICE_RETURN_IF_ERROR(ApplyOverride(&root, assignment));
  }
  SLUICE_ASSIGN_OR_RETURN(Options options, Options::Validate(root, JobTable(), "job"));
  JobConfig job;
  job.origin = std::move(origin);
  job.name = options.GetString("name");
  if (job.name.empty()) return options.ErrorAt("name", "'name' must not be empty");
  SLUICE_ASSIGN_OR_RETURN(job.source, ReadConnectorBlock(root, "source"));
  SLUICE_ASSIGN_OR_RETURN(job.sink, ReadConnectorBlock(root, "sink"));
  if (const Node* transform = root.Find("transform")) {
    SLUICE_ASSIGN_OR_RETURN(job.transform, ReadTransform(*transform));
  }
  int64_t parallelism = options.GetInt("parallelism");
  if (parallelism < 1 || parallelism > 256) {
    return options.ErrorAt("parallelism", "'parallelism' must be between 1 and 256");
  }
  job.parallelism = static_cast<int>(parallelism);
  int64_t batch_rows = options.GetInt("batch_rows");
  if (batch_rows < 1 || batch_rows > 1'000'000) {
    return options.ErrorAt("batch_rows", "'batch_rows' must be between 1 and 1000000");
  }
  job.batch_rows = static_cast<int>(batch_rows);
  job.root = std::move(root);
  return job;
}

}  // namespace

std::span<const OptionSpec> JobOptionTable() { return JobTable(); }

Result<JobConfig> LoadJobFile(const std::string& path, const std::vector<std::string>& overrides) {
  SLUICE_ASSIGN_OR_RETURN(Node root, ParseYamlFile(path));
  return LoadRoot(std::move(root), overrides, path);
}

Result<JobConfig> LoadJobText(std::string_view text, std::string origin,
                              const std::vector<std::string>& overrides) {
  SLUICE_ASSIGN_OR_RETURN(Node root, ParseYaml(text, origin));
  return LoadRoot(std::move(root), overrides, std::move(origin));
}

}  // namespace sluice::config
