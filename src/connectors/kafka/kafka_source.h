// KafkaSource: reads topics; each partition is a split ("orders#3"), its position the next
// offset. A stream never ends unless `stop_at: end` bounds it by the high watermarks seen when
// the job started. Offsets are committed to the consumer group only in Acknowledge, after the
// sink has made the rows durable; Sluice's own checkpoints remain the truth on resume.
//
// Thread-safety: the source is driven by the coordinator; CreateReader and Acknowledge may come
// from other threads (librdkafka handles are thread-safe). Each reader is driven by one thread,
// except Lag/Progress/Cancel, which are thread-safe.
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "config/options.h"
#include "connectors/api.h"
#include "connectors/kafka/kafka_options.h"

namespace sluice::connectors::kafka {

/// A split's payload, decoded: one partition of one topic, from `start` (an offset, or -2 for
/// the partition's beginning) up to `end` (exclusive; -1 for never).
struct PartitionRange {
  std::string topic;
  int32_t partition = 0;
  int64_t start = -2;
  int64_t end = -1;

  std::string ToJson() const;
  static Result<PartitionRange> FromJson(std::string_view payload);
};

/// "orders#3".
std::string PartitionSplitId(std::string_view topic, int32_t partition);

class KafkaSource final : public Source {
 public:
  explicit KafkaSource(KafkaSourceOptions options);
  ~KafkaSource() override;

  Status Open(const JobContext& context) override;
  const std::vector<StreamInfo>& streams() const override { return streams_; }
  bool bounded() const override { return options_.stop_at_end; }
  Result<std::unique_ptr<SplitEnumerator>> CreateEnumerator() override;
  Result<std::unique_ptr<SplitEnumerator>> ResumeEnumerator(
      const std::vector<Split>& planned) override;
  Result<std::unique_ptr<SplitReader>> CreateReader(const Split& split,
                                                    const std::string& position) override;
  void Describe(CheckReport* report) const override;
  Status Acknowledge(uint64_t checkpoint, const std::vector<SplitProgress>& progress) override;
  /// stop_at: end: the whole plan (every partition's range, its end fixed at the job's start),
  /// so that a resumed run also reads the partitions the first run had not handed out yet, up to
  /// the same ends. "" otherwise.
  std::string CheckpointState() const override;
  Status RestoreState(std::string_view state) override;

  /// The offset a position token stands for ("" = none): the next message to read.
  static Result<int64_t> ParsePosition(std::string_view position);

  /// What the source, its enumerator and its readers share (defined in the .cc).
  struct Shared;

 private:
  Result<std::vector<Split>> Plan(const std::vector<std::string>& skip_ids);
  /// Remembers `splits` as the bounded plan CheckpointState records.
  void KeepPlan(const std::vector<Split>& splits);

  KafkaSourceOptions options_;
  const JobContext* context_ = nullptr;
  std::vector<StreamInfo> streams_;
  std::shared_ptr<Shared> shared_;
  mutable std::mutex plan_mutex_;
  std::vector<std::string> plan_;           // guarded by plan_mutex_: stop_at: end payloads
  std::vector<std::string> restored_plan_;  // RestoreState's, before ResumeEnumerator
};

}  // namespace sluice::connectors::kafka
