// Exactly-once delivery of the file sink: rows and progress commit together; a crash (objects
// destroyed without Abort, stray bytes after the committed length, SIGKILL at every step of a
// commit) loses nothing committed and repeats nothing; a stopped job resumes into the files an
// uninterrupted run writes; at-least-once stores no progress; a fresh run starts clean. Stops and
// kills land at failpoints (core/failpoint.h), never after a delay.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <random>

#include "connectors/file/file_manifest.h"
#include "connectors/file/tests/file_test_util.h"
#include "connectors/registry.h"
#include "core/logging.h"
#include "io/file_system.h"
#include "runtime/job_runner.h"
#include "testing/crash_loop.h"
#include "testing/memory_connector.h"
#include "testing/random_rows.h"
#include "testing/stop_at_batch.h"
#include "testing/temp_dir.h"

namespace sluice::connectors {
void RegisterFileConnector(ConnectorRegistry& registry);
}  // namespace sluice::connectors

namespace sluice::connectors::file {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using testing::Row;

constexpr std::string_view kInProgress = ".inprogress";

SchemaPtr Orders() {
  return std::make_shared<Schema>(
      std::vector<Field>{{"id", DataType::Int64(), false}, {"name", DataType::String(), true}});
}

std::vector<StreamInfo> OrdersStream() {
  return {StreamInfo{"orders", Orders(), std::nullopt}};
}

std::vector<Row> MakeRows(int from, int count) {
  std::vector<Row> rows;
  for (int i = from; i < from + count; ++i)
    rows.push_back({std::to_string(i), "name " + std::to_string(i)});
  return rows;
}

std::unique_ptr<Batch> RowsBatch(int from, int count) {
  return testing::MakeBatch(Orders(), MakeRows(from, count));
}

// The decompressed text of `path` (an error text when it does not read back whole); kAuto
// picks the codec by the extension, which an in-progress name does not have.
std::string ReadText(const std::string& path,
                     io::Compression compression = io::Compression::kAuto) {
  Result<std::unique_ptr<io::InputStream>> in = io::OpenInputFile(path, compression);
  if (!in.ok())
    return in.status().ToString();
  std::string out;
  char buffer[65536];
  for (;;) {
    Result<size_t> got = (*in)->Read(buffer, sizeof(buffer));
    if (!got.ok())
      return "ERROR " + got.status().ToString();
    if (*got == 0)
      return out;
    out.append(buffer, *got);
  }
}

std::vector<std::string> Listing(const std::string& directory) {
  Result<std::vector<std::string>> names = io::ListDirectory(directory);
  if (!names.ok())
    return {};
  std::sort(names->begin(), names->end());
  return *names;
}

// What a reader of an output directory sees: published files (name -> decompressed text), and
// the names of the in-progress parts and manifests it must ignore. The job's run fence (two small
// files, `.sluice-<job>.lock` and `.epoch`) stays and is left out.
struct Outputs {
  std::map<std::string, std::string> published;
  std::vector<std::string> hidden;
};

Outputs Snapshot(const std::string& directory) {
  Outputs out;
  for (const std::string& name : Listing(directory)) {
    if (name.ends_with(".lock") || name.ends_with(".epoch"))
      continue;

    if (name[0] == '.' || name.ends_with(kInProgress)) {
      out.hidden.push_back(name);
    } else {
      out.published[name] = ReadText(directory + "/" + name);
    }
  }
  return out;
}

// Data lines of every published file (headers "id,name" dropped), files in name order.
std::vector<std::string> DataLines(const Outputs& outputs) {
  std::vector<std::string> lines;
  for (const auto& [name, text] : outputs.published) {
    size_t start = 0;
    while (start < text.size()) {
      size_t end = text.find('\n', start);
      std::string line = text.substr(start, end - start);
      if (line != "id,name")
        lines.push_back(line);
      start = end == std::string::npos ? text.size() : end + 1;
    }
  }
  return lines;
}

// The lines an uninterrupted run writes for rows [0, count), CSV or JSON Lines.
std::vector<std::string> ExpectedLines(int count, bool csv) {
  std::vector<std::string> lines;
  for (int i = 0; i < count; ++i) {
    lines.push_back(csv ? fmt::format("{},name {}", i, i)
                        : fmt::format("{{\"id\":{},\"name\":\"name {}\"}}", i, i));
  }
  return lines;
}

std::string ManifestOf(const std::string& directory, int slot) {
  return ManifestPath(directory, "test", slot);
}

const char* const kExtensions[] = {".csv", ".csv.gz", ".jsonl.zst"};

// ---- the sink driven directly ---------------------------------------------------------------

TEST(FileSinkExactlyOnceTest, CommitKeepsRowsAndProgressTogetherThroughACrash) {
  for (const char* extension : kExtensions) {
    SCOPED_TRACE(extension);
    testing::TempDir temp;
    std::string path = temp.Join(std::string("out/orders") + extension);
    std::string in_progress = path + std::string(kInProgress);
    io::Compression compression = io::CompressionFromPath(path);
    std::string sink_yaml = fmt::format("{{path: '{}'}}", path);
    {
      ASSERT_OK_AND_ASSIGN(auto sink, MakeSink(sink_yaml));
      TestContext test;
      ASSERT_OK(sink->Open(test.context, OrdersStream()));
      ASSERT_OK_AND_ASSIGN(auto writer, sink->CreateWriter(0));
      ASSERT_OK(writer->Write(*RowsBatch(0, 100)));
      ASSERT_OK(writer->Prepare());
      ASSERT_OK(writer->Commit(CommitContext{1, {{"s0", "100", false}, {"s1", "", true}}}));
      ASSERT_OK(writer->Write(*RowsBatch(100, 50)));  // never committed
      ASSERT_OK(writer->Prepare());
      // The crash: no Commit, no Abort; the objects just go away.
    }
    // Bytes that reached the disk after the commit, and a manifest that never got renamed.
    {
      FILE* file = std::fopen(in_progress.c_str(), "ab");
      ASSERT_NE(file, nullptr);
      std::fputs("999,torn row after the commit", file);
      std::fclose(file);
      testing::WriteFileOrDie(ManifestOf(temp.Join("out"), 0) + ".tmp", "{\"torn");
    }
    EXPECT_FALSE(io::PathExists(path));

    ASSERT_OK_AND_ASSIGN(auto sink, MakeSink(sink_yaml));
    TestContext test;
    test.context.resuming = true;
    ASSERT_OK_AND_ASSIGN(std::vector<SplitProgress> progress, sink->RecoverProgress(test.context));
    EXPECT_THAT(progress,
                ElementsAre(SplitProgress{"s0", "100", false}, SplitProgress{"s1", "", true}));
    // Exactly the committed rows are left, as a valid file.
    std::string header = path.find(".csv") != std::string::npos ? "id,name\n" : "";
    std::vector<std::string> committed = ExpectedLines(100, !header.empty());
    std::string committed_text = header;
    for (const std::string& line : committed)
      committed_text += line + "\n";
    EXPECT_EQ(ReadText(in_progress, compression), committed_text);
    EXPECT_THAT(Listing(temp.Join("out")),
                ElementsAre(".sluice-test-0.manifest",
                            std::string("orders") + extension + std::string(kInProgress)));

    // The resumed writer continues the same file.
    ASSERT_OK(sink->Open(test.context, OrdersStream()));
    ASSERT_OK_AND_ASSIGN(auto writer, sink->CreateWriter(0));
    ASSERT_OK(writer->Write(*RowsBatch(100, 100)));
    ASSERT_OK(writer->Prepare());
    ASSERT_OK(writer->Commit(CommitContext{2, {{"s0", "200", true}}}));
    writer->Abort();
    ASSERT_OK(sink->Finish());
    EXPECT_THAT(Listing(temp.Join("out")), ElementsAre(std::string("orders") + extension));

    // Byte for byte what an uninterrupted run writes (compressed: the same text, in one more
    // gzip member or zstd frame).
    testing::TempDir clean;
    std::string clean_path = clean.Join(std::string("orders") + extension);
    ASSERT_OK_AND_ASSIGN(auto uninterrupted, MakeSink(fmt::format("{{path: '{}'}}", clean_path)));
    TestContext clean_test;
    auto all = RowsBatch(0, 200);
    ASSERT_OK(WriteAll(uninterrupted.get(), &clean_test, OrdersStream(), {{all.get()}}));
    EXPECT_EQ(ReadText(path), ReadText(clean_path));
    if (compression == io::Compression::kNone) {
      EXPECT_EQ(testing::ReadFileOrDie(path), testing::ReadFileOrDie(clean_path));
    }

    // A finished job leaves no progress behind.
    ASSERT_OK_AND_ASSIGN(auto after, MakeSink(sink_yaml));
    ASSERT_OK_AND_ASSIGN(progress, after->RecoverProgress(test.context));
    EXPECT_THAT(progress, IsEmpty());
  }
}

TEST(FileSinkExactlyOnceTest, CrashAfterARollKeepsOnlyCommittedParts) {
  for (const char* extension : kExtensions) {
    SCOPED_TRACE(extension);
    testing::TempDir temp;
    std::string directory = temp.Join("o");
    std::string sink_yaml =
        fmt::format("{{path: '{}', roll_rows: 30}}", directory + "/orders" + extension);
    auto part = [&](int number) {
      return fmt::format("{}/orders-000-{:05}{}", directory, number, extension);
    };
    {
      ASSERT_OK_AND_ASSIGN(auto sink, MakeSink(sink_yaml));
      TestContext test;
      ASSERT_OK(sink->Open(test.context, OrdersStream()));
      ASSERT_OK_AND_ASSIGN(auto writer, sink->CreateWriter(0));
      ASSERT_OK(writer->Write(*RowsBatch(0, 45)));  // part 0 rolls at 30 rows
      ASSERT_OK(writer->Prepare());
      ASSERT_OK(writer->Commit(CommitContext{1, {{"s0", "45", false}}}));
      EXPECT_TRUE(io::PathExists(part(0)));
      ASSERT_OK(writer->Write(*RowsBatch(45, 35)));  // part 1 rolls at 60; part 2 begins
      EXPECT_TRUE(io::PathExists(part(2) + std::string(kInProgress)));
    }
    // As if the crash had come between the manifest's rename and the part's rename.
    ASSERT_OK(io::RenameFile(part(0), part(0) + std::string(kInProgress)));

    ASSERT_OK_AND_ASSIGN(auto sink, MakeSink(sink_yaml));
    TestContext test;
    test.context.resuming = true;
    ASSERT_OK_AND_ASSIGN(std::vector<SplitProgress> progress, sink->RecoverProgress(test.context));
    EXPECT_THAT(progress, ElementsAre(SplitProgress{"s0", "45", false}));
    EXPECT_TRUE(io::PathExists(part(0)));  // rolled forward
    ASSERT_OK(sink->Open(test.context, OrdersStream()));
    // Part 2 was never committed: gone. Part 1 is back to its committed 15 rows.
    EXPECT_FALSE(io::PathExists(part(2) + std::string(kInProgress)));
    ASSERT_OK_AND_ASSIGN(auto writer, sink->CreateWriter(0));
    ASSERT_OK(writer->Write(*RowsBatch(45, 55)));
    ASSERT_OK(writer->Prepare());
    ASSERT_OK(writer->Commit(CommitContext{2, {{"s0", "100", true}}}));
    writer.reset();
    ASSERT_OK(sink->Finish());

    testing::TempDir clean;
    ASSERT_OK_AND_ASSIGN(auto uninterrupted,
                         MakeSink(fmt::format("{{path: '{}', roll_rows: 30}}",
                                              clean.Join(std::string("orders") + extension))));
    TestContext clean_test;
    auto all = RowsBatch(0, 100);
    ASSERT_OK(WriteAll(uninterrupted.get(), &clean_test, OrdersStream(), {{all.get()}}));
    Outputs resumed = Snapshot(directory);
    EXPECT_THAT(resumed.hidden, IsEmpty());
    EXPECT_EQ(resumed.published, Snapshot(clean.path()).published);
    EXPECT_EQ(resumed.published.size(), 4u);
  }
}

TEST(FileSinkExactlyOnceTest, AbortKeepsTheCommittedAndDropsTheRest) {
  testing::TempDir temp;
  std::string path = temp.Join("a.csv.gz");
  ASSERT_OK_AND_ASSIGN(auto sink, MakeSink(fmt::format("{{path: '{}'}}", path)));
  TestContext test;
  ASSERT_OK(sink->Open(test.context, OrdersStream()));
  ASSERT_OK_AND_ASSIGN(auto writer, sink->CreateWriter(0));
  ASSERT_OK(writer->Write(*RowsBatch(0, 10)));
  ASSERT_OK(writer->Prepare());
  ASSERT_OK(writer->Commit(CommitContext{1, {{"s0", "10", false}}}));
  uint64_t committed = *io::FileSize(path + std::string(kInProgress));
  ASSERT_OK(writer->Write(*RowsBatch(10, 1000)));
  ASSERT_OK(writer->Prepare());
  EXPECT_GT(*io::FileSize(path + std::string(kInProgress)), committed);
  writer->Abort();
  sink->Abort();
  EXPECT_EQ(*io::FileSize(path + std::string(kInProgress)), committed);
  EXPECT_THAT(Listing(temp.path()), ElementsAre(".sluice-test-0.manifest", "a.csv.gz.inprogress"));
}

TEST(FileSinkExactlyOnceTest, ForgetProgressDeletesManifestsAndInProgressParts) {
  testing::TempDir temp;
  std::string sink_yaml = fmt::format("{{path: '{}', roll_rows: 4}}", temp.Join("f.csv"));
  {
    ASSERT_OK_AND_ASSIGN(auto sink, MakeSink(sink_yaml));
    TestContext test;
    ASSERT_OK(sink->Open(test.context, OrdersStream()));
    ASSERT_OK_AND_ASSIGN(auto writer, sink->CreateWriter(0));
    ASSERT_OK(writer->Write(*RowsBatch(0, 6)));
    ASSERT_OK(writer->Prepare());
    ASSERT_OK(writer->Commit(CommitContext{1, {{"s0", "6", false}}}));
  }
  EXPECT_THAT(Listing(temp.path()), ElementsAre(".sluice-test-0.manifest", "f-000-00000.csv",
                                                "f-000-00001.csv.inprogress"));
  ASSERT_OK_AND_ASSIGN(auto sink, MakeSink(sink_yaml));
  TestContext test;
  ASSERT_OK(sink->ForgetProgress(test.context));
  EXPECT_THAT(Listing(temp.path()), ElementsAre("f-000-00000.csv"));
  ASSERT_OK_AND_ASSIGN(std::vector<SplitProgress> progress, sink->RecoverProgress(test.context));
  EXPECT_THAT(progress, IsEmpty());
  // The fresh run (mode overwrite) replaces the earlier output as well.
  auto rows = RowsBatch(100, 2);
  ASSERT_OK(WriteAll(sink.get(), &test, OrdersStream(), {{rows.get()}}));
  EXPECT_THAT(Listing(temp.path()), ElementsAre("f-000-00000.csv"));
  EXPECT_EQ(ReadText(temp.Join("f-000-00000.csv")), "id,name\n100,name 100\n101,name 101\n");
}

TEST(FileSinkExactlyOnceTest, AMissingCommittedPartStopsTheResume) {
  testing::TempDir temp;
  std::string path = temp.Join("m.csv");
  std::string sink_yaml = fmt::format("{{path: '{}'}}", path);
  {
    ASSERT_OK_AND_ASSIGN(auto sink, MakeSink(sink_yaml));
    TestContext test;
    ASSERT_OK(sink->Open(test.context, OrdersStream()));
    ASSERT_OK_AND_ASSIGN(auto writer, sink->CreateWriter(0));
    ASSERT_OK(writer->Write(*RowsBatch(0, 2)));
    ASSERT_OK(writer->Commit(CommitContext{1, {{"s0", "2", false}}}));
  }
  ASSERT_OK(io::RemoveFile(path + std::string(kInProgress)));
  ASSERT_OK_AND_ASSIGN(auto sink, MakeSink(sink_yaml));
  TestContext test;
  test.context.resuming = true;
  Result<std::vector<SplitProgress>> progress = sink->RecoverProgress(test.context);
  EXPECT_EQ(progress.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(progress.status().message(),
            fmt::format("cannot resume job 'test' slot 0: its in-progress part '{}.inprogress' is "
                        "gone; run the job with --fresh",
                        path));
}

TEST(FileSinkExactlyOnceTest, AFinishThatACrashInterruptedIsCompletedNotRedone) {
  testing::TempDir temp;
  std::string path = temp.Join("done.csv.zst");
  std::string sink_yaml = fmt::format("{{path: '{}'}}", path);
  std::string manifest;
  {
    ASSERT_OK_AND_ASSIGN(auto sink, MakeSink(sink_yaml));
    TestContext test;
    ASSERT_OK(sink->Open(test.context, OrdersStream()));
    ASSERT_OK_AND_ASSIGN(auto writer, sink->CreateWriter(0));
    ASSERT_OK(writer->Write(*RowsBatch(0, 20)));
    ASSERT_OK(writer->Prepare());
    ASSERT_OK(writer->Commit(CommitContext{1, {{"s0", "20", true}}}));
    writer.reset();
    manifest = testing::ReadFileOrDie(ManifestOf(temp.path(), 0));
    ASSERT_OK(sink->Finish());
  }
  std::string published = testing::ReadFileOrDie(path);
  // Two crash points: after the publishing renames (manifest still there), and after the
  // manifests were deleted but before the runtime recorded the success. Either way the resumed
  // run has nothing left to write and must leave the published file alone.
  for (bool manifest_left : {true, false}) {
    SCOPED_TRACE(manifest_left);
    if (manifest_left)
      testing::WriteFileOrDie(ManifestOf(temp.path(), 0), manifest);
    ASSERT_OK_AND_ASSIGN(auto sink, MakeSink(sink_yaml));
    TestContext test;
    test.context.resuming = true;
    ASSERT_OK_AND_ASSIGN(std::vector<SplitProgress> progress, sink->RecoverProgress(test.context));
    EXPECT_EQ(progress.size(), manifest_left ? 1u : 0u);
    ASSERT_OK(sink->Open(test.context, OrdersStream()));
    ASSERT_OK_AND_ASSIGN(auto writer, sink->CreateWriter(0));
    ASSERT_OK(writer->Prepare());
    ASSERT_OK(writer->Commit(CommitContext{2, {}}));
    writer->Abort();
    ASSERT_OK(sink->Finish());
    EXPECT_EQ(testing::ReadFileOrDie(path), published);
    EXPECT_THAT(Listing(temp.path()), ElementsAre("done.csv.zst"));
  }
}

// Issue 10: two overlapping runs once published a CSV with ids missing, repeated and spliced. A
// run that lost the job (frozen, then taken over) may still write into the files it had open,
// but it cannot commit, publish or claim again, and what it writes never reaches the newer
// run's files, which hold every row once.
TEST(FileSinkExactlyOnceTest, ARunTakenOverCannotCommitOrPublishOrTouchTheNewerRunsFiles) {
  for (const char* extension : kExtensions) {
    for (const char* rolling : {"", ", roll_rows: 7"}) {
      SCOPED_TRACE(fmt::format("{}{}", extension, rolling));
      testing::TempDir temp;
      std::string path = temp.Join(std::string("out/orders") + extension);
      std::string sink_yaml = fmt::format("{{path: '{}'{}}}", path, rolling);
      ASSERT_OK_AND_ASSIGN(auto stale_sink, MakeSink(sink_yaml));
      TestContext stale;
      stale.context.run_epoch = 100;
      ASSERT_OK(stale_sink->Claim(stale.context));
      ASSERT_OK(stale_sink->Open(stale.context, OrdersStream()));
      ASSERT_OK_AND_ASSIGN(auto stale_writer, stale_sink->CreateWriter(0));
      ASSERT_OK(stale_writer->Write(*RowsBatch(0, 20)));
      ASSERT_OK(stale_writer->Prepare());
      ASSERT_OK(stale_writer->Commit(CommitContext{1, {{"s0", "20", false}}}));
      ASSERT_OK(stale_writer->Write(*RowsBatch(20, 5)));  // frozen after this, uncommitted

      // A newer run takes over from a run that may still be alive.
      ASSERT_OK_AND_ASSIGN(auto sink, MakeSink(sink_yaml));
      TestContext newer;
      newer.context.run_epoch = 200;
      newer.context.resuming = true;
      newer.context.earlier_run_may_be_alive = true;
      ASSERT_OK(sink->Claim(newer.context));
      ASSERT_OK_AND_ASSIGN(std::vector<SplitProgress> progress,
                           sink->RecoverProgress(newer.context));
      EXPECT_THAT(progress, ElementsAre(SplitProgress{"s0", "20", false}));
      ASSERT_OK(sink->Open(newer.context, OrdersStream()));
      ASSERT_OK_AND_ASSIGN(auto writer, sink->CreateWriter(0));
      ASSERT_OK(writer->Write(*RowsBatch(20, 15)));

      // The stale run wakes up, writes on into its own files, and fails to commit.
      ASSERT_OK(stale_writer->Write(*RowsBatch(25, 30)));
      ASSERT_OK(stale_writer->Prepare());
      Status refused = stale_writer->Commit(CommitContext{2, {{"s0", "55", true}}});
      EXPECT_EQ(refused.code(), StatusCode::kConflict) << refused.ToString();
      EXPECT_THAT(refused.message(), ::testing::HasSubstr("has taken over this target"));
      stale_writer->Abort();
      EXPECT_EQ(stale_sink->Finish().code(), StatusCode::kConflict);
      EXPECT_EQ(stale_sink->Claim(stale.context).code(), StatusCode::kConflict);

      ASSERT_OK(writer->Write(*RowsBatch(35, 15)));
      ASSERT_OK(writer->Prepare());
      ASSERT_OK(writer->Commit(CommitContext{2, {{"s0", "50", true}}}));
      writer.reset();
      ASSERT_OK(sink->Finish());
      Outputs outputs = Snapshot(temp.Join("out"));
      EXPECT_THAT(outputs.hidden, IsEmpty());
      std::vector<std::string> lines = DataLines(outputs);
      EXPECT_EQ(lines, ExpectedLines(50, std::string(extension).starts_with(".csv")))
          << "rows lost, repeated or spliced";
    }
  }
}

TEST(FileSinkExactlyOnceTest, ManifestRoundTripsEveryField) {
  WriterManifest manifest;
  manifest.job = "job/with spaces";
  manifest.slot = 7;
  manifest.generation = 3;
  manifest.epoch = 11;
  manifest.single_file = true;
  StreamManifest stream;
  stream.stream = "orders";
  stream.next_part = 4;
  stream.complete = {CompletePart{"out/a-007-00002.csv", "out/a-007-00002.csv.e11.inprogress"}};
  stream.current =
      CurrentPart{"out/a-007-00003.csv", "out/a-007-00003.csv.e9.inprogress", 3, 123, 45, 678};
  manifest.streams.push_back(stream);
  manifest.progress.push_back(TaggedProgress{{"data/\xff\xfe.csv", "{\"offset\":1}", true}, 2, 9});
  ASSERT_OK_AND_ASSIGN(WriterManifest decoded, DecodeManifest(EncodeManifest(manifest), "m"));
  EXPECT_EQ(EncodeManifest(decoded), EncodeManifest(manifest));
  EXPECT_EQ(decoded.progress[0].progress.split_id, "data/\xff\xfe.csv");
  EXPECT_EQ(decoded.streams[0].current->text_bytes, 678u);
  EXPECT_EQ(decoded.streams[0].current->file, "out/a-007-00003.csv.e9.inprogress");
  EXPECT_EQ(decoded.epoch, 11u);
  EXPECT_EQ(DecodeManifest("{\"version\": 1}", "m").status().code(), StatusCode::kDataError);
  // Version 1 (before run epochs) kept a part's bytes in "<final name>.inprogress".
  ASSERT_OK_AND_ASSIGN(
      WriterManifest old,
      DecodeManifest(R"({"version": 1, "job": "j", "slot": 0, "generation": 1,
                        "single_file": false, "streams": [{"stream": "s", "next_part": 2,
                        "complete": ["out/s-000-00000.csv"], "current": {"path":
                        "out/s-000-00001.csv", "part": 1, "length": 9, "rows": 1,
                        "text_bytes": 9}}], "progress": []})",
                     "v1"));
  EXPECT_EQ(old.streams[0].complete[0],
            (CompletePart{"out/s-000-00000.csv", "out/s-000-00000.csv.inprogress"}));
  EXPECT_EQ(old.streams[0].current->file, "out/s-000-00001.csv.inprogress");
  EXPECT_EQ(InProgressPath("out/a.csv", 0), "out/a.csv.inprogress");
  EXPECT_EQ(InProgressPath("out/a.csv", 12), "out/a.csv.e12.inprogress");
  EXPECT_EQ(FinalNameOfInProgress("a.csv.e12.inprogress"), "a.csv");
  EXPECT_EQ(FinalNameOfInProgress("a.csv.inprogress"), "a.csv");
  EXPECT_EQ(FinalNameOfInProgress("a.csv"), std::nullopt);
  EXPECT_EQ(ManifestPath("out", "job/with spaces", 7),
            "out/.sluice-job%2Fwith%20spaces-7.manifest");
  EXPECT_EQ(ManifestDirectory("out/{stream}/part.csv"), "out");
  EXPECT_EQ(ManifestDirectory("{stream}.csv"), ".");
  EXPECT_EQ(ManifestDirectory("/data/out.csv.gz"), "/data");
}

