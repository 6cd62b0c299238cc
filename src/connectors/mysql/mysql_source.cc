#include "connectors/mysql/mysql_source.h"

#include <fmt/core.h>

#include <algorithm>
#include <atomic>
#include <future>
#include <mutex>
#include <map>
#include <set>

#include "connectors/mysql/mysql_catalog.h"
#include "connectors/mysql/mysql_client.h"
#include "connectors/mysql/mysql_digest.h"
#include "connectors/mysql/mysql_result_reader.h"
#include "connectors/mysql/mysql_snapshot.h"
#include "connectors/mysql/mysql_types.h"
#include "connectors/split_queue.h"
#include "connectors/sql/keyset.h"
#include "core/logging.h"
#include "core/strings.h"
#include "core/temporal.h"
#include "core/value_text.h"

namespace sluice::connectors::mysql {

struct MysqlSource::Table {
  std::string database;
  std::string name;
  /// "db.table", for messages and bad-record locations.
  std::string display;
  /// The result columns: the selected ones (batch columns, in order), then key columns the
  /// selection left out (fetched only to know the last key).
  std::vector<SourceColumn> columns;
  size_t batch_columns = 0;
  /// Result positions of the key columns, in key order; empty when keyless.
  std::vector<size_t> key_columns;
  sql::ChunkedTable chunked;
  SchemaPtr schema;
  std::string where;
  ZeroDates zero_dates = ZeroDates::kError;
  std::string engine;

  bool keyless() const { return key_columns.empty(); }

  std::string SelectList() const {
    std::string out;
    for (const SourceColumn& column : columns) {
      if (!out.empty())
        out += ", ";
      out += column.select_expression;
    }
    return out;
  }

  std::string KeySelectList() const {
    std::string out;
    for (size_t index : key_columns) {
      if (!out.empty())
        out += ", ";
      out += QuoteIdentifier(columns[index].info.name);
    }
    return out;
  }

  /// " WHERE (<condition>) AND (<where>)", or less.
  std::string WhereClause(const std::string& condition) const {
    if (condition.empty() && where.empty())
      return "";
    if (condition.empty())
      return fmt::format(" WHERE ({})", where);
    if (where.empty())
      return fmt::format(" WHERE {}", condition);
    return fmt::format(" WHERE {} AND ({})", condition, where);
  }

  std::string QualifiedName() const { return mysql::QualifiedName(database, name); }
};

namespace {

using Table = MysqlSource::Table;

// Renders a key value (canonical text) as an SQL literal for column `column`.
std::string KeyLiteral(const SourceColumn& column, const std::string& text) {
  const DataType& type = column.type;
  if (!column.members.empty()) {
    // ENUM and SET sort by member position, so compare positions, never strings.
    if (column.info.data_type == "enum") {
      for (size_t i = 0; i < column.members.size(); ++i) {
        if (column.members[i] == text)
          return std::to_string(i + 1);
      }
      return text.empty() ? "0" : Utf8Literal(text);
    }
    uint64_t mask = 0;
    size_t start = 0;
    while (start <= text.size() && !text.empty()) {
      size_t comma = text.find(',', start);
      std::string member =
          text.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
      for (size_t i = 0; i < column.members.size() && i < 64; ++i) {
        if (column.members[i] == member)
          mask |= uint64_t{1} << i;
      }
      if (comma == std::string::npos)
        break;
      start = comma + 1;
    }
    return std::to_string(mask);
  }
  if (column.kind == ValueKind::kTemporalText)
    return "'" + text + "'";
  switch (type.id) {
    case TypeId::kBool:
    case TypeId::kInt8:
    case TypeId::kInt16:
    case TypeId::kInt32:
    case TypeId::kInt64:
    case TypeId::kUInt8:
    case TypeId::kUInt16:
    case TypeId::kUInt32:
    case TypeId::kUInt64:
    case TypeId::kFloat32:
    case TypeId::kFloat64:
    case TypeId::kDecimal:
      return text;
    case TypeId::kBytes: {
      std::string bytes;
      if (!DecodeHexBytes(text, &bytes).ok())
        return Utf8Literal(text);
      return BinaryLiteral(bytes);
    }
    case TypeId::kDate: {
      Result<int32_t> days = ParseDate(text);
      std::string out = "'";
      if (!days.ok() || !AppendMysqlDate(*days, &out))
        return "'" + text + "'";
      return out + "'";
    }
    case TypeId::kTimestamp:
    case TypeId::kTimestampTz: {
      Result<int64_t> micros = ParseTimestamp(text, type.id == TypeId::kTimestampTz);
      std::string out = "'";
      if (!micros.ok() || !AppendMysqlDateTime(*micros, &out))
        return "'" + text + "'";
      return out + "'";
    }
    case TypeId::kTime: {
      Result<int64_t> micros = ParseTime(text);
      std::string out = "'";
      if (!micros.ok() || !AppendMysqlTime(*micros, &out))
        return "'" + text + "'";
      return out + "'";
    }
    default:
      return Utf8Literal(text);
  }
}

// The database side of keyset reading for one table on one connection (sql/keyset.h). A reader
// cursor owns the connection it borrowed from the pool; the planner's cursors use the pool's
// planner connection.
class MysqlCursor final : public sql::KeysetCursor {
 public:
  MysqlCursor(std::shared_ptr<const Table> table, Connection* planner, const JobContext* context)
      : table_(std::move(table)), connection_(planner), context_(context) {
    Init();
  }
  MysqlCursor(std::shared_ptr<const Table> table, Connection owned, const JobContext* context)
      : table_(std::move(table)), owned_(std::move(owned)), context_(context) {
    connection_ = &owned_;
    Init();
  }
  ~MysqlCursor() override { (void)ClosePage(); }

