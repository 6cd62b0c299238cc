// Every logical type, NULLs included, through the file sink and back through the file source:
// CSV -> CSV and JSONL -> JSONL, compressed or not, via the registry as a job would.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "connectors/file/tests/file_test_util.h"
#include "connectors/registry.h"
#include "io/file_system.h"
#include "testing/random_rows.h"
#include "testing/temp_dir.h"

namespace sluice::connectors {
void RegisterFileConnector(ConnectorRegistry& registry);

namespace file {
namespace {

using testing::Row;

// The schema option spelling every type of the all-types schema.
std::string SchemaOption(const Schema& schema) {
  std::string out = "{";
  for (size_t i = 0; i < schema.num_fields(); ++i) {
    if (i > 0)
      out += ", ";
    out += fmt::format("{}: \"{}\"", schema.field(i).name, schema.field(i).type.ToString());
  }
  return out + "}";
}

config::ConnectorBlock Block(const std::string& yaml) {
  Result<config::Node> node = config::ParseYaml(yaml, "job.yaml");
  EXPECT_TRUE(node.ok()) << node.status().ToString();
  config::ConnectorBlock block;
  block.type = "file";
  block.options = *node;
  return block;
}

std::vector<Row> ReadBack(const ConnectorRegistry& registry, const std::string& yaml) {
  Result<std::unique_ptr<Source>> source = registry.CreateSource(Block(yaml));
  EXPECT_TRUE(source.ok()) << source.status().ToString();
  if (!source.ok())
    return {};
  TestContext test(1, 64);
  std::vector<Row> rows;
  EXPECT_OK(ReadAll(source->get(), &test, &rows));
  EXPECT_TRUE(test.handler.records().empty())
      << (test.handler.records().empty() ? "" : test.handler.records()[0].reason.ToString());
  return rows;
}

void WriteWithSink(const ConnectorRegistry& registry, const std::string& yaml,
                   const SchemaPtr& schema, const std::vector<Row>& rows, int writers) {
  Result<std::unique_ptr<Sink>> sink = registry.CreateSink(Block(yaml));
  ASSERT_TRUE(sink.ok()) << sink.status().ToString();
  TestContext test(writers);
  // Split the rows into batches dealt round-robin to the writers.
  std::vector<std::unique_ptr<Batch>> batches;
  std::vector<std::vector<const Batch*>> by_slot(static_cast<size_t>(writers));
  for (size_t begin = 0; begin < rows.size(); begin += 50) {
    std::vector<Row> slice(
        rows.begin() + static_cast<ptrdiff_t>(begin),
        rows.begin() + static_cast<ptrdiff_t>(std::min(begin + 50, rows.size())));
    batches.push_back(testing::MakeBatch(schema, slice));
    by_slot[(begin / 50) % static_cast<size_t>(writers)].push_back(batches.back().get());
  }
  ASSERT_OK(WriteAll(sink->get(), &test, {StreamInfo{"all", schema, std::nullopt}}, by_slot));
}

TEST(FileRoundTripTest, EveryTypeWithNullsThroughCsvAndJsonl) {
  ConnectorRegistry registry;
  RegisterFileConnector(registry);
  ASSERT_NE(registry.Find("file"), nullptr);
  SchemaPtr schema = testing::AllTypesSchema();
  std::vector<Row> rows = testing::RandomRows(*schema, 400, 99);
  std::vector<Row> expected_all = testing::RowsOf(*testing::MakeBatch(schema, rows));
  std::string schema_option = SchemaOption(*schema);

  struct Case {
    const char* first;
    const char* second;
    const char* extra;
  };
  // JSON Lines cannot tell a json column holding the JSON value null from NULL.
  std::vector<Row> expected_jsonl = expected_all;
  for (Row& row : expected_jsonl) {
    for (size_t c = 0; c < row.size(); ++c) {
      if (schema->field(c).type.id == TypeId::kJson && row[c] == "null")
        row[c] = std::nullopt;
    }
  }
  for (const Case& c : {Case{"a.csv", "b.csv", ""}, Case{"a.csv.gz", "b.csv.zst", ""},
                        Case{"a.tsv", "b.tsv", ", delimiter: '\\t', null_marker: '\\N'"},
                        Case{"a.jsonl", "b.jsonl.gz", ""}, Case{"a.jsonl.zst", "b.ndjson", ""}}) {
    SCOPED_TRACE(c.first);
    testing::TempDir temp;
    const std::vector<Row>& expected =
        std::string(c.first).find("json") != std::string::npos ? expected_jsonl : expected_all;
    // rows -> first file
    WriteWithSink(registry, fmt::format("{{path: '{}'{}}}", temp.Join(c.first), c.extra), schema,
                  rows, 1);
    // first file -> rows
    std::vector<Row> first = ReadBack(
        registry,
        fmt::format("{{path: '{}', schema: {}{}}}", temp.Join(c.first), schema_option, c.extra));
    ASSERT_EQ(first.size(), expected.size());
    for (size_t r = 0; r < first.size(); ++r)
      ASSERT_EQ(first[r], expected[r]) << "row " << r;
    // first file's rows -> second file (two writers, rolling) -> rows again
    WriteWithSink(registry,
                  fmt::format("{{path: '{}', roll_rows: 120{}}}", temp.Join(c.second), c.extra),
                  schema, first, 2);
    std::string stem = std::string(c.second).substr(0, 1);
    std::vector<Row> second = ReadBack(
        registry,
        fmt::format("{{path: '{}', schema: {}{}, format: {}}}", temp.Join(stem + "-*"),
                    schema_option, c.extra,
                    std::string(c.second).find("json") != std::string::npos ? "jsonl" : "csv"));
    std::sort(second.begin(), second.end());
    std::vector<Row> sorted = expected;
    std::sort(sorted.begin(), sorted.end());
    ASSERT_EQ(second.size(), sorted.size());
    for (size_t r = 0; r < second.size(); ++r)
      ASSERT_EQ(second[r], sorted[r]) << "row " << r;
  }
}

}  // namespace
}  // namespace file
}  // namespace sluice::connectors
