// RedisReplicateSource (see redis_replicate_source.h).
#include "connectors/redis/redis_replicate_source.h"

#include <fmt/core.h>
#include <fnmatch.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "connectors/redis/redis_client.h"
#include "connectors/redis/redis_rdb.h"
#include "connectors/redis/redis_replication.h"
#include "connectors/split_queue.h"
#include "core/failpoint.h"
#include "core/logging.h"
#include "core/value_text.h"
#include "formats/jsonl/json_text.h"

namespace sluice::connectors::redis {

namespace {

using json = nlohmann::json;
using Clock = std::chrono::steady_clock;

constexpr std::string_view kComponent = "redis";
constexpr size_t kQueueBytes = 16u << 20;
constexpr size_t kChunkRows = 1024;
constexpr size_t kChunkBytes = 1u << 20;
constexpr int kReconnectTries = 10;

// Where a reader stands: the replication id and the offset whose rows were all returned, plus
// the rows of the next command returned already; or inside a full sync.
struct ReplicationPosition {
  std::string replid;   // empty: never synced
  int64_t offset = 0;
  int64_t skip = 0;
  bool in_sync = false;  // rows of a full sync were returned, not its end
  bool done = false;     // stop_after_sync: the sync is complete
  // The database the stream's commands apply to at `offset`: a SELECT sent before it is not
  // sent again (a replica passes its primary's stream on as it is).
  int64_t db = 0;
};

Result<ReplicationPosition> ParsePosition(const std::string& text) {
  ReplicationPosition position;
  if (text.empty())
    return position;
  json document = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (document.is_discarded() || !document.is_object() || !document.contains("replid"))
    return Internal(fmt::format("redis source: bad replication position '{}'", text));
  position.replid = document.value("replid", "");
  position.offset = document.value("offset", int64_t{0});
  position.skip = document.value("skip", int64_t{0});
  position.in_sync = document.value("in_sync", false);
  position.done = document.value("done", false);
  position.db = document.value("db", int64_t{0});
  return position;
}

std::string PositionText(const ReplicationPosition& position) {
  json document = {{"replid", position.replid}, {"offset", position.offset}};
  if (position.skip > 0)
    document["skip"] = position.skip;
  if (position.in_sync)
    document["in_sync"] = true;
  if (position.done)
    document["done"] = true;
  if (position.db != 0)
    document["db"] = position.db;
  return document.dump();
}

// One row of the change log, as the fetch thread made it.
struct ChangeRow {
  int64_t offset = 0;
  int64_t index = 0;
  std::string_view op;  // static text
  int64_t db = 0;
  std::optional<std::string> key;
  std::string_view type;  // static text; empty: NULL
  std::optional<std::string> field;
  std::optional<std::string> value;
  std::optional<double> score;
  std::optional<int64_t> expire_at_ms;
  // The position once this row is returned.
  int64_t resume_offset = 0;
  int64_t resume_skip = 0;
  bool in_sync = false;

