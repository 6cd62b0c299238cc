// The hive sink in the conformance suite (src/testing/conformance): an unpartitioned table of
// Parquet or Avro files in a temporary directory of the case, read back through the file source
// (ConnectorInfo::read_back), killed at every commit step.
#include <fmt/core.h>
#include <gtest/gtest.h>

#include <filesystem>

#include "testing/conformance/conformance.h"
#include "testing/conformance/conformance_job.h"
#include "testing/temp_dir.h"

namespace sluice::connectors {
void RegisterFileConnector(ConnectorRegistry& registry);
void RegisterHiveConnector(ConnectorRegistry& registry);
}  // namespace sluice::connectors

namespace sluice::connectors::hive {
namespace {

using sluice::testing::conformance::ConformanceName;
using sluice::testing::conformance::ConformanceStore;
using sluice::testing::conformance::SinkConformanceTest;
using sluice::testing::conformance::SinkUnderTest;
using sluice::testing::conformance::WriteMode;
using sluice::testing::conformance::YamlQuoted;

class HiveTableStore final : public ConformanceStore {
 public:
  explicit HiveTableStore(std::string format) : format_(std::move(format)) {}

  // Small files, so that a run publishes several while it goes and the crash loop hits that.
  std::string SinkBlock(const std::string& target, WriteMode) override {
    return fmt::format("{{type: hive, location: {}, format: {}, target_file_bytes: 4KiB}}",
                       YamlQuoted(dir_.Join(target)), format_);
  }

  // Staged files (hidden) and manifests; the DDL file and _SUCCESS stay.
  std::vector<std::string> Leftovers(const std::string& target) override {
    std::vector<std::string> names;
    std::error_code error;
    for (const auto& entry :
         std::filesystem::recursive_directory_iterator(dir_.Join(target), error)) {
      std::string name = entry.path().filename().string();
      if (name[0] == '.' || name.starts_with("slot-"))
        names.push_back(name);
    }
    return names;
  }

 private:
  std::string format_;
  sluice::testing::TempDir dir_;
};

SinkUnderTest HiveSink(std::string format) {
  SinkUnderTest sink;
  sink.name = format;
  sink.register_connectors = [](ConnectorRegistry& registry) {
    RegisterHiveConnector(registry);
    RegisterFileConnector(registry);  // verify reads the table back through the file source
  };
  sink.open_store = [format]() -> Result<std::unique_ptr<ConformanceStore>> {
    return std::unique_ptr<ConformanceStore>(new HiveTableStore(format));
  };
  sink.exactly_once = true;
  sink.overwrite = false;
  // Files the interrupted run published would stay: a fresh run in append mode is refused.
  sink.refuses_fresh_append = true;
  sink.visible_at_commit = false;
  sink.empty_input_may_leave_no_target = true;
  sink.crash_points = {"hive.commit.before_manifest=crash@2", "hive.commit.after_manifest=crash@3",
                       "hive.commit.after_publish=crash@2"};
  return sink;
}

INSTANTIATE_TEST_SUITE_P(Hive, SinkConformanceTest,
                         ::testing::Values(HiveSink("parquet"), HiveSink("avro")),
                         ConformanceName());

}  // namespace
}  // namespace sluice::connectors::hive
