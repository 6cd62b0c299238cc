// The MySQL type mapping without a server: spellings, target types, literals MySQL reads back.
#include "connectors/mysql/mysql_types.h"

#include <fmt/core.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "connectors/mysql/mysql_client.h"
#include "core/temporal.h"
#include "core/value_text.h"
#include "testing/gtest_util.h"

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
  EXPECT_EQ(CreateTableSql("db", "t`x", keyed, true, TableCollations{}),
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
  EXPECT_FALSE(AppendMysqlTime((838LL * 3600 + 60 * 60) * kMicrosPerSecond, &out));
  EXPECT_FALSE(AppendMysqlDate(kDateInfinity, &out));
  EXPECT_FALSE(AppendMysqlDate(static_cast<int32_t>(DaysFromCivil(10000, 1, 1)), &out));
}

// Issue 10: a TIME of 838:59:59.999999 read from MariaDB was refused on its way into MariaDB as
// "outside MySQL's range": MariaDB's TIME range goes to 838:59:59.999999.
TEST(MysqlTypesTest, Issue10TimeRangeIncludesMariadbsFraction) {
  constexpr int64_t kLast = (838LL * 3600 + 59 * 60 + 59) * kMicrosPerSecond + 999'999;
  std::string out;
  ASSERT_TRUE(AppendMysqlTime(kLast, &out));
  EXPECT_EQ(out, "838:59:59.999999");
  out.clear();
  ASSERT_TRUE(AppendMysqlTime(-kLast, &out));
  EXPECT_EQ(out, "-838:59:59.999999");
  out.clear();
  EXPECT_FALSE(AppendMysqlTime(kLast + 1, &out));
  EXPECT_FALSE(AppendMysqlTime(-kLast - 1, &out));
}

ColumnInfo TargetColumn(const std::string& column_type, const std::string& name = "c") {
  ColumnInfo info = ParseColumnType(column_type).value_or(ColumnInfo{});
  info.name = name;
  return info;
}

// Issue 10: MySQL rounds or cuts these values without an error even in strict mode. Columns
// that cannot hold any value of the stream's type exactly are a config error; columns that
// cannot hold some values get a warning, and the values are checked one by one.
TEST(MysqlTypesTest, Issue10PlanColumnWriteRefusesColumnsThatWouldChangeValues) {
  struct Refused {
    DataType incoming;
    const char* target;
  };
  for (const Refused& c : std::initializer_list<Refused>{
           {DataType::Float64(), "float"},
           {DataType::Int32(), "float"},
           {DataType::Int64(), "double"},
           {DataType::UInt64(), "double"},
           {DataType::Decimal(12, 2), "double"},
       }) {
    Result<ColumnWrite> write = PlanColumnWrite(c.incoming, TargetColumn(c.target, "v"));
    ASSERT_FALSE(write.ok()) << c.target;
    EXPECT_EQ(write.status().code(), StatusCode::kInvalidConfig);
    EXPECT_THAT(write.status().message(),
                ::testing::StartsWith(fmt::format(
                    "column 'v' is {}, which cannot hold the stream's {} values exactly", c.target,
                    c.incoming.ToString())));
  }
  for (const auto& [incoming, target] : std::initializer_list<std::pair<DataType, const char*>>{
           {DataType::Float32(), "float"},
           {DataType::Int16(), "float"},
           {DataType::Float64(), "double"},
           {DataType::Int32(), "double"},
           {DataType::String(), "float"},
           {DataType::Decimal(10, 3), "decimal(5,2)"},
           {DataType::Timestamp(6), "datetime"},
       }) {
    EXPECT_TRUE(PlanColumnWrite(incoming, TargetColumn(target)).ok()) << target;
  }
  ASSERT_OK_AND_ASSIGN(ColumnWrite narrow,
                       PlanColumnWrite(DataType::Decimal(10, 3), TargetColumn("decimal(5,2)")));
  EXPECT_EQ(narrow.decimal_scale, 2);
  EXPECT_EQ(NarrowingWarning(DataType::Decimal(10, 3), narrow),
            "decimal(10,3) values with digits beyond the 2 fractional digits of decimal(5,2) "
            "would be rounded by MySQL: they are refused as data errors");
  ASSERT_OK_AND_ASSIGN(ColumnWrite same,
                       PlanColumnWrite(DataType::Decimal(12, 2), TargetColumn("decimal(12,2)")));
  EXPECT_FALSE(same.checks_values());
  ASSERT_OK_AND_ASSIGN(ColumnWrite year, PlanColumnWrite(DataType::Int16(), TargetColumn("year")));
  EXPECT_EQ(year.load, ColumnLoad::kYear);
}

