#include "formats/jsonl/jsonl_batch_builder.h"

#include <fmt/core.h>

#include <string_view>
#include <unordered_map>

#include "core/logging.h"
#include "core/value_text.h"
#include "formats/jsonl/json_text.h"
#include "formats/jsonl/json_walk.h"

namespace sluice::formats {

namespace {

static_assert(simdjson::SIMDJSON_PADDING <= kJsonPadding);

using json_internal::JsonProblem;
using simdjson::ondemand::json_type;

struct StringHash {
  using is_transparent = void;
  size_t operator()(std::string_view text) const { return std::hash<std::string_view>{}(text); }
};

}  // namespace

struct JsonlBatchBuilder::Impl {
  SchemaPtr schema;
  std::string component;
  simdjson::ondemand::parser parser;
  std::unordered_map<std::string, int, StringHash, std::equal_to<>> columns;
  std::string warned_file;  // the last file warned about unknown keys

  int FindColumn(std::string_view key, int hint) const {
    // Lines usually list keys in schema order: try the next column before hashing.
    if (hint < static_cast<int>(schema->num_fields()) && schema->field(hint).name == key) {
      return hint;
    }
    auto it = columns.find(key);
    return it == columns.end() ? -1 : it->second;
  }

  Status Error(const JsonlLine& line, const char* at, std::string_view message) const {
    int64_t column =
        at != nullptr && at >= line.text.data() && at <= line.text.data() + line.text.size()
            ? CharacterColumn(line.text.data(), at)
            : 1;
    return DataError(fmt::format("{}:{}:{}: {}", line.file_name, line.line, column, message));
  }

  Status InvalidJson(const JsonlLine& line, const JsonProblem& problem) const {
    return Error(line, problem.at, fmt::format("invalid JSON: {}", problem.message));
  }

  Status ParseInto(std::string_view text, Column* column, const JsonlLine& line, const char* at,
                   int index) const {
    const DataType& type = column->type();
    if (type.id == TypeId::kString) {
      column->AppendView(text);  // simdjson has validated the UTF-8
      return Status::OK();
    }
    if (text.empty()) {
      column->AppendNull();
      return Status::OK();
    }
    Status status = AppendParsedValue(text, column);
    if (status.ok())
      return status;
    return Error(line, at,
                 fmt::format("{} (column '{}')", status.message(), schema->field(index).name));
  }

  Status AppendValue(simdjson::ondemand::value value, int index, const JsonlLine& line,
                     Batch* batch) {
    Column* column = &batch->column(static_cast<size_t>(index));
    const TypeId id = column->type().id;
    std::string_view token = value.raw_json_token();
    const char* at = token.data();
    json_type type;
    JsonProblem problem;
    if (auto error = value.type().get(type)) {
      json_internal::Fail(&problem, at, error);
      return InvalidJson(line, problem);
    }
    if (type == json_type::object || type == json_type::array) {
      // Take the raw text (this consumes the value), then validate that text on its own.
      std::string_view raw;
      simdjson::error_code error;
      if (type == json_type::object) {
        simdjson::ondemand::object object;
        error = value.get_object().get(object);
        if (!error)
          error = object.raw_json().get(raw);
      } else {
        simdjson::ondemand::array array;
        error = value.get_array().get(array);
        if (!error)
          error = array.raw_json().get(raw);
      }
      if (error) {
        json_internal::Fail(&problem, at, error);
        return InvalidJson(line, problem);
      }
      raw = json_internal::TrimJsonToken(raw);
      SLUICE_RETURN_IF_ERROR(ValidateContainer(raw, line));
      if (id != TypeId::kJson && id != TypeId::kString) {
        return Error(line, at,
                     fmt::format("expected {}, got {} (column '{}')", column->type().ToString(),
                                 json_internal::JsonTypeName(type), schema->field(index).name));
      }
      column->AppendView(raw);
      return Status::OK();
    }
    std::string_view text;
    if (!json_internal::CheckScalar(value, type, token, &problem, &text)) {
      return InvalidJson(line, problem);
    }
    token = json_internal::TrimJsonToken(token);
    if (type == json_type::null) {
      column->AppendNull();
      return Status::OK();
    }
    if (id == TypeId::kJson) {
      column->AppendView(token);
      return Status::OK();
    }
    if (type == json_type::string)
      return ParseInto(text, column, line, at, index);
    // Numbers and booleans: their JSON spelling is also their canonical text.
    return ParseInto(token, column, line, at, index);
  }

