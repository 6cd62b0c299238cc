// Redis Cluster for the sink (see redis_cluster.h).
#include "connectors/redis/redis_cluster.h"

#include <fmt/core.h>

#include <algorithm>
#include <charconv>
#include <set>

namespace sluice::connectors::redis {

namespace {

// Runs on one node: the fence check, then the commands in order. ARGV: the run epoch (0: no
// fence), then per command its argument count and arguments. Replies {0, n}: all applied;
// {1, {i...}}: nothing applied, command i's key is not this node's (another node serves its
// slot, or it is migrating away and not here: MOVED or ASK outside a script); {2, 0}: the node
// holds no fence of this run (the key is missing or older: the slots moved since Claim);
// {3, epoch}: a newer run holds the fence; {4, i, error}: commands before i applied, i failed
// and the rest not tried. EXISTS, in pcall, is how a script learns that a key is not local
// without failing half-way; the commands run in pcall too, since a key can stop being local
// half-way: in a slot migrating away, DEL of a key present here makes the HSET after it an ASK.
constexpr std::string_view kApplyScript = R"lua(#!lua flags=allow-cross-slot-keys
local epoch = tonumber(ARGV[1])
if epoch > 0 then
  local stored = tonumber(redis.call('HGET', KEYS[1], 'epoch') or '0')
  if stored > epoch then return {3, stored} end
  if stored < epoch then return {2, 0} end
end
local commands = {}
local i = 2
while i <= #ARGV do
  local n = tonumber(ARGV[i])
  commands[#commands + 1] = {unpack(ARGV, i + 1, i + n)}
  i = i + n + 1
end
local refused = {}
for c = 1, #commands do
  local reply = redis.pcall('EXISTS', commands[c][2])
  if type(reply) == 'table' and reply.err then refused[#refused + 1] = c end
end
if #refused > 0 then return {1, refused} end
for c = 1, #commands do
  local reply = redis.pcall(unpack(commands[c]))
  if type(reply) == 'table' and reply.err then return {4, c, reply.err} end
end
return {0, #commands}
)lua";

struct HostPort {
  std::string host;
  int port = 0;
};

Result<HostPort> SplitAddress(std::string_view address) {
  size_t colon = address.rfind(':');
  HostPort out;
  if (colon == std::string_view::npos)
    return Internal(fmt::format("Redis Cluster: bad node address '{}'", address));
  out.host = std::string(address.substr(0, colon));
  std::string_view port = address.substr(colon + 1);
  auto [end, error] = std::from_chars(port.data(), port.data() + port.size(), out.port);
  if (error != std::errc() || end != port.data() + port.size())
    return Internal(fmt::format("Redis Cluster: bad node address '{}'", address));
  return out;
}

}  // namespace

uint16_t Crc16(std::string_view data) {
  uint16_t crc = 0;
  for (unsigned char byte : data) {
    crc = static_cast<uint16_t>(crc ^ (static_cast<uint16_t>(byte) << 8));
    for (int bit = 0; bit < 8; ++bit) {
      crc = (crc & 0x8000) != 0 ? static_cast<uint16_t>((crc << 1) ^ 0x1021)
                                : static_cast<uint16_t>(crc << 1);
    }
  }
  return crc;
}

int KeySlot(std::string_view key) {
  size_t open = key.find('{');
  if (open != std::string_view::npos) {
    size_t close = key.find('}', open + 1);
    if (close != std::string_view::npos && close > open + 1)
      key = key.substr(open + 1, close - open - 1);
  }
  return Crc16(key) % kClusterSlots;
}

std::optional<Redirect> ParseRedirect(std::string_view error) {
  Redirect out;
  if (error.starts_with("MOVED ")) {
    error.remove_prefix(6);
  } else if (error.starts_with("ASK ")) {
    out.ask = true;
    error.remove_prefix(4);
  } else {
    return std::nullopt;
  }
  size_t space = error.find(' ');
  if (space == std::string_view::npos)
    return std::nullopt;
  auto [end, parse_error] = std::from_chars(error.data(), error.data() + space, out.slot);
  if (parse_error != std::errc() || end != error.data() + space || out.slot < 0 ||
      out.slot >= kClusterSlots) {
    return std::nullopt;
  }
  out.address = std::string(error.substr(space + 1));
  if (out.address.empty())
    return std::nullopt;
  return out;
}

Result<SlotMap> SlotMap::FromClusterSlots(const RedisReply& reply, std::string_view from,
                                          std::string_view seed_host) {
  auto odd = [&] {
    return IoError(fmt::format("Redis at {}: CLUSTER SLOTS answered oddly", from));
  };
  if (reply.type != RedisReply::Type::kArray)
    return odd();
  SlotMap map;
  std::vector<std::pair<std::pair<int64_t, int64_t>, std::string>> ranges;
  std::set<std::string> primaries;
  for (const RedisReply& range : reply.elements) {
    // [first, last, [host, port, id, ...] (the primary), replicas...]
    if (range.type != RedisReply::Type::kArray || range.elements.size() < 3 ||
        range.elements[2].type != RedisReply::Type::kArray ||
        range.elements[2].elements.size() < 2) {
      return odd();
    }
    int64_t first = range.elements[0].integer, last = range.elements[1].integer;
    if (first < 0 || last >= kClusterSlots || first > last)
      return odd();
    std::string host = range.elements[2].elements[0].text;
    if (host.empty() || host == "?")
      host = std::string(seed_host);
    std::string address = fmt::format("{}:{}", host, range.elements[2].elements[1].integer);
    primaries.insert(address);
    ranges.push_back({{first, last}, address});
  }
  map.primaries_.assign(primaries.begin(), primaries.end());
  for (const auto& [range, address] : ranges) {
    auto index = static_cast<int16_t>(
        std::find(map.primaries_.begin(), map.primaries_.end(), address) -
        map.primaries_.begin());
    for (int64_t slot = range.first; slot <= range.second; ++slot)
      map.owner_[static_cast<size_t>(slot)] = index;
  }
  return map;
}

const std::string* SlotMap::Owner(int slot) const {
  if (slot < 0 || slot >= kClusterSlots)
    return nullptr;
  int16_t index = owner_[static_cast<size_t>(slot)];
  return index < 0 ? nullptr : &primaries_[static_cast<size_t>(index)];
}

int SlotMap::TagOn(const std::string& address) const {
  // A node serving any slot serves the slot of some small number's tag: 16384 slots, and the
  // CRC spreads consecutive numbers well; the bound only stops a search that cannot succeed.
  for (int n = 0; n < 1 << 20; ++n) {
    const std::string* owner = Owner(KeySlot(fmt::format("{{{}}}", n)));
    if (owner != nullptr && *owner == address)
      return n;
  }
  return -1;
}

std::string FenceKey(std::string_view job, int tag) {
  return fmt::format("sluice:fence:{{{}}}:{}", tag, job);
}

std::string FenceKeyPattern(std::string_view job) {
  std::string escaped;
  for (char c : job) {
    if (c == '*' || c == '?' || c == '[' || c == ']' || c == '\\')
      escaped += '\\';
    escaped += c;
  }
  return fmt::format("sluice:fence:\\{{*\\}}:{}", escaped);
}

ClusterConnections::~ClusterConnections() = default;

Status ClusterConnections::Refresh() {
  // Any node knows the whole map: ask the known primaries first (the seed may be gone), then the
  // seed.
  std::vector<std::string> candidates;
  if (map_)
    candidates = map_->primaries();
  candidates.push_back(fmt::format("{}:{}", seed_.host, seed_.port));
  Status last;
  for (const std::string& address : candidates) {
    Result<RedisClient*> client = Client(address);
    if (!client.ok()) {
      if (client.status().code() == StatusCode::kPermissionDenied)
        return client.status();
      last = client.status();
      continue;
    }
    Result<RedisReply> reply = (*client)->Command("CLUSTER", "SLOTS");
    if (!reply.ok()) {
      if (reply.status().message().find("cluster support disabled") != std::string_view::npos) {
        return InvalidConfig(fmt::format(
            "Redis at {} is not in cluster mode (cluster_enabled:0): leave out 'cluster: true'",
            address));
      }
      last = reply.status();
      continue;
    }
    SLUICE_ASSIGN_OR_RETURN(SlotMap map, SlotMap::FromClusterSlots(*reply, address, seed_.host));
    if (map.empty())
      return Unavailable(fmt::format("Redis Cluster at {}: no slot is served yet", address));
    map_ = std::move(map);
    ++refreshes_;
    return Status::OK();
  }
  return last;
}

Result<const SlotMap*> ClusterConnections::Map() {
  if (!map_)
    SLUICE_RETURN_IF_ERROR(Refresh());
  return &*map_;
}

Result<RedisClient*> ClusterConnections::Client(const std::string& address) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = clients_.find(address);
    if (it != clients_.end() && !it->second->broken())
      return it->second.get();
  }
  SLUICE_ASSIGN_OR_RETURN(HostPort node, SplitAddress(address));
  RedisConnectOptions options = seed_;
  options.host = node.host;
  options.port = node.port;
  options.db = 0;  // a cluster has database 0 only
  SLUICE_ASSIGN_OR_RETURN(std::unique_ptr<RedisClient> client, RedisClient::Connect(options));
  std::lock_guard<std::mutex> lock(mutex_);
  std::unique_ptr<RedisClient>& slot = clients_[address];
  slot = std::move(client);
  return slot.get();
}

Result<RedisReply> ClusterConnections::Command(std::string_view key,
                                               const std::vector<std::string_view>& args) {
  SLUICE_ASSIGN_OR_RETURN(const SlotMap* map, Map());
  int slot = KeySlot(key);
  std::string address;
  bool asking = false;
  for (int attempt = 0; attempt <= kMaxRedirects; ++attempt) {
    if (!asking) {
      const std::string* owner = map->Owner(slot);
      if (owner == nullptr) {
        return Unavailable(fmt::format("Redis Cluster at {}: no node serves slot {} (the "
                                       "cluster is incomplete)",
                                       seed_.host, slot));
      }
      address = *owner;
    }
    SLUICE_ASSIGN_OR_RETURN(RedisClient * client, Client(address));
    // The raw reply, so that a redirection's text is at hand.
    if (asking)
      SLUICE_RETURN_IF_ERROR(client->Append({"ASKING"}));
    SLUICE_RETURN_IF_ERROR(client->Append(args));
    if (asking)
      SLUICE_RETURN_IF_ERROR(client->ReadReply().status());  // +OK
    SLUICE_ASSIGN_OR_RETURN(RedisReply reply, client->ReadReply());
    std::optional<Redirect> redirect =
        reply.is_error() ? ParseRedirect(reply.text) : std::nullopt;
    if (!redirect) {
      if (reply.is_error())
        return RedisStatus(address, CommandName(args), 0, reply.text);
      return reply;
    }
    asking = redirect->ask;
    if (asking) {
      address = redirect->address;  // once, to the importing node; the map stays
      continue;
    }
    SLUICE_RETURN_IF_ERROR(Refresh());
    SLUICE_ASSIGN_OR_RETURN(map, Map());
  }
  return Unavailable(fmt::format("Redis Cluster: {} on slot {} was still redirected after {} "
                                 "attempts (are the slots being moved?)",
                                 CommandName(args), slot, kMaxRedirects));
}

void ClusterConnections::Cancel() {
  std::lock_guard<std::mutex> lock(mutex_);
  for (auto& [address, client] : clients_)
    client->Cancel();
}

void ClusterConnections::Reset() {
  std::lock_guard<std::mutex> lock(mutex_);
  clients_.clear();
}

Status ClusterPipeline::Flush(std::optional<Fence>* fenced) {
  fenced->reset();
  if (pending_.empty())
    return Status::OK();
  SLUICE_ASSIGN_OR_RETURN(const SlotMap* map, connections_->Map());
  std::vector<bool> done(pending_.size(), false);
  std::map<std::string, std::string> ask_to;  // key -> the node an ASK named, this flush only
  std::string epoch = std::to_string(epoch_);
  for (int round = 0; round < kMaxRounds; ++round) {
    // Route what is left; a key's commands all go to one node, in order.
    std::map<std::string, std::vector<size_t>> groups;
    std::set<std::string> asking;
    for (size_t i = 0; i < pending_.size(); ++i) {
      if (done[i])
        continue;
      const std::string& key = pending_[i][1];
      auto ask = ask_to.find(key);
      if (ask != ask_to.end()) {
        groups[ask->second].push_back(i);
        asking.insert(ask->second);
        continue;
      }
      int slot = KeySlot(key);
      const std::string* owner = map->Owner(slot);
      if (owner == nullptr) {
        return Unavailable(fmt::format(
            "Redis Cluster: no node serves slot {} (the cluster is incomplete)", slot));
      }
      groups[*owner].push_back(i);
    }
    if (groups.empty())
      break;

    // One script call per node, all sent before any reply is read.
    std::vector<std::string_view> args;
    std::map<std::string, std::string> fence_keys;
    for (const auto& [address, indexes] : groups) {
      int tag = map->TagOn(address);
      if (tag < 0)
        return Internal(fmt::format("Redis Cluster: no hash tag lands on node {}", address));
      fence_keys[address] = FenceKey(job_, tag);
      std::vector<std::string> counts;
      counts.reserve(indexes.size());
      for (size_t i : indexes)
        counts.push_back(std::to_string(pending_[i].size()));
      args.assign({"EVAL", kApplyScript, "1", fence_keys[address], epoch});
      for (size_t n = 0; n < indexes.size(); ++n) {
        args.push_back(counts[n]);
        for (const std::string& arg : pending_[indexes[n]])
          args.push_back(arg);
      }
      SLUICE_ASSIGN_OR_RETURN(RedisClient * client, connections_->Client(address));
      if (asking.contains(address))
        SLUICE_RETURN_IF_ERROR(client->Append({"ASKING"}));
      SLUICE_RETURN_IF_ERROR(client->Append(args));
    }

    std::vector<std::pair<std::string, size_t>> refused;  // (node asked, command)
    bool refresh = false;
    Status failed;
    for (const auto& [address, indexes] : groups) {
      SLUICE_ASSIGN_OR_RETURN(RedisClient * client, connections_->Client(address));
      if (asking.contains(address))
        SLUICE_RETURN_IF_ERROR(client->ReadReply().status());  // +OK
      SLUICE_ASSIGN_OR_RETURN(RedisReply reply, client->ReadReply());
      if (!failed.ok())
        continue;  // read every reply, so that the connections stay in step
      if (reply.is_error()) {
        std::optional<Redirect> redirect = ParseRedirect(reply.text);
        if (redirect) {
          refresh = true;  // the fence key's slot moved: another tag serves that node now
          continue;
        }
        failed = RedisStatus(address, "EVAL (apply)", 0, reply.text);
        continue;
      }
      if (reply.type != RedisReply::Type::kArray || reply.elements.size() < 2) {
        failed = IoError(fmt::format("Redis at {}: the apply script answered oddly", address));
        continue;
      }
      int64_t code = reply.elements[0].integer;
      if (code == 0) {
        for (size_t i : indexes)
          done[i] = true;
      } else if (code == 1) {
        for (const RedisReply& n : reply.elements[1].elements) {
          if (n.integer >= 1 && static_cast<size_t>(n.integer) <= indexes.size())
            refused.emplace_back(address, indexes[static_cast<size_t>(n.integer - 1)]);
        }
      } else if (code == 4 && reply.elements.size() == 3) {
        // Applied up to the failed command; the rest goes again, the failed one where it lives
        // when it was not local (after an EXISTS asks), otherwise the error stands.
        int64_t failed_at = reply.elements[1].integer;
        if (failed_at < 1 || static_cast<size_t>(failed_at) > indexes.size()) {
          failed = IoError(fmt::format("Redis at {}: the apply script answered oddly", address));
          continue;
        }
        for (size_t n = 0; n + 1 < static_cast<size_t>(failed_at); ++n)
          done[indexes[n]] = true;
        const std::string& error = reply.elements[2].text;
        if (error.find("non local key") != std::string::npos) {
          refused.emplace_back(address, indexes[static_cast<size_t>(failed_at - 1)]);
        } else {
          const std::vector<std::string>& command =
              pending_[indexes[static_cast<size_t>(failed_at - 1)]];
          failed = RedisStatus(address, CommandName({command.begin(), command.end()}), 0, error);
        }
      } else {
        *fenced = Fence{code == 3 ? static_cast<uint64_t>(reply.elements[1].integer) : 0};
        failed = code == 3
                     ? Conflict(fmt::format("Redis at {}: a newer run holds the fence", address))
                     : Unavailable(fmt::format(
                           "Redis Cluster at {}: the node holds no fence of this run (its slots "
                           "moved since the run claimed the cluster): the run starts again from "
                           "its last checkpoint",
                           address));
      }
    }
    SLUICE_RETURN_IF_ERROR(failed);

    // Ask each refused key where it lives: a plain EXISTS answers MOVED or ASK (a read, so
    // harmless where it lands).
    std::map<std::string, std::vector<size_t>> probes;
    for (const auto& [address, i] : refused)
      probes[address].push_back(i);
    for (const auto& [address, indexes] : probes) {
      SLUICE_ASSIGN_OR_RETURN(RedisClient * client, connections_->Client(address));
      for (size_t i : indexes)
        SLUICE_RETURN_IF_ERROR(client->Append({"EXISTS", pending_[i][1]}));
      for (size_t i : indexes) {
        SLUICE_ASSIGN_OR_RETURN(RedisReply reply, client->ReadReply());
        const std::string& key = pending_[i][1];
        std::optional<Redirect> redirect =
            reply.is_error() ? ParseRedirect(reply.text) : std::nullopt;
        if (redirect && redirect->ask) {
          ask_to[key] = redirect->address;
        } else {
          ask_to.erase(key);
          if (redirect)
            refresh = true;
          else if (reply.is_error() && failed.ok())
            failed = RedisStatus(address, "EXISTS", 0, reply.text);
        }
      }
    }
    SLUICE_RETURN_IF_ERROR(failed);
    if (refresh) {
      SLUICE_RETURN_IF_ERROR(connections_->Refresh());
      SLUICE_ASSIGN_OR_RETURN(map, connections_->Map());
    }
  }
  size_t left = static_cast<size_t>(std::count(done.begin(), done.end(), false));
  if (left > 0) {
    return Unavailable(fmt::format(
        "Redis Cluster: {} of {} commands were still redirected after {} rounds (are slots "
        "being moved?)",
        left, pending_.size(), kMaxRounds));
  }
  pending_.clear();
  return Status::OK();
}

}  // namespace sluice::connectors::redis
