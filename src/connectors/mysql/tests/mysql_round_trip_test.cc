// MySQL -> Sluice -> MySQL through the real job runner: every type of the mapping arrives
// identical (text, HEX of bytes, float bits, column types), and the sample databases (sakila,
// world_x, Chinook) are copied to another database unchanged.
#include <fmt/core.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <regex>
#include <sstream>

#include "connectors/mysql/tests/mysql_test_util.h"
#include "testing/gtest_util.h"
#include "testing/temp_dir.h"

namespace sluice::connectors::mysql::testing {
namespace {

std::string CopyJob(const TestDatabase& from, const TestDatabase& to, const std::string& source,
                    const std::string& sink, int parallelism) {
  return fmt::format(
      "name: copy\nsource:\n  type: mysql\n{}{}sink:\n  type: mysql\n{}{}"
      "parallelism: {}\nbatch_rows: 700\n",
      Indent(from.ConnectionYaml(), 2), Indent(source, 2), Indent(to.ConnectionYaml(), 2),
      Indent(sink, 2), parallelism);
}

// Base tables of `db`, sorted, without the sink's progress table.
std::vector<std::string> Tables(const TestDatabase& db) {
  return Lines(
      db.Exec(fmt::format("SELECT TABLE_NAME FROM information_schema.TABLES WHERE "
                          "TABLE_SCHEMA = '{}' AND TABLE_TYPE = 'BASE TABLE' AND "
                          "TABLE_NAME <> '_sluice_progress' ORDER BY 1",
                          db.name())));
}

// Every row of `table`, ordered by all its columns, with binary columns in HEX too.
std::string Dump(const TestDatabase& db, const std::string& table) {
  std::vector<std::string> columns = Lines(db.Exec(fmt::format(
      "SELECT CONCAT(COLUMN_NAME, '|', DATA_TYPE) FROM information_schema.COLUMNS WHERE "
      "TABLE_SCHEMA = '{}' AND TABLE_NAME = '{}' ORDER BY ORDINAL_POSITION",
      db.name(), table)));
  std::string select;
  std::string order;
  for (size_t i = 0; i < columns.size(); ++i) {
    std::string name = columns[i].substr(0, columns[i].find('|'));
    std::string type = columns[i].substr(columns[i].find('|') + 1);
    if (!select.empty())
      select += ", ";
    select += fmt::format("`{}`", name);
    if (type.find("blob") != std::string::npos || type.find("binary") != std::string::npos ||
        type == "geometry" || type == "point") {
      select += fmt::format(", HEX(`{}`)", name);
    }
    // Byte order: the copy's columns take the target database's collation.
    order += fmt::format("{}CAST(`{}` AS BINARY)", i == 0 ? "" : ", ", name);
  }
  return db.Exec(fmt::format("SELECT {} FROM `{}` ORDER BY {}", select, table, order));
}

std::string ColumnTypes(const TestDatabase& db, const std::string& table) {
  return db.Exec(fmt::format(
      "SELECT COLUMN_NAME, COLUMN_TYPE, IS_NULLABLE FROM information_schema.COLUMNS WHERE "
      "TABLE_SCHEMA = '{}' AND TABLE_NAME = '{}' ORDER BY ORDINAL_POSITION",
      db.name(), table));
}

// Rows as Sluice reads them (floats with their bits).
std::vector<Row> SluiceRows(const TestDatabase& db, const std::string& table) {
  Result<std::unique_ptr<Source>> source =
      MakeSource(db.ConnectionYaml() + "table: " + table + "\nconsistency: per_split\n");
  EXPECT_TRUE(source.ok());
  RecordAndFail fail;
  JobContext context = MakeContext(&fail);
  EXPECT_OK((*source)->Open(context));
  Result<std::vector<ReadResult>> results = ReadAll(**source);
  EXPECT_TRUE(results.ok()) << results.status().ToString();
  return results.ok() ? (*results)[0].rows : std::vector<Row>();
}

class MysqlRoundTripTest : public ::testing::TestWithParam<std::string> {};

TEST_P(MysqlRoundTripTest, EveryTypeArrivesIdentical) {
  MYSQL_TEST_DATABASE(from, "from");
  MYSQL_TEST_DATABASE(to, "to");
  from.Exec(R"sql(
    CREATE TABLE t (
      id INT PRIMARY KEY,
      ti TINYINT, tb TINYINT(1), tu TINYINT UNSIGNED, si SMALLINT, su SMALLINT UNSIGNED,
      mi MEDIUMINT, mu MEDIUMINT UNSIGNED, i INT, iu INT UNSIGNED, bi BIGINT, bu BIGINT UNSIGNED,
      y YEAR, b3 BIT(3), b64 BIT(64), f FLOAT, d DOUBLE, dec1 DECIMAL(10,2), dec65 DECIMAL(65,30),
      c CHAR(3), vc VARCHAR(20), tx TEXT, mt MEDIUMTEXT, e ENUM('a','b''c'), st SET('x','y','z'),
      bn BINARY(4), vb VARBINARY(300), bl BLOB, lb LONGBLOB, j JSON,
      dt DATE, tm TIME, tm3 TIME(3), dtm DATETIME, dtm6 DATETIME(6), ts TIMESTAMP(6) NULL,
      g GEOMETRY, pt POINT)
  )sql");
  std::string every_byte;
  for (int b = 0; b < 256; ++b)
    every_byte += fmt::format("{:02X}", b);
  from.Exec(fmt::format(R"sql(
    INSERT INTO t VALUES
    (1, -128, 1, 255, -32768, 65535, -8388608, 16777215, -2147483648, 4294967295,
     -9223372036854775808, 18446744073709551615, 2155, b'101', b'1111111111111111111111111111111111111111111111111111111111111111',
     -3.4028234e38, 1.7976931348623157e308, -12345678.91, '-12345678901234567890123456789012345.123456789012345678901234567891',
     'ab', 'Grüße 😀', 'line1\nline2\ttab\\ \r \0 end', '𝄞 music', 'b''c', 'x,z',
     X'00FF0a0d', X'{0}', X'{0}', X'{0}', '{{"a": [1, 2.5, "x"], "b": "\\u00e9"}}',
     '1000-01-01', '-838:59:59', '838:59:58.999', '9999-12-31 23:59:59', '2024-02-29 13:45:07.000123',
     '2038-01-19 03:14:07.999999', ST_GeomFromText('POLYGON((0 0, 1 0, 1 1, 0 0))'),
     ST_GeomFromText('POINT(1.5 -2.25)')),
    (2, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
     NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
     NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
    (3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1901, b'0', b'0', 1.17549435e-38, 4.9406564584124654e-324,
     0, 0.000000000000000000000000000001, '', '', '', '', 'a', '',
     X'00000000', X'', X'', X'', 'null', '2000-01-01', '00:00:00', '-00:00:00.5',
     '1970-01-01 00:00:00', '1970-01-01 00:00:00', '1970-01-01 00:00:01', NULL, NULL),
    (4, 1, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2000, b'1', b'1', 0.1, 0.1, 0.01, 1, 'x', '\\N', '\\', 'a''b', 'a', 'x,y,z',
     X'5C4E0000', X'5C4E', X'5C', X'0A', '[]', '2024-02-29', '-00:00:01', '00:00:00.001',
     '2024-02-29 00:00:00', '2024-02-29 23:59:59.999999', '2000-01-01 00:00:00', NULL, NULL)
  )sql",
                        every_byte));
  runtime::JobSummary summary =
      RunJob(CopyJob(from, to, "table: t\nsplit_rows: 2\n", "method: " + GetParam() + "\n", 2));
  ASSERT_OK(summary.status);
  EXPECT_EQ(ColumnTypes(to, "t"), ColumnTypes(from, "t"));
  EXPECT_EQ(Dump(to, "t"), Dump(from, "t"));
  EXPECT_EQ(SluiceRows(to, "t"), SluiceRows(from, "t"));
}

TEST_P(MysqlRoundTripTest, HugeValuesArriveWhole) {
  MYSQL_TEST_DATABASE(from, "from");
  MYSQL_TEST_DATABASE(to, "to");
  from.Exec(
      "CREATE TABLE big (id INT PRIMARY KEY, b LONGBLOB, s LONGTEXT); "
      "INSERT INTO big VALUES (1, REPEAT(X'00FF0A5C09', 3355444), REPEAT('😀\\t', 2000000)), "
      "(2, X'', ''), (3, NULL, NULL)");
  runtime::JobSummary summary =
      RunJob(CopyJob(from, to, "table: big\n", "method: " + GetParam() + "\n", 1));
  ASSERT_OK(summary.status);
  std::string check = "SELECT id, LENGTH(b), MD5(b), LENGTH(s), MD5(s) FROM big ORDER BY id";
  EXPECT_EQ(to.Exec(check), from.Exec(check));
  EXPECT_THAT(to.Exec(check), ::testing::StartsWith("1\t16777220\t"));
}

INSTANTIATE_TEST_SUITE_P(Methods, MysqlRoundTripTest, ::testing::Values("load_data", "insert"));

// Loads a MySQL dump into `db` whatever database it names, with the few edits MariaDB needs
// (MySQL 8's collation name, NOT NULL and PRIMARY KEY on generated columns).
Status LoadDump(const TestDatabase& db, const std::vector<std::string>& files) {
  std::string sql;
  static const std::regex kDatabaseStatement(
      R"(^\s*(USE |DROP (DATABASE|SCHEMA)|CREATE (DATABASE|SCHEMA)|/\*!40000 DROP DATABASE))");
  for (const std::string& file : files) {
    std::ifstream in(file);
    if (!in)
      return NotFound("no dataset file " + file);
    std::string line;
    while (std::getline(in, line)) {
      if (std::regex_search(line, kDatabaseStatement))
        continue;
      line = std::regex_replace(line, std::regex("utf8mb4_0900_ai_ci"), "utf8mb4_general_ci");
      line = std::regex_replace(line, std::regex(R"(\bsakila\.)"), "");
      line = std::regex_replace(line, std::regex("STORED NOT NULL"), "STORED");
      line = std::regex_replace(line, std::regex("PRIMARY KEY \\(`_id`\\)"), "UNIQUE KEY (`_id`)");
      sql += line;
      sql += '\n';
    }
  }
  sluice::testing::TempDir dir;
  sluice::testing::WriteFileOrDie(dir.Join("load.sql"), sql);
  return db.Load(dir.Join("load.sql"));
}

class MysqlDatasetCopyTest : public ::testing::TestWithParam<std::string> {};

TEST_P(MysqlDatasetCopyTest, CopiesEveryTableUnchanged) {
  std::string datasets = sluice::testing::DatasetsDir();
  if (datasets.empty())
    GTEST_SKIP() << "datasets not available";
  MYSQL_TEST_DATABASE(from, "from");
  MYSQL_TEST_DATABASE(to, "to");
  std::vector<std::string> files;
  if (GetParam() == "sakila") {
    files = {datasets + "/sakila/sakila-schema.sql", datasets + "/sakila/sakila-data.sql"};
  } else if (GetParam() == "world_x") {
    files = {datasets + "/world_x/world_x.sql"};
  } else {
    files = {datasets + "/chinook/Chinook_MySql.sql"};
  }
  ASSERT_OK(LoadDump(from, files));
  std::vector<std::string> tables = Tables(from);
  ASSERT_GE(tables.size(), 4u);
  runtime::JobSummary summary =
      RunJob(CopyJob(from, to, "tables: [\"*\"]\nsplit_rows: 1500\npage_rows: 700\n", "", 3));
  ASSERT_OK(summary.status);
  EXPECT_EQ(Tables(to), tables);
  uint64_t rows = 0;
  for (const std::string& table : tables) {
    EXPECT_EQ(ColumnTypes(to, table), ColumnTypes(from, table)) << table;
    std::string dump = Dump(from, table);
    EXPECT_EQ(Dump(to, table), dump) << table;
    rows += Lines(dump).size();
    // Same types and rows: the servers' own checksums agree too (except where the source
    // computes generated columns, which the copy stores as plain ones).
    std::string generated = from.Exec(
        fmt::format("SELECT COUNT(*) FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = '{}' AND "
                    "TABLE_NAME = '{}' AND EXTRA LIKE '%GENERATED%'",
                    from.name(), table));
    if (generated != "0\n")
      continue;
    std::string checksum = "CHECKSUM TABLE `" + table + "`";
    std::string expected = from.Exec(checksum);
    std::string actual = to.Exec(checksum);
    EXPECT_EQ(actual.substr(actual.find('\t')), expected.substr(expected.find('\t'))) << table;
  }
  EXPECT_EQ(summary.metrics.rows_written, rows);
}

INSTANTIATE_TEST_SUITE_P(Datasets, MysqlDatasetCopyTest,
                         ::testing::Values("sakila", "world_x", "chinook"));

}  // namespace
}  // namespace sluice::connectors::mysql::testing
