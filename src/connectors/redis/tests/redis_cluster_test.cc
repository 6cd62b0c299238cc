// The redis sink's `cluster: true` against the three-primary Redis Cluster of
// scripts/test-servers.sh (SLUICE_TEST_REDIS_CLUSTER_PORTS): key slots as Redis computes them,
// keys spread over every node, MOVED after a slot moved under a writer, ASK while a slot
// migrates, exactly-once across a failure and a kill -9 between a checkpoint's rows and its
// progress, fencing, a wrong password, cluster mode matching the server. Tests that move a slot
// use one of their own (a hash tag named after the test) and give it back to its owner, keys
// included, in TearDown.
#include <fmt/core.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <fstream>
#include <random>
#include <set>

#include "config/node.h"
#include "connectors/redis/redis_client.h"
#include "connectors/redis/redis_cluster.h"
#include "connectors/redis/redis_sink.h"
#include "connectors/registry.h"
#include "core/failpoint.h"
#include "core/value_text.h"
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

TEST(RedisClusterSlotsTest, KeySlotIsRedisCluster) {
  EXPECT_EQ(Crc16("123456789"), 0x31C3);  // the XMODEM check value
  EXPECT_EQ(KeySlot("a"), 15495);
  EXPECT_EQ(KeySlot("{0}"), 13907);
  EXPECT_EQ(KeySlot("{user1000}.following"), KeySlot("user1000"));
  EXPECT_EQ(KeySlot("foo{}{bar}"), KeySlot("foo{}{bar}"));
  EXPECT_NE(KeySlot("foo{}{bar}"), KeySlot("bar"));  // an empty first tag: the whole key
  EXPECT_EQ(KeySlot("foo{{bar}}zap"), KeySlot("{bar"));
  EXPECT_EQ(KeySlot("foo{bar}{zap}"), KeySlot("bar"));
}

TEST(RedisClusterSlotsTest, ParsesRedirections) {
  auto moved = ParseRedirect("MOVED 3999 127.0.0.1:6381");
  ASSERT_TRUE(moved);
  EXPECT_FALSE(moved->ask);
  EXPECT_EQ(moved->slot, 3999);
  EXPECT_EQ(moved->address, "127.0.0.1:6381");
  auto ask = ParseRedirect("ASK 1 ::1:7000");
  ASSERT_TRUE(ask);
  EXPECT_TRUE(ask->ask);
  EXPECT_EQ(ask->address, "::1:7000");
  EXPECT_FALSE(ParseRedirect("ERR MOVED 1 a:1"));
  EXPECT_FALSE(ParseRedirect("MOVED 99999 a:1"));
}

SchemaPtr Users() {
  return std::make_shared<const Schema>(
      std::vector<Field>{{"id", DataType::Int64(), false}, {"name", DataType::String(), true}},
      std::vector<int>{0});
}

// Rows id from..to-1 named "<tag><id>".
std::unique_ptr<Batch> Rows(int from, int to, const std::string& tag) {
  auto batch = std::make_unique<Batch>(Users(), static_cast<size_t>(std::max(to - from, 1)));
  batch->set_stream(0);
  for (int id = from; id < to; ++id) {
    EXPECT_OK(AppendParsedValue(std::to_string(id), &batch->column(0)));
    EXPECT_OK(AppendParsedValue(fmt::format("{}{}", tag, id), &batch->column(1)));
    batch->FinishRow();
  }
  return batch;
}

struct Node {
  int port = 0;
  std::string id;
  std::unique_ptr<RedisClient> client;
};

class RedisClusterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto servers = TestServers::FromEnvironment();
    ASSERT_OK(servers.status());
    servers_ = *servers;
    RegisterRedisConnector(registry_);
    std::ifstream env(servers_.env_file);
    std::string line, ports;
    while (std::getline(env, line)) {
      if (line.starts_with("SLUICE_TEST_REDIS_CLUSTER_PORTS="))
        ports = line.substr(line.find('=') + 1);
    }
    ASSERT_FALSE(ports.empty()) << "no SLUICE_TEST_REDIS_CLUSTER_PORTS in " << servers_.env_file;
    for (size_t start = 0; start <= ports.size();) {
      size_t comma = std::min(ports.find(',', start), ports.size());
      Node node;
      node.port = std::stoi(ports.substr(start, comma - start));
      ASSERT_OK_AND_ASSIGN(node.client, RedisClient::Connect(Connection(node.port)));
      ASSERT_OK_AND_ASSIGN(RedisReply id, node.client->Command("CLUSTER", "MYID"));
      node.id = id.text;
      nodes_.push_back(std::move(node));
      start = comma + 1;
    }
    ASSERT_EQ(nodes_.size(), 3u);
    name_ = ::testing::UnitTest::GetInstance()->current_test_info()->name();
    prefix_ = fmt::format("cluster_test:{}:", name_);
    tag_slot_ = KeySlot(Tag());
    // Leftovers of an earlier run of this test: its keys and its job's keys, on every node.
    for (Node& node : nodes_) {
      for (const std::string& pattern :
           {prefix_ + "*", "{" + prefix_ + "}*", "sluice:*:" + JobName() + "*",
            "sluice:fence:*:" + JobName()}) {
        for (const std::string& key : Scan(node, pattern))
          DeleteOn(node, key);
      }
    }
  }

  void TearDown() override {
    failpoint::DisarmAll();
    if (original_owner_ < 0)
      return;
    // Give the test's slot back to its owner: migration states off, the keys back.
    for (Node& node : nodes_)
      EXPECT_OK(node.client->Command("CLUSTER", "SETSLOT", std::to_string(tag_slot_), "STABLE")
                    .status());
    int owner = OwnerOf(tag_slot_);
    if (owner >= 0 && owner != original_owner_)
      MoveSlot(tag_slot_, owner, original_owner_);
    // Keys left on another node (a test that failed half-way through a migration).
    for (int n = 0; n < 3; ++n) {
      if (n == original_owner_)
        continue;
      for (const std::string& key : KeysInSlot(nodes_[static_cast<size_t>(n)], tag_slot_))
        DeleteOn(nodes_[static_cast<size_t>(n)], key);
    }
    EXPECT_EQ(OwnerOf(tag_slot_), original_owner_);
  }

  // Deletes `key` on `node`, also where the node holds it in a slot it does not serve (left by a
  // test that failed half-way through a migration): a node deletes such a key only while
  // importing its slot, after ASKING.
  void DeleteOn(Node& node, const std::string& key) {
    if (node.client->Command("DEL", key).ok())
      return;
    int owner = OwnerOf(KeySlot(key));
    ASSERT_GE(owner, 0);
    std::string slot = std::to_string(KeySlot(key));
    ASSERT_OK(node.client
                  ->Command("CLUSTER", "SETSLOT", slot, "IMPORTING",
                            nodes_[static_cast<size_t>(owner)].id)
                  .status());
    EXPECT_OK(node.client->Command("ASKING").status());
    EXPECT_OK(node.client->Command("DEL", key).status());
    ASSERT_OK(node.client->Command("CLUSTER", "SETSLOT", slot, "STABLE").status());
  }

  RedisConnectOptions Connection(int port) const {
    RedisConnectOptions options;
    options.host = servers_.redis.host;
    options.port = port;
    options.password = Secret(servers_.redis.password);
    return options;
  }

  std::string JobName() const { return "cluster-job-" + name_; }
  // A hash tag of the test's own, for keys that must share one slot.
  std::string Tag() const { return "{" + prefix_ + "}"; }

  Result<std::unique_ptr<Sink>> MakeSink(const std::string& options,
                                         const std::string& password = "") {
    std::string yaml = fmt::format(
        "host: {}\nport: {}\npassword: {}\ncluster: true\n{}", servers_.redis.host,
        nodes_[0].port, password.empty() ? servers_.redis.password : password, options);
    SLUICE_ASSIGN_OR_RETURN(config::Node node, config::ParseYaml(yaml, "test.yaml"));
    config::ConnectorBlock block;
    block.type = "redis";
    block.options = std::move(node);
    return registry_.CreateSink(block);
  }

  connectors::JobContext Context(BadRecordHandler* handler, uint64_t epoch) {
    connectors::JobContext context = sluice::testing::MakeTestContext(handler);
    context.job_name = JobName();
    context.run_epoch = epoch;
    context.run_owner = fmt::format("test-{}", epoch);
    return context;
  }

  std::vector<std::string> Scan(Node& node, const std::string& pattern) {
    std::vector<std::string> keys;
    std::string cursor = "0";
    do {
      auto reply = node.client->Command("SCAN", cursor, "MATCH", pattern, "COUNT", "1000");
      EXPECT_OK(reply.status());
      if (!reply.ok())
        break;
      cursor = reply->elements[0].text;
      for (const RedisReply& key : reply->elements[1].elements)
        keys.push_back(key.text);
    } while (cursor != "0");
    return keys;
  }

  std::vector<std::string> KeysInSlot(Node& node, int slot) {
    std::vector<std::string> keys;
    auto reply =
        node.client->Command("CLUSTER", "GETKEYSINSLOT", std::to_string(slot), "100000");
    EXPECT_OK(reply.status());
    if (reply.ok()) {
      for (const RedisReply& key : reply->elements)
        keys.push_back(key.text);
    }
    return keys;
  }

  // The node (index) that node 0 says serves `slot`.
  int OwnerOf(int slot) {
    auto reply = nodes_[0].client->Command("CLUSTER", "SLOTS");
    EXPECT_OK(reply.status());
    if (!reply.ok())
      return -1;
    for (const RedisReply& range : reply->elements) {
      if (slot < range.elements[0].integer || slot > range.elements[1].integer)
        continue;
      for (size_t n = 0; n < nodes_.size(); ++n) {
        if (nodes_[n].port == range.elements[2].elements[1].integer)
          return static_cast<int>(n);
      }
    }
    return -1;
  }

  // The steps of a slot migration, as redis-cli --cluster reshard takes them.
  void StartMigration(int slot, int from, int to) {
    std::string text = std::to_string(slot);
    ASSERT_OK(nodes_[static_cast<size_t>(to)]
                  .client->Command("CLUSTER", "SETSLOT", text, "IMPORTING",
                                   nodes_[static_cast<size_t>(from)].id)
                  .status());
    ASSERT_OK(nodes_[static_cast<size_t>(from)]
                  .client->Command("CLUSTER", "SETSLOT", text, "MIGRATING",
                                   nodes_[static_cast<size_t>(to)].id)
                  .status());
  }
  void MigrateKeys(int from, int to, const std::vector<std::string>& keys) {
    if (keys.empty())
      return;
    std::vector<std::string> args{"MIGRATE", servers_.redis.host,
                                  std::to_string(nodes_[static_cast<size_t>(to)].port), "", "0",
                                  "10000", "AUTH", servers_.redis.password, "KEYS"};
    args.insert(args.end(), keys.begin(), keys.end());
    std::vector<std::string_view> views(args.begin(), args.end());
    auto migrated = nodes_[static_cast<size_t>(from)].client->Command(views);
    ASSERT_OK(migrated.status());
  }
  void FinishMigration(int slot, int to) {
    // The new owner first, then the others (each learns it at once, not by gossip).
    std::string text = std::to_string(slot);
    std::vector<size_t> order{static_cast<size_t>(to)};
    for (size_t n = 0; n < nodes_.size(); ++n) {
      if (n != static_cast<size_t>(to))
        order.push_back(n);
    }
    for (size_t n : order) {
      ASSERT_OK(nodes_[n]
                    .client->Command("CLUSTER", "SETSLOT", text, "NODE",
                                     nodes_[static_cast<size_t>(to)].id)
                    .status());
    }
  }
  void MoveSlot(int slot, int from, int to) {
    StartMigration(slot, from, to);
    MigrateKeys(from, to, KeysInSlot(nodes_[static_cast<size_t>(from)], slot));
    FinishMigration(slot, to);
  }

  // The value of `key` (of its hash `field` when given) on node `n` itself ("(nil)" when absent
  // there, "(moved)" when the node redirects), ASKING first when asked to.
  std::string GetOn(int n, const std::string& key, bool asking = false,
                    const std::string& field = "") {
    RedisClient& client = *nodes_[static_cast<size_t>(n)].client;
    if (asking)
      EXPECT_OK(client.Command("ASKING").status());
    auto reply = field.empty() ? client.Command("GET", key) : client.Command("HGET", key, field);
    if (!reply.ok())
      return "(moved)";
    return reply->is_nil() ? "(nil)" : reply->text;
  }
  // The value of `key` on the node serving its slot.
  std::string Get(const std::string& key) { return GetOn(OwnerOf(KeySlot(key)), key); }

  // A node other than `n`.
  static int Other(int n) { return (n + 1) % 3; }

  TestServers servers_;
  ConnectorRegistry registry_;
  std::vector<Node> nodes_;
  std::string name_, prefix_;
  int tag_slot_ = -1;
  int original_owner_ = -1;  // set by tests that move the tag's slot
  const std::vector<StreamInfo> streams_{StreamInfo{"users", Users(), std::nullopt}};
};

