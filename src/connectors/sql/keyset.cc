#include "connectors/sql/keyset.h"

#include <fmt/core.h>

#include <cstdlib>
#include <nlohmann/json.hpp>

#include "core/failpoint.h"
#include "core/logging.h"
#include "core/value_text.h"

namespace sluice::connectors::sql {

namespace {

// `a op v` for one column, or the lexicographic expansion for several.
std::string TupleCompare(const KeyColumns& key, const Key& value, const char* strict_op,
                         const char* last_op) {
  const size_t n = key.fields.size();
  if (key.row_constructors && n > 1) {
    std::string left;
    std::string right;
    for (size_t i = 0; i < n; ++i) {
      if (i > 0) {
        left += ", ";
        right += ", ";
      }
      left += key.quote_identifier(key.fields[i].name);
      right += key.literal(key.fields[i], value[i]);
    }
    return fmt::format("({}) {} ({})", left, last_op, right);
  }
  std::string out;
  for (size_t i = 0; i < n; ++i) {
    if (i > 0)
      out += " OR ";
    std::string term;
    for (size_t j = 0; j < i; ++j) {
      term += fmt::format("{} = {} AND ", key.quote_identifier(key.fields[j].name),
                          key.literal(key.fields[j], value[j]));
    }
    term += fmt::format("{} {} {}", key.quote_identifier(key.fields[i].name),
                        i + 1 == n ? last_op : strict_op, key.literal(key.fields[i], value[i]));
    out += n == 1 ? term : "(" + term + ")";
  }
  return out;
}

// Key parts are JSON strings; a part that is not valid UTF-8 (a text key in a SQL_ASCII
// database, say) cannot be one, so it travels as {"hex": "..."} instead.
nlohmann::json KeyJson(const std::optional<Key>& key) {
  if (!key)
    return nullptr;
  nlohmann::json parts = nlohmann::json::array();
  for (const std::string& part : *key) {
    if (IsValidUtf8(part)) {
      parts.push_back(part);
    } else {
      std::string hex;
      AppendHexBytes(part, &hex);
      parts.push_back({{"hex", hex.substr(2)}});
    }
  }
  return parts;
}

Result<std::optional<Key>> KeyFromJson(const nlohmann::json& json) {
  if (json.is_null())
    return std::optional<Key>();
  if (!json.is_array())
    return Internal("key must be a JSON array");
  Key key;
  for (const auto& part : json) {
    if (part.is_string()) {
      key.push_back(part.get<std::string>());
    } else if (part.is_object() && part.contains("hex") && part["hex"].is_string()) {
      std::string bytes;
      SLUICE_RETURN_IF_ERROR(DecodeHexBytes(part["hex"].get<std::string>(), &bytes));
      key.push_back(std::move(bytes));
    } else {
      return Internal("key parts must be strings or {\"hex\": ...}");
    }
  }
  return std::optional<Key>(std::move(key));
}

}  // namespace

std::string RangeCondition(const KeyColumns& key, const KeyRange& range,
                           const std::optional<Key>& after) {
  std::vector<std::string> parts;
  if (after) {
    parts.push_back(TupleCompare(key, *after, ">", ">"));
  } else if (range.lo) {
    parts.push_back(TupleCompare(key, *range.lo, ">", ">="));
  }
  if (range.hi) {
    parts.push_back(TupleCompare(key, *range.hi, "<", range.hi_inclusive ? "<=" : "<"));
  }
  if (parts.empty())
    return "";
  if (parts.size() == 1)
    return "(" + parts[0] + ")";
  return "(" + parts[0] + ") AND (" + parts[1] + ")";
}

std::string KeyList(const KeyColumns& key) {
  std::string out;
  for (const Field& field : key.fields) {
    if (!out.empty())
      out += ", ";
    out += key.quote_identifier(field.name);
  }
  return out;
}

std::string EncodeRange(const std::string& table, const KeyRange& range, int cuts) {
  nlohmann::json json = {{"table", table},
                         {"lo", KeyJson(range.lo)},
                         {"hi", KeyJson(range.hi)},
                         {"hi_inclusive", range.hi_inclusive}};
  if (cuts > 0)
    json["cuts"] = cuts;
  return json.dump();
}

Result<KeyRange> DecodeRange(const std::string& payload, std::string* table) {
  nlohmann::json json = nlohmann::json::parse(payload, nullptr, /*allow_exceptions=*/false);
  if (!json.is_object() || !json.contains("table")) {
    return Internal(fmt::format("bad key-range split payload '{}'", payload));
  }
  KeyRange range;
  *table = json["table"].get<std::string>();
  SLUICE_ASSIGN_OR_RETURN(range.lo, KeyFromJson(json.value("lo", nlohmann::json())));
  SLUICE_ASSIGN_OR_RETURN(range.hi, KeyFromJson(json.value("hi", nlohmann::json())));
  range.hi_inclusive = json.value("hi_inclusive", false);
  return range;
}

std::string EncodePosition(const std::optional<Key>& after) {
  return nlohmann::json({{"after", KeyJson(after)}}).dump();
}

Result<std::optional<Key>> DecodePosition(const std::string& position) {
  if (position.empty())
    return std::optional<Key>();
  nlohmann::json json = nlohmann::json::parse(position, nullptr, /*allow_exceptions=*/false);
  if (!json.is_object())
    return Internal(fmt::format("bad key position '{}'", position));
  return KeyFromJson(json.value("after", nlohmann::json()));
}

// ---------------------------------------------------------------------------------------------

KeyChunkEnumerator::KeyChunkEnumerator(std::vector<ChunkedTable> tables,
                                       const std::vector<Split>& planned) {
  for (ChunkedTable& table : tables)
    tables_.push_back(TableState{std::move(table)});
  if (planned.empty())
    return;
  // Which tables the earlier run planned, and the family of each table's last chunk.
  size_t last_table = 0;
  bool any = false;
  for (size_t t = 0; t < tables_.size(); ++t) {
    TableState& state = tables_[t];
    const std::string& name = state.table.name;
    const std::string prefix = name + "#";
    int last_chunk = 0;
    bool keyless_seen = false;
    for (const Split& split : planned) {
      if (split.id == name)
        keyless_seen = true;
      if (split.id.rfind(prefix, 0) != 0)
        continue;
      size_t dot = split.id.find('.', prefix.size());
      int number = std::atoi(split.id.substr(prefix.size(), dot - prefix.size()).c_str());
      last_chunk = std::max(last_chunk, number);
    }
    if (keyless_seen || last_chunk > 0) {
      last_table = t;
      any = true;
    }
    if (keyless_seen) {
      state.done = true;
      continue;
    }
    if (last_chunk == 0)
      continue;
    state.chunks = last_chunk;
    const std::string base = fmt::format("{}#{:05d}", name, last_chunk);
    std::vector<KeyRange> family;
    for (const Split& split : planned) {
      if (split.id != base && split.id.rfind(base + ".", 0) != 0)
        continue;
      std::string table_name;
      Result<KeyRange> range = DecodeRange(split.payload, &table_name);
      if (range.ok())
        family.push_back(std::move(*range));
    }
    for (const KeyRange& member : family) {
      if (!member.hi || member.hi_inclusive) {
        // The open-ended last chunk was planned (a reader closes it at the key maximum, which
        // a cut of it records as an inclusive end): nothing is left to plan.
        state.done = true;
        break;
      }
      bool is_someones_lo = false;
      for (const KeyRange& other : family) {
        if (other.lo && *other.lo == *member.hi)
          is_someones_lo = true;
      }
      if (!is_someones_lo)
        state.next_lo = member.hi;
    }
  }
  if (!any)
    return;
  for (size_t t = 0; t < last_table; ++t)
    tables_[t].done = true;
  current_ = last_table;
}

Result<std::optional<Split>> KeyChunkEnumerator::Next() {
  std::lock_guard<std::mutex> lock(mutex_);
  if (!returned_.empty()) {
    Split split = std::move(returned_.back());
    returned_.pop_back();
    return std::optional<Split>(std::move(split));
  }
  while (current_ < tables_.size()) {
    TableState& state = tables_[current_];
    if (state.done) {
      ++current_;
      continue;
    }
    const ChunkedTable& table = state.table;
    Split split;
    split.stream = table.stream;
    ++state.chunks;
    if (table.keyless) {
      state.done = true;
      split.id = table.name;
      split.payload = EncodeRange(table.name, KeyRange{});
      split.estimated_rows = table.estimated_rows;
      return std::optional<Split>(std::move(split));
    }
    std::string condition = RangeCondition(table.key, KeyRange{state.next_lo, std::nullopt}, {});
    Result<std::optional<Key>> boundary = table.planner->KeyAtOffset(condition, table.split_rows);
    if (!boundary.ok()) {
      return boundary.status().WithContext(fmt::format("planning chunks of '{}'", table.name));
    }
    KeyRange range{state.next_lo, *boundary, false};
    if (*boundary) {
      state.next_lo = *boundary;
    } else {
      state.done = true;  // fewer than split_rows rows remain: the open-ended last chunk
    }
    split.id = fmt::format("{}#{:05d}", table.name, state.chunks);
    split.payload = EncodeRange(table.name, range);
    split.estimated_rows = table.split_rows;
    return std::optional<Split>(std::move(split));
  }
  return std::optional<Split>();
}

void KeyChunkEnumerator::Add(Split split) {
  std::lock_guard<std::mutex> lock(mutex_);
  returned_.push_back(std::move(split));
}

size_t KeyChunkEnumerator::pending() const {
  std::lock_guard<std::mutex> lock(mutex_);
  size_t count = returned_.size();
  for (const TableState& state : tables_) {
    if (state.done)
      continue;
    const ChunkedTable& table = state.table;
    if (table.keyless || !table.estimated_rows) {
      ++count;
      continue;
    }
    uint64_t planned = static_cast<uint64_t>(state.chunks) * table.split_rows;
    uint64_t left = *table.estimated_rows > planned ? *table.estimated_rows - planned : 0;
    count += std::max<uint64_t>(1, (left + table.split_rows - 1) / table.split_rows);
  }
  return count;
}

// ---------------------------------------------------------------------------------------------

KeysetReader::KeysetReader(std::unique_ptr<KeysetCursor> cursor, const ChunkedTable& table,
                           const Split& split, KeyRange range, std::optional<Key> after,
                           const JobContext* context, Options options)
    : cursor_(std::move(cursor)),
      table_(table),
      split_(split),
      context_(context),
      options_(options),
      range_(std::move(range)),
      after_(std::move(after)),
      estimated_(split.estimated_rows),
      payload_(split.payload) {
  options_.keyless = options_.keyless || table.keyless;
  nlohmann::json payload = nlohmann::json::parse(split.payload, nullptr, false);
  if (payload.is_object() && payload.contains("cuts") && payload["cuts"].is_number_integer()) {
    cuts_ = payload["cuts"].get<int>();
  }
}

KeysetReader::~KeysetReader() {
  if (cursor_ && page_open_)
    (void)cursor_->ClosePage();
}

std::unique_ptr<KeysetCursor> KeysetReader::ReleaseCursor() {
  if (cursor_ && page_open_) {
    (void)cursor_->ClosePage();
    page_open_ = false;
  }
  return std::move(cursor_);
}

std::string KeysetReader::CurrentCondition() const {
  if (options_.keyless)
    return "";
  std::optional<Key> after;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    after = after_;
  }
  return RangeCondition(table_.key, range_, after);
}

