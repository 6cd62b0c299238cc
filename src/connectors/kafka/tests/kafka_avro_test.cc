// format avro against the real broker and schema registry (the `registry` fixture): messages in
// the registry's wire format, encoded here with libavro, read back with the columns taken from
// the registry or declared; clear errors for a message that is not in the wire format and for a
// subject the registry lacks. The sink's Avro: every type round trips sink -> source, and Apache
// Avro's Java library (AvroWireReader.java) reads a message back independently.
#include <avro.h>
#include <fmt/core.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <fstream>

#include "config/job_config.h"
#include "connectors/kafka/tests/kafka_test_util.h"
#include "testing/gtest_util.h"
#include "testing/random_rows.h"
#include "testing/temp_dir.h"

namespace sluice::connectors::kafka {
namespace {

using sluice::testing::Row;
using sluice::testing::TestServers;
using testing::DrivenSource;
using testing::Produce;
using testing::TestMessage;
using testing::UniqueTopic;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr const char* kSchema = R"({"type":"record","name":"Order","fields":[
  {"name":"id","type":"long"},
  {"name":"name","type":["null","string"]},
  {"name":"amount","type":{"type":"bytes","logicalType":"decimal","precision":12,"scale":2}},
  {"name":"day","type":{"type":"int","logicalType":"date"}},
  {"name":"at","type":["null",{"type":"long","logicalType":"timestamp-micros"}]},
  {"name":"ok","type":"boolean"},
  {"name":"ratio","type":"double"},
  {"name":"status","type":{"type":"enum","name":"Status","symbols":["NEW","PAID"]}},
  {"name":"tags","type":{"type":"array","items":"string"}},
  {"name":"raw","type":"bytes"}]})";

// Registers `schema` under `subject`; returns its id.
int32_t Register(const TestServers& servers, const std::string& subject,
                 const std::string& schema) {
  sluice::testing::TempDir dir;
  std::string body = dir.Join("body.json");
  FILE* file = fopen(body.c_str(), "w");
  std::string text = nlohmann::json{{"schema", schema}}.dump();
  fwrite(text.data(), 1, text.size(), file);
  fclose(file);
  Result<std::string> answer = sluice::testing::RunShell(fmt::format(
      "curl -sf -X POST -H 'Content-Type: application/vnd.schemaregistry.v1+json' --data @{} "
      "{}/subjects/{}/versions",
      body, servers.schema_registry_url, subject));
  EXPECT_TRUE(answer.ok()) << answer.status().ToString();
  return answer.ok() ? nlohmann::json::parse(*answer).at("id").get<int32_t>() : -1;
}

struct Order {
  int64_t id;
  std::optional<std::string> name;
  std::string amount_bytes;  // big-endian two's complement, scale 2
  int32_t day;
  std::optional<int64_t> at;
  bool ok;
  double ratio;
  int status;
  std::vector<std::string> tags;
  std::string raw;
};

// The wire format: 0, the id big-endian, the Avro body.
std::string Encode(int32_t id, const Order& order) {
  avro_schema_t schema = nullptr;
  EXPECT_EQ(avro_schema_from_json_length(kSchema, strlen(kSchema), &schema), 0) << avro_strerror();
  avro_value_iface_t* iface = avro_generic_class_from_schema(schema);
  avro_value_t record;
  avro_generic_value_new(iface, &record);
  avro_value_t field;
  avro_value_t branch;
  avro_value_get_by_name(&record, "id", &field, nullptr);
  avro_value_set_long(&field, order.id);
  avro_value_get_by_name(&record, "name", &field, nullptr);
  if (order.name) {
    avro_value_set_branch(&field, 1, &branch);
    avro_value_set_string_len(&branch, order.name->c_str(), order.name->size() + 1);
  } else {
    avro_value_set_branch(&field, 0, &branch);
    avro_value_set_null(&branch);
  }
  avro_value_get_by_name(&record, "amount", &field, nullptr);
  avro_value_set_bytes(&field, const_cast<char*>(order.amount_bytes.data()),
                       order.amount_bytes.size());
  avro_value_get_by_name(&record, "day", &field, nullptr);
  avro_value_set_int(&field, order.day);
  avro_value_get_by_name(&record, "at", &field, nullptr);
  if (order.at) {
    avro_value_set_branch(&field, 1, &branch);
    avro_value_set_long(&branch, *order.at);
  } else {
    avro_value_set_branch(&field, 0, &branch);
    avro_value_set_null(&branch);
  }
  avro_value_get_by_name(&record, "ok", &field, nullptr);
  avro_value_set_boolean(&field, order.ok);
  avro_value_get_by_name(&record, "ratio", &field, nullptr);
  avro_value_set_double(&field, order.ratio);
  avro_value_get_by_name(&record, "status", &field, nullptr);
  avro_value_set_enum(&field, order.status);
  avro_value_get_by_name(&record, "tags", &field, nullptr);
  for (const std::string& tag : order.tags) {
    avro_value_t element;
    avro_value_append(&field, &element, nullptr);
    avro_value_set_string_len(&element, tag.c_str(), tag.size() + 1);
  }
  avro_value_get_by_name(&record, "raw", &field, nullptr);
  avro_value_set_bytes(&field, const_cast<char*>(order.raw.data()), order.raw.size());
  std::string buffer(1 << 16, '\0');
  avro_writer_t writer = avro_writer_memory(buffer.data(), static_cast<int64_t>(buffer.size()));
  EXPECT_EQ(avro_value_write(writer, &record), 0) << avro_strerror();
  std::string out = {'\0', static_cast<char>(id >> 24), static_cast<char>(id >> 16),
                     static_cast<char>(id >> 8), static_cast<char>(id)};
  out.append(buffer.data(), static_cast<size_t>(avro_writer_tell(writer)));
  avro_writer_free(writer);
  avro_value_decref(&record);
  avro_value_iface_decref(iface);
  avro_schema_decref(schema);
  return out;
}

