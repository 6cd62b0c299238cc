#include "connectors/file/file_source.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "connectors/file/tests/file_test_util.h"
#include "formats/avro/avro_container.h"
#include "io/file_system.h"
#include "testing/temp_dir.h"

namespace sluice::connectors::file {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using testing::Row;

void WriteFile(const std::string& path, std::string_view contents) {
  Result<std::unique_ptr<io::OutputStream>> out = io::CreateOutputFile(path);
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  ASSERT_OK((*out)->Write(contents));
  ASSERT_OK((*out)->Close());
}

TEST(FileSourceTest, StreamNameComesFromThePattern) {
  EXPECT_EQ(FileSource::StreamNameFor("data/orders-*.csv.gz"), "orders");
  EXPECT_EQ(FileSource::StreamNameFor("data/orders.csv"), "orders");
  EXPECT_EQ(FileSource::StreamNameFor("orders_2024?.jsonl.zst"), "orders_2024");
  EXPECT_EQ(FileSource::StreamNameFor("data/customers/*.csv"), "customers");
  EXPECT_EQ(FileSource::StreamNameFor("*.csv"), "file");
}

TEST(FileSourceTest, GlobOfCompressedFilesGivesOneSplitPerFileInNameOrder) {
  testing::TempDir temp;
  WriteFile(temp.Join("orders-2.csv.zst"), "id,name\n3,c\n4,d\n");
  WriteFile(temp.Join("orders-1.csv.gz"), "id,name\n1,a\n2,b\n");
  WriteFile(temp.Join("orders-3.csv"), "name,id\ne,5\n");  // columns by name, not position
  WriteFile(temp.Join("other.csv"), "id,name\n9,z\n");
  ASSERT_OK_AND_ASSIGN(auto source,
                       MakeSource(fmt::format("{{path: '{}'}}", temp.Join("orders-*.csv*"))));
  TestContext test;
  std::vector<Row> rows;
  std::vector<Split> splits;
  ASSERT_OK(ReadAll(source.get(), &test, &rows, &splits));
  ASSERT_EQ(source->streams().size(), 1u);
  EXPECT_EQ(source->streams()[0].name, "orders");
  EXPECT_EQ(source->streams()[0].schema->ToString(), "id string, name string");
  ASSERT_EQ(splits.size(), 3u);
  EXPECT_EQ(splits[0].id, temp.Join("orders-1.csv.gz"));
  EXPECT_EQ(splits[0].payload, fmt::format("{{\"path\":\"{}\"}}", temp.Join("orders-1.csv.gz")));
  ASSERT_OK_AND_ASSIGN(uint64_t size, io::FileSize(temp.Join("orders-2.csv.zst")));
  EXPECT_EQ(splits[1].estimated_bytes, size);
  EXPECT_THAT(
      rows, ElementsAre(Row{"1", "a"}, Row{"2", "b"}, Row{"3", "c"}, Row{"4", "d"}, Row{"5", "e"}));
  EXPECT_TRUE(test.handler.records().empty());
}

TEST(FileSourceTest, DeclaredSchemaMatchesHeaderNames) {
  testing::TempDir temp;
  WriteFile(temp.Join("a.csv"), "extra,amount,id\nx,12.5,1\ny,,2\n");
  ASSERT_OK_AND_ASSIGN(
      auto source,
      MakeSource(fmt::format("{{path: '{}', schema: {{id: int64, amount: \"decimal(12,2)\"}}}}",
                             temp.Join("a.csv"))));
  TestContext test;
  std::vector<Row> rows;
  ASSERT_OK(ReadAll(source.get(), &test, &rows));
  EXPECT_EQ(source->streams()[0].schema->ToString(), "id int64, amount decimal(12,2)");
  EXPECT_THAT(rows, ElementsAre(Row{"1", "12.50"}, Row{"2", std::nullopt}));

  ASSERT_OK_AND_ASSIGN(
      auto missing, MakeSource(fmt::format("{{path: '{}', schema: {{id: int64, total: float64}}}}",
                                           temp.Join("a.csv"))));
  std::vector<Row> none;
  Status status = ReadAll(missing.get(), &test, &none);
  EXPECT_EQ(status.ToString(),
            fmt::format("config error: column 'total' of the schema is not in the header of "
                        "'{}' (header: extra, amount, id)",
                        temp.Join("a.csv")));
}

TEST(FileSourceTest, WithoutHeader) {
  testing::TempDir temp;
  WriteFile(temp.Join("a.tsv"), "1\tx\n2\ty\n");
  ASSERT_OK_AND_ASSIGN(
      auto plain, MakeSource(fmt::format("{{path: '{}', header: false}}", temp.Join("a.tsv"))));
  TestContext test;
  std::vector<Row> rows;
  ASSERT_OK(ReadAll(plain.get(), &test, &rows));
  EXPECT_EQ(plain->streams()[0].schema->ToString(), "c1 string, c2 string");
  EXPECT_THAT(rows, ElementsAre(Row{"1", "x"}, Row{"2", "y"}));

  ASSERT_OK_AND_ASSIGN(auto typed,
                       MakeSource(fmt::format("{{path: '{}', header: false, delimiter: '\\t', "
                                              "schema: {{n: int32, s: string}}, stream: things}}",
                                              temp.Join("a.tsv"))));
  rows.clear();
  ASSERT_OK(ReadAll(typed.get(), &test, &rows));
  EXPECT_EQ(typed->streams()[0].name, "things");
  EXPECT_THAT(rows, ElementsAre(Row{"1", "x"}, Row{"2", "y"}));
}

TEST(FileSourceTest, EmptyFiles) {
  testing::TempDir temp;
  WriteFile(temp.Join("e-1.csv"), "");
  WriteFile(temp.Join("e-2.csv"), "");
  ASSERT_OK_AND_ASSIGN(auto source,
                       MakeSource(fmt::format("{{path: '{}'}}", temp.Join("e-*.csv"))));
  TestContext test;
  std::vector<Row> rows;
  ASSERT_OK(ReadAll(source.get(), &test, &rows));
  EXPECT_EQ(source->streams()[0].schema->num_fields(), 0u);
  EXPECT_TRUE(rows.empty());

  // The first file is empty: the next one names the columns.
  WriteFile(temp.Join("e-3.csv"), "a,b\n1,2\n");
  ASSERT_OK_AND_ASSIGN(auto later, MakeSource(fmt::format("{{path: '{}'}}", temp.Join("e-*.csv"))));
  ASSERT_OK(ReadAll(later.get(), &test, &rows));
  EXPECT_THAT(rows, ElementsAre(Row{"1", "2"}));
}

TEST(FileSourceTest, JsonLinesWithInferredOrDeclaredSchema) {
  testing::TempDir temp;
  WriteFile(temp.Join("events.jsonl.gz"),
            "{\"id\": 1, \"kind\": \"a\", \"amount\": 1.5, \"tags\": [1]}\n"
            "\n"
            "{\"id\": 2, \"kind\": null, \"amount\": 2}\r\n");
  ASSERT_OK_AND_ASSIGN(auto inferred,
                       MakeSource(fmt::format("{{path: '{}'}}", temp.Join("events.jsonl.gz"))));
  TestContext test;
  std::vector<Row> rows;
  ASSERT_OK(ReadAll(inferred.get(), &test, &rows));
  EXPECT_EQ(inferred->streams()[0].name, "events");
  EXPECT_EQ(inferred->streams()[0].schema->ToString(),
            "id int64, kind string, amount float64, tags json");
  EXPECT_THAT(rows,
              ElementsAre(Row{"1", "a", "1.5", "[1]"}, Row{"2", std::nullopt, "2", std::nullopt}));

  ASSERT_OK_AND_ASSIGN(
      auto declared,
      MakeSource(fmt::format("{{path: '{}', schema: {{amount: \"decimal(10,3)\", id: int16}}}}",
                             temp.Join("events.jsonl.gz"))));
  rows.clear();
  ASSERT_OK(ReadAll(declared.get(), &test, &rows));
  EXPECT_THAT(rows, ElementsAre(Row{"1.500", "1"}, Row{"2.000", "2"}));
}

TEST(FileSourceTest, MissingInputIsNotFound) {
  testing::TempDir temp;
  for (const std::string& path : {temp.Join("missing.csv"), temp.Join("missing-*.csv.gz")}) {
    ASSERT_OK_AND_ASSIGN(auto source, MakeSource(fmt::format("{{path: '{}'}}", path)));
    TestContext test;
    Status status = source->Open(test.context);
    EXPECT_EQ(status.ToString(), fmt::format("not found: No file matches '{}'", path));
  }
}

TEST(FileSourceTest, UnknownFormatAndBadOptionsAreConfigErrors) {
  testing::TempDir temp;
  WriteFile(temp.Join("data.txt"), "x\n");
  ASSERT_OK_AND_ASSIGN(auto source,
                       MakeSource(fmt::format("{{path: '{}'}}", temp.Join("data.txt"))));
  TestContext test;
  EXPECT_EQ(source->Open(test.context).ToString(),
            fmt::format("config error: cannot tell the format of '{}' from its extension; set "
                        "format: csv, jsonl, avro or parquet",
                        temp.Join("data.txt")));
  EXPECT_EQ(MakeSource("{path: a.csv, delimiter: ';;'}").status().ToString(),
            "config error: job.yaml:1:26: 'delimiter' must be a single character (or \\t), got "
            "';;'");
  EXPECT_EQ(MakeSource("{path: a.csv, schema: {id: int65}}").status().ToString(),
            "config error: job.yaml:1:28: column 'id': unknown type 'int65' (known: bool, int8, "
            "int16, int32, int64, uint8, uint16, uint32, uint64, float32, float64, "
            "decimal(p,s), string, bytes, date, time, timestamp, timestamp_tz, json)");
  EXPECT_EQ(MakeSource("{path: a.csv, delimiter: '\"'}").status().ToString(),
            "config error: job.yaml:1:26: the delimiter and the quote character are both '\"'");
}

TEST(FileSourceTest, AnAvroRecordWhoseValueDoesNotFitGoesToTheHandlerAndTheRestIsRead) {
  testing::TempDir temp;
  std::string path = temp.Join("orders.avro");
  // Written with ids as text; read with ids declared int64: "x" does not convert.
  auto text_schema = std::make_shared<Schema>(
      std::vector<Field>{{"id", DataType::String(), false}, {"name", DataType::String(), true}});
  {
    ASSERT_OK_AND_ASSIGN(std::unique_ptr<io::OutputStream> out,
                         io::CreateOutputFile(path, io::Compression::kNone));
    ASSERT_OK_AND_ASSIGN(std::unique_ptr<formats::AvroContainerWriter> writer,
                         formats::AvroContainerWriter::Make(out.get(), *text_schema, "orders",
                                                            "orders.avro"));
    ASSERT_OK(writer->WriteHeader());
    Batch batch(text_schema, 8);
    for (const char* id : {"1", "2", "x", "4", "5"}) {
      batch.column(0).AppendView(id);
      batch.column(1).AppendView(std::string("name ") + id);
      batch.FinishRow();
    }
    ASSERT_OK(writer->WriteRows(batch, 0, 2));
    ASSERT_OK(writer->Flush());  // a block of two, then one of three starting with the bad one
    ASSERT_OK(writer->WriteRows(batch, 2, 5));
    ASSERT_OK(writer->Flush());
    ASSERT_OK(out->Close());
  }
  ASSERT_OK_AND_ASSIGN(
      auto source,
      MakeSource(fmt::format("{{path: '{}', schema: {{id: int64, name: string}}}}", path)));
  TestContext test;
  std::vector<Row> rows;
  ASSERT_OK(ReadAll(source.get(), &test, &rows));
  EXPECT_THAT(rows, ElementsAre(Row{"1", "name 1"}, Row{"2", "name 2"}, Row{"4", "name 4"},
                                Row{"5", "name 5"}));
  const std::vector<BadRecord> bad = test.handler.records();
  ASSERT_EQ(bad.size(), 1u);
  EXPECT_EQ(bad[0].location, path);
  EXPECT_THAT(bad[0].reason.message(), ::testing::HasSubstr("record 1: column 'id'"));

  // A reader resumed inside the block after the bad record (its position counts it, so the
  // seek decodes it again and passes over it) goes on with "5".
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<SplitEnumerator> splits, source->CreateEnumerator());
  ASSERT_OK_AND_ASSIGN(std::optional<Split> split, splits->Next());
  ASSERT_TRUE(split.has_value());
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<SplitReader> reader, source->CreateReader(*split, ""));
  Batch one(source->streams()[0].schema, 1);
  std::string position;
  for (int read = 0; read < 2; ++read) {  // "1", then "2"
    one.Clear();
    ASSERT_OK(reader->ReadBatch(&one).status());
    position = reader->Position();
  }
  one.Clear();
  ASSERT_OK(reader->ReadBatch(&one).status());  // "x" to the handler, then "4"
  ASSERT_EQ(one.num_rows(), 1u);
  std::string after_bad = reader->Position();
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<SplitReader> resumed,
                       source->CreateReader(*split, after_bad));
  one.Clear();
  ASSERT_OK(resumed->ReadBatch(&one).status());
  ASSERT_EQ(one.num_rows(), 1u);
  EXPECT_EQ(one.column(0).Get<int64_t>(0), 5);
  // And one resumed before the bad record skips it again and reads "4".
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<SplitReader> before_bad,
                       source->CreateReader(*split, position));
  one.Clear();
  ASSERT_OK(before_bad->ReadBatch(&one).status());
  ASSERT_EQ(one.num_rows(), 1u);
  EXPECT_EQ(one.column(0).Get<int64_t>(0), 4);
}

