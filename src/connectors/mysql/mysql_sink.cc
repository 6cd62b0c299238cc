#include "connectors/mysql/mysql_sink.h"

#include <fmt/core.h>
#include <mysql.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstring>
#include <map>
#include <thread>

#include "connectors/mysql/mysql_client.h"
#include "connectors/mysql/mysql_types.h"
#include "connectors/sql/changelog_apply.h"
#include "core/decimal.h"
#include "core/failpoint.h"
#include "core/logging.h"
#include "core/strings.h"
#include "core/value_text.h"

namespace sluice::connectors::mysql {

namespace {

constexpr std::string_view kStagingPrefix = "_sluice_staging_";
constexpr std::string_view kOldPrefix = "_sluice_old_";
constexpr std::string_view kUpsertPrefix = "_sluice_upsert_";
// A chunk is sent once its rendered rows reach this size: big enough that a statement's round
// trip is noise, small enough to stay well below max_allowed_packet and to replay quickly.
constexpr size_t kChunkBytes = 4u << 20;
// apply: keys per DELETE statement.
constexpr size_t kDeleteKeys = 500;
// Strict mode turns bad values into errors for INSERT (LOAD DATA LOCAL still only warns);
// NO_AUTO_VALUE_ON_ZERO keeps a copied 0 in an AUTO_INCREMENT column; zero dates are allowed so
// that a source read with zero_dates: string can write them back.
constexpr std::string_view kSessionSqlMode =
    "SET SESSION sql_mode = 'STRICT_ALL_TABLES,NO_AUTO_VALUE_ON_ZERO,NO_ENGINE_SUBSTITUTION'";
// Limits of the progress table's key columns, in bytes.
constexpr size_t kMaxJobNameBytes = 255;
constexpr size_t kMaxSplitIdBytes = 700;
// Progress entries per INSERT: keeps the statement far below max_allowed_packet.
constexpr size_t kProgressRowsPerStatement = 1000;

std::string Lower(std::string_view text) {
  std::string out(text);
  for (char& c : out)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// Appends `bytes`, each byte that `escape` maps to a two-character escape replaced by it.
template <typename Escape>
void AppendEscaped(std::string_view bytes, std::string* out, Escape escape) {
  const char* data = bytes.data();
  size_t run = 0;
  for (size_t i = 0; i < bytes.size(); ++i) {
    const char* replacement = escape(data[i]);
    if (replacement == nullptr)
      continue;
    out->append(data + run, i - run);
    out->append(replacement, 2);
    run = i + 1;
  }
  out->append(data + run, bytes.size() - run);
}

// Appends LOAD DATA field text: backslash escapes for the bytes that would end a field or line.
void AppendLoadEscaped(std::string_view bytes, std::string* out) {
  AppendEscaped(bytes, out, [](char c) -> const char* {
    switch (c) {
      case '\\':
        return "\\\\";
      case '\t':
        return "\\t";
      case '\n':
        return "\\n";
      case '\r':
        return "\\r";
      case '\0':
        return "\\0";
      default:
        return nullptr;
    }
  });
}

// Appends an SQL string body (no quotes), for the session's sql_mode (backslash escapes on).
void AppendSqlEscaped(std::string_view bytes, std::string* out) {
  AppendEscaped(bytes, out, [](char c) -> const char* {
    switch (c) {
      case '\\':
        return "\\\\";
      case '\'':
        return "\\'";
      case '\n':
        return "\\n";
      case '\r':
        return "\\r";
      case '\0':
        return "\\0";
      case '\x1a':
        return "\\Z";
      default:
        return nullptr;
    }
  });
}

template <typename T>
void AppendInteger(T value, std::string* out) {
  char buffer[48];
  auto [end, ec] = std::to_chars(buffer, buffer + sizeof(buffer), value);
  out->append(buffer, static_cast<size_t>(end - buffer));
}

enum class Format { kLoadData, kSql };

// Appends the non-null value at `row` as LOAD DATA field text or as an SQL literal. Returns
// nullptr, or why MySQL cannot hold the value (nothing useful appended then).
const char* AppendValue(const Column& column, size_t row, Format format, ColumnLoad load,
                        std::string* out) {
  const DataType& type = column.type();
  const bool sql = format == Format::kSql;
  auto text = [&](std::string_view bytes, bool binary) {
    if (!sql) {
      AppendLoadEscaped(bytes, out);
      return;
    }
    out->append(binary ? "_binary'" : "'");
    AppendSqlEscaped(bytes, out);
    out->push_back('\'');
  };
  auto quoted = [&](auto&& append) -> const char* {
    if (sql)
      out->push_back('\'');
    if (!append())
      return "the value is outside MySQL's range for the type";
    if (sql)
      out->push_back('\'');
    return nullptr;
  };
  if (load == ColumnLoad::kYear) {
    // Four digits: LOAD DATA reads the text '0' as the year 2000 (ValueChange has checked the
    // range already).
    std::string year;
    AppendValueText(column, row, &year);
    out->append(year.size() < 4 ? 4 - year.size() : 0, '0');
    out->append(year);
    return nullptr;
  }
  switch (type.id) {
    case TypeId::kNull:
      out->append(sql ? "NULL" : "\\N");
      return nullptr;
    case TypeId::kBool:
      out->push_back(column.Get<uint8_t>(row) ? '1' : '0');
      return nullptr;
    case TypeId::kInt8:
      AppendInteger(column.Get<int8_t>(row), out);
      return nullptr;
    case TypeId::kInt16:
      AppendInteger(column.Get<int16_t>(row), out);
      return nullptr;
    case TypeId::kInt32:
      AppendInteger(column.Get<int32_t>(row), out);
      return nullptr;
    case TypeId::kInt64:
      AppendInteger(column.Get<int64_t>(row), out);
      return nullptr;
    case TypeId::kUInt8:
      AppendInteger(column.Get<uint8_t>(row), out);
      return nullptr;
    case TypeId::kUInt16:
      AppendInteger(column.Get<uint16_t>(row), out);
      return nullptr;
    case TypeId::kUInt32:
      AppendInteger(column.Get<uint32_t>(row), out);
      return nullptr;
    case TypeId::kUInt64:
      AppendInteger(column.Get<uint64_t>(row), out);
      return nullptr;
    case TypeId::kFloat32: {
      float value = column.Get<float>(row);
      if (!std::isfinite(value))
        return "MySQL cannot store NaN or infinity";
      // The float's exact value as a double: MySQL parses the text as a double and refuses one
      // beyond FLOAT's range, which the float's shortest text can be ("3.4028235e+38").
      AppendDouble(static_cast<double>(value), out);
      return nullptr;
    }
    case TypeId::kFloat64: {
      double value = column.Get<double>(row);
      if (!std::isfinite(value))
        return "MySQL cannot store NaN or infinity";
      AppendDouble(value, out);
      return nullptr;
    }
    case TypeId::kDecimal:
      if (type.is_fast_decimal()) {
        AppendDecimal128(column.Get<int128>(row), type.scale, out);
        return nullptr;
      } else {
        std::string_view value = column.GetView(row);
        if (value == "NaN" || value == "Infinity" || value == "-Infinity") {
          return "MySQL cannot store NaN or infinity";
        }
        // A wide decimal may land in a LONGTEXT column: quote it as text in SQL.
        text(value, false);
        return nullptr;
      }
    case TypeId::kString:
    case TypeId::kJson:
      if (load == ColumnLoad::kGeometryFromWkt && sql) {
        out->append("ST_GeomFromText(");
        text(column.GetView(row), false);
        out->push_back(')');
        return nullptr;
      }
      text(column.GetView(row), false);
      return nullptr;
    case TypeId::kBytes:
      if (load == ColumnLoad::kGeometryFromWkb) {
        if (sql) {
          out->append("ST_GeomFromWKB(X'");
          AppendHexDigits(column.GetView(row), out);
          out->append("')");
        } else {
          AppendHexDigits(column.GetView(row), out);  // UNHEX'd by the statement's SET clause
        }
        return nullptr;
      }
      text(column.GetView(row), true);
      return nullptr;
    case TypeId::kDate:
      return quoted([&] { return AppendMysqlDate(column.Get<int32_t>(row), out); });
    case TypeId::kTime:
      return quoted([&] { return AppendMysqlTime(column.Get<int64_t>(row), out); });
    case TypeId::kTimestamp:
    case TypeId::kTimestampTz:
      return quoted([&] { return AppendMysqlDateTime(column.Get<int64_t>(row), out); });
  }
  return "unsupported type";
}

// LOAD DATA LOCAL INFILE reads "the file" through these callbacks, from memory.
struct InfileSource {
  const char* data = nullptr;
  size_t size = 0;
  size_t position = 0;
};

int InfileInit(void** pointer, const char* /*filename*/, void* userdata) {
  auto* source = static_cast<InfileSource*>(userdata);
  source->position = 0;
  *pointer = source;
  return 0;
}

int InfileRead(void* pointer, char* buffer, unsigned int length) {
  auto* source = static_cast<InfileSource*>(pointer);
  size_t n = std::min<size_t>(length, source->size - source->position);
  std::memcpy(buffer, source->data + source->position, n);
  source->position += n;
  return static_cast<int>(n);
}

void InfileEnd(void* /*pointer*/) {}

int InfileError(void* /*pointer*/, char* message, unsigned int length) {
  std::snprintf(message, length, "Sluice could not supply the rows");
  return 2000;  // CR_UNKNOWN_ERROR
}

}  // namespace

struct MysqlSink::Target {
  std::string stream;
  std::string table;
  /// "db.table" for messages.
  std::string display;
  /// Where writers load: the table, or the staging table (overwrite). Upsert writers load their
  /// own temporary table and merge into `table`.
  std::string load_table;
  /// Target column names, in stream order.
  std::vector<std::string> columns;
  /// How each stream column reaches its table column, in stream order.
  std::vector<ColumnWrite> writes;
  /// Stream columns of the key, for bad-record locations.
  std::vector<int> key;
  /// The target's primary key columns (upsert).
  std::vector<std::string> primary_key;
  /// Unique keys whose text columns' collation is not byte by byte (the source's own, or the
  /// best a server without binary NO PAD collations has): the upsert merge first checks that no
  /// two staged rows collide under it but differ in their bytes, which would merge them.
  std::vector<std::vector<std::string>> checked_unique_keys;
  /// apply: the stream columns of the table's primary key, in key order.
  std::vector<int> apply_key;
};

namespace {

using Target = MysqlSink::Target;

// The LOAD DATA statement of `target` into `table`.
std::string LoadDataSql(const Target& target, const std::string& database,
                        const std::string& table) {
  std::string columns;
  std::string sets;
  for (size_t i = 0; i < target.columns.size(); ++i) {
    if (!columns.empty())
      columns += ", ";
    std::string quoted = QuoteIdentifier(target.columns[i]);
    switch (target.writes[i].load) {
      case ColumnLoad::kYear:
      case ColumnLoad::kDirect:
        columns += quoted;
        continue;
      case ColumnLoad::kGeometryFromWkb:
        sets +=
            fmt::format("{}{} = ST_GeomFromWKB(UNHEX(@v{}))", sets.empty() ? "" : ", ", quoted, i);
        break;
      case ColumnLoad::kGeometryFromWkt:
        sets += fmt::format("{}{} = ST_GeomFromText(@v{})", sets.empty() ? "" : ", ", quoted, i);
        break;
      case ColumnLoad::kBit:
        sets += fmt::format("{}{} = CAST(@v{} AS UNSIGNED)", sets.empty() ? "" : ", ", quoted, i);
        break;
    }
    columns += fmt::format("@v{}", i);
  }
  std::string sql = fmt::format(
      "LOAD DATA LOCAL INFILE 'sluice' INTO TABLE {} CHARACTER SET utf8mb4 FIELDS TERMINATED BY "
      "'\\t' ESCAPED BY '\\\\' LINES TERMINATED BY '\\n' ({})",
      QualifiedName(database, table), columns);
  if (!sets.empty())
    sql += " SET " + sets;
  return sql;
}

std::string InsertHeader(const Target& target, const std::string& database,
                         const std::string& table) {
  std::string sql = fmt::format("INSERT INTO {} (", QualifiedName(database, table));
  for (size_t i = 0; i < target.columns.size(); ++i) {
    if (i > 0)
      sql += ", ";
    sql += QuoteIdentifier(target.columns[i]);
  }
  sql += ") VALUES ";
  return sql;
}

std::string ColumnList(const Target& target) {
  std::string out;
  for (const std::string& column : target.columns) {
    if (!out.empty())
      out += ", ";
    out += QuoteIdentifier(column);
  }
  return out;
}

Status SetUpWriterSession(Connection& db) {
  SLUICE_RETURN_IF_ERROR(db.Execute(kSessionSqlMode, "setting up the session"));
  // Streams are loaded in parallel and in any order: a child table's rows may come before
  // their parents', as mysqldump and every bulk loader assume.
  return db.Execute("SET SESSION foreign_key_checks = 0", "setting up the session");
}

// The progress table. Job and split ids are VARBINARY, their UTF-8 bytes: a utf8mb4
// VARCHAR(255) + VARCHAR(700) key would exceed InnoDB's 3,072-byte key limit (error 1071), and
// comparing bytes keeps ids apart that a collation would merge ("Orders#1" and "orders#1").
// InnoDB explicitly: the rows and their progress must share one transaction. `epoch` is the run
// that committed the row; the row with split id "" holds the job's current run epoch
// (kRunFenceSplitId, see Sink::Claim).
std::string CreateProgressTableSql(const std::string& database, const std::string& table) {
  return fmt::format(
      "CREATE TABLE IF NOT EXISTS {} (job VARBINARY({}) NOT NULL, split_id VARBINARY({}) NOT "
      "NULL, position LONGTEXT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL, done BOOLEAN "
      "NOT NULL, checkpoint BIGINT NOT NULL, updated_at DATETIME(6) NOT NULL, epoch BIGINT NOT "
      "NULL DEFAULT 0, PRIMARY KEY (job, split_id)) ENGINE=InnoDB",
      QualifiedName(database, table), kMaxJobNameBytes, kMaxSplitIdBytes);
}

// The job's current run epoch in the progress table (0 when no run claimed it), read with a
// shared lock (`lock` "LOCK IN SHARE MODE": a commit, which a claim's exclusive lock waits for)
// or an exclusive one ("FOR UPDATE": a claim), inside the caller's transaction.
Result<uint64_t> ReadRunEpoch(Connection& db, const std::string& progress_table,
                              const std::string& job, std::string_view lock) {
  SLUICE_ASSIGN_OR_RETURN(
      std::optional<TextRow> row,
      db.QueryRow(fmt::format("SELECT epoch FROM {} WHERE job = {} AND split_id = X'' {}",
                              progress_table, BinaryLiteral(job), lock),
                  fmt::format("reading the run epoch of job '{}'", job)));
  if (!row || row->empty() || !(*row)[0])
    return uint64_t{0};
  return std::strtoull((*row)[0]->c_str(), nullptr, 10);
}

Result<bool> TableExists(Connection& db, const std::string& database, const std::string& table) {
  SLUICE_ASSIGN_OR_RETURN(
      std::optional<TextRow> row,
      db.QueryRow(fmt::format("SELECT 1 FROM information_schema.TABLES WHERE TABLE_SCHEMA = {} "
                              "AND TABLE_NAME = {}",
                              Utf8Literal(database), Utf8Literal(table)),
                  fmt::format("looking for table {}.{}", database, table)));
  return row.has_value();
}

// One writer: renders rows into a chunk and sends it; see the header comment.
class MysqlSinkWriter final : public SinkWriter {
 public:
  /// `run_epoch`: the epoch Sink::Claim stored (0: not claimed), checked at every commit.
  MysqlSinkWriter(std::shared_ptr<const std::vector<Target>> targets,
                  const MysqlSinkOptions& options, const JobContext* context, Connection db,
                  uint64_t run_epoch)
      : targets_(std::move(targets)),
        options_(options),
        context_(context),
        db_(std::move(db)),
        kill_options_(db_.options()),
        thread_id_(db_.thread_id()),
        run_epoch_(run_epoch),
        exactly_once_(context->delivery == DeliveryGuarantee::kExactlyOnce),
        progress_table_(QualifiedName(options.connection.database, options.progress_table)),
        streams_(targets_->size()),
        planners_(targets_->size()) {
    mysql_set_local_infile_handler(db_.get(), InfileInit, InfileRead, InfileEnd, InfileError,
                                   &infile_);
    for (size_t i = 0; i < targets_->size(); ++i) {
      const Target& target = (*targets_)[i];
      StreamState& state = streams_[i];
      state.load_table = options_.mode == WriteMode::kUpsert
                             ? std::string(kUpsertPrefix) + target.table
                             : target.load_table;
      state.load_sql = LoadDataSql(target, options_.connection.database, state.load_table);
      state.insert_header = InsertHeader(target, options_.connection.database, state.load_table);
      if (options_.mode == WriteMode::kApply) {
        // Insert or replace the row with the key: applying a change again changes nothing.
        size_t into = state.load_sql.find(" INTO TABLE ");
        state.load_sql.insert(into, " REPLACE");
        std::string updates;
        for (const std::string& column : target.columns) {
          updates += fmt::format("{}{} = VALUES({})", updates.empty() ? "" : ", ",
                                 QuoteIdentifier(column), QuoteIdentifier(column));
        }
        state.insert_suffix = " ON DUPLICATE KEY UPDATE " + updates;
      }
    }
  }

