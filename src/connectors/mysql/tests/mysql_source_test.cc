// The mysql source against the real MariaDB: types, NULLs, keys, splitting, filters, errors.
#include "connectors/mysql/mysql_source.h"

#include <fmt/core.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>
#include <random>
#include <set>

#include "connectors/mysql/mysql_client.h"
#include "connectors/mysql/tests/mysql_test_util.h"
#include "testing/gtest_util.h"
#include "testing/temp_dir.h"

namespace sluice::connectors::mysql::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;

// Opens a source of `yaml`, reads everything and returns the rows of stream 0.
class MysqlSourceTest : public ::testing::Test {
 protected:
  // The database outlives the source: its snapshot transactions would block DROP DATABASE.
  void SetUp() override {
    db_ = std::make_unique<TestDatabase>();
    if (!db_->ok())
      GTEST_SKIP() << "test servers not available (SLUICE_TEST_SERVERS_ENV)";
  }
  void TearDown() override {
    source_.reset();
    db_.reset();
  }

  Result<std::vector<ReadResult>> Read(const std::string& yaml, int parallelism = 1,
                                       BadRecordHandler* handler = nullptr) {
    SLUICE_ASSIGN_OR_RETURN(source_, MakeSource(yaml));
    context_ = MakeContext(handler != nullptr ? handler : &fail_, parallelism);
    SLUICE_RETURN_IF_ERROR(source_->Open(context_));
    return ReadAll(*source_);
  }

  std::unique_ptr<TestDatabase> db_;
  RecordAndFail fail_;
  JobContext context_;
  std::unique_ptr<Source> source_;
};

TEST_F(MysqlSourceTest, ReadsEveryTypeExactly) {
  TestDatabase& db = *db_;
  db.Exec(R"sql(
    CREATE TABLE t (
      id INT PRIMARY KEY,
      ti TINYINT, tb TINYINT(1), tu TINYINT UNSIGNED, si SMALLINT, su SMALLINT UNSIGNED,
      mi MEDIUMINT, mu MEDIUMINT UNSIGNED, i INT, iu INT UNSIGNED, bi BIGINT, bu BIGINT UNSIGNED,
      y YEAR, b3 BIT(3), b64 BIT(64), f FLOAT, d DOUBLE, dec1 DECIMAL(10,2), dec65 DECIMAL(65,30),
      c CHAR(3), vc VARCHAR(20), tx TEXT, e ENUM('a','b''c'), st SET('x','y','z'),
      bn BINARY(4), vb VARBINARY(10), bl BLOB, j JSON,
      dt DATE, tm TIME, tm3 TIME(3), dtm DATETIME, dtm6 DATETIME(6), ts TIMESTAMP(6) NULL,
      g GEOMETRY)
  )sql");
  db.Exec(R"sql(
    INSERT INTO t VALUES
    (1, -128, 1, 255, -32768, 65535, -8388608, 16777215, -2147483648, 4294967295,
     -9223372036854775808, 18446744073709551615, 2155, b'101', b'1111111111111111111111111111111111111111111111111111111111111111',
     -1.5e-38, 2.2250738585072014e-308, -12345678.91, '-12345678901234567890123456789012345.123456789012345678901234567891',
     'ab', 'Grüße 😀', 'line1\nline2\ttab\\', 'b''c', 'x,z',
     X'00FF0a0d', X'', X'000102FEFF', '{"a": [1, 2.5, "x"]}',
     '1000-01-01', '-838:59:59', '838:59:58.999', '9999-12-31 23:59:59', '2024-02-29 13:45:07.000123',
     '2038-01-19 03:14:07.999999', ST_GeomFromText('POINT(1 2)')),
    (2, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
     NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
     NULL, NULL, NULL, NULL, NULL),
    (3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1901, b'0', b'0', -0.0, 0.1, 0, 0, '', '', '', 'a', '',
     X'00000000', X'00', X'', 'null', '2000-01-01', '00:00:00', '-00:00:00.5', '1970-01-01 00:00:00',
     '1970-01-01 00:00:00', '1970-01-01 00:00:01', NULL)
  )sql");
  ASSERT_OK_AND_ASSIGN(std::vector<ReadResult> results, Read(db.ConnectionYaml() + "table: t\n"));
  ASSERT_EQ(results.size(), 1u);
  const Schema& schema = *source_->streams()[0].schema;
  EXPECT_EQ(schema.ToString(),
            "id int32 not null, ti int8, tb int8, tu uint8, si int16, su uint16, mi int32, mu "
            "uint32, i int32, iu uint32, bi int64, bu uint64, y int16, b3 uint64, b64 uint64, f "
            "float32, d float64, dec1 decimal(10,2), dec65 decimal(65,30), c string(3), vc "
            "string(20), tx string(65535), e string, st string, bn bytes(4), vb bytes(10), bl "
            "bytes(65535), j json, dt date, tm time(0), tm3 time(3), dtm timestamp(0), dtm6 "
            "timestamp, ts timestamp_tz, g bytes, primary key (id)");
  EXPECT_EQ(schema.field(2).native_type, "tinyint(1)");
  EXPECT_EQ(schema.field(22).native_type, "enum('a','b''c')");
  EXPECT_EQ(schema.field(13).native_type, "bit(3)");
  const std::vector<Row>& rows = results[0].rows;
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[0], (Row{"1",
                          "-128",
                          "1",
                          "255",
                          "-32768",
                          "65535",
                          "-8388608",
                          "16777215",
                          "-2147483648",
                          "4294967295",
                          "-9223372036854775808",
                          "18446744073709551615",
                          "2155",
                          "5",
                          "18446744073709551615",
                          "-1.5e-38#80a355e6",
                          "2.2250738585072014e-308#0010000000000000",
                          "-12345678.91",
                          "-12345678901234567890123456789012345.123456789012345678901234567891",
                          "ab",
                          "Grüße 😀",
                          "line1\nline2\ttab\\",
                          "b'c",
                          "x,z",
                          "\\x00ff0a0d",
                          "\\x",
                          "\\x000102feff",
                          "{\"a\": [1, 2.5, \"x\"]}",
                          "1000-01-01",
                          "-838:59:59",
                          "838:59:58.999",
                          "9999-12-31 23:59:59",
                          "2024-02-29 13:45:07.000123",
                          "2038-01-19 03:14:07.999999+00:00",
                          "\\x0101000000000000000000f03f0000000000000040"}));
  Row nulls(rows[1].size(), std::nullopt);
  nulls[0] = "2";
  EXPECT_EQ(rows[1], nulls);
  EXPECT_EQ(rows[2], (Row{"3",
                          "0",
                          "0",
                          "0",
                          "0",
                          "0",
                          "0",
                          "0",
                          "0",
                          "0",
                          "0",
                          "0",
                          "1901",
                          "0",
                          "0",
                          "0#00000000",
                          "0.1#3fb999999999999a",
                          "0.00",
                          "0.000000000000000000000000000000",
                          "",
                          "",
                          "",
                          "a",
                          "",
                          "\\x00000000",
                          "\\x00",
                          "\\x",
                          "null",
                          "2000-01-01",
                          "00:00:00",
                          "-00:00:00.5",
                          "1970-01-01 00:00:00",
                          "1970-01-01 00:00:00",
                          "1970-01-01 00:00:01+00:00",
                          std::nullopt}));
}

