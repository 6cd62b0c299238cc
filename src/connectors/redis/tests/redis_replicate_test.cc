// mode: replicate against the real primary and replica of scripts/test-servers.sh: the full
// sync of every type and encoding read as the snapshot source reads the same keys, commands as
// change rows, readers reopened at their position (PSYNC) returning every row once, 20 dropped
// links with no full resync, a lost backlog, refused logins and replication, keys that are not
// UTF-8.
//
// Replication carries every database; each case reads its own (HeldDatabase, `dbs`), since
// CTest runs cases side by side. Counts of syncs are this process's (GlobalReplicationCounters):
// other cases' links come and go on the same replica.
#include <fmt/core.h>
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <cstring>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "config/node.h"
#include "connectors/redis/redis_client.h"
#include "connectors/redis/redis_replicate_source.h"
#include "connectors/redis/tests/redis_test_database.h"
#include "connectors/registry.h"
#include "testing/bad_records.h"
#include "testing/gtest_util.h"
#include "testing/test_servers.h"

namespace sluice::connectors {
void RegisterRedisConnector(ConnectorRegistry& registry);
}  // namespace sluice::connectors

namespace sluice::connectors::redis {
namespace {

using json = nlohmann::json;
using sluice::testing::RecordAndFail;
using sluice::testing::RecordAndSkip;
using sluice::testing::TestServers;

struct ChangeRow {
  int64_t offset = 0;
  int64_t index = 0;
  std::string op;
  int64_t db = 0;
  std::optional<std::string> key, type, field, value;
  std::optional<double> score;
  std::optional<int64_t> expire_at_ms;
};

std::optional<std::string> TextAt(const Batch& batch, size_t column, size_t row) {
  if (batch.column(column).IsNull(row))
    return std::nullopt;
  return std::string(batch.column(column).GetView(row));
}

class RedisReplicateTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto servers = TestServers::FromEnvironment();
    ASSERT_OK(servers.status());
    servers_ = *servers;
    RegisterRedisConnector(registry_);
    ASSERT_OK_AND_ASSIGN(database_, testing::HeldDatabase::Take(servers_));
    db_ = database_->db();
    ASSERT_OK_AND_ASSIGN(primary_,
                         testing::HeldDatabase::ConnectTo(servers_, servers_.redis.port, db_));
    ASSERT_OK_AND_ASSIGN(
        replica_, testing::HeldDatabase::ConnectTo(servers_, servers_.redis.replica_port, db_));
    // A full sync starts at once rather than after the default 5 s wait for more replicas.
    ASSERT_OK(replica_->Command("CONFIG", "SET", "repl-diskless-sync-delay", "0").status());
  }

  void WaitForReplica() {
    ASSERT_OK_AND_ASSIGN(RedisReply reply, primary_->Command("WAIT", "1", "5000"));
    ASSERT_EQ(reply.integer, 1);
  }

  Result<std::unique_ptr<Source>> MakeSource(const std::string& options, int port = 0,
                                             const std::string& password = "") {
    std::string yaml = fmt::format(
        "host: {}\nport: {}\npassword: {}\ndbs: ['{}']\n{}", servers_.redis.host,
        port != 0 ? port : servers_.redis.replica_port,
        password.empty() ? servers_.redis.password : password, db_, options);
    if (options.find("mode:") == std::string::npos)
      yaml += "\nmode: replicate\n";
    SLUICE_ASSIGN_OR_RETURN(config::Node node, config::ParseYaml(yaml, "test.yaml"));
    config::ConnectorBlock block;
    block.type = "redis";
    block.options = std::move(node);
    return registry_.CreateSource(block);
  }

  // A reader of the one split of an opened source, at `position`.
  Result<std::unique_ptr<SplitReader>> OpenReader(Source& source, const std::string& position) {
    SLUICE_ASSIGN_OR_RETURN(auto enumerator, source.CreateEnumerator());
    SLUICE_ASSIGN_OR_RETURN(std::optional<Split> split, enumerator->Next());
    if (!split)
      return Internal("no split");
    split_ = *split;
    return source.CreateReader(*split, position);
  }

