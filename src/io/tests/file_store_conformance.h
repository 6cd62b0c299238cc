// The FileStore contract (io/file_store.h) as one value-parameterised suite every store passes:
// the local store (file_store_test), WebHDFS (webhdfs_file_store_test, `hdfs` fixture) and S3
// (s3_file_store_test, `s3` fixture). A test binary includes this header once and instantiates
// the suite with a FileStoreKind that opens its store at a fresh, empty location per test:
//
//   INSTANTIATE_TEST_SUITE_P(Local, FileStoreConformance,
//                            ::testing::Values(FileStoreKind{"Local", OpenLocal}),
//                            FileStoreKindName);
//
// A crash is simulated by destroying a StagedFile without Close() or Commit(): whatever it
// buffered or sent after its last commit must not survive a Resume() or Publish().
#pragma once

#include <fmt/core.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <functional>
#include <memory>
#include <ostream>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "io/file_store.h"
#include "testing/gtest_util.h"

namespace sluice::io {

/// A store opened for one test.
struct StoreUnderTest {
  std::unique_ptr<FileStore> store;
  /// What Uri("") gives: Uri("x") must be this + "/x".
  std::string uri_root;
  /// Removes what the test left (may be empty).
  std::function<void()> cleanup;
};

struct FileStoreKind {
  std::string name;  // the instantiation's name: "Local", "Hdfs", "S3"
  /// Opens the store at a fresh, empty location named after `unique_name` (test name and pid).
  std::function<Result<StoreUnderTest>(const std::string& unique_name)> open;
};

/// For gtest's messages and CTest's test names: the kind's name, not its bytes.
inline void PrintTo(const FileStoreKind& kind, std::ostream* out) { *out << kind.name; }

inline std::string FileStoreKindName(const ::testing::TestParamInfo<FileStoreKind>& info) {
  return info.param.name;
}

/// `bytes` varied bytes (every value, zeros too), different for each seed.
inline std::string VariedBytes(size_t bytes, uint32_t seed) {
  std::mt19937 random(seed);
  std::string out(bytes, '\0');
  for (char& c : out)
    c = static_cast<char>(random() & 0xff);
  return out;
}

class FileStoreConformance : public ::testing::TestWithParam<FileStoreKind> {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    std::string unique = fmt::format("{}-{}-{}", GetParam().name, info->name(), ::getpid());
    // Parameterised test names hold '/' ("Case/S3"): not a directory level.
    std::replace(unique.begin(), unique.end(), '/', '-');
    ASSERT_OK_AND_ASSIGN(opened_, GetParam().open(unique));
    ASSERT_NE(opened_.store, nullptr);
  }
  void TearDown() override {
    if (opened_.cleanup)
      opened_.cleanup();
  }

  FileStore& store() { return *opened_.store; }

  /// Stages `path`, writes `content` in pieces of `piece` bytes and commits: the state.
  Result<std::string> StageAndCommit(const std::string& path, std::string_view content,
                                     std::string_view tag = "e1", size_t piece = 1000) {
    SLUICE_ASSIGN_OR_RETURN(std::unique_ptr<StagedFile> file, store().Stage(path, tag));
    SLUICE_RETURN_IF_ERROR(WriteInPieces(*file, content, piece));
    SLUICE_ASSIGN_OR_RETURN(std::string state, file->Commit());
    SLUICE_RETURN_IF_ERROR(file->Close());
    return state;
  }

  static Status WriteInPieces(StagedFile& file, std::string_view content, size_t piece) {
    for (size_t offset = 0; offset < content.size(); offset += piece)
      SLUICE_RETURN_IF_ERROR(file.Write(content.substr(offset, piece)));
    return Status::OK();
  }

  std::vector<std::string> StagedPaths(const std::string& directory, std::string_view prefix) {
    std::vector<std::string> paths;
    Result<std::vector<StagedEntry>> entries = store().ListStaged(directory, prefix);
    EXPECT_OK(entries.status());
    if (entries.ok()) {
      for (const StagedEntry& entry : *entries)
        paths.push_back(entry.path);
    }
    return paths;
  }

