#include "formats/parquet/parquet_reader.h"

#include <fmt/core.h>

#include <cstring>
#include <type_traits>

#include "core/decimal.h"
#include "formats/parquet/parquet_codec.h"
#include "formats/parquet/parquet_encoding.h"
#include "formats/parquet/parquet_metadata.h"

namespace sluice::formats {

namespace parquet_internal {

struct ReaderFooter {
  format::FileMetaData meta;
};

namespace {

constexpr std::string_view kMagic = "PAR1";
constexpr std::string_view kEncryptedMagic = "PARE";

uint32_t LoadLittleEndian32(const char* bytes) {
  uint32_t value;
  std::memcpy(&value, bytes, 4);
  return value;
}

// ---- Setters: a physical value appended to a Sluice column ----

template <typename Target>
struct CastSetter {
  template <typename P>
  Status operator()(P value, Column* out) const {
    out->Append<Target>(static_cast<Target>(value));
    return Status::OK();
  }
};
struct ViewSetter {
  Status operator()(std::string_view value, Column* out) const {
    out->AppendView(value);
    return Status::OK();
  }
};
struct BoolSetter {
  Status operator()(bool value, Column* out) const {
    out->Append<uint8_t>(value ? 1 : 0);
    return Status::OK();
  }
};
// Big-endian two's complement bytes (BYTE_ARRAY or FIXED_LEN_BYTE_ARRAY decimals) to int128.
struct DecimalBytesSetter {
  Status operator()(std::string_view value, Column* out) const {
    if (value.empty()) {
      out->Append<int128>(0);
      return Status::OK();
    }
    // Bytes beyond 16 must be sign extension.
    const char sign = static_cast<int8_t>(value[0]) < 0 ? '\xff' : '\0';
    while (value.size() > 16) {
      if (value[0] != sign)
        return DataError("a decimal value does not fit 128 bits");
      value.remove_prefix(1);
    }
    unsigned __int128 bits = static_cast<int8_t>(value[0]) < 0 ? ~static_cast<unsigned __int128>(0)
                                                               : 0;
    for (char byte : value)
      bits = (bits << 8) | static_cast<uint8_t>(byte);
    out->Append<int128>(static_cast<int128>(bits));
    return Status::OK();
  }
};
// Milliseconds (multiply) or nanoseconds (divide, exactly) to microseconds.
struct ScaleSetter {
  int64_t multiply = 1;
  int64_t divide = 1;
  Status operator()(int64_t value, Column* out) const {
    if (divide != 1) {
      if (value % divide != 0)
        return DataError(fmt::format("nanosecond value {} is not a whole microsecond; Sluice "
                                     "keeps microseconds",
                                     value));
      out->Append<int64_t>(value / divide);
    } else {
      out->Append<int64_t>(value * multiply);
    }
    return Status::OK();
  }
};

}  // namespace

// Decodes one column chunk, page by page, into a Sluice column.
class ColumnReader {
 public:
  ColumnReader(const Field& field, const format::SchemaElement& element,
               const RandomAccessFile* file)
      : field_(field), element_(element), file_(file) {}
  virtual ~ColumnReader() = default;

  /// Loads the chunk's bytes.
  Status StartChunk(const format::ColumnChunk& chunk) {
    if (!chunk.__isset.meta_data)
      return DataError("a column chunk without metadata (encrypted or external) is not "
                       "supported");
    const format::ColumnMetaData& meta = chunk.meta_data;
    if (meta.type != element_.type)
      return DataError(fmt::format("the column chunk's type {} differs from the schema's {}",
                                   PhysicalTypeName(meta.type), PhysicalTypeName(element_.type)));
    int64_t start = meta.data_page_offset;
    if (meta.__isset.dictionary_page_offset && meta.dictionary_page_offset > 0 &&
        meta.dictionary_page_offset < start)
      start = meta.dictionary_page_offset;
    if (start < 0 || meta.total_compressed_size < 0 ||
        static_cast<uint64_t>(start) + static_cast<uint64_t>(meta.total_compressed_size) >
            file_->size())
      return DataError("the column chunk lies outside the file");
    codec_ = meta.codec;
    values_left_in_chunk_ = meta.num_values;
    chunk_.resize(static_cast<size_t>(meta.total_compressed_size));
    SLUICE_RETURN_IF_ERROR(
        file_->ReadAt(static_cast<uint64_t>(start), chunk_.size(), chunk_.data()));
    position_ = 0;
    page_values_ = 0;
    page_position_ = 0;
    has_dictionary_ = false;
    return Status::OK();
  }

