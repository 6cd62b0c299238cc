// RunOwner: which process runs a job, in enough detail to say so ("pid 4711 on host etl-3 since
// 2026-12-04 09:00:00 UTC") and to tell, from the same host, whether that process still lives.
//
// A pid alone is not an identity: pids are reused, and mean something only inside one pid
// namespace of one boot of one kernel. The process space (boot id and pid namespace) says where a
// pid is valid; the process's start time (clock ticks since boot) tells a reused pid from the
// process that had it first.
//
// Thread-safety: a value type.
#pragma once

#include <cstdint>
#include <string>

namespace sluice::state {

struct RunOwner {
  std::string host;
  int64_t pid = 0;
  /// The kernel's boot id and this process's pid namespace: pids compare only within one such
  /// space (the same boot of the same machine, the same container).
  std::string process_space;
  /// Field 22 of /proc/<pid>/stat: tells a reused pid apart.
  uint64_t process_start = 0;
  /// When the run took the job, UTC, "2026-12-04 09:00:00".
  std::string started_at;

  /// This process, now.
  static RunOwner ThisProcess();
  /// "pid 4711 on host etl-3 since 2026-12-04 09:00:00 UTC".
  std::string Describe() const;
  /// True when `this` ran in the process space `observer` runs in and the process has ended (its
  /// pid is gone or belongs to a later process). False when it lives, and when `observer`
  /// cannot tell (another host, boot or container): a lease then expires instead.
  bool KnownGone(const RunOwner& observer) const;
};

}  // namespace sluice::state
