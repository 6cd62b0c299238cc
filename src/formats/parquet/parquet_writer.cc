#include "formats/parquet/parquet_writer.h"

#include <fmt/core.h>

#include <cmath>
#include <cstring>
#include <functional>
#include <map>
#include <set>
#include <type_traits>

#include "core/decimal.h"
#include "core/temporal.h"
#include "formats/parquet/parquet_codec.h"
#include "formats/parquet/parquet_encoding.h"
#include "formats/parquet/parquet_metadata.h"

namespace sluice::formats {

namespace parquet_internal {

struct WriterRowGroups {
  std::vector<format::RowGroup> row_groups;
};

namespace {

constexpr std::string_view kMagic = "PAR1";
constexpr int32_t kStateFormatVersion = 1;
// Longer min/max values are left out of the statistics (as Arrow does past 4 KiB): they would
// bloat every page header and the footer.
constexpr size_t kMaxStatisticsValueBytes = 4096;
// Rows appended between checks of the row group's size.
constexpr size_t kRowsPerSizeCheck = 1024;

void AppendLittleEndian32(uint32_t value, std::string* out) {
  char bytes[4];
  std::memcpy(bytes, &value, 4);  // x86-64 and aarch64 are little-endian, as Parquet is
  out->append(bytes, 4);
}

// ---- Sort orders (parquet-format LogicalTypes.md, "Sort Order") ----

template <typename T>
struct SignedOrder {
  static bool Less(T a, T b) { return a < b; }
};
template <typename T>
struct UnsignedOrder {
  using Unsigned = std::make_unsigned_t<T>;
  static bool Less(T a, T b) { return static_cast<Unsigned>(a) < static_cast<Unsigned>(b); }
};
// Unsigned lexicographic bytes: strings, json, bytes (char_traits<char> compares as unsigned).
struct BytesOrder {
  static bool Less(std::string_view a, std::string_view b) { return a < b; }
};
// Big-endian two's complement of one width (decimals in FIXED_LEN_BYTE_ARRAY): the first byte
// signed, the rest unsigned.
struct DecimalBytesOrder {
  static bool Less(std::string_view a, std::string_view b) {
    auto first_a = static_cast<int8_t>(a[0]);
    auto first_b = static_cast<int8_t>(b[0]);
    if (first_a != first_b)
      return first_a < first_b;
    return a.substr(1) < b.substr(1);
  }
};

// ---- Getters: a Sluice value as its Parquet physical value ----

template <typename Stored, typename Physical>
struct CastGetter {
  Physical operator()(const Column& column, size_t row, char* /*scratch*/) const {
    return static_cast<Physical>(column.Get<Stored>(row));
  }
};
struct ViewGetter {
  std::string_view operator()(const Column& column, size_t row, char* /*scratch*/) const {
    return column.GetView(row);
  }
};
// An int128 unscaled decimal as `width` big-endian two's complement bytes.
struct DecimalBytesGetter {
  int width;
  std::string_view operator()(const Column& column, size_t row, char* scratch) const {
    auto value = static_cast<unsigned __int128>(column.Get<int128>(row));
    for (int i = width - 1; i >= 0; --i) {
      scratch[i] = static_cast<char>(static_cast<uint8_t>(value));
      value >>= 8;
    }
    return {scratch, static_cast<size_t>(width)};
  }
};
struct BoolGetter {
  bool operator()(const Column& column, size_t row, char* /*scratch*/) const {
    return column.Get<uint8_t>(row) != 0;
  }
};

// Owned form of a physical value, for statistics that outlive the batch.
template <typename P>
using Owned = std::conditional_t<std::is_same_v<P, std::string_view>, std::string, P>;

template <typename P, typename Order>
struct Statistics {
  bool has_min_max = false;
  Owned<P> min{};
  Owned<P> max{};
  int64_t null_count = 0;

  void Update(P value) {
    if constexpr (std::is_floating_point_v<P>) {
      if (std::isnan(value))
        return;  // NaN has no place in the order; readers expect it left out
    }
    if (!has_min_max) {
      min = Owned<P>(value);
      max = Owned<P>(value);
      has_min_max = true;
    } else if (Order::Less(value, min)) {
      min = Owned<P>(value);
    } else if (Order::Less(max, value)) {
      max = Owned<P>(value);
    }
  }
  void Merge(const Statistics& other) {
    null_count += other.null_count;
    if (other.has_min_max) {
      Update(other.min);
      Update(other.max);
    }
  }
  void Reset() { *this = Statistics(); }