  size_t bytes() const {
    return 96 + (key ? key->size() : 0) + (field ? field->size() : 0) +
           (value ? value->size() : 0);
  }
};

// What the fetch thread hands over: rows, then the position after them (which may be past the
// last row: commands without rows move it too); or the end; or an error.
struct Chunk {
  std::string replid;
  std::vector<ChangeRow> rows;
  ReplicationPosition end;
  size_t bytes = 0;
  bool finished = false;
  Status error;
};

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string Lower(std::string_view text) {
  std::string out(text);
  for (char& c : out)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// Interned op names: rows point at them.
std::string_view InternOp(const std::string& name) {
  static std::mutex mutex;
  static std::deque<std::string> names;
  std::lock_guard<std::mutex> lock(mutex);
  for (const std::string& known : names) {
    if (known == name)
      return known;
  }
  names.push_back(name);
  return names.back();
}

// The data type a command works on, from its name; empty when it is none or many.
std::string_view FamilyOf(std::string_view command) {
  static const std::pair<std::string_view, std::string_view> kExact[] = {
      {"append", "string"}, {"incr", "string"},      {"incrby", "string"},
      {"decr", "string"},   {"decrby", "string"},    {"incrbyfloat", "string"},
      {"setrange", "string"}, {"setbit", "string"},  {"bitop", "string"},
      {"bitfield", "string"}, {"getex", "string"},   {"getdel", "string"},
      {"rpush", "list"},    {"rpushx", "list"},      {"rpop", "list"},
      {"rpoplpush", "list"}, {"brpop", "list"},      {"brpoplpush", "list"},
      {"sadd", "set"},      {"srem", "set"},         {"smove", "set"},
      {"spop", "set"},      {"sinterstore", "set"},  {"sunionstore", "set"},
      {"sdiffstore", "set"}, {"pfadd", "string"},    {"pfmerge", "string"},
  };
  for (const auto& [name, family] : kExact) {
    if (command == name)
      return family;
  }
  if (command.starts_with("h"))
    return "hash";
  if (command.starts_with("l") || command.starts_with("bl"))
    return "list";
  if (command.starts_with("z") || command.starts_with("bz") || command.starts_with("geo"))
    return "zset";
  if (command.starts_with("x"))
    return "stream";
  return {};
}

// The JSON array of `args` from `first` on.
std::string ArgsJson(const std::vector<std::string>& args, size_t first) {
  std::string out = "[";
  for (size_t i = first; i < args.size(); ++i) {
    if (i > first)
      out += ',';
    formats::AppendJsonString(args[i], &out);
  }
  out += ']';
  return out;
}

std::optional<int64_t> ParseInt(const std::string& text) {
  char* end = nullptr;
  errno = 0;
  long long value = std::strtoll(text.c_str(), &end, 10);
  if (text.empty() || *end != '\0' || errno != 0)
    return std::nullopt;
  return value;
}

// A score as JSON: a number, or its text for inf/-inf/nan (which JSON cannot spell).
void AppendScoreJson(double score, std::string* out) {
  if (std::isfinite(score)) {
    AppendDouble(score, out);
  } else {
    formats::AppendJsonString(std::isnan(score) ? "nan" : score > 0 ? "inf" : "-inf", out);
  }
}

class ReplicateReader;

// Turns a full sync's keys into rows (one per key with its value as JSON, or one per element),
// filtered.
class SyncRows final : public RdbVisitor {
 public:
  SyncRows(ReplicateReader* reader, const RedisSourceOptions& options)
      : reader_(reader), options_(options) {}

  Status OnKeyBegin(const RdbKey& key) override;
  Status OnString(std::string_view value) override;
  Status OnElement(const RdbElement& element) override;
  Status OnKeyEnd() override;
  Status OnAux(std::string_view name, std::string_view value) override;

 private:
  Status EmitJson();

  ReplicateReader* reader_;
  const RedisSourceOptions& options_;
  bool wanted_ = false;
  RdbKey key_;
  std::string key_text_;
  bool oversized_ = false;
  uint64_t elements_ = 0;
  size_t value_bytes_ = 0;
  std::vector<std::pair<std::string, std::string>> pairs_;  // JSON layout: member, value
  std::vector<std::pair<std::string, double>> scored_;      // JSON layout: sorted sets
};

class ReplicateReader final : public SplitReader {
 public:
  ReplicateReader(const RedisSourceOptions& options, const JobContext* context,
                  ReplicationPosition position)
      : options_(options), context_(context), position_(std::move(position)),
        fetch_position_(position_), chunk_replid_(position_.replid), chunk_end_(position_) {
    const bool binary = options_.binary;
    std::vector<Field> fields = {
        {"offset", DataType::Int64(), false}, {"index", DataType::Int64(), false},
        {"op", DataType::String(), false},    {"db", DataType::Int64(), false},
        {"key", binary ? DataType::Bytes() : DataType::String(), true},
        {"type", DataType::String(), true},
    };
    if (options_.element_rows)
      fields.push_back({"field", binary ? DataType::Bytes() : DataType::String(), true});
    fields.push_back({"value", binary ? DataType::Bytes() : DataType::String(), true});
    if (options_.element_rows)
      fields.push_back({"score", DataType::Float64(), true});
    fields.push_back({"expire_at_ms", DataType::Int64(), true});
    schema_ = std::make_shared<const Schema>(std::move(fields));
  }

  ~ReplicateReader() override { Stop(); }

  static SchemaPtr SchemaOf(const RedisSourceOptions& options) {
    ReplicateReader probe(options, nullptr, {});
    return probe.schema_;
  }

  void Start() {
    if (position_.done)
      return;
    fetcher_ = std::thread([this] { Run(); });
  }

  Result<bool> ReadBatch(Batch* batch) override {
    if (position_.done && fetcher_.get_id() == std::thread::id())
      return false;
    size_t appended = 0;
    const Clock::time_point deadline = Clock::now() + read_wait_;
    while (!batch->full() && batch->ByteSize() < context_->batch_bytes) {
      if (current_.has_value() && next_row_ < current_->rows.size()) {
        SLUICE_ASSIGN_OR_RETURN(bool kept, AppendRow(current_->rows[next_row_], batch));
        const ChangeRow& row = current_->rows[next_row_];
        {
          std::lock_guard<std::mutex> lock(position_mutex_);
          position_.replid = current_->replid;
          position_.offset = row.resume_offset;
          position_.skip = row.resume_skip;
          position_.in_sync = row.in_sync;
          position_.db = row.db;
        }
        ++next_row_;
        appended += kept ? 1 : 0;
        continue;
      }
      if (current_.has_value()) {
        std::lock_guard<std::mutex> lock(position_mutex_);
        position_ = current_->end;
        current_.reset();
      }
      if (finished_)
        break;
      std::unique_lock<std::mutex> lock(queue_mutex_);
      if (appended > 0) {
        if (queue_.empty())
          break;
      } else {
        queue_ready_.wait_until(lock, deadline, [&] { return !queue_.empty() || stopping_; });
        if (queue_.empty())
          break;
      }
      Chunk chunk = std::move(queue_.front());
      queue_.pop_front();
      queued_bytes_ -= chunk.bytes;
      lock.unlock();
      queue_space_.notify_all();
      if (!chunk.error.ok()) {
        if (appended > 0) {
          std::lock_guard<std::mutex> again(queue_mutex_);
          queue_.push_front(std::move(chunk));
          break;
        }
        return chunk.error;
      }
      if (chunk.finished)
        finished_ = true;
      current_ = std::move(chunk);
      next_row_ = 0;
    }
    if (context_->cancelled->load(std::memory_order_relaxed) && appended == 0)
      return Cancelled("redis source: the job is stopping");
    return appended > 0 || !finished_ || (current_.has_value());
  }

  std::string Position() const override {
    std::lock_guard<std::mutex> lock(position_mutex_);
    return PositionText(position_);
  }

  double Progress() const override {
    const uint64_t total = payload_bytes_.load();
    if (total == 0)
      return -1;
    return std::min(1.0, static_cast<double>(rdb_bytes_.load()) / total);
  }

  void SetReadWait(std::chrono::milliseconds wait) override { read_wait_ = wait; }

  // Bytes of the stream between the rows returned and the server's offset as last measured.
  ReadLag Lag() const override {
    ReadLag lag;
    const int64_t head = head_offset_.load();
    if (head < 0)
      return lag;
    std::lock_guard<std::mutex> lock(position_mutex_);
    if (!position_.in_sync && !position_.replid.empty())
      lag.bytes = static_cast<uint64_t>(std::max<int64_t>(0, head - position_.offset));
    return lag;
  }

  void Cancel() override { Stop(); }

  // The fetch thread's side, for SyncRows.
  Status EmitSyncRow(ChangeRow row) {
    row.offset = sync_offset_;
    row.index = sync_rows_++;
    row.resume_offset = sync_offset_;
    row.resume_skip = sync_rows_;  // inside a sync: its rows returned
    row.in_sync = true;
    return Emit(std::move(row));
  }
  bool KeyWanted(int db, std::string_view key, std::string_view type) const {
    if (!options_.dbs.empty() &&
        std::find(options_.dbs.begin(), options_.dbs.end(), db) == options_.dbs.end()) {
      return false;
    }
    if (key.empty())
      return true;  // flushdb, flushall, swapdb: every key
    if (key.starts_with("sluice:run:") || key.starts_with("sluice:progress:") ||
        key.starts_with("sluice:fence:"))
      return false;
    if (!type.empty() && !options_.types.empty() &&
        std::find(options_.types.begin(), options_.types.end(), type) == options_.types.end()) {
      return false;
    }
    if (options_.keys != "*") {
      std::string text(key);
      if (text.find('\0') != std::string::npos ||
          ::fnmatch(options_.keys.c_str(), text.c_str(), 0) != 0) {
        return false;
      }
    }
    return true;
  }
  const JobContext* context() const { return context_; }
  void set_stream_db(int64_t db) { stream_db_ = db; }

 private:
  void Stop() {
    {
      std::lock_guard<std::mutex> lock(queue_mutex_);
      stopping_ = true;
      if (link_ != nullptr)
        link_->Cancel();
    }
    queue_ready_.notify_all();
    queue_space_.notify_all();
    if (fetcher_.joinable())
      fetcher_.join();
  }

  bool stopping() {
    std::lock_guard<std::mutex> lock(queue_mutex_);
    return stopping_;
  }

  // ---- the reader's thread ----

  // Appends `row`; false when it went to the errors policy (a key that is not UTF-8).
  Result<bool> AppendRow(const ChangeRow& row, Batch* batch) {
    if (!options_.binary) {
      for (const std::optional<std::string>* text : {&row.key, &row.field, &row.value}) {
        if (text->has_value() && !IsValidUtf8(**text)) {
          BadRecord record;
          record.stream = options_.stream;
          record.location = fmt::format("redis offset {} row {}", row.offset, row.index);
          std::string hex;
          AppendHexBytes(row.key.value_or("").substr(0, 200), &hex);
          record.raw = hex;
          record.reason = DataError(fmt::format(
              "the {} of key {} is not UTF-8 text; set binary: true to read keys and values as "
              "bytes",
              text == &row.key ? "name" : text == &row.field ? "field" : "value", hex));
          SLUICE_RETURN_IF_ERROR(context_->bad_records->Handle(record));
          return false;
        }
      }
    }
    size_t column = 0;
    auto append_text = [&](const std::optional<std::string>& text) {
      if (text.has_value()) {
        batch->column(column).AppendView(*text);
      } else {
        batch->column(column).AppendNull();
      }
      ++column;
    };
    batch->column(column++).Append<int64_t>(row.offset);
    batch->column(column++).Append<int64_t>(row.index);
    batch->column(column++).AppendView(row.op);
    batch->column(column++).Append<int64_t>(row.db);
    append_text(row.key);
    if (row.type.empty()) {
      batch->column(column++).AppendNull();
    } else {
      batch->column(column++).AppendView(row.type);
    }
    if (options_.element_rows)
      append_text(row.field);
    append_text(row.value);
    if (options_.element_rows) {
      if (row.score.has_value()) {
        batch->column(column++).Append<double>(*row.score);
      } else {
        batch->column(column++).AppendNull();
      }
    }
    if (row.expire_at_ms.has_value()) {
      batch->column(column++).Append<int64_t>(*row.expire_at_ms);
    } else {
      batch->column(column++).AppendNull();
    }
    batch->FinishRow();
    return true;
  }

  // ---- the fetch thread ----

  void Run() {
    int tries = 0;
    for (;;) {
      const int64_t before = fetch_offset_marker();
      Status status = Session();
      {
        std::lock_guard<std::mutex> lock(queue_mutex_);
        link_ = nullptr;
      }
      // FlushChunk fails only when the reader is stopping: nobody is left to hand it to.
      if (status.ok()) {
        (void)FlushChunk(/*finished=*/true);
        return;
      }
      if (stopping())
        return;
      if (fetch_offset_marker() != before)
        tries = 0;
      if (status.IsTransient() && tries < kReconnectTries) {
        GlobalReplicationCounters().links_lost++;
        const double backoff = std::min(5.0, 0.1 * (1 << std::min(tries, 6)));
        ++tries;
        log::Warn(kComponent, "{} — reconnecting in {:.1f} s (try {} of {})", status.ToString(),
                  backoff, tries, kReconnectTries);
        std::unique_lock<std::mutex> lock(queue_mutex_);
        if (queue_space_.wait_for(lock, std::chrono::duration<double>(backoff),
                                  [&] { return stopping_; })) {
          return;
        }
        continue;
      }
      chunk_.error = status;
      (void)FlushChunk(/*finished=*/false, /*force=*/true);
      return;
    }
  }

  // Something that changes whenever a session gets anywhere (for the retry count).
  int64_t fetch_offset_marker() const { return fetch_position_.offset + sync_rows_; }

  // INFO replication's fields, on the fetch thread's side connection (kept for the lag).
  Result<std::map<std::string, std::string>> ReplicationInfo() {
    if (info_client_ == nullptr || info_client_->broken()) {
      SLUICE_ASSIGN_OR_RETURN(info_client_, RedisClient::Connect(options_.connection));
    }
    SLUICE_ASSIGN_OR_RETURN(RedisReply info, info_client_->Command("INFO", "replication"));
    std::map<std::string, std::string> fields;
    size_t at = 0;
    while (at < info.text.size()) {
      size_t end = info.text.find("\r\n", at);
      if (end == std::string::npos)
        end = info.text.size();
      std::string line = info.text.substr(at, end - at);
      at = end + 2;
      size_t colon = line.find(':');
      if (colon != std::string::npos)
        fields[line.substr(0, colon)] = line.substr(colon + 1);
    }
    return fields;
  }

  // The server's offset now (master_repl_offset), for Lag(); every 5 s while streaming. A
  // failure only leaves the lag unknown until the next try.
  void MeasureHead() {
    if (Clock::now() - last_head_check_ < std::chrono::seconds(5))
      return;
    last_head_check_ = Clock::now();
    Result<std::map<std::string, std::string>> info = ReplicationInfo();
    if (!info.ok()) {
      info_client_.reset();
      return;
    }
    if (std::optional<int64_t> head = ParseInt((*info)["master_repl_offset"]))
      head_offset_.store(*head);
  }

  Result<bool> BacklogCovers(const ReplicationPosition& position) {
    SLUICE_ASSIGN_OR_RETURN(auto fields, ReplicationInfo());
    const int64_t next = position.offset + 1;
    const bool same_history =
        fields["master_replid"] == position.replid ||
        (fields["master_replid2"] == position.replid &&
         next <= ParseInt(fields["second_repl_offset"]).value_or(-1));
    const int64_t first = ParseInt(fields["repl_backlog_first_byte_offset"]).value_or(0);
    const int64_t length = ParseInt(fields["repl_backlog_histlen"]).value_or(0);
    const bool active = fields["repl_backlog_active"] == "1";
    return same_history && active && next >= first && next <= first + length;
  }

  Status Session() {
    ReplicationPosition from = fetch_position_;
    const bool resume = !from.replid.empty() && !from.in_sync;
    bool full_resync_allowed = !resume || options_.allow_full_resync;
    if (resume) {
      SLUICE_ASSIGN_OR_RETURN(bool covered, BacklogCovers(from));
      if (!covered && !options_.allow_full_resync)
        return BacklogLost(from);
    }
    SLUICE_ASSIGN_OR_RETURN(std::unique_ptr<ReplicaLink> link,
                            ReplicaLink::Connect(options_.connection));
    {
      std::lock_guard<std::mutex> lock(queue_mutex_);
      if (stopping_)
        return Cancelled("stopping");
      link_ = link.get();
    }
    SLUICE_ASSIGN_OR_RETURN(PsyncReply reply,
                            resume ? link->Psync(from.replid, from.offset + 1)
                                   : link->Psync("?", -1));
    if (reply.full_sync && !full_resync_allowed)
      return BacklogLost(from);
    link_replid_ = reply.replid;
    if (reply.full_sync) {
      if (resume) {
        log::Warn(kComponent, "Redis at {}: full resync at offset {} (the backlog no longer held "
                  "offset {}; full_resync: allow)", link->address(), reply.offset, from.offset);
      }
      GlobalReplicationCounters().full_syncs++;
      SLUICE_RETURN_IF_ERROR(FullSync(link.get(), reply));
      if (options_.stop_after_sync) {
        fetch_position_.done = true;
        chunk_end_ = fetch_position_;
        return Status::OK();
      }
    } else {
      GlobalReplicationCounters().partial_syncs++;
      if (reply.replid != from.replid) {
        log::Info(kComponent, "Redis at {}: the replication id changed to {} (a failover); "
                  "continuing at offset {}", link->address(), reply.replid, from.offset);
      }
    }
    return Stream(link.get());
  }

  Status BacklogLost(const ReplicationPosition& from) {
    return InvalidConfig(fmt::format(
        "Redis at {}:{} no longer holds the changes after offset {} of replication id {} (its "
        "backlog has moved past them, or it has another history): continuing would lose "
        "changes. Set full_resync: allow to read the whole dataset again (a new `sync` row "
        "starts it), or raise repl-backlog-size on the server so that stops fit in it",
        options_.connection.host, options_.connection.port, from.offset, from.replid));
  }

  Status FullSync(ReplicaLink* link, const PsyncReply& reply) {
    // A sync again at the offset of one cut short (nothing changed meanwhile) numbers its rows
    // after that one's, so that (offset, index) stays unique and the new `sync` row sorts last.
    const bool same_point = reply.replid == fetch_position_.replid &&
                            reply.offset == fetch_position_.offset;
    int64_t first_index = 0;
    if (same_point && fetch_position_.in_sync)
      first_index = std::max(fetch_position_.skip, sync_offset_ == reply.offset ? sync_rows_ : 0);
    sync_offset_ = reply.offset;
    sync_rows_ = first_index;
    stream_db_ = 0;
    SLUICE_RETURN_IF_ERROR(FlushChunk());  // rows of an earlier session, under their id
    chunk_replid_ = reply.replid;
    // From here a lost link means syncing again: the `sync` row below starts a new dataset.
    fetch_position_ = ReplicationPosition{reply.replid, sync_offset_, first_index, true, false};
    chunk_end_ = fetch_position_;
    ChangeRow marker;
    marker.op = "sync";
    SLUICE_RETURN_IF_ERROR(EmitSyncRow(std::move(marker)));
    SLUICE_RETURN_IF_ERROR(link->BeginPayload());
    payload_bytes_ = link->payload_bytes();
    rdb_bytes_ = 0;
    SyncRows visitor(this, options_);
    RdbParser parser(link, &visitor);
    counting_parser_ = &parser;
    Status parsed = parser.Parse();
    counting_parser_ = nullptr;
    SLUICE_RETURN_IF_ERROR(parsed);
    SLUICE_RETURN_IF_ERROR(link->EndPayload(parser.bytes_read()));
    rdb_bytes_ = payload_bytes_.load();
    ChangeRow done;
    done.op = "synced";
    done.offset = sync_offset_;
    done.index = sync_rows_++;
    done.resume_offset = sync_offset_;
    done.in_sync = false;
    SLUICE_RETURN_IF_ERROR(Emit(std::move(done)));
    fetch_position_ = ReplicationPosition{reply.replid, sync_offset_, 0, false, false, stream_db_};
    chunk_end_ = fetch_position_;
    return FlushChunk();
  }

  // The command stream: rows of the commands that change keys, an ACK every second.
  Status Stream(ReplicaLink* link) {
    chunk_replid_ = link_replid_;
    if (chunk_.rows.empty())
      chunk_end_ = fetch_position_;
    streaming_link_ = link;
    struct Unset {
      ReplicaLink** link;
      ~Unset() { *link = nullptr; }
    } unset{&streaming_link_};
    int64_t offset = fetch_position_.offset;
    int64_t skip = fetch_position_.skip;
    Clock::time_point last_ack = Clock::time_point{};
    Clock::time_point last_data = Clock::now();
    std::vector<std::string> args;
    int db = static_cast<int>(fetch_position_.db);
    for (;;) {
      if (stopping())
        return Cancelled("stopping");
      if (Clock::now() - last_ack >= std::chrono::seconds(1)) {
        SLUICE_RETURN_IF_ERROR(link->SendAck(offset));
        last_ack = Clock::now();
        MeasureHead();
      }
      SLUICE_ASSIGN_OR_RETURN(bool ready, link->WaitReadable(std::chrono::milliseconds(
                                              chunk_.rows.empty() ? 1000 : 0)));
      if (!ready) {
        SLUICE_RETURN_IF_ERROR(FlushChunk());
        if (Clock::now() - last_data > options_.connection.command_timeout) {
          return Unavailable(fmt::format("Redis at {}: the replication link was lost: no data "
                                         "for {} s (the server pings every 10 s)",
                                         link->address(),
                                         options_.connection.command_timeout.count() / 1000));
        }
        continue;
      }
      if (failpoint::AnyArmed())
        SLUICE_RETURN_IF_ERROR(failpoint::Check("redis.replicate.before_command"));
      size_t bytes = 0;
      SLUICE_RETURN_IF_ERROR(link->ReadCommand(&args, &bytes));
      last_data = Clock::now();
      const int64_t start = offset;
      offset += static_cast<int64_t>(bytes);
      if (args.empty())
        continue;
      std::string name = Lower(args[0]);
      if (name == "select") {
        db = static_cast<int>(ParseInt(args.size() > 1 ? args[1] : "").value_or(0));
      } else if (name == "replconf") {
        if (args.size() > 1 && Lower(args[1]) == "getack") {
          SLUICE_RETURN_IF_ERROR(link->SendAck(offset));
          last_ack = Clock::now();
        }
      }
      std::vector<ChangeRow> rows = CommandRows(name, args, db);
      const int64_t count = static_cast<int64_t>(rows.size());
      for (int64_t i = 0; i < count; ++i) {
        if (i < skip)
          continue;
        ChangeRow& row = rows[i];
        // The command's first byte: after every row of a sync at the offset it starts from.
        row.offset = start + 1;
        row.index = i;
        row.resume_offset = i + 1 == count ? offset : start;
        row.resume_skip = i + 1 == count ? 0 : i + 1;
        if (!KeyWanted(db, row.key.value_or(""), row.type))
          row.op = {};  // filtered: moves the position only
        SLUICE_RETURN_IF_ERROR(Emit(std::move(row)));
      }
      skip = 0;
      fetch_position_ = ReplicationPosition{link_replid_, offset, 0, false, false, db};
      chunk_end_ = fetch_position_;
      if (chunk_.rows.size() >= kChunkRows || chunk_.bytes >= kChunkBytes)
        SLUICE_RETURN_IF_ERROR(FlushChunk());
    }
  }

  // The rows of one command of the stream (none for commands that change no key).
  static std::vector<ChangeRow> CommandRows(const std::string& name,
                                            const std::vector<std::string>& args, int db) {
    std::vector<ChangeRow> rows;
    auto row = [&](std::string_view op, size_t key_at) -> ChangeRow& {
      ChangeRow& out = rows.emplace_back();
      out.op = op;
      out.db = db;
      if (key_at < args.size())
        out.key = args[key_at];
      return out;
    };
    static const std::string_view kSkipped[] = {"ping",  "select", "multi",    "exec",
                                                "replconf", "publish", "function", "script"};
    if (std::find(std::begin(kSkipped), std::end(kSkipped), name) != std::end(kSkipped))
      return rows;
    auto set_row = [&](size_t key_at, size_t value_at) -> ChangeRow& {
      ChangeRow& out = row("set", key_at);
      out.type = "string";
      if (value_at < args.size())
        out.value = args[value_at];
      return out;
    };
    auto relative = [&](size_t at, int64_t unit_ms) -> std::optional<int64_t> {
      if (at >= args.size())
        return std::nullopt;
      std::optional<int64_t> amount = ParseInt(args[at]);
      if (!amount)
        return std::nullopt;
      return NowMs() + *amount * unit_ms;
    };
    if (name == "set") {
      ChangeRow& out = set_row(1, 2);
      for (size_t i = 3; i < args.size(); ++i) {
        const std::string option = Lower(args[i]);
        const bool has_value = i + 1 < args.size();
        if (option == "keepttl") {
          out.op = "set_keepttl";
        } else if (option == "pxat" && has_value) {
          out.expire_at_ms = ParseInt(args[++i]);
        } else if (option == "exat" && has_value) {
          if (auto at = ParseInt(args[++i]))
            out.expire_at_ms = *at * 1000;
        } else if (option == "px" && has_value) {
          out.expire_at_ms = relative(++i, 1);
        } else if (option == "ex" && has_value) {
          out.expire_at_ms = relative(++i, 1000);
        }
      }
    } else if (name == "setex" || name == "psetex") {
      set_row(1, 3).expire_at_ms = relative(2, name == "setex" ? 1000 : 1);
    } else if (name == "setnx" || name == "getset") {
      set_row(1, 2);
    } else if (name == "mset" || name == "msetnx") {
      for (size_t i = 1; i + 1 < args.size(); i += 2)
        set_row(i, i + 1);
    } else if (name == "del" || name == "unlink") {
      for (size_t i = 1; i < args.size(); ++i)
        row("del", i);
    } else if (name == "pexpireat" || name == "expireat" || name == "pexpire" ||
               name == "expire") {
      ChangeRow& out = row("expire", 1);
      if (name == "pexpireat") {
        out.expire_at_ms = args.size() > 2 ? ParseInt(args[2]) : std::nullopt;
      } else if (name == "expireat") {
        if (auto at = args.size() > 2 ? ParseInt(args[2]) : std::nullopt)
          out.expire_at_ms = *at * 1000;
      } else {
        out.expire_at_ms = relative(2, name == "pexpire" ? 1 : 1000);
      }
    } else if (name == "persist") {
      row("persist", 1);
    } else if (name == "flushdb" || name == "flushall" || name == "swapdb") {
      ChangeRow& out = row(name == "flushdb" ? "flushdb" : name == "flushall" ? "flushall"
                                                                              : "swapdb",
                           args.size());
      if (name == "swapdb")
        out.value = ArgsJson(args, 1);
    } else {
      const bool no_key = name == "eval" || name == "evalsha" || name == "fcall";
      const size_t key_at = name == "bitop" ? 2 : 1;
      ChangeRow& out = row(InternOp(name), no_key ? args.size() : key_at);
      out.type = FamilyOf(name);
      out.value = ArgsJson(args, no_key ? 1 : key_at + 1);
    }
    return rows;
  }

 public:
  // Adds a row to the chunk being built; hands the chunk over when it is big. A row whose op
  // is empty was filtered: it only moves the position.
  Status Emit(ChangeRow row) {
    if (!row.op.empty()) {
      chunk_.bytes += row.bytes();
      chunk_.rows.push_back(std::move(row));
    }
    if (counting_parser_ != nullptr)
      rdb_bytes_ = counting_parser_->bytes_read();
    if (chunk_.rows.size() >= kChunkRows || chunk_.bytes >= kChunkBytes)
      return FlushChunk();
    return Status::OK();
  }

 private:
  // Hands the chunk to the reader's thread, waiting while the queue is full (and acknowledging
  // meanwhile so that the server keeps the link).
  Status FlushChunk(bool finished = false, bool force = false) {
    if (chunk_.rows.empty() && !finished && !force && chunk_end_.offset == last_flushed_offset_ &&
        chunk_end_.replid == last_flushed_replid_) {
      return Status::OK();
    }
    chunk_.replid = chunk_replid_;
    chunk_.end = chunk_end_;
    if (!chunk_.rows.empty() && chunk_.rows.back().in_sync) {
      chunk_.end.in_sync = true;
      chunk_.end.replid = chunk_replid_;
      chunk_.end.offset = chunk_.rows.back().resume_offset;
      chunk_.end.skip = chunk_.rows.back().resume_skip;
    }
    chunk_.finished = finished;
    last_flushed_offset_ = chunk_.end.offset;
    last_flushed_replid_ = chunk_.end.replid;
    std::unique_lock<std::mutex> lock(queue_mutex_);
    while (!stopping_ && queued_bytes_ + chunk_.bytes > kQueueBytes && !queue_.empty()) {
      if (queue_space_.wait_for(lock, std::chrono::seconds(1)) == std::cv_status::timeout &&
          streaming_link_ != nullptr) {
        // The sink is slow: keep the server from timing the link out meanwhile.
        lock.unlock();
        SLUICE_RETURN_IF_ERROR(streaming_link_->SendAck(fetch_position_.offset));
        lock.lock();
      }
    }
    if (stopping_)
      return Cancelled("stopping");
    queued_bytes_ += chunk_.bytes;
    queue_.push_back(std::move(chunk_));
    lock.unlock();
    queue_ready_.notify_all();
    chunk_ = Chunk{};
    return Status::OK();
  }

  const RedisSourceOptions options_;  // a copy: a reader may outlive its source
  const JobContext* context_;
  SchemaPtr schema_;
  std::chrono::milliseconds read_wait_{100};

  // Reader's thread.
  mutable std::mutex position_mutex_;
  ReplicationPosition position_;
  std::optional<Chunk> current_;
  size_t next_row_ = 0;
  bool finished_ = false;

  // Between the threads.
  std::mutex queue_mutex_;
  std::condition_variable queue_ready_;
  std::condition_variable queue_space_;
  std::deque<Chunk> queue_;
  size_t queued_bytes_ = 0;
  bool stopping_ = false;
  ReplicaLink* link_ = nullptr;  // for Cancel
  std::atomic<uint64_t> payload_bytes_{0};
  std::atomic<int64_t> head_offset_{-1};  // the server's master_repl_offset, last measured
  std::atomic<uint64_t> rdb_bytes_{0};

  // Fetch thread.
  std::thread fetcher_;
  ReplicaLink* streaming_link_ = nullptr;  // in the command stream: what to acknowledge on
  std::unique_ptr<RedisClient> info_client_;  // INFO replication: the backlog, the lag
  Clock::time_point last_head_check_{};
  ReplicationPosition fetch_position_;  // where the rows handed over (or built) end
  std::string link_replid_;
  std::string chunk_replid_;
  ReplicationPosition chunk_end_;
  int64_t last_flushed_offset_ = -1;
  std::string last_flushed_replid_;
  Chunk chunk_;
  int64_t sync_offset_ = 0;
  int64_t sync_rows_ = 0;
  int64_t stream_db_ = 0;  // from the RDB's repl-stream-db
  RdbParser* counting_parser_ = nullptr;
};

Status SyncRows::OnKeyBegin(const RdbKey& key) {
  key_ = key;
  key_text_.assign(key.key);
  key_.key = key_text_;
  wanted_ = reader_->KeyWanted(key.db, key.key, RdbKindName(key.kind));
  oversized_ = false;
  elements_ = 0;
  value_bytes_ = 0;
  pairs_.clear();
  scored_.clear();
  return Status::OK();
}

Status SyncRows::OnAux(std::string_view name, std::string_view value) {
  // The database the command stream after the sync starts in (it sends no SELECT for it).
  if (name == "repl-stream-db")
    reader_->set_stream_db(std::strtoll(std::string(value).c_str(), nullptr, 10));
  return Status::OK();
}

Status SyncRows::OnString(std::string_view value) {
  if (!wanted_)
    return Status::OK();
  ChangeRow row;
  row.op = "snapshot";
  row.db = key_.db;
  row.key = key_text_;
  row.type = "string";
  if (options_.element_rows)
    row.field = std::string();
  row.value = std::string(value);
  if (key_.expire_at_ms >= 0)
    row.expire_at_ms = key_.expire_at_ms;
  wanted_ = false;  // emitted
  return reader_->EmitSyncRow(std::move(row));
}

Status SyncRows::OnElement(const RdbElement& element) {
  if (!wanted_)
    return Status::OK();
  ++elements_;
  std::string stream_fields;
  if (element.fields != nullptr) {
    stream_fields = "{";
    for (size_t i = 0; i < element.fields->size(); ++i) {
      if (i > 0)
        stream_fields += ',';
      formats::AppendJsonString((*element.fields)[i].first, &stream_fields);
      stream_fields += ':';
      formats::AppendJsonString((*element.fields)[i].second, &stream_fields);
    }
    stream_fields += '}';
  }
  if (options_.element_rows) {
    ChangeRow row;
    row.op = "snapshot";
    row.db = key_.db;
    row.key = key_text_;
    row.type = RdbKindName(key_.kind);
    switch (key_.kind) {
      case RdbKind::kList:
        row.field = std::to_string(element.index);
        row.value = std::string(element.value);
        break;
      case RdbKind::kSet:
        row.field = std::string(element.member);
        break;
      case RdbKind::kZset:
        row.field = std::string(element.member);
        row.score = element.score;
        break;
      case RdbKind::kHash:
        row.field = std::string(element.member);
        row.value = std::string(element.value);
        break;
      default:  // streams: the entry id, its fields as a JSON object
        row.field = std::string(element.member);
        row.value = std::move(stream_fields);
        break;
    }
    if (key_.expire_at_ms >= 0)
      row.expire_at_ms = key_.expire_at_ms;
    return reader_->EmitSyncRow(std::move(row));
  }
  if (oversized_)
    return Status::OK();
  value_bytes_ += element.member.size() + element.value.size() + stream_fields.size() + 8;
  if (value_bytes_ > static_cast<size_t>(options_.max_value_bytes)) {
    oversized_ = true;
    pairs_.clear();
    pairs_.shrink_to_fit();
    scored_.clear();
    scored_.shrink_to_fit();
    return Status::OK();
  }
  switch (key_.kind) {
    case RdbKind::kZset:
      scored_.emplace_back(std::string(element.member), element.score);
      break;
    case RdbKind::kList:
      pairs_.emplace_back(std::string(), std::string(element.value));
      break;
    case RdbKind::kStream:
      pairs_.emplace_back(std::string(element.member), std::move(stream_fields));
      break;
    default:
      pairs_.emplace_back(std::string(element.member), std::string(element.value));
  }
  return Status::OK();
}

Status SyncRows::OnKeyEnd() {
  if (!wanted_ || options_.element_rows) {
    wanted_ = false;
    return Status::OK();
  }
  wanted_ = false;
  if (oversized_) {
    BadRecord record;
    record.stream = options_.stream;
    record.location = fmt::format("redis key {}", key_text_.substr(0, 200));
    record.raw = key_text_.substr(0, 200);
    record.reason = DataError(fmt::format(
        "the {} at key {} has {}+ elements, more than max_value_bytes ({}) as one JSON value; "
        "read it with elements: rows (one row per element)",
        RdbKindName(key_.kind), key_text_.substr(0, 200), elements_, options_.max_value_bytes));
    return reader_->context()->bad_records->Handle(record);
  }
  return EmitJson();
}

Status SyncRows::EmitJson() {
  std::string value;
  switch (key_.kind) {
    case RdbKind::kHash:
      std::sort(pairs_.begin(), pairs_.end());
      value += '{';
      for (size_t i = 0; i < pairs_.size(); ++i) {
        if (i > 0)
          value += ',';
        formats::AppendJsonString(pairs_[i].first, &value);
        value += ':';
        formats::AppendJsonString(pairs_[i].second, &value);
      }
      value += '}';
      break;
    case RdbKind::kSet:
      std::sort(pairs_.begin(), pairs_.end());
      value += '[';
      for (size_t i = 0; i < pairs_.size(); ++i) {
        if (i > 0)
          value += ',';
        formats::AppendJsonString(pairs_[i].first, &value);
      }
      value += ']';
      break;
    case RdbKind::kList:
      value += '[';
      for (size_t i = 0; i < pairs_.size(); ++i) {
        if (i > 0)
          value += ',';
        formats::AppendJsonString(pairs_[i].second, &value);
      }
      value += ']';
      break;
    case RdbKind::kZset:
      std::sort(scored_.begin(), scored_.end(), [](const auto& a, const auto& b) {
        return a.second != b.second ? a.second < b.second : a.first < b.first;
      });
      value += '[';
      for (size_t i = 0; i < scored_.size(); ++i) {
        value += i > 0 ? ",[" : "[";
        formats::AppendJsonString(scored_[i].first, &value);
        value += ',';
        AppendScoreJson(scored_[i].second, &value);
        value += ']';
      }
      value += ']';
      break;
    default:  // streams, in id order
      value += '[';
      for (size_t i = 0; i < pairs_.size(); ++i) {
        value += i > 0 ? ",{\"id\":" : "{\"id\":";
        formats::AppendJsonString(pairs_[i].first, &value);
        value += ",\"fields\":";
        value += pairs_[i].second;
        value += '}';
      }
      value += ']';
  }
  ChangeRow row;
  row.op = "snapshot";
  row.db = key_.db;
  row.key = key_text_;
  row.type = RdbKindName(key_.kind);
  row.value = std::move(value);
  if (key_.expire_at_ms >= 0)
    row.expire_at_ms = key_.expire_at_ms;
  pairs_.clear();
  scored_.clear();
  return reader_->EmitSyncRow(std::move(row));
}

}  // namespace

ReplicationCounters& GlobalReplicationCounters() {
  static ReplicationCounters counters;
  return counters;
}

RedisReplicateSource::RedisReplicateSource(RedisSourceOptions options)
    : options_(std::move(options)) {}

RedisReplicateSource::~RedisReplicateSource() = default;

Status RedisReplicateSource::Open(const JobContext& context) {
  context_ = &context;
  SLUICE_ASSIGN_OR_RETURN(
      auto client,
      ConnectToSourceServer(options_, "a full sync does not fork the server taking the writes",
                            &role_));
  address_ = client->address();
  if (!options_.columns.empty()) {
    return InvalidConfig("the redis source's 'columns' reads rows in mode: snapshot only; "
                         "mode: replicate gives the change log's own columns");
  }
  streams_ = {StreamInfo{options_.stream, ReplicateReader::SchemaOf(options_), std::nullopt}};
  return Status::OK();
}

Result<std::unique_ptr<SplitEnumerator>> RedisReplicateSource::CreateEnumerator() {
  Split split;
  split.id = fmt::format("{}#replication", options_.stream);
  split.stream = 0;
  split.payload = "{}";
  return std::unique_ptr<SplitEnumerator>(
      std::make_unique<SplitQueue>(std::vector<Split>{std::move(split)}));
}

Result<std::unique_ptr<SplitReader>> RedisReplicateSource::CreateReader(
    const Split& split, const std::string& position) {
  SLUICE_ASSIGN_OR_RETURN(ReplicationPosition from, ParsePosition(position));
  auto reader = std::make_unique<ReplicateReader>(options_, context_, std::move(from));
  reader->Start();
  return std::unique_ptr<SplitReader>(std::move(reader));
}

void RedisReplicateSource::Describe(CheckReport* report) const {
  report->Note(fmt::format(
      "redis {} ({}): replication (a full sync{}, then the command stream){}", address_,
      role_ == "slave" ? "replica" : role_, options_.stop_after_sync ? " only" : "",
      options_.element_rows ? ", one row per element" : ""));
}

}  // namespace sluice::connectors::redis
