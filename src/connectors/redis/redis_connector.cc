// Registration of the `redis` connector: its option tables and factories.
#include <fmt/core.h>

#include "connectors/redis/redis_options.h"
#include "connectors/redis/redis_sink.h"
#include "connectors/redis/redis_replicate_source.h"
#include "connectors/redis/redis_source.h"
#include "connectors/registry.h"

namespace sluice::connectors::redis {

namespace {

using config::OptionSpec;
using config::OptionType;

// The connection keys every redis block has.
void AddConnectionOptions(std::vector<OptionSpec>* options, std::string_view host_description) {
  options->insert(
      options->end(),
      {
          {"host", OptionType::kString, "127.0.0.1", host_description},
          {.name = "port", .type = OptionType::kInt, .default_value = "6379",
           .description = "TCP port of the Redis server", .min = 1, .max = 65535},
          {"user", OptionType::kString, "",
           "ACL user to log in as (default: Redis's default user, AUTH with the password only)"},
          {"password", OptionType::kSecret, "",
           "password (AUTH); empty for a server without one. Never printed"},
          {.name = "db", .type = OptionType::kInt, .default_value = "0",
           .description = "database number (SELECT)", .min = 0, .max = 1000000},
          {.name = "connect_timeout_secs", .type = OptionType::kInt, .default_value = "10",
           .description = "seconds to wait for the connection", .min = 1},
          {.name = "command_timeout_secs", .type = OptionType::kInt, .default_value = "60",
           .description = "seconds to wait for a reply before the connection counts as lost",
           .min = 1},
      });
}

const std::vector<OptionSpec>& SinkTable() {
  static const std::vector<OptionSpec> kOptions = [] {
    std::vector<OptionSpec> options;
    AddConnectionOptions(&options,
                         "Redis primary to write to (a replica is refused: it cannot write)");
    options.insert(
        options.end(),
        {
            {"key", OptionType::kString, "",
             "key of each row: text with {column} placeholders, e.g. 'user:{id}' ({stream}: the "
             "stream's name; '{{' and '}}' for literal braces)",
             true},
            {"data_type",
             OptionType::kEnum,
             "string",
             "string: SET the key to 'value_column' or to the row as a JSON object; hash: "
             "replace the key by a hash of the row's non-NULL columns",
             false,
             {"string", "hash"}},
            {"value_column", OptionType::kString, "",
             "data_type string: the column whose value the key holds (strings and bytes as "
             "they are); default: the row as a JSON object"},
            {"fields", OptionType::kStringList, "",
             "data_type hash: the columns that become fields (default: every column)"},
            {.name = "ttl_secs", .type = OptionType::kInt, .default_value = "0",
             .description = "time to live of every key written, in seconds (0: none); "
                            "exclusive with ttl_column",
             .min = 0},
            {"ttl_column", OptionType::kString, "",
             "column holding each key's time to live in seconds (NULL: none)"},
            {.name = "pipeline_commands", .type = OptionType::kInt, .default_value = "1000",
             .description = "commands sent before their replies are read (cluster: commands "
                            "gathered before they are applied, one script call per node)",
             .min = 1, .max = 1000000},
            {"cluster", OptionType::kBool, "false",
             "Redis Cluster: host/port is any node; each key goes to the primary serving its "
             "slot (CLUSTER SLOTS; MOVED and ASK followed). Needs Redis 7.0+; exactly-once "
             "there is per node atomic and converges on replay (see the connector's README)"},
        });
    return options;
  }();
  return kOptions;
}

const std::vector<OptionSpec>& SourceTable() {
  static const std::vector<OptionSpec> kOptions = [] {
    std::vector<OptionSpec> options;
    AddConnectionOptions(&options,
                         "Redis server to read from: a replica unless read_from says primary");
    options.insert(
        options.end(),
        {
            {"mode", OptionType::kEnum, "snapshot",
             "snapshot: SCAN the databases once, rows key, type, value, ttl_ms, db; replicate: "
             "replicate like a replica (PSYNC), a full sync then every command, as a change "
             "log (offset, index, op, db, key, type, value, expire_at_ms) resumable from the "
             "server's backlog",
             false, {"snapshot", "replicate"}},
            {"elements", OptionType::kEnum, "json",
             "json: a hash, list, set, sorted set or stream is one row, its value one JSON "
             "text; rows: one row per element (columns field and score added), so that a key "
             "of any size streams through",
             false, {"json", "rows"}},
            {"binary", OptionType::kBool, "false",
             "key, field and value columns as bytes (any bytes) instead of strings (a key or "
             "value that is not UTF-8 text is then a bad record)"},
            {.name = "max_value_bytes", .type = OptionType::kInt, .default_value = "67108864",
             .description = "elements: json: the largest value of one key as JSON; a bigger key "
                            "is a bad record (read it with elements: rows)",
             .min = 1},
            {"full_resync", OptionType::kEnum, "fail",
             "replicate: when the server's backlog no longer covers the checkpoint (a long "
             "stop), fail saying so, or allow a new full sync (a new `sync` row)",
             false, {"fail", "allow"}},
            {"stop_at", OptionType::kEnum, "never",
             "replicate: never (stream until stopped), or synced: end once the full sync is "
             "read (a bounded copy of the dataset)",
             false, {"never", "synced"}},
            {"read_from",
             OptionType::kEnum,
             "replica",
             "replica: refuse a server whose ROLE is not a replica, so that the snapshot does "
             "not load the primary; primary: read any server",
             false,
             {"replica", "primary"}},
            {"dbs", OptionType::kStringList, "",
             "database numbers to read, one split each (default: 'db')"},
            {"keys", OptionType::kString, "*", "SCAN MATCH pattern of the keys to read"},
            {"types", OptionType::kStringList, "",
             "key types to read: string, hash, list, set, zset, stream (default: all)"},
            {.name = "scan_count", .type = OptionType::kInt, .default_value = "1000",
             .description = "SCAN COUNT: keys asked for per round trip", .min = 1,
             .max = 1000000},
            {.name = "chunk_elements", .type = OptionType::kInt, .default_value = "1000",
             .description = "elements of a big hash, list, set, sorted set or stream read per "
                            "round trip",
             .min = 1, .max = 1000000},
            {"stream", OptionType::kString, "redis", "name of the stream the keys become"},
            {"columns", OptionType::kMap, "",
             "rows of these columns (name -> type, {id: int64, name: string}) instead of the "
             "key rows: a string key's value read as a JSON object, a hash's fields by name "
             "(as the redis sink writes rows); other types are skipped"},
        });
    return options;
  }();
  return kOptions;
}

}  // namespace

std::span<const config::OptionSpec> RedisSourceOptionTable() {
  return SourceTable();
}

std::span<const config::OptionSpec> RedisSinkOptionTable() {
  return SinkTable();
}

}  // namespace sluice::connectors::redis