  format::Statistics ToThrift() const {
    format::Statistics out;
    out.__set_null_count(null_count);
    if (!has_min_max)
      return out;
    std::string min_bytes = Plain(min, /*is_min=*/true);
    std::string max_bytes = Plain(max, /*is_min=*/false);
    if (min_bytes.size() > kMaxStatisticsValueBytes || max_bytes.size() > kMaxStatisticsValueBytes)
      return out;
    out.__set_min_value(std::move(min_bytes));
    out.__set_max_value(std::move(max_bytes));
    return out;
  }

 private:
  static std::string Plain(const Owned<P>& value, bool is_min) {
    if constexpr (std::is_same_v<P, std::string_view>) {
      return value;
    } else if constexpr (std::is_same_v<P, bool>) {
      return std::string(1, value ? '\1' : '\0');
    } else {
      P written = value;
      if constexpr (std::is_floating_point_v<P>) {
        // The spec's rule for zeros: a min of zero is written -0, a max of zero +0, so that
        // readers filtering on either sign keep the page.
        if (written == 0)
          written = is_min ? -P(0) : P(0);
      }
      std::string out(sizeof(P), '\0');
      std::memcpy(out.data(), &written, sizeof(P));
      return out;
    }
  }
};

// ---- Dictionaries: distinct values in order of first appearance, PLAIN encoded ----

inline uint64_t MixHash(uint64_t bits) {
  bits ^= bits >> 33;
  bits *= 0xff51afd7ed558ccdULL;
  bits ^= bits >> 33;
  return bits;
}

template <typename P>
class Dictionary {
 public:
  explicit Dictionary(bool length_prefixed) : length_prefixed_(length_prefixed) { Clear(); }

  size_t size() const { return count_; }
  /// Size of the PLAIN dictionary page.
  size_t bytes() const {
    if constexpr (std::is_same_v<P, std::string_view>)
      return plain_.size();
    else
      return values_.size() * sizeof(P);
  }
  /// PLAIN bytes added by inserting `value`.
  size_t ValueBytes(P value) const {
    if constexpr (std::is_same_v<P, std::string_view>)
      return value.size() + (length_prefixed_ ? 4 : 0);
    else
      return sizeof(P);
  }
  std::string_view plain() const {
    if constexpr (std::is_same_v<P, std::string_view>)
      return plain_;
    else
      return {reinterpret_cast<const char*>(values_.data()), values_.size() * sizeof(P)};
  }

  /// Index of `value`, or -1 when absent; `*slot` receives where to insert it.
  int64_t Find(P value, size_t* slot) const {
    size_t mask = slots_.size() - 1;
    size_t i = Hash(value) & mask;
    while (true) {
      uint32_t entry = slots_[i];
      if (entry == 0) {
        *slot = i;
        return -1;
      }
      if (Equal(entry - 1, value))
        return entry - 1;
      i = (i + 1) & mask;
    }
  }
  uint32_t Insert(P value, size_t slot) {
    uint32_t index = static_cast<uint32_t>(count_++);
    if constexpr (std::is_same_v<P, std::string_view>) {
      if (length_prefixed_)
        AppendLittleEndian32(static_cast<uint32_t>(value.size()), &plain_);
      entries_.push_back(
          {static_cast<uint32_t>(plain_.size()), static_cast<uint32_t>(value.size())});
      plain_.append(value);
    } else {
      values_.push_back(value);
    }
    slots_[slot] = index + 1;
    if (count_ * 2 > slots_.size())
      Rehash();
    return index;
  }
  void Clear() {
    count_ = 0;
    slots_.assign(1024, 0);
    values_.clear();
    plain_.clear();
    entries_.clear();
  }

 private:
  uint64_t Hash(P value) const {
    if constexpr (std::is_same_v<P, std::string_view>) {
      return std::hash<std::string_view>()(value);
    } else {
      uint64_t bits = 0;
      std::memcpy(&bits, &value, sizeof(P));
      return MixHash(bits);
    }
  }
  P ValueAt(uint32_t index) const {
    if constexpr (std::is_same_v<P, std::string_view>)
      return {plain_.data() + entries_[index].offset, entries_[index].length};
    else
      return values_[index];
  }
  bool Equal(uint32_t index, P value) const {
    if constexpr (std::is_same_v<P, std::string_view>) {
      return ValueAt(index) == value;
    } else {
      P stored = values_[index];
      return std::memcmp(&stored, &value, sizeof(P)) == 0;  // bit-exact: -0 and NaNs apart
    }
  }
  void Rehash() {
    std::vector<uint32_t> slots(slots_.size() * 2, 0);
    size_t mask = slots.size() - 1;
    for (uint32_t index = 0; index < count_; ++index) {
      size_t i = Hash(ValueAt(index)) & mask;
      while (slots[i] != 0)
        i = (i + 1) & mask;
      slots[i] = index + 1;
    }
    slots_.swap(slots);
  }

