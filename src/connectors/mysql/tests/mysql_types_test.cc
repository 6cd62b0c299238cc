// The MySQL type mapping without a server: spellings, target types, literals MySQL reads back.
#include "connectors/mysql/mysql_types.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "connectors/mysql/mysql_client.h"
#include "core/temporal.h"

namespace sluice::connectors::mysql {
namespace {

DataType MappedType(const std::string& column_type, ZeroDates zero_dates = ZeroDates::kError) {
  std::optional<ColumnInfo> info = ParseColumnType(column_type);
  EXPECT_TRUE(info.has_value()) << column_type;
  if (!info)
    return DataType::Null();
  return MapSourceColumn(*info, zero_dates, GeometryFormat::kWkb, nullptr).type;
}

TEST(MysqlTypesTest, SpellingsMapToTheirLogicalTypes) {
  struct Case {
    std::string spelling;
    DataType type;
  };
  std::vector<Case> cases = {
      {"tinyint(1)", DataType::Int8()},
      {"tinyint(3) unsigned", DataType::UInt8()},
      {"smallint unsigned", DataType::UInt16()},
      {"mediumint(8) unsigned", DataType::UInt32()},
      {"int(11)", DataType::Int32()},
      {"bigint(20) unsigned", DataType::UInt64()},
      {"year(4)", DataType::Int16()},
      {"bit(3)", DataType::UInt64()},
      {"float", DataType::Float32()},
      {"double", DataType::Float64()},
      {"decimal(65,30)", DataType::Decimal(65, 30)},
      {"decimal", DataType::Decimal(10, 0)},
      {"varchar(20)", DataType::String(20)},
      {"char(3)", DataType::String(3)},
      {"text", DataType::String(65535)},
      {"longtext", DataType::String(4294967295u)},
      {"enum('a','b')", DataType::String()},
      {"binary(16)", DataType::Bytes(16)},
      {"blob", DataType::Bytes(65535)},
      {"json", DataType::Json()},
      {"date", DataType::Date()},
      {"time(3)", DataType::Time(3)},
      {"datetime(6)", DataType::Timestamp(6)},
      {"timestamp", DataType::TimestampTz(0)},
      {"point", DataType::Bytes()},
  };
  for (const Case& c : cases)
    EXPECT_EQ(MappedType(c.spelling), c.type) << c.spelling;
  EXPECT_EQ(MappedType("datetime(3)", ZeroDates::kString), DataType::String());
  EXPECT_FALSE(ParseColumnType("character varying(20)").has_value());
  EXPECT_FALSE(ParseColumnType("INTEGER PRIMARY KEY AUTOINCREMENT").has_value());
}

TEST(MysqlTypesTest, EnumMembersAreUnescaped) {
  EXPECT_THAT(ParseMembers("enum('a','b''c','d\\\\e','')"),
              ::testing::ElementsAre("a", "b'c", "d\\e", ""));
  EXPECT_THAT(ParseMembers("set('x','y,z')"), ::testing::ElementsAre("x", "y,z"));
}

TEST(MysqlTypesTest, TargetTypesReuseMysqlSpellingsOnlyWhenTheyFit) {
  Schema schema(
      {
          {"id", DataType::Int32(), false, "int(11)"},
          {"flag", DataType::Int8(), true, "tinyint(1)"},
          {"e", DataType::String(), true, "enum('a','b')"},
          {"body", DataType::String(65535), true, "text"},
          {"pg_text", DataType::String(), true, "text"},         // another database's text
          {"sqlite_int", DataType::Int64(), true, "INTEGER"},    // SQLite's spelling
          {"pg_ts", DataType::Timestamp(6), true, "timestamp"},  // PostgreSQL: no zone
          {"d", DataType::String(), true, "date"},               // zero_dates: string
          {"g", DataType::String(), true, "geometry"},           // geometry: wkt
          {"when", DataType::TimestampTz(3), true, ""},
          {"wide", DataType::Decimal(0, 0), true, ""},
          {"t", DataType::Time(6), true, ""},
          {"b", DataType::Bool(), true, ""},
          {"u", DataType::UInt64(), true, ""},
          {"j", DataType::Json(), true, ""},
      },
      {0});
  EXPECT_THAT(TargetColumnTypes(schema),
              ::testing::ElementsAre("int(11)", "tinyint(1)", "enum('a','b')", "text", "LONGTEXT",
                                     "BIGINT", "DATETIME(6)", "date", "geometry", "DATETIME(3)",
                                     "LONGTEXT", "TIME(6)", "BOOLEAN", "BIGINT UNSIGNED", "JSON"));
}

TEST(MysqlTypesTest, KeyColumnsGetIndexableTypesAndWideRowsStayUnderTheLimit) {
  Schema keyed({{"name", DataType::String(), false, "text"},
                {"raw", DataType::Bytes(), false, ""},
                {"v1", DataType::String(10000), true, ""},
                {"v2", DataType::String(10000), true, ""},
                {"small", DataType::String(20), true, ""},
                {"vb", DataType::Bytes(200), true, ""}},
               {0, 1});
  // The two unbounded key columns share InnoDB's 3,072 key bytes.
  EXPECT_THAT(TargetColumnTypes(keyed),
              ::testing::ElementsAre("VARCHAR(384)", "VARBINARY(1536)", "VARCHAR(10000)",
                                     "LONGTEXT", "VARCHAR(20)", "VARBINARY(200)"));
  EXPECT_EQ(CreateTableSql("db", "t`x", keyed, true, false),
            "CREATE TABLE IF NOT EXISTS `db`.`t``x` (`name` VARCHAR(384) NOT NULL, `raw` "
            "VARBINARY(1536) NOT NULL, `v1` VARCHAR(10000) NULL, `v2` LONGTEXT NULL, `small` "
            "VARCHAR(20) NULL, `vb` VARBINARY(200) NULL, PRIMARY KEY (`name`, `raw`))");
  // One unbounded key column takes what the others leave; alone it gets the most.
  Schema text_and_bigint(
      {{"region", DataType::String(), false, ""}, {"seq", DataType::Int64(), false, ""}}, {0, 1});
  EXPECT_THAT(TargetColumnTypes(text_and_bigint), ::testing::ElementsAre("VARCHAR(766)", "BIGINT"));
  Schema short_and_long(
      {{"code", DataType::String(10), false, ""}, {"name", DataType::String(), false, ""}}, {0, 1});
  EXPECT_THAT(TargetColumnTypes(short_and_long),
              ::testing::ElementsAre("VARCHAR(10)", "VARCHAR(758)"));
  Schema alone({{"name", DataType::String(), false, ""}}, {0});
  EXPECT_THAT(TargetColumnTypes(alone), ::testing::ElementsAre("VARCHAR(768)"));
}

TEST(MysqlTypesTest, TemporalTextIsWhatMysqlReadsBack) {
  std::string out;
  ASSERT_TRUE(AppendMysqlDate(static_cast<int32_t>(DaysFromCivil(0, 1, 1)), &out));
  EXPECT_EQ(out, "0000-01-01");
  out.clear();
  ASSERT_TRUE(AppendMysqlDateTime(-1, &out));
  EXPECT_EQ(out, "1969-12-31 23:59:59.999999");
  out.clear();
  ASSERT_TRUE(AppendMysqlTime(-(838LL * 3600 + 59 * 60 + 59) * kMicrosPerSecond, &out));
  EXPECT_EQ(out, "-838:59:59");
  out.clear();
  EXPECT_FALSE(AppendMysqlTime(839LL * 3600 * kMicrosPerSecond, &out));
  EXPECT_FALSE(AppendMysqlDate(kDateInfinity, &out));
  EXPECT_FALSE(AppendMysqlDate(static_cast<int32_t>(DaysFromCivil(10000, 1, 1)), &out));
}

TEST(MysqlTypesTest, LiteralsAndErrorMapping) {
  EXPECT_EQ(QuoteIdentifier("a`b"), "`a``b`");
  EXPECT_EQ(Utf8Literal("it's \\"), "_utf8mb4 X'69742773205C'");
  EXPECT_EQ(BinaryLiteral(std::string("\0\xff", 2)), "X'00FF'");
  ConnectionOptions options;
  options.host = "db.example";
  options.port = 3307;
  options.user = "app";
  options.password = Secret("s3cret-pass");
  Status denied = MysqlStatus(1045, "Access denied for user 'app'@'10.0.0.1' (using password: YES)",
                              options, "");
  EXPECT_EQ(denied.code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(denied.message(),
            "mysql db.example:3307: access denied for user 'app' (check user and password)");
  Status echoed = MysqlStatus(1064, "near 's3cret-pass' at line 1", options, "reading t");
  EXPECT_EQ(echoed.code(), StatusCode::kInvalidConfig);
  EXPECT_EQ(echoed.message(),
            "mysql db.example:3307: reading t: near '**REDACTED**' at line 1 (error 1064)");
  EXPECT_EQ(MysqlStatus(1213, "Deadlock found", options, "").code(), StatusCode::kAborted);
  EXPECT_EQ(MysqlStatus(1205, "Lock wait timeout", options, "").code(), StatusCode::kAborted);
  EXPECT_EQ(MysqlStatus(2013, "Lost connection", options, "").code(), StatusCode::kUnavailable);
  EXPECT_EQ(MysqlStatus(1366, "Incorrect integer value", options, "").code(),
            StatusCode::kDataError);
  EXPECT_EQ(MysqlStatus(1227, "Access denied; you need (at least one of) the RELOAD privilege",
                        options, "")
                .message(),
            "mysql db.example:3307: Access denied; you need (at least one of) the RELOAD "
            "privilege (error 1227)");
}

}  // namespace
}  // namespace sluice::connectors::mysql
