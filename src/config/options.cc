#include "config/options.h"

#include <fmt/core.h>

#include <algorithm>

#include <charconv>

namespace sluice::config {

std::string_view OptionTypeName(OptionType type) {
  switch (type) {
    case OptionType::kString:
      return "string";
    case OptionType::kInt:
      return "integer";
    case OptionType::kBool:
      return "boolean";
    case OptionType::kDouble:
      return "number";
    case OptionType::kBytes:
      return "size";
    case OptionType::kSecret:
      return "secret";
    case OptionType::kEnum:
      return "enum";
    case OptionType::kStringList:
      return "list";
    case OptionType::kMap:
      return "map";
    case OptionType::kAny:
      return "any";
  }
  return "?";
}

namespace {

bool ParseInt(std::string_view text, int64_t* out) {
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), *out);
  return ec == std::errc() && ptr == text.data() + text.size() && !text.empty();
}

bool ParseBool(std::string_view text, bool* out) {
  if (text == "true" || text == "yes" || text == "on" || text == "True" || text == "TRUE") {
    *out = true;
    return true;
  }
  if (text == "false" || text == "no" || text == "off" || text == "False" || text == "FALSE") {
    *out = false;
    return true;
  }
  return false;
}

bool ParseDouble(std::string_view text, double* out) {
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), *out);
  return ec == std::errc() && ptr == text.data() + text.size() && !text.empty();
}

std::string AllowedKeys(std::span<const OptionSpec> table) {
  std::string out;
  for (const OptionSpec& spec : table) {
    if (!out.empty())
      out += ", ";
    out += spec.name;
  }
  return out;
}

std::string Choices(const OptionSpec& spec) {
  std::string out;
  for (std::string_view choice : spec.choices) {
    if (!out.empty())
      out += ", ";
    out += choice;
  }
  return out;
}

std::string FormatBound(double bound) {
  return fmt::format("{}", bound);
}

// `number` is the value of `value` as a number (a kInt, kDouble or kBytes option).
Status CheckRange(const OptionSpec& spec, const Node& value, double number,
                  std::string_view where) {
  if ((!spec.min || number >= *spec.min) && (!spec.max || number <= *spec.max))
    return Status::OK();
  std::string allowed =
      spec.min && spec.max ? fmt::format("between {} and {}", FormatBound(*spec.min),
                                         FormatBound(*spec.max))
      : spec.min           ? fmt::format("at least {}", FormatBound(*spec.min))
                           : fmt::format("at most {}", FormatBound(*spec.max));
  std::string got = value.scalar();
  if (spec.type == OptionType::kBytes) {
    allowed += " bytes";
    if (got != fmt::format("{}", static_cast<int64_t>(number)))
      got += fmt::format(" ({} bytes)", static_cast<int64_t>(number));
  }
  return value.Error(fmt::format("'{}' in {} must be {}, got {}", spec.name, where, allowed, got));
}

Status CheckValue(const OptionSpec& spec, const Node& value, std::string_view where) {
  auto wrong = [&](std::string_view expected) {
    std::string got = value.is_scalar() ? fmt::format("'{}'", value.scalar())
                                        : std::string("a ") + std::string(value.KindName());
    if (spec.type == OptionType::kSecret)
      got = "a value";
    return value.Error(
        fmt::format("'{}' in {} must be {}, got {}", spec.name, where, expected, got));
  };
  // A range on another type is a bug in the table, not in the job file.
  SLUICE_DCHECK((!spec.min && !spec.max) || spec.type == OptionType::kInt ||
                spec.type == OptionType::kDouble || spec.type == OptionType::kBytes);
  switch (spec.type) {
    case OptionType::kString:
    case OptionType::kSecret:
      if (!value.is_scalar())
        return wrong("a string");
      return Status::OK();
    case OptionType::kInt: {
      int64_t parsed;
      if (!value.is_scalar() || !ParseInt(value.scalar(), &parsed))
        return wrong("an integer");
      return CheckRange(spec, value, static_cast<double>(parsed), where);
    }
    case OptionType::kBool: {
      bool parsed;
      if (!value.is_scalar() || !ParseBool(value.scalar(), &parsed)) {
        return wrong("true or false");
      }
      return Status::OK();
    }
    case OptionType::kDouble: {
      double parsed;
      if (!value.is_scalar() || !ParseDouble(value.scalar(), &parsed))
        return wrong("a number");
      return CheckRange(spec, value, parsed, where);
    }
    case OptionType::kBytes: {
      if (!value.is_scalar())
        return wrong("a size such as 64MiB, 100MB or 4096");
      Result<int64_t> parsed = ParseByteSize(value.scalar());
      if (!parsed.ok())
        return wrong("a size such as 64MiB, 100MB or 4096");
      return CheckRange(spec, value, static_cast<double>(*parsed), where);
    }
    case OptionType::kEnum:
      if (value.is_null() &&
          std::find(spec.choices.begin(), spec.choices.end(), "null") != spec.choices.end()) {
        // YAML reads a bare null (or ~, or nothing) as no value at all.
        return value.Error(fmt::format(
            "'{}' in {} must be one of: {}, got a null (write \"null\" in quotes for the "
            "choice null: unquoted, YAML reads it as no value)",
            spec.name, where, Choices(spec)));
      }
      if (!value.is_scalar())
        return wrong(fmt::format("one of: {}", Choices(spec)));
      for (std::string_view choice : spec.choices) {
        if (choice == value.scalar())
          return Status::OK();
      }
      return wrong(fmt::format("one of: {}", Choices(spec)));
    case OptionType::kStringList:
      if (value.is_scalar())
        return Status::OK();
      if (!value.is_sequence())
        return wrong("a list of strings");
      for (const Node& item : value.items()) {
        if (!item.is_scalar()) {
          return item.Error(fmt::format("'{}' in {} must be a list of strings, got a {} item",
                                        spec.name, where, item.KindName()));
        }
      }
      return Status::OK();
    case OptionType::kMap:
      if (!value.is_map())
        return wrong("a map");
      return Status::OK();
    case OptionType::kAny:
      return Status::OK();
  }
  return Status::OK();
}

}  // namespace

