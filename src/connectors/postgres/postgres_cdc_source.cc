#include "connectors/postgres/postgres_cdc_source.h"

#include <fmt/core.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <chrono>
#include <set>
#include <unordered_map>

#include "connectors/postgres/pgoutput.h"
#include "connectors/postgres/postgres_catalog.h"
#include "connectors/postgres/postgres_client.h"
#include "connectors/postgres/postgres_replication.h"
#include "connectors/postgres/postgres_types.h"
#include "connectors/split_queue.h"
#include "core/logging.h"
#include "core/strings.h"
#include "core/value_text.h"

namespace sluice::connectors::postgres {

struct CdcTable {
  uint32_t oid = 0;
  std::string schema;
  std::string name;
  std::string stream_name;
  SchemaPtr schema_ptr;
  std::vector<ReadMapping> mappings;  // per field
  std::vector<int> key;               // field indexes of the primary key

  std::string Display() const { return schema + "." + name; }
};

// Between the source (Acknowledge, coordinator thread) and the reader (its thread).
struct CdcShared {
  // The end LSN of the last transaction the last acknowledged checkpoint holds completely.
  std::atomic<Lsn> acknowledged{0};
};

namespace {

constexpr std::string_view kSplitPrefix = "slot:";

// sluice_<job>, lower-case letters, digits and underscores, at most 63 bytes (NAMEDATALEN).
std::string DefaultSlotName(const std::string& job) {
  std::string out = "sluice_";
  for (char c : job) {
    unsigned char u = static_cast<unsigned char>(c);
    out.push_back(std::isalnum(u) ? static_cast<char>(std::tolower(u)) : '_');
  }
  return out.substr(0, 63);
}

struct CdcPosition {
  Lsn commit = 0;  // the last transaction whose changes were all returned
  Lsn end = 0;     // the end of its commit record: where streaming resumes
  Lsn txn = 0;     // the transaction being returned (its commit LSN), 0 between transactions
  uint64_t rows = 0;  // changes of `txn` returned

  std::string ToJson() const {
    nlohmann::json json = {{"commit", FormatLsn(commit)}, {"end", FormatLsn(end)}};
    if (txn != 0) {
      json["txn"] = FormatLsn(txn);
      json["rows"] = rows;
    }
    return json.dump();
  }

  static Result<CdcPosition> Parse(const std::string& text) {
    CdcPosition out;
    if (text.empty())
      return out;
    try {
      nlohmann::json json = nlohmann::json::parse(text);
      auto lsn = [&](const char* name, Lsn* value) {
        return !json.contains(name) || ParseLsn(json.at(name).get<std::string>(), value);
      };
      if (!lsn("commit", &out.commit) || !lsn("end", &out.end) || !lsn("txn", &out.txn))
        return InvalidConfig(fmt::format("a malformed LSN in CDC position '{}'", text));
      out.rows = json.value("rows", uint64_t{0});
    } catch (const std::exception& error) {
      return InvalidConfig(fmt::format("malformed CDC position '{}': {}", text, error.what()));
    }
    return out;
  }
};

// Appends the text form of a value (as the type's output function wrote it) as a value of the
// field's logical type.
Status AppendTextValue(const ReadMapping& mapping, std::string_view text, Column* column) {
  if (mapping.decoder == Decoder::kBpchar) {
    // character(n): without its padding, as the snapshot reads it.
    size_t end = text.find_last_not_of(' ');
    column->AppendView(end == std::string_view::npos ? std::string_view() : text.substr(0, end + 1));
    return Status::OK();
  }
  if (mapping.as_text || mapping.decoder == Decoder::kText || mapping.decoder == Decoder::kJsonb) {
    column->AppendView(text);
    return Status::OK();
  }
  return AppendParsedValue(text, column);
}

class CdcReader final : public SplitReader {
 public:
  CdcReader(const PostgresSourceOptions& options, const JobContext* context, std::string slot,
            std::string publication, std::vector<std::shared_ptr<const CdcTable>> tables,
            std::shared_ptr<CdcShared> shared, CdcPosition position)
      : options_(options),
        context_(context),
        slot_(std::move(slot)),
        publication_(std::move(publication)),
        tables_(std::move(tables)),
        shared_(std::move(shared)),
        position_(position),
        resume_txn_(position.txn),
        resume_rows_(position.rows) {
    position_.txn = 0;
    position_.rows = 0;
    for (size_t i = 0; i < tables_.size(); ++i)
      by_name_[tables_[i]->Display()] = static_cast<int>(i);
  }

