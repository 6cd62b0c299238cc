#include "connectors/sqlite/sqlite_sink.h"

#include <fcntl.h>
#include <fmt/core.h>
#include <sqlite3.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <filesystem>

#include "connectors/sql/changelog_apply.h"
#include "connectors/sqlite/sqlite_catalog.h"
#include "connectors/sqlite/sqlite_types.h"
#include "core/arena.h"
#include "core/decimal.h"
#include "core/failpoint.h"
#include "core/logging.h"
#include "core/temporal.h"
#include "core/value_text.h"

namespace sluice::connectors::sqlite {

namespace {

constexpr std::string_view kStagingPrefix = "_sluice_staging_";
// Exactly-once progress, one row per (job, split), written in the transaction of the rows.
constexpr std::string_view kProgressTable = "_sluice_progress";
// `epoch` is the run that committed the row; the row with split id "" holds the current run's
// (kRunFenceSplitId, see Sink::Claim).
constexpr std::string_view kCreateProgressTable =
    "CREATE TABLE IF NOT EXISTS _sluice_progress (job TEXT, split_id TEXT, position TEXT NOT "
    "NULL, done INTEGER NOT NULL, checkpoint INTEGER, epoch INTEGER NOT NULL DEFAULT 0, PRIMARY "
    "KEY (job, split_id))";
// Bound in place of empty strings and blobs: a null pointer would bind NULL instead.
constexpr char kEmpty[] = "";

bool IsDataErrorCode(int code) {
  switch (code & 0xff) {
    case SQLITE_CONSTRAINT:
    case SQLITE_MISMATCH:
    case SQLITE_TOOBIG:
    case SQLITE_RANGE:
      return true;
    default:
      return false;
  }
}

std::string JoinFieldNames(const Schema& schema) {
  std::string out;
  for (const Field& field : schema.fields()) {
    if (!out.empty()) {
      out += ", ";
    }
    out += field.name;
  }
  return out;
}

Status FilesystemError(std::string_view message, const std::error_code& error) {
  std::string text = fmt::format("{}: {}", message, error.message());
  int value = error.value();
  if (value == EACCES || value == EPERM || value == EROFS) {
    return PermissionDenied(text);
  }
  if (value == ENOENT || value == ENOTDIR) {
    return NotFound(text);
  }
  return IoError(text);
}

}  // namespace

struct SqliteSink::Target {
  std::string stream;
  /// The table as named in the database (its stored name when it already existed).
  std::string table;
  /// Where rows go: `table`, or the staging table in overwrite mode.
  std::string insert_table;
  /// Stream columns, in stream order: the INSERT column list.
  std::vector<std::string> columns;
  /// Affinity of the target column each stream column lands in (decides how floats bind).
  std::vector<Affinity> affinities;
  /// Primary key columns of the stream, for bad-record locations.
  std::vector<int> key;
  /// The stream column that lands in the table's rowid (an INTEGER PRIMARY KEY declared NOT
  /// NULL), or -1. SQLite would replace a NULL there with a new rowid instead of refusing it.
  int rowid_key = -1;
  /// Integer stream columns that land in a column declared BOOLEAN: only 0 and 1 read back as
  /// booleans (MySQL's TINYINT(1) may hold 2), so other values are refused.
  std::vector<int> boolean_columns;
  /// Overwrite only: an earlier run of this job already swapped the staging table in (and then
  /// stopped before it could record its success), so there is nothing left to load.
  bool published = false;
  /// Apply only: the stream columns of the table's primary key, in key order.
  std::vector<int> apply_key;
};

struct SqliteSink::Swap {
  std::string staging;
  std::string table;
  /// CREATE INDEX / CREATE TRIGGER statements of the replaced table, re-run after the swap.
  std::vector<std::string> dependents;
};

namespace {

using Target = SqliteSink::Target;

int BindText(sqlite3_stmt* stmt, int param, std::string_view text) {
  const char* data = text.data() != nullptr ? text.data() : kEmpty;
  return sqlite3_bind_text(stmt, param, data, static_cast<int>(text.size()), SQLITE_STATIC);
}

Result<bool> HasProgressTable(Connection& db) {
  SLUICE_ASSIGN_OR_RETURN(std::optional<std::string> found, FindTable(db, kProgressTable, false));
  return found.has_value();
}

// Rows of `_sluice_progress` for `job` (0 without the table).
// Splits of `job` whose progress is committed but not done.
Result<int64_t> CountUnfinishedProgress(Connection& db, const std::string& job) {
  SLUICE_ASSIGN_OR_RETURN(bool exists, HasProgressTable(db));
  if (!exists) {
    return int64_t{0};
  }
  std::string what = fmt::format("cannot read table '{}'", kProgressTable);
  SLUICE_ASSIGN_OR_RETURN(Statement stmt,
                          db.Prepare("SELECT count(*) FROM _sluice_progress WHERE job = ?1 "
                                     "AND done = 0 AND split_id <> ''",
                                     what));
  BindText(stmt.get(), 1, job);
  int rc = sqlite3_step(stmt.get());
  if (rc != SQLITE_ROW) {
    return db.Error(rc, what);
  }
  return static_cast<int64_t>(sqlite3_column_int64(stmt.get(), 0));
}

Status DeleteJobProgress(Connection& db, const std::string& job) {
  SLUICE_ASSIGN_OR_RETURN(bool exists, HasProgressTable(db));
  if (!exists) {
    return Status::OK();
  }
  std::string what = fmt::format("cannot delete the progress of job '{}'", job);
  SLUICE_ASSIGN_OR_RETURN(Statement stmt,
                          db.Prepare("DELETE FROM _sluice_progress WHERE job = ?1 AND "
                                     "split_id <> ''",
                                     what));
  BindText(stmt.get(), 1, job);
  int rc = sqlite3_step(stmt.get());
  if (rc != SQLITE_DONE) {
    return db.Error(rc, what);
  }
  return Status::OK();
}

// Creates `_sluice_progress` when missing and adds the `epoch` column to one that an older
// Sluice created without it.
Status EnsureProgressTable(Connection& db) {
  std::string what = fmt::format("cannot create table '{}'", kProgressTable);
  SLUICE_RETURN_IF_ERROR(db.Execute(kCreateProgressTable, what));
  SLUICE_ASSIGN_OR_RETURN(TableInfo info, DescribeTable(db, std::string(kProgressTable)));
  if (info.FindColumn("epoch") >= 0)
    return Status::OK();
  return db.Execute("ALTER TABLE _sluice_progress ADD COLUMN epoch INTEGER NOT NULL DEFAULT 0",
                    what);
}

// Inside a write transaction: the epoch of the job's current run (0 when none claimed).
Result<uint64_t> CurrentRunEpoch(Connection& db, const std::string& job) {
  std::string what = fmt::format("cannot read the run epoch of job '{}'", job);
  SLUICE_ASSIGN_OR_RETURN(
      Statement stmt,
      db.Prepare("SELECT epoch FROM _sluice_progress WHERE job = ?1 AND split_id = ''", what));
  BindText(stmt.get(), 1, job);
  int rc = sqlite3_step(stmt.get());
  if (rc == SQLITE_DONE)
    return uint64_t{0};
  if (rc != SQLITE_ROW)
    return db.Error(rc, what);
  return static_cast<uint64_t>(sqlite3_column_int64(stmt.get(), 0));
}

// Inside a write transaction (which excludes every other writer of the file): refuses when a
// newer run has claimed the job since this one did (epoch `mine`).
Status CheckRunEpoch(Connection& db, const std::string& job, const std::string& path,
                     uint64_t mine) {
  SLUICE_ASSIGN_OR_RETURN(uint64_t current, CurrentRunEpoch(db, job));
  if (current == mine)
    return Status::OK();
  return FencedOff(job, fmt::format("SQLite database '{}'", path), mine, current);
}

// The prepared INSERT statements of one stream.
struct Inserts {
  Statement single;
  Statement multi;
  size_t multi_rows = 0;
  uint64_t rows_received = 0;
};

// The one writer of a SqliteSink. Binds values straight from the batch: strings, bytes and wide
// decimals as SQLITE_STATIC views into the batch (which outlives each step); formatted values
// (dates, timestamps, fast decimals, uint64) via the scratch arena, reset after every statement.
// Whatever is not committed when the writer is destroyed is rolled back with its connection.
class SqliteSinkWriter final : public SinkWriter {
 public:
  /// `run_epoch`: the epoch Sink::Claim stored (exactly-once), checked at every commit.
  SqliteSinkWriter(std::shared_ptr<const std::vector<Target>> targets,
                   const SqliteSinkOptions& options, const JobContext& context, Connection db,
                   uint64_t run_epoch)
      : targets_(std::move(targets)),
        options_(options),
        context_(context),
        db_(std::move(db)),
        run_epoch_(run_epoch),
        inserts_(targets_->size()),
        appliers_(targets_->size()),
        variable_limit_(sqlite3_limit(db_.get(), SQLITE_LIMIT_VARIABLE_NUMBER, -1)),
        exactly_once_(context.delivery == DeliveryGuarantee::kExactlyOnce) {}