TEST_F(RedisClusterTest, KeySlotAgreesWithTheServer) {
  std::mt19937 random(15);
  for (int i = 0; i < 200; ++i) {
    std::string key = fmt::format("k{}:{}", random(), i % 7 == 0 ? "{tag}" : "");
    ASSERT_OK_AND_ASSIGN(RedisReply slot, nodes_[0].client->Command("CLUSTER", "KEYSLOT", key));
    EXPECT_EQ(KeySlot(key), slot.integer) << key;
  }
}

TEST_F(RedisClusterTest, WritesKeysOnEveryNodeAndReadsProgressBack) {
  RecordAndFail bad;
  auto context = Context(&bad, 1);
  ASSERT_OK_AND_ASSIGN(auto sink, MakeSink(fmt::format("key: '{}u:{{id}}'\nvalue_column: name\n"
                                                       "pipeline_commands: 50\n",
                                                       prefix_)));
  ASSERT_OK(sink->Claim(context));
  ASSERT_OK(sink->Open(context, streams_));
  ASSERT_OK_AND_ASSIGN(auto slot0, sink->CreateWriter(0));
  ASSERT_OK_AND_ASSIGN(auto slot1, sink->CreateWriter(1));
  ASSERT_OK(slot0->Write(*Rows(0, 300, "a")));
  ASSERT_OK(slot1->Write(*Rows(300, 600, "b")));
  ASSERT_OK(slot0->Prepare());
  ASSERT_OK(slot0->Commit({1, {{"s0", "300", false}}}));
  ASSERT_OK(slot1->Prepare());
  ASSERT_OK(slot1->Commit({1, {{"s1", "600", true}}}));
  // Every key on the node serving its slot, and every node holds some.
  size_t total = 0;
  for (int n = 0; n < 3; ++n) {
    std::vector<std::string> keys = Scan(nodes_[static_cast<size_t>(n)], prefix_ + "u:*");
    EXPECT_GT(keys.size(), 100u) << "node " << n;
    for (const std::string& key : keys)
      EXPECT_EQ(OwnerOf(KeySlot(key)), n) << key;
    total += keys.size();
  }
  EXPECT_EQ(total, 600u);
  for (int id : {0, 1, 299, 300, 599})
    EXPECT_EQ(Get(fmt::format("{}u:{}", prefix_, id)),
              fmt::format("{}{}", id < 300 ? "a" : "b", id));
  // A fence key on every primary holds the run's epoch.
  std::set<int> fenced_nodes;
  for (int n = 0; n < 3; ++n) {
    for (const std::string& key : Scan(nodes_[static_cast<size_t>(n)],
                                       "sluice:fence:*:" + JobName())) {
      fenced_nodes.insert(n);
      ASSERT_OK_AND_ASSIGN(RedisReply epoch,
                           nodes_[static_cast<size_t>(n)].client->Command("HGET", key, "epoch"));
      EXPECT_EQ(epoch.text, "1");
    }
  }
  EXPECT_EQ(fenced_nodes.size(), 3u);
  ASSERT_OK_AND_ASSIGN(auto progress, sink->RecoverProgress(context));
  EXPECT_EQ(progress, (std::vector<SplitProgress>{{"s0", "300", false}, {"s1", "600", true}}));
  ASSERT_OK(sink->ForgetProgress(context));
  ASSERT_OK_AND_ASSIGN(progress, sink->RecoverProgress(context));
  EXPECT_TRUE(progress.empty());
}

