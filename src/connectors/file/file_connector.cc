// Registration of the `file` connector: type name, description, option tables, factories.
#include "connectors/file/file_options.h"
#include "connectors/file/file_sink.h"
#include "connectors/file/file_source.h"
#include "connectors/registry.h"

namespace sluice::connectors {

void RegisterFileConnector(ConnectorRegistry& registry) {
  ConnectorInfo info;
  info.type = "file";
  info.description =
      "CSV and JSON Lines files, plain, gzip or zstd; globs as sources, rolling files as sinks";
  auto source_table = file::FileSourceOptionTable();
  info.source_options.assign(source_table.begin(), source_table.end());
  auto sink_table = file::FileSinkOptionTable();
  info.sink_options.assign(sink_table.begin(), sink_table.end());
  info.create_source = [](const config::Options& options) -> Result<std::unique_ptr<Source>> {
    SLUICE_ASSIGN_OR_RETURN(file::FileSourceOptions parsed,
                            file::FileSourceOptions::FromOptions(options));
    return std::unique_ptr<Source>(new file::FileSource(std::move(parsed)));
  };
  info.create_sink = [](const config::Options& options) -> Result<std::unique_ptr<Sink>> {
    SLUICE_ASSIGN_OR_RETURN(file::FileSinkOptions parsed,
                            file::FileSinkOptions::FromOptions(options));
    return std::unique_ptr<Sink>(new file::FileSink(std::move(parsed)));
  };
  registry.Register(std::move(info));
}

}  // namespace sluice::connectors
