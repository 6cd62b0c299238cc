#include "lineage/lineage.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <regex>
#include <set>

#include "config/job_config.h"
#include "connectors/api.h"
#include "testing/gtest_util.h"

namespace sluice::lineage {
namespace {

using nlohmann::json;

LineageRunEvent SampleEvent(LineageEventType type) {
  LineageRunEvent event;
  event.type = type;
  event.event_time_us = 1'796'498'715'123'456;  // 2026-12-05T19:25:15.123456Z
  event.run_id = "0193a2b4-1c2d-7e3f-8a4b-5c6d7e8f9a0b";
  event.job_namespace = "sluice";
  event.job_name = "orders_to_warehouse";
  LineageDataset input{
      "mysql://db1:3306", "shop.orders", {{"id", "int64"}, {"amount", "decimal(12,2)"}}, 1200,
      48000};
  LineageDataset output{"postgres://dw:5432", "dw.public.orders", {{"id", "int64"}}, 1200, 40000};
  event.inputs.push_back(input);
  event.outputs.push_back(output);
  if (type == LineageEventType::kFail)
    event.error_message = "sink postgres 'orders': connection refused";
  return event;
}

// Every facet object under `facets` carries the base facet's two fields.
void ExpectBaseFacets(const json& facets) {
  for (const auto& [name, facet] : facets.items()) {
    EXPECT_EQ(facet.at("_producer"), kLineageProducer) << name;
    std::string schema_url = facet.at("_schemaURL").get<std::string>();
    EXPECT_TRUE(schema_url.starts_with("https://openlineage.io/spec/facets/")) << name;
  }
}

TEST(LineageTest, RendersEachEventType) {
  const std::pair<LineageEventType, const char*> kTypes[] = {
      {LineageEventType::kStart, "START"},       {LineageEventType::kRunning, "RUNNING"},
      {LineageEventType::kComplete, "COMPLETE"}, {LineageEventType::kFail, "FAIL"},
      {LineageEventType::kAbort, "ABORT"}};
  for (const auto& [type, name] : kTypes) {
    SCOPED_TRACE(name);
    json event = ToOpenLineageJson(SampleEvent(type));
    EXPECT_EQ(event.at("eventType"), name);
    EXPECT_EQ(event.at("eventTime"), "2026-12-05T19:25:15.123Z");
    EXPECT_EQ(event.at("producer"), "https://github.com/sluice-data/sluice");
    EXPECT_EQ(event.at("schemaURL"),
              "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent");
    EXPECT_EQ(event.at("run").at("runId"), "0193a2b4-1c2d-7e3f-8a4b-5c6d7e8f9a0b");
    EXPECT_EQ(event.at("run").contains("facets"), type == LineageEventType::kFail);
    const json& job = event.at("job");
    EXPECT_EQ(job.at("namespace"), "sluice");
    EXPECT_EQ(job.at("name"), "orders_to_warehouse");
    const json& job_type = job.at("facets").at("jobType");
    EXPECT_EQ(job_type.at("processingType"), "BATCH");
    EXPECT_EQ(job_type.at("integration"), "SLUICE");
    EXPECT_EQ(job_type.at("jobType"), "JOB");
    ExpectBaseFacets(job.at("facets"));

    const json& input = event.at("inputs").at(0);
    EXPECT_EQ(input.at("namespace"), "mysql://db1:3306");
    EXPECT_EQ(input.at("name"), "shop.orders");
    EXPECT_EQ(input.at("facets").at("schema").at("fields"),
              json::parse(R"j([{"name": "id", "type": "int64"},
                               {"name": "amount", "type": "decimal(12,2)"}])j"));
    const json& metrics = input.at("inputFacets").at("dataQualityMetrics");
    EXPECT_EQ(metrics.at("rowCount"), 1200);
    EXPECT_EQ(metrics.at("bytes"), 48000);
    EXPECT_EQ(metrics.at("columnMetrics"), json::object());
    ExpectBaseFacets(input.at("facets"));
    ExpectBaseFacets(input.at("inputFacets"));

    const json& output = event.at("outputs").at(0);
    EXPECT_EQ(output.at("namespace"), "postgres://dw:5432");
    EXPECT_EQ(output.at("name"), "dw.public.orders");
    const json& statistics = output.at("outputFacets").at("outputStatistics");
    EXPECT_EQ(statistics.at("rowCount"), 1200);
    EXPECT_EQ(statistics.at("size"), 40000);
    ExpectBaseFacets(output.at("facets"));
    ExpectBaseFacets(output.at("outputFacets"));
  }
}

TEST(LineageTest, FailCarriesTheErrorMessageFacet) {
  json event = ToOpenLineageJson(SampleEvent(LineageEventType::kFail));
  const json& error = event.at("run").at("facets").at("errorMessage");
  EXPECT_EQ(error.at("message"), "sink postgres 'orders': connection refused");
  EXPECT_EQ(error.at("programmingLanguage"), "C++");
  ExpectBaseFacets(event.at("run").at("facets"));
}

TEST(LineageTest, StreamingJobsAndUnknownCounts) {
  LineageRunEvent event = SampleEvent(LineageEventType::kStart);
  event.streaming = true;
  event.inputs[0].row_count.reset();
  event.inputs[0].bytes.reset();
  event.outputs[0].row_count = 5;
  event.outputs[0].bytes.reset();
  event.outputs[0].fields.clear();
  json rendered = ToOpenLineageJson(event);
  EXPECT_EQ(rendered.at("job").at("facets").at("jobType").at("processingType"), "STREAMING");
  EXPECT_FALSE(rendered.at("inputs").at(0).contains("inputFacets"));
  const json& output = rendered.at("outputs").at(0);
  EXPECT_FALSE(output.at("facets").contains("schema"));
  EXPECT_EQ(output.at("outputFacets").at("outputStatistics").at("rowCount"), 5);
  EXPECT_FALSE(output.at("outputFacets").at("outputStatistics").contains("size"));
}

TEST(LineageTest, FormatsEventTimeInUtcWithMilliseconds) {
  EXPECT_EQ(FormatEventTime(0), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(FormatEventTime(999), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(FormatEventTime(1'000), "1970-01-01T00:00:00.001Z");
  EXPECT_EQ(FormatEventTime(-1'000), "1969-12-31T23:59:59.999Z");
  EXPECT_EQ(FormatEventTime(951'782'400'500'000), "2000-02-29T00:00:00.500Z");
}

TEST(LineageTest, NewRunIdIsAUuidVersion7) {
  const std::regex kUuid7("[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}");
  std::set<std::string> seen;
  std::string previous;
  for (int i = 0; i < 1000; ++i) {
    std::string id = NewRunId();
    ASSERT_TRUE(std::regex_match(id, kUuid7)) << id;
    EXPECT_TRUE(seen.insert(id).second) << id;
    // The leading 48 bits are milliseconds: ids sort by time (equal within one millisecond).
    EXPECT_GE(id.substr(0, 13), previous.substr(0, std::min<size_t>(previous.size(), 13)));
    previous = id;
  }
  auto now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                    std::chrono::system_clock::now().time_since_epoch())
                    .count();
  std::string hex = previous.substr(0, 8) + previous.substr(9, 4);
  int64_t id_ms = std::stoll(hex, nullptr, 16);
  EXPECT_LE(std::abs(now_ms - id_ms), 10'000);
}

// --- DatasetFor ---

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
  Field offset{"_offset", DataType::Int64()};
  offset.metadata = true;
  stream.schema = std::make_shared<Schema>(
      std::vector<Field>{{"id", DataType::Int64(), false}, {"amount", DataType::Decimal(12, 2)},
                         offset});
  return stream;
}

struct NamingCase {
  std::string yaml;
  std::string stream;
  std::string namespace_;
  std::string name;
};

TEST(LineageTest, DatasetForNamesEachConnectorType) {
  const NamingCase kCases[] = {
      {"{type: mysql, host: db1, port: 3307, user: etl, password: hunter2-secret, "
       "database: shop, table: orders}",
       "orders", "mysql://db1:3307", "shop.orders"},
      {"{type: mysql, database: shop, tables: [\"log_*\"], password: hunter2-secret}", "log_1",
       "mysql://127.0.0.1:3306", "shop.log_1"},
      {"{type: postgres, host: pg, user: u, password: hunter2-secret, database: dw, "
       "table: \"{stream}_copy\"}",
       "orders", "postgres://pg:5432", "dw.public.orders_copy"},
      {"{type: postgres, host: pg, port: 6543, database: dw, table: sales.orders}",
       "sales.orders", "postgres://pg:6543", "dw.sales.orders"},
      {"{type: sqlite, path: /data/shop.db, table: orders}", "orders", "file",
       "/data/shop.db/orders"},
      {"{type: file, path: /data/in/orders-*.csv.gz, format: csv}", "orders", "file",
       "/data/in/orders-*.csv.gz"},
      {"{type: file, path: \"/out/./{stream}.parquet\"}", "orders", "file",
       "/out/orders.parquet"},
      {"{type: file, path: \"s3://lake/raw/{stream}.csv\", s3_access_key_id: AKIA, "
       "s3_secret_access_key: hunter2-secret}",
       "orders", "s3://lake", "raw/orders.csv"},
      {"{type: file, path: \"webhdfs://nn:9870/warehouse/orders/*.parquet\", hdfs_user: etl}",
       "orders", "hdfs://nn:9870", "/warehouse/orders/*.parquet"},
      {"{type: hive, location: \"s3://lake/warehouse/{stream}\", metastore: \"thrift://hms:9083\", "
       "database: sales}",
       "orders", "hive://hms:9083", "sales.orders"},
      {"{type: hive, location: \"s3://lake/warehouse/{stream}\"}", "orders", "s3://lake",
       "warehouse/orders"},
      {"{type: kafka, brokers: \"k1:9093,k2:9093\", topic: orders, sasl_user: u, "
       "sasl_password: hunter2-secret, schema_registry_password: hunter2-secret}",
       "orders", "kafka://k1:9093", "orders"},
      {"{type: kafka, brokers: k1, topics: [\"^orders\\\\..*\"]}", "orders.eu", "kafka://k1:9092",
       "orders.eu"},
      {"{type: kafka, brokers: k1:9092, topic: \"cdc.{stream}\"}", "orders", "kafka://k1:9092",
       "cdc.orders"},
      {"{type: kafka, brokers: \" k3:9094 , k4:9094\", topic: t}", "t", "kafka://k3:9094", "t"},
      {"{type: redis, host: cache, password: hunter2-secret, db: 2, key: \"user:{id}\"}", "users",
       "redis://cache:6379", "2/user:{id}"},
      {"{type: redis, port: 6380, mode: snapshot, dbs: [\"0\", \"3\"], keys: \"session:*\"}",
       "redis", "redis://127.0.0.1:6380", "0,3/session:*"},
      {"{type: redis}", "redis", "redis://127.0.0.1:6379", "0/*"},
      {"{type: datagen, rows: 10}", "orders", "datagen", "orders"},
  };
  for (const NamingCase& test : kCases) {
    SCOPED_TRACE(test.yaml);
    config::ConnectorBlock block = Block(test.yaml);
    LineageDataset dataset = DatasetFor(block, Stream(test.stream));
    EXPECT_EQ(dataset.namespace_, test.namespace_);
    EXPECT_EQ(dataset.name, test.name);
    // The metadata column is left out.
    ASSERT_EQ(dataset.fields.size(), 2u);
    EXPECT_EQ(dataset.fields[0].name, "id");
    EXPECT_EQ(dataset.fields[0].type, "int64");
    EXPECT_EQ(dataset.fields[1].type, "decimal(12,2)");
    EXPECT_FALSE(dataset.row_count.has_value());

    LineageRunEvent event = SampleEvent(LineageEventType::kComplete);
    event.inputs = {dataset};
    event.outputs = {dataset};
    std::string text = ToOpenLineageJson(event).dump();
    EXPECT_THAT(text, ::testing::Not(::testing::HasSubstr("hunter2")));
    EXPECT_THAT(text, ::testing::Not(::testing::HasSubstr("AKIA")));
    EXPECT_THAT(text, ::testing::Not(::testing::HasSubstr("etl")));
  }
}

TEST(LineageTest, DatasetForMakesRelativePathsAbsoluteAndDropsUserInfo) {
  LineageDataset local = DatasetFor(Block("{type: file, path: out/x.csv}"), Stream("x"));
  EXPECT_EQ(local.namespace_, "file");
  EXPECT_TRUE(local.name.starts_with("/")) << local.name;
  EXPECT_TRUE(local.name.ends_with("/out/x.csv")) << local.name;

  LineageDataset remote =
      DatasetFor(Block("{type: file, path: \"webhdfs://etl:hunter2@nn:9870/w/x\"}"), Stream("x"));
  EXPECT_EQ(remote.namespace_, "hdfs://nn:9870");
  EXPECT_EQ(remote.name, "/w/x");

  connectors::StreamInfo no_schema;
  no_schema.name = "t";
  EXPECT_TRUE(DatasetFor(Block("{type: sqlite, path: /a.db}"), no_schema).fields.empty());
}

}  // namespace
}  // namespace sluice::lineage
