#include "connectors/postgres/postgres_sink.h"

#include <fmt/core.h>

#include <algorithm>

#include "connectors/postgres/postgres_catalog.h"
#include "connectors/postgres/postgres_client.h"
#include "connectors/postgres/postgres_progress.h"
#include "connectors/postgres/postgres_types.h"
#include "connectors/sql/changelog_apply.h"
#include "core/failpoint.h"
#include "core/logging.h"
#include "core/strings.h"
#include "core/value_text.h"

namespace sluice::connectors::postgres {

namespace {

constexpr std::string_view kStagingPrefix = "_sluice_staging_";
// CopyData is sent once this much is encoded: large enough to amortise the calls, small enough
// to keep the writer's memory flat.
constexpr size_t kFlushBytes = 1u << 20;
// How long recovery waits for the server to end the sessions of an earlier run of the job (a
// killed process's backend finishing its last statement). Beyond it the attempt fails as
// transient and the runtime retries after a backoff.
constexpr int kRecoveryLockTimeoutSecs = 30;
// How long a claim waits for the sessions of an earlier run to end by themselves (a killed
// process's last COMMIT finishing) before it terminates them (a run taken over while frozen).
constexpr int kTakeOverPatienceSecs = 5;

std::string QuotedList(const std::vector<std::string>& names) {
  std::string out;
  for (const std::string& name : names) {
    if (!out.empty())
      out += ", ";
    out += QuoteIdentifier(name);
  }
  return out;
}

}  // namespace

struct PostgresSink::Target {
  std::string stream;
  std::string schema;
  std::string table;
  /// Where writers put rows: the table, or `_sluice_staging_<table>` in overwrite mode.
  std::string load_table;
  /// Stream column names; the target's columns of the same names receive them.
  std::vector<std::string> columns;
  std::vector<WriteMapping> mappings;
  /// The target columns' types as the server spells them (staging tables and casts).
  std::vector<std::string> target_types;
  /// Rows go through a per-writer TEMP table (upsert, or columns cast from text).
  bool via_staging = false;
  /// overwrite, resuming: an earlier run already swapped this table in; no rows may come.
  bool published = false;
  /// upsert, apply: the conflict target (key column names).
  std::vector<std::string> conflict_key;
  /// apply: the stream columns of conflict_key, in key order.
  std::vector<int> apply_key;
  /// Stream columns of the key, for bad-record locations.
  std::vector<int> key;
  bool created = false;  // the table did not exist before the job
  bool existed = false;

  std::string Display() const { return schema + "." + table; }
  std::string Quoted() const { return QuoteQualified(schema, table); }
  std::string QuotedLoad() const { return QuoteQualified(schema, load_table); }
};

namespace {

using Target = PostgresSink::Target;

// One writer: its own connection and transaction, one COPY running at a time. With `progress`
// (exactly-once delivery) the transaction spans everything written between two Commit()s.
class PostgresSinkWriter final : public SinkWriter {
 public:
  PostgresSinkWriter(std::shared_ptr<const std::vector<Target>> targets,
                     std::shared_ptr<const ProgressTable> progress,
                     const PostgresSinkOptions& options, const JobContext* context,
                     std::unique_ptr<PgConnection> conn, int slot)
      : targets_(std::move(targets)),
        progress_(std::move(progress)),
        options_(options),
        context_(context),
        conn_(std::move(conn)),
        endpoint_(conn_->endpoint()),
        slot_(slot),
        rows_received_(targets_->size(), 0),
        staged_(targets_->size(), false),
        planners_(targets_->size()) {}

  ~PostgresSinkWriter() override = default;  // uncommitted work is rolled back by PQfinish

  void Cancel() override { conn_->Cancel(); }

  // Creates this writer's staging tables (outside any transaction, so that they outlive a
  // rollback) and, under exactly-once, takes the job's progress lock for the session.
  Status Init() {
    if (progress_)
      SLUICE_RETURN_IF_ERROR(progress_->HoldShared(*conn_));
    for (size_t i = 0; i < targets_->size(); ++i) {
      const Target& target = (*targets_)[i];
      if (!target.via_staging)
        continue;
      std::string columns;
      for (size_t c = 0; c < target.columns.size(); ++c) {
        if (!columns.empty())
          columns += ", ";
        columns += QuoteIdentifier(target.columns[c]) + " " +
                   (target.mappings[c].via_text ? std::string("text") : target.target_types[c]);
      }
      if (options_.mode == WriteMode::kUpsert || options_.mode == WriteMode::kApply)
        columns += ", _sluice_row bigserial";
      // apply: 1 puts the row, 2 deletes its key.
      if (options_.mode == WriteMode::kApply)
        columns += ", _sluice_op smallint";
      SLUICE_RETURN_IF_ERROR(conn_->Execute(
          fmt::format("CREATE TEMP TABLE {} ({})", StagingName(i), columns),
          fmt::format("cannot create the staging table for '{}'", target.Display())));
    }
    return Status::OK();
  }

