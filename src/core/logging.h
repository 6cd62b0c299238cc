// Logging: a thin front over spdlog so that headers stay light and every line names its
// component instance ("[sink:sqlite:orders]").
//
// The level is checked before the message is formatted. A message repeated back to back by the
// same component is folded into one "(repeated N times)" line. Lines go to stderr; stdout stays
// free for --json summaries.
//
// Thread-safety: all functions may be called from any thread.
#pragma once

#include <fmt/core.h>

#include <functional>
#include <string>
#include <string_view>
#include <utility>

namespace sluice::log {

enum class Level { kTrace = 0, kDebug, kInfo, kWarn, kError, kOff };

/// Sets the minimum level written; the default is kInfo.
void SetLevel(Level level);
Level GetLevel();
/// Parses "trace", "debug", "info", "warn", "error", "off".
bool ParseLevel(std::string_view text, Level* level);
inline bool Enabled(Level level) {
  return level >= GetLevel();
}

/// Tags the lines the current thread writes while it lives (the server tags each run's lines
/// with its run id, to keep the run's log). Threads a run starts carry its tag over by taking
/// CurrentTag() along and opening a ScopedTag of their own.
class ScopedTag {
 public:
  explicit ScopedTag(std::string tag);
  ~ScopedTag();
  ScopedTag(const ScopedTag&) = delete;
  ScopedTag& operator=(const ScopedTag&) = delete;

 private:
  std::string previous_;
};
/// The current thread's tag ("" when none).
const std::string& CurrentTag();

/// Receives every tagged line that passes the level, besides stderr; set once, before any
/// tagged thread starts (the server sets it at start-up). Called with no lock held.
using TaggedLineObserver = std::function<void(const std::string& tag, Level level,
                                              std::string_view component,
                                              std::string_view message)>;
void SetTaggedLineObserver(TaggedLineObserver observer);

/// Writes one line; prefer the formatting helpers below.
void Write(Level level, std::string_view component, std::string_view message);

template <typename... Args>
void Debug(std::string_view component, fmt::format_string<Args...> format, Args&&... args) {
  if (Enabled(Level::kDebug)) {
    Write(Level::kDebug, component, fmt::format(format, std::forward<Args>(args)...));
  }
}
template <typename... Args>
void Info(std::string_view component, fmt::format_string<Args...> format, Args&&... args) {
  if (Enabled(Level::kInfo)) {
    Write(Level::kInfo, component, fmt::format(format, std::forward<Args>(args)...));
  }
}
template <typename... Args>
void Warn(std::string_view component, fmt::format_string<Args...> format, Args&&... args) {
  if (Enabled(Level::kWarn)) {
    Write(Level::kWarn, component, fmt::format(format, std::forward<Args>(args)...));
  }
}
template <typename... Args>
void Error(std::string_view component, fmt::format_string<Args...> format, Args&&... args) {
  if (Enabled(Level::kError)) {
    Write(Level::kError, component, fmt::format(format, std::forward<Args>(args)...));
  }
}

}  // namespace sluice::log
