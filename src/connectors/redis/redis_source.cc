// RedisSource (see redis_source.h).
#include "connectors/redis/redis_source.h"

#include <fmt/core.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <deque>
#include <mutex>
#include <optional>
#include <utility>
#include <nlohmann/json.hpp>

#include "connectors/redis/redis_options.h"
#include "connectors/split_queue.h"
#include "core/value_text.h"
#include "formats/jsonl/json_text.h"
#include "formats/jsonl/jsonl_batch_builder.h"
#include "formats/jsonl/jsonl_reader.h"

namespace sluice::connectors::redis {

namespace {

using json = nlohmann::json;

constexpr std::string_view kAllTypes[] = {"string", "hash", "list", "set", "zset", "stream"};

// The key rows: one per key (its value as JSON), or one per element (field, value, score).
SchemaPtr SnapshotSchema(const RedisSourceOptions& options) {
  const DataType text = options.binary ? DataType::Bytes() : DataType::String();
  std::vector<Field> fields = {{"key", text, false}, {"type", DataType::String(), false}};
  if (options.element_rows)
    fields.push_back({"field", text, true});
  fields.push_back({"value", text, true});
  if (options.element_rows)
    fields.push_back({"score", DataType::Float64(), true});
  fields.push_back({"ttl_ms", DataType::Int64(), true});
  fields.push_back({"db", DataType::Int64(), false});
  return std::make_shared<const Schema>(std::move(fields));
}

// Sluice's own keys in a sink's database (redis_sink.h), never data.
bool IsSluiceKey(std::string_view key) {
  return key.starts_with("sluice:run:") || key.starts_with("sluice:progress:") ||
         key.starts_with("sluice:fence:");
}

// Cursor "0" starts a SCAN and also ends it: `done` tells the end apart.
struct ScanPosition {
  std::string cursor = "0";
  uint64_t skip = 0;
  bool done = false;
  uint64_t elements = 0;  // elements: rows: rows of the key after `skip` returned already
};

Result<ScanPosition> ParsePosition(const std::string& position) {
  ScanPosition out;
  if (position.empty())
    return out;
  json document = json::parse(position, nullptr, /*allow_exceptions=*/false);
  if (document.is_discarded() || !document.is_object() || !document.contains("cursor") ||
      !document["cursor"].is_string()) {
    return Internal(fmt::format("redis source: bad position '{}'", position));
  }
  out.cursor = document["cursor"].get<std::string>();
  out.skip = document.value("skip", uint64_t{0});
  out.done = document.value("done", false);
  out.elements = document.value("elements", uint64_t{0});
  return out;
}

// A score as JSON: a number, or its text for inf/-inf (which JSON cannot spell).
void AppendScore(const std::string& score, std::string* out) {
  char* end = nullptr;
  double value = std::strtod(score.c_str(), &end);
  if (end != score.c_str() && *end == '\0' && std::isfinite(value)) {
    out->append(score);
  } else {
    formats::AppendJsonString(score, out);
  }
}

class RedisSnapshotReader final : public SplitReader {
 public:
  RedisSnapshotReader(const RedisSourceOptions& options, const JobContext* context, int db,
                      ScanPosition position, uint64_t estimated_keys)
      : options_(options),
        context_(context),
        db_(db),
        position_(std::move(position)),
        estimated_keys_(estimated_keys),
        finished_(position_.done),
        resume_elements_(position_.elements) {}

  Status Start() {
    if (!options_.columns.empty()) {
      row_schema_ = std::make_shared<const Schema>(options_.columns);
      row_builder_ = std::make_unique<formats::JsonlBatchBuilder>(
          row_schema_, fmt::format("source:redis:{}", options_.stream));
    }
    RedisConnectOptions connection = options_.connection;
    connection.db = db_;
    SLUICE_ASSIGN_OR_RETURN(client_, RedisClient::Connect(connection));
    return Status::OK();
  }