  Status Write(const Batch& batch) override {
    if (batch.empty())
      return Status::OK();
    if (batch.stream() < 0 || static_cast<size_t>(batch.stream()) >= targets_->size()) {
      return Internal(fmt::format("sink postgres: batch for unknown stream {}", batch.stream()));
    }
    const size_t stream = static_cast<size_t>(batch.stream());
    const Target& target = (*targets_)[stream];
    if (batch.num_columns() != target.columns.size()) {
      return Internal(fmt::format("sink postgres '{}': batch has {} columns, the stream {}",
                                  target.Display(), batch.num_columns(), target.columns.size()));
    }
    if (target.published) {
      return NotFound(fmt::format(
          "{}: the staging table '{}.{}' is missing although this run resumes an earlier one "
          "that loaded it, and rows remain to be written: run the job with --fresh to start over",
          endpoint_, target.schema, target.load_table));
    }
    SLUICE_RETURN_IF_ERROR(Usable());
    if (!conn_->InTransaction()) {
      SLUICE_RETURN_IF_ERROR(conn_->Execute("BEGIN", "cannot begin a transaction"));
    }
    if (copying_ != static_cast<int>(stream)) {
      SLUICE_RETURN_IF_ERROR(EndCopy());
      SLUICE_RETURN_IF_ERROR(StartCopy(stream));
    }
    const size_t columns = batch.num_columns();
    const bool apply = options_.mode == WriteMode::kApply;
    const std::vector<uint32_t>* rows = nullptr;
    if (apply) {
      // Only each key's last change in the batch goes to the server; later batches follow it in
      // the staging table (_sluice_row), where MoveStagedRows keeps each key's last.
      auto& planner = planners_[stream];
      if (!planner)
        planner = std::make_unique<sql::ApplyPlanner>(target.apply_key);
      planner->Plan(batch, &plan_);
      apply_rows_.clear();
      apply_rows_.reserve(plan_.upserts.size() + plan_.deletes.size());
      std::merge(plan_.upserts.begin(), plan_.upserts.end(), plan_.deletes.begin(),
                 plan_.deletes.end(), std::back_inserter(apply_rows_));
      rows = &apply_rows_;
    }
    const size_t count = rows ? rows->size() : batch.num_rows();
    size_t next_delete = 0;
    for (size_t i = 0; i < count; ++i) {
      const size_t row = rows ? (*rows)[i] : i;
      bool remove = false;
      if (apply && next_delete < plan_.deletes.size() && plan_.deletes[next_delete] == row) {
        remove = true;
        ++next_delete;
      }
      const size_t start = buffer_.size();
      buffer_.PutInt16(static_cast<int16_t>(apply ? columns + 1 : columns));
      Status status;
      size_t failed = 0;
      for (size_t c = 0; c < columns && status.ok(); ++c) {
        const Column& column = batch.column(c);
        // A delete needs its key only.
        if (column.IsNull(row) || (remove && !IsApplyKey(target, c))) {
          buffer_.PutNull();
          continue;
        }
        const WriteMapping& mapping = target.mappings[c];
        if (mapping.checks_values())
          status = CheckValueFits(mapping, column, row);
        if (status.ok())
          status = EncodeValue(mapping.encoder, column, row, &buffer_, &scratch_);
        failed = c;
      }
      if (!status.ok()) {
        buffer_.Truncate(start);
        SLUICE_RETURN_IF_ERROR(ReportBadValue(target, batch, row, failed, status, stream));
        continue;
      }
      if (apply) {
        buffer_.PutInt32(2);
        buffer_.PutInt16(static_cast<int16_t>(remove ? 2 : 1));
      }
      if (buffer_.size() >= kFlushBytes)
        SLUICE_RETURN_IF_ERROR(Flush(target));
    }
    rows_received_[stream] += batch.num_rows();
    rows_in_transaction_ += static_cast<int64_t>(batch.num_rows());
    if (target.via_staging)
      staged_[stream] = true;
    // Under exactly-once a commit here would make rows durable without their progress: a
    // resume would write them again. Only checkpoints commit then.
    if (!progress_ && rows_in_transaction_ >= options_.commit_rows) {
      SLUICE_RETURN_IF_ERROR(CommitTransaction(nullptr));
    }
    return Status::OK();
  }

  Status Prepare() override {
    SLUICE_RETURN_IF_ERROR(Usable());
    SLUICE_RETURN_IF_ERROR(EndCopy());
    return MoveStagedRows();
  }

  Status Commit(const CommitContext& commit) override {
    SLUICE_RETURN_IF_ERROR(Usable());
    return CommitTransaction(progress_ ? &commit : nullptr);
  }

  // Rolls back whatever is open. When the connection cannot be brought back to idle (it is gone,
  // or the server does not answer the end of the COPY) it is closed instead: a transaction never
  // outlives its session, so that is a rollback too.
  void Abort() override {
    rows_in_transaction_ = 0;
    std::fill(staged_.begin(), staged_.end(), false);
    buffer_.Clear();
    if (!conn_)
      return;
    if (!conn_->Broken()) {
      // Ending the COPY with an error makes the server fail it (the error is the expected
      // outcome), then the transaction is rolled back.
      if (copying_ >= 0)
        (void)conn_->EndCopyIn("", "aborted by sluice");
      if (conn_->InTransaction())
        (void)conn_->Execute("ROLLBACK", "");
    }
    copying_ = -1;
    if (conn_->Broken() || conn_->InTransaction() || !conn_->Healthy())
      conn_.reset();
  }

 private:
  Status Usable() const {
    if (conn_)
      return Status::OK();
    return Unavailable(
        fmt::format("{}: the writer's connection was closed by an abort", endpoint_));
  }

  static bool IsApplyKey(const Target& target, size_t column) {
    return std::find(target.apply_key.begin(), target.apply_key.end(),
                     static_cast<int>(column)) != target.apply_key.end();
  }

  std::string StagingName(size_t stream) const {
    return QuoteIdentifier(fmt::format("_sluice_load_{}_{}", slot_, stream));
  }

