#include "connectors/mysql/mysql_binlog_source.h"

#include <fmt/core.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <optional>
#include <set>
#include <thread>
#include <unordered_map>

#include "connectors/mysql/mysql_binlog_events.h"
#include "connectors/mysql/mysql_binlog_rows.h"
#include "connectors/mysql/mysql_binlog_stream.h"
#include "connectors/mysql/mysql_client.h"
#include "connectors/split_queue.h"
#include "core/logging.h"
#include "core/strings.h"

namespace sluice::connectors::mysql {

/// A captured table as Open described it.
struct BinlogTable {
  std::string database;
  std::string name;
  std::string display;  // "db.table"
  /// Every column of the table, in table order: what a row image holds.
  std::vector<SourceColumn> columns;
  /// Batch field i comes from table column selected[i].
  std::vector<int> selected;
  SchemaPtr schema;
  /// The primary key's table columns, and a schema of them alone: a bad row's location.
  std::vector<int> key;
  SchemaPtr key_schema;
};

namespace {

// Table maps kept between groups, to check each captured table's once rather than per statement.
constexpr size_t kMaxTableMaps = 256;

struct Coordinates {
  std::string file;
  uint64_t pos = 0;
  bool operator==(const Coordinates&) const = default;
};

// Where a reader is: see the header.
struct BinlogPosition {
  Coordinates done;  // the end of the last group whose rows were all returned
  std::string gtid;  // that group's GTID, when the server gives one
  Coordinates txn;   // the group being returned; empty file between groups
  uint64_t events = 0;  // row events of `txn` consumed
  uint64_t rows = 0;    // rows of the next row event consumed
  /// {"db.table": [["column", "COLUMN_TYPE"], ...]}: captured tables' columns as the binlog logs
  /// them at `done` (the schema history); null when every table's are what Open described.
  nlohmann::json columns;

  std::string ToJson() const {
    nlohmann::json json = {{"file", done.file}, {"pos", done.pos}};
    if (!gtid.empty())
      json["gtid"] = gtid;
    if (!txn.file.empty()) {
      json["txn"] = {{"file", txn.file}, {"pos", txn.pos}, {"events", events}, {"rows", rows}};
    }
    if (columns.is_object() && !columns.empty())
      json["columns"] = columns;
    return json.dump();
  }

  static Result<BinlogPosition> Parse(const std::string& text) {
    BinlogPosition out;
    if (text.empty())
      return out;
    try {
      nlohmann::json json = nlohmann::json::parse(text);
      out.done.file = json.at("file").get<std::string>();
      out.done.pos = json.at("pos").get<uint64_t>();
      out.gtid = json.value("gtid", std::string());
      if (json.contains("txn")) {
        const nlohmann::json& txn = json.at("txn");
        out.txn.file = txn.at("file").get<std::string>();
        out.txn.pos = txn.at("pos").get<uint64_t>();
        out.events = txn.value("events", uint64_t{0});
        out.rows = txn.value("rows", uint64_t{0});
      }
      if (json.contains("columns")) {
        out.columns = json.at("columns");
        if (!out.columns.is_object())
          return InvalidConfig(fmt::format("binlog position '{}': \"columns\" is no object", text));
      }
    } catch (const std::exception& error) {
      return InvalidConfig(fmt::format("malformed binlog position '{}': {}", text, error.what()));
    }
    if (out.done.file.empty())
      return InvalidConfig(fmt::format("binlog position '{}' names no file", text));
    return out;
  }
};

Result<Coordinates> ParsePayload(const std::string& payload) {
  Coordinates out;
  try {
    nlohmann::json json = nlohmann::json::parse(payload);
    out.file = json.at("file").get<std::string>();
    out.pos = json.at("pos").get<uint64_t>();
  } catch (const std::exception& error) {
    return InvalidConfig(fmt::format("malformed binlog split '{}': {}", payload, error.what()));
  }
  return out;
}

// "BEGIN", "COMMIT", "ROLLBACK" and the rest (DDL), by the statement's first word.
enum class Statement { kBegin, kCommit, kRollback, kOther };

Statement Classify(std::string_view statement, std::string* first_word) {
  size_t start = 0;
  while (start < statement.size() && std::isspace(static_cast<unsigned char>(statement[start])))
    ++start;
  size_t end = start;
  while (end < statement.size() && std::isalpha(static_cast<unsigned char>(statement[end])))
    ++end;
  first_word->clear();
  for (size_t i = start; i < end; ++i) {
    auto c = static_cast<unsigned char>(statement[i]);
    first_word->push_back(static_cast<char>(std::toupper(c)));
  }
  if (*first_word == "BEGIN")
    return Statement::kBegin;
  if (*first_word == "COMMIT")
    return Statement::kCommit;
  if (*first_word == "ROLLBACK" && end == statement.size())
    return Statement::kRollback;
  return Statement::kOther;
}

// DDL statements that can change a table's columns (or make it, or take it away).
bool ChangesColumns(std::string_view first_word) {
  return first_word == "ALTER" || first_word == "CREATE" || first_word == "DROP" ||
         first_word == "RENAME";
}

// The tables a statement may name, as (database, table): every identifier, bare or backquoted,
// alone (in `database`, the statement's default) or qualified. Over-inclusive on purpose
// (columns, indexes, words in comments): a table named by mistake is only described again.
std::vector<std::pair<std::string, std::string>> NamedTables(std::string_view database,
                                                             std::string_view statement) {
  std::vector<std::pair<std::string, std::string>> out;
  std::vector<std::string> parts;  // of the qualified name being read
  bool after_dot = false;
  auto flush = [&] {
    if (parts.size() == 1)
      out.emplace_back(std::string(database), parts[0]);
    else if (parts.size() >= 2)
      out.emplace_back(parts[parts.size() - 2], parts[parts.size() - 1]);
    parts.clear();
  };
  auto add = [&](std::string identifier) {
    if (!after_dot)
      flush();
    parts.push_back(std::move(identifier));
    after_dot = false;
  };
  auto word_char = [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '$' ||
           static_cast<unsigned char>(c) >= 0x80;
  };
  size_t i = 0;
  while (i < statement.size()) {
    const char c = statement[i];
    if (c == '`') {
      std::string identifier;
      for (++i; i < statement.size(); ++i) {
        if (statement[i] == '`') {
          if (i + 1 < statement.size() && statement[i + 1] == '`') {
            identifier.push_back('`');
            ++i;
            continue;
          }
          ++i;
          break;
        }
        identifier.push_back(statement[i]);
      }
      add(std::move(identifier));
    } else if (c == '\'' || c == '"') {
      for (++i; i < statement.size(); ++i) {
        if (statement[i] == '\\') {
          ++i;
        } else if (statement[i] == c) {
          if (i + 1 < statement.size() && statement[i + 1] == c) {
            ++i;
            continue;
          }
          ++i;
          break;
        }
      }
      flush();
      after_dot = false;
    } else if (word_char(c)) {
      size_t end = i;
      while (end < statement.size() && word_char(statement[end]))
        ++end;
      add(std::string(statement.substr(i, end - i)));
      i = end;
    } else if (c == '.') {
      after_dot = !parts.empty();
      ++i;
    } else {
      if (!std::isspace(static_cast<unsigned char>(c))) {
        flush();
        after_dot = false;
      }
      ++i;
    }
  }
  flush();
  return out;
}

// A table's columns as a position records them: [["name", "COLUMN_TYPE"], ...].
nlohmann::json ColumnsToJson(const std::vector<SourceColumn>& columns) {
  nlohmann::json out = nlohmann::json::array();
  for (const SourceColumn& column : columns)
    out.push_back({column.info.name, column.info.column_type});
  return out;
}

// Whether two descriptions of a table log the same columns (names and types).
bool SameColumns(const std::vector<SourceColumn>& a, const std::vector<SourceColumn>& b) {
  if (a.size() != b.size())
    return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i].info.name != b[i].info.name ||
        !EqualsIgnoringAsciiCase(a[i].info.column_type, b[i].info.column_type)) {
      return false;
    }
  }
  return true;
}

// "id int(11), v varchar(20)": a table's columns, for messages.
std::string DescribeLayout(const std::vector<SourceColumn>& columns) {
  std::string out;
  for (const SourceColumn& column : columns) {
    if (!out.empty())
      out += ", ";
    out += column.info.name + " " + column.info.column_type;
  }
  return out;
}

// A TABLE_MAP of a captured table, checked against the table's columns. Shared: a row event in
// the decoders' hands keeps the map it was read with while later events replace it.
struct MappedTable {
  binlog::TableMapEvent map;
  int stream = -1;  // -1: a table this job does not capture
  /// For each table column (BinlogTable::columns), its index among the map's columns; -1 when
  /// the map has none of that name (dropped since Open: NULL).
  std::vector<int> binlog_column;
};

// Turns the row images of row events into changelog rows. One per thread: it holds the images
// of the change read last and the conversion buffers.
class RowDecoder {
 public:
  explicit RowDecoder(ZeroDates zero_dates) : zero_dates_(zero_dates) {}

