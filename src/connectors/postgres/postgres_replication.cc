#include "connectors/postgres/postgres_replication.h"

#include <fmt/core.h>
#include <libpq-fe.h>
#include <poll.h>

#include "core/endian.h"

namespace sluice::connectors::postgres {

namespace {

int64_t NowPostgresMicros() {
  auto now = std::chrono::system_clock::now().time_since_epoch();
  return std::chrono::duration_cast<std::chrono::microseconds>(now).count() -
         kPostgresEpochOffsetUs;
}

}  // namespace

Result<std::unique_ptr<ReplicationStream>> ReplicationStream::Start(
    const ConnectionOptions& options, const std::string& slot, const std::string& publication,
    Lsn start) {
  SLUICE_ASSIGN_OR_RETURN(std::unique_ptr<PgConnection> connection,
                          PgConnection::Connect(options, /*replication=*/true));
  // The publication name is an option value: a literal holding a quoted identifier list.
  std::string command = fmt::format(
      "START_REPLICATION SLOT {} LOGICAL {} (proto_version '1', publication_names {})",
      QuoteIdentifier(slot), FormatLsn(start), QuoteLiteral(QuoteIdentifier(publication)));
  PgResult result(PQexec(connection->get(), command.c_str()));
  if (!result.get() || PQresultStatus(result.get()) != PGRES_COPY_BOTH) {
    return PgStatus(connection->get(), result.get(), connection->endpoint(),
                    fmt::format("cannot stream replication slot '{}'", slot));
  }
  return std::unique_ptr<ReplicationStream>(new ReplicationStream(std::move(connection)));
}

ReplicationStream::~ReplicationStream() {
  FreeBuffer();
}

void ReplicationStream::FreeBuffer() {
  if (buffer_ != nullptr) {
    PQfreemem(buffer_);
    buffer_ = nullptr;
  }
}

Result<ReplicationStream::Event> ReplicationStream::Next(std::chrono::milliseconds wait) {
  FreeBuffer();
  pg_conn* conn = connection_->get();
  const auto deadline = std::chrono::steady_clock::now() + wait;
  while (true) {
    int size = PQgetCopyData(conn, &buffer_, /*async=*/1);
    if (size == 0) {
      // Nothing buffered: wait for the socket, then let libpq read what arrived.
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0)
        return Event{};
      pollfd socket{PQsocket(conn), POLLIN, 0};
      int ready = poll(&socket, 1, static_cast<int>(left.count()));
      if (ready < 0 && errno != EINTR)
        return Unavailable(fmt::format("{}: waiting for the replication stream failed", endpoint()));
      if (ready > 0 && PQconsumeInput(conn) == 0) {
        return PgStatus(conn, nullptr, endpoint(), "the replication stream broke");
      }
      continue;
    }
    if (size == -1) {
      // The server ended the COPY: its error (a dropped slot, a shutdown) is in the result.
      PgResult result(PQgetResult(conn));
      return PgStatus(conn, result.get(), endpoint(), "the replication stream ended");
    }
    if (size < 0)
      return PgStatus(conn, nullptr, endpoint(), "the replication stream broke");
    std::string_view message(buffer_, static_cast<size_t>(size));
    Event event;
    if (message[0] == 'w' && message.size() >= 25) {
      event.kind = Event::Kind::kData;
      event.wal_start = ReadBigEndian<uint64_t>(message.data() + 1);
      event.wal_end = ReadBigEndian<uint64_t>(message.data() + 9);
      event.payload = message.substr(25);
      return event;
    }
    if (message[0] == 'k' && message.size() >= 18) {
      event.kind = Event::Kind::kKeepalive;
      event.wal_end = ReadBigEndian<uint64_t>(message.data() + 1);
      event.reply_requested = message[17] != 0;
      return event;
    }
    return Internal(fmt::format("{}: unexpected replication message '{}' of {} bytes", endpoint(),
                                message[0], size));
  }
}

Status ReplicationStream::SendStatus(Lsn received, Lsn flushed, bool reply_requested) {
  char message[34];
  message[0] = 'r';
  WriteBigEndian<uint64_t>(received, message + 1);
  WriteBigEndian<uint64_t>(flushed, message + 9);
  WriteBigEndian<uint64_t>(flushed, message + 17);  // applied: the same as flushed for us
  WriteBigEndian<uint64_t>(static_cast<uint64_t>(NowPostgresMicros()), message + 25);
  message[33] = reply_requested ? 1 : 0;
  pg_conn* conn = connection_->get();
  if (PQputCopyData(conn, message, sizeof(message)) != 1 || PQflush(conn) != 0)
    return PgStatus(conn, nullptr, endpoint(), "cannot send the replication status");
  return Status::OK();
}

}  // namespace sluice::connectors::postgres
