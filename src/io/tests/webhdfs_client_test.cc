// WebHdfsClient against a real HDFS: Hadoop's MiniDFSCluster of the `hdfs` fixture (one NameNode,
// one DataNode, 1 MiB blocks). Every test works in a directory of its own, deleted afterwards.
#include "io/webhdfs_client.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <fmt/core.h>


#include "io/tests/io_test_util.h"
#include "testing/gtest_util.h"
#include "testing/test_servers.h"

namespace sluice::io {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;

Status WriteInPieces(OutputStream& stream, std::string_view data, size_t piece = 64 * 1024) {
  for (size_t offset = 0; offset < data.size(); offset += piece)
    SLUICE_RETURN_IF_ERROR(stream.Write(data.substr(offset, piece)));
  return stream.Close();
}

class WebHdfsClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK_AND_ASSIGN(testing::TestServers servers, testing::TestServers::FromEnvironment());
    ASSERT_FALSE(servers.hdfs.webhdfs_url.empty())
        << "no HDFS in " << servers.env_file << ": run with the `hdfs` fixture";
    options_ = {.url = servers.hdfs.webhdfs_url, .user = servers.hdfs.user};
    ASSERT_OK_AND_ASSIGN(WebHdfsClient client, WebHdfsClient::Open(options_));
    client_ = std::make_unique<WebHdfsClient>(std::move(client));
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = fmt::format("/sluice-tests/{}-{}", info->name(), ::getpid());
    ASSERT_OK(client_->MakeDirectories(dir_));
  }
  void TearDown() override {
    if (client_ != nullptr)
      EXPECT_OK(client_->Delete(dir_, /*recursive=*/true));
  }

  Status WriteFile(const std::string& path, std::string_view data, bool overwrite = false) {
    SLUICE_ASSIGN_OR_RETURN(std::unique_ptr<OutputStream> stream,
                            client_->Create(path, overwrite));
    return WriteInPieces(*stream, data);
  }

  std::string Path(std::string_view name) const { return dir_ + "/" + std::string(name); }

  WebHdfsOptions options_;
  std::unique_ptr<WebHdfsClient> client_;
  std::string dir_;
};

TEST_F(WebHdfsClientTest, CreateStreamsAFileAcrossBlocksThenReadsStatusAndListsIt) {
  std::string data = MakeText(3 * 1024 * 1024 + 123);  // over three 1 MiB blocks
  ASSERT_OK(WriteFile(Path("big.csv"), data));
  ASSERT_OK(WriteFile(Path("small.csv"), "a,b\n"));
  ASSERT_OK_AND_ASSIGN(HdfsFileStatus status, client_->GetFileStatus(Path("big.csv")));
  EXPECT_FALSE(status.is_directory);
  EXPECT_EQ(status.length, data.size());
  EXPECT_GT(status.modification_time_ms, 0);
  ASSERT_OK_AND_ASSIGN(std::string read, client_->Read(Path("big.csv"), 0));
  EXPECT_TRUE(read == data) << "read " << read.size() << " bytes of " << data.size();

  ASSERT_OK(client_->MakeDirectories(Path("sub/deeper")));
  ASSERT_OK_AND_ASSIGN(std::vector<HdfsFileStatus> entries, client_->ListDirectory(dir_));
  std::vector<std::string> names;
  for (const HdfsFileStatus& entry : entries)
    names.push_back(entry.name + (entry.is_directory ? "/" : ""));
  EXPECT_THAT(names, ElementsAre("big.csv", "small.csv", "sub/"));
  ASSERT_OK_AND_ASSIGN(HdfsFileStatus directory, client_->GetFileStatus(Path("sub")));
  EXPECT_TRUE(directory.is_directory);
}

TEST_F(WebHdfsClientTest, ReadsByteRangesIncludingTheLastEightBytes) {
  std::string data = MakeText(1536 * 1024, 7);
  ASSERT_OK(WriteFile(Path("footer.parquet"), data));
  ASSERT_OK_AND_ASSIGN(HdfsFileStatus status, client_->GetFileStatus(Path("footer.parquet")));
  ASSERT_OK_AND_ASSIGN(std::string tail,
                       client_->Read(Path("footer.parquet"), status.length - 8, 8));
  EXPECT_EQ(tail, data.substr(data.size() - 8));
  // Across the block boundary at 1 MiB.
  ASSERT_OK_AND_ASSIGN(std::string middle,
                       client_->Read(Path("footer.parquet"), 1024 * 1024 - 10, 20));
  EXPECT_EQ(middle, data.substr(1024 * 1024 - 10, 20));
  // Past the end: what there is.
  ASSERT_OK_AND_ASSIGN(std::string over,
                       client_->Read(Path("footer.parquet"), data.size() - 3, 100));
  EXPECT_EQ(over, data.substr(data.size() - 3));
  ASSERT_OK_AND_ASSIGN(std::string none, client_->Read(Path("footer.parquet"), 5, 0));
  EXPECT_EQ(none, "");
}

