// Making the first cut of a running split certain in tests of the SQL sources
// (sql::KeysetReader), whatever the speed of the machine: an idle reader asks the busiest one to
// cut what it has left, which that reader does at its next page, and only while enough is left.
// A fast reader of a big split could otherwise be too far in by the time the others run dry.
// Header-only; test-only.
#pragma once

#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <thread>

#include "core/failpoint.h"

namespace sluice::testing {

/// Arms failpoints (until failpoint::DisarmAll) so that a reader thread starting its `pages`-th
/// page (counted over the splits it read) waits there until some reader was asked for a cut
/// (`sql.cut.requested`), for a minute at most. For jobs whose small splits have fewer pages,
/// so that their readers run dry and ask, while the reader of the big one waits near its start.
inline void HoldReaderForCut(int pages) {
  struct Shared {
    std::mutex mutex;
    std::condition_variable asked_cv;
    bool asked = false;                       // guarded by mutex
    std::map<std::thread::id, int> started;  // guarded by mutex
  };
  auto shared = std::make_shared<Shared>();
  failpoint::ArmCallback(
      "sql.cut.requested", 1,
      [shared] {
        {
          std::lock_guard<std::mutex> lock(shared->mutex);
          shared->asked = true;
        }
        shared->asked_cv.notify_all();
        return Status::OK();
      },
      /*and_later=*/true);
  failpoint::ArmCallback(
      "sql.reader.page", 1,
      [shared, pages] {
        std::unique_lock<std::mutex> lock(shared->mutex);
        if (++shared->started[std::this_thread::get_id()] >= pages) {
          shared->asked_cv.wait_for(lock, std::chrono::minutes(1), [&] { return shared->asked; });
        }
        return Status::OK();
      },
      /*and_later=*/true);
}

}  // namespace sluice::testing
