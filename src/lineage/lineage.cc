#include "lineage/lineage.h"

#include <fmt/core.h>
#include <sys/random.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <ctime>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <random>

#include "config/job_config.h"
#include "connectors/api.h"
#include "connectors/stream_naming.h"

namespace sluice::lineage {

namespace {

using nlohmann::json;

constexpr std::string_view kRunEventSchemaUrl =
    "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent";
// Each facet's _schemaURL: the facet schema's $id and the pointer to its definition.
constexpr std::string_view kSchemaFacetUrl =
    "https://openlineage.io/spec/facets/1-2-0/SchemaDatasetFacet.json#/$defs/SchemaDatasetFacet";
constexpr std::string_view kDataQualityMetricsFacetUrl =
    "https://openlineage.io/spec/facets/1-0-3/DataQualityMetricsInputDatasetFacet.json"
    "#/$defs/DataQualityMetricsInputDatasetFacet";
constexpr std::string_view kOutputStatisticsFacetUrl =
    "https://openlineage.io/spec/facets/1-0-2/OutputStatisticsOutputDatasetFacet.json"
    "#/$defs/OutputStatisticsOutputDatasetFacet";
constexpr std::string_view kErrorMessageFacetUrl =
    "https://openlineage.io/spec/facets/1-0-1/ErrorMessageRunFacet.json"
    "#/$defs/ErrorMessageRunFacet";
constexpr std::string_view kJobTypeFacetUrl =
    "https://openlineage.io/spec/facets/2-0-4/JobTypeJobFacet.json#/$defs/JobTypeJobFacet";

json Facet(const LineageRunEvent& event, std::string_view schema_url) {
  return json{{"_producer", event.producer}, {"_schemaURL", schema_url}};
}

json DatasetJson(const LineageRunEvent& event, const LineageDataset& dataset, bool input) {
  json out = {{"namespace", dataset.namespace_}, {"name", dataset.name}};
  json facets = json::object();
  if (!dataset.fields.empty()) {
    json fields = json::array();
    for (const LineageField& field : dataset.fields)
      fields.push_back({{"name", field.name}, {"type", field.type}});
    json schema = Facet(event, kSchemaFacetUrl);
    schema["fields"] = std::move(fields);
    facets["schema"] = std::move(schema);
  }
  out["facets"] = std::move(facets);
  if (dataset.row_count || dataset.bytes) {
    if (input) {
      json metrics = Facet(event, kDataQualityMetricsFacetUrl);
      if (dataset.row_count)
        metrics["rowCount"] = *dataset.row_count;
      if (dataset.bytes)
        metrics["bytes"] = *dataset.bytes;
      // Required by the facet's schema; Sluice measures no column.
      metrics["columnMetrics"] = json::object();
      out["inputFacets"] = {{"dataQualityMetrics", std::move(metrics)}};
    } else {
      json statistics = Facet(event, kOutputStatisticsFacetUrl);
      if (dataset.row_count)
        statistics["rowCount"] = *dataset.row_count;
      if (dataset.bytes)
        statistics["size"] = *dataset.bytes;
      out["outputFacets"] = {{"outputStatistics", std::move(statistics)}};
    }
  }
  return out;
}

// --- Dataset naming ---

// The scalar option `key` of the block, or `fallback` when it is absent or not a scalar.
std::string Option(const config::ConnectorBlock& block, std::string_view key,
                   std::string_view fallback = {}) {
  const config::Node* node = block.options.Find(key);
  if (node == nullptr || !node->is_scalar() || node->scalar().empty())
    return std::string(fallback);
  return node->scalar();
}

// Drops "user:password@" from an authority ("host:port"), in case one was written there.
std::string WithoutUserInfo(std::string_view authority) {
  size_t at = authority.rfind('@');
  return std::string(at == std::string_view::npos ? authority : authority.substr(at + 1));
}

std::string HostPort(const config::ConnectorBlock& block, std::string_view default_port) {
  return fmt::format("{}:{}", WithoutUserInfo(Option(block, "host", "127.0.0.1")),
                     Option(block, "port", default_port));
}

// The table a SQL-like block reads or writes for `stream`: its `table` option with "{stream}"
// expanded, else the stream's name (a source with `tables:` names each stream after its table).
std::string TableOf(const config::ConnectorBlock& block, const connectors::StreamInfo& stream) {
  return connectors::ExpandStreamName(Option(block, "table"), stream.name);
}

// A path as OpenLineage names files: {"s3://bucket", "key"}, {"hdfs://namenode:port", "/path"}
// or, for a local path, {"file", "/absolute/path"}.
std::pair<std::string, std::string> PathDataset(std::string_view path) {
  size_t scheme_end = path.find("://");
  if (scheme_end != std::string_view::npos) {
    std::string_view scheme = path.substr(0, scheme_end);
    std::string_view rest = path.substr(scheme_end + 3);
    size_t slash = rest.find('/');
    std::string authority = WithoutUserInfo(rest.substr(0, slash));
    std::string key = slash == std::string_view::npos ? "" : std::string(rest.substr(slash));
    if (scheme == "file")
      return {"file", key};
    if (scheme == "s3" || scheme == "s3a" || scheme == "gs") {
      // Object stores name the object key without its leading slash.
      return {fmt::format("{}://{}", scheme == "s3a" ? "s3" : scheme, authority),
              key.empty() ? key : key.substr(1)};
    }
    // WebHDFS addresses the namenode's HTTP port, the only one Sluice knows.
    if (scheme == "webhdfs" || scheme == "hdfs")
      return {fmt::format("hdfs://{}", authority), key};
    return {fmt::format("{}://{}", scheme, authority), key};
  }
  std::error_code error;
  std::filesystem::path absolute = std::filesystem::absolute(std::filesystem::path(path), error);
  if (error)
    return {"file", std::string(path)};
  return {"file", absolute.lexically_normal().string()};
}

void NameDataset(const config::ConnectorBlock& block, const connectors::StreamInfo& stream,
                 LineageDataset* out) {
  const std::string& type = block.type;
  if (type == "mysql") {
    out->namespace_ = "mysql://" + HostPort(block, "3306");
    out->name = fmt::format("{}.{}", Option(block, "database"), TableOf(block, stream));
  } else if (type == "postgres") {
    out->namespace_ = "postgres://" + HostPort(block, "5432");
    std::string table = TableOf(block, stream);
    if (table.find('.') == std::string::npos)
      table = "public." + table;
    out->name = fmt::format("{}.{}", Option(block, "database"), table);
  } else if (type == "sqlite") {
    // A table inside a database file: the file's path, then the table.
    auto [namespace_, path] = PathDataset(Option(block, "path"));
    out->namespace_ = std::move(namespace_);
    out->name = fmt::format("{}/{}", path, TableOf(block, stream));
  } else if (type == "file") {
    auto [namespace_, path] =
        PathDataset(connectors::ExpandStreamName(Option(block, "path"), stream.name));
    out->namespace_ = std::move(namespace_);
    out->name = std::move(path);
  } else if (type == "hive") {
    std::string metastore = Option(block, "metastore");
    if (!metastore.empty()) {
      // A table of a metastore: hive://host:port and database.table.
      std::string_view address = metastore;
      if (size_t scheme_end = address.find("://"); scheme_end != std::string_view::npos)
        address = address.substr(scheme_end + 3);
      address = address.substr(0, address.find('/'));
      out->namespace_ = "hive://" + WithoutUserInfo(address);
      out->name = fmt::format("{}.{}", Option(block, "database", "default"),
                              TableOf(block, stream));
    } else {
      auto [namespace_, path] =
          PathDataset(connectors::ExpandStreamName(Option(block, "location"), stream.name));
      out->namespace_ = std::move(namespace_);
      out->name = std::move(path);
    }
  } else if (type == "kafka") {
    // The first bootstrap broker names the cluster.
    std::string brokers = Option(block, "brokers");
    std::string_view first_listed = std::string_view(brokers).substr(0, brokers.find(','));
    while (!first_listed.empty() && first_listed.front() == ' ')
      first_listed.remove_prefix(1);
    while (!first_listed.empty() && first_listed.back() == ' ')
      first_listed.remove_suffix(1);
    std::string first = WithoutUserInfo(first_listed);
    if (first.find(':') == std::string::npos)
      first += ":9092";
    out->namespace_ = "kafka://" + first;
    out->name = connectors::ExpandStreamName(Option(block, "topic"), stream.name);
  } else if (type == "redis") {
    out->namespace_ = "redis://" + HostPort(block, "6379");
    std::string db = Option(block, "db", "0");
    if (const config::Node* dbs = block.options.Find("dbs");
        dbs != nullptr && dbs->is_sequence() && !dbs->items().empty()) {
      db.clear();
      for (const config::Node& item : dbs->items())
        db += (db.empty() ? "" : ",") + item.scalar();
    }
    // A sink's key template, or the key pattern a source scans.
    const config::Node* key = block.options.Find("key");
    std::string pattern = key != nullptr && key->is_scalar()
                              ? connectors::ExpandStreamName(key->scalar(), stream.name)
                              : Option(block, "keys", "*");
    out->name = fmt::format("{}/{}", db, pattern);
  } else {
    out->namespace_ = type;
    out->name = stream.name;
  }
}

}  // namespace

std::string_view LineageEventTypeName(LineageEventType type) {
  switch (type) {
    case LineageEventType::kStart:
      return "START";
    case LineageEventType::kRunning:
      return "RUNNING";
    case LineageEventType::kComplete:
      return "COMPLETE";
    case LineageEventType::kFail:
      return "FAIL";
    case LineageEventType::kAbort:
      return "ABORT";
  }
  return "OTHER";
}

std::string FormatEventTime(int64_t time_us) {
  int64_t seconds = time_us / 1'000'000;
  int64_t millis = (time_us % 1'000'000) / 1000;
  if (millis < 0) {  // before 1970: floor, not truncation
    seconds -= 1;
    millis += 1000;
  }
  std::time_t time = static_cast<std::time_t>(seconds);
  std::tm utc{};
  gmtime_r(&time, &utc);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", utc.tm_year + 1900,
                     utc.tm_mon + 1, utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec, millis);
}

