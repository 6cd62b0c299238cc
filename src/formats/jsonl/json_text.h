// JSON text helpers shared by the JSON Lines reader and writer and by formats that carry json
// columns (CSV): string escaping and validation.
//
// simdjson stays in the .cc files; its headers are very large.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "core/result.h"

namespace sluice::formats {

/// Appends `text` as a JSON string literal, quotes included, escaped per RFC 8259: '"', '\\'
/// and control characters (\b \f \n \r \t, others as \u00XX). UTF-8 passes through as is.
void AppendJsonString(std::string_view text, std::string* out);

/// Checks that a text is exactly one well-formed JSON value (an object, array or scalar),
/// reusing its buffers between calls. Not thread-safe; one per reader.
class JsonValidator {
 public:
  JsonValidator();
  ~JsonValidator();
  JsonValidator(const JsonValidator&) = delete;
  JsonValidator& operator=(const JsonValidator&) = delete;

  /// OK for valid JSON; otherwise a DataError "invalid JSON: <what simdjson found>".
  Status Validate(std::string_view text);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// 1-based column, in characters, of `position` on the line starting at `line_start`.
inline int64_t CharacterColumn(const char* line_start, const char* position) {
  int64_t column = 1;
  for (const char* p = line_start; p < position; ++p) {
    column += (static_cast<unsigned char>(*p) & 0xC0) != 0x80;
  }
  return column;
}

}  // namespace sluice::formats
