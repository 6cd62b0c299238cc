// The postgres source against the real server: splitting by the real key distribution, cuts of
// running splits, snapshot consistency, options, and every error a user can cause.
#include "connectors/postgres/postgres_source.h"

#include <fmt/core.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>
#include <set>
#include <thread>

#include "connectors/postgres/tests/postgres_test_util.h"
#include "connectors/sql/keyset.h"
#include "testing/gtest_util.h"

namespace sluice::connectors::postgres {
namespace {

using ::testing::HasSubstr;
using testing::MakeContext;
using testing::MakeSource;
using ::testing::Not;
using testing::ReadAll;
using testing::RecordingBadRecords;
using testing::Row;
using testing::Servers;
using testing::StreamRows;
using testing::TestDatabase;

// Lines of psql output as rows of one text cell each, for comparing key lists.
std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    out.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

std::vector<std::string> Column(const StreamRows& rows, size_t column) {
  std::vector<std::string> out;
  for (const Row& row : rows.rows)
    out.push_back(row[column].value_or("NULL"));
  return out;
}

// Rows per split id.
std::map<std::string, size_t> SplitSizes(const StreamRows& rows) {
  std::map<std::string, size_t> sizes;
  for (const std::string& id : rows.split_ids)
    ++sizes[id];
  return sizes;
}

struct Opened {
  std::unique_ptr<Source> source;
  std::unique_ptr<RecordingBadRecords> bad;
  std::unique_ptr<JobContext> context;
};

Opened OpenSource(const std::string& yaml, bool skip_bad = false, int parallelism = 2) {
  Opened opened;
  opened.bad = std::make_unique<RecordingBadRecords>(skip_bad);
  opened.context =
      std::make_unique<JobContext>(MakeContext(opened.bad.get(), nullptr, parallelism));
  Result<std::unique_ptr<Source>> source = MakeSource(yaml);
  EXPECT_TRUE(source.ok()) << source.status().ToString();
  if (!source.ok())
    return opened;
  opened.source = std::move(*source);
  Status status = opened.source->Open(*opened.context);
  EXPECT_TRUE(status.ok()) << status.ToString();
  if (!status.ok())
    opened.source.reset();
  return opened;
}

Status OpenError(const std::string& yaml) {
  RecordingBadRecords bad(false);
  JobContext context = MakeContext(&bad, nullptr);
  SLUICE_ASSIGN_OR_RETURN(std::unique_ptr<Source> source, MakeSource(yaml));
  return source->Open(context);
}

void ExpectEveryRowOnceAndBalanced(const TestDatabase& db, const std::string& table,
                                   const std::string& key_sql, const std::string& options,
                                   size_t split_rows, size_t key_columns) {
  SCOPED_TRACE(table);
  Opened opened = OpenSource(db.ConnectionYaml() + "table: " + table + "\n" + options);
  ASSERT_TRUE(opened.source);
  ASSERT_OK_AND_ASSIGN(std::vector<StreamRows> read, ReadAll(*opened.source, *opened.context));
  ASSERT_EQ(read.size(), 1u);
  std::vector<std::string> keys;
  for (const Row& row : read[0].rows) {
    std::string key;
    for (size_t c = 0; c < key_columns; ++c) {
      if (c > 0)
        key += "\t";
      key += row[c].value_or("NULL");
    }
    keys.push_back(key);
  }
  // Every row exactly once, in key order, as the server lists them.
  EXPECT_EQ(keys, Lines(db.Exec(key_sql)));
  std::map<std::string, size_t> sizes = SplitSizes(read[0]);
  ASSERT_GT(sizes.size(), 1u);
  size_t index = 0;
  for (const auto& [id, rows] : sizes) {
    ++index;
    EXPECT_LE(rows, 2 * split_rows) << id;
    if (index < sizes.size()) {
      EXPECT_GE(rows, split_rows / 2) << id;  // the last may be short
    }
  }
}

TEST(PostgresSourceTest, SplitsFollowTheRealKeyDistribution) {
  TestDatabase db("src_split");
  db.Exec(
      "CREATE TABLE uniform (id bigint PRIMARY KEY, v text);"
      "INSERT INTO uniform SELECT i, 'v' || i FROM generate_series(1, 20000) i;"
      // 90% of the keys packed into 0.002% of the range.
      "CREATE TABLE skewed (id bigint PRIMARY KEY, v text);"
      "INSERT INTO skewed SELECT 1000000 + i, 'x' FROM generate_series(1, 18000) i;"
      "INSERT INTO skewed SELECT i::bigint * 500000000, 'y' FROM generate_series(1, 2000) i;"
      "CREATE TABLE texts (k text PRIMARY KEY, v int);"
      "INSERT INTO texts SELECT (ARRAY['', 'Ä', '東京', '😀', 'O''Brien', 'zeta'])[1 + i % 6] "
      "|| i::text, i FROM generate_series(1, 12000) i;"
      "CREATE TABLE composite (a text NOT NULL, b int NOT NULL, v int, UNIQUE (a, b));"
      "INSERT INTO composite SELECT (ARRAY['x', 'y''z', '😀'])[1 + i % 3], i / 3, i "
      "FROM generate_series(1, 12000) i;"
      "CREATE TABLE uuids (id uuid PRIMARY KEY, v int);"
      "INSERT INTO uuids SELECT gen_random_uuid(), i FROM generate_series(1, 12000) i;"
      "ANALYZE");
  ExpectEveryRowOnceAndBalanced(db, "uniform", "SELECT id FROM uniform ORDER BY id",
                                "split_rows: 2000\npage_rows: 700\n", 2000, 1);
  ExpectEveryRowOnceAndBalanced(db, "skewed", "SELECT id FROM skewed ORDER BY id",
                                "split_rows: 2000\n", 2000, 1);
  ExpectEveryRowOnceAndBalanced(db, "texts", "SELECT k FROM texts ORDER BY k",
                                "split_rows: 1500\npage_rows: 400\n", 1500, 1);
  ExpectEveryRowOnceAndBalanced(db, "composite", "SELECT a, b FROM composite ORDER BY a, b",
                                "split_rows: 1500\npage_rows: 1000\n", 1500, 2);
  ExpectEveryRowOnceAndBalanced(db, "uuids", "SELECT id FROM uuids ORDER BY id",
                                "split_rows: 3000\n", 3000, 1);
}

TEST(PostgresSourceTest, StreamsSchemaAndEstimates) {
  TestDatabase db("src_schema");
  db.Exec(
      "CREATE SCHEMA shop; CREATE TABLE shop.orders (id int PRIMARY KEY, total numeric(10,2) "
      "NOT NULL, note varchar(40), tags text[]); INSERT INTO shop.orders SELECT i, i, 'n', "
      "'{a}' FROM generate_series(1, 500) i; ANALYZE shop.orders");
  Opened opened = OpenSource(db.ConnectionYaml() + "table: shop.orders\n");
  ASSERT_TRUE(opened.source);
  const StreamInfo& stream = opened.source->streams()[0];
  EXPECT_EQ(stream.name, "shop.orders");
  EXPECT_EQ(stream.schema->ToString(),
            "id int32 not null, total decimal(10,2) not null, note string(40), tags string, "
            "primary key (id)");
  EXPECT_EQ(stream.schema->field(1).native_type, "numeric(10,2)");
  EXPECT_EQ(stream.schema->field(2).native_type, "character varying(40)");
  EXPECT_EQ(stream.schema->field(3).native_type, "text[]");
  EXPECT_EQ(stream.estimated_rows, std::optional<uint64_t>(500));
}

TEST(PostgresSourceTest, WhereAndColumns) {
  TestDatabase db("src_where");
  db.Exec(
      "CREATE TABLE t (id int PRIMARY KEY, status text, amount int);"
      "INSERT INTO t SELECT i, CASE WHEN i % 3 = 0 THEN 'paid' ELSE 'open' END, i * 10 "
      "FROM generate_series(1, 5000) i");
  // The key is not among the columns: it is still used to page, but not returned.
  Opened opened = OpenSource(db.ConnectionYaml() +
                             "table: t\ncolumns: [amount, status]\nwhere: \"status = 'paid'\"\n"
                             "split_rows: 500\npage_rows: 300\n");
  ASSERT_TRUE(opened.source);
  EXPECT_EQ(opened.source->streams()[0].schema->ToString(), "amount int32, status string");
  ASSERT_OK_AND_ASSIGN(std::vector<StreamRows> read, ReadAll(*opened.source, *opened.context));
  EXPECT_EQ(Column(read[0], 0),
            Lines(db.Exec("SELECT amount FROM t WHERE status = 'paid' ORDER BY id")));
  EXPECT_GT(SplitSizes(read[0]).size(), 2u);

  Status unknown = OpenError(db.ConnectionYaml() + "table: t\ncolumns: [id, nope]\n");
  EXPECT_EQ(unknown.ToString(),
            "config error: test.yaml:7:10: unknown column 'nope' in table 'public.t' "
            "(columns: id, status, amount)");
}

TEST(PostgresSourceTest, TablesGlobs) {
  TestDatabase db("src_glob");
  db.Exec(
      "CREATE TABLE log_a (id int PRIMARY KEY); CREATE TABLE log_b (id int PRIMARY KEY);"
      "CREATE TABLE other (id int PRIMARY KEY); CREATE SCHEMA s;"
      "CREATE TABLE s.log_c (id int PRIMARY KEY); INSERT INTO log_b VALUES (1), (2);"
      "CREATE TABLE parted (id int PRIMARY KEY) PARTITION BY RANGE (id);"
      "CREATE TABLE parted_1 PARTITION OF parted FOR VALUES FROM (0) TO (10);"
      "INSERT INTO parted VALUES (1), (5);"
      // Sluice's own tables when the database is also a sink's target.
      "CREATE TABLE _sluice_progress (job text); CREATE TABLE _sluice_staging_other (id int)");
  auto names = [](const Source& source) {
    std::vector<std::string> out;
    for (const StreamInfo& stream : source.streams())
      out.push_back(stream.name);
    return out;
  };
  Opened logs = OpenSource(db.ConnectionYaml() + "tables: [\"log_*\"]\n");
  ASSERT_TRUE(logs.source);
  EXPECT_EQ(names(*logs.source), (std::vector<std::string>{"log_a", "log_b"}));
  ASSERT_OK_AND_ASSIGN(std::vector<StreamRows> read, ReadAll(*logs.source, *logs.context));
  EXPECT_EQ(read[0].rows.size(), 0u);
  EXPECT_EQ(read[1].rows.size(), 2u);
  Opened all = OpenSource(db.ConnectionYaml() + "tables: [\"*\", \"s.*\"]\n");
  ASSERT_TRUE(all.source);
  // Partitions are read through their parent; Sluice's progress and staging tables only when
  // a pattern names them.
  EXPECT_EQ(names(*all.source),
            (std::vector<std::string>{"log_a", "log_b", "other", "parted", "s.log_c"}));
  Opened own = OpenSource(db.ConnectionYaml() + "tables: [\"_sluice_*\"]\n");
  ASSERT_TRUE(own.source);
  EXPECT_EQ(names(*own.source),
            (std::vector<std::string>{"_sluice_progress", "_sluice_staging_other"}));
  Status none = OpenError(db.ConnectionYaml() + "tables: [\"nothing_*\"]\n");
  EXPECT_EQ(none.ToString(),
            fmt::format("not found: postgres {}:{}: no table of schema 'public' matches "
                        "'nothing_*'",
                        Servers().postgres.host, Servers().postgres.port));
}

TEST(PostgresSourceTest, KeylessTableIsOneSplit) {
  TestDatabase db("src_keyless");
  db.Exec(
      "CREATE TABLE heap (a int, b text); INSERT INTO heap SELECT i % 7, 'x' FROM "
      "generate_series(1, 3000) i");
  Opened opened = OpenSource(db.ConnectionYaml() + "table: heap\nsplit_rows: 100\n");
  ASSERT_TRUE(opened.source);
  ASSERT_OK_AND_ASSIGN(std::vector<StreamRows> read, ReadAll(*opened.source, *opened.context));
  EXPECT_EQ(read[0].rows.size(), 3000u);
  EXPECT_EQ(SplitSizes(read[0]).size(), 1u);
  CheckReport report;
  opened.source->Describe(&report);
  EXPECT_THAT(
      report.notes,
      ::testing::Contains(HasSubstr("table public.heap: no key, read as one split by one reader")));
}

// Rows arrive in a split after it was planned (per_split consistency sees them): the reader
// cuts its remainder at a page boundary when asked, and every row is read exactly once.
TEST(PostgresSourceTest, SplitFarBiggerThanPlannedIsCutWhileRunning) {
  TestDatabase db("src_cut");
  db.Exec(
      "CREATE TABLE t (id bigint PRIMARY KEY, v text);"
      "INSERT INTO t SELECT i * 1000, 'v' FROM generate_series(1, 4000) i");
  Opened opened = OpenSource(db.ConnectionYaml() +
                             "table: t\nsplit_rows: 1000\npage_rows: 500\nconsistency: "
                             "per_split\n");
  ASSERT_TRUE(opened.source);
  std::vector<Split> offered;
  opened.context->offer_split = [&](const std::string&, Split split) {
    offered.push_back(std::move(split));
  };
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<SplitEnumerator> enumerator,
                       opened.source->CreateEnumerator());
  ASSERT_OK_AND_ASSIGN(std::optional<Split> first, enumerator->Next());
  ASSERT_TRUE(first);
  // 1000 planned rows (keys 1000 .. 1000000); 60000 more land inside the range.
  db.Exec(
      "INSERT INTO t SELECT i, 'late' FROM generate_series(1, 1000000) i WHERE i % 1000 <> 0 "
      "AND i % 16 = 0");
  size_t expected = std::stoul(db.Exec("SELECT count(*) FROM t WHERE id < 1001000"));
  ASSERT_GT(expected, 60000u);
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<SplitReader> reader,
                       opened.source->CreateReader(*first, ""));
  std::set<std::string> seen;
  size_t duplicates = 0;
  auto drain = [&](SplitReader& r) -> Status {
    Batch batch(opened.source->streams()[0].schema, 1000);
    while (true) {
      batch.Clear();
      SLUICE_ASSIGN_OR_RETURN(bool more, r.ReadBatch(&batch));
      if (!more)
        return Status::OK();
      for (size_t row = 0; row < batch.num_rows(); ++row) {
        if (!seen.insert(*sluice::testing::RowFromBatch(batch, row)[0]).second)
          ++duplicates;
      }
      if (offered.empty())
        (void)r.SplitRemainder();  // an idle reader asks for work
    }
  };
  ASSERT_OK(drain(*reader));
  size_t owner_rows = seen.size();
  ASSERT_EQ(offered.size(), 1u);
  EXPECT_EQ(offered[0].id, first->id + ".1");
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<SplitReader> cut,
                       opened.source->CreateReader(offered[0], ""));
  ASSERT_OK(drain(*cut));
  EXPECT_EQ(duplicates, 0u);
  EXPECT_EQ(seen.size(), expected);
  EXPECT_LT(owner_rows, expected * 3 / 4);
}

