// The S3 store against the FileStore contract (file_store_conformance.h) on s3proxy (the `s3`
// fixture), with 5 MiB parts, and what only S3 does: tails of commits, credentials.
#include <fmt/core.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "io/file_store.h"
#include "io/s3_client.h"
#include "io/tests/file_store_conformance.h"
#include "io/tests/io_test_util.h"
#include "testing/gtest_util.h"
#include "testing/test_servers.h"

namespace sluice::io {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;

Result<testing::S3Endpoint> S3() {
  SLUICE_ASSIGN_OR_RETURN(testing::TestServers servers, testing::TestServers::FromEnvironment());
  if (servers.s3.endpoint.empty()) {
    return InvalidConfig(
        fmt::format("no S3 store in {}: run with the `s3` fixture", servers.env_file));
  }
  return servers.s3;
}

FileStoreOptions StoreOptions(const testing::S3Endpoint& s3, const std::string& prefix) {
  FileStoreOptions options{.location = fmt::format("s3://{}/{}", s3.bucket, prefix),
                           .s3_endpoint = s3.endpoint,
                           .s3_region = s3.region,
                           .s3_access_key_id = s3.access_key,
                           .s3_part_bytes = 5 << 20};
  options.s3_secret_access_key = Secret(s3.secret_key);
  return options;
}

/// The store at s3://bucket/store-<name>/warehouse (a prefix of its own per test).
Result<StoreUnderTest> OpenS3(const std::string& unique_name) {
  SLUICE_ASSIGN_OR_RETURN(testing::S3Endpoint s3, S3());
  std::string prefix = "store-" + unique_name + "/warehouse";
  SLUICE_ASSIGN_OR_RETURN(std::unique_ptr<FileStore> store,
                          OpenFileStore(StoreOptions(s3, prefix)));
  return StoreUnderTest{.store = std::move(store),
                        .uri_root = fmt::format("s3a://{}/{}", s3.bucket, prefix)};
}

INSTANTIATE_TEST_SUITE_P(S3, FileStoreConformance,
                         ::testing::Values(FileStoreKind{"S3", OpenS3}), FileStoreKindName);

class S3FileStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    ASSERT_OK_AND_ASSIGN(s3_, S3());
    prefix_ = fmt::format("store-{}-{}/warehouse", info->name(), ::getpid());
    ASSERT_OK_AND_ASSIGN(store_, OpenFileStore(StoreOptions(s3_, prefix_)));
    S3Options options{.endpoint = s3_.endpoint,
                      .region = s3_.region,
                      .access_key_id = s3_.access_key,
                      .secret_access_key = Secret(s3_.secret_key)};
    ASSERT_OK_AND_ASSIGN(S3Client client, S3Client::Open(options));
    client_ = std::make_unique<S3Client>(std::move(client));
  }

  std::vector<std::string> KeysUnder(const std::string& prefix) {
    std::vector<std::string> keys;
    Result<S3ListPage> page = client_->ListObjects(s3_.bucket, {.prefix = prefix});
    EXPECT_OK(page.status());
    if (page.ok()) {
      for (const S3ObjectInfo& object : page->objects)
        keys.push_back(object.key);
    }
    return keys;
  }

  testing::S3Endpoint s3_;
  std::string prefix_;
  std::unique_ptr<FileStore> store_;
  std::unique_ptr<S3Client> client_;
};

