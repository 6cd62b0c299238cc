// Redis Cluster for the sink: key slots (CRC16 of the key or its hash tag), the slot map
// (CLUSTER SLOTS), one connection per primary, and ClusterPipeline, which routes commands by key
// slot and applies them with one script call per node, following MOVED and ASK.
//
// Why a script and not MULTI/EXEC: a cluster node refuses an EXEC whose commands touch more than
// one slot (CROSSSLOT), while a script flagged allow-cross-slot-keys (Redis 7.0) may touch any
// keys the node serves, and runs atomically there. The script first checks the run's fence (a
// hash on that node, see FenceKey) and that every key is the node's, then writes them in order
// (all of them, unless a key stops being the node's part-way: then up to there, and says so).
//
// Thread-safety: a ClusterConnections (and the ClusterPipeline on it) is driven by one thread;
// only Cancel() may be called from another.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "connectors/redis/redis_client.h"
#include "core/result.h"

namespace sluice::connectors::redis {

inline constexpr int kClusterSlots = 16384;

/// CRC16-CCITT (XMODEM: polynomial 0x1021, initial 0), as Redis Cluster hashes keys.
uint16_t Crc16(std::string_view data);
/// The hash slot of `key`: Crc16 of its hash tag (the text between the first '{' and the next
/// '}', when not empty) or of the whole key, mod 16384.
int KeySlot(std::string_view key);

/// A cluster redirection: "MOVED <slot> <host>:<port>" or "ASK <slot> <host>:<port>".
struct Redirect {
  bool ask = false;
  int slot = -1;
  std::string address;  // host:port
};
/// nullopt for any other error text.
std::optional<Redirect> ParseRedirect(std::string_view error);

/// Which primary serves which slot, from CLUSTER SLOTS.
class SlotMap {
 public:
  /// `seed_host` replaces an empty or unknown ("?") node host in the reply.
  static Result<SlotMap> FromClusterSlots(const RedisReply& reply, std::string_view from,
                                          std::string_view seed_host);
  /// host:port of the primary serving `slot`, or nullptr when none does (cluster incomplete).
  const std::string* Owner(int slot) const;
  /// Every primary serving at least one slot, sorted.
  const std::vector<std::string>& primaries() const { return primaries_; }
  /// The smallest n >= 0 such that the hash tag "{n}" hashes to a slot `address` serves (so a
  /// key with that tag lives on that node), or -1 when it serves none.
  int TagOn(const std::string& address) const;
  bool empty() const { return primaries_.empty(); }

 private:
  std::vector<std::string> primaries_;
  std::vector<int16_t> owner_ = std::vector<int16_t>(kClusterSlots, -1);  // index in primaries_
};

/// The per-node fence key of a job's run in a cluster: "sluice:fence:{<tag>}:<job>", on the node
/// whose TagOn is `tag`. It holds the run epoch Claim stored, as `sluice:run:<job>` does.
std::string FenceKey(std::string_view job, int tag);
/// SCAN MATCH pattern of every fence key of `job`.
std::string FenceKeyPattern(std::string_view job);

/// A slot map and one connection per node, made on first use with the seed's options (host and
/// port replaced by the node's).
class ClusterConnections {
 public:
  explicit ClusterConnections(RedisConnectOptions seed) : seed_(std::move(seed)) {}
  ~ClusterConnections();

  /// Reads CLUSTER SLOTS from a node that answers (the known primaries, then the seed) and
  /// replaces the map. InvalidConfig when the seed is not in cluster mode.
  Status Refresh();
  /// The map, read on first use.
  Result<const SlotMap*> Map();
  /// The connection to `address`; a lost one is made again.
  Result<RedisClient*> Client(const std::string& address);
  /// One command on the node serving `key`: MOVED refreshes the map and goes to the new owner,
  /// ASK sends ASKING and the command to the named node once (the map unchanged); at most
  /// kMaxRedirects redirections. Error replies are Status (RedisStatus).
  Result<RedisReply> Command(std::string_view key, const std::vector<std::string_view>& args);
  template <typename... Args>
  Result<RedisReply> CommandOn(std::string_view key, const Args&... args) {
    return Command(key, std::vector<std::string_view>{std::string_view(args)...});
  }
  /// Thread-safe: ends blocked calls on every connection.
  void Cancel();
  /// Drops every connection.
  void Reset();

  const RedisConnectOptions& seed() const { return seed_; }
  /// How often the map was read (tests: ASK must not refresh it, MOVED must).
  int refreshes() const { return refreshes_; }

  static constexpr int kMaxRedirects = 8;

 private:
  RedisConnectOptions seed_;
  std::optional<SlotMap> map_;
  int refreshes_ = 0;
  std::mutex mutex_;  // guards clients_ against Cancel from another thread
  std::map<std::string, std::unique_ptr<RedisClient>> clients_;
};

/// Commands gathered per node and applied at Flush: per node one script call that checks the
/// run's fence key on that node (when `epoch` > 0), then that every command's key (its second
/// argument) is the node's, then applies them all in order, or none and names the keys that are
/// not (or, when a key stops being the node's part-way, a DEL in a slot migrating away, those
/// before it and says where it stopped). Those are asked where they live (MOVED: the map is
/// read again; ASK: the next call to the named node is preceded by ASKING) and everything not
/// applied is sent again, for at most kMaxRounds rounds. The commands of one key stay in order.
class ClusterPipeline {
 public:
  /// Outcome of a fence check that refused the write.
  struct Fence {
    uint64_t current = 0;  // the newer run's epoch; 0: the node holds no fence (see below)
  };
  ClusterPipeline(ClusterConnections* connections, std::string job, uint64_t epoch)
      : connections_(connections), job_(std::move(job)), epoch_(epoch) {}

  void Add(std::vector<std::string> command) {
    pending_.push_back(std::move(command));
  }
  size_t pending() const { return pending_.size(); }
  /// Applies every pending command. When a node's fence refuses, `*fenced` says how and the
  /// Status is Conflict (a newer run holds it: the caller turns it into FencedOff, naming the
  /// run) or Unavailable (no fence of this run there: the slots moved since Claim). On any error
  /// some nodes may have applied their commands and others not.
  Status Flush(std::optional<Fence>* fenced);
  /// Forgets pending commands (an aborted writer).
  void Clear() { pending_.clear(); }

  static constexpr int kMaxRounds = 8;

 private:
  ClusterConnections* connections_;
  std::string job_;
  uint64_t epoch_;
  std::vector<std::vector<std::string>> pending_;
};

}  // namespace sluice::connectors::redis