  Status Start() {
    SLUICE_ASSIGN_OR_RETURN(stream_,
                            ReplicationStream::Start(options_.connection, slot_, publication_,
                                                     position_.end));
    return Status::OK();
  }

  int NextStream() const override { return next_stream_; }
  void SetReadWait(std::chrono::milliseconds wait) override { read_wait_ = wait; }

  std::string Position() const override {
    CdcPosition out = position_;
    if (in_txn_ && !skip_txn_ && returned_in_txn_ > 0) {
      out.txn = txn_lsn_;
      out.rows = txn_changes_ - (pending_.empty() ? 0 : 1);
    }
    return out.ToJson();
  }

  ReadLag Lag() const override {
    ReadLag lag;
    Lsn server = server_end_.load();
    Lsn done = done_end_.load();
    lag.bytes = server > done ? server - done : 0;
    int64_t event_time = last_event_time_us_.load();
    if (event_time != 0)
      lag.last_event_time_us = event_time;
    return lag;
  }

  Result<bool> ReadBatch(Batch* batch) override {
    const auto deadline = std::chrono::steady_clock::now() + read_wait_;
    while (batch->num_rows() + 2 <= batch->capacity()) {
      if (!pending_.empty()) {
        SLUICE_RETURN_IF_ERROR(ParsePgOutput(pending_, &message_));
        int stream = StreamOf(message_.relation);
        if (stream != batch->stream()) {
          next_stream_ = stream;
          return true;
        }
        SLUICE_RETURN_IF_ERROR(AppendChange(message_, batch));
        pending_.clear();
        continue;
      }
      SLUICE_RETURN_IF_ERROR(MaybeSendStatus(false));
      auto now = std::chrono::steady_clock::now();
      // With rows in hand, take only what has arrived: a change waits no longer than read_wait.
      auto wait = batch->empty() && deadline > now
                      ? std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now)
                      : std::chrono::milliseconds(0);
      SLUICE_ASSIGN_OR_RETURN(ReplicationStream::Event event, stream_->Next(wait));
      if (event.kind == ReplicationStream::Event::Kind::kNone)
        return true;
      server_end_.store(std::max(server_end_.load(), event.wal_end));
      if (event.kind == ReplicationStream::Event::Kind::kKeepalive) {
        if (!in_txn_ && pending_.empty())
          idle_end_ = event.wal_end;  // every change before it was returned
        SLUICE_RETURN_IF_ERROR(MaybeSendStatus(event.reply_requested));
        continue;
      }
      SLUICE_RETURN_IF_ERROR(ParsePgOutput(event.payload, &message_));
      switch (message_.kind) {
        case PgOutputMessage::Kind::kBegin:
          in_txn_ = true;
          txn_lsn_ = message_.lsn;
          txn_changes_ = 0;
          returned_in_txn_ = 0;
          commit_time_us_ = message_.commit_time_us;
          // Transactions the position covers come again when the slot's confirmed LSN is behind
          // the last checkpoint (a crash before Acknowledge): skip them.
          skip_txn_ = txn_lsn_ <= position_.commit;
          skip_changes_ = txn_lsn_ == resume_txn_ ? resume_rows_ : 0;
          break;
        case PgOutputMessage::Kind::kCommit:
          in_txn_ = false;
          if (!skip_txn_) {
            position_.commit = message_.lsn;
            position_.end = message_.end_lsn;
            done_end_.store(message_.end_lsn);
            if (returned_in_txn_ > 0)
              returned_end_ = message_.end_lsn;
            last_event_time_us_.store(message_.commit_time_us);
          }
          break;
        case PgOutputMessage::Kind::kRelation:
          SLUICE_RETURN_IF_ERROR(LearnRelation(message_));
          break;
        case PgOutputMessage::Kind::kInsert:
        case PgOutputMessage::Kind::kUpdate:
        case PgOutputMessage::Kind::kDelete: {
          ++txn_changes_;
          if (skip_txn_ || txn_changes_ <= skip_changes_)
            break;
          int stream = StreamOf(message_.relation);
          if (stream < 0)
            break;  // a table of the publication this job does not capture
          ++returned_in_txn_;
          if (stream != batch->stream()) {
            pending_.assign(event.payload);
            next_stream_ = stream;
            return true;
          }
          SLUICE_RETURN_IF_ERROR(AppendChange(message_, batch));
          break;
        }
        case PgOutputMessage::Kind::kTruncate:
          for (uint32_t oid : message_.truncated) {
            int stream = StreamOf(oid);
            if (stream >= 0 && warned_truncate_.insert(stream).second) {
              log::Warn(component(), "TRUNCATE of {} at {} is not applied to the target: a "
                        "changelog carries row changes only (delete the rows instead, or rerun "
                        "the job with --fresh)",
                        tables_[static_cast<size_t>(stream)]->Display(), FormatLsn(txn_lsn_));
            }
          }
          break;
        case PgOutputMessage::Kind::kOther:
          break;
      }
    }
    return true;
  }