  struct Entry {
    uint32_t offset;
    uint32_t length;
  };
  bool length_prefixed_;
  size_t count_ = 0;
  std::vector<uint32_t> slots_;  // index + 1, 0 = empty; a power of two, at most half full
  std::vector<P> values_;        // fixed-width values
  std::string plain_;            // byte arrays, PLAIN encoded
  std::vector<Entry> entries_;   // where each byte array sits in plain_
};

}  // namespace

// Encodes one column: pages of the row group being built, then the column chunk.
class ColumnWriter {
 public:
  ColumnWriter(const Field& field, format::SchemaElement element,
               const ParquetWriterOptions& options, PageCompressor* compressor)
      : name_(field.name),
        nullable_(field.nullable),
        element_(std::move(element)),
        options_(options),
        compressor_(compressor) {}
  virtual ~ColumnWriter() = default;

  /// Appends rows [begin, end) of `column` (checked by ParquetWriter::CheckBatch).
  virtual Status Append(const Column& column, size_t begin, size_t end) = 0;
  /// Bytes buffered for the current row group.
  virtual size_t buffered_bytes() const = 0;

  /// Ends the column chunk: writes its pages through `write` and describes them in `chunk`,
  /// whose pages start at `file_offset`.
  Status FinishChunk(uint64_t file_offset, format::ColumnChunk* chunk,
                     const std::function<Status(std::string_view)>& write) {
    SLUICE_RETURN_IF_ERROR(CutPage());
    std::string dictionary_page;
    int64_t dictionary_values = 0;
    SLUICE_RETURN_IF_ERROR(DictionaryPage(&dictionary_page, &dictionary_values));

    format::ColumnMetaData meta;
    meta.type = element_.type;
    std::vector<format::Encoding::type> encodings;
    if (!dictionary_page.empty() || encodings_used_.count(format::Encoding::PLAIN))
      encodings.push_back(format::Encoding::PLAIN);
    if (nullable_ || encodings_used_.count(format::Encoding::RLE))
      encodings.push_back(format::Encoding::RLE);
    if (encodings_used_.count(format::Encoding::RLE_DICTIONARY))
      encodings.push_back(format::Encoding::RLE_DICTIONARY);
    meta.encodings = encodings;
    meta.path_in_schema = {name_};
    meta.codec = static_cast<format::CompressionCodec::type>(compressor_->codec());
    meta.num_values = chunk_values_;
    meta.total_uncompressed_size = uncompressed_bytes_ + dictionary_uncompressed_;
    meta.total_compressed_size = static_cast<int64_t>(pages_.size() + dictionary_page.size());
    meta.data_page_offset = static_cast<int64_t>(file_offset + dictionary_page.size());
    if (!dictionary_page.empty()) {
      meta.__set_dictionary_page_offset(static_cast<int64_t>(file_offset));
      format::PageEncodingStats stats;
      stats.page_type = format::PageType::DICTIONARY_PAGE;
      stats.encoding = format::Encoding::PLAIN;
      stats.count = 1;
      encoding_stats_.insert(encoding_stats_.begin(), stats);
    }
    meta.__set_statistics(ChunkStatistics());
    meta.__set_encoding_stats(encoding_stats_);
    chunk->file_offset = static_cast<int64_t>(file_offset);
    chunk->__set_meta_data(std::move(meta));

    if (!dictionary_page.empty())
      SLUICE_RETURN_IF_ERROR(write(dictionary_page));
    SLUICE_RETURN_IF_ERROR(write(pages_));
    ResetChunk();
    return Status::OK();
  }

 protected:
  virtual Status CutPage() = 0;
  virtual Status DictionaryPage(std::string* page, int64_t* values) = 0;
  virtual format::Statistics ChunkStatistics() const = 0;
  virtual void ResetChunkValues() = 0;