TEST(PostgresSourceTest, ResumedSplitCutAgainGetsAnUnusedId) {
  // A resumed run reopens a split that an earlier run had cut already. Cutting it again must not
  // reuse the first child's id: that id's rows, position and committed progress belong to
  // another range, and the runtime records splits by id.
  TestDatabase db("src_recut");
  db.Exec(
      "CREATE TABLE t (id bigint PRIMARY KEY, v text);"
      "INSERT INTO t SELECT i, 'v' FROM generate_series(1, 100000) i");
  const std::string yaml = db.ConnectionYaml() + "table: t\nsplit_rows: 200000\npage_rows: 1000\n";
  // Reads a batch, asks for a cut, reads on until the reader made it; returns the cut.
  auto cut_once = [](Source& source, SplitReader& reader, std::vector<Split>* offered) {
    const size_t before = offered->size();
    Batch batch(source.streams()[0].schema, 1000);
    for (int i = 0; i < 10 && offered->size() == before; ++i) {
      batch.Clear();
      EXPECT_TRUE(reader.ReadBatch(&batch).ok());
      if (i == 0) {
        EXPECT_FALSE(reader.SplitRemainder().has_value());  // cut at the next page
      }
    }
    EXPECT_EQ(offered->size(), before + 1);
  };
  std::vector<Split> offered;
  std::vector<Split> planned;
  std::string position;
  {
    Opened first_run = OpenSource(yaml);
    ASSERT_TRUE(first_run.source);
    first_run.context->offer_split = [&](const std::string&, Split split) {
      offered.push_back(std::move(split));
    };
    ASSERT_OK_AND_ASSIGN(std::unique_ptr<SplitEnumerator> enumerator,
                         first_run.source->CreateEnumerator());
    ASSERT_OK_AND_ASSIGN(std::optional<Split> chunk, enumerator->Next());
    ASSERT_TRUE(chunk);
    ASSERT_OK_AND_ASSIGN(std::unique_ptr<SplitReader> reader,
                         first_run.source->CreateReader(*chunk, ""));
    cut_once(*first_run.source, *reader, &offered);
    ASSERT_EQ(offered.size(), 1u);
    EXPECT_EQ(offered[0].id, chunk->id + ".1");
    Split shrunk = *chunk;
    shrunk.payload = reader->Payload();
    position = reader->Position();
    planned = {shrunk, offered[0]};
  }
  Opened resumed = OpenSource(yaml);
  ASSERT_TRUE(resumed.source);
  resumed.context->offer_split = [&](const std::string&, Split split) {
    offered.push_back(std::move(split));
  };
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<SplitEnumerator> rest,
                       resumed.source->ResumeEnumerator(planned));
  ASSERT_OK_AND_ASSIGN(std::optional<Split> nothing, rest->Next());
  // The first run's chunk was the whole table: nothing is left to plan (not even its last row,
  // where the reader closed the open-ended chunk).
  EXPECT_FALSE(nothing.has_value()) << nothing->id << " " << nothing->payload;
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<SplitReader> reader,
                       resumed.source->CreateReader(planned[0], position));
  cut_once(*resumed.source, *reader, &offered);
  ASSERT_EQ(offered.size(), 2u);
  EXPECT_EQ(offered[1].id, planned[0].id + ".2");
}

