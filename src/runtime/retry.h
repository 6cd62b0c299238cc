// Retrying after transient failures (a lost connection, a restarted server, a deadlock): one
// backoff for jobs (runtime/job_runner.cc) and `sluice verify`, so both honour the job's
// `retry:` the same way.
#pragma once

#include <atomic>

#include "config/job_config.h"

namespace sluice::runtime {

/// Seconds to wait before retry `attempt` (0 for the first retry): initial_backoff_secs doubled
/// per attempt up to max_backoff_secs, times a random factor in [0.5, 1.5), so that many jobs
/// failing at once do not hammer a recovering server in step.
double BackoffSeconds(const config::RetryPolicy& policy, int attempt);

/// Sleeps `seconds`, waking early once `*stop` is set (SIGINT/SIGTERM). Returns false when
/// stopped. `stop` may be null.
bool SleepUnlessStopped(double seconds, const std::atomic<bool>* stop);

}  // namespace sluice::runtime
