// Options of the `kafka` source and sink: parsed from the job's block (their option tables live
// in kafka_connector.cc), each field with its default and effect.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "config/options.h"
#include "connectors/kafka/kafka_client.h"
#include "core/schema.h"

namespace sluice::connectors::kafka {

/// How a message's value becomes columns (source) or a row becomes a value (sink).
enum class MessageFormat {
  kRaw,   // one column `value`: string (valid UTF-8) or bytes
  kJson,  // one JSON object per message, keys to columns
  kCsv,   // one CSV record per message, fields to the declared columns in order
  kAvro,  // Avro in the schema registry's wire format
};

/// A change-event envelope around the rows of a JSON message: its rows become changelog rows
/// (RowKind insert, update before/after, delete).
enum class Envelope {
  kNone,
  kDebezium,  // {"before":{..},"after":{..},"op":"c|r|u|d"}, or that inside {"payload":..}
  kCanal,     // {"data":[{..}],"old":[{..}],"type":"INSERT|UPDATE|DELETE","isDdl":false}
  kMaxwell,   // {"type":"insert|update|delete","data":{..},"old":{..}}
};

enum class StartFrom { kCommitted, kEarliest, kLatest, kTimestamp };

/// The metadata columns a source can add (Field::metadata).
inline constexpr std::string_view kMetadataColumns[] = {"key", "partition", "offset", "timestamp",
                                                        "headers"};

struct KafkaSourceOptions {
  KafkaConnection connection;
  /// Topic names; an entry starting with '^' is a regular expression matched against every
  /// topic's whole name.
  std::vector<std::string> topics;
  /// The consumer group whose offsets Acknowledge commits and `start_from: committed` reads.
  /// Default: "sluice-" + the job name.
  std::string group_id;
  StartFrom start_from = StartFrom::kCommitted;
  /// start_from: timestamp: milliseconds since the Unix epoch.
  int64_t start_timestamp_ms = 0;
  /// True: read each partition up to the high watermark it had when the job started, then end
  /// (a bounded source).
  bool stop_at_end = false;
  MessageFormat format = MessageFormat::kJson;
  /// debezium_json, canal_json, maxwell_json: format kJson with this envelope.
  Envelope envelope = Envelope::kNone;
  /// Envelope formats: the columns that identify a row (the changelog's key).
  std::vector<std::string> primary_key;
  /// raw: the value column's type (string or bytes).
  bool raw_as_bytes = false;
  /// avro: the schema registry (its API's base URL) and its HTTP basic-auth credentials.
  std::string schema_registry_url;
  std::string schema_registry_user;
  Secret schema_registry_password;
  /// json/csv: the declared value columns; empty (json only) = inferred from the first
  /// `infer_messages` messages of each topic.
  std::vector<Field> columns;
  int64_t infer_messages = 1000;
  char csv_delimiter = ',';
  /// Metadata columns to add, a subset of kMetadataColumns, in that order.
  std::vector<std::string> metadata_columns;
  /// read_committed (only committed transactions' messages) or read_uncommitted.
  bool read_committed = true;
  /// How often a running job looks for new partitions.
  int64_t partition_discovery_ms = 10000;

  static Result<KafkaSourceOptions> FromConfig(const config::Options& options);
};

enum class Compression { kNone, kGzip, kSnappy, kLz4, kZstd };

struct KafkaSinkOptions {
  KafkaConnection connection;
  /// Target topic; "{stream}" is replaced by the stream name. Default: the stream name.
  std::string topic;
  MessageFormat format = MessageFormat::kJson;
  /// debezium_json: format kJson with Envelope::kDebezium (each change one event).
  Envelope envelope = Envelope::kNone;
  /// debezium_json: a tombstone (null value, the same key) after each delete event.
  bool tombstones = true;
  /// Columns whose values make the message key (joined by '|' when several); none: no key.
  /// debezium_json: the key is a JSON object of these columns, by default the primary key's.
  std::vector<std::string> key_columns;
  /// avro: the schema registry where the value schema is registered (subject <topic>-value).
  std::string schema_registry_url;
  std::string schema_registry_user;
  Secret schema_registry_password;
  /// raw: the column that becomes the value (default: the only column).
  std::string value_column;
  char csv_delimiter = ',';
  Compression compression = Compression::kNone;
  /// The largest message the producer sends (librdkafka's message.max.bytes).
  int64_t message_max_bytes = 1000000;
  /// The compacted topic where exactly-once runs commit their split progress (default
  /// "__sluice_progress").
  std::string progress_topic;
  /// How long a transaction may stay open before the broker aborts it.
  int64_t transaction_timeout_ms = 60000;

  static Result<KafkaSinkOptions> FromConfig(const config::Options& options);
};

/// The option tables shown by `sluice connectors kafka` and used to validate job blocks.
std::span<const config::OptionSpec> KafkaSourceOptionTable();
std::span<const config::OptionSpec> KafkaSinkOptionTable();

}  // namespace sluice::connectors::kafka
