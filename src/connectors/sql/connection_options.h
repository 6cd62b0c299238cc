// Where and as whom a SQL database connector connects: the options every SQL source and sink
// shares (host, port, user, password, database, connect_timeout_secs), their option specs, and
// their validation.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "config/options.h"
#include "core/secret.h"

namespace sluice::connectors::sql {

struct ConnectionOptions {
  /// The connector type ("mysql", "postgres"), the first word of every error about the server.
  std::string system;
  std::string host = "127.0.0.1";
  int port = 0;
  std::string user;
  /// Never logged, never part of an error: only handed to the client library.
  Secret password;
  std::string database;
  /// Seconds to wait for a connection.
  int connect_timeout_secs = 10;

  /// "<system> <host>:<port>": the prefix of every error about this server.
  std::string Describe() const;
};

/// The connection's option specs followed by `rest`.
std::vector<config::OptionSpec> WithConnectionOptions(std::string_view default_port,
                                                      std::string_view database_description,
                                                      std::vector<config::OptionSpec> rest);

/// Reads the connection options of a block validated against WithConnectionOptions().
void ReadConnection(const config::Options& options, ConnectionOptions* out);

/// Checks what the option table cannot (empty names, port range). With `at`, errors point at
/// the key in the job file; `where` names the block ("source (type mysql)").
Status ValidateConnection(const ConnectionOptions& connection, const config::Options* at,
                          std::string_view where);

/// A config error at `key` of the block when the block is known, else a plain config error.
Status OptionError(const config::Options* at, std::string_view key, std::string message);
/// The block's name for messages ("sink (type postgres)"), or `fallback`.
std::string_view BlockName(const config::Options* at, std::string_view fallback);

}  // namespace sluice::connectors::sql
