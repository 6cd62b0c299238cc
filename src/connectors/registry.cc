#include "connectors/registry.h"

#include <fmt/core.h>

namespace sluice::connectors {

void ConnectorRegistry::Register(ConnectorInfo info) {
  connectors_.push_back(std::make_unique<ConnectorInfo>(std::move(info)));
}

const ConnectorInfo* ConnectorRegistry::Find(std::string_view type) const {
  for (const auto& info : connectors_) {
    if (info->type == type)
      return info.get();
  }
  return nullptr;
}

std::string ConnectorRegistry::TypeList(bool sources) const {
  std::string out;
  for (const auto& info : connectors_) {
    if (sources ? !info->create_source : !info->create_sink)
      continue;
    if (!out.empty())
      out += ", ";
    out += info->type;
  }
  return out;
}

Result<std::unique_ptr<Source>> ConnectorRegistry::CreateSource(
    const config::ConnectorBlock& block) const {
  const ConnectorInfo* info = Find(block.type);
  if (info == nullptr || !info->create_source) {
    return InvalidConfig(fmt::format("{}: unknown source type '{}' (available: {})",
                                     block.type_mark.ToString(), block.type, TypeList(true)));
  }
  SLUICE_ASSIGN_OR_RETURN(config::Options options,
                          config::Options::Validate(block.options, info->source_options,
                                                    fmt::format("source (type {})", block.type)));
  return info->create_source(options);
}

Result<std::unique_ptr<Sink>> ConnectorRegistry::CreateSink(
    const config::ConnectorBlock& block) const {
  const ConnectorInfo* info = Find(block.type);
  if (info == nullptr || !info->create_sink) {
    return InvalidConfig(fmt::format("{}: unknown sink type '{}' (available: {})",
                                     block.type_mark.ToString(), block.type, TypeList(false)));
  }
  SLUICE_ASSIGN_OR_RETURN(config::Options options,
                          config::Options::Validate(block.options, info->sink_options,
                                                    fmt::format("sink (type {})", block.type)));
  return info->create_sink(options);
}

}  // namespace sluice::connectors
