// The replica's side of Redis replication on one TCP connection: AUTH, REPLCONF, PSYNC, then the
// full sync's RDB payload (sized or, diskless, ended by a 40-byte mark) as an RdbInput, then
// the command stream as arrays of bulk strings, counting the bytes that make the replication
// offset, and REPLCONF ACK back.
//
// Its own socket, not hiredis: after PSYNC the connection carries a raw byte stream (the RDB)
// that a RESP reader cannot hand over piece by piece. One thread drives a link; Cancel() may be
// called from any.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "connectors/redis/redis_client.h"
#include "connectors/redis/redis_rdb.h"
#include "core/result.h"

namespace sluice::connectors::redis {

/// What PSYNC answered.
struct PsyncReply {
  bool full_sync = false;  // +FULLRESYNC: an RDB payload follows, then commands after `offset`
  std::string replid;      // the replication id (after +CONTINUE: the new one, when it changed)
  int64_t offset = 0;      // +FULLRESYNC: the offset the RDB stands at
};

class ReplicaLink final : public RdbInput {
 public:
  /// Connects (connect_timeout) and AUTHs. Errors as RedisStatus maps them, naming host:port.
  static Result<std::unique_ptr<ReplicaLink>> Connect(const RedisConnectOptions& options);
  ~ReplicaLink() override;
  ReplicaLink(const ReplicaLink&) = delete;
  ReplicaLink& operator=(const ReplicaLink&) = delete;

  /// REPLCONF capa eof capa psync2, then PSYNC `replid` `next_offset` ("?" and -1 ask for a full
  /// sync). An error reply is mapped: NOMASTERLINK/LOADING/MASTERDOWN (a replica not in sync
  /// with its primary) Unavailable, NOPERM PermissionDenied (the ACL user lacks +psync), others
  /// as RedisStatus maps them.
  Result<PsyncReply> Psync(std::string_view replid, int64_t next_offset);

  /// After +FULLRESYNC: reads the payload's header ("$<bytes>" or "$EOF:<mark>"), skipping the
  /// newlines the primary sends while it prepares the RDB. Then Read() hands out the RDB.
  Status BeginPayload();
  /// After the parser read the RDB: checks that it consumed the whole payload (and its end
  /// mark, diskless).
  Status EndPayload(uint64_t rdb_bytes);
  /// Bytes of the payload when the primary said (disk-based sync); 0 when diskless.
  uint64_t payload_bytes() const { return payload_bytes_; }

  /// RdbInput: exactly `size` bytes, waiting at most command_timeout for each part.
  Status Read(char* out, size_t size) override;

  /// Whether bytes are buffered or arrive within `wait` (the command stream's idle wait).
  Result<bool> WaitReadable(std::chrono::milliseconds wait);
  /// The next command of the stream into `args` (reused); `bytes` gets its size in the stream,
  /// by which the replication offset advances.
  Status ReadCommand(std::vector<std::string>* args, size_t* bytes);
  /// REPLCONF ACK `offset`: keeps the primary from timing the link out, and shows the lag.
  Status SendAck(int64_t offset);

  /// Thread-safe: shuts the socket down so that a blocked read returns (Unavailable).
  void Cancel();
  const std::string& address() const { return address_; }

 private:
  ReplicaLink(int fd, std::string address, std::chrono::milliseconds timeout);
  Status Send(const std::vector<std::string_view>& args);
  /// A reply line without CRLF ("+OK", "-ERR ...").
  Result<std::string> ReadLine();
  Status SkipNewlines();
  /// Reads more into the buffer; Unavailable on EOF, error or no data for `timeout_`.
  Status Fill();
  Status Lost(std::string_view what);

  int fd_ = -1;
  std::string address_;
  std::chrono::milliseconds timeout_;
  std::vector<char> buffer_;
  size_t begin_ = 0, end_ = 0;  // unread bytes of buffer_
  uint64_t payload_bytes_ = 0;
  std::string eof_mark_;  // diskless payload: the 40 bytes that end it
};

}  // namespace sluice::connectors::redis
