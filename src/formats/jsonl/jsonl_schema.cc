#include "formats/jsonl/jsonl_schema.h"

#include <charconv>
#include <string>
#include <vector>

#include "formats/jsonl/json_walk.h"

namespace sluice::formats {

namespace {

using json_internal::JsonProblem;
using simdjson::ondemand::json_type;

enum Kind : unsigned {
  kInteger = 1,
  kFloat = 2,
  kBool = 4,
  kString = 8,
  kContainer = 16,
};

struct KeyKinds {
  std::string name;
  unsigned kinds = 0;
};

// Classifies a valid number token: an integer that fits int64, or any other number.
unsigned NumberKind(std::string_view token) {
  if (token.find_first_of(".eE") != std::string_view::npos)
    return kFloat;
  int64_t value;
  auto [end, error] = std::from_chars(token.data(), token.data() + token.size(), value);
  return error == std::errc() && end == token.data() + token.size() ? kInteger : kFloat;
}

DataType Resolve(unsigned kinds) {
  if (kinds == 0)
    return DataType::String();
  if (kinds & kContainer)
    return DataType::Json();
  unsigned number = kinds & (kInteger | kFloat);
  int families = (number != 0) + ((kinds & kBool) != 0) + ((kinds & kString) != 0);
  if (families > 1)
    return DataType::Json();
  if (number == kInteger)
    return DataType::Int64();
  if (number != 0)
    return DataType::Float64();
  if (kinds & kBool)
    return DataType::Bool();
  return DataType::String();
}

// Classifies every value of one line; false when the line is not a valid JSON object.
bool ClassifyLine(simdjson::ondemand::parser* parser, const JsonlLine& line,
                  std::vector<std::pair<std::string_view, unsigned>>* seen) {
  seen->clear();
  JsonProblem problem;
  simdjson::ondemand::document document;
  if (parser->iterate(line.text.data(), line.text.size(), line.text.size() + kJsonPadding)
          .get(document)) {
    return false;
  }
  simdjson::ondemand::object object;
  if (document.get_object().get(object))
    return false;
  for (auto item : object) {
    simdjson::ondemand::field field;
    if (std::move(item).get(field))
      return false;
    // Unescaped keys live in the parser's string buffer until the next document.
    std::string_view key;
    if (field.unescaped_key().get(key))
      return false;
    simdjson::ondemand::value value = field.value();
    std::string_view token = value.raw_json_token();
    json_type type;
    if (value.type().get(type))
      return false;
    unsigned kind = 0;
    switch (type) {
      case json_type::object:
      case json_type::array:
        if (!json_internal::Walk(value, &problem))
          return false;
        kind = kContainer;
        break;
      case json_type::number: {
        if (!json_internal::CheckScalar(value, type, token, &problem))
          return false;
        kind = NumberKind(json_internal::TrimJsonToken(token));
        break;
      }
      case json_type::string:
        if (!json_internal::CheckScalar(value, type, token, &problem))
          return false;
        kind = kString;
        break;
      case json_type::boolean:
        if (!json_internal::CheckScalar(value, type, token, &problem))
          return false;
        kind = kBool;
        break;
      case json_type::null:
        if (!json_internal::CheckScalar(value, type, token, &problem))
          return false;
        break;
    }
    seen->emplace_back(key, kind);
  }
  return json_internal::CheckAtEnd(document, &problem);
}

}  // namespace

Result<Schema> InferJsonlSchema(JsonlReader* reader, size_t max_lines) {
  simdjson::ondemand::parser parser;
  std::vector<KeyKinds> keys;
  std::vector<std::pair<std::string_view, unsigned>> seen;
  JsonlLine line;
  for (size_t count = 0; count < max_lines; ++count) {
    SLUICE_ASSIGN_OR_RETURN(bool more, reader->Next(&line));
    if (!more)
      break;
    if (!ClassifyLine(&parser, line, &seen))
      continue;
    for (const auto& [name, kind] : seen) {
      KeyKinds* entry = nullptr;
      for (KeyKinds& candidate : keys) {
        if (candidate.name == name) {
          entry = &candidate;
          break;
        }
      }
      if (entry == nullptr)
        entry = &keys.emplace_back(KeyKinds{std::string(name), 0});
      entry->kinds |= kind;
    }
  }
  std::vector<Field> fields;
  fields.reserve(keys.size());
  for (const KeyKinds& key : keys)
    fields.push_back(Field{key.name, Resolve(key.kinds), true, ""});
  return Schema(std::move(fields));
}

}  // namespace sluice::formats
