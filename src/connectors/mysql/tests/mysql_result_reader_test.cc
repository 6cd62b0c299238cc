// ResultReader against the real MariaDB: values decoded straight from the packet (raw mode) are
// the very values the client library's bound buffers give (bound mode), for every type, NULLs,
// zero dates under each policy and values longer than a bound buffer.
#include "connectors/mysql/mysql_result_reader.h"

#include <fmt/core.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <string>
#include <vector>

#include "connectors/mysql/mysql_client.h"
#include "connectors/mysql/mysql_types.h"
#include "connectors/mysql/tests/mysql_test_util.h"
#include "core/value_text.h"
#include "testing/gtest_util.h"

namespace sluice::connectors::mysql::testing {
namespace {

ConnectionOptions Options(const TestDatabase& db) {
  ConnectionOptions options;
  options.host = db.servers().mysql.host;
  options.port = db.servers().mysql.port;
  options.user = db.servers().mysql.user;
  options.password = Secret(db.servers().mysql.password);
  options.database = db.name();
  return options;
}

struct Read {
  bool raw = false;
  std::vector<Row> rows;                 // appended values (canonical text)
  std::vector<std::string> statuses;     // Append's status per value, "" when OK
  std::vector<std::string> texts;        // AppendText of every non-null value
  std::vector<std::string> raw_texts;    // AppendRawText of every value
  std::vector<std::string> integer_ids;  // AppendText of the key
};

Read ReadTable(const TestDatabase& db, const std::vector<SourceColumn>& columns,
               ZeroDates zero_dates, bool raw_allowed) {
  Read out;
  std::vector<const SourceColumn*> pointers;
  std::vector<Field> fields;
  std::string select;
  for (const SourceColumn& column : columns) {
    pointers.push_back(&column);
    fields.push_back(Field{column.info.name, column.type, true});
    select += (select.empty() ? "" : ", ") + column.select_expression;
  }
  Result<Connection> connection = Connection::Open(Options(db));
  EXPECT_OK(connection.status());
  if (!connection.ok())
    return out;
  Result<Statement> statement =
      Statement::Prepare(*connection, fmt::format("SELECT {} FROM t ORDER BY id", select), "t");
  EXPECT_OK(statement.status());
  if (!statement.ok())
    return out;
  ResultReader reader(pointers, zero_dates);
  reader.set_raw_allowed(raw_allowed);
  EXPECT_OK(reader.Start(&*statement, "reading t"));
  out.raw = reader.raw();
  Batch batch(std::make_shared<Schema>(fields), 1000);  // more than any test table holds
  for (;;) {
    Result<bool> next = reader.Next();
    EXPECT_OK(next.status());
    if (!next.ok() || !*next || batch.full())
      break;
    std::string id;
    reader.AppendText(0, &id);
    out.integer_ids.push_back(id);
    bool row_ok = true;
    for (size_t c = 0; c < columns.size(); ++c) {
      Status status = reader.Append(c, &batch.column(c));
      out.statuses.push_back(status.ok() ? "" : status.ToString());
      row_ok = row_ok && status.ok();
      std::string text;
      if (!reader.IsNull(c))
        reader.AppendText(c, &text);
      out.texts.push_back(text);
      std::string raw_text;
      reader.AppendRawText(c, &raw_text);
      out.raw_texts.push_back(raw_text);
    }
    if (row_ok) {
      batch.FinishRow();
    } else {
      batch.DiscardPartialRow();
    }
  }
  for (size_t r = 0; r < batch.num_rows(); ++r)
    out.rows.push_back(RowOf(batch, r));
  return out;
}

TEST(MysqlResultReaderTest, RawAndBoundModesReadTheSameValues) {
  MYSQL_TEST_DATABASE(db);
  // The declared types, as information_schema would give them to MapSourceColumn.
  const std::vector<std::pair<std::string, std::string>> declared = {
      {"id", "int(11)"},
      {"ti", "tinyint(4)"},
      {"tu", "tinyint(3) unsigned"},
      {"si", "smallint(6)"},
      {"su", "smallint(5) unsigned"},
      {"mi", "mediumint(9)"},
      {"mu", "mediumint(8) unsigned"},
      {"iu", "int(10) unsigned"},
      {"bi", "bigint(20)"},
      {"bu", "bigint(20) unsigned"},
      {"y", "year(4)"},
      {"b3", "bit(3)"},
      {"b64", "bit(64)"},
      {"f", "float"},
      {"d", "double"},
      {"dec1", "decimal(10,2)"},
      {"dec65", "decimal(65,30)"},
      {"c", "char(3)"},
      {"vc", "varchar(20)"},
      {"tx", "text"},
      {"lt", "longtext"},
      {"e", "enum('a','b''c')"},
      {"st", "set('x','y','z')"},
      {"bn", "binary(4)"},
      {"vb", "varbinary(10)"},
      {"bl", "longblob"},
      {"j", "json"},
      {"dt", "date"},
      {"tm", "time"},
      {"tm3", "time(3)"},
      {"dtm", "datetime"},
      {"dtm6", "datetime(6)"},
      {"ts", "timestamp(6)"},
      {"g", "geometry"},
  };
  db.Exec(R"sql(
    CREATE TABLE t (
      id INT PRIMARY KEY, ti TINYINT, tu TINYINT UNSIGNED, si SMALLINT, su SMALLINT UNSIGNED,
      mi MEDIUMINT, mu MEDIUMINT UNSIGNED, iu INT UNSIGNED, bi BIGINT, bu BIGINT UNSIGNED,
      y YEAR, b3 BIT(3), b64 BIT(64), f FLOAT, d DOUBLE, dec1 DECIMAL(10,2), dec65 DECIMAL(65,30),
      c CHAR(3), vc VARCHAR(20), tx TEXT, lt LONGTEXT, e ENUM('a','b''c'), st SET('x','y','z'),
      bn BINARY(4), vb VARBINARY(10), bl LONGBLOB, j JSON,
      dt DATE, tm TIME, tm3 TIME(3), dtm DATETIME, dtm6 DATETIME(6), ts TIMESTAMP(6) NULL,
      g GEOMETRY)
  )sql");
  db.Exec(R"sql(
    SET SESSION sql_mode = '';
    INSERT INTO t VALUES
    (1, -128, 255, -32768, 65535, -8388608, 16777215, 4294967295, -9223372036854775808,
     18446744073709551615, 2155, b'101', b'1111111111111111111111111111111111111111111111111111111111111111',
     -1.5e-38, 2.2250738585072014e-308, -12345678.91,
     '-12345678901234567890123456789012345.123456789012345678901234567891',
     'ab', 'Grüße 😀', 'line1\nline2\ttab\\', REPEAT('long 😀 text ', 3000), 'b''c', 'x,z',
     X'00FF0a0d', X'', REPEAT(X'00FF', 20000), '{"a": [1, 2.5, "x"]}',
     '1000-01-01', '-838:59:59', '838:59:58.999', '9999-12-31 23:59:59',
     '2024-02-29 13:45:07.000123', '2038-01-19 03:14:07.999999', ST_GeomFromText('POINT(1 2)')),
    (2, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
     NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
     NULL, NULL, NULL, NULL),
    (3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1901, b'0', b'0', -0.0, 0.1, 0, 0, '', '', '', '', 'a', '',
     X'00000000', X'00', X'', 'null', '0000-00-00', '00:00:00', '-00:00:00.5',
     '0000-00-00 00:00:00', '2020-00-15 10:00:00', '1970-01-01 00:00:01', NULL),
    (4, 127, 1, 32767, 1, 8388607, 1, 1, 9223372036854775807, 1, 0, b'1', b'10', 3.4e38,
     -1e300, 99999999.99, 1, 'xyz', REPEAT('v', 20), 'x', 'x', '', 'x,y,z', X'FFFFFFFF',
     X'01', X'02', '[]', '2020-02-30', '12:00:00.25', '-00:00:01', '2020-02-30 00:00:00',
     '0001-01-01 00:00:00.000001', '2000-01-01 00:00:00', ST_GeomFromText('LINESTRING(0 0, 1 1)'))
  )sql");
  for (ZeroDates zero_dates : {ZeroDates::kError, ZeroDates::kNull, ZeroDates::kString}) {
    SCOPED_TRACE(static_cast<int>(zero_dates));
    std::vector<SourceColumn> columns;
    for (const auto& [name, type] : declared) {
      std::optional<ColumnInfo> info = ParseColumnType(type);
      ASSERT_TRUE(info.has_value()) << type;
      info->name = name;
      info->json = name == "j";
      columns.push_back(MapSourceColumn(*info, zero_dates, GeometryFormat::kWkb, nullptr));
    }
    Read raw = ReadTable(db, columns, zero_dates, true);
    Read bound = ReadTable(db, columns, zero_dates, false);
    EXPECT_TRUE(raw.raw);
    EXPECT_FALSE(bound.raw);
    ASSERT_EQ(raw.rows.size(), bound.rows.size());
    EXPECT_GE(raw.rows.size(), zero_dates == ZeroDates::kError ? 2u : 4u);
    for (size_t r = 0; r < raw.rows.size(); ++r)
      EXPECT_EQ(raw.rows[r], bound.rows[r]) << "row " << r;
    EXPECT_EQ(raw.statuses, bound.statuses);
    EXPECT_EQ(raw.texts, bound.texts);
    EXPECT_EQ(raw.raw_texts, bound.raw_texts);
    EXPECT_EQ(raw.integer_ids, bound.integer_ids);
    EXPECT_EQ(raw.integer_ids, (std::vector<std::string>{"1", "2", "3", "4"}));
  }
}

// Decimals are read by a short path for the server's own spelling; every value must still be
// the one the server prints.
TEST(MysqlResultReaderTest, DecimalsAreTheServersValues) {
  MYSQL_TEST_DATABASE(db);
  const std::vector<std::pair<std::string, std::string>> declared = {
      {"id", "int(11)"},          {"d2", "decimal(12,2)"},  {"d0", "decimal(18,0)"},
      {"d18", "decimal(18,18)"},  {"d5", "decimal(5,5)"},   {"d20", "decimal(20,4)"},
      {"d38", "decimal(38,10)"},  {"d1", "decimal(1,0)"},
  };
  db.Exec(
      "CREATE TABLE t (id INT PRIMARY KEY, d2 DECIMAL(12,2), d0 DECIMAL(18,0), "
      "d18 DECIMAL(18,18), d5 DECIMAL(5,5), d20 DECIMAL(20,4), d38 DECIMAL(38,10), "
      "d1 DECIMAL(1,0))");
  std::mt19937_64 random(12);
  auto digits = [&](int count) {
    std::string out;
    for (int i = 0; i < count; ++i)
      out += static_cast<char>('0' + random() % 10);
    return out.empty() ? std::string("0") : out;
  };
  std::string insert = "INSERT INTO t VALUES ";
  for (int row = 1; row <= 500; ++row) {
    auto value = [&](int integer, int fraction) {
      std::string text = random() % 2 ? "-" : "";
      text += digits(static_cast<int>(random() % (integer + 1)));
      if (fraction > 0)
        text += "." + digits(static_cast<int>(random() % (fraction + 1)));
      return row % 50 == 0 ? std::string("NULL") : text;
    };
    insert += fmt::format("{}({}, {}, {}, {}, {}, {}, {}, {})", row == 1 ? "" : ", ", row,
                          value(10, 2), value(18, 0), value(0, 18), value(0, 5), value(16, 4),
                          value(28, 10), value(1, 0));
  }
  db.Exec(insert);
  std::vector<SourceColumn> columns;
  for (const auto& [name, type] : declared) {
    std::optional<ColumnInfo> info = ParseColumnType(type);
    ASSERT_TRUE(info.has_value()) << type;
    info->name = name;
    columns.push_back(MapSourceColumn(*info, ZeroDates::kError, GeometryFormat::kWkb, nullptr));
  }
  Read read = ReadTable(db, columns, ZeroDates::kError, true);
  ASSERT_EQ(read.rows.size(), 500u);
  std::vector<std::string> printed =
      Lines(db.Exec("SELECT CONCAT_WS('|', id, IFNULL(d2, 'N'), IFNULL(d0, 'N'), "
                    "IFNULL(d18, 'N'), IFNULL(d5, 'N'), IFNULL(d20, 'N'), IFNULL(d38, 'N'), "
                    "IFNULL(d1, 'N')) FROM t"));
  std::vector<std::string> read_back;
  for (const Row& row : read.rows) {
    std::string line;
    for (const Cell& cell : row) {
      if (!line.empty())
        line += '|';
      line += cell.value_or("N");
    }
    read_back.push_back(line);
  }
  std::sort(read_back.begin(), read_back.end());
  std::sort(printed.begin(), printed.end());
  EXPECT_EQ(read_back, printed);
}

}  // namespace
}  // namespace sluice::connectors::mysql::testing
