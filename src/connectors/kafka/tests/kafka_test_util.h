// Test helpers for the kafka connector: unique topic names, a producer that sets partitions,
// keys and headers exactly, and sources built from YAML blocks. Test-only.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "connectors/api.h"
#include "connectors/registry.h"
#include "testing/bad_records.h"
#include "testing/memory_connector.h"
#include "testing/test_servers.h"

namespace sluice::connectors::kafka::testing {

struct TestMessage {
  std::optional<std::string> value;
  std::optional<std::string> key;
  int32_t partition = 0;
  std::vector<std::pair<std::string, std::optional<std::string>>> headers;
  int64_t timestamp_ms = 0;  // 0: the producer's clock
};

/// "<prefix>_<pid>_<counter>": topics of one test run never meet another's.
std::string UniqueTopic(const std::string& prefix);

/// Produces `messages` (acks=all) and waits until every one is acknowledged.
Status Produce(const sluice::testing::TestServers& servers, const std::string& topic,
               const std::vector<TestMessage>& messages);

/// Waits (60 s at most) until a read_committed consumer sees at least `count` messages in
/// `topic`. A transaction's commit returns before its markers reach every partition, so for a
/// moment after an exactly-once job the last stable offset lags behind what it committed.
Status WaitForCommittedMessages(const sluice::testing::TestServers& servers,
                                const std::string& topic, size_t count);

/// A source (or job context) driven directly, outside the runtime.
struct DrivenSource {
  std::atomic<bool> cancelled{false};
  sluice::testing::RecordingBadRecords bad_records{/*skip=*/true};
  JobContext context;
  std::unique_ptr<Source> source;

  /// Builds and opens a kafka source from the YAML flow map's inside, e.g.
  /// "brokers: ..., topic: t, stop_at: end".
  Status Open(const std::string& block, const std::string& job_name = "kafka_test");
  /// Reads every split the enumerator hands out to its end (stop_at: end sources), one after the
  /// other; returns the rows, each split's in order, splits in the enumerator's order.
  Result<std::vector<sluice::testing::Row>> ReadAll(
      std::vector<SplitProgress>* progress = nullptr);
};

}  // namespace sluice::connectors::kafka::testing