  ~MysqlSinkWriter() override = default;

  // KILL QUERY over a short connection of its own: this writer's session may be blocked.
  void Cancel() override { Connection::KillQuery(kill_options_, thread_id_); }

  /// Sets up the session for the job's delivery and creates the per-writer staging tables of
  /// upsert mode.
  Status SetUp() {
    if (exactly_once_) {
      // Nothing may commit between two Commit()s, whatever runs outside START TRANSACTION.
      SLUICE_RETURN_IF_ERROR(db_.Execute("SET SESSION autocommit = 0", "setting up the session"));
    }
    if (options_.mode == WriteMode::kApply) {
      // Writers apply changes to disjoint keys, but their keys interleave: under REPEATABLE
      // READ the gap locks of deletes (also of missing keys) and of replaced rows would make
      // them deadlock on each other's inserts. READ COMMITTED takes no gap locks there.
      return db_.Execute("SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED",
                         "setting up the session");
    }
    if (options_.mode != WriteMode::kUpsert)
      return Status::OK();
    for (size_t i = 0; i < targets_->size(); ++i) {
      const Target& target = (*targets_)[i];
      // InnoDB, so that a rollback also empties it.
      SLUICE_RETURN_IF_ERROR(db_.Execute(
          fmt::format("CREATE TEMPORARY TABLE {} ENGINE=InnoDB AS SELECT {} FROM {} LIMIT 0",
                      QualifiedName(options_.connection.database, streams_[i].load_table),
                      ColumnList(target),
                      QualifiedName(options_.connection.database, target.table)),
          fmt::format("creating the upsert staging table for {}", target.display)));
    }
    // Ends the transaction the SELECT opened without autocommit, releasing its metadata lock.
    if (exactly_once_)
      SLUICE_RETURN_IF_ERROR(db_.Execute("COMMIT", "setting up the session"));
    return Status::OK();
  }