  StoreUnderTest opened_;
};

using ::testing::ElementsAre;
using ::testing::IsEmpty;

TEST_P(FileStoreConformance, StagedFileIsPublishedWhole) {
  std::string path = "dt=2026-12-04/hr=09/events-000-00000.parquet";
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<StagedFile> file, store().Stage(path, "e1"));
  ASSERT_OK(file->Write("hello "));
  EXPECT_EQ(file->length(), 6u);
  ASSERT_OK_AND_ASSIGN(std::string first, file->Commit());
  ASSERT_OK(file->Write("world"));
  ASSERT_OK_AND_ASSIGN(std::string state, file->Commit());
  EXPECT_EQ(file->length(), 11u);
  ASSERT_OK(file->Close());
  ASSERT_OK(store().Publish(path, state));
  ASSERT_OK_AND_ASSIGN(std::string read, store().ReadFile(path));
  EXPECT_EQ(read, "hello world");
  ASSERT_OK_AND_ASSIGN(bool exists, store().Exists(path));
  EXPECT_TRUE(exists);
  ASSERT_OK_AND_ASSIGN(std::vector<std::string> names, store().List("dt=2026-12-04/hr=09"));
  EXPECT_THAT(names, ElementsAre("events-000-00000.parquet"));
  EXPECT_THAT(StagedPaths("", ""), IsEmpty());
}

TEST_P(FileStoreConformance, AFileIsInvisibleUntilPublished) {
  std::string path = "dt=1/part-0.csv";
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<StagedFile> file, store().Stage(path, "e1"));
  ASSERT_OK(file->Write("a,b\n"));
  auto expect_invisible = [&] {
    ASSERT_OK_AND_ASSIGN(std::vector<std::string> names, store().List("dt=1"));
    EXPECT_THAT(names, IsEmpty());
    ASSERT_OK_AND_ASSIGN(bool exists, store().Exists(path));
    EXPECT_FALSE(exists);
    Status read = store().ReadFile(path).status();
    EXPECT_EQ(read.code(), StatusCode::kNotFound) << read.ToString();
  };
  expect_invisible();
  ASSERT_OK_AND_ASSIGN(std::string state, file->Commit());
  expect_invisible();
  ASSERT_OK(file->Close());
  expect_invisible();
  ASSERT_OK(store().Publish(path, state));
  ASSERT_OK_AND_ASSIGN(std::vector<std::string> names, store().List("dt=1"));
  EXPECT_THAT(names, ElementsAre("part-0.csv"));
}

TEST_P(FileStoreConformance, ResumeDropsTheBytesWrittenAfterTheCommit) {
  std::string path = "dt=1/resumed.csv";
  std::string first_state;
  {
    ASSERT_OK_AND_ASSIGN(std::unique_ptr<StagedFile> file, store().Stage(path, "e1"));
    ASSERT_OK(file->Write("committed;"));
    ASSERT_OK_AND_ASSIGN(first_state, file->Commit());
    ASSERT_OK(file->Write("lost;"));
    ASSERT_OK_AND_ASSIGN(std::string later_state, file->Commit());  // never recorded
    ASSERT_OK(file->Write("lost too;"));
    // Destroyed without Close(): the writer crashed.
  }
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<StagedFile> resumed, store().Resume(path, first_state));
  EXPECT_EQ(resumed->length(), std::string("committed;").size());
  ASSERT_OK(resumed->Write("after;"));
  ASSERT_OK_AND_ASSIGN(std::string state, resumed->Commit());
  ASSERT_OK(resumed->Write("uncommitted at publish;"));
  resumed.reset();
  ASSERT_OK(store().Publish(path, state));
  ASSERT_OK_AND_ASSIGN(std::string read, store().ReadFile(path));
  EXPECT_EQ(read, "committed;after;");
}