TEST_F(MysqlSourceTest, GeometryAsWkt) {
  TestDatabase& db = *db_;
  db.Exec(
      "CREATE TABLE t (id INT PRIMARY KEY, g GEOMETRY); "
      "INSERT INTO t VALUES (1, ST_GeomFromText('LINESTRING(0 0, 1 1.5)'))");
  ASSERT_OK_AND_ASSIGN(std::vector<ReadResult> results,
                       Read(db.ConnectionYaml() + "table: t\ngeometry: wkt\n"));
  EXPECT_EQ(source_->streams()[0].schema->field(1).type, DataType::String());
  EXPECT_THAT(results[0].rows, ElementsAre(Row{"1", "LINESTRING(0 0,1 1.5)"}));
}

TEST_F(MysqlSourceTest, MariaDbJsonColumnsAreJson) {
  TestDatabase& db = *db_;
  db.Exec("CREATE TABLE t (id INT PRIMARY KEY, j JSON, lt LONGTEXT)");
  ASSERT_OK_AND_ASSIGN(std::vector<ReadResult> results, Read(db.ConnectionYaml() + "table: t\n"));
  EXPECT_EQ(source_->streams()[0].schema->field(1).type, DataType::Json());
  EXPECT_EQ(source_->streams()[0].schema->field(2).type, DataType::String(4294967295u));
}

TEST_F(MysqlSourceTest, EmptyTable) {
  TestDatabase& db = *db_;
  db.Exec("CREATE TABLE t (id INT PRIMARY KEY, v TEXT)");
  ASSERT_OK_AND_ASSIGN(std::vector<ReadResult> results, Read(db.ConnectionYaml() + "table: t\n"));
  EXPECT_TRUE(results[0].rows.empty());
}

