#include "verify/store_side.h"

#include <chrono>

namespace sluice::verify {

Result<std::unique_ptr<DigestSource>> OpenDigestSource(
    const connectors::ConnectorRegistry& registry, const config::ConnectorBlock& block,
    const config::JobConfig& job, const std::atomic<bool>* stop) {
  auto opened = std::make_unique<DigestSource>();
  opened->context.job_name = job.name + "-verify";
  opened->context.parallelism = 1;
  opened->context.cancelled = stop != nullptr ? stop : &opened->cancelled;
  opened->context.bad_records = &opened->bad_records;
  SLUICE_ASSIGN_OR_RETURN(opened->source, registry.CreateSource(block));
  SLUICE_RETURN_IF_ERROR(opened->source->Open(opened->context));
  opened->digester = opened->source->digester();
  return opened;
}

QueryCanceller::QueryCanceller(const std::atomic<bool>* stop) : stop_(stop) {
  if (stop_ != nullptr)
    thread_ = std::thread([this] { Watch(); });
}

QueryCanceller::~QueryCanceller() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    done_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable())
    thread_.join();
}

void QueryCanceller::Forget::operator()(connectors::StoreDigester* gone) const {
  std::lock_guard<std::mutex> lock(canceller->mutex_);
  canceller->active_.erase(gone);
  canceller->cancelled_.erase(gone);
}

QueryCanceller::Guard QueryCanceller::Watching(connectors::StoreDigester* digester) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    active_.insert(digester);
  }
  return Guard(digester, Forget{this});
}

void QueryCanceller::Watch() {
  std::unique_lock<std::mutex> lock(mutex_);
  while (!done_) {
    wake_.wait_for(lock, std::chrono::milliseconds(100));
    if (done_ || !stop_->load())
      continue;
    for (connectors::StoreDigester* digester : active_) {
      if (cancelled_.insert(digester).second)
        digester->Cancel();
    }
  }
}

}  // namespace sluice::verify