  Result<bool> ReadBatch(Batch* batch) override {
    size_t appended = 0;
    while (!batch->full() && batch->ByteSize() < context_->batch_bytes) {
      if (context_->cancelled->load(std::memory_order_relaxed))
        return Cancelled("redis source: the job is stopping");
      if (in_key_.has_value()) {
        SLUICE_ASSIGN_OR_RETURN(bool kept, NextElementRow(batch));
        appended += kept ? 1 : 0;
        continue;
      }
      if (page_.empty()) {
        if (finished_)
          break;
        SLUICE_RETURN_IF_ERROR(FetchPage());
        continue;
      }
      PageKey entry = std::move(page_.front());
      page_.pop_front();
      // A resumed reader stopped inside the first key of its page (if it is still there).
      const uint64_t elements_returned = std::exchange(resume_elements_, 0);
      if (options_.element_rows && entry.type != "string" && Wanted(entry)) {
        // A collection: its elements come page by page, across batches.
        ++keys_seen_;
        in_key_.emplace();
        in_key_->entry = std::move(entry);
        in_key_->to_skip = elements_returned;
        in_key_->returned = in_key_->to_skip;
        continue;
      }
      SLUICE_ASSIGN_OR_RETURN(bool kept, AppendKey(entry, batch));
      {
        std::lock_guard<std::mutex> lock(mutex_);
        ++position_.skip;
      }
      if (page_.empty())
        AdvanceCursor();
      appended += kept ? 1 : 0;
    }
    return appended > 0 || !finished_ || !page_.empty() || in_key_.has_value();
  }

  std::string Position() const override {
    std::lock_guard<std::mutex> lock(mutex_);
    json document = {{"cursor", position_.cursor}, {"skip", position_.skip}};
    if (position_.done)
      document["done"] = true;
    if (position_.elements > 0)
      document["elements"] = position_.elements;
    return document.dump();
  }

  double Progress() const override {
    if (estimated_keys_ == 0)
      return -1;
    return std::min(1.0, static_cast<double>(keys_seen_.load()) / estimated_keys_);
  }

  void Cancel() override {
    if (client_ != nullptr)
      client_->Cancel();
  }

 private:
  struct PageKey {
    std::string key;
    std::string type;
    int64_t pttl = -1;
    bool value_fetched = false;  // a string's value, read with the page
    bool present = true;
    std::string value;
  };

  // elements: rows: a collection being returned element by element.
  struct Element {
    std::string field;
    std::optional<std::string> value;
    std::optional<double> score;
  };
  struct KeyInProgress {
    PageKey entry;
    std::string cursor = "0";  // HSCAN/SSCAN cursor, LRANGE/ZRANGE index, XRANGE start id
    bool fetched_all = false;
    std::deque<Element> pending;
    uint64_t to_skip = 0;   // a resumed reader: rows of this key returned before
    uint64_t returned = 0;  // rows of this key returned (with those before a resume)
  };

  // Appends the in-progress key's next element row (fetching a page when none is pending), or
  // ends the key. False when nothing was appended.
  Result<bool> NextElementRow(Batch* batch) {
    KeyInProgress& key = *in_key_;
    if (key.pending.empty() && !key.fetched_all) {
      SLUICE_RETURN_IF_ERROR(FetchElements(&key));
      return false;
    }
    if (key.pending.empty()) {
      in_key_.reset();
      std::lock_guard<std::mutex> lock(mutex_);
      ++position_.skip;
      position_.elements = 0;
      if (page_.empty())
        AdvanceCursorLocked();
      return false;
    }
    Element element = std::move(key.pending.front());
    key.pending.pop_front();
    if (key.to_skip > 0) {
      --key.to_skip;
      return false;
    }
    SLUICE_ASSIGN_OR_RETURN(bool appended,
                            AppendRow(key.entry, &element.field, element.value, element.score,
                                      batch));
    ++key.returned;
    std::lock_guard<std::mutex> lock(mutex_);
    position_.elements = key.returned;
    return appended;
  }