  /// Appends the next `rows` values to `out`.
  virtual Status Read(size_t rows, Column* out) = 0;

 protected:
  // The next data page's levels and encoded values, after any dictionary page before it.
  struct DataPage {
    int32_t num_values = 0;
    format::Encoding::type encoding = format::Encoding::PLAIN;
    std::string_view values;  // encoded values, decompressed
  };

  /// Loads the next data page into `page`, handing dictionary pages to DecodeDictionary.
  Status NextDataPage(DataPage* page) {
    while (true) {
      if (position_ >= chunk_.size())
        return DataError("the column chunk ends before its last value");
      std::string_view rest(chunk_.data() + position_, chunk_.size() - position_);
      format::PageHeader header;
      SLUICE_ASSIGN_OR_RETURN(size_t header_bytes, ReadThrift(rest, &header));
      if (header.compressed_page_size < 0 || header.uncompressed_page_size < 0 ||
          static_cast<size_t>(header.compressed_page_size) > rest.size() - header_bytes)
        return DataError("a page runs past the end of its column chunk");
      std::string_view body = rest.substr(header_bytes, header.compressed_page_size);
      position_ += header_bytes + body.size();
      const auto uncompressed = static_cast<size_t>(header.uncompressed_page_size);
      switch (header.type) {
        case format::PageType::DICTIONARY_PAGE: {
          if (!header.__isset.dictionary_page_header)
            return DataError("a dictionary page without its header");
          const auto& dictionary = header.dictionary_page_header;
          if (dictionary.encoding != format::Encoding::PLAIN &&
              dictionary.encoding != format::Encoding::PLAIN_DICTIONARY)
            return Unsupported(fmt::format("dictionary page encoding {}",
                                           EncodingName(dictionary.encoding)));
          SLUICE_RETURN_IF_ERROR(
              decompressor_.Decompress(codec_, body, uncompressed, &dictionary_buffer_));
          SLUICE_RETURN_IF_ERROR(DecodeDictionary(dictionary_buffer_, dictionary.num_values));
          has_dictionary_ = true;
          continue;
        }
        case format::PageType::DATA_PAGE: {
          if (!header.__isset.data_page_header)
            return DataError("a data page without its header");
          const auto& data = header.data_page_header;
          SLUICE_RETURN_IF_ERROR(
              decompressor_.Decompress(codec_, body, uncompressed, &page_buffer_));
          std::string_view bytes = page_buffer_;
          page->num_values = data.num_values;
          page->encoding = data.encoding;
          if (field_.nullable) {
            if (data.definition_level_encoding != format::Encoding::RLE)
              return Unsupported(fmt::format("definition level encoding {}",
                                             EncodingName(data.definition_level_encoding)));
            if (bytes.size() < 4)
              return DataError("a data page too short for its definition levels");
            uint32_t levels_bytes = LoadLittleEndian32(bytes.data());
            if (levels_bytes > bytes.size() - 4)
              return DataError("definition levels run past the end of their page");
            SLUICE_RETURN_IF_ERROR(
                DecodeLevels(bytes.substr(4, levels_bytes), data.num_values));
            bytes.remove_prefix(4 + levels_bytes);
          }
          page->values = bytes;
          return Status::OK();
        }
        case format::PageType::DATA_PAGE_V2: {
          if (!header.__isset.data_page_header_v2)
            return DataError("a data page v2 without its header");
          const auto& data = header.data_page_header_v2;
          if (data.repetition_levels_byte_length != 0)
            return Unsupported("repetition levels (a repeated column)");
          if (data.definition_levels_byte_length < 0 ||
              static_cast<size_t>(data.definition_levels_byte_length) > body.size() ||
              static_cast<size_t>(data.definition_levels_byte_length) > uncompressed)
            return DataError("definition levels run past the end of their page");
          const auto levels_bytes = static_cast<size_t>(data.definition_levels_byte_length);
          page->num_values = data.num_values;
          page->encoding = data.encoding;
          if (field_.nullable) {
            SLUICE_RETURN_IF_ERROR(DecodeLevels(body.substr(0, levels_bytes), data.num_values));
          }
          std::string_view values = body.substr(levels_bytes);
          if (data.is_compressed) {
            SLUICE_RETURN_IF_ERROR(decompressor_.Decompress(codec_, values,
                                                            uncompressed - levels_bytes,
                                                            &page_buffer_));
          } else {
            page_buffer_.assign(values);
          }
          page->values = page_buffer_;
          return Status::OK();
        }
        default:
          continue;  // index pages and anything newer carry no values
      }
    }
  }

