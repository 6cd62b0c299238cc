// A binlog dump: a connection that registers with the server as a replica with its own server id
// (COM_REGISTER_SLAVE) and asks for its binary log from a file and position on (COM_BINLOG_DUMP),
// through libmariadb's replication API `mariadb_rpl_*`, and hands out each event's bytes as they
// come. Before the dump the session
// announces that it reads checksums (@master_binlog_checksum) and MariaDB's GTID events
// (@mariadb_slave_capability = 4) and asks for a heartbeat whenever the server has had nothing
// to send for `heartbeat` (@master_heartbeat_period), so that Next() waits about that long at
// most and a silent server is noticed by the connection's read timeout.
//
// Thread-safety: one thread drives it; Cancel() may come from any thread while it lives.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "connectors/mysql/mysql_client.h"
#include "connectors/mysql/mysql_options.h"

struct st_mariadb_rpl;
struct st_mariadb_rpl_event;

namespace sluice::connectors::mysql {

class BinlogStream {
 public:
  /// Connects, registers as replica `server_id` reporting `report_host` (so that SHOW SLAVE
  /// HOSTS lists it) and starts the dump of binlog `file` from `position`. A file the server no
  /// longer has is NotFound saying it was purged.
  static Result<std::unique_ptr<BinlogStream>> Start(const ConnectionOptions& options,
                                                     uint32_t server_id,
                                                     const std::string& report_host,
                                                     const std::string& file, uint64_t position,
                                                     std::chrono::milliseconds heartbeat);
  ~BinlogStream();
  BinlogStream(const BinlogStream&) = delete;
  BinlogStream& operator=(const BinlogStream&) = delete;

  /// The next event (from its header to its checksum), valid until the next call. Blocks until
  /// one arrives (heartbeats included). A lost connection is Unavailable; after Cancel(),
  /// Cancelled.
  Result<std::string_view> Next();

  /// Whether the server checksummed its events when the dump started (binlog_checksum CRC32):
  /// what the events before the first FORMAT_DESCRIPTION carry.
  bool checksum() const { return checksum_; }

  /// Interrupts a blocked Next() at once (shuts the socket down); the stream is unusable after.
  void Cancel();

 private:
  explicit BinlogStream(Connection connection) : connection_(std::move(connection)) {}
  Status FetchError();

  Connection connection_;
  st_mariadb_rpl* rpl_ = nullptr;
  st_mariadb_rpl_event* event_ = nullptr;
  bool checksum_ = false;
  int socket_ = -1;
  std::atomic<bool> cancelled_{false};
  std::string file_;
  uint64_t position_ = 0;
};

}  // namespace sluice::connectors::mysql