  Status StartCopy(size_t stream) {
    const Target& target = (*targets_)[stream];
    std::string into = target.via_staging ? StagingName(stream) : target.QuotedLoad();
    std::string columns = QuotedList(target.columns);
    if (options_.mode == WriteMode::kApply)
      columns += ", _sluice_op";
    SLUICE_RETURN_IF_ERROR(conn_->StartCopyIn(
        fmt::format("COPY {} ({}) FROM STDIN (FORMAT binary)", into, columns),
        fmt::format("cannot start COPY into '{}'", target.Display())));
    copying_ = static_cast<int>(stream);
    buffer_.Clear();
    buffer_.PutHeader();
    return Status::OK();
  }

  Status Flush(const Target& target) {
    Status status = conn_->PutCopyData(buffer_.data(), buffer_.size(),
                                       fmt::format("COPY into '{}'", target.Display()));
    buffer_.Clear();
    return status;
  }

  Status EndCopy() {
    if (copying_ < 0)
      return Status::OK();
    const Target& target = (*targets_)[static_cast<size_t>(copying_)];
    copying_ = -1;
    buffer_.PutTrailer();
    SLUICE_RETURN_IF_ERROR(Flush(target));
    Status ended = conn_->EndCopyIn(fmt::format("COPY into '{}'", target.Display()));
    if (!ended.ok() && options_.mode == WriteMode::kAppend &&
        ended.message().find("duplicate key value") != std::string::npos) {
      return Status(ended.code(), ended.message() + std::string(kDuplicateKeyAdvice));
    }
    return ended;
  }

  // Moves rows from the staging tables into their targets, casting text columns and resolving
  // conflicts for upsert, then empties the staging tables.
  Status MoveStagedRows() {
    for (size_t i = 0; i < targets_->size(); ++i) {
      if (!staged_[i])
        continue;
      const Target& target = (*targets_)[i];
      std::string values;
      for (size_t c = 0; c < target.columns.size(); ++c) {
        if (!values.empty())
          values += ", ";
        values += QuoteIdentifier(target.columns[c]);
        if (target.mappings[c].via_text)
          values += "::" + target.target_types[c];
      }
      std::string sql;
      if (options_.mode == WriteMode::kApply) {
        SLUICE_RETURN_IF_ERROR(ApplyStagedRows(target, i));
      } else if (options_.mode == WriteMode::kUpsert) {
        std::string keys = QuotedList(target.conflict_key);
        std::string updates;
        for (const std::string& column : target.columns) {
          if (std::find(target.conflict_key.begin(), target.conflict_key.end(), column) !=
              target.conflict_key.end()) {
            continue;
          }
          if (!updates.empty())
            updates += ", ";
          updates += fmt::format("{0} = EXCLUDED.{0}", QuoteIdentifier(column));
        }
        // One row per key (the last one written wins): ON CONFLICT cannot touch a row twice.
        sql = fmt::format(
            "INSERT INTO {} ({}) SELECT DISTINCT ON ({}) {} FROM {} ORDER BY {}, _sluice_row DESC "
            "ON CONFLICT ({}) DO {}",
            target.QuotedLoad(), QuotedList(target.columns), keys, values, StagingName(i), keys,
            keys, updates.empty() ? std::string("NOTHING") : "UPDATE SET " + updates);
      } else {
        sql = fmt::format("INSERT INTO {} ({}) SELECT {} FROM {}", target.QuotedLoad(),
                          QuotedList(target.columns), values, StagingName(i));
      }
      if (!sql.empty()) {
        SLUICE_RETURN_IF_ERROR(conn_->Execute(
            sql, fmt::format("cannot move staged rows into '{}'", target.Display())));
      }
      SLUICE_RETURN_IF_ERROR(conn_->Execute(fmt::format("TRUNCATE {}", StagingName(i)),
                                            "cannot empty a staging table"));
      staged_[i] = false;
    }
    return Status::OK();
  }

  // apply: each key's last change in the staging table (the highest _sluice_row) wins: keys
  // whose last change is a delete are deleted, the others inserted or updated. The two sets of
  // keys are disjoint, so the order of the two statements does not matter.
  Status ApplyStagedRows(const Target& target, size_t stream) {
    std::string keys = QuotedList(target.conflict_key);
    std::string values;
    std::string updates;
    for (size_t c = 0; c < target.columns.size(); ++c) {
      std::string column = QuoteIdentifier(target.columns[c]);
      values += (values.empty() ? "" : ", ") + column;
      if (target.mappings[c].via_text)
        values += "::" + target.target_types[c] + " AS " + column;
      if (!IsApplyKey(target, c))
        updates += fmt::format("{}{} = EXCLUDED.{}", updates.empty() ? "" : ", ", column, column);
    }
    std::string last = fmt::format(
        "(SELECT DISTINCT ON ({0}) {1}, _sluice_op FROM {2} ORDER BY {0}, _sluice_row DESC)", keys,
        values, StagingName(stream));
    std::string match;
    for (const std::string& key : target.conflict_key) {
      match += fmt::format(" AND t.{0} = s.{0}", QuoteIdentifier(key));
    }
    std::string what = fmt::format("cannot apply staged changes to '{}'", target.Display());
    SLUICE_RETURN_IF_ERROR(conn_->Execute(
        fmt::format("DELETE FROM {} t USING {} s WHERE s._sluice_op = 2{}", target.QuotedLoad(),
                    last, match),
        what));
    return conn_->Execute(
        fmt::format("INSERT INTO {} ({}) SELECT {} FROM {} s WHERE s._sluice_op = 1 ON CONFLICT "
                    "({}) DO {}",
                    target.QuotedLoad(), QuotedList(target.columns), QuotedList(target.columns),
                    last, keys, updates.empty() ? std::string("NOTHING") : "UPDATE SET " + updates),
        what);
  }

