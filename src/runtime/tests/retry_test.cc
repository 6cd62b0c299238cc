#include "runtime/retry.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>

namespace sluice::runtime {
namespace {

TEST(RetryTest, BackoffDoublesFromTheInitialDelayWithJitterAndStopsAtTheMaximum) {
  config::RetryPolicy policy;
  policy.initial_backoff_secs = 2;
  policy.max_backoff_secs = 10;
  for (int round = 0; round < 200; ++round) {
    const double first = BackoffSeconds(policy, 0);
    EXPECT_GE(first, 1.0);
    EXPECT_LT(first, 3.0);
    const double third = BackoffSeconds(policy, 2);  // 2 * 2^2 = 8
    EXPECT_GE(third, 4.0);
    EXPECT_LT(third, 12.0);
    const double late = BackoffSeconds(policy, 40);  // capped at 10 before the jitter
    EXPECT_GE(late, 5.0);
    EXPECT_LT(late, 15.0);
  }
}

TEST(RetryTest, ASleepEndsAtOnceWhenTheJobIsStopping) {
  std::atomic<bool> stop{true};
  const auto start = std::chrono::steady_clock::now();
  EXPECT_FALSE(SleepUnlessStopped(3600, &stop));
  // Not a timing assertion on the machine's speed: an hour-long sleep that returned at all.
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::minutes(30));
}

TEST(RetryTest, AnUninterruptedSleepSaysSo) {
  std::atomic<bool> stop{false};
  EXPECT_TRUE(SleepUnlessStopped(0.001, &stop));
  EXPECT_TRUE(SleepUnlessStopped(0, nullptr));
}

}  // namespace
}  // namespace sluice::runtime