 private:
  // Per relation OID the slot announced: the stream and, per stream field, the relation column.
  struct Relation {
    int stream = -1;
    std::vector<int> column_of_field;  // -1: the table no longer has the column (NULL)
    std::string quoted;
  };

  std::string component() const { return "source:postgres:cdc"; }

  int StreamOf(uint32_t oid) const {
    auto found = relations_.find(oid);
    return found == relations_.end() ? -1 : found->second.stream;
  }

  Status LearnRelation(const PgOutputMessage& message) {
    Relation relation;
    relation.quoted = QuoteQualified(message.schema, message.table);
    auto found = by_name_.find(message.schema + "." + message.table);
    if (found != by_name_.end()) {
      relation.stream = found->second;
      const CdcTable& table = *tables_[static_cast<size_t>(relation.stream)];
      const Schema& schema = *table.schema_ptr;
      // The slot describes the table as it was when each change was made (an ALTER TABLE while
      // the job runs or is stopped): its columns are matched to the stream's by name.
      std::vector<bool> matched(message.columns.size(), false);
      for (size_t f = 0; f < schema.num_fields(); ++f) {
        int at = -1;
        for (size_t c = 0; c < message.columns.size(); ++c) {
          if (message.columns[c].name == schema.field(f).name) {
            at = static_cast<int>(c);
            matched[c] = true;
          }
        }
        if (at < 0) {
          const std::string& name = schema.field(f).name;
          if (std::find(table.key.begin(), table.key.end(), static_cast<int>(f)) !=
              table.key.end()) {
            return Unsupported(fmt::format(
                "table {}: its primary key column '{}' is gone from the changes at LSN {} (a "
                "column renamed or dropped): changes cannot be applied by key any more; load the "
                "table again and rerun the job with --fresh",
                table.Display(), name, FormatLsn(txn_lsn_)));
          }
          if (warned_columns_.insert(table.Display() + "." + name).second) {
            log::Warn(component(),
                      "table {}: column '{}' is not in the changes at LSN {} (made before it was "
                      "added, or after it was dropped or renamed): it arrives as NULL there",
                      table.Display(), name, FormatLsn(txn_lsn_));
          }
        }
        relation.column_of_field.push_back(at);
      }
      for (size_t c = 0; c < message.columns.size(); ++c) {
        if (!matched[c] && warned_columns_.insert(table.Display() + "." +
                                                  message.columns[c].name).second) {
          log::Warn(component(),
                    "table {}: column '{}' (added while the job runs) is left out of the stream; "
                    "a restart of the job captures it",
                    table.Display(), message.columns[c].name);
        }
      }
    }
    relations_[message.relation] = std::move(relation);
    return Status::OK();
  }