  Status Write(const Batch& batch) override {
    if (batch.empty())
      return Status::OK();
    if (batch.stream() < 0 || static_cast<size_t>(batch.stream()) >= targets_->size()) {
      return Internal(fmt::format("sink mysql: batch for unknown stream {}", batch.stream()));
    }
    const Target& target = (*targets_)[static_cast<size_t>(batch.stream())];
    if (batch.num_columns() != target.columns.size()) {
      return Internal(fmt::format("sink mysql {}: batch has {} columns, the stream {}",
                                  target.display, batch.num_columns(), target.columns.size()));
    }
    const std::vector<uint32_t>* rows = nullptr;
    if (options_.mode == WriteMode::kApply) {
      // Each key's last change in the batch. Deletes run at once, after the rows already in the
      // chunk, so that every statement reaches the server in the order of the changes.
      auto& planner = planners_[static_cast<size_t>(batch.stream())];
      if (!planner)
        planner = std::make_unique<sql::ApplyPlanner>(target.apply_key);
      planner->Plan(batch, &plan_);
      if (!plan_.deletes.empty()) {
        SLUICE_RETURN_IF_ERROR(Flush());
        SLUICE_RETURN_IF_ERROR(Delete(batch, target, plan_.deletes));
      }
      rows = &plan_.upserts;
    }
    if (chunk_stream_ != batch.stream()) {
      SLUICE_RETURN_IF_ERROR(Flush());
      StartChunk(batch.stream());
    }
    StreamState& state = streams_[static_cast<size_t>(batch.stream())];
    const bool sql = options_.method == LoadMethod::kInsert;
    const Format format = sql ? Format::kSql : Format::kLoadData;
    const size_t columns = batch.num_columns();
    const size_t count = rows ? rows->size() : batch.num_rows();
    if (rows)
      state.rows_received += batch.num_rows() - count;
    for (size_t i = 0; i < count; ++i) {
      const size_t row = rows ? (*rows)[i] : i;
      ++state.rows_received;
      size_t row_start = chunk_.size();
      if (sql)
        chunk_ += rows_in_chunk_ > 0 ? ",(" : "(";
      std::string problem;
      size_t bad_column = 0;
      for (size_t c = 0; c < columns; ++c) {
        if (c > 0)
          chunk_.push_back(sql ? ',' : '\t');
        const Column& column = batch.column(c);
        if (column.IsNull(row)) {
          chunk_.append(sql ? "NULL" : "\\N");
          continue;
        }
        const ColumnWrite& write = target.writes[c];
        if (write.checks_values())
          problem = ValueChange(column, row, write, options_.negative_zero_as_zero);
        if (problem.empty()) {
          if (const char* why = AppendValue(column, row, format, write.load, &chunk_))
            problem = why;
        }
        if (!problem.empty()) {
          bad_column = c;
          break;
        }
      }
      size_t key_start = keys_.size();
      AppendKeyText(batch, row, target, state);
      if (!problem.empty()) {
        chunk_.resize(row_start);
        std::string key(keys_.substr(key_start));
        keys_.resize(key_start);
        std::string value;
        AppendValueText(batch.column(bad_column), row, &value);
        SLUICE_RETURN_IF_ERROR(
            HandleBadRow(target, key, value,
                         fmt::format("column '{}': {}", target.columns[bad_column], problem)));
        continue;
      }
      chunk_.push_back(sql ? ')' : '\n');
      row_ends_.push_back(chunk_.size());
      key_ends_.push_back(keys_.size());
      ++rows_in_chunk_;
      // Exactly-once commits only in Commit(), together with the progress.
      const bool commit =
          !exactly_once_ &&
          rows_in_transaction_ + static_cast<int64_t>(rows_in_chunk_) >= options_.commit_rows;
      if (commit || chunk_.size() >= kChunkBytes ||
          (sql && rows_in_chunk_ >= static_cast<size_t>(options_.insert_rows))) {
        SLUICE_RETURN_IF_ERROR(Flush());
        if (commit)
          SLUICE_RETURN_IF_ERROR(CommitTransaction());
        StartChunk(batch.stream());
      }
    }
    return Status::OK();
  }

  Status Prepare() override {
    SLUICE_RETURN_IF_ERROR(Flush());
    chunk_stream_ = -1;
    return MergeUpserts();
  }

  Status Commit(const CommitContext& commit) override {
    if (!exactly_once_)
      return CommitTransaction();
    // The rows (merged, in upsert mode) and the progress of their splits: one transaction.
    SLUICE_RETURN_IF_ERROR(MergeUpserts());
    if (!commit.progress.empty()) {
      SLUICE_FAILPOINT("mysql.commit.after_rows");  // the rows sent, not their progress
      SLUICE_RETURN_IF_ERROR(Begin());
      SLUICE_RETURN_IF_ERROR(StoreProgress(commit));
    }
    if (!in_transaction_)
      return Status::OK();
    if (run_epoch_ != 0) {
      // The shared lock keeps a newer run's claim waiting until this commit is done; a claim
      // that came first shows as a higher epoch.
      SLUICE_FAILPOINT("mysql.commit.before_fence_check");
      SLUICE_ASSIGN_OR_RETURN(
          uint64_t current,
          ReadRunEpoch(db_, progress_table_, context_->job_name, "LOCK IN SHARE MODE"));
      if (current != run_epoch_) {
        (void)db_.Execute("ROLLBACK", "rolling back a fenced commit");
        in_transaction_ = false;
        return FencedOff(context_->job_name, options_.connection.Describe(), run_epoch_,
                         current);
      }
    }
    SLUICE_RETURN_IF_ERROR(db_.Execute(
        "COMMIT", fmt::format("committing checkpoint {} with its progress", commit.checkpoint)));
    in_transaction_ = false;
    rows_in_transaction_ = 0;
    return Status::OK();
  }

  void Abort() override {
    // Without autocommit a transaction may be open even when none of ours is.
    if (in_transaction_ || exactly_once_)
      (void)db_.Execute("ROLLBACK", "rolling back");
    in_transaction_ = false;
    rows_in_transaction_ = 0;
    for (StreamState& state : streams_)
      state.staged = false;  // the rollback emptied them
    ClearChunk();
  }

 private:
  struct StreamState {
    std::string load_table;
    std::string load_sql;
    std::string insert_header;
    std::string insert_suffix;  // apply: ON DUPLICATE KEY UPDATE ...
    uint64_t rows_received = 0;
    bool staged = false;  // upsert: rows wait in the staging table
  };

  std::string Prefix(const Target& target) const {
    return fmt::format("{}: table '{}'", options_.connection.Describe(), target.display);
  }

  void ClearChunk() {
    chunk_.clear();
    keys_.clear();
    row_ends_.clear();
    key_ends_.clear();
    rows_in_chunk_ = 0;
  }

  void StartChunk(int stream) {
    ClearChunk();
    chunk_stream_ = stream;
    if (options_.method == LoadMethod::kInsert) {
      chunk_ = streams_[static_cast<size_t>(stream)].insert_header;
    }
    chunk_start_ = chunk_.size();
  }

  // The key of `row` as "5" or "a, 1" (or the row number when the stream has no key).
  void AppendKeyText(const Batch& batch, size_t row, const Target& target,
                     const StreamState& state) {
    if (target.key.empty()) {
      AppendInteger(state.rows_received, &keys_);
      return;
    }
    for (size_t k = 0; k < target.key.size(); ++k) {
      if (k > 0)
        keys_ += ", ";
      const Column& column = batch.column(static_cast<size_t>(target.key[k]));
      if (column.IsNull(row)) {
        keys_ += "NULL";
      } else {
        AppendValueText(column, row, &keys_);
      }
    }
  }

  std::string Location(const Target& target, std::string_view key) const {
    if (target.key.empty())
      return fmt::format("{} row {}", target.display, key);
    return fmt::format("{} key=({})", target.display, key);
  }

  Status HandleBadRow(const Target& target, std::string_view key, std::string raw,
                      std::string_view problem) {
    BadRecord record;
    record.stream = target.stream;
    record.location = Location(target, key);
    record.raw = std::move(raw);
    const bool duplicate = options_.mode == WriteMode::kAppend &&
                           problem.find("Duplicate entry") != std::string_view::npos;
    record.reason = DataError(fmt::format(
        "{}: table '{}' {}: {}{}", options_.connection.Describe(), target.display,
        target.key.empty() ? fmt::format("row {}", key) : fmt::format("key=({})", key), problem,
        duplicate ? kDuplicateKeyAdvice : ""));
    return context_->bad_records->Handle(record);
  }

  Status Begin() {
    if (in_transaction_)
      return Status::OK();
    SLUICE_RETURN_IF_ERROR(db_.Execute("START TRANSACTION", "starting a transaction"));
    in_transaction_ = true;
    return Status::OK();
  }

  Status CommitTransaction() {
    SLUICE_RETURN_IF_ERROR(MergeUpserts());
    if (!in_transaction_)
      return Status::OK();
    SLUICE_RETURN_IF_ERROR(db_.Execute("COMMIT", "committing"));
    in_transaction_ = false;
    rows_in_transaction_ = 0;
    return Status::OK();
  }

  // Upserts the progress of `commit` into the progress table, inside the open transaction.
  Status StoreProgress(const CommitContext& commit) {
    const std::string job = BinaryLiteral(context_->job_name);
    std::string what =
        fmt::format("storing the progress of checkpoint {} in {}.{}", commit.checkpoint,
                    options_.connection.database, options_.progress_table);
    size_t next = 0;
    while (next < commit.progress.size()) {
      std::string sql = fmt::format(
          "INSERT INTO {} (job, split_id, position, done, checkpoint, updated_at, epoch) VALUES ",
          progress_table_);
      size_t end = std::min(commit.progress.size(), next + kProgressRowsPerStatement);
      for (size_t i = next; i < end; ++i) {
        const SplitProgress& entry = commit.progress[i];
        if (entry.split_id.size() > kMaxSplitIdBytes) {
          return Unsupported(fmt::format("{}: {}: split id '{}' is longer than {} bytes",
                                         options_.connection.Describe(), what,
                                         entry.split_id.substr(0, 80) + "...", kMaxSplitIdBytes));
        }
        fmt::format_to(std::back_inserter(sql), "{}({}, {}, {}, {}, {}, UTC_TIMESTAMP(6), {})",
                       i > next ? ", " : "", job, BinaryLiteral(entry.split_id),
                       Utf8Literal(entry.position), entry.done ? 1 : 0, commit.checkpoint,
                       run_epoch_);
      }
      sql +=
          " ON DUPLICATE KEY UPDATE position = VALUES(position), done = VALUES(done), "
          "checkpoint = VALUES(checkpoint), updated_at = VALUES(updated_at), epoch = "
          "VALUES(epoch)";
      SLUICE_RETURN_IF_ERROR(db_.Execute(sql, what));
      next = end;
    }
    return Status::OK();
  }

