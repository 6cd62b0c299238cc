// WorkQueue: a run's supply of work for its readers: splits an earlier run left unfinished first,
// then what the source's enumerator plans, then cuts of running splits.
//
// Every split from the enumerator is recorded in the state store before it is handed out. Idle
// readers do not poll: they note generation(), look for work, and when there is none wait in
// WaitForChange() until something that may give them work happened (a cut queued, work finished
// or started, the enumerator's SetWakeup callback, work handed back) or Close() (stop, failure).
//
// Thread-safety: thread-safe. The enumerator is called under the queue's lock; the wake-up uses a
// separate lock, so an enumerator may call its wake callback while holding its own lock.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "connectors/api.h"
#include "core/result.h"
#include "runtime/metrics.h"

namespace sluice::state {
class StateStore;
}

namespace sluice::runtime {

/// A split to read and where to start in it.
struct Work {
  connectors::Split split;
  std::string position;
};

class WorkQueue {
 public:
  /// Installs the enumerator's wake-up (SplitEnumerator::SetWakeup).
  WorkQueue(std::deque<Work> resumed, std::unique_ptr<connectors::SplitEnumerator> source,
            state::StateStore* store, std::string job, JobMetrics* metrics);

  /// The next work, or nullopt when there is none now. Work handed out counts as outstanding
  /// until Done(), so that an idle reader can tell "nothing left" from "someone just took the
  /// last split and may still be cut".
  Result<std::optional<Work>> Next();

  /// A reader finished (or gave up) work it got from Next().
  void Done();
  int outstanding() const { return outstanding_.load(); }

  /// Queues a cut split (already recorded) for the next idle reader.
  void AddCut(connectors::Split split);
  /// Hands back work a reader got from Next() and did not finish (it reopens at `position`).
  void GiveBack(Work work);

  /// Counts a change that may give an idle reader work (a reader started a split, new splits
  /// upstream) and wakes the waiting readers.
  void Wake();
  /// Increases with every change; read it before looking for work, then WaitForChange(it).
  uint64_t generation() const;
  /// Blocks until generation() differs from `seen` or the queue is closed.
  void WaitForChange(uint64_t seen);
  /// Wakes every waiting reader for good (the job stops or failed).
  void Close();

  /// Work not yet handed out: cuts, resumed work, splits the enumerator has ready.
  size_t pending() const;
  /// Splits the source planned but nobody took yet (not counted in the metrics so far).
  size_t planned_not_taken() const;

 private:
  mutable std::mutex mutex_;
  std::deque<Work> resumed_;               // guarded by mutex_
  std::deque<connectors::Split> cuts_;     // guarded by mutex_
  std::unique_ptr<connectors::SplitEnumerator> source_;  // guarded by mutex_
  std::atomic<int> outstanding_{0};
  state::StateStore* store_;
  std::string job_;
  JobMetrics* metrics_;

  mutable std::mutex wake_mutex_;
  std::condition_variable wake_cv_;
  uint64_t generation_ = 0;  // guarded by wake_mutex_
  bool closed_ = false;      // guarded by wake_mutex_
};

}  // namespace sluice::runtime
