#include "connectors/registry.h"

#include <fmt/core.h>

namespace sluice::connectors {

void ConnectorRegistry::Register(ConnectorInfo info) {
  connectors_.push_back(std::make_unique<ConnectorInfo>(std::move(info)));
}

void ConnectorRegistry::RegisterAll(const ConnectorRegistry& other) {
  for (const auto& info : other.connectors_)
    Register(*info);
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

Result<ReadBack> ConnectorRegistry::ReadBackSource(const config::ConnectorBlock& sink,
                                                  const std::string& stream,
                                                  const Schema& schema) const {
  const ConnectorInfo* info = Find(sink.type);
  if (info == nullptr || !info->read_back) {
    std::string readable;
    for (const auto& candidate : connectors_) {
      if (!candidate->read_back)
        continue;
      if (!readable.empty())
        readable += ", ";
      readable += candidate->type;
    }
    return Unsupported(fmt::format("verify cannot read back a '{}' sink (supported: {})",
                                   sink.type, readable));
  }
  return info->read_back(sink, stream, schema);
}

config::ConnectorBlock ReadBackBlock(const config::ConnectorBlock& sink,
                                     std::initializer_list<std::string_view> keys) {
  // Errors in the block (a table that does not exist) then name where it came from.
  config::Mark mark{std::make_shared<const std::string>(
                        fmt::format("verify: the target of the {} sink", sink.type)),
                    0, 0};
  config::ConnectorBlock block;
  block.type = sink.type;
  block.type_mark = mark;
  block.options = config::Node::Map(mark);
  for (std::string_view key : keys) {
    if (const config::Node* value = sink.options.Find(key))
      block.options.Set(std::string(key), mark, *value);
  }
  return block;
}

void SetReadBackOption(config::ConnectorBlock* block, const std::string& key,
                       const std::string& value) {
  block->options.Set(key, block->type_mark, config::Node::Scalar(value, block->type_mark));
}

std::string ScalarOption(const config::ConnectorBlock& block, std::string_view key) {
  const config::Node* value = block.options.Find(key);
  return value != nullptr && value->is_scalar() ? value->scalar() : std::string();
}

}  // namespace sluice::connectors
