// The memory connector's unbounded topic mode (testing/memory_connector.h) in the stream cases
// of the conformance suite: the second source they run on besides Kafka, in-process, so that a
// failure there is the runtime's rather than a broker's.
#include <fmt/core.h>
#include <gtest/gtest.h>

#include <fstream>
#include <memory>

#include "testing/conformance/conformance.h"
#include "testing/memory_connector.h"
#include "testing/temp_dir.h"

namespace sluice::testing {
namespace {

using conformance::AcknowledgedPositions;
using conformance::ConformanceName;
using conformance::ConformanceStore;
using conformance::SourceUnderTest;
using conformance::StreamConformanceTest;

constexpr size_t kPartitions = 3;

// What the registered memory connector serves: set by SourceUnderTest::register_connectors,
// which each case calls before open_store.
std::shared_ptr<MemorySourceData> served;

// A MemoryTopic of three partitions (row i in partition i mod 3). Acknowledgements are appended
// to a file, so that those of the crash loop's children reach the test.
class MemoryTopicStore final : public ConformanceStore {
 public:
  explicit MemoryTopicStore(std::shared_ptr<MemorySourceData> data) : data_(std::move(data)) {
    data_->streams = {MemoryStream{"orders", conformance::OrdersSchema(), {}}};
    data_->topic = std::make_shared<MemoryTopic>();
    for (size_t partition = 0; partition < kPartitions; ++partition)
      data_->topic->AddPartition();
    const std::string path = acknowledgements();
    data_->on_acknowledge = [path](uint64_t, const std::vector<connectors::SplitProgress>& progress) {
      std::ofstream out(path, std::ios::app);
      for (const connectors::SplitProgress& entry : progress)
        out << entry.split_id << ' ' << entry.position << '\n';
    };
  }

  // One topic: the stream cases seed one target each.
  Result<std::string> SeedSource(const std::string& target, const std::vector<Row>& rows) override {
    SLUICE_RETURN_IF_ERROR(AppendRows(target, rows));
    return std::string("{type: memory}");
  }

  Status AppendRows(const std::string&, const std::vector<Row>& rows) override {
    std::vector<std::vector<Row>> parts(kPartitions);
    for (const Row& row : rows)
      parts[appended_++ % kPartitions].push_back(row);
    for (size_t partition = 0; partition < kPartitions; ++partition)
      data_->topic->Append(partition, parts[partition]);
    return Status::OK();
  }

  Result<AcknowledgedPositions> Acknowledged(const std::string&) override {
    AcknowledgedPositions positions;
    std::ifstream in(acknowledgements());
    std::string split;
    std::string position;
    while (in >> split >> position) {
      SLUICE_ASSIGN_OR_RETURN(positions[split], PositionIndex(position));
    }
    return positions;
  }

  // A partition's position is the index of its next row.
  Result<int64_t> PositionIndex(const std::string& position) override {
    try {
      return std::stoll(position);
    } catch (const std::exception&) {
      return Internal(fmt::format("not a memory topic position: '{}'", position));
    }
  }

 private:
  std::string acknowledgements() const { return dir_.Join("acknowledged"); }

  TempDir dir_;
  std::shared_ptr<MemorySourceData> data_;
  size_t appended_ = 0;
};

SourceUnderTest MemoryTopicSource() {
  SourceUnderTest source;
  source.name = "memory_topic";
  source.register_connectors = [](connectors::ConnectorRegistry& registry) {
    served = std::make_shared<MemorySourceData>();
    RegisterMemoryConnector(registry, served, std::make_shared<MemorySinkData>());
  };
  source.open_store = []() -> Result<std::unique_ptr<ConformanceStore>> {
    return std::unique_ptr<ConformanceStore>(new MemoryTopicStore(served));
  };
  source.bounded = false;
  return source;
}

INSTANTIATE_TEST_SUITE_P(Memory, StreamConformanceTest, ::testing::Values(MemoryTopicSource()),
                         ConformanceName());

}  // namespace
}  // namespace sluice::testing
