// Options of the redis sink (and the connection options the source shares): defaults, effects
// and validation. The option tables in redis_connector.cc describe the same keys for job files
// and `sluice connectors`.
//
// Plain values; thread-safe to read.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "config/options.h"
#include "connectors/redis/redis_client.h"
#include "core/schema.h"

namespace sluice::connectors::redis {

/// One piece of a key template: literal text, or the value of a column (`{name}`).
struct KeyPiece {
  bool is_column = false;
  std::string text;  // the literal, or the column's name
};

/// Parses "user:{id}:{stream}" into pieces; "{{" and "}}" are literal braces. InvalidConfig for
/// an unclosed or empty "{...}".
Result<std::vector<KeyPiece>> ParseKeyTemplate(std::string_view key_template);

/// A SCAN MATCH pattern for the keys `key_template` gives rows of `stream` (`schema`): the
/// literal text glob-escaped, every column "*", {stream} the name (unless a column has it).
Result<std::string> KeyPatternOf(std::string_view key_template, std::string_view stream,
                                 const Schema& schema);
/// `text` with the glob characters of SCAN MATCH escaped.
std::string GlobEscape(std::string_view text);

enum class RedisDataType {
  kString,  // SET key value: one column's value, or the row as a JSON object
  kHash,    // DEL key, HSET key column value ...: one field per (non-NULL) column
};

struct RedisSinkOptions {
  RedisConnectOptions connection;
  /// Key template: literal text with {column} (and {stream}) placeholders.
  std::string key;
  RedisDataType data_type = RedisDataType::kString;
  /// Strings: the column whose value is the string; empty: the row as a JSON object.
  std::string value_column;
  /// Hashes: the columns that become fields; empty: every column.
  std::vector<std::string> fields;
  /// Fixed time to live in seconds (0: none); exclusive with ttl_column.
  int64_t ttl_secs = 0;
  /// Column holding each key's time to live in seconds (NULL: none).
  std::string ttl_column;
  /// Commands sent before their replies are read (at-least-once flushes; the replies of queued
  /// transaction commands under exactly-once).
  int64_t pipeline_commands = 1000;
  /// Redis Cluster: `connection` is any node (the seed); keys go to the primary serving their
  /// slot (redis_cluster.h).
  bool cluster = false;

  Status Validate(const config::Options* at = nullptr) const;
  static Result<RedisSinkOptions> FromConfig(const config::Options& options);
};

/// The connection options every redis block has: host, port, user, password, db, timeouts.
RedisConnectOptions ConnectionFromConfig(const config::Options& options);

/// The option tables, shared by registration, documentation and tests.
std::span<const config::OptionSpec> RedisSinkOptionTable();

}  // namespace sluice::connectors::redis