  Status Write(const Batch& batch) override {
    if (batch.empty()) {
      return Status::OK();
    }
    if (batch.stream() < 0 || static_cast<size_t>(batch.stream()) >= targets_->size()) {
      return Internal(fmt::format("batch for unknown stream {}", batch.stream()));
    }
    const Target& target = (*targets_)[static_cast<size_t>(batch.stream())];
    if (target.published) {
      return InvalidConfig(fmt::format(
          "table '{}': an earlier run of job '{}' already replaced the table and has no rows "
          "left to load; run the job with --fresh to load it again",
          target.table, context_.job_name));
    }
    if (batch.num_columns() != target.columns.size()) {
      return Internal(fmt::format("table '{}': batch has {} columns, the stream {}", target.table,
                                  batch.num_columns(), target.columns.size()));
    }
    SLUICE_ASSIGN_OR_RETURN(Inserts * inserts, InsertsFor(batch.stream(), target));
    if (!in_transaction_) {
      SLUICE_RETURN_IF_ERROR(db_.Execute("BEGIN IMMEDIATE", Context(target, "cannot begin")));
      in_transaction_ = true;
    }
    size_t rows = batch.num_rows();
    if (options_.mode == WriteMode::kApply) {
      SLUICE_RETURN_IF_ERROR(Apply(batch, target, inserts));
    } else {
      SLUICE_RETURN_IF_ERROR(InsertAll(batch, target, *inserts));
    }
    inserts->rows_received += rows;
    rows_in_transaction_ += static_cast<int64_t>(rows);
    // Exactly-once rows must not become durable before their progress: one transaction per
    // checkpoint, however many rows it holds.
    if (!exactly_once_ && rows_in_transaction_ >= options_.commit_rows) {
      SLUICE_RETURN_IF_ERROR(CommitTransaction(target.table));
    }
    return Status::OK();
  }

  Status Prepare() override { return Status::OK(); }  // every row is already in the transaction

  Status Commit(const CommitContext& commit) override {
    if (exactly_once_ && !commit.progress.empty()) {
      SLUICE_FAILPOINT("sqlite.commit.after_rows");  // the rows written, not their progress
      if (!in_transaction_) {
        SLUICE_RETURN_IF_ERROR(db_.Execute("BEGIN IMMEDIATE", "cannot begin"));
        in_transaction_ = true;
      }
      SLUICE_RETURN_IF_ERROR(StoreProgress(commit));
    }
    if (exactly_once_ && in_transaction_ && run_epoch_ != 0) {
      SLUICE_FAILPOINT("sqlite.commit.before_fence_check");
      SLUICE_RETURN_IF_ERROR(
          CheckRunEpoch(db_, context_.job_name, options_.path, run_epoch_));
    }
    return CommitTransaction("");
  }

  void Abort() override {
    if (in_transaction_ || sqlite3_get_autocommit(db_.get()) == 0) {
      sqlite3_exec(db_.get(), "ROLLBACK", nullptr, nullptr, nullptr);
    }
    in_transaction_ = false;
    rows_in_transaction_ = 0;
    progress_table_pending_ = false;
  }

 private:
  std::string Context(const Target& target, std::string_view what) const {
    return fmt::format("table '{}': {}", target.table, what);
  }

  Status InsertAll(const Batch& batch, const Target& target, const Inserts& inserts) {
    size_t rows = batch.num_rows();
    size_t row = 0;
    if (inserts.multi_rows > 1) {
      for (; rows - row >= inserts.multi_rows; row += inserts.multi_rows) {
        SLUICE_RETURN_IF_ERROR(
            Insert(inserts.multi.get(), batch, target, inserts, row, inserts.multi_rows));
      }
    }
    for (; row < rows; ++row) {
      SLUICE_RETURN_IF_ERROR(Insert(inserts.single.get(), batch, target, inserts, row, 1));
    }
    return Status::OK();
  }

  // What mode apply keeps per stream: the planner, the batch the upserts are copied into, and
  // the key-only batch and DELETE statement of the deletes.
  struct Applier {
    sql::ApplyPlanner planner;
    sql::ApplyPlan plan;
    std::unique_ptr<Batch> upserts;
    std::unique_ptr<Batch> keys;
    Target key_target;  // the key columns only, for BindRows
    Statement remove;
  };

  // Mode apply: each key's last change in the batch; deletes, then upserts (disjoint keys).
  // Batches run in order in the writer's one transaction, so later batches win.
  Status Apply(const Batch& batch, const Target& target, Inserts* inserts) {
    SLUICE_ASSIGN_OR_RETURN(Applier * applier, ApplierFor(batch, target));
    applier->planner.Plan(batch, &applier->plan);
    for (uint32_t row : applier->plan.deletes) {
      applier->keys->Clear();
      for (size_t k = 0; k < target.apply_key.size(); ++k) {
        applier->keys->column(k).AppendFrom(
            batch.column(static_cast<size_t>(target.apply_key[k])), row);
      }
      applier->keys->FinishRow();
      sqlite3_stmt* stmt = applier->remove.get();
      int rc = BindRows(stmt, *applier->keys, applier->key_target, 0, 1);
      if (rc == SQLITE_OK)
        rc = sqlite3_step(stmt);
      sqlite3_reset(stmt);
      scratch_.Reset();
      if (rc != SQLITE_DONE)
        return db_.Error(rc, Context(target, "cannot delete"));
    }
    if (applier->plan.upserts.size() == batch.num_rows())
      return InsertAll(batch, target, *inserts);  // inserts only, every key once
    applier->upserts->Clear();
    sql::CopyRows(batch, applier->plan.upserts, applier->upserts.get());
    return InsertAll(*applier->upserts, target, *inserts);
  }