TEST(KafkaAvroTest, WireFormatMessagesWithTheRegistrysColumns) {
  ASSERT_OK_AND_ASSIGN(TestServers servers, TestServers::FromEnvironment());
  ASSERT_FALSE(servers.schema_registry_url.empty());
  std::string topic = UniqueTopic("avro");
  ASSERT_OK(sluice::testing::KafkaCreateTopic(servers, topic, 1));
  int32_t id = Register(servers, topic + "-value", kSchema);
  ASSERT_GE(id, 0);
  std::vector<TestMessage> messages;
  messages.push_back(TestMessage{Encode(id, Order{1, "Zürich 😀 𝄞", std::string("\xfb\x2e", 2),
                                                  20792, 1796464800123456, true, 0.1, 1,
                                                  {"a", "b 😀"}, std::string("\x00\xff", 2)})});
  messages.push_back(TestMessage{Encode(id, Order{-9223372036854775807 - 1, std::nullopt,
                                                  std::string("\x02\x54\x0b\xe3\xff", 5), -1,
                                                  std::nullopt, false, -1e300, 0, {}, ""})});
  messages.push_back(TestMessage{"plain text, not Avro"});
  ASSERT_OK(Produce(servers, topic, messages));
  std::string block = fmt::format(
      "brokers: '{}', topic: {}, stop_at: end, start_from: earliest, format: avro, "
      "schema_registry_url: '{}'",
      servers.kafka.bootstrap, topic, servers.schema_registry_url);
  DrivenSource driven;
  ASSERT_OK(driven.Open(block));
  EXPECT_EQ(driven.source->streams()[0].schema->ToString(),
            "id int64, name string, amount decimal(12,2), day date, at timestamp_tz, ok bool, "
            "ratio float64, status string, tags json, raw bytes");
  ASSERT_OK_AND_ASSIGN(std::vector<Row> rows, driven.ReadAll());
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0], Row({"1", "Zürich 😀 𝄞", "-12.34", "2026-12-05",
                          "2026-12-05 10:00:00.123456+00:00", "true", "0.1", "PAID",
                          R"(["a","b 😀"])", "\\x00ff"}));
  EXPECT_EQ(rows[1], Row({"-9223372036854775808", std::nullopt, "99999999.99", "1969-12-31",
                          std::nullopt, "false", "-1e+300", "NEW", "[]", "\\x"}));
  std::vector<BadRecord> bad = driven.bad_records.records();
  ASSERT_EQ(bad.size(), 1u);
  EXPECT_EQ(bad[0].location, topic + "/0@2");
  EXPECT_THAT(bad[0].reason.message(), HasSubstr("not an Avro message of the schema registry's "
                                                 "wire format"));

  // Declared columns take the fields by name, converted; a column the schema lacks is NULL.
  DrivenSource declared;
  ASSERT_OK(declared.Open(block + ", columns: {name: string, id: string, missing: int32}"));
  ASSERT_OK_AND_ASSIGN(std::vector<Row> picked, declared.ReadAll());
  EXPECT_THAT(picked, ElementsAre(Row({"Zürich 😀 𝄞", "1", std::nullopt}),
                                  Row({std::nullopt, "-9223372036854775808", std::nullopt})));

  // A topic whose subject the registry lacks: the error says where the columns come from.
  std::string other = UniqueTopic("avro_unregistered");
  ASSERT_OK(sluice::testing::KafkaCreateTopic(servers, other, 1));
  DrivenSource missing;
  Status opened = missing.Open(fmt::format(
      "brokers: '{}', topic: {}, format: avro, schema_registry_url: '{}'",
      servers.kafka.bootstrap, other, servers.schema_registry_url));
  EXPECT_EQ(opened.code(), StatusCode::kNotFound) << opened.ToString();
  EXPECT_THAT(opened.message(), HasSubstr("subject '" + other + "-value' unless declared"));
}

