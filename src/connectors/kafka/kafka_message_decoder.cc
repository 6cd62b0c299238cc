#include "connectors/kafka/kafka_message_decoder.h"

#include <fmt/core.h>

#include <nlohmann/json.hpp>

#include "core/value_text.h"
#include "formats/csv/csv_batch_builder.h"
#include "formats/csv/csv_reader.h"
#include "formats/jsonl/jsonl_batch_builder.h"
#include "formats/jsonl/jsonl_reader.h"
#include "io/memory_stream.h"

namespace sluice::connectors::kafka {

std::string MessageLocation(std::string_view topic, int32_t partition, int64_t offset) {
  return fmt::format("{}/{}@{}", topic, partition, offset);
}

std::vector<Field> RawValueFields(const KafkaSourceOptions& options) {
  return {Field{"value", options.raw_as_bytes ? DataType::Bytes() : DataType::String(), true}};
}

std::vector<Field> WithMetadataFields(const KafkaSourceOptions& options,
                                      std::vector<Field> value_fields) {
  for (const std::string& name : options.metadata_columns) {
    Field field;
    field.name = name;
    field.metadata = true;
    if (name == "key") {
      field.type = options.raw_as_bytes ? DataType::Bytes() : DataType::String();
    } else if (name == "partition") {
      field.type = DataType::Int32();
      field.nullable = false;
    } else if (name == "offset") {
      field.type = DataType::Int64();
      field.nullable = false;
    } else if (name == "timestamp") {
      field.type = DataType::TimestampTz(3);
    } else {
      field.type = DataType::Json();
    }
    value_fields.push_back(std::move(field));
  }
  return value_fields;
}

struct MessageDecoder::Formats {
  std::unique_ptr<formats::JsonlBatchBuilder> json;
  std::unique_ptr<formats::CsvBatchBuilder> csv;
  formats::CsvDialect dialect;
};

MessageDecoder::MessageDecoder(const KafkaSourceOptions& options, SchemaPtr value_schema,
                               SchemaPtr schema, std::string component)
    : options_(options),
      value_schema_(std::move(value_schema)),
      schema_(std::move(schema)),
      value_row_(value_schema_, 1),
      formats_(std::make_unique<Formats>()) {
  if (options_.format == MessageFormat::kJson) {
    formats_->json = std::make_unique<formats::JsonlBatchBuilder>(value_schema_, component);
  } else if (options_.format == MessageFormat::kCsv) {
    formats_->dialect.delimiter = options_.csv_delimiter;
    std::vector<int> field_to_column;
    for (size_t i = 0; i < value_schema_->num_fields(); ++i)
      field_to_column.push_back(static_cast<int>(i));
    formats_->csv = std::make_unique<formats::CsvBatchBuilder>(
        value_schema_, std::move(field_to_column), formats_->dialect);
  }
}

MessageDecoder::~MessageDecoder() = default;

Status MessageDecoder::DecodeValue(const MessageView& message, const std::string& location) {
  value_row_.Clear();
  if (!message.value) {
    // A tombstone: the key was deleted. Its value columns are NULL; the key column tells which.
    for (size_t c = 0; c < value_row_.num_columns(); ++c)
      value_row_.column(c).AppendNull();
    value_row_.FinishRow();
    return Status::OK();
  }
  std::string_view value = *message.value;
  switch (options_.format) {
    case MessageFormat::kRaw: {
      if (!options_.raw_as_bytes) {
        size_t bad = FindInvalidUtf8(value);
        if (bad != std::string_view::npos) {
          return DataError(fmt::format("{}: the value is not valid UTF-8 (byte {}); read it "
                                       "with value_type: bytes",
                                       location, bad));
        }
      }
      value_row_.column(0).AppendView(value);
      value_row_.FinishRow();
      return Status::OK();
    }
    case MessageFormat::kJson: {
      padded_.assign(value);
      padded_.append(formats::kJsonPadding, '\0');
      formats::JsonlLine line;
      line.text = std::string_view(padded_.data(), value.size());
      line.line = 1;
      line.file_name = location;
      return formats_->json->Append(line, &value_row_);
    }
    case MessageFormat::kCsv: {
      io::ViewInputStream input(value);
      formats::CsvReadOptions read_options;
      read_options.dialect = formats_->dialect;
      read_options.buffer_bytes = std::max<size_t>(4096, value.size() + 64);
      formats::CsvReader reader(&input, location, read_options);
      SLUICE_ASSIGN_OR_RETURN(bool any, reader.Next());
      if (!any)
        return DataError(fmt::format("{}: the value is empty, not a CSV record", location));
      SLUICE_RETURN_IF_ERROR(formats_->csv->Append(reader.record(), &value_row_));
      Result<bool> more = reader.Next();
      if (!more.ok() || *more) {
        value_row_.Clear();
        return DataError(fmt::format("{}: the value holds more than one CSV record", location));
      }
      return Status::OK();
    }
  }
  return Status::OK();
}

Status MessageDecoder::Append(const MessageView& message, Batch* batch) {
  std::string location = MessageLocation(message.topic, message.partition, message.offset);
  SLUICE_RETURN_IF_ERROR(DecodeValue(message, location));
  // The key column is text unless the values are bytes (it comes first when asked for).
  if (!options_.raw_as_bytes && message.key && !options_.metadata_columns.empty() &&
      options_.metadata_columns.front() == "key" && !IsValidUtf8(*message.key)) {
    return DataError(fmt::format("{}: the key is not valid UTF-8; read it with value_type: bytes",
                                 location));
  }
  size_t value_columns = value_schema_->num_fields();
  for (size_t c = 0; c < value_columns; ++c)
    batch->column(c).AppendFrom(value_row_.column(c), 0);
  AppendMetadata(message, batch, value_columns);
  batch->FinishRow();
  return Status::OK();
}

void MessageDecoder::AppendMetadata(const MessageView& message, Batch* batch, size_t column) {
  for (const std::string& name : options_.metadata_columns) {
    Column& out = batch->column(column++);
    if (name == "key") {
      if (message.key) {
        out.AppendView(*message.key);
      } else {
        out.AppendNull();
      }
    } else if (name == "partition") {
      out.Append<int32_t>(message.partition);
    } else if (name == "offset") {
      out.Append<int64_t>(message.offset);
    } else if (name == "timestamp") {
      if (message.timestamp_ms) {
        out.Append<int64_t>(*message.timestamp_ms * 1000);
      } else {
        out.AppendNull();
      }
    } else {
      // Headers as a JSON object; a header repeated keeps its last value; a value that is not
      // UTF-8 text is written as \x hex, as bytes are everywhere else.
      if (message.headers.empty()) {
        out.AppendNull();
        continue;
      }
      nlohmann::json object = nlohmann::json::object();
      for (const auto& [header, value] : message.headers) {
        if (!value) {
          object[std::string(header)] = nullptr;
        } else if (IsValidUtf8(*value)) {
          object[std::string(header)] = std::string(*value);
        } else {
          scratch_.clear();
          AppendHexBytes(*value, &scratch_);
          object[std::string(header)] = scratch_;
        }
      }
      out.AppendView(object.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
    }
  }
}

}  // namespace sluice::connectors::kafka