  // upsert: fails when two staged rows differ in the bytes of a unique key but are equal under
  // its collation: ON DUPLICATE KEY UPDATE would merge them into one row (see
  // Target::checked_unique_keys). Rows sent twice with the very same key merge as upserts do.
  Status CheckStagedKeysStayApart(const Target& target, const StreamState& state) {
    const std::string& database = options_.connection.database;
    for (const std::vector<std::string>& key : target.checked_unique_keys) {
      std::string columns;
      std::string bytes;
      for (const std::string& column : key) {
        columns += (columns.empty() ? "" : ", ") + QuoteIdentifier(column);
        bytes += fmt::format("{}CAST({} AS BINARY)", bytes.empty() ? "" : ", ",
                             QuoteIdentifier(column));
      }
      SLUICE_ASSIGN_OR_RETURN(
          std::optional<TextRow> collision,
          db_.QueryRow(fmt::format("SELECT {} FROM {} GROUP BY {} HAVING COUNT(DISTINCT {}) > 1 "
                                   "LIMIT 1",
                                   columns, QualifiedName(database, state.load_table), columns,
                                   bytes),
                       fmt::format("checking the keys of the rows for {}", target.display)));
      if (!collision)
        continue;
      std::vector<std::string> values;
      for (const std::optional<std::string>& value : *collision)
        values.push_back(value.value_or("NULL"));
      return DataError(fmt::format(
          "{}: table '{}': rows whose keys differ (in case, accents or trailing spaces) are "
          "equal under the collation of key ({}) and would be merged into one, e.g. key=({}); "
          "give the key columns a binary NO PAD collation ({})",
          options_.connection.Describe(), target.display, JoinNames(key), JoinNames(values),
          JoinNames(std::vector<std::string>(std::begin(kNoPadBinaryCollations),
                                             std::end(kNoPadBinaryCollations)),
                    " or ")));
    }
    return Status::OK();
  }

  // upsert: moves the staged rows into their tables by primary key.
  Status MergeUpserts() {
    if (options_.mode != WriteMode::kUpsert)
      return Status::OK();
    for (size_t i = 0; i < targets_->size(); ++i) {
      StreamState& state = streams_[i];
      if (!state.staged)
        continue;
      const Target& target = (*targets_)[i];
      SLUICE_RETURN_IF_ERROR(CheckStagedKeysStayApart(target, state));
      std::string updates;
      for (const std::string& column : target.columns) {
        if (!updates.empty())
          updates += ", ";
        updates += fmt::format("{0} = VALUES({0})", QuoteIdentifier(column));
      }
      const std::string& database = options_.connection.database;
      SLUICE_RETURN_IF_ERROR(db_.Execute(
          fmt::format("INSERT INTO {} ({}) SELECT {} FROM {} ON DUPLICATE KEY UPDATE {}",
                      QualifiedName(database, target.table), ColumnList(target), ColumnList(target),
                      QualifiedName(database, state.load_table), updates),
          fmt::format("upserting into {}", target.display)));
      SLUICE_RETURN_IF_ERROR(
          db_.Execute(fmt::format("DELETE FROM {}", QualifiedName(database, state.load_table)),
                      fmt::format("upserting into {}", target.display)));
      state.staged = false;
    }
    return Status::OK();
  }

  std::string_view RowText(size_t index) const {
    size_t start = index == 0 ? chunk_start_ : row_ends_[index - 1];
    std::string_view row(chunk_.data() + start, row_ends_[index] - start);
    if (options_.method == LoadMethod::kInsert && index > 0)
      row.remove_prefix(1);  // the ','
    return row;
  }

  std::string_view RowKey(size_t index) const {
    size_t start = index == 0 ? 0 : key_ends_[index - 1];
    return std::string_view(keys_).substr(start, key_ends_[index] - start);
  }

  // The first non-note warning of the last statement, "" when there is none.
  std::string FirstWarning() {
    if (db_.warning_count() == 0)
      return {};
    Result<std::vector<TextRow>> warnings = db_.Query("SHOW WARNINGS", "reading warnings");
    if (!warnings.ok())
      return warnings.status().message();
    for (const TextRow& row : *warnings) {
      if (row.size() < 3 || !row[0] || *row[0] == "Note")
        continue;
      std::string message = row[2].value_or("");
      // "at row 1" of a one-row replay says nothing; the key says which row.
      size_t at = message.rfind(" at row ");
      if (at != std::string::npos)
        message.resize(at);
      return fmt::format("{} (error {})", message, row[1].value_or("?"));
    }
    return {};
  }

  // Sends the chunk's rows; afterwards no chunk is open (StartChunk opens the next one).
  Status Flush() {
    if (rows_in_chunk_ == 0 || chunk_stream_ < 0)
      return Status::OK();
    const Target& target = (*targets_)[static_cast<size_t>(chunk_stream_)];
    StreamState& state = streams_[static_cast<size_t>(chunk_stream_)];
    SLUICE_RETURN_IF_ERROR(Begin());
    Status sent = options_.method == LoadMethod::kInsert ? SendInserts(target, state)
                                                         : SendLoadData(target, state);
    if (!sent.ok())
      return sent;
    if (options_.mode == WriteMode::kUpsert)
      state.staged = true;
    rows_in_transaction_ += static_cast<int64_t>(rows_in_chunk_);
    ClearChunk();
    chunk_start_ = 0;
    chunk_stream_ = -1;
    return Status::OK();
  }

  Status SendLoadData(const Target& target, StreamState& state) {
    std::string what = fmt::format("loading {}", target.display);
    SLUICE_RETURN_IF_ERROR(db_.Execute("SAVEPOINT sluice_chunk", what));
    infile_ = InfileSource{chunk_.data(), chunk_.size(), 0};
    Status loaded = db_.Execute(state.load_sql, what);
    // apply loads with REPLACE: a replaced row counts twice (its delete and its insert).
    const bool replace = options_.mode == WriteMode::kApply;
    if (loaded.ok()) {
      uint64_t affected = db_.affected_rows();
      bool all = replace ? affected >= rows_in_chunk_ && affected <= 2 * rows_in_chunk_
                         : affected == rows_in_chunk_;
      if (all && FirstWarning().empty())
        return Status::OK();
    } else if (!IsDataErrorCode(db_.last_errno())) {
      return loaded;
    }
    // Some rows were refused or changed: replay the chunk row by row to name them.
    SLUICE_RETURN_IF_ERROR(db_.Execute("ROLLBACK TO SAVEPOINT sluice_chunk", what));
    for (size_t i = 0; i < rows_in_chunk_; ++i) {
      std::string_view row = RowText(i);
      SLUICE_RETURN_IF_ERROR(db_.Execute("SAVEPOINT sluice_row", what));
      infile_ = InfileSource{row.data(), row.size(), 0};
      Status one = db_.Execute(state.load_sql, what);
      std::string problem;
      if (!one.ok()) {
        if (!IsDataErrorCode(db_.last_errno()))
          return one;
        problem = one.message();
      } else {
        problem = FirstWarning();
        if (problem.empty() && db_.affected_rows() != 1 && !(replace && db_.affected_rows() == 2))
          problem = "the row was not loaded";
      }
      if (problem.empty())
        continue;
      SLUICE_RETURN_IF_ERROR(db_.Execute("ROLLBACK TO SAVEPOINT sluice_row", what));
      SLUICE_RETURN_IF_ERROR(HandleBadRow(target, RowKey(i), std::string(row), problem));
    }
    return Status::OK();
  }

  // apply: deletes the keys of `rows` of `batch`, a few hundred per statement. The condition is
  // one the range optimizer turns into point lookups (`k IN (...)`, or `(a = .. AND b = ..) OR
  // ...` for a composite key; a row constructor `(k) IN ((..))` may scan, locking every row it
  // reads, which other writers hold).
  Status Delete(const Batch& batch, const Target& target, const std::vector<uint32_t>& rows) {
    SLUICE_RETURN_IF_ERROR(Begin());
    const bool single = target.apply_key.size() == 1;
    std::string head = fmt::format("DELETE FROM {} WHERE ",
                                   QualifiedName(options_.connection.database, target.table));
    if (single) {
      head += QuoteIdentifier(target.columns[static_cast<size_t>(target.apply_key[0])]) + " IN (";
    }
    std::string what = fmt::format("deleting from {}", target.display);
    std::string sql;
    for (size_t first = 0; first < rows.size(); first += kDeleteKeys) {
      sql = head;
      size_t end = std::min(rows.size(), first + kDeleteKeys);
      for (size_t i = first; i < end; ++i) {
        if (i > first)
          sql += single ? "," : " OR ";
        if (!single)
          sql.push_back('(');
        for (size_t k = 0; k < target.apply_key.size(); ++k) {
          size_t c = static_cast<size_t>(target.apply_key[k]);
          if (!single) {
            sql += fmt::format("{}{} = ", k > 0 ? " AND " : "",
                               QuoteIdentifier(target.columns[c]));
          }
          const Column& column = batch.column(c);
          if (column.IsNull(rows[i])) {
            sql += "NULL";  // primary key columns are NOT NULL: matches nothing
          } else if (const char* why =
                         AppendValue(column, rows[i], Format::kSql, target.writes[c].load, &sql)) {
            return DataError(fmt::format("{}: key column '{}': {}", what, target.columns[c], why));
          }
        }
        if (!single)
          sql.push_back(')');
      }
      if (single)
        sql.push_back(')');
      SLUICE_RETURN_IF_ERROR(db_.Execute(sql, what));
      rows_in_transaction_ += static_cast<int64_t>(end - first);
    }
    return Status::OK();
  }

  Status SendInserts(const Target& target, StreamState& state) {
    std::string what = fmt::format("inserting into {}", target.display);
    const bool apply = !state.insert_suffix.empty();
    if (apply)
      chunk_ += state.insert_suffix;  // after the last row: RowText() is unaffected
    Status inserted = db_.Execute(chunk_, what);
    if (inserted.ok()) {
      // apply: an insert counts 1 affected row, an update 2, an unchanged row 0.
      if (apply)
        return Status::OK();
      // Without IGNORE every row lands or the statement fails; anything else (a trigger, a
      // server that skips rows) would count rows that are not there.
      if (db_.affected_rows() == rows_in_chunk_)
        return Status::OK();
      return DataError(fmt::format("{}: {}: the server inserted {} of {} rows",
                                   options_.connection.Describe(), what, db_.affected_rows(),
                                   rows_in_chunk_));
    }
    if (!IsDataErrorCode(db_.last_errno()))
      return inserted;
    // A statement fails as a whole: retry its rows one by one to name the bad ones.
    std::string single;
    for (size_t i = 0; i < rows_in_chunk_; ++i) {
      std::string_view row = RowText(i);
      single = state.insert_header;
      single.append(row);
      single.append(state.insert_suffix);
      Status one = db_.Execute(single, what);
      if (one.ok())
        continue;
      unsigned int code = db_.last_errno();
      if (!IsDataErrorCode(code))
        return one;
      Status cause = MysqlStatus(code, mysql_error(db_.get()), options_.connection, "");
      std::string problem = cause.message();
      std::string prefix = options_.connection.Describe() + ": ";
      if (problem.rfind(prefix, 0) == 0)
        problem.erase(0, prefix.size());
      SLUICE_RETURN_IF_ERROR(HandleBadRow(target, RowKey(i), std::string(row), problem));
    }
    return Status::OK();
  }

