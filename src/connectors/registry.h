// ConnectorRegistry: connectors by their `type:` name, with their option tables and factories.
//
// Each connector folder defines `Register<Name>Connector(ConnectorRegistry&)`; one
// `sluice_add_connector(... REGISTER Register<Name>Connector)` line in its CMakeLists.txt adds it
// to the generated built-in list. Registration is explicit (no static initialisers).
//
// Thread-safety: build the registry once, then read it from any thread.
#pragma once

#include <functional>
#include <initializer_list>
#include <memory>
#include <string>
#include <vector>

#include "config/job_config.h"
#include "config/options.h"
#include "connectors/api.h"

namespace sluice::connectors {

/// Where a sink's target can be read back from: what `sluice verify` compares with the source,
/// and what the conformance suite (src/testing/conformance) checks after each run.
struct ReadBack {
  /// A `source:` block reading exactly the rows the sink wrote for one stream.
  config::ConnectorBlock source;
  /// The target as the verification report names it (a table, a file pattern).
  std::string target;
};

/// Builds the ReadBack of a sink block for one stream (after the transform; `schema` is its
/// schema, for stores such as files that carry no types). Called on any thread.
using ReadBackFunction = std::function<Result<ReadBack>(
    const config::ConnectorBlock& sink, const std::string& stream, const Schema& schema)>;

struct ConnectorInfo {
  std::string type;
  std::string description;
  /// Empty when the connector has no source (or no sink) side.
  std::vector<config::OptionSpec> source_options;
  std::vector<config::OptionSpec> sink_options;
  std::function<Result<std::unique_ptr<Source>>(const config::Options&)> create_source;
  std::function<Result<std::unique_ptr<Sink>>(const config::Options&)> create_sink;
  /// Sinks: how to read the target back through a source (usually this connector's own). Unset
  /// when the target cannot be read back; `sluice verify` then refuses the job.
  ReadBackFunction read_back;
};

class ConnectorRegistry {
 public:
  void Register(ConnectorInfo info);
  /// Registers a copy of every connector of `other` (to extend a registry with one of its own).
  void RegisterAll(const ConnectorRegistry& other);

  /// The registry with every connector compiled into this binary (defined in the generated
  /// builtin_connectors.cc, part of the sluice_connectors library).
  static const ConnectorRegistry& Builtin();

  const ConnectorInfo* Find(std::string_view type) const;
  const std::vector<std::unique_ptr<ConnectorInfo>>& connectors() const { return connectors_; }

  /// Validates the block against the connector's source options and builds the source.
  Result<std::unique_ptr<Source>> CreateSource(const config::ConnectorBlock& block) const;
  Result<std::unique_ptr<Sink>> CreateSink(const config::ConnectorBlock& block) const;
  /// The connector's read_back for what the sink `block` wrote for `stream`; Unsupported when
  /// the connector registered none.
  Result<ReadBack> ReadBackSource(const config::ConnectorBlock& sink, const std::string& stream,
                                  const Schema& schema) const;

  /// "csv, mysql, ...": the source (or sink) types, for error messages.
  std::string TypeList(bool sources) const;

 private:
  std::vector<std::unique_ptr<ConnectorInfo>> connectors_;
};

/// For read_back hooks: a source block of the sink's type whose values are marked as coming from
/// the target of that sink, with the sink's options `keys` (those it has) copied over.
config::ConnectorBlock ReadBackBlock(const config::ConnectorBlock& sink,
                                     std::initializer_list<std::string_view> keys);
/// Sets option `key` of a block made by ReadBackBlock to the scalar `value`.
void SetReadBackOption(config::ConnectorBlock* block, const std::string& key,
                       const std::string& value);
/// The scalar option `key` of a connector block, "" when absent or not a scalar.
std::string ScalarOption(const config::ConnectorBlock& block, std::string_view key);

/// Registers every built-in connector (generated from the CMake connector list).
void RegisterBuiltinConnectors(ConnectorRegistry& registry);

}  // namespace sluice::connectors