TEST_F(RedisClusterTest, AtLeastOnceWritesHashesWithATtlAndDeletes) {
  RecordAndFail bad;
  auto context = Context(&bad, 0);
  context.delivery = DeliveryGuarantee::kAtLeastOnce;
  for (Node& node : nodes_)  // a stale field, on whichever node serves the key
    (void)node.client->Command("HSET", prefix_ + "h:7", "stale", "x");
  ASSERT_OK_AND_ASSIGN(auto sink, MakeSink(fmt::format("key: '{}h:{{id}}'\ndata_type: hash\n"
                                                       "ttl_secs: 600\npipeline_commands: 7\n",
                                                       prefix_)));
  ASSERT_OK(sink->Open(context, streams_));
  ASSERT_OK_AND_ASSIGN(auto writer, sink->CreateWriter(0));
  ASSERT_OK(writer->Write(*Rows(0, 100, "h")));
  // A changelog's delete removes the key, in order after its insert.
  auto deletes = Rows(50, 60, "h");
  for (size_t row = 0; row < deletes->num_rows(); ++row)
    deletes->SetRowKind(row, RowKind::kDelete);
  ASSERT_OK(writer->Write(*deletes));
  ASSERT_OK(writer->Prepare());
  ASSERT_OK(writer->Commit({1, {}}));
  for (int id : {0, 7, 49, 60, 99}) {
    std::string key = fmt::format("{}h:{}", prefix_, id);
    RedisClient& owner = *nodes_[static_cast<size_t>(OwnerOf(KeySlot(key)))].client;
    ASSERT_OK_AND_ASSIGN(RedisReply fields, owner.Command("HGETALL", key));
    std::map<std::string, std::string> hash;
    for (size_t i = 0; i + 1 < fields.elements.size(); i += 2)
      hash[fields.elements[i].text] = fields.elements[i + 1].text;
    EXPECT_EQ(hash, (std::map<std::string, std::string>{{"id", std::to_string(id)},
                                                         {"name", fmt::format("h{}", id)}}))
        << key;
    ASSERT_OK_AND_ASSIGN(RedisReply ttl, owner.Command("TTL", key));
    EXPECT_GT(ttl.integer, 500) << key;
  }
  for (int id : {50, 59})
    EXPECT_EQ(Get(fmt::format("{}h:{}", prefix_, id)), "(nil)");
  // At-least-once stores no progress and needs no fence.
  ASSERT_OK_AND_ASSIGN(auto progress, sink->RecoverProgress(context));
  EXPECT_TRUE(progress.empty());
}