TEST(FileSinkExactlyOnceTest, AtLeastOnceStoresNoProgress) {
  testing::TempDir temp;
  std::string sink_yaml = fmt::format("{{path: '{}'}}", temp.Join("l.csv"));
  ASSERT_OK_AND_ASSIGN(auto sink, MakeSink(sink_yaml));
  TestContext test;
  test.context.delivery = DeliveryGuarantee::kAtLeastOnce;
  ASSERT_OK(sink->Open(test.context, OrdersStream()));
  ASSERT_OK_AND_ASSIGN(auto writer, sink->CreateWriter(0));
  ASSERT_OK(writer->Write(*RowsBatch(0, 3)));
  ASSERT_OK(writer->Prepare());
  ASSERT_OK(writer->Commit(CommitContext{1, {{"s0", "3", true}}}));
  // Published at the commit, as before checkpoints existed; no manifest.
  EXPECT_THAT(Listing(temp.path()), ElementsAre("l.csv"));
  ASSERT_OK_AND_ASSIGN(std::vector<SplitProgress> progress, sink->RecoverProgress(test.context));
  EXPECT_THAT(progress, IsEmpty());
}

// ---- through the runtime --------------------------------------------------------------------

class FileSinkJobTest : public ::testing::Test {
 protected:
  void SetUp() override {
    source_ = std::make_shared<testing::MemorySourceData>();
    memory_sink_ = std::make_shared<testing::MemorySinkData>();
    testing::RegisterMemoryConnector(registry_, source_, memory_sink_);
    RegisterFileConnector(registry_);
  }