  // One batch into `out`; false at the end of the split.
  Result<bool> ReadOnce(Source& source, SplitReader& reader, std::vector<ChangeRow>* out,
                        size_t batch_rows = 1000) {
    Batch batch(source.streams()[0].schema, batch_rows);
    SLUICE_ASSIGN_OR_RETURN(bool more, reader.ReadBatch(&batch));
    const Schema& schema = *source.streams()[0].schema;
    const int field = schema.FieldIndex("field");
    const int score = schema.FieldIndex("score");
    const int value = schema.FieldIndex("value");
    const int expire = schema.FieldIndex("expire_at_ms");
    for (size_t row = 0; row < batch.num_rows(); ++row) {
      ChangeRow change;
      change.offset = batch.column(0).Get<int64_t>(row);
      change.index = batch.column(1).Get<int64_t>(row);
      change.op = std::string(batch.column(2).GetView(row));
      change.db = batch.column(3).Get<int64_t>(row);
      change.key = TextAt(batch, 4, row);
      change.type = TextAt(batch, 5, row);
      if (field >= 0)
        change.field = TextAt(batch, field, row);
      change.value = TextAt(batch, value, row);
      if (score >= 0 && !batch.column(score).IsNull(row))
        change.score = batch.column(score).Get<double>(row);
      if (!batch.column(expire).IsNull(row))
        change.expire_at_ms = batch.column(expire).Get<int64_t>(row);
      out->push_back(std::move(change));
    }
    return more;
  }

  // Reads until a row satisfies `done` (or 60 s pass: a failure, not a wait for speed).
  Status ReadUntil(Source& source, SplitReader& reader, std::vector<ChangeRow>* out,
                   const std::function<bool(const ChangeRow&)>& done, size_t batch_rows = 1000) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    size_t checked = out->size();
    while (std::chrono::steady_clock::now() < deadline) {
      SLUICE_ASSIGN_OR_RETURN(bool more, ReadOnce(source, reader, out, batch_rows));
      for (; checked < out->size(); ++checked) {
        if (done((*out)[checked]))
          return Status::OK();
      }
      if (!more)
        return Internal("the split ended first");
    }
    return Internal("the row did not come within 60 s");
  }

  // Every key of the held database read by the snapshot source (the reference).
  Result<std::map<std::string, std::pair<std::string, std::string>>> Snapshot() {
    SLUICE_ASSIGN_OR_RETURN(auto source, MakeSource("mode: snapshot\n"));
    SLUICE_RETURN_IF_ERROR(source->Open(context_));
    SLUICE_ASSIGN_OR_RETURN(auto enumerator, source->CreateEnumerator());
    std::map<std::string, std::pair<std::string, std::string>> keys;
    while (true) {
      SLUICE_ASSIGN_OR_RETURN(std::optional<Split> split, enumerator->Next());
      if (!split)
        break;
      SLUICE_ASSIGN_OR_RETURN(auto reader, source->CreateReader(*split, ""));
      for (bool more = true; more;) {
        Batch batch(source->streams()[0].schema, 1000);
        SLUICE_ASSIGN_OR_RETURN(more, reader->ReadBatch(&batch));
        for (size_t row = 0; row < batch.num_rows(); ++row) {
          keys[std::string(batch.column(0).GetView(row))] = {
              std::string(batch.column(1).GetView(row)),
              std::string(batch.column(2).GetView(row))};
        }
      }
    }
    return keys;
  }

  TestServers servers_;
  ConnectorRegistry registry_;
  std::unique_ptr<testing::HeldDatabase> database_;
  int db_ = 0;
  std::unique_ptr<RedisClient> primary_;
  std::unique_ptr<RedisClient> replica_;
  Split split_;
  RecordAndFail bad_;
  connectors::JobContext context_ = sluice::testing::MakeTestContext(&bad_);
};