nlohmann::json ToOpenLineageJson(const LineageRunEvent& event) {
  json run = {{"runId", event.run_id}};
  if (event.type == LineageEventType::kFail) {
    json error = Facet(event, kErrorMessageFacetUrl);
    error["message"] = event.error_message;
    error["programmingLanguage"] = "C++";
    run["facets"] = {{"errorMessage", std::move(error)}};
  }
  json job_type = Facet(event, kJobTypeFacetUrl);
  job_type["processingType"] = event.streaming ? "STREAMING" : "BATCH";
  job_type["integration"] = "SLUICE";
  job_type["jobType"] = "JOB";
  json job = {{"namespace", event.job_namespace},
              {"name", event.job_name},
              {"facets", {{"jobType", std::move(job_type)}}}};
  json inputs = json::array();
  for (const LineageDataset& dataset : event.inputs)
    inputs.push_back(DatasetJson(event, dataset, /*input=*/true));
  json outputs = json::array();
  for (const LineageDataset& dataset : event.outputs)
    outputs.push_back(DatasetJson(event, dataset, /*input=*/false));
  return json{{"eventType", LineageEventTypeName(event.type)},
              {"eventTime", FormatEventTime(event.event_time_us)},
              {"producer", event.producer},
              {"schemaURL", kRunEventSchemaUrl},
              {"run", std::move(run)},
              {"job", std::move(job)},
              {"inputs", std::move(inputs)},
              {"outputs", std::move(outputs)}};
}

