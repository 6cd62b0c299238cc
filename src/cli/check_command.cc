#include <fmt/core.h>

#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/exit_codes.h"
#include "config/job_config.h"
#include "connectors/registry.h"
#include "runtime/job_runner.h"

namespace sluice::cli {

namespace {

std::string GuaranteeText(connectors::DeliveryGuarantee guarantee) {
  return guarantee == connectors::DeliveryGuarantee::kExactlyOnce ? "exactly-once"
                                                                  : "at-least-once";
}

}  // namespace

int CheckCommand(const std::string& job_path, const CommonFlags& flags) {
  auto fail = [&](const Status& status) {
    int code = ExitCodeFor(status);
    fmt::print(stderr, "sluice: {}\n", status.ToString());
    if (flags.json) {
      nlohmann::ordered_json out;
      out["ok"] = false;
      out["exit_code"] = code;
      out["error"] = {{"code", std::string(StatusCodeName(status.code()))},
                      {"message", status.message()}};
      fmt::print("{}\n", out.dump(2));
    }
    return code;
  };
  Result<config::JobConfig> job = config::LoadJobFile(job_path, flags.overrides);
  if (!job.ok())
    return fail(job.status());
  std::string name = job->name;
  std::string source_type = job->source.type;
  std::string sink_type = job->sink.type;
  runtime::JobRunner runner(std::move(*job), connectors::ConnectorRegistry::Builtin());
  Result<runtime::CheckSummary> checked = runner.Check();
  if (!checked.ok())
    return fail(checked.status());
  if (flags.json) {
    nlohmann::ordered_json out;
    out["ok"] = true;
    out["job"] = name;
    out["delivery"] = GuaranteeText(checked->guarantee);
    out["delivery_reason"] = checked->guarantee_reason;
    nlohmann::ordered_json streams = nlohmann::ordered_json::array();
    for (size_t i = 0; i < checked->source_streams.size(); ++i) {
      const auto& source = checked->source_streams[i];
      streams.push_back({{"name", source.name},
                         {"source_schema", source.schema->ToString()},
                         {"sink_schema", checked->sink_streams[i].schema->ToString()},
                         {"estimated_rows", source.estimated_rows.has_value()
                                                ? nlohmann::ordered_json(*source.estimated_rows)
                                                : nlohmann::ordered_json(nullptr)}});
    }
    out["streams"] = streams;
    out["notes"] = checked->report.notes;
    fmt::print("{}\n", out.dump(2));
    return kExitOk;
  }
  fmt::print("Job '{}' is valid: {} -> {}, {}\n", name, source_type, sink_type,
             GuaranteeText(checked->guarantee));
  fmt::print("  delivery: {} because {}\n", GuaranteeText(checked->guarantee),
             checked->guarantee_reason);
  for (size_t i = 0; i < checked->source_streams.size(); ++i) {
    const auto& source = checked->source_streams[i];
    fmt::print("  stream '{}'{}\n", source.name,
               source.estimated_rows ? fmt::format(" (about {} rows)", *source.estimated_rows)
                                     : std::string());
    fmt::print("    source: {}\n", source.schema->ToString());
    fmt::print("    sink:   {}\n", checked->sink_streams[i].schema->ToString());
  }
  for (const std::string& note : checked->report.notes)
    fmt::print("  {}\n", note);
  return kExitOk;
}

}  // namespace sluice::cli