  // Commits the rows written so far; with `commit` (exactly-once) its progress too, in the same
  // transaction, so that a crash keeps both or neither.
  Status CommitTransaction(const CommitContext* commit) {
    SLUICE_RETURN_IF_ERROR(EndCopy());
    SLUICE_RETURN_IF_ERROR(MoveStagedRows());
    if (commit != nullptr && !commit->progress.empty()) {
      SLUICE_FAILPOINT("postgres.commit.after_rows");  // the rows sent, not their progress
      // A split may end (done) after its last rows were committed: progress alone.
      if (!conn_->InTransaction()) {
        SLUICE_RETURN_IF_ERROR(conn_->Execute("BEGIN", "cannot begin a transaction"));
      }
      SLUICE_RETURN_IF_ERROR(progress_->Upsert(*conn_, commit->checkpoint, commit->progress));
    }
    if (conn_->InTransaction() && progress_) {
      SLUICE_FAILPOINT("postgres.commit.before_fence_check");
      SLUICE_RETURN_IF_ERROR(progress_->CheckEpoch(*conn_, endpoint_));
    }
    if (conn_->InTransaction()) {
      SLUICE_RETURN_IF_ERROR(conn_->Commit(
          commit != nullptr ? fmt::format("cannot commit checkpoint {}", commit->checkpoint)
                            : std::string("cannot commit")));
    }
    rows_in_transaction_ = 0;
    return Status::OK();
  }

  // "public.orders id=42", or "public.orders row 17" without a key.
  std::string RowLocation(const Target& target, const Batch& batch, size_t row,
                          size_t stream) const {
    std::string out = target.Display();
    if (target.key.empty()) {
      fmt::format_to(std::back_inserter(out), " row {}", rows_received_[stream] + row + 1);
      return out;
    }
    AppendKeyLocation(batch, row, target.key, target.columns, &out);
    return out;
  }

  Status ReportBadValue(const Target& target, const Batch& batch, size_t row, size_t column,
                        const Status& problem, size_t stream) {
    BadRecord record;
    record.stream = target.stream;
    record.location = RowLocation(target, batch, row, stream);
    AppendValueText(batch.column(column), row, &record.raw);
    if (record.raw.size() > 256)
      record.raw.resize(256);
    record.reason = DataError(fmt::format("{}: column '{}': {}", record.location,
                                          target.columns[column], problem.message()));
    if (context_ == nullptr || context_->bad_records == nullptr)
      return record.reason;
    return context_->bad_records->Handle(record);
  }

