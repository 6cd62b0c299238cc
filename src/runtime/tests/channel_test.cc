#include "runtime/channel.h"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

namespace sluice::runtime {
namespace {

TEST(ChannelTest, DeliversEverythingInOrderPerProducerAndBlocksWhenFull) {
  BoundedChannel<int> channel(3);
  std::atomic<int> max_seen_size{0};
  std::thread producer([&] {
    for (int i = 0; i < 1000; ++i) {
      int item = i;
      ASSERT_TRUE(channel.Push(item));
      int size = static_cast<int>(channel.size());
      if (size > max_seen_size)
        max_seen_size = size;
    }
    channel.Close();
  });
  std::vector<int> received;
  while (auto item = channel.Pop())
    received.push_back(*item);
  producer.join();
  ASSERT_EQ(received.size(), 1000u);
  for (int i = 0; i < 1000; ++i)
    EXPECT_EQ(received[static_cast<size_t>(i)], i);
  EXPECT_LE(max_seen_size.load(), 3);
}

TEST(ChannelTest, CloseUnblocksProducersAndConsumers) {
  BoundedChannel<int> channel(1);
  int first = 1;
  ASSERT_TRUE(channel.Push(first));
  std::thread blocked_producer([&] {
    int second = 2;
    EXPECT_FALSE(channel.Push(second));
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  channel.Close();
  blocked_producer.join();
  EXPECT_EQ(channel.Pop().value(), 1);  // drained after close
  EXPECT_FALSE(channel.Pop().has_value());
}

// Issue 10: with a slow sink, producers blocked on a full channel won every freed place before
// the checkpoint marker, so nothing committed until the input ended. A control item goes in at
// once, behind what is queued.
TEST(ChannelTest, ControlItemsDoNotWaitBehindBlockedProducers) {
  BoundedChannel<int> channel(2);
  int a = 1, b = 2;
  ASSERT_TRUE(channel.Push(a));
  ASSERT_TRUE(channel.Push(b));
  std::thread blocked_producer([&] {
    int c = 3;
    EXPECT_TRUE(channel.Push(c));  // waits for room
  });
  int marker = -1;
  ASSERT_TRUE(channel.PushControl(marker));  // the channel is full: still queued at once
  EXPECT_EQ(channel.Pop().value(), 1);
  EXPECT_EQ(channel.Pop().value(), 2);
  // The marker comes before anything pushed after it.
  EXPECT_EQ(channel.Pop().value(), -1);
  EXPECT_EQ(channel.Pop().value(), 3);
  blocked_producer.join();
  channel.Close();
  int late = -2;
  EXPECT_FALSE(channel.PushControl(late));
}

}  // namespace
}  // namespace sluice::runtime
