#include "runtime/retry.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <random>
#include <thread>

namespace sluice::runtime {

double BackoffSeconds(const config::RetryPolicy& policy, int attempt) {
  const double base =
      std::min(policy.max_backoff_secs, policy.initial_backoff_secs * std::pow(2.0, attempt));
  static thread_local std::mt19937 random(std::random_device{}());
  return base * std::uniform_real_distribution<double>(0.5, 1.5)(random);
}

bool SleepUnlessStopped(double seconds, const std::atomic<bool>* stop) {
  using Clock = std::chrono::steady_clock;
  const Clock::time_point until =
      Clock::now() + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
  // Short naps: a stop flag has no condition variable to wake a sleeper.
  while (Clock::now() < until) {
    if (stop != nullptr && stop->load())
      return false;
    std::this_thread::sleep_for(std::min<Clock::duration>(std::chrono::milliseconds(50),
                                                          until - Clock::now()));
  }
  return stop == nullptr || !stop->load();
}

}  // namespace sluice::runtime