TEST_F(MysqlSourceTest, HugeValueArrivesWhole) {
  TestDatabase& db = *db_;
  db.Exec(
      "CREATE TABLE t (id INT PRIMARY KEY, b LONGBLOB, s LONGTEXT); "
      "INSERT INTO t VALUES (1, REPEAT(X'00FF7F', 5592406), REPEAT('é', 8388608)), "
      "(2, X'01', 'x')");
  ASSERT_OK_AND_ASSIGN(std::vector<ReadResult> results, Read(db.ConnectionYaml() + "table: t\n"));
  ASSERT_EQ(results[0].rows.size(), 2u);
  const std::string& blob = *results[0].rows[0][1];
  ASSERT_EQ(blob.size(), 2 + 5592406u * 6);  // "\x" + hex of 16,777,218 bytes
  EXPECT_EQ(blob.substr(0, 14), "\\x00ff7f00ff7f");
  EXPECT_EQ(blob.substr(blob.size() - 6), "00ff7f");
  EXPECT_EQ(results[0].rows[0][2]->size(), 16777216u);
  EXPECT_EQ(results[0].rows[1], (Row{"2", "\\x01", "x"}));
}

TEST_F(MysqlSourceTest, FourByteUtf8FromGemoji) {
  std::string datasets = sluice::testing::DatasetsDir();
  if (datasets.empty())
    GTEST_SKIP() << "datasets not available";
  TestDatabase& db = *db_;
  nlohmann::json emoji =
      nlohmann::json::parse(sluice::testing::ReadFileOrDie(datasets + "/gemoji/emoji.json"));
  ASSERT_TRUE(emoji.is_array());
  // Hex literals: the bytes reach the server untouched by any client-side escaping.
  std::string sql =
      "CREATE TABLE emoji (id INT PRIMARY KEY, emoji VARCHAR(16), description TEXT);\n";
  for (size_t i = 0; i < emoji.size(); ++i) {
    sql += i % 500 == 0 ? "INSERT INTO emoji VALUES " : ",";
    sql += fmt::format("({}, {}, {})", i + 1, Utf8Literal(emoji[i].value("emoji", "")),
                       Utf8Literal(emoji[i].value("description", "")));
    if (i % 500 == 499 || i + 1 == emoji.size())
      sql += ";\n";
  }
  sluice::testing::TempDir dir;
  sluice::testing::WriteFileOrDie(dir.Join("load.sql"), sql);
  ASSERT_OK(db.Load(dir.Join("load.sql")));
  std::string expected = db.Exec("SELECT id, emoji, description FROM emoji ORDER BY id");
  ASSERT_EQ(Lines(expected).size(), emoji.size());
  ASSERT_OK_AND_ASSIGN(std::vector<ReadResult> results,
                       Read(db.ConnectionYaml() + "table: emoji\nsplit_rows: 300\n", 1));
  std::string actual;
  size_t four_byte = 0;
  for (const Row& row : results[0].rows) {
    actual += fmt::format("{}\t{}\t{}\n", *row[0], *row[1], *row[2]);
    if (static_cast<unsigned char>((*row[1])[0]) >= 0xF0)
      ++four_byte;
  }
  EXPECT_EQ(actual, expected);
  EXPECT_GT(four_byte, 1000u);
  EXPECT_GT(results[0].split_rows.size(), 3u);
}

TEST_F(MysqlSourceTest, WhereAndColumnsArePushedDown) {
  TestDatabase& db = *db_;
  db.Exec(
      "CREATE TABLE t (id INT PRIMARY KEY, status VARCHAR(10), amount INT); "
      "INSERT INTO t SELECT seq, IF(seq % 3 = 0, 'paid', 'open'), seq * 10 FROM seq_1_to_3000");
  ASSERT_OK_AND_ASSIGN(
      std::vector<ReadResult> results,
      Read(db.ConnectionYaml() +
           "table: t\ncolumns: [amount, status]\nwhere: \"status = 'paid'\"\nsplit_rows: 100\n"));
  const Schema& schema = *source_->streams()[0].schema;
  EXPECT_EQ(schema.ToString(), "amount int32, status string(10)");  // the key is not selected
  ASSERT_EQ(results[0].rows.size(), 1000u);
  for (size_t i = 0; i < results[0].rows.size(); ++i) {
    EXPECT_EQ(results[0].rows[i], (Row{std::to_string((i + 1) * 30), "paid"}));
  }
  EXPECT_EQ(results[0].split_rows.size(), 10u);
}

