// The PostgreSQL type mapping (docs/TYPE_MAPPING.md) and the binary COPY codecs.
//
// Reading: each column gets a Decoder chosen from its base type (domains resolved). Types without
// an exact logical twin (interval, enums, arrays, tsvector, money, inet, ...) are selected as
// `col::text` and read as strings. Decoders parse the binary wire format straight into a
// Column: no text round trip, floats bit-exact, numeric into the int128 fast path or canonical
// text.
//
// Writing: each target column gets an Encoder chosen from the incoming logical type and the
// column's base type; values are appended to a CopyBuffer in the binary COPY format. A target
// type without a binary encoder for the incoming type (a string into a tsvector column, say) is
// loaded as text into a staging column and cast by the server (`via_text`).
//
// Stateless functions and plain values; thread-safe. Hot paths allocate nothing per value.
#pragma once

#include <cstdint>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "core/batch.h"
#include "core/endian.h"

namespace sluice::connectors::postgres {

/// Built-in type OIDs (fixed by PostgreSQL's catalog, the same on every server).
namespace pg_oid {
inline constexpr uint32_t kBool = 16;
inline constexpr uint32_t kBytea = 17;
inline constexpr uint32_t kChar = 18;
inline constexpr uint32_t kName = 19;
inline constexpr uint32_t kInt8 = 20;
inline constexpr uint32_t kInt2 = 21;
inline constexpr uint32_t kInt4 = 23;
inline constexpr uint32_t kText = 25;
inline constexpr uint32_t kOid = 26;
inline constexpr uint32_t kJson = 114;
inline constexpr uint32_t kFloat4 = 700;
inline constexpr uint32_t kFloat8 = 701;
inline constexpr uint32_t kBpchar = 1042;
inline constexpr uint32_t kVarchar = 1043;
inline constexpr uint32_t kDate = 1082;
inline constexpr uint32_t kTime = 1083;
inline constexpr uint32_t kTimestamp = 1114;
inline constexpr uint32_t kTimestampTz = 1184;
inline constexpr uint32_t kInterval = 1186;
inline constexpr uint32_t kNumeric = 1700;
inline constexpr uint32_t kUuid = 2950;
inline constexpr uint32_t kJsonb = 3802;
}  // namespace pg_oid

/// A column's type as the catalog describes it.
struct PgType {
  uint32_t oid = 0;       // the column's own type (a domain, an enum, ...)
  uint32_t base_oid = 0;  // domains resolved to their base type
  int32_t typmod = -1;    // of the base type (a domain's typtypmod)
  char typtype = 'b';     // of the base: b base, e enum, r range, c composite, ...
  char category = 'U';    // typcategory of the base: S string, N numeric, A array, ...
  std::string spelled;    // format_type(): "numeric(10,2)", "character varying(40)", "mpaa_rating"
};

enum class Decoder : uint8_t {
  kBool,
  kInt2,
  kInt4,
  kInt8,
  kOid,
  kFloat4,
  kFloat8,
  kNumeric,
  kText,    // text, varchar, name, json and everything selected as col::text
  kBpchar,  // character(n): its text without the padding, as `::text` and comparisons see it
  kJsonb,
  kBytea,
  kDate,
  kTime,
  kTimestamp,
  kTimestampTz,
  kUuid,
};

/// How a column is read.
struct ReadMapping {
  DataType type;
  Decoder decoder = Decoder::kText;
  /// Selected as `col::text` (no decoder for its binary form).
  bool as_text = false;
};

/// The logical type and decoder for a column of type `type`.
ReadMapping MapForRead(const PgType& type);

/// Decodes one binary field (`size` bytes, never NULL) into `column`. On failure nothing is
/// appended and the returned data error says what is wrong with the value (the caller adds
/// where). `validate_utf8`: check text (needed only when the server's encoding is SQL_ASCII, whose
/// text PostgreSQL never validates). `scratch` is reused between calls.
Status DecodeValue(Decoder decoder, const char* data, size_t size, bool validate_utf8,
                   Column* column, std::string* scratch);

/// The PostgreSQL type CREATE TABLE uses for `type` (docs/TYPE_MAPPING.md, logical -> target).
std::string TargetTypeFor(const DataType& type, bool from_jsonb);

/// Whether the PostgreSQL type `spelled`, as the target server resolved it (`resolved`), may
/// stand for a column of logical type `type`: its values read back as the same logical type.
/// Used to recreate a source's native type (`Field::native_type`) only when it means the same.
bool NativeTypeFits(const DataType& type, std::string_view spelled, const PgType& resolved);

enum class Encoder : uint8_t {
  kBool,
  kInt2,
  kInt4,
  kInt8,
  kOid,
  kFloat4,
  kFloat8,
  kNumeric,
  kText,  // the canonical text of any value; strings and json as they are
  kJsonb,
  kBytea,
  kDate,
  kTime,
  kInterval,
  kTimestamp,
  kTimestampTz,
  kUuid,
};

/// How values of one logical type are written into one target column.
struct WriteMapping {
  Encoder encoder = Encoder::kText;
  /// Loaded as text into a staging column and cast to the target type by the server.
  bool via_text = false;
  /// numeric(p,s) target: PostgreSQL rounds digits beyond s on input, so each value must fit
  /// exactly (p = 0: no check).
  int numeric_precision = 0;
  int numeric_scale = 0;
  /// time(p), timestamp(p), timestamptz(p) target with p < 6: PostgreSQL rounds the fractional
  /// seconds beyond p, so each value must have no more.
  int fraction_digits = kMaxTimePrecision;

