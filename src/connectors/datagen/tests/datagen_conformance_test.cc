// The datagen source in the conformance suite (src/testing/conformance). Datagen makes its own
// rows, so the suite compares each run with an uninterrupted one.
#include <fmt/core.h>
#include <gtest/gtest.h>

#include "testing/conformance/conformance.h"

namespace sluice::connectors {
void RegisterDatagenConnector(ConnectorRegistry& registry);
}  // namespace sluice::connectors

namespace sluice::connectors::datagen {
namespace {

using sluice::testing::Row;
using sluice::testing::conformance::ConformanceName;
using sluice::testing::conformance::ConformanceStore;
using sluice::testing::conformance::SourceConformanceTest;
using sluice::testing::conformance::SourceUnderTest;

class DatagenStore final : public ConformanceStore {
 public:
  // As many rows as asked for, of the suite's columns; splits of 400 rows.
  Result<std::string> SeedSource(const std::string& target, const std::vector<Row>& rows) override {
    return fmt::format(
        "{{type: datagen, rows: {}, split_rows: 400, seed: 7, stream: orders, "
        "columns: {{id: int64, name: string, amount: string}}}}",
        rows.size());
  }
};

SourceUnderTest DatagenSource() {
  SourceUnderTest source;
  source.name = "datagen";
  source.register_connectors = [](ConnectorRegistry& registry) {
    RegisterDatagenConnector(registry);
  };
  source.open_store = []() -> Result<std::unique_ptr<ConformanceStore>> {
    return std::unique_ptr<ConformanceStore>(new DatagenStore());
  };
  source.seeds_given_rows = false;
  return source;
}

INSTANTIATE_TEST_SUITE_P(Datagen, SourceConformanceTest, ::testing::Values(DatagenSource()),
                         ConformanceName());

}  // namespace
}  // namespace sluice::connectors::datagen
