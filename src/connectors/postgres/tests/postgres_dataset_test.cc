// Real sample databases copied PostgreSQL -> PostgreSQL through the job runner: every table
// (pagila's enums, arrays, tsvector, domains, bytea, partitioned payments; Chinook) arrives with
// an identical ordered dump.
#include <fmt/core.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "connectors/postgres/tests/postgres_test_util.h"
#include "testing/gtest_util.h"
#include "testing/temp_dir.h"

namespace sluice::connectors::postgres {
namespace {

using testing::Dump;
using testing::RunJob;
using testing::Servers;
using testing::TestDatabase;

// Copies `path` to `out`, dropping lines that contain any of `drop` (ownership by roles this
// cluster does not have, the dump's own CREATE DATABASE and \c).
void FilterSql(const std::string& path, const std::string& out,
               const std::vector<std::string>& drop) {
  std::ifstream in(path);
  std::ofstream filtered(out);
  for (std::string line; std::getline(in, line);) {
    bool keep = true;
    for (const std::string& part : drop)
      keep = keep && line.find(part) == std::string::npos;
    if (keep)
      filtered << line << '\n';
  }
}

std::vector<std::string> Tables(const TestDatabase& db) {
  std::istringstream in(db.Exec(
      "SELECT relname FROM pg_class WHERE relnamespace = 'public'::regnamespace AND relkind IN "
      "('r', 'p') AND NOT relispartition ORDER BY relname"));
  std::vector<std::string> tables;
  for (std::string line; std::getline(in, line);)
    tables.push_back(line);
  return tables;
}

std::string CopyJob(const TestDatabase& from, const TestDatabase& to) {
  auto indent = [](const std::string& lines) {
    std::string out;
    std::istringstream in(lines);
    for (std::string line; std::getline(in, line);)
      out += "  " + line + "\n";
    return out;
  };
  // The progress table goes into its own schema, so that public holds exactly the copies.
  return fmt::format(
      "name: copy\nparallelism: 2\nsource:\n  type: postgres\n{}  tables: [\"*\"]\n"
      "  split_rows: 2000\n  page_rows: 1000\nsink:\n  type: postgres\n{}"
      "  progress_table: sluice.progress\n",
      indent(from.ConnectionYaml()), indent(to.ConnectionYaml()));
}

void ExpectIdenticalTables(const TestDatabase& from, const TestDatabase& to,
                           size_t expected_tables) {
  std::vector<std::string> tables = Tables(from);
  EXPECT_EQ(tables.size(), expected_tables);
  EXPECT_EQ(Tables(to), tables);
  for (const std::string& table : tables) {
    SCOPED_TRACE(table);
    // The row's own text orders any table, whatever its column types.
    std::string order = fmt::format("({}.*)::text", table);
    std::string source = Dump(from, table, order);
    EXPECT_FALSE(source.empty());
    EXPECT_EQ(Dump(to, table, order), source);
  }
}

TEST(PostgresDatasetTest, PagilaCopiesIdentically) {
  std::string dir = sluice::testing::DatasetsDir() + "/pagila";
  if (!std::filesystem::exists(dir + "/pagila-schema.sql"))
    GTEST_SKIP() << "no pagila dataset";
  sluice::testing::TempDir temp;
  FilterSql(dir + "/pagila-schema.sql", temp.Join("schema.sql"), {"OWNER TO"});
  TestDatabase from("pagila");
  TestDatabase to("pagila_copy");
  ASSERT_OK(sluice::testing::PsqlLoadFile(Servers(), from.name(), temp.Join("schema.sql")));
  ASSERT_OK(sluice::testing::PsqlLoadFile(Servers(), from.name(), dir + "/pagila-data.sql"));
  from.Exec("ANALYZE");
  runtime::JobSummary summary = RunJob(CopyJob(from, to));
  ASSERT_OK(summary.status);
  EXPECT_GT(summary.metrics.rows_written, 45000u);
  ExpectIdenticalTables(from, to, 15);
}

TEST(PostgresDatasetTest, ChinookCopiesIdentically) {
  std::string file = sluice::testing::DatasetsDir() + "/chinook/Chinook_PostgreSql.sql";
  if (!std::filesystem::exists(file))
    GTEST_SKIP() << "no chinook dataset";
  sluice::testing::TempDir temp;
  FilterSql(file, temp.Join("chinook.sql"), {"DROP DATABASE", "CREATE DATABASE", "\\c "});
  TestDatabase from("chinook");
  TestDatabase to("chinook_copy");
  ASSERT_OK(sluice::testing::PsqlLoadFile(Servers(), from.name(), temp.Join("chinook.sql")));
  runtime::JobSummary summary = RunJob(CopyJob(from, to));
  ASSERT_OK(summary.status);
  ExpectIdenticalTables(from, to, 11);
}

}  // namespace
}  // namespace sluice::connectors::postgres
