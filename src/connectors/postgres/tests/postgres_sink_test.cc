// The postgres sink against the real server: tables created through the type mapping, the three
// modes, atomic overwrite, and bad values through the bad-record policy.
#include "connectors/postgres/postgres_sink.h"

#include <fmt/core.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "connectors/postgres/tests/postgres_test_util.h"
#include "testing/gtest_util.h"

namespace sluice::connectors::postgres {
namespace {

using testing::MakeContext;
using testing::MakeSink;
using testing::RecordingBadRecords;
using testing::Row;
using testing::TestDatabase;
using testing::WriteAll;

StreamInfo Stream(const std::string& name, std::vector<Field> fields,
                  std::vector<int> primary_key = {}) {
  return StreamInfo{name, std::make_shared<Schema>(std::move(fields), std::move(primary_key)),
                    std::nullopt};
}

std::unique_ptr<Batch> MakeBatch(const StreamInfo& stream, const std::vector<Row>& rows,
                                 int index = 0) {
  auto batch = std::make_unique<Batch>(stream.schema, std::max<size_t>(rows.size(), 1));
  batch->set_stream(index);
  for (const Row& row : rows)
    sluice::testing::AppendRow(row, batch.get());
  return batch;
}

Status Write(const TestDatabase& db, const std::string& options, const StreamInfo& stream,
             const std::vector<Row>& rows, BadRecordHandler* bad = nullptr) {
  RecordingBadRecords fail(false);
  JobContext context = MakeContext(bad != nullptr ? bad : &fail, nullptr);
  SLUICE_ASSIGN_OR_RETURN(std::unique_ptr<Sink> sink, MakeSink(db.ConnectionYaml() + options));
  std::unique_ptr<Batch> batch = MakeBatch(stream, rows);
  return WriteAll(*sink, context, {stream}, {batch.get()});
}

constexpr const char* kColumnTypes =
    "SELECT attname || ' ' || format_type(atttypid, atttypmod) || CASE WHEN attnotnull THEN ' "
    "not null' ELSE '' END FROM pg_attribute WHERE attrelid = '{}'::regclass AND attnum > 0 AND "
    "NOT attisdropped ORDER BY attnum";

TEST(PostgresSinkTest, AppendCreatesTheTableThroughTheTypeMapping) {
  TestDatabase db("sink_create");
  StreamInfo stream =
      Stream("mapped", {{"id", DataType::Int64(), false},  {"flag", DataType::Bool()},
                        {"small", DataType::Int8()},       {"u16", DataType::UInt16()},
                        {"u32", DataType::UInt32()},       {"u64", DataType::UInt64()},
                        {"f32", DataType::Float32()},      {"f64", DataType::Float64()},
                        {"dec", DataType::Decimal(12, 2)}, {"wide", DataType::Decimal(50, 10)},
                        {"anyd", DataType::Decimal(0, 0)}, {"name", DataType::String(20)},
                        {"body", DataType::String()},      {"blob", DataType::Bytes()},
                        {"day", DataType::Date()},         {"dur", DataType::Time()},
                        {"at", DataType::Timestamp()},     {"atz", DataType::TimestampTz()},
                        {"doc", DataType::Json()},         {"tinytime", DataType::Timestamp(3)}},
             {0});
  std::vector<Row> rows = {
      {"1",
       "true",
       "-128",
       "65535",
       "4294967295",
       "18446744073709551615",
       "-0",
       "0.1",
       "-9999999999.99",
       "1234567890123456789012345678901234567890.0123456789",
       "-0.000000000000000000001",
       "ünïcødé",
       "x",
       "\\x00ff10",
       "0044-03-15 BC",
       "-838:59:59",
       "1969-12-31 23:59:59.999999",
       "2024-02-29 12:00:00+05:30",
       "{\"a\": [1, 2]}",
       "2024-01-01 00:00:00.123"},
      {"2",           "false",     "127",       "0",    "0",
       "0",           "NaN",       "-Infinity", "0.00", "0.0000000000",
       "NaN",         "",          "",          "\\x",  "infinity",
       "100:00:00.5", "-infinity", "infinity",  "[]",   "2024-01-01 00:00:00"},
      {"3",          std::nullopt, std::nullopt, std::nullopt, std::nullopt,
       std::nullopt, std::nullopt, std::nullopt, std::nullopt, std::nullopt,
       std::nullopt, std::nullopt, std::nullopt, std::nullopt, std::nullopt,
       std::nullopt, std::nullopt, std::nullopt, std::nullopt, std::nullopt},
  };
  ASSERT_OK(Write(db, "", stream, rows));
  EXPECT_EQ(db.Exec(fmt::format(kColumnTypes, "mapped")),
            "id bigint not null\nflag boolean\nsmall smallint\nu16 integer\nu32 bigint\n"
            "u64 numeric(20,0)\nf32 real\nf64 double precision\ndec numeric(12,2)\n"
            "wide numeric(50,10)\nanyd numeric\nname character varying(20)\nbody text\n"
            "blob bytea\nday date\ndur interval\nat timestamp without time zone\n"
            "atz timestamp with time zone\ndoc json\ntinytime timestamp(3) without time zone\n");
  EXPECT_EQ(db.Exec("SELECT * FROM mapped ORDER BY id"),
            "1\tt\t-128\t65535\t4294967295\t18446744073709551615\t-0\t0.1\t-9999999999.99\t"
            "1234567890123456789012345678901234567890.0123456789\t-0.000000000000000000001\t"
            "ünïcødé\tx\t\\x00ff10\t0044-03-15 BC\t-838:59:59\t1969-12-31 23:59:59.999999\t"
            "2024-02-29 06:30:00+00\t{\"a\": [1, 2]}\t2024-01-01 00:00:00.123\n"
            "2\tf\t127\t0\t0\t0\tNaN\t-Infinity\t0.00\t0.0000000000\tNaN\t\t\t\\x\tinfinity\t"
            "100:00:00.5\t-infinity\tinfinity\t[]\t2024-01-01 00:00:00\n"
            "3\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\n");
  EXPECT_EQ(db.Exec("SELECT conname FROM pg_constraint WHERE conrelid = 'mapped'::regclass"),
            "mapped_pkey\n");
}

TEST(PostgresSinkTest, TableNamesWithSchemaAndStreamPlaceholder) {
  TestDatabase db("sink_names");
  StreamInfo stream = Stream("orders", {{"id", DataType::Int32(), false}}, {0});
  ASSERT_OK(Write(db, "table: \"archive.{stream}_copy\"\n", stream, {{"1"}, {"2"}}));
  EXPECT_EQ(db.Exec("SELECT count(*) FROM archive.orders_copy"), "2\n");
}

TEST(PostgresSinkTest, UpsertInsertsAndUpdatesByKeyLastRowWins) {
  TestDatabase db("sink_upsert");
  StreamInfo stream = Stream("kv",
                             {{"k", DataType::String(), false},
                              {"n", DataType::Int32(), false},
                              {"v", DataType::String()}},
                             {0, 1});
  ASSERT_OK(Write(db, "mode: upsert\n", stream, {{"a", "1", "one"}, {"b", "1", "two"}}));
  ASSERT_OK(Write(db, "mode: upsert\ncommit_rows: 2\n", stream,
                  {{"b", "1", "TWO"},
                   {"c", "1", "three"},
                   {"c", "1", "THREE"},
                   {"a", "2", "x"},
                   {"d", "1", std::nullopt}}));
  EXPECT_EQ(db.Exec("SELECT * FROM kv ORDER BY k, n"),
            "a\t1\tone\na\t2\tx\nb\t1\tTWO\nc\t1\tTHREE\nd\t1\t\n");
}

TEST(PostgresSinkTest, UpsertWithoutKeyIsAConfigError) {
  TestDatabase db("sink_upsert_nokey");
  StreamInfo stream = Stream("nokey", {{"v", DataType::String()}});
  Status status = Write(db, "mode: upsert\n", stream, {{"x"}});
  EXPECT_EQ(status.ToString(),
            "config error: test.yaml:6:7: mode upsert needs a primary key (or a unique index on "
            "NOT NULL columns) on table 'public.nokey' whose columns the stream carries");
}

TEST(PostgresSinkTest, OverwriteSwapsAtomicallyAndKeepsNamesAndSequences) {
  TestDatabase db("sink_overwrite");
  db.Exec(
      "CREATE TABLE items (id serial PRIMARY KEY, name text UNIQUE, note text);"
      "CREATE INDEX idx_items_lower ON items (lower(name));"
      "INSERT INTO items (name) VALUES ('old1'), ('old2'), ('old3')");
  const char* indexes = "SELECT indexname FROM pg_indexes WHERE tablename = 'items' ORDER BY 1";
  std::string indexes_before = db.Exec(indexes);
  StreamInfo stream =
      Stream("items", {{"id", DataType::Int32(), false}, {"name", DataType::String()}}, {0});
  RecordingBadRecords bad(false);
  JobContext context = MakeContext(&bad, nullptr);
  {
    // Loaded and committed but not finished: readers still see the old table; Abort keeps it,
    // and the staging table for a resumed run.
    ASSERT_OK_AND_ASSIGN(std::unique_ptr<Sink> sink,
                         MakeSink(db.ConnectionYaml() + "mode: overwrite\n"));
    ASSERT_OK(sink->Open(context, {stream}));
    ASSERT_OK_AND_ASSIGN(std::unique_ptr<SinkWriter> writer, sink->CreateWriter(0));
    std::unique_ptr<Batch> batch = MakeBatch(stream, {{"10", "new"}});
    ASSERT_OK(writer->Write(*batch));
    ASSERT_OK(writer->Prepare());
    ASSERT_OK(writer->Commit({}));
    EXPECT_EQ(db.Exec("SELECT name FROM items ORDER BY id"), "old1\nold2\nold3\n");
    writer.reset();
    sink->Abort();
    EXPECT_EQ(db.Exec("SELECT name FROM items ORDER BY id"), "old1\nold2\nold3\n");
    EXPECT_EQ(db.Exec("SELECT count(*) FROM _sluice_staging_items"), "1\n");
  }
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Sink> sink,
                       MakeSink(db.ConnectionYaml() + "mode: overwrite\n"));
  std::unique_ptr<Batch> batch = MakeBatch(stream, {{"10", "x"}, {"11", "y"}});
  ASSERT_OK(WriteAll(*sink, context, {stream}, {batch.get()}));
  EXPECT_EQ(db.Exec("SELECT id, name, note FROM items ORDER BY id"), "10\tx\t\n11\ty\t\n");
  EXPECT_EQ(db.Exec(indexes), indexes_before);
  // The serial's sequence survived the old table and still feeds the default.
  db.Exec("INSERT INTO items (name) VALUES ('after')");
  EXPECT_EQ(db.Exec("SELECT id FROM items WHERE name = 'after'"), "4\n");
  EXPECT_EQ(db.Exec("SELECT count(*) FROM pg_class WHERE relname LIKE '_sluice_staging%'"), "0\n");
}

TEST(PostgresSinkTest, OverwriteOfAMissingTableCreatesIt) {
  TestDatabase db("sink_overwrite_new");
  StreamInfo stream = Stream("fresh", {{"id", DataType::Int32(), false}}, {0});
  ASSERT_OK(Write(db, "mode: overwrite\n", stream, {{"1"}}));
  EXPECT_EQ(db.Exec("SELECT count(*) FROM fresh"), "1\n");
  EXPECT_EQ(db.Exec("SELECT indexname FROM pg_indexes WHERE tablename = 'fresh'"), "fresh_pkey\n");
}

TEST(PostgresSinkTest, NulByteInTextIsABadRecord) {
  TestDatabase db("sink_nul");
  StreamInfo stream =
      Stream("nul", {{"id", DataType::Int32(), false}, {"name", DataType::String()}}, {0});
  std::vector<Row> rows = {{"1", "ok"}, {"2", std::string("a\0b", 3)}, {"3", "fine"}};
  const std::string reason =
      "data error: public.nul id=2: column 'name': PostgreSQL text cannot contain NUL (0x00) "
      "bytes";
  RecordingBadRecords skip(true);
  ASSERT_OK(Write(db, "", stream, rows, &skip));
  EXPECT_EQ(db.Exec("SELECT id, name FROM nul ORDER BY id"), "1\tok\n3\tfine\n");
  ASSERT_EQ(skip.records().size(), 1u);
  EXPECT_EQ(skip.records()[0].location, "public.nul id=2");
  EXPECT_EQ(skip.records()[0].reason.ToString(), reason);
  EXPECT_EQ(Write(db, "table: nul2\n", stream, rows).ToString(),
            "data error: public.nul2 id=2: column 'name': PostgreSQL text cannot contain NUL "
            "(0x00) bytes");
  EXPECT_EQ(db.Exec("SELECT count(*) FROM nul2"), "0\n");  // the failed writer rolled back
}

TEST(PostgresSinkTest, ValuesBeyondTheTargetTypeAreBadRecords) {
  TestDatabase db("sink_range");
  db.Exec("CREATE TABLE t (id int PRIMARY KEY, d time, s smallint)");
  StreamInfo stream = Stream(
      "t", {{"id", DataType::Int32(), false}, {"d", DataType::Time()}, {"s", DataType::Int64()}},
      {0});
  RecordingBadRecords skip(true);
  ASSERT_OK(Write(db, "", stream,
                  {{"1", "-01:00:00", "1"}, {"2", "24:00:00", "2"}, {"3", "01:00:00", "40000"}},
                  &skip));
  EXPECT_EQ(db.Exec("SELECT * FROM t ORDER BY id"), "2\t24:00:00\t2\n");
  ASSERT_EQ(skip.records().size(), 2u);
  EXPECT_EQ(skip.records()[0].reason.message(),
            "public.t id=1: column 'd': -01:00:00 is out of range for PostgreSQL time (00:00:00 "
            ".. 24:00:00; an interval column holds durations)");
  EXPECT_EQ(skip.records()[1].reason.message(),
            "public.t id=3: column 's': 40000 is out of range for PostgreSQL smallint");
}

// Issue 10: MySQL's TINYINT(1) (int8) into an existing boolean column was refused ("boolean,
// which cannot hold the stream's int8 values"). 0 and 1 are written as false and true; any other
// value is a data error naming table, key and column.
TEST(PostgresSinkTest, Issue10IntegersGoIntoExistingBooleanColumnsAsZeroAndOne) {
  TestDatabase db("sink_bool");
  db.Exec("CREATE TABLE t (id int PRIMARY KEY, flag boolean, bit boolean)");
  StreamInfo stream = Stream("t",
                             {{"id", DataType::Int32(), false},
                              {"flag", DataType::Int8(), true, "tinyint(1)"},
                              {"bit", DataType::UInt64(), true, "bit(1)"}},
                             {0});
  RecordingBadRecords skip(true);
  ASSERT_OK(Write(db, "table: t\n", stream,
                  {{"1", "1", "0"},
                   {"2", "0", "1"},
                   {"3", std::nullopt, std::nullopt},
                   {"4", "2", "1"},
                   {"5", "-1", "0"}},
                  &skip));
  EXPECT_EQ(db.Exec("SELECT * FROM t ORDER BY id"), "1\tt\tf\n2\tf\tt\n3\t\t\n");
  ASSERT_EQ(skip.records().size(), 2u);
  EXPECT_EQ(skip.records()[0].reason.message(),
            "public.t id=4: column 'flag': 2 is out of range for PostgreSQL boolean (0 or 1)");
  EXPECT_EQ(skip.records()[1].reason.message(),
            "public.t id=5: column 'flag': -1 is out of range for PostgreSQL boolean (0 or 1)");
}

// Issue 10: numeric(10,3) 1.005 into an existing numeric(5,2) column became 1.01 (PostgreSQL
// rounds on input) and `check` said nothing; so did fractional seconds into timestamp(0).
TEST(PostgresSinkTest, Issue10NarrowerColumnsAreWarnedAndTheirRoundedValuesRefused) {
  TestDatabase db("sink_narrow");
  db.Exec("CREATE TABLE t (id int PRIMARY KEY, v numeric(5,2), at timestamp(0))");
  StreamInfo stream = Stream("t",
                             {{"id", DataType::Int32(), false},
                              {"v", DataType::Decimal(10, 3)},
                              {"at", DataType::Timestamp(6)}},
                             {0});
  RecordingBadRecords bad(false);
  JobContext context = MakeContext(&bad, nullptr);
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Sink> sink,
                       MakeSink(db.ConnectionYaml() + "table: t\n"));
  CheckReport report;
  ASSERT_OK(sink->Check(context, {stream}, &report));
  EXPECT_THAT(report.notes,
              ::testing::IsSupersetOf(
                  {"table public.t column 'v' (numeric(5,2)): decimal(10,3) values with digits "
                   "beyond the scale of numeric(5,2) would be rounded by PostgreSQL: they are "
                   "refused as data errors",
                   "table public.t column 'at' (timestamp(0) without time zone): timestamp "
                   "values with more than 0 fractional-second digits would be rounded by "
                   "PostgreSQL: they are refused as data errors"}));
  RecordingBadRecords skip(true);
  ASSERT_OK(Write(db, "table: t\n", stream,
                  {{"1", "1.005", "2024-01-01 10:00:00"},
                   {"2", "1.010", "2024-01-01 10:00:00.7"},
                   {"3", "-0.125", "2024-01-01 10:00:00"},
                   {"4", "999.990", "2024-01-01 10:00:01"},
                   {"5", "1000.000", "2024-01-01 10:00:02"}},
                  &skip));
  EXPECT_EQ(db.Exec("SELECT * FROM t ORDER BY id"), "4\t999.99\t2024-01-01 10:00:01\n");
  std::vector<std::string> reasons;
  for (const BadRecord& record : skip.records())
    reasons.push_back(record.reason.message());
  EXPECT_THAT(reasons,
              ::testing::ElementsAre(
                  "public.t id=1: column 'v': '1.005' would be rounded to fit decimal(5,2)",
                  "public.t id=2: column 'at': '2024-01-01 10:00:00.7' would be rounded to 0 "
                  "fractional-second digits",
                  "public.t id=3: column 'v': '-0.125' would be rounded to fit decimal(5,2)",
                  "public.t id=5: column 'v': '1000.000' does not fit decimal(5,2)"));
}

