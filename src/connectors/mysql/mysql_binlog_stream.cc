#include "connectors/mysql/mysql_binlog_stream.h"

#include <fmt/core.h>
#include <mysql.h>
#include <mariadb_rpl.h>
#include <sys/socket.h>

#include "connectors/mysql/mysql_binlog_events.h"

namespace sluice::connectors::mysql {

namespace {

// ER_MASTER_FATAL_ERROR_READING_BINLOG: the server cannot send the binlog asked for.
constexpr unsigned int kFatalErrorReadingBinlog = 1236;

Status Purged(const ConnectionOptions& options, const std::string& file, std::string_view why) {
  return NotFound(fmt::format(
      "{}: the binlog '{}' is gone from the server ({}), so the changes since the last "
      "checkpoint cannot be read: it was purged (expire_logs_days, binlog_expire_logs_seconds "
      "or PURGE BINARY LOGS) while the job was stopped or behind. Load the tables again, then "
      "run the job with --fresh to capture from the current position",
      options.Describe(), file, why));
}

}  // namespace

Result<std::unique_ptr<BinlogStream>> BinlogStream::Start(const ConnectionOptions& options,
                                                          uint32_t server_id,
                                                          const std::string& report_host,
                                                          const std::string& file,
                                                          uint64_t position,
                                                          std::chrono::milliseconds heartbeat) {
  ConnectionOptions stream_options = options;
  stream_options.local_infile = false;
  // Heartbeats come every `heartbeat` while the server has nothing to send: a read that waits
  // much longer has lost the server.
  stream_options.read_timeout_secs = 60;
  SLUICE_ASSIGN_OR_RETURN(Connection connection, Connection::Open(stream_options));
  std::unique_ptr<BinlogStream> stream(new BinlogStream(std::move(connection)));
  stream->file_ = file;
  stream->position_ = position;
  Connection& session = stream->connection_;

  // The server lists the files it still has: a missing one was purged.
  SLUICE_ASSIGN_OR_RETURN(std::vector<TextRow> logs,
                          session.Query("SHOW BINARY LOGS", "listing the binary logs"));
  bool have = false;
  for (const TextRow& row : logs)
    have = have || (!row.empty() && row[0] && *row[0] == file);
  if (!have)
    return Purged(options, file, "SHOW BINARY LOGS does not list it");

  SLUICE_ASSIGN_OR_RETURN(
      std::optional<TextRow> checksum,
      session.QueryRow("SELECT @@global.binlog_checksum", "reading binlog_checksum"));
  stream->checksum_ = checksum && !checksum->empty() && (*checksum)[0] &&
                      *(*checksum)[0] != "NONE";
  const int64_t heartbeat_nanos =
      std::chrono::duration_cast<std::chrono::nanoseconds>(heartbeat).count();
  // MySQL 8.0.26+ reads the @source_ spellings, older servers and MariaDB the @master_ ones.
  SLUICE_RETURN_IF_ERROR(session.Execute(
      fmt::format("SET @master_binlog_checksum = @@global.binlog_checksum, "
                  "@source_binlog_checksum = @@global.binlog_checksum, "
                  "@master_heartbeat_period = {0}, @source_heartbeat_period = {0}, "
                  "@mariadb_slave_capability = 4",
                  heartbeat_nanos),
      "preparing the binlog stream"));

  MYSQL* mysql = session.get();
  stream->rpl_ = mariadb_rpl_init(mysql);
  if (stream->rpl_ == nullptr)
    return session.LastError("starting the binlog stream");
  MARIADB_RPL* rpl = stream->rpl_;
  unsigned int flags = 0;  // blocking: the server waits for new events
  unsigned int verify = 1;
  if (mariadb_rpl_optionsv(rpl, MARIADB_RPL_FILENAME, file.c_str(), file.size()) != 0 ||
      mariadb_rpl_optionsv(rpl, MARIADB_RPL_START, static_cast<unsigned long>(position)) != 0 ||
      mariadb_rpl_optionsv(rpl, MARIADB_RPL_SERVER_ID, static_cast<unsigned int>(server_id)) !=
          0 ||
      mariadb_rpl_optionsv(rpl, MARIADB_RPL_FLAGS, flags) != 0 ||
      mariadb_rpl_optionsv(rpl, MARIADB_RPL_HOST, report_host.c_str()) != 0 ||
      mariadb_rpl_optionsv(rpl, MARIADB_RPL_PORT, 0u) != 0 ||
      mariadb_rpl_optionsv(rpl, MARIADB_RPL_VERIFY_CHECKSUM, verify) != 0) {
    return Internal(fmt::format("{}: the client library refused the binlog stream's options",
                                options.Describe()));
  }
  if (mariadb_rpl_open(rpl) != 0) {
    if (mysql_errno(mysql) == kFatalErrorReadingBinlog)
      return Purged(options, file, mysql_error(mysql));
    return session.LastError(fmt::format("cannot stream the binlog from '{}' position {} (the "
                                         "user needs REPLICATION SLAVE)",
                                         file, position));
  }
  stream->socket_ = static_cast<int>(mysql_get_socket(mysql));
  return stream;
}

BinlogStream::~BinlogStream() {
  if (event_ != nullptr)
    mariadb_free_rpl_event(event_);
  if (rpl_ != nullptr)
    mariadb_rpl_close(rpl_);
}

void BinlogStream::Cancel() {
  cancelled_.store(true);
  if (socket_ >= 0)
    ::shutdown(socket_, SHUT_RDWR);
}

Result<std::string_view> BinlogStream::Next() {
  if (cancelled_.load())
    return Cancelled("reading the binlog: cancelled");
  MARIADB_RPL_EVENT* event = mariadb_rpl_fetch(rpl_, event_);
  if (event == nullptr) {
    event_ = nullptr;  // the library frees the event it was given when it fails
    return FetchError();
  }
  event_ = event;
  size_t skip = event->raw_data_ofs;  // the packet's OK byte (and semi-sync bytes, unused)
  if (event->raw_data == nullptr || event->raw_data_size <= skip)
    return Internal(fmt::format("{}: an empty binlog packet", connection_.options().Describe()));
  return std::string_view(reinterpret_cast<const char*>(event->raw_data) + skip,
                          event->raw_data_size - skip);
}

Status BinlogStream::FetchError() {
  if (cancelled_.load())
    return Cancelled("reading the binlog: cancelled");
  MYSQL* mysql = connection_.get();
  const ConnectionOptions& options = connection_.options();
  unsigned int code = mysql_errno(mysql);
  if (code == kFatalErrorReadingBinlog) {
    std::string message = mysql_error(mysql);
    if (message.find("first log file") != std::string::npos ||
        message.find("not find") != std::string::npos) {
      return Purged(options, file_, message);
    }
    return Internal(fmt::format("{}: the server stopped the binlog stream: {} (error {})",
                                options.Describe(), message, code));
  }
  if (code != 0)
    return MysqlStatus(code, mysql_error(mysql), options, "reading the binlog");
  if (mariadb_rpl_errno(rpl_) != 0) {
    return Internal(fmt::format("{}: reading the binlog: {} (client error {})",
                                options.Describe(), mariadb_rpl_error(rpl_),
                                mariadb_rpl_errno(rpl_)));
  }
  // No error recorded: the server ended the dump (an EOF packet), or the library refused an
  // event it does not know; the packet it read last says which.
  const unsigned char* packet = mysql->net.read_pos;
  if (packet != nullptr && packet[0] == 0xFE)
    return Unavailable(fmt::format("{}: the server ended the binlog stream", options.Describe()));
  uint8_t type = packet != nullptr ? packet[5] : 0;
  std::string hint;
  if (type == binlog::kTransactionPayloadEvent)
    hint = " (binlog_transaction_compression = ON: change data capture needs it OFF)";
  return Internal(fmt::format("{}: the client library could not read binlog event {}{}",
                              options.Describe(), binlog::EventTypeName(type), hint));
}

}  // namespace sluice::connectors::mysql
