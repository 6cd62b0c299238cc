// Redis client: a move-only owner of one hiredis connection (connect and command timeouts, AUTH,
// SELECT), binary-safe commands and pipelines, replies as a small value type, and the one
// function that maps Redis failures to Status.
//
// hiredis.h stays out of headers. A RedisClient is used by one thread at a time; only Cancel()
// may be called from another thread. After a connection-level failure (refused, timeout, EOF)
// the client is broken: every later call fails with the same Unavailable, and the caller
// reconnects.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "core/secret.h"

struct redisContext;

namespace sluice::connectors::redis {

/// What a reply was, decoded from RESP2 (hiredis 0.14). Strings are bytes (NUL allowed).
struct RedisReply {
  enum class Type { kNil, kString, kStatus, kInteger, kArray, kError };
  Type type = Type::kNil;
  std::string text;  // kString, kStatus, kError
  int64_t integer = 0;
  std::vector<RedisReply> elements;  // kArray

  bool is_nil() const { return type == Type::kNil; }
  bool is_error() const { return type == Type::kError; }
};

/// What a reply was without its elements: for an array, how many there were and the first error
/// among them (an EXEC's reply has one element per queued command: a checkpoint's worth).
struct RedisReplyTally {
  RedisReply::Type type = RedisReply::Type::kNil;
  size_t elements = 0;      // kArray
  std::string first_error;  // kArray: the first element that is an error reply, if any
  bool is_nil() const { return type == RedisReply::Type::kNil; }
};

/// Kinds of Redis failures, for callers that must tell them apart beyond the Status code (a
/// cluster redirection is retried elsewhere, not reported).
enum class RedisErrorKind {
  kNone,
  kConnection,    // refused, timed out, closed by the server (EOF), protocol error
  kAuth,          // WRONGPASS, NOAUTH, invalid password
  kWrongType,     // WRONGTYPE: the key holds another type
  kReadOnly,      // READONLY: a write sent to a replica
  kMoved,         // MOVED slot host:port (Redis Cluster)
  kAsk,           // ASK slot host:port (Redis Cluster, slot migrating)
  kOther,         // any other error reply
};

/// The one mapping from a Redis failure to Status. `address` is host:port, `what` the operation
/// ("SET", "connect"); `hiredis_error` is the context's err (REDIS_ERR_*) for connection-level
/// failures, or 0 for an error reply whose text is `message`:
///   connection refused/timeout/EOF/protocol -> Unavailable naming host:port
///   WRONGPASS, NOAUTH, invalid password     -> PermissionDenied, saying to check the password
///   WRONGTYPE                               -> DataError
///   READONLY                                -> InvalidConfig (the server is a replica)
///   MOVED, ASK                              -> Unsupported (a cluster node: the sink's
///                                              `cluster: true` follows them; kMoved/kAsk)
///   anything else                           -> IoError with Redis's message
/// The password is never part of a message (error replies do not echo it).
Status RedisStatus(std::string_view address, std::string_view what, int hiredis_error,
                   std::string_view message);
/// The kind RedisStatus would map the same failure to.
RedisErrorKind ClassifyRedisError(int hiredis_error, std::string_view message);

struct RedisConnectOptions {
  std::string host = "127.0.0.1";
  int port = 6379;
  std::string user;  // ACL user; empty = the default user (AUTH password)
  Secret password;   // empty = no AUTH
  int db = 0;        // SELECT db (skipped for 0)
  std::chrono::milliseconds connect_timeout{5000};
  std::chrono::milliseconds command_timeout{30000};
};

class RedisClient {
 public:
  /// Connects with `connect_timeout`, then sets `command_timeout` for every read and write,
  /// AUTHs and SELECTs. Errors name host:port, never the password.
  static Result<std::unique_ptr<RedisClient>> Connect(const RedisConnectOptions& options);

  ~RedisClient();
  RedisClient(const RedisClient&) = delete;
  RedisClient& operator=(const RedisClient&) = delete;

  /// Sends one command (arguments binary-safe) and waits for its reply. An error reply becomes a
  /// Status (RedisStatus); last_error_kind() says which kind.
  Result<RedisReply> Command(const std::vector<std::string_view>& args);
  template <typename... Args>
  Result<RedisReply> Command(const Args&... args) {
    return Command(std::vector<std::string_view>{std::string_view(args)...});
  }

  /// Pipelining: Append queues a command in the output buffer (nothing is sent yet); ReadReply
  /// flushes and reads the next reply in order. Error replies are returned as replies (type
  /// kError), not as Status, so that a pipeline stays in step; connection failures are Status.
  Status Append(const std::vector<std::string_view>& args);
  Result<RedisReply> ReadReply();
  /// Queues commands the caller encoded in RESP already (one or more, whole), as Append does.
  Status AppendFormatted(std::string_view commands);
  /// Sends everything appended so far without reading a reply (ReadReply sends only when no
  /// reply is buffered already), so that the server works on it while the caller goes on.
  Status Flush();
  /// Command, but the reply is only tallied as hiredis parses it (no reply objects are built): its
  /// memory does not grow with the number of elements. An error reply becomes a Status.
  Result<RedisReplyTally> CommandTally(const std::vector<std::string_view>& args);
  /// Appends every command, then reads every reply (so the connection stays in step even when
  /// one fails). Returns the replies, or the first error reply mapped by RedisStatus.
  Result<std::vector<RedisReply>> Pipeline(const std::vector<std::vector<std::string>>& commands);

  /// ROLE's first element: "master", "slave" or "sentinel".
  Result<std::string> Role();
  /// InvalidConfig when the server is a replica (writes would be refused with READONLY).
  Status CheckWritable();

  /// Thread-safe, quick: shuts the socket down so that a blocked call returns (Unavailable).
  void Cancel();

  const std::string& address() const { return address_; }
  RedisErrorKind last_error_kind() const { return last_error_kind_; }
  bool broken() const { return !broken_status_.ok(); }

 private:
  RedisClient(redisContext* context, std::string address);
  /// Marks the client broken with the context's error; returns that Status.
  Status Broken(std::string_view what);
  Status ReplyError(std::string_view what, const RedisReply& reply);

  redisContext* context_ = nullptr;
  std::string address_;
  Status broken_status_;
  RedisErrorKind last_error_kind_ = RedisErrorKind::kNone;
};

/// Text of `args`'s first element in upper case, for error context ("SET", "HSET").
std::string CommandName(const std::vector<std::string_view>& args);

}  // namespace sluice::connectors::redis