TEST(PostgresSourceTest, SnapshotHidesLaterChangesFromEveryReader) {
  TestDatabase db("src_snap");
  db.Exec(
      "CREATE TABLE t (id int PRIMARY KEY, v int);"
      "INSERT INTO t SELECT i, 0 FROM generate_series(1, 20000) i");
  std::string before = db.Exec("SELECT id, v FROM t ORDER BY id");
  Opened opened = OpenSource(db.ConnectionYaml() + "table: t\nsplit_rows: 2500\n");
  ASSERT_TRUE(opened.source);
  auto* source = static_cast<PostgresSource*>(opened.source.get());
  EXPECT_EQ(source->consistency(), Consistency::kSnapshot);
  EXPECT_THAT(source->snapshot_lsn(), ::testing::MatchesRegex("[0-9A-F]+/[0-9A-F]+"));
  CheckReport report;
  source->Describe(&report);
  EXPECT_THAT(report.notes, ::testing::Contains(HasSubstr("WAL LSN " + source->snapshot_lsn())));
  // Another connection changes everything after Open, before any split is planned or read.
  db.Exec(
      "UPDATE t SET v = 1; DELETE FROM t WHERE id % 10 = 0; "
      "INSERT INTO t SELECT i, 2 FROM generate_series(20001, 30000) i");
  ASSERT_OK_AND_ASSIGN(std::vector<StreamRows> read, ReadAll(*source, *opened.context));
  std::string got;
  for (const Row& row : read[0].rows)
    got += fmt::format("{}\t{}\n", *row[0], *row[1]);
  EXPECT_EQ(got, before);
  EXPECT_GE(SplitSizes(read[0]).size(), 8u);
}

