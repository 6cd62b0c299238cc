// Parquet's RLE / bit-packed hybrid encoding (definition levels, dictionary indices, RLE
// booleans) and ULEB128 varints. Internal to formats/parquet.
//
// The hybrid is a sequence of runs, each led by a varint header: (count << 1) for `count`
// repeats of one value stored in ceil(bit_width / 8) little-endian bytes, or
// (groups << 1) | 1 for groups of 8 values bit-packed LSB first. See parquet-format's
// Encodings.md.
//
// Thread-safety: none; the decoder views bytes it does not own (valid while it is used).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace sluice::formats::parquet_internal {

/// Bits needed for values up to `max_value` (0 for 0).
inline int BitWidth(uint64_t max_value) {
  return max_value == 0 ? 0 : 64 - __builtin_clzll(max_value);
}

/// Appends `value` as ULEB128.
void AppendVarint(uint64_t value, std::string* out);

/// Appends `values[0..count)`, each below 2^bit_width, RLE / bit-packed encoded (no length
/// prefix). Runs of 8 or more equal values become RLE runs; the rest is bit-packed.
void AppendRleBitPacked(const uint32_t* values, size_t count, int bit_width, std::string* out);
/// The same for bytes (definition levels, booleans).
void AppendRleBitPacked(const uint8_t* values, size_t count, int bit_width, std::string* out);

class RleBitPackedDecoder {
 public:
  RleBitPackedDecoder(std::string_view data, int bit_width)
      : data_(reinterpret_cast<const uint8_t*>(data.data())),
        end_(data_ + data.size()),
        bit_width_(bit_width) {}

  /// Decodes the next `count` values into `out`; false when the data ends first or is corrupt.
  template <typename T>
  bool Decode(T* out, size_t count);

 private:
  bool NextRun();

  const uint8_t* data_;
  const uint8_t* end_;
  int bit_width_;
  // The current run: `remaining_` values, either `repeated_` or bit-packed from `packed_`.
  size_t remaining_ = 0;
  bool packed_run_ = false;
  uint32_t repeated_ = 0;
  const uint8_t* packed_ = nullptr;
  uint64_t packed_bit_ = 0;  // position in bits from `packed_`
};

template <typename T>
bool RleBitPackedDecoder::Decode(T* out, size_t count) {
  while (count > 0) {
    if (remaining_ == 0 && !NextRun())
      return false;
    size_t n = count < remaining_ ? count : remaining_;
    if (!packed_run_) {
      for (size_t i = 0; i < n; ++i)
        out[i] = static_cast<T>(repeated_);
    } else {
      const uint64_t mask = (uint64_t{1} << bit_width_) - 1;
      for (size_t i = 0; i < n; ++i) {
        // The run's bytes were checked to lie inside the data; read 8 bytes only when they do.
        const uint8_t* byte = packed_ + (packed_bit_ >> 3);
        uint64_t word = 0;
        size_t available = static_cast<size_t>(end_ - byte);
        __builtin_memcpy(&word, byte, available >= 8 ? 8 : available);
        out[i] = static_cast<T>((word >> (packed_bit_ & 7)) & mask);
        packed_bit_ += static_cast<uint64_t>(bit_width_);
      }
    }
    out += n;
    count -= n;
    remaining_ -= n;
  }
  return true;
}

}  // namespace sluice::formats::parquet_internal
