#include "core/endian.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>

namespace sluice {
namespace {

TEST(EndianTest, ReadsNetworkOrderAtAnyAlignment) {
  const unsigned char bytes[] = {0xAA, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08};
  EXPECT_EQ(ReadBigEndian<uint16_t>(bytes + 1), 0x0102u);
  EXPECT_EQ(ReadBigEndian<uint32_t>(bytes + 1), 0x01020304u);
  EXPECT_EQ(ReadBigEndian<uint64_t>(bytes + 1), 0x0102030405060708ull);
  EXPECT_EQ(ReadBigEndian<uint8_t>(bytes), 0xAAu);
  const unsigned char minus_two[] = {0xFF, 0xFE};
  EXPECT_EQ(ReadBigEndian<int16_t>(minus_two), -2);
}

TEST(EndianTest, WritesWhatItReadsForEveryWidthsExtremes) {
  unsigned char buffer[9] = {};
  for (int64_t value : {std::numeric_limits<int64_t>::min(), int64_t{-1}, int64_t{0},
                        int64_t{0x0102030405060708}, std::numeric_limits<int64_t>::max()}) {
    WriteBigEndian(value, buffer + 1);
    EXPECT_EQ(ReadBigEndian<int64_t>(buffer + 1), value);
    WriteBigEndian(static_cast<int32_t>(value), buffer + 1);
    EXPECT_EQ(ReadBigEndian<int32_t>(buffer + 1), static_cast<int32_t>(value));
  }
  WriteBigEndian(uint32_t{0x01020304}, buffer);
  EXPECT_EQ(buffer[0], 0x01);
  EXPECT_EQ(buffer[3], 0x04);
}

}  // namespace
}  // namespace sluice