TEST_F(WebHdfsClientTest, EmptyFile) {
  ASSERT_OK(WriteFile(Path("empty"), ""));
  ASSERT_OK_AND_ASSIGN(HdfsFileStatus status, client_->GetFileStatus(Path("empty")));
  EXPECT_EQ(status.length, 0u);
  ASSERT_OK_AND_ASSIGN(std::string read, client_->Read(Path("empty"), 0));
  EXPECT_EQ(read, "");
}

TEST_F(WebHdfsClientTest, UnicodePathsWithSpaces) {
  std::string name = "dt=2026-12-05/ünïcødé fïlé 😀 +%;.csv";
  ASSERT_OK(WriteFile(Path(name), "héllo"));
  ASSERT_OK_AND_ASSIGN(std::string read, client_->Read(Path(name), 0));
  EXPECT_EQ(read, "héllo");
  ASSERT_OK_AND_ASSIGN(std::vector<HdfsFileStatus> entries,
                       client_->ListDirectory(Path("dt=2026-12-05")));
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries[0].name, "ünïcødé fïlé 😀 +%;.csv");
  ASSERT_OK(client_->Rename(Path(name), Path("dt=2026-12-05/renamed é.csv")));
  ASSERT_OK_AND_ASSIGN(HdfsFileStatus status,
                       client_->GetFileStatus(Path("dt=2026-12-05/renamed é.csv")));
  EXPECT_EQ(status.length, std::string("héllo").size());
}

TEST_F(WebHdfsClientTest, CreateWithoutOverwriteRefusesAnExistingFile) {
  ASSERT_OK(WriteFile(Path("a.csv"), "first"));
  Result<std::unique_ptr<OutputStream>> again = client_->Create(Path("a.csv"), false);
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.status().code(), StatusCode::kConflict) << again.status().ToString();
  EXPECT_THAT(again.status().message(), HasSubstr(Path("a.csv")));
  ASSERT_OK(WriteFile(Path("a.csv"), "second", /*overwrite=*/true));
  ASSERT_OK_AND_ASSIGN(std::string read, client_->Read(Path("a.csv"), 0));
  EXPECT_EQ(read, "second");
}

TEST_F(WebHdfsClientTest, AnAbandonedCreateCanBeDeleted) {
  {
    ASSERT_OK_AND_ASSIGN(std::unique_ptr<OutputStream> stream, client_->Create(Path("x"), false));
    ASSERT_OK(stream->Write(MakeText(3 * 1024 * 1024)));
    // Destroyed without Close(): the writer gave up.
  }
  ASSERT_OK(client_->Delete(Path("x")));
  EXPECT_EQ(client_->GetFileStatus(Path("x")).status().code(), StatusCode::kNotFound);
  ASSERT_OK(WriteFile(Path("x"), "again"));
  ASSERT_OK_AND_ASSIGN(std::string read, client_->Read(Path("x"), 0));
  EXPECT_EQ(read, "again");
}

TEST_F(WebHdfsClientTest, AppendAddsAtTheEnd) {
  ASSERT_OK(WriteFile(Path("log"), "one\n"));
  for (std::string_view line : {"two\n", "three\n"}) {
    ASSERT_OK_AND_ASSIGN(std::unique_ptr<OutputStream> stream, client_->Append(Path("log")));
    ASSERT_OK(WriteInPieces(*stream, line));
  }
  ASSERT_OK_AND_ASSIGN(std::string read, client_->Read(Path("log"), 0));
  EXPECT_EQ(read, "one\ntwo\nthree\n");
}