// Keys of every type in the encodings Redis picks for small and big values.
void LoadEveryEncoding(RedisClient& primary) {
  std::vector<std::vector<std::string>> commands = {
      {"SET", "str:plain", "hello"},
      {"SET", "str:int", "12345"},
      {"SET", "str:negative", "-7"},
      {"SET", "str:empty", ""},
      {"SET", "str:binary", std::string("a\0b", 3) + "\xF0\x9F\x98\x80 caf\xC3\xA9"},
      {"SET", "str:lzf", std::string(2000, 'z') + "end"},
      {"SET", "str:ttl", "soon", "PXAT", "4102444800000"},
      {"RPUSH", "list:small", "a", "1", "-20000", "4294967296"},
      {"SADD", "set:ints", "1", "-5", "70000", "9000000000"},
      {"SADD", "set:strings", "x", "y", "z"},
      {"HSET", "hash:small", "f1", "v1", "n", "42"},
      {"ZADD", "zset:small", "1.5", "a", "-2", "b", "1e300", "c"},
      {"ZADD", "zset:inf", "+inf", "top", "-inf", "bottom"},
      {"XADD", "stream:a", "1-1", "k", "v1"},
      {"XADD", "stream:a", "1-2", "k", "v2", "other", "o"},
      {"XADD", "stream:a", "5-0", "k", "v3"},
  };
  for (int i = 0; i < 300; ++i) {
    std::string n = std::to_string(i);
    commands.push_back({"HSET", "hash:big", "field" + n, std::string(i % 50, 'v') + n});
    commands.push_back({"ZADD", "zset:big", std::to_string(i * 0.25 - 10), "member" + n});
    commands.push_back({"SADD", "set:big", "member" + n});
    commands.push_back({"RPUSH", "list:big", std::string(100, 'e') + n});
    commands.push_back({"XADD", "stream:big", "*", "n", n, "pad", std::string(i % 40, 'p')});
  }
  commands.push_back({"XDEL", "stream:a", "1-2"});
  commands.push_back({"XGROUP", "CREATE", "stream:a", "group", "0"});
  commands.push_back({"XREADGROUP", "GROUP", "group", "consumer", "COUNT", "1", "STREAMS",
                      "stream:a", ">"});
  auto pipelined = primary.Pipeline(commands);
  ASSERT_OK(pipelined.status());
}

TEST_F(RedisReplicateTest, AFullSyncReadsEveryTypeAndEncodingAsTheSnapshotDoes) {
  LoadEveryEncoding(*primary_);
  WaitForReplica();
  ASSERT_OK_AND_ASSIGN(auto expected, Snapshot());
  std::string names;
  for (const auto& [key, unused] : expected)
    names += key + " ";
  ASSERT_EQ(expected.size(), 19u) << names;

  ASSERT_OK_AND_ASSIGN(auto source, MakeSource("stop_at: synced\n"));
  ASSERT_OK(source->Open(context_));
  EXPECT_TRUE(source->bounded());
  ASSERT_OK_AND_ASSIGN(auto reader, OpenReader(*source, ""));
  std::vector<ChangeRow> rows;
  for (bool more = true; more;) {
    ASSERT_OK_AND_ASSIGN(more, ReadOnce(*source, *reader, &rows, 7));
  }
  ASSERT_EQ(rows.size(), 21u);  // sync, 19 keys, synced
  EXPECT_EQ(rows.front().op, "sync");
  EXPECT_EQ(rows.back().op, "synced");
  std::map<std::string, ChangeRow> got;
  for (const ChangeRow& row : rows) {
    EXPECT_EQ(row.offset, rows.front().offset);
    if (row.op == "snapshot") {
      EXPECT_EQ(row.db, db_);
      EXPECT_TRUE(got.emplace(*row.key, row).second) << "twice: " << *row.key;
    }
  }
  ASSERT_EQ(got.size(), expected.size());
  for (const auto& [key, type_value] : expected) {
    SCOPED_TRACE(key);
    ASSERT_TRUE(got.count(key));
    EXPECT_EQ(*got[key].type, type_value.first);
    if (type_value.first == "string") {
      EXPECT_EQ(*got[key].value, type_value.second);
    } else {
      // The same JSON (numbers compared as numbers: Redis prints 1.5 as 1.5 or 1.50000...).
      EXPECT_EQ(json::parse(*got[key].value), json::parse(type_value.second));
    }
  }
  EXPECT_EQ(got["str:ttl"].expire_at_ms.value_or(0), 4102444800000);
  EXPECT_FALSE(got["str:plain"].expire_at_ms.has_value());
  EXPECT_EQ(reader->Position().find("in_sync"), std::string::npos);
}

