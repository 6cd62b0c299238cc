// Validates the events Sluice renders against the official OpenLineage JSON schemas (copies in
// tests/lineage/schema/) with Python's jsonschema, from the venv scripts/python-venv.sh makes:
// an implementation other than ours reading the spec's own files.
#include <fmt/core.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "config/node.h"
#include "config/job_config.h"
#include "connectors/api.h"
#include "lineage/emitter.h"
#include "lineage/lineage.h"
#include "testing/gtest_util.h"
#include "testing/independent_readers.h"
#include "testing/temp_dir.h"

namespace sluice::lineage {
namespace {

constexpr const char* kValidator = "tests/lineage/validate_events.py";

config::ConnectorBlock Block(const std::string& yaml) {
  auto node = config::ParseYaml(yaml, "test");
  EXPECT_TRUE(node.ok()) << node.status().ToString();
  config::ConnectorBlock block;
  block.options = config::Node::Map({});
  for (const config::Node::Entry& entry : node->entries()) {
    if (entry.key == "type")
      block.type = entry.value.scalar();
    else
      block.options.Set(entry.key, entry.key_mark, entry.value);
  }
  return block;
}

connectors::StreamInfo Stream(std::string name) {
  connectors::StreamInfo stream;
  stream.name = std::move(name);
  stream.schema = std::make_shared<Schema>(std::vector<Field>{
      {"id", DataType::Int64(), false}, {"amount", DataType::Decimal(12, 2)},
      {"created_at", DataType::TimestampTz(6)}, {"note", DataType::String()}});
  return stream;
}

// One run's events, START to the end `last`, reading every kind of source into every kind of sink.
std::vector<LineageRunEvent> RunEvents(LineageEventType last, bool streaming) {
  const char* kBlocks[] = {
      "{type: mysql, host: db1, password: secret, database: shop, table: orders}",
      "{type: postgres, host: pg, database: dw, table: \"sales.{stream}\"}",
      "{type: sqlite, path: /data/shop.db, table: orders}",
      "{type: file, path: \"s3://lake/raw/{stream}.csv\"}",
      "{type: file, path: /data/in/orders-*.csv.gz}",
      "{type: file, path: \"webhdfs://nn:9870/warehouse/{stream}\"}",
      "{type: hive, location: \"s3://lake/w/{stream}\", metastore: \"thrift://hms:9083\"}",
      "{type: kafka, brokers: \"k1:9092,k2:9092\", topic: orders}",
      "{type: redis, host: cache, key: \"order:{id}\"}",
      "{type: datagen}",
  };
  std::vector<LineageDataset> datasets;
  for (const char* yaml : kBlocks)
    datasets.push_back(DatasetFor(Block(yaml), Stream("orders")));

  LineageRunEvent start;
  start.type = LineageEventType::kStart;
  start.event_time_us = 1'796'498'715'123'456;
  start.run_id = NewRunId();
  start.job_namespace = "sluice";
  start.job_name = "orders_everywhere";
  start.streaming = streaming;
  start.inputs = {datasets[0], datasets[7]};
  start.outputs = datasets;

  LineageRunEvent running = start;
  running.type = LineageEventType::kRunning;
  running.event_time_us += 5'000'000;
  for (LineageDataset& input : running.inputs)
    input.row_count = 1000;
  for (LineageDataset& output : running.outputs)
    output.bytes = 64000;

  LineageRunEvent end = running;
  end.type = last;
  end.event_time_us += 5'000'000;
  for (LineageDataset& input : end.inputs) {
    input.row_count = 2000;
    input.bytes = 120000;
  }
  for (LineageDataset& output : end.outputs) {
    output.row_count = 2000;
    output.bytes = 128000;
  }
  if (last == LineageEventType::kFail)
    end.error_message = "sink postgres 'sales.orders': connection refused \xff (not UTF-8)";
  return {start, running, end};
}

TEST(LineageSchemaTest, EveryRenderedEventValidatesAgainstTheOpenLineageSchemas) {
  testing::TempDir dir;
  std::string path = dir.Join("events.jsonl");
  size_t count = 0;
  {
    // Through the file emitter, so that exactly what a backend would receive is validated.
    LineageEmitterOptions options;
    options.target = "file:" + path;
    ASSERT_OK_AND_ASSIGN(auto emitter, LineageEmitter::Open(options));
    for (LineageEventType last :
         {LineageEventType::kComplete, LineageEventType::kFail, LineageEventType::kAbort}) {
      for (bool streaming : {false, true}) {
        for (const LineageRunEvent& event : RunEvents(last, streaming)) {
          emitter->Emit(event);
          ++count;
        }
      }
    }
    ASSERT_TRUE(emitter->Flush(std::chrono::seconds(10)));
    ASSERT_EQ(emitter->delivered(), count);
  }
  ASSERT_OK_AND_ASSIGN(std::string output, testing::RunPythonScript(kValidator, "'" + path + "'"));
  EXPECT_THAT(output, ::testing::HasSubstr(fmt::format("ok: {} events", count)));
}

// The validator is not vacuous: an event that breaks the facet schemas fails it.
TEST(LineageSchemaTest, TheValidatorRefusesBrokenFacets) {
  testing::TempDir dir;
  std::vector<LineageRunEvent> events = RunEvents(LineageEventType::kFail, false);
  nlohmann::json complete = ToOpenLineageJson(events[2]);
  const std::pair<const char*, std::function<void(nlohmann::json&)>> kBreakages[] = {
      {"columnMetrics",
       [](nlohmann::json& event) {
         event["inputs"][0]["inputFacets"]["dataQualityMetrics"].erase("columnMetrics");
       }},
      {"programmingLanguage",
       [](nlohmann::json& event) {
         event["run"]["facets"]["errorMessage"].erase("programmingLanguage");
       }},
      {"_producer",
       [](nlohmann::json& event) { event["job"]["facets"]["jobType"].erase("_producer"); }},
      {"_schemaURL", [](nlohmann::json& event) {
         event["outputs"][0]["outputFacets"]["outputStatistics"]["_schemaURL"] =
             "https://openlineage.io/spec/facets/1-0-0/Other.json";
       }},
      {"runId", [](nlohmann::json& event) { event["run"]["runId"] = "not-a-uuid"; }},
      {"eventTime", [](nlohmann::json& event) { event["eventTime"] = "yesterday"; }},
  };
  for (const auto& [what, breakage] : kBreakages) {
    SCOPED_TRACE(what);
    nlohmann::json broken = complete;
    breakage(broken);
    std::string path = dir.Join(std::string(what) + ".jsonl");
    testing::WriteFileOrDie(path, broken.dump(-1, ' ', false,
                                              nlohmann::json::error_handler_t::replace) + "\n");
    auto result = testing::RunPythonScript(kValidator, "'" + path + "'");
    ASSERT_FALSE(result.ok()) << "accepted an event without a valid " << what;
    EXPECT_THAT(result.status().message(), ::testing::HasSubstr(what));
  }
}

}  // namespace
}  // namespace sluice::lineage
