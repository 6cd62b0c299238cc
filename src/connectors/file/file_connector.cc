// Registration of the `file` connector: type name, description, option tables, factories.
#include <filesystem>

#include "connectors/file/file_options.h"
#include "connectors/file/file_sink.h"
#include "connectors/file/file_source.h"
#include "connectors/registry.h"
#include "connectors/stream_naming.h"

namespace sluice::connectors {

void RegisterFileConnector(ConnectorRegistry& registry) {
  ConnectorInfo info;
  info.type = "file";
  info.description =
      "CSV and JSON Lines files, plain, gzip or zstd; Avro container files; Parquet; globs as "
      "sources, rolling files as sinks";
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
  // `sluice verify` reads the committed files back through the file source: the sink writes
  // `path`, or `path` with -<slot>-<part> before the extensions; files carry no types, so the
  // stream's schema goes with them.
  info.read_back = [](const config::ConnectorBlock& sink, const std::string& stream,
                      const Schema& schema) -> Result<ReadBack> {
    ReadBack read_back{ReadBackBlock(sink, {"format", "compression", "header", "delimiter",
                                            "quote", "null_marker"}),
                       ""};
    std::filesystem::path path(ExpandStreamName(ScalarOption(sink, "path"), stream));
    std::string name = path.filename().string();
    size_t dot = name.find('.');
    std::string stem = dot == std::string::npos ? name : name.substr(0, dot);
    std::string extensions = dot == std::string::npos ? "" : name.substr(dot);
    read_back.target = (path.parent_path() / (stem + "*" + extensions)).string();
    SetReadBackOption(&read_back.source, "path", read_back.target);
    const config::Mark& mark = read_back.source.type_mark;
    config::Node types = config::Node::Map(mark);
    for (const Field& field : schema.fields())
      types.Set(field.name, mark, config::Node::Scalar(field.type.ToString(), mark));
    read_back.source.options.Set("schema", mark, std::move(types));
    SetReadBackOption(&read_back.source, "stream", stream);
    return read_back;
  };
  registry.Register(std::move(info));
}

}  // namespace sluice::connectors