TEST(MysqlTypesTest, Issue10ValueChangeNamesEveryValueMysqlWouldAlter) {
  struct Case {
    DataType incoming;
    const char* target;
    const char* value;
    const char* change;  // "" when the value arrives unchanged
  };
  for (const Case& c : std::initializer_list<Case>{
           {DataType::Decimal(10, 3), "decimal(5,2)", "1.005",
            "1.005 would be rounded to fit decimal(5,2)"},
           {DataType::Decimal(10, 3), "decimal(5,2)", "-0.125",
            "-0.125 would be rounded to fit decimal(5,2)"},
           {DataType::Decimal(10, 3), "decimal(5,2)", "1.010", ""},
           {DataType::Decimal(0, 0), "decimal(5,2)", "1.00500", "1.00500 would be rounded to fit "
                                                                "decimal(5,2)"},
           {DataType::Float64(), "decimal(5,2)", "0.125", "0.125 would be rounded to fit "
                                                          "decimal(5,2)"},
           {DataType::Float64(), "decimal(5,2)", "1e-07", "1e-07 would be rounded to fit "
                                                          "decimal(5,2)"},
           {DataType::Float64(), "decimal(5,2)", "0.5", ""},
           {DataType::Float64(), "int", "2.5", "2.5 would be rounded to fit int"},
           {DataType::Float64(), "bigint", "1e+15", ""},
           {DataType::String(), "decimal(5,2)", "1.005", "1.005 would be rounded to fit "
                                                         "decimal(5,2)"},
           {DataType::String(), "decimal(5,2)", "abc", ""},  // the server refuses it
           {DataType::Timestamp(6), "datetime", "2024-01-01 10:00:00.7",
            "2024-01-01 10:00:00.7 has more fractional seconds than datetime keeps"},
           {DataType::Timestamp(6), "datetime(3)", "2024-01-01 10:00:00.123", ""},
           {DataType::Time(6), "time(3)", "838:59:59.999999",
            "838:59:59.999999 has more fractional seconds than time(3) keeps"},
           {DataType::Timestamp(6), "date", "2024-01-01 10:00:00",
            "2024-01-01 10:00:00 has a time of day, which a date column would drop"},
           {DataType::Timestamp(6), "date", "2024-01-01 00:00:00", ""},
           {DataType::Int16(), "year", "0", ""},
           {DataType::Int16(), "year", "2155", ""},
           {DataType::Int32(), "year", "5",
            "5 is outside MySQL's year range (0, 1901..2155); MySQL would store 2005"},
           {DataType::Int32(), "year", "99",
            "99 is outside MySQL's year range (0, 1901..2155); MySQL would store 1999"},
           {DataType::Int32(), "year", "1900",
            "1900 is outside MySQL's year range (0, 1901..2155)"},
           {DataType::Float64(), "double", "-0",
            "MySQL and MariaDB store a float's -0 as 0 (set negative_zero: zero to accept that)"},
           {DataType::Float32(), "float", "-0",
            "MySQL and MariaDB store a float's -0 as 0 (set negative_zero: zero to accept that)"},
           {DataType::Float64(), "double", "0", ""},
       }) {
    ASSERT_OK_AND_ASSIGN(ColumnWrite write, PlanColumnWrite(c.incoming, TargetColumn(c.target)));
    auto schema = std::make_shared<Schema>(std::vector<Field>{{"v", c.incoming, true}});
    Batch batch(schema, 1);
    ASSERT_OK(AppendParsedValue(c.value, &batch.column(0)));
    batch.FinishRow();
    EXPECT_TRUE(write.checks_values() || std::string(c.change).empty()) << c.value;
    EXPECT_EQ(ValueChange(batch.column(0), 0, write, false), c.change)
        << c.value << " into " << c.target;
  }
  ASSERT_OK_AND_ASSIGN(ColumnWrite write,
                       PlanColumnWrite(DataType::Float64(), TargetColumn("double")));
  auto schema = std::make_shared<Schema>(std::vector<Field>{{"v", DataType::Float64(), true}});
  Batch batch(schema, 1);
  ASSERT_OK(AppendParsedValue("-0", &batch.column(0)));
  batch.FinishRow();
  EXPECT_EQ(ValueChange(batch.column(0), 0, write, /*negative_zero_as_zero=*/true), "");
}