  // Rows [0, count) in splits of `split_rows`, read in batches of 50.
  void Source(int count, size_t split_rows) {
    source_->streams = {{"orders", Orders(), MakeRows(0, count)}};
    source_->split_rows = split_rows;
    source_->rows_per_read = 50;
  }

  config::JobConfig Job(const std::string& state, const std::string& sink, int parallelism,
                        const std::string& extra = "") {
    std::string text = fmt::format(
        "name: test\nsource: {{type: memory}}\nsink: {{type: file, {}}}\nparallelism: {}\n"
        "batch_rows: 50\nstate: '{}'\ncheckpoint: {{interval_secs: 0.005}}\n{}",
        sink, parallelism, state, extra);
    Result<config::JobConfig> job = config::LoadJobText(text, "test.yaml", {});
    EXPECT_TRUE(job.ok()) << job.status().ToString();
    return *job;
  }

  // Runs `job`, which stops (as SIGINT stops it) when its readers push their `batch`-th batch.
  runtime::JobSummary RunStoppedAtBatch(const config::JobConfig& job, uint64_t batch) {
    sluice::testing::StopAtBatch stop(batch);
    return runtime::JobRunner(job, registry_).Run(nullptr);
  }

  runtime::JobSummary Run(const config::JobConfig& job, runtime::RunOptions options = {}) {
    return runtime::JobRunner(job, registry_, std::move(options)).Run(nullptr);
  }

