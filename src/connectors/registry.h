// ConnectorRegistry: connectors by their `type:` name, with their option tables and factories.
//
// Each connector folder defines `Register<Name>Connector(ConnectorRegistry&)`; one
// `sluice_add_connector(... REGISTER Register<Name>Connector)` line in its CMakeLists.txt adds it
// to the generated built-in list. Registration is explicit (no static initialisers).
//
// Thread-safety: build the registry once, then read it from any thread.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "config/job_config.h"
#include "config/options.h"
#include "connectors/api.h"

namespace sluice::connectors {

struct ConnectorInfo {
  std::string type;
  std::string description;
  /// Empty when the connector has no source (or no sink) side.
  std::vector<config::OptionSpec> source_options;
  std::vector<config::OptionSpec> sink_options;
  std::function<Result<std::unique_ptr<Source>>(const config::Options&)> create_source;
  std::function<Result<std::unique_ptr<Sink>>(const config::Options&)> create_sink;
};

class ConnectorRegistry {
 public:
  void Register(ConnectorInfo info);

  /// The registry with every connector compiled into this binary (defined in the generated
  /// builtin_connectors.cc, part of the sluice_connectors library).
  static const ConnectorRegistry& Builtin();

  const ConnectorInfo* Find(std::string_view type) const;
  const std::vector<std::unique_ptr<ConnectorInfo>>& connectors() const { return connectors_; }

  /// Validates the block against the connector's source options and builds the source.
  Result<std::unique_ptr<Source>> CreateSource(const config::ConnectorBlock& block) const;
  Result<std::unique_ptr<Sink>> CreateSink(const config::ConnectorBlock& block) const;

 private:
  std::string TypeList(bool sources) const;
  std::vector<std::unique_ptr<ConnectorInfo>> connectors_;
};

/// Registers every built-in connector (generated from the CMake connector list).
void RegisterBuiltinConnectors(ConnectorRegistry& registry);

}  // namespace sluice::connectors
