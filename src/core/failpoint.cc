#include "core/failpoint.h"

#include <fmt/core.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace sluice::failpoint {

namespace internal {
std::atomic<bool> any_armed{false};
}

namespace {

// One `action@hit` armed at a point.
struct Rule {
  Action action = Action::kNone;
  std::function<Status()> callback;  // instead of `action` when set
  uint64_t hit = 1;
  bool and_later = false;

  bool FiresAt(uint64_t pass) const { return pass == hit || (and_later && pass > hit); }
};

// A point's rules (several may be armed: checkpoint@1+ and stop@5) and its pass count.
struct ArmedPoint {
  std::vector<Rule> rules;
  uint64_t passes = 0;
};

struct Registry {
  std::mutex mutex;
  std::map<std::string, ArmedPoint, std::less<>> points;  // guarded by mutex
};

// Of two rules firing at one pass, the one that changes more wins: a crash over a stop, a stop
// over a checkpoint (a stop takes its own).
int Strength(const Rule& rule) {
  switch (rule.action) {
    case Action::kCrash:
      return 5;
    case Action::kPause:
      return 4;
    case Action::kError:
    case Action::kFail:
      return 3;
    case Action::kStop:
      return 2;
    case Action::kCheckpoint:
      return 1;
    case Action::kNone:
      break;
  }
  return 0;
}

Registry& TheRegistry() {
  static Registry* registry = new Registry();  // never destroyed: points fire during exit too
  return *registry;
}

// Writes straight to stderr: the process may be about to die or freeze.
void Announce(std::string_view name, std::string_view what) {
  std::string line = fmt::format("sluice: failpoint '{}': {}\n", name, what);
  ssize_t ignored = ::write(STDERR_FILENO, line.data(), line.size());
  (void)ignored;
}

Result<Action> ParseAction(std::string_view text) {
  if (text == "crash")
    return Action::kCrash;
  if (text == "fail")
    return Action::kFail;
  if (text == "error")
    return Action::kError;
  if (text == "pause")
    return Action::kPause;
  if (text == "stop")
    return Action::kStop;
  if (text == "checkpoint")
    return Action::kCheckpoint;
  return InvalidConfig(fmt::format(
      "failpoint action '{}' is unknown (allowed: crash, fail, error, pause, stop, checkpoint)",
      text));
}

std::string_view Trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t'))
    text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t'))
    text.remove_suffix(1);
  return text;
}

}  // namespace