TEST(PostgresSourceTest, SnapshotExportRefusedFallsBackToPerSplit) {
  TestDatabase db("src_fallback");
  db.Exec(
      "CREATE TABLE t (id int PRIMARY KEY); INSERT INTO t VALUES (1), (2);"
      "GRANT SELECT ON t TO limited;"
      "REVOKE EXECUTE ON FUNCTION pg_export_snapshot() FROM PUBLIC");
  Opened opened = OpenSource(db.ConnectionYaml("limited") + "table: t\n");
  ASSERT_TRUE(opened.source);
  auto* source = static_cast<PostgresSource*>(opened.source.get());
  EXPECT_EQ(source->consistency(), Consistency::kPerSplit);
  EXPECT_EQ(source->snapshot_lsn(), "");
  CheckReport report;
  source->Describe(&report);
  EXPECT_THAT(report.notes,
              ::testing::Contains(HasSubstr("permission denied for function pg_export_snapshot")));
  ASSERT_OK_AND_ASSIGN(std::vector<StreamRows> read, ReadAll(*source, *opened.context));
  EXPECT_EQ(read[0].rows.size(), 2u);
}

TEST(PostgresSourceTest, ConnectionAndPermissionErrors) {
  TestDatabase db("src_errors");
  db.Exec(
      "CREATE TABLE secret (id int PRIMARY KEY); CREATE TABLE open (id int PRIMARY KEY);"
      "GRANT SELECT ON open TO limited");
  const auto& pg = Servers().postgres;
  const std::string endpoint = fmt::format("postgres {}:{}", pg.host, pg.port);
  auto yaml = [&](const std::string& host, int port, const std::string& user,
                  const std::string& password, const std::string& database,
                  const std::string& table) {
    return fmt::format(
        "host: {}\nport: {}\nuser: {}\npassword: \"{}\"\ndatabase: {}\n"
        "table: {}\nconnect_timeout_secs: 5\n",
        host, port, user, password, database, table);
  };
  struct Case {
    std::string yaml;
    std::string expected;
  };
  const std::string wrong_password = "not-the-password-42";
  std::vector<Case> cases = {
      {yaml(pg.host, pg.port, pg.user, wrong_password, db.name(), "open"),
       fmt::format("permission denied: {}: password authentication failed for user '{}'", endpoint,
                   pg.user)},
      {yaml("no-such-host.invalid", 5432, pg.user, pg.password, db.name(), "open"),
       "not found: postgres no-such-host.invalid:5432: unknown host"},
      {yaml(pg.host, 1, pg.user, pg.password, db.name(), "open"),
       fmt::format("unavailable: postgres {}:1: connection refused", pg.host)},
      {yaml(pg.host, pg.port, pg.user, pg.password, "no_such_database", "open"),
       fmt::format("not found: {}: database 'no_such_database' does not exist", endpoint)},
      {yaml(pg.host, pg.port, pg.user, pg.password, db.name(), "missing"),
       fmt::format("not found: {}: table 'public.missing' does not exist", endpoint)},
      {yaml(pg.host, pg.port, "limited", pg.password, db.name(), "secret"),
       fmt::format("permission denied: {}: permission denied for table public.secret (user "
                   "'limited' needs SELECT)",
                   endpoint)},
  };
  for (const Case& c : cases) {
    Status status = OpenError(c.yaml);
    EXPECT_EQ(status.ToString(), c.expected);
    EXPECT_THAT(status.ToString(), Not(HasSubstr(pg.password)));
    EXPECT_THAT(status.ToString(), Not(HasSubstr(wrong_password)));
  }
  // A `where` the server rejects is the job file's fault, found at Open before anything is read.
  Status bad_where = OpenError(db.ConnectionYaml() + "table: open\nwhere: \"nope > 1\"\n");
  EXPECT_EQ(bad_where.code(), StatusCode::kInvalidConfig) << bad_where.ToString();
  EXPECT_THAT(bad_where.message(),
              HasSubstr(fmt::format("cannot read table 'public.open' with where 'nope > 1': {}: "
                                    "reading public.open: column 'nope' does not exist",
                                    endpoint)));
}