  // Validates a container's raw text as a document of its own: raw_json() skipped over it.
  Status ValidateContainer(std::string_view raw, const JsonlLine& line) {
    simdjson::ondemand::parser& inner = container_parser;
    simdjson::ondemand::document document;
    JsonProblem problem;
    // `raw` lies inside the line, which is followed by kJsonPadding readable bytes.
    size_t capacity =
        static_cast<size_t>(line.text.data() + line.text.size() - raw.data()) + kJsonPadding;
    if (auto error = inner.iterate(raw.data(), raw.size(), capacity).get(document)) {
      json_internal::Fail(&problem, raw.data(), error);
      return InvalidJson(line, problem);
    }
    simdjson::ondemand::value root;
    if (auto error = document.get_value().get(root)) {
      json_internal::Fail(&problem, raw.data(), error);
      return InvalidJson(line, problem);
    }
    if (!json_internal::Walk(root, &problem) || !json_internal::CheckAtEnd(document, &problem)) {
      return InvalidJson(line, problem);
    }
    return Status::OK();
  }

  void WarnUnknownKey(const JsonlLine& line, std::string_view key) {
    if (warned_file == line.file_name)
      return;
    warned_file = std::string(line.file_name);
    log::Warn(component,
              "'{}' has keys that are not in the schema, e.g. '{}' (line {}); they are "
              "ignored",
              line.file_name, key, line.line);
  }

  Status AppendRow(const JsonlLine& line, Batch* batch) {
    const size_t row = batch->num_rows();
    JsonProblem problem;
    simdjson::ondemand::document document;
    if (auto error =
            parser.iterate(line.text.data(), line.text.size(), line.text.size() + kJsonPadding)
                .get(document)) {
      json_internal::Fail(&problem, nullptr, error);
      return InvalidJson(line, problem);
    }
    json_type type;
    if (auto error = document.type().get(type)) {
      json_internal::Fail(&problem, nullptr, error);
      return InvalidJson(line, problem);
    }
    if (type != json_type::object) {
      std::string_view token;
      const char* at = document.raw_json_token().get(token) ? nullptr : token.data();
      return Error(
          line, at,
          fmt::format("expected a JSON object, got {}", json_internal::JsonTypeName(type)));
    }
    simdjson::ondemand::object object;
    if (auto error = document.get_object().get(object)) {
      json_internal::Fail(&problem, nullptr, error);
      return InvalidJson(line, problem);
    }
    int hint = 0;
    for (auto item : object) {
      simdjson::ondemand::field field;
      if (auto error = std::move(item).get(field)) {
        json_internal::Fail(&problem, nullptr, error);
        return InvalidJson(line, problem);
      }
      std::string_view key;
      if (auto error = field.unescaped_key().get(key)) {
        json_internal::Fail(&problem, nullptr, error);
        return InvalidJson(line, problem);
      }
      int index = FindColumn(key, hint);
      if (index < 0) {
        if (!json_internal::Walk(field.value(), &problem))
          return InvalidJson(line, problem);
        WarnUnknownKey(line, key);
        continue;
      }
      hint = index + 1;
      Column& column = batch->column(static_cast<size_t>(index));
      if (column.size() > row)
        column.Truncate(row);  // a repeated key: the last one wins
      SLUICE_RETURN_IF_ERROR(AppendValue(field.value(), index, line, batch));
    }
    if (!json_internal::CheckAtEnd(document, &problem))
      return InvalidJson(line, problem);
    for (size_t i = 0; i < batch->num_columns(); ++i) {
      if (batch->column(i).size() == row)
        batch->column(i).AppendNull();
    }
    batch->FinishRow();
    return Status::OK();
  }

  simdjson::ondemand::parser container_parser;
};

JsonlBatchBuilder::JsonlBatchBuilder(SchemaPtr schema, std::string component)
    : impl_(std::make_unique<Impl>()) {
  impl_->schema = std::move(schema);
  impl_->component = std::move(component);
  for (size_t i = 0; i < impl_->schema->num_fields(); ++i) {
    impl_->columns.emplace(impl_->schema->field(i).name, static_cast<int>(i));
  }
}

JsonlBatchBuilder::~JsonlBatchBuilder() = default;

Status JsonlBatchBuilder::Append(const JsonlLine& line, Batch* batch) {
  Status status = impl_->AppendRow(line, batch);
  if (!status.ok())
    batch->DiscardPartialRow();
  return status;
}

}  // namespace sluice::formats