  Result<Applier*> ApplierFor(const Batch& batch, const Target& target) {
    auto& slot = appliers_[static_cast<size_t>(batch.stream())];
    if (slot && slot->upserts->capacity() >= batch.num_rows())
      return slot.get();
    auto applier = std::make_unique<Applier>(Applier{sql::ApplyPlanner(target.apply_key), {},
                                                     nullptr, nullptr, Target{}, Statement()});
    applier->upserts = std::make_unique<Batch>(batch.schema_ptr(), batch.capacity());
    std::vector<Field> key_fields;
    std::string where;
    for (size_t k = 0; k < target.apply_key.size(); ++k) {
      size_t column = static_cast<size_t>(target.apply_key[k]);
      key_fields.push_back(batch.schema().field(column));
      applier->key_target.columns.push_back(target.columns[column]);
      applier->key_target.affinities.push_back(target.affinities[column]);
      where += fmt::format("{}{} = ?{}", k == 0 ? "" : " AND ",
                           QuoteIdentifier(target.columns[column]), k + 1);
    }
    applier->keys = std::make_unique<Batch>(std::make_shared<Schema>(std::move(key_fields)), 1);
    SLUICE_ASSIGN_OR_RETURN(
        applier->remove,
        db_.Prepare(fmt::format("DELETE FROM {} WHERE {}", QuoteIdentifier(target.insert_table),
                                where),
                    Context(target, "cannot prepare DELETE"), true));
    slot = std::move(applier);
    return slot.get();
  }

  // Upserts the checkpoint's progress into the open transaction.
  Status StoreProgress(const CommitContext& commit) {
    std::string what = fmt::format("cannot store the progress of job '{}' in table '{}'",
                                   context_.job_name, kProgressTable);
    if (!progress_table_ready_) {
      // Inside the transaction: a rollback takes the new table with it, so keep creating it until
      // a commit that created it went through.
      SLUICE_RETURN_IF_ERROR(db_.Execute(kCreateProgressTable, what));
    }
    if (!upsert_) {
      SLUICE_ASSIGN_OR_RETURN(
          upsert_,
          db_.Prepare("INSERT INTO _sluice_progress (job, split_id, position, done, checkpoint, "
                      "epoch) VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (job, split_id) DO "
                      "UPDATE SET position = excluded.position, done = excluded.done, "
                      "checkpoint = excluded.checkpoint, epoch = excluded.epoch",
                      what, true));
    }
    sqlite3_stmt* stmt = upsert_.get();
    for (const SplitProgress& entry : commit.progress) {
      int rc = BindProgress(stmt, entry, commit.checkpoint);
      if (rc == SQLITE_OK) {
        rc = sqlite3_step(stmt);
      }
      sqlite3_reset(stmt);
      if (rc != SQLITE_DONE) {
        return db_.Error(rc, what);
      }
    }
    progress_table_pending_ = !progress_table_ready_;
    return Status::OK();
  }

  int BindProgress(sqlite3_stmt* stmt, const SplitProgress& entry, uint64_t checkpoint) {
    int rc = BindText(stmt, 1, context_.job_name);
    if (rc != SQLITE_OK) {
      return rc;
    }
    rc = BindText(stmt, 2, entry.split_id);
    if (rc != SQLITE_OK) {
      return rc;
    }
    rc = BindText(stmt, 3, entry.position);
    if (rc != SQLITE_OK) {
      return rc;
    }
    rc = sqlite3_bind_int(stmt, 4, entry.done ? 1 : 0);
    if (rc != SQLITE_OK) {
      return rc;
    }
    rc = sqlite3_bind_int64(stmt, 5, static_cast<sqlite3_int64>(checkpoint));
    if (rc != SQLITE_OK) {
      return rc;
    }
    return sqlite3_bind_int64(stmt, 6, static_cast<sqlite3_int64>(run_epoch_));
  }

  Status CommitTransaction(std::string_view table) {
    if (!in_transaction_) {
      return Status::OK();
    }
    Status committed =
        db_.Execute("COMMIT", table.empty() ? std::string("cannot commit")
                                            : fmt::format("table '{}': cannot commit", table));
    if (!committed.ok()) {
      return committed;
    }
    in_transaction_ = false;
    rows_in_transaction_ = 0;
    if (progress_table_pending_) {
      progress_table_ready_ = true;
      progress_table_pending_ = false;
    }
    return Status::OK();
  }

  Result<Inserts*> InsertsFor(int stream, const Target& target) {
    auto& slot = inserts_[static_cast<size_t>(stream)];
    if (slot) {
      return slot.get();
    }
    auto inserts = std::make_unique<Inserts>();
    std::string head = fmt::format("INSERT INTO {} (", QuoteIdentifier(target.insert_table));
    std::string tuple = "(";
    for (size_t i = 0; i < target.columns.size(); ++i) {
      if (i > 0) {
        head += ", ";
        tuple += ", ";
      }
      head += QuoteIdentifier(target.columns[i]);
      tuple += '?';
    }
    head += ") VALUES ";
    tuple += ')';
    // Mode apply: insert or replace the row with that key (an upsert, so that a resumed run
    // applying a change again changes nothing).
    std::string conflict;
    if (options_.mode == WriteMode::kApply) {
      std::string keys, updates;
      for (size_t k = 0; k < target.apply_key.size(); ++k) {
        keys += (k == 0 ? "" : ", ") +
                QuoteIdentifier(target.columns[static_cast<size_t>(target.apply_key[k])]);
      }
      for (size_t i = 0; i < target.columns.size(); ++i) {
        if (std::find(target.apply_key.begin(), target.apply_key.end(), static_cast<int>(i)) !=
            target.apply_key.end())
          continue;
        std::string column = QuoteIdentifier(target.columns[i]);
        updates += fmt::format("{}{} = excluded.{}", updates.empty() ? "" : ", ", column, column);
      }
      conflict = fmt::format(" ON CONFLICT ({}) DO {}", keys,
                             updates.empty() ? "NOTHING" : "UPDATE SET " + updates);
    }
    std::string what = Context(target, "cannot prepare INSERT");
    SLUICE_ASSIGN_OR_RETURN(inserts->single, db_.Prepare(head + tuple + conflict, what, true));
    size_t columns = std::max<size_t>(target.columns.size(), 1);
    inserts->multi_rows = std::min<size_t>(static_cast<size_t>(options_.rows_per_insert),
                                           static_cast<size_t>(variable_limit_) / columns);
    if (inserts->multi_rows > 1) {
      std::string sql = head;
      sql.reserve(head.size() + inserts->multi_rows * (tuple.size() + 1));
      for (size_t r = 0; r < inserts->multi_rows; ++r) {
        if (r > 0) {
          sql += ',';
        }
        sql += tuple;
      }
      sql += conflict;
      SLUICE_ASSIGN_OR_RETURN(inserts->multi, db_.Prepare(sql, what, true));
    }
    slot = std::move(inserts);
    return slot.get();
  }

