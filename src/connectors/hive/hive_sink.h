// HiveSink: writes each stream as a Hive table of Parquet or Avro files in a FileStore (a local
// directory, HDFS, S3), partitioned by event time and/or column values, exactly once.
//
// Files: <location>/<partition>/<job>-<slot 3>-<part 5>.<ext>, where part counts the files a
// writer slot started (deterministic: a replay from any checkpoint makes the same names). Each is
// a FileStore staged file, invisible until published.
//
// Exactly-once: a writer keeps its files open across checkpoints (a checkpoint does not end a
// file; a Parquet file gets a row group per commit). Prepare() flushes and commits every open
// file to the store; Commit() writes the slot's manifest (hive_manifest.h): that is the commit
// point. Then the files that ended since (target_file_bytes reached, a time partition closed,
// too many open) are published, their partitions registered in the catalog, and due _SUCCESS
// markers written; a crash in between is rolled forward by the next run. Recovery continues
// each open file after its committed bytes (FileStore::Resume) and drops staged files no
// manifest names. Finish() (bounded jobs) ends and publishes every open file, then writes
// _SUCCESS into every partition written and deletes the manifests.
//
// Time partitions close by event time, not by the clock: once a row `lateness` past a
// partition's end arrives at a writer, that writer ends its file there and (success_marker)
// writes _SUCCESS. Rows arriving later for a closed partition go to a new file there that stays
// open one partition period of event time (so late rows make one file per partition and
// period, not one per checkpoint).
//
// One run at a time: Claim() stores the run's epoch in the store (`_sluice/<job>/epoch`); each
// commit checks it before its manifest and before publishing, and manifests of a later run get
// higher sequence numbers (the epoch in their upper bits), so a run that lost its lease stops at
// its next commit and its manifests never win over the newer run's. Stores have no lock, so a
// claim that lands between a check and the write after it is not caught (see ClaimStoreFence).
//
// Thread-safety: Open, Finish, Abort, RecoverProgress and ForgetProgress on the coordinator
// thread; CreateWriter from any thread; each writer is used by one thread.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "connectors/api.h"
#include "connectors/hive/hive_catalog.h"
#include "connectors/hive/hive_manifest.h"
#include "connectors/hive/hive_options.h"
#include "connectors/hive/hive_partitioner.h"

namespace sluice::connectors::hive {

/// One stream's table.
struct HiveTarget {
  std::string stream;
  HivePartitioner partitioner;
  std::shared_ptr<io::FileStore> store;
  TableDescription table;
};

/// What Open decided; shared read-only by the sink and its writers.
struct HivePlan {
  HiveSinkOptions options;
  std::string job;
  std::string file_prefix;  // "<job>-": the job's files in the table, sanitised
  std::string extension;    // ".parquet", ".avro"
  std::vector<HiveTarget> targets;  // by stream index
  /// Where the manifests live: the store of the location before any {stream}.
  std::shared_ptr<io::FileStore> manifest_store;
  uint64_t generation = 1;
  /// The job's errors policy, for rows a format refuses (JobContext::bad_records).
  BadRecordHandler* bad_records = nullptr;
  /// The run epoch Claim() stored in the store's fence (0: not claimed, no fence).
  uint64_t run_epoch = 0;
  /// Fresh runs in append mode: the first part number no file of the job has, per slot.
  std::map<int, int64_t> first_free_part;
};

class HiveSink final : public Sink {
 public:
  explicit HiveSink(HiveSinkOptions options);

  Status Open(const JobContext& context, const std::vector<StreamInfo>& streams) override;
  Status Check(const JobContext& context, const std::vector<StreamInfo>& streams,
               CheckReport* report) override;
  Result<std::unique_ptr<SinkWriter>> CreateWriter(int slot) override;
  Status Finish() override;
  DeliveryGuarantee guarantee() const override { return DeliveryGuarantee::kExactlyOnce; }
  Result<std::vector<SplitProgress>> RecoverProgress(const JobContext& context) override;
  Status ForgetProgress(const JobContext& context) override;
  /// Takes the table for this run: refuses (FencedOff) when a newer run holds it, and stores the
  /// run's epoch in the table's fence (`_sluice/<job>/epoch`) before this run's first write to
  /// the store (so that a job refused at Open leaves nothing behind); every manifest write,
  /// publication and Finish checks it.
  Status Claim(const JobContext& context) override;
  /// In append mode, refuses a fresh run over an interrupted one that committed rows (they
  /// would be in the table twice); overwrite mode deletes the job's files and starts over.
  Status CheckFreshStart(const JobContext& context,
                         const std::vector<StreamInfo>& streams) override;

 private:
  Result<std::shared_ptr<HivePlan>> Plan(const JobContext& context,
                                         const std::vector<StreamInfo>& streams) const;
  Result<std::shared_ptr<io::FileStore>> ManifestStore() const;
  Status LoadAndRecover(const std::string& job, const std::vector<StreamInfo>* streams);
  // The job's published files in the table: for mode and numbering of a fresh run.
  Status ApplyMode(HivePlan* plan);
  // A run that took over from one that may still be alive (JobContext::earlier_run_may_be_alive)
  // continues every open file in a fork of its committed bytes (FileStore::Fork) and commits
  // manifests naming the forks, so that the two runs never write the same staged file.
  Status ForkOpenFiles(const HivePlan& plan, std::map<int, SlotManifest>* recovered);
  // Stores the claimed epoch in the fence, once, before the run writes anything.
  Status EnsureClaimed(const std::string& job);

  HiveSinkOptions options_;
  std::shared_ptr<const HivePlan> plan_;
  std::mutex mutex_;
  std::map<int, SlotManifest> recovered_;  // by slot; taken by CreateWriter
  bool recovered_loaded_ = false;
  uint64_t generation_ = 1;
  uint64_t run_epoch_ = 0;  // from Claim
  bool fence_written_ = false;
};

}  // namespace sluice::connectors::hive