  Status DecodeLevels(std::string_view bytes, int32_t count) {
    if (count < 0)
      return DataError("a page with a negative value count");
    definition_levels_.resize(static_cast<size_t>(count));
    RleBitPackedDecoder decoder(bytes, 1);
    if (!decoder.Decode(definition_levels_.data(), definition_levels_.size()))
      return DataError("corrupt definition levels");
    return Status::OK();
  }

  virtual Status DecodeDictionary(std::string_view bytes, int32_t count) = 0;

  Field field_;
  format::SchemaElement element_;
  const RandomAccessFile* file_;
  int codec_ = 0;
  PageDecompressor decompressor_;
  std::string chunk_;  // the whole column chunk as stored
  size_t position_ = 0;
  int64_t values_left_in_chunk_ = 0;
  std::string dictionary_buffer_;
  std::string page_buffer_;
  bool has_dictionary_ = false;
  std::vector<uint8_t> definition_levels_;  // of the current page (nullable columns)
  size_t page_values_ = 0;                  // values in the current page, NULLs included
  size_t page_position_ = 0;                // values of it consumed
};

namespace {

template <typename P, typename Setter>
class TypedColumnReader final : public ColumnReader {
  // Booleans are held one per byte (std::vector<bool> has no data()).
  using Value = std::conditional_t<std::is_same_v<P, bool>, uint8_t, P>;

 public:
  TypedColumnReader(const Field& field, const format::SchemaElement& element,
                    const RandomAccessFile* file, Setter setter)
      : ColumnReader(field, element, file), setter_(setter) {}

  Status Read(size_t rows, Column* out) override {
    while (rows > 0) {
      if (page_position_ == page_values_)
        SLUICE_RETURN_IF_ERROR(LoadPage());
      size_t n = std::min(rows, page_values_ - page_position_);
      if (field_.nullable) {
        for (size_t i = 0; i < n; ++i) {
          if (definition_levels_[page_position_ + i] == 0) {
            out->AppendNull();
          } else {
            SLUICE_RETURN_IF_ERROR(setter_(values_[value_position_++], out));
          }
        }
      } else {
        for (size_t i = 0; i < n; ++i)
          SLUICE_RETURN_IF_ERROR(setter_(values_[value_position_++], out));
      }
      page_position_ += n;
      rows -= n;
    }
    return Status::OK();
  }

 private:
  Status LoadPage() {
    DataPage page;
    SLUICE_RETURN_IF_ERROR(NextDataPage(&page));
    page_values_ = static_cast<size_t>(page.num_values);
    page_position_ = 0;
    value_position_ = 0;
    size_t present = page_values_;
    if (field_.nullable) {
      present = 0;
      for (uint8_t level : definition_levels_)
        present += level;
    }
    values_.resize(present);
    switch (page.encoding) {
      case format::Encoding::PLAIN:
        return DecodePlain(page.values, present, values_.data());
      case format::Encoding::PLAIN_DICTIONARY:
      case format::Encoding::RLE_DICTIONARY: {
        if (!has_dictionary_)
          return DataError("a dictionary-encoded page without a dictionary page");
        if (present == 0)
          return Status::OK();
        if (page.values.empty())
          return DataError("a dictionary-encoded page without its bit width");
        int bit_width = static_cast<uint8_t>(page.values[0]);
        indices_.resize(present);
        RleBitPackedDecoder decoder(page.values.substr(1), bit_width);
        if (!decoder.Decode(indices_.data(), present))
          return DataError("corrupt dictionary indices");
        for (size_t i = 0; i < present; ++i) {
          if (indices_[i] >= dictionary_.size())
            return DataError("a dictionary index past the end of the dictionary");
          values_[i] = dictionary_[indices_[i]];
        }
        return Status::OK();
      }
      case format::Encoding::RLE:
        if constexpr (std::is_same_v<P, bool>) {
          // RLE booleans: a 4-byte length, then the hybrid at bit width 1.
          if (page.values.size() < 4)
            return DataError("an RLE boolean page too short for its length");
          uint32_t bytes = LoadLittleEndian32(page.values.data());
          if (bytes > page.values.size() - 4)
            return DataError("RLE booleans run past the end of their page");
          std::vector<uint8_t> bits(present);
          RleBitPackedDecoder decoder(page.values.substr(4, bytes), 1);
          if (!decoder.Decode(bits.data(), present))
            return DataError("corrupt RLE booleans");
          for (size_t i = 0; i < present; ++i)
            values_[i] = bits[i] != 0;
          return Status::OK();
        }
        [[fallthrough]];
      default:
        return Unsupported(fmt::format("encoding {} is not supported (supported: PLAIN, "
                                       "PLAIN_DICTIONARY, RLE_DICTIONARY, RLE for booleans)",
                                       EncodingName(page.encoding)));
    }
  }