TEST(PostgresSourceTest, BackendTerminatedMidReadIsUnavailable) {
  TestDatabase db("src_kill");
  db.Exec(
      "CREATE TABLE big (id int PRIMARY KEY, pad text);"
      "INSERT INTO big SELECT i, repeat('p', 200) FROM generate_series(1, 300000) i");
  Opened opened = OpenSource(db.ConnectionYaml() +
                             "table: big\nsplit_rows: 1000000\n"
                             "page_rows: 1000000\n");
  ASSERT_TRUE(opened.source);
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<SplitEnumerator> enumerator,
                       opened.source->CreateEnumerator());
  ASSERT_OK_AND_ASSIGN(std::optional<Split> split, enumerator->Next());
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<SplitReader> reader,
                       opened.source->CreateReader(*split, ""));
  Batch batch(opened.source->streams()[0].schema, 1000);
  ASSERT_OK_AND_ASSIGN(bool more, reader->ReadBatch(&batch));
  ASSERT_TRUE(more);
  db.Exec(
      fmt::format("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = "
                  "'{}' AND query LIKE 'COPY%'",
                  db.name()));
  Status status;
  for (int i = 0; i < 1000 && status.ok(); ++i) {
    batch.Clear();
    Result<bool> next = reader->ReadBatch(&batch);
    status = next.status();
    if (status.ok() && !*next)
      break;
  }
  const auto& pg = Servers().postgres;
  // Whether the server's goodbye arrives before the socket closes depends on how full the
  // socket buffers are; both endings are transient and say what happened.
  const std::string prefix =
      fmt::format("unavailable: postgres {}:{}: reading 'public.big': ", pg.host, pg.port);
  EXPECT_THAT(status.ToString(),
              ::testing::AnyOf(prefix + "server ended the session: terminating connection due to "
                                        "administrator command",
                               prefix + "connection lost: server closed the connection "
                                        "unexpectedly"));
  EXPECT_TRUE(status.IsTransient());
}

