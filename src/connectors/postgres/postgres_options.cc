#include "connectors/postgres/postgres_options.h"

#include <fmt/core.h>

#include "connectors/sql/connection_options.h"

namespace sluice::connectors::postgres {

namespace {

using config::OptionSpec;
using config::OptionType;

const std::vector<OptionSpec>& SourceTable() {
  static const std::vector<OptionSpec> kOptions = sql::WithConnectionOptions(
      "5432", "database name",
      {
          {"table", OptionType::kString, "",
           "table to read, 'table' or 'schema.table' (default schema public); exclusive with "
           "'tables'"},
          {"tables", OptionType::kStringList, "",
           "tables to read as names or globs (\"log_*\", \"shop.*\", \"*\" for every table of "
           "public); each table is one stream named 'table' (public) or 'schema.table'"},
          {"columns", OptionType::kStringList, "", "columns to read, in this order (default: all)"},
          {"where", OptionType::kString, "",
           "SQL condition added to every query, e.g. \"status = 'paid'\""},
          {.name = "split_rows", .type = OptionType::kInt, .default_value = "200000",
           .description = "rows per split; boundaries are keys taken from the real distribution",
           .min = 1},
          {.name = "page_rows", .type = OptionType::kInt, .default_value = "50000",
           .description = "rows per query inside a split", .min = 1},
          {"consistency",
           OptionType::kEnum,
           "snapshot",
           "snapshot: every reader shares one exported snapshot (the job sees one instant); "
           "per_split: each split reads in its own transaction",
           false,
           {"snapshot", "per_split"}},
          {"mode",
           OptionType::kEnum,
           "snapshot",
           "snapshot: read the tables as they are and end; cdc: stream their changes (inserts, "
           "updates, deletes) from a logical replication slot until stopped; "
           "snapshot_then_cdc: read the tables in the snapshot the slot's creation exported, "
           "then stream their changes from exactly there",
           false,
           {"snapshot", "cdc", "snapshot_then_cdc"}},
          {"slot", OptionType::kString, "",
           "cdc: the logical replication slot (pgoutput), created when missing (default: "
           "sluice_<job name>)"},
          {"publication", OptionType::kString, "",
           "cdc: the publication naming the tables, created when missing and extended with "
           "tables it lacks (default: the slot's name)"},
          {.name = "slot_wal_warn_mb", .type = OptionType::kInt, .default_value = "1024",
           .description = "cdc: warn when the slot holds back more WAL than this many MB (a "
               "stopped job, or a sink that cannot keep up)", .min = 1},
      });
  return kOptions;
}

const std::vector<OptionSpec>& SinkTable() {
  static const std::vector<OptionSpec> kOptions = sql::WithConnectionOptions(
      "5432", "database name",
      {
          {"table", OptionType::kString, "",
           "target table, 'table' or 'schema.table'; '{stream}' is replaced by the stream name "
           "(default: the stream name)"},
          {"mode",
           OptionType::kEnum,
           "append",
           "append: COPY into the table; upsert: insert or update by primary key; overwrite: load "
           "a staging table and swap it in atomically when the job succeeds; apply: apply each "
           "change of a changelog (or each row) by primary key: inserts and updates replace the "
           "row with that key, deletes remove it",
           false,
           {"append", "upsert", "overwrite", "apply"}},
          {"create", OptionType::kBool, "true",
           "create missing tables from the stream schema; when false a missing table is an error"},
          {.name = "commit_rows", .type = OptionType::kInt, .default_value = "500000",
           .description = "rows per transaction of each writer under delivery: at_least_once "
               "(exactly_once commits at checkpoints only)", .min = 1},
          {"progress_table", OptionType::kString, "public._sluice_progress",
           "table ('schema.table') receiving each split's progress in the same transaction as its "
           "rows (delivery: exactly_once); created when missing"},
      });
  return kOptions;
}

}  // namespace

Status PostgresSourceOptions::Validate(const config::Options* at) const {
  std::string_view where = sql::BlockName(at, "source (type postgres)");
  SLUICE_RETURN_IF_ERROR(sql::ValidateConnection(connection, at, where));
  SLUICE_RETURN_IF_ERROR(
      sql::ValidateTableSelection(*this, at, where, sql::QuoteRules::kPostgres));
  return Status::OK();
}

Result<PostgresSourceOptions> PostgresSourceOptions::FromConfig(const config::Options& options) {
  PostgresSourceOptions out;
  sql::ReadConnection(options, &out.connection);
  SLUICE_RETURN_IF_ERROR(sql::ReadTableSelection(options, &out));
  out.consistency = options.GetString("consistency") == "per_split" ? Consistency::kPerSplit
                                                                    : Consistency::kSnapshot;
  const std::string mode = options.GetString("mode");
  out.mode = mode == "cdc"                 ? SourceMode::kCdc
             : mode == "snapshot_then_cdc" ? SourceMode::kSnapshotThenCdc
                                           : SourceMode::kSnapshot;
  out.slot = options.GetString("slot");
  out.publication = options.GetString("publication");
  out.slot_wal_warn_mb = options.GetInt("slot_wal_warn_mb");
  SLUICE_RETURN_IF_ERROR(out.Validate(&options));
  return out;
}

Status PostgresSinkOptions::Validate(const config::Options* at) const {
  std::string_view where = sql::BlockName(at, "sink (type postgres)");
  SLUICE_RETURN_IF_ERROR(sql::ValidateConnection(connection, at, where));
  SLUICE_RETURN_IF_ERROR(sql::ValidateSinkTarget(*this, at, where));
  if (progress_table.empty() || progress_table.front() == '.' || progress_table.back() == '.') {
    return sql::OptionError(
        at, "progress_table",
        fmt::format("'progress_table' in {} must be 'table' or 'schema.table', got '{}'", where,
                    progress_table));
  }
  return Status::OK();
}

Result<PostgresSinkOptions> PostgresSinkOptions::FromConfig(const config::Options& options) {
  PostgresSinkOptions out;
  sql::ReadConnection(options, &out.connection);
  sql::ReadSinkTarget(options, &out);
  SLUICE_RETURN_IF_ERROR(out.Validate(&options));
  return out;
}

std::span<const config::OptionSpec> PostgresSourceOptionTable() {
  return SourceTable();
}
std::span<const config::OptionSpec> PostgresSinkOptionTable() {
  return SinkTable();
}

}  // namespace sluice::connectors::postgres