std::string OptionRangeText(const OptionSpec& spec) {
  if (spec.min && spec.max)
    return fmt::format("{}..{}", FormatBound(*spec.min), FormatBound(*spec.max));
  if (spec.min)
    return fmt::format(">= {}", FormatBound(*spec.min));
  if (spec.max)
    return fmt::format("<= {}", FormatBound(*spec.max));
  return "";
}

Result<int64_t> ParseByteSize(std::string_view text) {
  size_t digits = 0;
  while (digits < text.size() && text[digits] >= '0' && text[digits] <= '9')
    ++digits;
  int64_t number = 0;
  if (!ParseInt(text.substr(0, digits), &number)) {
    return InvalidConfig(fmt::format("'{}' is not a size", text));
  }
  std::string unit(text.substr(digits));
  while (!unit.empty() && unit.front() == ' ')
    unit.erase(0, 1);
  for (char& c : unit) {
    if (c >= 'a' && c <= 'z')
      c = static_cast<char>(c - 'a' + 'A');
  }
  struct Unit {
    std::string_view name;
    int64_t factor;
  };
  static constexpr Unit kUnits[] = {
      {"", 1},
      {"B", 1},
      {"K", 1 << 10},
      {"KB", 1000},
      {"KIB", 1 << 10},
      {"M", 1 << 20},
      {"MB", 1000 * 1000},
      {"MIB", 1 << 20},
      {"G", 1 << 30},
      {"GB", 1000 * 1000 * 1000},
      {"GIB", 1 << 30},
  };
  for (const Unit& u : kUnits) {
    if (u.name == unit)
      return number * u.factor;
  }
  return InvalidConfig(fmt::format("'{}' has an unknown size unit", text));
}

Result<Options> Options::Validate(const Node& block, std::span<const OptionSpec> table,
                                  std::string_view where) {
  if (!block.is_map()) {
    return block.Error(
        fmt::format("{} must be a map of options, got a {}", where, block.KindName()));
  }
  for (const Node::Entry& entry : block.entries()) {
    const OptionSpec* spec = nullptr;
    for (const OptionSpec& candidate : table) {
      if (candidate.name == entry.key) {
        spec = &candidate;
        break;
      }
    }
    if (spec == nullptr) {
      return InvalidConfig(fmt::format("{}: unknown key '{}' in {} (allowed: {})",
                                       entry.key_mark.ToString(), entry.key, where,
                                       AllowedKeys(table)));
    }
    SLUICE_RETURN_IF_ERROR(CheckValue(*spec, entry.value, where));
  }
  for (const OptionSpec& spec : table) {
    if (spec.required && block.Find(spec.name) == nullptr) {
      return block.Error(fmt::format("missing required key '{}' in {} (allowed: {})", spec.name,
                                     where, AllowedKeys(table)));
    }
  }
  Options options;
  options.block_ = block;
  options.table_ = table;
  options.where_ = std::string(where);
  return options;
}

const OptionSpec* Options::Spec(std::string_view name) const {
  for (const OptionSpec& spec : table_) {
    if (spec.name == name)
      return &spec;
  }
  return nullptr;
}

std::string Options::GetString(std::string_view name) const {
  if (const Node* node = Find(name); node != nullptr && node->is_scalar())
    return node->scalar();
  const OptionSpec* spec = Spec(name);
  return spec ? std::string(spec->default_value) : std::string();
}

int64_t Options::GetInt(std::string_view name) const {
  int64_t value = 0;
  ParseInt(GetString(name), &value);
  return value;
}

bool Options::GetBool(std::string_view name) const {
  bool value = false;
  ParseBool(GetString(name), &value);
  return value;
}

double Options::GetDouble(std::string_view name) const {
  double value = 0;
  ParseDouble(GetString(name), &value);
  return value;
}

int64_t Options::GetBytes(std::string_view name) const {
  return ParseByteSize(GetString(name)).value_or(0);
}

Secret Options::GetSecret(std::string_view name) const {
  return Secret(GetString(name));
}

std::vector<std::string> Options::GetStringList(std::string_view name) const {
  std::vector<std::string> out;
  const Node* node = Find(name);
  if (node == nullptr) {
    const OptionSpec* spec = Spec(name);
    if (spec && !spec->default_value.empty())
      out.emplace_back(spec->default_value);
    return out;
  }
  if (node->is_scalar()) {
    out.push_back(node->scalar());
  } else {
    for (const Node& item : node->items())
      out.push_back(item.scalar());
  }
  return out;
}

Status Options::ErrorAt(std::string_view name, std::string_view message) const {
  const Node* node = Find(name);
  const Mark& mark = node ? node->mark() : block_.mark();
  return InvalidConfig(fmt::format("{}: {}", mark.ToString(), message));
}

}  // namespace sluice::config