TEST_F(RedisReplicateTest, ElementRowsGiveOneRowPerElementOfEveryType) {
  LoadEveryEncoding(*primary_);
  WaitForReplica();
  ASSERT_OK_AND_ASSIGN(auto source, MakeSource("stop_at: synced\nelements: rows\nbinary: true\n"));
  ASSERT_OK(source->Open(context_));
  ASSERT_OK_AND_ASSIGN(auto reader, OpenReader(*source, ""));
  std::vector<ChangeRow> rows;
  for (bool more = true; more;) {
    ASSERT_OK_AND_ASSIGN(more, ReadOnce(*source, *reader, &rows));
  }
  std::map<std::string, std::vector<ChangeRow>> by_key;
  for (const ChangeRow& row : rows) {
    if (row.op == "snapshot")
      by_key[*row.key].push_back(row);
  }
  EXPECT_EQ(by_key["hash:big"].size(), 300u);
  EXPECT_EQ(by_key["zset:big"].size(), 300u);
  EXPECT_EQ(by_key["set:big"].size(), 300u);
  EXPECT_EQ(by_key["list:big"].size(), 300u);
  EXPECT_EQ(by_key["stream:big"].size(), 300u);
  EXPECT_EQ(by_key["stream:a"].size(), 2u);  // 1-2 deleted
  std::map<std::string, std::string> hash;
  for (const ChangeRow& row : by_key["hash:big"])
    hash[*row.field] = *row.value;
  EXPECT_EQ(hash["field49"], std::string(49, 'v') + "49");
  const std::vector<ChangeRow>& list = by_key["list:big"];
  for (size_t i = 0; i < list.size(); ++i) {
    EXPECT_EQ(*list[i].field, std::to_string(i));
    EXPECT_EQ(*list[i].value, std::string(100, 'e') + std::to_string(i));
  }
  std::map<std::string, double> scores;
  for (const ChangeRow& row : by_key["zset:big"])
    scores[*row.field] = *row.score;
  EXPECT_DOUBLE_EQ(scores["member7"], 7 * 0.25 - 10);
  for (const ChangeRow& row : by_key["zset:inf"])
    EXPECT_TRUE(std::isinf(*row.score));
  std::set<std::string> ints;
  for (const ChangeRow& row : by_key["set:ints"])
    ints.insert(*row.field);
  EXPECT_EQ(ints, (std::set<std::string>{"-5", "1", "70000", "9000000000"}));
  ASSERT_EQ(by_key["str:binary"].size(), 1u);
  EXPECT_EQ(*by_key["str:binary"][0].value,
            std::string("a\0b", 3) + "\xF0\x9F\x98\x80 caf\xC3\xA9");
  EXPECT_EQ(*by_key["stream:a"][1].field, "5-0");
  EXPECT_EQ(json::parse(*by_key["stream:a"][1].value), json::parse(R"({"k":"v3"})"));
}

TEST_F(RedisReplicateTest, CommandsBecomeChangeRows) {
  ASSERT_OK(primary_->Command("SET", "before", "1").status());
  WaitForReplica();
  ASSERT_OK_AND_ASSIGN(auto source, MakeSource(""));
  ASSERT_OK(source->Open(context_));
  EXPECT_FALSE(source->bounded());
  ASSERT_OK_AND_ASSIGN(auto reader, OpenReader(*source, ""));
  std::vector<ChangeRow> rows;
  ASSERT_OK(ReadUntil(*source, *reader, &rows, [](const ChangeRow& r) { return r.op == "synced"; }));
  const size_t synced = rows.size();
  std::vector<std::vector<std::string>> commands = {
      {"SET", "s", "v", "EX", "1000"},
      {"MSET", "a", "1", "b", "2"},
      {"DEL", "a", "b"},
      {"HSET", "h", "f", "v"},
      {"EXPIRE", "h", "500"},
      {"PERSIST", "h"},
      {"INCRBYFLOAT", "n", "2.5"},
      {"RPUSH", "l", "x", "y"},
      {"RENAME", "l", "l2"},
      {"SET", "done", "1"},
  };
  ASSERT_OK(primary_->Pipeline(commands).status());
  ASSERT_OK(ReadUntil(*source, *reader, &rows,
                      [](const ChangeRow& r) { return r.key == std::optional<std::string>("done"); }));
  std::vector<std::string> seen;
  for (size_t i = synced; i < rows.size(); ++i) {
    seen.push_back(rows[i].op + " " + rows[i].key.value_or("-"));
    EXPECT_EQ(rows[i].db, db_);
    if (i > synced) {
      EXPECT_TRUE(rows[i].offset > rows[i - 1].offset ||
                  (rows[i].offset == rows[i - 1].offset && rows[i].index == rows[i - 1].index + 1));
    }
  }
  EXPECT_EQ(seen, (std::vector<std::string>{"set s", "set a", "set b", "del a", "del b",
                                             "hset h", "expire h", "persist h", "set_keepttl n",
                                             "rpush l", "rename l", "set done"}));
  const ChangeRow& set = rows[synced];
  EXPECT_EQ(*set.value, "v");
  EXPECT_EQ(*set.type, "string");
  const int64_t now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                             std::chrono::system_clock::now().time_since_epoch())
                             .count();
  ASSERT_TRUE(set.expire_at_ms.has_value());
  EXPECT_NEAR(static_cast<double>(*set.expire_at_ms), now_ms + 1000e3, 60e3);
  EXPECT_EQ(json::parse(*rows[synced + 5].value), json::parse(R"(["f","v"])"));
  EXPECT_EQ(*rows[synced + 5].type, "hash");
  EXPECT_EQ(*rows[synced + 8].value, "2.5");
  EXPECT_EQ(json::parse(*rows[synced + 10].value), json::parse(R"(["l2"])"));
  // The lag: the server's offset, measured as the stream began, against the rows returned.
  ReadLag lag = reader->Lag();
  ASSERT_TRUE(lag.bytes.has_value());
  EXPECT_LT(*lag.bytes, 1u << 20);
}

