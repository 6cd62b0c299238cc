#include "connectors/datagen/datagen_source.h"
#include "connectors/registry.h"

namespace sluice::connectors {

void RegisterDatagenConnector(ConnectorRegistry& registry) {
  ConnectorInfo info;
  info.type = "datagen";
  info.description = "Deterministic synthetic rows for demos, benchmarks and volume tests.";
  info.source_options = datagen::DatagenSourceOptions();
  info.create_source = [](const config::Options& options) -> Result<std::unique_ptr<Source>> {
    SLUICE_ASSIGN_OR_RETURN(datagen::DatagenOptions parsed,
                            datagen::DatagenOptions::FromOptions(options));
    return std::unique_ptr<Source>(new datagen::DatagenSource(std::move(parsed)));
  };
  registry.Register(std::move(info));
}

}  // namespace sluice::connectors