TEST(PostgresSourceTest, InvalidUtf8InSqlAsciiDatabaseIsABadRecord) {
  TestDatabase db("src_ascii",
                  "ENCODING 'SQL_ASCII' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0");
  db.Exec(
      "CREATE TABLE t (id int PRIMARY KEY, name text);"
      "INSERT INTO t VALUES (1, 'ok'), (2, E'bad\\xff\\xfe'), (3, 'caf\xc3\xa9')");
  {
    Opened opened = OpenSource(db.ConnectionYaml() + "table: t\n", /*skip_bad=*/true);
    ASSERT_TRUE(opened.source);
    ASSERT_OK_AND_ASSIGN(std::vector<StreamRows> read, ReadAll(*opened.source, *opened.context));
    EXPECT_EQ(Column(read[0], 1), (std::vector<std::string>{"ok", "caf\xc3\xa9"}));
    std::vector<BadRecord> bad = opened.bad->records();
    ASSERT_EQ(bad.size(), 1u);
    EXPECT_EQ(bad[0].stream, "t");
    EXPECT_EQ(bad[0].location, "public.t key=(2)");
    EXPECT_EQ(bad[0].raw, "\\x626164fffe");
    EXPECT_EQ(bad[0].reason.ToString(),
              "data error: public.t key=(2): column 'name': invalid UTF-8 at byte 3 (byte value "
              "0xff)");
  }
  Opened failing = OpenSource(db.ConnectionYaml() + "table: t\n", /*skip_bad=*/false);
  ASSERT_TRUE(failing.source);
  EXPECT_EQ(ReadAll(*failing.source, *failing.context).status().ToString(),
            "data error: public.t key=(2): column 'name': invalid UTF-8 at byte 3 (byte value "
            "0xff)");
}