  Status OpenPage(const std::string& condition, uint64_t limit) override {
    std::string sql = fmt::format("SELECT {} FROM {}{}", table_->SelectList(),
                                  table_->QualifiedName(), table_->WhereClause(condition));
    if (!table_->keyless())
      sql += " ORDER BY " + table_->KeySelectList();
    if (limit > 0)
      sql += fmt::format(" LIMIT {}", limit);
    SLUICE_RETURN_IF_ERROR(Track(PrepareAndStart(sql, &page_, reader_.get())));
    page_open_ = true;
    return Status::OK();
  }

  Result<bool> Fill(Batch* batch, size_t max_bytes, sql::Key* last_key, uint64_t* rows) override {
    *rows = 0;
    if (!page_open_)
      return false;
    const size_t columns = table_->batch_columns;
    // The key of the last row consumed (skipped rows count too, so that the next page starts
    // after them). A single integer key column among the batch's (the usual key) is read from
    // the batch once per call; any other key is rendered as text for every row.
    bool last_row_skipped = false;
    auto key_from_batch = [&] {
      if (!key_in_batch_ || *rows == 0 || last_row_skipped)
        return;
      std::string text;
      AppendValueText(batch->column(table_->key_columns[0]), batch->num_rows() - 1, &text);
      last_key->assign(1, std::move(text));
    };
    while (!batch->full() && batch->ByteSize() < max_bytes) {
      Result<bool> next = reader_->Next();
      if (!next.ok())
        return Track(next.status());
      if (!*next) {
        key_from_batch();
        (void)ClosePage();
        return false;
      }
      ++*rows;
      ++rows_consumed_;
      Status converted = reader_->AppendRow(batch, columns);
      if (!key_in_batch_ && !table_->keyless()) {
        last_key->resize(table_->key_columns.size());
        for (size_t k = 0; k < table_->key_columns.size(); ++k) {
          (*last_key)[k].clear();
          reader_->AppendText(table_->key_columns[k], &(*last_key)[k]);
        }
      }
      if (converted.ok()) {
        batch->FinishRow();
        last_row_skipped = false;
        continue;
      }
      batch->DiscardPartialRow();
      if (key_in_batch_) {
        last_key->resize(1);
        (*last_key)[0].clear();
        reader_->AppendText(table_->key_columns[0], &(*last_key)[0]);
        last_row_skipped = true;
      }
      // Only a value the policy refuses is a bad record; a failed fetch is the connection's.
      if (converted.code() != StatusCode::kDataError)
        return Track(converted);
      SLUICE_RETURN_IF_ERROR(HandleBadRow(converted));
    }
    key_from_batch();
    return true;
  }