TEST_F(WebHdfsClientTest, TruncateToTheCommittedLengthThenAppend) {
  // A file a crashed writer left longer than its last commit: cut back, then carry on.
  std::string committed = MakeText(1000);
  std::string data = committed + MakeText(1024 * 1024 + 500, 3);  // into the second block
  ASSERT_OK(WriteFile(Path("part-0.csv"), data));
  ASSERT_OK_AND_ASSIGN(bool done_at_once, client_->Truncate(Path("part-0.csv"), committed.size()));
  // 1000 is inside a block: HDFS recovers that block before the file takes appends again, and
  // says so.
  EXPECT_FALSE(done_at_once);
  ASSERT_OK(client_->WaitUntilClosed(Path("part-0.csv"), 60));
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<OutputStream> stream, client_->Append(Path("part-0.csv")));
  ASSERT_OK(WriteInPieces(*stream, "after the crash\n"));
  ASSERT_OK_AND_ASSIGN(std::string read, client_->Read(Path("part-0.csv"), 0));
  EXPECT_EQ(read, committed + "after the crash\n");

  // On a block boundary nothing needs recovering.
  ASSERT_OK(WriteFile(Path("part-1.csv"), MakeText(1024 * 1024 + 10)));
  ASSERT_OK_AND_ASSIGN(bool at_boundary, client_->Truncate(Path("part-1.csv"), 1024 * 1024));
  EXPECT_TRUE(at_boundary);
  ASSERT_OK_AND_ASSIGN(HdfsFileStatus status, client_->GetFileStatus(Path("part-1.csv")));
  EXPECT_EQ(status.length, 1024u * 1024);
  ASSERT_OK(client_->WaitUntilClosed(Path("part-1.csv"), 60));
}

TEST_F(WebHdfsClientTest, AnAppendDuringRecoveryIsTransientAndAppendsNothing) {
  ASSERT_OK(WriteFile(Path("a.csv"), MakeText(5000)));
  ASSERT_OK_AND_ASSIGN(bool done_at_once, client_->Truncate(Path("a.csv"), 10));
  ASSERT_FALSE(done_at_once);
  // Right after the truncate the block is in recovery (for seconds: the DataNode's heartbeat).
  Status append = [&]() -> Status {
    SLUICE_ASSIGN_OR_RETURN(std::unique_ptr<OutputStream> stream, client_->Append(Path("a.csv")));
    return WriteInPieces(*stream, "lost");
  }();
  EXPECT_EQ(append.code(), StatusCode::kUnavailable) << append.ToString();
  EXPECT_THAT(append.message(), HasSubstr(Path("a.csv")));
  EXPECT_THAT(append.message(), Not(HasSubstr("\tat org.apache")));
  ASSERT_OK(client_->WaitUntilClosed(Path("a.csv"), 60));
  ASSERT_OK_AND_ASSIGN(HdfsFileStatus status, client_->GetFileStatus(Path("a.csv")));
  EXPECT_EQ(status.length, 10u);
}

TEST_F(WebHdfsClientTest, RenameMovesAFile) {
  ASSERT_OK(WriteFile(Path("tmp.csv"), "rows"));
  ASSERT_OK(client_->MakeDirectories(Path("final")));
  ASSERT_OK(client_->Rename(Path("tmp.csv"), Path("final/part-0.csv")));
  ASSERT_OK_AND_ASSIGN(std::string read, client_->Read(Path("final/part-0.csv"), 0));
  EXPECT_EQ(read, "rows");
  Result<HdfsFileStatus> gone = client_->GetFileStatus(Path("tmp.csv"));
  EXPECT_EQ(gone.status().code(), StatusCode::kNotFound);
}

TEST_F(WebHdfsClientTest, RenameOntoAnExistingFileIsAConflictAndChangesNothing) {
  ASSERT_OK(WriteFile(Path("new.csv"), "new"));
  ASSERT_OK(WriteFile(Path("old.csv"), "old"));
  Status status = client_->Rename(Path("new.csv"), Path("old.csv"));
  EXPECT_EQ(status.code(), StatusCode::kConflict) << status.ToString();
  EXPECT_THAT(status.message(), HasSubstr("does not replace an existing file"));
  ASSERT_OK_AND_ASSIGN(std::string old_contents, client_->Read(Path("old.csv"), 0));
  EXPECT_EQ(old_contents, "old");
  ASSERT_OK_AND_ASSIGN(std::string new_contents, client_->Read(Path("new.csv"), 0));
  EXPECT_EQ(new_contents, "new");
}

