// CsvDialect: how a CSV file spells fields, quotes and NULLs; shared by the reader, the writer
// and every connector that carries CSV.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "core/result.h"

namespace sluice::formats {

struct CsvDialect {
  /// Field separator, one byte (',' by default; '\t' for TSV).
  char delimiter = ',';
  /// Quote character; nullopt disables quoting (every byte is taken literally).
  std::optional<char> quote = '"';
  /// Unquoted text that means NULL. When empty (the default), an unquoted empty field is NULL
  /// and a quoted empty field ("") is the empty string. When set (e.g. "\N"), exactly that
  /// unquoted text is NULL, an unquoted empty field is the empty string, and a quoted "\N" is
  /// the two characters.
  std::string null_marker;

  /// Checks that the characters can be told apart: delimiter and quote differ and are neither
  /// CR nor LF; the null marker holds no delimiter, quote, CR or LF.
  Status Validate() const;
};

/// Parses a one-byte dialect option as written in a job file: a single character, or the
/// escapes \t, \\, \' and \" (YAML's single-quoted '\t' arrives as two characters). `option`
/// names it in errors.
Result<char> ParseDialectChar(std::string_view text, std::string_view option);

}  // namespace sluice::formats