std::string NewRunId() {
  std::array<uint8_t, 16> bytes{};
  // getrandom draws from the kernel's CSPRNG; it fails only before the pool is initialised at
  // boot or on an ancient kernel, where std::random_device is the fallback.
  if (getrandom(bytes.data(), bytes.size(), 0) != static_cast<ssize_t>(bytes.size())) {
    std::random_device device;
    for (uint8_t& byte : bytes)
      byte = static_cast<uint8_t>(device());
  }
  uint64_t millis = static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                              std::chrono::system_clock::now().time_since_epoch())
                                              .count());
  for (int i = 0; i < 6; ++i)
    bytes[i] = static_cast<uint8_t>(millis >> (8 * (5 - i)));
  bytes[6] = static_cast<uint8_t>(0x70 | (bytes[6] & 0x0f));  // version 7
  bytes[8] = static_cast<uint8_t>(0x80 | (bytes[8] & 0x3f));  // variant 10 (RFC 9562)
  std::string out;
  out.reserve(36);
  for (size_t i = 0; i < bytes.size(); ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10)
      out += '-';
    out += fmt::format("{:02x}", bytes[i]);
  }
  return out;
}

LineageDataset DatasetFor(const config::ConnectorBlock& block,
                          const connectors::StreamInfo& stream) {
  LineageDataset out;
  NameDataset(block, stream, &out);
  if (stream.schema != nullptr) {
    for (const Field& field : stream.schema->fields()) {
      // Metadata columns (a message's offset, a change's operation) are not the data's columns.
      if (!field.metadata)
        out.fields.push_back({field.name, field.type.ToString()});
    }
  }
  return out;
}

}  // namespace sluice::lineage