TEST_P(FileStoreConformance, PublishTwiceIsOkAndAPublishedStateCannotBeResumed) {
  std::string path = "once.csv";
  ASSERT_OK_AND_ASSIGN(std::string state, StageAndCommit(path, "rows\n"));
  ASSERT_OK(store().Publish(path, state));
  ASSERT_OK(store().Publish(path, state));  // rolled forward again after a crash: fine
  ASSERT_OK_AND_ASSIGN(std::string read, store().ReadFile(path));
  EXPECT_EQ(read, "rows\n");
  Status resumed = store().Resume(path, state).status();
  EXPECT_EQ(resumed.code(), StatusCode::kNotFound) << resumed.ToString();
}

TEST_P(FileStoreConformance, PublishOntoAnotherFileIsAConflictAndChangesNothing) {
  std::string path = "dt=1/taken.csv";
  ASSERT_OK(store().WriteFile(path, "someone else's"));
  ASSERT_OK_AND_ASSIGN(std::string state, StageAndCommit(path, "mine"));
  Status published = store().Publish(path, state);
  EXPECT_EQ(published.code(), StatusCode::kConflict) << published.ToString();
  ASSERT_OK_AND_ASSIGN(std::string read, store().ReadFile(path));
  EXPECT_EQ(read, "someone else's");
  // The staged file is still there to discard.
  EXPECT_THAT(StagedPaths("", "taken"), ElementsAre(path));
  ASSERT_OK(store().Discard(path, state));
  EXPECT_THAT(StagedPaths("", ""), IsEmpty());
}

TEST_P(FileStoreConformance, DiscardDropsAStagedFile) {
  std::string path = "dt=1/dropped.csv";
  ASSERT_OK_AND_ASSIGN(std::string state, StageAndCommit(path, "abc"));
  ASSERT_OK(store().Discard(path, state));
  ASSERT_OK(store().Discard(path, state));  // gone already: fine
  EXPECT_THAT(StagedPaths("", ""), IsEmpty());
  Status published = store().Publish(path, state);
  EXPECT_EQ(published.code(), StatusCode::kNotFound) << published.ToString();
  ASSERT_OK_AND_ASSIGN(bool exists, store().Exists(path));
  EXPECT_FALSE(exists);
  ASSERT_OK_AND_ASSIGN(std::vector<std::string> names, store().List("dt=1"));
  EXPECT_THAT(names, IsEmpty());
}

TEST_P(FileStoreConformance, ListStagedFindsWhatACrashLeftByNamePrefix) {
  {
    // Staged, written, never committed: what a crash leaves that no manifest names.
    ASSERT_OK_AND_ASSIGN(std::unique_ptr<StagedFile> nested,
                         store().Stage("dt=1/hr=2/events-000-00001.parquet", "e7"));
    ASSERT_OK(nested->Write("partial"));
    ASSERT_OK_AND_ASSIGN(std::unique_ptr<StagedFile> other,
                         store().Stage("dt=1/other-000-00001.parquet", "e7"));
    ASSERT_OK_AND_ASSIGN(std::unique_ptr<StagedFile> top,
                         store().Stage("events-top.parquet", "e7"));
    ASSERT_OK_AND_ASSIGN(std::unique_ptr<StagedFile> elsewhere,
                         store().Stage("dt=2/events-000-00002.parquet", "e7"));
  }
  ASSERT_OK_AND_ASSIGN(std::string published, StageAndCommit("dt=1/events-done.parquet", "x"));
  ASSERT_OK(store().Publish("dt=1/events-done.parquet", published));

  EXPECT_THAT(StagedPaths("dt=1", "events-"), ElementsAre("dt=1/hr=2/events-000-00001.parquet"));
  EXPECT_THAT(StagedPaths("", "events-"),
              ElementsAre("dt=1/hr=2/events-000-00001.parquet", "dt=2/events-000-00002.parquet",
                          "events-top.parquet"));
  EXPECT_THAT(StagedPaths("dt=1", "other-"), ElementsAre("dt=1/other-000-00001.parquet"));
  EXPECT_THAT(StagedPaths("dt=1", "nothing-"), IsEmpty());
  EXPECT_THAT(StagedPaths("no/such/dir", ""), IsEmpty());
  // "dt=1" is a directory, not a prefix of names: "dt=10" is not in it.
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<StagedFile> sibling,
                       store().Stage("dt=10/events-9.parquet", "e7"));
  EXPECT_THAT(StagedPaths("dt=1", "events-"), ElementsAre("dt=1/hr=2/events-000-00001.parquet"));
  sibling.reset();

  // What ListStaged returns, Discard takes.
  ASSERT_OK_AND_ASSIGN(std::vector<StagedEntry> entries, store().ListStaged("", ""));
  EXPECT_EQ(entries.size(), 5u);
  for (const StagedEntry& entry : entries)
    ASSERT_OK(store().Discard(entry.path, entry.state));
  EXPECT_THAT(StagedPaths("", ""), IsEmpty());
  ASSERT_OK_AND_ASSIGN(std::string read, store().ReadFile("dt=1/events-done.parquet"));
  EXPECT_EQ(read, "x");
}