  // Inserts rows [first, first + count) through `stmt`, whose VALUES list has `count` tuples.
  // When the statement fails on a value (a constraint, a type mismatch), the rows are retried
  // one by one so that only the offending ones go to the bad-record policy.
  Status Insert(sqlite3_stmt* stmt, const Batch& batch, const Target& target,
                const Inserts& inserts, size_t first, size_t count) {
    for (int index : target.boolean_columns) {
      const Column& column = batch.column(static_cast<size_t>(index));
      for (size_t row = first; row < first + count; ++row) {
        if (column.IsNull(row))
          continue;
        text_.clear();
        AppendValueText(column, row, &text_);
        if (text_ == "0" || text_ == "1")
          continue;
        if (count > 1)
          return InsertOneByOne(batch, target, inserts, first, count);
        return Handle(DataError(fmt::format("column '{}' is declared BOOLEAN, and {} is not a "
                                            "boolean (0 or 1)",
                                            target.columns[static_cast<size_t>(index)], text_)),
                      batch, target, inserts, first);
      }
    }
    if (target.rowid_key >= 0 &&
        HasNull(batch.column(static_cast<size_t>(target.rowid_key)), first, count)) {
      if (count > 1) {
        return InsertOneByOne(batch, target, inserts, first, count);
      }
      return Handle(DataError(fmt::format("cannot insert into table '{}': NOT NULL constraint "
                                          "failed: {}.{}",
                                          target.table, target.table,
                                          target.columns[static_cast<size_t>(target.rowid_key)])),
                    batch, target, inserts, first);
    }
    int rc = BindRows(stmt, batch, target, first, count);
    if (rc == SQLITE_OK) {
      rc = sqlite3_step(stmt);
    }
    sqlite3_reset(stmt);
    scratch_.Reset();
    if (rc == SQLITE_DONE) {
      return Status::OK();
    }
    if (!IsDataErrorCode(rc)) {
      return db_.Error(rc, Context(target, "cannot insert"));
    }
    if (count > 1) {
      return InsertOneByOne(batch, target, inserts, first, count);
    }
    return Handle(db_.Error(rc, fmt::format("cannot insert into table '{}'", target.table)), batch,
                  target, inserts, first);
  }

  Status InsertOneByOne(const Batch& batch, const Target& target, const Inserts& inserts,
                        size_t first, size_t count) {
    for (size_t row = first; row < first + count; ++row) {
      SLUICE_RETURN_IF_ERROR(Insert(inserts.single.get(), batch, target, inserts, row, 1));
    }
    return Status::OK();
  }

  // Hands a row that SQLite refused to the bad-record policy.
  Status Handle(const Status& reason, const Batch& batch, const Target& target,
                const Inserts& inserts, size_t row) {
    BadRecord record;
    record.stream = target.stream;
    record.location = RowLocation(batch, target, inserts, row);
    // The reason carries the location first: it is what the job fails with.
    record.reason = reason.WithContext(record.location);
    if (options_.mode == WriteMode::kAppend &&
        (reason.message().find("UNIQUE constraint failed") != std::string::npos ||
         reason.message().find("PRIMARY KEY constraint failed") != std::string::npos)) {
      record.reason =
          Status(record.reason.code(), record.reason.message() + std::string(kDuplicateKeyAdvice));
    }
    return context_.bad_records->Handle(record);
  }

  static bool HasNull(const Column& column, size_t first, size_t count) {
    for (size_t row = first; row < first + count; ++row) {
      if (column.IsNull(row)) {
        return true;
      }
    }
    return false;
  }

  // "orders id=42", or "orders row 17" (rows this writer received for the stream) without a key.
  std::string RowLocation(const Batch& batch, const Target& target, const Inserts& inserts,
                          size_t row) const {
    std::string out = target.table;
    if (target.key.empty()) {
      fmt::format_to(std::back_inserter(out), " row {}", inserts.rows_received + row + 1);
      return out;
    }
    AppendKeyLocation(batch, row, target.key, target.columns, &out);
    return out;
  }

  // Copies formatted text into the scratch arena, which lives until the statement has run.
  std::string_view Keep(std::string_view text) {
    if (text.empty()) {
      return std::string_view(kEmpty);
    }
    return scratch_.Copy(text);
  }

  template <typename Bits>
  int BindBitsBlob(sqlite3_stmt* stmt, int param, Bits bits) {
    char* out = scratch_.Allocate(sizeof(Bits));
    for (size_t i = 0; i < sizeof(Bits); ++i) {
      out[i] = static_cast<char>(bits >> (8 * (sizeof(Bits) - 1 - i)));
    }
    return sqlite3_bind_blob(stmt, param, out, static_cast<int>(sizeof(Bits)), SQLITE_STATIC);
  }

  int BindDouble(sqlite3_stmt* stmt, int param, double value, Affinity affinity) {
    if (affinity == Affinity::kText) {
      text_.clear();
      AppendDouble(value, &text_);
      return BindText(stmt, param, Keep(text_));
    }
    if (NeedsFloatBitsBlob(value)) {
      return BindBitsBlob(stmt, param, std::bit_cast<uint64_t>(value));
    }
    // SQLite stores a NaN double as NULL.
    if (std::isnan(value)) {
      return sqlite3_bind_text(stmt, param, "NaN", 3, SQLITE_STATIC);
    }
    return sqlite3_bind_double(stmt, param, value);
  }

  int BindFloat(sqlite3_stmt* stmt, int param, float value, Affinity affinity) {
    if (affinity == Affinity::kText) {
      text_.clear();
      AppendFloat(value, &text_);
      return BindText(stmt, param, Keep(text_));
    }
    if (NeedsFloatBitsBlob(value)) {
      return BindBitsBlob(stmt, param, std::bit_cast<uint32_t>(value));
    }
    if (std::isnan(value)) {
      return sqlite3_bind_text(stmt, param, "NaN", 3, SQLITE_STATIC);
    }
    return sqlite3_bind_double(stmt, param, static_cast<double>(value));
  }

