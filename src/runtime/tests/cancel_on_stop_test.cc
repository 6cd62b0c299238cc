#include "runtime/cancel_on_stop.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>

namespace sluice::runtime {
namespace {

TEST(CancelOnStopTest, CancelsOnceTheStopIsOlderThanTheTimeoutAndAgainUntilDestroyed) {
  std::atomic<bool> stop{false};
  std::atomic<int> calls{0};
  std::promise<void> second;
  {
    CancelOnStop watch(&stop, 0.01, [&] {
      if (++calls == 2)
        second.set_value();
    });
    stop = true;
    // A generous deadline, not a timing assertion: the second call comes a second after the
    // first on an idle machine.
    ASSERT_EQ(second.get_future().wait_for(std::chrono::minutes(2)), std::future_status::ready);
    EXPECT_TRUE(watch.cancelled());
  }
  const int after = calls.load();
  EXPECT_GE(after, 2);
  EXPECT_EQ(calls.load(), after);  // nothing once destroyed
}

TEST(CancelOnStopTest, NoStopNoCancel) {
  std::atomic<bool> stop{false};
  bool called = false;
  {
    CancelOnStop watch(&stop, 0, [&] { called = true; });
  }
  EXPECT_FALSE(called);
  CancelOnStop without_flag(nullptr, 0, [&] { called = true; });
  EXPECT_FALSE(without_flag.cancelled());
}

TEST(CancelOnStopTest, ACallThatEndsWithinTheTimeoutIsNotCancelled) {
  std::atomic<bool> stop{true};
  bool called = false;
  {
    CancelOnStop watch(&stop, 3600, [&] { called = true; });
  }
  EXPECT_FALSE(called);
}

}  // namespace
}  // namespace sluice::runtime