TEST_F(RedisClusterTest, FollowsMovedWhenASlotMovedUnderTheWriter) {
  RecordAndFail bad;
  auto context = Context(&bad, 1);
  original_owner_ = OwnerOf(tag_slot_);
  ASSERT_GE(original_owner_, 0);
  ASSERT_OK_AND_ASSIGN(auto sink, MakeSink(fmt::format("key: '{{{}}}u:{{id}}'\n"
                                                       "value_column: name\n",
                                                       Tag())));
  ASSERT_OK(sink->Claim(context));
  ASSERT_OK(sink->Open(context, streams_));
  ASSERT_OK_AND_ASSIGN(auto writer, sink->CreateWriter(0));
  ASSERT_OK(writer->Write(*Rows(0, 50, "a")));
  ASSERT_OK(writer->Commit({1, {{"s", "50", false}}}));
  std::string key0 = Tag() + "u:0";
  EXPECT_EQ(GetOn(original_owner_, key0), "a0");

  // A connection set that has read the map, and the writer's: both stale once the slot moves.
  ClusterConnections stale(Connection(nodes_[0].port));
  ASSERT_OK(stale.Map().status());
  int to = Other(original_owner_);
  MoveSlot(tag_slot_, original_owner_, to);

  // MOVED teaches the map: one read of CLUSTER SLOTS more, and the command lands on the owner.
  ASSERT_OK_AND_ASSIGN(RedisReply got, stale.CommandOn(key0, "GET", key0));
  EXPECT_EQ(got.text, "a0");
  EXPECT_EQ(stale.refreshes(), 2);
  ASSERT_OK(writer->Write(*Rows(0, 100, "b")));
  ASSERT_OK(writer->Commit({2, {{"s", "100", false}}}));
  for (int id : {0, 49, 50, 99})
    EXPECT_EQ(GetOn(to, fmt::format("{}u:{}", Tag(), id)), fmt::format("b{}", id));
  EXPECT_TRUE(KeysInSlot(nodes_[static_cast<size_t>(original_owner_)], tag_slot_).empty());
}

