#include "state/run_owner.h"

#include <fmt/core.h>
#include <unistd.h>

#include <ctime>
#include <fstream>
#include <sstream>

namespace sluice::state {

namespace {

std::string ReadFirstLine(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  return line;
}

// Field 22 (starttime) of /proc/<pid>/stat, or 0 when the process does not exist. The command
// name (field 2) may hold spaces and parentheses: fields are counted after its last ')'.
uint64_t ProcessStart(int64_t pid) {
  std::string stat = ReadFirstLine(fmt::format("/proc/{}/stat", pid));
  size_t paren = stat.rfind(')');
  if (paren == std::string::npos)
    return 0;
  std::istringstream fields(stat.substr(paren + 1));
  std::string field;
  // After ')' come field 3 (state) onwards: starttime is the 20th of them.
  for (int index = 3; index <= 22; ++index) {
    if (!(fields >> field))
      return 0;
  }
  return std::strtoull(field.c_str(), nullptr, 10);
}

}  // namespace

RunOwner RunOwner::ThisProcess() {
  RunOwner owner;
  char host[256] = {};
  if (gethostname(host, sizeof(host) - 1) == 0)
    owner.host = host;
  owner.pid = static_cast<int64_t>(getpid());
  std::string boot_id = ReadFirstLine("/proc/sys/kernel/random/boot_id");
  char pid_namespace[64] = {};
  ssize_t length = readlink("/proc/self/ns/pid", pid_namespace, sizeof(pid_namespace) - 1);
  if (!boot_id.empty() && length > 0)
    owner.process_space = boot_id + "/" + std::string(pid_namespace, static_cast<size_t>(length));
  owner.process_start = ProcessStart(owner.pid);
  std::time_t now = std::time(nullptr);
  std::tm utc{};
  gmtime_r(&now, &utc);
  char text[32];
  std::strftime(text, sizeof(text), "%Y-%m-%d %H:%M:%S", &utc);
  owner.started_at = text;
  return owner;
}

std::string RunOwner::Describe() const {
  return fmt::format("pid {} on host {} since {} UTC", pid, host.empty() ? "?" : host,
                     started_at.empty() ? "?" : started_at);
}

bool RunOwner::KnownGone(const RunOwner& observer) const {
  if (host != observer.host || process_space.empty() || process_space != observer.process_space)
    return false;
  uint64_t start = ProcessStart(pid);
  return start == 0 || (process_start != 0 && start != process_start);
}

}  // namespace sluice::state