  // Reads the change at `*offset` of `rows`, its image(s), and moves `*offset` past it.
  Status ReadImages(const binlog::RowsEvent& rows, const MappedTable& mapped, size_t* offset) {
    const auto& columns = mapped.map.columns;
    SLUICE_RETURN_IF_ERROR(ReadRowImage(rows.rows, offset, rows.present, columns, &before_));
    if (rows.kind == binlog::RowsEvent::Kind::kUpdate) {
      SLUICE_RETURN_IF_ERROR(
          ReadRowImage(rows.rows, offset, rows.present_after, columns, &after_));
    }
    return Status::OK();
  }

  // Appends the change read last as rows of `table`: both images of an update are appended
  // before either row is finished, so that a value refused in the second drops the whole change
  // (the caller discards the partial row). `file` and `position` name the event in messages.
  Status AppendChange(const BinlogTable& table, const MappedTable& mapped,
                      binlog::RowsEvent::Kind kind, std::string_view file, uint64_t position,
                      Batch* batch) {
    const size_t first = batch->num_rows();
    switch (kind) {
      case binlog::RowsEvent::Kind::kWrite:
        SLUICE_RETURN_IF_ERROR(AppendImage(table, mapped, before_, file, position, batch));
        batch->SetRowKind(first, RowKind::kInsert);
        batch->FinishRow();
        return Status::OK();
      case binlog::RowsEvent::Kind::kDelete:
        SLUICE_RETURN_IF_ERROR(AppendImage(table, mapped, before_, file, position, batch));
        batch->SetRowKind(first, RowKind::kDelete);
        batch->FinishRow();
        return Status::OK();
      case binlog::RowsEvent::Kind::kUpdate:
        SLUICE_RETURN_IF_ERROR(AppendImage(table, mapped, before_, file, position, batch));
        SLUICE_RETURN_IF_ERROR(AppendImage(table, mapped, after_, file, position, batch));
        batch->SetRowKind(first, RowKind::kUpdateBefore);
        batch->SetRowKind(first + 1, RowKind::kUpdateAfter);
        batch->FinishRow();
        batch->FinishRow();
        return Status::OK();
    }
    return Status::OK();
  }

  // The bad record of the change read last, whose AppendChange failed with data error `error`.
  BadRecord MakeBadRecord(const BinlogTable& table, const MappedTable& mapped,
                          std::string_view file, uint64_t position, const Status& error) {
    BadRecord record;
    record.stream = table.name;
    record.location = fmt::format("{}{} (binlog '{}' position {})", table.display,
                                  KeyLocation(table, mapped), file, position);
    record.reason = DataError(fmt::format("{} {}", record.location, error.message()));
    return record;
  }

 private:
  // " id=2": the key of the change read last (its first image), for a bad row's location.
  std::string KeyLocation(const BinlogTable& table, const MappedTable& mapped) {
    Batch key(table.key_schema, 1);
    std::vector<int> columns;
    std::vector<std::string> names;
    for (size_t k = 0; k < table.key.size(); ++k) {
      const size_t column = static_cast<size_t>(table.key[k]);
      const size_t logged = static_cast<size_t>(mapped.binlog_column[column]);
      const ImageValue& value = before_[logged];
      Column& out = key.column(k);
      if (value.state != ImageValue::State::kValue ||
          !AppendBinlogValue(mapped.map.columns[logged], value.bytes, table.columns[column],
                             ZeroDates::kNull, &out, &scratch_)
               .ok()) {
        return "";
      }
      columns.push_back(static_cast<int>(k));
      names.push_back(table.columns[column].info.name);
    }
    key.FinishRow();
    std::string out;
    AppendKeyLocation(key, 0, columns, names, &out);
    return out;
  }

  Status AppendImage(const BinlogTable& table, const MappedTable& mapped,
                     const std::vector<ImageValue>& image, std::string_view file,
                     uint64_t position, Batch* batch) {
    for (size_t f = 0; f < table.selected.size(); ++f) {
      const size_t column = static_cast<size_t>(table.selected[f]);
      Column& out = batch->column(f);
      if (mapped.binlog_column[column] < 0) {
        out.AppendNull();  // not logged: the table changed (MapColumns warned)
        continue;
      }
      const size_t logged = static_cast<size_t>(mapped.binlog_column[column]);
      const ImageValue& value = image[logged];
      switch (value.state) {
        case ImageValue::State::kAbsent:
          return Unsupported(fmt::format(
              "{}: the binlog at '{}' position {} leaves column '{}' out of its row image: "
              "change data capture needs binlog_row_image = FULL",
              table.display, file, position, table.columns[column].info.name));
        case ImageValue::State::kNull:
          out.AppendNull();
          break;
        case ImageValue::State::kValue:
          SLUICE_RETURN_IF_ERROR(AppendBinlogValue(mapped.map.columns[logged], value.bytes,
                                                   table.columns[column], zero_dates_, &out,
                                                   &scratch_));
          break;
      }
    }
    return Status::OK();
  }

  const ZeroDates zero_dates_;
  std::vector<ImageValue> before_;
  std::vector<ImageValue> after_;
  BinlogScratch scratch_;
};

// Decoding in parallel (see the header): rows of a decoded event are kept in chunks of this
// many rows (even, so that an update's two rows never straddle two chunks).
constexpr size_t kChunkRows = 1024;
// Events read ahead of the rows returned: their bytes, at most (memory stays bounded), and how
// many row events at most.
constexpr size_t kReadAheadBytes = 8u << 20;
constexpr size_t kReadAheadEvents = 4096;
// Chunks kept for reuse per stream.
constexpr size_t kSpareChunks = 64;

// A row event handed to the decoders, and what they made of it.
struct DecodeTask {
  std::unique_ptr<std::string> bytes;  // the event: a copy, the stream reuses its buffer
  binlog::RowsEvent event;             // views into *bytes
  std::shared_ptr<const MappedTable> mapped;
  const BinlogTable* table = nullptr;
  std::string file;       // the event's binlog file, for messages
  uint64_t position = 0;  // and its position
  uint64_t skip = 0;      // changes a resumed position covers: read past, not returned

  // Written by the one thread that decodes it; read by the reader once `state` is kDone.
  enum class State { kQueued, kRunning, kDone };
  State state = State::kQueued;  // guarded by the reader's mutex_
  uint64_t skipped = 0;          // changes read past (`skip`, or fewer when the event has fewer)
  /// The rows of the good changes in order: every chunk but the last holds kChunkRows.
  std::vector<std::unique_ptr<Batch>> chunks;
  uint64_t changes = 0;  // changes decoded after the skipped ones, bad ones included
  /// The bad changes (by index among `changes`, ascending) and their records.
  std::vector<std::pair<uint64_t, BadRecord>> bad;
  /// Not OK: what stopped the decoding at change `changes` (the ones before stand).
  Status error;
};

// Where the reader is, as Position() reports it: a copy of the event state machine's after the
// events whose rows were returned (decoding in parallel: the state machine runs ahead).
struct ReadState {
  Coordinates done;
  std::string gtid;
  bool in_group = false;
  bool resuming_group = false;
  Coordinates group_start;
  uint64_t group_serial = 0;  // tells groups apart (changes returned count per group)
  uint64_t group_events = 0;  // row events of the group consumed
  std::shared_ptr<const nlohmann::json> saved_layouts;
};

class BinlogReader final : public SplitReader {
 public:
  BinlogReader(const MysqlSourceOptions& options, const JobContext* context, uint32_t server_id,
               std::vector<std::shared_ptr<const BinlogTable>> tables, BinlogPosition position)
      : options_(options),
        context_(context),
        server_id_(server_id),
        tables_(std::move(tables)),
        position_(std::move(position)),
        resume_txn_(position_.txn),
        resume_events_(position_.events),
        resume_rows_(position_.rows),
        decoder_(options.zero_dates) {
    position_.txn = {};
    position_.events = 0;
    position_.rows = 0;
    for (size_t i = 0; i < tables_.size(); ++i)
      by_name_[tables_[i]->display] = static_cast<int>(i);
    current_file_ = position_.done.file;
  }

  ~BinlogReader() override { StopThreads(); }

  Status Start() {
    read_wait_ = context_->read_wait;
    SLUICE_RETURN_IF_ERROR(LoadLayouts());
    SLUICE_RETURN_IF_ERROR(ReadRowMetadataSetting());
    // Heartbeats while the server has nothing to send bound how long a read waits.
    auto heartbeat = std::clamp(read_wait_ / 2, std::chrono::milliseconds(10),
                                std::chrono::milliseconds(1000));
    // SHOW SLAVE HOSTS lists the job by name (the server keeps 60 characters).
    std::string report_host = ("sluice:" + context_->job_name).substr(0, 60);
    SLUICE_ASSIGN_OR_RETURN(stream_, BinlogStream::Start(options_.connection, server_id_,
                                                         report_host, position_.done.file,
                                                         position_.done.pos, heartbeat));
    format_.checksum = stream_->checksum();
    // With one decoder the reader decodes as it goes, without threads: on a machine whose
    // cores are busy with the job's readers and writers, threads only add copies (README).
    const int decoders = options_.decode_threads;
    log::Info(component(), "Streaming the binlog from '{}' position {} as replica server id {}{}",
              position_.done.file, position_.done.pos, server_id_,
              decoders > 1 ? fmt::format(", decoding on {} threads", decoders) : "");
    if (decoders > 1) {
      pipelined_ = true;
      SnapshotState(&returned_);
      free_chunks_.resize(tables_.size());
      fetch_thread_ = std::thread([this] { FetchEvents(); });
      for (int i = 0; i < decoders; ++i)
        decode_threads_.emplace_back([this] { DecodeEvents(); });
    }
    return Status::OK();
  }

