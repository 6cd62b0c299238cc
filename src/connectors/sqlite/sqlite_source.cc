#include "connectors/sqlite/sqlite_source.h"

#include <fmt/core.h>
#include <fnmatch.h>
#include <sqlite3.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <limits>
#include <mutex>
#include <nlohmann/json.hpp>

#include "connectors/split_queue.h"
#include "connectors/sqlite/sqlite_catalog.h"
#include "connectors/sqlite/sqlite_types.h"
#include "core/logging.h"
#include "core/strings.h"

namespace sluice::connectors::sqlite {

namespace {

// A running split is cut only when at least twice this many rowids remain unread, so that a cut
// never produces splits whose setup costs more than their rows.
constexpr int64_t kMinCutRows = 1024;
// Caps the splits planned per table: a sparse rowid range (1 .. 10^12) must not plan millions
// of empty splits. Readers still rebalance through SplitRemainder.
constexpr int64_t kMaxSplitsPerTable = 10'000;

bool IsGlob(std::string_view pattern) {
  return pattern.find_first_of("*?[") != std::string_view::npos;
}

std::string RangePayload(const std::string& table, int64_t lo, int64_t hi) {
  nlohmann::json payload = {{"table", table}, {"lo", lo}, {"hi", hi}};
  return payload.dump();
}

std::string RangeSplitId(const std::string& table, int64_t lo, int64_t hi) {
  return fmt::format("{}#{}-{}", table, lo, hi);
}

}  // namespace

struct SqliteSource::Table {
  std::string name;
  SchemaPtr schema;
  std::vector<std::string> column_names;
  /// Rowid name for range reads; empty: one split scanned in primary-key order.
  std::string rowid_name;
  /// Rows are ordered by this in single-split scans (the primary key; empty for views).
  std::string order_by;
  std::string where;
  /// Rowid bounds at Open; `empty` when the table had no rows.
  bool empty = true;
  int64_t min_rowid = 0;
  int64_t max_rowid = 0;
  std::optional<uint64_t> estimated_rows;

  bool has_rowid() const { return !rowid_name.empty(); }

  std::string SelectList() const {
    std::string out;
    for (const std::string& column : column_names) {
      if (!out.empty()) {
        out += ", ";
      }
      out += QuoteIdentifier(column);
    }
    return out;
  }

  /// The reader's query: ?1/?2 are the rowid bounds, or ?1 the offset for single-split scans.
  std::string Query() const {
    std::string filter = where.empty() ? "" : fmt::format(" AND ({})", where);
    if (has_rowid()) {
      return fmt::format("SELECT {0}, {1} FROM {2} WHERE {1} BETWEEN ?1 AND ?2{3} ORDER BY {1}",
                         SelectList(), rowid_name, QuoteIdentifier(name), filter);
    }
    return fmt::format("SELECT {} FROM {}{}{} LIMIT -1 OFFSET ?1", SelectList(),
                       QuoteIdentifier(name),
                       where.empty() ? "" : fmt::format(" WHERE ({})", where),
                       order_by.empty() ? "" : fmt::format(" ORDER BY {}", order_by));
  }
};

namespace {

using Table = SqliteSource::Table;

// Reads one split. Rowid splits re-run their query at every batch with the bounds
// [next_lo_, hi_], so the read transaction never outlives a batch and a cut (SplitRemainder)
// takes effect at the next batch; rows beyond a cut made during a batch are refused row by row
// under mutex_. Single-split scans keep one statement running across batches.
class SqliteSplitReader final : public SplitReader {
 public:
  SqliteSplitReader(std::shared_ptr<const Table> table, int stream, const JobContext& context,
                    Connection db, Statement stmt)
      : table_(std::move(table)),
        stream_(stream),
        context_(context),
        db_(std::move(db)),
        stmt_(std::move(stmt)),
        component_(fmt::format("source:sqlite:{}", table_->name)) {}

  // `payload_lo` is the split's own first rowid; `lo` is where reading starts (later when
  // resuming).
  void StartRange(int64_t payload_lo, int64_t lo, int64_t hi,
                  std::optional<int64_t> resumed_after) {
    std::lock_guard<std::mutex> lock(mutex_);
    ranged_ = true;
    payload_lo_ = payload_lo;
    start_lo_ = lo;
    next_lo_ = lo;
    hi_ = hi;
    if (resumed_after.has_value()) {
      last_rowid_ = *resumed_after;
      has_position_ = true;
    }
  }

