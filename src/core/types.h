// Logical types: what a value means, independent of any database's spelling of it.
//
// Every connector maps its native types to and from these (see the type mapping table in the
// README). Physical storage in a Column follows from the type:
//   bool                     uint8_t (0 or 1)
//   int8..int64, uint8..64   the matching fixed-width integer
//   float32, float64         float, double (bit-exact, NaN and infinities included)
//   decimal, precision 1..38 __int128 unscaled value ("fast path"), scale from the type
//   decimal, wider or        canonical decimal text ("-123.4500") in the arena: exact at any
//     unconstrained          precision, e.g. MySQL DECIMAL(65,30) or PostgreSQL NUMERIC
//   string, json             UTF-8 text in the arena
//   bytes                    raw bytes in the arena
//   date                     int32_t days since 1970-01-01 (INT32_MIN/MAX: -infinity/infinity)
//   time                     int64_t microseconds; may be negative or exceed 24 h (MySQL TIME)
//   timestamp                int64_t microseconds since 1970-01-01 00:00, wall clock, no zone
//   timestamp_tz             int64_t microseconds since the Unix epoch, UTC
//                            (INT64_MIN/MAX: -infinity/infinity for both timestamps)
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/result.h"

namespace sluice {

enum class TypeId : uint8_t {
  kNull = 0,
  kBool,
  kInt8,
  kInt16,
  kInt32,
  kInt64,
  kUInt8,
  kUInt16,
  kUInt32,
  kUInt64,
  kFloat32,
  kFloat64,
  kDecimal,
  kString,
  kBytes,
  kDate,
  kTime,
  kTimestamp,
  kTimestampTz,
  kJson,
};

/// Largest decimal precision kept in the fixed-width __int128 form.
inline constexpr int kMaxFastDecimalPrecision = 38;
/// Fractional-second digits kept by time and timestamps.
inline constexpr int kMaxTimePrecision = 6;

/// A logical type with its parameters. Small and trivially copyable.
struct DataType {
  TypeId id = TypeId::kNull;
  /// decimal: total digits, 0 = unconstrained (PostgreSQL NUMERIC without typmod);
  /// time/timestamp: fractional-second digits (0..6).
  uint16_t precision = 0;
  /// decimal: digits after the point (meaningful when precision > 0).
  int16_t scale = 0;
  /// string/bytes: maximum length in characters/bytes, 0 = unbounded. A hint for CREATE TABLE.
  uint32_t length = 0;

  static DataType Null() { return {TypeId::kNull}; }
  static DataType Bool() { return {TypeId::kBool}; }
  static DataType Int8() { return {TypeId::kInt8}; }
  static DataType Int16() { return {TypeId::kInt16}; }
  static DataType Int32() { return {TypeId::kInt32}; }
  static DataType Int64() { return {TypeId::kInt64}; }
  static DataType UInt8() { return {TypeId::kUInt8}; }
  static DataType UInt16() { return {TypeId::kUInt16}; }
  static DataType UInt32() { return {TypeId::kUInt32}; }
  static DataType UInt64() { return {TypeId::kUInt64}; }
  static DataType Float32() { return {TypeId::kFloat32}; }
  static DataType Float64() { return {TypeId::kFloat64}; }
  /// precision 0 means unconstrained (any scale per value).
  static DataType Decimal(int precision, int scale) {
    return {TypeId::kDecimal, static_cast<uint16_t>(precision), static_cast<int16_t>(scale)};
  }
  static DataType String(uint32_t length = 0) { return {TypeId::kString, 0, 0, length}; }
  static DataType Bytes(uint32_t length = 0) { return {TypeId::kBytes, 0, 0, length}; }
  static DataType Date() { return {TypeId::kDate}; }
  static DataType Time(int precision = kMaxTimePrecision) {
    return {TypeId::kTime, static_cast<uint16_t>(precision)};
  }
  static DataType Timestamp(int precision = kMaxTimePrecision) {
    return {TypeId::kTimestamp, static_cast<uint16_t>(precision)};
  }
  static DataType TimestampTz(int precision = kMaxTimePrecision) {
    return {TypeId::kTimestampTz, static_cast<uint16_t>(precision)};
  }
  static DataType Json() { return {TypeId::kJson}; }

  bool is_integer() const { return id >= TypeId::kInt8 && id <= TypeId::kUInt64; }
  bool is_unsigned() const { return id >= TypeId::kUInt8 && id <= TypeId::kUInt64; }
  bool is_float() const { return id == TypeId::kFloat32 || id == TypeId::kFloat64; }
  bool is_temporal() const { return id >= TypeId::kDate && id <= TypeId::kTimestampTz; }
  /// True when values live in the arena as bytes (strings, bytes, json, wide decimals).
  bool is_variable_width() const;
  /// Decimal stored as __int128 (precision 1..38).
  bool is_fast_decimal() const {
    return id == TypeId::kDecimal && precision > 0 && precision <= kMaxFastDecimalPrecision;
  }
  /// Bytes per value in a Column's fixed-width buffer (string_view for variable width).
  int physical_width() const;

  /// Sluice's own spelling: "int64", "decimal(12,2)", "string", "timestamp_tz(3)".
  std::string ToString() const;

  friend bool operator==(const DataType&, const DataType&) = default;
};

/// Parses Sluice's spelling of a type, as written in job files: "int64", "decimal(12,2)",
/// "decimal" (unconstrained), "string", "timestamp_tz", "time(3)". Aliases: int=int32,
/// bigint=int64, double=float64, float=float32, text=string, boolean=bool, binary=bytes.
Result<DataType> ParseDataType(std::string_view text);

/// The name of the id alone ("decimal").
std::string_view TypeIdName(TypeId id);

/// Calls `visit(T{})` with the C++ type T that stores integer type `id` in a Column (int8_t ..
/// uint64_t) and returns what it returns: one switch for code that does the same for every
/// integer width, e.g. `VisitIntegerType(id, [&]<typename T>(T) { return column.Get<T>(row); })`.
/// `id` must be an integer type (DataType::is_integer()).
template <typename Visitor>
decltype(auto) VisitIntegerType(TypeId id, Visitor&& visit) {
  switch (id) {
    case TypeId::kInt8:
      return visit(int8_t{});
    case TypeId::kInt16:
      return visit(int16_t{});
    case TypeId::kInt32:
      return visit(int32_t{});
    case TypeId::kUInt8:
      return visit(uint8_t{});
    case TypeId::kUInt16:
      return visit(uint16_t{});
    case TypeId::kUInt32:
      return visit(uint32_t{});
    case TypeId::kUInt64:
      return visit(uint64_t{});
    default:  // kInt64; callers pass integer types only
      return visit(int64_t{});
  }
}

}  // namespace sluice
