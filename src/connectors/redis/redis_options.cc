// Options of the redis connector (see redis_options.h).
#include "connectors/redis/redis_options.h"

#include <fmt/core.h>

namespace sluice::connectors::redis {

Result<std::vector<KeyPiece>> ParseKeyTemplate(std::string_view key_template) {
  std::vector<KeyPiece> pieces;
  std::string literal;
  for (size_t i = 0; i < key_template.size(); ++i) {
    char c = key_template[i];
    if ((c == '{' || c == '}') && i + 1 < key_template.size() && key_template[i + 1] == c) {
      literal += c;  // "{{" or "}}": a literal brace
      ++i;
      continue;
    }
    if (c == '}') {
      return InvalidConfig(fmt::format(
          "key template '{}' has a '}}' without its '{{' (write '}}}}' for a literal brace)",
          key_template));
    }
    if (c != '{') {
      literal += c;
      continue;
    }
    size_t close = key_template.find('}', i + 1);
    if (close == std::string_view::npos) {
      return InvalidConfig(fmt::format(
          "key template '{}' has a '{{' without its '}}' (write '{{{{' for a literal brace)",
          key_template));
    }
    std::string_view name = key_template.substr(i + 1, close - i - 1);
    if (name.empty())
      return InvalidConfig(fmt::format("key template '{}' has an empty '{{}}'", key_template));
    if (!literal.empty())
      pieces.push_back({false, std::move(literal)});
    literal.clear();
    pieces.push_back({true, std::string(name)});
    i = close;
  }
  if (!literal.empty())
    pieces.push_back({false, std::move(literal)});
  return pieces;
}

std::string GlobEscape(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (c == '*' || c == '?' || c == '[' || c == ']' || c == '\\')
      out += '\\';
    out += c;
  }
  return out;
}

Result<std::string> KeyPatternOf(std::string_view key_template, std::string_view stream,
                                 const Schema& schema) {
  SLUICE_ASSIGN_OR_RETURN(std::vector<KeyPiece> pieces, ParseKeyTemplate(key_template));
  std::string pattern;
  for (const KeyPiece& piece : pieces) {
    if (!piece.is_column) {
      pattern += GlobEscape(piece.text);
    } else if (piece.text == "stream" && schema.FieldIndex("stream") < 0) {
      pattern += GlobEscape(stream);
    } else if (pattern.empty() || pattern.back() != '*') {
      pattern += '*';
    }
  }
  return pattern;
}

RedisConnectOptions ConnectionFromConfig(const config::Options& options) {
  RedisConnectOptions connection;
  connection.host = options.GetString("host");
  connection.port = static_cast<int>(options.GetInt("port"));
  connection.user = options.GetString("user");
  connection.password = options.GetSecret("password");
  connection.db = static_cast<int>(options.GetInt("db"));
  connection.connect_timeout =
      std::chrono::milliseconds(options.GetInt("connect_timeout_secs") * 1000);
  connection.command_timeout =
      std::chrono::milliseconds(options.GetInt("command_timeout_secs") * 1000);
  return connection;
}

Status RedisSinkOptions::Validate(const config::Options* at) const {
  auto error_at = [&](std::string_view key, std::string message) {
    return at != nullptr ? at->ErrorAt(key, message) : InvalidConfig(std::move(message));
  };
  Result<std::vector<KeyPiece>> pieces = ParseKeyTemplate(key);
  if (!pieces.ok())
    return error_at("key", std::string(pieces.status().message()));
  bool has_column = false;
  for (const KeyPiece& piece : *pieces)
    has_column = has_column || (piece.is_column && piece.text != "stream");
  if (!has_column) {
    return error_at("key", fmt::format("key template '{}' names no column, so every row would "
                                       "write the same key: use e.g. 'user:{{id}}'",
                                       key));
  }
  if (ttl_secs != 0 && !ttl_column.empty())
    return error_at("ttl_column", "'ttl_secs' and 'ttl_column' exclude each other: set one");
  if (data_type == RedisDataType::kHash && !value_column.empty()) {
    return error_at("value_column",
                    "'value_column' is for data_type: string; a hash takes its fields from "
                    "'fields' (default: every column)");
  }
  if (cluster && connection.db != 0)
    return error_at("db",
                    "a Redis Cluster has database 0 only: leave 'db' out with 'cluster: true'");
  if (data_type == RedisDataType::kString && !fields.empty())
    return error_at("fields", "'fields' is for data_type: hash");
  return Status::OK();
}

Result<RedisSinkOptions> RedisSinkOptions::FromConfig(const config::Options& options) {
  RedisSinkOptions out;
  out.connection = ConnectionFromConfig(options);
  out.key = options.GetString("key");
  out.data_type =
      options.GetString("data_type") == "hash" ? RedisDataType::kHash : RedisDataType::kString;
  out.value_column = options.GetString("value_column");
  out.fields = options.GetStringList("fields");
  out.ttl_secs = options.GetInt("ttl_secs");
  out.ttl_column = options.GetString("ttl_column");
  out.pipeline_commands = options.GetInt("pipeline_commands");
  out.cluster = options.GetBool("cluster");
  SLUICE_RETURN_IF_ERROR(out.Validate(&options));
  return out;
}

}  // namespace sluice::connectors::redis