  // Appends the row(s) of an Insert, Update or Delete: an update whose old row or old key came
  // along is an update_before then an update_after.
  Status AppendChange(const PgOutputMessage& message, Batch* batch) {
    const Relation& relation = relations_.at(message.relation);
    const CdcTable& table = *tables_[static_cast<size_t>(relation.stream)];
    switch (message.kind) {
      case PgOutputMessage::Kind::kInsert:
        return AppendTuple(table, relation, message.new_tuple, nullptr, RowKind::kInsert, batch);
      case PgOutputMessage::Kind::kUpdate:
        if (message.old_kind != 0) {
          SLUICE_RETURN_IF_ERROR(AppendTuple(table, relation, message.old_tuple, nullptr,
                                             RowKind::kUpdateBefore, batch));
        }
        return AppendTuple(table, relation, message.new_tuple,
                           message.old_kind == 'O' ? &message.old_tuple : nullptr,
                           RowKind::kUpdateAfter, batch);
      case PgOutputMessage::Kind::kDelete:
        return AppendTuple(table, relation, message.old_tuple, nullptr, RowKind::kDelete, batch);
      default:
        return Status::OK();
    }
  }

  Status AppendTuple(const CdcTable& table, const Relation& relation,
                     const std::vector<PgOutputValue>& tuple,
                     const std::vector<PgOutputValue>* old_row, RowKind kind, Batch* batch) {
    std::vector<std::string> fetched;  // unchanged TOAST values read from the table
    for (size_t f = 0; f < relation.column_of_field.size(); ++f) {
      int c = relation.column_of_field[f];
      Column& column = batch->column(f);
      if (c < 0 || static_cast<size_t>(c) >= tuple.size()) {
        column.AppendNull();
        continue;
      }
      const PgOutputValue* value = &tuple[static_cast<size_t>(c)];
      if (value->kind == PgOutputValue::Kind::kUnchangedToast && old_row != nullptr &&
          static_cast<size_t>(c) < old_row->size()) {
        value = &(*old_row)[static_cast<size_t>(c)];
      }
      std::optional<std::string> looked_up;
      if (value->kind == PgOutputValue::Kind::kUnchangedToast) {
        Result<std::optional<std::string>> current = LookUpUnchanged(table, relation, tuple, f);
        if (!current.ok()) {
          batch->DiscardPartialRow();
          return current.status();
        }
        if (!*current) {
          column.AppendNull();  // the row is gone since: its delete follows in the stream
          continue;
        }
        looked_up = std::move(*current);
        fetched_value_.kind = PgOutputValue::Kind::kText;
        fetched_value_.data = *looked_up;
        value = &fetched_value_;
      }
      if (value->kind == PgOutputValue::Kind::kNull) {
        column.AppendNull();
        continue;
      }
      Status appended = AppendTextValue(table.mappings[f], value->data, &column);
      if (!appended.ok()) {
        batch->DiscardPartialRow();
        BadRecord record;
        record.stream = table.stream_name;
        record.location = fmt::format("{} column '{}' at LSN {}", table.Display(),
                                      table.schema_ptr->field(f).name, FormatLsn(txn_lsn_));
        record.raw = std::string(value->data.substr(0, 256));
        record.reason = DataError(fmt::format("{}: {}", record.location, appended.message()));
        return context_->bad_records->Handle(record);
      }
    }
    batch->SetRowKind(kind);
    batch->FinishRow();
    return Status::OK();
  }

