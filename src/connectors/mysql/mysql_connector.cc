// Registration of the `mysql` connector: its option tables and factories.
#include "connectors/mysql/mysql_binlog_source.h"
#include "connectors/mysql/mysql_options.h"
#include "connectors/mysql/mysql_sink.h"
#include "connectors/mysql/mysql_snapshot_then_cdc.h"
#include "connectors/mysql/mysql_source.h"
#include "connectors/registry.h"
#include "connectors/stream_naming.h"

namespace sluice::connectors {

void RegisterMysqlConnector(ConnectorRegistry& registry) {
  ConnectorInfo info;
  info.type = "mysql";
  info.description =
      "MySQL 5.7/8, MariaDB and MySQL-compatible servers (TiDB): read tables in parallel "
      "key-range chunks from one consistent snapshot; write with LOAD DATA LOCAL INFILE or "
      "multi-row INSERTs, in append, upsert, overwrite or apply mode; mode: cdc streams the "
      "tables' changes from the binary log, snapshot_then_cdc reads them first";
  auto source_table = mysql::MysqlSourceOptionTable();
  auto sink_table = mysql::MysqlSinkOptionTable();
  info.source_options.assign(source_table.begin(), source_table.end());
  info.sink_options.assign(sink_table.begin(), sink_table.end());
  info.create_source = [](const config::Options& options) -> Result<std::unique_ptr<Source>> {
    SLUICE_ASSIGN_OR_RETURN(mysql::MysqlSourceOptions parsed,
                            mysql::MysqlSourceOptions::FromConfig(options));
    if (parsed.mode == mysql::SourceMode::kSnapshotThenCdc) {
      return std::unique_ptr<Source>(
          std::make_unique<mysql::MysqlSnapshotThenCdcSource>(parsed, options));
    }
    if (parsed.mode == mysql::SourceMode::kCdc) {
      return std::unique_ptr<Source>(
          std::make_unique<mysql::MysqlBinlogSource>(std::move(parsed), options));
    }
    return std::unique_ptr<Source>(
        std::make_unique<mysql::MysqlSource>(std::move(parsed), options));
  };
  info.create_sink = [](const config::Options& options) -> Result<std::unique_ptr<Sink>> {
    SLUICE_ASSIGN_OR_RETURN(mysql::MysqlSinkOptions parsed,
                            mysql::MysqlSinkOptions::FromConfig(options));
    return std::unique_ptr<Sink>(std::make_unique<mysql::MysqlSink>(std::move(parsed), options));
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