TEST_P(FileStoreConformance, WriteFileReplacesTheWholeFile) {
  ASSERT_OK(store().WriteFile("_manifest/00001.json", "{\"v\": 1}"));
  ASSERT_OK_AND_ASSIGN(std::string first, store().ReadFile("_manifest/00001.json"));
  EXPECT_EQ(first, "{\"v\": 1}");
  ASSERT_OK(store().WriteFile("_manifest/00001.json", "{\"v\": 2, \"longer\": true}"));
  ASSERT_OK_AND_ASSIGN(std::string second, store().ReadFile("_manifest/00001.json"));
  EXPECT_EQ(second, "{\"v\": 2, \"longer\": true}");
  ASSERT_OK(store().WriteFile("_manifest/00001.json", ""));
  ASSERT_OK_AND_ASSIGN(std::string empty, store().ReadFile("_manifest/00001.json"));
  EXPECT_EQ(empty, "");
  // No temporary file is left beside it, listed or staged.
  ASSERT_OK_AND_ASSIGN(std::vector<std::string> names, store().List("_manifest"));
  EXPECT_THAT(names, ElementsAre("00001.json"));
  EXPECT_THAT(StagedPaths("", ""), IsEmpty());
}

TEST_P(FileStoreConformance, ListIsSortedWithDirectoriesAndWithoutStagedFiles) {
  for (std::string_view path : {"b.csv", "a.csv", "dt=2/x.csv", "dt=1/y.csv", "c/d/e.csv"})
    ASSERT_OK(store().WriteFile(std::string(path), "x"));
  // Staged files beside them, committed or not, are not listed. (S3 keeps committed tails under
  // _sluice/, which List shows as stored; these stay uncommitted for that reason.)
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<StagedFile> staged, store().Stage("zz.csv", "e1"));
  ASSERT_OK(staged->Write("pending"));
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<StagedFile> nested, store().Stage("dt=1/zz.csv", "e1"));
  ASSERT_OK_AND_ASSIGN(std::vector<std::string> root, store().List(""));
  EXPECT_THAT(root, ElementsAre("a.csv", "b.csv", "c/", "dt=1/", "dt=2/"));
  ASSERT_OK_AND_ASSIGN(std::vector<std::string> partition, store().List("dt=1"));
  EXPECT_THAT(partition, ElementsAre("y.csv"));
  // A directory named as List returns it, with its '/', lists the same.
  ASSERT_OK_AND_ASSIGN(std::vector<std::string> slashed, store().List("dt=1/"));
  EXPECT_THAT(slashed, ElementsAre("y.csv"));
  ASSERT_OK_AND_ASSIGN(std::vector<std::string> deeper, store().List("c"));
  EXPECT_THAT(deeper, ElementsAre("d/"));
  ASSERT_OK_AND_ASSIGN(std::vector<std::string> missing, store().List("no/such"));
  EXPECT_THAT(missing, IsEmpty());

  ASSERT_OK(store().Delete("a.csv"));
  ASSERT_OK(store().Delete("a.csv"));  // missing: fine
  ASSERT_OK_AND_ASSIGN(bool exists, store().Exists("a.csv"));
  EXPECT_FALSE(exists);
  Status read = store().ReadFile("a.csv").status();
  EXPECT_EQ(read.code(), StatusCode::kNotFound) << read.ToString();
}

