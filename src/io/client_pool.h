// ClientPool: idle clients of a store that is not thread-safe (WebHdfsClient, S3Client), lent to
// one call at a time so that a FileStore can be used from several threads. A call borrows a
// client (a new one when none is idle), uses it alone, and the lease gives it back; at most as
// many clients exist as calls ever ran at once, each keeping its connection open. Internal to io.
#pragma once

#include <memory>
#include <mutex>
#include <utility>
#include <vector>

#include "core/result.h"

namespace sluice::io {

/// `Client` has `static Result<Client> Open(Options)` and is movable.
template <typename Client, typename Options>
class ClientPool {
 public:
  /// A borrowed client, returned to the pool when the lease ends.
  class Lease {
   public:
    Lease(ClientPool* pool, std::unique_ptr<Client> client)
        : pool_(pool), client_(std::move(client)) {}
    Lease(Lease&&) noexcept = default;
    Lease& operator=(Lease&&) = delete;
    ~Lease() {
      if (client_ != nullptr)
        pool_->GiveBack(std::move(client_));
    }
    Client* operator->() { return client_.get(); }
    Client& operator*() { return *client_; }

   private:
    ClientPool* pool_;
    std::unique_ptr<Client> client_;
  };

  explicit ClientPool(Options options) : options_(std::move(options)) {}

  /// A client of its own for the caller: an idle one, or a new one (no I/O: clients connect on
  /// first use).
  Result<Lease> Borrow() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (!idle_.empty()) {
        std::unique_ptr<Client> client = std::move(idle_.back());
        idle_.pop_back();
        return Lease(this, std::move(client));
      }
    }
    SLUICE_ASSIGN_OR_RETURN(std::unique_ptr<Client> client, OpenClient());
    return Lease(this, std::move(client));
  }

  /// A client that is not returned to the pool (a staged file's own).
  Result<std::unique_ptr<Client>> OpenClient() const {
    SLUICE_ASSIGN_OR_RETURN(Client client, Client::Open(options_));
    return std::make_unique<Client>(std::move(client));
  }

  const Options& options() const { return options_; }

 private:
  void GiveBack(std::unique_ptr<Client> client) {
    std::lock_guard<std::mutex> lock(mutex_);
    idle_.push_back(std::move(client));
  }

  Options options_;
  std::mutex mutex_;
  std::vector<std::unique_ptr<Client>> idle_;
};

}  // namespace sluice::io