TEST_F(RedisReplicateTest, ReadersReopenedAtTheirPositionContinueWithPsyncAndReturnEveryRowOnce) {
  const uint64_t full_before = GlobalReplicationCounters().full_syncs;
  const uint64_t partial_before = GlobalReplicationCounters().partial_syncs;
  for (int i = 0; i < 50; ++i)
    ASSERT_OK(primary_->Command("SET", fmt::format("old{}", i), "x").status());
  WaitForReplica();
  ASSERT_OK_AND_ASSIGN(auto source, MakeSource(""));
  ASSERT_OK(source->Open(context_));
  std::vector<ChangeRow> rows;
  // Stopped inside the full sync, a reader syncs again (a new `sync` row): the server sends a
  // new RDB, not the rest of the old one.
  ASSERT_OK_AND_ASSIGN(auto first, OpenReader(*source, ""));
  ASSERT_OK(ReadUntil(*source, *first, &rows, [](const ChangeRow&) { return true; }, 7));
  std::string position = first->Position();
  EXPECT_NE(position.find("in_sync"), std::string::npos) << position;
  first.reset();
  ASSERT_OK_AND_ASSIGN(auto second, OpenReader(*source, position));
  ASSERT_OK(ReadUntil(*source, *second, &rows, [](const ChangeRow& r) { return r.op == "synced"; }));
  position = second->Position();
  second.reset();
  std::vector<std::vector<std::string>> commands;
  for (int i = 0; i < 60; ++i)
    commands.push_back({"MSET", fmt::format("k{}a", i), "1", fmt::format("k{}b", i), "2",
                        fmt::format("k{}c", i), "3"});
  commands.push_back({"SET", "last", "1"});
  ASSERT_OK(primary_->Pipeline(commands).status());
  // Then a reader per batch of 7 rows, each continuing with PSYNC where the last one stopped,
  // inside commands of several keys too (MSET of 3).
  for (int round = 0; rows.back().key != std::optional<std::string>("last"); ++round) {
    ASSERT_LT(round, 200);
    ASSERT_OK_AND_ASSIGN(auto reader, OpenReader(*source, position));
    ASSERT_OK(ReadUntil(*source, *reader, &rows, [](const ChangeRow&) { return true; }, 7));
    position = reader->Position();
  }
  // From the last `sync` on: the last full sync, then every command's rows once, in order.
  size_t last_sync = 0;
  for (size_t i = 0; i < rows.size(); ++i) {
    if (rows[i].op == "sync")
      last_sync = i;
  }
  std::set<std::string> snapshot_keys;
  std::vector<std::pair<int64_t, int64_t>> changes;
  for (size_t i = last_sync; i < rows.size(); ++i) {
    if (rows[i].op == "snapshot") {
      EXPECT_TRUE(snapshot_keys.insert(*rows[i].key).second);
    }
    if (rows[i].op == "set")
      changes.emplace_back(rows[i].offset, rows[i].index);
  }
  EXPECT_EQ(snapshot_keys.size(), 50u);
  ASSERT_EQ(changes.size(), 181u);
  for (size_t i = 1; i < changes.size(); ++i)
    EXPECT_LT(changes[i - 1], changes[i]) << "a row twice or out of order at " << i;
  for (size_t i = 0; i + 1 < changes.size(); i += 3)
    EXPECT_EQ(changes[i].second, 0);
  EXPECT_GE(GlobalReplicationCounters().full_syncs - full_before, 1u);
  EXPECT_GE(GlobalReplicationCounters().partial_syncs - partial_before, 10u);
}