  void ResetChunk() {
    pages_.clear();
    chunk_values_ = 0;
    uncompressed_bytes_ = 0;
    dictionary_uncompressed_ = 0;
    encodings_used_.clear();
    encoding_stats_.clear();
    ResetChunkValues();
  }

  /// Compresses `body` and appends header and page to `out`; returns the uncompressed size
  /// with the header.
  Result<int64_t> AppendPage(format::PageHeader header, std::string_view body, std::string* out) {
    std::string_view compressed = body;
    if (compressor_->compression() != ParquetCompression::kNone) {
      SLUICE_RETURN_IF_ERROR(compressor_->Compress(body, &compressed_));
      compressed = compressed_;
    }
    if (body.size() > static_cast<size_t>(INT32_MAX) ||
        compressed.size() > static_cast<size_t>(INT32_MAX))
      return DataError(fmt::format("column '{}': a page of {} bytes is over Parquet's 2 GiB "
                                   "limit",
                                   name_, body.size()));
    header.uncompressed_page_size = static_cast<int32_t>(body.size());
    header.compressed_page_size = static_cast<int32_t>(compressed.size());
    size_t start = out->size();
    AppendThrift(header, out);
    int64_t header_bytes = static_cast<int64_t>(out->size() - start);
    out->append(compressed);
    return header_bytes + static_cast<int64_t>(body.size());
  }

  void CountPage(format::PageType::type type, format::Encoding::type encoding) {
    encodings_used_.insert(encoding);
    for (auto& stats : encoding_stats_) {
      if (stats.page_type == type && stats.encoding == encoding) {
        ++stats.count;
        return;
      }
    }
    format::PageEncodingStats stats;
    stats.page_type = type;
    stats.encoding = encoding;
    stats.count = 1;
    encoding_stats_.push_back(stats);
  }

  std::string name_;
  bool nullable_;
  format::SchemaElement element_;
  const ParquetWriterOptions& options_;
  PageCompressor* compressor_;
  std::string pages_;  // the chunk's data pages, compressed, with their headers
  int64_t chunk_values_ = 0;
  int64_t uncompressed_bytes_ = 0;
  int64_t dictionary_uncompressed_ = 0;
  std::set<format::Encoding::type> encodings_used_;
  std::vector<format::PageEncodingStats> encoding_stats_;
  std::string body_;        // the page being assembled, reused
  std::string compressed_;  // its compressed form, reused
};

namespace {

template <typename P, typename Getter, typename Order>
class TypedColumnWriter final : public ColumnWriter {
 public:
  TypedColumnWriter(const Field& field, format::SchemaElement element,
                    const ParquetWriterOptions& options, PageCompressor* compressor,
                    Getter getter)
      : ColumnWriter(field, std::move(element), options, compressor),
        getter_(getter),
        dictionary_(element_.type == format::Type::BYTE_ARRAY) {
    ResetChunkValues();
  }

  Status Append(const Column& column, size_t begin, size_t end) override {
    char scratch[16];
    for (size_t row = begin; row < end; ++row) {
      if (nullable_ && column.IsNull(row)) {
        definition_levels_.push_back(0);
        ++page_statistics_.null_count;
        ++page_values_;
        if (page_values_ >= options_.page_values)
          SLUICE_RETURN_IF_ERROR(CutPage());
        continue;
      }
      P value = getter_(column, row, scratch);
      if (dictionary_mode_) {
        size_t slot;
        int64_t index = dictionary_.Find(value, &slot);
        if (index < 0) {
          if (dictionary_.size() > 0 &&
              dictionary_.bytes() + dictionary_.ValueBytes(value) > options_.dictionary_bytes) {
            // The dictionary is full: the rest of this chunk is PLAIN.
            SLUICE_RETURN_IF_ERROR(CutPage());
            dictionary_mode_ = false;
          } else {
            index = dictionary_.Insert(value, slot);
            index_bit_width_ = std::max(1, BitWidth(dictionary_.size() - 1));
          }
        }
        if (dictionary_mode_)
          indices_.push_back(static_cast<uint32_t>(index));
      }
      if (!dictionary_mode_)
        AppendPlain(value);
      page_statistics_.Update(value);
      if (nullable_)
        definition_levels_.push_back(1);
      ++page_values_;
      if (PageBytes() >= options_.page_bytes || page_values_ >= options_.page_values)
        SLUICE_RETURN_IF_ERROR(CutPage());
    }
    return Status::OK();
  }

  size_t buffered_bytes() const override {
    return pages_.size() + dictionary_.bytes() + PageBytes();
  }