TEST_F(MysqlSourceTest, TablesGlobAndStar) {
  TestDatabase& db = *db_;
  db.Exec(
      "CREATE TABLE log_a (id INT PRIMARY KEY); CREATE TABLE log_b (id INT PRIMARY KEY); "
      "CREATE TABLE other (id INT PRIMARY KEY); CREATE VIEW log_v AS SELECT * FROM log_a; "
      "INSERT INTO log_a VALUES (1), (2); INSERT INTO log_b VALUES (3)");
  ASSERT_OK_AND_ASSIGN(std::vector<ReadResult> results,
                       Read(db.ConnectionYaml() + "tables: [\"log_*\"]\n"));
  ASSERT_EQ(source_->streams().size(), 2u);
  EXPECT_EQ(source_->streams()[0].name, "log_a");
  EXPECT_EQ(source_->streams()[1].name, "log_b");
  EXPECT_EQ(results[0].rows.size(), 2u);
  EXPECT_EQ(results[1].rows.size(), 1u);
  ASSERT_OK_AND_ASSIGN(results, Read(db.ConnectionYaml() + "tables: [\"*\"]\n"));
  ASSERT_EQ(source_->streams().size(), 3u);  // the view is not a base table
  EXPECT_EQ(source_->streams()[2].name, "other");
}

TEST_F(MysqlSourceTest, GlobsSkipSluiceTablesThatNamesStillRead) {
  TestDatabase& db = *db_;
  db.Exec(
      "CREATE TABLE orders (id INT PRIMARY KEY); CREATE TABLE _sluice_progress (job "
      "VARBINARY(255), split_id VARBINARY(700), PRIMARY KEY (job, split_id)); "
      "CREATE TABLE _sluice_staging_orders (id INT PRIMARY KEY); "
      "INSERT INTO _sluice_progress VALUES ('j', 's')");
  ASSERT_OK(Read(db.ConnectionYaml() + "tables: [\"*\"]\n").status());
  ASSERT_EQ(source_->streams().size(), 1u);
  EXPECT_EQ(source_->streams()[0].name, "orders");
  ASSERT_OK_AND_ASSIGN(std::vector<ReadResult> results,
                       Read(db.ConnectionYaml() + "table: _sluice_progress\n"));
  EXPECT_EQ(results[0].rows.size(), 1u);
}

TEST_F(MysqlSourceTest, KeylessTableIsOneFullScan) {
  TestDatabase& db = *db_;
  db.Exec(
      "CREATE TABLE t (a INT, b VARCHAR(5), UNIQUE KEY (a)); "
      "INSERT INTO t SELECT seq, 'x' FROM seq_1_to_2500");
  ASSERT_OK_AND_ASSIGN(std::vector<ReadResult> results,
                       Read(db.ConnectionYaml() + "table: t\nsplit_rows: 100\n"));
  EXPECT_EQ(results[0].rows.size(), 2500u);
  EXPECT_EQ(results[0].split_rows.size(), 1u);  // the UNIQUE key allows NULL: not a key
  EXPECT_TRUE(source_->streams()[0].schema->primary_key().empty());
}

TEST_F(MysqlSourceTest, NotNullUniqueKeyIsUsed) {
  TestDatabase& db = *db_;
  db.Exec(
      "CREATE TABLE t (a INT NULL, code VARCHAR(8) NOT NULL, UNIQUE KEY uk_a (a), "
      "UNIQUE KEY uk_code (code)); "
      "INSERT INTO t SELECT seq, LPAD(seq, 8, '0') FROM seq_1_to_1000");
  ASSERT_OK_AND_ASSIGN(std::vector<ReadResult> results,
                       Read(db.ConnectionYaml() + "table: t\nsplit_rows: 100\n"));
  EXPECT_EQ(results[0].rows.size(), 1000u);
  EXPECT_EQ(results[0].split_rows.size(), 10u);
  EXPECT_EQ(source_->streams()[0].schema->primary_key(), std::vector<int>{1});
}

// Every row read exactly once; returns the rows per split.
void ExpectEveryRowOnce(const ReadResult& result, size_t expected_rows) {
  std::set<Row> seen;
  for (const Row& row : result.rows)
    EXPECT_TRUE(seen.insert(row).second) << *row[0];
  EXPECT_EQ(seen.size(), expected_rows);
}