TEST_F(RedisReplicateTest, TwentyDroppedLinksContinueWithoutAFullResync) {
  auto stats = [&](const char* name) -> int64_t {
    auto info = replica_->Command("INFO", "stats");
    EXPECT_OK(info.status());
    size_t at = info->text.find(std::string(name) + ":");
    return at == std::string::npos ? -1 : std::atoll(info->text.c_str() + at + strlen(name) + 1);
  };
  ASSERT_OK_AND_ASSIGN(auto source, MakeSource(""));
  ASSERT_OK(source->Open(context_));
  ASSERT_OK_AND_ASSIGN(auto reader, OpenReader(*source, ""));
  std::vector<ChangeRow> rows;
  ASSERT_OK(ReadUntil(*source, *reader, &rows, [](const ChangeRow& r) { return r.op == "synced"; }));
  const uint64_t full_before = GlobalReplicationCounters().full_syncs;
  const uint64_t partial_before = GlobalReplicationCounters().partial_syncs;
  const int64_t server_partial_before = stats("sync_partial_ok");
  for (int i = 0; i < 20; ++i) {
    const std::string marker = fmt::format("marker{}", i);
    ASSERT_OK(primary_->Command("SET", marker, std::to_string(i)).status());
    ASSERT_OK(ReadUntil(*source, *reader, &rows,
                        [&](const ChangeRow& r) { return r.key == marker; }));
    // Drops the link of every replica of the replica: ours among them.
    ASSERT_OK(replica_->Command("CLIENT", "KILL", "TYPE", "replica").status());
  }
  ASSERT_OK(primary_->Command("SET", "end", "1").status());
  ASSERT_OK(ReadUntil(*source, *reader, &rows,
                      [&](const ChangeRow& r) { return r.key == std::optional<std::string>("end"); }));
  EXPECT_EQ(GlobalReplicationCounters().full_syncs - full_before, 0u);
  EXPECT_GE(GlobalReplicationCounters().partial_syncs - partial_before, 20u);
  EXPECT_GE(stats("sync_partial_ok") - server_partial_before, 20);
  std::map<std::string, int> markers;
  for (const ChangeRow& row : rows) {
    if (row.key && row.key->starts_with("marker"))
      ++markers[*row.key];
  }
  EXPECT_EQ(markers.size(), 20u);
  for (const auto& [key, count] : markers)
    EXPECT_EQ(count, 1) << key;
}

TEST_F(RedisReplicateTest, ALostBacklogFailsSayingWhatToDoUnlessAFullResyncIsAllowed) {
  // A position the server has no history for, as after a stop longer than its backlog.
  const std::string lost = R"({"replid":"0123456789012345678901234567890123456789","offset":5})";
  ASSERT_OK_AND_ASSIGN(auto source, MakeSource(""));
  ASSERT_OK(source->Open(context_));
  const uint64_t full_before = GlobalReplicationCounters().full_syncs;
  ASSERT_OK_AND_ASSIGN(auto reader, OpenReader(*source, lost));
  std::vector<ChangeRow> rows;
  Status read = ReadUntil(*source, *reader, &rows, [](const ChangeRow&) { return true; });
  EXPECT_EQ(read.code(), StatusCode::kInvalidConfig) << read.ToString();
  EXPECT_NE(read.message().find("full_resync: allow"), std::string::npos);
  EXPECT_NE(read.message().find("repl-backlog-size"), std::string::npos);
  EXPECT_EQ(GlobalReplicationCounters().full_syncs, full_before);
  EXPECT_TRUE(rows.empty());

  ASSERT_OK(primary_->Command("SET", "k", "v").status());
  WaitForReplica();
  ASSERT_OK_AND_ASSIGN(auto allowed, MakeSource("full_resync: allow\n"));
  ASSERT_OK(allowed->Open(context_));
  ASSERT_OK_AND_ASSIGN(auto resync, OpenReader(*allowed, lost));
  ASSERT_OK(ReadUntil(*allowed, *resync, &rows, [](const ChangeRow& r) { return r.op == "synced"; }));
  EXPECT_EQ(rows.front().op, "sync");
  EXPECT_EQ(rows[1].key, std::optional<std::string>("k"));
}

