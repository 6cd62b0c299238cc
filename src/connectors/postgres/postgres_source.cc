#include "connectors/postgres/postgres_source.h"

#include <fmt/core.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <set>

#include "connectors/postgres/postgres_catalog.h"
#include "connectors/postgres/postgres_client.h"
#include "connectors/postgres/postgres_digest.h"
#include "connectors/postgres/postgres_snapshot.h"
#include "connectors/postgres/postgres_types.h"
#include "connectors/sql/keyset.h"
#include "core/endian.h"
#include "core/logging.h"
#include "core/strings.h"
#include "core/value_text.h"

namespace sluice::connectors::postgres {

/// What readers need to know about one table, fixed at Open and shared read-only.
struct SourceTable {
  PgTableInfo info;
  std::string stream_name;
  SchemaPtr schema;
  /// Per output column: how its binary value is decoded.
  std::vector<ReadMapping> output;
  /// The COPY select list: the output columns, then key columns not among them.
  std::string select_list;
  size_t select_count = 0;
  /// Positions in the select list of the key columns, in key order.
  std::vector<size_t> key_positions;
  SchemaPtr key_schema;
  std::vector<ReadMapping> key_mappings;
  std::string where;
  bool validate_utf8 = false;
  /// Key columns, quoting and literals for the shared keyset planner (no planner cursor).
  sql::ChunkedTable chunked;
};

// Keeps the ids of cut splits unique across runs. sql::KeysetReader names its cuts
// "<split>.<n>" with n counting the cuts of that reader only, so a resumed run that cuts a split
// an earlier run had cut already would reuse "<split>.1": the runtime would then record the new
// range under the old child's id, and that id's committed progress (possibly "done") would
// apply to rows never read. Every id the earlier runs handed out, and every cut of this run, is
// remembered; a taken name moves on to the next free number. Thread-safe.
class CutNames {
 public:
  void Reset(const std::vector<Split>& planned) {
    std::lock_guard<std::mutex> lock(mutex_);
    used_.clear();
    for (const Split& split : planned)
      used_.insert(split.id);
  }

  /// `id` if free, else "<parent>.<n>" with the smallest free n beyond the one proposed.
  std::string Claim(const std::string& id) {
    std::lock_guard<std::mutex> lock(mutex_);
    std::string name = id;
    const size_t dot = id.rfind('.');
    const std::string parent = dot == std::string::npos ? id : id.substr(0, dot);
    long number = dot == std::string::npos ? 0 : std::atol(id.c_str() + dot + 1);
    while (used_.count(name) > 0)
      name = fmt::format("{}.{}", parent, ++number);
    used_.insert(name);
    return name;
  }

 private:
  std::mutex mutex_;
  std::set<std::string> used_;  // guarded by mutex_
};

namespace {

using sql::Key;

// Key values travel as canonical text; the column's own type turns them back into values, so
// that comparisons use the column's ordering (collation, enum order, numeric order).
std::string KeyLiteral(const Field& field, const std::string& canonical) {
  if (field.type.is_integer())
    return canonical;
  return QuoteLiteral(canonical) + "::" + field.native_type;
}

constexpr char kCopySignature[11] = {'P', 'G', 'C', 'O', 'P', 'Y', '\n', '\377', '\r', '\n', '\0'};

// The database side of keyset reading for one table over one connection: pages are COPY ...
// TO STDOUT (FORMAT binary) queries whose tuples are decoded straight into the batch; boundary
// queries are plain SELECTs. Used by one thread at a time; Cancel() from any thread.
class PgKeysetCursor final : public sql::KeysetCursor {
 public:
  PgKeysetCursor(std::shared_ptr<const SourceTable> table, std::shared_ptr<PgConnection> conn,
                 const JobContext* context)
      : table_(std::move(table)),
        conn_(std::move(conn)),
        context_(context),
        key_batch_(table_->key_schema, 1),
        fields_(table_->select_count),
        what_(fmt::format("reading '{}'", table_->info.Display())) {}

  ~PgKeysetCursor() override { (void)ClosePage(); }

  Status OpenPage(const std::string& condition, uint64_t limit) override {
    SLUICE_RETURN_IF_ERROR(ClosePage());
    std::string sql = fmt::format("COPY (SELECT {} FROM {}{}", table_->select_list,
                                  table_->info.Quoted(), Filter(condition));
    if (!table_->chunked.keyless)
      sql += " ORDER BY " + sql::KeyList(table_->chunked.key);
    if (limit > 0)
      sql += fmt::format(" LIMIT {}", limit);
    sql += ") TO STDOUT (FORMAT binary)";
    SLUICE_RETURN_IF_ERROR(conn_->StartCopyOut(sql, what_));
    copying_ = true;
    header_seen_ = false;
    return Status::OK();
  }