  connectors::ConnectorRegistry registry_;
  std::shared_ptr<testing::MemorySourceData> source_;
  std::shared_ptr<testing::MemorySinkData> memory_sink_;
};

TEST_F(FileSinkJobTest, StoppedJobResumesIntoTheFilesOfAnUninterruptedRun) {
  constexpr int kRows = 5000;
  Source(kRows, 1000);
  for (const char* extension : kExtensions) {
    for (const char* rolling : {"", ", roll_rows: 700"}) {
      // Both modes treat earlier outputs at a fresh start only; a resumed run keeps its own.
      for (const char* mode : {"overwrite", "error_if_exists"}) {
        if (std::string_view(mode) == "error_if_exists" && std::string_view(extension) != ".csv")
          continue;
        SCOPED_TRACE(fmt::format("{} {} {}", extension, rolling, mode));
        testing::TempDir clean_state, clean, state, out;
        auto sink = [&](const testing::TempDir& dir) {
          return fmt::format("path: '{}/orders{}', mode: {}{}", dir.path(), extension, mode,
                             rolling);
        };
        ASSERT_OK(Run(Job(clean_state.path(), sink(clean), 1)).status);

        // One reader: stopped right after its 30th batch of 50 rows.
        runtime::JobSummary stopped = RunStoppedAtBatch(Job(state.path(), sink(out), 1), 30);
        ASSERT_TRUE(stopped.interrupted) << stopped.status.ToString();
        EXPECT_EQ(stopped.metrics.rows_written, 1500u);
        Outputs partial = Snapshot(out.path());
        if (*rolling == '\0') {
          EXPECT_THAT(partial.published, IsEmpty());  // the one file appears at the end only
        }
        for (const auto& [name, text] : partial.published)
          EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 700 + (extension[1] == 'c'));

        runtime::JobSummary resumed = Run(Job(state.path(), sink(out), 1));
        ASSERT_OK(resumed.status);
        EXPECT_TRUE(resumed.resumed);
        EXPECT_EQ(stopped.metrics.rows_written + resumed.metrics.rows_written,
                  static_cast<uint64_t>(kRows));
        Outputs expected = Snapshot(clean.path());
        Outputs actual = Snapshot(out.path());
        EXPECT_THAT(actual.hidden, IsEmpty());
        EXPECT_EQ(actual.published, expected.published);
        if (std::string_view(extension) == ".csv") {
          for (const auto& [name, text] : expected.published) {
            EXPECT_EQ(testing::ReadFileOrDie(out.Join(name)),
                      testing::ReadFileOrDie(clean.Join(name)));
          }
        }
      }
    }
  }
}