  Status ClosePage() override {
    if (!page_open_)
      return Status::OK();
    reader_->Finish();
    page_.Reset();
    page_open_ = false;
    return Status::OK();
  }

  Result<std::optional<sql::Key>> KeyAtOffset(const std::string& condition,
                                              uint64_t offset) override {
    return QueryKey(fmt::format("SELECT {0} FROM {1}{2} ORDER BY {0} LIMIT 1 OFFSET {3}",
                                table_->KeySelectList(), table_->QualifiedName(),
                                table_->WhereClause(condition), offset));
  }

  Result<std::optional<sql::Key>> MaxKey(const std::string& condition) override {
    std::string descending;
    for (size_t index : table_->key_columns) {
      if (!descending.empty())
        descending += ", ";
      descending += QuoteIdentifier(table_->columns[index].info.name) + " DESC";
    }
    return QueryKey(fmt::format("SELECT {} FROM {}{} ORDER BY {} LIMIT 1", table_->KeySelectList(),
                                table_->QualifiedName(), table_->WhereClause(condition),
                                descending));
  }

  Result<uint64_t> CountRows(const std::string& condition) override {
    Result<std::optional<TextRow>> row =
        connection_->QueryRow(fmt::format("SELECT COUNT(*) FROM {}{}", table_->QualifiedName(),
                                          table_->WhereClause(condition)),
                              What());
    if (!row.ok())
      return Track(row.status());
    if (!*row || (*row)->empty() || !(**row)[0])
      return uint64_t{0};
    return static_cast<uint64_t>(std::stoull(*(**row)[0]));
  }

  void Cancel() override { Connection::KillQuery(kill_options_, thread_id_); }

  /// Gives the borrowed connection back (reader cursors only).
  Connection TakeConnection() {
    (void)ClosePage();
    return std::move(owned_);
  }
  bool healthy() const { return healthy_; }

 private:
  void Init() {
    std::vector<const SourceColumn*> all;
    for (const SourceColumn& column : table_->columns)
      all.push_back(&column);
    std::vector<const SourceColumn*> key;
    for (size_t index : table_->key_columns)
      key.push_back(&table_->columns[index]);
    reader_ = std::make_unique<ResultReader>(all, table_->zero_dates);
    key_reader_ = std::make_unique<ResultReader>(key, table_->zero_dates);
    // An integer's text is the same from the reader (AppendText) and from the batch.
    if (table_->key_columns.size() == 1 && table_->key_columns[0] < table_->batch_columns) {
      switch (table_->columns[table_->key_columns[0]].kind) {
        case ValueKind::kInt8:
        case ValueKind::kInt16:
        case ValueKind::kInt32:
        case ValueKind::kInt64:
        case ValueKind::kYear:
        case ValueKind::kUInt8:
        case ValueKind::kUInt16:
        case ValueKind::kUInt32:
        case ValueKind::kUInt64:
          key_in_batch_ = true;
          break;
        default:
          break;
      }
    }
    kill_options_ = connection_->options();
    thread_id_ = connection_->thread_id();
    what_ = fmt::format("reading {}", table_->display);
  }

  const std::string& What() const { return what_; }

  // Any failure on the connection may have broken its session: do not lend it again.
  Status Track(Status status) {
    if (!status.ok())
      healthy_ = false;
    return status;
  }

  Status PrepareAndStart(const std::string& sql, Statement* statement, ResultReader* reader) {
    SLUICE_ASSIGN_OR_RETURN(*statement, Statement::Prepare(*connection_, sql, What()));
    return reader->Start(statement, What());
  }

  Result<std::optional<sql::Key>> QueryKey(const std::string& sql) {
    Statement statement;
    SLUICE_RETURN_IF_ERROR(Track(PrepareAndStart(sql, &statement, key_reader_.get())));
    Result<bool> row = key_reader_->Next();
    if (!row.ok())
      return Track(row.status());
    std::optional<sql::Key> key;
    if (*row) {
      key.emplace();
      for (size_t k = 0; k < key_reader_->num_columns(); ++k) {
        key->emplace_back();
        key_reader_->AppendText(k, &key->back());
      }
    }
    key_reader_->Finish();
    return key;
  }