TEST_F(S3FileStoreTest, EveryCommitHasATailOfItsOwnUntilPublish) {
  std::string path = "dt=1/a.csv";
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<StagedFile> file, store_->Stage(path, "e1"));
  ASSERT_OK(file->Write("one;"));
  ASSERT_OK_AND_ASSIGN(std::string first, file->Commit());
  ASSERT_OK(file->Write("two;"));
  ASSERT_OK_AND_ASSIGN(std::string second, file->Commit());
  file.reset();
  nlohmann::json first_json = nlohmann::json::parse(first);
  nlohmann::json second_json = nlohmann::json::parse(second);
  EXPECT_EQ(first_json["key"], prefix_ + "/" + path);
  EXPECT_EQ(first_json["length"], 4);
  EXPECT_EQ(second_json["length"], 8);
  EXPECT_EQ(second_json["tail_bytes"], 8);
  std::string first_tail = first_json["tail"];
  std::string second_tail = second_json["tail"];
  EXPECT_NE(first_tail, second_tail);
  EXPECT_THAT(first_tail, ::testing::StartsWith(prefix_ + "/_sluice/staged/"));
  // Both states stay valid: the earlier tail is not deleted by the later commit.
  EXPECT_THAT(KeysUnder(prefix_ + "/_sluice/"), ElementsAre(first_tail, second_tail));
  // Hive skips _sluice/; List shows it as stored.
  ASSERT_OK_AND_ASSIGN(std::vector<std::string> root, store_->List(""));
  EXPECT_THAT(root, ElementsAre("_sluice/"));

  ASSERT_OK(store_->Publish(path, first));
  ASSERT_OK_AND_ASSIGN(std::string read, store_->ReadFile(path));
  EXPECT_EQ(read, "one;");
  // Publish deletes every tail of its upload.
  EXPECT_THAT(KeysUnder(prefix_ + "/_sluice/"), IsEmpty());
}

TEST_F(S3FileStoreTest, DiscardingWhatListStagedFoundDeletesItsTails) {
  {
    ASSERT_OK_AND_ASSIGN(std::unique_ptr<StagedFile> file, store_->Stage("b.csv", "e1"));
    ASSERT_OK(file->Write("crashed before its manifest"));
    ASSERT_OK(file->Commit().status());
  }
  ASSERT_OK_AND_ASSIGN(std::vector<StagedEntry> staged, store_->ListStaged("", ""));
  ASSERT_EQ(staged.size(), 1u);
  EXPECT_EQ(staged[0].path, "b.csv");
  EXPECT_THAT(KeysUnder(prefix_ + "/_sluice/"), Not(IsEmpty()));
  // Without its tail such a state would publish a cut file: only Discard takes it.
  EXPECT_EQ(store_->Publish(staged[0].path, staged[0].state).code(), StatusCode::kDataError);
  EXPECT_EQ(store_->Resume(staged[0].path, staged[0].state).status().code(),
            StatusCode::kDataError);
  ASSERT_OK(store_->Discard(staged[0].path, staged[0].state));
  EXPECT_THAT(KeysUnder(prefix_ + "/_sluice/"), IsEmpty());
  ASSERT_OK_AND_ASSIGN(std::vector<StagedEntry> after, store_->ListStaged("", ""));
  EXPECT_THAT(after, IsEmpty());
}

TEST_F(S3FileStoreTest, AStateIsForItsOwnPathOnly) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<StagedFile> file, store_->Stage("a.csv", "e1"));
  ASSERT_OK_AND_ASSIGN(std::string state, file->Commit());
  Status status = store_->Publish("b.csv", state);
  EXPECT_EQ(status.code(), StatusCode::kDataError) << status.ToString();
  ASSERT_OK(store_->Discard("a.csv", state));
}

TEST_F(S3FileStoreTest, WrongSecretIsPermissionDeniedWithoutTheSecret) {
  FileStoreOptions options = StoreOptions(s3_, prefix_);
  std::string wrong_secret = "not-the-secret-" + std::to_string(::getpid());
  options.s3_secret_access_key = Secret(wrong_secret);
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<FileStore> store, OpenFileStore(options));
  for (Status status : {store->Stage("a.csv", "e1").status(), store->WriteFile("a.csv", "x"),
                        store->ReadFile("a.csv").status(), store->List("").status(),
                        store->Exists("a.csv").status()}) {
    EXPECT_EQ(status.code(), StatusCode::kPermissionDenied) << status.ToString();
    EXPECT_THAT(status.message(), Not(HasSubstr(wrong_secret)));
    EXPECT_THAT(status.message(), Not(HasSubstr(s3_.secret_key)));
  }
}

TEST_F(S3FileStoreTest, UnreachableEndpointIsUnavailable) {
  FileStoreOptions options = StoreOptions(s3_, prefix_);
  options.s3_endpoint = fmt::format("http://127.0.0.1:{}", ClosedLoopbackPort());
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<FileStore> store, OpenFileStore(options));
  Status status = store->WriteFile("a.csv", "x");
  EXPECT_EQ(status.code(), StatusCode::kUnavailable) << status.ToString();
}

}  // namespace
}  // namespace sluice::io