  // One page of the key's elements (chunk_elements), in the order the JSON layout reads them.
  Status FetchElements(KeyInProgress* key) {
    const std::string& name = key->entry.key;
    const std::string& type = key->entry.type;
    const int64_t count = options_.chunk_elements;
    const std::string count_text = std::to_string(count);
    if (type == "hash" || type == "set") {
      const bool pairs = type == "hash";
      SLUICE_ASSIGN_OR_RETURN(RedisReply reply,
                              client_->Command(pairs ? "HSCAN" : "SSCAN", name, key->cursor,
                                               "COUNT", count_text));
      if (reply.type != RedisReply::Type::kArray || reply.elements.size() != 2)
        return IoError(fmt::format("Redis at {}: {} answered oddly", client_->address(),
                                   pairs ? "HSCAN" : "SSCAN"));
      key->cursor = reply.elements[0].text;
      key->fetched_all = key->cursor == "0";
      std::vector<RedisReply>& items = reply.elements[1].elements;
      for (size_t i = 0; i < items.size(); i += pairs ? 2 : 1) {
        Element element{std::move(items[i].text), std::nullopt, std::nullopt};
        if (pairs && i + 1 < items.size())
          element.value = std::move(items[i + 1].text);
        key->pending.push_back(std::move(element));
      }
      return Status::OK();
    }
    if (type == "list" || type == "zset") {
      const int64_t start = std::strtoll(key->cursor.c_str(), nullptr, 10);
      const std::string from = std::to_string(start);
      const std::string to = std::to_string(start + count - 1);
      const bool zset = type == "zset";
      SLUICE_ASSIGN_OR_RETURN(
          RedisReply reply,
          zset ? client_->Command("ZRANGE", name, from, to, "WITHSCORES")
               : client_->Command("LRANGE", name, from, to));
      const size_t step = zset ? 2 : 1;
      const size_t got = reply.elements.size() / step;
      for (size_t i = 0; i + step <= reply.elements.size(); i += step) {
        if (zset) {
          key->pending.push_back(Element{std::move(reply.elements[i].text), std::nullopt,
                                         std::strtod(reply.elements[i + 1].text.c_str(),
                                                     nullptr)});
        } else {
          key->pending.push_back(Element{std::to_string(start + static_cast<int64_t>(i)),
                                         std::move(reply.elements[i].text), std::nullopt});
        }
      }
      key->cursor = std::to_string(start + static_cast<int64_t>(got));
      key->fetched_all = got < static_cast<size_t>(count);
      return Status::OK();
    }
    if (type == "stream") {
      const std::string start = key->cursor == "0" ? "-" : key->cursor;
      SLUICE_ASSIGN_OR_RETURN(RedisReply reply,
                              client_->Command("XRANGE", name, start, "+", "COUNT", count_text));
      for (const RedisReply& entry : reply.elements) {
        if (entry.elements.size() != 2)
          continue;
        std::string fields = "{";
        const std::vector<RedisReply>& pairs = entry.elements[1].elements;
        for (size_t i = 0; i + 1 < pairs.size(); i += 2) {
          if (i > 0)
            fields += ',';
          formats::AppendJsonString(pairs[i].text, &fields);
          fields += ':';
          formats::AppendJsonString(pairs[i + 1].text, &fields);
        }
        fields += '}';
        key->pending.push_back(Element{entry.elements[0].text, std::move(fields), std::nullopt});
      }
      key->fetched_all = reply.elements.size() < static_cast<size_t>(count);
      if (!reply.elements.empty())
        key->cursor = "(" + reply.elements.back().elements[0].text;
      return Status::OK();
    }
    return Unsupported(fmt::format("Redis at {}: key '{}' has type '{}', which the redis source "
                                   "cannot read",
                                   client_->address(), name.substr(0, 200), type));
  }

