// The RLE / bit-packed hybrid: round trips at every bit width, runs and literals mixed.
#include "formats/parquet/parquet_encoding.h"

#include <gtest/gtest.h>

#include <random>
#include <vector>

namespace sluice::formats::parquet_internal {
namespace {

TEST(ParquetEncodingTest, RleBitPackedRoundTripsAtEveryWidth) {
  std::mt19937 random(7);
  for (int bit_width = 1; bit_width <= 32; ++bit_width) {
    for (size_t count : {1u, 7u, 8u, 9u, 100u, 1000u}) {
      std::vector<uint32_t> values;
      const uint64_t limit = (uint64_t{1} << bit_width) - 1;
      while (values.size() < count) {
        uint32_t value = static_cast<uint32_t>(random() % (limit + 1));
        size_t repeat = random() % 3 == 0 ? random() % 20 + 1 : 1;  // runs and literals
        for (size_t i = 0; i < repeat && values.size() < count; ++i)
          values.push_back(value);
      }
      std::string encoded;
      AppendRleBitPacked(values.data(), values.size(), bit_width, &encoded);
      std::vector<uint32_t> decoded(count);
      RleBitPackedDecoder decoder(encoded, bit_width);
      ASSERT_TRUE(decoder.Decode(decoded.data(), count)) << bit_width << " " << count;
      EXPECT_EQ(decoded, values) << bit_width << " " << count;
    }
  }
}

TEST(ParquetEncodingTest, AllEqualLevelsAreOneRun) {
  std::vector<uint8_t> levels(100000, 1);
  std::string encoded;
  AppendRleBitPacked(levels.data(), levels.size(), 1, &encoded);
  EXPECT_EQ(encoded.size(), 4u);  // a 3-byte varint header and the value
}

TEST(ParquetEncodingTest, TruncatedInputFailsInsteadOfReadingPastIt) {
  std::vector<uint32_t> values(64);
  for (size_t i = 0; i < values.size(); ++i)
    values[i] = static_cast<uint32_t>(i);
  std::string encoded;
  AppendRleBitPacked(values.data(), values.size(), 6, &encoded);
  encoded.resize(encoded.size() / 2);
  std::vector<uint32_t> decoded(values.size());
  RleBitPackedDecoder decoder(encoded, 6);
  EXPECT_FALSE(decoder.Decode(decoded.data(), decoded.size()));
}

}  // namespace
}  // namespace sluice::formats::parquet_internal