  Status DecodeDictionary(std::string_view bytes, int32_t count) override {
    if (count < 0)
      return DataError("a dictionary page with a negative value count");
    dictionary_.resize(static_cast<size_t>(count));
    return DecodePlain(bytes, dictionary_.size(), dictionary_.data());
  }

  // PLAIN values; byte arrays become views of `bytes`.
  Status DecodePlain(std::string_view bytes, size_t count, Value* out) {
    if constexpr (std::is_same_v<P, bool>) {
      if (bytes.size() < (count + 7) / 8)
        return DataError("PLAIN booleans run past the end of their page");
      for (size_t i = 0; i < count; ++i)
        out[i] = (static_cast<uint8_t>(bytes[i >> 3]) >> (i & 7)) & 1;
    } else if constexpr (std::is_same_v<P, std::string_view>) {
      if (element_.type == format::Type::FIXED_LEN_BYTE_ARRAY) {
        size_t width = static_cast<size_t>(element_.type_length);
        if (bytes.size() / (width == 0 ? 1 : width) < count)
          return DataError("PLAIN values run past the end of their page");
        for (size_t i = 0; i < count; ++i)
          out[i] = bytes.substr(i * width, width);
      } else {
        size_t offset = 0;
        for (size_t i = 0; i < count; ++i) {
          if (bytes.size() - offset < 4)
            return DataError("PLAIN values run past the end of their page");
          uint32_t length = LoadLittleEndian32(bytes.data() + offset);
          offset += 4;
          if (length > bytes.size() - offset)
            return DataError("PLAIN values run past the end of their page");
          out[i] = bytes.substr(offset, length);
          offset += length;
        }
      }
    } else {
      if (bytes.size() / sizeof(P) < count)
        return DataError("PLAIN values run past the end of their page");
      std::memcpy(out, bytes.data(), count * sizeof(P));
    }
    return Status::OK();
  }