  int NextStream() const override { return next_stream_; }
  void SetReadWait(std::chrono::milliseconds wait) override { read_wait_ = wait; }

  std::string Position() const override {
    if (pipelined_)
      return PositionAt(returned_, returned_rows_, returned_in_group_);
    ReadState state;
    SnapshotState(&state);
    return PositionAt(state, event_rows_done_, returned_in_group_);
  }

  ReadLag Lag() const override {
    ReadLag lag;
    {
      std::lock_guard<std::mutex> lock(lag_mutex_);
      if (behind_known_) {
        uint64_t consumed = consumed_bytes_.load() - consumed_at_mark_;
        lag.bytes = behind_at_mark_ > consumed ? behind_at_mark_ - consumed : 0;
      }
    }
    int64_t event_time = last_event_time_us_.load();
    if (event_time != 0)
      lag.last_event_time_us = event_time;
    return lag;
  }

  void Cancel() override {
    cancelled_.store(true);
    if (stream_)
      stream_->Cancel();
    // Under the mutex: a reader about to wait sees the flag or gets the notification.
    std::lock_guard<std::mutex> lock(mutex_);
    progress_.notify_all();
  }

  Result<bool> ReadBatch(Batch* batch) override {
    if (cancelled_.load())
      return Cancelled("reading the binlog: cancelled");
    if (pipelined_)
      return ReadDecodedBatch(batch);
    const auto deadline = std::chrono::steady_clock::now() + read_wait_;
    while (true) {
      if (rows_.has_value()) {
        SLUICE_ASSIGN_OR_RETURN(bool event_done, ReturnRows(batch));
        if (!event_done)
          return true;  // the batch is full, or the next row belongs to another stream
        continue;
      }
      if (std::chrono::steady_clock::now() >= deadline)
        return true;
      if (!batch->empty() && caught_up_)
        return true;  // nothing more has arrived: hand over what is here
      MaybeMeasureLag();
      Result<std::string_view> event = stream_->Next();
      if (!event.ok()) {
        if (cancelled_.load()) {
          if (!batch->empty())
            return true;
          return Cancelled("reading the binlog: cancelled");
        }
        return event.status().WithContext(fmt::format("after binlog '{}' position {}",
                                                      current_file_, last_position_));
      }
      SLUICE_RETURN_IF_ERROR(Process(*event));
    }
  }

 private:
  // A row event whose rows are being returned (decoding on the reader's thread).
  struct PendingRows {
    binlog::RowsEvent event;
    std::shared_ptr<const MappedTable> mapped;
    uint64_t position = 0;  // the event's, for messages
    size_t offset = 0;      // of the next row image in event.rows
  };

  // Decoding in parallel: an event read from the stream by the fetch thread, or why it ended.
  struct FetchedEvent {
    std::unique_ptr<std::string> bytes;
    Status error;
  };

  // Decoding in parallel: what the state machine made of the events, in binlog order, for the
  // reader to return: a row event's changes, a new position, or an error.
  struct Step {
    ReadState state;  // the position once consumed; of a row event: where it starts
    std::shared_ptr<DecodeTask> task;  // a row event whose changes to return, or null
    Status error;                      // not OK: what the read ends with when it gets here
    // How far the reader is through `task`.
    bool started = false;
    uint64_t next_change = 0;
    size_t next_row = 0;
    size_t next_bad = 0;
  };

  std::string component() const {
    return fmt::format("source:mysql:{}:cdc", options_.connection.database);
  }

  std::string PositionAt(const ReadState& state, uint64_t event_rows_done,
                         uint64_t returned_in_group) const {
    BinlogPosition out;
    out.done = state.done;
    out.gtid = state.gtid;
    // Inside a group whose changes were (partly) returned: how far. A resumed group keeps its
    // counts even before this run returned any of its changes.
    if (state.in_group && (returned_in_group > 0 || state.resuming_group)) {
      out.txn = state.group_start;
      out.events = state.group_events;
      out.rows = event_rows_done;
    }
    if (state.saved_layouts)
      out.columns = *state.saved_layouts;
    return out.ToJson();
  }

  // The state machine's position state (assigned in place: a step's strings keep their room).
  void SnapshotState(ReadState* out) const {
    out->done = position_.done;
    out->gtid = position_.gtid;
    out->in_group = in_group_;
    out->resuming_group = resuming_group_;
    out->group_start = group_start_;
    out->group_serial = group_serial_;
    out->group_events = group_events_;
    out->saved_layouts = saved_layouts_;
  }

  // Decoding in parallel, on the reader's thread: returns the decoded changes in binlog order
  // while the state machine reads ahead, handing row events to the decode threads.
  Result<bool> ReadDecodedBatch(Batch* batch) {
    const auto deadline = std::chrono::steady_clock::now() + read_wait_;
    while (true) {
      // Return what is decoded, in order.
      while (!steps_.empty()) {
        Step& step = steps_.front();
        if (!step.error.ok()) {
          if (cancelled_.load())
            return batch->empty() ? Result<bool>(Cancelled("reading the binlog: cancelled"))
                                  : Result<bool>(true);
          return step.error;
        }
        if (step.task) {
          if (!TaskDone(*step.task))
            break;
          SLUICE_ASSIGN_OR_RETURN(bool event_done, ReturnDecoded(step, batch));
          if (!event_done)
            return true;  // the batch is full, or the next row belongs to another stream
          read_ahead_bytes_ -= step.task->bytes->size();
          --read_ahead_events_;
          RecycleChunks(*step.task);
        } else {
          Adopt(step.state);
        }
        steps_.pop_front();
      }
      if (cancelled_.load())
        return batch->empty() ? Result<bool>(Cancelled("reading the binlog: cancelled"))
                              : Result<bool>(true);
      if (!batch->empty() && caught_up_ && steps_.empty())
        return true;  // nothing more has arrived: hand over what is here
      if (std::chrono::steady_clock::now() >= deadline)
        return true;
      // Read ahead, so that the decode threads have work.
      if (!read_failed_ && read_ahead_bytes_ < kReadAheadBytes &&
          read_ahead_events_ < kReadAheadEvents) {
        std::optional<FetchedEvent> fetched = TakeFetched();
        if (fetched) {
          MaybeMeasureLag();
          ProcessFetched(std::move(*fetched));
          continue;
        }
      }
      // Nothing to read: decode the next event to return here if no thread took it yet, or
      // wait for a thread to finish it, for an event, or for the deadline.
      if (!steps_.empty() && steps_.front().task && DecodeHere(steps_.front().task))
        continue;
      WaitForProgress(deadline);
    }
  }

  // Runs the state machine on an event read ahead; its rows go to the decode threads and
  // everything it changes of the position goes into steps_, in order.
  void ProcessFetched(FetchedEvent fetched) {
    Status status = fetched.error;
    if (!status.ok()) {
      status = status.WithContext(
          fmt::format("after binlog '{}' position {}", current_file_, last_position_));
    } else {
      owned_event_ = std::move(fetched.bytes);
      task_pushed_ = false;
      status = Process(*owned_event_);
      owned_event_.reset();
    }
    if (!status.ok()) {
      // Returned once the changes before it are: nothing after it is read.
      read_failed_ = true;
      Step step;
      step.error = std::move(status);
      steps_.push_back(std::move(step));
      return;
    }
    if (task_pushed_)
      return;  // the row event's step: the position moves as its changes are returned
    if (steps_.empty() || steps_.back().task || !steps_.back().error.ok())
      steps_.emplace_back();
    // A position step supersedes the one before it when nothing is returned in between.
    SnapshotState(&steps_.back().state);
  }

  // The position of a step whose changes (none) were all returned.
  void Adopt(const ReadState& state) {
    if (state.group_serial != returned_.group_serial)
      returned_in_group_ = 0;
    returned_ = state;
    returned_rows_ = 0;
  }