TEST_F(MysqlSourceTest, SplitsUniformAndSkewedIntegerKeys) {
  TestDatabase& db = *db_;
  // 90% of the keys packed into a narrow range, the rest spread over a billion.
  db.Exec(
      "CREATE TABLE uniform (id BIGINT PRIMARY KEY, v INT); "
      "INSERT INTO uniform SELECT seq, seq FROM seq_1_to_20000; "
      "CREATE TABLE skewed (id BIGINT PRIMARY KEY, v INT); "
      "INSERT INTO skewed SELECT 1000000 + seq, seq FROM seq_1_to_18000; "
      "INSERT INTO skewed SELECT seq * 500000 + 7, seq FROM seq_1_to_2000 "
      "WHERE seq * 500000 + 7 NOT BETWEEN 1000001 AND 1018000");
  size_t skewed_rows = std::stoul(db.Exec("SELECT COUNT(*) FROM skewed"));
  ASSERT_OK_AND_ASSIGN(std::vector<ReadResult> results,
                       Read(db.ConnectionYaml() + "tables: [uniform, skewed]\nsplit_rows: 1000\n"
                                                  "page_rows: 300\n"));
  ExpectEveryRowOnce(results[0], 20000);
  ExpectEveryRowOnce(results[1], skewed_rows);
  for (const ReadResult& result : results) {
    for (size_t i = 0; i + 1 < result.split_rows.size(); ++i) {
      EXPECT_GE(result.split_rows[i], 500u);
      EXPECT_LE(result.split_rows[i], 2000u);
    }
  }
  EXPECT_EQ(results[1].split_rows.size(), (skewed_rows + 999) / 1000);
}

TEST_F(MysqlSourceTest, SplitsStringCompositeAndBinaryKeys) {
  TestDatabase& db = *db_;
  db.Exec(R"sql(
    CREATE TABLE s (k VARCHAR(40) PRIMARY KEY, v INT) COLLATE utf8mb4_unicode_ci;
    INSERT INTO s SELECT CONCAT(ELT(1 + seq % 6, '', 'O''Brien', 'zeta', 'Ärger', '東京', '😀'),
                         '-', seq), seq FROM seq_1_to_3000;
    INSERT INTO s VALUES ('back\\slash', 0), ('quote''s', 0), ('tab\there', 0);
    CREATE TABLE c (a VARCHAR(10), b INT, d DATE, v INT, PRIMARY KEY (a, b, d));
    INSERT INTO c SELECT ELT(1 + seq % 4, 'x', 'y', 'it''s', '🙂'), seq DIV 4,
                         '2024-01-01' + INTERVAL (seq % 7) DAY, seq FROM seq_1_to_4000;
    CREATE TABLE u (id BINARY(16) PRIMARY KEY, v INT);
    INSERT INTO u SELECT UNHEX(MD5(seq)), seq FROM seq_1_to_3000;
    INSERT INTO u VALUES (X'00000000000000000000000000000000', 0),
                         (X'FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF', 0);
  )sql");
  size_t composite_rows = std::stoul(db.Exec("SELECT COUNT(*) FROM c"));
  ASSERT_OK_AND_ASSIGN(std::vector<ReadResult> results,
                       Read(db.ConnectionYaml() + "tables: [s, c, u]\nsplit_rows: 250\n"
                                                  "page_rows: 100\n",
                            2));
  ExpectEveryRowOnce(results[0], 3003);
  ExpectEveryRowOnce(results[1], composite_rows);
  ExpectEveryRowOnce(results[2], 3002);
  for (const ReadResult& result : results) {
    EXPECT_GT(result.split_rows.size(), 10u);
    for (size_t i = 0; i + 1 < result.split_rows.size(); ++i) {
      EXPECT_EQ(result.split_rows[i], 250u);
    }
  }
  // Keys come out in the server's order (the collation's for strings).
  std::string expected = db.Exec("SELECT HEX(id) FROM u ORDER BY id");
  std::string actual;
  for (const Row& row : results[2].rows) {
    std::string hex = row[0]->substr(2);
    std::transform(hex.begin(), hex.end(), hex.begin(), ::toupper);
    actual += hex + "\n";
  }
  EXPECT_EQ(actual, expected);
}