namespace sluice::connectors {

void RegisterRedisConnector(ConnectorRegistry& registry) {
  ConnectorInfo info;
  info.type = "redis";
  info.description =
      "Redis: snapshot keys of every type from a replica (SCAN, big keys in chunks, "
      "resumable), or replicate like a replica (PSYNC: the full sync, then every command as a "
      "change log, resumable from the backlog); write rows as strings or hashes, pipelined, "
      "exactly-once (each checkpoint's rows and progress in one MULTI/EXEC), to one server or "
      "a Redis Cluster";
  info.source_options = redis::SourceTable();
  info.sink_options = redis::SinkTable();
  info.create_source = [](const config::Options& options) -> Result<std::unique_ptr<Source>> {
    SLUICE_ASSIGN_OR_RETURN(redis::RedisSourceOptions parsed,
                            redis::RedisSourceOptions::FromConfig(options));
    if (parsed.mode == redis::RedisSourceMode::kReplicate) {
      return std::unique_ptr<Source>(
          std::make_unique<redis::RedisReplicateSource>(std::move(parsed)));
    }
    return std::unique_ptr<Source>(std::make_unique<redis::RedisSource>(std::move(parsed)));
  };
  info.create_sink = [](const config::Options& options) -> Result<std::unique_ptr<Sink>> {
    SLUICE_ASSIGN_OR_RETURN(redis::RedisSinkOptions parsed,
                            redis::RedisSinkOptions::FromConfig(options));
    return std::unique_ptr<Sink>(std::make_unique<redis::RedisSink>(std::move(parsed), options));
  };
  // `sluice verify` and the conformance suite read the rows back through the source's
  // `columns` mode, from the primary the sink wrote (nothing to wait for on a replica).
  info.read_back = [](const config::ConnectorBlock& sink, const std::string& stream,
                      const Schema& schema) -> Result<ReadBack> {
    if (!ScalarOption(sink, "value_column").empty()) {
      return Unsupported(
          "the redis sink's value_column stores one column per key: its keys cannot be read "
          "back as the stream's rows (leave value_column out, or use data_type: hash, to "
          "verify)");
    }
    SLUICE_ASSIGN_OR_RETURN(std::string pattern,
                            redis::KeyPatternOf(ScalarOption(sink, "key"), stream, schema));
    ReadBack read_back{ReadBackBlock(sink, {"host", "port", "user", "password", "db",
                                            "connect_timeout_secs", "command_timeout_secs"}),
                       pattern};
    SetReadBackOption(&read_back.source, "keys", pattern);
    SetReadBackOption(&read_back.source, "read_from", "primary");
    SetReadBackOption(&read_back.source, "stream", stream);
    const config::Mark& mark = read_back.source.type_mark;
    config::Node columns = config::Node::Map(mark);
    for (const Field& field : schema.fields())
      columns.Set(field.name, mark, config::Node::Scalar(field.type.ToString(), mark));
    read_back.source.options.Set("columns", mark, std::move(columns));
    return read_back;
  };
  registry.Register(std::move(info));
}

}  // namespace sluice::connectors