TEST(PostgresSinkTest, ExistingTableMustFitTheStream) {
  TestDatabase db("sink_fit");
  db.Exec("CREATE TABLE t (id int PRIMARY KEY, at date)");
  Status wrong_type = Write(
      db, "table: t\n",
      Stream("s", {{"id", DataType::Int32(), false}, {"at", DataType::Float64()}}), {{"1", "2"}});
  EXPECT_EQ(wrong_type.ToString(),
            "config error: test.yaml:6:8: column 'at' of table 'public.t' is date, which cannot "
            "hold the stream's float64 values");
  Status missing = Write(
      db, "table: t\n",
      Stream("s", {{"id", DataType::Int32(), false}, {"extra", DataType::String()}}), {{"1", "x"}});
  EXPECT_EQ(missing.ToString(),
            "config error: test.yaml:6:8: table 'public.t' has no column 'extra' (table columns: "
            "id, at; stream columns: id, extra)");
  Status no_create = Write(db, "table: nope\ncreate: false\n",
                           Stream("s", {{"id", DataType::Int32(), false}}), {{"1"}});
  EXPECT_EQ(no_create.code(), StatusCode::kNotFound);
  EXPECT_THAT(no_create.message(),
              ::testing::EndsWith("table 'public.nope' does not exist (and 'create' is false)"));
}