TEST(FileSourceTest, BadRowsGoToTheHandlerWithFileLineColumn) {
  testing::TempDir temp;
  std::string path = temp.Join("orders.csv");
  std::string long_name(3000, 'n');
  WriteFile(path,
            "id,name,amount\n"
            "1,a,10\n"
            "2,bcd,abc\n"
            "3,\"c\"x,30\n"
            "4,d\n"
            "5," +
                long_name +
                ",oops\n"
                "6,f,60\n");
  ASSERT_OK_AND_ASSIGN(
      auto source,
      MakeSource(
          fmt::format("{{path: '{}', schema: {{id: int64, name: string, amount: int32}}}}", path)));
  TestContext test;
  std::vector<Row> rows;
  ASSERT_OK(ReadAll(source.get(), &test, &rows));
  EXPECT_THAT(rows, ElementsAre(Row{"1", "a", "10"}, Row{"6", "f", "60"}));
  const std::vector<BadRecord> bad = test.handler.records();
  ASSERT_EQ(bad.size(), 4u);
  EXPECT_EQ(bad[0].stream, "orders");
  EXPECT_EQ(bad[0].location, path + ":3:7");
  EXPECT_EQ(bad[0].raw, "2,bcd,abc");
  EXPECT_EQ(bad[0].reason.ToString(),
            fmt::format("data error: {}:3:7: 'abc' is not an integer (column 'amount')", path));
  EXPECT_EQ(bad[1].location, path + ":4:6");
  EXPECT_EQ(bad[1].raw, "3,\"c\"x,30");
  EXPECT_EQ(bad[1].reason.message(), path + ":4:6: unexpected 'x' after a closing quote");
  EXPECT_EQ(bad[2].location, path + ":5:1");
  EXPECT_EQ(bad[2].reason.message(), path + ":5:1: expected 3 fields, got 2");
  EXPECT_EQ(bad[3].location, path + ":6:3004");
  EXPECT_EQ(bad[3].raw.size(), 1024u);

  // A handler that fails stops the reader with the record's error.
  TestContext failing(1, 100, /*skip=*/false);
  ASSERT_OK_AND_ASSIGN(
      auto again, MakeSource(fmt::format(
                      "{{path: '{}', schema: {{id: int64, name: string, amount: int32}}}}", path)));
  rows.clear();
  Status status = ReadAll(again.get(), &failing, &rows);
  EXPECT_EQ(status.ToString(),
            fmt::format("data error: {}:3:7: 'abc' is not an integer (column 'amount')", path));
}

