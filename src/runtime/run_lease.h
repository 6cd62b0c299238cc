// RunLeaseKeeper: holds a job's run lease in the state store for as long as a run lasts, so that
// only one run of a job moves data at a time (see state_store.h).
//
// Acquire() takes the lease, or fails at once with kConflict naming the run that holds it
// (which process, on which host, since when), or, with `wait`, polls until that run ends. A
// thread then renews the lease every third of its time. When a renewal finds that another run
// took the job over (this process was frozen, or cut off from the state store, for longer than
// the lease), lost() turns true: the job must stop at once; the store and the sinks refuse its
// commits anyway. The destructor stops the thread and releases the lease unless it was lost.
//
// Thread-safety: lost() and reason() from any thread; the rest from the thread that acquired.
#pragma once

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "core/result.h"
#include "state/state_store.h"

namespace sluice::runtime {

struct LeaseOptions {
  /// How long a run that stopped renewing keeps the job (`run_lease_secs`).
  double lease_secs = 30;
  /// --wait: wait for the run holding the job instead of failing at once.
  bool wait = false;
  /// Where the state store lives, for messages.
  std::string state_path;
};

class RunLeaseKeeper {
 public:
  /// Takes `job`'s lease for this process. `stop` (may be null) ends a wait with kCancelled.
  static Result<std::unique_ptr<RunLeaseKeeper>> Acquire(state::StateStore* store,
                                                         const std::string& job,
                                                         const LeaseOptions& options,
                                                         const std::atomic<bool>* stop);
  ~RunLeaseKeeper();
  RunLeaseKeeper(const RunLeaseKeeper&) = delete;
  RunLeaseKeeper& operator=(const RunLeaseKeeper&) = delete;

  const state::RunLease& lease() const { return lease_; }
  const state::RunOwner& owner() const { return owner_; }
  /// True once another run has taken the job from this one.
  bool lost() const { return lost_.load(); }
  /// Non-null pointer to the flag behind lost(), for loops that poll it.
  const std::atomic<bool>* lost_flag() const { return &lost_; }
  /// Why the lease was lost (kConflict), once lost() is true.
  Status reason() const;

 private:
  RunLeaseKeeper(state::StateStore* store, std::string job, state::RunOwner owner,
                 state::RunLease lease, double lease_secs);
  void RenewLoop();

  state::StateStore* store_;
  const std::string job_;
  const state::RunOwner owner_;
  const state::RunLease lease_;
  const double lease_secs_;
  std::atomic<bool> lost_{false};
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;  // guarded by mutex_
  Status reason_;          // guarded by mutex_
  std::thread renewer_;
};

}  // namespace sluice::runtime
