// The WebHDFS store against the FileStore contract (file_store_conformance.h) on Hadoop's
// MiniDFSCluster (the `hdfs` fixture: 1 MiB blocks), and what only HDFS can do: a writer that
// died with its file open, a NameNode that is down.
#include <fmt/core.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "io/file_store.h"
#include "io/tests/file_store_conformance.h"
#include "io/tests/io_test_util.h"
#include "io/webhdfs_client.h"
#include "testing/gtest_util.h"
#include "testing/test_servers.h"

namespace sluice::io {
namespace {

using ::testing::HasSubstr;

Result<testing::HdfsEndpoint> Hdfs() {
  SLUICE_ASSIGN_OR_RETURN(testing::TestServers servers, testing::TestServers::FromEnvironment());
  if (servers.hdfs.webhdfs_url.empty()) {
    return InvalidConfig(
        fmt::format("no HDFS in {}: run with the `hdfs` fixture", servers.env_file));
  }
  return servers.hdfs;
}

/// The store at /sluice-tests/store-<name>, deleted afterwards.
Result<StoreUnderTest> OpenHdfs(const std::string& unique_name) {
  SLUICE_ASSIGN_OR_RETURN(testing::HdfsEndpoint hdfs, Hdfs());
  std::string root = "/sluice-tests/store-" + unique_name;
  SLUICE_ASSIGN_OR_RETURN(
      std::unique_ptr<FileStore> store,
      OpenFileStore({.location = "webhdfs://" + hdfs.webhdfs_url.substr(7) + root,
                     .hdfs_user = hdfs.user}));
  WebHdfsOptions options{.url = hdfs.webhdfs_url, .user = hdfs.user};
  return StoreUnderTest{
      .store = std::move(store),
      .uri_root = "webhdfs://" + hdfs.webhdfs_url.substr(7) + root,
      .cleanup = [options, root] {
        Result<WebHdfsClient> client = WebHdfsClient::Open(options);
        EXPECT_OK(client.status());
        if (client.ok())
          EXPECT_OK(client->Delete(root, /*recursive=*/true));
      }};
}

INSTANTIATE_TEST_SUITE_P(Hdfs, FileStoreConformance,
                         ::testing::Values(FileStoreKind{"Hdfs", OpenHdfs}), FileStoreKindName);

class WebHdfsFileStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    ASSERT_OK_AND_ASSIGN(hdfs_, Hdfs());
    ASSERT_OK_AND_ASSIGN(opened_, OpenHdfs(fmt::format("{}-{}", info->name(), ::getpid())));
    ASSERT_OK_AND_ASSIGN(WebHdfsClient client,
                         WebHdfsClient::Open({.url = hdfs_.webhdfs_url, .user = hdfs_.user}));
    client_ = std::make_unique<WebHdfsClient>(std::move(client));
  }
  void TearDown() override {
    if (opened_.cleanup)
      opened_.cleanup();
  }

  testing::HdfsEndpoint hdfs_;
  StoreUnderTest opened_;
  std::unique_ptr<WebHdfsClient> client_;
};

TEST_F(WebHdfsFileStoreTest, ResumeWaitsForAFileADeadWriterLeftOpen) {
  FileStore& store = *opened_.store;
  std::string path = "dt=1/part-0.csv";
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<StagedFile> file, store.Stage(path, "e1"));
  ASSERT_OK(file->Write("committed\n"));
  ASSERT_OK_AND_ASSIGN(std::string state, file->Commit());
  file.reset();
  // A writer that died in the middle of an append: the connection drops with the file open.
  std::string sibling =
      opened_.uri_root.substr(opened_.uri_root.find('/', 10)) + "/" +
      nlohmann::json::parse(state)["file"].get<std::string>();
  {
    ASSERT_OK_AND_ASSIGN(std::unique_ptr<OutputStream> append, client_->Append(sibling));
    ASSERT_OK(append->Write(MakeText(2 * 1024 * 1024)));
  }
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<StagedFile> resumed, store.Resume(path, state));
  ASSERT_OK(resumed->Write("after\n"));
  ASSERT_OK_AND_ASSIGN(std::string final_state, resumed->Commit());
  ASSERT_OK(store.Publish(path, final_state));
  ASSERT_OK_AND_ASSIGN(std::string read, store.ReadFile(path));
  EXPECT_EQ(read, "committed\nafter\n");
}

TEST_F(WebHdfsFileStoreTest, PublishCutsOffWhatADeadWriterAppendedAfterTheCommit) {
  FileStore& store = *opened_.store;
  std::string path = "part-1.csv";
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<StagedFile> file, store.Stage(path, "e1"));
  ASSERT_OK(file->Write("kept\n"));
  ASSERT_OK_AND_ASSIGN(std::string state, file->Commit());
  ASSERT_OK(file->Write(MakeText(9 * 1024 * 1024)));  // past one append's worth: sent
  file.reset();
  ASSERT_OK(store.Publish(path, state));
  ASSERT_OK_AND_ASSIGN(std::string read, store.ReadFile(path));
  EXPECT_EQ(read, "kept\n");
}

TEST_F(WebHdfsFileStoreTest, UnreachableNameNodeIsUnavailable) {
  ASSERT_OK_AND_ASSIGN(
      std::unique_ptr<FileStore> store,
      OpenFileStore({.location = fmt::format("webhdfs://127.0.0.1:{}/warehouse",
                                             ClosedLoopbackPort()),
                     .hdfs_user = hdfs_.user}));
  for (Status status : {store->Stage("a.csv", "e1").status(), store->WriteFile("a.csv", "x"),
                        store->ReadFile("a.csv").status(), store->List("").status(),
                        store->Exists("a.csv").status()}) {
    EXPECT_EQ(status.code(), StatusCode::kUnavailable) << status.ToString();
    EXPECT_TRUE(status.IsTransient());
    EXPECT_THAT(status.message(), HasSubstr("/warehouse"));
  }
}

}  // namespace
}  // namespace sluice::io