  // Binds `count` rows from `first`: row k's column c goes to parameter k * columns + c + 1.
  // The type switch runs once per column and chunk, not per value.
  int BindRows(sqlite3_stmt* stmt, const Batch& batch, const Target& target, size_t first,
               size_t count) {
    const int columns = static_cast<int>(batch.num_columns());
    int result = SQLITE_OK;
    for (int c = 0; c < columns; ++c) {
      const Column& column = batch.column(static_cast<size_t>(c));
      Affinity affinity = target.affinities[static_cast<size_t>(c)];
      auto for_rows = [&](auto&& bind) {
        int param = c + 1;
        for (size_t row = first; row < first + count; ++row, param += columns) {
          int rc = column.IsNull(row) ? sqlite3_bind_null(stmt, param) : bind(row, param);
          if (rc != SQLITE_OK) {
            result = rc;
          }
        }
      };
      auto bind_text_of = [&](auto&& append) {
        for_rows([&](size_t row, int param) {
          text_.clear();
          append(row, &text_);
          return BindText(stmt, param, Keep(text_));
        });
      };
      switch (column.type().id) {
        case TypeId::kNull:
          for_rows([&](size_t, int param) { return sqlite3_bind_null(stmt, param); });
          break;
        case TypeId::kBool:
          for_rows([&](size_t row, int param) {
            return sqlite3_bind_int64(stmt, param, column.Get<uint8_t>(row));
          });
          break;
        case TypeId::kInt8:
        case TypeId::kInt16:
        case TypeId::kInt32:
        case TypeId::kInt64:
        case TypeId::kUInt8:
        case TypeId::kUInt16:
        case TypeId::kUInt32:
          VisitIntegerType(column.type().id, [&]<typename T>(T) {
            for_rows([&](size_t row, int param) {
              return sqlite3_bind_int64(stmt, param, column.Get<T>(row));
            });
          });
          break;
        case TypeId::kUInt64:
          for_rows([&](size_t row, int param) {
            char buffer[24];
            auto [end, ec] =
                std::to_chars(buffer, buffer + sizeof(buffer), column.Get<uint64_t>(row));
            return BindText(stmt, param, Keep({buffer, static_cast<size_t>(end - buffer)}));
          });
          break;
        case TypeId::kFloat32:
          for_rows([&](size_t row, int param) {
            return BindFloat(stmt, param, column.Get<float>(row), affinity);
          });
          break;
        case TypeId::kFloat64:
          for_rows([&](size_t row, int param) {
            return BindDouble(stmt, param, column.Get<double>(row), affinity);
          });
          break;
        case TypeId::kDecimal:
          if (column.type().is_fast_decimal()) {
            int scale = column.type().scale;
            bind_text_of([&](size_t row, std::string* out) {
              AppendDecimal128(column.Get<int128>(row), scale, out);
            });
          } else {
            for_rows(
                [&](size_t row, int param) { return BindText(stmt, param, column.GetView(row)); });
          }
          break;
        case TypeId::kString:
        case TypeId::kJson:
          for_rows(
              [&](size_t row, int param) { return BindText(stmt, param, column.GetView(row)); });
          break;
        case TypeId::kBytes:
          for_rows([&](size_t row, int param) {
            std::string_view bytes = column.GetView(row);
            const char* data = bytes.data() != nullptr ? bytes.data() : kEmpty;
            return sqlite3_bind_blob(stmt, param, data, static_cast<int>(bytes.size()),
                                     SQLITE_STATIC);
          });
          break;
        case TypeId::kDate:
          bind_text_of(
              [&](size_t row, std::string* out) { AppendDate(column.Get<int32_t>(row), out); });
          break;
        case TypeId::kTime:
          bind_text_of(
              [&](size_t row, std::string* out) { AppendTime(column.Get<int64_t>(row), out); });
          break;
        case TypeId::kTimestamp:
        case TypeId::kTimestampTz: {
          bool with_zone = column.type().id == TypeId::kTimestampTz;
          bind_text_of([&](size_t row, std::string* out) {
            AppendTimestamp(column.Get<int64_t>(row), with_zone, out);
          });
          break;
        }
      }
    }
    return result;
  }