TEST_F(RedisClusterTest, FollowsAskWhileASlotMigrates) {
  RecordAndFail bad;
  auto context = Context(&bad, 1);
  original_owner_ = OwnerOf(tag_slot_);
  ASSERT_GE(original_owner_, 0);
  int from = original_owner_, to = Other(original_owner_);
  // Hashes with a TTL: DEL, HSET, EXPIRE per row, where a DEL on the old owner makes the HSET
  // after it an ASK.
  ASSERT_OK_AND_ASSIGN(auto sink, MakeSink(fmt::format("key: '{{{}}}u:{{id}}'\n"
                                                       "data_type: hash\nttl_secs: 600\n",
                                                       Tag())));
  ASSERT_OK(sink->Claim(context));
  ASSERT_OK(sink->Open(context, streams_));
  ASSERT_OK_AND_ASSIGN(auto writer, sink->CreateWriter(0));
  ASSERT_OK(writer->Write(*Rows(1, 11, "a")));
  ASSERT_OK(writer->Commit({1, {{"s", "10", false}}}));
  auto key = [&](int id) { return fmt::format("{}u:{}", Tag(), id); };

  // Half-way through a migration: keys 1-5 moved, 6-10 not yet.
  StartMigration(tag_slot_, from, to);
  MigrateKeys(from, to, {key(1), key(2), key(3), key(4), key(5)});

  // One command by itself: ASK is followed once and leaves the map as it was.
  ClusterConnections connections(Connection(nodes_[0].port));
  ASSERT_OK(connections.Map().status());
  ASSERT_OK_AND_ASSIGN(RedisReply got, connections.CommandOn(key(1), "HGET", key(1), "name"));
  EXPECT_EQ(got.text, "a1");
  EXPECT_EQ(connections.refreshes(), 1);

  // The writer: keys still on the old owner are written there, the others where ASK sends them.
  ASSERT_OK(writer->Write(*Rows(1, 21, "b")));
  ASSERT_OK(writer->Commit({2, {{"s", "20", false}}}));
  // Keys 6-10 were on the old owner, so their DEL ran there and their HSET went by ASK: every key
  // is now on the importing node.
  for (int id = 1; id <= 20; ++id) {
    EXPECT_EQ(GetOn(to, key(id), /*asking=*/true, "name"), fmt::format("b{}", id)) << id;
    EXPECT_EQ(GetOn(from, key(id), /*asking=*/false, "name"), "(moved)") << id;
  }

  // The migration ends; everything reads back from the new owner, with its TTL.
  MigrateKeys(from, to, KeysInSlot(nodes_[static_cast<size_t>(from)], tag_slot_));
  FinishMigration(tag_slot_, to);
  for (int id = 1; id <= 20; ++id) {
    EXPECT_EQ(GetOn(to, key(id), false, "name"), fmt::format("b{}", id));
    ASSERT_OK_AND_ASSIGN(RedisReply ttl,
                         nodes_[static_cast<size_t>(to)].client->Command("TTL", key(id)));
    EXPECT_GT(ttl.integer, 500) << id;
  }
  ASSERT_OK_AND_ASSIGN(auto progress, sink->RecoverProgress(context));
  EXPECT_EQ(progress, (std::vector<SplitProgress>{{"s", "20", false}}));
}