  // An unchanged TOASTed value that the update did not log (REPLICA IDENTITY other than FULL):
  // the table's current value for the row's key. A later change of that column comes later in
  // the stream, so the target converges on the source; nullopt when the row is gone since.
  Result<std::optional<std::string>> LookUpUnchanged(const CdcTable& table,
                                                     const Relation& relation,
                                                     const std::vector<PgOutputValue>& tuple,
                                                     size_t field) {
    if (!lookup_) {
      SLUICE_ASSIGN_OR_RETURN(lookup_, PgConnection::Connect(options_.connection));
    }
    const Schema& schema = *table.schema_ptr;
    std::string where;
    std::vector<std::optional<std::string>> params;
    for (int key : table.key) {
      int c = relation.column_of_field[static_cast<size_t>(key)];
      if (c < 0 || static_cast<size_t>(c) >= tuple.size() ||
          tuple[static_cast<size_t>(c)].kind != PgOutputValue::Kind::kText) {
        return Internal(fmt::format("{}: an update without its key", table.Display()));
      }
      const Field& key_field = schema.field(static_cast<size_t>(key));
      if (!where.empty())
        where += " AND ";
      where += fmt::format("{} = ${}::{}", QuoteIdentifier(key_field.name), params.size() + 1,
                           key_field.native_type);
      params.emplace_back(std::string(tuple[static_cast<size_t>(c)].data));
    }
    SLUICE_ASSIGN_OR_RETURN(
        PgResult result,
        lookup_->Query(fmt::format("SELECT {}::text FROM {} WHERE {}",
                                   QuoteIdentifier(schema.field(field).name), relation.quoted,
                                   where),
                       fmt::format("reading an unchanged large value of {}", table.Display()),
                       params));
    if (result.rows() == 0 || result.IsNull(0, 0))
      return std::optional<std::string>();
    return std::optional<std::string>(result.Text(0, 0));
  }

  // Tells the server how far it may forget: the acknowledged checkpoint, or, while everything
  // returned is acknowledged and nothing waits, the WAL end of the last idle keepalive.
  Status MaybeSendStatus(bool requested) {
    auto now = std::chrono::steady_clock::now();
    Lsn acknowledged = shared_->acknowledged.load();
    // At once when a checkpoint was acknowledged; else every second, asking for a keepalive,
    // whose WAL end is how far an idle slot may move.
    if (!requested && acknowledged <= confirmed_ && now - last_status_ < std::chrono::seconds(1))
      return Status::OK();
    Lsn confirm = std::max(acknowledged, confirmed_);
    if (!in_txn_ && pending_.empty() && acknowledged >= returned_end_ && idle_end_ > confirm)
      confirm = idle_end_;
    SLUICE_RETURN_IF_ERROR(stream_->SendStatus(std::max(server_end_.load(), confirm), confirm,
                                               /*reply_requested=*/!in_txn_));
    confirmed_ = confirm;
    last_status_ = now;
    return Status::OK();
  }

  const PostgresSourceOptions& options_;
  const JobContext* context_;
  const std::string slot_;
  const std::string publication_;
  std::vector<std::shared_ptr<const CdcTable>> tables_;
  std::unordered_map<std::string, int> by_name_;  // "schema.table" -> stream
  std::shared_ptr<CdcShared> shared_;
  std::unique_ptr<ReplicationStream> stream_;
  std::unordered_map<uint32_t, Relation> relations_;
  PgOutputMessage message_;
  std::chrono::milliseconds read_wait_{100};

  CdcPosition position_;
  const Lsn resume_txn_;       // the transaction a resumed position was inside, and
  const uint64_t resume_rows_;  // how many of its changes were returned before
  bool in_txn_ = false;
  Lsn txn_lsn_ = 0;
  int64_t commit_time_us_ = 0;
  uint64_t txn_changes_ = 0;      // changes of the transaction seen (captured or not)
  uint64_t returned_in_txn_ = 0;  // of them returned (or pending)
  bool skip_txn_ = false;
  uint64_t skip_changes_ = 0;
  std::string pending_;  // a change of another stream than the batch's, returned next
  int next_stream_ = 0;
  Lsn returned_end_ = 0;  // end of the last transaction that returned a change
  Lsn idle_end_ = 0;
  Lsn confirmed_ = 0;
  std::chrono::steady_clock::time_point last_status_{};
  std::atomic<Lsn> server_end_{0};
  std::atomic<Lsn> done_end_{0};
  std::atomic<int64_t> last_event_time_us_{0};
  std::set<int> warned_truncate_;
  std::set<std::string> warned_columns_;  // "schema.table.column" warned about once
  std::unique_ptr<PgConnection> lookup_;  // LookUpUnchanged's, made on first use
  PgOutputValue fetched_value_;
};

}  // namespace

PostgresCdcSource::PostgresCdcSource(PostgresSourceOptions options, config::Options config)
    : options_(std::move(options)),
      config_(std::move(config)),
      shared_(std::make_shared<CdcShared>()) {}

