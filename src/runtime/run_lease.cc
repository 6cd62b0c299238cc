#include "runtime/run_lease.h"

#include <fmt/core.h>

#include <chrono>

#include "core/logging.h"

namespace sluice::runtime {

namespace {

constexpr std::string_view kComponent = "runtime";

std::string HeldMessage(const std::string& job, const state::RunHolder& holder,
                        const LeaseOptions& options) {
  return fmt::format(
      "job '{}' is already running ({}, run epoch {}; state in '{}'): wait for it with `sluice "
      "run --wait`, or stop that run first (SIGINT or SIGTERM; it resumes from its last "
      "checkpoint when run again)",
      job, holder.owner.Describe(), holder.epoch, options.state_path);
}

}  // namespace

Result<std::unique_ptr<RunLeaseKeeper>> RunLeaseKeeper::Acquire(state::StateStore* store,
                                                                const std::string& job,
                                                                const LeaseOptions& options,
                                                                const std::atomic<bool>* stop) {
  state::RunOwner owner = state::RunOwner::ThisProcess();
  bool announced = false;
  while (true) {
    Result<state::RunClaim> attempt = store->AcquireRun(job, owner, options.lease_secs);
    if (!attempt.ok() && !(options.wait && attempt.status().IsTransient())) {
      return attempt.status().WithContext(fmt::format("taking the run lease of job '{}'", job));
    }
    if (!attempt.ok()) {
      // A waiting run tries again: the store's write lock is busy (a frozen run may hold it).
      log::Debug(kComponent, "{}", attempt.status().ToString());
      attempt = state::RunClaim{};
    }
    state::RunClaim claim = std::move(*attempt);
    if (claim.lease) {
      if (claim.lease->took_over_from) {
        log::Warn(kComponent,
                  "Took job '{}' over from {}, which stopped renewing its lease more than {} s "
                  "ago (frozen, or cut off); its later commits are refused",
                  job, claim.lease->took_over_from->Describe(), options.lease_secs);
      }
      log::Debug(kComponent, "Job '{}': run epoch {}", job, claim.lease->epoch);
      return std::unique_ptr<RunLeaseKeeper>(
          new RunLeaseKeeper(store, job, owner, *claim.lease, options.lease_secs));
    }
    if (claim.holder && !options.wait)
      return Conflict(HeldMessage(job, *claim.holder, options));
    if (claim.holder && !announced) {
      const state::RunHolder& holder = *claim.holder;
      log::Info(kComponent, "Job '{}' is running ({}); waiting for it to end (--wait)", job,
                holder.owner.Describe());
      announced = true;
    }
    for (int tick = 0; tick < 4; ++tick) {
      if (stop != nullptr && stop->load())
        return Cancelled(fmt::format("stopped while waiting for the running job '{}'", job));
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }
}

RunLeaseKeeper::RunLeaseKeeper(state::StateStore* store, std::string job, state::RunOwner owner,
                               state::RunLease lease, double lease_secs)
    : store_(store),
      job_(std::move(job)),
      owner_(std::move(owner)),
      lease_(std::move(lease)),
      lease_secs_(lease_secs) {
  renewer_ = std::thread([this] { RenewLoop(); });
}

RunLeaseKeeper::~RunLeaseKeeper() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  renewer_.join();
  if (!lost_.load()) {
    Status released = store_->ReleaseRun(job_);
    if (!released.ok())
      log::Warn(kComponent, "Cannot release the lease of job '{}': {}", job_, released.message());
  }
}

Status RunLeaseKeeper::reason() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return reason_;
}

void RunLeaseKeeper::RenewLoop() {
  const auto every = std::chrono::duration<double>(lease_secs_ / 3);
  std::unique_lock<std::mutex> lock(mutex_);
  while (!stopping_) {
    wake_.wait_for(lock, every, [&] { return stopping_; });
    if (stopping_)
      break;
    lock.unlock();
    Status renewed = store_->RenewRun(job_);
    lock.lock();
    if (renewed.code() == StatusCode::kConflict) {
      reason_ = renewed;
      lost_.store(true);
      log::Error(kComponent, "{}", renewed.message());
      return;
    }
    if (!renewed.ok()) {
      // A busy or briefly unwritable store: try again at the next tick. The lease lasts three
      // of them, and the store refuses this run's changes anyway once another run takes over.
      log::Warn(kComponent, "Cannot renew the lease of job '{}': {}", job_, renewed.message());
    }
  }
}

}  // namespace sluice::runtime
