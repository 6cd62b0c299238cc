#include "connectors/kafka/kafka_options.h"

#include <fmt/core.h>

#include <algorithm>

namespace sluice::connectors::kafka {

namespace {

using config::OptionSpec;
using config::OptionType;

// The connection options, first in both tables.
std::vector<OptionSpec> ConnectionOptions() {
  return {
      {"brokers", OptionType::kString, "",
       "bootstrap brokers, comma-separated host:port (e.g. \"kafka1:9092,kafka2:9092\")", true},
      {"security_protocol",
       OptionType::kEnum,
       "plaintext",
       "plaintext, ssl (TLS), sasl_plaintext (SASL login without TLS) or sasl_ssl",
       false,
       {"plaintext", "ssl", "sasl_plaintext", "sasl_ssl"}},
      {"sasl_mechanism",
       OptionType::kEnum,
       "PLAIN",
       "SASL mechanism with a sasl_* security_protocol",
       false,
       {"PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"}},
      {"sasl_user", OptionType::kString, "", "SASL user name"},
      {"sasl_password", OptionType::kSecret, "", "SASL password (never printed)"},
      {"ssl_ca_location", OptionType::kString, "",
       "PEM file of the CA certificates that sign the brokers' certificates (default: the "
       "system's)"},
      {"ssl_certificate_location", OptionType::kString, "",
       "PEM file of the client certificate, for brokers that require one"},
      {"ssl_key_location", OptionType::kString, "", "PEM file of the client certificate's key"},
      {"ssl_key_password", OptionType::kSecret, "", "password of the client key (never printed)"},
      {.name = "timeout_secs", .type = OptionType::kInt, .default_value = "10",
       .description = "how long a metadata or commit request may take before the brokers count as "
           "unreachable", .min = 1},
      {"properties", OptionType::kMap, "",
       "librdkafka properties passed as they are (e.g. { socket.keepalive.enable: true }), for "
       "what no option covers; their values are never printed"},
  };
}

// format avro's registry options; `url_description` says what the registry is for.
std::vector<OptionSpec> RegistryOptions(const char* url_description) {
  return {
      {"schema_registry_url", OptionType::kString, "", url_description},
      {"schema_registry_user", OptionType::kString, "", "schema registry basic-auth user"},
      {"schema_registry_password", OptionType::kSecret, "",
       "schema registry basic-auth password (never printed)"},
  };
}

// format avro's registry options into `url`, `user`, `password`; `purpose` completes the error
// for a missing URL ("the registry that ...").
Status RegistryFrom(const config::Options& options, std::string_view purpose, std::string* url,
                    std::string* user, Secret* password) {
  *url = options.GetString("schema_registry_url");
  if (url->empty()) {
    return options.ErrorAt(
        "format", fmt::format("format avro needs schema_registry_url (the registry {})", purpose));
  }
  *user = options.GetString("schema_registry_user");
  *password = options.GetSecret("schema_registry_password");
  return Status::OK();
}

std::vector<OptionSpec> BuildSourceTable() {
  std::vector<OptionSpec> table = ConnectionOptions();
  std::vector<OptionSpec> own = {
      {"topic", OptionType::kString, "", "topic to read; exclusive with 'topics'"},
      {"topics", OptionType::kStringList, "",
       "topics to read, by name or as a regular expression starting with '^' matched against "
       "the whole name (\"^orders\\\\..*\"); each topic is one stream"},
      {"group_id", OptionType::kString, "",
       "consumer group whose offsets the job commits once its rows are committed in the sink "
       "(default: sluice-<job name>)"},
      {"start_from",
       OptionType::kEnum,
       "committed",
       "where a partition without progress of this job starts: committed (the group's offset, "
       "else earliest), earliest, latest, or timestamp (see start_timestamp_ms)",
       false,
       {"committed", "earliest", "latest", "timestamp"}},
      {"start_timestamp_ms", OptionType::kInt, "",
       "start_from: timestamp: the first message at or after this time (milliseconds since "
       "1970-01-01 UTC)"},
      {"stop_at",
       OptionType::kEnum,
       "never",
       "never: read on forever (a stream); end: end at each partition's end as of the job's "
       "start (a batch export)",
       false,
       {"never", "end"}},
      {"format",
       OptionType::kEnum,
       "json",
       "message values: json (one object per message), csv (one record per message, fields "
       "in 'columns' order), raw (one column 'value'), or change events whose rows become "
       "inserts, updates and deletes: debezium_json, canal_json, maxwell_json; or avro (the "
       "schema registry's wire format, see schema_registry_url)",
       false,
       {"json", "csv", "raw", "debezium_json", "canal_json", "maxwell_json", "avro"}},
  };
  std::vector<OptionSpec> registry = RegistryOptions(
      "format avro: the schema registry's API (Confluent's, or a compatible one), e.g. "
      "http://registry:8081; each message's writer schema comes from it by id, and the columns "
      "from subject <topic>-value unless declared");
  own.insert(own.end(), registry.begin(), registry.end());
  std::vector<OptionSpec> rest = {
      {"primary_key", OptionType::kStringList, "",
       "change-event formats: the columns that identify a row, so that a sink applies each "
       "row's changes by key"},
      {"value_type",
       OptionType::kEnum,
       "string",
       "format raw: the value column's type (string must be valid UTF-8)",
       false,
       {"string", "bytes"}},
      {"columns", OptionType::kMap, "",
       "value columns, name -> type ({ id: int64, name: string }); required for csv; json "
       "infers them from the first messages when absent"},
      {.name = "infer_messages", .type = OptionType::kInt, .default_value = "1000",
       .description = "format json without columns: messages of each topic read to infer the "
           "columns", .min = 1},
      {"csv_delimiter", OptionType::kString, ",", "format csv: the field delimiter"},
      {"metadata_columns", OptionType::kStringList, "",
       "message metadata to add as columns: key, partition, offset, timestamp, headers"},
      {"isolation",
       OptionType::kEnum,
       "read_committed",
       "read_committed: only messages of committed transactions; read_uncommitted: all",
       false,
       {"read_committed", "read_uncommitted"}},
      {.name = "partition_discovery_secs", .type = OptionType::kDouble, .default_value = "10",
       .description = "how often a running job looks for new partitions of its topics", .min = 0.1},
  };
  table.insert(table.end(), own.begin(), own.end());
  table.insert(table.end(), rest.begin(), rest.end());
  return table;
}

std::vector<OptionSpec> BuildSinkTable() {
  std::vector<OptionSpec> table = ConnectionOptions();
  std::vector<OptionSpec> own = {
      {"topic", OptionType::kString, "",
       "target topic, which must exist; '{stream}' is replaced by the stream name (default: "
       "the stream name)"},
      {"format",
       OptionType::kEnum,
       "json",
       "message values: json (one object per row), csv (one record per row), raw (the "
       "value_column's bytes), debezium_json (one Debezium change event per insert, update or "
       "delete; the way to write a changelog) or avro (the schema registry's wire format, see "
       "schema_registry_url)",
       false,
       {"json", "csv", "raw", "debezium_json", "avro"}},
      {"key_columns", OptionType::kStringList, "",
       "columns whose values make the message key, joined by '|' (the partition follows the "
       "key as Java clients place it: murmur2); none: no key, partitions filled in turn; "
       "debezium_json: a JSON object of these columns, by default the primary key's"},
      {"tombstones", OptionType::kBool, "true",
       "format debezium_json: send a tombstone (the key with a null value) after each delete, "
       "so that compaction can drop the key"},
      {"value_column", OptionType::kString, "",
       "format raw: the column sent as the value (default: the only column)"},
      {"csv_delimiter", OptionType::kString, ",", "format csv: the field delimiter"},
      {"compression",
       OptionType::kEnum,
       "none",
       "message compression",
       false,
       {"none", "gzip", "snappy", "lz4", "zstd"}},
      {.name = "message_max_bytes", .type = OptionType::kBytes, .default_value = "1000000",
       .description = "largest message the producer sends; a larger row is an error", .min = 1000,
       .max = 1'000'000'000},
      {"progress_topic", OptionType::kString, "__sluice_progress",
       "delivery exactly_once: compacted topic (created when missing) where each transaction "
       "also commits the job's split progress"},
      {.name = "transaction_timeout_secs", .type = OptionType::kInt, .default_value = "60",
       .description = "delivery exactly_once: the broker aborts a transaction left open this long",
       .min = 1, .max = 900},
  };
  std::vector<OptionSpec> registry = RegistryOptions(
      "format avro: the schema registry's API, e.g. http://registry:8081; the value schema "
      "derived from the stream's columns is registered under subject <topic>-value");
  auto tombstones = std::find_if(own.begin(), own.end(),
                                 [](const OptionSpec& spec) { return spec.name == "tombstones"; });
  own.insert(tombstones + 1, registry.begin(), registry.end());
  table.insert(table.end(), own.begin(), own.end());
  return table;
}

Result<KafkaConnection> ConnectionFrom(const config::Options& options) {
  KafkaConnection out;
  out.brokers = options.GetString("brokers");
  if (out.brokers.empty())
    return options.ErrorAt("brokers", "'brokers' is empty");
  out.security_protocol = options.GetString("security_protocol");
  out.sasl_mechanism = options.GetString("sasl_mechanism");
  out.sasl_user = options.GetString("sasl_user");
  out.sasl_password = options.GetSecret("sasl_password");
  out.ssl_ca_location = options.GetString("ssl_ca_location");
  out.ssl_certificate_location = options.GetString("ssl_certificate_location");
  out.ssl_key_location = options.GetString("ssl_key_location");
  out.ssl_key_password = options.GetSecret("ssl_key_password");
  int64_t timeout = options.GetInt("timeout_secs");
  out.timeout_ms = static_cast<int>(std::min<int64_t>(timeout, 3600) * 1000);
  if (out.security_protocol.starts_with("sasl") &&
      (out.sasl_user.empty() || out.sasl_password.empty())) {
    return options.ErrorAt("security_protocol",
                           fmt::format("security_protocol {} needs sasl_user and sasl_password",
                                       out.security_protocol));
  }
  if (const config::Node* properties = options.GetNode("properties")) {
    for (const config::Node::Entry& entry : properties->entries()) {
      if (!entry.value.is_scalar())
        return entry.value.Error("a librdkafka property must be a scalar");
      out.properties[entry.key] = entry.value.scalar();
    }
  }
  return out;
}

Result<MessageFormat> FormatFrom(const config::Options& options) {
  std::string format = options.GetString("format");
  if (format == "csv")
    return MessageFormat::kCsv;
  if (format == "raw")
    return MessageFormat::kRaw;
  return MessageFormat::kJson;
}

Result<char> DelimiterFrom(const config::Options& options) {
  std::string delimiter = options.GetString("csv_delimiter");
  if (delimiter == "\\t")
    delimiter = "\t";
  if (delimiter.size() != 1 || delimiter[0] == '"' || delimiter[0] == '\n' ||
      delimiter[0] == '\r') {
    return options.ErrorAt("csv_delimiter",
                           "'csv_delimiter' must be one character other than a quote or a "
                           "line end");
  }
  return delimiter[0];
}

}  // namespace

std::span<const config::OptionSpec> KafkaSourceOptionTable() {
  static const std::vector<OptionSpec> kTable = BuildSourceTable();
  return kTable;
}

std::span<const config::OptionSpec> KafkaSinkOptionTable() {
  static const std::vector<OptionSpec> kTable = BuildSinkTable();
  return kTable;
}

Result<KafkaSourceOptions> KafkaSourceOptions::FromConfig(const config::Options& options) {
  KafkaSourceOptions out;
  SLUICE_ASSIGN_OR_RETURN(out.connection, ConnectionFrom(options));
  if (options.Has("topic") == options.Has("topics")) {
    return options.ErrorAt("", "a kafka source needs exactly one of 'topic' (one topic) or "
                               "'topics' (a list of names or '^' regular expressions)");
  }
  if (options.Has("topic")) {
    out.topics.push_back(options.GetString("topic"));
  } else {
    out.topics = options.GetStringList("topics");
  }
  for (const std::string& topic : out.topics) {
    if (topic.empty() || topic == "^")
      return options.ErrorAt(options.Has("topic") ? "topic" : "topics", "a topic name is empty");
  }
  out.group_id = options.GetString("group_id");
  std::string start = options.GetString("start_from");
  if (start == "earliest") {
    out.start_from = StartFrom::kEarliest;
  } else if (start == "latest") {
    out.start_from = StartFrom::kLatest;
  } else if (start == "timestamp") {
    out.start_from = StartFrom::kTimestamp;
    if (!options.Has("start_timestamp_ms")) {
      return options.ErrorAt("start_from",
                             "start_from: timestamp needs start_timestamp_ms (milliseconds "
                             "since 1970-01-01 UTC)");
    }
    out.start_timestamp_ms = options.GetInt("start_timestamp_ms");
  }
  out.stop_at_end = options.GetString("stop_at") == "end";
  std::string format = options.GetString("format");
  if (format == "debezium_json" || format == "canal_json" || format == "maxwell_json") {
    out.format = MessageFormat::kJson;
    out.envelope = format == "debezium_json" ? Envelope::kDebezium
                   : format == "canal_json"  ? Envelope::kCanal
                                             : Envelope::kMaxwell;
    out.primary_key = options.GetStringList("primary_key");
    if (out.primary_key.empty()) {
      return options.ErrorAt("format", fmt::format("format {} needs primary_key: the columns that "
                                                   "identify a row",
                                                   format));
    }
  } else if (format == "avro") {
    out.format = MessageFormat::kAvro;
    SLUICE_RETURN_IF_ERROR(RegistryFrom(options, "that holds the messages' schemas",
                                        &out.schema_registry_url, &out.schema_registry_user,
                                        &out.schema_registry_password));
  } else {
    SLUICE_ASSIGN_OR_RETURN(out.format, FormatFrom(options));
    if (options.Has("primary_key"))
      return options.ErrorAt("primary_key", "'primary_key' applies to the change-event formats");
  }
  out.raw_as_bytes = options.GetString("value_type") == "bytes";
  if (const config::Node* columns = options.GetNode("columns")) {
    if (out.format == MessageFormat::kRaw)
      return options.ErrorAt("columns", "format raw has one column 'value': drop 'columns'");
    for (const config::Node::Entry& entry : columns->entries()) {
      if (!entry.value.is_scalar())
        return entry.value.Error("a column type must be a string such as int64 or string");
      Result<DataType> type = ParseDataType(entry.value.scalar());
      if (!type.ok())
        return entry.value.Error(type.status().message());
      out.columns.push_back(Field{entry.key, *type, true});
    }
    if (out.columns.empty())
      return options.ErrorAt("columns", "'columns' is empty");
  } else if (out.format == MessageFormat::kCsv) {
    return options.ErrorAt("format", "format csv needs 'columns' (name -> type, in field order)");
  }
  out.infer_messages = options.GetInt("infer_messages");
  SLUICE_ASSIGN_OR_RETURN(out.csv_delimiter, DelimiterFrom(options));
  std::vector<std::string> metadata = options.GetStringList("metadata_columns");
  for (std::string_view name : kMetadataColumns) {
    if (std::find(metadata.begin(), metadata.end(), name) != metadata.end())
      out.metadata_columns.emplace_back(name);
  }
  for (const std::string& name : metadata) {
    if (std::find(std::begin(kMetadataColumns), std::end(kMetadataColumns), name) ==
        std::end(kMetadataColumns)) {
      return options.ErrorAt("metadata_columns",
                             fmt::format("unknown metadata column '{}' (allowed: key, partition, "
                                         "offset, timestamp, headers)",
                                         name));
    }
    for (const Field& field : out.columns) {
      if (field.name == name) {
        return options.ErrorAt("metadata_columns",
                               fmt::format("metadata column '{}' has the name of a value column",
                                           name));
      }
    }
  }
  if (out.format == MessageFormat::kRaw &&
      std::find(metadata.begin(), metadata.end(), "value") != metadata.end()) {
    return options.ErrorAt("metadata_columns", "'value' is the raw format's own column");
  }
  out.read_committed = options.GetString("isolation") == "read_committed";
  double discovery = options.GetDouble("partition_discovery_secs");
  out.partition_discovery_ms = static_cast<int64_t>(discovery * 1000);
  return out;
}

Result<KafkaSinkOptions> KafkaSinkOptions::FromConfig(const config::Options& options) {
  KafkaSinkOptions out;
  SLUICE_ASSIGN_OR_RETURN(out.connection, ConnectionFrom(options));
  out.topic = options.GetString("topic");
  std::string format = options.GetString("format");
  if (format == "debezium_json") {
    out.format = MessageFormat::kJson;
    out.envelope = Envelope::kDebezium;
  } else if (format == "avro") {
    out.format = MessageFormat::kAvro;
    SLUICE_RETURN_IF_ERROR(RegistryFrom(options, "where the value schema is registered",
                                        &out.schema_registry_url, &out.schema_registry_user,
                                        &out.schema_registry_password));
  } else {
    SLUICE_ASSIGN_OR_RETURN(out.format, FormatFrom(options));
  }
  if (options.Has("tombstones") && out.envelope != Envelope::kDebezium)
    return options.ErrorAt("tombstones", "'tombstones' applies to format debezium_json only");
  out.tombstones = options.GetBool("tombstones");
  out.key_columns = options.GetStringList("key_columns");
  out.value_column = options.GetString("value_column");
  if (!out.value_column.empty() && out.format != MessageFormat::kRaw)
    return options.ErrorAt("value_column", "'value_column' applies to format raw only");
  SLUICE_ASSIGN_OR_RETURN(out.csv_delimiter, DelimiterFrom(options));
  std::string compression = options.GetString("compression");
  if (compression == "gzip") {
    out.compression = Compression::kGzip;
  } else if (compression == "snappy") {
    out.compression = Compression::kSnappy;
  } else if (compression == "lz4") {
    out.compression = Compression::kLz4;
  } else if (compression == "zstd") {
    out.compression = Compression::kZstd;
  }
  out.message_max_bytes = options.GetBytes("message_max_bytes");
  out.progress_topic = options.GetString("progress_topic");
  if (out.progress_topic.empty())
    return options.ErrorAt("progress_topic", "'progress_topic' is empty");
  out.transaction_timeout_ms = options.GetInt("transaction_timeout_secs") * 1000;
  return out;
}

}  // namespace sluice::connectors::kafka
