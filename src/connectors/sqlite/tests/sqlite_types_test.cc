#include "connectors/sqlite/sqlite_types.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <limits>
#include <random>

#include "connectors/sqlite/sqlite_catalog.h"
#include "core/decimal.h"
#include "core/temporal.h"

namespace sluice::connectors::sqlite {
namespace {

TEST(SqliteTypesTest, DeclaredTypesReadBackAsTheirLogicalType) {
  struct Case {
    DataType written;
    std::string declared;
    DataType read;
  };
  const Case cases[] = {
      {DataType::Bool(), "BOOLEAN", DataType::Bool()},
      {DataType::Int8(), "TINYINT", DataType::Int64()},
      {DataType::Int16(), "SMALLINT", DataType::Int64()},
      {DataType::Int32(), "INTEGER", DataType::Int64()},
      {DataType::Int64(), "BIGINT", DataType::Int64()},
      {DataType::UInt8(), "INTEGER", DataType::Int64()},
      {DataType::UInt16(), "INTEGER", DataType::Int64()},
      {DataType::UInt32(), "BIGINT", DataType::Int64()},
      {DataType::UInt64(), "UNSIGNED64_TEXT", DataType::UInt64()},
      {DataType::Float32(), "FLOAT32", DataType::Float32()},
      {DataType::Float64(), "DOUBLE", DataType::Float64()},
      {DataType::Decimal(12, 2), "DECIMAL_TEXT(12,2)", DataType::Decimal(12, 2)},
      {DataType::Decimal(65, 30), "DECIMAL_TEXT(65,30)", DataType::Decimal(65, 30)},
      {DataType::Decimal(0, 0), "DECIMAL_TEXT", DataType::Decimal(0, 0)},
      {DataType::String(), "TEXT", DataType::String()},
      {DataType::String(40), "VARCHAR(40)", DataType::String(40)},
      {DataType::Bytes(), "BLOB", DataType::Bytes()},
      {DataType::Date(), "DATE", DataType::Date()},
      {DataType::Time(), "TIME", DataType::Time()},
      {DataType::Timestamp(), "DATETIME", DataType::Timestamp()},
      {DataType::TimestampTz(), "TIMESTAMPTZ", DataType::TimestampTz()},
      {DataType::Json(), "JSON_TEXT", DataType::Json()},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.written.ToString());
    EXPECT_EQ(DeclaredType(c.written), c.declared);
    EXPECT_EQ(LogicalType(c.declared), c.read);
  }
}

TEST(SqliteTypesTest, SinkTypesHaveAffinitiesThatKeepValues) {
  // Values that numeric affinity would alter must land in TEXT-affinity columns.
  EXPECT_EQ(AffinityOf(DeclaredType(DataType::UInt64())), Affinity::kText);
  EXPECT_EQ(AffinityOf(DeclaredType(DataType::Decimal(65, 30))), Affinity::kText);
  EXPECT_EQ(AffinityOf(DeclaredType(DataType::Decimal(0, 0))), Affinity::kText);
  EXPECT_EQ(AffinityOf(DeclaredType(DataType::Json())), Affinity::kText);
  EXPECT_EQ(AffinityOf(DeclaredType(DataType::String(3))), Affinity::kText);
  EXPECT_EQ(AffinityOf(DeclaredType(DataType::Float32())), Affinity::kReal);
  EXPECT_EQ(AffinityOf(DeclaredType(DataType::Float64())), Affinity::kReal);
  EXPECT_EQ(AffinityOf(DeclaredType(DataType::Bytes())), Affinity::kBlob);
  EXPECT_EQ(AffinityOf(DeclaredType(DataType::Int64())), Affinity::kInteger);
  EXPECT_EQ(AffinityOf(""), Affinity::kBlob);
  EXPECT_EQ(AffinityOf("DATETIME"), Affinity::kNumeric);
}

TEST(SqliteTypesTest, ForeignDeclaredTypesFollowTheRulesInOrder) {
  struct Case {
    std::string declared;
    DataType read;
  };
  const Case cases[] = {
      {"bool", DataType::Bool()},
      {"Boolean", DataType::Bool()},
      {"json", DataType::Json()},
      {"timestamp", DataType::Timestamp()},
      {"TIMESTAMP WITH TIME ZONE", DataType::TimestampTz()},
      {"datetime", DataType::Timestamp()},
      {"date", DataType::Date()},
      {"time", DataType::Time()},
      {"UNSIGNED BIG INT", DataType::Int64()},
      {"MEDIUMINT", DataType::Int64()},
      {"INT8", DataType::Int64()},
      {"NUMERIC(10,2)", DataType::Decimal(10, 2)},
      {"decimal(7)", DataType::Decimal(7, 0)},
      {"DECIMAL", DataType::Decimal(0, 0)},
      {"NUMERIC", DataType::Decimal(0, 0)},
      {"NVARCHAR(160)", DataType::String(160)},
      {"CHARACTER(20)", DataType::String(20)},
      {"VARYING CHARACTER(255)", DataType::String(255)},
      {"NATIVE CHARACTER(70)", DataType::String(70)},
      {"CLOB", DataType::String()},
      {"text", DataType::String()},
      {"blob", DataType::Bytes()},
      {"REAL", DataType::Float64()},
      {"FLOAT", DataType::Float64()},
      {"DOUBLE PRECISION", DataType::Float64()},
      {"", DataType::String()},
      {"MONEY", DataType::String()},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(LogicalType(c.declared), c.read) << "declared '" << c.declared << "'";
  }
}

TEST(SqliteTypesTest, CreateTableQuotesNamesAndDeclaresKeys) {
  Schema schema({{"id", DataType::Int64(), false},
                 {"na\"me", DataType::String(10), true},
                 {"amount", DataType::Decimal(12, 2), false}},
                {0});
  EXPECT_EQ(CreateTableSql("my \"table\"", schema, true),
            "CREATE TABLE IF NOT EXISTS \"my \"\"table\"\"\" (\"id\" INTEGER NOT NULL, "
            "\"na\"\"me\" VARCHAR(10), \"amount\" DECIMAL_TEXT(12,2) NOT NULL, "
            "PRIMARY KEY (\"id\"))");
}

TEST(SqliteTypesTest, OnlyANotNullIntegerKeyBecomesTheRowid) {
  Schema keyed({{"id", DataType::Int32(), false}, {"v", DataType::Int64(), true}}, {0});
  EXPECT_EQ(RowidKeyColumn(keyed), 0);
  EXPECT_EQ(CreateTableSql("t", keyed, false),
            "CREATE TABLE \"t\" (\"id\" INTEGER NOT NULL, \"v\" BIGINT, PRIMARY KEY (\"id\"))");
  Schema nullable({{"id", DataType::Int64(), true}}, {0});
  EXPECT_EQ(RowidKeyColumn(nullable), -1);
  EXPECT_EQ(CreateTableSql("t", nullable, false),
            "CREATE TABLE \"t\" (\"id\" BIGINT, PRIMARY KEY (\"id\"))");
  Schema unsigned64({{"id", DataType::UInt64(), false}}, {0});
  EXPECT_EQ(RowidKeyColumn(unsigned64), -1);
  Schema composite({{"a", DataType::Int64(), false}, {"b", DataType::Int64(), false}}, {0, 1});
  EXPECT_EQ(RowidKeyColumn(composite), -1);
  Schema text_key({{"k", DataType::String(), false}}, {0});
  EXPECT_EQ(RowidKeyColumn(text_key), -1);
}

TEST(SqliteTypesTest, RenameCreateTableSqlKeepsTheDefinition) {
  struct Case {
    std::string stored;
    std::string renamed;
  };
  const Case cases[] = {
      {"CREATE TABLE t (a INTEGER, b TEXT)", "CREATE TABLE \"s\" (a INTEGER, b TEXT)"},
      {"CREATE TABLE \"odd (name\"\"\" (a)", "CREATE TABLE \"s\" (a)"},
      {"CREATE TABLE [Album]\n(\n  [AlbumId] INTEGER NOT NULL\n)",
       "CREATE TABLE \"s\" (\n  [AlbumId] INTEGER NOT NULL\n)"},
      {"CREATE TABLE IF NOT EXISTS `t`(a) WITHOUT ROWID", "CREATE TABLE \"s\" (a) WITHOUT ROWID"},
      {"CREATE TABLE main.t /* note */ (a) STRICT", "CREATE TABLE \"s\" (a) STRICT"},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(RenameCreateTableSql(c.stored, "s").value_or("<none>"), c.renamed) << c.stored;
  }
  EXPECT_FALSE(RenameCreateTableSql("CREATE VIEW v AS SELECT 1", "s").has_value());
}

TEST(SqliteTypesTest, CompatibilityWarnsOnlyWhereAffinityWouldAlterValues) {
  EXPECT_THAT(CompatibilityWarning(DataType::UInt64(), "INTEGER"),
              ::testing::HasSubstr("approximate REAL"));
  EXPECT_THAT(CompatibilityWarning(DataType::Decimal(20, 4), "NUMERIC(20,4)"),
              ::testing::HasSubstr("15 significant digits"));
  EXPECT_EQ(CompatibilityWarning(DataType::Decimal(20, 4), "DECIMAL_TEXT(20,4)"), "");
  EXPECT_EQ(CompatibilityWarning(DataType::String(), "INTEGER"), "");
  EXPECT_EQ(CompatibilityWarning(DataType::Int64(), "TEXT"), "");
}

}  // namespace
}  // namespace sluice::connectors::sqlite
