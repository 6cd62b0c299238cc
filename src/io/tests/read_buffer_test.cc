#include "io/read_buffer.h"

#include <gtest/gtest.h>

#include "io/memory_stream.h"
#include "io/tests/io_test_util.h"
#include "testing/gtest_util.h"

namespace sluice::io {
namespace {

TEST(ReadBufferTest, KeepsUnconsumedBytesAndGrowsForLongRecords) {
  std::string text = MakeText(100000);
  for (size_t capacity : {size_t{1}, size_t{7}, size_t{4096}}) {
    for (size_t max_read : {size_t{0}, size_t{1}, size_t{333}}) {
      StringInputStream input(text, max_read);
      ReadBuffer buffer(&input, capacity, 64);
      std::string seen;
      // Consume "records" of varying length, sometimes longer than the buffer.
      size_t record = 1;
      while (true) {
        while (buffer.size() < record && !buffer.eof()) {
          ASSERT_OK(buffer.Fill().status());
        }
        size_t take = std::min(record, buffer.size());
        if (take == 0)
          break;
        EXPECT_EQ(buffer.offset(), seen.size());
        seen.append(buffer.data(), take);
        buffer.Consume(take);
        record = record * 5 % 9973 + 1;
      }
      EXPECT_TRUE(buffer.eof());
      EXPECT_TRUE(seen == text) << capacity << " " << max_read;
    }
  }
}

TEST(ReadBufferTest, SkipToInsideAndBeyondTheBuffer) {
  std::string text = MakeText(50000);
  StringInputStream input(text);
  ReadBuffer buffer(&input, 1000);
  ASSERT_OK(buffer.Fill().status());
  ASSERT_OK(buffer.SkipTo(10));
  EXPECT_EQ(std::string_view(buffer.data(), 5), text.substr(10, 5));
  ASSERT_OK(buffer.SkipTo(20000));
  EXPECT_EQ(buffer.offset(), 20000u);
  EXPECT_EQ(buffer.size(), 0u);
  ASSERT_OK(buffer.Fill().status());
  EXPECT_EQ(std::string_view(buffer.data(), 5), text.substr(20000, 5));
  EXPECT_FALSE(buffer.SkipTo(5).ok());
  EXPECT_EQ(buffer.SkipTo(60000).code(), StatusCode::kDataError);
}

}  // namespace
}  // namespace sluice::io
