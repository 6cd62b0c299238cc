// KafkaSink: writes each stream's rows as messages to a topic, in JSON, CSV, raw or Avro (the
// schema registry's wire format), keyed by the key columns (partitioned as Java clients
// partition: librdkafka's murmur2_random); a changelog as Debezium change events
// (debezium_json: an update's two images in one event, a tombstone after a delete).
//
// Exactly-once (JobContext::delivery == kExactlyOnce): each writer slot owns the transactional
// id "sluice-<job>-<slot>". A transaction begins at the slot's first row after a commit; Commit
// adds the checkpoint's split progress as messages of the compacted progress topic (key
// "<job>\0split\0<split id>") and commits the transaction, so that rows and progress become
// visible together or not at all. Claim() reads the job's run record in that topic ("<job>\0run":
// epoch, owner, slots), refuses a run older than the recorded one, and calls init_transactions
// for every slot any run of the job used: that fences the earlier run's producers (their next
// commit fails) and aborts their open transactions, so none stays open. RecoverProgress reads the
// progress records back with read_committed. At-least-once: the idempotent producer, flushed at
// each commit; no progress is kept.
//
// Thread-safety: Claim, RecoverProgress, ForgetProgress, Open, Check, Finish and Abort run on the
// coordinator thread; CreateWriter may be called from any thread; each writer is driven by one
// thread and owns its producer.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "config/options.h"
#include "connectors/api.h"
#include "connectors/kafka/kafka_options.h"

namespace sluice::connectors::kafka {

class KafkaHandle;

class KafkaSink final : public Sink {
 public:
  explicit KafkaSink(KafkaSinkOptions options);
  ~KafkaSink() override;

  Status Open(const JobContext& context, const std::vector<StreamInfo>& streams) override;
  Status Check(const JobContext& context, const std::vector<StreamInfo>& streams,
               CheckReport* report) override;
  Result<std::unique_ptr<SinkWriter>> CreateWriter(int slot) override;
  Status Finish() override { return Status::OK(); }
  /// Debezium events (changelogs) go through one transactional producer: with several, a resume
  /// after a crash between their commits would have to take the older checkpoint's position and
  /// send some events twice (docs/ARCHITECTURE.md, changelog streams). Known before Open.
  int max_writers() const override { return options_.envelope == Envelope::kDebezium ? 1 : 0; }
  DeliveryGuarantee guarantee() const override { return DeliveryGuarantee::kExactlyOnce; }
  Status Claim(const JobContext& context) override;
  Result<std::vector<SplitProgress>> RecoverProgress(const JobContext& context) override;
  Status CheckFreshStart(const JobContext& context,
                         const std::vector<StreamInfo>& streams) override;
  Status ForgetProgress(const JobContext& context) override;

  /// What every writer shares (defined in the .cc).
  struct Shared;

 private:
  /// The producer settings of writer `slot` (with its transactional id when `transactional`).
  std::map<std::string, std::string> TransactionalSettings(int slot, bool transactional) const;
  /// A writer around `producer` (its transactions initialized when `transactional`), once it
  /// knows the metadata of the topics it will write.
  Result<std::unique_ptr<SinkWriter>> WriterFor(KafkaHandle producer, int slot,
                                                bool transactional);
  /// Open's work; registers the Avro value schemas only when `register_schemas` (Check
  /// changes nothing).
  Status OpenTargets(const JobContext& context, const std::vector<StreamInfo>& streams,
                     bool register_schemas);

  KafkaSinkOptions options_;
  std::shared_ptr<Shared> shared_;
};

}  // namespace sluice::connectors::kafka
