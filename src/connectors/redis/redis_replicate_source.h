// RedisReplicateSource (`mode: replicate`): reads a Redis server the way a replica does. One
// split; its reader keeps a replication link (redis_replication.h) to the server (a replica
// unless `read_from: primary`) and turns what comes into rows of one append stream, a change
// log ordered by the replication offset:
//
//   offset int64       the replication offset: a full sync's rows carry the offset it stands
//                      at, a command's the offset of its first byte (so after the sync's rows)
//   index int64        the row's number within its offset (a command of several keys, a sync;
//                      a sync repeated at the offset of one cut short numbers on after it)
//   op string          sync     a full sync starts: rows of older offsets no longer count
//                      snapshot a key (or, with `elements: rows`, one element of it) of the sync
//                      synced   the full sync is complete
//                      set      a string set (SET, SETEX, MSET, GETSET, INCRBYFLOAT...): value
//                      set_keepttl   the same, keeping the key's expiry
//                      del      the key is gone (DEL, UNLINK, an expiry, an eviction)
//                      expire   expire_at_ms set (EXPIRE, PEXPIREAT...);  persist: no expiry
//                      rename, move, flushdb, flushall, swapdb, and any other command that
//                      changes a key by its lower-case name (hset, lpush, incr, zadd, xadd...),
//                      value the JSON array of its arguments after the key
//   db int64, key, type string, [field, score double: `elements: rows`], value, expire_at_ms
//
// Folding the log gives the dataset exactly: take the rows from the last `sync` on, apply them
// in (offset, index) order. Every row is delivered once under an exactly-once sink: the position
// is the replication id and offset (with the rows of a command already returned), and a resumed
// or reconnected reader continues with PSYNC from it, which the server answers from its backlog.
// Inside a full sync the position cannot be resumed (the server sends a new RDB, not the rest of
// the old): a run stopped there syncs again, with a new `sync` row. When the backlog no longer
// covers the position, the job fails with what to do, or syncs again if `full_resync: allow`.
//
// The RDB is parsed as it arrives (redis_rdb.h), never spooled: a key of any size passes in
// pages. A fetch thread drives the link and the parser and queues rows (at most 16 MB) for the
// reader's thread; while the queue is full it keeps acknowledging to the server (REPLCONF ACK
// every second), so that a slow sink does not time the link out.
//
// A dropped link is reconnected with backoff (PSYNC from the rows queued, 10 tries in a row
// without progress), then the reader fails Unavailable and the runtime resumes from the last
// checkpoint. Filters (`dbs`, `keys`, `types`) and Sluice's own keys (sluice:run:*,
// sluice:progress:*, sluice:fence:*) drop rows, not offsets.
//
// Lag: the bytes between the rows returned and the server's master_repl_offset, which the
// fetch thread reads every 5 s while streaming (INFO replication on a side connection).
//
// Thread-safety: as Source; a reader is driven by one thread, Cancel/Position/Progress from any.
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "connectors/api.h"
#include "connectors/redis/redis_source.h"

namespace sluice::connectors::redis {

/// How often links of this process were set up, for tests and the log.
struct ReplicationCounters {
  std::atomic<uint64_t> full_syncs{0};
  std::atomic<uint64_t> partial_syncs{0};  // PSYNC continued from the backlog
  std::atomic<uint64_t> links_lost{0};
};
ReplicationCounters& GlobalReplicationCounters();

class RedisReplicateSource final : public Source {
 public:
  explicit RedisReplicateSource(RedisSourceOptions options);
  ~RedisReplicateSource() override;

  Status Open(const JobContext& context) override;
  const std::vector<StreamInfo>& streams() const override { return streams_; }
  bool bounded() const override { return options_.stop_after_sync; }
  bool SplitEnds(const Split& split) const override { return options_.stop_after_sync; }
  Result<std::unique_ptr<SplitEnumerator>> CreateEnumerator() override;
  Result<std::unique_ptr<SplitReader>> CreateReader(const Split& split,
                                                    const std::string& position) override;
  void Describe(CheckReport* report) const override;

 private:
  RedisSourceOptions options_;
  const JobContext* context_ = nullptr;
  std::vector<StreamInfo> streams_;
  std::string address_;
  std::string role_;
};

}  // namespace sluice::connectors::redis
