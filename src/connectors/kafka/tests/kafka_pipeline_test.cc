// Kafka between real systems, exactly-once under SIGKILL (testing/crash_loop.h): MySQL -> Kafka,
// Kafka -> PostgreSQL and Kafka -> files, and an unbounded job stopped and resumed (the broker's
// crash mid-job is tests/fault/cases/kafka_broker_crash: it restarts a shared server). The
// Kafka sources use stop_at: end and parallelism >= partitions: until the runtime serves several
// splits per reader, an unbounded source with more partitions than readers is not read fully.
#include <fmt/core.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <regex>
#include <thread>

#include "config/job_config.h"
#include "connectors/kafka/tests/kafka_test_util.h"
#include "connectors/registry.h"
#include "runtime/job_runner.h"
#include "testing/crash_loop.h"
#include "testing/gtest_util.h"
#include "testing/stop_at_batch.h"
#include "testing/temp_dir.h"

namespace sluice::connectors::kafka {
namespace {

using sluice::testing::TestServers;
using testing::Produce;
using testing::TestMessage;
using testing::UniqueTopic;

class KafkaPipelineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Result<TestServers> servers = TestServers::FromEnvironment();
    ASSERT_TRUE(servers.ok()) << servers.status().ToString();
    servers_ = *servers;
    RegisterBuiltinConnectors(registry_);
  }

  std::string NewTopic(const std::string& prefix, int partitions) {
    std::string topic = UniqueTopic(prefix);
    Status created = sluice::testing::KafkaCreateTopic(servers_, topic, partitions);
    EXPECT_TRUE(created.ok()) << created.ToString();
    return topic;
  }

  std::string Kafka() const { return "brokers: '" + servers_.kafka.bootstrap + "'"; }

  config::JobConfig Job(const std::string& name, const std::string& source,
                        const std::string& sink, const std::string& state, int parallelism) {
    std::string text = fmt::format(
        "name: {}\nsource: {{{}}}\nsink: {{{}}}\nparallelism: {}\nbatch_rows: 50\n"
        "state: '{}'\ncheckpoint: {{interval_secs: 0}}\n",
        name, source, sink, parallelism, state);
    Result<config::JobConfig> job = config::LoadJobText(text, "test.yaml", {});
    EXPECT_TRUE(job.ok()) << job.status().ToString();
    return job.ok() ? *job : config::JobConfig{};
  }

  // `rows` JSON messages {"id": i, "name": ...} spread over `partitions` partitions.
  void ProduceRows(const std::string& topic, int rows, int partitions) {
    std::vector<TestMessage> messages;
    for (int i = 0; i < rows; ++i) {
      TestMessage message;
      message.value = i % 7 == 0 ? fmt::format(R"({{"id":{},"name":null}})", i)
                                 : fmt::format(R"({{"id":{},"name":"Ωμέγα 😀 {}"}})", i, i);
      message.key = std::to_string(i);
      message.partition = i % partitions;
      messages.push_back(std::move(message));
    }
    ASSERT_OK(Produce(servers_, topic, messages));
  }

  // Runs `job` through a crash loop with `points` added, checking after each kill, then to the
  // end; the resumed run must report a resume.
  void CrashThenFinish(const config::JobConfig& job, std::vector<std::string> points,
                       const std::function<void(const std::string&)>& after_kill, int kills) {
    std::random_device seed_source;
    const unsigned seed = seed_source();
    SCOPED_TRACE(fmt::format("seed {}", seed));
    sluice::testing::CrashLoopOptions options;
    options.kills = kills;
    options.seed = seed;
    options.connector_points = std::move(points);
    options.after_kill = after_kill;
    sluice::testing::CrashLoopResult crashes = sluice::testing::RunCrashLoop(
        [&] {
          // A child's log is off: say why it failed, which the parent reports as "exit 1".
          Status status = runtime::JobRunner(job, registry_).Run(nullptr).status;
          if (!status.ok())
            fmt::print(stderr, "the killed job's run failed: {}\n", status.ToString());
          return status.ok() ? 0 : 1;
        },
        options);
    ASSERT_EQ(crashes.kills, kills) << "a child finished the job before its crash point";
    runtime::JobSummary summary = runtime::JobRunner(job, registry_).Run(nullptr);
    ASSERT_OK(summary.status);
    EXPECT_TRUE(summary.resumed);
  }

