#include "connectors/sql/connection_options.h"

#include <fmt/core.h>

#include "connectors/stream_naming.h"

namespace sluice::connectors::sql {

std::string ConnectionOptions::Describe() const {
  return fmt::format("{} {}:{}", system, host, port);
}

std::vector<config::OptionSpec> WithConnectionOptions(std::string_view default_port,
                                                      std::string_view database_description,
                                                      std::vector<config::OptionSpec> rest) {
  using config::OptionType;
  std::vector<config::OptionSpec> out = {
      {"host", OptionType::kString, "127.0.0.1", "server host name or address"},
      {.name = "port", .type = OptionType::kInt, .default_value = default_port,
       .description = "server TCP port", .min = 1, .max = 65535},
      {"user", OptionType::kString, "", "user name", true},
      {"password", OptionType::kSecret, "", "password; never logged nor shown in errors"},
      {"database", OptionType::kString, "", database_description, true},
      {.name = "connect_timeout_secs", .type = OptionType::kInt, .default_value = "10",
       .description = "seconds to wait for a connection", .min = 0},
  };
  for (config::OptionSpec& spec : rest)
    out.push_back(std::move(spec));
  return out;
}

void ReadConnection(const config::Options& options, ConnectionOptions* out) {
  out->host = options.GetString("host");
  out->port = static_cast<int>(options.GetInt("port"));
  out->user = options.GetString("user");
  out->password = options.GetSecret("password");
  out->database = options.GetString("database");
  out->connect_timeout_secs = static_cast<int>(options.GetInt("connect_timeout_secs"));
}

Status OptionError(const config::Options* at, std::string_view key, std::string message) {
  if (at != nullptr)
    return at->ErrorAt(key, message);
  return InvalidConfig(std::move(message));
}

std::string_view BlockName(const config::Options* at, std::string_view fallback) {
  return at != nullptr && !at->where().empty() ? at->where() : fallback;
}

Status ValidateConnection(const ConnectionOptions& connection, const config::Options* at,
                          std::string_view where) {
  if (connection.host.empty()) {
    return OptionError(at, "host", fmt::format("'host' in {} is empty", where));
  }
  if (connection.user.empty()) {
    return OptionError(at, "user", fmt::format("'user' in {} is empty", where));
  }
  if (connection.database.empty()) {
    return OptionError(at, "database", fmt::format("'database' in {} is empty", where));
  }
  return Status::OK();
}

Status ReadTableSelection(const config::Options& options, TableSelection* out) {
  if (options.Has("table"))
    out->table = options.GetString("table");
  if (options.Has("tables")) {
    out->tables = options.GetStringList("tables");
    if (out->tables.empty()) {
      return options.ErrorAt(
          "tables", fmt::format("'tables' in {} must list at least one table", options.where()));
    }
  }
  out->columns = options.GetStringList("columns");
  out->where = options.GetString("where");
  out->split_rows = options.GetInt("split_rows");
  out->page_rows = options.GetInt("page_rows");
  return Status::OK();
}

Status ValidateTableSelection(const TableSelection& selection, const config::Options* at,
                              std::string_view where, QuoteRules quote_rules) {
  Status condition = CheckWhereCondition(selection.where, quote_rules);
  if (!condition.ok()) {
    return OptionError(at, "where",
                       fmt::format("'where' in {} must be one condition on its own ({}): Sluice "
                                   "puts it in parentheses beside its own conditions",
                                   where, condition.message()));
  }
  if (selection.table.empty() == selection.tables.empty()) {
    return OptionError(at, "",
                       fmt::format("{} needs exactly one of 'table' (one table) or 'tables' (a "
                                   "list of names or globs)",
                                   where));
  }
  for (const std::string& name : selection.tables) {
    if (name.empty()) {
      return OptionError(at, "tables", fmt::format("'tables' in {} has an empty name", where));
    }
  }
  for (const std::string& name : selection.columns) {
    if (name.empty()) {
      return OptionError(at, "columns", fmt::format("'columns' in {} has an empty name", where));
    }
  }
  return Status::OK();
}

std::string SinkTarget::TableFor(const std::string& stream_name) const {
  return ExpandStreamName(table, stream_name);
}

std::string_view WriteModeName(WriteMode mode) {
  switch (mode) {
    case WriteMode::kAppend:
      return "append";
    case WriteMode::kUpsert:
      return "upsert";
    case WriteMode::kOverwrite:
      return "overwrite";
    case WriteMode::kApply:
      return "apply";
  }
  return "append";
}

void ReadSinkTarget(const config::Options& options, SinkTarget* out) {
  out->table = options.GetString("table");
  std::string mode = options.GetString("mode");
  out->mode = mode == "upsert"      ? WriteMode::kUpsert
              : mode == "overwrite" ? WriteMode::kOverwrite
              : mode == "apply"     ? WriteMode::kApply
                                    : WriteMode::kAppend;
  out->create = options.GetBool("create");
  out->commit_rows = options.GetInt("commit_rows");
  out->progress_table = options.GetString("progress_table");
}

Status ValidateSinkTarget(const SinkTarget& target, const config::Options* at,
                          std::string_view where) {
  if (target.commit_rows < 1) {
    return OptionError(
        at, "commit_rows",
        fmt::format("'commit_rows' in {} must be at least 1, got {}", where, target.commit_rows));
  }
  return Status::OK();
}

}  // namespace sluice::connectors::sql