  // "db.t key=(5, 'x')" for keyed tables, "db.t row 17" otherwise.
  std::string Location() {
    std::string out = table_->display;
    if (table_->keyless()) {
      fmt::format_to(std::back_inserter(out), " row {}", rows_consumed_);
      return out;
    }
    out += " key=(";
    for (size_t k = 0; k < table_->key_columns.size(); ++k) {
      if (k > 0)
        out += ", ";
      reader_->AppendText(table_->key_columns[k], &out);
    }
    out += ")";
    return out;
  }

  Status HandleBadRow(const Status& converted) {
    BadRecord record;
    record.stream = table_->name;
    record.location = Location();
    // The offending column is the one named in the message; keep its raw text.
    for (size_t c = 0; c < table_->batch_columns; ++c) {
      if (converted.message().find("column '" + table_->columns[c].info.name + "'") == 0) {
        reader_->AppendRawText(c, &record.raw);
        break;
      }
    }
    record.reason = DataError(fmt::format("{} {}", record.location, converted.message()));
    return context_->bad_records->Handle(record);
  }

  std::shared_ptr<const Table> table_;
  Connection owned_;
  Connection* connection_ = nullptr;
  const JobContext* context_;
  std::unique_ptr<ResultReader> reader_;
  std::unique_ptr<ResultReader> key_reader_;
  Statement page_;
  bool page_open_ = false;
  bool healthy_ = true;
  uint64_t rows_consumed_ = 0;
  bool key_in_batch_ = false;  // the key is one integer column among the batch's
  std::string what_;
  ConnectionOptions kill_options_;
  uint64_t thread_id_ = 0;
};

// A KeysetReader over a connection borrowed from the pool, given back when the reader goes.
class MysqlSplitReader final : public SplitReader {
 public:
  MysqlSplitReader(std::unique_ptr<sql::KeysetReader> inner, std::shared_ptr<ConnectionPool> pool,
                   const JobContext* context, std::string table)
      : inner_(std::move(inner)),
        pool_(std::move(pool)),
        context_(context),
        table_(std::move(table)) {}

  ~MysqlSplitReader() override {
    std::unique_ptr<sql::KeysetCursor> cursor = inner_->ReleaseCursor();
    auto* mysql_cursor = static_cast<MysqlCursor*>(cursor.get());
    bool healthy = mysql_cursor->healthy() && !failed_;
    pool_->Release(mysql_cursor->TakeConnection(), healthy);
  }

  Result<bool> ReadBatch(Batch* batch) override {
    if (context_->cancelled != nullptr && context_->cancelled->load(std::memory_order_relaxed)) {
      return Cancelled(fmt::format("source mysql '{}': reading cancelled", table_));
    }
    Result<bool> more = inner_->ReadBatch(batch);
    if (!more.ok())
      failed_ = true;
    return more;
  }
  std::string Position() const override { return inner_->Position(); }
  // The range as last cut: the runtime records it with each cut, so that a resumed run reopens
  // the shrunk split and does not read the cut-off part a second time.
  std::string Payload() const override { return inner_->Payload(); }
  std::optional<Split> SplitRemainder() override { return inner_->SplitRemainder(); }
  double Progress() const override { return inner_->Progress(); }
  void Cancel() override { inner_->Cancel(); }

 private:
  std::unique_ptr<sql::KeysetReader> inner_;
  std::shared_ptr<ConnectionPool> pool_;
  const JobContext* context_;
  std::string table_;
  bool failed_ = false;
};

// Plans the next split while the readers read the ones handed out. A chunk boundary is a key
// scan of split_rows rows on the planner connection (KeyAtOffset); done on demand, the reader
// that asked would wait for it at every split. The boundary query runs on a thread of its own
// and its split is handed out at the next call. Thread-safe, like the enumerator it wraps.
class PrefetchingEnumerator final : public SplitEnumerator {
 public:
  explicit PrefetchingEnumerator(std::unique_ptr<SplitEnumerator> inner)
      : inner_(std::move(inner)) {}
  ~PrefetchingEnumerator() override {
    if (next_.valid())
      next_.wait();  // the planning thread uses inner_
  }