TEST_F(MysqlSourceTest, EnumKeysFollowMemberOrder) {
  TestDatabase& db = *db_;
  db.Exec(
      "CREATE TABLE t (e ENUM('zulu', 'alpha', 'mike'), n INT, PRIMARY KEY (e, n)); "
      "INSERT INTO t SELECT ELT(1 + seq % 3, 'zulu', 'alpha', 'mike'), seq FROM seq_1_to_900");
  ASSERT_OK_AND_ASSIGN(std::vector<ReadResult> results,
                       Read(db.ConnectionYaml() + "table: t\nsplit_rows: 100\npage_rows: 40\n"));
  ExpectEveryRowOnce(results[0], 900);
  EXPECT_EQ(results[0].split_rows.size(), 9u);
}

TEST_F(MysqlSourceTest, ResumesAfterPosition) {
  TestDatabase& db = *db_;
  db.Exec(
      "CREATE TABLE t (id INT PRIMARY KEY, v INT); "
      "INSERT INTO t SELECT seq * 2, seq FROM seq_1_to_1000");
  ASSERT_OK_AND_ASSIGN(source_, MakeSource(db.ConnectionYaml() + "table: t\npage_rows: 70\n"));
  context_ = MakeContext(&fail_);
  ASSERT_OK(source_->Open(context_));
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<SplitEnumerator> splits, source_->CreateEnumerator());
  ASSERT_OK_AND_ASSIGN(std::optional<Split> split, splits->Next());
  ASSERT_TRUE(split.has_value());
  std::string position;
  {
    ASSERT_OK_AND_ASSIGN(std::unique_ptr<SplitReader> reader, source_->CreateReader(*split, ""));
    Batch batch(source_->streams()[0].schema, 100);
    ASSERT_OK_AND_ASSIGN(bool more, reader->ReadBatch(&batch));
    ASSERT_TRUE(more);
    position = reader->Position();
    EXPECT_EQ(position, "{\"after\":[\"200\"]}");
  }
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<SplitReader> reader,
                       source_->CreateReader(*split, position));
  Batch batch(source_->streams()[0].schema, 2000);
  ASSERT_OK_AND_ASSIGN(bool more, reader->ReadBatch(&batch));
  ASSERT_TRUE(more);
  ASSERT_EQ(batch.num_rows(), 900u);
  EXPECT_EQ(RowOf(batch, 0), (Row{"202", "101"}));
}

TEST_F(MysqlSourceTest, ZeroDatesFollowThePolicy) {
  TestDatabase& db = *db_;
  db.Exec(
      "SET SESSION sql_mode = ''; "
      "CREATE TABLE t (id INT PRIMARY KEY, d DATE NOT NULL, dt DATETIME(3), ts TIMESTAMP NULL); "
      "INSERT INTO t VALUES (1, '2020-01-02', '2020-01-02 03:04:05.600', '2020-01-02 03:04:05'), "
      "(2, '0000-00-00', '0000-00-00 00:00:00', '0000-00-00 00:00:00'), "
      "(3, '2020-00-15', '2021-02-00 10:00:00', NULL)");
  // error: the first zero date stops the read, naming table, key and column.
  Result<std::vector<ReadResult>> failed = Read(db.ConnectionYaml() + "table: t\n");
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.status().code(), StatusCode::kDataError);
  EXPECT_EQ(failed.status().message(),
            db.name() +
                ".t key=(2) column 'd': zero date '0000-00-00' (set zero_dates: null or "
                "string on the source)");
  ASSERT_EQ(fail_.records().size(), 1u);
  EXPECT_EQ(fail_.records()[0].location, db.name() + ".t key=(2)");
  EXPECT_EQ(fail_.records()[0].raw, "0000-00-00");
  // null: zero dates become NULL (and the columns nullable).
  ASSERT_OK_AND_ASSIGN(std::vector<ReadResult> results,
                       Read(db.ConnectionYaml() + "table: t\nzero_dates: \"null\"\n"));
  EXPECT_TRUE(source_->streams()[0].schema->field(1).nullable);
  EXPECT_THAT(results[0].rows, ElementsAre(Row{"1", "2020-01-02", "2020-01-02 03:04:05.6",
                                               "2020-01-02 03:04:05+00:00"},
                                           Row{"2", std::nullopt, std::nullopt, std::nullopt},
                                           Row{"3", std::nullopt, std::nullopt, std::nullopt}));
  // string: the date columns become strings carrying MySQL's text.
  ASSERT_OK_AND_ASSIGN(results, Read(db.ConnectionYaml() + "table: t\nzero_dates: string\n"));
  EXPECT_EQ(source_->streams()[0].schema->ToString(),
            "id int32 not null, d string not null, dt string, ts string, primary key (id)");
  EXPECT_THAT(results[0].rows,
              ElementsAre(Row{"1", "2020-01-02", "2020-01-02 03:04:05.600", "2020-01-02 03:04:05"},
                          Row{"2", "0000-00-00", "0000-00-00 00:00:00.000", "0000-00-00 00:00:00"},
                          Row{"3", "2020-00-15", "2021-02-00 10:00:00.000", std::nullopt}));
  // Skipping bad records drops just those rows.
  RecordAndSkip skip;
  ASSERT_OK_AND_ASSIGN(results, Read(db.ConnectionYaml() + "table: t\n", 1, &skip));
  EXPECT_EQ(results[0].rows.size(), 1u);
  EXPECT_EQ(skip.records().size(), 2u);
}