  /// Whether CheckValueFits has anything to check.
  bool checks_values() const {
    return numeric_precision > 0 || fraction_digits < kMaxTimePrecision;
  }
};

/// The write mapping of `incoming` values into a column of type `target`, or nullopt when they
/// are incompatible (e.g. a float into a date column). Integers go into boolean columns as 0
/// and 1 (MySQL's TINYINT(1), BIT(1)); the encoder refuses other values one by one.
std::optional<WriteMapping> MapForWrite(const DataType& incoming, const PgType& target);

/// Checks that the non-null value at `row` of `column` arrives unchanged through `mapping` (a
/// numeric or fractional second PostgreSQL would round); a data error saying why otherwise.
Status CheckValueFits(const WriteMapping& mapping, const Column& column, size_t row);

/// Why `mapping`'s target column would round some `incoming` values (refused one by one by
/// CheckValueFits), for `sluice check` to warn; "" when it rounds none.
std::string NarrowingWarning(const DataType& incoming, const WriteMapping& mapping);

/// A growable byte buffer holding binary COPY data. Not thread-safe.
class CopyBuffer {
 public:
  CopyBuffer() { Grow(1 << 16); }

  const char* data() const { return data_.get(); }
  size_t size() const { return size_; }
  void Clear() { size_ = 0; }
  /// Drops bytes from `size` on (a row abandoned half-way).
  void Truncate(size_t size) { size_ = size; }

  /// Returns room for `bytes` more bytes, which the caller fills; they count as written.
  char* Extend(size_t bytes) {
    if (size_ + bytes > capacity_)
      Grow(size_ + bytes);
    char* out = data_.get() + size_;
    size_ += bytes;
    return out;
  }
  void PutBytes(const void* bytes, size_t n) {
    if (n > 0)
      std::memcpy(Extend(n), bytes, n);
  }
  void PutInt16(int16_t v) { PutBig(static_cast<uint16_t>(v)); }
  void PutInt32(int32_t v) { PutBig(static_cast<uint32_t>(v)); }
  void PutInt64(int64_t v) { PutBig(static_cast<uint64_t>(v)); }
  /// A field: its length then its bytes.
  void PutField(std::string_view bytes) {
    PutInt32(static_cast<int32_t>(bytes.size()));
    PutBytes(bytes.data(), bytes.size());
  }
  void PutNull() { PutInt32(-1); }

  /// The binary COPY header and trailer.
  void PutHeader();
  void PutTrailer() { PutInt16(-1); }

 private:
  template <typename T>
  void PutBig(T v) {
    WriteBigEndian(v, Extend(sizeof(T)));
  }
  void Grow(size_t at_least);

  std::unique_ptr<char[]> data_;
  size_t size_ = 0;
  size_t capacity_ = 0;
};

/// Appends the field (length and bytes) for the non-null value at `row` of `column`. On failure
/// the buffer may hold part of the field (the caller truncates to the row's start) and the data
/// error says what is wrong with the value. `scratch` is reused between calls.
Status EncodeValue(Encoder encoder, const Column& column, size_t row, CopyBuffer* out,
                   std::string* scratch);

}  // namespace sluice::connectors::postgres