  // Appends a decoded row event's changes to `batch` while there is room, handing bad ones to
  // the job's policy, in order. Returns true once the event is used up; false when the batch is
  // full or the next change belongs to another stream than the batch's.
  Result<bool> ReturnDecoded(Step& step, Batch* batch) {
    DecodeTask& task = *step.task;
    if (!step.started) {
      Adopt(step.state);
      returned_rows_ = task.skipped;
      step.started = true;
    }
    const int stream = task.mapped->stream;
    const size_t room = task.event.kind == binlog::RowsEvent::Kind::kUpdate ? 2 : 1;
    while (step.next_change < task.changes || !task.error.ok()) {
      if (step.next_change == task.changes)
        return task.error;
      SLUICE_ASSIGN_OR_RETURN(bool fits, Fits(stream, room, *batch));
      if (!fits)
        return false;
      if (step.next_bad < task.bad.size() && task.bad[step.next_bad].first == step.next_change) {
        SLUICE_RETURN_IF_ERROR(context_->bad_records->Handle(task.bad[step.next_bad].second));
        ++step.next_bad;
      } else {
        for (size_t r = 0; r < room; ++r, ++step.next_row)
          batch->AppendRow(*task.chunks[step.next_row / kChunkRows], step.next_row % kChunkRows);
        ++returned_in_group_;
      }
      ++returned_rows_;
      ++step.next_change;
    }
    ++returned_.group_events;
    returned_rows_ = 0;
    return true;
  }

  // Whether the next change (`room` rows of `stream`) goes into `batch`: not when it is another
  // stream's (NextStream then names it) or the batch is full.
  Result<bool> Fits(int stream, size_t room, const Batch& batch) {
    if (stream != batch.stream()) {
      next_stream_ = stream;
      return false;
    }
    if (batch.num_rows() + room > batch.capacity() || batch.ByteSize() >= context_->batch_bytes) {
      if (batch.empty())
        return BatchTooSmall(batch);
      return false;
    }
    return true;
  }

  static Status BatchTooSmall(const Batch& batch) {
    return InvalidConfig(fmt::format("batches of {} rows cannot hold an update's two rows: "
                                     "change data capture needs batch_rows of 2 or more",
                                     batch.capacity()));
  }

  // Decodes `task`'s changes into chunks of rows (any thread).
  void Decode(DecodeTask& task, RowDecoder& decoder) {
    const binlog::RowsEvent& rows = task.event;
    const size_t stream = static_cast<size_t>(task.mapped->stream);
    size_t offset = 0;
    for (; task.skipped < task.skip && offset < rows.rows.size(); ++task.skipped) {
      task.error = decoder.ReadImages(rows, *task.mapped, &offset);
      if (!task.error.ok())
        return;
    }
    const size_t room = rows.kind == binlog::RowsEvent::Kind::kUpdate ? 2 : 1;
    Batch* chunk = nullptr;
    while (offset < rows.rows.size()) {
      if (chunk == nullptr || chunk->num_rows() + room > chunk->capacity()) {
        task.chunks.push_back(TakeChunk(stream));
        chunk = task.chunks.back().get();
      }
      task.error = decoder.ReadImages(rows, *task.mapped, &offset);
      if (!task.error.ok())
        return;
      Status appended =
          decoder.AppendChange(*task.table, *task.mapped, rows.kind, task.file, task.position,
                               chunk);
      if (!appended.ok()) {
        chunk->DiscardPartialRow();
        if (appended.code() != StatusCode::kDataError) {
          task.error = std::move(appended);
          return;
        }
        task.bad.emplace_back(task.changes, decoder.MakeBadRecord(*task.table, *task.mapped,
                                                                  task.file, task.position,
                                                                  appended));
      }
      ++task.changes;
    }
  }

