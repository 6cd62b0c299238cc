#include "server/server_store.h"

#include <fmt/core.h>

#include <chrono>
#include <filesystem>
#include <mutex>
#include <nlohmann/json.hpp>


namespace sluice::server {

int64_t NowMicros() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string_view RunStateName(RunState state) {
  switch (state) {
    case RunState::kQueued:
      return "queued";
    case RunState::kRunning:
      return "running";
    case RunState::kSucceeded:
      return "succeeded";
    case RunState::kFailed:
      return "failed";
    case RunState::kStopped:
      return "stopped";
  }
  return "queued";
}

std::optional<RunState> ParseRunState(std::string_view name) {
  for (RunState state : {RunState::kQueued, RunState::kRunning, RunState::kSucceeded,
                         RunState::kFailed, RunState::kStopped}) {
    if (RunStateName(state) == name)
      return state;
  }
  return std::nullopt;
}

Result<std::unique_ptr<ServerStore>> OpenServerStore(const std::string& db, SecretBox box) {
  if (db.rfind("postgres://", 0) == 0 || db.rfind("postgresql://", 0) == 0)
    return OpenPostgresServerStore(db, std::move(box));
  return OpenSqliteServerStore(db, std::move(box));
}

}  // namespace sluice::server
