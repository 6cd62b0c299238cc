#include "io/file_system.h"

#include <fmt/core.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include "io/local_file.h"
#include "io/tests/io_test_util.h"
#include "testing/gtest_util.h"
#include "testing/temp_dir.h"

namespace sluice::io {
namespace {

using ::testing::ElementsAre;

TEST(FileSystemTest, MissingFileIsNotFoundNamingIt) {
  testing::TempDir temp;
  std::string path = temp.Join("nope.csv.gz");
  Result<std::unique_ptr<InputStream>> opened = OpenInputFile(path);
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.status().ToString(),
            fmt::format("not found: Cannot open '{}': No such file or directory", path));
}

TEST(FileSystemTest, DirectoryIsNotAFile) {
  testing::TempDir temp;
  Result<std::unique_ptr<InputStream>> opened = OpenInputFile(temp.path());
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.status().ToString(),
            fmt::format("I/O error: Cannot open '{}': Is a directory", temp.path()));
}

TEST(FileSystemTest, UnwritableDirectoryIsPermissionDenied) {
  testing::TempDir temp;
  std::string dir = UnwritableDirectory(temp);
  if (dir.empty())
    GTEST_SKIP() << "no unwritable directory available";
  std::string path = dir + "/out.csv";
  Result<std::unique_ptr<OutputStream>> created = CreateOutputFile(path);
  ASSERT_FALSE(created.ok());
  EXPECT_EQ(created.status().code(), StatusCode::kPermissionDenied);
  EXPECT_THAT(created.status().message(),
              ::testing::StartsWith(fmt::format("Cannot create '{}': ", path)));
  Status probe = CheckDirectoryWritable(dir);
  EXPECT_EQ(probe.code(), StatusCode::kPermissionDenied);
  EXPECT_THAT(probe.message(),
              ::testing::StartsWith(fmt::format("Directory '{}' is not writable: ", dir)));
  Status nested = CreateDirectories(dir + "/a/b");
  EXPECT_EQ(nested.code(), StatusCode::kPermissionDenied) << nested.ToString();
  EXPECT_THAT(nested.message(), ::testing::HasSubstr(dir + "/a'"));
}

TEST(FileSystemTest, GlobMatchesRegularFilesSorted) {
  testing::TempDir temp;
  for (const char* name : {"orders-10.csv", "orders-2.csv", "orders-1.csv", "other.csv"}) {
    testing::WriteFileOrDie(temp.Join(name), "x");
  }
  ::mkdir(temp.Join("orders-dir.csv").c_str(), 0755);
  ASSERT_OK_AND_ASSIGN(std::vector<std::string> files, ExpandGlob(temp.Join("orders-*.csv")));
  EXPECT_THAT(files, ElementsAre(temp.Join("orders-1.csv"), temp.Join("orders-10.csv"),
                                 temp.Join("orders-2.csv")));
  ASSERT_OK_AND_ASSIGN(std::vector<std::string> one, ExpandGlob(temp.Join("other.csv")));
  EXPECT_THAT(one, ElementsAre(temp.Join("other.csv")));

  Result<std::vector<std::string>> none = ExpandGlob(temp.Join("missing-*.csv"));
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.status().ToString(),
            fmt::format("not found: No file matches '{}'", temp.Join("missing-*.csv")));
  // Issue 10: a directory given as the path was reported as matching no file.
  Result<std::vector<std::string>> directory = ExpandGlob(temp.path());
  EXPECT_EQ(directory.status().ToString(),
            fmt::format("config error: '{0}' is a directory: give a file, or a glob of the files "
                        "in it such as '{0}/*.csv'",
                        temp.path()));
  Result<std::vector<std::string>> only_dir = ExpandGlob(temp.Join("orders-dir.*"));
  EXPECT_EQ(only_dir.status().code(), StatusCode::kNotFound);
  EXPECT_TRUE(HasGlobCharacters("a/*.csv"));
  EXPECT_TRUE(HasGlobCharacters("a/[ab].csv"));
  EXPECT_FALSE(HasGlobCharacters("a/b.csv"));
}

TEST(FileSystemTest, PathHelpers) {
  EXPECT_EQ(ParentDirectory("out/a.csv"), "out");
  EXPECT_EQ(ParentDirectory("a.csv"), ".");
  EXPECT_EQ(ParentDirectory("/a.csv"), "/");
  EXPECT_EQ(ParentDirectory("x//y/a.csv"), "x//y");
  EXPECT_EQ(BaseName("out/a.csv"), "a.csv");
  EXPECT_EQ(BaseName("a.csv"), "a.csv");
}

