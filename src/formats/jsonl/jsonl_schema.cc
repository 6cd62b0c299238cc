#include "formats/jsonl/jsonl_schema.h"

#include <charconv>
#include <string>
#include <vector>

#include "core/decimal.h"
#include "core/value_text.h"
#include "formats/jsonl/json_walk.h"

namespace sluice::formats {

namespace {

using json_internal::JsonProblem;
using simdjson::ondemand::json_type;

enum Kind : unsigned {
  kInteger = 1,          // an integer that fits int64
  kNegative = 2,         // ... below zero
  kUnsigned = 4,         // an integer above int64's range that fits uint64
  kWideInteger = 8,      // any other integer
  kBeyondDouble = 16,    // an integer a double cannot hold exactly (beyond 2^53)
  kFloat = 32,           // a number with a fraction or exponent that a double holds exactly
  kInexactFloat = 64,    // one a double would change (more digits than it keeps, beyond range)
  kBool = 128,
  kString = 256,
  kContainer = 512,
};

struct KeyKinds {
  std::string name;
  unsigned kinds = 0;
};

constexpr unsigned kNumber = kInteger | kNegative | kUnsigned | kWideInteger | kBeyondDouble |
                             kFloat | kInexactFloat;

// The digits of a decimal number without redundant zeros, for comparing two spellings.
std::string ExactDigits(std::string_view token) {
  std::string canonical;
  if (!CanonicalDecimalText(token, 0, -1, &canonical).ok())
    return std::string(token);
  if (canonical.find('.') != std::string::npos) {
    canonical.erase(canonical.find_last_not_of('0') + 1);
    if (canonical.back() == '.')
      canonical.pop_back();
  }
  return canonical == "-0" ? "0" : canonical;
}

// Classifies a valid number token by the narrowest logical type that holds it exactly.
unsigned NumberKind(std::string_view token) {
  const char* end_of_token = token.data() + token.size();
  if (token.find_first_of(".eE") != std::string_view::npos) {
    double value = 0;
    auto [end, error] = std::from_chars(token.data(), end_of_token, value);
    if (error != std::errc() || end != end_of_token)
      return kInexactFloat;
    std::string shortest;
    AppendDouble(value, &shortest);
    return ExactDigits(shortest) == ExactDigits(token) ? kFloat : kInexactFloat;
  }
  constexpr uint64_t kDoubleExactLimit = uint64_t{1} << 53;
  int64_t value = 0;
  auto [end, error] = std::from_chars(token.data(), end_of_token, value);
  if (error == std::errc() && end == end_of_token) {
    uint64_t magnitude =
        value < 0 ? 0 - static_cast<uint64_t>(value) : static_cast<uint64_t>(value);
    return kInteger | (value < 0 ? kNegative : 0u) |
           (magnitude > kDoubleExactLimit ? kBeyondDouble : 0u);
  }
  uint64_t unsigned_value = 0;
  auto [unsigned_end, unsigned_error] = std::from_chars(token.data(), end_of_token, unsigned_value);
  if (unsigned_error == std::errc() && unsigned_end == end_of_token)
    return kUnsigned | kBeyondDouble;
  return kWideInteger | kBeyondDouble;
}

// The narrowest type holding every number seen: int64, uint64, float64 when a double reproduces
// each one, else an unconstrained decimal, which keeps any number's digits.
DataType ResolveNumber(unsigned kinds) {
  const bool floats = (kinds & (kFloat | kInexactFloat)) != 0;
  if (kinds & (kInexactFloat | kWideInteger))
    return DataType::Decimal(0, 0);
  if (floats)
    return kinds & kBeyondDouble ? DataType::Decimal(0, 0) : DataType::Float64();
  if (kinds & kUnsigned)
    return kinds & kNegative ? DataType::Decimal(0, 0) : DataType::UInt64();
  return DataType::Int64();
}

DataType Resolve(unsigned kinds) {
  if (kinds == 0)
    return DataType::String();
  if (kinds & kContainer)
    return DataType::Json();
  unsigned number = kinds & kNumber;
  int families = (number != 0) + ((kinds & kBool) != 0) + ((kinds & kString) != 0);
  if (families > 1)
    return DataType::Json();
  if (number != 0)
    return ResolveNumber(number);
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
