#include "runtime/bad_records.h"

#include <fmt/core.h>

#include <cerrno>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "core/logging.h"

namespace sluice::runtime {

BadRecordPolicy::BadRecordPolicy(std::string job, config::ErrorPolicy policy, JobMetrics* metrics,
                                 uint64_t already)
    : job_(std::move(job)), policy_(std::move(policy)), metrics_(metrics), count_(already) {}

Status BadRecordPolicy::Open() {
  if (policy_.mode != config::ErrorPolicy::Mode::kDeadLetter)
    return Status::OK();
  std::filesystem::path path(policy_.dead_letter_path);
  std::error_code error;
  if (path.has_parent_path())
    std::filesystem::create_directories(path.parent_path(), error);
  dead_letter_.open(path, std::ios::app | std::ios::binary);
  if (!dead_letter_) {
    return ErrnoStatus("Cannot open the dead-letter file", policy_.dead_letter_path, errno);
  }
  return Status::OK();
}

namespace {
thread_local uint64_t skipped_on_this_thread = 0;
}

uint64_t BadRecordPolicy::SkippedOnThisThread() {
  return skipped_on_this_thread;
}

Status BadRecordPolicy::Handle(const connectors::BadRecord& record) {
  if (policy_.mode == config::ErrorPolicy::Mode::kFail)
    return record.reason;
  ++skipped_on_this_thread;
  uint64_t count = count_.fetch_add(1) + 1;
  metrics_->OnBadRecord();
  log::Warn("errors", "Skipped bad record: {}", record.reason.message());
  if (policy_.mode == config::ErrorPolicy::Mode::kDeadLetter) {
    nlohmann::ordered_json line = {{"job", job_},
                                   {"stream", record.stream},
                                   {"location", record.location},
                                   {"reason", record.reason.message()},
                                   {"raw", record.raw}};
    std::string text =
        line.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace) + "\n";
    std::lock_guard<std::mutex> lock(mutex_);
    dead_letter_ << text;
    dead_letter_.flush();
    if (!dead_letter_) {
      return IoError(
          fmt::format("cannot write the dead-letter file '{}'", policy_.dead_letter_path));
    }
  }
  if (policy_.max_count > 0 && count > policy_.max_count) {
    return DataError(fmt::format("more than {} bad records (errors.max_count); the last: {}",
                                 policy_.max_count, record.reason.message()));
  }
  if (policy_.max_ratio > 0) {
    uint64_t rows = metrics_->Snapshot().rows_read;
    if (rows >= 1000 &&
        static_cast<double>(count) > policy_.max_ratio * static_cast<double>(rows)) {
      return DataError(fmt::format(
          "bad records exceed {:g}% of the rows read (errors.max_ratio): {} of {}; the last: {}",
          policy_.max_ratio * 100, count, rows, record.reason.message()));
    }
  }
  return Status::OK();
}

}  // namespace sluice::runtime