  Status StartScan(int64_t offset) {
    rows_consumed_ = offset;
    has_position_ = offset > 0;
    int rc = sqlite3_bind_int64(stmt_.get(), 1, offset);
    if (rc != SQLITE_OK) {
      return db_.Error(rc, Context("cannot start reading"));
    }
    return Status::OK();
  }

  Result<bool> ReadBatch(Batch* batch) override {
    if (context_.cancelled->load(std::memory_order_relaxed) ||
        cancelled_.load(std::memory_order_relaxed)) {
      return Cancelled(Context("reading cancelled"));
    }
    return table_->has_rowid() ? ReadRange(batch) : ReadScan(batch);
  }

  std::string Payload() const override {
    std::lock_guard<std::mutex> lock(mutex_);
    if (!ranged_)
      return {};
    return RangePayload(table_->name, payload_lo_, hi_);
  }

  std::string Position() const override {
    if (!has_position_) {
      return {};
    }
    nlohmann::json position;
    if (table_->has_rowid()) {
      position["rowid"] = last_rowid_;
    } else {
      position["offset"] = rows_consumed_.load();
    }
    return position.dump();
  }

  std::optional<Split> SplitRemainder() override {
    if (!table_->has_rowid()) {
      return std::nullopt;
    }
    std::lock_guard<std::mutex> lock(mutex_);
    if (done_ || next_lo_ > hi_) {
      return std::nullopt;
    }
    __int128 remaining = static_cast<__int128>(hi_) - next_lo_ + 1;
    if (remaining < 2 * static_cast<__int128>(kMinCutRows)) {
      return std::nullopt;
    }
    int64_t mid = next_lo_ + static_cast<int64_t>((remaining - 1) / 2);
    Split split;
    split.id = RangeSplitId(table_->name, mid + 1, hi_);
    split.stream = stream_;
    split.payload = RangePayload(table_->name, mid + 1, hi_);
    split.estimated_rows = static_cast<uint64_t>(hi_ - mid);
    log::Debug(component_, "cut rowids {}..{} off the running split", mid + 1, hi_);
    hi_ = mid;
    return split;
  }

  double Progress() const override {
    if (!table_->has_rowid()) {
      if (!table_->estimated_rows || *table_->estimated_rows == 0) {
        return -1;
      }
      double done = static_cast<double>(rows_consumed_.load(std::memory_order_relaxed)) /
                    static_cast<double>(*table_->estimated_rows);
      return std::min(done, 1.0);
    }
    std::lock_guard<std::mutex> lock(mutex_);
    if (done_ || next_lo_ > hi_) {
      return 1;
    }
    double total = static_cast<double>(hi_) - static_cast<double>(start_lo_) + 1;
    return total <= 0 ? 1
                      : (static_cast<double>(next_lo_) - static_cast<double>(start_lo_)) / total;
  }

  void Cancel() override {
    cancelled_.store(true);
    sqlite3_interrupt(db_.get());
  }

 private:
  std::string Context(std::string_view what) const {
    return fmt::format("table '{}': {}", table_->name, what);
  }