  std::shared_ptr<const std::vector<Target>> targets_;
  MysqlSinkOptions options_;
  const JobContext* context_;
  Connection db_;
  const ConnectionOptions kill_options_;  // for Cancel(), from another thread
  const uint64_t thread_id_;
  const uint64_t run_epoch_;
  const bool exactly_once_;
  const std::string progress_table_;  // `db`.`table`
  std::vector<StreamState> streams_;
  // apply: per stream, made at its first batch; the plan of the batch being written.
  std::vector<std::unique_ptr<sql::ApplyPlanner>> planners_;
  sql::ApplyPlan plan_;
  InfileSource infile_;

  int chunk_stream_ = -1;
  std::string chunk_;  // rendered rows (after the INSERT header for method insert)
  size_t chunk_start_ = 0;
  std::string keys_;  // key text of each rendered row, for bad-record locations
  std::vector<size_t> row_ends_;
  std::vector<size_t> key_ends_;
  size_t rows_in_chunk_ = 0;
  bool in_transaction_ = false;
  int64_t rows_in_transaction_ = 0;
};

}  // namespace

MysqlSink::MysqlSink(MysqlSinkOptions options, config::Options config)
    : options_(std::move(options)), config_(std::move(config)) {}

MysqlSink::~MysqlSink() = default;

Result<Target> MysqlSink::PrepareTarget(Connection& db, const StreamInfo& stream, bool dry_run,
                                        CheckReport* report) {
  const std::string& database = options_.connection.database;
  // Native types and collations only travel between databases of the same kind: another
  // database's spelling can mean something else here (PostgreSQL's `text` is unbounded, MySQL's
  // stops at 64 KiB).
  Schema logical_schema = *stream.schema;
  if (stream.source_type != "mysql") {
    std::vector<Field> fields = logical_schema.fields();
    for (Field& field : fields) {
      field.native_type.clear();
      field.collation.clear();
    }
    logical_schema = Schema(std::move(fields), logical_schema.primary_key());
  }
  const Schema& schema = logical_schema;
  Target target;
  target.stream = stream.name;
  target.table = options_.TableFor(stream.name);
  target.display = database + "." + target.table;
  if (target.table == options_.progress_table) {
    return InvalidConfig(fmt::format(
        "{}: stream '{}' would be written into table '{}', the sink's progress table; name the "
        "target with 'table' or the progress table with 'progress_table'",
        options_.connection.Describe(), stream.name, target.display));
  }
  // MySQL's column names ignore case: "Val" and "val" (distinct in PostgreSQL) are one column.
  for (size_t i = 0; i < schema.num_fields(); ++i) {
    for (size_t j = 0; j < i; ++j) {
      if (EqualsIgnoringAsciiCase(schema.field(i).name, schema.field(j).name)) {
        return InvalidConfig(fmt::format(
            "{}: stream '{}' has columns '{}' and '{}', which are one column in MySQL (its "
            "column names ignore case): rename one with a transform, e.g. `transform: "
            "{{columns: {{{}_2: \"{}\", ...}}}}`",
            options_.connection.Describe(), stream.name, schema.field(j).name,
            schema.field(i).name, schema.field(i).name, schema.field(i).name));
      }
    }
  }
  for (const Field& field : schema.fields())
    target.columns.push_back(field.name);
  target.key = schema.primary_key();
  auto note = [&](std::string line) {
    if (report != nullptr)
      report->Note(std::move(line));
  };
  const std::string prefix = options_.connection.Describe();
  const bool overwrite = options_.mode == WriteMode::kOverwrite;
  const bool apply = options_.mode == WriteMode::kApply;
  if (stream.changelog && !apply) {
    return config_.ErrorAt("mode", sql::ChangelogNeedsApplyMode(
                                       "mysql", stream.name, sql::WriteModeName(options_.mode))
                                       .message());
  }

  SLUICE_ASSIGN_OR_RETURN(std::vector<TextRow> existing,
                          db.Query(ColumnInfoQuery(database, target.table),
                                   fmt::format("reading the columns of {}", target.display)));
  auto plan = [&](const Field& field, const ColumnInfo& column) -> Status {
    Result<ColumnWrite> write = PlanColumnWrite(field.type, column);
    if (!write.ok()) {
      return write.status().WithContext(fmt::format("{}: table '{}'", prefix, target.display));
    }
    std::string warning = NarrowingWarning(field.type, *write);
    if (!warning.empty()) {
      note(fmt::format("mysql table '{}' column '{}': {}", target.display, column.name, warning));
      if (!dry_run) {
        log::Warn(fmt::format("sink:mysql:{}", target.table), "column '{}': {}", column.name,
                  warning);
      }
    }
    target.writes.push_back(std::move(*write));
    return Status::OK();
  };
  if (!existing.empty()) {
    std::map<std::string, ColumnInfo> columns;  // by lower-case name
    std::vector<std::string> table_columns;
    for (const TextRow& row : existing) {
      ColumnInfo column = ColumnInfoFromRow(row);
      table_columns.push_back(column.name);
      columns[Lower(column.name)] = std::move(column);
    }
    std::vector<std::string> missing;
    for (const Field& field : schema.fields()) {
      auto found = columns.find(Lower(field.name));
      if (found == columns.end()) {
        missing.push_back(field.name);
        continue;
      }
      SLUICE_RETURN_IF_ERROR(plan(field, found->second));
    }
    if (!missing.empty()) {
      std::vector<std::string> stream_columns = target.columns;
      return InvalidConfig(fmt::format(
          "{}: table '{}' has no column{} {} (table columns: {}; stream '{}' columns: {})", prefix,
          target.display, missing.size() > 1 ? "s" : "", JoinNames(missing),
          JoinNames(table_columns), stream.name, JoinNames(stream_columns)));
    }
    SLUICE_ASSIGN_OR_RETURN(
        std::vector<TextRow> key_rows,
        db.Query(fmt::format("SELECT INDEX_NAME, COLUMN_NAME FROM information_schema.STATISTICS "
                             "WHERE TABLE_SCHEMA = {} AND TABLE_NAME = {} AND NON_UNIQUE = 0 "
                             "ORDER BY INDEX_NAME, SEQ_IN_INDEX",
                             Utf8Literal(database), Utf8Literal(target.table)),
                 fmt::format("reading the keys of {}", target.display)));
    std::map<std::string, std::vector<std::string>> unique_keys;  // index -> columns
    for (const TextRow& row : key_rows) {
      if (!row[1])
        continue;  // a functional key part
      unique_keys[row[0].value_or("")].push_back(*row[1]);
      if (row[0] == "PRIMARY")
        target.primary_key.push_back(*row[1]);
    }
    for (const auto& [index, key_columns] : unique_keys) {
      SLUICE_RETURN_IF_ERROR(CheckKeyCollations(target, schema, columns, index, key_columns));
    }
    if (options_.mode == WriteMode::kUpsert && target.primary_key.empty()) {
      return InvalidConfig(fmt::format(
          "{}: mode upsert needs a primary key, and table '{}' has none", prefix, target.display));
    }
    if (apply) {
      if (target.primary_key.empty()) {
        return config_.ErrorAt(
            "mode", sql::ApplyNeedsPrimaryKey(
                        "mysql", fmt::format("{}: table '{}'", prefix, target.display))
                        .message());
      }
      for (const std::string& key : target.primary_key) {
        int found = -1;
        for (size_t i = 0; i < target.columns.size(); ++i) {
          if (Lower(target.columns[i]) == Lower(key))
            found = static_cast<int>(i);
        }
        if (found < 0) {
          return config_.ErrorAt(
              "mode", fmt::format("{}: column '{}' of the primary key of table '{}' is not in "
                                  "stream '{}', so mode: apply cannot find the row of a change",
                                  prefix, key, target.display, stream.name));
        }
        target.apply_key.push_back(found);
      }
    }
    if (!overwrite) {
      target.load_table = target.table;
      note(fmt::format("mysql table '{}' exists; rows would be {}", target.display,
                       options_.mode == WriteMode::kUpsert ? "upserted by primary key"
                       : apply ? "applied by primary key (changes upserted or deleted)"
                               : "appended"));
      return target;
    }
    target.load_table = std::string(kStagingPrefix) + target.table;
    note(
        fmt::format("mysql table '{}' exists; it would be replaced at the end of the job "
                    "(loaded into '{}')",
                    target.display, target.load_table));
    if (dry_run)
      return target;
    SLUICE_RETURN_IF_ERROR(PrepareStagingTable(
        db, target,
        fmt::format("CREATE TABLE {} LIKE {}", QualifiedName(database, target.load_table),
                    QualifiedName(database, target.table))));
    return target;
  }

  // The table does not exist.
  if (!options_.create) {
    return NotFound(
        fmt::format("{}: table '{}' does not exist and 'create' is false", prefix, target.display));
  }
  if (options_.mode == WriteMode::kUpsert && schema.primary_key().empty()) {
    return InvalidConfig(fmt::format(
        "{}: mode upsert needs a primary key, and stream '{}' has none to create table '{}' "
        "with",
        prefix, stream.name, target.display));
  }
  if (apply) {
    if (schema.primary_key().empty()) {
      return config_.ErrorAt(
          "mode", sql::ApplyNeedsPrimaryKey(
                      "mysql", fmt::format("{}: stream '{}' (the table '{}' to create)", prefix,
                                           stream.name, target.display))
                      .message());
    }
    target.apply_key = schema.primary_key();
  }
  std::vector<std::string> types = TargetColumnTypes(schema);
  for (size_t i = 0; i < schema.num_fields(); ++i) {
    ColumnInfo column = ParseColumnType(types[i]).value_or(ColumnInfo{});
    column.name = schema.field(i).name;
    column.column_type = types[i];
    SLUICE_RETURN_IF_ERROR(plan(schema.field(i), column));
  }
  // Keys are compared byte by byte unless a key column keeps its source's collation (or the
  // server has no binary NO PAD one): then the upsert merge checks that no two rows collide.
  bool compares_bytes = true;
  for (int index : schema.primary_key()) {
    const Field& field = schema.field(static_cast<size_t>(index));
    target.primary_key.push_back(field.name);
    std::string collation =
        KeyColumnCollation(field, types[static_cast<size_t>(index)], collations_);
    compares_bytes = compares_bytes && (collation.empty() || IsNoPadBinaryCollation(collation));
  }
  if (!compares_bytes)
    target.checked_unique_keys = {target.primary_key};
  if (!schema.primary_key().empty() && !collations_.key_collation.empty() &&
      !IsNoPadBinaryCollation(collations_.key_collation)) {
    note(fmt::format("mysql: the server has no binary NO PAD collation: key text columns of "
                     "table '{}' get {}, which ignores trailing spaces",
                     target.display, collations_.key_collation));
  }
  std::string create_sql = CreateTableSql(database, target.table, schema, true, collations_);
  note(fmt::format("mysql table '{}' would be created: {}", target.display, create_sql));
  if (!overwrite) {
    target.load_table = target.table;
    if (!dry_run) {
      SLUICE_RETURN_IF_ERROR(
          db.Execute(create_sql, fmt::format("creating table {}", target.display)));
    }
    return target;
  }
  target.load_table = std::string(kStagingPrefix) + target.table;
  if (dry_run)
    return target;
  SLUICE_RETURN_IF_ERROR(PrepareStagingTable(
      db, target,
      CreateTableSql(database, target.load_table, schema, false, collations_)));
  return target;
}

Status MysqlSink::PrepareStagingTable(Connection& db, const Target& target,
                                      const std::string& create_sql) {
  if (std::find(staging_tables_.begin(), staging_tables_.end(), target.table) !=
      staging_tables_.end()) {
    return Status::OK();  // another stream into the same table
  }
  const std::string& database = options_.connection.database;
  const std::string component = fmt::format("sink:mysql:{}", target.table);
  if (context_->resuming) {
    SLUICE_ASSIGN_OR_RETURN(bool exists, TableExists(db, database, target.load_table));
    if (exists) {
      log::Info(component,
                "Resuming: kept staging table '{}.{}' with the rows earlier runs "
                "committed",
                database, target.load_table);
      staging_tables_.push_back(target.table);
      return Status::OK();
    }
    staging_recreated_.insert(target.table);
    log::Info(component,
              "Resuming: staging table '{}.{}' is gone, so an earlier run already swapped it "
              "in; created an empty one",
              database, target.load_table);
  } else {
    SLUICE_RETURN_IF_ERROR(db.Execute(
        fmt::format("DROP TABLE IF EXISTS {}", QualifiedName(database, target.load_table)),
        "dropping an old staging table"));
  }
  SLUICE_RETURN_IF_ERROR(
      db.Execute(create_sql, fmt::format("creating the staging table for {}", target.display)));
  staging_tables_.push_back(target.table);
  return Status::OK();
}

namespace {

// Writers of exactly-once jobs hold a named lock, so that a resumed run can find the server
// sessions an earlier, killed run left behind. Such a session lives on until InnoDB has rolled
// back its uncommitted rows, and while it waits for a row lock it never notices that its client
// is gone: left alone it blocks the resumed run's writers until their lock waits time out.
constexpr int kMaxWriterSlots = 256;

std::string WriterLockName(const std::string& database, const std::string& job, int slot) {
  // MySQL limits lock names to 64 characters: a digest of database and job, then the slot.
  uint64_t hash = 1469598103934665603ULL;
  for (unsigned char c : database + '\0' + job) {
    hash ^= c;
    hash *= 1099511628211ULL;
  }
  return fmt::format("sluice:{:016x}:w{}", hash, slot);
}

// Kills the sessions that hold the writer locks of `job` (an earlier run's, whose process is
// gone) and waits until they have rolled back and ended.
Status EndEarlierWriters(Connection& db, const std::string& database, const std::string& job) {
  std::string sql = "SELECT ";
  for (int slot = 0; slot < kMaxWriterSlots; ++slot) {
    if (slot > 0)
      sql += ", ";
    sql += fmt::format("IS_USED_LOCK('{}')", WriterLockName(database, job, slot));
  }
  auto holders = [&]() -> Result<std::vector<std::string>> {
    SLUICE_ASSIGN_OR_RETURN(std::optional<TextRow> row,
                            db.QueryRow(sql, "looking for sessions of an earlier run"));
    std::vector<std::string> ids;
    if (row) {
      for (const std::optional<std::string>& id : *row) {
        if (id)
          ids.push_back(*id);
      }
    }
    return ids;
  };
  SLUICE_ASSIGN_OR_RETURN(std::vector<std::string> ids, holders());
  if (ids.empty())
    return Status::OK();
  log::Info("sink:mysql",
            "Ending {} session(s) an earlier run of job '{}' left on the server (their "
            "uncommitted rows are rolled back)",
            ids.size(), job);
  for (const std::string& id : ids) {
    (void)db.Execute(fmt::format("KILL CONNECTION {}", id), "ending a session of an earlier run");
  }
  for (int attempt = 0; attempt < 6000; ++attempt) {  // up to 10 minutes of rollback
    SLUICE_ASSIGN_OR_RETURN(ids, holders());
    if (ids.empty())
      return Status::OK();
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return Unavailable(fmt::format(
      "sessions of an earlier run of job '{}' are still rolling back; try again later", job));
}

}  // namespace

Result<Connection> MysqlSink::ConnectCoordinator() const {
  ConnectionOptions coordinator = options_.connection;
  coordinator.local_infile = false;
  SLUICE_ASSIGN_OR_RETURN(Connection db, Connection::Open(coordinator));
  std::lock_guard<std::mutex> lock(sessions_mutex_);
  coordinator_sessions_.push_back(db.thread_id());
  return db;
}

void MysqlSink::Cancel() {
  std::vector<uint64_t> sessions;
  {
    std::lock_guard<std::mutex> lock(sessions_mutex_);
    sessions = coordinator_sessions_;
  }
  for (uint64_t session : sessions)
    Connection::KillQuery(options_.connection, session);
}

Status MysqlSink::CreateProgressTable(Connection& db) {
  // Looked up first: CREATE TABLE IF NOT EXISTS needs the CREATE privilege even when the table
  // exists, and a user without it may be given a table created for it.
  const std::string& database = options_.connection.database;
  SLUICE_ASSIGN_OR_RETURN(bool exists, TableExists(db, database, options_.progress_table));
  if (!exists) {
    return db.Execute(CreateProgressTableSql(database, options_.progress_table),
                      fmt::format("creating the progress table {}.{}", database,
                                  options_.progress_table));
  }
  // A table an older Sluice created has no `epoch` column yet.
  SLUICE_ASSIGN_OR_RETURN(
      std::optional<TextRow> column,
      db.QueryRow(fmt::format("SELECT 1 FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = {} "
                              "AND TABLE_NAME = {} AND COLUMN_NAME = 'epoch'",
                              Utf8Literal(database), Utf8Literal(options_.progress_table)),
                  "looking for the progress table's epoch column"));
  if (column)
    return Status::OK();
  return db.Execute(
      fmt::format("ALTER TABLE {} ADD COLUMN epoch BIGINT NOT NULL DEFAULT 0",
                  QualifiedName(database, options_.progress_table)),
      fmt::format("adding the epoch column to the progress table {}.{}", database,
                  options_.progress_table));
}

Status MysqlSink::CheckTransactional(Connection& db, const std::vector<std::string>& tables) {
  if (tables.empty())
    return Status::OK();
  std::string names;
  for (const std::string& table : tables) {
    if (!names.empty())
      names += ", ";
    names += Utf8Literal(table);
  }
  const std::string& database = options_.connection.database;
  SLUICE_ASSIGN_OR_RETURN(
      std::vector<TextRow> rows,
      db.Query(fmt::format("SELECT t.TABLE_NAME, t.ENGINE FROM information_schema.TABLES t LEFT "
                           "JOIN information_schema.ENGINES e ON e.ENGINE = t.ENGINE WHERE "
                           "t.TABLE_SCHEMA = {} AND t.TABLE_NAME IN ({}) AND t.TABLE_TYPE = "
                           "'BASE TABLE' AND COALESCE(e.TRANSACTIONS, 'NO') <> 'YES' ORDER BY 1",
                           Utf8Literal(database), names),
               "checking the tables' storage engines"));
  if (rows.empty())
    return Status::OK();
  const TextRow& row = rows.front();
  return InvalidConfig(fmt::format(
      "{}: table '{}.{}' uses engine {}, which has no transactions: delivery exactly_once needs "
      "a transactional engine such as InnoDB (ALTER TABLE ... ENGINE=InnoDB), or set delivery: "
      "at_least_once",
      options_.connection.Describe(), database, row[0].value_or("?"), row[1].value_or("?")));
}

Status MysqlSink::DeleteProgress(Connection& db, const std::string& job) {
  const std::string& database = options_.connection.database;
  SLUICE_ASSIGN_OR_RETURN(bool exists, TableExists(db, database, options_.progress_table));
  if (!exists)
    return Status::OK();
  return db.Execute(
      fmt::format("DELETE FROM {} WHERE job = {} AND split_id <> X''",
                  QualifiedName(database, options_.progress_table), BinaryLiteral(job)),
      fmt::format("deleting the progress of job '{}' from {}.{}", job, database,
                  options_.progress_table));
}

Status MysqlSink::Claim(const JobContext& context) {
  if (context.delivery != DeliveryGuarantee::kExactlyOnce || context.run_epoch == 0)
    return Status::OK();
  if (context.job_name.size() > kMaxJobNameBytes) {
    return InvalidConfig(fmt::format(
        "{}: job name '{}' is longer than {} bytes, the most the progress table can hold",
        options_.connection.Describe(), context.job_name, kMaxJobNameBytes));
  }
  const std::string& database = options_.connection.database;
  SLUICE_ASSIGN_OR_RETURN(Connection db, ConnectCoordinator());
  SLUICE_RETURN_IF_ERROR(CreateProgressTable(db));
  std::string table = QualifiedName(database, options_.progress_table);
  std::string what = fmt::format("claiming {} for job '{}'", table, context.job_name);
  // A run that was itself taken over must not end the newer run's sessions: look first.
  SLUICE_ASSIGN_OR_RETURN(uint64_t newest, ReadRunEpoch(db, table, context.job_name, ""));
  if (newest > context.run_epoch)
    return FencedOff(context.job_name, options_.connection.Describe(), context.run_epoch, newest);
  // Sessions an earlier run left behind (killed, or taken over) hold row locks and may be in the
  // middle of a commit: end them before storing the epoch.
  SLUICE_RETURN_IF_ERROR(EndEarlierWriters(db, database, context.job_name));
  SLUICE_RETURN_IF_ERROR(db.Execute("START TRANSACTION", what));
  SLUICE_ASSIGN_OR_RETURN(uint64_t current,
                          ReadRunEpoch(db, table, context.job_name, "FOR UPDATE"));
  const uint64_t epoch = context.run_epoch;
  if (current > epoch) {
    (void)db.Execute("ROLLBACK", what);
    return FencedOff(context.job_name, options_.connection.Describe(), epoch, current);
  }
  SLUICE_RETURN_IF_ERROR(db.Execute(
      fmt::format("INSERT INTO {} (job, split_id, position, done, checkpoint, updated_at, epoch) "
                  "VALUES ({}, X'', {}, 0, 0, UTC_TIMESTAMP(6), {}) ON DUPLICATE KEY UPDATE "
                  "position = VALUES(position), updated_at = VALUES(updated_at), epoch = "
                  "VALUES(epoch)",
                  table, BinaryLiteral(context.job_name), Utf8Literal(context.run_owner), epoch),
      what));
  SLUICE_RETURN_IF_ERROR(db.Execute("COMMIT", what));
  run_epoch_ = epoch;
  return Status::OK();
}

Result<std::vector<SplitProgress>> MysqlSink::RecoverProgress(const JobContext& context) {
  const std::string& database = options_.connection.database;
  SLUICE_ASSIGN_OR_RETURN(Connection db, ConnectCoordinator());
  SLUICE_ASSIGN_OR_RETURN(bool exists, TableExists(db, database, options_.progress_table));
  std::vector<SplitProgress> progress;
  if (!exists)
    return progress;
  std::string what = fmt::format("reading the progress of job '{}' from {}.{}", context.job_name,
                                 database, options_.progress_table);
  // A locking read waits until every transaction still writing this job's progress has ended:
  // the last COMMIT of a killed process may still be running on the server, and rows committed
  // after we read would be written again by the resumed run. FOR UPDATE rather than LOCK IN
  // SHARE MODE, which TiDB refuses; the locks last a moment, before any writer starts.
  SLUICE_RETURN_IF_ERROR(db.Execute("START TRANSACTION", what));
  SLUICE_ASSIGN_OR_RETURN(
      std::vector<TextRow> rows,
      db.Query(fmt::format("SELECT split_id, position, done FROM {} WHERE job = {} AND "
                           "split_id <> X'' ORDER BY split_id FOR UPDATE",
                           QualifiedName(database, options_.progress_table),
                           BinaryLiteral(context.job_name)),
               what));
  SLUICE_RETURN_IF_ERROR(db.Execute("COMMIT", what));
  for (const TextRow& row : rows) {
    SplitProgress entry;
    entry.split_id = row[0].value_or("");
    entry.position = row[1].value_or("");
    entry.done = row[2].value_or("0") != "0";
    progress.push_back(std::move(entry));
  }
  log::Info("sink:mysql",
            "Recovered the committed progress of {} split(s) of job '{}' from '{}.{}'",
            progress.size(), context.job_name, database, options_.progress_table);
  return progress;
}

Result<std::optional<bool>> MysqlSink::TargetHoldsRows(Connection& db,
                                                        const std::string& table) const {
  const std::string& database = options_.connection.database;
  SLUICE_ASSIGN_OR_RETURN(bool exists, TableExists(db, database, table));
  if (!exists)
    return std::optional<bool>();
  SLUICE_ASSIGN_OR_RETURN(
      std::optional<TextRow> any,
      db.QueryRow(fmt::format("SELECT 1 FROM {} LIMIT 1", QualifiedName(database, table)),
                  fmt::format("looking into {}.{}", database, table)));
  return std::optional<bool>(any.has_value());
}

Status MysqlSink::CheckFreshStart(const JobContext& context,
                                  const std::vector<StreamInfo>& streams) {
  if (options_.mode != WriteMode::kAppend)
    return Status::OK();
  SLUICE_ASSIGN_OR_RETURN(Connection db, ConnectCoordinator());
  for (const StreamInfo& stream : streams) {
    std::string table = options_.TableFor(stream.name);
    SLUICE_ASSIGN_OR_RETURN(std::optional<bool> holds_rows, TargetHoldsRows(db, table));
    if (holds_rows.value_or(false)) {
      return FreshStartWouldDuplicate(
          context.job_name, fmt::format("table '{}.{}'", options_.connection.database, table));
    }
  }
  return Status::OK();
}

Status MysqlSink::CheckCommittedTargets(const JobContext& context,
                                        const std::vector<StreamInfo>& streams) {
  if (options_.mode == WriteMode::kOverwrite)
    return Status::OK();  // the staging table's own checks at Open
  if (options_.mode == WriteMode::kApply)
    return Status::OK();  // deletes may rightly have emptied the table
  SLUICE_ASSIGN_OR_RETURN(Connection db, ConnectCoordinator());
  for (const StreamInfo& stream : streams) {
    std::string table = options_.TableFor(stream.name);
    SLUICE_ASSIGN_OR_RETURN(std::optional<bool> holds_rows, TargetHoldsRows(db, table));
    if (!holds_rows.value_or(false)) {
      return CommittedRowsGone(context.job_name,
                               fmt::format("table '{}.{}'", options_.connection.database, table),
                               !holds_rows.has_value());
    }
  }
  return Status::OK();
}

Status MysqlSink::ForgetProgress(const JobContext& context) {
  SLUICE_ASSIGN_OR_RETURN(Connection db, ConnectCoordinator());
  if (run_epoch_ == 0) {
    // Not claimed (at-least-once, or a tool): still end what an earlier run left running.
    SLUICE_RETURN_IF_ERROR(EndEarlierWriters(db, options_.connection.database, context.job_name));
  }
  return DeleteProgress(db, context.job_name);
}

Status MysqlSink::Open(const JobContext& context, const std::vector<StreamInfo>& streams) {
  context_ = &context;
  const bool exactly_once = context.delivery == DeliveryGuarantee::kExactlyOnce;
  if (exactly_once && context.job_name.size() > kMaxJobNameBytes) {
    return InvalidConfig(fmt::format(
        "{}: job name '{}' is longer than {} bytes, the most the progress table can hold",
        options_.connection.Describe(), context.job_name, kMaxJobNameBytes));
  }
  SLUICE_ASSIGN_OR_RETURN(Connection db, ConnectCoordinator());
  SLUICE_RETURN_IF_ERROR(CheckLocalInfile(db));
  SLUICE_RETURN_IF_ERROR(SetUpWriterSession(db));
  SLUICE_RETURN_IF_ERROR(ReadDatabaseCharset(db));
  SLUICE_RETURN_IF_ERROR(ReadKeyCollations(db, streams));
  if (exactly_once)
    SLUICE_RETURN_IF_ERROR(CreateProgressTable(db));
  // A failure leaves any staging table in place: a resumed run continues filling it, a fresh
  // one recreates it.
  auto targets = std::make_shared<std::vector<Target>>();
  std::vector<std::string> loaded;
  for (const StreamInfo& stream : streams) {
    SLUICE_ASSIGN_OR_RETURN(Target target, PrepareTarget(db, stream, false, nullptr));
    loaded.push_back(target.load_table);
    targets->push_back(std::move(target));
  }
  if (exactly_once) {
    loaded.push_back(options_.progress_table);
    SLUICE_RETURN_IF_ERROR(CheckTransactional(db, loaded));
  }
  targets_ = std::move(targets);
  db_ = std::make_unique<Connection>(std::move(db));
  return Status::OK();
}

Status MysqlSink::Check(const JobContext& context, const std::vector<StreamInfo>& streams,
                        CheckReport* report) {
  SLUICE_ASSIGN_OR_RETURN(Connection db, ConnectCoordinator());
  SLUICE_RETURN_IF_ERROR(CheckLocalInfile(db));
  SLUICE_RETURN_IF_ERROR(ReadDatabaseCharset(db));
  SLUICE_RETURN_IF_ERROR(ReadKeyCollations(db, streams));
  std::vector<std::string> tables;
  for (const StreamInfo& stream : streams) {
    SLUICE_ASSIGN_OR_RETURN(Target target, PrepareTarget(db, stream, true, report));
    tables.push_back(target.table);
  }
  if (context.delivery == DeliveryGuarantee::kExactlyOnce) {
    const std::string& database = options_.connection.database;
    SLUICE_ASSIGN_OR_RETURN(bool exists, TableExists(db, database, options_.progress_table));
    report->Note(fmt::format(
        "mysql: exactly-once: each writer commits its rows with their splits' progress in one "
        "transaction; progress table '{}.{}' {}",
        database, options_.progress_table, exists ? "exists" : "would be created"));
    tables.push_back(options_.progress_table);
    SLUICE_RETURN_IF_ERROR(CheckTransactional(db, tables));
  }
  return Status::OK();
}

Result<std::unique_ptr<SinkWriter>> MysqlSink::CreateWriter(int slot) {
  if (!targets_)
    return Internal("sink mysql: CreateWriter called before Open");
  SLUICE_ASSIGN_OR_RETURN(Connection db, Connection::Open(options_.connection));
  SLUICE_RETURN_IF_ERROR(SetUpWriterSession(db));
  if (context_->delivery == DeliveryGuarantee::kExactlyOnce && slot < kMaxWriterSlots) {
    // Marks this session as the job's writer `slot` (see EndEarlierWriters). Another live
    // holder is a second run of the same job at the same time.
    std::string name = WriterLockName(options_.connection.database, context_->job_name, slot);
    SLUICE_ASSIGN_OR_RETURN(
        std::optional<TextRow> got,
        db.QueryRow(fmt::format("SELECT GET_LOCK('{}', 10)", name), "taking the writer lock"));
    if (!got || got->empty() || !(*got)[0] || *(*got)[0] != "1") {
      return Aborted(fmt::format(
          "{}: writer {} of job '{}' is already running elsewhere (named lock '{}' is taken)",
          options_.connection.Describe(), slot, context_->job_name, name));
    }
  }
  auto writer =
      std::make_unique<MysqlSinkWriter>(targets_, options_, context_, std::move(db), run_epoch_);
  SLUICE_RETURN_IF_ERROR(writer->SetUp());
  return std::unique_ptr<SinkWriter>(std::move(writer));
}

Status MysqlSink::Finish() {
  if (!db_)
    return Internal("sink mysql: Finish called before Open");
  const std::string& database = options_.connection.database;
  // Staging tables recreated by a resumed run: an earlier run's Finish swapped the real ones in.
  for (const std::string& table : staging_recreated_) {
    std::string staging = std::string(kStagingPrefix) + table;
    SLUICE_ASSIGN_OR_RETURN(
        std::optional<TextRow> any,
        db_->QueryRow(fmt::format("SELECT 1 FROM {} LIMIT 1", QualifiedName(database, staging)),
                      "checking the staging table"));
    if (any) {
      return NotFound(fmt::format(
          "{}: staging table '{}.{}' disappeared between runs, and with it the rows earlier runs "
          "had committed to it; run the job with --fresh to start over",
          options_.connection.Describe(), database, staging));
    }
    SLUICE_RETURN_IF_ERROR(
        db_->Execute(fmt::format("DROP TABLE {}", QualifiedName(database, staging)),
                     "dropping an unused staging table"));
    staging_tables_.erase(std::find(staging_tables_.begin(), staging_tables_.end(), table));
    log::Info(fmt::format("sink:mysql:{}", table),
              "table '{}.{}' was already replaced by an earlier run", database, table);
  }
  staging_recreated_.clear();
  if (run_epoch_ != 0 && !staging_tables_.empty()) {
    // RENAME TABLE commits on its own, so the check cannot share its transaction: a run taken
    // over between the two would publish tables whose rows were all committed, the same rows
    // the newer run would publish.
    SLUICE_ASSIGN_OR_RETURN(
        uint64_t current,
        ReadRunEpoch(*db_, QualifiedName(database, options_.progress_table), context_->job_name,
                     ""));
    if (current != run_epoch_) {
      return FencedOff(context_->job_name, options_.connection.Describe(), run_epoch_, current);
    }
  }
  // One RENAME TABLE swaps every table at once: readers see all old tables or all new ones.
  std::string renames;
  std::vector<std::string> olds;
  for (const std::string& table : staging_tables_) {
    std::string staging = std::string(kStagingPrefix) + table;
    std::string old = std::string(kOldPrefix) + table;
    SLUICE_ASSIGN_OR_RETURN(bool exists, TableExists(*db_, database, table));
    if (!renames.empty())
      renames += ", ";
    if (exists) {
      SLUICE_RETURN_IF_ERROR(
          db_->Execute(fmt::format("DROP TABLE IF EXISTS {}", QualifiedName(database, old)),
                       "dropping a leftover table"));
      renames +=
          fmt::format("{} TO {}, ", QualifiedName(database, table), QualifiedName(database, old));
      olds.push_back(old);
    }
    renames +=
        fmt::format("{} TO {}", QualifiedName(database, staging), QualifiedName(database, table));
  }
  if (!renames.empty()) {
    SLUICE_RETURN_IF_ERROR(db_->Execute("RENAME TABLE " + renames, "swapping in the new tables"));
  }
  finished_ = true;
  for (const std::string& table : staging_tables_) {
    log::Info(fmt::format("sink:mysql:{}", table), "replaced table '{}.{}'", database, table);
  }
  staging_tables_.clear();
  for (const std::string& old : olds) {
    Status dropped = db_->Execute(fmt::format("DROP TABLE {}", QualifiedName(database, old)),
                                  "dropping the replaced table");
    if (!dropped.ok())
      log::Warn("sink:mysql", "{}", dropped.message());
  }
  // The job's progress stays (every split done): if the process dies before the run records its
  // success, the resumed run finds nothing left to load instead of loading it all again. The
  // next fresh run's ForgetProgress clears it.
  return Status::OK();
}

Status MysqlSink::CheckLocalInfile(Connection& db) {
  if (options_.method != LoadMethod::kLoadData)
    return Status::OK();
  SLUICE_ASSIGN_OR_RETURN(std::vector<TextRow> rows,
                          db.Query("SELECT @@GLOBAL.local_infile", "checking local_infile"));
  if (!rows.empty() && !rows.front().empty() && rows.front()[0] &&
      (*rows.front()[0] == "0" || *rows.front()[0] == "OFF")) {
    return config_.ErrorAt(
        "method", fmt::format("{}: the server refuses LOAD DATA LOCAL INFILE (local_infile is "
                              "OFF); set method: insert or enable local_infile on the server",
                              options_.connection.Describe()));
  }
  return Status::OK();
}

Status MysqlSink::ReadDatabaseCharset(Connection& db) {
  SLUICE_ASSIGN_OR_RETURN(
      std::optional<TextRow> row,
      db.QueryRow(fmt::format("SELECT DEFAULT_CHARACTER_SET_NAME FROM "
                              "information_schema.SCHEMATA WHERE SCHEMA_NAME = {}",
                              Utf8Literal(options_.connection.database)),
                  "reading the database's character set"));
  database_is_utf8mb4_ = row && !row->empty() && (*row)[0] && *(*row)[0] == "utf8mb4";
  collations_.utf8mb4 = !database_is_utf8mb4_;
  return Status::OK();
}

Status MysqlSink::ReadKeyCollations(Connection& db, const std::vector<StreamInfo>& streams) {
  std::vector<std::string> wanted(std::begin(kNoPadBinaryCollations),
                                  std::end(kNoPadBinaryCollations));
  for (const StreamInfo& stream : streams) {
    for (int index : stream.schema->primary_key()) {
      const Field& field = stream.schema->field(static_cast<size_t>(index));
      if (!field.collation.empty() && stream.source_type == "mysql")
        wanted.push_back(field.collation);
    }
  }
  std::string names;
  for (const std::string& name : wanted)
    names += (names.empty() ? "" : ", ") + Utf8Literal(name);
  SLUICE_ASSIGN_OR_RETURN(
      std::vector<TextRow> rows,
      db.Query(fmt::format("SELECT COLLATION_NAME FROM information_schema.COLLATIONS WHERE "
                           "COLLATION_NAME IN ({})",
                           names),
               "reading the server's collations"));
  collations_.known.clear();
  for (const TextRow& row : rows) {
    if (row[0])
      collations_.known.push_back(*row[0]);
  }
  // Without a binary NO PAD collation (MySQL 5.7), utf8mb4_bin: it ignores only trailing spaces.
  collations_.key_collation = "utf8mb4_bin";
  for (std::string_view name : kNoPadBinaryCollations) {
    if (std::find(collations_.known.begin(), collations_.known.end(), name) !=
        collations_.known.end()) {
      collations_.key_collation = std::string(name);
      break;
    }
  }
  return Status::OK();
}

Status MysqlSink::CheckKeyCollations(Target& target, const Schema& schema,
                                     const std::map<std::string, ColumnInfo>& columns,
                                     const std::string& index,
                                     const std::vector<std::string>& key_columns) const {
  bool compares_bytes = true;
  for (const std::string& name : key_columns) {
    auto column = columns.find(Lower(name));
    if (column == columns.end() || column->second.collation.empty())
      continue;  // no text
    const ColumnInfo& info = column->second;
    const Field* field = nullptr;
    for (const Field& candidate : schema.fields()) {
      if (Lower(candidate.name) == Lower(name))
        field = &candidate;
    }
    // Numbers, dates and bytes written as text differ in their digits, not in case or spaces.
    if (field == nullptr || (field->type.id != TypeId::kString && field->type.id != TypeId::kJson))
      continue;
    compares_bytes = compares_bytes && IsNoPadBinaryCollation(info.collation);
    // A server without binary NO PAD collations offers nothing better than a PAD SPACE `_bin`;
    // the upsert merge then checks for keys that differ in trailing spaces only.
    const bool best_available = !IsNoPadBinaryCollation(collations_.key_collation) &&
                                info.collation.ends_with("_bin");
    if (CollationKeepsKeysApart(info.collation, field->collation) || best_available)
      continue;
    const std::string& database = options_.connection.database;
    const std::string fix = collations_.key_collation.empty() ? std::string("utf8mb4_nopad_bin")
                                                              : collations_.key_collation;
    return InvalidConfig(fmt::format(
        "{}: table '{}': column '{}' of key '{}' has collation {}, which {}: rows whose keys "
        "differ only so would be merged or refused. Give it a binary collation that keeps "
        "trailing spaces, e.g. ALTER TABLE {} MODIFY {} {} CHARACTER SET {} COLLATE {}{} (with "
        "the column's other attributes)",
        options_.connection.Describe(), target.display, info.name, index, info.collation,
        info.collation.ends_with("_bin")
            ? "ignores trailing spaces ('a' = 'a ')"
            : "treats different keys as equal (case, accents, trailing spaces: 'a' = 'A' = 'a ')",
        QualifiedName(database, target.table), QuoteIdentifier(info.name), info.column_type,
        fix.substr(0, fix.find('_')), fix, info.nullable ? " NULL" : " NOT NULL"));
  }
  if (!compares_bytes)
    target.checked_unique_keys.push_back(key_columns);
  return Status::OK();
}

void MysqlSink::Abort() {
  // Staging tables stay: a resumed run continues filling them, a fresh one recreates them.
  if (!finished_ && !staging_tables_.empty()) {
    log::Info("sink:mysql", "Kept {} staging table(s) for the next run to resume",
              staging_tables_.size());
  }
  db_.reset();
}

}  // namespace sluice::connectors::mysql