PostgresCdcSource::~PostgresCdcSource() = default;

Status PostgresCdcSource::Open(const JobContext& context) {
  context_ = &context;
  component_ = fmt::format("source:postgres:{}", options_.connection.database);
  slot_ = options_.slot.empty() ? DefaultSlotName(context.job_name) : options_.slot;
  publication_ = options_.publication.empty() ? slot_ : options_.publication;
  SLUICE_ASSIGN_OR_RETURN(control_, PgConnection::Connect(options_.connection));
  if (control_->server_encoding() == "SQL_ASCII") {
    return Unsupported(fmt::format("{}: change data capture needs a database encoding other "
                                   "than SQL_ASCII",
                                   control_->endpoint()));
  }
  SLUICE_ASSIGN_OR_RETURN(auto chosen, ResolveTables(*control_, options_));
  for (const auto& [schema, name] : chosen)
    SLUICE_RETURN_IF_ERROR(AddTable(schema, name));
  SLUICE_RETURN_IF_ERROR(EnsurePublication());
  SLUICE_RETURN_IF_ERROR(EnsureSlot());
  CheckRetainedWal();
  return Status::OK();
}

Status PostgresCdcSource::AddTable(const std::string& schema, const std::string& name) {
  SLUICE_ASSIGN_OR_RETURN(std::optional<PgTableInfo> described,
                          DescribeTable(*control_, schema, name));
  if (!described || described->relkind != 'r') {
    return NotFound(fmt::format("{}: table '{}.{}' does not exist{}", control_->endpoint(),
                                schema, name,
                                described ? " as an ordinary table (only tables have changes "
                                            "to capture)"
                                          : ""));
  }
  const PgTableInfo& info = *described;
  if (!info.key_is_primary) {
    return InvalidConfig(fmt::format(
        "{}: table {} has no primary key: change data capture applies changes by key (add a "
        "primary key)",
        control_->endpoint(), info.Display()));
  }
  SLUICE_ASSIGN_OR_RETURN(
      PgResult identity,
      control_->Query("SELECT relreplident FROM pg_class WHERE oid = $1::oid",
                      "reading the replica identity", {std::to_string(info.oid)}));
  if (identity.rows() == 1 && identity.Value(0, 0) == "n") {
    return InvalidConfig(fmt::format(
        "{}: table {} has REPLICA IDENTITY NOTHING, so its updates and deletes carry no key: "
        "run ALTER TABLE {} REPLICA IDENTITY DEFAULT (or FULL)",
        control_->endpoint(), info.Display(), info.Quoted()));
  }
  auto table = std::make_shared<CdcTable>();
  table->oid = info.oid;
  table->schema = info.schema;
  table->name = info.name;
  table->stream_name = info.schema == "public" ? info.name : info.Display();
  std::vector<int> selected;
  if (options_.columns.empty()) {
    for (size_t i = 0; i < info.columns.size(); ++i)
      selected.push_back(static_cast<int>(i));
  } else {
    for (const std::string& column : options_.columns) {
      int index = info.ColumnIndex(column);
      if (index < 0) {
        return config_.ErrorAt("columns", fmt::format("unknown column '{}' in table '{}'",
                                                      column, info.Display()));
      }
      selected.push_back(index);
    }
  }
  std::vector<Field> fields;
  for (int index : selected) {
    const PgColumn& column = info.columns[static_cast<size_t>(index)];
    ReadMapping mapping = MapForRead(column.type);
    fields.push_back(Field{column.name, mapping.type, !column.not_null, column.type.spelled});
    table->mappings.push_back(mapping);
  }
  std::vector<int> primary_key;
  for (int index : info.key) {
    auto found = std::find(selected.begin(), selected.end(), index);
    if (found == selected.end()) {
      return config_.ErrorAt(
          "columns", fmt::format("change data capture of '{}' needs its primary key column '{}' "
                                 "among the columns",
                                 info.Display(), info.columns[static_cast<size_t>(index)].name));
    }
    primary_key.push_back(static_cast<int>(found - selected.begin()));
  }
  table->key = primary_key;
  table->schema_ptr = std::make_shared<Schema>(std::move(fields), std::move(primary_key));
  StreamInfo stream;
  stream.name = table->stream_name;
  stream.schema = table->schema_ptr;
  stream.changelog = true;
  streams_.push_back(std::move(stream));
  tables_.push_back(std::move(table));
  return Status::OK();
}