TEST_P(FileStoreConformance, EmptyFile) {
  std::string path = "dt=1/empty.csv";
  ASSERT_OK_AND_ASSIGN(std::string state, StageAndCommit(path, ""));
  ASSERT_OK(store().Publish(path, state));
  ASSERT_OK(store().Publish(path, state));
  ASSERT_OK_AND_ASSIGN(std::string read, store().ReadFile(path));
  EXPECT_EQ(read, "");
  ASSERT_OK_AND_ASSIGN(std::vector<std::string> names, store().List("dt=1"));
  EXPECT_THAT(names, ElementsAre("empty.csv"));
  EXPECT_THAT(StagedPaths("", ""), IsEmpty());

  // An empty staged file onto another file is still a conflict.
  ASSERT_OK(store().WriteFile("dt=1/full.csv", "x"));
  ASSERT_OK_AND_ASSIGN(std::string other, StageAndCommit("dt=1/full.csv", ""));
  EXPECT_EQ(store().Publish("dt=1/full.csv", other).code(), StatusCode::kConflict);
  ASSERT_OK(store().Discard("dt=1/full.csv", other));
}

TEST_P(FileStoreConformance, AForkGoesOnFromTheCommitWhileTheOriginalsWriterStillWrites) {
  // A run taking over from one that may still be alive continues a fork; the old writer goes on
  // writing and committing its original (a frozen process woken up), and neither sees the
  // other's bytes. Over S3 parts (5 MiB) and HDFS appends.
  constexpr size_t kMiB = 1024 * 1024;
  std::string path = "dt=2026-12-04/taken.parquet";
  std::string committed = VariedBytes(6 * kMiB + 333, 3);
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<StagedFile> old_writer, store().Stage(path, "e1"));
  ASSERT_OK(WriteInPieces(*old_writer, committed, 1000003));
  ASSERT_OK_AND_ASSIGN(std::string state, old_writer->Commit());
  ASSERT_OK(WriteInPieces(*old_writer, VariedBytes(6 * kMiB, 4), 1000003));
  ASSERT_OK_AND_ASSIGN(std::string fork_state, store().Fork(path, state, "e2"));
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<StagedFile> new_writer, store().Resume(path, fork_state));
  EXPECT_EQ(new_writer->length(), committed.size());
  std::string rest = VariedBytes(6 * kMiB + 77, 5);
  ASSERT_OK(WriteInPieces(*new_writer, rest, 1000003));
  // The old writer wakes up in between: more parts, a commit of its own.
  ASSERT_OK(WriteInPieces(*old_writer, VariedBytes(6 * kMiB, 6), 1000003));
  ASSERT_OK(old_writer->Commit().status());
  ASSERT_OK(old_writer->Close());
  ASSERT_OK_AND_ASSIGN(std::string final_state, new_writer->Commit());
  ASSERT_OK(new_writer->Close());
  ASSERT_OK(store().Publish(path, final_state));
  ASSERT_OK_AND_ASSIGN(std::string read, store().ReadFile(path));
  std::string expected = committed + rest;
  ASSERT_EQ(read.size(), expected.size());
  EXPECT_TRUE(read == expected) << "the fork's bytes differ";
}

