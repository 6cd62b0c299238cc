// Registration of the `postgres` connector: its option tables and factories.
#include "connectors/postgres/postgres_cdc_source.h"
#include "connectors/postgres/postgres_options.h"
#include "connectors/postgres/postgres_sink.h"
#include "connectors/postgres/postgres_snapshot_then_cdc.h"
#include "connectors/postgres/postgres_source.h"
#include "connectors/registry.h"
#include "connectors/stream_naming.h"

namespace sluice::connectors {

void RegisterPostgresConnector(ConnectorRegistry& registry) {
  ConnectorInfo info;
  info.type = "postgres";
  info.description =
      "PostgreSQL: read tables through binary COPY in key-range splits from one exported "
      "snapshot; write through binary COPY with append, upsert or atomic overwrite, exactly "
      "once (rows and split progress committed in one transaction); mode: cdc streams the "
      "tables' changes from a logical replication slot (pgoutput)";
  auto source_table = postgres::PostgresSourceOptionTable();
  auto sink_table = postgres::PostgresSinkOptionTable();
  info.source_options.assign(source_table.begin(), source_table.end());
  info.sink_options.assign(sink_table.begin(), sink_table.end());
  info.create_source = [](const config::Options& options) -> Result<std::unique_ptr<Source>> {
    SLUICE_ASSIGN_OR_RETURN(postgres::PostgresSourceOptions parsed,
                            postgres::PostgresSourceOptions::FromConfig(options));
    if (parsed.mode == postgres::SourceMode::kSnapshotThenCdc) {
      return std::unique_ptr<Source>(std::make_unique<postgres::PostgresSnapshotThenCdcSource>(
          std::move(parsed), options));
    }
    if (parsed.mode == postgres::SourceMode::kCdc) {
      return std::unique_ptr<Source>(
          std::make_unique<postgres::PostgresCdcSource>(std::move(parsed), options));
    }
    return std::unique_ptr<Source>(
        std::make_unique<postgres::PostgresSource>(std::move(parsed), options));
  };
  info.create_sink = [](const config::Options& options) -> Result<std::unique_ptr<Sink>> {
    SLUICE_ASSIGN_OR_RETURN(postgres::PostgresSinkOptions parsed,
                            postgres::PostgresSinkOptions::FromConfig(options));
    return std::unique_ptr<Sink>(
        std::make_unique<postgres::PostgresSink>(std::move(parsed), options));
  };
  // `sluice verify` reads the target table back through this connector's source.
  info.read_back = [](const config::ConnectorBlock& sink, const std::string& stream,
                      const Schema&) -> Result<ReadBack> {
    ReadBack read_back{ReadBackBlock(sink, {"host", "port", "user", "password", "database"}),
                       ExpandStreamName(ScalarOption(sink, "table"), stream)};
    SetReadBackOption(&read_back.source, "table", read_back.target);
    return read_back;
  };
  registry.Register(std::move(info));
}

}  // namespace sluice::connectors