TEST_F(FileSinkJobTest, WriterCountMayChangeBetweenRuns) {
  constexpr int kRows = 6000;
  Source(kRows, 500);
  std::vector<std::string> expected = ExpectedLines(kRows, true);
  std::sort(expected.begin(), expected.end());
  // Parts from 3 writers, resumed by 1 (slots 1 and 2 are published at Finish); then one file
  // from 1 writer, resumed with parallelism 3 (still one writer: the output stays one file).
  struct Case {
    const char* rolling;
    int first;
    int second;
  };
  for (const Case& c : {Case{", roll_rows: 400", 3, 1}, Case{"", 1, 3}}) {
    SCOPED_TRACE(fmt::format("{} -> {}", c.first, c.second));
    testing::TempDir state, out;
    std::string sink = fmt::format("path: '{}/orders.csv.gz'{}", out.path(), c.rolling);
    runtime::JobSummary stopped = RunStoppedAtBatch(Job(state.path(), sink, c.first), 40);
    ASSERT_TRUE(stopped.interrupted) << stopped.status.ToString();
    EXPECT_LT(stopped.metrics.rows_written, static_cast<uint64_t>(kRows));
    EXPECT_EQ(stopped.writers, c.first);
    runtime::JobSummary resumed = Run(Job(state.path(), sink, c.second));
    ASSERT_OK(resumed.status);
    EXPECT_TRUE(resumed.resumed);
    Outputs actual = Snapshot(out.path());
    EXPECT_THAT(actual.hidden, IsEmpty());
    if (*c.rolling == '\0') {
      EXPECT_EQ(resumed.writers, 1);
      ASSERT_EQ(actual.published.size(), 1u);
      EXPECT_EQ(actual.published.begin()->first, "orders.csv.gz");
    }
    std::vector<std::string> lines = DataLines(actual);
    std::sort(lines.begin(), lines.end());
    EXPECT_EQ(lines, expected);  // every row exactly once
  }
}