TEST(PostgresSourceTest, NaNInConstrainedNumericIsABadRecord) {
  TestDatabase db("src_nan");
  db.Exec(
      "CREATE TABLE t (id int PRIMARY KEY, price numeric(5,2));"
      "INSERT INTO t VALUES (1, 1.5), (2, 'NaN'), (3, -999.99)");
  Opened opened = OpenSource(db.ConnectionYaml() + "table: t\n", /*skip_bad=*/true);
  ASSERT_TRUE(opened.source);
  ASSERT_OK_AND_ASSIGN(std::vector<StreamRows> read, ReadAll(*opened.source, *opened.context));
  EXPECT_EQ(Column(read[0], 1), (std::vector<std::string>{"1.50", "-999.99"}));
  ASSERT_EQ(opened.bad->records().size(), 1u);
  EXPECT_EQ(opened.bad->records()[0].reason.message(),
            "public.t key=(2): column 'price': NaN does not fit decimal(5,2)");
}

// Issue 10: pagila's language.name character(20) 'English' arrived in MySQL 20 characters long:
// the binary form keeps character(n)'s padding, which PostgreSQL itself ignores (`::text`,
// comparisons). A character(n) key reads and splits as its text too.
TEST(PostgresSourceTest, Issue10CharacterColumnsArriveAsTheirTextWithoutPadding) {
  TestDatabase db("src_bpchar");
  db.Exec(
      "CREATE TABLE t (code character(4) PRIMARY KEY, name character(20), note varchar(10));"
      "INSERT INTO t VALUES ('a', 'English', 'kept  '), (' b', '  lead', NULL), ('c  ', '', ''),"
      "  ('d', NULL, 'x');"
      "INSERT INTO t SELECT 'k' || g, 'n' || g, 'v' FROM generate_series(100, 400) g");
  Opened opened = OpenSource(db.ConnectionYaml() + "table: t\nsplit_rows: 50\n");
  ASSERT_TRUE(opened.source);
  EXPECT_EQ(opened.source->streams()[0].schema->ToString(),
            "code string(4) not null, name string(20), note string(10), primary key (code)");
  ASSERT_OK_AND_ASSIGN(std::vector<StreamRows> read, ReadAll(*opened.source, *opened.context));
  ASSERT_EQ(read[0].rows.size(), 305u);
  EXPECT_EQ(read[0].rows[0], (Row{" b", "  lead", std::nullopt}));
  EXPECT_EQ(read[0].rows[1], (Row{"a", "English", "kept  "}));
  EXPECT_EQ(read[0].rows[2], (Row{"c", "", ""}));
  EXPECT_EQ(read[0].rows[3], (Row{"d", std::nullopt, "x"}));
  // Every value is PostgreSQL's own text of it.
  std::vector<std::string> texts;
  for (const Row& row : read[0].rows)
    texts.push_back(row[0].value_or("NULL") + "|" + row[1].value_or("NULL"));
  EXPECT_EQ(texts, Lines(db.Exec("SELECT code::text || '|' || coalesce(name::text, 'NULL') FROM "
                                 "t ORDER BY code")));
}

