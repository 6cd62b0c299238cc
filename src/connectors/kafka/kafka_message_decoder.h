// MessageDecoder: turns one Kafka message (value and metadata) into one row of a batch, in the
// source's format (raw, json, csv), followed by the metadata columns the job asked for.
//
// A message that does not fit is a DataError whose text starts with its location
// "topic/partition@offset"; the batch is then left as it was.
//
// Thread-safety: none; one decoder per reader.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "connectors/kafka/kafka_options.h"
#include "core/batch.h"

namespace sluice::connectors::kafka {

/// A message as the decoder needs it; views into librdkafka's message, valid for one Append.
struct MessageView {
  std::string_view topic;
  int32_t partition = 0;
  int64_t offset = 0;
  std::optional<std::string_view> key;
  /// nullopt for a tombstone (a null value).
  std::optional<std::string_view> value;
  /// Milliseconds since the Unix epoch; nullopt when the message has none.
  std::optional<int64_t> timestamp_ms;
  std::vector<std::pair<std::string_view, std::optional<std::string_view>>> headers;
};

/// "orders/3@1200".
std::string MessageLocation(std::string_view topic, int32_t partition, int64_t offset);

/// The value columns of format raw: one column `value`.
std::vector<Field> RawValueFields(const KafkaSourceOptions& options);
/// `value_fields` followed by the metadata columns the options ask for (Field::metadata set).
std::vector<Field> WithMetadataFields(const KafkaSourceOptions& options,
                                      std::vector<Field> value_fields);

class MessageDecoder {
 public:
  /// `value_schema`: the value columns; `schema`: the batch's (value columns, then metadata).
  MessageDecoder(const KafkaSourceOptions& options, SchemaPtr value_schema, SchemaPtr schema,
                 std::string component);
  ~MessageDecoder();
  MessageDecoder(const MessageDecoder&) = delete;
  MessageDecoder& operator=(const MessageDecoder&) = delete;

  /// Appends `message` as one row of `batch`.
  Status Append(const MessageView& message, Batch* batch);

 private:
  Status DecodeValue(const MessageView& message, const std::string& location);
  void AppendMetadata(const MessageView& message, Batch* batch, size_t column);

  struct Formats;
  const KafkaSourceOptions& options_;
  SchemaPtr value_schema_;
  SchemaPtr schema_;
  Batch value_row_;  // one row of value columns, copied into the output batch
  std::unique_ptr<Formats> formats_;
  std::string padded_;  // a JSON value followed by the parser's padding
  std::string scratch_;
};

}  // namespace sluice::connectors::kafka