  Result<bool> Fill(Batch* batch, size_t max_bytes, Key* last_key, uint64_t* rows) override {
    *rows = 0;
    if (context_ != nullptr && context_->cancelled != nullptr && context_->cancelled->load()) {
      return Cancelled(fmt::format("{}: {}: cancelled", conn_->endpoint(), what_));
    }
    if (!copying_)
      return false;
    const size_t outputs = table_->output.size();
    bool more = true;
    // `rows` counts rows consumed, skipped bad records included, and `last_key` is the last
    // consumed row's key: the keyset reader pages on from there and must not mistake a page
    // with a skipped row for a short (final) one.
    while (!batch->full() && batch->ByteSize() < max_bytes) {
      char* data = nullptr;
      SLUICE_ASSIGN_OR_RETURN(int size, conn_->GetCopyData(&data, what_));
      if (size == 0) {
        copying_ = false;
        more = false;
        break;
      }
      CopyChunk chunk(data);
      SLUICE_ASSIGN_OR_RETURN(bool tuple, ParseTuple(data, static_cast<size_t>(size)));
      if (!tuple)
        continue;  // the trailer
      Status row_status;
      size_t bad_column = 0;
      for (size_t c = 0; c < outputs && row_status.ok(); ++c) {
        Column& column = batch->column(c);
        if (fields_[c].data == nullptr) {
          column.AppendNull();
        } else {
          row_status = DecodeValue(table_->output[c].decoder, fields_[c].data, fields_[c].size,
                                   table_->validate_utf8, &column, &scratch_);
          bad_column = c;
        }
      }
      // Keep this row's buffer alive: its key fields are decoded once the batch is done.
      last_row_.swap(chunk);
      ++*rows;
      if (row_status.ok()) {
        batch->FinishRow();
        continue;
      }
      batch->DiscardPartialRow();
      SLUICE_RETURN_IF_ERROR(ReportBadValue(bad_column, row_status));
    }
    if (*rows > 0 && !table_->chunked.keyless)
      SLUICE_RETURN_IF_ERROR(DecodeKey(last_key));
    return more;
  }

  Status ClosePage() override {
    if (copying_) {
      conn_->AbandonCopyOut(cancel_requested_.load());
      copying_ = false;
    }
    last_row_.reset();
    return Status::OK();
  }

  Result<std::optional<Key>> KeyAtOffset(const std::string& condition, uint64_t offset) override {
    const std::string keys = sql::KeyList(table_->chunked.key);
    return QueryKey(fmt::format("SELECT {} FROM {}{} ORDER BY {} LIMIT 1 OFFSET {}", keys,
                                table_->info.Quoted(), Filter(condition), keys, offset));
  }

  Result<std::optional<Key>> MaxKey(const std::string& condition) override {
    std::string descending;
    for (const Field& field : table_->chunked.key.fields) {
      if (!descending.empty())
        descending += ", ";
      descending += QuoteIdentifier(field.name) + " DESC";
    }
    return QueryKey(fmt::format("SELECT {} FROM {}{} ORDER BY {} LIMIT 1",
                                sql::KeyList(table_->chunked.key), table_->info.Quoted(),
                                Filter(condition), descending));
  }

  Result<uint64_t> CountRows(const std::string& condition) override {
    SLUICE_ASSIGN_OR_RETURN(
        PgResult result,
        conn_->Query(
            fmt::format("SELECT count(*) FROM {}{}", table_->info.Quoted(), Filter(condition)),
            fmt::format("counting rows of '{}'", table_->info.Display())));
    return static_cast<uint64_t>(std::stoull(result.Text(0, 0)));
  }

  void Cancel() override {
    cancel_requested_.store(true);
    conn_->Cancel();
  }

 private:
  // Frees a COPY data message when it goes out of scope.
  class CopyChunk {
   public:
    CopyChunk() = default;
    explicit CopyChunk(char* data) : data_(data) {}
    ~CopyChunk() { reset(); }
    CopyChunk(const CopyChunk&) = delete;
    CopyChunk& operator=(const CopyChunk&) = delete;
    void swap(CopyChunk& other) { std::swap(data_, other.data_); }
    void reset() {
      if (data_ != nullptr)
        PgConnection::FreeCopyData(data_);
      data_ = nullptr;
    }

