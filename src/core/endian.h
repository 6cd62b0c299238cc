// Reading and writing integers in network (big-endian) order: PostgreSQL's binary COPY, and the
// wire formats to come (Kafka's, Avro's schema-registry header, HBase's keys). One place, so
// that each protocol's code says what it reads, not how bytes are swapped.
#pragma once

#include <bit>
#include <concepts>
#include <cstring>
#include <type_traits>

namespace sluice {

/// std::byteswap is C++23; gcc 12 has the builtins.
template <std::unsigned_integral U>
constexpr U ByteSwap(U value) {
  if constexpr (sizeof(U) == 2)
    return __builtin_bswap16(value);
  else if constexpr (sizeof(U) == 4)
    return __builtin_bswap32(value);
  else if constexpr (sizeof(U) == 8)
    return __builtin_bswap64(value);
  else
    return value;
}

/// The integer `T` stored big-endian at `data` (unaligned reads are fine).
template <std::integral T>
T ReadBigEndian(const void* data) {
  T value;
  std::memcpy(&value, data, sizeof(T));
  if constexpr (std::endian::native == std::endian::little && sizeof(T) > 1)
    value = static_cast<T>(ByteSwap(static_cast<std::make_unsigned_t<T>>(value)));
  return value;
}

/// Stores `value` big-endian at `data` (sizeof(T) bytes, unaligned is fine).
template <std::integral T>
void WriteBigEndian(T value, void* data) {
  if constexpr (std::endian::native == std::endian::little && sizeof(T) > 1)
    value = static_cast<T>(ByteSwap(static_cast<std::make_unsigned_t<T>>(value)));
  std::memcpy(data, &value, sizeof(T));
}

}  // namespace sluice