TEST_F(FileSinkJobTest, AtLeastOnceDeliveryStillWorksAndWritesNoManifest) {
  constexpr int kRows = 3000;
  Source(kRows, 500);
  testing::TempDir state, out;
  std::string sink = fmt::format("path: '{}/orders.csv'", out.path());
  runtime::JobSummary stopped =
      RunStoppedAtBatch(Job(state.path(), sink, 1, "delivery: at_least_once\n"), 20);
  ASSERT_TRUE(stopped.interrupted);
  EXPECT_EQ(stopped.guarantee, DeliveryGuarantee::kAtLeastOnce);
  Outputs partial = Snapshot(out.path());
  EXPECT_THAT(partial.hidden, IsEmpty());  // neither manifests nor in-progress parts
  EXPECT_FALSE(partial.published.empty());
  ASSERT_OK(Run(Job(state.path(), sink, 1, "delivery: at_least_once\n")).status);
  Outputs actual = Snapshot(out.path());
  EXPECT_THAT(actual.hidden, IsEmpty());
  std::vector<std::string> lines = DataLines(actual);
  std::sort(lines.begin(), lines.end());
  lines.erase(std::unique(lines.begin(), lines.end()), lines.end());
  std::vector<std::string> expected = ExpectedLines(kRows, true);
  std::sort(expected.begin(), expected.end());
  EXPECT_EQ(lines, expected);  // every row at least once
}