// Writes `rows` of `schema` as stream `stream` through a kafka sink block (at-least-once, driven
// directly: one writer, one commit).
Status WriteThroughSink(const std::string& sink_block, const SchemaPtr& schema,
                        const std::vector<Row>& rows) {
  std::string text = fmt::format(
      "name: avro_sink\nsource: {{type: memory}}\nsink: {{type: kafka, {}}}\n", sink_block);
  SLUICE_ASSIGN_OR_RETURN(config::JobConfig job, config::LoadJobText(text, "test.yaml", {}));
  ConnectorRegistry registry;
  RegisterBuiltinConnectors(registry);
  SLUICE_ASSIGN_OR_RETURN(std::unique_ptr<Sink> sink, registry.CreateSink(job.sink));
  std::atomic<bool> cancelled{false};
  sluice::testing::RecordAndFail bad;
  JobContext context;
  context.job_name = UniqueTopic("avro_sink");
  context.cancelled = &cancelled;
  context.bad_records = &bad;
  context.delivery = DeliveryGuarantee::kAtLeastOnce;
  SLUICE_RETURN_IF_ERROR(sink->Claim(context));
  SLUICE_RETURN_IF_ERROR(sink->Open(context, {StreamInfo{"all types", schema}}));
  SLUICE_ASSIGN_OR_RETURN(std::unique_ptr<SinkWriter> writer, sink->CreateWriter(0));
  std::unique_ptr<Batch> batch = sluice::testing::MakeBatch(schema, rows);
  SLUICE_RETURN_IF_ERROR(writer->Write(*batch));
  return writer->Commit(CommitContext{1, {}});
}

// The kafka sink block writing Avro to `topic` through the test registry.
std::string AvroSink(const TestServers& servers, const std::string& topic) {
  return fmt::format("brokers: '{}', topic: {}, format: avro, schema_registry_url: '{}'",
                     servers.kafka.bootstrap, topic, servers.schema_registry_url);
}

// id (NOT NULL: a plain Avro type, not a union) and one nullable column of every type.
SchemaPtr AvroTestSchema() {
  std::vector<Field> fields = {{"id", DataType::Int64(), false}};
  SchemaPtr all_types = sluice::testing::AllTypesSchema();
  for (const Field& field : all_types->fields())
    fields.push_back(field);
  return std::make_shared<Schema>(std::move(fields));
}

std::string ColumnsOf(const Schema& schema) {
  std::string out;
  for (const Field& field : schema.fields())
    out += fmt::format("{}{}: '{}'", out.empty() ? "{" : ", ", field.name, field.type.ToString());
  return out + "}";
}

