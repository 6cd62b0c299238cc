#include "formats/jsonl/json_text.h"

#include <fmt/core.h>

#include <cstring>

#include "formats/jsonl/json_walk.h"

namespace sluice::formats {

namespace {

// Bytes that need an escape inside a JSON string.
constexpr bool NeedsEscape(unsigned char c) {
  return c < 0x20 || c == '"' || c == '\\';
}

}  // namespace

void AppendJsonString(std::string_view text, std::string* out) {
  static constexpr char kHex[] = "0123456789abcdef";
  out->push_back('"');
  const char* p = text.data();
  const char* end = p + text.size();
  while (p < end) {
    const char* run = p;
    while (p < end && !NeedsEscape(static_cast<unsigned char>(*p)))
      ++p;
    out->append(run, static_cast<size_t>(p - run));
    if (p == end)
      break;
    auto c = static_cast<unsigned char>(*p++);
    switch (c) {
      case '"':
        out->append("\\\"");
        break;
      case '\\':
        out->append("\\\\");
        break;
      case '\b':
        out->append("\\b");
        break;
      case '\f':
        out->append("\\f");
        break;
      case '\n':
        out->append("\\n");
        break;
      case '\r':
        out->append("\\r");
        break;
      case '\t':
        out->append("\\t");
        break;
      default: {
        char escaped[6] = {'\\', 'u', '0', '0', kHex[c >> 4], kHex[c & 15]};
        out->append(escaped, sizeof(escaped));
      }
    }
  }
  out->push_back('"');
}

struct JsonValidator::Impl {
  simdjson::ondemand::parser parser;
  std::unique_ptr<char[]> padded;
  size_t capacity = 0;
};

JsonValidator::JsonValidator() : impl_(std::make_unique<Impl>()) {}
JsonValidator::~JsonValidator() = default;

Status JsonValidator::Validate(std::string_view text) {
  // simdjson reads up to SIMDJSON_PADDING bytes past the end; the copy provides them.
  if (impl_->capacity < text.size()) {
    impl_->capacity = std::max(text.size(), impl_->capacity * 2);
    impl_->padded.reset(new char[impl_->capacity + simdjson::SIMDJSON_PADDING]());
  }
  std::memcpy(impl_->padded.get(), text.data(), text.size());
  std::memset(impl_->padded.get() + text.size(), 0, simdjson::SIMDJSON_PADDING);
  auto invalid = [](const json_internal::JsonProblem& problem) {
    return DataError(fmt::format("invalid JSON: {}", problem.message));
  };
  json_internal::JsonProblem problem;
  simdjson::ondemand::document document;
  if (auto error =
          impl_->parser
              .iterate(impl_->padded.get(), text.size(), text.size() + simdjson::SIMDJSON_PADDING)
              .get(document)) {
    json_internal::Fail(&problem, nullptr, error);
    return invalid(problem);
  }
  simdjson::ondemand::json_type type;
  if (auto error = document.type().get(type)) {
    json_internal::Fail(&problem, nullptr, error);
    return invalid(problem);
  }
  if (type == simdjson::ondemand::json_type::object ||
      type == simdjson::ondemand::json_type::array) {
    simdjson::ondemand::value root;
    if (auto error = document.get_value().get(root)) {
      json_internal::Fail(&problem, nullptr, error);
      return invalid(problem);
    }
    if (!json_internal::Walk(root, &problem))
      return invalid(problem);
  } else {
    std::string_view token;
    if (auto error = document.raw_json_token().get(token)) {
      json_internal::Fail(&problem, nullptr, error);
      return invalid(problem);
    }
    if (!json_internal::CheckScalar(document, type, token, &problem))
      return invalid(problem);
    // A scalar's raw token runs to the next token: it must run to the end of the text.
    if (token.data() + token.size() != impl_->padded.get() + text.size()) {
      return DataError("invalid JSON: unexpected content after the JSON value");
    }
    return Status::OK();
  }
  if (!json_internal::CheckAtEnd(document, &problem))
    return invalid(problem);
  return Status::OK();
}

}  // namespace sluice::formats