TEST(FileSystemTest, DirectoryChores) {
  testing::TempDir temp;
  std::string dir = temp.Join("a/b/c");
  EXPECT_FALSE(PathExists(dir));
  EXPECT_TRUE(LooksWritable(dir));  // via the nearest existing ancestor
  ASSERT_OK(CreateDirectories(dir));
  ASSERT_OK(CreateDirectories(dir));  // already there
  ASSERT_OK(CheckDirectoryWritable(dir));
  ASSERT_OK(SyncDirectory(dir));
  ASSERT_OK_AND_ASSIGN(std::vector<std::string> empty, ListDirectory(dir));
  EXPECT_TRUE(empty.empty());  // the probe file is gone

  testing::WriteFileOrDie(dir + "/x.inprogress", "data");
  ASSERT_OK(RenameFile(dir + "/x.inprogress", dir + "/x"));
  ASSERT_OK_AND_ASSIGN(std::vector<std::string> names, ListDirectory(dir));
  EXPECT_THAT(names, ElementsAre("x"));
  ASSERT_OK_AND_ASSIGN(uint64_t size, FileSize(dir + "/x"));
  EXPECT_EQ(size, 4u);
  ASSERT_OK(RemoveFile(dir + "/x"));
  ASSERT_OK(RemoveFile(dir + "/x"));  // already gone
  EXPECT_FALSE(PathExists(dir + "/x"));

  testing::WriteFileOrDie(temp.Join("file"), "");
  Status not_dir = CreateDirectories(temp.Join("file"));
  EXPECT_EQ(not_dir.code(), StatusCode::kNotFound) << not_dir.ToString();
  Status rename = RenameFile(temp.Join("missing"), temp.Join("target"));
  EXPECT_EQ(rename.ToString(),
            fmt::format("not found: Cannot rename '{}' to '{}': No such file or directory",
                        temp.Join("missing"), temp.Join("target")));
}

TEST(FileSystemTest, LocalInputFileServesSmallAndLargeReads) {
  testing::TempDir temp;
  std::string text = MakeText(700000);
  testing::WriteFileOrDie(temp.Join("f"), text);
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<LocalInputFile> file, LocalInputFile::Open(temp.Join("f")));
  EXPECT_EQ(file->size(), text.size());
  std::string back;
  std::string buffer(200000, '\0');
  size_t sizes[] = {1, 5, 100000, 3, 200000, 17};
  for (size_t i = 0;; ++i) {
    size_t want = sizes[i % std::size(sizes)];
    ASSERT_OK_AND_ASSIGN(size_t got, file->Read(buffer.data(), want));
    if (got == 0)
      break;
    back.append(buffer.data(), got);
    if (i == 3) {
      ASSERT_OK(file->Skip(10));
      back.append(text, back.size(), 10);
    }
  }
  EXPECT_EQ(file->source_bytes_read(), text.size());
  EXPECT_TRUE(back == text);
}

TEST(FileSystemTest, OutputFileWritesEverythingInOrder) {
  testing::TempDir temp;
  std::string path = temp.Join("out.txt");
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<OutputStream> out,
                       CreateOutputFile(path, Compression::kAuto, 0, SyncMode::kFsyncOnClose));
  std::string expected;
  for (size_t size : {size_t{3}, size_t{1} << 20, size_t{10}, size_t{700000}, size_t{2} << 20}) {
    std::string piece = MakeText(size, static_cast<uint32_t>(size));
    ASSERT_OK(out->Write(piece));
    expected += piece;
  }
  ASSERT_OK(out->Close());
  ASSERT_OK(out->Close());
  EXPECT_TRUE(testing::ReadFileOrDie(path) == expected);
}

TEST(FileSystemTest, UnclosedOutputIsDiscardedNotFlushed) {
  testing::TempDir temp;
  std::string path = temp.Join("aborted.txt");
  {
    ASSERT_OK_AND_ASSIGN(std::unique_ptr<OutputStream> out, CreateOutputFile(path));
    ASSERT_OK(out->Write("buffered"));
  }
  EXPECT_EQ(testing::ReadFileOrDie(path), "");
}

}  // namespace
}  // namespace sluice::io