  Result<bool> ReadRange(Batch* batch) {
    int64_t lo;
    int64_t hi;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (done_) {
        return false;
      }
      if (next_lo_ > hi_) {
        done_ = true;
        return false;
      }
      lo = next_lo_;
      hi = hi_;
    }
    sqlite3_stmt* stmt = stmt_.get();
    sqlite3_reset(stmt);
    sqlite3_bind_int64(stmt, 1, lo);
    sqlite3_bind_int64(stmt, 2, hi);
    const int rowid_index = static_cast<int>(table_->column_names.size());
    size_t appended = 0;
    bool exhausted = false;
    for (;;) {
      int rc = sqlite3_step(stmt);
      if (rc == SQLITE_DONE) {
        exhausted = true;
        break;
      }
      if (rc != SQLITE_ROW) {
        Status error = db_.Error(rc, Context(fmt::format("cannot read rowids {}..{}", lo, hi)));
        sqlite3_reset(stmt);
        return error;
      }
      int64_t rowid = sqlite3_column_int64(stmt, rowid_index);
      {
        std::lock_guard<std::mutex> lock(mutex_);
        if (rowid > hi_) {  // cut off by SplitRemainder: the rest belongs to another split
          exhausted = true;
          break;
        }
        if (rowid == std::numeric_limits<int64_t>::max()) {
          hi_ = rowid - 1;  // nothing can follow; avoids overflowing next_lo_
          next_lo_ = rowid;
        } else {
          next_lo_ = rowid + 1;
        }
      }
      Result<bool> kept = AppendRow(batch, rowid);
      if (!kept.ok()) {
        sqlite3_reset(stmt);
        return kept.status();
      }
      last_rowid_ = rowid;
      has_position_ = true;
      if (!*kept) {
        continue;
      }
      ++appended;
      if (batch->full() || batch->ByteSize() >= context_.batch_bytes) {
        break;
      }
    }
    // Releases the read transaction between batches.
    sqlite3_reset(stmt);
    if (exhausted) {
      std::lock_guard<std::mutex> lock(mutex_);
      done_ = true;
    }
    return appended > 0 || !exhausted;
  }

  Result<bool> ReadScan(Batch* batch) {
    if (scan_done_) {
      return false;
    }
    sqlite3_stmt* stmt = stmt_.get();
    size_t appended = 0;
    for (;;) {
      int rc = sqlite3_step(stmt);
      if (rc == SQLITE_DONE) {
        scan_done_ = true;
        sqlite3_reset(stmt);
        break;
      }
      if (rc != SQLITE_ROW) {
        return db_.Error(rc, Context(fmt::format("cannot read row {}", rows_consumed_.load() + 1)));
      }
      SLUICE_ASSIGN_OR_RETURN(bool kept, AppendRow(batch, std::nullopt));
      ++rows_consumed_;
      has_position_ = true;
      if (!kept) {
        continue;
      }
      ++appended;
      if (batch->full() || batch->ByteSize() >= context_.batch_bytes) {
        break;
      }
    }
    return appended > 0 || !scan_done_;
  }

  // Appends the current row. Returns false when a value could not be converted and the
  // bad-record policy chose to skip the row; an error when it chose to stop.
  Result<bool> AppendRow(Batch* batch, std::optional<int64_t> rowid) {
    sqlite3_stmt* stmt = stmt_.get();
    const size_t columns = table_->column_names.size();
    for (size_t i = 0; i < columns; ++i) {
      Status converted = AppendStoredValue(stmt, static_cast<int>(i), &batch->column(i), &scratch_);
      if (converted.ok()) {
        continue;
      }
      batch->DiscardPartialRow();
      BadRecord record;
      record.stream = table_->name;
      record.location = rowid.has_value()
                            ? fmt::format("{} rowid={} column '{}'", table_->name, *rowid,
                                          table_->column_names[i])
                            : fmt::format("{} row {} column '{}'", table_->name,
                                          rows_consumed_.load() + 1, table_->column_names[i]);
      // The reason carries the location first: it is what the job fails with.
      record.reason = converted.WithContext(record.location);
      Status handled = context_.bad_records->Handle(record);
      if (!handled.ok()) {
        return handled;
      }
      return false;
    }
    batch->FinishRow();
    return true;
  }

  std::shared_ptr<const Table> table_;
  int stream_;
  JobContext context_;
  Connection db_;
  Statement stmt_;
  std::string component_;
  std::string scratch_;
  std::atomic<bool> cancelled_{false};

  // Range state shared with SplitRemainder.
  mutable std::mutex mutex_;
  bool ranged_ = false;     // guarded by mutex_: a rowid range (not a single-split scan)
  int64_t payload_lo_ = 0;  // guarded by mutex_: the split's first rowid
  int64_t start_lo_ = 0;    // guarded by mutex_: where this reader started (for Progress)
  int64_t next_lo_ = 0;     // guarded by mutex_: the first rowid not yet taken
  int64_t hi_ = -1;         // guarded by mutex_: the last rowid of this split (shrinks on a cut)
  bool done_ = false;       // guarded by mutex_

  // Reader-thread state.
  int64_t last_rowid_ = 0;
  std::atomic<int64_t> rows_consumed_{0};  // single-split scans; read by Progress()
  bool has_position_ = false;
  bool scan_done_ = false;
};

}  // namespace

