// HivePartitioner: partition directories from event times (hour, day; before 1970, NULL,
// infinite) and values (escaped as Hive escapes path names), and the file schema.
#include "connectors/hive/hive_partitioner.h"

#include "catalog/hive_ddl.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "testing/gtest_util.h"
#include "testing/memory_connector.h"

namespace sluice::connectors::hive {
namespace {

SchemaPtr Schema3(DataType time_type) {
  return std::make_shared<Schema>(std::vector<Field>{
      {"id", DataType::Int64(), false}, {"at", time_type, true}, {"k", DataType::String(), true}});
}

std::unique_ptr<Batch> OneRow(SchemaPtr schema, sluice::testing::Row row) {
  auto batch = std::make_unique<Batch>(schema, 1);
  sluice::testing::AppendRow(row, batch.get());
  return batch;
}

HiveSinkOptions WithTime(TimeGranularity every, std::vector<std::string> values = {}) {
  HiveSinkOptions options;
  options.time_partition = TimePartitioning{"at", every};
  options.partition_by = std::move(values);
  return options;
}

TEST(HivePartitionerTest, HoursAndDaysInUtcIncludingBefore1970) {
  SchemaPtr schema = Schema3(DataType::TimestampTz());
  ASSERT_OK_AND_ASSIGN(HivePartitioner hourly,
                       HivePartitioner::Make(schema, WithTime(TimeGranularity::kHour)));
  ASSERT_OK_AND_ASSIGN(HivePartitioner daily,
                       HivePartitioner::Make(schema, WithTime(TimeGranularity::kDay)));
  std::unique_ptr<Batch> late = OneRow(schema, {"1", "2026-12-04 23:59:59.999999+00", "x"});
  EXPECT_EQ(hourly.PathOf(*late, 0), "dt=2026-12-04/hr=23");
  EXPECT_EQ(daily.PathOf(*late, 0), "dt=2026-12-04");
  std::unique_ptr<Batch> zoned = OneRow(schema, {"1", "2026-12-05 01:30:00+02", "x"});
  EXPECT_EQ(hourly.PathOf(*zoned, 0), "dt=2026-12-04/hr=23");
  std::unique_ptr<Batch> old = OneRow(schema, {"1", "1969-12-31 23:30:00+00", "x"});
  EXPECT_EQ(hourly.PathOf(*old, 0), "dt=1969-12-31/hr=23");
  std::unique_ptr<Batch> null_time = OneRow(schema, {"1", std::nullopt, "x"});
  EXPECT_EQ(hourly.PathOf(*null_time, 0),
            "dt=__HIVE_DEFAULT_PARTITION__/hr=__HIVE_DEFAULT_PARTITION__");
  std::unique_ptr<Batch> infinite = OneRow(schema, {"1", "infinity", "x"});
  EXPECT_EQ(daily.PathOf(*infinite, 0), "dt=__HIVE_DEFAULT_PARTITION__");
  ASSERT_TRUE(hourly.StartOfPath("dt=2026-12-04/hr=23").has_value());
  EXPECT_EQ(*hourly.StartOfPath("dt=2026-12-04/hr=23"), *hourly.TimeOf(*late, 0) / 3600000000 * 3600000000);
  EXPECT_FALSE(hourly.StartOfPath("dt=__HIVE_DEFAULT_PARTITION__/hr=__HIVE_DEFAULT_PARTITION__"));
}

TEST(HivePartitionerTest, DatesAndWallClockTimestampsPartitionToo) {
  SchemaPtr dates = Schema3(DataType::Date());
  ASSERT_OK_AND_ASSIGN(HivePartitioner daily,
                       HivePartitioner::Make(dates, WithTime(TimeGranularity::kDay)));
  EXPECT_EQ(daily.PathOf(*OneRow(dates, {"1", "2024-02-29", "x"}), 0), "dt=2024-02-29");
  SchemaPtr wall = Schema3(DataType::Timestamp());
  ASSERT_OK_AND_ASSIGN(HivePartitioner hourly,
                       HivePartitioner::Make(wall, WithTime(TimeGranularity::kHour)));
  EXPECT_EQ(hourly.PathOf(*OneRow(wall, {"1", "2026-01-01 00:00:00", "x"}), 0),
            "dt=2026-01-01/hr=00");
}

TEST(HivePartitionerTest, ValuesAreEscapedAsHiveDoesAndLeftOutOfTheFiles) {
  SchemaPtr schema = Schema3(DataType::TimestampTz());
  ASSERT_OK_AND_ASSIGN(HivePartitioner partitioner,
                       HivePartitioner::Make(schema, WithTime(TimeGranularity::kDay, {"k"})));
  EXPECT_THAT(partitioner.keys(), ::testing::ElementsAre("dt", "k"));
  EXPECT_TRUE(partitioner.drops_columns());
  EXPECT_EQ(partitioner.file_schema()->num_fields(), 2u);
  EXPECT_THAT(partitioner.file_columns(), ::testing::ElementsAre(0, 1));
  std::unique_ptr<Batch> batch = OneRow(schema, {"1", "2026-12-04 00:00:00+00", "a/b=c:d%e ü\n"});
  std::string path = partitioner.PathOf(*batch, 0);
  EXPECT_EQ(path, "dt=2026-12-04/k=a%2Fb%3Dc%3Ad%25e ü%0A");
  EXPECT_THAT(PartitionValues(path), ::testing::ElementsAre("2026-12-04", "a/b=c:d%e ü\n"));
  std::unique_ptr<Batch> null_value = OneRow(schema, {"1", "2026-12-04 00:00:00+00", std::nullopt});
  EXPECT_EQ(partitioner.PathOf(*null_value, 0), "dt=2026-12-04/k=__HIVE_DEFAULT_PARTITION__");
  EXPECT_EQ(catalog::EscapeHivePathName("plain-text_1.5"), "plain-text_1.5");
}

TEST(HivePartitionerTest, UnpartitionedKeepsEveryColumn) {
  SchemaPtr schema = Schema3(DataType::TimestampTz());
  ASSERT_OK_AND_ASSIGN(HivePartitioner partitioner, HivePartitioner::Make(schema, {}));
  EXPECT_FALSE(partitioner.partitioned());
  EXPECT_FALSE(partitioner.drops_columns());
  EXPECT_EQ(partitioner.file_schema(), schema);
  EXPECT_EQ(partitioner.PathOf(*OneRow(schema, {"1", std::nullopt, "x"}), 0), "");
}

}  // namespace
}  // namespace sluice::connectors::hive