TEST(FileSourceTest, JsonLinesBadRowsAreReported) {
  testing::TempDir temp;
  std::string path = temp.Join("e.jsonl");
  WriteFile(path, "{\"id\": 1}\n{\"id\": \"x\"}\n{\"id\": 3,}\n{\"id\": 4}\n");
  ASSERT_OK_AND_ASSIGN(auto source,
                       MakeSource(fmt::format("{{path: '{}', schema: {{id: int64}}}}", path)));
  TestContext test;
  std::vector<Row> rows;
  ASSERT_OK(ReadAll(source.get(), &test, &rows));
  EXPECT_THAT(rows, ElementsAre(Row{"1"}, Row{"4"}));
  ASSERT_EQ(test.handler.records().size(), 2u);
  EXPECT_EQ(test.handler.records()[0].location, path + ":2:8");
  EXPECT_EQ(test.handler.records()[0].raw, "{\"id\": \"x\"}");
  EXPECT_EQ(test.handler.records()[1].location, path + ":3:1");
}

TEST(FileSourceTest, CorruptCompressedDataStopsTheSplitEvenWhenBadRowsAreSkipped) {
  testing::TempDir temp;
  for (const char* name : {"c.csv.gz", "c.jsonl.zst"}) {
    std::string path = temp.Join(name);
    std::string text = std::string(name).find("csv") != std::string::npos ? "id\n" : "";
    for (int i = 0; i < 50000; ++i) {
      text += std::string(name).find("csv") != std::string::npos
                  ? fmt::format("{}\n", i * 7919 % 100003)
                  : fmt::format("{{\"id\": {}}}\n", i * 7919 % 100003);
    }
    WriteFile(path, text);
    std::string bytes = testing::ReadFileOrDie(path);
    for (size_t i = bytes.size() / 2; i < bytes.size() / 2 + 32; ++i)
      bytes[i] ^= 0x33;
    testing::WriteFileOrDie(path, bytes);
    ASSERT_OK_AND_ASSIGN(auto source,
                         MakeSource(fmt::format("{{path: '{}', schema: {{id: int64}}}}", path)));
    TestContext test;  // skips bad records
    std::vector<Row> rows;
    Status status = ReadAll(source.get(), &test, &rows);
    EXPECT_EQ(status.code(), StatusCode::kDataError) << status.ToString();
    EXPECT_THAT(status.message(), ::testing::StartsWith(fmt::format("Cannot read '{}': ", path)));
    EXPECT_TRUE(test.handler.records().empty());
  }
}