SqliteSource::SqliteSource(SqliteSourceOptions options, config::Options config)
    : options_(std::move(options)), config_(std::move(config)) {}

SqliteSource::~SqliteSource() = default;

Status SqliteSource::Open(const JobContext& context) {
  context_ = context;
  std::error_code error;
  if (!std::filesystem::exists(options_.path, error)) {
    return NotFound(fmt::format("SQLite database '{}' does not exist", options_.path));
  }
  SLUICE_ASSIGN_OR_RETURN(Connection db,
                          Connection::Open(options_.path, Connection::Mode::kReadOnly, ""));

  // Resolve names and globs to stored table names, each once, in the order given.
  std::vector<std::string> names;
  auto add = [&](const std::string& name) {
    if (std::find(names.begin(), names.end(), name) == names.end()) {
      names.push_back(name);
    }
  };
  std::vector<std::string> requested =
      options_.table.empty() ? options_.tables : std::vector<std::string>{options_.table};
  std::optional<std::vector<std::string>> all_tables;
  auto table_list = [&]() -> Result<std::string> {
    if (!all_tables) {
      SLUICE_ASSIGN_OR_RETURN(all_tables, ListTables(db, false));
    }
    return JoinNames(*all_tables);
  };
  for (const std::string& entry : requested) {
    if (IsGlob(entry)) {
      SLUICE_ASSIGN_OR_RETURN(std::string list, table_list());
      size_t before = names.size();
      for (const std::string& name : *all_tables) {
        if (fnmatch(entry.c_str(), name.c_str(), FNM_CASEFOLD) == 0) {
          add(name);
        }
      }
      if (names.size() == before) {
        return NotFound(fmt::format("no table matches '{}' in SQLite database '{}' (tables: {})",
                                    entry, options_.path, list));
      }
      continue;
    }
    SLUICE_ASSIGN_OR_RETURN(std::optional<std::string> found, FindTable(db, entry, true));
    if (!found) {
      SLUICE_ASSIGN_OR_RETURN(std::string list, table_list());
      return NotFound(fmt::format("table '{}' not found in SQLite database '{}' (tables: {})",
                                  entry, options_.path, list));
    }
    add(*found);
  }
  for (const std::string& name : names) {
    SLUICE_RETURN_IF_ERROR(OpenTable(db, name));
  }
  return Status::OK();
}

