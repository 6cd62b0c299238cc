#include "formats/csv/csv_reader.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <random>

#include "io/memory_stream.h"
#include "testing/gtest_util.h"

namespace sluice::formats {
namespace {

using ::testing::ElementsAre;
using Records = std::vector<std::vector<std::string>>;

struct ReadOutcome {
  Records records;
  std::vector<std::string> errors;
};

// Reads every record; quoted fields are shown wrapped in <>, so tests see quoting.
ReadOutcome ReadAll(const std::string& text, CsvReadOptions options = {}, size_t max_read = 0) {
  io::StringInputStream input(text, max_read);
  CsvReader reader(&input, "f.csv", options);
  ReadOutcome outcome;
  for (;;) {
    Result<bool> next = reader.Next();
    if (!next.ok()) {
      outcome.errors.push_back(next.status().message());
      continue;
    }
    if (!*next)
      break;
    std::vector<std::string> fields;
    for (const CsvField& field : reader.record().fields()) {
      fields.push_back(field.quoted ? "<" + std::string(field.text) + ">"
                                    : std::string(field.text));
    }
    outcome.records.push_back(std::move(fields));
  }
  return outcome;
}

Records Read(const std::string& text, CsvReadOptions options = {}, size_t max_read = 0) {
  ReadOutcome outcome = ReadAll(text, options, max_read);
  EXPECT_THAT(outcome.errors, ElementsAre());
  return outcome.records;
}

TEST(CsvReaderTest, LineEndsWithAndWithoutTrailingNewline) {
  Records expected = {{"id", "name"}, {"1", "a"}, {"2", "b"}};
  EXPECT_EQ(Read("id,name\n1,a\n2,b\n"), expected);
  EXPECT_EQ(Read("id,name\n1,a\n2,b"), expected);
  EXPECT_EQ(Read("id,name\r\n1,a\r\n2,b\r\n"), expected);
  EXPECT_EQ(Read("id,name\r\n1,a\r\n2,b"), expected);
  EXPECT_EQ(Read("id,name\r\n1,a\r\n2,b\r"), expected);  // a CR ending the stream ends the line
  EXPECT_EQ(Read("a,,c,\n,\n"), (Records{{"a", "", "c", ""}, {"", ""}}));
}

TEST(CsvReaderTest, QuotedFieldsHoldDelimitersLineBreaksAndDoubledQuotes) {
  EXPECT_EQ(Read("\"a,b\",\"line1\nline2\",\"say \"\"hi\"\"\",plain\n"),
            (Records{{"<a,b>", "<line1\nline2>", "<say \"hi\">", "plain"}}));
  EXPECT_EQ(Read("\"x\r\ny\",\"\"\n"), (Records{{"<x\r\ny>", "<>"}}));  // CR kept inside quotes
  EXPECT_EQ(Read("\"\"\"\"\n\"a\"\"\"\r\n"), (Records{{"<\">"}, {"<a\">"}}));
  EXPECT_EQ(Read("\"last\""), (Records{{"<last>"}}));
  EXPECT_EQ(Read("lone\rcr,x\n"), (Records{{"lone\rcr", "x"}}));  // a lone CR is data
  EXPECT_EQ(Read("ab\"c,d\n"), (Records{{"ab\"c", "d"}}));        // a quote mid-field is data
}

TEST(CsvReaderTest, ByteOrderMarkIsSkippedOnlyAtTheStart) {
  EXPECT_EQ(Read("\xEF\xBB\xBFid,name\n1,\xEF\xBB\xBFx\n"),
            (Records{{"id", "name"}, {"1", "\xEF\xBB\xBFx"}}));
  EXPECT_EQ(Read("\xEF\xBB\xBF"), Records{});
  EXPECT_EQ(Read("\xEF\xBB"), (Records{{"\xEF\xBB"}}));
}

TEST(CsvReaderTest, EmptyInputAndBlankLines) {
  EXPECT_EQ(Read(""), Records{});
  io::StringInputStream empty("");
  CsvReader reader(&empty, "f.csv");
  ASSERT_OK_AND_ASSIGN(std::vector<std::string> header, reader.ReadHeader());
  EXPECT_TRUE(header.empty());

  io::StringInputStream input("a,b\n\n1,2\n\r\n");
  CsvReader blank(&input, "f.csv");
  std::vector<bool> blanks;
  for (;;) {
    ASSERT_OK_AND_ASSIGN(bool more, blank.Next());
    if (!more)
      break;
    blanks.push_back(blank.record().blank());
  }
  EXPECT_THAT(blanks, ElementsAre(false, true, false, true));
}

TEST(CsvReaderTest, CustomDialects) {
  CsvReadOptions tsv;
  tsv.dialect.delimiter = '\t';
  EXPECT_EQ(Read("a\tb,c\t\"d\te\"\n", tsv), (Records{{"a", "b,c", "<d\te>"}}));
  CsvReadOptions single;
  single.dialect.delimiter = ';';
  single.dialect.quote = '\'';
  EXPECT_EQ(Read("'a;b';'it''s';\"x\"\n", single), (Records{{"<a;b>", "<it's>", "\"x\""}}));
  CsvReadOptions unquoted;
  unquoted.dialect.quote = std::nullopt;
  EXPECT_EQ(Read("\"a,b\"\n", unquoted), (Records{{"\"a", "b\""}}));
}

TEST(CsvReaderTest, HeaderIsCopied) {
  io::StringInputStream input("\xEF\xBB\xBFid,\"full name\",amount\n1,x,2\n");
  CsvReader reader(&input, "f.csv");
  ASSERT_OK_AND_ASSIGN(std::vector<std::string> header, reader.ReadHeader());
  EXPECT_THAT(header, ElementsAre("id", "full name", "amount"));
  ASSERT_OK_AND_ASSIGN(bool more, reader.Next());
  ASSERT_TRUE(more);
  EXPECT_EQ(reader.record().line(), 2);
}

TEST(CsvReaderTest, LinesAndColumnsCountCharacters) {
  io::StringInputStream input("id,name\n1,\"multi\nline\",é😀,x\n2,b,c,d\n");
  CsvReader reader(&input, "orders.csv");
  ASSERT_OK_AND_ASSIGN(bool header, reader.Next());
  ASSERT_TRUE(header);
  ASSERT_OK_AND_ASSIGN(bool first, reader.Next());
  ASSERT_TRUE(first);
  const CsvRecord& record = reader.record();
  EXPECT_EQ(record.line(), 2);
  EXPECT_EQ(record.offset(), 8u);
  EXPECT_EQ(record.raw(), "1,\"multi\nline\",é😀,x");
  EXPECT_EQ(record.Location(0), "orders.csv:2:1");
  EXPECT_EQ(record.Location(1), "orders.csv:2:3");
  EXPECT_EQ(record.Location(2), "orders.csv:3:7");
  EXPECT_EQ(record.Location(3), "orders.csv:3:10");  // é and 😀 are one column each
  EXPECT_EQ(record.Location(), "orders.csv:2:1");
  EXPECT_EQ(reader.next_line(), 4);
  ASSERT_OK_AND_ASSIGN(bool second, reader.Next());
  ASSERT_TRUE(second);
  EXPECT_EQ(reader.record().line(), 4);
  EXPECT_EQ(reader.record().Location(3), "orders.csv:4:7");
}

TEST(CsvReaderTest, MalformedRecordsAreReportedAndSkipped) {
  ReadOutcome outcome = ReadAll("a,b\n1,\"x\"y,3\n2,ok\n\"bad\" \r\n4,\"open\nstill\n");
  EXPECT_THAT(outcome.errors, ElementsAre("f.csv:2:6: unexpected 'y' after a closing quote",
                                          "f.csv:4:6: unexpected ' ' after a closing quote",
                                          "f.csv:5:3: unterminated quoted field"));
  EXPECT_EQ(outcome.records, (Records{{"a", "b"}, {"2", "ok"}}));

  io::StringInputStream input("1,2\n\"x\"z\n3,4\n");
  CsvReader reader(&input, "f.csv");
  ASSERT_OK_AND_ASSIGN(bool first, reader.Next());
  ASSERT_TRUE(first);
  Result<bool> bad = reader.Next();
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), StatusCode::kDataError);
  EXPECT_EQ(reader.record().raw(), "\"x\"z");
  EXPECT_EQ(reader.record().line(), 2);
  ASSERT_OK_AND_ASSIGN(bool third, reader.Next());
  ASSERT_TRUE(third);
  EXPECT_EQ(reader.record().line(), 3);
  EXPECT_EQ(reader.record()[0].text, "3");
}

