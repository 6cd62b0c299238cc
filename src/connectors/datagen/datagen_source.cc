#include "connectors/datagen/datagen_source.h"

#include <fmt/core.h>

#include <algorithm>
#include <cstring>
#include <mutex>

#include "connectors/split_queue.h"
#include "core/decimal.h"
#include "core/temporal.h"

namespace sluice::connectors::datagen {

namespace {

// SplitMix64: a fast, well-mixed hash of a 64-bit counter.
uint64_t Mix(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

constexpr const char* kWords[] = {
    "alpha",  "bravo",     "charlie", "delta",  "echo",       "foxtrot",  "golf",   "hotel",
    "india",  "juliet",    "kilo",    "lima",   "mike",       "november", "oscar",  "papa",
    "Zürich", "São Paulo", "東京",    "Kraków", "naïve café", "emoji 😀",  "Ελλάδα", "Québec"};
constexpr size_t kWordCount = sizeof(kWords) / sizeof(kWords[0]);

std::vector<Field> DefaultColumns() {
  return {
      {"id", DataType::Int64(), false},           {"customer", DataType::String(), true},
      {"amount", DataType::Decimal(12, 2), true}, {"quantity", DataType::Int32(), true},
      {"price", DataType::Float64(), true},       {"paid", DataType::Bool(), true},
      {"ordered_on", DataType::Date(), true},     {"created_at", DataType::Timestamp(), true},
      {"note", DataType::String(), true},
  };
}

struct Range {
  uint64_t lo;  // first row number (0-based)
  uint64_t hi;  // one past the last
};

Split MakeSplit(const std::string& stream, Range range) {
  Split split;
  split.id = fmt::format("{}#{}-{}", stream, range.lo, range.hi);
  split.payload = fmt::format(R"({{"lo":{},"hi":{}}})", range.lo, range.hi);
  split.estimated_rows = range.hi - range.lo;
  return split;
}

bool ParseRange(const std::string& payload, Range* range) {
  unsigned long long lo = 0;
  unsigned long long hi = 0;
  if (std::sscanf(payload.c_str(), R"({"lo":%llu,"hi":%llu})", &lo, &hi) != 2)
    return false;
  *range = Range{lo, hi};
  return true;
}

// The changelog: event e of split s (events [lo, hi)) changes key k, its n-th change. Split s of
// `splits` owns the keys (0-based) k with k % splits == s, taken in turn.
struct Event {
  uint64_t key;         // 0-based; the id is key + 1
  uint64_t occurrence;  // n: this is the key's n-th change (0-based)
};

uint64_t SplitCount(const DatagenOptions& options) {
  return (options.rows + options.split_rows - 1) / options.split_rows;
}

Event EventAt(const DatagenOptions& options, uint64_t e) {
  uint64_t splits = SplitCount(options);
  uint64_t split = e / options.split_rows;
  uint64_t local = e - split * options.split_rows;
  uint64_t owned = (options.keys - split + splits - 1) / splits;  // keys of this split
  return Event{split + (local % owned) * splits, local / owned};
}

// Whether key `key` holds a row after its change `occurrence` (none before the first).
bool PresentAfter(const DatagenOptions& options, uint64_t key, int64_t occurrence) {
  if (occurrence < 0)
    return false;
  return Mix(options.seed * 7919 + key * 0x9E3779B1ULL + static_cast<uint64_t>(occurrence) * 31 +
             0xC0FFEE) %
             100 <
         70;
}

enum class Change { kInsert, kUpdate, kMove, kDelete, kDeleteMissing };

Change ChangeAt(const DatagenOptions& options, uint64_t e, const Event& event) {
  bool was = PresentAfter(options, event.key, static_cast<int64_t>(event.occurrence) - 1);
  bool now = PresentAfter(options, event.key, static_cast<int64_t>(event.occurrence));
  if (!was)
    return now ? Change::kInsert : Change::kDeleteMissing;
  if (now)
    return Change::kUpdate;
  return Mix(options.seed + e * 0x51ED27ULL) % 4 == 0 ? Change::kMove : Change::kDelete;
}

size_t RowsOf(Change change) {
  return change == Change::kUpdate || change == Change::kMove ? 2 : 1;
}

class DatagenReader final : public SplitReader {
 public:
  // `range` is the split's; reading starts at `start` (later than range.lo when resuming).
  DatagenReader(const DatagenOptions& options, const JobContext* context, std::string stream,
                Range range, uint64_t start)
      : options_(options),
        context_(context),
        stream_(std::move(stream)),
        lo_(range.lo),
        start_(start),
        next_(start),
        hi_(range.hi) {}

  Result<bool> ReadBatch(Batch* batch) override {
    if (options_.changelog)
      return ReadChangelogBatch(batch);
    uint64_t row;
    uint64_t end;
    {
      // Claim this batch's rows up front so that a concurrent cut never takes them.
      std::lock_guard<std::mutex> lock(mutex_);
      if (next_ >= hi_)
        return false;
      row = next_;
      end = std::min<uint64_t>(hi_, row + batch->capacity());
      next_ = end;
    }
    std::string text;
    for (; row < end; ++row) {
      for (size_t c = 0; c < batch->num_columns(); ++c) {
        Generate(row, row + 1, c, &batch->column(c), &text);
      }
      batch->FinishRow();
    }
    return true;
  }

  // Whole events only: an update's two rows never straddle batches (nor, hence, commits).
  Result<bool> ReadChangelogBatch(Batch* batch) {
    if (batch->capacity() < 2) {
      return InvalidConfig("datagen: changelog mode needs batches of at least 2 rows");
    }
    std::lock_guard<std::mutex> lock(mutex_);
    if (next_ >= hi_)
      return false;
    std::string text;
    for (; next_ < hi_; ++next_) {
      Event event = EventAt(options_, next_);
      Change change = ChangeAt(options_, next_, event);
      if (batch->num_rows() + RowsOf(change) > batch->capacity())
        break;
      // Values of a key's version: a function of (key, occurrence) alone.
      auto version = [&](uint64_t occurrence) {
        return Mix(event.key * 0x100000001B3ULL + occurrence) >> 8;
      };
      auto emit = [&](RowKind kind, uint64_t id, uint64_t occurrence) {
        for (size_t c = 0; c < batch->num_columns(); ++c)
          Generate(version(occurrence), id, c, &batch->column(c), &text);
        batch->SetRowKind(kind);
        batch->FinishRow();
      };
      uint64_t id = event.key + 1;
      uint64_t n = event.occurrence;
      switch (change) {
        case Change::kInsert:
          emit(RowKind::kInsert, id, n);
          break;
        case Change::kUpdate:
          emit(RowKind::kUpdateBefore, id, n - 1);
          emit(RowKind::kUpdateAfter, id, n);
          break;
        case Change::kMove:
          // The key changes: the row moves to an id above the key space, unique to this event.
          emit(RowKind::kUpdateBefore, id, n - 1);
          emit(RowKind::kUpdateAfter, options_.keys + 1 + next_, n);
          break;
        case Change::kDelete:
          emit(RowKind::kDelete, id, n - 1);
          break;
        case Change::kDeleteMissing:
          emit(RowKind::kDelete, id, n);
          break;
      }
    }
    return true;
  }

  std::string Position() const override {
    std::lock_guard<std::mutex> lock(mutex_);
    return fmt::format(R"({{"row":{}}})", next_);
  }

  std::string Payload() const override {
    std::lock_guard<std::mutex> lock(mutex_);
    return MakeSplit(stream_, Range{lo_, hi_}).payload;
  }

  std::optional<Split> SplitRemainder() override {
    if (options_.changelog)
      return std::nullopt;  // a cut would share the split's keys with another reader
    std::lock_guard<std::mutex> lock(mutex_);
    if (hi_ - next_ < 2 * 4096)
      return std::nullopt;
    uint64_t middle = next_ + (hi_ - next_) / 2;
    Split cut = MakeSplit(stream_, Range{middle, hi_});
    hi_ = middle;
    return cut;
  }

  double Progress() const override {
    std::lock_guard<std::mutex> lock(mutex_);
    if (hi_ <= start_)
      return 1;
    return static_cast<double>(next_ - start_) / static_cast<double>(hi_ - start_);
  }

 private:
  // Appends column `column_index` of the row generated from `row`, whose key column is `id`.
  void Generate(uint64_t row, uint64_t id, size_t column_index, Column* column,
                std::string* text) const {
    const Field& field = options_.columns[column_index];
    uint64_t h = Mix(options_.seed * 1000003 + row * 131 + column_index);
    if (field.name == "id" && field.type.is_integer()) {
      switch (field.type.id) {
        case TypeId::kInt32:
          column->Append<int32_t>(static_cast<int32_t>(id));
          return;
        case TypeId::kUInt64:
          column->Append<uint64_t>(id);
          return;
        default:
          column->Append<int64_t>(static_cast<int64_t>(id));
          return;
      }
    }
    if (field.nullable && static_cast<double>(h % 1000000) < options_.null_fraction * 1000000.0) {
      column->AppendNull();
      return;
    }
    uint64_t v = Mix(h);
    switch (field.type.id) {
      case TypeId::kNull:
        column->AppendNull();
        return;
      case TypeId::kBool:
        column->Append<uint8_t>(v & 1);
        return;
      case TypeId::kInt8:
        column->Append<int8_t>(static_cast<int8_t>(v));
        return;
      case TypeId::kInt16:
        column->Append<int16_t>(static_cast<int16_t>(v));
        return;
      case TypeId::kInt32:
        column->Append<int32_t>(static_cast<int32_t>(v % 1000));
        return;
      case TypeId::kInt64:
        column->Append<int64_t>(static_cast<int64_t>(v >> 1));
        return;
      case TypeId::kUInt8:
        column->Append<uint8_t>(static_cast<uint8_t>(v));
        return;
      case TypeId::kUInt16:
        column->Append<uint16_t>(static_cast<uint16_t>(v));
        return;
      case TypeId::kUInt32:
        column->Append<uint32_t>(static_cast<uint32_t>(v));
        return;
      case TypeId::kUInt64:
        column->Append<uint64_t>(v);
        return;
      case TypeId::kFloat32:
        column->Append<float>(static_cast<float>(v % 1000000) / 100.0f);
        return;
      case TypeId::kFloat64:
        column->Append<double>(static_cast<double>(v % 100000000) / 1000.0);
        return;
      case TypeId::kDecimal: {
        int digits = field.type.precision == 0 ? 12 : std::min<int>(field.type.precision, 18);
        int128 unscaled = static_cast<int128>(v % static_cast<uint64_t>(Pow10Int128(digits)));
        if (field.type.is_fast_decimal()) {
          column->Append<int128>(unscaled);
        } else {
          text->clear();
          AppendDecimal128(unscaled, field.type.precision == 0 ? 2 : field.type.scale, text);
          column->AppendView(*text);
        }
        return;
      }
      case TypeId::kString: {
        text->clear();
        text->append(kWords[v % kWordCount]);
        text->push_back(' ');
        text->append(std::to_string((v >> 8) % 100000));
        column->AppendView(*text);
        return;
      }
      case TypeId::kJson: {
        text->clear();
        *text = fmt::format(R"({{"k":{},"w":"{}"}})", v % 1000, kWords[v % 16]);
        column->AppendView(*text);
        return;
      }
      case TypeId::kBytes: {
        char bytes[16];
        uint64_t w = Mix(v);
        std::memcpy(bytes, &v, 8);
        std::memcpy(bytes + 8, &w, 8);
        column->AppendView(std::string_view(bytes, 1 + v % 16));
        return;
      }
      case TypeId::kDate:
        // 2015-01-01 plus up to ten years.
        column->Append<int32_t>(static_cast<int32_t>(16436 + v % 3650));
        return;
      case TypeId::kTime:
        column->Append<int64_t>(static_cast<int64_t>(v % kMicrosPerDay));
        return;
      case TypeId::kTimestamp:
      case TypeId::kTimestampTz:
        column->Append<int64_t>(
            static_cast<int64_t>(1420070400LL * kMicrosPerSecond +
                                 static_cast<int64_t>(v % (3650ULL * 86400ULL)) * kMicrosPerSecond +
                                 static_cast<int64_t>((v >> 40) % 1000000)));
        return;
    }
  }

  const DatagenOptions& options_;
  const JobContext* context_;
  std::string stream_;
  const uint64_t lo_;
  mutable std::mutex mutex_;
  uint64_t start_;  // guarded by mutex_
  uint64_t next_;   // guarded by mutex_
  uint64_t hi_;     // guarded by mutex_
};

}  // namespace

const std::vector<config::OptionSpec>& DatagenSourceOptions() {
  static const std::vector<config::OptionSpec> kTable = {
      {.name = "rows", .type = config::OptionType::kInt, .default_value = "",
       .description = "Rows to generate.", .required = true, .min = 0},
      {"seed", config::OptionType::kInt, "42", "Seed: the same seed gives the same rows."},
      {"columns", config::OptionType::kMap, "",
       "Column name -> type (e.g. { id: int64, name: string }). Default: id, customer, amount, "
       "quantity, price, paid, ordered_on, created_at, note."},
      {.name = "null_fraction", .type = config::OptionType::kDouble, .default_value = "0.05",
       .description = "Share of NULLs in every column but `id`.", .min = 0, .max = 1},
      {.name = "split_rows", .type = config::OptionType::kInt, .default_value = "100000",
       .description = "Rows per split.", .min = 1},
      {"stream", config::OptionType::kString, "generated", "Stream (table) name."},
      {"changelog", config::OptionType::kBool, "false",
       "Generate a changelog over the key space instead of inserts: `rows` changes (inserts, "
       "updates as update_before + update_after, key-changing updates, deletes, deletes of "
       "missing keys) to the ids 1..keys. Needs an integer `id` column."},
      {.name = "keys", .type = config::OptionType::kInt, .default_value = "1000",
       .description = "Changelog: ids 1..keys get changed (a key-changing update moves a row above "
           "them); at least the number of splits.", .min = 1},
  };
  return kTable;
}

Result<DatagenOptions> DatagenOptions::FromOptions(const config::Options& options) {
  DatagenOptions out;
  out.rows = static_cast<uint64_t>(options.GetInt("rows"));
  out.seed = static_cast<uint64_t>(options.GetInt("seed"));
  out.null_fraction = options.GetDouble("null_fraction");
  out.split_rows = static_cast<uint64_t>(options.GetInt("split_rows"));
  out.stream = options.GetString("stream");
  if (const config::Node* columns = options.GetNode("columns")) {
    for (const config::Node::Entry& entry : columns->entries()) {
      if (!entry.value.is_scalar())
        return entry.value.Error("a column type must be a string");
      Result<DataType> type = ParseDataType(entry.value.scalar());
      if (!type.ok())
        return entry.value.Error(type.status().message());
      out.columns.push_back(Field{entry.key, *type, entry.key != "id"});
    }
  } else {
    out.columns = DefaultColumns();
  }
  out.changelog = options.GetBool("changelog");
  out.keys = static_cast<uint64_t>(options.GetInt("keys"));
  if (out.changelog) {
    SLUICE_RETURN_IF_ERROR(out.ValidateChangelog());
  }
  return out;
}

Status DatagenOptions::ValidateChangelog() const {
  bool has_id = std::any_of(columns.begin(), columns.end(), [](const Field& field) {
    return field.name == "id" && field.type.is_integer();
  });
  if (!has_id) {
    return InvalidConfig(
        "datagen: changelog: true needs an integer column named 'id' (the primary key)");
  }
  uint64_t splits = (rows + split_rows - 1) / split_rows;
  if (keys < splits) {
    return InvalidConfig(fmt::format(
        "datagen: changelog: 'keys' ({}) must be at least the number of splits ({} rows / {} "
        "split_rows = {}), since every split owns its own keys: raise keys or split_rows",
        keys, rows, split_rows, splits));
  }
  return Status::OK();
}

DatagenSource::DatagenSource(DatagenOptions options) : options_(std::move(options)) {}

Status DatagenSource::Open(const JobContext& context) {
  context_ = &context;
  if (options_.changelog) {
    SLUICE_RETURN_IF_ERROR(options_.ValidateChangelog());
  }
  std::vector<int> primary_key;
  for (size_t i = 0; i < options_.columns.size(); ++i) {
    if (options_.columns[i].name == "id" && options_.columns[i].type.is_integer()) {
      primary_key.push_back(static_cast<int>(i));
    }
  }
  StreamInfo stream{options_.stream, std::make_shared<Schema>(options_.columns, primary_key),
                    options_.rows};
  stream.changelog = options_.changelog;
  streams_.push_back(std::move(stream));
  return Status::OK();
}

Result<std::unique_ptr<SplitEnumerator>> DatagenSource::CreateEnumerator() {
  std::vector<Split> splits;
  for (uint64_t lo = 0; lo < options_.rows; lo += options_.split_rows) {
    splits.push_back(
        MakeSplit(options_.stream, Range{lo, std::min(options_.rows, lo + options_.split_rows)}));
  }
  return std::unique_ptr<SplitEnumerator>(new SplitQueue(std::move(splits)));
}

Result<std::unique_ptr<SplitReader>> DatagenSource::CreateReader(const Split& split,
                                                                 const std::string& position) {
  Range range{};
  if (!ParseRange(split.payload, &range)) {
    return Internal(fmt::format("bad datagen split payload '{}'", split.payload));
  }
  uint64_t start = range.lo;
  if (!position.empty()) {
    unsigned long long row = 0;
    if (std::sscanf(position.c_str(), R"({"row":%llu})", &row) != 1) {
      return Internal(fmt::format("bad datagen position '{}'", position));
    }
    start = row;
  }
  return std::unique_ptr<SplitReader>(
      new DatagenReader(options_, context_, options_.stream, range, start));
}

}  // namespace sluice::connectors::datagen