Status KeysetReader::StartPage() {
  SLUICE_FAILPOINT("sql.reader.page");
  uint64_t limit = options_.keyless ? 0 : options_.page_rows;
  SLUICE_RETURN_IF_ERROR(cursor_->OpenPage(CurrentCondition(), limit));
  page_open_ = true;
  page_rows_returned_ = 0;
  return Status::OK();
}

Status KeysetReader::CutRemainder() {
  cut_requested_.store(false);
  if (options_.keyless || range_done_)
    return Status::OK();
  // Count rather than trust the plan: a split worth cutting is often one whose estimate went
  // stale (rows were added after planning), and counting costs no more than the cut saves.
  std::string condition = CurrentCondition();
  SLUICE_ASSIGN_OR_RETURN(uint64_t remaining, cursor_->CountRows(condition));
  if (remaining < 2 * options_.min_cut_rows)
    return Status::OK();
  SLUICE_ASSIGN_OR_RETURN(std::optional<Key> middle,
                          cursor_->KeyAtOffset(condition, remaining / 2));
  if (!middle)
    return Status::OK();
  Split cut;
  cut.id = fmt::format("{}.{}", split_.id, ++cuts_);
  cut.stream = split_.stream;
  cut.payload = EncodeRange(table_.name, KeyRange{middle, range_.hi, range_.hi_inclusive});
  cut.estimated_rows = remaining - remaining / 2;
  range_.hi = std::move(middle);
  range_.hi_inclusive = false;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    estimated_ = rows_read_ + remaining / 2;
    payload_ = EncodeRange(table_.name, range_, cuts_);
  }
  log::Debug("source", "Split '{}' gave its last ~{} rows to new split '{}'", split_.id,
             *cut.estimated_rows, cut.id);
  SLUICE_FAILPOINT("sql.cut.before_offer");  // this reader shrank, nothing recorded yet
  if (context_ != nullptr && context_->offer_split)
    context_->offer_split(split_.id, std::move(cut));
  return Status::OK();
}

