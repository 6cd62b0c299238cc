// StateStore: where a job's plan and checkpoints survive the process.
//
// A job's state is the list of splits it handed out (planned and cut, in order, with their
// payloads), the committed progress of each (resume position, done), the number of the last
// completed checkpoint, and a fingerprint of the job's source and sink settings: a resume
// against a changed job is refused rather than silently mixing two plans.
//
// One run of a job at a time: a run takes the job's lease (AcquireRun) before it touches anything
// and renews it while it runs. Each lease carries an epoch, higher for every run that takes the
// job; once a run has taken the job, every change an earlier run still tries through the store
// fails with kConflict (fencing), and the sinks fence their own commits the same way
// (Sink::Claim). A lease is free again when its run releases it, when its process is known to
// have ended (same host, see RunOwner::KnownGone), or when its run stopped renewing it for the
// lease time (a frozen process, a machine cut off).
//
// The default implementation is an SQLite file (OpenSqliteStateStore); the interface is small so
// that a PostgreSQL-backed store can serve the server later. See docs/STATE_FORMAT.md.
//
// Thread-safety: implementations are thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "connectors/api.h"
#include "core/result.h"
#include "state/run_owner.h"

namespace sluice::state {

/// Committed progress of one split (resume position, done).
using connectors::SplitProgress;

/// kFinishing: every split is committed and Sink::Finish is running (or ran, and the process died
/// before it could record kSucceeded): a resumed run reads nothing and calls Finish again.
enum class JobStatus { kRunning, kFinishing, kSucceeded, kFailed, kInterrupted };
std::string_view JobStatusName(JobStatus status);

struct JobState {
  std::string job;
  std::string fingerprint;
  JobStatus status = JobStatus::kRunning;
  /// Last completed checkpoint (0 = none yet).
  uint64_t checkpoint = 0;
  /// Every split handed out, in the order it was handed out.
  std::vector<connectors::Split> splits;
  /// Committed progress by split id.
  std::map<std::string, SplitProgress> progress;
  /// Bad records skipped so far (the `errors:` budget spans restarts).
  uint64_t bad_records = 0;
  /// Source::CheckpointState() as of the last checkpoint ("" when none), for RestoreState.
  std::string source_state;
};

/// A run's hold on a job, from AcquireRun.
struct RunLease {
  /// Higher for every run that takes the job (microseconds of the wall clock when the run took
  /// it, or the last epoch + 1 if that is higher): the fencing token, which sinks store with
  /// their progress (JobContext::run_epoch).
  uint64_t epoch = 0;
  /// The run this one took the job from because it had stopped renewing its lease (frozen, or
  /// cut off); its later changes are refused.
  std::optional<RunOwner> took_over_from;
};

/// The run holding a job when AcquireRun finds it taken.
struct RunHolder {
  RunOwner owner;
  uint64_t epoch = 0;
  /// Seconds since the holder last renewed its lease.
  double seconds_since_renewal = 0;
};

/// AcquireRun's answer: exactly one of the two is set.
struct RunClaim {
  std::optional<RunLease> lease;
  std::optional<RunHolder> holder;
};

class StateStore {
 public:
  virtual ~StateStore() = default;

  /// Takes `job` for the run `owner` when no run holds it, when its holder is known to be gone,
  /// or when its holder has not renewed the lease for `lease_secs`; otherwise returns the
  /// holder. Once granted, every change this store object makes to `job` (below) first checks
  /// that the lease's epoch is still the job's: after another run took the job, they fail with
  /// kConflict and change nothing.
  virtual Result<RunClaim> AcquireRun(const std::string& job, const RunOwner& owner,
                                      double lease_secs) = 0;
  /// Renews the lease AcquireRun granted; kConflict when another run has taken the job since.
  virtual Status RenewRun(const std::string& job) = 0;
  /// Gives the job up, when the lease is still this run's.
  virtual Status ReleaseRun(const std::string& job) = 0;

  /// The job's state, or nullopt when the store has never seen it.
  virtual Result<std::optional<JobState>> Load(const std::string& job) = 0;
  /// Starts a fresh run: forgets any earlier state of `job`.
  virtual Status Reset(const std::string& job, const std::string& fingerprint) = 0;
  /// Marks a resumed run as running again.
  virtual Status MarkRunning(const std::string& job) = 0;
  /// Records splits before any reader works on them (durably: a crash after this returns
  /// keeps them).
  virtual Status RecordSplits(const std::string& job,
                              const std::vector<connectors::Split>& splits) = 0;
  /// Records checkpoint `checkpoint`: the progress of every split named (others unchanged), the
  /// bad-record count and the source's state (Source::CheckpointState), atomically.
  virtual Status CommitCheckpoint(const std::string& job, uint64_t checkpoint,
                                  const std::vector<SplitProgress>& progress,
                                  uint64_t bad_records, const std::string& source_state) = 0;
  /// Records the source's state (Source::CheckpointState) alone, durably, with the job's last
  /// checkpoint: taken when a run starts, before any row read under it can be committed.
  virtual Status RecordSourceState(const std::string& job, const std::string& source_state) = 0;
  /// The same for a source without state of its own.
  Status CommitCheckpoint(const std::string& job, uint64_t checkpoint,
                          const std::vector<SplitProgress>& progress, uint64_t bad_records) {
    return CommitCheckpoint(job, checkpoint, progress, bad_records, std::string());
  }
  /// Sets the job's status. kFailed and kInterrupted do not replace kFinishing: a job whose
  /// splits are all committed stays finishing until it succeeds or starts over.
  virtual Status SetStatus(const std::string& job, JobStatus status) = 0;
};

/// Opens (creating when missing) the SQLite state store at `path`; parent directories are
/// created.
Result<std::unique_ptr<StateStore>> OpenSqliteStateStore(const std::string& path);

}  // namespace sluice::state