  Setter setter_;
  std::vector<Value> dictionary_;
  std::vector<Value> values_;  // the current page's non-NULL values
  size_t value_position_ = 0;
  std::vector<uint32_t> indices_;
};

template <typename P, typename Setter>
std::unique_ptr<ColumnReader> MakeReader(const Field& field, const format::SchemaElement& element,
                                         const RandomAccessFile* file, Setter setter = Setter()) {
  return std::make_unique<TypedColumnReader<P, Setter>>(field, element, file, setter);
}

// Multiplier or divisor to microseconds of a TIME or TIMESTAMP column.
ScaleSetter ScaleToMicros(const format::SchemaElement& element) {
  const format::TimeUnit* unit = nullptr;
  if (element.__isset.logicalType && element.logicalType.__isset.TIMESTAMP)
    unit = &element.logicalType.TIMESTAMP.unit;
  if (element.__isset.logicalType && element.logicalType.__isset.TIME)
    unit = &element.logicalType.TIME.unit;
  if (unit != nullptr) {
    if (unit->__isset.MILLIS)
      return {1000, 1};
    if (unit->__isset.NANOS)
      return {1, 1000};
    return {1, 1};
  }
  if (element.__isset.converted_type &&
      (element.converted_type == format::ConvertedType::TIME_MILLIS ||
       element.converted_type == format::ConvertedType::TIMESTAMP_MILLIS))
    return {1000, 1};
  return {1, 1};
}

Result<std::unique_ptr<ColumnReader>> MakeColumnReader(const Field& field,
                                                       const format::SchemaElement& element,
                                                       const RandomAccessFile* file) {
  const auto physical = element.type;
  switch (field.type.id) {
    case TypeId::kBool:
      return MakeReader<bool, BoolSetter>(field, element, file);
    case TypeId::kInt8:
      return MakeReader<int32_t, CastSetter<int8_t>>(field, element, file);
    case TypeId::kInt16:
      return MakeReader<int32_t, CastSetter<int16_t>>(field, element, file);
    case TypeId::kInt32:
    case TypeId::kDate:
      return MakeReader<int32_t, CastSetter<int32_t>>(field, element, file);
    case TypeId::kUInt8:
      return MakeReader<int32_t, CastSetter<uint8_t>>(field, element, file);
    case TypeId::kUInt16:
      return MakeReader<int32_t, CastSetter<uint16_t>>(field, element, file);
    case TypeId::kUInt32:
      if (physical == format::Type::INT64)
        return MakeReader<int64_t, CastSetter<uint32_t>>(field, element, file);
      return MakeReader<int32_t, CastSetter<uint32_t>>(field, element, file);
    case TypeId::kInt64:
      return MakeReader<int64_t, CastSetter<int64_t>>(field, element, file);
    case TypeId::kUInt64:
      return MakeReader<int64_t, CastSetter<uint64_t>>(field, element, file);
    case TypeId::kFloat32:
      return MakeReader<float, CastSetter<float>>(field, element, file);
    case TypeId::kFloat64:
      return MakeReader<double, CastSetter<double>>(field, element, file);
    case TypeId::kDecimal:
      if (physical == format::Type::INT32)
        return MakeReader<int32_t, CastSetter<int128>>(field, element, file);
      if (physical == format::Type::INT64)
        return MakeReader<int64_t, CastSetter<int128>>(field, element, file);
      return MakeReader<std::string_view, DecimalBytesSetter>(field, element, file);
    case TypeId::kString:
    case TypeId::kJson:
    case TypeId::kBytes:
      return MakeReader<std::string_view, ViewSetter>(field, element, file);
    case TypeId::kTime:
      if (physical == format::Type::INT32)  // TIME(MILLIS)
        return MakeReader<int32_t, CastSetter<int64_t>>(field, element, file);
      [[fallthrough]];
    case TypeId::kTimestamp:
    case TypeId::kTimestampTz:
      if (physical == format::Type::INT32)
        break;
      return MakeReader<int64_t, ScaleSetter>(field, element, file, ScaleToMicros(element));
    default:
      break;
  }
  return Unsupported(fmt::format("no reader for {} stored as {}", field.type.ToString(),
                                 PhysicalTypeName(physical)));
}

}  // namespace
}  // namespace parquet_internal

using namespace parquet_internal;  // NOLINT(google-build-using-namespace): this file's own parts

ParquetReader::ParquetReader(std::unique_ptr<RandomAccessFile> file)
    : file_(std::move(file)), footer_(std::make_unique<ReaderFooter>()) {}

ParquetReader::~ParquetReader() = default;

int ParquetReader::num_row_groups() const {
  return static_cast<int>(footer_->meta.row_groups.size());
}

const std::string& ParquetReader::created_by() const {
  return footer_->meta.created_by;
}

Result<std::unique_ptr<ParquetReader>> ParquetReader::Open(std::unique_ptr<RandomAccessFile> file) {
  std::unique_ptr<ParquetReader> reader(new ParquetReader(std::move(file)));
  Status status = reader->ReadFooter();
  if (!status.ok())
    return status.WithContext(fmt::format("Cannot read Parquet file '{}'", reader->file_->name()));
  return reader;
}

Status ParquetReader::ReadFooter() {
  const uint64_t size = file_->size();
  if (size < 12)
    return DataError(fmt::format("{} bytes are too few for a Parquet file", size));
  char head[4];
  char tail[8];
  SLUICE_RETURN_IF_ERROR(file_->ReadAt(0, 4, head));
  SLUICE_RETURN_IF_ERROR(file_->ReadAt(size - 8, 8, tail));
  if (std::string_view(tail + 4, 4) == kEncryptedMagic)
    return Unsupported("encrypted Parquet files are not supported");
  if (std::string_view(head, 4) != kMagic || std::string_view(tail + 4, 4) != kMagic)
    return DataError("not a Parquet file (no PAR1 magic at both ends; an unfinished file?)");
  uint32_t footer_bytes = LoadLittleEndian32(tail);
  if (footer_bytes > size - 12)
    return DataError(fmt::format("footer length {} is larger than the file", footer_bytes));
  std::string footer(footer_bytes, '\0');
  SLUICE_RETURN_IF_ERROR(file_->ReadAt(size - 8 - footer_bytes, footer_bytes, footer.data()));
  SLUICE_RETURN_IF_ERROR(ReadThrift(footer, &footer_->meta).status());
  const format::FileMetaData& meta = footer_->meta;
  if (meta.schema.empty())
    return DataError("the footer has no schema");
  const auto& root = meta.schema[0];
  const size_t leaves = meta.schema.size() - 1;
  std::vector<Field> fields;
  for (size_t i = 1; i < meta.schema.size(); ++i) {
    const auto& element = meta.schema[i];
    if (element.__isset.num_children && element.num_children > 0)
      return Unsupported(fmt::format("column '{}': nested columns (groups, lists, maps) are "
                                     "not supported",
                                     element.name));
    SLUICE_ASSIGN_OR_RETURN(Field field, FieldForSchemaElement(element));
    fields.push_back(std::move(field));
  }
  if (!root.__isset.num_children || static_cast<size_t>(root.num_children) != leaves)
    return DataError("the schema's root does not list its columns");
  schema_ = std::make_shared<Schema>(fields);
  for (size_t i = 0; i < fields.size(); ++i) {
    auto column = MakeColumnReader(fields[i], meta.schema[i + 1], file_.get());
    if (!column.ok())
      return column.status().WithContext(fmt::format("column '{}'", fields[i].name));
    columns_.push_back(std::move(column).value());
  }
  for (const auto& row_group : meta.row_groups) {
    if (row_group.columns.size() != fields.size())
      return DataError(fmt::format("a row group has {} column chunks for {} columns",
                                   row_group.columns.size(), fields.size()));
    num_rows_ += row_group.num_rows;
  }
  return Status::OK();
}

Status ParquetReader::StartRowGroup(int index) {
  const auto& row_group = footer_->meta.row_groups[static_cast<size_t>(index)];
  for (size_t i = 0; i < columns_.size(); ++i) {
    Status status = columns_[i]->StartChunk(row_group.columns[i]);
    if (!status.ok())
      return status.WithContext(fmt::format("Cannot read Parquet file '{}': row group {}, "
                                            "column '{}'",
                                            file_->name(), index, schema_->field(i).name));
  }
  rows_left_in_row_group_ = row_group.num_rows;
  return Status::OK();
}

Result<size_t> ParquetReader::ReadBatch(Batch* batch) {
  size_t appended = 0;
  while (!batch->full()) {
    if (rows_left_in_row_group_ == 0) {
      if (next_row_group_ >= num_row_groups())
        break;
      SLUICE_RETURN_IF_ERROR(StartRowGroup(next_row_group_++));
      continue;
    }
    size_t rows = std::min(batch->capacity() - batch->num_rows(),
                           static_cast<size_t>(rows_left_in_row_group_));
    for (size_t i = 0; i < columns_.size(); ++i) {
      Status status = columns_[i]->Read(rows, &batch->column(i));
      if (!status.ok())
        return status.WithContext(fmt::format("Cannot read Parquet file '{}': row group {}, "
                                              "column '{}'",
                                              file_->name(), next_row_group_ - 1,
                                              schema_->field(i).name));
    }
    for (size_t row = 0; row < rows; ++row)
      batch->FinishRow();
    rows_left_in_row_group_ -= static_cast<int64_t>(rows);
    appended += rows;
  }
  return appended;
}

}  // namespace sluice::formats