  Result<std::optional<Split>> Next() override {
    std::lock_guard<std::mutex> lock(mutex_);
    Result<std::optional<Split>> split = next_.valid() ? next_.get() : inner_->Next();
    prefetching_.store(false);
    // Nothing after a split that ended the plan or failed: the next call asks again.
    if (split.ok() && split->has_value()) {
      next_ = std::async(std::launch::async, [this] { return inner_->Next(); });
      prefetching_.store(true);
    }
    return split;
  }
  void Add(Split split) override { inner_->Add(std::move(split)); }
  // An estimate, like the inner one's: the split being planned counts as not handed out.
  size_t pending() const override { return inner_->pending() + (prefetching_.load() ? 1 : 0); }

 private:
  std::mutex mutex_;  // serialises Next()
  std::unique_ptr<SplitEnumerator> inner_;
  std::future<Result<std::optional<Split>>> next_;  // guarded by mutex_
  std::atomic<bool> prefetching_{false};
};

// TiDB region plans first, then key-offset chunks for the other tables. Untested (no TiDB).
class CombinedEnumerator final : public SplitEnumerator {
 public:
  CombinedEnumerator(std::vector<Split> fixed, std::unique_ptr<SplitEnumerator> chunks)
      : fixed_(std::move(fixed)), chunks_(std::move(chunks)) {}
  Result<std::optional<Split>> Next() override {
    SLUICE_ASSIGN_OR_RETURN(std::optional<Split> split, fixed_.Next());
    if (split)
      return split;
    return chunks_->Next();
  }
  void Add(Split split) override { fixed_.Add(std::move(split)); }
  size_t pending() const override { return fixed_.pending() + chunks_->pending(); }

