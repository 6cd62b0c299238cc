#include "server/definitions.h"

#include <fmt/core.h>

#include <nlohmann/json.hpp>

#include "server/cron.h"

namespace sluice::server {

namespace {

bool IsReference(const std::string& value) {
  return value.size() > 3 && value.rfind("${", 0) == 0 && value.back() == '}' &&
         value.find("${", 2) == std::string::npos;
}

bool IsSecretOption(const connectors::ConnectorInfo& info, std::string_view key) {
  for (const auto* table : {&info.source_options, &info.sink_options}) {
    for (const config::OptionSpec& spec : *table) {
      if (spec.name == key && spec.type == config::OptionType::kSecret)
        return true;
    }
  }
  return false;
}

}  // namespace

Status CheckName(std::string_view what, std::string_view name) {
  auto allowed = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '_' || c == '-' || c == '.';
  };
  if (name.empty() || name.size() > 128 || !allowed(name[0]) || name[0] == '_' ||
      name[0] == '-' || name[0] == '.' ||
      !std::all_of(name.begin(), name.end(), allowed)) {
    return InvalidConfig(fmt::format(
        "{} name '{}' is not allowed: use 1-128 letters, digits, '_', '-' or '.', starting "
        "with a letter or digit",
        what, name));
  }
  return Status::OK();
}

config::Node NodeFromJson(const nlohmann::json& value, const std::string& origin) {
  config::Mark mark{std::make_shared<const std::string>(origin), 0, 0};
  switch (value.type()) {
    case nlohmann::json::value_t::object: {
      config::Node map = config::Node::Map(mark);
      for (const auto& [key, item] : value.items())
        map.Set(key, mark, NodeFromJson(item, origin + "." + key));
      return map;
    }
    case nlohmann::json::value_t::array: {
      config::Node sequence = config::Node::Sequence(mark);
      for (const nlohmann::json& item : value)
        sequence.items().push_back(NodeFromJson(item, origin));
      return sequence;
    }
    case nlohmann::json::value_t::string:
      return config::Node::Scalar(value.get<std::string>(), mark);
    case nlohmann::json::value_t::null:
      return config::Node();
    default:
      return config::Node::Scalar(value.dump(), mark);
  }
}

Status CheckConnection(const connectors::ConnectorRegistry& registry,
                       const ConnectionRecord& record) {
  SLUICE_RETURN_IF_ERROR(CheckName("connection", record.name));
  const connectors::ConnectorInfo* info = registry.Find(record.type);
  if (info == nullptr) {
    return InvalidConfig(fmt::format("unknown connector type '{}' (available: {})", record.type,
                                     registry.TypeList(true)));
  }
  nlohmann::json options = nlohmann::json::parse(record.options_json, nullptr, false);
  if (!options.is_object())
    return InvalidConfig("'options' must be an object of the connector's options");
  for (const auto& [key, value] : options.items()) {
    if (key == "type")
      return InvalidConfig("give the connector's type as 'type' beside 'options', not in them");
    bool known = false;
    for (const auto* table : {&info->source_options, &info->sink_options}) {
      for (const config::OptionSpec& spec : *table)
        known = known || spec.name == key;
    }
    if (!known) {
      return InvalidConfig(fmt::format(
          "unknown option '{}' for a {} connection (see `sluice connectors {}`)", key,
          record.type, record.type));
    }
    if (!value.is_primitive() && !value.is_array() && !value.is_object())
      return InvalidConfig(fmt::format("option '{}' has no usable value", key));
  }
  return Status::OK();
}

nlohmann::json ShownOptions(const connectors::ConnectorRegistry& registry,
                            const ConnectionRecord& record) {
  nlohmann::json options = nlohmann::json::parse(record.options_json, nullptr, false);
  const connectors::ConnectorInfo* info = registry.Find(record.type);
  if (!options.is_object() || info == nullptr)
    return nlohmann::json::object();
  for (auto& [key, value] : options.items()) {
    if (IsSecretOption(*info, key) && !(value.is_string() && IsReference(value.get<std::string>())))
      value = "**REDACTED**";
  }
  return options;
}

Result<config::JobConfig> LoadServerJob(ServerStore* store,
                                        const connectors::ConnectorRegistry& registry,
                                        const std::string& team, const std::string& yaml,
                                        const std::string& origin) {
  config::ConnectionResolver resolver = [&](const std::string& name,
                                            const config::Node& reference) -> Result<config::Node> {
    SLUICE_ASSIGN_OR_RETURN(std::optional<ConnectionRecord> connection,
                            store->GetConnection(team, name));
    if (!connection) {
      return reference.Error(
          fmt::format("no connection named '{}' (create it first: POST /api/v1/connections)",
                      name));
    }
    nlohmann::json options = nlohmann::json::parse(connection->options_json, nullptr, false);
    config::Node node = NodeFromJson(options, "connection " + name);
    node.Set("type", node.mark(), config::Node::Scalar(connection->type, node.mark()));
    return node;
  };
  SLUICE_ASSIGN_OR_RETURN(config::JobConfig job, config::LoadJobText(yaml, origin, {}, resolver));
  SLUICE_RETURN_IF_ERROR(CheckName("job", job.name));
  // Builds the connectors to check their options; nothing connects.
  SLUICE_RETURN_IF_ERROR(registry.CreateSource(job.source).status());
  SLUICE_RETURN_IF_ERROR(registry.CreateSink(job.sink).status());
  if (job.schedule && !job.schedule->cron.empty()) {
    Result<CronSchedule> cron = CronSchedule::Parse(
        job.schedule->cron, job.schedule->time_zone.empty() ? "UTC" : job.schedule->time_zone);
    if (!cron.ok())
      return InvalidConfig(fmt::format("{}: {}", job.schedule->mark.ToString(),
                                       cron.status().message()));
  }
  return job;
}

}  // namespace sluice::server