TEST(KafkaAvroTest, TheSinksAvroRoundTripsEveryTypeThroughTheRegistry) {
  ASSERT_OK_AND_ASSIGN(TestServers servers, TestServers::FromEnvironment());
  ASSERT_FALSE(servers.schema_registry_url.empty());
  SchemaPtr schema = AvroTestSchema();
  std::vector<Row> rows = sluice::testing::RandomRows(*schema, 300, 17);
  rows.push_back(Row(schema->num_fields(), std::nullopt));
  for (size_t i = 0; i < rows.size(); ++i)
    rows[i][0] = std::to_string(i);  // id is NOT NULL
  std::string topic = UniqueTopic("avro_out");
  ASSERT_OK(sluice::testing::KafkaCreateTopic(servers, topic, 1));
  ASSERT_OK(WriteThroughSink(AvroSink(servers, topic) + ", key_columns: [id]", schema, rows));
  std::string block = fmt::format(
      "brokers: '{}', topic: {}, stop_at: end, start_from: earliest, format: avro, "
      "schema_registry_url: '{}'",
      servers.kafka.bootstrap, topic, servers.schema_registry_url);
  DrivenSource declared;
  ASSERT_OK(declared.Open(block + ", columns: " + ColumnsOf(*schema)));
  ASSERT_OK_AND_ASSIGN(std::vector<Row> back, declared.ReadAll());
  EXPECT_TRUE(declared.bad_records.records().empty());
  EXPECT_EQ(back, rows);

  // The columns the registered schema gives a reader that declares none.
  DrivenSource registered;
  ASSERT_OK(registered.Open(block));
  EXPECT_EQ(registered.source->streams()[0].schema->ToString(),
            "id int64, b bool, i8 int32, i16 int32, i32 int32, i64 int64, u8 int32, u16 int32, "
            "u32 int64, u64 decimal(20,0), f32 float32, f64 float64, dec decimal(12,2), wide "
            "string, num string, s string, raw bytes, d date, t time, ts timestamp, tz "
            "timestamp_tz, j string");
}

// Apache Avro's Java library reads a message of the sink with the schema the registry holds.
TEST(KafkaAvroTest, AnIndependentReaderDecodesTheSinksMessage) {
  ASSERT_OK_AND_ASSIGN(TestServers servers, TestServers::FromEnvironment());
  ASSERT_FALSE(servers.schema_registry_url.empty());
  SchemaPtr schema = AvroTestSchema();
  Row row = {"7",
             "true",
             "-128",
             "32767",
             "-5",
             "9223372036854775807",
             "255",
             "65535",
             "4294967295",
             "18446744073709551615",
             "0.5",
             "-1e+300",
             "-12.34",
             "1234567890123456789012345678901234567890.1234567890",
             "3.14159",
             "Zürich 😀",
             "\\x00ff",
             "2026-12-05",
             "10:00:00.123456",
             "2026-12-05 10:00:00.123456",
             "2026-12-05 10:00:00.123456+00:00",
             R"({"a":[1,2]})"};
  std::string topic = UniqueTopic("avro_java");
  ASSERT_OK(sluice::testing::KafkaCreateTopic(servers, topic, 1));
  ASSERT_OK(WriteThroughSink(AvroSink(servers, topic), schema, {row}));
  sluice::testing::TempDir dir;
  std::string message = dir.Join("message.bin");
  ASSERT_OK(sluice::testing::RunShell(
                fmt::format("kcat -C -q -b {} -t {} -o beginning -e -c 1 -f '%s' > {}",
                            servers.kafka.bootstrap, topic, message))
                .status());
  ASSERT_OK_AND_ASSIGN(std::string subject,
                       sluice::testing::RunShell(fmt::format(
                           "curl -sf {}/subjects/{}-value/versions/latest",
                           servers.schema_registry_url, topic)));
  nlohmann::json latest = nlohmann::json::parse(subject);
  std::ofstream(dir.Join("schema.json")) << latest.at("schema").get<std::string>();
  ASSERT_OK_AND_ASSIGN(std::string lib, sluice::testing::RunShell(fmt::format(
                                            "{}/scripts/fetch-jvm-servers.sh --dir registry",
                                            SLUICE_SOURCE_DIR)));
  lib = lib.substr(0, lib.find('\n')) + "/lib";
  ASSERT_OK_AND_ASSIGN(
      std::string read,
      sluice::testing::RunShell(fmt::format(
          "java -cp '{}/*' {}/src/connectors/kafka/tests/AvroWireReader.java {} {} 2>&1", lib,
          SLUICE_SOURCE_DIR, dir.Join("schema.json"), message)));
  EXPECT_EQ(read, fmt::format("id {}\nid=7\nb=true\ni8=-128\ni16=32767\ni32=-5\n"
                              "i64=9223372036854775807\nu8=255\nu16=65535\nu32=4294967295\n"
                              "u64=18446744073709551615\nf32=0.5\nf64=-1.0E300\ndec=-12.34\n"
                              "wide=1234567890123456789012345678901234567890.1234567890\n"
                              "num=3.14159\ns=Zürich 😀\nraw=\\x00ff\nd=2026-12-05\n"
                              "t=10:00:00.123456\nts=2026-12-05T10:00:00.123456\n"
                              "tz=2026-12-05T10:00:00.123456Z\nj={{\"a\":[1,2]}}\n",
                              latest.at("id").get<int32_t>()));
}

}  // namespace
}  // namespace sluice::connectors::kafka
