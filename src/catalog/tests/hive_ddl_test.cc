// HiveTypeOf, the storage classes per format, and the HiveQL text of tables and partitions:
// quoting, escaping, non-ASCII names, Hive's partition names.
#include <gtest/gtest.h>

#include "catalog/hive_ddl.h"
#include "catalog/hive_table.h"

namespace sluice::catalog {
namespace {

TEST(HiveTypeOfTest, MapsEverySluiceType) {
  EXPECT_EQ(HiveTypeOf(DataType::Bool()), "boolean");
  EXPECT_EQ(HiveTypeOf(DataType::Int8()), "tinyint");
  EXPECT_EQ(HiveTypeOf(DataType::Int16()), "smallint");
  EXPECT_EQ(HiveTypeOf(DataType::Int32()), "int");
  EXPECT_EQ(HiveTypeOf(DataType::Int64()), "bigint");
  EXPECT_EQ(HiveTypeOf(DataType::Float32()), "float");
  EXPECT_EQ(HiveTypeOf(DataType::Float64()), "double");
  EXPECT_EQ(HiveTypeOf(DataType::String()), "string");
  EXPECT_EQ(HiveTypeOf(DataType::String(40)), "string");
  EXPECT_EQ(HiveTypeOf(DataType::Json()), "string");
  EXPECT_EQ(HiveTypeOf(DataType::Bytes()), "binary");
  EXPECT_EQ(HiveTypeOf(DataType::Date()), "date");
  EXPECT_EQ(HiveTypeOf(DataType::Timestamp(3)), "timestamp");
  EXPECT_EQ(HiveTypeOf(DataType::TimestampTz()), "timestamp");
  EXPECT_EQ(HiveTypeOf(DataType::Time()), "string");
  EXPECT_EQ(HiveTypeOf(DataType::Null()), "string");
}

TEST(HiveTypeOfTest, UnsignedIntegersTakeTheNextWiderSignedType) {
  EXPECT_EQ(HiveTypeOf(DataType::UInt8()), "smallint");
  EXPECT_EQ(HiveTypeOf(DataType::UInt16()), "int");
  EXPECT_EQ(HiveTypeOf(DataType::UInt32()), "bigint");
  EXPECT_EQ(HiveTypeOf(DataType::UInt64()), "decimal(20,0)");
}

TEST(HiveTypeOfTest, DecimalsBeyondHivesRangeBecomeText) {
  EXPECT_EQ(HiveTypeOf(DataType::Decimal(12, 2)), "decimal(12,2)");
  EXPECT_EQ(HiveTypeOf(DataType::Decimal(38, 38)), "decimal(38,38)");
  EXPECT_EQ(HiveTypeOf(DataType::Decimal(1, 0)), "decimal(1,0)");
  EXPECT_EQ(HiveTypeOf(DataType::Decimal(39, 2)), "string");
  EXPECT_EQ(HiveTypeOf(DataType::Decimal(65, 30)), "string");
  EXPECT_EQ(HiveTypeOf(DataType::Decimal(0, 0)), "string");  // unconstrained
  EXPECT_EQ(HiveTypeOf(DataType::Decimal(5, -2)), "string");
}

TEST(HiveStorageTest, ClassesPerFormatAndBack) {
  HiveStorageClasses parquet = StorageClassesOf(HiveFileFormat::kParquet);
  EXPECT_EQ(parquet.input_format, "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat");
  EXPECT_EQ(parquet.output_format,
            "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat");
  EXPECT_EQ(parquet.serde, "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe");
  HiveStorageClasses avro = StorageClassesOf(HiveFileFormat::kAvro);
  EXPECT_EQ(avro.input_format, "org.apache.hadoop.hive.ql.io.avro.AvroContainerInputFormat");
  EXPECT_EQ(avro.output_format, "org.apache.hadoop.hive.ql.io.avro.AvroContainerOutputFormat");
  EXPECT_EQ(avro.serde, "org.apache.hadoop.hive.serde2.avro.AvroSerDe");
  EXPECT_EQ(FileFormatOfSerde(parquet.serde), HiveFileFormat::kParquet);
  EXPECT_EQ(FileFormatOfSerde(avro.serde), HiveFileFormat::kAvro);
  EXPECT_EQ(FileFormatOfSerde("org.apache.hadoop.hive.ql.io.orc.OrcSerde"), std::nullopt);
}

TEST(HiveQuotingTest, IdentifiersDoubleBackticks) {
  EXPECT_EQ(QuoteHiveIdentifier("orders"), "`orders`");
  EXPECT_EQ(QuoteHiveIdentifier("my`col"), "`my``col`");
  EXPECT_EQ(QuoteHiveIdentifier("``"), "``````");
  EXPECT_EQ(QuoteHiveIdentifier("order date"), "`order date`");
  EXPECT_EQ(QuoteHiveIdentifier(""), "``");
}

TEST(HiveQuotingTest, StringLiteralsEscapeQuotesBackslashesAndControlCharacters) {
  EXPECT_EQ(QuoteHiveString("plain"), "'plain'");
  EXPECT_EQ(QuoteHiveString("it's"), "'it\\'s'");
  EXPECT_EQ(QuoteHiveString("C:\\data"), "'C:\\\\data'");
  EXPECT_EQ(QuoteHiveString("a\nb\tc\rd"), "'a\\nb\\tc\\rd'");
  EXPECT_EQ(QuoteHiveString("say \"hi\""), "'say \"hi\"'");
  EXPECT_EQ(QuoteHiveString(""), "''");
}

HiveTableSpec EventsSpec() {
  HiveTableSpec spec;
  spec.database = "shop";
  spec.table = "events";
  spec.columns = {{"id", "bigint"}, {"name", "string"}, {"amount", "decimal(12,2)"}};
  spec.partition_keys = {{"dt", "string"}, {"hr", "string"}};
  spec.location = "hdfs://nn:8020/warehouse/events";
  return spec;
}

TEST(CreateTableDdlTest, ExternalPartitionedParquet) {
  EXPECT_EQ(CreateTableDdl(EventsSpec()),
            "CREATE EXTERNAL TABLE IF NOT EXISTS `shop`.`events` (`id` bigint, `name` string, "
            "`amount` decimal(12,2)) PARTITIONED BY (`dt` string, `hr` string) STORED AS PARQUET "
            "LOCATION 'hdfs://nn:8020/warehouse/events'");
}

TEST(CreateTableDdlTest, AvroWithCommentsAndWithoutPartitions) {
  HiveTableSpec spec = EventsSpec();
  spec.format = HiveFileFormat::kAvro;
  spec.partition_keys.clear();
  spec.columns = {{"id", "bigint", "the order's id"}};
  spec.comment = "orders from 'shop'";
  EXPECT_EQ(CreateTableDdl(spec),
            "CREATE EXTERNAL TABLE IF NOT EXISTS `shop`.`events` (`id` bigint COMMENT "
            "'the order\\'s id') COMMENT 'orders from \\'shop\\'' STORED AS AVRO "
            "LOCATION 'hdfs://nn:8020/warehouse/events'");
}

TEST(CreateTableDdlTest, ManagedTableWithoutLocation) {
  HiveTableSpec spec = EventsSpec();
  spec.external = false;
  spec.location.clear();
  spec.partition_keys.clear();
  spec.columns = {{"id", "bigint"}};
  EXPECT_EQ(CreateTableDdl(spec),
            "CREATE TABLE IF NOT EXISTS `shop`.`events` (`id` bigint) STORED AS PARQUET");
}

TEST(CreateTableDdlTest, QuotesOddAndNonAsciiNames) {
  HiveTableSpec spec;
  spec.database = "mag`asin";
  spec.table = "bestellungen_größe";
  spec.columns = {{"straße", "string"}, {"注文番号", "bigint"}, {"a`b", "int"}};
  spec.partition_keys = {{"día", "date"}};
  spec.location = "s3a://bucket/o'brien/größe";
  EXPECT_EQ(CreateTableDdl(spec),
            "CREATE EXTERNAL TABLE IF NOT EXISTS `mag``asin`.`bestellungen_größe` (`straße` "
            "string, `注文番号` bigint, `a``b` int) PARTITIONED BY (`día` date) STORED AS PARQUET "
            "LOCATION 's3a://bucket/o\\'brien/größe'");
}

TEST(AddPartitionDdlTest, ValuesPairWithKeysInOrder) {
  HiveTableSpec spec = EventsSpec();
  HivePartitionSpec partition = {{"2026-12-04", "09"},
                                 "hdfs://nn:8020/warehouse/events/dt=2026-12-04/hr=09"};
  EXPECT_EQ(AddPartitionDdl("shop", "events", spec.partition_keys, partition),
            "ALTER TABLE `shop`.`events` ADD IF NOT EXISTS PARTITION (`dt`='2026-12-04', "
            "`hr`='09') LOCATION 'hdfs://nn:8020/warehouse/events/dt=2026-12-04/hr=09'");
}

TEST(AddPartitionDdlTest, EscapesValuesAndOmitsAnEmptyLocation) {
  EXPECT_EQ(AddPartitionDdl("db", "t`x", {{"région", "string"}}, {{"Île-d'France"}, ""}),
            "ALTER TABLE `db`.`t``x` ADD IF NOT EXISTS PARTITION (`région`='Île-d\\'France')");
}

TEST(HivePartitionNameTest, KeyEqualsValueJoinedBySlashes) {
  std::vector<HiveColumn> keys = {{"dt", "string"}, {"hr", "string"}};
  EXPECT_EQ(HivePartitionName(keys, {"2026-12-04", "09"}), "dt=2026-12-04/hr=09");
}

TEST(HivePartitionNameTest, EscapesWhatHiveEscapesAndLowerCasesKeys) {
  std::vector<HiveColumn> keys = {{"Region", "string"}, {"path", "string"}};
  EXPECT_EQ(HivePartitionName(keys, {"a/b=c", "x:y%z#?*"}),
            "region=a%2Fb%3Dc/path=x%3Ay%25z%23%3F%2A");
  EXPECT_EQ(HivePartitionName(keys, {"größe", "tab\there"}), "region=größe/path=tab%09here");
  EXPECT_EQ(HivePartitionName(keys, {"", "x"}), "region=__HIVE_DEFAULT_PARTITION__/path=x");
}

}  // namespace
}  // namespace sluice::catalog
