#include "connectors/mysql/mysql_options.h"

#include <fmt/core.h>

#include "connectors/sql/connection_options.h"

namespace sluice::connectors::mysql {

namespace {

using config::OptionSpec;
using config::OptionType;

const std::vector<OptionSpec>& SourceTable() {
  static const std::vector<OptionSpec> kOptions = sql::WithConnectionOptions(
      "3306", "database (schema) holding the tables",
      {
          {"table", OptionType::kString, "", "table to read; exclusive with 'tables'"},
          {"tables", OptionType::kStringList, "",
           "tables to read, as names or globs such as \"log_*\" (\"*\" = every base table); each "
           "table is one stream named after it; exclusive with 'table'"},
          {"columns", OptionType::kStringList, "",
           "columns to read, in this order (default: all columns)"},
          {"where", OptionType::kString, "",
           "SQL condition pushed into every query, e.g. \"status = 'paid'\""},
          {.name = "split_rows", .type = OptionType::kInt, .default_value = "200000",
           .description = "rows per chunk; chunk boundaries come from the real key distribution",
           .min = 1},
          {.name = "page_rows", .type = OptionType::kInt, .default_value = "50000",
           .description = "rows per query while reading a chunk (keyset pagination)", .min = 1},
          {"consistency",
           OptionType::kEnum,
           "snapshot",
           "snapshot: every reader sees one consistent snapshot and the binlog position is "
           "recorded (needs the RELOAD privilege for a millisecond FLUSH TABLES WITH READ LOCK); "
           "per_split: each chunk is consistent on its own",
           false,
           {"snapshot", "per_split"}},
          {"zero_dates",
           OptionType::kEnum,
           "error",
           "MySQL zero dates ('0000-00-00'): error stops the job naming table, key and column; "
           "null "
           "reads them as NULL; string turns the table's date columns into strings carrying the "
           "text MySQL prints",
           false,
           {"error", "null", "string"}},
          {"geometry",
           OptionType::kEnum,
           "wkb",
           "spatial columns as WKB bytes (ST_AsBinary) or WKT strings (ST_AsText)",
           false,
           {"wkb", "wkt"}},
          {"tidb_replica_read",
           OptionType::kEnum,
           "leader",
           "TiDB only: which replicas serve reads (SET tidb_replica_read)",
           false,
           {"leader", "follower", "leader-and-follower"}},
          {"tidb_region_splits", OptionType::kBool, "false",
           "TiDB only: plan chunks along the table's regions (integer keys)"},
          {"mode",
           OptionType::kEnum,
           "snapshot",
           "snapshot: read the tables as they are and end; cdc: stream their changes (inserts, "
           "updates, deletes) from the binary log until stopped (needs binlog_format ROW, "
           "binlog_row_image FULL and the REPLICATION SLAVE and REPLICATION CLIENT privileges); "
           "snapshot_then_cdc: read the tables in one consistent snapshot, then stream their "
           "changes from the binlog position it was taken at (also needs RELOAD)",
           false,
           {"snapshot", "cdc", "snapshot_then_cdc"}},
          {.name = "server_id", .type = OptionType::kInt, .default_value = "",
           .description = "cdc: the replica server id the binlog stream registers with, unique "
               "among the server's replicas (default: a number in 2^31..2^32-1 derived from the "
               "job name)", .min = 1, .max = 4294967295.0},
          {"start_from",
           OptionType::kString,
           "current",
           "cdc, first run: where the stream starts (a later run resumes from its checkpoint); "
           "current: the server's binlog position when the job starts; earliest: the oldest "
           "binlog the server keeps; FILE:POSITION (binlog.000042:4): an event's start, as SHOW "
           "BINLOG EVENTS lists them"},
          {.name = "decode_threads", .type = OptionType::kInt, .default_value = "1",
           .description = "cdc: threads that decode row events; 1 decodes them on the reader's "
               "thread, more read the binlog ahead and decode on their own threads, which pays "
               "only where cores are idle beside the job's readers and writers",
           .min = 1, .max = 64},
      });
  return kOptions;
}

const std::vector<OptionSpec>& SinkTable() {
  static const std::vector<OptionSpec> kOptions = sql::WithConnectionOptions(
      "3306", "database (schema) to write into",
      {
          {"table", OptionType::kString, "",
           "target table; '{stream}' is replaced by the stream name (default: the stream name)"},
          {"mode",
           OptionType::kEnum,
           "append",
           "append: insert rows (a duplicate key is a bad record); upsert: insert or update by "
           "primary key; overwrite: load a staging table and swap it in atomically at the end; "
           "apply: apply each change of a changelog (or each row) by primary key: inserts and "
           "updates replace the row with that key, deletes remove it",
           false,
           {"append", "upsert", "overwrite", "apply"}},
          {"create", OptionType::kBool, "true",
           "create missing tables from the stream schema (CREATE TABLE IF NOT EXISTS); when false "
           "a missing table is an error"},
          {"method",
           OptionType::kEnum,
           "load_data",
           "load_data: LOAD DATA LOCAL INFILE streamed from memory (fastest, needs local_infile on "
           "the server); insert: multi-row INSERT statements",
           false,
           {"load_data", "insert"}},
          {.name = "commit_rows", .type = OptionType::kInt, .default_value = "200000",
           .description = "rows per transaction of each writer under delivery: at_least_once "
               "(exactly_once commits once per checkpoint, rows and progress together)", .min = 1},
          {.name = "insert_rows", .type = OptionType::kInt, .default_value = "500",
           .description = "rows per multi-row INSERT (method insert)", .min = 1, .max = 100'000},
          {"negative_zero",
           OptionType::kEnum,
           "error",
           "a float's -0, which MySQL and MariaDB store in FLOAT and DOUBLE columns as 0: error "
           "refuses it as a data error naming table, key and column; zero stores 0",
           false,
           {"error", "zero"}},
          {"progress_table", OptionType::kString, "_sluice_progress",
           "delivery: exactly_once: table in 'database' holding each split's progress, committed "
           "in "
           "the same transaction as its rows (created when missing)"},
      });
  return kOptions;
}

}  // namespace

uint32_t DefaultServerId(std::string_view job_name) {
  uint32_t hash = 2166136261u;  // FNV-1a
  for (char c : job_name) {
    hash ^= static_cast<unsigned char>(c);
    hash *= 16777619u;
  }
  return 0x80000000u | hash;
}

Status MysqlSourceOptions::Validate(const config::Options* at) const {
  std::string_view where = sql::BlockName(at, "source (type mysql)");
  SLUICE_RETURN_IF_ERROR(sql::ValidateConnection(connection, at, where));
  SLUICE_RETURN_IF_ERROR(sql::ValidateTableSelection(*this, at, where, sql::QuoteRules::kMysql));
  if (mode != SourceMode::kSnapshot && !this->where.empty()) {
    return sql::OptionError(at, "where",
                            fmt::format("'where' in {} does not apply to change data capture "
                                        "(every change of the tables is captured); remove it",
                                        where));
  }
  if (start_from != "current" && start_from != "earliest") {
    size_t colon = start_from.rfind(':');
    bool valid = colon != std::string::npos && colon > 0 && colon + 1 < start_from.size() &&
                 start_from.find_first_not_of("0123456789", colon + 1) == std::string::npos;
    if (!valid) {
      return sql::OptionError(at, "start_from",
                              fmt::format("'start_from' in {} must be current, earliest or "
                                          "FILE:POSITION (binlog.000042:4), got '{}'",
                                          where, start_from));
    }
  }
  if (mode == SourceMode::kSnapshotThenCdc && start_from != "current") {
    return sql::OptionError(at, "start_from",
                            fmt::format("mode: snapshot_then_cdc in {} streams from where its "
                                        "snapshot was taken: remove start_from",
                                        where));
  }
  if (mode == SourceMode::kSnapshotThenCdc && consistency == Consistency::kPerSplit) {
    return sql::OptionError(at, "consistency",
                            fmt::format("mode: snapshot_then_cdc in {} starts the change stream "
                                        "where one snapshot of every table was taken: remove "
                                        "consistency: per_split",
                                        where));
  }
  if (tidb_replica_read != "leader" && tidb_replica_read != "follower" &&
      tidb_replica_read != "leader-and-follower") {
    return sql::OptionError(at, "tidb_replica_read",
                            fmt::format("'tidb_replica_read' in {} must be leader, follower or "
                                        "leader-and-follower, got '{}'",
                                        where, tidb_replica_read));
  }
  return Status::OK();
}

Result<MysqlSourceOptions> MysqlSourceOptions::FromConfig(const config::Options& options) {
  MysqlSourceOptions out;
  sql::ReadConnection(options, &out.connection);
  SLUICE_RETURN_IF_ERROR(sql::ReadTableSelection(options, &out));
  out.consistency = options.GetString("consistency") == "per_split" ? Consistency::kPerSplit
                                                                    : Consistency::kSnapshot;
  std::string zero_dates = options.GetString("zero_dates");
  out.zero_dates = zero_dates == "null"     ? ZeroDates::kNull
                   : zero_dates == "string" ? ZeroDates::kString
                                            : ZeroDates::kError;
  out.geometry =
      options.GetString("geometry") == "wkt" ? GeometryFormat::kWkt : GeometryFormat::kWkb;
  out.tidb_replica_read = options.GetString("tidb_replica_read");
  out.tidb_region_splits = options.GetBool("tidb_region_splits");
  const std::string mode = options.GetString("mode");
  out.mode = mode == "cdc"                 ? SourceMode::kCdc
             : mode == "snapshot_then_cdc" ? SourceMode::kSnapshotThenCdc
                                           : SourceMode::kSnapshot;
  if (options.Has("server_id"))
    out.server_id = static_cast<uint32_t>(options.GetInt("server_id"));
  out.start_from = options.GetString("start_from");
  out.decode_threads = static_cast<int>(options.GetInt("decode_threads"));
  SLUICE_RETURN_IF_ERROR(out.Validate(&options));
  return out;
}

Status MysqlSinkOptions::Validate(const config::Options* at) const {
  std::string_view where = sql::BlockName(at, "sink (type mysql)");
  SLUICE_RETURN_IF_ERROR(sql::ValidateConnection(connection, at, where));
  SLUICE_RETURN_IF_ERROR(sql::ValidateSinkTarget(*this, at, where));
  // 64 characters is MySQL's limit for a table name.
  if (progress_table.empty() || progress_table.size() > 64) {
    return sql::OptionError(at, "progress_table",
                            fmt::format("'progress_table' in {} must be a table name of 1 to 64 "
                                        "characters, got '{}'",
                                        where, progress_table));
  }
  return Status::OK();
}

Result<MysqlSinkOptions> MysqlSinkOptions::FromConfig(const config::Options& options) {
  MysqlSinkOptions out;
  sql::ReadConnection(options, &out.connection);
  sql::ReadSinkTarget(options, &out);
  out.method =
      options.GetString("method") == "insert" ? LoadMethod::kInsert : LoadMethod::kLoadData;
  out.connection.local_infile = out.method == LoadMethod::kLoadData;
  out.insert_rows = options.GetInt("insert_rows");
  out.negative_zero_as_zero = options.GetString("negative_zero") == "zero";
  SLUICE_RETURN_IF_ERROR(out.Validate(&options));
  return out;
}

std::span<const config::OptionSpec> MysqlSourceOptionTable() {
  return SourceTable();
}
std::span<const config::OptionSpec> MysqlSinkOptionTable() {
  return SinkTable();
}

}  // namespace sluice::connectors::mysql