Status PostgresCdcSource::EnsurePublication() {
  SLUICE_ASSIGN_OR_RETURN(PgResult existing,
                          control_->Query("SELECT 1 FROM pg_publication WHERE pubname = $1",
                                          "reading the publications", {publication_}));
  std::vector<std::string> quoted;
  for (const auto& table : tables_)
    quoted.push_back(QuoteQualified(table->schema, table->name));
  if (existing.rows() == 0) {
    return control_->Execute(fmt::format("CREATE PUBLICATION {} FOR TABLE {}",
                                         QuoteIdentifier(publication_), JoinNames(quoted)),
                             fmt::format("cannot create publication '{}' (the user needs CREATE "
                                         "on the database and to own the tables)",
                                         publication_));
  }
  SLUICE_ASSIGN_OR_RETURN(
      PgResult published,
      control_->Query("SELECT schemaname, tablename FROM pg_publication_tables WHERE pubname = $1",
                      "reading the publication's tables", {publication_}));
  std::set<std::string> have;
  for (int row = 0; row < published.rows(); ++row)
    have.insert(published.Text(row, 0) + "." + published.Text(row, 1));
  std::vector<std::string> missing;
  for (size_t i = 0; i < tables_.size(); ++i) {
    if (!have.contains(tables_[i]->Display()))
      missing.push_back(quoted[i]);
  }
  if (missing.empty())
    return Status::OK();
  return control_->Execute(
      fmt::format("ALTER PUBLICATION {} ADD TABLE {}", QuoteIdentifier(publication_),
                  JoinNames(missing)),
      fmt::format("cannot add tables to publication '{}'", publication_));
}

std::unique_ptr<PgConnection> PostgresCdcSource::TakeSnapshotHolder() {
  return std::move(snapshot_holder_);
}

Status PostgresCdcSource::CreateSlotWithSnapshot() {
  SLUICE_ASSIGN_OR_RETURN(
      PgResult existing,
      control_->Query("SELECT active FROM pg_replication_slots WHERE slot_name = $1",
                      "reading the replication slots", {slot_}));
  if (existing.rows() == 1) {
    if (existing.Value(0, 0) == "t") {
      return Conflict(fmt::format("{}: replication slot '{}' is in use by another client: a "
                                  "fresh snapshot_then_cdc run starts the slot over",
                                  control_->endpoint(), slot_));
    }
    log::Info(component_, "Dropping replication slot '{}': a fresh run starts it over", slot_);
    SLUICE_RETURN_IF_ERROR(control_->Execute("SELECT pg_drop_replication_slot($1)",
                                             "cannot drop the old replication slot", {slot_}));
  }
  SLUICE_ASSIGN_OR_RETURN(std::unique_ptr<PgConnection> holder,
                          PgConnection::Connect(options_.connection, /*replication=*/true));
  SLUICE_ASSIGN_OR_RETURN(
      PgResult created,
      holder->Query(fmt::format("CREATE_REPLICATION_SLOT {} LOGICAL pgoutput (SNAPSHOT 'export')",
                                QuoteIdentifier(slot_)),
                    fmt::format("cannot create replication slot '{}' (the user needs the "
                                "REPLICATION attribute; the server wal_level = logical and a "
                                "free max_replication_slots)",
                                slot_)));
  consistent_point_ = created.Text(0, 1);
  exported_snapshot_ = created.Text(0, 2);
  snapshot_holder_ = std::move(holder);
  log::Info(component_, "Created replication slot '{}' at {}; reading the tables in its "
            "snapshot '{}'",
            slot_, consistent_point_, exported_snapshot_);
  return Status::OK();
}

