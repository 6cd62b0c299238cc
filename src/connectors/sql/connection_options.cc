#include "connectors/sql/connection_options.h"

#include <fmt/core.h>

namespace sluice::connectors::sql {

std::string ConnectionOptions::Describe() const {
  return fmt::format("{} {}:{}", system, host, port);
}

std::vector<config::OptionSpec> WithConnectionOptions(std::string_view default_port,
                                                      std::string_view database_description,
                                                      std::vector<config::OptionSpec> rest) {
  using config::OptionType;
  std::vector<config::OptionSpec> out = {
      {"host", OptionType::kString, "127.0.0.1", "server host name or address"},
      {"port", OptionType::kInt, default_port, "server TCP port"},
      {"user", OptionType::kString, "", "user name", true},
      {"password", OptionType::kSecret, "", "password; never logged nor shown in errors"},
      {"database", OptionType::kString, "", database_description, true},
      {"connect_timeout_secs", OptionType::kInt, "10", "seconds to wait for a connection"},
  };
  for (config::OptionSpec& spec : rest)
    out.push_back(std::move(spec));
  return out;
}

void ReadConnection(const config::Options& options, ConnectionOptions* out) {
  out->host = options.GetString("host");
  out->port = static_cast<int>(options.GetInt("port"));
  out->user = options.GetString("user");
  out->password = options.GetSecret("password");
  out->database = options.GetString("database");
  out->connect_timeout_secs = static_cast<int>(options.GetInt("connect_timeout_secs"));
}

Status OptionError(const config::Options* at, std::string_view key, std::string message) {
  if (at != nullptr)
    return at->ErrorAt(key, message);
  return InvalidConfig(std::move(message));
}

std::string_view BlockName(const config::Options* at, std::string_view fallback) {
  return at != nullptr && !at->where().empty() ? at->where() : fallback;
}

Status ValidateConnection(const ConnectionOptions& connection, const config::Options* at,
                          std::string_view where) {
  if (connection.host.empty()) {
    return OptionError(at, "host", fmt::format("'host' in {} is empty", where));
  }
  if (connection.port < 1 || connection.port > 65535) {
    return OptionError(
        at, "port", fmt::format("'port' in {} must be 1..65535, got {}", where, connection.port));
  }
  if (connection.user.empty()) {
    return OptionError(at, "user", fmt::format("'user' in {} is empty", where));
  }
  if (connection.database.empty()) {
    return OptionError(at, "database", fmt::format("'database' in {} is empty", where));
  }
  if (connection.connect_timeout_secs < 0) {
    return OptionError(at, "connect_timeout_secs",
                       fmt::format("'connect_timeout_secs' in {} must not be negative", where));
  }
  return Status::OK();
}

}  // namespace sluice::connectors::sql
