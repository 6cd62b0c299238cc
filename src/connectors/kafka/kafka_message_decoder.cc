#include "connectors/kafka/kafka_message_decoder.h"

#include <fmt/core.h>

#include <nlohmann/json.hpp>

#include <charconv>

#include "core/value_text.h"
#include "formats/csv/csv_batch_builder.h"
#include "formats/csv/csv_reader.h"
#include "formats/jsonl/jsonl_batch_builder.h"
#include "formats/jsonl/jsonl_reader.h"
#include "io/memory_stream.h"

namespace sluice::connectors::kafka {

std::string MessageLocation(std::string_view topic, int32_t partition, int64_t offset) {
  std::string out;
  AssignMessageLocation(topic, partition, offset, &out);
  return out;
}

void AssignMessageLocation(std::string_view topic, int32_t partition, int64_t offset,
                           std::string* out) {
  // By hand rather than fmt::format: this runs for every message (a tenth of a JSON message's
  // decoding, with its allocation, when formatted).
  char digits[24];
  out->assign(topic);
  out->push_back('/');
  out->append(digits, std::to_chars(digits, digits + sizeof(digits), partition).ptr);
  out->push_back('@');
  out->append(digits, std::to_chars(digits, digits + sizeof(digits), offset).ptr);
}

std::vector<Field> RawValueFields(const KafkaSourceOptions& options) {
  return {Field{"value", options.raw_as_bytes ? DataType::Bytes() : DataType::String(), true}};
}

std::vector<Field> WithMetadataFields(const KafkaSourceOptions& options,
                                      std::vector<Field> value_fields) {
  for (const std::string& name : options.metadata_columns) {
    Field field;
    field.name = name;
    // Asked for by name in the source block, so ordinary columns: Field::metadata ones would be
    // dropped before the sink unless a transform selected them again.
    field.metadata = false;
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
  std::unique_ptr<AvroDecoder> avro;
  std::unique_ptr<formats::JsonlBatchBuilder> json;
  std::unique_ptr<formats::CsvBatchBuilder> csv;
  formats::CsvDialect dialect;
};

MessageDecoder::MessageDecoder(const KafkaSourceOptions& options, SchemaPtr value_schema,
                               SchemaPtr schema, std::string component,
                               std::shared_ptr<const SchemaRegistry> registry)
    : options_(options),
      value_schema_(std::move(value_schema)),
      schema_(std::move(schema)),
      value_row_(std::make_unique<Batch>(value_schema_, 2)),
      formats_(std::make_unique<Formats>()) {
  if (options_.format == MessageFormat::kAvro) {
    formats_->avro = std::make_unique<AvroDecoder>(std::move(registry), value_schema_);
  } else if (options_.format == MessageFormat::kJson) {
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
  value_row_->Clear();
  if (!message.value) {
    // A tombstone: the key was deleted. Its value columns are NULL; the key column tells which.
    for (size_t c = 0; c < value_row_->num_columns(); ++c)
      value_row_->column(c).AppendNull();
    value_row_->FinishRow();
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
      value_row_->column(0).AppendView(value);
      value_row_->FinishRow();
      return Status::OK();
    }
    case MessageFormat::kJson: {
      padded_.assign(value);
      padded_.append(formats::kJsonPadding, '\0');
      formats::JsonlLine line;
      line.text = std::string_view(padded_.data(), value.size());
      line.line = 1;
      line.file_name = location;
      return formats_->json->Append(line, value_row_.get());
    }
    case MessageFormat::kAvro:
      return formats_->avro->Append(value, location, value_row_.get());
    case MessageFormat::kCsv: {
      io::ViewInputStream input(value);
      formats::CsvReadOptions read_options;
      read_options.dialect = formats_->dialect;
      read_options.buffer_bytes = std::max<size_t>(4096, value.size() + 64);
      formats::CsvReader reader(&input, location, read_options);
      SLUICE_ASSIGN_OR_RETURN(bool any, reader.Next());
      if (!any)
        return DataError(fmt::format("{}: the value is empty, not a CSV record", location));
      SLUICE_RETURN_IF_ERROR(formats_->csv->Append(reader.record(), value_row_.get()));
      Result<bool> more = reader.Next();
      if (!more.ok() || *more) {
        value_row_->Clear();
        return DataError(fmt::format("{}: the value holds more than one CSV record", location));
      }
      return Status::OK();
    }
  }
  return Status::OK();
}

Result<bool> MessageDecoder::Append(const MessageView& message, Batch* batch) {
  AssignMessageLocation(message.topic, message.partition, message.offset, &location_);
  const std::string& location = location_;
  if (options_.envelope != Envelope::kNone)
    return AppendChanges(message, location, batch);
  SLUICE_RETURN_IF_ERROR(DecodeValue(message, location));
  // The key column is text unless the values are bytes (it comes first when asked for).
  if (!options_.raw_as_bytes && message.key && !options_.metadata_columns.empty() &&
      options_.metadata_columns.front() == "key" && !IsValidUtf8(*message.key)) {
    return DataError(fmt::format("{}: the key is not valid UTF-8; read it with value_type: bytes",
                                 location));
  }
  size_t value_columns = value_schema_->num_fields();
  for (size_t c = 0; c < value_columns; ++c)
    batch->column(c).AppendFrom(value_row_->column(c), 0);
  AppendMetadata(message, batch, value_columns);
  batch->FinishRow();
  return true;
}

Result<bool> MessageDecoder::AppendChanges(const MessageView& message, const std::string& location,
                                           Batch* batch) {
  changes_.clear();
  // A tombstone follows a delete so that compaction can drop the key: no change of its own.
  if (!message.value)
    return true;
  SLUICE_RETURN_IF_ERROR(ExtractChangeRows(options_.envelope, *message.value, location, &changes_));
  if (changes_.empty())
    return true;
  size_t room = batch->capacity() - batch->num_rows();
  if (changes_.size() > room) {
    if (!batch->empty())
      return false;
    return DataError(fmt::format("{}: the event holds {} rows, more than a batch ({}): raise "
                                 "batch_rows",
                                 location, changes_.size(), batch->capacity()));
  }
  if (value_row_->capacity() < changes_.size())
    value_row_ = std::make_unique<Batch>(value_schema_, changes_.size());
  value_row_->Clear();
  formats::JsonlLine line;
  line.line = 1;
  line.file_name = location;
  // Every row parses before any is appended: an event arrives whole or not at all.
  for (const ChangeRow& change : changes_) {
    padded_.assign(change.object);
    padded_.append(formats::kJsonPadding, '\0');
    line.text = std::string_view(padded_.data(), change.object.size());
    SLUICE_RETURN_IF_ERROR(formats_->json->Append(line, value_row_.get()));
  }
  size_t value_columns = value_schema_->num_fields();
  for (size_t row = 0; row < changes_.size(); ++row) {
    for (size_t c = 0; c < value_columns; ++c)
      batch->column(c).AppendFrom(value_row_->column(c), row);
    AppendMetadata(message, batch, value_columns);
    batch->SetRowKind(changes_[row].kind);
    batch->FinishRow();
  }
  return true;
}

namespace {

Status NotAnEvent(const std::string& location, std::string_view envelope, std::string_view why) {
  return DataError(fmt::format("{}: not a {} change event: {}", location, envelope, why));
}

// `data` with the keys of `old` replaced: the row before an update, as Maxwell and Canal send
// only the changed columns' old values.
std::string Overlay(const nlohmann::ordered_json& data, const nlohmann::ordered_json& old) {
  nlohmann::ordered_json before = data;
  if (old.is_object()) {
    for (auto it = old.begin(); it != old.end(); ++it)
      before[it.key()] = it.value();
  }
  return before.dump();
}


// The end of the JSON value starting at `at` in `text` (valid JSON, already parsed).
size_t SkipJsonValue(std::string_view text, size_t at) {
  auto skip_string = [&](size_t i) {
    for (++i; i < text.size() && text[i] != '"'; ++i) {
      if (text[i] == '\\')
        ++i;
    }
    return i + 1;
  };
  if (at >= text.size())
    return at;
  if (text[at] == '"')
    return skip_string(at);
  if (text[at] != '{' && text[at] != '[') {
    constexpr std::string_view kScalarEnd = ",}] \t\r\n";
    while (at < text.size() && kScalarEnd.find(text[at]) == std::string_view::npos)
      ++at;
    return at;
  }
  int depth = 0;
  while (at < text.size()) {
    char c = text[at];
    if (c == '"') {
      at = skip_string(at);
      continue;
    }
    if (c == '{' || c == '[') {
      ++depth;
    } else if ((c == '}' || c == ']') && --depth == 0) {
      return at + 1;
    }
    ++at;
  }
  return at;
}

// The text of member `key` of the JSON object `object` (valid JSON, already parsed), as it is:
// Debezium rows keep their numbers' digits and their json values' spelling, which a parse and
// dump would change (a decimal through a double, spacing).
std::optional<std::string_view> MemberText(std::string_view object, std::string_view key) {
  auto skip_space = [&](size_t i) {
    while (i < object.size() && (object[i] == ' ' || object[i] == '\t' || object[i] == '\n' ||
                                 object[i] == '\r')) {
      ++i;
    }
    return i;
  };
  size_t at = skip_space(0);
  if (at >= object.size() || object[at] != '{')
    return std::nullopt;
  at = skip_space(at + 1);
  while (at < object.size() && object[at] == '"') {
    size_t key_end = SkipJsonValue(object, at);
    std::string_view name = object.substr(at + 1, key_end - at - 2);
    at = skip_space(skip_space(key_end) + 1);  // past the colon
    size_t value_end = SkipJsonValue(object, at);
    if (name == key)
      return object.substr(at, value_end - at);
    at = skip_space(value_end);
    if (at >= object.size() || object[at] != ',')
      break;
    at = skip_space(at + 1);
  }
  return std::nullopt;
}

// ordered_json keeps the event's key order, which inferred columns follow. Numbers go through
// nlohmann's int64/uint64/double: a decimal beyond a double's precision must travel as a string.

Status ExtractChangeRowsOrThrow(Envelope envelope, std::string_view value,
                                const std::string& location, std::vector<ChangeRow>* rows) {
  nlohmann::ordered_json event;
  try {
    event = nlohmann::ordered_json::parse(value);
  } catch (const std::exception& error) {
    return DataError(fmt::format("{}: the value is not JSON: {}", location, error.what()));
  }
  if (!event.is_object())
    return DataError(fmt::format("{}: the value is not a JSON object", location));
  auto object_or_null = [](const nlohmann::ordered_json& json, const char* key) -> const nlohmann::ordered_json* {
    auto it = json.find(key);
    return it == json.end() || it->is_null() ? nullptr : &*it;
  };
  switch (envelope) {
    case Envelope::kNone:
      return Status::OK();
    case Envelope::kDebezium: {
      // With the JSON converter's schemas on, the event is the payload.
      const nlohmann::ordered_json* payload = object_or_null(event, "payload");
      bool in_payload = payload != nullptr && payload->is_object() && payload->contains("op");
      const nlohmann::ordered_json& body = in_payload ? *payload : event;
      std::string_view body_text = value;
      if (in_payload)
        body_text = MemberText(value, "payload").value_or(std::string_view());
      // The row's text as sent (see MemberText); the dump only if the scan finds nothing.
      auto row_text = [&](const nlohmann::ordered_json& row, std::string_view key) {
        std::optional<std::string_view> text = MemberText(body_text, key);
        return text ? std::string(*text) : row.dump();
      };
      auto op = body.find("op");
      if (op == body.end() || !op->is_string())
        return NotAnEvent(location, "Debezium", "no 'op'");
      std::string code = op->get<std::string>();
      const nlohmann::ordered_json* before = object_or_null(body, "before");
      const nlohmann::ordered_json* after = object_or_null(body, "after");
      if (code == "c" || code == "r") {
        if (after == nullptr)
          return NotAnEvent(location, "Debezium", "an insert without 'after'");
        rows->push_back({RowKind::kInsert, row_text(*after, "after")});
      } else if (code == "u") {
        if (after == nullptr)
          return NotAnEvent(location, "Debezium", "an update without 'after'");
        if (before != nullptr)
          rows->push_back({RowKind::kUpdateBefore, row_text(*before, "before")});
        rows->push_back({RowKind::kUpdateAfter, row_text(*after, "after")});
      } else if (code == "d") {
        if (before == nullptr)
          return NotAnEvent(location, "Debezium", "a delete without 'before'");
        rows->push_back({RowKind::kDelete, row_text(*before, "before")});
      } else if (code != "t" && code != "m") {
        // t (truncate) and m (message) change no row of the table.
        return NotAnEvent(location, "Debezium", fmt::format("unknown op '{}'", code));
      }
      return Status::OK();
    }
    case Envelope::kMaxwell: {
      auto type = event.find("type");
      if (type == event.end() || !type->is_string())
        return NotAnEvent(location, "Maxwell", "no 'type'");
      std::string kind = type->get<std::string>();
      const nlohmann::ordered_json* data = object_or_null(event, "data");
      if (kind == "insert" || kind == "bootstrap-insert") {
        if (data == nullptr)
          return NotAnEvent(location, "Maxwell", "no 'data'");
        rows->push_back({RowKind::kInsert, data->dump()});
      } else if (kind == "update") {
        if (data == nullptr)
          return NotAnEvent(location, "Maxwell", "no 'data'");
        const nlohmann::ordered_json* old = object_or_null(event, "old");
        rows->push_back(
            {RowKind::kUpdateBefore, Overlay(*data, old ? *old : nlohmann::ordered_json())});
        rows->push_back({RowKind::kUpdateAfter, data->dump()});
      } else if (kind == "delete") {
        if (data == nullptr)
          return NotAnEvent(location, "Maxwell", "no 'data'");
        rows->push_back({RowKind::kDelete, data->dump()});
      }
      // bootstrap-start, bootstrap-complete, DDL: no row.
      return Status::OK();
    }
    case Envelope::kCanal: {
      if (event.value("isDdl", false))
        return Status::OK();
      auto type = event.find("type");
      if (type == event.end() || !type->is_string())
        return NotAnEvent(location, "Canal", "no 'type'");
      std::string kind = type->get<std::string>();
      const nlohmann::ordered_json* data = object_or_null(event, "data");
      if (data == nullptr || !data->is_array())
        return NotAnEvent(location, "Canal", "no 'data' array");
      const nlohmann::ordered_json* old = object_or_null(event, "old");
      for (size_t i = 0; i < data->size(); ++i) {
        const nlohmann::ordered_json& row = (*data)[i];
        if (kind == "INSERT") {
          rows->push_back({RowKind::kInsert, row.dump()});
        } else if (kind == "UPDATE") {
          nlohmann::ordered_json old_row =
              old != nullptr && old->is_array() && i < old->size() ? (*old)[i] : nullptr;
          rows->push_back({RowKind::kUpdateBefore, Overlay(row, old_row)});
          rows->push_back({RowKind::kUpdateAfter, row.dump()});
        } else if (kind == "DELETE") {
          rows->push_back({RowKind::kDelete, row.dump()});
        } else {
          return NotAnEvent(location, "Canal", fmt::format("unknown type '{}'", kind));
        }
      }
      return Status::OK();
    }
  }
  return Status::OK();
}

}  // namespace

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
      nlohmann::ordered_json object = nlohmann::ordered_json::object();
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
      out.AppendView(object.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace));
    }
  }
}


Status ExtractChangeRows(Envelope envelope, std::string_view value, const std::string& location,
                         std::vector<ChangeRow>* rows) {
  // nlohmann throws on a value of an unexpected type deep in an event: a bad record, not a crash.
  try {
    return ExtractChangeRowsOrThrow(envelope, value, location, rows);
  } catch (const std::exception& error) {
    rows->clear();
    return DataError(fmt::format("{}: not a change event: {}", location, error.what()));
  }
}

}  // namespace sluice::connectors::kafka