TEST_F(WebHdfsClientTest, RenameReplacingSwapsInTheNewFile) {
  ASSERT_OK(WriteFile(Path("new.json"), "new"));
  ASSERT_OK(WriteFile(Path("manifest.json"), "old"));
  ASSERT_OK(client_->RenameReplacing(Path("new.json"), Path("manifest.json")));
  ASSERT_OK_AND_ASSIGN(std::string read, client_->Read(Path("manifest.json"), 0));
  EXPECT_EQ(read, "new");
  EXPECT_EQ(client_->GetFileStatus(Path("new.json")).status().code(), StatusCode::kNotFound);
  // Nothing to replace: a plain rename.
  ASSERT_OK(WriteFile(Path("other.json"), "other"));
  ASSERT_OK(client_->RenameReplacing(Path("other.json"), Path("fresh.json")));
  ASSERT_OK_AND_ASSIGN(std::string fresh, client_->Read(Path("fresh.json"), 0));
  EXPECT_EQ(fresh, "other");
  Status missing = client_->RenameReplacing(Path("nothing.json"), Path("fresh.json"));
  EXPECT_EQ(missing.code(), StatusCode::kNotFound) << missing.ToString();
}

TEST_F(WebHdfsClientTest, RenameOfAMissingFileIsNotFound) {
  Status status = client_->Rename(Path("nothing.csv"), Path("else.csv"));
  EXPECT_EQ(status.code(), StatusCode::kNotFound) << status.ToString();
  EXPECT_THAT(status.message(), HasSubstr(Path("nothing.csv")));
}

TEST_F(WebHdfsClientTest, RenameIntoAMissingDirectoryIsRefused) {
  ASSERT_OK(WriteFile(Path("a.csv"), "a"));
  Status status = client_->Rename(Path("a.csv"), Path("no/such/dir/a.csv"));
  EXPECT_FALSE(status.ok());
  EXPECT_THAT(status.message(), HasSubstr("parent"));
}

TEST_F(WebHdfsClientTest, DeleteFilesAndDirectories) {
  ASSERT_OK(WriteFile(Path("d/a.csv"), "a"));
  ASSERT_OK(WriteFile(Path("b.csv"), "b"));
  ASSERT_OK(client_->Delete(Path("b.csv")));
  EXPECT_EQ(client_->GetFileStatus(Path("b.csv")).status().code(), StatusCode::kNotFound);
  // Gone already: fine.
  EXPECT_OK(client_->Delete(Path("b.csv")));
  // A directory with files only with `recursive`.
  Status not_empty = client_->Delete(Path("d"));
  EXPECT_FALSE(not_empty.ok());
  EXPECT_THAT(not_empty.message(), HasSubstr(Path("d")));
  ASSERT_OK(client_->Delete(Path("d"), /*recursive=*/true));
  EXPECT_EQ(client_->GetFileStatus(Path("d")).status().code(), StatusCode::kNotFound);
}

TEST_F(WebHdfsClientTest, MissingFileIsNotFoundNamingThePath) {
  std::string missing = Path("missing.csv");
  EXPECT_EQ(client_->GetFileStatus(missing).status().code(), StatusCode::kNotFound);
  Status read = client_->Read(missing, 0).status();
  EXPECT_EQ(read.code(), StatusCode::kNotFound) << read.ToString();
  EXPECT_THAT(read.message(), HasSubstr(missing));
  EXPECT_EQ(client_->Append(missing).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(client_->ListDirectory(missing).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(client_->Truncate(missing, 0).status().code(), StatusCode::kNotFound);
}

TEST_F(WebHdfsClientTest, UnreachableNameNodeIsUnavailable) {
  WebHdfsOptions options = options_;
  options.url = fmt::format("http://127.0.0.1:{}", ClosedLoopbackPort());
  ASSERT_OK_AND_ASSIGN(WebHdfsClient client, WebHdfsClient::Open(options));
  Status status = client.GetFileStatus("/a").status();
  EXPECT_EQ(status.code(), StatusCode::kUnavailable) << status.ToString();
  EXPECT_TRUE(status.IsTransient());
  EXPECT_THAT(status.message(), HasSubstr("/a"));
  EXPECT_EQ(client.Create("/a", true).status().code(), StatusCode::kUnavailable);
}

TEST_F(WebHdfsClientTest, OptionsAndPathsAreChecked) {
  EXPECT_EQ(WebHdfsClient::Open({.url = "namenode:9870", .user = "u"}).status().code(),
            StatusCode::kInvalidConfig);
  EXPECT_EQ(WebHdfsClient::Open({.url = "http://namenode:9870"}).status().code(),
            StatusCode::kInvalidConfig);
  EXPECT_EQ(client_->GetFileStatus("relative/path").status().code(), StatusCode::kInvalidConfig);
}

}  // namespace
}  // namespace sluice::io
