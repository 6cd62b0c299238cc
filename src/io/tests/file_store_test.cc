// The local store against the FileStore contract (file_store_conformance.h), and OpenFileStore:
// which store a location names, and the options each needs (checked without any I/O).
#include "io/file_store.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>

#include "io/tests/file_store_conformance.h"
#include "testing/gtest_util.h"
#include "testing/temp_dir.h"

namespace sluice::io {
namespace {

using ::testing::HasSubstr;

Result<StoreUnderTest> OpenLocal(const std::string& unique_name) {
  auto temp = std::make_shared<testing::TempDir>();
  std::string root = temp->Join(unique_name);
  return StoreUnderTest{.store = MakeLocalFileStore(root),
                        .uri_root = std::filesystem::absolute(root).lexically_normal().string(),
                        .cleanup = [temp] {}};  // the TempDir goes with the last copy
}

INSTANTIATE_TEST_SUITE_P(Local, FileStoreConformance,
                         ::testing::Values(FileStoreKind{"Local", OpenLocal}), FileStoreKindName);

FileStoreOptions S3Location(std::string location) {
  FileStoreOptions options{.location = std::move(location),
                           .s3_endpoint = "http://127.0.0.1:9000",
                           .s3_access_key_id = "key-id"};
  options.s3_secret_access_key = Secret("not-a-real-secret");
  return options;
}

Status OpenStatus(const FileStoreOptions& options) { return OpenFileStore(options).status(); }

TEST(OpenFileStoreTest, LocalDirectories) {
  testing::TempDir temp;
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<FileStore> plain,
                       OpenFileStore({.location = temp.Join("table")}));
  EXPECT_EQ(plain->Uri("a.csv"), temp.Join("table/a.csv"));
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<FileStore> url,
                       OpenFileStore({.location = "file://" + temp.Join("table/")}));
  EXPECT_EQ(url->Uri("a.csv"), temp.Join("table/a.csv"));
}

TEST(OpenFileStoreTest, WebHdfsNeedsANameNodeAndAUser) {
  Status no_user = OpenStatus({.location = "webhdfs://namenode:9870/warehouse/events"});
  EXPECT_EQ(no_user.code(), StatusCode::kInvalidConfig) << no_user.ToString();
  EXPECT_THAT(no_user.message(), HasSubstr("hdfs_user"));
  Status no_host = OpenStatus({.location = "webhdfs:///warehouse/events", .hdfs_user = "etl"});
  EXPECT_EQ(no_host.code(), StatusCode::kInvalidConfig) << no_host.ToString();
  EXPECT_THAT(no_host.message(), HasSubstr("webhdfs://host:port/path"));

  ASSERT_OK_AND_ASSIGN(std::unique_ptr<FileStore> store,
                       OpenFileStore({.location = "webhdfs://namenode:9870/warehouse/events/",
                                      .hdfs_user = "etl"}));
  EXPECT_EQ(store->Uri("dt=1/a.parquet"),
            "webhdfs://namenode:9870/warehouse/events/dt=1/a.parquet");
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<FileStore> at_root,
                       OpenFileStore({.location = "webhdfs://namenode:9870", .hdfs_user = "etl"}));
  EXPECT_EQ(at_root->Uri("a.parquet"), "webhdfs://namenode:9870/a.parquet");
}

TEST(OpenFileStoreTest, HdfsRpcIsRefusedSayingToUseWebHdfs) {
  Status status = OpenStatus({.location = "hdfs://namenode:8020/warehouse", .hdfs_user = "etl"});
  EXPECT_EQ(status.code(), StatusCode::kInvalidConfig) << status.ToString();
  EXPECT_THAT(status.message(), HasSubstr("webhdfs://"));
  Status other = OpenStatus({.location = "ftp://host/dir"});
  EXPECT_EQ(other.code(), StatusCode::kInvalidConfig) << other.ToString();
  Status empty = OpenStatus({.location = ""});
  EXPECT_EQ(empty.code(), StatusCode::kInvalidConfig) << empty.ToString();
}

TEST(OpenFileStoreTest, S3NeedsABucketAnEndpointCredentialsAndBigEnoughParts) {
  Status no_bucket = OpenStatus(S3Location("s3:///warehouse"));
  EXPECT_EQ(no_bucket.code(), StatusCode::kInvalidConfig) << no_bucket.ToString();
  EXPECT_THAT(no_bucket.message(), HasSubstr("bucket"));

  FileStoreOptions no_endpoint = S3Location("s3://bucket/warehouse");
  no_endpoint.s3_endpoint = "";
  EXPECT_EQ(OpenStatus(no_endpoint).code(), StatusCode::kInvalidConfig);
  FileStoreOptions no_secret = S3Location("s3://bucket/warehouse");
  no_secret.s3_secret_access_key = Secret();
  EXPECT_EQ(OpenStatus(no_secret).code(), StatusCode::kInvalidConfig);

  FileStoreOptions small_parts = S3Location("s3://bucket/warehouse");
  small_parts.s3_part_bytes = 1 << 20;
  Status small = OpenStatus(small_parts);
  EXPECT_EQ(small.code(), StatusCode::kInvalidConfig) << small.ToString();
  EXPECT_THAT(small.message(), HasSubstr("s3_part_bytes"));

  ASSERT_OK_AND_ASSIGN(std::unique_ptr<FileStore> store,
                       OpenFileStore(S3Location("s3://bucket/warehouse/events/")));
  EXPECT_EQ(store->Uri("dt=1/a.parquet"), "s3a://bucket/warehouse/events/dt=1/a.parquet");
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<FileStore> whole_bucket,
                       OpenFileStore(S3Location("s3a://bucket")));
  EXPECT_EQ(whole_bucket->Uri("a.parquet"), "s3a://bucket/a.parquet");
}

}  // namespace
}  // namespace sluice::io