TEST_F(RedisReplicateTest, RefusedLoginsAndReplicationSayWhatToFix) {
  ASSERT_OK_AND_ASSIGN(auto wrong, MakeSource("", 0, "not-the-password"));
  Status opened = wrong->Open(context_);
  EXPECT_EQ(opened.code(), StatusCode::kPermissionDenied) << opened.ToString();
  EXPECT_EQ(opened.message().find("not-the-password"), std::string::npos);

  // A user that may read but not replicate (ACLs are the replica's own).
  const std::string user = fmt::format("no_psync_{}", db_);
  ASSERT_OK(replica_->Command("ACL", "SETUSER", user, "on", ">secret-pw", "~*", "+@all", "-psync",
                              "-sync")
                .status());
  std::string yaml = fmt::format("user: {}\n", user);
  ASSERT_OK_AND_ASSIGN(auto refused, MakeSource(yaml, 0, "secret-pw"));
  ASSERT_OK(refused->Open(context_));
  ASSERT_OK_AND_ASSIGN(auto reader, OpenReader(*refused, ""));
  std::vector<ChangeRow> rows;
  Status read = ReadUntil(*refused, *reader, &rows, [](const ChangeRow&) { return true; });
  (void)replica_->Command("ACL", "DELUSER", user);
  EXPECT_EQ(read.code(), StatusCode::kPermissionDenied) << read.ToString();
  EXPECT_NE(read.message().find("+psync"), std::string::npos) << read.ToString();
  EXPECT_EQ(read.message().find("secret-pw"), std::string::npos);

  ASSERT_OK_AND_ASSIGN(auto primary, MakeSource("", servers_.redis.port));
  Status not_replica = primary->Open(context_);
  EXPECT_EQ(not_replica.code(), StatusCode::kInvalidConfig);
  EXPECT_NE(not_replica.message().find("read_from: primary"), std::string::npos);
}

TEST_F(RedisReplicateTest, AnUnreachableServerIsUnavailable) {
  ASSERT_OK_AND_ASSIGN(auto source, MakeSource("connect_timeout_secs: 2\n", 1));
  Status opened = source->Open(context_);
  EXPECT_EQ(opened.code(), StatusCode::kUnavailable) << opened.ToString();
  EXPECT_NE(opened.message().find(":1"), std::string::npos);
}

TEST_F(RedisReplicateTest, KeysThatAreNotUtf8AreBadRecordsUnlessBinary) {
  const std::string latin1 = "caf\xE9";
  ASSERT_OK(primary_->Command("SET", latin1, "v").status());
  ASSERT_OK(primary_->Command("SET", "fine", latin1).status());
  ASSERT_OK(primary_->Command("SET", "ok", "v").status());
  WaitForReplica();
  RecordAndSkip skip;
  context_ = sluice::testing::MakeTestContext(&skip);
  for (bool binary : {false, true}) {
    SCOPED_TRACE(binary);
    ASSERT_OK_AND_ASSIGN(auto source,
                         MakeSource(fmt::format("stop_at: synced\nbinary: {}\n", binary)));
    ASSERT_OK(source->Open(context_));
    ASSERT_OK_AND_ASSIGN(auto reader, OpenReader(*source, ""));
    std::vector<ChangeRow> rows;
    for (bool more = true; more;) {
      ASSERT_OK_AND_ASSIGN(more, ReadOnce(*source, *reader, &rows));
    }
    std::map<std::string, std::string> keys;
    for (const ChangeRow& row : rows) {
      if (row.op == "snapshot")
        keys[*row.key] = *row.value;
    }
    if (binary) {
      EXPECT_EQ(keys.size(), 3u);
      EXPECT_EQ(keys[latin1], "v");
      EXPECT_EQ(keys["fine"], latin1);
    } else {
      EXPECT_EQ(keys.size(), 1u);
      ASSERT_EQ(skip.records().size(), 2u);
      EXPECT_NE(skip.records()[0].reason.message().find("binary: true"), std::string::npos);
    }
  }
}

}  // namespace
}  // namespace sluice::connectors::redis