TEST_P(FileStoreConformance, SeveralMebibytesResumedMidWay) {
  // Over several S3 parts (the S3 instantiation sets 5 MiB parts) and HDFS appends (8 MiB) and
  // blocks (1 MiB in the test cluster); commits fall inside parts and blocks.
  constexpr size_t kMiB = 1024 * 1024;
  std::string path = "dt=2026-12-04/big.parquet";
  std::string written = VariedBytes(17 * kMiB, 1);
  size_t first_commit = 3 * kMiB + 17;
  size_t second_commit = 7 * kMiB + 12345;
  std::string second_state;
  {
    ASSERT_OK_AND_ASSIGN(std::unique_ptr<StagedFile> file, store().Stage(path, "e1"));
    ASSERT_OK(WriteInPieces(*file, std::string_view(written).substr(0, first_commit), 300001));
    ASSERT_OK(file->Commit().status());
    ASSERT_OK(WriteInPieces(
        *file, std::string_view(written).substr(first_commit, second_commit - first_commit),
        700001));
    ASSERT_OK_AND_ASSIGN(second_state, file->Commit());
    // 10 MiB more, part of it sent to the store, then the crash.
    ASSERT_OK(WriteInPieces(*file, std::string_view(written).substr(second_commit), 1000003));
  }
  std::string rest = VariedBytes(5 * kMiB + 999, 2);
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<StagedFile> resumed, store().Resume(path, second_state));
  EXPECT_EQ(resumed->length(), second_commit);
  ASSERT_OK(WriteInPieces(*resumed, rest, 65536));
  ASSERT_OK_AND_ASSIGN(std::string state, resumed->Commit());
  ASSERT_OK(resumed->Close());
  ASSERT_OK(store().Publish(path, state));
  ASSERT_OK_AND_ASSIGN(std::string read, store().ReadFile(path));
  std::string expected = written.substr(0, second_commit) + rest;
  ASSERT_EQ(read.size(), expected.size());
  EXPECT_TRUE(read == expected) << "the published bytes differ";
}

TEST_P(FileStoreConformance, UnicodeAndSpacesInNames) {
  std::string path = "dt=2026-12-04/ünï côde.parquet";
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<StagedFile> file, store().Stage(path, "e1"));
  ASSERT_OK(file->Write("ünï"));
  ASSERT_OK_AND_ASSIGN(std::string state, file->Commit());
  file.reset();
  EXPECT_THAT(StagedPaths("dt=2026-12-04", "ünï c"), ElementsAre(path));
  ASSERT_OK(store().Publish(path, state));
  ASSERT_OK_AND_ASSIGN(std::vector<std::string> names, store().List("dt=2026-12-04"));
  EXPECT_THAT(names, ElementsAre("ünï côde.parquet"));
  ASSERT_OK_AND_ASSIGN(std::string read, store().ReadFile(path));
  EXPECT_EQ(read, "ünï");
  ASSERT_OK(store().WriteFile("dt=2026-12-04/_ä manifest.json", "{}"));
  ASSERT_OK_AND_ASSIGN(std::string manifest, store().ReadFile("dt=2026-12-04/_ä manifest.json"));
  EXPECT_EQ(manifest, "{}");
  EXPECT_EQ(store().Uri(path), opened_.uri_root + "/" + path);
}

TEST_P(FileStoreConformance, UriNamesThePathAsOtherToolsDo) {
  EXPECT_EQ(store().Uri("dt=1/a.parquet"), opened_.uri_root + "/dt=1/a.parquet");
  EXPECT_EQ(store().Uri("a.parquet"), opened_.uri_root + "/a.parquet");
}

TEST_P(FileStoreConformance, UsableFromSeveralThreadsAtOnce) {
  std::vector<std::thread> threads;
  std::vector<Status> results(4);
  for (size_t t = 0; t < results.size(); ++t) {
    threads.emplace_back([&, t] {
      results[t] = [&]() -> Status {
        for (int i = 0; i < 5; ++i) {
          std::string path = fmt::format("t{}/f{}.txt", t, i);
          std::string content = fmt::format("thread {} file {}", t, i);
          SLUICE_RETURN_IF_ERROR(store().WriteFile(path, content));
          SLUICE_ASSIGN_OR_RETURN(std::string state, StageAndCommit(path + ".staged", content));
          SLUICE_RETURN_IF_ERROR(store().Publish(path + ".staged", state));
          SLUICE_ASSIGN_OR_RETURN(std::string read, store().ReadFile(path + ".staged"));
          if (read != content)
            return Internal(fmt::format("read '{}' from {}", read, path));
        }
        return Status::OK();
      }();
    });
  }
  for (std::thread& thread : threads)
    thread.join();
  for (const Status& status : results)
    EXPECT_OK(status);
  ASSERT_OK_AND_ASSIGN(std::vector<std::string> names, store().List("t2"));
  EXPECT_EQ(names.size(), 10u);
}

}  // namespace sluice::io