Status SqliteSource::OpenTable(Connection& db, const std::string& name) {
  std::string context = fmt::format("table '{}'", name);
  SLUICE_ASSIGN_OR_RETURN(TableInfo info, DescribeTable(db, name));
  auto table = std::make_shared<Table>();
  table->name = info.name;
  table->rowid_name = info.rowid_name;
  table->where = options_.where;

  // Columns: all, or the requested subset in the requested order.
  std::vector<int> selected;
  if (options_.columns.empty()) {
    for (size_t i = 0; i < info.columns.size(); ++i) {
      selected.push_back(static_cast<int>(i));
    }
  } else {
    for (const std::string& column : options_.columns) {
      int index = info.FindColumn(column);
      if (index < 0) {
        return config_.ErrorAt(
            "columns", fmt::format("unknown column '{}' in table '{}' (columns: {})", column,
                                   info.name, info.ColumnList()));
      }
      selected.push_back(index);
    }
  }

  // The primary key, in key order, as indexes of the selected columns; dropped when any of its
  // columns is not selected (a partial key identifies nothing).
  std::vector<std::pair<int, int>> key;  // (position in key, table column)
  for (size_t i = 0; i < info.columns.size(); ++i) {
    if (info.columns[i].primary_key_position > 0) {
      key.emplace_back(info.columns[i].primary_key_position, static_cast<int>(i));
    }
  }
  std::sort(key.begin(), key.end());
  bool rowid_alias =
      info.has_rowid() && key.size() == 1 &&
      EqualsIgnoringAsciiCase(info.columns[static_cast<size_t>(key[0].second)].declared_type, "INTEGER");
  std::vector<int> primary_key;
  for (const auto& [position, column] : key) {
    auto at = std::find(selected.begin(), selected.end(), column);
    if (at == selected.end()) {
      primary_key.clear();
      break;
    }
    primary_key.push_back(static_cast<int>(at - selected.begin()));
  }
  for (const auto& [position, column] : key) {
    if (!table->order_by.empty()) {
      table->order_by += ", ";
    }
    table->order_by += QuoteIdentifier(info.columns[static_cast<size_t>(column)].name);
  }

  std::vector<Field> fields;
  for (int index : selected) {
    const ColumnInfo& column = info.columns[static_cast<size_t>(index)];
    Field field;
    field.name = column.name;
    field.type = LogicalType(column.declared_type);
    bool key_column = column.primary_key_position > 0;
    // WITHOUT ROWID keys and INTEGER PRIMARY KEY (the rowid itself) can never hold NULL.
    field.nullable = !column.not_null && !(key_column && (!info.has_rowid() || rowid_alias));
    field.native_type = column.declared_type;
    fields.push_back(std::move(field));
    table->column_names.push_back(column.name);
  }
  table->schema = std::make_shared<const Schema>(std::move(fields), std::move(primary_key));

  // Prepare the reader's query once here so that a bad `where` fails before any data moves.
  {
    Result<Statement> probe = db.Prepare(table->Query(), context);
    if (!probe.ok()) {
      if (!options_.where.empty()) {
        return config_.ErrorAt(
            "where", fmt::format("cannot read table '{}' with where '{}': {}", table->name,
                                 options_.where, probe.status().message()));
      }
      return probe.status();
    }
  }

  if (table->has_rowid()) {
    std::string quoted = QuoteIdentifier(table->name);
    SLUICE_ASSIGN_OR_RETURN(
        std::string min_text,
        db.QueryText(fmt::format("SELECT min({}) FROM {}", table->rowid_name, quoted), context));
    SLUICE_ASSIGN_OR_RETURN(
        std::string max_text,
        db.QueryText(fmt::format("SELECT max({}) FROM {}", table->rowid_name, quoted), context));
    table->empty = min_text.empty();
    if (!table->empty) {
      table->min_rowid = std::stoll(min_text);
      table->max_rowid = std::stoll(max_text);
      __int128 span = static_cast<__int128>(table->max_rowid) - table->min_rowid + 1;
      table->estimated_rows = static_cast<uint64_t>(span);
    } else {
      table->estimated_rows = 0;
    }
  } else {
    if (info.is_view) {
      log::Info(fmt::format("source:sqlite:{}", table->name),
                "'{}' is a view; it is read as one split", table->name);
    } else {
      log::Warn(fmt::format("source:sqlite:{}", table->name),
                "table '{}' has no rowid (WITHOUT ROWID); it is read as one split ordered by its "
                "primary key",
                table->name);
      SLUICE_ASSIGN_OR_RETURN(
          std::string count,
          db.QueryText(fmt::format("SELECT count(*) FROM {}", QuoteIdentifier(table->name)),
                       context));
      table->estimated_rows = std::stoull(count);
    }
  }

  StreamInfo stream;
  stream.name = table->name;
  stream.schema = table->schema;
  stream.estimated_rows = table->estimated_rows;
  streams_.push_back(std::move(stream));
  tables_.push_back(std::move(table));
  return Status::OK();
}

Result<std::unique_ptr<SplitEnumerator>> SqliteSource::CreateEnumerator() {
  std::vector<Split> splits;
  for (size_t stream = 0; stream < tables_.size(); ++stream) {
    const Table& table = *tables_[stream];
    if (!table.has_rowid()) {
      Split split;
      split.id = table.name;
      split.stream = static_cast<int>(stream);
      split.payload = nlohmann::json{{"table", table.name}}.dump();
      split.estimated_rows = table.estimated_rows;
      splits.push_back(std::move(split));
      continue;
    }
    if (table.empty) {
      continue;
    }
    __int128 span = static_cast<__int128>(table.max_rowid) - table.min_rowid + 1;
    __int128 count = (span + options_.split_rows - 1) / options_.split_rows;
    count = std::min<__int128>(count, kMaxSplitsPerTable);
    __int128 chunk = (span + count - 1) / count;
    for (__int128 lo = table.min_rowid; lo <= table.max_rowid; lo += chunk) {
      __int128 hi = std::min<__int128>(lo + chunk - 1, table.max_rowid);
      Split split;
      split.id = RangeSplitId(table.name, static_cast<int64_t>(lo), static_cast<int64_t>(hi));
      split.stream = static_cast<int>(stream);
      split.payload = RangePayload(table.name, static_cast<int64_t>(lo), static_cast<int64_t>(hi));
      split.estimated_rows = static_cast<uint64_t>(hi - lo + 1);
      splits.push_back(std::move(split));
    }
  }
  return std::unique_ptr<SplitEnumerator>(std::make_unique<SplitQueue>(std::move(splits)));
}

