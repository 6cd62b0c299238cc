// Stopping a job at an exact place in its data, for tests that stop and resume: arms the `stop`
// failpoint (core/failpoint.h) at the readers' `batch`-th batch, so the job stops there as SIGINT
// would stop it (a final checkpoint, then interrupted), however fast or loaded the machine.
// Header-only; test-only. Each class disarms every failpoint when destroyed: use one at a time.
#pragma once

#include <fmt/core.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <thread>

#include "core/failpoint.h"

namespace sluice::testing {

/// Armed while it lives; disarms every failpoint when destroyed.
class StopAtBatch {
 public:
  /// `batch` counts the batches all readers push, from 1.
  explicit StopAtBatch(uint64_t batch) {
    Status armed = failpoint::Arm(fmt::format("runtime.reader.batch=stop@{}", batch));
    EXPECT_TRUE(armed.ok()) << armed.ToString();
  }
  ~StopAtBatch() { failpoint::DisarmAll(); }
  StopAtBatch(const StopAtBatch&) = delete;
  StopAtBatch& operator=(const StopAtBatch&) = delete;
};

/// Stops the job after the first cut of a running split is recorded (the runtime's
/// `runtime.cut.after_record`), once `readers` reader threads each pushed `batches` batches
/// since: with two, the stopped run leaves a cut split behind whose reader had read rows of its
/// own (with the plan used up, an idle reader has nothing else to read), whatever the speed.
/// Count only threads sure to have work after the cut: an idle reader may sleep through the
/// rest of a short job. The stop comes at the next batch any reader pushes after that. Armed
/// while it lives.
class StopAfterCut {
 public:
  StopAfterCut(int readers, int batches) {
    auto counts = std::make_shared<Counts>();
    failpoint::ArmCallback("runtime.cut.after_record", 1, [counts, readers, batches] {
      failpoint::ArmCallback(
          "runtime.reader.batch", 1,
          [counts, readers, batches] {
            std::lock_guard<std::mutex> lock(counts->mutex);
            int& mine = counts->batches[std::this_thread::get_id()];
            if (++mine == batches && ++counts->ready == readers)
              return failpoint::Arm(fmt::format("runtime.reader.batch=stop@{}",
                                                failpoint::Passes("runtime.reader.batch") + 1));
            return Status::OK();
          },
          /*and_later=*/true);
      return Status::OK();
    });
  }
  ~StopAfterCut() { failpoint::DisarmAll(); }
  StopAfterCut(const StopAfterCut&) = delete;
  StopAfterCut& operator=(const StopAfterCut&) = delete;

 private:
  struct Counts {
    std::mutex mutex;
    std::map<std::thread::id, int> batches;  // guarded by mutex
    int ready = 0;                           // guarded by mutex
  };
};

}  // namespace sluice::testing
