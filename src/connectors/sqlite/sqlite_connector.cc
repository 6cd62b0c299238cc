// Registration of the `sqlite` connector: its option tables and factories.
#include <fmt/core.h>

#include "connectors/registry.h"
#include "connectors/stream_naming.h"
#include "connectors/sqlite/sqlite_options.h"
#include "connectors/sqlite/sqlite_sink.h"
#include "connectors/sqlite/sqlite_source.h"

namespace sluice::connectors::sqlite {

namespace {

using config::OptionSpec;
using config::OptionType;

const std::vector<OptionSpec>& SourceTable() {
  static const std::vector<OptionSpec> kOptions = {
      {"path", OptionType::kString, "",
       "SQLite database file to read; it must exist (the source never creates one)", true},
      {"table", OptionType::kString, "", "table (or view) to read; exclusive with 'tables'"},
      {"tables", OptionType::kStringList, "",
       "tables to read, as names or globs such as \"log_*\"; each table is one stream; "
       "exclusive with 'table'"},
      {"columns", OptionType::kStringList, "",
       "columns to read, in this order (default: all columns)"},
      {"where", OptionType::kString, "",
       "SQL condition added to every split's query, e.g. \"status = 'paid'\""},
      {.name = "split_rows", .type = OptionType::kInt, .default_value = "200000",
       .description = "rowids per split; WITHOUT ROWID tables and views are read as one split",
       .min = 1},
  };
  return kOptions;
}

const std::vector<OptionSpec>& SinkTable() {
  static const std::vector<OptionSpec> kOptions = {
      {"path", OptionType::kString, "",
       "SQLite database file to write; created with its directories when missing", true},
      {"table", OptionType::kString, "",
       "target table; '{stream}' is replaced by the stream name (default: the stream name)"},
      {"mode",
       OptionType::kEnum,
       "append",
       "append: insert into the table; overwrite: load a staging table and swap it in "
       "atomically when the job succeeds; apply: apply each change of a changelog (or each "
       "row) by primary key: inserts and updates replace the row with that key, deletes remove "
       "it",
       false,
       {"append", "overwrite", "apply"}},
      {"create", OptionType::kBool, "true",
       "create missing tables from the stream schema (CREATE TABLE IF NOT EXISTS); when false "
       "a missing table is an error"},
      {.name = "commit_rows", .type = OptionType::kInt, .default_value = "200000",
       .description = "rows per transaction under delivery: at_least_once (exactly_once commits "
           "the rows with their progress once per checkpoint instead)", .min = 1},
      {"journal_mode",
       OptionType::kEnum,
       "delete",
       "PRAGMA journal_mode of the database: delete (SQLite's default, fastest for bulk "
       "loads) or wal (readers keep reading while the load runs)",
       false,
       {"wal", "delete", "truncate", "memory", "off"}},
      {"synchronous",
       OptionType::kEnum,
       "normal",
       "PRAGMA synchronous: off is fastest; normal keeps every commit through a crash of the "
       "process; full (journal_mode wal) or extra (other journal modes) also through a power "
       "loss",
       false,
       {"off", "normal", "full", "extra"}},
      {.name = "rows_per_insert", .type = OptionType::kInt, .default_value = "64",
       .description = "rows bound into one multi-row INSERT statement (1 = one statement per row)",
       .min = 1, .max = 1000},
  };
  return kOptions;
}

}  // namespace

std::span<const config::OptionSpec> SqliteSourceOptionTable() {
  return SourceTable();
}
std::span<const config::OptionSpec> SqliteSinkOptionTable() {
  return SinkTable();
}

}  // namespace sluice::connectors::sqlite

namespace sluice::connectors {

void RegisterSqliteConnector(ConnectorRegistry& registry) {
  ConnectorInfo info;
  info.type = "sqlite";
  info.description =
      "SQLite database files: read tables split by rowid ranges; write through multi-row "
      "INSERTs, exactly-once (progress committed with the rows), with atomic overwrite";
  info.source_options = sqlite::SourceTable();
  info.sink_options = sqlite::SinkTable();
  info.create_source = [](const config::Options& options) -> Result<std::unique_ptr<Source>> {
    SLUICE_ASSIGN_OR_RETURN(sqlite::SqliteSourceOptions parsed,
                            sqlite::SqliteSourceOptions::FromConfig(options));
    return std::unique_ptr<Source>(
        std::make_unique<sqlite::SqliteSource>(std::move(parsed), options));
  };
  info.create_sink = [](const config::Options& options) -> Result<std::unique_ptr<Sink>> {
    SLUICE_ASSIGN_OR_RETURN(sqlite::SqliteSinkOptions parsed,
                            sqlite::SqliteSinkOptions::FromConfig(options));
    return std::unique_ptr<Sink>(std::make_unique<sqlite::SqliteSink>(std::move(parsed), options));
  };
  // `sluice verify` reads the target table back through this connector's source.
  info.read_back = [](const config::ConnectorBlock& sink, const std::string& stream,
                      const Schema&) -> Result<ReadBack> {
    ReadBack read_back{ReadBackBlock(sink, {"path"}),
                       ExpandStreamName(ScalarOption(sink, "table"), stream)};
    SetReadBackOption(&read_back.source, "table", read_back.target);
    return read_back;
  };
  registry.Register(std::move(info));
}

}  // namespace sluice::connectors
