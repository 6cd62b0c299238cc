// Small string helpers shared across modules.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace sluice {

/// "a, b, c": a list of names for messages ("columns: a, b, c").
inline std::string JoinNames(const std::vector<std::string>& names,
                             std::string_view separator = ", ") {
  std::string out;
  for (const std::string& name : names) {
    if (!out.empty())
      out += separator;
    out += name;
  }
  return out;
}

/// True when `a` and `b` are equal but for the case of ASCII letters (SQL identifiers, type
/// names).
inline bool EqualsIgnoringAsciiCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size())
    return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i] >= 'A' && a[i] <= 'Z' ? static_cast<char>(a[i] - 'A' + 'a') : a[i];
    char y = b[i] >= 'A' && b[i] <= 'Z' ? static_cast<char>(b[i] - 'A' + 'a') : b[i];
    if (x != y)
      return false;
  }
  return true;
}

}  // namespace sluice