TEST_F(RedisClusterTest, ExactlyOnceResumesFromTheLastCheckpointAndFencesTheOldRun) {
  RecordAndFail bad;
  std::string options = fmt::format("key: '{}u:{{id}}'\nvalue_column: name\n", prefix_);
  auto old_context = Context(&bad, 1);
  ASSERT_OK_AND_ASSIGN(auto old_sink, MakeSink(options));
  ASSERT_OK(old_sink->Claim(old_context));
  ASSERT_OK(old_sink->Open(old_context, streams_));
  ASSERT_OK_AND_ASSIGN(auto old_writer, old_sink->CreateWriter(0));
  ASSERT_OK(old_writer->Write(*Rows(0, 300, "v")));
  ASSERT_OK(old_writer->Commit({1, {{"s", "300", false}}}));
  // Checkpoint 2 fails between its rows and its progress: the rows are there, the progress not.
  ASSERT_OK(failpoint::Arm("redis.cluster.after_rows=fail@1"));
  ASSERT_OK(old_writer->Write(*Rows(300, 600, "v")));
  Status failed = old_writer->Commit({2, {{"s", "600", false}}});
  EXPECT_EQ(failed.code(), StatusCode::kUnavailable) << failed.ToString();
  EXPECT_EQ(Get(prefix_ + "u:599"), "v599");
  // Rows gathered but not flushed when a writer aborts are not written at all.
  ASSERT_OK(old_writer->Write(*Rows(5000, 5001, "late")));
  old_writer->Abort();
  EXPECT_EQ(Get(prefix_ + "u:5000"), "(nil)");

  // A fence key of an older slot map (a tag no node has now): the next Claim fences it too.
  std::string stale = FenceKey(JobName(), 1000);
  RedisClient& stale_node = *nodes_[static_cast<size_t>(OwnerOf(KeySlot(stale)))].client;
  ASSERT_OK(stale_node.Command("HSET", stale, "epoch", "1").status());

  // The next run resumes from checkpoint 1 and writes rows 300.. again, then more.
  auto context = Context(&bad, 2);
  ASSERT_OK_AND_ASSIGN(auto sink, MakeSink(options));
  ASSERT_OK(sink->Claim(context));
  ASSERT_OK_AND_ASSIGN(RedisReply stale_epoch, stale_node.Command("HGET", stale, "epoch"));
  EXPECT_EQ(stale_epoch.text, "2");
  ASSERT_OK_AND_ASSIGN(auto progress, sink->RecoverProgress(context));
  EXPECT_EQ(progress, (std::vector<SplitProgress>{{"s", "300", false}}));
  ASSERT_OK(sink->Open(context, streams_));
  ASSERT_OK_AND_ASSIGN(auto writer, sink->CreateWriter(0));
  ASSERT_OK(writer->Write(*Rows(300, 900, "v")));
  ASSERT_OK(writer->Commit({1, {{"s", "900", true}}}));

  // The old run's writers are fenced on every node.
  ASSERT_OK_AND_ASSIGN(auto zombie, old_sink->CreateWriter(1));
  ASSERT_OK(zombie->Write(*Rows(0, 30, "zombie")));
  Status fenced = zombie->Commit({3, {{"z", "30", false}}});
  EXPECT_EQ(fenced.code(), StatusCode::kConflict) << fenced.ToString();
  EXPECT_EQ(old_sink->Claim(old_context).code(), StatusCode::kConflict);

  size_t total = 0;
  for (int n = 0; n < 3; ++n)
    total += Scan(nodes_[static_cast<size_t>(n)], prefix_ + "u:*").size();
  EXPECT_EQ(total, 900u);
  for (int id : {0, 29, 299, 300, 599, 600, 899})
    EXPECT_EQ(Get(fmt::format("{}u:{}", prefix_, id)), fmt::format("v{}", id));
  ASSERT_OK_AND_ASSIGN(progress, sink->RecoverProgress(context));
  EXPECT_EQ(progress, (std::vector<SplitProgress>{{"s", "900", true}}));
}