 protected:
  Status CutPage() override {
    if (page_values_ == 0)
      return Status::OK();
    body_.clear();
    if (nullable_) {
      body_.resize(4);
      AppendRleBitPacked(definition_levels_.data(), definition_levels_.size(), 1, &body_);
      uint32_t levels_bytes = static_cast<uint32_t>(body_.size() - 4);
      std::memcpy(body_.data(), &levels_bytes, 4);
    }
    // A page of NULLs only in dictionary mode has no indices; PLAIN says the same more simply.
    bool dictionary_page = dictionary_mode_ && !indices_.empty();
    format::Encoding::type encoding =
        dictionary_page ? format::Encoding::RLE_DICTIONARY : format::Encoding::PLAIN;
    if (dictionary_page) {
      body_.push_back(static_cast<char>(index_bit_width_));
      AppendRleBitPacked(indices_.data(), indices_.size(), index_bit_width_, &body_);
    } else if constexpr (std::is_same_v<P, bool>) {
      body_.append(reinterpret_cast<const char*>(bits_.data()), (bit_count_ + 7) / 8);
    } else {
      body_.append(plain_);
    }
    format::PageHeader header;
    header.type = format::PageType::DATA_PAGE;
    format::DataPageHeader data;
    data.num_values = static_cast<int32_t>(page_values_);
    data.encoding = encoding;
    data.definition_level_encoding = format::Encoding::RLE;
    data.repetition_level_encoding = format::Encoding::RLE;
    data.__set_statistics(page_statistics_.ToThrift());
    header.__set_data_page_header(std::move(data));
    SLUICE_ASSIGN_OR_RETURN(int64_t uncompressed, AppendPage(std::move(header), body_, &pages_));
    uncompressed_bytes_ += uncompressed;
    chunk_values_ += page_values_;
    CountPage(format::PageType::DATA_PAGE, encoding);
    chunk_statistics_.Merge(page_statistics_);
    page_statistics_.Reset();
    page_values_ = 0;
    definition_levels_.clear();
    indices_.clear();
    plain_.clear();
    bits_.clear();
    bit_count_ = 0;
    return Status::OK();
  }

  Status DictionaryPage(std::string* page, int64_t* values) override {
    if (dictionary_.size() == 0)
      return Status::OK();
    format::PageHeader header;
    header.type = format::PageType::DICTIONARY_PAGE;
    format::DictionaryPageHeader dictionary;
    dictionary.num_values = static_cast<int32_t>(dictionary_.size());
    dictionary.encoding = format::Encoding::PLAIN;
    header.__set_dictionary_page_header(dictionary);
    SLUICE_ASSIGN_OR_RETURN(dictionary_uncompressed_,
                            AppendPage(std::move(header), dictionary_.plain(), page));
    *values = static_cast<int64_t>(dictionary_.size());
    return Status::OK();
  }

  format::Statistics ChunkStatistics() const override { return chunk_statistics_.ToThrift(); }

  void ResetChunkValues() override {
    dictionary_.Clear();
    dictionary_mode_ = options_.dictionary && !std::is_same_v<P, bool>;
    index_bit_width_ = 1;
    chunk_statistics_.Reset();
  }

 private:
  size_t PageBytes() const {
    size_t levels = definition_levels_.size() / 8;
    if (dictionary_mode_)
      return levels + indices_.size() * static_cast<size_t>(index_bit_width_) / 8;
    if constexpr (std::is_same_v<P, bool>)
      return levels + bit_count_ / 8;
    else
      return levels + plain_.size();
  }

  void AppendPlain(P value) {
    if constexpr (std::is_same_v<P, bool>) {
      if ((bit_count_ & 7) == 0)
        bits_.push_back(0);
      bits_.back() |= static_cast<uint8_t>(value ? 1 : 0) << (bit_count_ & 7);
      ++bit_count_;
    } else if constexpr (std::is_same_v<P, std::string_view>) {
      if (element_.type == format::Type::BYTE_ARRAY)
        AppendLittleEndian32(static_cast<uint32_t>(value.size()), &plain_);
      plain_.append(value);
    } else {
      size_t start = plain_.size();
      plain_.resize(start + sizeof(P));
      std::memcpy(plain_.data() + start, &value, sizeof(P));
    }
  }

