// RedisSink: writes rows into Redis strings or hashes on a primary (a replica is refused).
//
// Each row becomes one key, named by the `key` template from the row's columns ("user:{id}"):
// data_type string sets it to one column's value (`value_column`) or to the row as a JSON
// object; data_type hash replaces it by a hash of the row's non-NULL columns (DEL, HSET). A TTL
// comes from `ttl_secs` or from `ttl_column`. In a changelog, deletes (and the before-image of
// an update) delete the key. Commands are pipelined: `pipeline_commands` are sent before their
// replies are read.
//
// Exactly-once (JobContext::delivery == kExactlyOnce, the default): each writer keeps one Redis
// transaction open from its first row after a Commit to the next Commit: WATCH of the job's run
// key, a check of the run epoch stored there, MULTI, then the rows' commands as they come
// (queued by the server, so the writer holds no rows), and at Commit a SET of the writer's
// progress key `sluice:progress:<job>:<slot>` (the JSON of every split's progress the slot
// committed, tagged with the run's generation and the checkpoint) and EXEC. Redis applies the
// rows and the progress together or, when anything touched the run key meanwhile (a newer run's
// Claim), not at all (FencedOff). Claim stores the run epoch and counts the run's generation in
// `sluice:run:<job>` (a hash: epoch, owner, generation) with one script; RecoverProgress reads
// every slot's progress key and keeps, per split, the entry of the highest (generation,
// checkpoint); ForgetProgress deletes them. A crash drops the connection, and with it the open
// transaction. At-least-once: the commands go out pipelined without MULTI and no progress is
// stored.
//
// Redis Cluster (`cluster: true`, redis_cluster.h): a MULTI/EXEC there may touch one slot only,
// so a writer gathers its commands and applies them per node with one script call (all or none
// of that call's commands, after a check of the run's fence key on that node), following MOVED
// and ASK. Exactly-once there: at Commit the rows are applied first, then the progress key
// (through the same fenced script, on its node). A crash in between leaves part of the
// checkpoint applied and its progress not: the run resumes from the previous checkpoint and
// writes those rows again, which converges (SET, and DEL+HSET, overwrite). Claim stores the epoch
// in the run key and in a fence key on every primary (`sluice:fence:{<tag>}:<job>`, the tag
// chosen so the key is on that node), and in every fence key of the job found on them.
//
// Thread-safety: Open, Check, Claim, RecoverProgress, ForgetProgress, Finish and Abort run on the
// coordinator thread; CreateWriter and Cancel may be called from any thread; a writer is driven
// by one thread (its Cancel from any). Each writer has its own connection.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "config/options.h"
#include "connectors/api.h"
#include "connectors/redis/redis_client.h"
#include "connectors/redis/redis_cluster.h"
#include "connectors/redis/redis_options.h"

namespace sluice::connectors::redis {

/// The keys the sink keeps beside the data, per job.
std::string RunKey(std::string_view job);
std::string ProgressKey(std::string_view job, int slot);

class RedisSink final : public Sink {
 public:
  /// `config` is kept to point config errors found at Open (a missing column) at the job file.
  RedisSink(RedisSinkOptions options, config::Options config);
  ~RedisSink() override;

  Status Open(const JobContext& context, const std::vector<StreamInfo>& streams) override;
  Status Check(const JobContext& context, const std::vector<StreamInfo>& streams,
               CheckReport* report) override;
  Result<std::unique_ptr<SinkWriter>> CreateWriter(int slot) override;
  Status Finish() override { return Status::OK(); }
  void Abort() override;
  void Cancel() override;
  DeliveryGuarantee guarantee() const override { return DeliveryGuarantee::kExactlyOnce; }
  Status Claim(const JobContext& context) override;
  Result<std::vector<SplitProgress>> RecoverProgress(const JobContext& context) override;
  Status ForgetProgress(const JobContext& context) override;

  /// How one stream's rows become commands, fixed at Open.
  struct StreamPlan;

 private:
  // The coordinator's connection, connected (and checked to be a primary) on first use.
  Result<RedisClient*> Coordinator();
  Result<std::vector<StreamPlan>> PlanStreams(const std::vector<StreamInfo>& streams) const;
  // The progress keys of `job` in the sink's database (SCAN, so that any slot count is found;
  // on every primary of a cluster).
  Result<std::vector<std::string>> ProgressKeys(const std::string& job);
  // The keys matching `pattern` on `client` (one SCAN).
  static Result<std::vector<std::string>> Scan(RedisClient& client, const std::string& pattern);
  // A command on the key's node (cluster) or the coordinator.
  Result<RedisReply> KeyCommand(std::string_view key, const std::vector<std::string_view>& args);
  Status ClaimFences(const JobContext& context);

  RedisSinkOptions options_;
  config::Options config_;
  const JobContext* context_ = nullptr;
  uint64_t run_epoch_ = 0;
  uint64_t generation_ = 0;
  std::mutex coordinator_mutex_;  // guards coordinator_ against Cancel
  std::unique_ptr<RedisClient> coordinator_;
  std::unique_ptr<ClusterConnections> cluster_;  // cluster: the coordinator's connections
  std::shared_ptr<const std::vector<StreamPlan>> plans_;
};

}  // namespace sluice::connectors::redis
