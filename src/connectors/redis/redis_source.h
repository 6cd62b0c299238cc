// RedisSource (mode: snapshot): reads the keys of one or more databases of a Redis server (a
// replica unless `read_from: primary`) as rows of one stream:
//   key string, type string, value string (strings as they are; hashes, lists, sets, sorted sets
//   and streams as JSON), ttl_ms int64 (NULL: no expiry), db int64.
//
// One split per database. Its reader walks the keyspace with SCAN (MATCH `keys`, COUNT
// `scan_count`), fetches each page's TYPE and PTTL in one pipeline, then reads each key by type,
// big ones in pages of `chunk_elements` (HSCAN, SSCAN, LRANGE, ZRANGE WITHSCORES, XRANGE), so a
// round trip never carries more than a page. Sets are sorted so that a key always reads the same.
// The position is {"cursor": C, "skip": K} (plus "done": true at the end): the SCAN cursor of
// the page being read and the keys of that page already returned; a reopened split runs SCAN C
// again and skips K keys. SCAN's own
// guarantee applies: a key present for the whole read is returned; a key changed meanwhile may be
// read in either state (or, when the page itself changed between runs, once more or not at all).
// Keys of Sluice's own (sluice:run:*, sluice:progress:*, sluice:fence:*) are left out.
//
// With `columns` (name -> type), the rows are those columns instead: a string key's value is
// read as a JSON object and a hash's fields as the columns of that name (bytes columns as the
// raw bytes), as the redis sink writes rows; other types are skipped. This is how `sluice verify`
// and the conformance suite read a redis sink's target back (read_back).
//
// Thread-safety: Open, streams, CreateEnumerator run on the coordinator thread; CreateReader may
// be called from any thread; a reader is driven by one thread, its Cancel and Progress from any.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "config/options.h"
#include "connectors/api.h"
#include "connectors/redis/redis_client.h"

namespace sluice::connectors::redis {

enum class RedisSourceMode {
  kSnapshot,   // SCAN the databases once (this file)
  kReplicate,  // a replica's full sync, then the command stream (redis_replicate_source.h)
};

struct RedisSourceOptions {
  RedisConnectOptions connection;
  RedisSourceMode mode = RedisSourceMode::kSnapshot;
  /// Databases to read, one split each; empty: connection.db.
  std::vector<int> dbs;
  /// SCAN MATCH pattern.
  std::string keys = "*";
  /// TYPE names to keep (string, hash, list, set, zset, stream); empty: all.
  std::vector<std::string> types;
  /// Refuse a primary (ROLE) unless false: a snapshot should not load the server that takes
  /// the writes.
  bool require_replica = true;
  int64_t scan_count = 1000;
  int64_t chunk_elements = 1000;
  std::string stream = "redis";
  /// Rows of these columns, from JSON strings or hashes (see above); empty: the key rows.
  std::vector<Field> columns;
  /// A collection as rows, one per element (field, value, score), instead of one JSON value.
  bool element_rows = false;
  /// Keys, fields and values as bytes columns (any bytes) instead of strings (UTF-8 only; a
  /// key or value that is not UTF-8 is a bad record).
  bool binary = false;
  /// Largest JSON value of one key (element_rows false); a bigger key is a bad record.
  int64_t max_value_bytes = 64 << 20;
  /// Replicate: whether a lost backlog (the server no longer holds the changes since the
  /// checkpoint) may be answered with a new full sync instead of an error.
  bool allow_full_resync = false;
  /// Replicate: end the job once the full sync is read (a bounded copy of the dataset).
  bool stop_after_sync = false;

  static Result<RedisSourceOptions> FromConfig(const config::Options& options);
};

std::span<const config::OptionSpec> RedisSourceOptionTable();

/// Connects to the server a source reads and sets `role` (ROLE's first element); InvalidConfig
/// when it must be a replica and is not, saying `why` it should be.
Result<std::unique_ptr<RedisClient>> ConnectToSourceServer(const RedisSourceOptions& options,
                                                           std::string_view why,
                                                           std::string* role);

class RedisSource final : public Source {
 public:
  explicit RedisSource(RedisSourceOptions options);
  ~RedisSource() override;

  Status Open(const JobContext& context) override;
  const std::vector<StreamInfo>& streams() const override { return streams_; }
  Result<std::unique_ptr<SplitEnumerator>> CreateEnumerator() override;
  Result<std::unique_ptr<SplitReader>> CreateReader(const Split& split,
                                                    const std::string& position) override;
  void Describe(CheckReport* report) const override;

 private:
  RedisSourceOptions options_;
  const JobContext* context_ = nullptr;
  std::vector<StreamInfo> streams_;
  std::vector<int> dbs_;
  std::vector<uint64_t> db_sizes_;
  std::string role_;
  std::string address_;
};

}  // namespace sluice::connectors::redis