Status PostgresCdcSource::EnsureSlot() {
  if (options_.mode == SourceMode::kSnapshotThenCdc && !context_->resuming)
    return CreateSlotWithSnapshot();
  SLUICE_ASSIGN_OR_RETURN(
      PgResult slot,
      control_->Query("SELECT plugin, database, slot_type FROM pg_replication_slots "
                      "WHERE slot_name = $1",
                      "reading the replication slots", {slot_}));
  if (slot.rows() == 1) {
    if (slot.Value(0, 2) != "logical" || slot.Value(0, 0) != "pgoutput" ||
        slot.Value(0, 1) != options_.connection.database) {
      return InvalidConfig(fmt::format(
          "{}: replication slot '{}' is a {} slot of plugin '{}' on database '{}': Sluice needs a "
          "logical pgoutput slot on '{}' (name another with 'slot')",
          control_->endpoint(), slot_, slot.Value(0, 2), slot.Value(0, 0), slot.Value(0, 1),
          options_.connection.database));
    }
    return Status::OK();
  }
  if (context_->resuming) {
    return NotFound(fmt::format(
        "{}: replication slot '{}' is gone (dropped, or invalidated by max_slot_wal_keep_size), "
        "so the changes since the last checkpoint cannot be read: run the job with --fresh to "
        "start again from a new slot, and load the tables again first",
        control_->endpoint(), slot_));
  }
  return control_
      ->Query("SELECT lsn FROM pg_create_logical_replication_slot($1, 'pgoutput')",
              fmt::format("cannot create replication slot '{}' (the user needs the REPLICATION "
                          "attribute; the server wal_level = logical and a free "
                          "max_replication_slots)",
                          slot_),
              {slot_})
      .status();
}

void PostgresCdcSource::CheckRetainedWal() {
  Result<PgResult> retained = control_->Query(
      "SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), restart_lsn)::bigint FROM "
      "pg_replication_slots WHERE slot_name = $1",
      "reading the slot's retained WAL", {slot_});
  if (!retained.ok() || retained->rows() != 1 || retained->IsNull(0, 0))
    return;
  int64_t bytes = std::atoll(retained->Text(0, 0).c_str());
  bool over = bytes > options_.slot_wal_warn_mb * (int64_t{1} << 20);
  if (over && !wal_warned_) {
    log::Warn(component_, "replication slot '{}' holds back {} MB of WAL (slot_wal_warn_mb {}): "
              "the server keeps it until this job acknowledges a checkpoint",
              slot_, bytes >> 20, options_.slot_wal_warn_mb);
  }
  wal_warned_ = over;
}

Result<std::unique_ptr<SplitEnumerator>> PostgresCdcSource::CreateEnumerator() {
  Split split;
  split.id = std::string(kSplitPrefix) + slot_;
  split.stream = 0;
  split.payload = nlohmann::json{{"slot", slot_}}.dump();
  std::vector<Split> splits;
  splits.push_back(std::move(split));
  return std::unique_ptr<SplitEnumerator>(new SplitQueue(std::move(splits)));
}

Result<std::unique_ptr<SplitReader>> PostgresCdcSource::CreateReader(const Split& split,
                                                                     const std::string& position) {
  SLUICE_ASSIGN_OR_RETURN(CdcPosition parsed, CdcPosition::Parse(position));
  auto reader = std::make_unique<CdcReader>(options_, context_, slot_, publication_, tables_,
                                            shared_, parsed);
  SLUICE_RETURN_IF_ERROR(reader->Start());
  return std::unique_ptr<SplitReader>(std::move(reader));
}

Status PostgresCdcSource::Acknowledge(uint64_t checkpoint,
                                      const std::vector<SplitProgress>& progress) {
  for (const SplitProgress& split : progress) {
    if (!split.split_id.starts_with(kSplitPrefix))
      continue;
    SLUICE_ASSIGN_OR_RETURN(CdcPosition position, CdcPosition::Parse(split.position));
    Lsn now = shared_->acknowledged.load();
    if (position.end > now)
      shared_->acknowledged.store(position.end);
  }
  CheckRetainedWal();
  return Status::OK();
}

void PostgresCdcSource::Describe(CheckReport* report) const {
  report->Note(fmt::format("change data capture from replication slot '{}' (pgoutput), "
                           "publication '{}'",
                           slot_, publication_));
}

}  // namespace sluice::connectors::postgres
