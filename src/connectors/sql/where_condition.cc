#include "connectors/sql/where_condition.h"

#include <fmt/core.h>

namespace sluice::connectors::sql {

namespace {

bool IsIdentifierChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

// Skips a quoted literal or identifier starting at `at` (the opening quote); returns the index
// after its closing quote, or npos when it never closes. A doubled quote stands for itself.
size_t SkipQuoted(std::string_view text, size_t at, char quote, bool backslash_escapes) {
  for (size_t i = at + 1; i < text.size(); ++i) {
    if (backslash_escapes && text[i] == '\\') {
      ++i;
      continue;
    }
    if (text[i] == quote) {
      if (i + 1 < text.size() && text[i + 1] == quote) {
        ++i;
        continue;
      }
      return i + 1;
    }
  }
  return std::string_view::npos;
}

}  // namespace

Status CheckWhereCondition(std::string_view condition, QuoteRules rules) {
  auto refuse = [&](std::string_view why) { return InvalidConfig(std::string(why)); };
  const bool mysql = rules == QuoteRules::kMysql;
  int depth = 0;
  for (size_t i = 0; i < condition.size();) {
    char c = condition[i];
    size_t end = std::string_view::npos;
    if (c == '\'') {
      // PostgreSQL's E'...' literals take backslash escapes; standard ones do not.
      bool escapes = mysql || (i > 0 && (condition[i - 1] == 'E' || condition[i - 1] == 'e') &&
                               (i < 2 || !IsIdentifierChar(condition[i - 2])));
      end = SkipQuoted(condition, i, '\'', escapes);
      if (end == std::string_view::npos)
        return refuse("a string literal is not closed");
    } else if (c == '"') {
      end = SkipQuoted(condition, i, '"', mysql);
      if (end == std::string_view::npos)
        return refuse("a double-quoted name or string is not closed");
    } else if (c == '`' && mysql) {
      end = SkipQuoted(condition, i, '`', false);
      if (end == std::string_view::npos)
        return refuse("a `quoted` name is not closed");
    } else if (c == '$' && !mysql && (i == 0 || !IsIdentifierChar(condition[i - 1]))) {
      // $tag$ ... $tag$ (a $1 parameter is not a quote).
      size_t close = i + 1;
      while (close < condition.size() && IsIdentifierChar(condition[close]) &&
             !(condition[close] >= '0' && condition[close] <= '9' && close == i + 1)) {
        ++close;
      }
      if (close < condition.size() && condition[close] == '$') {
        std::string_view tag = condition.substr(i, close - i + 1);
        size_t found = condition.find(tag, close + 1);
        if (found == std::string_view::npos)
          return refuse("a dollar-quoted string is not closed");
        end = found + tag.size();
      }
    } else if (c == '-' && i + 1 < condition.size() && condition[i + 1] == '-') {
      return refuse("it holds a -- comment");
    } else if (c == '#' && mysql) {
      return refuse("it holds a # comment");
    } else if (c == '/' && i + 1 < condition.size() && condition[i + 1] == '*') {
      return refuse("it holds a /* comment */");
    } else if (c == ';') {
      return refuse("it holds a ';'");
    } else if (c == '(') {
      ++depth;
    } else if (c == ')') {
      if (--depth < 0)
        return refuse("a ')' closes a parenthesis it did not open");
    }
    i = end != std::string_view::npos ? end : i + 1;
  }
  if (depth > 0)
    return refuse("a '(' is not closed");
  return Status::OK();
}

}  // namespace sluice::connectors::sql