TEST(CsvReaderTest, OversizedRecordSkipsTheRestOfTheStream) {
  CsvReadOptions options;
  options.buffer_bytes = 16;
  options.max_record_bytes = 1000;
  std::string text = "1,2\n\"" + std::string(5000, 'x') + "\n3,4\n";
  ReadOutcome outcome = ReadAll(text, options);
  EXPECT_THAT(outcome.errors,
              ElementsAre("f.csv:2:1: record exceeds 1000 bytes (an unterminated quote?); "
                          "skipping the rest of the file"));
  EXPECT_EQ(outcome.records, (Records{{"1", "2"}}));
}

// Random CSV built from pieces that land on every kind of boundary.
std::string RandomCsv(std::mt19937& random, int records) {
  static const char* const kFields[] = {"",        "a",          "\"\"",         "\"q\"\"q\"",
                                        "\"a,b\"", "\"l1\nl2\"", "\"cr\r\nlf\"", "long-field-text",
                                        "é😀",      "\"\"\"\"",   "x y",          "1234567890"};
  std::string out = random() % 2 ? "\xEF\xBB\xBF" : "";
  for (int r = 0; r < records; ++r) {
    int fields = 1 + static_cast<int>(random() % 4);
    for (int f = 0; f < fields; ++f) {
      if (f > 0)
        out += ',';
      out += kFields[random() % std::size(kFields)];
    }
    if (r + 1 < records || random() % 2)
      out += random() % 2 ? "\r\n" : "\n";
  }
  return out;
}