Result<bool> KeysetReader::ReadBatch(Batch* batch) {
  if (!started_) {
    started_ = true;
    if (!options_.keyless && !range_.hi) {
      // Close the open-ended last chunk at today's maximum so later inserts cannot stretch it.
      SLUICE_ASSIGN_OR_RETURN(std::optional<Key> max,
                              cursor_->MaxKey(RangeCondition(table_.key, range_, std::nullopt)));
      if (!max) {
        range_done_ = true;
      } else {
        range_.hi = std::move(max);
        range_.hi_inclusive = true;
      }
    }
  }
  while (!range_done_) {
    if (!page_open_) {
      if (cut_requested_.load())
        SLUICE_RETURN_IF_ERROR(CutRemainder());
      SLUICE_RETURN_IF_ERROR(StartPage());
    }
    Key last;
    uint64_t rows = 0;
    SLUICE_ASSIGN_OR_RETURN(bool more, cursor_->Fill(batch, context_->batch_bytes, &last, &rows));
    if (rows > 0) {
      page_rows_returned_ += rows;
      std::lock_guard<std::mutex> lock(mutex_);
      rows_read_ += rows;
      if (!options_.keyless)
        after_ = std::move(last);
    }
    if (!more) {
      page_open_ = false;
      // A short page means the range holds nothing beyond it.
      if (options_.keyless || page_rows_returned_ < options_.page_rows)
        range_done_ = true;
    }
    if (batch->full() || batch->ByteSize() >= context_->batch_bytes)
      return true;
    if (context_->cancelled != nullptr && context_->cancelled->load())
      return true;
  }
  {
    std::lock_guard<std::mutex> lock(mutex_);
    finished_ = true;
  }
  return !batch->empty();
}