  // One key row (field NULL unless element rows), after checking that its text is UTF-8
  // unless `binary`; false when it went to the errors policy.
  Result<bool> AppendRow(const PageKey& entry, const std::string* field,
                         const std::optional<std::string>& value,
                         const std::optional<double>& score, Batch* batch) {
    if (!options_.binary) {
      const std::string* texts[] = {&entry.key, field, value ? &*value : nullptr};
      for (const std::string* text : texts) {
        if (text == nullptr || IsValidUtf8(*text))
          continue;
        BadRecord record;
        record.stream = options_.stream;
        std::string hex;
        AppendHexBytes(std::string_view(entry.key).substr(0, 200), &hex);
        record.location = fmt::format("redis key {}", hex);
        record.raw = hex;
        record.reason = DataError(fmt::format(
            "the {} of key {} is not UTF-8 text; set binary: true to read keys and values as "
            "bytes",
            text == &entry.key ? "name" : text == field ? "field" : "value", hex));
        SLUICE_RETURN_IF_ERROR(context_->bad_records->Handle(record));
        return false;
      }
    }
    size_t column = 0;
    batch->column(column++).AppendView(entry.key);
    batch->column(column++).AppendView(entry.type);
    if (options_.element_rows) {
      if (field != nullptr) {
        batch->column(column++).AppendView(*field);
      } else {
        batch->column(column++).AppendNull();
      }
    }
    if (value.has_value()) {
      batch->column(column++).AppendView(*value);
    } else {
      batch->column(column++).AppendNull();
    }
    if (options_.element_rows) {
      if (score.has_value()) {
        batch->column(column++).Append<double>(*score);
      } else {
        batch->column(column++).AppendNull();
      }
    }
    if (entry.pttl >= 0) {
      batch->column(column++).Append<int64_t>(entry.pttl);
    } else {
      batch->column(column++).AppendNull();
    }
    batch->column(column++).Append<int64_t>(db_);
    batch->FinishRow();
    return true;
  }

  // Runs SCAN at the position's cursor, drops the keys already returned (skip) and those of
  // other types or of Sluice's own, and fetches TYPE and PTTL of the rest in one pipeline.
  Status FetchPage() {
    std::string count = std::to_string(options_.scan_count);
    SLUICE_ASSIGN_OR_RETURN(
        RedisReply reply,
        client_->Command("SCAN", position_.cursor, "MATCH", options_.keys, "COUNT", count));
    if (reply.type != RedisReply::Type::kArray || reply.elements.size() != 2)
      return IoError(fmt::format("Redis at {}: SCAN answered oddly", client_->address()));
    next_cursor_ = reply.elements[0].text;
    std::vector<RedisReply>& keys = reply.elements[1].elements;
    // Keys of this page returned before (a resumed reader) are skipped by count: SCAN of the
    // same cursor gives the same page while the keyspace is unchanged.
    size_t first = std::min<size_t>(position_.skip, keys.size());
    std::vector<std::string> names;
    for (size_t i = first; i < keys.size(); ++i)
      names.push_back(std::move(keys[i].text));
    keys_seen_ += first;
    if (names.empty()) {
      AdvanceCursor();
      return Status::OK();
    }
    // One round trip per page: TYPE, PTTL and GET of every key (GET of another type answers
    // WRONGTYPE, which costs the server nothing), rather than a GET per string key.
    const bool strings_wanted =
        row_builder_ != nullptr || options_.types.empty() ||
        std::find(options_.types.begin(), options_.types.end(), "string") != options_.types.end();
    for (const std::string& name : names) {
      SLUICE_RETURN_IF_ERROR(client_->Append({"TYPE", name}));
      SLUICE_RETURN_IF_ERROR(client_->Append({"PTTL", name}));
      if (strings_wanted)
        SLUICE_RETURN_IF_ERROR(client_->Append({"GET", name}));
    }
    for (std::string& name : names) {
      SLUICE_ASSIGN_OR_RETURN(RedisReply type, client_->ReadReply());
      SLUICE_ASSIGN_OR_RETURN(RedisReply pttl, client_->ReadReply());
      if (type.is_error())
        return RedisStatus(client_->address(), "TYPE", 0, type.text);
      PageKey key{std::move(name), type.text, pttl.integer};
      if (strings_wanted) {
        SLUICE_ASSIGN_OR_RETURN(RedisReply value, client_->ReadReply());
        if (type.text == "string") {
          key.value_fetched = true;
          key.present = !value.is_nil() && !value.is_error();  // gone or retyped meanwhile
          key.value = std::move(value.text);
        }
      }
      page_.push_back(std::move(key));
    }
    return Status::OK();
  }

  // The page is done: continue at the next cursor, or end the split when it is "0".
  void AdvanceCursor() {
    std::lock_guard<std::mutex> lock(mutex_);
    AdvanceCursorLocked();
  }
  void AdvanceCursorLocked() {
    finished_ = next_cursor_ == "0";
    position_ = ScanPosition{next_cursor_, 0, finished_, 0};
  }

