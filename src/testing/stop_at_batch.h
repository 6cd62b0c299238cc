// Stopping a job at an exact place in its data, for tests that stop and resume: arms the `stop`
// failpoint (core/failpoint.h) at the readers' `batch`-th batch, so the job stops there as SIGINT
// would stop it (a final checkpoint, then interrupted), however fast or loaded the machine.
// Header-only; test-only.
#pragma once

#include <fmt/core.h>
#include <gtest/gtest.h>

#include <cstdint>

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

}  // namespace sluice::testing
