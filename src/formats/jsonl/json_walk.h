// Internal to formats/jsonl (and its users' .cc files): a validating walk over simdjson
// On-Demand values. Include only from .cc files: simdjson.h is very large.
//
// On-Demand parses only what it is asked for and skips the rest after a bracket count, so
// `[1,,2]` or `tru` inside a value nobody reads would pass unnoticed. Walk() asks for every
// value, which makes On-Demand a complete validator while keeping what the DOM API loses: the
// raw text of numbers (exact decimals, integers beyond 64 bits).
#pragma once

#include <fmt/core.h>
#include <simdjson.h>

#include <string>
#include <string_view>

namespace sluice::formats::json_internal {

/// What is wrong with a JSON text, and where when known.
struct JsonProblem {
  const char* at = nullptr;
  std::string message;
};

/// The bytes after a token up to the next one are whitespace that raw_json_token() includes.
inline std::string_view TrimJsonToken(std::string_view token) {
  while (!token.empty() && (token.back() == ' ' || token.back() == '\t' || token.back() == '\n' ||
                            token.back() == '\r')) {
    token.remove_suffix(1);
  }
  return token;
}

/// RFC 8259 number grammar: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
inline bool IsJsonNumber(std::string_view s) {
  size_t i = 0;
  auto digit = [&](size_t k) { return k < s.size() && s[k] >= '0' && s[k] <= '9'; };
  if (i < s.size() && s[i] == '-')
    ++i;
  if (!digit(i))
    return false;
  if (s[i] == '0') {
    ++i;
  } else {
    while (digit(i))
      ++i;
  }
  if (i < s.size() && s[i] == '.') {
    ++i;
    if (!digit(i))
      return false;
    while (digit(i))
      ++i;
  }
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < s.size() && (s[i] == '+' || s[i] == '-'))
      ++i;
    if (!digit(i))
      return false;
    while (digit(i))
      ++i;
  }
  return i == s.size();
}

inline std::string Clip(std::string_view text) {
  if (text.size() <= 40)
    return std::string(text);
  return std::string(text.substr(0, 40)) + "...";
}

inline bool Fail(JsonProblem* problem, const char* at, simdjson::error_code error) {
  problem->at = at;
  problem->message = simdjson::error_message(error);
  return false;
}

inline bool Fail(JsonProblem* problem, const char* at, std::string message) {
  problem->at = at;
  problem->message = std::move(message);
  return false;
}

/// Checks a scalar token the way simdjson's getters would have, with our own messages. This
/// consumes the value: a string's unescaped text is returned in `*text` when it is not null.
template <typename Value>
bool CheckScalar(Value& value, simdjson::ondemand::json_type type, std::string_view token,
                 JsonProblem* problem, std::string_view* string_text = nullptr) {
  using simdjson::ondemand::json_type;
  token = TrimJsonToken(token);
  switch (type) {
    case json_type::number:
      if (!IsJsonNumber(token)) {
        return Fail(problem, token.data(), fmt::format("invalid number '{}'", Clip(token)));
      }
      return true;
    case json_type::string: {
      std::string_view text;
      if (auto error = value.get_string().get(text)) {
        return Fail(problem, token.data(),
                    fmt::format("invalid string: {}", simdjson::error_message(error)));
      }
      if (string_text != nullptr)
        *string_text = text;
      return true;
    }
    case json_type::boolean: {
      bool flag;
      if (value.get_bool().get(flag)) {
        return Fail(problem, token.data(), fmt::format("invalid literal '{}'", Clip(token)));
      }
      return true;
    }
    case json_type::null: {
      bool is_null = false;
      if (value.is_null().get(is_null) || !is_null) {
        return Fail(problem, token.data(), fmt::format("invalid literal '{}'", Clip(token)));
      }
      return true;
    }
    default:
      return true;
  }
}

/// Reads every part of `value`, so that any syntax error inside it surfaces. Returns false
/// and fills `problem` on the first error.
inline bool Walk(simdjson::ondemand::value value, JsonProblem* problem) {
  using simdjson::ondemand::json_type;
  std::string_view token = value.raw_json_token();
  json_type type;
  if (auto error = value.type().get(type))
    return Fail(problem, token.data(), error);
  if (type == json_type::object) {
    simdjson::ondemand::object object;
    if (auto error = value.get_object().get(object))
      return Fail(problem, token.data(), error);
    for (auto item : object) {
      simdjson::ondemand::field field;
      if (auto error = std::move(item).get(field))
        return Fail(problem, nullptr, error);
      std::string_view key;
      if (auto error = field.unescaped_key().get(key))
        return Fail(problem, nullptr, error);
      if (!Walk(field.value(), problem))
        return false;
    }
    return true;
  }
  if (type == json_type::array) {
    simdjson::ondemand::array array;
    if (auto error = value.get_array().get(array))
      return Fail(problem, token.data(), error);
    for (auto item : array) {
      simdjson::ondemand::value element;
      if (auto error = std::move(item).get(element))
        return Fail(problem, nullptr, error);
      if (!Walk(element, problem))
        return false;
    }
    return true;
  }
  return CheckScalar(value, type, token, problem);
}

/// After the root value: anything but the end of the input is trailing content.
inline bool CheckAtEnd(simdjson::ondemand::document& document, JsonProblem* problem) {
  const char* location = nullptr;
  if (document.current_location().get(location) == simdjson::SUCCESS) {
    return Fail(problem, location, std::string("unexpected content after the JSON value"));
  }
  return true;
}

/// "an object", "an array", "a string", ...
inline std::string_view JsonTypeName(simdjson::ondemand::json_type type) {
  using simdjson::ondemand::json_type;
  switch (type) {
    case json_type::object:
      return "an object";
    case json_type::array:
      return "an array";
    case json_type::number:
      return "a number";
    case json_type::string:
      return "a string";
    case json_type::boolean:
      return "a boolean";
    case json_type::null:
      return "null";
  }
  return "a value";
}

}  // namespace sluice::formats::json_internal
