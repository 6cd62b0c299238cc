// Secret: a password or token that must never reach a log line, an error or a summary.
//
// Formatting a Secret (ToString, fmt) always yields "**REDACTED**"; only Reveal() returns the
// value, and it is called exactly where a client library needs it.
#pragma once

#include <string>
#include <utility>

namespace sluice {

class Secret {
 public:
  Secret() = default;
  explicit Secret(std::string value) : value_(std::move(value)) {}

  const std::string& Reveal() const { return value_; }
  bool empty() const { return value_.empty(); }
  std::string ToString() const { return "**REDACTED**"; }

 private:
  std::string value_;
};

}  // namespace sluice