// Reads a whole split once, noting the position after each small batch; then resumes from
// every position and checks that exactly the remaining rows come back.
void ExpectResumeGivesTheRest(const std::string& yaml) {
  ASSERT_OK_AND_ASSIGN(auto source, MakeSource(yaml));
  TestContext test(1, 7);
  ASSERT_OK(source->Open(test.context));
  ASSERT_OK_AND_ASSIGN(auto enumerator, source->CreateEnumerator());
  ASSERT_OK_AND_ASSIGN(std::optional<Split> split, enumerator->Next());
  ASSERT_TRUE(split.has_value());
  const StreamInfo& stream = source->streams()[0];
  ASSERT_OK_AND_ASSIGN(auto reader, source->CreateReader(*split, ""));
  EXPECT_EQ(reader->Position(), "");
  std::vector<Row> all;
  std::vector<std::pair<size_t, std::string>> positions;
  ASSERT_OK(ReadRows(reader.get(), stream, 7, &all, &positions));
  ASSERT_GT(positions.size(), 5u);
  EXPECT_DOUBLE_EQ(reader->Progress(), 1.0);
  for (const auto& [done, position] : positions) {
    ASSERT_OK_AND_ASSIGN(auto resumed, source->CreateReader(*split, position));
    std::vector<Row> rest;
    ASSERT_OK(ReadRows(resumed.get(), stream, 5, &rest));
    std::vector<Row> expected(all.begin() + static_cast<ptrdiff_t>(done), all.end());
    ASSERT_EQ(rest, expected) << "position " << position;
  }
}