Result<std::unique_ptr<SplitReader>> SqliteSource::CreateReader(const Split& split,
                                                                const std::string& position) {
  if (split.stream < 0 || static_cast<size_t>(split.stream) >= tables_.size()) {
    return Internal(fmt::format("split '{}' names unknown stream {}", split.id, split.stream));
  }
  std::shared_ptr<const Table> table = tables_[static_cast<size_t>(split.stream)];
  std::string context = fmt::format("table '{}'", table->name);
  nlohmann::json payload = nlohmann::json::parse(split.payload, nullptr, false);
  if (payload.is_discarded() || !payload.is_object() || !payload.contains("table") ||
      payload["table"] != table->name) {
    return Internal(
        fmt::format("{}: split '{}' has a bad payload: {}", context, split.id, split.payload));
  }
  nlohmann::json resume;
  if (!position.empty()) {
    resume = nlohmann::json::parse(position, nullptr, false);
    if (resume.is_discarded() || !resume.is_object()) {
      return Internal(
          fmt::format("{}: bad position '{}' for split '{}'", context, position, split.id));
    }
  }

  SLUICE_ASSIGN_OR_RETURN(Connection db,
                          Connection::Open(options_.path, Connection::Mode::kReadOnly, context));
  SLUICE_ASSIGN_OR_RETURN(Statement stmt, db.Prepare(table->Query(), context, true));
  auto reader = std::make_unique<SqliteSplitReader>(table, split.stream, context_, std::move(db),
                                                    std::move(stmt));
  if (table->has_rowid()) {
    if (!payload.contains("lo") || !payload.contains("hi") || !payload["lo"].is_number_integer() ||
        !payload["hi"].is_number_integer()) {
      return Internal(
          fmt::format("{}: split '{}' has no rowid range: {}", context, split.id, split.payload));
    }
    auto lo = payload["lo"].get<int64_t>();
    auto hi = payload["hi"].get<int64_t>();
    const int64_t payload_lo = lo;
    std::optional<int64_t> resumed_after;
    if (resume.contains("rowid") && resume["rowid"].is_number_integer()) {
      resumed_after = resume["rowid"].get<int64_t>();
      if (*resumed_after >= hi) {
        lo = 1;  // the whole split was read: an empty range
        hi = 0;
      } else {
        lo = std::max(lo, *resumed_after + 1);
      }
    } else if (!position.empty()) {
      return Internal(fmt::format("{}: position '{}' has no rowid", context, position));
    }
    reader->StartRange(payload_lo, lo, hi, resumed_after);
  } else {
    int64_t offset = 0;
    if (resume.contains("offset") && resume["offset"].is_number_integer()) {
      offset = resume["offset"].get<int64_t>();
    } else if (!position.empty()) {
      return Internal(fmt::format("{}: position '{}' has no offset", context, position));
    }
    SLUICE_RETURN_IF_ERROR(reader->StartScan(offset));
  }
  return std::unique_ptr<SplitReader>(std::move(reader));
}

void SqliteSource::Describe(CheckReport* report) const {
  for (const auto& table : tables_) {
    if (!table->has_rowid()) {
      report->Note(fmt::format(
          "sqlite table '{}': no rowid; read as one split ordered by its primary key ({} rows)",
          table->name, table->estimated_rows ? std::to_string(*table->estimated_rows) : "unknown"));
      continue;
    }
    if (table->empty) {
      report->Note(fmt::format("sqlite table '{}': empty", table->name));
      continue;
    }
    report->Note(
        fmt::format("sqlite table '{}': rowids {}..{} (about {} rows), splits of up to {} rowids{}",
                    table->name, table->min_rowid, table->max_rowid, *table->estimated_rows,
                    options_.split_rows,
                    table->where.empty() ? "" : fmt::format(", filtered by '{}'", table->where)));
  }
}

}  // namespace sluice::connectors::sqlite