// Issue 10: keys distinct in the source ('a', 'A', 'a ', 'ä') collapsed in tables whose key
// columns took the database's default collation.
TEST(MysqlTypesTest, Issue10KeyCollationsKeepSourceKeysApart) {
  EXPECT_TRUE(IsNoPadBinaryCollation("utf8mb4_nopad_bin"));
  EXPECT_TRUE(IsNoPadBinaryCollation("utf8mb4_0900_bin"));
  EXPECT_TRUE(IsNoPadBinaryCollation("latin1_nopad_bin"));
  EXPECT_FALSE(IsNoPadBinaryCollation("utf8mb4_bin"));
  EXPECT_FALSE(IsNoPadBinaryCollation("utf8mb4_general_ci"));
  EXPECT_FALSE(IsNoPadBinaryCollation("utf8mb4_0900_ai_ci"));
  // Sources that compare bytes (PostgreSQL, files: no source collation).
  EXPECT_TRUE(CollationKeepsKeysApart("utf8mb4_nopad_bin", ""));
  EXPECT_FALSE(CollationKeepsKeysApart("utf8mb4_bin", ""));
  EXPECT_FALSE(CollationKeepsKeysApart("utf8mb4_general_ci", ""));
  // MySQL sources: the same collation, or a finer one.
  EXPECT_TRUE(CollationKeepsKeysApart("utf8mb4_general_ci", "utf8mb4_general_ci"));
  EXPECT_TRUE(CollationKeepsKeysApart("utf8mb4_bin", "utf8mb4_general_ci"));
  EXPECT_TRUE(CollationKeepsKeysApart("utf8mb4_nopad_bin", "utf8mb4_general_ci"));
  EXPECT_FALSE(CollationKeepsKeysApart("utf8mb4_general_ci", "utf8mb4_bin"));
  EXPECT_FALSE(CollationKeepsKeysApart("utf8mb4_bin", "utf8mb4_0900_ai_ci"));  // NO PAD source
  EXPECT_FALSE(CollationKeepsKeysApart("utf8mb4_unicode_ci", "utf8mb4_general_ci"));

  Schema schema({{"code", DataType::String(10), false, "", ""},
                 {"name", DataType::String(), false, "", ""},
                 {"note", DataType::String(), true, "", ""}},
                {0, 1});
  TableCollations collations;
  collations.key_collation = "utf8mb4_nopad_bin";
  EXPECT_EQ(CreateTableSql("db", "t", schema, false, collations),
            "CREATE TABLE `db`.`t` (`code` VARCHAR(10) CHARACTER SET utf8mb4 COLLATE "
            "utf8mb4_nopad_bin NOT NULL, `name` VARCHAR(758) CHARACTER SET utf8mb4 COLLATE "
            "utf8mb4_nopad_bin NOT NULL, `note` LONGTEXT NULL, PRIMARY KEY (`code`, `name`))");
  // A MySQL source's key keeps its collation when the server has it.
  Schema mysql({{"code", DataType::String(10), false, "varchar(10)", "latin1_swedish_ci"},
                {"id", DataType::Int32(), false, "int(11)", ""}},
               {0, 1});
  collations.known = {"utf8mb4_nopad_bin", "latin1_swedish_ci"};
  EXPECT_EQ(CreateTableSql("db", "t", mysql, false, collations),
            "CREATE TABLE `db`.`t` (`code` varchar(10) CHARACTER SET latin1 COLLATE "
            "latin1_swedish_ci NOT NULL, `id` int(11) NOT NULL, PRIMARY KEY (`code`, `id`))");
  collations.known = {"utf8mb4_nopad_bin"};
  EXPECT_EQ(KeyColumnCollation(mysql.field(0), "varchar(10)", collations), "utf8mb4_nopad_bin");
  EXPECT_EQ(KeyColumnCollation(mysql.field(1), "int(11)", collations), "");
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
