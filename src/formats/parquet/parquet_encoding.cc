#include "formats/parquet/parquet_encoding.h"

#include <cstring>

namespace sluice::formats::parquet_internal {

void AppendVarint(uint64_t value, std::string* out) {
  while (value >= 0x80) {
    out->push_back(static_cast<char>((value & 0x7f) | 0x80));
    value >>= 7;
  }
  out->push_back(static_cast<char>(value));
}

namespace {

// Length of the run of equal values starting at values[i], counting at most `limit`.
template <typename T>
size_t RunLength(const T* values, size_t count, size_t i, size_t limit) {
  size_t end = i + limit < count ? i + limit : count;
  size_t j = i + 1;
  while (j < end && values[j] == values[i])
    ++j;
  return j - i;
}

template <typename T>
void AppendHybrid(const T* values, size_t count, int bit_width, std::string* out) {
  const size_t value_bytes = (static_cast<size_t>(bit_width) + 7) / 8;
  size_t i = 0;
  while (i < count) {
    size_t run = RunLength(values, count, i, count - i);
    if (run >= 8) {
      AppendVarint(uint64_t{run} << 1, out);
      uint32_t value = static_cast<uint32_t>(values[i]);
      for (size_t b = 0; b < value_bytes; ++b)
        out->push_back(static_cast<char>((value >> (8 * b)) & 0xff));
      i += run;
      continue;
    }
    // Bit-pack groups of 8 until a run of 8 starts at a group boundary (or the values end).
    size_t begin = i;
    size_t groups = 0;
    while (i < count) {
      if (groups > 0 && RunLength(values, count, i, 8) == 8)
        break;
      i = i + 8 < count ? i + 8 : count;
      ++groups;
    }
    AppendVarint((uint64_t{groups} << 1) | 1, out);
    size_t start = out->size();
    out->resize(start + groups * static_cast<size_t>(bit_width));  // 8 values * width bits
    uint8_t* packed = reinterpret_cast<uint8_t*>(out->data() + start);
    uint64_t accumulator = 0;
    int bits = 0;
    size_t padded_end = begin + groups * 8;
    for (size_t v = begin; v < padded_end; ++v) {
      uint64_t value = v < count ? static_cast<uint64_t>(values[v]) : 0;
      accumulator |= value << bits;
      bits += bit_width;
      while (bits >= 8) {
        *packed++ = static_cast<uint8_t>(accumulator);
        accumulator >>= 8;
        bits -= 8;
      }
    }
  }
}

}  // namespace

void AppendRleBitPacked(const uint32_t* values, size_t count, int bit_width, std::string* out) {
  AppendHybrid(values, count, bit_width, out);
}

void AppendRleBitPacked(const uint8_t* values, size_t count, int bit_width, std::string* out) {
  AppendHybrid(values, count, bit_width, out);
}

bool RleBitPackedDecoder::NextRun() {
  uint64_t header = 0;
  int shift = 0;
  while (true) {
    if (data_ >= end_ || shift > 63)
      return false;
    uint8_t byte = *data_++;
    header |= uint64_t{byte & 0x7fu} << shift;
    if ((byte & 0x80) == 0)
      break;
    shift += 7;
  }
  if (bit_width_ > 32)
    return false;
  if (header & 1) {
    uint64_t groups = header >> 1;
    uint64_t bytes = groups * static_cast<uint64_t>(bit_width_);
    if (groups == 0 || bytes > static_cast<uint64_t>(end_ - data_))
      return false;
    packed_run_ = true;
    packed_ = data_;
    packed_bit_ = 0;
    remaining_ = groups * 8;
    data_ += bytes;
  } else {
    uint64_t count = header >> 1;
    size_t value_bytes = (static_cast<size_t>(bit_width_) + 7) / 8;
    if (count == 0 || value_bytes > static_cast<size_t>(end_ - data_))
      return false;
    uint32_t value = 0;
    for (size_t b = 0; b < value_bytes; ++b)
      value |= static_cast<uint32_t>(data_[b]) << (8 * b);
    data_ += value_bytes;
    packed_run_ = false;
    repeated_ = value;
    remaining_ = count;
  }
  return true;
}

}  // namespace sluice::formats::parquet_internal
