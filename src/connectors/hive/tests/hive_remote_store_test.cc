// The hive sink writing to HDFS (WebHDFS, Hadoop's MiniDFSCluster) or S3 (s3proxy), whichever
// fixture the binary was built for (HIVE_TEST_STORE): a run that commits, crashes and resumes,
// then what a reader of the store sees: every event once, in its hour, whole files only, each
// partition with its _SUCCESS, no staged file or manifest left.
#include <fmt/core.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "connectors/hive/tests/hive_table_driver.h"
#include "testing/gtest_util.h"
#include "testing/test_servers.h"
#include "io/compression.h"
#include "io/memory_stream.h"

namespace sluice::connectors::hive {
namespace {

struct Store {
  std::string location;
  std::string options;       // the store options (sink and source)
  std::string sink_options;  // and the sink's own (", s3_part_bytes: ...")
  io::FileStoreOptions store;
};

Result<Store> StoreUnderTest(const std::string& table) {
  SLUICE_ASSIGN_OR_RETURN(sluice::testing::TestServers servers,
                          sluice::testing::TestServers::FromEnvironment());
  Store store;
#if HIVE_TEST_STORE_HDFS
  std::string authority = servers.hdfs.webhdfs_url.substr(servers.hdfs.webhdfs_url.find("://") + 3);
  store.location = fmt::format("webhdfs://{}/warehouse/{}", authority, table);
  store.options = fmt::format("hdfs_user: {}", servers.hdfs.user);
  store.store.hdfs_user = servers.hdfs.user;
#else
  store.location = fmt::format("s3://{}/warehouse/{}", servers.s3.bucket, table);
  store.options = fmt::format(
      "s3_endpoint: '{}', s3_region: {}, s3_access_key_id: '{}', s3_secret_access_key: '{}'",
      servers.s3.endpoint, servers.s3.region, servers.s3.access_key, servers.s3.secret_key);
  store.store.s3_endpoint = servers.s3.endpoint;
  store.store.s3_region = servers.s3.region;
  store.store.s3_access_key_id = servers.s3.access_key;
  store.store.s3_secret_access_key = Secret(servers.s3.secret_key);
  store.sink_options = ", s3_part_bytes: 5MiB";
#endif
  store.store.location = store.location;
  return store;
}

std::string UniqueTable(const char* name) {
  return fmt::format("{}_{}", name, ::getpid());
}

TEST(HiveRemoteStoreTest, EveryEventOnceInItsHourAfterACrashAndResume) {
  ASSERT_OK_AND_ASSIGN(Store store, StoreUnderTest(UniqueTable("events")));
  ASSERT_OK_AND_ASSIGN(
      HiveSinkOptions options,
      testing::ParseSinkOptions(store.location, store.options + store.sink_options +
                                                    ", time_partition_column: ts, "
                                                    "lateness_secs: 0, target_file_bytes: 4KiB"));
  ASSERT_OK(testing::WriteEventsWithACrash(options, "remote-job"));
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<io::FileStore> files, io::OpenFileStore(store.store));
  ASSERT_OK_AND_ASSIGN(testing::VisibleTable table, testing::ReadVisibleTable(files.get()));
  EXPECT_EQ(table.rows, testing::ExpectedRows());
  EXPECT_THAT(table.partitions_with_success,
              ::testing::IsSupersetOf({"dt=2026-12-04/hr=09", "dt=2026-12-04/hr=10",
                                       "dt=2026-12-04/hr=11"}));
  for (const std::string& file : table.files)
    EXPECT_THAT(file, ::testing::MatchesRegex(".*/remote-job-000-[0-9]+\\.parquet")) << file;
  // Small files: several per hour, not one per commit.
  EXPECT_GT(table.files.size(), 3u);
  ASSERT_OK_AND_ASSIGN(std::vector<io::StagedEntry> staged, files->ListStaged("", ""));
  EXPECT_TRUE(staged.empty()) << staged.size() << " staged files left, e.g. " << staged[0].path;
  ASSERT_OK_AND_ASSIGN(std::vector<std::string> manifests, files->List("_sluice/remote-job/"));
  for (const std::string& name : manifests)
    EXPECT_FALSE(name.starts_with("slot-")) << "manifest left: " << name;
  // Sluice reads its table back from the store: the file source on a webhdfs:// or s3:// glob.
  ASSERT_OK_AND_ASSIGN(std::vector<int64_t> ids,
                       testing::ReadThroughFileSource(store.location + "/*/*/*.parquet",
                                                      store.options));
  ASSERT_EQ(ids.size(), static_cast<size_t>(testing::kDriverEvents));
  for (int64_t i = 0; i < testing::kDriverEvents; ++i)
    ASSERT_EQ(ids[static_cast<size_t>(i)], i);
  Status missing =
      testing::ReadThroughFileSource(store.location + "/nothing/*.parquet", store.options)
          .status();
  EXPECT_EQ(missing.code(), StatusCode::kNotFound) << missing.ToString();
}

TEST(HiveRemoteStoreTest, CsvAndAvroFilesAreReadFromTheStoreToo) {
  ASSERT_OK_AND_ASSIGN(Store store, StoreUnderTest(UniqueTable("read_avro")));
  ASSERT_OK_AND_ASSIGN(HiveSinkOptions options,
                       testing::ParseSinkOptions(store.location,
                                                 store.options + store.sink_options + ", format: avro"));
  ASSERT_OK(testing::WriteEventsWithACrash(options, "read-avro"));
  ASSERT_OK_AND_ASSIGN(std::vector<int64_t> ids,
                       testing::ReadThroughFileSource(store.location + "/*.avro", store.options));
  EXPECT_EQ(ids.size(), static_cast<size_t>(testing::kDriverEvents));
  // A gzip CSV file put into the store by hand, read back decompressed, in small requests.
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<io::FileStore> files, io::OpenFileStore(store.store));
  std::string csv = "id,name\n";
  for (int i = 0; i < 5000; ++i)
    csv += fmt::format("{},name {}\n", i, i);
  std::string gzipped;
  {
    ASSERT_OK_AND_ASSIGN(std::unique_ptr<io::OutputStream> out,
                         io::MakeCompressingStream(std::make_unique<io::StringOutputStream>(&gzipped),
                                                   io::Compression::kGzip, 0, "test.csv.gz"));
    ASSERT_OK(out->Write(csv));
    ASSERT_OK(out->Close());
  }
  ASSERT_OK(files->WriteFile("csv/rows.csv.gz", gzipped));
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<io::InputStream> input,
                       io::OpenStoreInput(files.get(), "csv/rows.csv.gz", io::Compression::kAuto,
                                          /*chunk=*/1000));
  std::string read;
  char buffer[4096];
  for (;;) {
    ASSERT_OK_AND_ASSIGN(size_t got, input->Read(buffer, sizeof(buffer)));
    if (got == 0)
      break;
    read.append(buffer, got);
  }
  EXPECT_EQ(read, csv);
  ASSERT_OK_AND_ASSIGN(
      ids, testing::ReadThroughFileSource(store.location + "/csv/*.csv.gz",
                                          store.options + ", schema: {id: int64, name: string}"));
  EXPECT_EQ(ids.size(), 5000u);
}

TEST(HiveRemoteStoreTest, AvroFilesToo) {
  ASSERT_OK_AND_ASSIGN(Store store, StoreUnderTest(UniqueTable("avro_events")));
  ASSERT_OK_AND_ASSIGN(HiveSinkOptions options,
                       testing::ParseSinkOptions(store.location,
                                                 store.options + store.sink_options + ", format: avro"));
  ASSERT_OK(testing::WriteEventsWithACrash(options, "avro-job"));
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<io::FileStore> files, io::OpenFileStore(store.store));
  ASSERT_OK_AND_ASSIGN(std::vector<std::string> names, files->List(""));
  EXPECT_THAT(names, ::testing::Contains("avro-job-000-00000.avro"));
  EXPECT_THAT(names, ::testing::Contains("_SUCCESS"));
  ASSERT_OK_AND_ASSIGN(std::string ddl, files->ReadFile("_sluice/avro-job/events.sql"));
  EXPECT_THAT(ddl, ::testing::HasSubstr("STORED AS AVRO"));
}

}  // namespace
}  // namespace sluice::connectors::hive
