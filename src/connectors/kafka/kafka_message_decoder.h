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

#include "connectors/kafka/kafka_avro.h"
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
/// The same into `*out` (replacing what it held): no allocation once `out` has grown, for the
/// once-per-message path.
void AssignMessageLocation(std::string_view topic, int32_t partition, int64_t offset,
                           std::string* out);

/// The value columns of format raw: one column `value`.
std::vector<Field> RawValueFields(const KafkaSourceOptions& options);
/// `value_fields` followed by the metadata columns the options ask for (Field::metadata set).
std::vector<Field> WithMetadataFields(const KafkaSourceOptions& options,
                                      std::vector<Field> value_fields);

/// One row of a change event: its kind and its columns as a JSON object's text.
struct ChangeRow {
  RowKind kind;
  std::string object;
};

/// The rows of change event `value` in `envelope`, in order (an update's before image first).
/// No rows for an event that changes none (DDL, a bootstrap marker, a truncate). A value that is
/// not such an event is a DataError starting with `location`.
Status ExtractChangeRows(Envelope envelope, std::string_view value, const std::string& location,
                         std::vector<ChangeRow>* rows);

class MessageDecoder {
 public:
  /// `value_schema`: the value columns; `schema`: the batch's (value columns, then metadata).
  /// `registry`: format avro only.
  MessageDecoder(const KafkaSourceOptions& options, SchemaPtr value_schema, SchemaPtr schema,
                 std::string component,
                 std::shared_ptr<const SchemaRegistry> registry = nullptr);
  ~MessageDecoder();
  MessageDecoder(const MessageDecoder&) = delete;
  MessageDecoder& operator=(const MessageDecoder&) = delete;

  /// Appends `message` as one row of `batch` (change events: as their rows, none for a
  /// tombstone). Returns false, leaving the batch as it was, when the event's rows do not fit
  /// in what is left of the batch: append it to the next one.
  Result<bool> Append(const MessageView& message, Batch* batch);

 private:
  Status DecodeValue(const MessageView& message, const std::string& location);
  Result<bool> AppendChanges(const MessageView& message, const std::string& location,
                             Batch* batch);
  void AppendMetadata(const MessageView& message, Batch* batch, size_t column);

  struct Formats;
  const KafkaSourceOptions& options_;
  SchemaPtr value_schema_;
  SchemaPtr schema_;
  // Value columns of one message (of a change event's rows), copied into the output batch.
  std::unique_ptr<Batch> value_row_;
  std::vector<ChangeRow> changes_;
  std::unique_ptr<Formats> formats_;
  std::string padded_;  // a JSON value followed by the parser's padding
  std::string location_;  // the current message's MessageLocation
  std::string scratch_;
};

}  // namespace sluice::connectors::kafka
