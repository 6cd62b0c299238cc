// The hive sink registering its table and partitions in a real Hive metastore (the `metastore`
// fixture): the table as the metastore has it, every partition a file was published in, and a
// second run that finds them registered already.
#include <fmt/core.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "catalog/hive_metastore_client.h"
#include "connectors/hive/tests/hive_table_driver.h"
#include "testing/gtest_util.h"
#include "testing/temp_dir.h"
#include "testing/test_servers.h"

namespace sluice::connectors::hive {
namespace {

TEST(HiveMetastoreTest, RegistersTheTableAndEveryPartition) {
  ASSERT_OK_AND_ASSIGN(sluice::testing::TestServers servers,
                       sluice::testing::TestServers::FromEnvironment());
  sluice::testing::TempDir dir;
  std::string database = fmt::format("sluice_hive_{}", ::getpid());
  ASSERT_OK_AND_ASSIGN(
      HiveSinkOptions options,
      testing::ParseSinkOptions(
          dir.Join("events"),
          fmt::format("time_partition_column: ts, metastore: '{}', database: {}, table: events",
                      servers.metastore.uri, database)));
  ASSERT_OK(testing::WriteEventsWithACrash(options, "metastore-job"));
  ASSERT_OK_AND_ASSIGN(catalog::HiveMetastoreClient client,
                       catalog::HiveMetastoreClient::Connect(servers.metastore.uri));
  ASSERT_OK_AND_ASSIGN(catalog::HiveTableSpec table, client.GetTable(database, "events"));
  EXPECT_EQ(table.format, catalog::HiveFileFormat::kParquet);
  EXPECT_TRUE(table.external);
  EXPECT_THAT(table.location, ::testing::HasSubstr(dir.Join("events")));
  ASSERT_EQ(table.columns.size(), 4u);
  EXPECT_EQ(table.columns[0], (catalog::HiveColumn{"id", "bigint", ""}));
  EXPECT_EQ(table.columns[1].type, "timestamp");
  EXPECT_EQ(table.columns[3].type, "decimal(12,2)");
  ASSERT_EQ(table.partition_keys.size(), 2u);
  EXPECT_EQ(table.partition_keys[0].name, "dt");
  ASSERT_OK_AND_ASSIGN(std::vector<std::string> partitions,
                       client.ListPartitionNames(database, "events"));
  std::sort(partitions.begin(), partitions.end());
  EXPECT_THAT(partitions, ::testing::ElementsAre("dt=2026-12-04/hr=09", "dt=2026-12-04/hr=10",
                                                 "dt=2026-12-04/hr=11"));
  ASSERT_OK_AND_ASSIGN(std::vector<catalog::HivePartitionSpec> specs,
                       client.ListPartitions(database, "events"));
  for (const catalog::HivePartitionSpec& spec : specs)
    EXPECT_THAT(spec.location, ::testing::HasSubstr(dir.Join("events/dt=2026-12-04/hr=")));
  // A second run of another job into the same table: registered already, nothing fails.
  ASSERT_OK(testing::WriteEventsWithACrash(options, "metastore-job-2"));
  ASSERT_OK_AND_ASSIGN(partitions, client.ListPartitionNames(database, "events"));
  EXPECT_EQ(partitions.size(), 3u);
}

TEST(HiveMetastoreTest, ATableOfOtherColumnsIsAConflictSayingWhatDiffers) {
  ASSERT_OK_AND_ASSIGN(sluice::testing::TestServers servers,
                       sluice::testing::TestServers::FromEnvironment());
  sluice::testing::TempDir dir;
  std::string database = fmt::format("sluice_hive_conflict_{}", ::getpid());
  ASSERT_OK_AND_ASSIGN(
      HiveSinkOptions options,
      testing::ParseSinkOptions(dir.Join("events"),
                                fmt::format("metastore: '{}', database: {}, table: events",
                                            servers.metastore.uri, database)));
  ASSERT_OK(testing::WriteEventsWithACrash(options, "first"));
  // The same table name, now partitioned: the metastore's table differs.
  ASSERT_OK_AND_ASSIGN(
      HiveSinkOptions partitioned,
      testing::ParseSinkOptions(
          dir.Join("events2"),
          fmt::format("time_partition_column: ts, metastore: '{}', database: {}, table: events",
                      servers.metastore.uri, database)));
  Status status = testing::WriteEventsWithACrash(partitioned, "second");
  EXPECT_EQ(status.code(), StatusCode::kConflict) << status.ToString();
  EXPECT_THAT(status.message(), ::testing::HasSubstr("registering table"));
}

}  // namespace
}  // namespace sluice::connectors::hive