TEST(PostgresSinkTest, StringsIntoTypesWithoutBinaryEncoderAreCastByTheServer) {
  TestDatabase db("sink_cast");
  db.Exec(
      "CREATE TABLE t (id int PRIMARY KEY, span interval, addr inet, tags text[], "
      "u uuid, doc jsonb)");
  StreamInfo stream = Stream("t",
                             {{"id", DataType::Int32(), false},
                              {"span", DataType::String()},
                              {"addr", DataType::String()},
                              {"tags", DataType::String()},
                              {"u", DataType::String()},
                              {"doc", DataType::String()}},
                             {0});
  ASSERT_OK(Write(db, "table: t\n", stream,
                  {{"1", "1 day 02:00:00", "10.0.0.1/8", "{a,\"b c\"}",
                    "A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11", "{\"b\": 1, \"a\": 2}"}}));
  EXPECT_EQ(db.Exec("SELECT * FROM t"),
            "1\t1 day 02:00:00\t10.0.0.1/8\t{a,\"b c\"}\ta0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11\t"
            "{\"a\": 2, \"b\": 1}\n");
}

TEST(PostgresSinkTest, CheckChangesNothing) {
  TestDatabase db("sink_check");
  db.Exec("CREATE TABLE present (id int PRIMARY KEY, v text)");
  RecordingBadRecords bad(false);
  JobContext context = MakeContext(&bad, nullptr);
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Sink> sink,
                       MakeSink(db.ConnectionYaml() + "mode: upsert\n"));
  CheckReport report;
  ASSERT_OK(sink->Check(
      context,
      {Stream("present", {{"id", DataType::Int32(), false}, {"v", DataType::String()}}, {0}),
       Stream("absent", {{"id", DataType::Int64(), false}}, {0})},
      &report));
  EXPECT_EQ(report.notes,
            (std::vector<std::string>{
                "table public.present: 2 columns, upsert through a staging table",
                "table public.absent will be created: CREATE TABLE IF NOT EXISTS "
                "\"public\".\"absent\" (\"id\" bigint NOT NULL, PRIMARY KEY (\"id\"))",
                "progress: committed with the rows into public._sluice_progress (will be "
                "created)"}));
  EXPECT_EQ(db.Exec("SELECT count(*) FROM pg_class WHERE relname IN ('absent', "
                    "'_sluice_progress')"),
            "0\n");
}

}  // namespace
}  // namespace sluice::connectors::postgres
