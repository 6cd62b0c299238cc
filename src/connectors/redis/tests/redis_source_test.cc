// The redis snapshot source against the real replica of scripts/test-servers.sh: every type read
// back (big keys in several chunks), filters, the replica requirement, and a reader reopened at
// its position reading every key once.
#include <fmt/core.h>
#include <gtest/gtest.h>

#include <map>
#include <nlohmann/json.hpp>

#include "config/node.h"
#include "connectors/redis/redis_client.h"
#include "connectors/redis/tests/redis_test_database.h"
#include "connectors/redis/redis_source.h"
#include "connectors/registry.h"
#include "testing/bad_records.h"
#include "testing/gtest_util.h"
#include "testing/test_servers.h"

namespace sluice::connectors {
void RegisterRedisConnector(ConnectorRegistry& registry);
}  // namespace sluice::connectors

namespace sluice::connectors::redis {
namespace {

using sluice::testing::RecordAndFail;
using sluice::testing::TestServers;

// One row as read: type, value, ttl_ms ("NULL" or a number), db.
struct KeyRow {
  std::string type;
  std::string value;
  std::string ttl_ms;
  int64_t db = 0;
};


class RedisSourceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto servers = TestServers::FromEnvironment();
    ASSERT_OK(servers.status());
    servers_ = *servers;
    RegisterRedisConnector(registry_);
    // A database of this test process's own: CTest runs these cases side by side.
    ASSERT_OK_AND_ASSIGN(database_, testing::HeldDatabase::Take(servers_));
    db_ = database_->db();
    ASSERT_OK_AND_ASSIGN(primary_,
                         testing::HeldDatabase::ConnectTo(servers_, servers_.redis.port, db_));
  }

  // Waits until the replica has everything the primary acknowledged.
  void WaitForReplica() {
    ASSERT_OK_AND_ASSIGN(RedisReply reply, primary_->Command("WAIT", "1", "5000"));
    ASSERT_EQ(reply.integer, 1);
  }

  Result<std::unique_ptr<Source>> MakeSource(const std::string& options, int port = 0) {
    std::string yaml = fmt::format("host: {}\nport: {}\npassword: {}\ndb: {}\n{}",
                                   servers_.redis.host,
                                   port != 0 ? port : servers_.redis.replica_port,
                                   servers_.redis.password, db_, options);
    SLUICE_ASSIGN_OR_RETURN(config::Node node, config::ParseYaml(yaml, "test.yaml"));
    config::ConnectorBlock block;
    block.type = "redis";
    block.options = std::move(node);
    return registry_.CreateSource(block);
  }

  // Reads every split; `batch_rows` small to cross pages; with `reopen`, every batch ends with
  // the reader destroyed and a new one opened at its position.
  Result<std::map<std::string, KeyRow>> ReadAll(Source& source, size_t batch_rows, bool reopen,
                                                size_t* rows_read) {
    std::map<std::string, KeyRow> out;
    *rows_read = 0;
    SLUICE_ASSIGN_OR_RETURN(auto enumerator, source.CreateEnumerator());
    for (;;) {
      SLUICE_ASSIGN_OR_RETURN(std::optional<Split> split, enumerator->Next());
      if (!split)
        break;
      std::string position;
      SLUICE_ASSIGN_OR_RETURN(auto reader, source.CreateReader(*split, position));
      for (;;) {
        Batch batch(source.streams()[0].schema, batch_rows);
        SLUICE_ASSIGN_OR_RETURN(bool more, reader->ReadBatch(&batch));
        for (size_t row = 0; row < batch.num_rows(); ++row) {
          KeyRow key_row;
          key_row.type = std::string(batch.column(1).GetView(row));
          key_row.value = std::string(batch.column(2).GetView(row));
          key_row.ttl_ms = batch.column(3).IsNull(row)
                               ? "NULL"
                               : std::to_string(batch.column(3).Get<int64_t>(row));
          key_row.db = batch.column(4).Get<int64_t>(row);
          out[std::string(batch.column(0).GetView(row))] = key_row;
          ++*rows_read;
        }
        if (!more)
          break;
        if (reopen) {
          position = reader->Position();
          reader.reset();
          SLUICE_ASSIGN_OR_RETURN(reader, source.CreateReader(*split, position));
        }
      }
    }
    return out;
  }

  TestServers servers_;
  ConnectorRegistry registry_;
  std::unique_ptr<testing::HeldDatabase> database_;
  int db_ = 0;  // database_->db()
  std::unique_ptr<RedisClient> primary_;
  connectors::JobContext context_ = sluice::testing::MakeTestContext(&bad_);
  RecordAndFail bad_;
};