// The key after the last row of a batch or page is what the next page starts from; a skipped
// row counts as read wherever it falls. No row may come twice or go missing.
TEST_F(MysqlSourceTest, SkippedRowsAtPageAndBatchEndsAreReadOnce) {
  TestDatabase& db = *db_;
  std::string values;
  std::vector<Row> good;
  std::set<std::string> bad;
  for (int id = 1; id <= 40; ++id) {
    bool zero = id % 3 == 0 || id % 7 == 0 || id == 40;
    values += fmt::format("{}({}, '{}')", id == 1 ? "" : ", ", id,
                          zero ? "0000-00-00" : "2020-01-02");
    if (zero) {
      bad.insert(fmt::format("{}.t key=({})", db.name(), id));
    } else {
      good.push_back(Row{std::to_string(id), "2020-01-02"});
    }
  }
  db.Exec("SET SESSION sql_mode = ''; CREATE TABLE t (id INT PRIMARY KEY, d DATE NOT NULL); "
          "INSERT INTO t VALUES " + values);
  for (int page_rows : {1, 2, 3, 5}) {
    for (size_t batch_rows : {size_t{1}, size_t{2}, size_t{3}, size_t{7}}) {
      SCOPED_TRACE(fmt::format("page_rows {}, batch_rows {}", page_rows, batch_rows));
      RecordAndSkip skip;
      std::string yaml = db.ConnectionYaml() + fmt::format("table: t\npage_rows: {}\n", page_rows);
      ASSERT_OK_AND_ASSIGN(source_, MakeSource(yaml));
      context_ = MakeContext(&skip, 1, nullptr, batch_rows);
      ASSERT_OK(source_->Open(context_));
      ASSERT_OK_AND_ASSIGN(std::vector<ReadResult> results, ReadAll(*source_, batch_rows));
      EXPECT_EQ(results[0].rows, good);
      std::set<std::string> skipped;
      for (const auto& record : skip.records())
        EXPECT_TRUE(skipped.insert(record.location).second) << record.location << " twice";
      EXPECT_EQ(skipped, bad);
      source_.reset();
    }
  }
}

TEST_F(MysqlSourceTest, ZeroDatesInOpencart) {
  std::string datasets = sluice::testing::DatasetsDir();
  if (datasets.empty())
    GTEST_SKIP() << "datasets not available";
  TestDatabase& db = *db_;
  sluice::testing::TempDir dir;
  // The dump relies on a relaxed sql_mode for its zero dates.
  sluice::testing::WriteFileOrDie(
      dir.Join("load.sql"), "SET SESSION sql_mode = 'NO_AUTO_VALUE_ON_ZERO';\nSOURCE " + datasets +
                                "/opencart/opencart.sql;\n");
  ASSERT_OK(db.Load(dir.Join("load.sql")));
  std::string tables = "tables: [\"oc_*\"]\n";
  Result<std::vector<ReadResult>> failed = Read(db.ConnectionYaml() + tables);
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.status().code(), StatusCode::kDataError);
  EXPECT_THAT(failed.status().message(), HasSubstr("zero date '0000-00-00"));
  EXPECT_THAT(failed.status().message(),
              HasSubstr("(set zero_dates: null or string on the source)"));
  ASSERT_OK_AND_ASSIGN(std::vector<ReadResult> as_null,
                       Read(db.ConnectionYaml() + tables + "zero_dates: \"null\"\n"));
  ASSERT_OK_AND_ASSIGN(std::vector<ReadResult> as_string,
                       Read(db.ConnectionYaml() + tables + "zero_dates: string\n", 2));
  ASSERT_EQ(as_null.size(), as_string.size());
  size_t zero_strings = 0;
  for (size_t s = 0; s < as_string.size(); ++s) {
    EXPECT_EQ(as_null[s].rows.size(), as_string[s].rows.size()) << source_->streams()[s].name;
    for (const Row& row : as_string[s].rows) {
      for (const Cell& cell : row) {
        if (cell && cell->rfind("0000-00-00", 0) == 0)
          ++zero_strings;
      }
    }
  }
  EXPECT_GT(zero_strings, 0u);
}

