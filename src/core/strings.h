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

}  // namespace sluice