  std::unique_ptr<Batch> TakeChunk(size_t stream) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      std::vector<std::unique_ptr<Batch>>& spare = free_chunks_[stream];
      if (!spare.empty()) {
        std::unique_ptr<Batch> chunk = std::move(spare.back());
        spare.pop_back();
        return chunk;
      }
    }
    return std::make_unique<Batch>(tables_[stream]->schema, kChunkRows);
  }

  void RecycleChunks(DecodeTask& task) {
    const size_t stream = static_cast<size_t>(task.mapped->stream);
    for (std::unique_ptr<Batch>& chunk : task.chunks)
      chunk->Clear();
    std::lock_guard<std::mutex> lock(mutex_);
    std::vector<std::unique_ptr<Batch>>& spare = free_chunks_[stream];
    for (std::unique_ptr<Batch>& chunk : task.chunks) {
      if (spare.size() >= kSpareChunks)
        break;
      spare.push_back(std::move(chunk));
    }
    task.chunks.clear();
  }

  bool TaskDone(const DecodeTask& task) {
    std::lock_guard<std::mutex> lock(mutex_);
    return task.state == DecodeTask::State::kDone;
  }

  // Decodes `task` on the reader's thread when no decode thread has taken it; false when one
  // has.
  bool DecodeHere(const std::shared_ptr<DecodeTask>& task) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (task->state != DecodeTask::State::kQueued)
        return false;
      // Tasks are queued and taken in order: the oldest one not taken is the queue's first.
      auto queued = std::find(decode_queue_.begin(), decode_queue_.end(), task);
      if (queued == decode_queue_.end())
        return false;
      decode_queue_.erase(queued);
      task->state = DecodeTask::State::kRunning;
    }
    Decode(*task, decoder_);
    std::lock_guard<std::mutex> lock(mutex_);
    task->state = DecodeTask::State::kDone;
    return true;
  }

  std::optional<FetchedEvent> TakeFetched() {
    std::lock_guard<std::mutex> lock(mutex_);
    if (fetched_.empty())
      return std::nullopt;
    FetchedEvent event = std::move(fetched_.front());
    fetched_.pop_front();
    if (event.bytes)
      fetched_bytes_ -= event.bytes->size();
    fetch_room_.notify_one();
    return event;
  }

  // Waits until the next step's event is decoded, an event arrives while there is room to read
  // ahead, the reader is cancelled, or `deadline`.
  void WaitForProgress(std::chrono::steady_clock::time_point deadline) {
    const bool may_read = !read_failed_ && read_ahead_bytes_ < kReadAheadBytes &&
                          read_ahead_events_ < kReadAheadEvents;
    const DecodeTask* head =
        !steps_.empty() && steps_.front().task ? steps_.front().task.get() : nullptr;
    std::unique_lock<std::mutex> lock(mutex_);
    progress_.wait_until(lock, deadline, [&] {
      return cancelled_.load() || (may_read && !fetched_.empty()) ||
             (head != nullptr && head->state == DecodeTask::State::kDone);
    });
  }

  // The fetch thread: reads the stream ahead into fetched_, up to kReadAheadBytes.
  void FetchEvents() {
    while (true) {
      {
        std::unique_lock<std::mutex> lock(mutex_);
        fetch_room_.wait(lock, [&] { return stopping_ || fetched_bytes_ < kReadAheadBytes; });
        if (stopping_)
          return;
      }
      Result<std::string_view> event = stream_->Next();
      FetchedEvent fetched;
      if (event.ok())
        fetched.bytes = std::make_unique<std::string>(*event);
      else
        fetched.error = event.status();
      std::lock_guard<std::mutex> lock(mutex_);
      if (fetched.bytes)
        fetched_bytes_ += fetched.bytes->size();
      fetched_.push_back(std::move(fetched));
      progress_.notify_all();
      if (!event.ok())
        return;  // the stream is unusable after an error
    }
  }

  // A decode thread: decodes queued row events, oldest first.
  void DecodeEvents() {
    RowDecoder decoder(options_.zero_dates);
    std::unique_lock<std::mutex> lock(mutex_);
    while (true) {
      work_.wait(lock, [&] { return stopping_ || !decode_queue_.empty(); });
      if (stopping_)
        return;
      std::shared_ptr<DecodeTask> task = std::move(decode_queue_.front());
      decode_queue_.pop_front();
      task->state = DecodeTask::State::kRunning;
      lock.unlock();
      Decode(*task, decoder);
      lock.lock();
      task->state = DecodeTask::State::kDone;
      progress_.notify_all();
    }
  }

  void StopThreads() {
    if (!fetch_thread_.joinable() && decode_threads_.empty())
      return;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stopping_ = true;
    }
    if (stream_)
      stream_->Cancel();  // the fetch thread may be waiting for the server
    work_.notify_all();
    fetch_room_.notify_all();
    if (fetch_thread_.joinable())
      fetch_thread_.join();
    for (std::thread& thread : decode_threads_)
      thread.join();
    decode_threads_.clear();
  }

  // Handles one event: group boundaries, table maps, and row events (whose rows ReturnRows
  // hands out).
  Status Process(std::string_view bytes) {
    binlog::Event event;
    uint8_t type = bytes.size() > 4 ? static_cast<uint8_t>(bytes[4]) : 0;
    const bool description = type == binlog::kFormatDescriptionEvent;
    // FORMAT_DESCRIPTION carries its checksum algorithm itself, and always the 4 bytes.
    SLUICE_RETURN_IF_ERROR(binlog::ParseEvent(bytes, !description && format_.checksum, &event));
    const binlog::EventHeader& header = event.header;
    consumed_bytes_.fetch_add(header.length);
    caught_up_ = false;
    if (header.next_position != 0)
      last_position_ = header.next_position;
    switch (header.type) {
      case binlog::kFormatDescriptionEvent:
        return binlog::ParseFormatDescription(bytes, &format_);
      case binlog::kRotateEvent: {
        binlog::RotateEvent rotate;
        SLUICE_RETURN_IF_ERROR(binlog::ParseRotate(event, &rotate));
        current_file_.assign(rotate.file);
        last_position_ = rotate.position;
        if (!in_group_) {
          // Every group of the file before was complete: a resumed run may start in the new one.
          position_.done = {current_file_, rotate.position};
        }
        return Status::OK();
      }
      case binlog::kHeartbeatEvent: {
        // The server had nothing more to send: everything written so far has been read.
        caught_up_ = true;
        std::lock_guard<std::mutex> lock(lag_mutex_);
        behind_known_ = true;
        behind_at_mark_ = 0;
        consumed_at_mark_ = consumed_bytes_.load();
        last_lag_check_ = std::chrono::steady_clock::now();
        return Status::OK();
      }
      case binlog::kMariaGtidEvent: {
        binlog::GtidEvent gtid;
        SLUICE_RETURN_IF_ERROR(binlog::ParseMariaGtid(event, &gtid));
        StartGroup(header, gtid.gtid);
        // A group that is no standalone statement ends with its XID or COMMIT.
        group_has_begin_ = !gtid.standalone;
        return Status::OK();
      }
      case binlog::kGtidEvent:
      case binlog::kAnonymousGtidEvent: {
        binlog::GtidEvent gtid;
        SLUICE_RETURN_IF_ERROR(binlog::ParseMysqlGtid(event, &gtid));
        StartGroup(header, gtid.gtid);
        group_has_begin_ = false;  // until its BEGIN: a DDL statement is a group of its own
        return Status::OK();
      }
      case binlog::kQueryEvent:
        return OnQuery(event);
      case binlog::kMariaQueryCompressedEvent:
        return Unsupported(
            "the binlog holds compressed statements (log_bin_compress = ON): change data "
            "capture does not decompress them yet; set log_bin_compress = OFF");
      case binlog::kXidEvent:
      case binlog::kXaPrepareEvent:
        // An XA transaction's changes are logged at XA PREPARE, in a group of their own; its XA
        // COMMIT or XA ROLLBACK comes later, in another.
        EndGroup(header);
        return Status::OK();
      case binlog::kTableMapEvent:
        return OnTableMap(event);
      default:
        if (binlog::IsRowsEvent(header.type))
          return OnRows(event);
        return Status::OK();  // ANNOTATE_ROWS, GTID_LIST, BINLOG_CHECKPOINT, ...
    }
  }

  void StartGroup(const binlog::EventHeader& header, std::string gtid) {
    in_group_ = true;
    group_start_ = {current_file_, header.position()};
    group_gtid_ = std::move(gtid);
    ++group_serial_;
    group_events_ = 0;
    if (!pipelined_) {
      // The reader returns this group's changes as it reads them (in parallel: Adopt()).
      event_rows_done_ = 0;
      returned_in_group_ = 0;
    }
    resuming_group_ = !resume_txn_.file.empty() && group_start_ == resume_txn_;
  }

  void EndGroup(const binlog::EventHeader& header) {
    in_group_ = false;
    group_has_begin_ = false;
    position_.done = {current_file_, header.next_position};
    if (!group_gtid_.empty())
      position_.gtid = group_gtid_;
    if (resuming_group_) {
      resuming_group_ = false;
      resume_txn_ = {};  // resumed past it: nothing more to skip
    }
    if (header.timestamp != 0)
      last_event_time_us_.store(static_cast<int64_t>(header.timestamp) * 1'000'000);
    // Every statement maps its tables again, so the maps may go between groups: new table ids
    // (a table reopened, DDL) would otherwise pile up for as long as the job runs.
    if (maps_.size() > kMaxTableMaps)
      maps_.clear();
  }

  Status OnQuery(const binlog::Event& event) {
    binlog::QueryEvent query;
    SLUICE_RETURN_IF_ERROR(binlog::ParseQuery(event, format_, &query));
    std::string word;
    switch (Classify(query.statement, &word)) {
      case Statement::kBegin:
        if (!in_group_)
          StartGroup(event.header, "");
        group_has_begin_ = true;
        return Status::OK();
      case Statement::kCommit:
      case Statement::kRollback:
        EndGroup(event.header);
        return Status::OK();
      case Statement::kOther:
        break;
    }
    if (word == "TRUNCATE")
      WarnTruncate(query);
    if (ChangesColumns(word))
      SLUICE_RETURN_IF_ERROR(FollowDdl(query));
    if (in_group_ && group_has_begin_)
      return Status::OK();  // a statement inside a transaction (SAVEPOINT, ...)
    // A statement on its own (DDL) is a group of its own.
    if (!in_group_)
      StartGroup(event.header, "");
    EndGroup(event.header);
    return Status::OK();
  }

  void WarnTruncate(const binlog::QueryEvent& query) {
    std::string statement(query.statement.substr(0, 200));
    for (size_t i = 0; i < tables_.size(); ++i) {
      const BinlogTable& table = *tables_[i];
      bool same_database = query.database == table.database ||
                           statement.find(table.database) != std::string::npos;
      if (same_database && statement.find(table.name) != std::string::npos &&
          warned_truncate_.insert(static_cast<int>(i)).second) {
        log::Warn(component(),
                  "'{}' at binlog '{}' position {} is not applied to the target: a changelog "
                  "carries row changes only (delete the rows instead, or load the table again "
                  "and rerun the job with --fresh)",
                  statement, current_file_, last_position_);
      }
    }
  }

  Status OnTableMap(const binlog::Event& event) {
    SLUICE_RETURN_IF_ERROR(binlog::ParseTableMap(event, format_, &parsed_map_));
    auto existing = maps_.find(parsed_map_.table_id);
    if (existing != maps_.end() && SameTable(existing->second->map, parsed_map_))
      return Status::OK();  // every statement maps its tables again: checked already
    MappedTable entry;
    entry.map = parsed_map_;
    auto found = by_name_.find(entry.map.database + "." + entry.map.table);
    if (found != by_name_.end()) {
      entry.stream = found->second;
      SLUICE_RETURN_IF_ERROR(MapColumns(&entry));
    }
    const uint64_t table_id = entry.map.table_id;
    maps_[table_id] = std::make_shared<const MappedTable>(std::move(entry));
    return Status::OK();
  }

  static bool SameTable(const binlog::TableMapEvent& a, const binlog::TableMapEvent& b) {
    return a.database == b.database && a.table == b.table && a.names == b.names &&
           a.columns == b.columns;
  }

  // Finds each stream column among the map's by name: the names the map carries
  // (binlog_row_metadata FULL), else those of the table's columns known at this position (the
  // map's count and types checked against them). A column the map adds is left out, one it
  // lacks is NULL (a key column stops the job), one whose values no longer read or convert as
  // the stream's (BinlogValueConverts) stops the job.
  Status MapColumns(MappedTable* mapped) {
    const size_t stream = static_cast<size_t>(mapped->stream);
    const BinlogTable& table = *tables_[stream];
    const binlog::TableMapEvent& map = mapped->map;
    std::vector<std::string> names = map.names;
    if (names.empty()) {
      if (!save_layouts_) {
        // The server logs no names: every position from here on carries the tables' columns.
        save_layouts_ = true;
        UpdateSavedLayouts();
      }
      SLUICE_RETURN_IF_ERROR(CheckLayoutFits(table, layouts_[stream], map));
      for (const SourceColumn& column : layouts_[stream])
        names.push_back(column.info.name);
    }
    mapped->binlog_column.assign(table.columns.size(), -1);
    for (size_t c = 0; c < table.columns.size(); ++c) {
      const std::string& name = table.columns[c].info.name;
      auto at = std::find_if(names.begin(), names.end(), [&](const std::string& logged) {
        return EqualsIgnoringAsciiCase(logged, name);
      });
      if (at != names.end())
        mapped->binlog_column[c] = static_cast<int>(at - names.begin());
    }
    for (int key : table.key) {
      if (mapped->binlog_column[static_cast<size_t>(key)] < 0) {
        return Unsupported(fmt::format(
            "table {}: its primary key column '{}' is gone from the rows the binlog logs at '{}' "
            "position {} (dropped or renamed since the job started): changes cannot be applied "
            "by key without it; load the table again and rerun the job with --fresh",
            table.display, table.columns[static_cast<size_t>(key)].info.name, current_file_,
            last_position_));
      }
    }
    for (int selected : table.selected) {
      const SourceColumn& column = table.columns[static_cast<size_t>(selected)];
      const int logged = mapped->binlog_column[static_cast<size_t>(selected)];
      if (logged < 0) {
        WarnColumnOnce(table, column.info.name, "gone",
                       "is not in the rows the binlog logs (the table changed: the column was "
                       "added after them, or dropped or renamed since the job started): it "
                       "arrives as NULL in them");
        continue;
      }
      const binlog::ColumnType& type = map.columns[static_cast<size_t>(logged)];
      if (!BinlogValueConverts(type, column)) {
        return Unsupported(fmt::format(
            "table {}: column '{}' changed its type: the binlog at '{}' position {} logs it as "
            "{}, the job reads it as {} (the types of a stream are fixed when the job starts, "
            "and these values are not converted). Load the table again and rerun the job with "
            "--fresh",
            table.display, column.info.name, current_file_, last_position_,
            LoggedTypeName(type, mapped->map, static_cast<size_t>(logged), stream),
            column.info.column_type));
      }
    }
    if (options_.columns.empty()) {
      // A job that asks for particular columns would not capture a new one anyway.
      for (const std::string& name : names) {
        bool known = std::any_of(table.columns.begin(), table.columns.end(),
                                 [&](const SourceColumn& column) {
                                   return EqualsIgnoringAsciiCase(column.info.name, name);
                                 });
        if (!known) {
          WarnColumnOnce(table, name, "added",
                         "is not among the columns the job read when it started (the table "
                         "changed): it is not captured, a stream's columns are fixed while the "
                         "job runs; a restart of the job captures the columns the table has then");
        }
      }
    }
    return Status::OK();
  }

  // A column's logged type for messages: the table's type at this position when the map has
  // no names (the catalog's spelling, "varchar(20)"), else the binlog's ("varchar").
  std::string LoggedTypeName(const binlog::ColumnType& type, const binlog::TableMapEvent& map,
                             size_t logged, size_t stream) const {
    if (map.names.empty() && logged < layouts_[stream].size())
      return layouts_[stream][logged].info.column_type;
    return binlog::FieldTypeName(type.type);
  }

  void WarnColumnOnce(const BinlogTable& table, const std::string& column, std::string_view what,
                      std::string_view sentence) {
    if (!warned_columns_.insert(fmt::format("{}\n{}\n{}", table.display, column, what)).second)
      return;
    log::Warn(component(), "table {}: column '{}' at binlog '{}' position {} {}", table.display,
              column, current_file_, last_position_, sentence);
  }

  // A map without names is read against the table's columns known at its position: it must log
  // as many columns, each of a type that fits. It does not when the catalog, read at a DDL
  // statement or at Open, is already ahead of the binlog.
  Status CheckLayoutFits(const BinlogTable& table, const std::vector<SourceColumn>& layout,
                         const binlog::TableMapEvent& map) const {
    bool fits = layout.size() == map.columns.size();
    for (size_t c = 0; fits && c < layout.size(); ++c)
      fits = BinlogTypeFits(map.columns[c], layout[c]);
    if (fits)
      return Status::OK();
    std::string logged;
    for (const binlog::ColumnType& type : map.columns) {
      if (!logged.empty())
        logged += ", ";
      logged += binlog::FieldTypeName(type.type);
    }
    return Unsupported(fmt::format(
        "table {}: the binlog at '{}' position {} logs its rows without column names "
        "(binlog_row_metadata is not FULL) as ({}), which does not fit its columns known at that "
        "position ({}): the table changed again since (the catalog is ahead of the binlog). "
        "Decoding this binlog position needs binlog_row_metadata = FULL on the server when the "
        "changes are logged: set it, load the table again and rerun the job with --fresh",
        table.display, current_file_, last_position_, logged,
        layout.empty() ? std::string("the table is gone from the catalog")
                       : DescribeLayout(layout)));
  }

  // At a DDL statement naming a captured table: the table's columns from here on are what the
  // catalog says now (read again), which the next map of the table must fit.
  Status FollowDdl(const binlog::QueryEvent& query) {
    std::vector<std::pair<std::string, std::string>> named =
        NamedTables(query.database, query.statement);
    // A connection per statement: DDL is rare, and one kept idle would time out in between.
    std::unique_ptr<Connection> catalog;
    for (size_t i = 0; i < tables_.size(); ++i) {
      const BinlogTable& table = *tables_[i];
      bool touched = std::any_of(named.begin(), named.end(), [&](const auto& name) {
        // Case-blind: a statement spells names as its author typed them.
        return EqualsIgnoringAsciiCase(name.first, table.database) &&
               EqualsIgnoringAsciiCase(name.second, table.name);
      });
      if (!touched)
        continue;
      if (!catalog) {
        SLUICE_ASSIGN_OR_RETURN(Connection opened, Connection::Open(options_.connection));
        catalog = std::make_unique<Connection>(std::move(opened));
      }
      Result<TableColumns> described =
          DescribeColumns(*catalog, table.database, table.name, options_.zero_dates,
                          options_.geometry, component());
      if (!described.ok()) {
        return described.status().WithContext(
            fmt::format("following '{}' at binlog '{}' position {}",
                        query.statement.substr(0, 200), current_file_, last_position_));
      }
      if (described->columns.empty()) {
        log::Info(component(), "table {} is gone from the catalog at binlog '{}' position {}",
                  table.display, current_file_, last_position_);
      } else if (!SameColumns(described->columns, layouts_[i])) {
        log::Info(component(), "table {} changed at binlog '{}' position {}: its columns from "
                  "here on are ({})",
                  table.display, current_file_, last_position_,
                  DescribeLayout(described->columns));
      }
      layouts_[i] = std::move(described->columns);
      // Maps read before the statement describe the old columns.
      for (auto it = maps_.begin(); it != maps_.end();) {
        if (it->second->stream == static_cast<int>(i))
          it = maps_.erase(it);
        else
          ++it;
      }
    }
    if (catalog)
      UpdateSavedLayouts();
    return Status::OK();
  }

  // The tables' columns at the reader's start: the position's where it has them, else Open's.
  Status LoadLayouts() {
    layouts_.clear();
    for (const auto& table : tables_) {
      if (!position_.columns.is_object() || !position_.columns.contains(table->display)) {
        layouts_.push_back(table->columns);
        continue;
      }
      std::vector<SourceColumn> columns;
      try {
        for (const nlohmann::json& entry : position_.columns.at(table->display)) {
          ColumnInfo info;
          const std::string type = entry.at(1).get<std::string>();
          std::optional<ColumnInfo> parsed = ParseColumnType(type);
          if (parsed)
            info = std::move(*parsed);
          else
            info.data_type = type.substr(0, type.find('('));
          info.name = entry.at(0).get<std::string>();
          info.column_type = type;
          std::string warning;  // an unknown type reads as text, as Open said when it met it
          columns.push_back(
              MapSourceColumn(info, options_.zero_dates, options_.geometry, &warning));
        }
      } catch (const std::exception& error) {
        return InvalidConfig(fmt::format("binlog position: malformed columns of {}: {}",
                                         table->display, error.what()));
      }
      layouts_.push_back(std::move(columns));
    }
    position_.columns = nullptr;  // layouts_ holds them from here on
    UpdateSavedLayouts();
    return Status::OK();
  }

  // Whether the server logs column names (binlog_row_metadata = FULL, MySQL 8.0.1+ and MariaDB
  // 10.5+): when it does not, every position carries the tables' columns, so that a restart
  // after an ALTER made while stopped reads the changes before it with the columns they had.
  Status ReadRowMetadataSetting() {
    SLUICE_ASSIGN_OR_RETURN(Connection connection, Connection::Open(options_.connection));
    Result<std::optional<TextRow>> setting =
        connection.QueryRow("SELECT @@GLOBAL.binlog_row_metadata", "reading binlog_row_metadata");
    bool full = setting.ok() && *setting && !(*setting)->empty() && (**setting)[0] &&
                EqualsIgnoringAsciiCase(*(**setting)[0], "FULL");
    if (!full && !save_layouts_) {
      save_layouts_ = true;
      UpdateSavedLayouts();
    }
    return Status::OK();
  }

  // What Position() records of the tables' columns: those that differ from Open's, or all when
  // the server logs no names.
  void UpdateSavedLayouts() {
    nlohmann::json saved = nlohmann::json::object();
    for (size_t i = 0; i < tables_.size() && i < layouts_.size(); ++i) {
      if (save_layouts_ || !SameColumns(layouts_[i], tables_[i]->columns))
        saved[tables_[i]->display] = ColumnsToJson(layouts_[i]);
    }
    saved_layouts_ =
        saved.empty() ? nullptr : std::make_shared<const nlohmann::json>(std::move(saved));
  }

  Status OnRows(const binlog::Event& event) {
    binlog::RowsEvent rows;
    SLUICE_RETURN_IF_ERROR(binlog::ParseRowsEvent(event, format_, &rows));
    if (!in_group_) {
      // Row events outside any group (a server that logs neither GTID nor BEGIN): a group of
      // their own, ended by the statement's last event.
      StartGroup(event.header, "");
      group_has_begin_ = false;
    }
    auto found = maps_.find(rows.table_id);
    if (found == maps_.end()) {
      return Internal(fmt::format("binlog '{}' position {}: a row event for table id {} without "
                                  "its TABLE_MAP",
                                  current_file_, event.header.position(), rows.table_id));
    }
    const std::shared_ptr<const MappedTable>& mapped = found->second;
    // Row events of groups a resumed position covers were returned before.
    bool skip_event = resuming_group_ && group_events_ < resume_events_;
    if (mapped->stream < 0 || skip_event) {
      ++group_events_;
      return Status::OK();
    }
    // Rows of this event a resumed position covers: read past them.
    const uint64_t skip_rows =
        resuming_group_ && group_events_ == resume_events_ ? resume_rows_ : 0;
    if (pipelined_) {
      auto task = std::make_shared<DecodeTask>();
      task->bytes = std::move(owned_event_);  // `rows` views stay valid: the string stays put
      task->event = rows;
      task->mapped = mapped;
      task->table = tables_[static_cast<size_t>(mapped->stream)].get();
      task->file = current_file_;
      task->position = event.header.position();
      task->skip = skip_rows;
      Step step;
      SnapshotState(&step.state);
      step.task = task;
      steps_.push_back(std::move(step));
      task_pushed_ = true;
      ++group_events_;  // the reader counts it again as it returns the changes
      read_ahead_bytes_ += task->bytes->size();
      ++read_ahead_events_;
      std::lock_guard<std::mutex> lock(mutex_);
      decode_queue_.push_back(std::move(task));
      work_.notify_one();
      return Status::OK();
    }
    rows_ = PendingRows{rows, mapped, event.header.position(), 0};
    event_rows_done_ = 0;
    for (uint64_t i = 0; i < skip_rows && rows_->offset < rows_->event.rows.size(); ++i) {
      SLUICE_RETURN_IF_ERROR(decoder_.ReadImages(rows_->event, *mapped, &rows_->offset));
      ++event_rows_done_;
    }
    return Status::OK();
  }

  // Decoding on the reader's thread: appends the pending row event's changes to `batch` while
  // there is room. Returns true once the event is used up; false when the batch is full or the
  // next change belongs to another stream than the batch's.
  Result<bool> ReturnRows(Batch* batch) {
    PendingRows& pending = *rows_;
    const MappedTable& mapped = *pending.mapped;
    const int stream = mapped.stream;
    const BinlogTable& table = *tables_[static_cast<size_t>(stream)];
    const size_t room = pending.event.kind == binlog::RowsEvent::Kind::kUpdate ? 2 : 1;
    while (pending.offset < pending.event.rows.size()) {
      SLUICE_ASSIGN_OR_RETURN(bool fits, Fits(stream, room, *batch));
      if (!fits)
        return false;
      const size_t offset = pending.offset;
      SLUICE_RETURN_IF_ERROR(decoder_.ReadImages(pending.event, mapped, &pending.offset));
      Status appended = decoder_.AppendChange(table, mapped, pending.event.kind, current_file_,
                                              pending.position, batch);
      if (!appended.ok()) {
        batch->DiscardPartialRow();
        if (appended.code() != StatusCode::kDataError) {
          pending.offset = offset;
          return appended;
        }
        Status handled = context_->bad_records->Handle(
            decoder_.MakeBadRecord(table, mapped, current_file_, pending.position, appended));
        if (!handled.ok()) {
          pending.offset = offset;
          return handled;
        }
      } else {
        ++returned_in_group_;
      }
      ++event_rows_done_;
    }
    rows_.reset();
    ++group_events_;
    event_rows_done_ = 0;
    return true;
  }

  // Every few seconds while data flows, how far the server's binlog is ahead (SHOW BINARY LOGS
  // on a connection of its own); heartbeats say "caught up" in between.
  void MaybeMeasureLag() {
    auto now = std::chrono::steady_clock::now();
    {
      std::lock_guard<std::mutex> lock(lag_mutex_);
      if (now - last_lag_check_ < std::chrono::seconds(2))
        return;
      last_lag_check_ = now;
    }
    if (!lag_connection_) {
      Result<Connection> opened = Connection::Open(options_.connection);
      if (!opened.ok()) {
        log::Debug(component(), "Cannot measure the lag: {}", opened.status().message());
        return;
      }
      lag_connection_ = std::make_unique<Connection>(std::move(*opened));
    }
    Result<std::vector<TextRow>> logs =
        lag_connection_->Query("SHOW BINARY LOGS", "measuring the lag");
    if (!logs.ok()) {
      lag_connection_.reset();
      return;
    }
    uint64_t behind = 0;
    bool ours_seen = false;
    for (const TextRow& row : *logs) {
      if (row.size() < 2 || !row[0] || !row[1])
        continue;
      uint64_t size = std::stoull(*row[1]);
      if (*row[0] == current_file_) {
        ours_seen = true;
        behind += size > last_position_ ? size - last_position_ : 0;
      } else if (ours_seen) {
        behind += size;
      }
    }
    std::lock_guard<std::mutex> lock(lag_mutex_);
    behind_known_ = ours_seen;
    behind_at_mark_ = behind;
    consumed_at_mark_ = consumed_bytes_.load();
  }

  const MysqlSourceOptions& options_;
  const JobContext* context_;
  const uint32_t server_id_;
  std::vector<std::shared_ptr<const BinlogTable>> tables_;
  std::unordered_map<std::string, int> by_name_;  // "db.table" -> stream
  std::unique_ptr<BinlogStream> stream_;
  binlog::Format format_;
  std::unordered_map<uint64_t, std::shared_ptr<const MappedTable>> maps_;  // by table id
  binlog::TableMapEvent parsed_map_;
  std::chrono::milliseconds read_wait_{100};
  std::atomic<bool> cancelled_{false};

  // The event state machine (Process), on the reader's thread.
  BinlogPosition position_;
  Coordinates resume_txn_;        // the group a resumed position was inside, and
  const uint64_t resume_events_;  // how many of its row events and
  const uint64_t resume_rows_;    // rows of the next one were returned before
  std::string current_file_;
  uint64_t last_position_ = 0;  // the end of the last event read, in current_file_
  bool in_group_ = false;
  bool group_has_begin_ = false;
  bool resuming_group_ = false;
  Coordinates group_start_;
  uint64_t group_serial_ = 0;  // groups started
  std::string group_gtid_;
  uint64_t group_events_ = 0;      // row events of the group consumed (read ahead: read)
  bool caught_up_ = false;
  std::set<int> warned_truncate_;
  std::set<std::string> warned_columns_;  // "db.table\ncolumn\nwhat", warned once each
  /// Per captured table (parallel to tables_): its columns as the binlog logs them at the
  /// reader's position, which maps without names are read against; empty when the table is gone.
  std::vector<std::vector<SourceColumn>> layouts_;
  bool save_layouts_ = false;    // every position carries layouts_ (the server logs no names)
  /// What Position() records of layouts_; null when nothing.
  std::shared_ptr<const nlohmann::json> saved_layouts_;

  // Changes returned (both ways of decoding).
  uint64_t returned_in_group_ = 0;  // changes of the group returned
  int next_stream_ = 0;
  RowDecoder decoder_;  // the reader thread's

  // Decoding on the reader's thread (parallelism 1).
  uint64_t event_rows_done_ = 0;     // rows of the pending row event consumed
  std::optional<PendingRows> rows_;  // a row event whose rows are being returned

  // Decoding in parallel: the reader's side (its thread only).
  bool pipelined_ = false;
  std::deque<Step> steps_;   // what the state machine read ahead, in binlog order
  ReadState returned_;       // the state machine's position state after the steps returned
  uint64_t returned_rows_ = 0;  // rows of the row event being returned consumed
  std::unique_ptr<std::string> owned_event_;  // the event Process() is at
  bool task_pushed_ = false;  // Process() handed the event to the decoders
  bool read_failed_ = false;  // an error step is queued: nothing more is read
  size_t read_ahead_bytes_ = 0;   // of the row events in steps_
  size_t read_ahead_events_ = 0;  // row events in steps_
  // Decoding in parallel: shared with the fetch and decode threads.
  std::mutex mutex_;
  std::condition_variable progress_;    // an event fetched, a task decoded, a cancel
  std::condition_variable work_;        // a task queued, stopping
  std::condition_variable fetch_room_;  // room in fetched_, stopping
  bool stopping_ = false;                                  // guarded by mutex_
  std::deque<FetchedEvent> fetched_;                       // guarded by mutex_
  size_t fetched_bytes_ = 0;                               // guarded by mutex_
  std::deque<std::shared_ptr<DecodeTask>> decode_queue_;   // guarded by mutex_
  std::vector<std::vector<std::unique_ptr<Batch>>> free_chunks_;  // per stream; mutex_
  std::thread fetch_thread_;
  std::vector<std::thread> decode_threads_;

  mutable std::mutex lag_mutex_;
  bool behind_known_ = false;        // guarded by lag_mutex_
  uint64_t behind_at_mark_ = 0;      // guarded by lag_mutex_
  uint64_t consumed_at_mark_ = 0;    // guarded by lag_mutex_
  std::chrono::steady_clock::time_point last_lag_check_{};  // guarded by lag_mutex_
  std::atomic<uint64_t> consumed_bytes_{0};
  std::atomic<int64_t> last_event_time_us_{0};
  std::unique_ptr<Connection> lag_connection_;
};

}  // namespace