 private:
  SplitQueue fixed_;
  std::unique_ptr<SplitEnumerator> chunks_;
};

// Integer handle boundaries of a TiDB table's regions ("t_75_r_1000" -> 1000), ascending.
std::vector<int64_t> TidbRegionBoundaries(Connection& connection, const Table& table) {
  std::vector<int64_t> boundaries;
  Result<std::vector<TextRow>> rows = connection.Query(
      fmt::format("SHOW TABLE {} REGIONS", table.QualifiedName()), "listing TiDB regions");
  if (!rows.ok()) {
    log::Warn("source:mysql", "Cannot list the TiDB regions of '{}': {}", table.display,
              rows.status().message());
    return boundaries;
  }
  for (const TextRow& row : *rows) {
    if (row.size() < 2 || !row[1])
      continue;
    const std::string& start = *row[1];  // START_KEY
    size_t marker = start.find("_r_");
    if (marker == std::string::npos)
      continue;
    try {
      boundaries.push_back(std::stoll(start.substr(marker + 3)));
    } catch (...) {
      continue;  // "_r_" followed by something else: not an integer handle
    }
  }
  std::sort(boundaries.begin(), boundaries.end());
  boundaries.erase(std::unique(boundaries.begin(), boundaries.end()), boundaries.end());
  return boundaries;
}

}  // namespace

MysqlSource::MysqlSource(MysqlSourceOptions options, config::Options config)
    : options_(std::move(options)), config_(std::move(config)) {
  component_ = fmt::format("source:mysql:{}", options_.connection.database);
}

MysqlSource::~MysqlSource() = default;

Status MysqlSource::Open(const JobContext& context) {
  context_ = &context;
  const ConnectionOptions& connection_options = options_.connection;
  SLUICE_ASSIGN_OR_RETURN(Connection probe, Connection::Open(connection_options));
  tidb_ = probe.flavor() == ServerFlavor::kTiDb;
  if (!tidb_ && probe.flavor() == ServerFlavor::kMySql) {
    // Some TiDB deployments report a plain MySQL version; ask the way TiDB answers.
    tidb_ = probe.QueryRow("SELECT tidb_version()", "").ok();
  }
  if (tidb_)
    log::Info(component_, "Server is TiDB ({})", probe.server_version());

  SLUICE_ASSIGN_OR_RETURN(std::vector<TableListing> listing,
                          ListTables(probe, connection_options.database));
  SLUICE_ASSIGN_OR_RETURN(std::vector<std::string> names,
                          SelectTables(listing, options_, connection_options));
  for (const std::string& name : names) {
    const TableListing& entry = FindTable(listing, name);
    SLUICE_ASSIGN_OR_RETURN(std::shared_ptr<Table> table,
                            DescribeTable(probe, name, entry.estimated_rows, entry.engine));
    StreamInfo stream;
    stream.name = name;
    stream.schema = table->schema;
    stream.estimated_rows = entry.estimated_rows;
    streams_.push_back(std::move(stream));
    tables_.push_back(std::move(table));
  }

  int readers = std::max(1, context.parallelism);
  SLUICE_ASSIGN_OR_RETURN(
      pool_, ConnectionPool::Open(options_, readers, tidb_, context.cancelled, component_));
  if (pool_->snapshot().consistent && !tidb_) {
    std::vector<std::string> outside;
    for (const auto& table : tables_) {
      if (!table->engine.empty() && table->engine != "InnoDB") {
        outside.push_back(fmt::format("{} ({})", table->name, table->engine));
      }
    }
    if (!outside.empty()) {
      size_t shown = std::min<size_t>(outside.size(), 5);
      std::vector<std::string> head(outside.begin(), outside.begin() + static_cast<long>(shown));
      log::Warn(component_,
                "{} table(s) use an engine without transactions, which the snapshot does not "
                "cover (rows changed during the copy may or may not be read): {}{}",
                outside.size(), JoinNames(head),
                outside.size() > shown ? fmt::format(" and {} more", outside.size() - shown)
                                       : std::string());
    }
  }
  return Status::OK();
}

const SnapshotInfo& MysqlSource::snapshot_info() const {
  return pool_->snapshot();
}

void MysqlSource::EndSnapshot() {
  if (pool_)
    pool_->EndSnapshot();
}

Result<std::shared_ptr<Table>> MysqlSource::DescribeTable(Connection& connection,
                                                          const std::string& name,
                                                          std::optional<uint64_t> estimated_rows,
                                                          const std::string& engine) {
  const std::string& database = options_.connection.database;
  auto table = std::make_shared<Table>();
  table->database = database;
  table->name = name;
  table->display = database + "." + name;
  table->where = options_.where;
  table->zero_dates = options_.zero_dates;
  table->engine = engine;
  SLUICE_ASSIGN_OR_RETURN(TableColumns described,
                          DescribeColumns(connection, database, name, options_.zero_dates,
                                          options_.geometry, component_));
  const std::vector<SourceColumn>& all = described.columns;
  const std::vector<int>& key = described.key;

  // The selection: all columns or the requested ones, then key columns it left out.
  SLUICE_ASSIGN_OR_RETURN(std::vector<int> selected,
                          SelectColumns(described, options_.columns, config_, table->display));
  table->batch_columns = selected.size();
  std::vector<int> result_order = selected;
  for (int k : key) {
    if (std::find(result_order.begin(), result_order.end(), k) == result_order.end()) {
      result_order.push_back(k);
    }
  }
  for (int index : result_order)
    table->columns.push_back(all[static_cast<size_t>(index)]);
  std::vector<int> primary_key;
  for (int k : key) {
    size_t position = static_cast<size_t>(std::find(result_order.begin(), result_order.end(), k) -
                                          result_order.begin());
    table->key_columns.push_back(position);
    if (position < table->batch_columns)
      primary_key.push_back(static_cast<int>(position));
  }
  if (primary_key.size() != key.size())
    primary_key.clear();  // a partial key identifies nothing

  std::vector<Field> fields;
  for (size_t i = 0; i < table->batch_columns; ++i)
    fields.push_back(SourceField(table->columns[i], options_.zero_dates));
  table->schema = std::make_shared<const Schema>(std::move(fields), std::move(primary_key));

  // Keyset planning and literals.
  sql::ChunkedTable& chunked = table->chunked;
  chunked.name = name;
  chunked.split_rows = static_cast<uint64_t>(options_.split_rows);
  chunked.estimated_rows = estimated_rows;
  chunked.keyless = table->keyless();
  chunked.key.quote_identifier = [](const std::string& column) { return QuoteIdentifier(column); };
  chunked.key.row_constructors = false;
  std::vector<SourceColumn> key_columns;
  for (size_t index : table->key_columns) {
    const SourceColumn& column = table->columns[index];
    chunked.key.fields.push_back(
        Field{column.info.name, column.type, false, column.info.column_type});
    key_columns.push_back(column);
  }
  chunked.key.literal = [key_columns](const Field& field, const std::string& text) {
    for (const SourceColumn& column : key_columns) {
      if (column.info.name == field.name)
        return KeyLiteral(column, text);
    }
    return Utf8Literal(text);
  };
  if (table->keyless()) {
    log::Warn(component_,
              "table '{}' has no primary key and no NOT NULL unique key: it is read as one split "
              "by a full scan (no parallelism within the table, no resume)",
              table->display);
  }

  // Run the real query once, so that a bad `where` or column fails before any data moves.
  Result<Statement> probe =
      Statement::Prepare(connection,
                         fmt::format("SELECT {} FROM {}{} LIMIT 0", table->SelectList(),
                                     table->QualifiedName(), table->WhereClause("")),
                         fmt::format("reading {}", table->display));
  if (!probe.ok()) {
    // A query that fails for good with the `where` and works without it: the condition is at
    // fault (an unknown column or function, a type mismatch), a configuration error.
    if (!options_.where.empty() && !probe.status().IsTransient()) {
      Table unfiltered = *table;
      unfiltered.where.clear();
      Result<Statement> plain = Statement::Prepare(
          connection,
          fmt::format("SELECT {} FROM {} LIMIT 0", unfiltered.SelectList(),
                      unfiltered.QualifiedName()),
          fmt::format("reading {}", table->display));
      if (plain.ok()) {
        return config_.ErrorAt(
            "where", fmt::format("cannot read table '{}' with where '{}': {}", table->display,
                                 options_.where, probe.status().message()));
      }
    }
    return probe.status();
  }
  return table;
}

Result<std::unique_ptr<SplitEnumerator>> MysqlSource::CreateEnumerator() {
  return MakeEnumerator({});
}

Result<std::unique_ptr<SplitEnumerator>> MysqlSource::ResumeEnumerator(
    const std::vector<Split>& planned) {
  return MakeEnumerator(planned);
}

Result<std::unique_ptr<SplitEnumerator>> MysqlSource::MakeEnumerator(
    const std::vector<Split>& planned) {
  if (!pool_)
    return Internal("source mysql: CreateEnumerator called before Open");
  std::vector<sql::ChunkedTable> chunked;
  std::vector<Split> fixed;
  for (size_t stream = 0; stream < tables_.size(); ++stream) {
    const Table& table = *tables_[stream];
    sql::ChunkedTable plan = table.chunked;
    plan.stream = static_cast<int>(stream);
    if (!table.keyless()) {
      plan.planner = std::make_shared<MysqlCursor>(tables_[stream], &pool_->planner(), context_);
    }
    const bool integer_key =
        table.key_columns.size() == 1 && table.columns[table.key_columns[0]].type.is_integer();
    if (tidb_ && options_.tidb_region_splits && integer_key) {
      std::vector<int64_t> boundaries = TidbRegionBoundaries(pool_->planner(), table);
      if (boundaries.size() > 1) {
        std::optional<sql::Key> lo;
        int index = 0;
        for (size_t i = 1; i <= boundaries.size(); ++i) {
          sql::KeyRange range;
          range.lo = lo;
          if (i < boundaries.size())
            range.hi = sql::Key{std::to_string(boundaries[i])};
          Split split;
          split.id = fmt::format("{}#r{:05d}", table.name, ++index);
          split.stream = static_cast<int>(stream);
          split.payload = sql::EncodeRange(table.name, range);
          lo = range.hi;
          bool already = std::any_of(planned.begin(), planned.end(),
                                     [&](const Split& p) { return p.id == split.id; });
          if (!already)
            fixed.push_back(std::move(split));
        }
        log::Info(component_, "table '{}': {} splits along TiDB regions", table.display, index);
        continue;
      }
    }
    chunked.push_back(std::move(plan));
  }
  std::unique_ptr<SplitEnumerator> chunks =
      std::make_unique<sql::KeyChunkEnumerator>(std::move(chunked), planned);
  if (!fixed.empty())
    chunks = std::make_unique<CombinedEnumerator>(std::move(fixed), std::move(chunks));
  return std::unique_ptr<SplitEnumerator>(
      std::make_unique<PrefetchingEnumerator>(std::move(chunks)));
}

Result<std::unique_ptr<SplitReader>> MysqlSource::CreateReader(const Split& split,
                                                               const std::string& position) {
  if (!pool_)
    return Internal("source mysql: CreateReader called before Open");
  if (split.stream < 0 || static_cast<size_t>(split.stream) >= tables_.size()) {
    return Internal(
        fmt::format("source mysql: split '{}' names unknown stream {}", split.id, split.stream));
  }
  std::shared_ptr<const Table> table = tables_[static_cast<size_t>(split.stream)];
  std::string name;
  SLUICE_ASSIGN_OR_RETURN(sql::KeyRange range, sql::DecodeRange(split.payload, &name));
  if (name != table->name) {
    return Internal(fmt::format("source mysql: split '{}' is for table '{}', stream {} is '{}'",
                                split.id, name, split.stream, table->name));
  }
  SLUICE_ASSIGN_OR_RETURN(std::optional<sql::Key> after, sql::DecodePosition(position));
  SLUICE_ASSIGN_OR_RETURN(Connection connection, pool_->Acquire());
  auto cursor = std::make_unique<MysqlCursor>(table, std::move(connection), context_);
  sql::KeysetReader::Options reader_options;
  reader_options.page_rows = static_cast<uint64_t>(options_.page_rows);
  reader_options.min_cut_rows =
      std::clamp<uint64_t>(static_cast<uint64_t>(options_.split_rows) / 4, 1, 20000);
  reader_options.keyless = table->keyless();
  auto inner = std::make_unique<sql::KeysetReader>(std::move(cursor), table->chunked, split,
                                                   std::move(range), std::move(after), context_,
                                                   reader_options);
  return std::unique_ptr<SplitReader>(
      std::make_unique<MysqlSplitReader>(std::move(inner), pool_, context_, table->display));
}

StoreDigester* MysqlSource::digester() {
  if (!digester_) {
    std::vector<DigestTable> tables;
    for (const auto& table : tables_) {
      DigestTable digest;
      digest.from = QualifiedName(table->database, table->name);
      digest.where = table->where;
      digest.columns.assign(table->columns.begin(),
                            table->columns.begin() + static_cast<ptrdiff_t>(table->batch_columns));
      digest.zero_dates = table->zero_dates;
      tables.push_back(std::move(digest));
    }
    digester_ = MakeDigester(options_.connection, std::move(tables));
  }
  return digester_.get();
}

void MysqlSource::Describe(CheckReport* report) const {
  if (pool_)
    report->Note(fmt::format("mysql: {}", pool_->snapshot().Describe()));
  for (const auto& table : tables_) {
    std::string key;
    for (size_t index : table->key_columns) {
      if (!key.empty())
        key += ", ";
      key += table->columns[index].info.name;
    }
    std::string rows = table->chunked.estimated_rows
                           ? fmt::format("about {} rows", *table->chunked.estimated_rows)
                           : std::string("rows unknown");
    if (table->keyless()) {
      report->Note(
          fmt::format("mysql table '{}': no usable key, read as one split by a full "
                      "scan ({})",
                      table->display, rows));
    } else {
      report->Note(
          fmt::format("mysql table '{}': key ({}), {}, chunks of {} rows{}", table->display, key,
                      rows, options_.split_rows,
                      table->where.empty() ? "" : fmt::format(", filtered by '{}'", table->where)));
    }
  }
}

}  // namespace sluice::connectors::mysql