   private:
    char* data_ = nullptr;
  };

  struct FieldView {
    const char* data = nullptr;  // nullptr: NULL
    size_t size = 0;
  };

  // " WHERE <range> AND (<where>)", or "" when neither is set.
  std::string Filter(const std::string& condition) const {
    if (condition.empty() && table_->where.empty())
      return "";
    if (table_->where.empty())
      return " WHERE " + condition;
    if (condition.empty())
      return " WHERE (" + table_->where + ")";
    return fmt::format(" WHERE {} AND ({})", condition, table_->where);
  }

  Status Malformed(std::string_view why) const {
    return Internal(
        fmt::format("{}: {}: malformed binary COPY data: {}", conn_->endpoint(), what_, why));
  }

  // Splits one COPY data message into fields_. Returns false for the trailer.
  Result<bool> ParseTuple(const char* data, size_t size) {
    const char* p = data;
    const char* end = data + size;
    if (!header_seen_) {
      if (size < 19 || std::memcmp(p, kCopySignature, sizeof(kCopySignature)) != 0) {
        return Malformed("no PGCOPY signature");
      }
      p += sizeof(kCopySignature) + 4;  // signature, flags
      uint32_t extension = ReadBigEndian<uint32_t>(p);
      p += 4;
      if (static_cast<size_t>(end - p) < extension)
        return Malformed("short header");
      p += extension;
      header_seen_ = true;
    }
    if (end - p < 2)
      return Malformed("short tuple");
    int16_t count = ReadBigEndian<int16_t>(p);
    p += 2;
    if (count == -1)
      return false;
    if (static_cast<size_t>(count) != table_->select_count) {
      return Malformed(fmt::format("{} fields, expected {}", count, table_->select_count));
    }
    for (size_t i = 0; i < table_->select_count; ++i) {
      if (end - p < 4)
        return Malformed("short field");
      int32_t length = ReadBigEndian<int32_t>(p);
      p += 4;
      if (length < 0) {
        fields_[i] = FieldView{};
        continue;
      }
      if (end - p < length)
        return Malformed("field beyond the message");
      fields_[i] = FieldView{p, static_cast<size_t>(length)};
      p += length;
    }
    return true;
  }

  // The canonical key texts of the row in fields_.
  Status DecodeKey(Key* key) {
    key_batch_.Clear();
    key->clear();
    for (size_t k = 0; k < table_->key_positions.size(); ++k) {
      const FieldView& field = fields_[table_->key_positions[k]];
      Column& column = key_batch_.column(k);
      if (field.data == nullptr) {
        return Internal(fmt::format("{}: {}: NULL in key column '{}'", conn_->endpoint(), what_,
                                    table_->key_schema->field(k).name));
      }
      SLUICE_RETURN_IF_ERROR(DecodeValue(table_->key_mappings[k].decoder, field.data, field.size,
                                         false, &column, &scratch_));
      std::string text;
      AppendValueText(column, 0, &text);
      key->push_back(std::move(text));
    }
    return Status::OK();
  }

  // Hands the row in fields_ whose column `column` failed to decode to the bad-record policy.
  Status ReportBadValue(size_t column, const Status& problem) {
    std::string location = table_->info.Display();
    if (!table_->chunked.keyless) {
      Key key;
      if (DecodeKey(&key).ok()) {
        location += " key=(";
        for (size_t k = 0; k < key.size(); ++k) {
          if (k > 0)
            location += ", ";
          location += key[k];
        }
        location += ')';
      }
    }
    const FieldView& field = fields_[column];
    BadRecord record;
    record.stream = table_->stream_name;
    record.location = location;
    std::string_view raw(field.data, std::min<size_t>(field.size, 256));
    AppendHexBytes(raw, &record.raw);
    record.reason = DataError(fmt::format("{}: column '{}': {}", location,
                                          table_->schema->field(column).name, problem.message()));
    if (context_ == nullptr || context_->bad_records == nullptr)
      return record.reason;
    return context_->bad_records->Handle(record);
  }

  Result<std::optional<Key>> QueryKey(const std::string& sql) {
    SLUICE_ASSIGN_OR_RETURN(
        PgResult result, conn_->Query(sql, ""));  // the chunk planner or the split names the table
    if (result.rows() == 0)
      return std::optional<Key>();
    Key key;
    for (int c = 0; c < result.columns(); ++c)
      key.push_back(result.Text(0, c));
    return std::optional<Key>(std::move(key));
  }