std::string KeysetReader::Position() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return EncodePosition(after_);
}

std::string KeysetReader::Payload() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return payload_;
}

std::optional<Split> KeysetReader::SplitRemainder() {
  if (options_.keyless)
    return std::nullopt;
  std::lock_guard<std::mutex> lock(mutex_);
  if (finished_)
    return std::nullopt;
  // Worth a cut when the plan says plenty is left, or when the split outgrew its plan.
  bool plenty_left = estimated_ && *estimated_ > rows_read_ + 2 * options_.min_cut_rows;
  bool outgrew_plan = !estimated_ || rows_read_ >= *estimated_;
  if (plenty_left || outgrew_plan) {
    cut_requested_.store(true);
    if (failpoint::AnyArmed())
      (void)failpoint::Hit("sql.cut.requested");  // made at this reader's next page
  }
  return std::nullopt;
}

double KeysetReader::Progress() const {
  std::lock_guard<std::mutex> lock(mutex_);
  if (finished_)
    return 1;
  if (!estimated_ || *estimated_ == 0)
    return -1;
  return std::min(0.99, static_cast<double>(rows_read_) / static_cast<double>(*estimated_));
}

void KeysetReader::Cancel() {
  if (cursor_)
    cursor_->Cancel();
}

}  // namespace sluice::connectors::sql