MysqlBinlogSource::MysqlBinlogSource(MysqlSourceOptions options, config::Options config)
    : options_(std::move(options)), config_(std::move(config)) {
  component_ = fmt::format("source:mysql:{}:cdc", options_.connection.database);
}

MysqlBinlogSource::~MysqlBinlogSource() = default;

Status MysqlBinlogSource::Open(const JobContext& context) {
  context_ = &context;
  server_id_ = options_.server_id != 0 ? options_.server_id : DefaultServerId(context.job_name);
  const ConnectionOptions& connection_options = options_.connection;
  SLUICE_ASSIGN_OR_RETURN(Connection connection, Connection::Open(connection_options));
  SLUICE_RETURN_IF_ERROR(CheckServer(connection));
  SLUICE_ASSIGN_OR_RETURN(std::vector<TableListing> listing,
                          ListTables(connection, connection_options.database));
  SLUICE_ASSIGN_OR_RETURN(std::vector<std::string> names,
                          SelectTables(listing, options_, connection_options));
  for (const std::string& name : names) {
    if (!FindTable(listing, name).base) {
      return InvalidConfig(fmt::format("{}: '{}.{}' is a view: change data capture reads the "
                                       "changes of tables only",
                                       connection_options.Describe(),
                                       connection_options.database, name));
    }
    SLUICE_RETURN_IF_ERROR(AddTable(connection, name));
  }
  SLUICE_ASSIGN_OR_RETURN(std::optional<BinlogCoordinates> coordinates,
                          ReadBinlogCoordinates(connection));
  if (!coordinates) {
    return Unsupported(fmt::format("{}: the server reports no binlog position (SHOW MASTER "
                                   "STATUS is empty): change data capture needs log_bin",
                                   connection_options.Describe()));
  }
  start_ = std::move(*coordinates);
  if (options_.start_from != "current")
    SLUICE_RETURN_IF_ERROR(ChooseStart(connection));
  return Status::OK();
}

