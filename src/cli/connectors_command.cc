#include <fmt/core.h>

#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/exit_codes.h"
#include "config/job_config.h"
#include "connectors/registry.h"

namespace sluice::cli {

namespace {

// A range bound as JSON: an integer for integer options and sizes, else a number.
nlohmann::ordered_json BoundJson(const config::OptionSpec& spec, double bound) {
  if (spec.type == config::OptionType::kDouble)
    return bound;
  return static_cast<int64_t>(bound);
}

nlohmann::ordered_json OptionsJson(const std::vector<config::OptionSpec>& table) {
  nlohmann::ordered_json out = nlohmann::ordered_json::array();
  for (const config::OptionSpec& spec : table) {
    nlohmann::ordered_json option;
    option["name"] = spec.name;
    option["type"] = config::OptionTypeName(spec.type);
    option["required"] = spec.required;
    option["default"] = spec.default_value;
    if (!spec.choices.empty()) {
      option["choices"] = nlohmann::ordered_json::array();
      for (std::string_view choice : spec.choices)
        option["choices"].push_back(choice);
    }
    if (spec.min)
      option["min"] = BoundJson(spec, *spec.min);
    if (spec.max)
      option["max"] = BoundJson(spec, *spec.max);
    if (spec.min || spec.max)
      option["range"] = config::OptionRangeText(spec);
    option["description"] = spec.description;
    out.push_back(option);
  }
  return out;
}

void PrintOptions(std::string_view title, const std::vector<config::OptionSpec>& table) {
  fmt::print("  {} options:\n", title);
  for (const config::OptionSpec& spec : table) {
    std::string type(config::OptionTypeName(spec.type));
    if (!spec.choices.empty()) {
      type.clear();
      for (std::string_view choice : spec.choices) {
        if (!type.empty())
          type += '|';
        type += choice;
      }
    }
    if (spec.min || spec.max) {
      type += ' ';
      type += config::OptionRangeText(spec);
    }
    std::string extra = spec.required ? "required"
                        : spec.default_value.empty()
                            ? "optional"
                            : fmt::format("default {}", spec.default_value);
    fmt::print("    {:<14} {:<18} {:<18} {}\n", spec.name, type, extra, spec.description);
  }
}

}  // namespace

int ConnectorsCommand(const std::string& type, const CommonFlags& flags) {
  const auto& registry = connectors::ConnectorRegistry::Builtin();
  if (!type.empty() && registry.Find(type) == nullptr) {
    fmt::print(stderr, "sluice: unknown connector type '{}' (run `sluice connectors`)\n", type);
    return kExitConfig;
  }
  if (flags.json) {
    nlohmann::ordered_json out = nlohmann::ordered_json::array();
    for (const auto& info : registry.connectors()) {
      if (!type.empty() && info->type != type)
        continue;
      nlohmann::ordered_json connector;
      connector["type"] = info->type;
      connector["description"] = info->description;
      connector["source"] =
          info->create_source ? OptionsJson(info->source_options) : nlohmann::ordered_json(nullptr);
      connector["sink"] =
          info->create_sink ? OptionsJson(info->sink_options) : nlohmann::ordered_json(nullptr);
      out.push_back(connector);
    }
    fmt::print("{}\n", out.dump(2));
    return kExitOk;
  }
  for (const auto& info : registry.connectors()) {
    if (!type.empty() && info->type != type)
      continue;
    std::string sides = info->create_source && info->create_sink ? "source, sink"
                        : info->create_source                    ? "source"
                                                                 : "sink";
    fmt::print("{} ({}): {}\n", info->type, sides, info->description);
    if (info->create_source)
      PrintOptions("source", info->source_options);
    if (info->create_sink)
      PrintOptions("sink", info->sink_options);
    fmt::print("\n");
  }
  if (type.empty()) {
    fmt::print("job file keys:\n");
    std::vector<config::OptionSpec> job_keys(config::JobOptionTable().begin(),
                                             config::JobOptionTable().end());
    PrintOptions("job", job_keys);
  }
  return kExitOk;
}

}  // namespace sluice::cli
