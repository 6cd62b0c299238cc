#include "config/job_config.h"

#include <gtest/gtest.h>

#include "testing/gtest_util.h"
#include "testing/temp_dir.h"

namespace sluice::config {
namespace {

constexpr const char* kGoodJob = R"yaml(name: orders_to_sqlite
source: { type: file, path: "data/orders-*.csv.gz", format: csv, header: true }
transform:
  columns: { id: id, amount: "amount::decimal(12,2)", note: comment }
sink:   { type: sqlite, path: out/shop.db, table: orders, mode: append, create: true }
parallelism: 2
)yaml";

TEST(JobConfigTest, ReadsTheIssueExample) {
  ASSERT_OK_AND_ASSIGN(JobConfig job, LoadJobText(kGoodJob, "job.yaml", {}));
  EXPECT_EQ(job.name, "orders_to_sqlite");
  EXPECT_EQ(job.source.type, "file");
  EXPECT_EQ(job.sink.type, "sqlite");
  EXPECT_EQ(job.parallelism, 2);
  EXPECT_EQ(job.source.options.Find("type"), nullptr);
  EXPECT_EQ(job.sink.options.Find("table")->scalar(), "orders");
  ASSERT_TRUE(job.transform.has_value());
  ASSERT_EQ(job.transform->columns.size(), 3u);
  EXPECT_EQ(job.transform->columns[1].output, "amount");
  EXPECT_EQ(job.transform->columns[1].input, "amount");
  EXPECT_EQ(job.transform->columns[1].cast, DataType::Decimal(12, 2));
  EXPECT_EQ(job.transform->columns[2].input, "comment");
  EXPECT_FALSE(job.transform->columns[2].cast.has_value());
}

TEST(JobConfigTest, OverridesApplyBeforeValidation) {
  ASSERT_OK_AND_ASSIGN(JobConfig job,
                       LoadJobText(kGoodJob, "job.yaml", {"sink.table=x", "parallelism=3"}));
  EXPECT_EQ(job.sink.options.Find("table")->scalar(), "x");
  EXPECT_EQ(job.parallelism, 3);
}

TEST(JobConfigTest, ErrorsNameFileLineAndColumn) {
  struct Case {
    const char* yaml;
    const char* message;
  };
  for (const Case& c : std::initializer_list<Case>{
           {"name: j\nsource: {type: file}\nsink: {type: sqlite}\nparalelism: 2\n",
            "job.yaml:4:1: unknown key 'paralelism' in job (allowed: name, source, sink, "
            "transform, parallelism, batch_rows, delivery, checkpoint, state, errors, retry, "
            "verify, run_lease_secs, schedule)"},
           {"name: j\nsource: {path: x}\nsink: {type: sqlite}\n",
            "job.yaml:2:9: missing required key 'type' in source (run `sluice connectors` to "
            "list the types)"},
           {"name: j\nsink: {type: sqlite}\n",
            "job.yaml:1:1: missing required key 'source' in job (allowed: name, source, sink, "
            "transform, parallelism, batch_rows, delivery, checkpoint, state, errors, retry, "
            "verify, run_lease_secs, schedule)"},
           {"name: j\nsource: {type: file}\nsink: {type: sqlite}\nparallelism: many\n",
            "job.yaml:4:14: 'parallelism' in job must be an integer, got 'many'"},
           {"name: j\nsource: {type: file}\nsink: {type: sqlite}\nparallelism: 0\n",
            "job.yaml:4:14: 'parallelism' in job must be between 1 and 256, got 0"},
           {"name: j\nsource: {type: file}\nsink: {type: sqlite}\ntransform:\n  columns:\n"
            "    a: \"b::int128\"\n",
            "job.yaml:6:8: unknown type 'int128' (known: bool, int8, int16, int32, int64, uint8, "
            "uint16, uint32, uint64, float32, float64, decimal(p,s), string, bytes, date, time, "
            "timestamp, timestamp_tz, json)"},
           {"- just\n- a list\n",
            "job.yaml:1:1: a job file must be a map with name, source and sink, got a list"},
           {"name: j\nsource: [1]\nsink: {type: sqlite}\n",
            "job.yaml:2:9: 'source' in job must be a map, got a list"},
       }) {
    Result<JobConfig> bad = LoadJobText(c.yaml, "job.yaml", {});
    ASSERT_FALSE(bad.ok()) << c.yaml;
    EXPECT_EQ(bad.status().code(), StatusCode::kInvalidConfig);
    EXPECT_EQ(bad.status().message(), c.message);
  }
}

TEST(JobConfigTest, MissingJobFileIsAConfigError) {
  testing::TempDir dir;
  Result<JobConfig> bad = LoadJobFile(dir.Join("nope.yaml"), {});
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidConfig);
  EXPECT_EQ(bad.status().message(),
            "Cannot read job file '" + dir.Join("nope.yaml") + "': No such file or directory");
}

TEST(JobConfigTest, EmptyFileSaysWhatIsExpected) {
  Result<JobConfig> bad = LoadJobText("", "empty.yaml", {});
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message(),
            "empty.yaml: a job file must be a map with name, source and sink, got a null");
}

}  // namespace
}  // namespace sluice::config