TEST_F(MysqlSourceTest, ErrorsNameTheProblemAndNeverThePassword) {
  TestDatabase& db = *db_;
  db.Exec("CREATE TABLE t (id INT PRIMARY KEY)");
  const auto& mysql = db.servers().mysql;
  std::string endpoint = fmt::format("mysql {}:{}", mysql.host, mysql.port);
  struct Case {
    std::string yaml;
    StatusCode code;
    std::string message;
  };
  std::vector<Case> cases = {
      {fmt::format("host: {}\nport: {}\nuser: {}\npassword: wrong-secret\ndatabase: {}\ntable: t\n",
                   mysql.host, mysql.port, mysql.user, db.name()),
       StatusCode::kPermissionDenied,
       endpoint + ": access denied for user 'sluice' (check user and password)"},
      {fmt::format("host: no-such-host.invalid\nport: {}\nuser: {}\npassword: wrong-secret\n"
                   "database: {}\ntable: t\n",
                   mysql.port, mysql.user, db.name()),
       StatusCode::kNotFound,
       fmt::format("mysql no-such-host.invalid:{}: unknown host 'no-such-host.invalid'",
                   mysql.port)},
      {fmt::format("host: {}\nport: {}\nuser: {}\npassword: \"{}\"\ndatabase: no_such_db\n"
                   "table: t\n",
                   mysql.host, mysql.port, mysql.user, mysql.password),
       StatusCode::kNotFound, endpoint + ": unknown database 'no_such_db'"},
      {db.ConnectionYaml() + "table: missing\n", StatusCode::kNotFound,
       endpoint + ": table '" + db.name() + ".missing' does not exist (tables: t)"},
      {db.ConnectionYaml() + "table: t\ncolumns: [id, nope]\n", StatusCode::kInvalidConfig,
       "test.yaml:7:10: unknown column 'nope' in table '" + db.name() + ".t' (columns: id)"},
      {db.ConnectionYaml() + "table: t\nwhere: \"id >\"\n", StatusCode::kInvalidConfig, ""},
  };
  for (const Case& c : cases) {
    Result<std::vector<ReadResult>> result = Read(c.yaml);
    ASSERT_FALSE(result.ok()) << c.yaml;
    EXPECT_EQ(result.status().code(), c.code) << result.status().ToString();
    if (!c.message.empty()) {
      EXPECT_EQ(result.status().message(), c.message);
    }
    EXPECT_THAT(result.status().message(), Not(HasSubstr("wrong-secret")));
    EXPECT_THAT(result.status().message(), Not(HasSubstr(mysql.password)));
  }
  // Connection refused: a port nobody listens on.
  Result<std::vector<ReadResult>> refused = Read(fmt::format(
      "host: 127.0.0.1\nport: 1\nuser: u\npassword: wrong-secret\ndatabase: d\ntable: t\n"));
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), StatusCode::kUnavailable);
  EXPECT_THAT(refused.status().message(), HasSubstr("mysql 127.0.0.1:1: cannot connect: "));
}

TEST_F(MysqlSourceTest, MissingPrivilegeIsPermissionDenied) {
  TestDatabase& db = *db_;
  db.Exec(
      "CREATE TABLE t (id INT PRIMARY KEY); "
      "CREATE USER IF NOT EXISTS 'sluice_noselect'@'127.0.0.1' IDENTIFIED BY 'pw-noselect-1'; "
      "GRANT USAGE ON *.* TO 'sluice_noselect'@'127.0.0.1'");
  const auto& mysql = db.servers().mysql;
  Result<std::vector<ReadResult>> result = Read(fmt::format(
      "host: {}\nport: {}\nuser: sluice_noselect\npassword: pw-noselect-1\ndatabase: {}\n"
      "table: t\n",
      mysql.host, mysql.port, db.name()));
  db.Exec("DROP USER 'sluice_noselect'@'127.0.0.1'");
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(result.status().message(),
            fmt::format("mysql {}:{}: Access denied for user 'sluice_noselect'@'127.0.0.1' to "
                        "database '{}' (error 1044)",
                        mysql.host, mysql.port, db.name()));
  EXPECT_THAT(result.status().message(), Not(HasSubstr("pw-noselect-1")));
}

}  // namespace
}  // namespace sluice::connectors::mysql::testing