TEST(FileSourceTest, ResumeFromAPositionGivesExactlyTheRemainingRows) {
  testing::TempDir temp;
  std::string csv = "id,note\n";
  std::string jsonl;
  for (int i = 0; i < 60; ++i) {
    csv += fmt::format("{},\"multi\nline {}\"\r\n", i, i);
    jsonl += fmt::format("{{\"id\": {}, \"note\": \"n{}\"}}\n{}", i, i, i % 7 == 0 ? "\n" : "");
  }
  csv += "60,bad,extra\n61,last";  // a bad row mid-way is skipped and resumed past
  for (const char* extension : {"", ".gz", ".zst"}) {
    WriteFile(temp.Join(std::string("r.csv") + extension), "\xEF\xBB\xBF" + csv);
    WriteFile(temp.Join(std::string("r.jsonl") + extension), jsonl);
    ExpectResumeGivesTheRest(fmt::format("{{path: '{}', schema: {{id: int64, note: string}}}}",
                                         temp.Join(std::string("r.csv") + extension)));
    ExpectResumeGivesTheRest(
        fmt::format("{{path: '{}'}}", temp.Join(std::string("r.jsonl") + extension)));
  }
}

TEST(FileSourceTest, BatchesStopAtTheByteLimitAndOnCancel) {
  testing::TempDir temp;
  std::string csv = "s\n";
  for (int i = 0; i < 100; ++i)
    csv += std::string(1000, 'a' + i % 26) + "\n";
  WriteFile(temp.Join("big.csv"), csv);
  ASSERT_OK_AND_ASSIGN(auto source,
                       MakeSource(fmt::format("{{path: '{}'}}", temp.Join("big.csv"))));
  TestContext test(1, 1000);
  test.context.batch_bytes = 10'000;
  ASSERT_OK(source->Open(test.context));
  ASSERT_OK_AND_ASSIGN(auto enumerator, source->CreateEnumerator());
  ASSERT_OK_AND_ASSIGN(std::optional<Split> split, enumerator->Next());
  ASSERT_OK_AND_ASSIGN(auto reader, source->CreateReader(*split, ""));
  Batch batch(source->streams()[0].schema, 1000);
  ASSERT_OK_AND_ASSIGN(bool more, reader->ReadBatch(&batch));
  EXPECT_TRUE(more);
  EXPECT_EQ(batch.num_rows(), 10u);
  EXPECT_GT(reader->Progress(), 0.0);
  test.cancelled.store(true);
  Batch next(source->streams()[0].schema, 1000);
  Result<bool> cancelled = reader->ReadBatch(&next);
  EXPECT_EQ(cancelled.status().code(), StatusCode::kCancelled);
}

TEST(FileSourceTest, DescribeSaysWhatWillBeRead) {
  testing::TempDir temp;
  WriteFile(temp.Join("a.csv"), "x,y\n1,2\n");
  ASSERT_OK_AND_ASSIGN(auto source, MakeSource(fmt::format("{{path: '{}'}}", temp.Join("a.csv"))));
  TestContext test;
  ASSERT_OK(source->Open(test.context));
  CheckReport report;
  source->Describe(&report);
  EXPECT_THAT(
      report.notes,
      ElementsAre(fmt::format("1 file matches '{}' (8 bytes), read as csv", temp.Join("a.csv")),
                  fmt::format("schema of stream 'a': from the header of '{}', all "
                              "columns string",
                              temp.Join("a.csv"))));
}

}  // namespace
}  // namespace sluice::connectors::file