  std::shared_ptr<const std::vector<Target>> targets_;
  SqliteSinkOptions options_;
  JobContext context_;
  Connection db_;
  const uint64_t run_epoch_;
  std::vector<std::unique_ptr<Inserts>> inserts_;  // per stream, prepared at its first batch
  std::vector<std::unique_ptr<Applier>> appliers_;  // mode apply: per stream, at its first batch
  int variable_limit_;
  const bool exactly_once_;
  bool in_transaction_ = false;
  int64_t rows_in_transaction_ = 0;
  Statement upsert_;  // the progress upsert, prepared at the first exactly-once commit
  // Whether a committed transaction created `_sluice_progress`, and whether the open one did.
  bool progress_table_ready_ = false;
  bool progress_table_pending_ = false;
  Arena scratch_;
  std::string text_;
};

// Applies the journal mode and synchronous options to a read-write connection. journal_mode
// WAL is a property of the file; the others are per connection, so every connection sets them.
Status ConfigureConnection(Connection& db, const SqliteSinkOptions& options,
                           std::string_view what) {
  SLUICE_RETURN_IF_ERROR(
      db.Execute(fmt::format("PRAGMA journal_mode={}", options.journal_mode), what));
  SLUICE_RETURN_IF_ERROR(
      db.Execute(fmt::format("PRAGMA synchronous={}", options.synchronous), what));
  // A larger page cache (64 MiB) keeps index pages of big loads in memory.
  return db.Execute("PRAGMA cache_size=-65536", what);
}

}  // namespace

SqliteSink::SqliteSink(SqliteSinkOptions options, config::Options config)
    : options_(std::move(options)), config_(std::move(config)) {}

SqliteSink::~SqliteSink() = default;

Result<SqliteSink::Target> SqliteSink::PrepareTarget(Connection& db, const StreamInfo& stream,
                                                     bool dry_run, CheckReport* report) {
  const Schema& schema = *stream.schema;
  Target target;
  target.stream = stream.name;
  target.table = options_.TableFor(stream.name);
  std::string context = fmt::format("table '{}'", target.table);
  for (const Field& field : schema.fields()) {
    target.columns.push_back(field.name);
  }
  target.key = schema.primary_key();
  bool overwrite = options_.mode == WriteMode::kOverwrite;
  bool apply = options_.mode == WriteMode::kApply;
  if (stream.changelog && !apply) {
    return config_.ErrorAt(
        "mode", sql::ChangelogNeedsApplyMode("sqlite", stream.name,
                                             overwrite ? "overwrite" : "append")
                    .message());
  }

  auto note = [&](std::string line) {
    if (report != nullptr) {
      report->Note(std::move(line));
    }
  };

  SLUICE_ASSIGN_OR_RETURN(std::optional<std::string> existing, FindTable(db, target.table, false));
  if (existing) {
    target.table = *existing;
    SLUICE_ASSIGN_OR_RETURN(TableInfo info, DescribeTable(db, target.table));
    std::vector<std::string> missing;
    for (size_t i = 0; i < schema.num_fields(); ++i) {
      const Field& field = schema.field(i);
      int index = info.FindColumn(field.name);
      if (index < 0) {
        missing.push_back(fmt::format("'{}'", field.name));
        continue;
      }
      const ColumnInfo& column = info.columns[static_cast<size_t>(index)];
      if (column.generated) {
        return config_.ErrorAt(
            "table", fmt::format("column '{}' of table '{}' in SQLite database '{}' is generated "
                                 "and cannot be written",
                                 column.name, info.name, options_.path));
      }
      target.affinities.push_back(AffinityOf(column.declared_type));
      if (field.type.is_integer() && LogicalType(column.declared_type).id == TypeId::kBool)
        target.boolean_columns.push_back(static_cast<int>(i));
      std::string warning = CompatibilityWarning(field.type, column.declared_type);
      if (!warning.empty()) {
        note(fmt::format("sqlite table '{}' column '{}': {}", info.name, column.name, warning));
        if (!dry_run) {
          log::Warn(fmt::format("sink:sqlite:{}", info.name), "column '{}': {}", column.name,
                    warning);
        }
      }
    }
    std::vector<int> table_key;
    for (size_t c = 0; c < info.columns.size(); ++c) {
      if (info.columns[c].primary_key_position > 0) {
        table_key.push_back(static_cast<int>(c));
      }
    }
    if (info.has_rowid() && table_key.size() == 1) {
      const ColumnInfo& key = info.columns[static_cast<size_t>(table_key[0])];
      if (key.not_null && EqualsIgnoringAsciiCase(key.declared_type, "INTEGER")) {
        for (size_t i = 0; i < schema.num_fields(); ++i) {
          if (EqualsIgnoringAsciiCase(schema.field(i).name, key.name)) {
            target.rowid_key = static_cast<int>(i);
          }
        }
      }
    }
    if (!missing.empty()) {
      std::string names;
      for (const std::string& name : missing) {
        names += (names.empty() ? "" : ", ") + name;
      }
      return config_.ErrorAt(
          "table",
          fmt::format("table '{}' in SQLite database '{}' has no column {} (table columns: {}; "
                      "stream '{}' columns: {})",
                      info.name, options_.path, names, info.ColumnList(), stream.name,
                      JoinFieldNames(schema)));
    }
    if (apply) {
      // The table's own key decides which row a change replaces.
      std::vector<std::pair<int, int>> key_columns;  // (position in the key, stream column)
      for (const ColumnInfo& column : info.columns) {
        if (column.primary_key_position <= 0)
          continue;
        int field = -1;
        for (size_t i = 0; i < schema.num_fields(); ++i) {
          if (EqualsIgnoringAsciiCase(schema.field(i).name, column.name))
            field = static_cast<int>(i);
        }
        if (field < 0) {
          return config_.ErrorAt(
              "table", fmt::format("column '{}' of the primary key of table '{}' in SQLite "
                                   "database '{}' is not in stream '{}' (stream columns: {}), so "
                                   "mode: apply cannot find the row of a change",
                                   column.name, info.name, options_.path, stream.name,
                                   JoinFieldNames(schema)));
        }
        key_columns.emplace_back(column.primary_key_position, field);
      }
      if (key_columns.empty()) {
        return config_.ErrorAt(
            "mode", sql::ApplyNeedsPrimaryKey(
                        "sqlite", fmt::format("table '{}' in SQLite database '{}'", info.name,
                                              options_.path))
                        .message());
      }
      std::sort(key_columns.begin(), key_columns.end());
      for (const auto& [position, field] : key_columns)
        target.apply_key.push_back(field);
      target.insert_table = target.table;
      note(fmt::format("sqlite table '{}' exists; changes would be applied by its primary key",
                       target.table));
      return target;
    }
    if (!overwrite) {
      target.insert_table = target.table;
      note(fmt::format("sqlite table '{}' exists; rows would be appended", target.table));
      return target;
    }
    std::string staging = std::string(kStagingPrefix) + target.table;
    target.insert_table = staging;
    note(fmt::format(
        "sqlite table '{}' exists; it would be replaced at the end of the job (loaded into '{}')",
        target.table, staging));
    if (dry_run) {
      return target;
    }
    // The staging table copies the old table's definition (types, constraints, options).
    std::optional<std::string> create = RenameCreateTableSql(info.create_sql, staging);
    if (!create) {
      log::Warn(fmt::format("sink:sqlite:{}", target.table),
                "cannot reuse the definition of table '{}'; the replacement is created from the "
                "stream's schema",
                target.table);
      create = CreateTableSql(staging, schema, false);
    }
    SLUICE_ASSIGN_OR_RETURN(std::vector<std::string> dependents,
                            DependentObjectSql(db, target.table));
    SLUICE_RETURN_IF_ERROR(PrepareStaging(db, *create, std::move(dependents), &target));
    return target;
  }

  if (!options_.create) {
    return NotFound(
        fmt::format("{}: table '{}' not found in SQLite database '{}' and 'create' is false",
                    context, target.table, options_.path));
  }
  if (apply) {
    if (schema.primary_key().empty()) {
      return config_.ErrorAt(
          "mode", sql::ApplyNeedsPrimaryKey(
                      "sqlite", fmt::format("stream '{}' (the table '{}' to create in SQLite "
                                            "database '{}')",
                                            stream.name, target.table, options_.path))
                      .message());
    }
    target.apply_key = schema.primary_key();
  }
  for (const Field& field : schema.fields()) {
    target.affinities.push_back(AffinityOf(DeclaredType(field.type)));
  }
  target.rowid_key = RowidKeyColumn(schema);
  note(fmt::format("sqlite table '{}' would be created: {}", target.table,
                   CreateTableSql(target.table, schema, false)));
  if (!overwrite) {
    target.insert_table = target.table;
    if (!dry_run) {
      SLUICE_RETURN_IF_ERROR(db.Execute(CreateTableSql(target.table, schema, true),
                                        fmt::format("{}: cannot create table", context)));
    }
    return target;
  }
  std::string staging = std::string(kStagingPrefix) + target.table;
  target.insert_table = staging;
  if (dry_run) {
    return target;
  }
  SLUICE_RETURN_IF_ERROR(PrepareStaging(db, CreateTableSql(staging, schema, false), {}, &target));
  return target;
}

Status SqliteSink::PrepareStaging(Connection& db, const std::string& create_sql,
                                  std::vector<std::string> dependents, Target* target) {
  const std::string& staging = target->insert_table;
  std::string context = fmt::format("table '{}'", target->table);
  if (published_staging_.count(staging) > 0) {
    target->published = true;
    return Status::OK();
  }
  bool first_use = std::none_of(swaps_.begin(), swaps_.end(),
                                [&](const Swap& swap) { return swap.staging == staging; });
  if (!first_use) {
    return Status::OK();  // several streams load one table
  }
  Swap swap;
  swap.staging = staging;
  swap.table = target->table;
  swap.dependents = std::move(dependents);
  if (context_.resuming) {
    SLUICE_ASSIGN_OR_RETURN(std::optional<std::string> kept, FindTable(db, staging, false));
    if (kept) {
      // The rows an earlier run committed there are part of this load.
      log::Info(fmt::format("sink:sqlite:{}", target->table),
                "resuming the load of table '{}' in '{}'", target->table, staging);
      swaps_.push_back(std::move(swap));
      return Status::OK();
    }
    // Open commits the staging table before any row is read, and only Finish's swap removes
    // it; when every committed split is done, the earlier run swapped it in and stopped before
    // it could record its success.
    SLUICE_ASSIGN_OR_RETURN(int64_t unfinished, CountUnfinishedProgress(db, context_.job_name));
    if (unfinished > 0) {
      return NotFound(fmt::format(
          "{}: staging table '{}' of the interrupted run of job '{}' is gone although rows were "
          "committed to it; run the job with --fresh to load the table again",
          context, staging, context_.job_name));
    }
    log::Info(fmt::format("sink:sqlite:{}", target->table),
              "table '{}' was already replaced by the earlier run", target->table);
    published_staging_.insert(staging);
    target->published = true;
    return Status::OK();
  }
  SLUICE_RETURN_IF_ERROR(
      db.Execute(fmt::format("DROP TABLE IF EXISTS {}", QuoteIdentifier(staging)), context));
  SLUICE_RETURN_IF_ERROR(db.Execute(
      create_sql, fmt::format("{}: cannot create staging table '{}'", context, staging)));
  swaps_.push_back(std::move(swap));
  return Status::OK();
}

Result<Connection> SqliteSink::OpenForWriting() const {
  namespace fs = std::filesystem;
  std::error_code error;
  fs::path parent = fs::path(options_.path).parent_path();
  if (!parent.empty() && !fs::exists(parent, error)) {
    fs::create_directories(parent, error);
    if (error) {
      return FilesystemError(fmt::format("cannot create directory '{}' for SQLite database '{}'",
                                         parent.string(), options_.path),
                             error);
    }
  }
  if (!fs::exists(options_.path, error)) {
    // Create the (empty, hence valid) database file ourselves: SQLite retries a failed create
    // read-only and then reports that attempt's errno, which hides "Permission denied".
    int fd = open(options_.path.c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
    if (fd < 0) {
      return FilesystemError(fmt::format("cannot create SQLite database '{}'", options_.path),
                             std::error_code(errno, std::generic_category()));
    }
    close(fd);
  }
  SLUICE_ASSIGN_OR_RETURN(Connection db,
                          Connection::Open(options_.path, Connection::Mode::kReadWriteCreate, ""));
  if (db.read_only()) {
    return PermissionDenied(fmt::format("SQLite database '{}' is not writable", options_.path));
  }
  SLUICE_RETURN_IF_ERROR(ConfigureConnection(db, options_, ""));
  return db;
}

Status SqliteSink::Open(const JobContext& context, const std::vector<StreamInfo>& streams) {
  context_ = context;
  SLUICE_ASSIGN_OR_RETURN(Connection db, OpenForWriting());
  SLUICE_RETURN_IF_ERROR(db.Execute("BEGIN IMMEDIATE", "cannot begin"));
  auto targets = std::make_shared<std::vector<Target>>();
  for (const StreamInfo& stream : streams) {
    Result<Target> target = PrepareTarget(db, stream, false, nullptr);
    if (!target.ok()) {
      sqlite3_exec(db.get(), "ROLLBACK", nullptr, nullptr, nullptr);
      swaps_.clear();
      published_staging_.clear();
      return target.status();
    }
    targets->push_back(std::move(target).value());
  }
  SLUICE_RETURN_IF_ERROR(db.Execute("COMMIT", "cannot commit the table setup"));
  targets_ = std::move(targets);
  db_ = std::move(db);
  return Status::OK();
}

Status SqliteSink::Check(const JobContext& context, const std::vector<StreamInfo>& streams,
                         CheckReport* report) {
  namespace fs = std::filesystem;
  std::error_code error;
  if (!fs::exists(options_.path, error)) {
    // Find the directory that would hold the new file (or its nearest existing ancestor).
    fs::path directory = fs::path(options_.path).parent_path();
    if (directory.empty()) {
      directory = ".";
    }
    while (!fs::exists(directory, error) && directory.has_parent_path() &&
           directory.parent_path() != directory) {
      directory = directory.parent_path();
    }
    if (access(directory.c_str(), W_OK) != 0) {
      return PermissionDenied(
          fmt::format("cannot create SQLite database '{}': directory '{}' is not writable",
                      options_.path, directory.string()));
    }
    report->Note(
        fmt::format("SQLite database '{}' does not exist; it would be created", options_.path));
    for (const StreamInfo& stream : streams) {
      std::string table = options_.TableFor(stream.name);
      if (!options_.create) {
        return NotFound(fmt::format(
            "table '{}': table '{}' not found in SQLite database '{}' and 'create' is false", table,
            table, options_.path));
      }
      report->Note(fmt::format("sqlite table '{}' would be created: {}", table,
                               CreateTableSql(table, *stream.schema, false)));
    }
    return Status::OK();
  }
  if (access(options_.path.c_str(), W_OK) != 0) {
    return PermissionDenied(fmt::format("SQLite database '{}' is not writable", options_.path));
  }
  SLUICE_ASSIGN_OR_RETURN(Connection db,
                          Connection::Open(options_.path, Connection::Mode::kReadOnly, ""));
  for (const StreamInfo& stream : streams) {
    SLUICE_RETURN_IF_ERROR(PrepareTarget(db, stream, true, report).status());
  }
  return Status::OK();
}

Result<std::unique_ptr<SinkWriter>> SqliteSink::CreateWriter(int slot) {
  if (!targets_) {
    return Internal("CreateWriter called before Open");
  }
  SLUICE_ASSIGN_OR_RETURN(Connection db,
                          Connection::Open(options_.path, Connection::Mode::kReadWriteCreate, ""));
  SLUICE_RETURN_IF_ERROR(ConfigureConnection(db, options_, ""));
  return std::unique_ptr<SinkWriter>(std::make_unique<SqliteSinkWriter>(
      targets_, options_, context_, std::move(db), run_epoch_));
}

Status SqliteSink::Finish() {
  if (!db_) {
    return Internal("Finish called before Open");
  }
  Connection& db = *db_;
  // The job's progress stays (every split done): if the process dies before the run records
  // its success, the resumed run finds nothing left to load instead of loading it all again.
  // The next fresh run's ForgetProgress clears it.
  if (swaps_.empty())
    return Status::OK();
  // Legacy rename leaves views and triggers that name the old table alone: they then refer to
  // the new one. (The modern rename refuses to run while such a view names a dropped table.)
  SLUICE_RETURN_IF_ERROR(db.Execute("PRAGMA legacy_alter_table=ON", ""));
  Status swapped = [&]() -> Status {
    SLUICE_RETURN_IF_ERROR(db.Execute("BEGIN IMMEDIATE", "cannot begin the swap"));
    if (context_.delivery == DeliveryGuarantee::kExactlyOnce && run_epoch_ != 0) {
      SLUICE_RETURN_IF_ERROR(CheckRunEpoch(db, context_.job_name, options_.path, run_epoch_));
    }
    for (const Swap& swap : swaps_) {
      std::string context = fmt::format("table '{}': cannot replace the table", swap.table);
      std::string sql = fmt::format("DROP TABLE IF EXISTS {0}; ALTER TABLE {1} RENAME TO {0};",
                                    QuoteIdentifier(swap.table), QuoteIdentifier(swap.staging));
      for (const std::string& dependent : swap.dependents) {
        sql += dependent + ";";
      }
      SLUICE_RETURN_IF_ERROR(db.Execute(sql, context));
    }
    return db.Execute("COMMIT", "cannot commit the swap");
  }();
  if (!swapped.ok()) {
    sqlite3_exec(db.get(), "ROLLBACK", nullptr, nullptr, nullptr);
  }
  sqlite3_exec(db.get(), "PRAGMA legacy_alter_table=OFF", nullptr, nullptr, nullptr);
  if (swapped.ok()) {
    for (const Swap& swap : swaps_) {
      log::Info(fmt::format("sink:sqlite:{}", swap.table), "replaced table '{}'", swap.table);
    }
    swaps_.clear();
  }
  return swapped;
}

void SqliteSink::Abort() {
  // Staging tables and committed progress stay for the run that resumes this one; a fresh run
  // recreates the staging tables.
  db_.reset();
}

namespace {

// The target database when it exists (nullopt otherwise), opened read-write: opening it rolls
// back a transaction that a crash left half-done.
Result<std::optional<Connection>> OpenExisting(const SqliteSinkOptions& options) {
  std::error_code error;
  if (!std::filesystem::exists(options.path, error)) {
    return std::optional<Connection>();
  }
  SLUICE_ASSIGN_OR_RETURN(Connection db,
                          Connection::Open(options.path, Connection::Mode::kReadWriteCreate, ""));
  return std::optional<Connection>(std::move(db));
}

}  // namespace

Result<std::vector<SplitProgress>> SqliteSink::RecoverProgress(const JobContext& context) {
  std::vector<SplitProgress> out;
  SLUICE_ASSIGN_OR_RETURN(std::optional<Connection> db, OpenExisting(options_));
  if (!db) {
    return out;
  }
  SLUICE_ASSIGN_OR_RETURN(bool exists, HasProgressTable(*db));
  if (!exists) {
    return out;
  }
  std::string what = fmt::format("cannot read the progress of job '{}' from table '{}'",
                                 context.job_name, kProgressTable);
  SLUICE_ASSIGN_OR_RETURN(
      Statement stmt,
      db->Prepare("SELECT split_id, position, done FROM _sluice_progress WHERE job = ?1 "
                  "AND split_id <> '' ORDER BY split_id",
                  what));
  BindText(stmt.get(), 1, context.job_name);
  int rc;
  while ((rc = sqlite3_step(stmt.get())) == SQLITE_ROW) {
    SplitProgress entry;
    auto text = [&](int column) {
      const auto* data = reinterpret_cast<const char*>(sqlite3_column_text(stmt.get(), column));
      int bytes = sqlite3_column_bytes(stmt.get(), column);
      return data == nullptr ? std::string() : std::string(data, static_cast<size_t>(bytes));
    };
    entry.split_id = text(0);
    entry.position = text(1);
    entry.done = sqlite3_column_int(stmt.get(), 2) != 0;
    out.push_back(std::move(entry));
  }
  if (rc != SQLITE_DONE) {
    return db->Error(rc, what);
  }
  return out;
}

Status SqliteSink::Claim(const JobContext& context) {
  if (context.delivery != DeliveryGuarantee::kExactlyOnce || context.run_epoch == 0)
    return Status::OK();
  SLUICE_ASSIGN_OR_RETURN(Connection db, OpenForWriting());
  std::string what = fmt::format("cannot claim SQLite database '{}' for job '{}'", options_.path,
                                 context.job_name);
  // The write lock waits for a commit of an earlier run in flight, and makes the bump atomic.
  SLUICE_RETURN_IF_ERROR(db.Execute("BEGIN IMMEDIATE", what));
  Result<uint64_t> claimed = [&]() -> Result<uint64_t> {
    SLUICE_RETURN_IF_ERROR(EnsureProgressTable(db));
    SLUICE_ASSIGN_OR_RETURN(uint64_t current, CurrentRunEpoch(db, context.job_name));
    uint64_t epoch = context.run_epoch;
    if (current > epoch) {
      return FencedOff(context.job_name, fmt::format("SQLite database '{}'", options_.path),
                       epoch, current);
    }
    SLUICE_ASSIGN_OR_RETURN(
        Statement stmt,
        db.Prepare("INSERT OR REPLACE INTO _sluice_progress (job, split_id, position, done, "
                   "checkpoint, epoch) VALUES (?1, '', ?2, 0, 0, ?3)",
                   what));
    BindText(stmt.get(), 1, context.job_name);
    BindText(stmt.get(), 2, context.run_owner);
    sqlite3_bind_int64(stmt.get(), 3, static_cast<sqlite3_int64>(epoch));
    int rc = sqlite3_step(stmt.get());
    if (rc != SQLITE_DONE)
      return db.Error(rc, what);
    SLUICE_RETURN_IF_ERROR(db.Execute("COMMIT", what));
    return epoch;
  }();
  if (!claimed.ok()) {
    sqlite3_exec(db.get(), "ROLLBACK", nullptr, nullptr, nullptr);
    return claimed.status();
  }
  run_epoch_ = *claimed;
  return Status::OK();
}

namespace {

// Whether table `name` of `db` holds a row; nullopt when it does not exist.
Result<std::optional<bool>> TableHoldsRows(Connection& db, const std::string& name) {
  SLUICE_ASSIGN_OR_RETURN(std::optional<std::string> table, FindTable(db, name, false));
  if (!table)
    return std::optional<bool>();
  std::string what = fmt::format("cannot read table '{}'", *table);
  SLUICE_ASSIGN_OR_RETURN(
      Statement stmt,
      db.Prepare(fmt::format("SELECT 1 FROM {} LIMIT 1", QuoteIdentifier(*table)), what));
  int rc = sqlite3_step(stmt.get());
  if (rc != SQLITE_ROW && rc != SQLITE_DONE)
    return db.Error(rc, what);
  return std::optional<bool>(rc == SQLITE_ROW);
}

}  // namespace

Status SqliteSink::CheckFreshStart(const JobContext& context,
                                   const std::vector<StreamInfo>& streams) {
  if (options_.mode != WriteMode::kAppend)
    return Status::OK();
  SLUICE_ASSIGN_OR_RETURN(std::optional<Connection> db, OpenExisting(options_));
  if (!db)
    return Status::OK();
  for (const StreamInfo& stream : streams) {
    std::string table = options_.TableFor(stream.name);
    SLUICE_ASSIGN_OR_RETURN(std::optional<bool> holds_rows, TableHoldsRows(*db, table));
    if (holds_rows.value_or(false)) {
      return FreshStartWouldDuplicate(context.job_name,
                                      fmt::format("table '{}' of '{}'", table, options_.path));
    }
  }
  return Status::OK();
}

Status SqliteSink::CheckCommittedTargets(const JobContext& context,
                                         const std::vector<StreamInfo>& streams) {
  if (options_.mode != WriteMode::kAppend)
    return Status::OK();  // overwrite: the staging table's own checks at Open
  SLUICE_ASSIGN_OR_RETURN(std::optional<Connection> db, OpenExisting(options_));
  for (const StreamInfo& stream : streams) {
    std::string table = options_.TableFor(stream.name);
    std::optional<bool> holds_rows;
    if (db) {
      SLUICE_ASSIGN_OR_RETURN(holds_rows, TableHoldsRows(*db, table));
    }
    if (!holds_rows.value_or(false)) {
      return CommittedRowsGone(context.job_name,
                               fmt::format("table '{}' of '{}'", table, options_.path),
                               !holds_rows.has_value());
    }
  }
  return Status::OK();
}

Status SqliteSink::ForgetProgress(const JobContext& context) {
  SLUICE_ASSIGN_OR_RETURN(std::optional<Connection> db, OpenExisting(options_));
  if (!db) {
    return Status::OK();
  }
  return DeleteJobProgress(*db, context.job_name);
}

}  // namespace sluice::connectors::sqlite