  bool Wanted(const PageKey& entry) const {
    if (entry.type == "none" || IsSluiceKey(entry.key))
      return false;  // deleted since SCAN, or the sink's bookkeeping
    if (options_.types.empty())
      return true;
    return std::find(options_.types.begin(), options_.types.end(), entry.type) !=
           options_.types.end();
  }

  // Appends the row of one key; false when the key is skipped (filtered, or gone meanwhile).
  Result<bool> AppendKey(PageKey& entry, Batch* batch) {
    ++keys_seen_;
    if (!Wanted(entry))
      return false;
    value_.clear();
    bool present = true;
    if (entry.type == "string" && entry.value_fetched) {
      present = entry.present;
      value_ = std::move(entry.value);
    } else if (entry.type == "string") {
      SLUICE_ASSIGN_OR_RETURN(RedisReply reply, client_->Command("GET", entry.key));
      present = !reply.is_nil();
      value_ = std::move(reply.text);
    } else if (entry.type == "hash") {
      SLUICE_ASSIGN_OR_RETURN(present, ReadScanned("HSCAN", entry.key, /*pairs=*/true));
    } else if (entry.type == "set") {
      SLUICE_ASSIGN_OR_RETURN(present, ReadScanned("SSCAN", entry.key, /*pairs=*/false));
    } else if (entry.type == "list") {
      SLUICE_ASSIGN_OR_RETURN(present, ReadList(entry.key));
    } else if (entry.type == "zset") {
      SLUICE_ASSIGN_OR_RETURN(present, ReadSortedSet(entry.key));
    } else if (entry.type == "stream") {
      SLUICE_ASSIGN_OR_RETURN(present, ReadStream(entry.key));
    } else {
      return Unsupported(fmt::format("Redis at {}: key '{}' has type '{}', which the redis "
                                     "source cannot read",
                                     client_->address(), entry.key.substr(0, 200), entry.type));
    }
    if (!present)
      return false;
    if (row_builder_ != nullptr)
      return AppendColumnsRow(entry, batch);
    if (options_.element_rows) {  // a string: one row, its field empty
      const std::string field;
      return AppendRow(entry, &field, std::optional<std::string>(std::move(value_)),
                       std::nullopt, batch);
    }
    if (value_.size() > static_cast<size_t>(options_.max_value_bytes)) {
      BadRecord record;
      record.stream = options_.stream;
      record.location = fmt::format("redis key {}", entry.key.substr(0, 200));
      record.raw = entry.key.substr(0, 200);
      record.reason = DataError(fmt::format(
          "the {} at key {} is {} bytes as JSON, more than max_value_bytes ({}); read it with "
          "elements: rows (one row per element)",
          entry.type, entry.key.substr(0, 200), value_.size(), options_.max_value_bytes));
      SLUICE_RETURN_IF_ERROR(context_->bad_records->Handle(record));
      return false;
    }
    return AppendRow(entry, nullptr, std::optional<std::string>(std::move(value_)),
                     std::nullopt, batch);
  }

