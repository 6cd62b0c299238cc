#include "cli/progress.h"

#include <fmt/core.h>

#include <chrono>
#include <cstdio>

#include "cli/commands.h"
#include "core/logging.h"

namespace sluice::cli {

std::string GroupThousands(uint64_t value) {
  std::string digits = std::to_string(value);
  std::string out;
  int count = 0;
  for (auto it = digits.rbegin(); it != digits.rend(); ++it) {
    if (count > 0 && count % 3 == 0)
      out.insert(out.begin(), ',');
    out.insert(out.begin(), *it);
    ++count;
  }
  return out;
}

std::string ProgressReporter::FormatLine(const runtime::MetricsSnapshot& snapshot, double fraction,
                                         double rows_per_second, double bytes_per_second) {
  std::string line =
      fmt::format("{} rows  {} rows/s  {:.1f} MB/s", GroupThousands(snapshot.rows_read),
                  GroupThousands(static_cast<uint64_t>(rows_per_second)), bytes_per_second / 1e6);
  if (fraction >= 0) {
    line += fmt::format("  {:.0f}%", fraction * 100);
    if (fraction > 0.001 && fraction < 1 && snapshot.elapsed_seconds > 0.5) {
      auto eta = static_cast<uint64_t>(snapshot.elapsed_seconds * (1 - fraction) / fraction);
      line += fmt::format("  ETA {}:{:02d}", eta / 60, eta % 60);
    }
  }
  if (snapshot.bad_records > 0)
    line += fmt::format("  {} bad", snapshot.bad_records);
  return line;
}

void ProgressReporter::Start() {
  thread_ = std::thread([this] { Loop(); });
}

void ProgressReporter::Stop() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (stopping_ || !thread_.joinable())
      return;
    stopping_ = true;
  }
  wake_.notify_all();
  thread_.join();
  if (interactive_) {
    std::fputs("\r\033[K", stderr);
    std::fflush(stderr);
  }
}

void ProgressReporter::Loop() {
  using Clock = std::chrono::steady_clock;
  const auto interval = interactive_ ? std::chrono::milliseconds(250) : std::chrono::seconds(5);
  runtime::MetricsSnapshot previous = runner_.metrics().Snapshot();
  Clock::time_point previous_time = Clock::now();
  std::unique_lock<std::mutex> lock(mutex_);
  while (!wake_.wait_for(lock, interval, [&] { return stopping_; })) {
    runtime::MetricsSnapshot now = runner_.metrics().Snapshot();
    Clock::time_point now_time = Clock::now();
    double seconds = std::chrono::duration<double>(now_time - previous_time).count();
    if (seconds <= 0)
      continue;
    // Rates over the last interval, smoothed with the average so the line does not flicker.
    double rows_rate = static_cast<double>(now.rows_read - previous.rows_read) / seconds;
    double bytes_rate = static_cast<double>(now.bytes_read - previous.bytes_read) / seconds;
    if (now.elapsed_seconds > 0) {
      rows_rate = 0.5 * rows_rate + 0.5 * static_cast<double>(now.rows_read) / now.elapsed_seconds;
      bytes_rate =
          0.5 * bytes_rate + 0.5 * static_cast<double>(now.bytes_read) / now.elapsed_seconds;
    }
    std::string line = FormatLine(now, runner_.Fraction(), rows_rate, bytes_rate);
    if (interactive_) {
      std::fprintf(stderr, "\r\033[K%s", line.c_str());
      std::fflush(stderr);
    } else {
      log::Info("progress", "{}", line);
    }
    previous = now;
    previous_time = now_time;
  }
}

}  // namespace sluice::cli