  TestServers servers_;
  ConnectorRegistry registry_;
};

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos)
      end = text.size();
    out.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

TEST_F(KafkaPipelineTest, KafkaToPostgresExactlyOnceThroughKills) {
  constexpr int kRows = 6000;
  std::string topic = NewTopic("to_pg", 2);
  ProduceRows(topic, kRows, 2);
  std::string database = UniqueTopic("kafka_pg");
  ASSERT_OK(sluice::testing::PsqlExec(servers_, "postgres", "CREATE DATABASE " + database).status());
  const auto& pg = servers_.postgres;
  std::string sink = fmt::format(
      "type: postgres, host: {}, port: {}, user: {}, password: '{}', database: {}, table: events",
      pg.host, pg.port, pg.user, pg.password, database);
  sluice::testing::TempDir state;
  config::JobConfig job =
      Job(UniqueTopic("kafka_pg"),
          fmt::format("type: kafka, {}, topic: {}, stop_at: end, start_from: earliest, columns: "
                      "{{id: int64, name: string}}",
                      Kafka(), topic),
          sink, state.path(), 2);
  auto duplicates = [&] {
    Result<std::string> out = sluice::testing::PsqlExec(
        servers_, database,
        "SELECT CASE WHEN to_regclass('events') IS NULL THEN 0 ELSE "
        "(SELECT count(*) - count(DISTINCT id) FROM events) END");
    EXPECT_TRUE(out.ok()) << out.status().ToString();
    return out.ok() ? *out : "?";
  };
  CrashThenFinish(job, {"kafka.source.message=crash@120", "postgres.commit.after_rows=crash@2"},
                  [&](const std::string& plan) {
                    SCOPED_TRACE(plan);
                    EXPECT_EQ(duplicates(), "0\n");
                  },
                  8);
  ASSERT_OK_AND_ASSIGN(std::string counts,
                       sluice::testing::PsqlExec(servers_, database,
                                                 "SELECT count(*), count(DISTINCT id), "
                                                 "count(name), min(id), max(id) FROM events"));
  EXPECT_EQ(counts, fmt::format("{}\t{}\t{}\t0\t{}\n", kRows, kRows, kRows - (kRows + 6) / 7,
                                kRows - 1));
  ASSERT_OK_AND_ASSIGN(std::string one, sluice::testing::PsqlExec(
                                            servers_, database,
                                            "SELECT name FROM events WHERE id = 5"));
  EXPECT_EQ(one, "Ωμέγα 😀 5\n");
}