  std::shared_ptr<const SourceTable> table_;
  std::shared_ptr<PgConnection> conn_;
  const JobContext* context_;
  Batch key_batch_;
  std::vector<FieldView> fields_;
  std::string what_;
  std::string scratch_;
  CopyChunk last_row_;
  bool copying_ = false;
  bool header_seen_ = false;
  std::atomic<bool> cancel_requested_{false};
};

}  // namespace

PostgresSource::PostgresSource(PostgresSourceOptions options, config::Options config)
    : options_(std::move(options)),
      config_(std::move(config)),
      cut_names_(std::make_shared<CutNames>()) {}

PostgresSource::~PostgresSource() = default;

Consistency PostgresSource::consistency() const {
  return session_ ? session_->consistency() : options_.consistency;
}

std::string PostgresSource::snapshot_lsn() const {
  return session_ ? session_->lsn() : "";
}

void PostgresSource::UseSession(std::shared_ptr<ReadSession> session) {
  session_ = std::move(session);
}

void PostgresSource::EndSnapshot() {
  if (pool_)
    pool_->Close();
  if (planner_ && planner_->InTransaction())
    (void)planner_->Execute("ROLLBACK", "ending the planner's snapshot");
  if (session_)
    session_->End();
}

Status PostgresSource::Open(const JobContext& context) {
  context_ = &context;
  component_ = fmt::format("source:postgres:{}", options_.connection.database);
  if (!session_) {
    SLUICE_ASSIGN_OR_RETURN(
        session_, ReadSession::Open(options_.connection, options_.consistency, component_));
  }
  pool_ = std::make_shared<ConnectionPool>(session_, std::max(1, context.parallelism));
  SLUICE_ASSIGN_OR_RETURN(std::unique_ptr<PgConnection> planner,
                          session_->Connect(/*per_split_transaction=*/false));
  planner_ = std::move(planner);
  // SQL_ASCII stores whatever bytes it was given; every other encoding reaches us as valid UTF-8.
  const bool validate_utf8 = planner_->server_encoding() == "SQL_ASCII";
  SLUICE_ASSIGN_OR_RETURN(auto chosen, ResolveTables(*planner_, options_));
  for (const auto& [schema, name] : chosen) {
    SLUICE_RETURN_IF_ERROR(AddTable(*planner_, schema, name, validate_utf8));
  }
  return Status::OK();
}

Status PostgresSource::AddTable(PgConnection& conn, const std::string& schema,
                                const std::string& name, bool validate_utf8) {
  SLUICE_ASSIGN_OR_RETURN(std::optional<PgTableInfo> described, DescribeTable(conn, schema, name));
  if (!described) {
    return NotFound(fmt::format("{}: table '{}.{}' does not exist", conn.endpoint(), schema, name));
  }
  auto table = std::make_shared<SourceTable>();
  table->info = std::move(*described);
  const PgTableInfo& info = table->info;
  if (!info.can_select) {
    return PermissionDenied(
        fmt::format("{}: permission denied for table {} (user '{}' needs SELECT)", conn.endpoint(),
                    info.Display(), options_.connection.user));
  }
  std::vector<int> selected;
  if (options_.columns.empty()) {
    for (size_t i = 0; i < info.columns.size(); ++i)
      selected.push_back(static_cast<int>(i));
  } else {
    for (const std::string& column : options_.columns) {
      int index = info.ColumnIndex(column);
      if (index < 0) {
        std::vector<std::string> names;
        for (const PgColumn& c : info.columns)
          names.push_back(c.name);
        return config_.ErrorAt(
            "columns", fmt::format("unknown column '{}' in table '{}' (columns: {})", column,
                                   info.Display(), JoinNames(names)));
      }
      selected.push_back(index);
    }
  }
  auto select_item = [&](int index, const ReadMapping& mapping) {
    std::string quoted = QuoteIdentifier(info.columns[static_cast<size_t>(index)].name);
    return mapping.as_text ? fmt::format("{}::text", quoted) : quoted;
  };
  std::vector<Field> fields;
  for (int index : selected) {
    const PgColumn& column = info.columns[static_cast<size_t>(index)];
    ReadMapping mapping = MapForRead(column.type);
    fields.push_back(Field{column.name, mapping.type, !column.not_null, column.type.spelled});
    if (!table->select_list.empty())
      table->select_list += ", ";
    table->select_list += select_item(index, mapping);
    table->output.push_back(mapping);
  }
  table->select_count = selected.size();
  std::vector<Field> key_fields;
  for (int index : info.key) {
    const PgColumn& column = info.columns[static_cast<size_t>(index)];
    ReadMapping mapping = MapForRead(column.type);
    key_fields.push_back(Field{column.name, mapping.type, false, column.type.spelled});
    table->key_mappings.push_back(mapping);
    auto found = std::find(selected.begin(), selected.end(), index);
    if (found != selected.end()) {
      table->key_positions.push_back(static_cast<size_t>(found - selected.begin()));
    } else {
      // Not asked for, but needed to page: read it after the output columns.
      table->key_positions.push_back(table->select_count++);
      table->select_list += ", " + select_item(index, mapping);
    }
  }
  std::vector<int> primary_key;
  if (info.key_is_primary) {
    for (int index : info.key) {
      auto found = std::find(selected.begin(), selected.end(), index);
      if (found == selected.end()) {
        primary_key.clear();
        break;
      }
      primary_key.push_back(static_cast<int>(found - selected.begin()));
    }
  }
  table->schema = std::make_shared<Schema>(std::move(fields), std::move(primary_key));
  table->key_schema = std::make_shared<Schema>(key_fields);
  table->where = options_.where;
  table->validate_utf8 = validate_utf8;
  if (!table->where.empty()) {
    // Run the filtered query once, so that a bad `where` fails now, as the configuration error
    // it is (an unknown column or function, a type mismatch), not after data moved.
    // Unfiltered first: a failed query ends the snapshot's transaction, so the filtered one,
    // which may fail, comes last.
    const std::string from = QuoteQualified(info.schema, info.name);
    const std::string what = fmt::format("reading {}", info.Display());
    SLUICE_RETURN_IF_ERROR(
        conn.Query(fmt::format("SELECT {} FROM {} LIMIT 0", table->select_list, from), what)
            .status());
    Status probe = conn.Query(fmt::format("SELECT {} FROM {} WHERE ({}) LIMIT 0",
                                          table->select_list, from, table->where),
                              what)
                       .status();
    if (!probe.ok() && !probe.IsTransient()) {
      return config_.ErrorAt("where", fmt::format("cannot read table '{}' with where '{}': {}",
                                                  info.Display(), table->where, probe.message()));
    }
    SLUICE_RETURN_IF_ERROR(probe);
  }
  table->stream_name = info.schema == "public" ? info.name : info.Display();

  sql::ChunkedTable& chunked = table->chunked;
  chunked.name = info.Display();
  chunked.stream = static_cast<int>(streams_.size());
  chunked.key.fields = std::move(key_fields);
  chunked.key.quote_identifier = [](const std::string& name) { return QuoteIdentifier(name); };
  chunked.key.literal = KeyLiteral;
  chunked.key.row_constructors = true;
  chunked.split_rows = static_cast<uint64_t>(options_.split_rows);
  chunked.estimated_rows = info.estimated_rows;
  chunked.keyless = info.key.empty();
  if (chunked.keyless) {
    log::Warn(component_,
              "Table '{}' has no primary key and no unique index on NOT NULL columns: it is read "
              "as one split by one reader",
              info.Display());
  }
  streams_.push_back(StreamInfo{table->stream_name, table->schema, info.estimated_rows});
  tables_.push_back(std::move(table));
  return Status::OK();
}

Result<std::unique_ptr<SplitEnumerator>> PostgresSource::CreateEnumerator() {
  return ResumeEnumerator({});
}

Result<std::unique_ptr<SplitEnumerator>> PostgresSource::ResumeEnumerator(
    const std::vector<Split>& planned) {
  cut_names_->Reset(planned);
  std::vector<sql::ChunkedTable> chunked;
  for (const auto& table : tables_) {
    sql::ChunkedTable entry = table->chunked;
    if (!entry.keyless)
      entry.planner = std::make_shared<PgKeysetCursor>(table, planner_, context_);
    chunked.push_back(std::move(entry));
  }
  // A range ending inclusively is the table's open-ended last chunk, closed by its reader at
  // the key maximum (and maybe cut since). sql::KeyChunkEnumerator would take that maximum for a
  // boundary and plan one more chunk from it, reading the last row twice; shown to it as open
  // ended, the family says what it is: the end of the table. The runtime reopens the recorded
  // splits with their own payloads; this copy only steers planning.
  std::vector<Split> for_planning = planned;
  for (Split& split : for_planning) {
    std::string name;
    Result<sql::KeyRange> range = sql::DecodeRange(split.payload, &name);
    if (range.ok() && range->hi && range->hi_inclusive) {
      split.payload = sql::EncodeRange(name, sql::KeyRange{range->lo, std::nullopt, false});
    }
  }
  return std::unique_ptr<SplitEnumerator>(
      std::make_unique<sql::KeyChunkEnumerator>(std::move(chunked), for_planning));
}

const JobContext* PostgresSource::ReaderContext() {
  std::lock_guard<std::mutex> lock(reader_context_mutex_);
  if (!reader_context_) {
    // Copied once readers start, when the runtime has filled in every field; offer_split is
    // still read from the job's context at each cut.
    reader_context_ = std::make_unique<JobContext>(*context_);
    const JobContext* job = context_;
    std::shared_ptr<CutNames> names = cut_names_;
    reader_context_->offer_split = [job, names](const std::string& from, Split cut) {
      cut.id = names->Claim(cut.id);
      if (job->offer_split)
        job->offer_split(from, std::move(cut));
    };
  }
  return reader_context_.get();
}

Result<std::unique_ptr<SplitReader>> PostgresSource::CreateReader(const Split& split,
                                                                  const std::string& position) {
  if (split.stream < 0 || static_cast<size_t>(split.stream) >= tables_.size()) {
    return Internal(fmt::format("split '{}' names unknown stream {}", split.id, split.stream));
  }
  const std::shared_ptr<const SourceTable>& table = tables_[static_cast<size_t>(split.stream)];
  std::string name;
  SLUICE_ASSIGN_OR_RETURN(sql::KeyRange range, sql::DecodeRange(split.payload, &name));
  SLUICE_ASSIGN_OR_RETURN(std::optional<sql::Key> after, sql::DecodePosition(position));
  SLUICE_ASSIGN_OR_RETURN(std::shared_ptr<PgConnection> conn, pool_->Borrow());
  sql::KeysetReader::Options reader_options;
  reader_options.page_rows = static_cast<uint64_t>(options_.page_rows);
  // A cut must leave both halves worth a query, also for small split_rows.
  reader_options.min_cut_rows =
      std::clamp<uint64_t>(static_cast<uint64_t>(options_.split_rows) / 4, 1000, 20000);
  reader_options.keyless = table->chunked.keyless;
  return std::unique_ptr<SplitReader>(std::make_unique<sql::KeysetReader>(
      std::make_unique<PgKeysetCursor>(table, std::move(conn), context_), table->chunked, split,
      std::move(range), std::move(after), ReaderContext(), reader_options));
}

StoreDigester* PostgresSource::digester() {
  if (!digester_) {
    std::vector<DigestTable> tables;
    for (size_t stream = 0; stream < tables_.size(); ++stream) {
      const SourceTable& table = *tables_[stream];
      DigestTable digest;
      digest.from = QuoteQualified(table.info.schema, table.info.name);
      digest.where = table.where;
      for (const Field& field : table.schema->fields()) {
        int index = table.info.ColumnIndex(field.name);
        digest.columns.push_back(table.info.columns.at(static_cast<size_t>(index)));
      }
      tables.push_back(std::move(digest));
    }
    digester_ = MakeDigester(options_.connection, std::move(tables));
  }
  return digester_.get();
}

void PostgresSource::Describe(CheckReport* report) const {
  if (session_) {
    if (session_->consistency() == Consistency::kSnapshot) {
      report->Note(fmt::format("consistency: snapshot '{}' shared by all readers, WAL LSN {}",
                               session_->snapshot_id(), session_->lsn()));
    } else if (!session_->fallback_reason().empty()) {
      report->Note(fmt::format(
          "consistency: per_split (the snapshot could not be exported: {}); no WAL LSN recorded",
          session_->fallback_reason()));
    } else {
      report->Note("consistency: per_split (each split reads in its own transaction)");
    }
  }
  for (const auto& table : tables_) {
    const PgTableInfo& info = table->info;
    std::string rows = info.estimated_rows ? fmt::format("~{} rows", *info.estimated_rows)
                                           : std::string("row count unknown");
    if (table->chunked.keyless) {
      report->Note(fmt::format("table {}: no key, read as one split by one reader; {}",
                               info.Display(), rows));
      continue;
    }
    report->Note(fmt::format("table {}: split by {} ({}) into chunks of {} rows; {}",
                             info.Display(), info.key_is_primary ? "primary key" : "unique index",
                             sql::KeyList(table->chunked.key), options_.split_rows, rows));
  }
}

}  // namespace sluice::connectors::postgres