namespace {

// What fires at this pass of point `name`: counted under the lock, carried out outside it.
struct Firing {
  Action action = Action::kNone;
  std::vector<std::function<Status()>> callbacks;
};

Firing Pass(std::string_view name) {
  Registry& registry = TheRegistry();
  std::lock_guard<std::mutex> lock(registry.mutex);
  auto found = registry.points.find(name);
  if (found == registry.points.end())
    return {};
  ArmedPoint& point = found->second;
  ++point.passes;
  Firing firing;
  const Rule* strongest = nullptr;
  for (const Rule& rule : point.rules) {
    if (!rule.FiresAt(point.passes))
      continue;
    if (rule.callback) {
      firing.callbacks.push_back(rule.callback);
    } else if (strongest == nullptr || Strength(rule) > Strength(*strongest)) {
      strongest = &rule;
    }
  }
  if (strongest != nullptr)
    firing.action = strongest->action;
  return firing;
}

// Runs the callbacks firing at a pass, in the order armed; returns the first error.
Status RunCallbacks(const Firing& firing) {
  Status first;
  for (const auto& callback : firing.callbacks) {
    Status status = callback();
    if (first.ok() && !status.ok())
      first = std::move(status);
  }
  return first;
}

// The pause's release: set by SIGUSR2, which the test sends before SIGCONT.
std::atomic<bool> release_requested{false};

void OnRelease(int) {
  release_requested.store(true);
}

// Stops the process until a test releases it (SIGUSR2, then SIGCONT). A SIGCONT alone does not:
// the kernel sends SIGHUP and SIGCONT to the stopped processes of a process group that becomes
// orphaned, which would end a pause the test still counts on. SIGHUP is ignored meanwhile for
// the same reason.
void PauseUntilReleased() {
  struct sigaction release {};
  release.sa_handler = OnRelease;
  sigemptyset(&release.sa_mask);
  struct sigaction previous_release {};
  sigaction(SIGUSR2, &release, &previous_release);
  struct sigaction ignore {};
  ignore.sa_handler = SIG_IGN;
  sigemptyset(&ignore.sa_mask);
  struct sigaction previous_hangup {};
  sigaction(SIGHUP, &ignore, &previous_hangup);
  release_requested.store(false);
  while (!release_requested.load()) {
    ::raise(SIGSTOP);
    // Woken by a SIGCONT. The release's SIGUSR2, sent just before it, may still be pending, or
    // in its handler on another thread (a process-directed signal goes to any thread): look at
    // both for a moment before stopping again, or a release would be lost to that race.
    for (int i = 0; i < 40 && !release_requested.load(); ++i) {
      sigset_t pending;
      sigemptyset(&pending);
      if (sigpending(&pending) == 0 && sigismember(&pending, SIGUSR2) == 1) {
        release_requested.store(true);
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  }
  sigaction(SIGHUP, &previous_hangup, nullptr);
  sigaction(SIGUSR2, &previous_release, nullptr);
}

// Carries out crash and pause; returns the action left for the caller.
Action CarryOut(std::string_view name, Action action) {
  switch (action) {
    case Action::kCrash:
      Announce(name, "crash");
      ::kill(::getpid(), SIGKILL);
      ::_exit(137);  // not reached
    case Action::kPause:
      Announce(name, "pause (continue with SIGUSR2, then SIGCONT)");
      PauseUntilReleased();
      return Action::kNone;
    case Action::kFail:
    case Action::kError:
      Announce(name, "fail");
      return action;
    case Action::kStop:
    case Action::kCheckpoint:
      return action;
    case Action::kNone:
      break;
  }
  return Action::kNone;
}

}  // namespace

Action Hit(std::string_view name) {
  Firing firing = Pass(name);
  (void)RunCallbacks(firing);
  return CarryOut(name, firing.action);
}

Status Check(std::string_view name) {
  Firing firing = Pass(name);
  Status called = RunCallbacks(firing);
  if (!called.ok())
    return called;
  switch (CarryOut(name, firing.action)) {
    case Action::kFail:
      return Unavailable(fmt::format("failpoint '{}' failed the operation", name));
    case Action::kError:
      return Internal(fmt::format("failpoint '{}' failed the operation", name));
    default:
      return Status::OK();
  }
}

Status Arm(std::string_view specification) {
  std::vector<std::pair<std::string, Rule>> parsed;
  while (!specification.empty()) {
    size_t end = specification.find(';');
    std::string_view entry = Trim(specification.substr(0, end));
    specification = end == std::string_view::npos ? std::string_view() : specification.substr(end + 1);
    if (entry.empty())
      continue;
    size_t equals = entry.find('=');
    if (equals == std::string_view::npos || equals == 0) {
      return InvalidConfig(
          fmt::format("failpoint entry '{}' is not name=action[@hit]", entry));
    }
    std::string_view name = Trim(entry.substr(0, equals));
    std::string_view rest = Trim(entry.substr(equals + 1));
    Rule point;
    size_t at = rest.find('@');
    if (at != std::string_view::npos) {
      std::string_view hit = rest.substr(at + 1);
      if (!hit.empty() && hit.back() == '+') {
        point.and_later = true;
        hit.remove_suffix(1);
      }
      uint64_t value = 0;
      for (char c : hit) {
        if (c < '0' || c > '9' || value > 1'000'000'000'000ULL)
          return InvalidConfig(fmt::format("failpoint entry '{}': bad hit number", entry));
        value = value * 10 + static_cast<uint64_t>(c - '0');
      }
      if (hit.empty() || value == 0)
        return InvalidConfig(fmt::format("failpoint entry '{}': hits count from 1", entry));
      point.hit = value;
      rest = rest.substr(0, at);
    }
    SLUICE_ASSIGN_OR_RETURN(point.action, ParseAction(Trim(rest)));
    parsed.emplace_back(std::string(name), std::move(point));
  }
  if (parsed.empty())
    return Status::OK();
  Registry& registry = TheRegistry();
  std::lock_guard<std::mutex> lock(registry.mutex);
  for (auto& [name, rule] : parsed)
    registry.points[name].rules.push_back(std::move(rule));
  internal::any_armed.store(true);
  return Status::OK();
}

void ArmCallback(std::string_view name, uint64_t hit, std::function<Status()> callback,
                 bool and_later) {
  Registry& registry = TheRegistry();
  std::lock_guard<std::mutex> lock(registry.mutex);
  Rule rule;
  rule.callback = std::move(callback);
  rule.hit = hit == 0 ? 1 : hit;
  rule.and_later = and_later;
  registry.points[std::string(name)].rules.push_back(std::move(rule));
  internal::any_armed.store(true);
}

void DisarmAll() {
  Registry& registry = TheRegistry();
  std::lock_guard<std::mutex> lock(registry.mutex);
  registry.points.clear();
  internal::any_armed.store(false);
}

uint64_t Passes(std::string_view name) {
  Registry& registry = TheRegistry();
  std::lock_guard<std::mutex> lock(registry.mutex);
  auto found = registry.points.find(name);
  return found == registry.points.end() ? 0 : found->second.passes;
}

Result<std::string> ArmFromEnvironment() {
  static std::once_flag once;
  static Status parsed;
  static std::string armed;
  std::call_once(once, [] {
    const char* value = std::getenv("SLUICE_FAILPOINTS");
    if (value == nullptr || *value == '\0')
      return;
    parsed = Arm(value).WithContext("SLUICE_FAILPOINTS");
    if (parsed.ok())
      armed = value;
  });
  if (!parsed.ok())
    return parsed;
  return armed;
}

}  // namespace sluice::failpoint