TEST_F(KafkaPipelineTest, KafkaToFilesExactlyOnceThroughKills) {
  constexpr int kRows = 6000;
  std::string topic = NewTopic("to_files", 2);
  ProduceRows(topic, kRows, 2);
  sluice::testing::TempDir state, out;
  config::JobConfig job =
      Job(UniqueTopic("kafka_files"),
          fmt::format("type: kafka, {}, topic: {}, stop_at: end, start_from: earliest, format: "
                      "raw, metadata_columns: [partition, offset]",
                      Kafka(), topic),
          fmt::format("type: file, path: '{}/{{stream}}.jsonl'", out.path()), state.path(), 2);
  CrashThenFinish(job, {"kafka.source.message=crash@150", "file.commit.before_manifest=crash@2"},
                  nullptr, 8);
  // Every message once: the files hold each (partition, offset) exactly once.
  std::map<std::string, int> seen;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(out.path())) {
    std::string name = entry.path().filename().string();
    if (!entry.is_regular_file() || name.front() == '.' || !name.ends_with(".jsonl"))
      continue;
    std::ifstream file(entry.path());
    std::string text((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
    for (const std::string& line : Lines(text)) {
      size_t at = line.find("\"partition\"");
      ASSERT_NE(at, std::string::npos) << line;
      ++seen[line.substr(at)];
    }
  }
  EXPECT_EQ(seen.size(), static_cast<size_t>(kRows));
  for (const auto& [where, times] : seen)
    EXPECT_EQ(times, 1) << where;
}

TEST_F(KafkaPipelineTest, MysqlToKafkaExactlyOnceThroughKills) {
  constexpr int kRows = 6000;
  std::string database = UniqueTopic("mysql_kafka");
  ASSERT_OK(sluice::testing::MysqlExec(
                servers_, "",
                fmt::format("CREATE DATABASE {0}; CREATE TABLE {0}.orders (id BIGINT PRIMARY KEY, "
                            "name VARCHAR(100) CHARACTER SET utf8mb4, amount DECIMAL(12,2)); "
                            "SET SESSION max_recursive_iterations = 100000; "
                            "INSERT INTO {0}.orders WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL "
                            "SELECT i + 1 FROM n WHERE i < {1}) SELECT i, IF(i % 9 = 0, NULL, "
                            "CONCAT('名前 😀 ', i)), i / 100 FROM n",
                            database, kRows - 1))
                .status());
  std::string topic = NewTopic("from_mysql", 3);
  const auto& my = servers_.mysql;
  sluice::testing::TempDir state;
  std::string job_name = UniqueTopic("mysql_kafka");
  config::JobConfig job = Job(
      job_name,
      fmt::format("type: mysql, host: {}, port: {}, user: {}, password: '{}', database: {}, "
                  "table: orders, split_rows: 500, page_rows: 100",
                  my.host, my.port, my.user, my.password, database),
      fmt::format("type: kafka, {}, topic: {}, key_columns: [id], progress_topic: {}_progress",
                  Kafka(), topic, topic),
      state.path(), 2);
  auto committed = [&] {
    std::map<std::string, int> seen;
    Result<std::string> consumed =
        sluice::testing::KafkaConsume(servers_, topic, kRows + 100, "%k\n");
    EXPECT_TRUE(consumed.ok()) << consumed.status().ToString();
    for (const std::string& key : Lines(consumed.ok() ? *consumed : ""))
      ++seen[key];
    return seen;
  };
  CrashThenFinish(job, {"kafka.sink.before_commit=crash@2", "kafka.sink.after_commit=crash@2",
                        "kafka.sink.write=crash@5"},
                  [&](const std::string& plan) {
                    SCOPED_TRACE(plan);
                    for (const auto& [key, times] : committed())
                      ASSERT_EQ(times, 1) << "key " << key << " seen twice";
                  },
                  8);
  ASSERT_OK(testing::WaitForCommittedMessages(servers_, topic, kRows));
  std::map<std::string, int> seen = committed();
  EXPECT_EQ(seen.size(), static_cast<size_t>(kRows));
  for (const auto& [key, times] : seen)
    EXPECT_EQ(times, 1) << key;
  Result<std::string> sample = sluice::testing::KafkaConsume(servers_, topic, kRows, "%k %s\n");
  ASSERT_OK(sample.status());
  EXPECT_THAT(*sample, ::testing::HasSubstr(R"(5 {"id":5,"name":"名前 😀 5","amount":"0.05"})"));
  EXPECT_THAT(*sample, ::testing::HasSubstr(R"(9 {"id":9,"name":null,"amount":"0.09"})"));
}

// An unbounded source through the runtime: the job reads until it is stopped (as SIGINT stops
// it) at a batch, then a resumed run continues where the first stopped, new messages included,
// and the sink holds every message once. Parallelism equals the partitions (see the top).
TEST_F(KafkaPipelineTest, AnUnboundedJobStopsAndResumesWhereItStopped) {
  constexpr int kRows = 2000;
  std::string topic = NewTopic("unbounded", 2);
  ProduceRows(topic, kRows, 2);
  std::string database = UniqueTopic("kafka_stream");
  ASSERT_OK(sluice::testing::PsqlExec(servers_, "postgres", "CREATE DATABASE " + database).status());
  const auto& pg = servers_.postgres;
  sluice::testing::TempDir state;
  config::JobConfig job = Job(
      UniqueTopic("stream"),
      fmt::format("type: kafka, {}, topic: {}, start_from: earliest, columns: {{id: int64, name: "
                  "string}}",
                  Kafka(), topic),
      fmt::format("type: postgres, host: {}, port: {}, user: {}, password: '{}', database: {}, "
                  "table: events",
                  pg.host, pg.port, pg.user, pg.password, database),
      state.path(), 2);
  job.checkpoint_interval_secs = 0.1;
  auto count = [&] {
    Result<std::string> out = sluice::testing::PsqlExec(
        servers_, database, "SELECT count(*) || ' ' || count(DISTINCT id) FROM events");
    return out.ok() ? *out : out.status().ToString();
  };
  {
    // Stopped mid-stream, as SIGINT stops it: a final checkpoint, then interrupted.
    sluice::testing::StopAtBatch stop(20);
    runtime::JobSummary first = runtime::JobRunner(job, registry_).Run(nullptr);
    EXPECT_EQ(first.status.code(), StatusCode::kCancelled) << first.status.ToString();
    EXPECT_TRUE(first.interrupted);
  }
  std::string after_first = count();
  EXPECT_NE(after_first, fmt::format("{} {}\n", kRows, kRows)) << "the first run read everything";
  ProduceRows(topic, kRows, 2);  // the same ids again: 2000 more messages
  // The resumed run streams on until every message is committed (the test waits for that, with
  // a deadline), then it is stopped.
  std::atomic<bool> stop{false};
  runtime::JobSummary second;
  std::thread run([&] { second = runtime::JobRunner(job, registry_).Run(&stop); });
  std::string expected = fmt::format("{} {}\n", 2 * kRows, kRows);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  while (count() != expected && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  stop.store(true);
  run.join();
  EXPECT_TRUE(second.resumed);
  EXPECT_TRUE(second.interrupted);
  // Every message once: 4000 rows, each id twice.
  EXPECT_EQ(count(), fmt::format("{} {}\n", 2 * kRows, kRows)) << "after the first run: "
                                                                 << after_first;
}

// Debezium change events applied to PostgreSQL by key (mode: apply): the table ends with each
// key's last state; deletes remove rows. One reader (parallelism 1) until the runtime routes a
// changelog's rows to writers by key.
TEST_F(KafkaPipelineTest, DebeziumEventsAppliedToPostgres) {
  std::string topic = NewTopic("debezium", 1);
  std::vector<TestMessage> events;
  auto event = [&](const std::string& op, const std::string& before, const std::string& after) {
    TestMessage message;
    message.value = fmt::format(R"({{"before":{},"after":{},"op":"{}","ts_ms":1}})", before,
                                after, op);
    events.push_back(message);
  };
  for (int id = 1; id <= 50; ++id)
    event("c", "null", fmt::format(R"({{"id":{},"name":"v1 😀 {}"}})", id, id));
  for (int id = 1; id <= 50; id += 2) {
    event("u", fmt::format(R"({{"id":{},"name":"v1 😀 {}"}})", id, id),
          fmt::format(R"({{"id":{},"name":"v2 𝄞 {}"}})", id, id));
  }
  for (int id = 1; id <= 50; id += 5)
    event("d", fmt::format(R"({{"id":{},"name":null}})", id), "null");
  events.push_back(TestMessage{});  // the tombstone after a delete
  ASSERT_OK(Produce(servers_, topic, events));
  std::string database = UniqueTopic("kafka_apply");
  ASSERT_OK(sluice::testing::PsqlExec(servers_, "postgres", "CREATE DATABASE " + database).status());
  ASSERT_OK(sluice::testing::PsqlExec(servers_, database,
                                      "CREATE TABLE people (id bigint PRIMARY KEY, name text)")
                .status());
  const auto& pg = servers_.postgres;
  sluice::testing::TempDir state;
  config::JobConfig job = Job(
      UniqueTopic("apply"),
      fmt::format("type: kafka, {}, topic: {}, stop_at: end, start_from: earliest, format: "
                  "debezium_json, primary_key: [id], columns: {{id: int64, name: string}}",
                  Kafka(), topic),
      fmt::format("type: postgres, host: {}, port: {}, user: {}, password: '{}', database: {}, "
                  "table: people, mode: apply",
                  pg.host, pg.port, pg.user, pg.password, database),
      state.path(), 1);
  runtime::JobSummary summary = runtime::JobRunner(job, registry_).Run(nullptr);
  ASSERT_OK(summary.status);
  std::string expected;
  for (int id = 1; id <= 50; ++id) {
    if (id % 5 == 1)
      continue;  // deleted
    expected += fmt::format("{}\t{} {}\n", id, id % 2 == 1 ? "v2 𝄞" : "v1 😀", id);
  }
  ASSERT_OK_AND_ASSIGN(std::string table, sluice::testing::PsqlExec(
                                              servers_, database,
                                              "SELECT id, name FROM people ORDER BY id"));
  EXPECT_EQ(table, expected);
}

// A datagen changelog (inserts, updates, key-changing updates, deletes, deletes of missing keys)
// through Kafka as Debezium events, written with delivery exactly_once through kills, read back
// and applied to PostgreSQL, ends as the same changelog applied directly. An uninterrupted run
// sends a tombstone after every delete; the killed run loses no event (see below for repeats).
TEST_F(KafkaPipelineTest, ADatagenChangelogThroughDebeziumEventsEndsAsAppliedDirectly) {
  std::string datagen =
      "type: datagen, changelog: true, rows: 6000, keys: 480, split_rows: 500, seed: 5, "
      "null_fraction: 0.15, stream: changes, columns: {id: int64, name: string, amount: "
      "'decimal(12,2)', at: timestamp}";
  std::string database = UniqueTopic("debezium_apply");
  ASSERT_OK(sluice::testing::PsqlExec(servers_, "postgres", "CREATE DATABASE " + database).status());
  for (const char* table : {"direct", "via_kafka"}) {
    ASSERT_OK(sluice::testing::PsqlExec(
                  servers_, database,
                  fmt::format("CREATE TABLE {} (id bigint PRIMARY KEY, name text, amount "
                              "numeric(12,2), at timestamp)",
                              table))
                  .status());
  }
  const auto& pg = servers_.postgres;
  auto postgres = [&](const std::string& table) {
    return fmt::format("type: postgres, host: {}, port: {}, user: {}, password: '{}', "
                       "database: {}, table: {}, mode: apply",
                       pg.host, pg.port, pg.user, pg.password, database, table);
  };
  auto kafka_sink = [&](const std::string& topic) {
    return fmt::format("type: kafka, {}, topic: {}, format: debezium_json, progress_topic: "
                       "{}_progress",
                       Kafka(), topic, topic);
  };
  sluice::testing::TempDir direct_state;
  ASSERT_OK(runtime::JobRunner(Job(UniqueTopic("direct"), datagen, postgres("direct"),
                                   direct_state.path(), 2),
                               registry_)
                .Run(nullptr)
                .status);

  // The events without their time and job: an uninterrupted run's, against the killed one's.
  auto events = [&](const std::string& topic) {
    std::map<std::string, int> seen;
    Result<std::string> consumed = sluice::testing::KafkaConsume(servers_, topic, 100000,
                                                                 "%k|%s\n");
    EXPECT_TRUE(consumed.ok()) << consumed.status().ToString();
    std::regex time(R"("ts_ms":[0-9]+,"source":\{[^}]*\})");
    for (const std::string& line : Lines(consumed.ok() ? *consumed : ""))
      ++seen[std::regex_replace(line, time, "")];
    return seen;
  };
  // At-least-once without failures sends every event once, and without transactions whose
  // markers could lag behind the job's end, so every event is readable at once.
  std::string clean_topic = NewTopic("debezium_clean", 2);
  sluice::testing::TempDir clean_state;
  config::JobConfig clean_job =
      Job(UniqueTopic("clean"), datagen, kafka_sink(clean_topic), clean_state.path(), 2);
  clean_job.exactly_once = false;
  ASSERT_OK(runtime::JobRunner(clean_job, registry_).Run(nullptr).status);
  std::map<std::string, int> expected = events(clean_topic);
  size_t messages = 0;
  int deletes = 0;
  int tombstones = 0;
  for (const auto& [event, times] : expected) {
    messages += static_cast<size_t>(times);
    deletes += event.find(R"("op":"d")") != std::string::npos ? times : 0;
    tombstones += event.ends_with("|") ? times : 0;  // a null value
  }
  EXPECT_GT(deletes, 100);
  // A key deleted twice (a delete of a missing key) has one tombstone line per delete.
  EXPECT_EQ(tombstones, deletes);

  std::string topic = NewTopic("debezium_killed", 2);
  sluice::testing::TempDir state;
  config::JobConfig job =
      Job(UniqueTopic("debezium_eo"), datagen, kafka_sink(topic), state.path(), 2);
  // Debezium events go through one transactional producer, whose committed progress is exact:
  // after every kill a read_committed consumer sees no event foreign or repeated, and in the end
  // every event exactly as often as the uninterrupted run sent it.
  CrashThenFinish(job, {"kafka.sink.before_commit=crash@2", "kafka.sink.after_commit=crash@2",
                        "kafka.sink.write=crash@4"},
                  [&](const std::string& plan) {
                    SCOPED_TRACE(plan);
                    for (const auto& [event, times] : events(topic)) {
                      ASSERT_TRUE(expected.contains(event)) << "not an event of the changelog: "
                                                            << event;
                      ASSERT_LE(times, expected[event]) << "sent twice: " << event;
                    }
                  },
                  4);
  ASSERT_OK(testing::WaitForCommittedMessages(servers_, topic, messages));
  EXPECT_EQ(events(topic), expected);

  sluice::testing::TempDir read_state;
  ASSERT_OK(runtime::JobRunner(
                Job(UniqueTopic("debezium_read"),
                    fmt::format("type: kafka, {}, topic: {}, stop_at: end, start_from: earliest, "
                                "format: debezium_json, primary_key: [id], columns: {{id: int64, "
                                "name: string, amount: 'decimal(12,2)', at: timestamp}}",
                                Kafka(), topic),
                    postgres("via_kafka"), read_state.path(), 2),
                registry_)
                .Run(nullptr)
                .status);
  ASSERT_OK_AND_ASSIGN(std::string direct,
                       sluice::testing::PsqlExec(servers_, database,
                                                 "SELECT * FROM direct ORDER BY id"));
  ASSERT_OK_AND_ASSIGN(std::string via_kafka,
                       sluice::testing::PsqlExec(servers_, database,
                                                 "SELECT * FROM via_kafka ORDER BY id"));
  EXPECT_GT(std::count(direct.begin(), direct.end(), '\n'), 50);
  EXPECT_EQ(via_kafka, direct);
}

}  // namespace
}  // namespace sluice::connectors::kafka
