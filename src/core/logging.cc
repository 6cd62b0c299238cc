#include "core/logging.h"

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <mutex>
#include <string>

namespace sluice::log {

namespace {

std::atomic<Level> g_level{Level::kInfo};

spdlog::level::level_enum ToSpdlog(Level level) {
  switch (level) {
    case Level::kTrace:
      return spdlog::level::trace;
    case Level::kDebug:
      return spdlog::level::debug;
    case Level::kInfo:
      return spdlog::level::info;
    case Level::kWarn:
      return spdlog::level::warn;
    case Level::kError:
      return spdlog::level::err;
    case Level::kOff:
      return spdlog::level::off;
  }
  return spdlog::level::info;
}

class Logger {
 public:
  Logger() : logger_(spdlog::stderr_color_mt("sluice")) {
    logger_->set_pattern("%Y-%m-%d %H:%M:%S.%e %^%-5l%$ %v");
    logger_->set_level(spdlog::level::trace);
  }

  void Write(Level level, std::string_view component, std::string_view message) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (level == last_level_ && component == last_component_ && message == last_message_) {
      ++repeats_;
      return;
    }
    FlushRepeats();
    logger_->log(ToSpdlog(level), "[{}] {}", component, message);
    last_level_ = level;
    last_component_ = component;
    last_message_ = message;
  }

 private:
  void FlushRepeats() {
    if (repeats_ > 0) {
      logger_->log(ToSpdlog(last_level_), "[{}] (previous message repeated {} times)",
                   last_component_, repeats_);
      repeats_ = 0;
    }
  }

  std::shared_ptr<spdlog::logger> logger_;
  std::mutex mutex_;
  Level last_level_ = Level::kOff;
  std::string last_component_;
  std::string last_message_;
  long repeats_ = 0;
};

Logger& GlobalLogger() {
  static Logger logger;
  return logger;
}

}  // namespace

void SetLevel(Level level) {
  g_level.store(level, std::memory_order_relaxed);
}
Level GetLevel() {
  return g_level.load(std::memory_order_relaxed);
}

bool ParseLevel(std::string_view text, Level* level) {
  static constexpr std::pair<std::string_view, Level> kLevels[] = {
      {"trace", Level::kTrace}, {"debug", Level::kDebug}, {"info", Level::kInfo},
      {"warn", Level::kWarn},   {"error", Level::kError}, {"off", Level::kOff}};
  for (const auto& [name, value] : kLevels) {
    if (name == text) {
      *level = value;
      return true;
    }
  }
  return false;
}

namespace {
thread_local std::string t_tag;
TaggedLineObserver g_observer;  // set once at start-up, before tagged threads run
}  // namespace

ScopedTag::ScopedTag(std::string tag) : previous_(std::move(t_tag)) {
  t_tag = std::move(tag);
}
ScopedTag::~ScopedTag() {
  t_tag = std::move(previous_);
}
const std::string& CurrentTag() {
  return t_tag;
}
void SetTaggedLineObserver(TaggedLineObserver observer) {
  g_observer = std::move(observer);
}

void Write(Level level, std::string_view component, std::string_view message) {
  if (!Enabled(level))
    return;
  GlobalLogger().Write(level, component, message);
  if (!t_tag.empty() && g_observer)
    g_observer(t_tag, level, component, message);
}

}  // namespace sluice::log
