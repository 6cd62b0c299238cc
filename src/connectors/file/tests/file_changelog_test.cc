// Changelog streams into files: each row is written after its operation, in the `_op` column,
// so that nothing of the changelog is lost; read back through the file source.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "connectors/datagen/tests/changelog_reference.h"
#include "connectors/file/tests/file_test_util.h"
#include "testing/temp_dir.h"

namespace sluice::connectors::file {
namespace {

using ::testing::HasSubstr;

// The changelog's batches as a source's reader fills them.
std::vector<std::unique_ptr<Batch>> ChangelogBatches(const datagen::DatagenOptions& options,
                                                     StreamInfo* stream) {
  datagen::DatagenSource source(options);
  std::atomic<bool> cancelled{false};
  FailOnBadRecord handler;
  JobContext context;
  context.cancelled = &cancelled;
  context.bad_records = &handler;
  EXPECT_TRUE(source.Open(context).ok());
  *stream = source.streams()[0];
  std::vector<std::unique_ptr<Batch>> batches;
  auto enumerator = source.CreateEnumerator();
  while (true) {
    auto split = (*enumerator)->Next();
    if (!split.ok() || !*split)
      break;
    auto reader = source.CreateReader(**split, "");
    while (true) {
      auto batch = std::make_unique<Batch>(stream->schema, 64);
      auto more = (*reader)->ReadBatch(batch.get());
      if (!more.ok() || !*more)
        break;
      batches.push_back(std::move(batch));
    }
  }
  return batches;
}

TEST(FileChangelogTest, OperationColumnIsWrittenAndReadsBack) {
  datagen::DatagenOptions options = datagen::testing::TestChangelog(800, 100, 800);
  datagen::testing::Changelog log = datagen::testing::ReadChangelog(options);
  std::vector<sluice::testing::Row> expected;
  for (const datagen::testing::ChangeRow& change : log.changes) {
    sluice::testing::Row row{std::string(RowKindName(change.kind))};
    row.insert(row.end(), change.row.begin(), change.row.end());
    expected.push_back(std::move(row));
  }
  for (const char* extension : {"csv", "jsonl"}) {
    SCOPED_TRACE(extension);
    sluice::testing::TempDir out;
    std::string path = out.Join(fmt::format("changes.{}", extension));
    StreamInfo stream;
    std::vector<std::unique_ptr<Batch>> batches = ChangelogBatches(options, &stream);
    std::vector<const Batch*> pointers;
    for (const auto& batch : batches)
      pointers.push_back(batch.get());
    ASSERT_OK_AND_ASSIGN(auto sink, MakeSink(fmt::format("path: '{}'", path)));
    TestContext test;
    ASSERT_OK(WriteAll(sink.get(), &test, {stream}, {pointers}));
    std::ifstream file(path);
    std::string first;
    std::getline(file, first);
    if (std::string(extension) == "csv") {
      EXPECT_EQ(first, "_op,id,name,amount,at");
    } else {
      EXPECT_THAT(first, ::testing::StartsWith("{\"_op\":\""));
    }
    ASSERT_OK_AND_ASSIGN(
        auto source,
        MakeSource(fmt::format("path: '{}'\nschema: {{_op: string, id: int64, name: string, "
                               "amount: 'decimal(12,2)', at: timestamp}}",
                               path)));
    std::vector<sluice::testing::Row> rows;
    TestContext reading;
    ASSERT_OK(ReadAll(source.get(), &reading, &rows));
    EXPECT_EQ(rows, expected);
  }
}

TEST(FileChangelogTest, ChangelogWithAnOpColumnIsRefused) {
  sluice::testing::TempDir out;
  StreamInfo stream;
  stream.name = "changes";
  stream.changelog = true;
  stream.schema = std::make_shared<Schema>(
      std::vector<Field>{{"id", DataType::Int64(), false}, {"_op", DataType::String(), true}},
      std::vector<int>{0});
  ASSERT_OK_AND_ASSIGN(auto sink, MakeSink(fmt::format("path: '{}'", out.Join("c.csv"))));
  TestContext test;
  Status opened = sink->Open(test.context, {stream});
  EXPECT_EQ(opened.code(), StatusCode::kInvalidConfig);
  EXPECT_THAT(opened.message(), HasSubstr("stream 'changes' is a changelog with a column named "
                                          "'_op', the name the file sink gives the operation"));
}

}  // namespace
}  // namespace sluice::connectors::file