  Getter getter_;
  Dictionary<std::conditional_t<std::is_same_v<P, bool>, int32_t, P>> dictionary_;
  bool dictionary_mode_ = false;
  int index_bit_width_ = 1;
  // The page being filled.
  size_t page_values_ = 0;  // NULLs included
  std::vector<uint8_t> definition_levels_;
  std::vector<uint32_t> indices_;
  std::string plain_;
  std::vector<uint8_t> bits_;  // booleans, PLAIN bit-packed
  size_t bit_count_ = 0;
  Statistics<P, Order> page_statistics_;
  Statistics<P, Order> chunk_statistics_;
};

template <typename P, typename Order, typename Getter>
std::unique_ptr<ColumnWriter> MakeWriter(const Field& field, format::SchemaElement element,
                                         const ParquetWriterOptions& options,
                                         PageCompressor* compressor, Getter getter = Getter()) {
  return std::make_unique<TypedColumnWriter<P, Getter, Order>>(field, std::move(element),
                                                               options, compressor, getter);
}

Result<std::unique_ptr<ColumnWriter>> MakeColumnWriter(const Field& field,
                                                       const ParquetWriterOptions& options,
                                                       PageCompressor* compressor) {
  SLUICE_ASSIGN_OR_RETURN(format::SchemaElement element, SchemaElementForField(field));
  auto e = std::move(element);
  switch (field.type.id) {
    case TypeId::kBool:
      return MakeWriter<bool, SignedOrder<bool>, BoolGetter>(field, e, options, compressor);
    case TypeId::kInt8:
      return MakeWriter<int32_t, SignedOrder<int32_t>, CastGetter<int8_t, int32_t>>(
          field, e, options, compressor);
    case TypeId::kInt16:
      return MakeWriter<int32_t, SignedOrder<int32_t>, CastGetter<int16_t, int32_t>>(
          field, e, options, compressor);
    case TypeId::kInt32:
    case TypeId::kDate:
      return MakeWriter<int32_t, SignedOrder<int32_t>, CastGetter<int32_t, int32_t>>(
          field, e, options, compressor);
    case TypeId::kUInt8:
      return MakeWriter<int32_t, UnsignedOrder<int32_t>, CastGetter<uint8_t, int32_t>>(
          field, e, options, compressor);
    case TypeId::kUInt16:
      return MakeWriter<int32_t, UnsignedOrder<int32_t>, CastGetter<uint16_t, int32_t>>(
          field, e, options, compressor);
    case TypeId::kUInt32:
      return MakeWriter<int32_t, UnsignedOrder<int32_t>, CastGetter<uint32_t, int32_t>>(
          field, e, options, compressor);
    case TypeId::kInt64:
    case TypeId::kTime:
    case TypeId::kTimestamp:
    case TypeId::kTimestampTz:
      return MakeWriter<int64_t, SignedOrder<int64_t>, CastGetter<int64_t, int64_t>>(
          field, e, options, compressor);
    case TypeId::kUInt64:
      return MakeWriter<int64_t, UnsignedOrder<int64_t>, CastGetter<uint64_t, int64_t>>(
          field, e, options, compressor);
    case TypeId::kFloat32:
      return MakeWriter<float, SignedOrder<float>, CastGetter<float, float>>(field, e, options,
                                                                             compressor);
    case TypeId::kFloat64:
      return MakeWriter<double, SignedOrder<double>, CastGetter<double, double>>(
          field, e, options, compressor);
    case TypeId::kDecimal:
      if (field.type.precision <= 9)
        return MakeWriter<int32_t, SignedOrder<int32_t>, CastGetter<int128, int32_t>>(
            field, e, options, compressor);
      if (field.type.precision <= 18)
        return MakeWriter<int64_t, SignedOrder<int64_t>, CastGetter<int128, int64_t>>(
            field, e, options, compressor);
      return MakeWriter<std::string_view, DecimalBytesOrder, DecimalBytesGetter>(
          field, e, options, compressor, DecimalBytesGetter{e.type_length});
    case TypeId::kString:
    case TypeId::kJson:
    case TypeId::kBytes:
      return MakeWriter<std::string_view, BytesOrder, ViewGetter>(field, e, options, compressor);
    case TypeId::kNull:
      break;
  }
  return Internal(fmt::format("column '{}': no Parquet writer for {}", field.name,
                              field.type.ToString()));
}

}  // namespace
}  // namespace parquet_internal

using namespace parquet_internal;  // NOLINT(google-build-using-namespace): this file's own parts

ParquetWriter::ParquetWriter(io::OutputStream* output, SchemaPtr schema,
                             ParquetWriterOptions options)
    : output_(output),
      schema_(std::move(schema)),
      options_(options),
      row_groups_(std::make_unique<WriterRowGroups>()) {}

ParquetWriter::~ParquetWriter() = default;

Status ParquetWriter::Start() {
  SLUICE_RETURN_IF_ERROR(options_.Validate());
  compressor_ = std::make_unique<PageCompressor>(options_.compression, options_.compression_level);
  for (const Field& field : schema_->fields()) {
    SLUICE_ASSIGN_OR_RETURN(auto column, MakeColumnWriter(field, options_, compressor_.get()));
    columns_.push_back(std::move(column));
  }
  return Status::OK();
}

Result<std::unique_ptr<ParquetWriter>> ParquetWriter::Open(io::OutputStream* output,
                                                           SchemaPtr schema,
                                                           ParquetWriterOptions options) {
  std::unique_ptr<ParquetWriter> writer(new ParquetWriter(output, std::move(schema), options));
  SLUICE_RETURN_IF_ERROR(writer->Start());
  SLUICE_RETURN_IF_ERROR(writer->WriteToStream(kMagic));
  writer->committed_bytes_ = kMagic.size();
  return writer;
}

namespace {

Result<format::SluiceWriterState> ParseState(std::string_view committed_state) {
  format::SluiceWriterState state;
  auto parsed = ReadThrift(committed_state, &state);
  if (!parsed.ok())
    return parsed.status().WithContext("Cannot resume a Parquet file: its committed state");
  if (state.format_version != kStateFormatVersion)
    return DataError(fmt::format("Cannot resume a Parquet file: committed state version {} is "
                                 "not {}",
                                 state.format_version, kStateFormatVersion));
  if (state.file_bytes < static_cast<int64_t>(kMagic.size()))
    return DataError("Cannot resume a Parquet file: its committed state is corrupt");
  return state;
}

}  // namespace

Result<uint64_t> ParquetWriter::CommittedFileBytes(std::string_view committed_state) {
  SLUICE_ASSIGN_OR_RETURN(auto state, ParseState(committed_state));
  return static_cast<uint64_t>(state.file_bytes);
}

Result<std::unique_ptr<ParquetWriter>> ParquetWriter::Resume(io::OutputStream* output,
                                                             SchemaPtr schema,
                                                             ParquetWriterOptions options,
                                                             std::string_view committed_state) {
  SLUICE_ASSIGN_OR_RETURN(auto state, ParseState(committed_state));
  if (state.schema != schema->ToString())
    return InvalidConfig(fmt::format("Cannot resume a Parquet file written for schema ({}) with "
                                     "schema ({})",
                                     state.schema, schema->ToString()));
  std::unique_ptr<ParquetWriter> writer(new ParquetWriter(output, std::move(schema), options));
  SLUICE_RETURN_IF_ERROR(writer->Start());
  writer->committed_bytes_ = static_cast<uint64_t>(state.file_bytes);
  for (const auto& row_group : state.row_groups)
    writer->committed_rows_ += row_group.num_rows;
  writer->row_groups_->row_groups = std::move(state.row_groups);
  return writer;
}

Status ParquetWriter::WriteToStream(std::string_view bytes) {
  Status status = output_->Write(bytes);
  if (!status.ok())
    failed_ = status;
  return status;
}

Status ParquetWriter::CheckBatch(const Batch& batch, size_t begin, size_t end) const {
  if (batch.num_columns() != columns_.size())
    return Internal(fmt::format("Parquet writer for {} columns given a batch of {}",
                                columns_.size(), batch.num_columns()));
  for (size_t i = 0; i < columns_.size(); ++i) {
    const Field& field = schema_->field(i);
    const Column& column = batch.column(i);
    if (column.type() != field.type)
      return Internal(fmt::format("column '{}': Parquet writer for {} given {}", field.name,
                                  field.type.ToString(), column.type().ToString()));
    if (!field.nullable) {
      for (size_t row = begin; row < end; ++row) {
        if (column.IsNull(row))
          return DataError(fmt::format("column '{}' is not nullable but row {} is NULL",
                                       field.name, row));
      }
    }
    if (field.type.id == TypeId::kTime) {
      for (size_t row = begin; row < end; ++row) {
        if (column.IsNull(row))
          continue;
        int64_t micros = column.Get<int64_t>(row);
        if (micros < 0 || micros > kMicrosPerDay) {
          std::string text;
          AppendTime(micros, &text);
          return DataError(fmt::format("column '{}': time {} is outside Parquet TIME's range "
                                       "00:00:00..24:00:00",
                                       field.name, text));
        }
      }
    }
  }
  return Status::OK();
}

Status ParquetWriter::WriteRows(const Batch& batch, size_t begin, size_t end) {
  if (!failed_.ok())
    return failed_;
  if (finished_)
    return Internal("Parquet writer used after Finish()");
  SLUICE_RETURN_IF_ERROR(CheckBatch(batch, begin, end));
  for (size_t slice = begin; slice < end; slice += kRowsPerSizeCheck) {
    size_t slice_end = std::min(end, slice + kRowsPerSizeCheck);
    for (size_t i = 0; i < columns_.size(); ++i) {
      Status status = columns_[i]->Append(batch.column(i), slice, slice_end);
      if (!status.ok()) {
        failed_ = status;
        return status;
      }
    }
    buffered_rows_ += static_cast<int64_t>(slice_end - slice);
    if (buffered_bytes() >= options_.row_group_bytes)
      SLUICE_RETURN_IF_ERROR(FlushRowGroup());
  }
  return Status::OK();
}

size_t ParquetWriter::buffered_bytes() const {
  size_t bytes = 0;
  for (const auto& column : columns_)
    bytes += column->buffered_bytes();
  return bytes;
}

Status ParquetWriter::FlushRowGroup() {
  if (!failed_.ok())
    return failed_;
  if (buffered_rows_ == 0)
    return Status::OK();
  format::RowGroup row_group;
  row_group.num_rows = buffered_rows_;
  row_group.__set_file_offset(static_cast<int64_t>(committed_bytes_));
  uint64_t offset = committed_bytes_;
  int64_t uncompressed = 0;
  auto write = [&](std::string_view bytes) {
    offset += bytes.size();
    return WriteToStream(bytes);
  };
  for (auto& column : columns_) {
    format::ColumnChunk chunk;
    Status status = column->FinishChunk(offset, &chunk, write);
    if (!status.ok()) {
      failed_ = status;
      return status;
    }
    uncompressed += chunk.meta_data.total_uncompressed_size;
    row_group.columns.push_back(std::move(chunk));
  }
  row_group.total_byte_size = uncompressed;
  row_group.__set_total_compressed_size(static_cast<int64_t>(offset - committed_bytes_));
  if (row_groups_->row_groups.size() <= static_cast<size_t>(INT16_MAX))  // an i16 in Thrift
    row_group.__set_ordinal(static_cast<int16_t>(row_groups_->row_groups.size()));
  row_groups_->row_groups.push_back(std::move(row_group));
  committed_bytes_ = offset;
  committed_rows_ += buffered_rows_;
  buffered_rows_ = 0;
  return Status::OK();
}

std::string ParquetWriter::CommittedState() const {
  format::SluiceWriterState state;
  state.format_version = kStateFormatVersion;
  state.file_bytes = static_cast<int64_t>(committed_bytes_);
  state.schema = schema_->ToString();
  state.row_groups = row_groups_->row_groups;
  std::string out;
  AppendThrift(state, &out);
  return out;
}

Status ParquetWriter::Finish() {
  if (finished_)
    return Status::OK();
  SLUICE_RETURN_IF_ERROR(FlushRowGroup());
  format::FileMetaData meta;
  meta.version = 2;
  format::SchemaElement root;
  root.name = "schema";
  root.__set_num_children(static_cast<int32_t>(schema_->num_fields()));
  meta.schema.push_back(root);
  std::vector<format::ColumnOrder> orders;
  for (const Field& field : schema_->fields()) {
    SLUICE_ASSIGN_OR_RETURN(format::SchemaElement element, SchemaElementForField(field));
    meta.schema.push_back(std::move(element));
    format::ColumnOrder order;
    order.__set_TYPE_ORDER(format::TypeDefinedOrder());
    orders.push_back(order);
  }
  meta.num_rows = committed_rows_;
  meta.row_groups = row_groups_->row_groups;
  meta.__set_created_by("sluice");
  meta.__set_column_orders(orders);
  std::string footer;
  AppendThrift(meta, &footer);
  uint32_t footer_bytes = static_cast<uint32_t>(footer.size());
  AppendLittleEndian32(footer_bytes, &footer);
  footer.append(kMagic);
  SLUICE_RETURN_IF_ERROR(WriteToStream(footer));
  finished_ = true;
  return Status::OK();
}

}  // namespace sluice::formats
