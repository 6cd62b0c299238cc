#include "formats/csv/csv_options.h"

#include <fmt/core.h>

namespace sluice::formats {

namespace {

std::string Printable(char c) {
  switch (c) {
    case '\t':
      return "\\t";
    case '\n':
      return "\\n";
    case '\r':
      return "\\r";
    default:
      return std::string(1, c);
  }
}

}  // namespace

Status CsvDialect::Validate() const {
  if (delimiter == '\n' || delimiter == '\r') {
    return InvalidConfig("the delimiter cannot be a line break");
  }
  if (quote) {
    if (*quote == '\n' || *quote == '\r') {
      return InvalidConfig("the quote character cannot be a line break");
    }
    if (*quote == delimiter) {
      return InvalidConfig(
          fmt::format("the delimiter and the quote character are both '{}'", Printable(*quote)));
    }
  }
  for (char c : null_marker) {
    if (c == delimiter || c == '\n' || c == '\r' || (quote && c == *quote)) {
      return InvalidConfig(fmt::format(
          "the null marker '{}' cannot contain the delimiter, the quote character or a line "
          "break",
          null_marker));
    }
  }
  return Status::OK();
}

Result<char> ParseDialectChar(std::string_view text, std::string_view option) {
  if (text.size() == 1)
    return text[0];
  if (text.size() == 2 && text[0] == '\\') {
    switch (text[1]) {
      case 't':
        return '\t';
      case '\\':
        return '\\';
      case '\'':
        return '\'';
      case '"':
        return '"';
      default:
        break;
    }
  }
  return InvalidConfig(
      fmt::format("'{}' must be a single character (or \\t), got '{}'", option, text));
}

}  // namespace sluice::formats
