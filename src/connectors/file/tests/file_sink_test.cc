#include "connectors/file/file_sink.h"

#include <fmt/core.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>

#include "connectors/file/tests/file_test_util.h"
#include "io/file_system.h"
#include "io/tests/io_test_util.h"
#include "testing/random_rows.h"
#include "testing/temp_dir.h"

namespace sluice::connectors::file {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::HasSubstr;
using testing::Row;

SchemaPtr TwoColumns() {
  return std::make_shared<Schema>(
      std::vector<Field>{{"id", DataType::Int64()}, {"name", DataType::String()}});
}

std::unique_ptr<Batch> Numbered(const SchemaPtr& schema, int from, int count, int stream = 0) {
  std::vector<Row> rows;
  for (int i = from; i < from + count; ++i)
    rows.push_back({std::to_string(i), "n" + std::to_string(i)});
  std::unique_ptr<Batch> batch = testing::MakeBatch(schema, rows);
  batch->set_stream(stream);
  return batch;
}

std::vector<std::string> Listing(const std::string& directory) {
  Result<std::vector<std::string>> names = io::ListDirectory(directory);
  if (!names.ok())
    return {names.status().ToString()};
  std::sort(names->begin(), names->end());
  return *names;
}

std::string ReadText(const std::string& path) {
  Result<std::unique_ptr<io::InputStream>> in = io::OpenInputFile(path);
  if (!in.ok())
    return in.status().ToString();
  std::string out;
  char buffer[4096];
  for (;;) {
    Result<size_t> got = (*in)->Read(buffer, sizeof(buffer));
    if (!got.ok())
      return got.status().ToString();
    if (*got == 0)
      return out;
    out.append(buffer, *got);
  }
}

std::vector<StreamInfo> OneStream(const SchemaPtr& schema, std::string name = "orders") {
  return {StreamInfo{std::move(name), schema, std::nullopt}};
}

TEST(FileSinkTest, SingleWriterWritesExactlyPathVisibleOnlyAfterFinish) {
  testing::TempDir temp;
  std::string path = temp.Join("out/nested/orders.csv.gz");
  ASSERT_OK_AND_ASSIGN(auto sink, MakeSink(fmt::format("{{path: '{}'}}", path)));
  TestContext test;
  SchemaPtr schema = TwoColumns();
  ASSERT_OK(sink->Open(test.context, OneStream(schema)));
  ASSERT_OK_AND_ASSIGN(auto writer, sink->CreateWriter(0));
  ASSERT_OK(writer->Write(*Numbered(schema, 1, 3)));
  ASSERT_OK(writer->Write(*Numbered(schema, 4, 2)));
  EXPECT_THAT(Listing(temp.Join("out/nested")), ElementsAre("orders.csv.gz.inprogress"));
  ASSERT_OK(writer->Prepare());
  EXPECT_THAT(Listing(temp.Join("out/nested")), ElementsAre("orders.csv.gz.inprogress"));
  EXPECT_FALSE(io::PathExists(path));
  ASSERT_OK(writer->Commit({}));
  // Exactly-once: committed, recorded in the slot's manifest, published only by Finish.
  EXPECT_THAT(Listing(temp.Join("out/nested")),
              ElementsAre(".sluice-test-0.manifest", "orders.csv.gz.inprogress"));
  ASSERT_OK(sink->Finish());
  EXPECT_THAT(Listing(temp.Join("out/nested")), ElementsAre("orders.csv.gz"));
  EXPECT_EQ(ReadText(path), "id,name\n1,n1\n2,n2\n3,n3\n4,n4\n5,n5\n");
  EXPECT_EQ(sink->guarantee(), DeliveryGuarantee::kExactlyOnce);
}

TEST(FileSinkTest, AValueParquetCannotHoldGoesToTheErrorsPolicyAndTheRestIsWritten) {
  testing::TempDir temp;
  std::string path = temp.Join("times.parquet");
  ASSERT_OK_AND_ASSIGN(auto sink, MakeSink(fmt::format("{{path: '{}'}}", path)));
  TestContext test;  // skips bad records
  auto schema = std::make_shared<Schema>(
      std::vector<Field>{{"id", DataType::Int64()}, {"t", DataType::Time()}});
  ASSERT_OK(sink->Open(test.context, OneStream(schema)));
  ASSERT_OK_AND_ASSIGN(auto writer, sink->CreateWriter(0));
  // 838:59:59 is a MySQL TIME; Parquet's TIME stops at 24:00:00.
  std::unique_ptr<Batch> batch =
      testing::MakeBatch(schema, {{"1", "01:00:00"}, {"2", "838:59:59"}, {"3", "23:59:59"}});
  ASSERT_OK(writer->Write(*batch));
  ASSERT_OK(writer->Commit({}));
  ASSERT_OK(sink->Finish());
  std::vector<BadRecord> bad = test.handler.records();
  ASSERT_EQ(bad.size(), 1u);
  EXPECT_EQ(bad[0].location, path + " row 2");
  EXPECT_EQ(bad[0].raw, "2,838:59:59");
  EXPECT_THAT(bad[0].reason.message(), HasSubstr("outside Parquet TIME's range"));
  ASSERT_OK_AND_ASSIGN(auto source, MakeSource(fmt::format("{{path: '{}'}}", path)));
  TestContext read;
  std::vector<Row> rows;
  ASSERT_OK(ReadAll(source.get(), &read, &rows));
  EXPECT_THAT(rows, ElementsAre(Row{"1", "01:00:00"}, Row{"3", "23:59:59"}));
}

TEST(FileSinkTest, EmptyInputStillWritesTheSingleFile) {
  testing::TempDir temp;
  for (const char* name : {"empty.csv", "empty.jsonl"}) {
    ASSERT_OK_AND_ASSIGN(auto sink, MakeSink(fmt::format("{{path: '{}'}}", temp.Join(name))));
    TestContext test;
    ASSERT_OK(WriteAll(sink.get(), &test, OneStream(TwoColumns()), {{}}));
  }
  EXPECT_EQ(ReadText(temp.Join("empty.csv")), "id,name\n");
  EXPECT_EQ(ReadText(temp.Join("empty.jsonl")), "");
}

TEST(FileSinkTest, RollingByRowsNamesPartsPerSlot) {
  testing::TempDir temp;
  ASSERT_OK_AND_ASSIGN(auto sink, MakeSink(fmt::format("{{path: '{}', roll_rows: 10}}",
                                                       temp.Join("o/orders.csv.zst"))));
  TestContext test(2);
  SchemaPtr schema = TwoColumns();
  ASSERT_OK(sink->Open(test.context, OneStream(schema)));
  ASSERT_OK_AND_ASSIGN(auto first, sink->CreateWriter(0));
  ASSERT_OK_AND_ASSIGN(auto second, sink->CreateWriter(1));
  ASSERT_OK(first->Write(*Numbered(schema, 0, 25)));
  ASSERT_OK(first->Write(*Numbered(schema, 25, 10)));
  ASSERT_OK(second->Write(*Numbered(schema, 100, 3)));
  // Rolled parts wait, unseen, for the commit.
  EXPECT_THAT(
      Listing(temp.Join("o")),
      ElementsAre("orders-000-00000.csv.zst.inprogress", "orders-000-00001.csv.zst.inprogress",
                  "orders-000-00002.csv.zst.inprogress", "orders-000-00003.csv.zst.inprogress",
                  "orders-001-00000.csv.zst.inprogress"));
  ASSERT_OK(first->Prepare());
  ASSERT_OK(second->Prepare());
  ASSERT_OK(first->Commit({}));
  ASSERT_OK(second->Commit({}));
  // Parts that rolled are published at the commit; the parts being written wait for Finish.
  EXPECT_THAT(
      Listing(temp.Join("o")),
      ElementsAre(".sluice-test-0.manifest", ".sluice-test-1.manifest", "orders-000-00000.csv.zst",
                  "orders-000-00001.csv.zst", "orders-000-00002.csv.zst",
                  "orders-000-00003.csv.zst.inprogress", "orders-001-00000.csv.zst.inprogress"));
  first.reset();
  second.reset();
  ASSERT_OK(sink->Finish());
  EXPECT_THAT(Listing(temp.Join("o")),
              ElementsAre("orders-000-00000.csv.zst", "orders-000-00001.csv.zst",
                          "orders-000-00002.csv.zst", "orders-000-00003.csv.zst",
                          "orders-001-00000.csv.zst"));
  EXPECT_EQ(ReadText(temp.Join("o/orders-000-00003.csv.zst")),
            "id,name\n30,n30\n31,n31\n32,n32\n"
            "33,n33\n34,n34\n");
  EXPECT_EQ(ReadText(temp.Join("o/orders-001-00000.csv.zst")),
            "id,name\n100,n100\n101,n101\n102,n102\n");
}

TEST(FileSinkTest, RollingByBytesKeepsEveryRowInOrder) {
  testing::TempDir temp;
  ASSERT_OK_AND_ASSIGN(auto sink, MakeSink(fmt::format("{{path: '{}', roll_bytes: 100}}",
                                                       temp.Join("events.jsonl"))));
  TestContext test;
  SchemaPtr schema = TwoColumns();
  auto batch = Numbered(schema, 0, 40);
  ASSERT_OK(WriteAll(sink.get(), &test, OneStream(schema), {{batch.get()}}));
  std::vector<std::string> names = Listing(temp.path());
  ASSERT_GT(names.size(), 5u);
  std::string all;
  for (size_t i = 0; i < names.size(); ++i) {
    EXPECT_EQ(names[i], fmt::format("events-000-{:05}.jsonl", i));
    std::string text = ReadText(temp.Join(names[i]));
    if (i + 1 < names.size()) {
      EXPECT_GE(text.size(), 100u);
      EXPECT_LT(text.size(), 100u + 40u);  // ends on the row that crossed the limit
    }
    all += text;
  }
  std::string expected;
  for (int i = 0; i < 40; ++i)
    expected += fmt::format("{{\"id\":{},\"name\":\"n{}\"}}\n", i, i);
  EXPECT_EQ(all, expected);
}

TEST(FileSinkTest, AbortDeletesInProgressFiles) {
  testing::TempDir temp;
  ASSERT_OK_AND_ASSIGN(auto sink,
                       MakeSink(fmt::format("{{path: '{}', roll_rows: 2}}", temp.Join("a.csv"))));
  TestContext test;
  SchemaPtr schema = TwoColumns();
  ASSERT_OK(sink->Open(test.context, OneStream(schema)));
  ASSERT_OK_AND_ASSIGN(auto writer, sink->CreateWriter(0));
  ASSERT_OK(writer->Write(*Numbered(schema, 0, 5)));
  EXPECT_EQ(Listing(temp.path()).size(), 3u);
  writer->Abort();
  sink->Abort();
  EXPECT_THAT(Listing(temp.path()), IsEmpty());
}

TEST(FileSinkTest, UnwritableDirectoryFailsAtOpen) {
  testing::TempDir temp;
  std::string directory = io::UnwritableDirectory(temp);
  if (directory.empty())
    GTEST_SKIP() << "no unwritable directory available";
  TestContext test;
  ASSERT_OK_AND_ASSIGN(auto sink, MakeSink(fmt::format("{{path: '{}/out.csv'}}", directory)));
  Status status = sink->Open(test.context, OneStream(TwoColumns()));
  EXPECT_EQ(status.code(), StatusCode::kPermissionDenied);
  EXPECT_THAT(status.message(),
              ::testing::StartsWith(fmt::format("Directory '{}' is not writable: ", directory)));

  ASSERT_OK_AND_ASSIGN(auto nested, MakeSink(fmt::format("{{path: '{}/sub/out.csv'}}", directory)));
  Status create = nested->Open(test.context, OneStream(TwoColumns()));
  EXPECT_EQ(create.code(), StatusCode::kPermissionDenied);
  EXPECT_THAT(create.message(),
              ::testing::StartsWith(fmt::format("Cannot create directory '{}/sub': ", directory)));

  CheckReport report;
  Status check = sink->Check(test.context, OneStream(TwoColumns()), &report);
  if (::geteuid() != 0) {
    EXPECT_EQ(check.ToString(),
              fmt::format("permission denied: Directory '{}' is not writable", directory));
  }
}

TEST(FileSinkTest, ModesTreatEarlierOutputs) {
  testing::TempDir temp;
  for (const char* name :
       {"orders.csv", "orders-000-00000.csv", "orders-001-00017.csv",
        "orders-000-00000.csv.inprogress", "orders-1-2.csv", "orders.txt", "other-000-00000.csv"}) {
    testing::WriteFileOrDie(temp.Join(name), "old");
  }
  TestContext test;
  ASSERT_OK_AND_ASSIGN(auto strict, MakeSink(fmt::format("{{path: '{}', mode: error_if_exists}}",
                                                         temp.Join("orders.csv"))));
  CheckReport report;
  EXPECT_EQ(strict->Check(test.context, OneStream(TwoColumns()), &report).ToString(),
            fmt::format("config error: 3 earlier output files of stream 'orders' exist in '{}' "
                        "(mode: error_if_exists)",
                        temp.path()));
  EXPECT_EQ(strict->Open(test.context, OneStream(TwoColumns())).ToString(),
            fmt::format("config error: output '{}' already exists (mode: error_if_exists)",
                        temp.Join("orders-000-00000.csv")));

  ASSERT_OK_AND_ASSIGN(auto sink, MakeSink(fmt::format("{{path: '{}'}}", temp.Join("orders.csv"))));
  report.notes.clear();
  ASSERT_OK(sink->Check(test.context, OneStream(TwoColumns()), &report));
  EXPECT_THAT(
      report.notes,
      ElementsAre(
          fmt::format("stream 'orders' would be written to '{}' as csv", temp.Join("orders.csv")),
          fmt::format("directory '{}' is writable", temp.path()),
          fmt::format("3 earlier output files in '{}' will be replaced", temp.path())));
  ASSERT_OK(sink->Open(test.context, OneStream(TwoColumns())));
  EXPECT_THAT(Listing(temp.path()),
              ElementsAre("orders-1-2.csv", "orders.txt", "other-000-00000.csv"));
}

TEST(FileSinkTest, SeveralStreamsNeedAStreamPlaceholder) {
  testing::TempDir temp;
  SchemaPtr schema = TwoColumns();
  std::vector<StreamInfo> streams = {StreamInfo{"a", schema, std::nullopt},
                                     StreamInfo{"b", schema, std::nullopt}};
  TestContext test;
  ASSERT_OK_AND_ASSIGN(auto flat, MakeSink(fmt::format("{{path: '{}'}}", temp.Join("x.csv"))));
  EXPECT_EQ(flat->Open(test.context, streams).ToString(),
            "config error: the source has 2 streams: 'path' must contain {stream} to give each "
            "its own file (e.g. out/{stream}.csv)");

  ASSERT_OK_AND_ASSIGN(auto sink, MakeSink(fmt::format("{{path: '{}', format: jsonl}}",
                                                       temp.Join("{stream}/data"))));
  auto a = Numbered(schema, 1, 1, 0);
  auto b = Numbered(schema, 2, 1, 1);
  ASSERT_OK(WriteAll(sink.get(), &test, streams, {{a.get(), b.get()}}));
  EXPECT_EQ(ReadText(temp.Join("a/data")), "{\"id\":1,\"name\":\"n1\"}\n");
  EXPECT_EQ(ReadText(temp.Join("b/data")), "{\"id\":2,\"name\":\"n2\"}\n");
}

TEST(FileSinkTest, AtLeastOnceCommittingTwiceNeverReplacesTheFirstFile) {
  testing::TempDir temp;
  ASSERT_OK_AND_ASSIGN(auto sink,
                       MakeSink(fmt::format("{{path: '{}', header: false}}", temp.Join("o.csv"))));
  TestContext test;
  test.context.delivery = DeliveryGuarantee::kAtLeastOnce;
  SchemaPtr schema = TwoColumns();
  ASSERT_OK(sink->Open(test.context, OneStream(schema)));
  ASSERT_OK_AND_ASSIGN(auto writer, sink->CreateWriter(0));
  ASSERT_OK(writer->Write(*Numbered(schema, 1, 1)));
  ASSERT_OK(writer->Prepare());
  ASSERT_OK(writer->Commit({}));
  ASSERT_OK(writer->Write(*Numbered(schema, 2, 1)));
  ASSERT_OK(writer->Prepare());
  ASSERT_OK(writer->Commit({}));
  EXPECT_THAT(Listing(temp.path()), ElementsAre("o-000-00001.csv", "o.csv"));
  EXPECT_EQ(ReadText(temp.Join("o.csv")), "1,n1\n");
  EXPECT_EQ(ReadText(temp.Join("o-000-00001.csv")), "2,n2\n");
}

TEST(FileSinkTest, ExactlyOnceCommittingTwiceAppendsToTheOneFile) {
  testing::TempDir temp;
  for (const char* name : {"o.csv", "o.csv.gz", "o.csv.zst"}) {
    std::string path = temp.Join(name);
    ASSERT_OK_AND_ASSIGN(auto sink, MakeSink(fmt::format("{{path: '{}', header: false}}", path)));
    TestContext test;
    SchemaPtr schema = TwoColumns();
    ASSERT_OK(sink->Open(test.context, OneStream(schema)));
    ASSERT_OK_AND_ASSIGN(auto writer, sink->CreateWriter(0));
    for (int i = 1; i <= 3; ++i) {
      ASSERT_OK(writer->Write(*Numbered(schema, i, 1)));
      ASSERT_OK(writer->Prepare());
      ASSERT_OK(writer->Commit({}));
    }
    writer->Abort();  // after the last commit: nothing to drop
    ASSERT_OK(sink->Finish());
    EXPECT_EQ(ReadText(path), "1,n1\n2,n2\n3,n3\n") << name;
  }
  EXPECT_THAT(Listing(temp.path()), ElementsAre("o.csv", "o.csv.gz", "o.csv.zst"));
}

TEST(FileSinkTest, UnknownFormatIsAConfigError) {
  TestContext test;
  ASSERT_OK_AND_ASSIGN(auto sink, MakeSink("{path: out/data.dat}"));
  EXPECT_EQ(sink->Open(test.context, OneStream(TwoColumns())).ToString(),
            "config error: cannot tell the format of 'out/data.dat' from its extension; set "
            "format: csv, jsonl, avro or parquet");
}

TEST(FileSinkTest, AvroRefusesFileCompressionAndColumnNamesAvroCannotSpell) {
  testing::TempDir temp;
  TestContext test;
  {
    ASSERT_OK_AND_ASSIGN(auto sink, MakeSink(fmt::format("{{path: '{}'}}", temp.Join("o.avro.gz"))));
    Status opened = sink->Open(test.context, OneStream(TwoColumns()));
    EXPECT_EQ(opened.code(), StatusCode::kInvalidConfig);
    EXPECT_THAT(opened.message(), HasSubstr("Avro files compress their blocks themselves"));
  }
  auto schema = std::make_shared<Schema>(
      std::vector<Field>{{"id", DataType::Int64()}, {"unit price", DataType::String()}});
  ASSERT_OK_AND_ASSIGN(auto sink, MakeSink(fmt::format("{{path: '{}'}}", temp.Join("o.avro"))));
  Status opened = sink->Open(test.context, OneStream(schema));
  EXPECT_EQ(opened.code(), StatusCode::kInvalidConfig);
  EXPECT_THAT(opened.message(), HasSubstr("column 'unit price' is not a valid Avro field name"));
  EXPECT_THAT(Listing(temp.path()), IsEmpty()) << "nothing is created before the refusal";
}

}  // namespace
}  // namespace sluice::connectors::file