TEST_F(RedisClusterTest, AKillBetweenRowsAndProgressLosesNothing) {
  RecordAndFail bad;
  std::string options = fmt::format("key: '{}u:{{id}}'\ndata_type: hash\n", prefix_);
  // A child process runs checkpoint 1, then dies by SIGKILL (as kill -9) after checkpoint 2's
  // rows are applied on their nodes, before its progress.
  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    auto context = Context(&bad, 1);
    auto sink = MakeSink(options);
    if (!sink.ok() || !(*sink)->Claim(context).ok() || !(*sink)->Open(context, streams_).ok())
      _exit(10);
    auto writer = (*sink)->CreateWriter(0);
    if (!writer.ok() || !(*writer)->Write(*Rows(0, 400, "v")).ok() ||
        !(*writer)->Commit({1, {{"s", "400", false}}}).ok()) {
      _exit(11);
    }
    if (!failpoint::Arm("redis.cluster.after_rows=crash@1").ok())
      _exit(12);
    (void)(*writer)->Write(*Rows(400, 800, "v"));
    (void)(*writer)->Commit({2, {{"s", "800", false}}});
    _exit(13);  // not reached: the failpoint kills the process
  }
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
      << "child exited " << (WIFEXITED(status) ? WEXITSTATUS(status) : -1);
  std::string last = prefix_ + "u:799";  // checkpoint 2's rows were applied before the kill
  ASSERT_OK_AND_ASSIGN(RedisReply applied,
                       nodes_[static_cast<size_t>(OwnerOf(KeySlot(last)))].client->Command(
                           "HGET", last, "name"));
  EXPECT_EQ(applied.text, "v799");

  // The next run resumes from checkpoint 1: rows 400.. are written again, and more.
  auto context = Context(&bad, 2);
  ASSERT_OK_AND_ASSIGN(auto sink, MakeSink(options));
  ASSERT_OK(sink->Claim(context));
  ASSERT_OK_AND_ASSIGN(auto progress, sink->RecoverProgress(context));
  EXPECT_EQ(progress, (std::vector<SplitProgress>{{"s", "400", false}}));
  ASSERT_OK(sink->Open(context, streams_));
  ASSERT_OK_AND_ASSIGN(auto writer, sink->CreateWriter(0));
  ASSERT_OK(writer->Write(*Rows(400, 1000, "v")));
  ASSERT_OK(writer->Commit({1, {{"s", "1000", true}}}));
  size_t total = 0;
  for (int n = 0; n < 3; ++n) {
    for (const std::string& key : Scan(nodes_[static_cast<size_t>(n)], prefix_ + "u:*")) {
      ++total;
      ASSERT_OK_AND_ASSIGN(RedisReply name,
                           nodes_[static_cast<size_t>(n)].client->Command("HGET", key, "name"));
      EXPECT_EQ("v" + key.substr(key.rfind(':') + 1), name.text) << key;
    }
  }
  EXPECT_EQ(total, 1000u);
}

TEST_F(RedisClusterTest, AWrongPasswordIsPermissionDeniedAndNeverPrinted) {
  RecordAndFail bad;
  auto context = Context(&bad, 1);
  ASSERT_OK_AND_ASSIGN(auto sink, MakeSink(fmt::format("key: '{}u:{{id}}'\n", prefix_),
                                           "wrong-cluster-secret-7"));
  Status opened = sink->Open(context, streams_);
  EXPECT_EQ(opened.code(), StatusCode::kPermissionDenied) << opened.ToString();
  EXPECT_NE(opened.message().find("password"), std::string::npos) << opened.ToString();
  EXPECT_EQ(opened.ToString().find("wrong-cluster-secret-7"), std::string::npos);
}

TEST_F(RedisClusterTest, ClusterModeMustMatchTheServer) {
  RecordAndFail bad;
  auto context = Context(&bad, 1);
  std::string yaml =
      fmt::format("host: {}\nport: {}\npassword: {}\ncluster: true\nkey: 'k:{{id}}'\n",
                  servers_.redis.host, servers_.redis.port, servers_.redis.password);
  ASSERT_OK_AND_ASSIGN(config::Node node, config::ParseYaml(yaml, "test.yaml"));
  config::ConnectorBlock block;
  block.type = "redis";
  block.options = std::move(node);
  ASSERT_OK_AND_ASSIGN(auto sink, registry_.CreateSink(block));
  Status opened = sink->Open(context, streams_);
  EXPECT_EQ(opened.code(), StatusCode::kInvalidConfig) << opened.ToString();
  // And the other way round: a cluster node written without 'cluster: true'.
  yaml = fmt::format("host: {}\nport: {}\npassword: {}\nkey: 'k:{{id}}'\n", servers_.redis.host,
                     nodes_[1].port, servers_.redis.password);
  ASSERT_OK_AND_ASSIGN(node, config::ParseYaml(yaml, "test.yaml"));
  block.options = std::move(node);
  ASSERT_OK_AND_ASSIGN(sink, registry_.CreateSink(block));
  opened = sink->Open(context, streams_);
  EXPECT_EQ(opened.code(), StatusCode::kInvalidConfig) << opened.ToString();
  EXPECT_NE(opened.message().find("cluster: true"), std::string::npos) << opened.ToString();
  // And a database other than 0 is refused before anything connects.
  auto with_db = MakeSink("key: 'k:{id}'\ndb: 2\n");
  EXPECT_EQ(with_db.status().code(), StatusCode::kInvalidConfig);
}

}  // namespace
}  // namespace sluice::connectors::redis