  std::shared_ptr<const std::vector<Target>> targets_;
  std::shared_ptr<const ProgressTable> progress_;  // null under at_least_once
  const PostgresSinkOptions options_;
  const JobContext* context_;
  std::unique_ptr<PgConnection> conn_;  // null once an abort had to close it
  const std::string endpoint_;
  const int slot_;
  CopyBuffer buffer_;
  std::string scratch_;
  int copying_ = -1;  // the stream whose COPY is running, or -1
  int64_t rows_in_transaction_ = 0;
  std::vector<uint64_t> rows_received_;  // per stream
  std::vector<bool> staged_;             // per stream: rows wait in the staging table
  // apply: per stream, made at its first batch; the plan and rows of the batch being written.
  std::vector<std::unique_ptr<sql::ApplyPlanner>> planners_;
  sql::ApplyPlan plan_;
  std::vector<uint32_t> apply_rows_;
};

struct IndexInfo {
  std::string name;
  /// pg_get_indexdef() from the access method on ("USING btree (name)"), with uniqueness.
  std::string definition;
};

Result<std::vector<IndexInfo>> ListIndexes(PgConnection& conn, const std::string& table,
                                           const std::string& what) {
  SLUICE_ASSIGN_OR_RETURN(
      PgResult result,
      conn.Query("SELECT c.relname, i.indisunique::text || i.indisprimary::text || "
                 "regexp_replace(pg_get_indexdef(i.indexrelid), '^CREATE .*?INDEX \\S+ ON "
                 "(ONLY )?\\S+ ', '') FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
                 "WHERE i.indrelid = $1::regclass ORDER BY c.relname",
                 what, {table}));
  std::vector<IndexInfo> indexes;
  for (int r = 0; r < result.rows(); ++r) {
    indexes.push_back(IndexInfo{result.Text(r, 0), result.Text(r, 1)});
  }
  return indexes;
}

}  // namespace

PostgresSink::PostgresSink(PostgresSinkOptions options, config::Options config)
    : options_(std::move(options)), config_(std::move(config)) {}

PostgresSink::~PostgresSink() = default;

Result<PostgresSink::Target> PostgresSink::PrepareTarget(PgConnection& conn,
                                                         const StreamInfo& stream, bool dry_run,
                                                         CheckReport* report) {
  Target target;
  target.stream = stream.name;
  std::tie(target.schema, target.table) = SplitQualifiedName(options_.TableFor(stream.name));
  target.load_table = target.table;
  const Schema& schema = *stream.schema;
  for (const Field& field : schema.fields())
    target.columns.push_back(field.name);
  target.key = schema.primary_key();
  const std::string endpoint = conn.endpoint();
  const bool overwrite = options_.mode == WriteMode::kOverwrite;
  const std::string staging = std::string(kStagingPrefix) + target.table;
  if (stream.changelog && options_.mode != WriteMode::kApply) {
    return config_.ErrorAt("mode", sql::ChangelogNeedsApplyMode(
                                       "postgres", stream.name, sql::WriteModeName(options_.mode))
                                       .message());
  }

  SLUICE_ASSIGN_OR_RETURN(std::optional<PgTableInfo> info,
                          DescribeTable(conn, target.schema, target.table));
  target.existed = info.has_value();
  // A resumed overwrite continues filling the staging table an earlier run left (its rows were
  // committed with their progress). When it is gone although the table exists, that run already
  // swapped it in: it stopped between Finish and recording its success.
  bool keep_staging = false;
  if (overwrite && !dry_run && context_ != nullptr && context_->resuming) {
    SLUICE_ASSIGN_OR_RETURN(std::optional<PgTableInfo> kept,
                            DescribeTable(conn, target.schema, staging));
    if (kept) {
      keep_staging = true;
      if (!info)
        info = std::move(kept);  // the table is new: the staging table becomes it
      log::Info(fmt::format("sink:postgres:{}", target.Display()),
                "Resuming: continuing to load the kept staging table '{}.{}'", target.schema,
                staging);
    } else if (info) {
      target.published = true;
    }
  }
  if (!info) {
    if (!options_.create) {
      return NotFound(fmt::format("{}: table '{}' does not exist (and 'create' is false)", endpoint,
                                  target.Display()));
    }
    // The table from the stream schema: the source's native type when the rows come from
    // PostgreSQL too and this server knows the type, else the logical mapping. Another
    // database's spelling can mean something else here (MySQL's char(20) drops trailing
    // spaces, PostgreSQL's pads them).
    const bool same_kind = stream.source_type == "postgres";
    std::string columns;
    for (const Field& field : schema.fields()) {
      std::string type;
      if (same_kind && !field.native_type.empty()) {
        SLUICE_ASSIGN_OR_RETURN(PgType resolved, ResolveTypeName(conn, field.native_type));
        if (NativeTypeFits(field.type, field.native_type, resolved))
          type = field.native_type;
      }
      if (type.empty())
        type = TargetTypeFor(field.type, field.native_type == "jsonb");
      if (!columns.empty())
        columns += ", ";
      columns += QuoteIdentifier(field.name) + " " + type;
      if (!field.nullable)
        columns += " NOT NULL";
    }
    if (!schema.primary_key().empty()) {
      std::vector<std::string> key;
      for (int index : schema.primary_key()) {
        key.push_back(schema.field(static_cast<size_t>(index)).name);
      }
      columns += ", PRIMARY KEY (" + QuotedList(key) + ")";
    }
    std::string create_table =
        fmt::format("CREATE TABLE IF NOT EXISTS {} ({})",
                    QuoteQualified(target.schema, overwrite ? staging : target.table), columns);
    if (dry_run) {
      if (report != nullptr) {
        report->Note(fmt::format("table {} will be created: {}", target.Display(), create_table));
      }
      return target;
    }
    if (target.schema != "public") {
      SLUICE_RETURN_IF_ERROR(conn.Execute(
          fmt::format("CREATE SCHEMA IF NOT EXISTS {}", QuoteIdentifier(target.schema)),
          fmt::format("cannot create schema '{}'", target.schema)));
    }
    if (overwrite) {
      SLUICE_RETURN_IF_ERROR(conn.Execute(
          fmt::format("DROP TABLE IF EXISTS {}", QuoteQualified(target.schema, staging)),
          fmt::format("cannot drop the old staging table of '{}'", target.Display())));
    }
    SLUICE_RETURN_IF_ERROR(
        conn.Execute(create_table, fmt::format("cannot create table '{}'", target.Display())));
    target.created = true;
    SLUICE_ASSIGN_OR_RETURN(info,
                            DescribeTable(conn, target.schema, overwrite ? staging : target.table));
    if (!info) {
      return Internal(
          fmt::format("{}: table '{}' vanished after CREATE", endpoint, target.Display()));
    }
  }
  // Every stream column needs a column of a compatible type.
  std::vector<std::string> table_columns;
  for (const PgColumn& column : info->columns)
    table_columns.push_back(column.name);
  for (const Field& field : schema.fields()) {
    int index = info->ColumnIndex(field.name);
    if (index < 0) {
      return config_.ErrorAt("table",
                             fmt::format("table '{}' has no column '{}' (table columns: {}; stream "
                                         "columns: {})",
                                         target.Display(), field.name, JoinNames(table_columns),
                                         JoinNames(target.columns)));
    }
    const PgColumn& column = info->columns[static_cast<size_t>(index)];
    std::optional<WriteMapping> mapping = MapForWrite(field.type, column.type);
    if (!mapping) {
      return config_.ErrorAt(
          "table",
          fmt::format("column '{}' of table '{}' is {}, which cannot hold the stream's "
                      "{} values",
                      field.name, target.Display(), column.type.spelled, field.type.ToString()));
    }
    std::string warning = NarrowingWarning(field.type, *mapping);
    if (!warning.empty()) {
      if (report != nullptr) {
        report->Note(fmt::format("table {} column '{}' ({}): {}", target.Display(), field.name,
                                 column.type.spelled, warning));
      }
      if (!dry_run) {
        log::Warn(fmt::format("sink:postgres:{}", target.Display()), "column '{}' ({}): {}",
                  field.name, column.type.spelled, warning);
      }
    }
    target.mappings.push_back(*mapping);
    target.target_types.push_back(column.type.spelled);
    target.via_staging = target.via_staging || mapping->via_text;
  }
  if (options_.mode == WriteMode::kUpsert || options_.mode == WriteMode::kApply) {
    for (int index : info->key) {
      target.conflict_key.push_back(info->columns[static_cast<size_t>(index)].name);
    }
    if (options_.mode == WriteMode::kApply && target.conflict_key.empty()) {
      return config_.ErrorAt(
          "mode", sql::ApplyNeedsPrimaryKey(
                      "postgres", fmt::format("table '{}' on {}", target.Display(), endpoint))
                      .message());
    }
    bool covered = !target.conflict_key.empty();
    for (const std::string& key : target.conflict_key) {
      auto found = std::find(target.columns.begin(), target.columns.end(), key);
      covered = covered && found != target.columns.end();
      if (found != target.columns.end())
        target.apply_key.push_back(static_cast<int>(found - target.columns.begin()));
    }
    if (!covered) {
      return config_.ErrorAt(
          "mode", fmt::format("mode {} needs a primary key (or a unique index on NOT NULL "
                              "columns) on table '{}' whose columns the stream carries",
                              sql::WriteModeName(options_.mode), target.Display()));
    }
    target.via_staging = true;
  }
  if (report != nullptr) {
    report->Note(fmt::format("table {}: {} columns, {}{}", target.Display(), target.columns.size(),
                             sql::WriteModeName(options_.mode),
                             target.via_staging ? " through a staging table" : ""));
  }
  if (overwrite) {
    target.load_table = staging;
    if (!dry_run && target.existed && !keep_staging && !target.published) {
      SLUICE_RETURN_IF_ERROR(conn.Execute(
          fmt::format("DROP TABLE IF EXISTS {}", QuoteQualified(target.schema, staging)),
          fmt::format("cannot drop the old staging table of '{}'", target.Display())));
      SLUICE_RETURN_IF_ERROR(
          conn.Execute(fmt::format("CREATE TABLE {} (LIKE {} INCLUDING ALL)",
                                   QuoteQualified(target.schema, staging), target.Quoted()),
                       fmt::format("cannot create the staging table of '{}'", target.Display())));
    }
  }
  return target;
}

Status PostgresSink::CheckNotProgressTable(const JobContext& context,
                                           const StreamInfo& stream) const {
  if (context.delivery != DeliveryGuarantee::kExactlyOnce)
    return Status::OK();
  if (SplitQualifiedName(options_.TableFor(stream.name)) !=
      SplitQualifiedName(options_.progress_table)) {
    return Status::OK();
  }
  return config_.ErrorAt(
      "table", fmt::format("stream '{}' would be written into the progress table '{}' (set "
                           "'table' or 'progress_table' to another table)",
                           stream.name, options_.progress_table));
}

bool PostgresSink::exactly_once() const {
  return context_ != nullptr && context_->delivery == DeliveryGuarantee::kExactlyOnce;
}

Status PostgresSink::Open(const JobContext& context, const std::vector<StreamInfo>& streams) {
  context_ = &context;
  SLUICE_ASSIGN_OR_RETURN(conn_, PgConnection::Connect(options_.connection));
  if (exactly_once()) {
    // Created here, before any writer commits into it. The coordinator's session holds the
    // job's lock too: a resumed run must not look at the tables while a swap of a dead run may
    // still commit.
    auto progress =
        std::make_shared<ProgressTable>(options_.progress_table, context.job_name, run_epoch_);
    SLUICE_RETURN_IF_ERROR(progress->Ensure(*conn_));
    SLUICE_RETURN_IF_ERROR(progress->HoldShared(*conn_));
    progress_ = std::move(progress);
  }
  auto targets = std::make_shared<std::vector<Target>>();
  for (const StreamInfo& stream : streams) {
    SLUICE_RETURN_IF_ERROR(CheckNotProgressTable(context, stream));
    Result<Target> target = PrepareTarget(*conn_, stream, /*dry_run=*/false, nullptr);
    if (!target.ok()) {
      targets_ = targets;
      // What a resumed run loaded stays for the next attempt; a fresh run's is worthless.
      if (!context.resuming)
        (void)DropStagingTables();
      return target.status();
    }
    targets->push_back(std::move(*target));
  }
  size_t published = 0;
  for (const Target& target : *targets)
    published += target.published ? 1 : 0;
  if (published > 0 && published < targets->size()) {
    for (const Target& target : *targets) {
      if (!target.published)
        continue;
      return NotFound(fmt::format(
          "{}: the staging table '{}.{}' is missing although this run resumes an earlier one "
          "that created it (others are still there): run the job with --fresh to start over",
          conn_->endpoint(), target.schema, target.load_table));
    }
  }
  published_ = published > 0;
  if (published_) {
    log::Warn("sink:postgres",
              "Resuming: the staging tables are gone because an earlier run already swapped them "
              "in; nothing is left to load");
  }
  targets_ = std::move(targets);
  return Status::OK();
}

Status PostgresSink::Claim(const JobContext& context) {
  if (context.delivery != DeliveryGuarantee::kExactlyOnce || context.run_epoch == 0)
    return Status::OK();
  SLUICE_ASSIGN_OR_RETURN(std::unique_ptr<PgConnection> conn,
                          PgConnection::Connect(options_.connection));
  ProgressTable progress(options_.progress_table, context.job_name, context.run_epoch);
  SLUICE_RETURN_IF_ERROR(progress.Ensure(*conn));
  // A run that was itself taken over must not end the newer run's sessions.
  SLUICE_RETURN_IF_ERROR(progress.CheckNotOvertaken(*conn, conn->endpoint()));
  // No session of an earlier run may commit from here on; the lock is released when `conn`
  // closes, before any writer of this run takes it shared.
  SLUICE_RETURN_IF_ERROR(progress.TakeOver(*conn, kTakeOverPatienceSecs));
  SLUICE_RETURN_IF_ERROR(progress.StoreEpoch(*conn, context.run_owner, conn->endpoint()));
  run_epoch_ = context.run_epoch;
  return Status::OK();
}

Result<std::vector<SplitProgress>> PostgresSink::RecoverProgress(const JobContext& context) {
  SLUICE_ASSIGN_OR_RETURN(std::unique_ptr<PgConnection> conn,
                          PgConnection::Connect(options_.connection));
  ProgressTable progress(options_.progress_table, context.job_name);
  // Claimed: earlier runs' sessions are gone and cannot commit any more. Otherwise wait for
  // them; the lock is released when `conn` closes.
  if (run_epoch_ == 0)
    SLUICE_RETURN_IF_ERROR(progress.HoldExclusive(*conn, kRecoveryLockTimeoutSecs));
  return progress.Load(*conn);
}

namespace {

// Whether `table` ("schema.table" or "table") holds a row; nullopt when it does not exist.
Result<std::optional<bool>> TableHoldsRows(PgConnection& conn, const std::string& qualified) {
  auto [schema, table] = SplitQualifiedName(qualified);
  std::string quoted = QuoteQualified(schema, table);
  std::string what = fmt::format("cannot look into '{}.{}'", schema, table);
  SLUICE_ASSIGN_OR_RETURN(PgResult exists,
                          conn.Query("SELECT to_regclass($1) IS NOT NULL", what, {quoted}));
  if (exists.rows() == 0 || exists.Value(0, 0) != "t")
    return std::optional<bool>();
  SLUICE_ASSIGN_OR_RETURN(PgResult any,
                          conn.Query(fmt::format("SELECT 1 FROM {} LIMIT 1", quoted), what));
  return std::optional<bool>(any.rows() > 0);
}

std::string TableDisplay(const std::string& qualified) {
  auto [schema, table] = SplitQualifiedName(qualified);
  return fmt::format("table '{}.{}'", schema, table);
}

}  // namespace

Status PostgresSink::CheckFreshStart(const JobContext& context,
                                     const std::vector<StreamInfo>& streams) {
  if (options_.mode != WriteMode::kAppend)
    return Status::OK();
  SLUICE_ASSIGN_OR_RETURN(std::unique_ptr<PgConnection> conn,
                          PgConnection::Connect(options_.connection));
  for (const StreamInfo& stream : streams) {
    std::string table = options_.TableFor(stream.name);
    SLUICE_ASSIGN_OR_RETURN(std::optional<bool> holds_rows, TableHoldsRows(*conn, table));
    if (holds_rows.value_or(false))
      return FreshStartWouldDuplicate(context.job_name, TableDisplay(table));
  }
  return Status::OK();
}

Status PostgresSink::CheckCommittedTargets(const JobContext& context,
                                           const std::vector<StreamInfo>& streams) {
  if (options_.mode == WriteMode::kOverwrite)
    return Status::OK();  // the staging table's own checks at Open
  if (options_.mode == WriteMode::kApply)
    return Status::OK();  // deletes may rightly have emptied the table
  SLUICE_ASSIGN_OR_RETURN(std::unique_ptr<PgConnection> conn,
                          PgConnection::Connect(options_.connection));
  for (const StreamInfo& stream : streams) {
    std::string table = options_.TableFor(stream.name);
    SLUICE_ASSIGN_OR_RETURN(std::optional<bool> holds_rows, TableHoldsRows(*conn, table));
    if (!holds_rows.value_or(false)) {
      return CommittedRowsGone(context.job_name, TableDisplay(table), !holds_rows.has_value());
    }
  }
  return Status::OK();
}

Status PostgresSink::ForgetProgress(const JobContext& context) {
  SLUICE_ASSIGN_OR_RETURN(std::unique_ptr<PgConnection> conn,
                          PgConnection::Connect(options_.connection));
  ProgressTable progress(options_.progress_table, context.job_name);
  if (run_epoch_ == 0)
    SLUICE_RETURN_IF_ERROR(progress.HoldExclusive(*conn, kRecoveryLockTimeoutSecs));
  return progress.Delete(*conn);
}

Status PostgresSink::Check(const JobContext& context, const std::vector<StreamInfo>& streams,
                           CheckReport* report) {
  SLUICE_ASSIGN_OR_RETURN(std::unique_ptr<PgConnection> conn,
                          PgConnection::Connect(options_.connection));
  for (const StreamInfo& stream : streams) {
    SLUICE_RETURN_IF_ERROR(CheckNotProgressTable(context, stream));
    SLUICE_RETURN_IF_ERROR(PrepareTarget(*conn, stream, /*dry_run=*/true, report).status());
  }
  if (context.delivery == DeliveryGuarantee::kExactlyOnce) {
    ProgressTable progress(options_.progress_table, context.job_name);
    SLUICE_ASSIGN_OR_RETURN(bool exists, progress.Exists(*conn));
    report->Note(fmt::format("progress: committed with the rows into {}{}", progress.Display(),
                             exists ? "" : " (will be created)"));
  }
  return Status::OK();
}

Result<std::unique_ptr<SinkWriter>> PostgresSink::CreateWriter(int slot) {
  if (!targets_)
    return Internal("sink postgres: CreateWriter before Open");
  SLUICE_ASSIGN_OR_RETURN(std::unique_ptr<PgConnection> conn,
                          PgConnection::Connect(options_.connection));
  auto writer = std::make_unique<PostgresSinkWriter>(targets_, progress_, options_, context_,
                                                     std::move(conn), slot);
  SLUICE_RETURN_IF_ERROR(writer->Init());
  return std::unique_ptr<SinkWriter>(std::move(writer));
}

// The job's progress rows stay (every split done): on resume the runtime counts only what the
// sink recovers, so a run that dies after Finish but before recording its success must find
// "all done" here, not nothing, or it would load everything again. The next fresh run's
// ForgetProgress deletes them.
Status PostgresSink::Finish() {
  if (finished_ || !targets_ || options_.mode != WriteMode::kOverwrite || published_) {
    finished_ = true;
    return Status::OK();
  }
  PgConnection& conn = *conn_;
  SLUICE_RETURN_IF_ERROR(conn.Execute("BEGIN", "cannot begin the swap"));
  Status status = progress_ ? progress_->CheckEpoch(conn, conn.endpoint()) : Status::OK();
  if (status.ok())
    status = Swap();
  if (!status.ok()) {
    (void)conn.Execute("ROLLBACK", "");
    return status;
  }
  SLUICE_RETURN_IF_ERROR(conn.Commit("cannot commit the swap"));
  finished_ = true;
  for (const Target& target : *targets_) {
    log::Info(fmt::format("sink:postgres:{}", target.Display()),
              "Swapped the loaded table in for '{}'", target.Display());
  }
  return Status::OK();
}

Status PostgresSink::Swap() {
  PgConnection& conn = *conn_;
  for (const Target& target : *targets_) {
    const std::string what = fmt::format("cannot swap in the new '{}'", target.Display());
    const std::string staging = QuoteQualified(target.schema, target.load_table);
    if (target.existed) {
      // Sequences owned by the old table's columns (serial) would be dropped with it although
      // the new table's defaults use them: hand them over first.
      SLUICE_ASSIGN_OR_RETURN(
          PgResult owned,
          conn.Query("SELECT quote_ident(sn.nspname) || '.' || quote_ident(s.relname), "
                     "a.attname FROM pg_depend d "
                     "JOIN pg_class s ON s.oid = d.objid AND s.relkind = 'S' "
                     "JOIN pg_namespace sn ON sn.oid = s.relnamespace "
                     "JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid "
                     "WHERE d.classid = 'pg_class'::regclass AND d.refobjid = $1::regclass "
                     "AND d.deptype = 'a'",
                     what, {target.Quoted()}));
      for (int r = 0; r < owned.rows(); ++r) {
        SLUICE_RETURN_IF_ERROR(
            conn.Execute(fmt::format("ALTER SEQUENCE {} OWNED BY {}.{}", owned.Text(r, 0), staging,
                                     QuoteIdentifier(owned.Text(r, 1))),
                         what));
      }
    }
    // LIKE ... INCLUDING ALL gave the staging table's indexes generated names: note which
    // old index each one copies (same definition), to give it the old name after the DROP.
    std::vector<IndexInfo> old_indexes;
    if (target.existed) {
      SLUICE_ASSIGN_OR_RETURN(old_indexes, ListIndexes(conn, target.Quoted(), what));
    }
    SLUICE_ASSIGN_OR_RETURN(std::vector<IndexInfo> new_indexes, ListIndexes(conn, staging, what));
    SLUICE_RETURN_IF_ERROR(
        conn.Execute(fmt::format("DROP TABLE IF EXISTS {}", target.Quoted()), what));
    SLUICE_RETURN_IF_ERROR(conn.Execute(
        fmt::format("ALTER TABLE {} RENAME TO {}", staging, QuoteIdentifier(target.table)), what));
    for (const IndexInfo& index : new_indexes) {
      std::string renamed;
      for (IndexInfo& old : old_indexes) {
        if (!old.name.empty() && old.definition == index.definition) {
          renamed = std::move(old.name);
          old.name.clear();
          break;
        }
      }
      if (renamed.empty() && index.name.rfind(target.load_table, 0) == 0) {
        // A table created for this job: "_sluice_staging_t_pkey" becomes "t_pkey".
        renamed = target.table + index.name.substr(target.load_table.size());
      }
      if (renamed.empty() || renamed == index.name)
        continue;
      // Renaming an index also renames its primary-key or unique constraint.
      SLUICE_RETURN_IF_ERROR(conn.Execute(
          fmt::format("ALTER INDEX {} RENAME TO {}", QuoteQualified(target.schema, index.name),
                      QuoteIdentifier(renamed)),
          what));
    }
  }
  return Status::OK();
}

Status PostgresSink::DropStagingTables() {
  if (options_.mode != WriteMode::kOverwrite || !targets_ || !conn_)
    return Status::OK();
  Status first;
  for (const Target& target : *targets_) {
    Status status = conn_->Execute(
        fmt::format("DROP TABLE IF EXISTS {}", QuoteQualified(target.schema, target.load_table)),
        fmt::format("cannot drop the staging table of '{}'", target.Display()));
    if (first.ok() && !status.ok())
      first = status;
  }
  return first;
}

void PostgresSink::Abort() {
  // The staging tables stay: a resumed run continues filling them, a fresh run replaces them.
  if (conn_ && !conn_->Broken() && conn_->InTransaction())
    (void)conn_->Execute("ROLLBACK", "");
  // Closing the session also releases the job's progress lock for the next attempt.
  conn_.reset();
}

}  // namespace sluice::connectors::postgres
