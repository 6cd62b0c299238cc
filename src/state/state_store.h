// StateStore: where a job's plan and checkpoints survive the process.
//
// A job's state is the list of splits it handed out (planned and cut, in order, with their
// payloads), the committed progress of each (resume position, done), the number of the last
// completed checkpoint, and a fingerprint of the job's source and sink settings: a resume
// against a changed job is refused rather than silently mixing two plans.
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

namespace sluice::state {

/// Committed progress of one split (resume position, done).
using connectors::SplitProgress;

enum class JobStatus { kRunning, kSucceeded, kFailed, kInterrupted };
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
};

class StateStore {
 public:
  virtual ~StateStore() = default;

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
  /// Records checkpoint `checkpoint`: the progress of every split named (others unchanged) and
  /// the bad-record count, atomically.
  virtual Status CommitCheckpoint(const std::string& job, uint64_t checkpoint,
                                  const std::vector<SplitProgress>& progress,
                                  uint64_t bad_records) = 0;
  virtual Status SetStatus(const std::string& job, JobStatus status) = 0;
};

/// Opens (creating when missing) the SQLite state store at `path`; parent directories are
/// created.
Result<std::unique_ptr<StateStore>> OpenSqliteStateStore(const std::string& path);

}  // namespace sluice::state
