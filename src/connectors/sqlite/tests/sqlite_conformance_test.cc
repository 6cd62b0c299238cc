// The sqlite connector in the conformance suite (src/testing/conformance): its sink and its
// source, each database file in a temporary directory of the case.
#include <fmt/core.h>
#include <gtest/gtest.h>

#include "connectors/sqlite/tests/sqlite_test_util.h"
#include "testing/conformance/conformance.h"
#include "testing/conformance/conformance_job.h"
#include "testing/temp_dir.h"

namespace sluice::connectors {
void RegisterSqliteConnector(ConnectorRegistry& registry);
}  // namespace sluice::connectors

namespace sluice::connectors::sqlite {
namespace {

using sluice::testing::Row;
using sluice::testing::conformance::ConformanceStore;
using sluice::testing::conformance::WriteMode;
using sluice::testing::conformance::YamlQuoted;

class SqliteStore final : public ConformanceStore {
 public:
  std::string SinkBlock(const std::string& target, WriteMode mode) override {
    // Both ways SQLite recovers a crashed transaction: the rollback journal and the WAL.
    return fmt::format("{{type: sqlite, path: {}, table: orders, mode: {}, journal_mode: {}}}",
                       YamlQuoted(dir_.Join(target + ".db")),
                       mode == WriteMode::kAppend ? "append" : "overwrite",
                       mode == WriteMode::kAppend ? "delete" : "wal");
  }

  std::vector<std::string> Leftovers(const std::string& target) override {
    std::vector<std::string> names;
    const std::string query = "SELECT name FROM sqlite_schema WHERE name GLOB '_sluice_staging_*'";
    for (const testing::RawRow& row : testing::QueryOrDie(dir_.Join(target + ".db"), query))
      names.push_back(row[0]);
    return names;
  }

  Result<std::string> SeedSource(const std::string& target, const std::vector<Row>& rows) override {
    ConnectorRegistry registry;
    RegisterSqliteConnector(registry);
    std::string path = dir_.Join(target + "_source.db");
    SLUICE_RETURN_IF_ERROR(sluice::testing::conformance::SeedThroughSink(
        registry, fmt::format("{{type: sqlite, path: {}, table: orders}}", YamlQuoted(path)),
        rows));
    // Several splits per reader.
    return fmt::format("{{type: sqlite, path: {}, table: orders, split_rows: 400}}",
                       YamlQuoted(path));
  }

  Result<std::string> SeedSourceWithBadRecord(const std::string& target,
                                              const std::vector<Row>& rows,
                                              int64_t bad_after_id) override {
    SLUICE_ASSIGN_OR_RETURN(std::string source, SeedSource(target, rows));
    // SQLite keeps text in an INTEGER column as text: the source refuses it.
    testing::ExecOrDie(
        dir_.Join(target + "_source.db"),
        "INSERT INTO orders (id, name, amount) VALUES ('not a number', 'x', '1.00')");
    return source;
  }

 private:
  sluice::testing::TempDir dir_;
};

sluice::testing::conformance::SinkUnderTest SqliteSink() {
  sluice::testing::conformance::SinkUnderTest sink;
  sink.name = "sqlite";
  sink.register_connectors = [](ConnectorRegistry& registry) { RegisterSqliteConnector(registry); };
  sink.open_store = []() -> Result<std::unique_ptr<ConformanceStore>> {
    return std::unique_ptr<ConformanceStore>(new SqliteStore());
  };
  sink.exactly_once = true;
  sink.overwrite = true;
  sink.max_writers = 1;
  sink.crash_points = {"sqlite.commit.after_rows=crash@2",
                       "sqlite.commit.before_fence_check=crash@3"};
  return sink;
}

sluice::testing::conformance::SourceUnderTest SqliteSource() {
  sluice::testing::conformance::SourceUnderTest source;
  source.name = "sqlite";
  source.register_connectors = [](ConnectorRegistry& registry) {
    RegisterSqliteConnector(registry);
  };
  source.open_store = []() -> Result<std::unique_ptr<ConformanceStore>> {
    return std::unique_ptr<ConformanceStore>(new SqliteStore());
  };
  return source;
}

using sluice::testing::conformance::ConformanceName;
using sluice::testing::conformance::SinkConformanceTest;
using sluice::testing::conformance::SourceConformanceTest;

INSTANTIATE_TEST_SUITE_P(Sqlite, SinkConformanceTest, ::testing::Values(SqliteSink()),
                         ConformanceName());
INSTANTIATE_TEST_SUITE_P(Sqlite, SourceConformanceTest, ::testing::Values(SqliteSource()),
                         ConformanceName());

}  // namespace
}  // namespace sluice::connectors::sqlite