Status MysqlBinlogSource::ChooseStart(Connection& connection) {
  SLUICE_ASSIGN_OR_RETURN(std::vector<TextRow> logs,
                          connection.Query("SHOW BINARY LOGS", "listing the binlogs"));
  std::vector<std::string> files;
  for (const TextRow& row : logs) {
    if (!row.empty() && row[0])
      files.push_back(*row[0]);
  }
  if (files.empty())
    return Unsupported(options_.connection.Describe() + ": SHOW BINARY LOGS lists no binlog");
  // A binlog's first event starts after its 4-byte magic number.
  constexpr uint64_t kFirstEvent = 4;
  if (options_.start_from == "earliest") {
    start_ = BinlogCoordinates{files.front(), kFirstEvent, ""};
    return Status::OK();
  }
  const size_t colon = options_.start_from.rfind(':');
  std::string file = options_.start_from.substr(0, colon);
  uint64_t position = std::stoull(options_.start_from.substr(colon + 1));
  if (std::find(files.begin(), files.end(), file) == files.end()) {
    return config_.ErrorAt(
        "start_from",
        fmt::format("start_from '{}': the server keeps no binlog '{}' (SHOW BINARY LOGS lists "
                    "'{}' to '{}'; an older one was purged)",
                    options_.start_from, file, files.front(), files.back()));
  }
  start_ = BinlogCoordinates{std::move(file), std::max(position, kFirstEvent), ""};
  return Status::OK();
}