  // HSCAN (pairs: a JSON object, fields sorted) or SSCAN (a JSON array, members sorted), in
  // pages of chunk_elements. False when the key is gone.
  Result<bool> ReadScanned(const char* command, const std::string& key, bool pairs) {
    std::string count = std::to_string(options_.chunk_elements);
    std::vector<std::pair<std::string, std::string>> elements;
    std::string cursor = "0";
    do {
      SLUICE_ASSIGN_OR_RETURN(RedisReply reply,
                              client_->Command(command, key, cursor, "COUNT", count));
      if (reply.type != RedisReply::Type::kArray || reply.elements.size() != 2)
        return IoError(fmt::format("Redis at {}: {} answered oddly", client_->address(), command));
      cursor = reply.elements[0].text;
      std::vector<RedisReply>& items = reply.elements[1].elements;
      for (size_t i = 0; i < items.size(); i += pairs ? 2 : 1) {
        elements.emplace_back(std::move(items[i].text),
                              pairs && i + 1 < items.size() ? std::move(items[i + 1].text)
                                                             : std::string());
      }
    } while (cursor != "0");
    if (elements.empty())
      return false;
    // SCAN may return an element twice (a rehash meanwhile); sorted, duplicates go.
    std::sort(elements.begin(), elements.end());
    elements.erase(std::unique(elements.begin(), elements.end(),
                               [](const auto& a, const auto& b) { return a.first == b.first; }),
                   elements.end());
    value_ += pairs ? '{' : '[';
    std::string hex;
    for (size_t i = 0; i < elements.size(); ++i) {
      if (i > 0)
        value_ += ',';
      formats::AppendJsonString(elements[i].first, &value_);
      if (pairs) {
        value_ += ':';
        // Rows mode: a bytes column's field holds raw bytes, which the row builder reads in
        // their canonical text (\x hex).
        int column = row_schema_ != nullptr ? row_schema_->FieldIndex(elements[i].first) : -1;
        if (column >= 0 && row_schema_->field(column).type.id == TypeId::kBytes) {
          hex.clear();
          AppendHexBytes(elements[i].second, &hex);
          formats::AppendJsonString(hex, &value_);
        } else {
          formats::AppendJsonString(elements[i].second, &value_);
        }
      }
    }
    value_ += pairs ? '}' : ']';
    return true;
  }

  Result<bool> ReadList(const std::string& key) {
    value_ += '[';
    bool any = false;
    for (int64_t start = 0;; start += options_.chunk_elements) {
      std::string from = std::to_string(start);
      std::string to = std::to_string(start + options_.chunk_elements - 1);
      SLUICE_ASSIGN_OR_RETURN(RedisReply reply, client_->Command("LRANGE", key, from, to));
      for (const RedisReply& item : reply.elements) {
        if (any)
          value_ += ',';
        formats::AppendJsonString(item.text, &value_);
        any = true;
      }
      if (reply.elements.size() < static_cast<size_t>(options_.chunk_elements))
        break;
    }
    value_ += ']';
    return any;
  }

  // [[member, score], ...] in the set's order (score, then member).
  Result<bool> ReadSortedSet(const std::string& key) {
    value_ += '[';
    bool any = false;
    for (int64_t start = 0;; start += options_.chunk_elements) {
      std::string from = std::to_string(start);
      std::string to = std::to_string(start + options_.chunk_elements - 1);
      SLUICE_ASSIGN_OR_RETURN(RedisReply reply,
                              client_->Command("ZRANGE", key, from, to, "WITHSCORES"));
      for (size_t i = 0; i + 1 < reply.elements.size(); i += 2) {
        value_ += any ? ",[" : "[";
        formats::AppendJsonString(reply.elements[i].text, &value_);
        value_ += ',';
        AppendScore(reply.elements[i + 1].text, &value_);
        value_ += ']';
        any = true;
      }
      if (reply.elements.size() < 2 * static_cast<size_t>(options_.chunk_elements))
        break;
    }
    value_ += ']';
    return any;
  }

  // [{"id": "1-0", "fields": {"f": "v", ...}}, ...] in id order (fields in entry order).
  Result<bool> ReadStream(const std::string& key) {
    value_ += '[';
    bool any = false;
    std::string start = "-";
    std::string count = std::to_string(options_.chunk_elements);
    for (;;) {
      SLUICE_ASSIGN_OR_RETURN(RedisReply reply,
                              client_->Command("XRANGE", key, start, "+", "COUNT", count));
      for (const RedisReply& entry : reply.elements) {
        if (entry.elements.size() != 2)
          continue;
        value_ += any ? ",{\"id\":" : "{\"id\":";
        formats::AppendJsonString(entry.elements[0].text, &value_);
        value_ += ",\"fields\":{";
        const std::vector<RedisReply>& fields = entry.elements[1].elements;
        for (size_t i = 0; i + 1 < fields.size(); i += 2) {
          if (i > 0)
            value_ += ',';
          formats::AppendJsonString(fields[i].text, &value_);
          value_ += ':';
          formats::AppendJsonString(fields[i + 1].text, &value_);
        }
        value_ += "}}";
        any = true;
      }
      if (reply.elements.size() < static_cast<size_t>(options_.chunk_elements))
        break;
      start = "(" + reply.elements.back().elements[0].text;  // after the last id (Redis 6.2+)
    }
    value_ += ']';
    return true;  // a stream may exist empty
  }