TEST(CsvReaderTest, ChunkBoundariesDoNotChangeTheRecords) {
  std::mt19937 random(7);
  for (int round = 0; round < 60; ++round) {
    std::string text = RandomCsv(random, 1 + round % 25);
    Records expected = Read(text);
    for (size_t buffer : {size_t{1}, size_t{2}, size_t{3}, size_t{5}, size_t{16}}) {
      for (size_t max_read : {size_t{1}, size_t{2}, size_t{7}, size_t{0}}) {
        CsvReadOptions options;
        options.buffer_bytes = buffer;
        ASSERT_EQ(Read(text, options, max_read), expected)
            << "buffer " << buffer << " max_read " << max_read << " text: " << text;
      }
    }
  }
}

TEST(CsvReaderTest, FieldsOfManyMegabytes) {
  std::string big(5 << 20, 'x');
  for (size_t i = 0; i < big.size(); i += 1000)
    big[i] = 'y';
  std::string quoted = big;
  quoted[100] = '"';
  quoted[2'000'000] = ',';
  quoted[4'000'000] = '\n';
  std::string escaped;
  for (char c : quoted) {
    escaped += c;
    if (c == '"')
      escaped += '"';
  }
  std::string text = "1," + big + ",2\n\"" + escaped + "\",3\n";
  CsvReadOptions options;
  options.buffer_bytes = 64 * 1024;
  io::StringInputStream input(text, 100000);
  CsvReader reader(&input, "big.csv", options);
  ASSERT_OK_AND_ASSIGN(bool first, reader.Next());
  ASSERT_TRUE(first);
  ASSERT_EQ(reader.record().size(), 3u);
  EXPECT_TRUE(reader.record()[1].text == big);
  ASSERT_OK_AND_ASSIGN(bool second, reader.Next());
  ASSERT_TRUE(second);
  ASSERT_EQ(reader.record().size(), 2u);
  EXPECT_TRUE(reader.record()[0].text == quoted);
  EXPECT_EQ(reader.record()[1].text, "3");
  EXPECT_EQ(reader.record().line(), 2);
  EXPECT_EQ(reader.next_line(), 4);
  ASSERT_OK_AND_ASSIGN(bool end, reader.Next());
  EXPECT_FALSE(end);
}

TEST(CsvReaderTest, ResumesFromASavedPosition) {
  std::string text = "\xEF\xBB\xBFid,v\n1,\"a\nb\"\n2,c\r\n3,d\n4,e";
  for (int after = 0; after <= 4; ++after) {
    io::StringInputStream first_input(text);
    CsvReader first(&first_input, "f.csv");
    ASSERT_OK_AND_ASSIGN(std::vector<std::string> header, first.ReadHeader());
    for (int i = 0; i < after; ++i)
      ASSERT_OK(first.Next().status());
    uint64_t offset = first.next_offset();
    int64_t line = first.next_line();
    Records rest;
    std::vector<int64_t> lines;
    while (*first.Next()) {
      rest.push_back({std::string(first.record()[0].text)});
      lines.push_back(first.record().line());
    }

    for (size_t buffer : {size_t{4}, size_t{1 << 20}}) {
      io::StringInputStream input(text);
      CsvReadOptions options;
      options.buffer_bytes = buffer;
      CsvReader resumed(&input, "f.csv", options);
      ASSERT_OK_AND_ASSIGN(std::vector<std::string> again, resumed.ReadHeader());
      EXPECT_EQ(again, header);
      ASSERT_OK(resumed.SeekTo(offset, line));
      Records got;
      std::vector<int64_t> got_lines;
      while (*resumed.Next()) {
        got.push_back({std::string(resumed.record()[0].text)});
        got_lines.push_back(resumed.record().line());
      }
      EXPECT_EQ(got, rest) << after;
      EXPECT_EQ(got_lines, lines) << after;
    }
  }
}

}  // namespace
}  // namespace sluice::formats