Status MysqlBinlogSource::CheckServer(Connection& connection) {
  const ConnectionOptions& options = options_.connection;
  if (connection.flavor() == ServerFlavor::kTiDb) {
    return Unsupported(fmt::format("{}: TiDB has no binary log to read; its changes come "
                                   "through TiCDC",
                                   options.Describe()));
  }
  SLUICE_ASSIGN_OR_RETURN(
      std::optional<TextRow> settings,
      connection.QueryRow("SELECT @@log_bin, @@binlog_format, @@binlog_row_image, @@server_id",
                          "reading the binlog settings"));
  auto setting = [&](size_t i) {
    return settings && i < settings->size() && (*settings)[i] ? *(*settings)[i] : std::string();
  };
  std::string needed;
  if (setting(0) != "1")
    needed = "log_bin is off (start the server with --log-bin)";
  else if (setting(1) != "ROW")
    needed = fmt::format("binlog_format is {} (set it to ROW)", setting(1));
  else if (setting(2) != "FULL")
    needed = fmt::format("binlog_row_image is {} (set it to FULL)", setting(2));
  if (!needed.empty()) {
    return Unsupported(fmt::format("{}: change data capture reads full row images from the "
                                   "binary log, but {}",
                                   options.Describe(), needed));
  }
  if (setting(3) == std::to_string(server_id_)) {
    return config_.ErrorAt(
        "server_id", fmt::format("server_id {} is the server's own: give the job another one",
                                 server_id_));
  }
  return Status::OK();
}

Status MysqlBinlogSource::AddTable(Connection& connection, const std::string& name) {
  const std::string& database = options_.connection.database;
  auto table = std::make_shared<BinlogTable>();
  table->database = database;
  table->name = name;
  table->display = database + "." + name;
  SLUICE_ASSIGN_OR_RETURN(TableColumns described,
                          DescribeColumns(connection, database, name, options_.zero_dates,
                                          options_.geometry, component_));
  if (described.key.empty() || !described.key_is_primary) {
    return InvalidConfig(fmt::format(
        "{}: table {} has no primary key: change data capture applies changes by key (add a "
        "primary key)",
        options_.connection.Describe(), table->display));
  }
  for (const SourceColumn& column : described.columns) {
    std::string refusal = BinlogReadRefusal(column);
    if (!refusal.empty())
      return Unsupported(fmt::format("{}: table {}: {}", options_.connection.Describe(),
                                     table->display, refusal));
  }
  SLUICE_ASSIGN_OR_RETURN(table->selected,
                          SelectColumns(described, options_.columns, config_, table->display));
  std::vector<int> primary_key;
  std::vector<Field> key_fields;
  for (int index : described.key) {
    table->key.push_back(index);
    key_fields.push_back(
        SourceField(described.columns[static_cast<size_t>(index)], ZeroDates::kNull));
    auto found = std::find(table->selected.begin(), table->selected.end(), index);
    if (found == table->selected.end()) {
      return config_.ErrorAt(
          "columns",
          fmt::format("change data capture of '{}' needs its primary key column '{}' among the "
                      "columns",
                      table->display,
                      described.columns[static_cast<size_t>(index)].info.name));
    }
    primary_key.push_back(static_cast<int>(found - table->selected.begin()));
  }
  std::vector<Field> fields;
  for (int index : table->selected) {
    fields.push_back(
        SourceField(described.columns[static_cast<size_t>(index)], options_.zero_dates));
  }
  table->key_schema = std::make_shared<const Schema>(std::move(key_fields));
  table->columns = std::move(described.columns);
  table->schema = std::make_shared<const Schema>(std::move(fields), std::move(primary_key));
  StreamInfo stream;
  stream.name = name;
  stream.schema = table->schema;
  stream.changelog = true;
  streams_.push_back(std::move(stream));
  tables_.push_back(std::move(table));
  return Status::OK();
}

Result<std::unique_ptr<SplitEnumerator>> MysqlBinlogSource::CreateEnumerator() {
  Split split;
  split.id = std::string(kBinlogSplitPrefix) + options_.connection.database;
  split.stream = 0;
  split.payload = nlohmann::json{{"file", start_.file}, {"pos", start_.position}}.dump();
  std::vector<Split> splits;
  splits.push_back(std::move(split));
  return std::unique_ptr<SplitEnumerator>(new SplitQueue(std::move(splits)));
}

Result<std::unique_ptr<SplitReader>> MysqlBinlogSource::CreateReader(const Split& split,
                                                                     const std::string& position) {
  SLUICE_ASSIGN_OR_RETURN(BinlogPosition parsed, BinlogPosition::Parse(position));
  if (position.empty()) {
    SLUICE_ASSIGN_OR_RETURN(parsed.done, ParsePayload(split.payload));
  }
  auto reader =
      std::make_unique<BinlogReader>(options_, context_, server_id_, tables_, std::move(parsed));
  SLUICE_RETURN_IF_ERROR(reader->Start());
  return std::unique_ptr<SplitReader>(std::move(reader));
}

void MysqlBinlogSource::Describe(CheckReport* report) const {
  report->Note(fmt::format("mysql: change data capture from the binary log as replica server id "
                           "{}; a first run starts at binlog '{}' position {}{}",
                           server_id_, start_.file, start_.position,
                           start_.gtid.empty() ? "" : fmt::format(" (GTID '{}')", start_.gtid)));
  for (const auto& table : tables_) {
    report->Note(fmt::format("mysql table '{}': {} of {} columns captured", table->display,
                             table->selected.size(), table->columns.size()));
  }
}

}  // namespace sluice::connectors::mysql