TEST_F(RedisSourceTest, ReadsEveryTypeWithBigKeysInChunks) {
  std::string binary = std::string("a\0b", 3) + "\xF0\x9F\x98\x80";
  ASSERT_OK(primary_->Command("SET", "s", binary).status());
  ASSERT_OK(primary_->Command("SET", "with-ttl", "v", "EX", "1000").status());
  for (int i = 0; i < 10; ++i) {
    std::string n = std::to_string(i);
    ASSERT_OK(primary_->Command("HSET", "h", "f" + n, "v" + n).status());
    ASSERT_OK(primary_->Command("RPUSH", "l", "e" + n).status());
    ASSERT_OK(primary_->Command("SADD", "set", "m" + n).status());
    ASSERT_OK(primary_->Command("ZADD", "z", n, "m" + n).status());
    ASSERT_OK(primary_->Command("XADD", "x", n + "-1", "k", "v" + n).status());
  }
  ASSERT_OK(primary_->Command("ZADD", "z", "+inf", "top").status());
  // The sink's bookkeeping is not data.
  ASSERT_OK(primary_->Command("SET", "sluice:progress:job:0", "{}").status());
  WaitForReplica();

  ASSERT_OK_AND_ASSIGN(auto source, MakeSource("chunk_elements: 3\nscan_count: 2\n"));
  ASSERT_OK(source->Open(context_));
  size_t rows = 0;
  ASSERT_OK_AND_ASSIGN(auto keys, ReadAll(*source, 1000, false, &rows));
  ASSERT_EQ(keys.size(), 7u);
  EXPECT_EQ(rows, 7u);
  EXPECT_EQ(keys["s"].type, "string");
  EXPECT_EQ(keys["s"].value, binary);
  EXPECT_EQ(keys["s"].ttl_ms, "NULL");
  EXPECT_EQ(keys["s"].db, db_);
  EXPECT_GT(std::stoll(keys["with-ttl"].ttl_ms), 990'000);

  nlohmann::json hash = nlohmann::json::parse(keys["h"].value);
  EXPECT_EQ(hash.size(), 10u);
  EXPECT_EQ(hash["f7"], "v7");
  nlohmann::json list = nlohmann::json::parse(keys["l"].value);
  ASSERT_EQ(list.size(), 10u);
  EXPECT_EQ(list[0], "e0");
  EXPECT_EQ(list[9], "e9");
  nlohmann::json set = nlohmann::json::parse(keys["set"].value);
  EXPECT_EQ(set.size(), 10u);
  EXPECT_EQ(set[0], "m0");  // sorted
  nlohmann::json zset = nlohmann::json::parse(keys["z"].value);
  ASSERT_EQ(zset.size(), 11u);
  EXPECT_EQ(zset[3][0], "m3");
  EXPECT_EQ(zset[3][1], 3);
  EXPECT_EQ(zset[10][0], "top");
  EXPECT_EQ(zset[10][1], "inf");
  nlohmann::json stream = nlohmann::json::parse(keys["x"].value);
  ASSERT_EQ(stream.size(), 10u);
  EXPECT_EQ(stream[9]["id"], "9-1");
  EXPECT_EQ(stream[9]["fields"]["k"], "v9");
}

TEST_F(RedisSourceTest, FiltersByPatternAndType) {
  ASSERT_OK(primary_->Command("SET", "user:1", "a").status());
  ASSERT_OK(primary_->Command("HSET", "user:2", "f", "v").status());
  ASSERT_OK(primary_->Command("SET", "order:1", "b").status());
  WaitForReplica();
  ASSERT_OK_AND_ASSIGN(auto source, MakeSource("keys: 'user:*'\ntypes: [hash]\n"));
  ASSERT_OK(source->Open(context_));
  size_t rows = 0;
  ASSERT_OK_AND_ASSIGN(auto keys, ReadAll(*source, 1000, false, &rows));
  ASSERT_EQ(keys.size(), 1u);
  EXPECT_EQ(keys.begin()->first, "user:2");
}

TEST_F(RedisSourceTest, AReaderReopenedAtItsPositionReadsEveryKeyOnce) {
  std::vector<std::vector<std::string>> commands;
  for (int i = 0; i < 500; ++i)
    commands.push_back({"SET", fmt::format("k{}", i), std::to_string(i)});
  ASSERT_OK(primary_->Pipeline(commands).status());
  WaitForReplica();
  ASSERT_OK_AND_ASSIGN(auto source, MakeSource("scan_count: 7\n"));
  ASSERT_OK(source->Open(context_));
  size_t rows = 0;
  ASSERT_OK_AND_ASSIGN(auto keys, ReadAll(*source, 3, /*reopen=*/true, &rows));
  EXPECT_EQ(keys.size(), 500u);
  EXPECT_EQ(rows, 500u);  // none twice
  EXPECT_EQ(keys["k123"].value, "123");
}

// elements: rows, read by readers reopened after every batch of 5 rows: every element of every
// type exactly once, big keys across batches and resumes.
TEST_F(RedisSourceTest, ElementRowsOfEveryTypeEachOnceAcrossReopenedReaders) {
  std::vector<std::vector<std::string>> commands = {{"SET", "s", "plain"}};
  for (int i = 0; i < 23; ++i) {
    std::string n = std::to_string(i);
    commands.push_back({"HSET", "h", "f" + n, "v" + n});
    commands.push_back({"RPUSH", "l", "e" + n});
    commands.push_back({"SADD", "set", "m" + n});
    commands.push_back({"ZADD", "z", std::to_string(i * 0.5), "m" + n});
    commands.push_back({"XADD", "x", n + "-1", "k", "v" + n});
  }
  ASSERT_OK(primary_->Pipeline(commands).status());
  WaitForReplica();
  ASSERT_OK_AND_ASSIGN(auto source, MakeSource("elements: rows\nchunk_elements: 4\nscan_count: 2\n"));
  ASSERT_OK(source->Open(context_));
  const Schema& schema = *source->streams()[0].schema;
  ASSERT_EQ(schema.FieldIndex("field"), 2);
  ASSERT_EQ(schema.FieldIndex("score"), 4);
  ASSERT_OK_AND_ASSIGN(auto enumerator, source->CreateEnumerator());
  ASSERT_OK_AND_ASSIGN(std::optional<Split> split, enumerator->Next());
  ASSERT_TRUE(split.has_value());
  std::map<std::string, std::map<std::string, std::string>> keys;  // key -> field -> value
  size_t rows = 0;
  std::string position;
  for (bool more = true; more;) {
    ASSERT_OK_AND_ASSIGN(auto reader, source->CreateReader(*split, position));
    Batch batch(source->streams()[0].schema, 5);
    ASSERT_OK_AND_ASSIGN(more, reader->ReadBatch(&batch));
    for (size_t row = 0; row < batch.num_rows(); ++row, ++rows) {
      std::string value = batch.column(3).IsNull(row)
                              ? (batch.column(4).IsNull(row)
                                     ? "NULL"
                                     : fmt::format("{}", batch.column(4).Get<double>(row)))
                              : std::string(batch.column(3).GetView(row));
      auto [at, fresh] = keys[std::string(batch.column(0).GetView(row))].emplace(
          std::string(batch.column(2).GetView(row)), value);
      EXPECT_TRUE(fresh) << "twice: " << batch.column(0).GetView(row) << " "
                         << batch.column(2).GetView(row);
    }
    position = reader->Position();
  }
  EXPECT_EQ(rows, 1u + 5 * 23);
  ASSERT_EQ(keys.size(), 6u);
  EXPECT_EQ(keys["s"][""], "plain");
  EXPECT_EQ(keys["h"]["f17"], "v17");
  EXPECT_EQ(keys["l"]["22"], "e22");
  EXPECT_EQ(keys["set"]["m3"], "NULL");
  EXPECT_EQ(keys["z"]["m5"], "2.5");
  EXPECT_EQ(nlohmann::json::parse(keys["x"]["9-1"]), nlohmann::json::parse(R"({"k":"v9"})"));
  for (const auto& [key, elements] : keys)
    EXPECT_EQ(elements.size(), key == "s" ? 1u : 23u) << key;
}

TEST_F(RedisSourceTest, TextThatIsNotUtf8IsABadRecordUnlessBinary) {
  const std::string latin1 = "caf\xE9";
  ASSERT_OK(primary_->Command("SET", latin1, "v").status());
  ASSERT_OK(primary_->Command("HSET", "h", "f", latin1).status());
  ASSERT_OK(primary_->Command("SET", "ok", "v").status());
  WaitForReplica();
  sluice::testing::RecordAndSkip skip;
  context_ = sluice::testing::MakeTestContext(&skip);
  ASSERT_OK_AND_ASSIGN(auto text, MakeSource(""));
  ASSERT_OK(text->Open(context_));
  size_t rows = 0;
  ASSERT_OK_AND_ASSIGN(auto keys, ReadAll(*text, 1000, false, &rows));
  EXPECT_EQ(keys.size(), 1u);
  ASSERT_EQ(skip.records().size(), 2u);
  EXPECT_NE(skip.records()[0].reason.message().find("binary: true"), std::string::npos);

  ASSERT_OK_AND_ASSIGN(auto binary, MakeSource("binary: true\n"));
  ASSERT_OK(binary->Open(context_));
  EXPECT_EQ(binary->streams()[0].schema->field(0).type.id, TypeId::kBytes);
  ASSERT_OK_AND_ASSIGN(keys, ReadAll(*binary, 1000, false, &rows));
  ASSERT_EQ(keys.size(), 3u);
  EXPECT_EQ(keys[latin1].value, "v");
  EXPECT_EQ(nlohmann::json::parse(keys["h"].value, nullptr, false).is_discarded(), true);
  EXPECT_NE(keys["h"].value.find(latin1), std::string::npos);
}

TEST_F(RedisSourceTest, RefusesAPrimaryUnlessAskedTo) {
  ASSERT_OK_AND_ASSIGN(auto source, MakeSource("", servers_.redis.port));
  Status opened = source->Open(context_);
  EXPECT_EQ(opened.code(), StatusCode::kInvalidConfig) << opened.ToString();
  EXPECT_NE(opened.message().find("read_from: primary"), std::string::npos);
  ASSERT_OK_AND_ASSIGN(auto anyway, MakeSource("read_from: primary\n", servers_.redis.port));
  EXPECT_OK(anyway->Open(context_));
}

}  // namespace
}  // namespace sluice::connectors::redis