namespace sluice::config {
namespace {

TEST(JobConfigTest, GuaranteeCheckpointErrorsAndRetrySections) {
  ASSERT_OK_AND_ASSIGN(
      JobConfig job,
      LoadJobText("name: j\nsource: {type: a}\nsink: {type: b, password: x}\n"
                  "delivery: at_least_once\ncheckpoint: {interval_secs: 2.5}\nstate: /tmp/s\n"
                  "errors: {mode: dead_letter, max_count: 10, max_ratio: 0.01, "
                  "dead_letter_path: bad.jsonl}\nretry: {max_attempts: 3}\nverify: true\n",
                  "j.yaml", {}));
  EXPECT_FALSE(job.exactly_once);
  EXPECT_EQ(job.checkpoint_interval_secs, 2.5);
  EXPECT_EQ(job.state_dir, "/tmp/s");
  EXPECT_EQ(job.errors.mode, ErrorPolicy::Mode::kDeadLetter);
  EXPECT_EQ(job.errors.max_count, 10u);
  EXPECT_EQ(job.errors.dead_letter_path, "bad.jsonl");
  EXPECT_EQ(job.retry.max_attempts, 3);
  EXPECT_TRUE(job.verify);

  // The fingerprint ignores passwords, parallelism and key order, and sees everything else.
  auto fingerprint = [](const std::string& text) {
    return LoadJobText(text, "f.yaml", {}).value().fingerprint;
  };
  std::string base =
      fingerprint("name: j\nsource: {type: a, x: 1}\nsink: {type: b, password: p}\n");
  EXPECT_EQ(base, fingerprint("name: j\nsink: {password: q, type: b}\nsource: {x: 1, type: a}\n"
                              "parallelism: 4\n"));
  EXPECT_NE(base, fingerprint("name: j\nsource: {type: a, x: 2}\nsink: {type: b}\n"));
  EXPECT_NE(base, fingerprint("name: j\nsource: {type: a, x: 1}\nsink: {type: b}\n"
                              "transform: {columns: [x]}\n"));

  Result<JobConfig> bad = LoadJobText(
      "name: j\nsource: {type: a}\nsink: {type: b}\nerrors: {mode: dead_letter}\n", "e.yaml", {});
  EXPECT_EQ(bad.status().message(),
            "e.yaml:4:16: errors mode dead_letter needs 'dead_letter_path'");
  bad = LoadJobText("name: j\nsource: {type: a}\nsink: {type: b}\nretry: {attempts: 3}\n", "r.yaml",
                    {});
  EXPECT_EQ(bad.status().message(),
            "r.yaml:4:9: unknown key 'attempts' in retry (allowed: max_attempts, "
            "initial_backoff_secs, max_backoff_secs)");
}

}  // namespace
}  // namespace sluice::config

namespace sluice::config {
namespace {

TEST(JobConfigTest, ConnectionsAreMergedUnderTheBlocksOwnKeys) {
  ConnectionResolver resolver = [](const std::string& name, const Node& reference) -> Result<Node> {
    if (name != "warehouse")
      return reference.Error("no connection named '" + name + "'");
    return ParseYaml("type: sqlite\npath: /data/w.db\ntable: default_table\n", "connection");
  };
  const std::string text =
      "name: j\nsource: {type: file, path: a.csv, format: csv}\n"
      "sink: {connection: warehouse, table: orders}\n"
      "schedule: {cron: '0 2 * * *', time_zone: Europe/Berlin, after: [load_a]}\n";
  ASSERT_OK_AND_ASSIGN(JobConfig job, LoadJobText(text, "j.yaml", {}, resolver));
  EXPECT_EQ(job.sink.type, "sqlite");
  EXPECT_EQ(job.sink.options.Find("path")->scalar(), "/data/w.db");
  EXPECT_EQ(job.sink.options.Find("table")->scalar(), "orders");
  EXPECT_EQ(job.connections, std::vector<std::string>{"warehouse"});
  ASSERT_TRUE(job.schedule.has_value());
  EXPECT_EQ(job.schedule->cron, "0 2 * * *");
  EXPECT_EQ(job.schedule->time_zone, "Europe/Berlin");
  EXPECT_EQ(job.schedule->after, std::vector<std::string>{"load_a"});

  Result<JobConfig> missing = LoadJobText(
      "name: j\nsource: {connection: nowhere}\nsink: {type: sqlite, path: x, table: t}\n",
      "j.yaml", {}, resolver);
  EXPECT_EQ(missing.status().message(), "j.yaml:2:22: no connection named 'nowhere'");
  // `sluice run` has no catalog of connections: it says so.
  Result<JobConfig> cli = LoadJobText(text, "j.yaml", {});
  EXPECT_NE(cli.status().message().find("names a connection of `sluice server`"),
            std::string::npos)
      << cli.status().message();
  Result<JobConfig> empty_schedule = LoadJobText(
      "name: j\nsource: {type: file, path: a, format: csv}\nsink: {type: sqlite, path: x, "
      "table: t}\nschedule: {time_zone: UTC}\n",
      "j.yaml", {});
  EXPECT_EQ(empty_schedule.status().message(),
            "j.yaml:4:11: a schedule needs 'cron', 'after' or both");
}

}  // namespace
}  // namespace sluice::config
