// A logical replication stream: a replication=database connection in COPY BOTH mode after
// START_REPLICATION, handing out the walsender's XLogData (pgoutput messages) and keepalives,
// and sending standby status updates (how far the client has written, flushed, applied: the
// slot's confirmed_flush_lsn follows `flushed`).
// https://www.postgresql.org/docs/current/protocol-replication.html
//
// Thread-safety: one thread at a time.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <string_view>

#include "connectors/postgres/pgoutput.h"
#include "connectors/postgres/postgres_client.h"

namespace sluice::connectors::postgres {

class ReplicationStream {
 public:
  /// Connects as a replication client and streams slot `slot` (pgoutput, publication
  /// `publication`) from `start` (0: from the slot's confirmed_flush_lsn).
  static Result<std::unique_ptr<ReplicationStream>> Start(const ConnectionOptions& options,
                                                          const std::string& slot,
                                                          const std::string& publication,
                                                          Lsn start);
  ~ReplicationStream();
  ReplicationStream(const ReplicationStream&) = delete;
  ReplicationStream& operator=(const ReplicationStream&) = delete;

  struct Event {
    enum class Kind { kNone, kData, kKeepalive };
    Kind kind = Kind::kNone;
    /// kData: where the message's WAL starts.
    Lsn wal_start = 0;
    /// The server's WAL end as of this message.
    Lsn wal_end = 0;
    /// kData: the pgoutput message, valid until the next call of Next.
    std::string_view payload;
    /// kKeepalive: the server wants a status update now (it disconnects after
    /// wal_sender_timeout without one).
    bool reply_requested = false;
  };

  /// The next message, waiting up to `wait` for one; kind kNone when none came in time.
  Result<Event> Next(std::chrono::milliseconds wait);

  /// Sends a standby status update: everything before `flushed` is safe, the server may forget
  /// it (and a restart of the slot begins there). `reply_requested`: the server answers with a
  /// keepalive at once.
  Status SendStatus(Lsn received, Lsn flushed, bool reply_requested = false);

  const std::string& endpoint() const { return connection_->endpoint(); }

 private:
  explicit ReplicationStream(std::unique_ptr<PgConnection> connection)
      : connection_(std::move(connection)) {}
  void FreeBuffer();

  std::unique_ptr<PgConnection> connection_;
  char* buffer_ = nullptr;  // the last PQgetCopyData message
};

}  // namespace sluice::connectors::postgres
