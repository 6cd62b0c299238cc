#include "connectors/sqlite/sqlite_options.h"

#include <fmt/core.h>

#include "connectors/stream_naming.h"

namespace sluice::connectors::sqlite {

namespace {

// An error at `key` of the block when we know the block, else a plain config error.
Status ErrorAt(const config::Options* at, std::string_view key, std::string message) {
  if (at != nullptr) {
    return at->ErrorAt(key, message);
  }
  return InvalidConfig(std::move(message));
}

std::string_view Where(const config::Options* at, std::string_view fallback) {
  return at != nullptr && !at->where().empty() ? at->where() : fallback;
}

}  // namespace

Status SqliteSourceOptions::Validate(const config::Options* at) const {
  std::string_view where = Where(at, "source (type sqlite)");
  if (path.empty()) {
    return ErrorAt(at, "path", fmt::format("'path' in {} is empty", where));
  }
  if (table.empty() == tables.empty()) {
    // Neither or both: point at the block, since no single key is wrong.
    return ErrorAt(at, "",
                   fmt::format("{} needs exactly one of 'table' (one table) or 'tables' (a list "
                               "of names or globs)",
                               where));
  }
  for (const std::string& name : tables) {
    if (name.empty()) {
      return ErrorAt(at, "tables", fmt::format("'tables' in {} has an empty name", where));
    }
  }
  return Status::OK();
}

Result<SqliteSourceOptions> SqliteSourceOptions::FromConfig(const config::Options& options) {
  SqliteSourceOptions out;
  out.path = options.GetString("path");
  if (options.Has("table")) {
    out.table = options.GetString("table");
  }
  if (options.Has("tables")) {
    out.tables = options.GetStringList("tables");
    if (out.tables.empty()) {
      return options.ErrorAt(
          "tables", fmt::format("'tables' in {} must list at least one table", options.where()));
    }
  }
  out.columns = options.GetStringList("columns");
  out.where = options.GetString("where");
  if (options.Has("split_rows")) {
    out.split_rows = options.GetInt("split_rows");
  }
  SLUICE_RETURN_IF_ERROR(out.Validate(&options));
  return out;
}

Status SqliteSinkOptions::Validate(const config::Options* at) const {
  std::string_view where = Where(at, "sink (type sqlite)");
  if (path.empty()) {
    return ErrorAt(at, "path", fmt::format("'path' in {} is empty", where));
  }
  static constexpr std::string_view kJournalModes[] = {"wal", "delete", "truncate", "memory",
                                                       "off"};
  static constexpr std::string_view kSynchronous[] = {"off", "normal", "full", "extra"};
  bool known = false;
  for (std::string_view mode : kJournalModes) {
    known = known || mode == journal_mode;
  }
  if (!known) {
    return ErrorAt(at, "journal_mode",
                   fmt::format("'journal_mode' in {} must be one of: wal, delete, truncate, "
                               "memory, off, got '{}'",
                               where, journal_mode));
  }
  known = false;
  for (std::string_view mode : kSynchronous) {
    known = known || mode == synchronous;
  }
  if (!known) {
    return ErrorAt(
        at, "synchronous",
        fmt::format("'synchronous' in {} must be one of: off, normal, full, extra, got '{}'", where,
                    synchronous));
  }
  return Status::OK();
}

Result<SqliteSinkOptions> SqliteSinkOptions::FromConfig(const config::Options& options) {
  SqliteSinkOptions out;
  out.path = options.GetString("path");
  out.table = options.GetString("table");
  std::string mode = options.GetString("mode");
  out.mode = mode == "overwrite" ? WriteMode::kOverwrite
             : mode == "apply"   ? WriteMode::kApply
                                 : WriteMode::kAppend;
  if (options.Has("create")) {
    out.create = options.GetBool("create");
  }
  if (options.Has("commit_rows")) {
    out.commit_rows = options.GetInt("commit_rows");
  }
  if (options.Has("journal_mode")) {
    out.journal_mode = options.GetString("journal_mode");
  }
  if (options.Has("synchronous")) {
    out.synchronous = options.GetString("synchronous");
  }
  if (options.Has("rows_per_insert")) {
    out.rows_per_insert = options.GetInt("rows_per_insert");
  }
  SLUICE_RETURN_IF_ERROR(out.Validate(&options));
  return out;
}

std::string SqliteSinkOptions::TableFor(const std::string& stream_name) const {
  return ExpandStreamName(table, stream_name);
}

}  // namespace sluice::connectors::sqlite