  // Rows mode (`columns`): the value as one JSON object through the JSON Lines row builder; a
  // value that does not fit is a bad record. Keys of other types than string and hash are
  // skipped.
  Result<bool> AppendColumnsRow(const PageKey& entry, Batch* batch) {
    if (entry.type != "string" && entry.type != "hash")
      return false;
    value_.append(formats::kJsonPadding, ' ');  // the builder reads past the end
    formats::JsonlLine line;
    line.text = std::string_view(value_).substr(0, value_.size() - formats::kJsonPadding);
    line.line = 1;
    std::string where = fmt::format("redis key {}", entry.key.substr(0, 200));
    line.file_name = where;
    Status appended = row_builder_->Append(line, batch);
    if (appended.ok())
      return true;
    BadRecord record;
    record.stream = options_.stream;
    record.location = where;
    record.raw = std::string(line.text.substr(0, 4096));
    record.reason = appended;
    SLUICE_RETURN_IF_ERROR(context_->bad_records->Handle(record));
    return false;
  }

  const RedisSourceOptions options_;  // a copy: a reader may outlive its source
  const JobContext* context_;
  const int db_;
  mutable std::mutex mutex_;  // guards position_ against Position() from another thread
  ScanPosition position_;
  const uint64_t estimated_keys_;
  bool finished_;  // the SCAN returned cursor 0: no page after the current one
  std::atomic<uint64_t> keys_seen_{0};
  std::unique_ptr<RedisClient> client_;
  std::deque<PageKey> page_;  // the current page's keys not returned yet
  std::string next_cursor_ = "0";
  std::string value_;  // reused per key
  std::optional<KeyInProgress> in_key_;  // elements: rows
  uint64_t resume_elements_ = 0;  // a resumed reader: rows of the first key returned before
  SchemaPtr row_schema_;  // rows mode only
  std::unique_ptr<formats::JsonlBatchBuilder> row_builder_;
};

}  // namespace

Result<RedisSourceOptions> RedisSourceOptions::FromConfig(const config::Options& options) {
  RedisSourceOptions out;
  out.connection = ConnectionFromConfig(options);
  for (const std::string& db : options.GetStringList("dbs")) {
    char* end = nullptr;
    long value = std::strtol(db.c_str(), &end, 10);
    if (db.empty() || *end != '\0' || value < 0)
      return options.ErrorAt("dbs", fmt::format("'dbs' lists '{}', not a database number", db));
    out.dbs.push_back(static_cast<int>(value));
  }
  out.keys = options.GetString("keys");
  out.types = options.GetStringList("types");
  for (const std::string& type : out.types) {
    if (std::find(std::begin(kAllTypes), std::end(kAllTypes), type) == std::end(kAllTypes)) {
      return options.ErrorAt("types", fmt::format("'types' lists '{}'; the types are string, "
                                                  "hash, list, set, zset and stream",
                                                  type));
    }
  }
  out.require_replica = options.GetString("read_from") == "replica";
  out.mode = options.GetString("mode") == "replicate" ? RedisSourceMode::kReplicate
                                                      : RedisSourceMode::kSnapshot;
  out.element_rows = options.GetString("elements") == "rows";
  out.binary = options.GetBool("binary");
  out.max_value_bytes = options.GetInt("max_value_bytes");
  out.allow_full_resync = options.GetString("full_resync") == "allow";
  out.stop_after_sync = options.GetString("stop_at") == "synced";
  if (out.mode == RedisSourceMode::kSnapshot &&
      (options.Has("full_resync") || options.Has("stop_at"))) {
    return options.ErrorAt(options.Has("stop_at") ? "stop_at" : "full_resync",
                           "'full_resync' and 'stop_at' belong to mode: replicate");
  }
  out.scan_count = options.GetInt("scan_count");
  out.chunk_elements = options.GetInt("chunk_elements");
  out.stream = options.GetString("stream");
  if (const config::Node* columns = options.GetNode("columns")) {
    if (!columns->is_map())
      return options.ErrorAt("columns",
                             "'columns' maps names to types ({id: int64, name: string})");
    for (const config::Node::Entry& entry : columns->entries()) {
      if (!entry.value.is_scalar())
        return entry.value.Error("a column type must be a string such as int64 or string");
      Result<DataType> type = ParseDataType(entry.value.scalar());
      if (!type.ok())
        return entry.value.Error(type.status().message());
      out.columns.push_back(Field{entry.key, *type, true});
    }
  }
  return out;
}

RedisSource::RedisSource(RedisSourceOptions options) : options_(std::move(options)) {}

RedisSource::~RedisSource() = default;

Result<std::unique_ptr<RedisClient>> ConnectToSourceServer(const RedisSourceOptions& options,
                                                           std::string_view why,
                                                           std::string* role) {
  SLUICE_ASSIGN_OR_RETURN(auto client, RedisClient::Connect(options.connection));
  SLUICE_ASSIGN_OR_RETURN(*role, client->Role());
  if (options.require_replica && *role != "slave") {
    return InvalidConfig(fmt::format(
        "Redis at {} is a {}, not a replica: the redis source reads from a replica so that {}; "
        "point host/port at a replica, or set read_from: primary",
        client->address(), *role == "master" ? "primary" : *role, why));
  }
  return client;
}

Status RedisSource::Open(const JobContext& context) {
  context_ = &context;
  SLUICE_ASSIGN_OR_RETURN(
      auto client,
      ConnectToSourceServer(options_, "the snapshot does not load the server taking the writes",
                            &role_));
  address_ = client->address();
  dbs_ = options_.dbs.empty() ? std::vector<int>{options_.connection.db} : options_.dbs;
  uint64_t total = 0;
  for (int db : dbs_) {
    std::string number = std::to_string(db);
    SLUICE_RETURN_IF_ERROR(client->Command("SELECT", number).status());
    SLUICE_ASSIGN_OR_RETURN(RedisReply size, client->Command("DBSIZE"));
    db_sizes_.push_back(static_cast<uint64_t>(size.integer));
    total += static_cast<uint64_t>(size.integer);
  }
  SchemaPtr schema = options_.columns.empty()
                         ? SnapshotSchema(options_)
                         : std::make_shared<const Schema>(options_.columns);
  streams_ = {StreamInfo{options_.stream, schema, total}};
  return Status::OK();
}

Result<std::unique_ptr<SplitEnumerator>> RedisSource::CreateEnumerator() {
  std::vector<Split> splits;
  for (size_t i = 0; i < dbs_.size(); ++i) {
    Split split;
    split.id = fmt::format("{}#db{}", options_.stream, dbs_[i]);
    split.stream = 0;
    split.payload = fmt::format(R"({{"db":{}}})", dbs_[i]);
    split.estimated_rows = db_sizes_[i];
    splits.push_back(std::move(split));
  }
  return std::unique_ptr<SplitEnumerator>(std::make_unique<SplitQueue>(std::move(splits)));
}

Result<std::unique_ptr<SplitReader>> RedisSource::CreateReader(const Split& split,
                                                               const std::string& position) {
  json payload = json::parse(split.payload, nullptr, /*allow_exceptions=*/false);
  if (payload.is_discarded() || !payload.contains("db") || !payload["db"].is_number_integer())
    return Internal(fmt::format("redis source: bad split payload '{}'", split.payload));
  SLUICE_ASSIGN_OR_RETURN(ScanPosition scan, ParsePosition(position));
  auto reader = std::make_unique<RedisSnapshotReader>(
      options_, context_, payload["db"].get<int>(), std::move(scan),
      split.estimated_rows.value_or(0));
  SLUICE_RETURN_IF_ERROR(reader->Start());
  return std::unique_ptr<SplitReader>(std::move(reader));
}

void RedisSource::Describe(CheckReport* report) const {
  report->Note(fmt::format("redis {} ({}): snapshot of db {} matching '{}'", address_,
                           role_ == "slave" ? "replica" : role_, fmt::join(dbs_, ", "),
                           options_.keys));
}

}  // namespace sluice::connectors::redis
