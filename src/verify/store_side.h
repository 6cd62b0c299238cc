// The in-database side of verification: a source opened only so that its store (MySQL,
// PostgreSQL: Source::digester()) computes the bucket digests in SQL, and the watcher that
// cancels those queries when the verification is stopped.
//
// Thread-safety: a DigestSource is used from one thread at a time. QueryCanceller watches from
// a thread of its own; Watching() may be called from any thread.
#pragma once

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <set>
#include <thread>

#include "config/job_config.h"
#include "connectors/registry.h"
#include "connectors/store_digest.h"

namespace sluice::verify {

// A source opened only so that its store computes digests.
struct DigestSource {
  std::atomic<bool> cancelled{false};
  connectors::FailOnBadRecord bad_records;  // a store computing digests reads no records
  connectors::JobContext context;
  std::unique_ptr<connectors::Source> source;
  connectors::StoreDigester* digester = nullptr;
};

/// Opens the source of `block` for its digester (nullptr when its store computes none).
Result<std::unique_ptr<DigestSource>> OpenDigestSource(
    const connectors::ConnectorRegistry& registry, const config::ConnectorBlock& block,
    const config::JobConfig& job, const std::atomic<bool>* stop);

// Cancels the queries of the digesters in use once `stop` is set (SIGINT/SIGTERM): a digest
// query can run for minutes on a big table, and an interrupted verify must not wait for it.
class QueryCanceller {
 public:
  explicit QueryCanceller(const std::atomic<bool>* stop);
  ~QueryCanceller();
  QueryCanceller(const QueryCanceller&) = delete;
  QueryCanceller& operator=(const QueryCanceller&) = delete;

  // Stops watching a digester when its guard goes.
  struct Forget {
    QueryCanceller* canceller;
    void operator()(connectors::StoreDigester* gone) const;
  };
  using Guard = std::unique_ptr<connectors::StoreDigester, Forget>;

  // Watches `digester` while the returned guard lives.
  Guard Watching(connectors::StoreDigester* digester);

 private:
  void Watch();

  const std::atomic<bool>* stop_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool done_ = false;                               // guarded by mutex_
  std::set<connectors::StoreDigester*> active_;     // guarded by mutex_
  std::set<connectors::StoreDigester*> cancelled_;  // guarded by mutex_
  std::thread thread_;
};

}  // namespace sluice::verify