TEST(PostgresSourceTest, CancelStopsABlockedRead) {
  TestDatabase db("src_cancel");
  db.Exec("CREATE TABLE t (id int PRIMARY KEY)");
  std::atomic<bool> cancelled{false};
  RecordingBadRecords bad(false);
  JobContext context = MakeContext(&bad, &cancelled);
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Source> source,
                       MakeSource(db.ConnectionYaml() + "table: t\nconsistency: per_split\n"));
  ASSERT_OK(source->Open(context));
  // A view whose rows take long to produce stands in for a slow scan.
  db.Exec("CREATE VIEW slow AS SELECT 1 AS id FROM pg_sleep(30)");
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Source> slow,
                       MakeSource(db.ConnectionYaml() + "table: slow\nconsistency: per_split\n"));
  ASSERT_OK(slow->Open(context));
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<SplitEnumerator> enumerator, slow->CreateEnumerator());
  ASSERT_OK_AND_ASSIGN(std::optional<Split> split, enumerator->Next());
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<SplitReader> reader, slow->CreateReader(*split, ""));
  std::thread canceller([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    cancelled.store(true);
    reader->Cancel();
  });
  auto start = std::chrono::steady_clock::now();
  Batch batch(slow->streams()[0].schema, 100);
  Result<bool> result = reader->ReadBatch(&batch);
  canceller.join();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(10));
  EXPECT_EQ(result.status().code(), StatusCode::kCancelled) << result.status().ToString();
}

}  // namespace
}  // namespace sluice::connectors::postgres
