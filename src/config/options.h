// Option tables: one table per connector (and one for the job file itself) declares each
// option's name, type, default, allowed range or choices, and description. The same table drives
// parsing, the unknown-key and out-of-range errors, `sluice connectors` and the README.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "config/node.h"
#include "core/secret.h"

namespace sluice::config {

enum class OptionType {
  kString,
  kInt,   // signed 64-bit
  kBool,  // true/false/yes/no
  kDouble,
  kBytes,       // integer byte count with optional unit: 64MiB, 10MB, 4096
  kSecret,      // a string that is never printed
  kEnum,        // one of `choices`
  kStringList,  // a list of strings (a single string is accepted as a one-item list)
  kMap,         // a nested map interpreted by the connector (e.g. a schema)
  kAny,         // a scalar, list or map interpreted by the connector
};

std::string_view OptionTypeName(OptionType type);

struct OptionSpec {
  std::string_view name;
  OptionType type = OptionType::kString;
  /// Text of the default ("" = no default); shown in `sluice connectors`.
  std::string_view default_value;
  std::string_view description;
  bool required = false;
  /// kEnum only.
  std::vector<std::string_view> choices;
  /// kInt, kDouble and kBytes only: the inclusive range of allowed values (either end may be
  /// open), checked by Options::Validate. Tables with a range spell their entries with
  /// designated initializers: `{.name = "parallelism", ..., .min = 1, .max = 256}`.
  std::optional<double> min;
  std::optional<double> max;
};

/// The range of `spec` for documentation: "1..256", ">= 1", "<= 900", or "" when it has none.
std::string OptionRangeText(const OptionSpec& spec);

/// The validated options of one block (a source, a sink, the job itself): every key known,
/// every value of the right type. Accessors return the default when the key is absent.
class Options {
 public:
  Options() = default;

  /// Validates `block` (a map) against `table`. `where` names the block in errors ("sink").
  static Result<Options> Validate(const Node& block, std::span<const OptionSpec> table,
                                  std::string_view where);

  bool Has(std::string_view name) const { return Find(name) != nullptr; }
  std::string GetString(std::string_view name) const;
  int64_t GetInt(std::string_view name) const;
  bool GetBool(std::string_view name) const;
  double GetDouble(std::string_view name) const;
  int64_t GetBytes(std::string_view name) const;
  Secret GetSecret(std::string_view name) const;
  std::vector<std::string> GetStringList(std::string_view name) const;
  /// The raw node (for kMap/kAny options); nullptr when absent.
  const Node* GetNode(std::string_view name) const { return Find(name); }

  /// A config error pointing at option `name` (or at the block when it is absent).
  Status ErrorAt(std::string_view name, std::string_view message) const;
  const Mark& block_mark() const { return block_.mark(); }
  std::string_view where() const { return where_; }

 private:
  const Node* Find(std::string_view name) const { return block_.Find(name); }
  const OptionSpec* Spec(std::string_view name) const;

  Node block_;
  std::span<const OptionSpec> table_;
  std::string where_;
};

/// Parses "64MiB", "10MB", "512k", "4096" into bytes.
Result<int64_t> ParseByteSize(std::string_view text);

}  // namespace sluice::config