TEST_F(FileSinkJobTest, FreshRunForgetsTheInterruptedOne) {
  constexpr int kRows = 3000;
  Source(kRows, 500);
  testing::TempDir state, out;
  std::string sink = fmt::format("path: '{}/orders.jsonl.gz', roll_rows: 1000", out.path());
  ASSERT_TRUE(RunStoppedAtBatch(Job(state.path(), sink, 2), 24).interrupted);
  EXPECT_FALSE(Snapshot(out.path()).hidden.empty());
  runtime::JobSummary fresh = Run(Job(state.path(), sink, 2), runtime::RunOptions{"", true});
  ASSERT_OK(fresh.status);
  EXPECT_FALSE(fresh.resumed);
  EXPECT_EQ(fresh.metrics.rows_written, static_cast<uint64_t>(kRows));
  Outputs actual = Snapshot(out.path());
  EXPECT_THAT(actual.hidden, IsEmpty());
  std::vector<std::string> lines = DataLines(actual);
  std::sort(lines.begin(), lines.end());
  std::vector<std::string> expected = ExpectedLines(kRows, false);
  std::sort(expected.begin(), expected.end());
  EXPECT_EQ(lines, expected);
}

// SIGKILL at every step of a commit (failpoints: mid-read, before and after the manifest, between
// the sink's commit and the state store's record, around Finish): a reader never sees a partial
// file, and the run that finally completes holds every row exactly once (in order, with one
// writer).
TEST_F(FileSinkJobTest, KilledAtEveryCommitStepEveryRowExactlyOnce) {
  constexpr int kRows = 12000;
  constexpr int kKills = 12;
  struct Case {
    const char* extension;
    const char* rolling;
    int parallelism;
  };
  std::random_device seed_source;
  const unsigned seed = seed_source();
  SCOPED_TRACE(fmt::format("seed {}", seed));
  std::mt19937 random(seed);
  for (const Case& c : {Case{".csv", "", 1}, Case{".csv.gz", ", roll_rows: 900", 1},
                        Case{".jsonl.zst", ", roll_rows: 1300", 3}}) {
    SCOPED_TRACE(c.extension);
    bool csv = std::string_view(c.extension).starts_with(".csv");
    // 240 batches of 50 rows: far more than the kills can commit between them.
    Source(kRows, 1500);
    testing::TempDir state, out;
    config::JobConfig job =
        Job(state.path(), fmt::format("path: '{}/orders{}'{}", out.path(), c.extension, c.rolling),
            c.parallelism);
    sluice::testing::CrashLoopOptions options;
    options.kills = kKills;
    options.seed = static_cast<uint32_t>(random());
    options.connector_points = {"file.commit.before_manifest=crash@2",
                                "file.commit.after_manifest=crash@3"};
    options.after_kill = [&](const std::string& plan) {
      SCOPED_TRACE(plan);
      // Whatever the instant: only complete files are visible; before Finish, those are full
      // rolled parts only.
      Outputs now = Snapshot(out.path());
      if (plan.find("finish.after") != std::string::npos)
        return;
      if (*c.rolling == '\0')
        EXPECT_THAT(now.published, IsEmpty());
      for (const auto& [name, text] : now.published) {
        EXPECT_FALSE(text.starts_with("ERROR")) << name << ": " << text;
        int rows = static_cast<int>(std::count(text.begin(), text.end(), '\n')) - (csv ? 1 : 0);
        EXPECT_EQ(rows, c.parallelism == 1 ? 900 : 1300) << name;
      }
    };
    sluice::testing::CrashLoopResult crashes = sluice::testing::RunCrashLoop(
        [&] { return runtime::JobRunner(job, registry_).Run(nullptr).status.ok() ? 0 : 1; },
        options);
    ASSERT_EQ(crashes.kills, kKills) << "a child finished the job before its crash point";
    runtime::JobSummary summary = Run(job);
    ASSERT_OK(summary.status);
    EXPECT_TRUE(summary.resumed);
    // The killed runs committed part of the work, which the last run did not write again.
    EXPECT_LT(summary.metrics.rows_written, static_cast<uint64_t>(kRows));
    Outputs actual = Snapshot(out.path());
    EXPECT_THAT(actual.hidden, IsEmpty());
    std::vector<std::string> lines = DataLines(actual);
    std::vector<std::string> expected = ExpectedLines(kRows, csv);
    if (c.parallelism > 1) {
      std::sort(lines.begin(), lines.end());
      std::sort(expected.begin(), expected.end());
    }
    EXPECT_EQ(lines.size(), expected.size());
    EXPECT_TRUE(lines == expected) << "rows lost, repeated or out of order";
  }
}

}  // namespace
}  // namespace sluice::connectors::file
