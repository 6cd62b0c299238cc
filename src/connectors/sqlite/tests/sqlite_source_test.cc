#include "connectors/sqlite/sqlite_source.h"

#include <fmt/core.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <algorithm>
#include <deque>
#include <filesystem>
#include <map>
#include <set>
#include <thread>

#include "connectors/sqlite/tests/sqlite_test_util.h"
#include "testing/gtest_util.h"
#include "testing/temp_dir.h"

namespace sluice::connectors::sqlite {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using testing::MakeContext;
using testing::MakeSource;
using testing::Row;

// A table `numbers(id INTEGER PRIMARY KEY, n INTEGER, label TEXT)` with ids 1..rows, minus every
// id divisible by `gap_every` (so rowid ranges have holes).
void CreateNumbers(const std::string& path, int rows, int gap_every = 0) {
  std::string sql =
      "CREATE TABLE numbers (id INTEGER PRIMARY KEY, n INTEGER NOT NULL, label TEXT);"
      "WITH RECURSIVE seq(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM seq WHERE i < " +
      std::to_string(rows) + ") INSERT INTO numbers SELECT i, i * 10, 'row ' || i FROM seq;";
  if (gap_every > 0) {
    sql += fmt::format("DELETE FROM numbers WHERE id % {} = 0;", gap_every);
  }
  testing::ExecOrDie(path, sql);
}

std::vector<int64_t> Ids(const std::vector<Row>& rows) {
  std::vector<int64_t> ids;
  for (const Row& row : rows) {
    ids.push_back(std::stoll(*row[0]));
  }
  return ids;
}

std::vector<int64_t> ExpectedIds(int rows, int gap_every) {
  std::vector<int64_t> ids;
  for (int i = 1; i <= rows; ++i) {
    if (gap_every == 0 || i % gap_every != 0) {
      ids.push_back(i);
    }
  }
  return ids;
}

class SqliteSourceTest : public ::testing::Test {
 protected:
  std::string Path(const std::string& name = "source.db") { return dir_.Join(name); }
  JobContext Context() { return MakeContext(&fail_); }

  sluice::testing::TempDir dir_;
  testing::RecordAndFail fail_;
};

TEST_F(SqliteSourceTest, MissingDatabaseIsNotFoundAndNeverCreated) {
  std::string path = Path("missing.db");
  ASSERT_OK_AND_ASSIGN(auto source, MakeSource(fmt::format("path: \"{}\"\ntable: t", path)));
  Status status = source->Open(Context());
  EXPECT_EQ(status.code(), StatusCode::kNotFound);
  EXPECT_EQ(status.message(), fmt::format("SQLite database '{}' does not exist", path));
  EXPECT_FALSE(std::filesystem::exists(path));
}

TEST_F(SqliteSourceTest, MissingTableListsTheTables) {
  testing::ExecOrDie(Path(), "CREATE TABLE b (x); CREATE TABLE a (x); CREATE TABLE c (x);");
  ASSERT_OK_AND_ASSIGN(auto source, MakeSource(fmt::format("path: \"{}\"\ntable: x", Path())));
  Status status = source->Open(Context());
  EXPECT_EQ(status.code(), StatusCode::kNotFound);
  EXPECT_EQ(status.message(), fmt::format("table 'x' not found in SQLite database '{}' (tables: a, "
                                          "b, c)",
                                          Path()));
}

TEST_F(SqliteSourceTest, UnknownColumnIsAConfigErrorAtTheColumnsKey) {
  testing::ExecOrDie(Path(), "CREATE TABLE t (id INTEGER, name TEXT);");
  ASSERT_OK_AND_ASSIGN(
      auto source, MakeSource(fmt::format("path: \"{}\"\ntable: t\ncolumns: [id, nme]", Path())));
  Status status = source->Open(Context());
  EXPECT_EQ(status.code(), StatusCode::kInvalidConfig);
  EXPECT_EQ(status.message(),
            "test.yaml:3:10: unknown column 'nme' in table 't' (columns: id, name)");
}

TEST_F(SqliteSourceTest, NeedsExactlyOneOfTableAndTables) {
  for (std::string extra : {"", "table: a\ntables: [b]\n"}) {
    auto source = MakeSource(fmt::format("path: \"{}\"\n{}", Path(), extra));
    ASSERT_FALSE(source.ok());
    EXPECT_EQ(source.status().code(), StatusCode::kInvalidConfig);
    EXPECT_EQ(source.status().message(),
              "test.yaml:1:1: source (type sqlite) needs exactly one of 'table' (one table) or "
              "'tables' (a list of names or globs)");
  }
}

TEST_F(SqliteSourceTest, SchemaComesFromTheDeclaredTypes) {
  testing::ExecOrDie(Path(),
                     "CREATE TABLE t (id INTEGER PRIMARY KEY, name NVARCHAR(40) NOT NULL, "
                     "price NUMERIC(10,2), born DATETIME, anything);");
  ASSERT_OK_AND_ASSIGN(auto source, MakeSource(fmt::format("path: \"{}\"\ntable: T", Path())));
  ASSERT_OK(source->Open(Context()));
  ASSERT_EQ(source->streams().size(), 1u);
  EXPECT_EQ(source->streams()[0].name, "t");
  EXPECT_EQ(source->streams()[0].schema->ToString(),
            "id int64 not null, name string(40) not null, price decimal(10,2), born timestamp, "
            "anything string, primary key (id)");
  EXPECT_EQ(source->streams()[0].schema->field(1).native_type, "NVARCHAR(40)");
  EXPECT_EQ(source->streams()[0].estimated_rows, std::optional<uint64_t>(0));
}

TEST_F(SqliteSourceTest, EmptyTableHasNoRows) {
  testing::ExecOrDie(Path(), "CREATE TABLE t (id INTEGER);");
  ASSERT_OK_AND_ASSIGN(auto source, MakeSource(fmt::format("path: \"{}\"\ntable: t", Path())));
  ASSERT_OK(source->Open(Context()));
  ASSERT_OK_AND_ASSIGN(auto results, testing::ReadAll(*source));
  EXPECT_TRUE(results[0].rows.empty());
}

TEST_F(SqliteSourceTest, SplitsCoverEveryRowExactlyOnce) {
  CreateNumbers(Path(), 10'000, 7);
  ASSERT_OK_AND_ASSIGN(auto source, MakeSource(fmt::format(
                                        "path: \"{}\"\ntable: numbers\nsplit_rows: 700", Path())));
  ASSERT_OK(source->Open(Context()));
  EXPECT_EQ(source->streams()[0].estimated_rows, std::optional<uint64_t>(10'000));
  ASSERT_OK_AND_ASSIGN(auto results, testing::ReadAll(*source, 256));
  EXPECT_EQ(Ids(results[0].rows), ExpectedIds(10'000, 7));
  std::set<std::string> split_ids(results[0].split_ids.begin(), results[0].split_ids.end());
  EXPECT_EQ(split_ids.size(), 15u);  // ceil(10000 / 700)
  EXPECT_EQ(results[0].rows[0], (Row{"1", "10", "row 1"}));
}

TEST_F(SqliteSourceTest, ResumesAfterAPosition) {
  CreateNumbers(Path(), 1'000, 10);
  ASSERT_OK_AND_ASSIGN(auto source,
                       MakeSource(fmt::format("path: \"{}\"\ntable: numbers", Path())));
  ASSERT_OK(source->Open(Context()));
  ASSERT_OK_AND_ASSIGN(auto enumerator, source->CreateEnumerator());
  ASSERT_OK_AND_ASSIGN(std::optional<Split> split, enumerator->Next());
  ASSERT_TRUE(split.has_value());

  ASSERT_OK_AND_ASSIGN(auto reader, source->CreateReader(*split, ""));
  EXPECT_EQ(reader->Position(), "");
  Batch batch(source->streams()[0].schema, 100);
  std::vector<Row> rows;
  for (int i = 0; i < 2; ++i) {
    batch.Clear();
    ASSERT_OK_AND_ASSIGN(bool more, reader->ReadBatch(&batch));
    ASSERT_TRUE(more);
    for (size_t r = 0; r < batch.num_rows(); ++r) {
      rows.push_back(testing::RowOf(batch, r));
    }
  }
  ASSERT_EQ(rows.size(), 200u);
  std::string position = reader->Position();
  EXPECT_EQ(position, "{\"rowid\":222}");  // the 200th id when every tenth is missing
  reader.reset();

  ASSERT_OK(testing::ReadSplit(*source, *split, position, 64, &rows));
  EXPECT_EQ(Ids(rows), ExpectedIds(1'000, 10));
}

TEST_F(SqliteSourceTest, SplitRemainderWhileReadingCoversEveryRowOnce) {
  CreateNumbers(Path(), 60'000, 13);
  ASSERT_OK_AND_ASSIGN(
      auto source,
      MakeSource(fmt::format("path: \"{}\"\ntable: numbers\nsplit_rows: 1000000", Path())));
  ASSERT_OK(source->Open(Context()));
  ASSERT_OK_AND_ASSIGN(auto enumerator, source->CreateEnumerator());
  ASSERT_OK_AND_ASSIGN(std::optional<Split> first, enumerator->Next());
  ASSERT_TRUE(first.has_value());
  ASSERT_EQ(enumerator->pending(), 0u);

  // Readers run on threads; the main thread keeps cutting the remainder of whichever reader is
  // running, the way the runtime rebalances, and starts a new reader for every cut. The readers
  // begin once the first cut is made, so that there is one however the threads are scheduled.
  std::mutex mutex;
  std::atomic<bool> go{false};
  std::vector<std::unique_ptr<SplitReader>> readers;
  std::vector<std::thread> threads;
  std::vector<std::vector<Row>> rows;
  std::vector<Status> statuses;
  std::atomic<int> finished{0};
  auto start = [&](const Split& split) {
    std::unique_ptr<SplitReader> reader = source->CreateReader(split, "").value();
    std::lock_guard<std::mutex> lock(mutex);
    size_t index = readers.size();
    readers.push_back(std::move(reader));
    rows.emplace_back();
    statuses.emplace_back();
    SplitReader* raw = readers.back().get();
    threads.emplace_back([&, raw, index] {
      while (!go.load())
        std::this_thread::yield();
      Batch batch(source->streams()[0].schema, 97);
      std::vector<Row> local;
      Status status;
      for (;;) {
        batch.Clear();
        Result<bool> more = raw->ReadBatch(&batch);
        if (!more.ok()) {
          status = more.status();
          break;
        }
        for (size_t r = 0; r < batch.num_rows(); ++r) {
          local.push_back(testing::RowOf(batch, r));
        }
        if (!*more) {
          break;
        }
      }
      std::lock_guard<std::mutex> inner(mutex);
      rows[index] = std::move(local);
      statuses[index] = status;
      finished.fetch_add(1);
    });
  };
  start(*first);
  int cuts = 0;
  for (int attempt = 0; attempt < 2000 && cuts < 12; ++attempt) {
    SplitReader* target;
    {
      std::lock_guard<std::mutex> lock(mutex);
      target = readers[static_cast<size_t>(attempt) % readers.size()].get();
    }
    std::optional<Split> cut = target->SplitRemainder();
    if (cut) {
      ++cuts;
      start(*cut);
    }
    go.store(true);
    std::this_thread::yield();
  }
  for (std::thread& thread : threads) {
    thread.join();
  }
  EXPECT_GT(cuts, 0);
  std::vector<int64_t> all;
  for (size_t i = 0; i < rows.size(); ++i) {
    ASSERT_OK(statuses[i]);
    std::vector<int64_t> ids = Ids(rows[i]);
    EXPECT_TRUE(std::is_sorted(ids.begin(), ids.end()));
    all.insert(all.end(), ids.begin(), ids.end());
  }
  std::sort(all.begin(), all.end());
  EXPECT_EQ(all, ExpectedIds(60'000, 13));
}

TEST_F(SqliteSourceTest, SplitRemainderHandsOutTheUpperHalf) {
  CreateNumbers(Path(), 10'000);
  ASSERT_OK_AND_ASSIGN(auto source,
                       MakeSource(fmt::format("path: \"{}\"\ntable: numbers", Path())));
  ASSERT_OK(source->Open(Context()));
  ASSERT_OK_AND_ASSIGN(auto enumerator, source->CreateEnumerator());
  ASSERT_OK_AND_ASSIGN(std::optional<Split> split, enumerator->Next());
  ASSERT_OK_AND_ASSIGN(auto reader, source->CreateReader(*split, ""));
  Batch batch(source->streams()[0].schema, 1000);
  ASSERT_OK_AND_ASSIGN(bool more, reader->ReadBatch(&batch));
  ASSERT_TRUE(more);
  std::optional<Split> cut = reader->SplitRemainder();
  ASSERT_TRUE(cut.has_value());
  EXPECT_EQ(cut->id, "numbers#5501-10000");
  EXPECT_EQ(cut->payload, "{\"hi\":10000,\"lo\":5501,\"table\":\"numbers\"}");
  EXPECT_EQ(cut->estimated_rows, std::optional<uint64_t>(4500));
  std::vector<Row> rows;
  for (size_t r = 0; r < batch.num_rows(); ++r) {
    rows.push_back(testing::RowOf(batch, r));
  }
  // The same reader stops at the cut.
  for (more = true; more;) {
    batch.Clear();
    ASSERT_OK_AND_ASSIGN(more, reader->ReadBatch(&batch));
    for (size_t r = 0; r < batch.num_rows(); ++r) {
      rows.push_back(testing::RowOf(batch, r));
    }
  }
  EXPECT_EQ(rows.size(), 5500u);
  EXPECT_FALSE(reader->SplitRemainder().has_value());
  ASSERT_OK(testing::ReadSplit(*source, *cut, "", 333, &rows));
  EXPECT_EQ(Ids(rows), ExpectedIds(10'000, 0));
}

TEST_F(SqliteSourceTest, WithoutRowidTableIsOneSplitInKeyOrder) {
  testing::ExecOrDie(Path(),
                     "CREATE TABLE kv (k TEXT, part INTEGER, v BLOB, PRIMARY KEY (part, k)) "
                     "WITHOUT ROWID;"
                     "INSERT INTO kv VALUES ('b', 1, x'01'), ('a', 2, x'02'), ('a', 1, x'03'),"
                     "('c', 0, NULL);");
  ASSERT_OK_AND_ASSIGN(auto source, MakeSource(fmt::format("path: \"{}\"\ntable: kv", Path())));
  ASSERT_OK(source->Open(Context()));
  const Schema& schema = *source->streams()[0].schema;
  EXPECT_EQ(schema.ToString(),
            "k string not null, part int64 not null, v bytes, primary key (part, k)");
  EXPECT_EQ(source->streams()[0].estimated_rows, std::optional<uint64_t>(4));
  ASSERT_OK_AND_ASSIGN(auto results, testing::ReadAll(*source, 3));
  EXPECT_THAT(results[0].rows, ElementsAre(Row{"c", "0", std::nullopt}, Row{"a", "1", "\\x03"},
                                           Row{"b", "1", "\\x01"}, Row{"a", "2", "\\x02"}));
  EXPECT_THAT(results[0].split_ids, ::testing::Each(std::string("kv")));

  // Resume by offset.
  ASSERT_OK_AND_ASSIGN(auto enumerator, source->CreateEnumerator());
  ASSERT_OK_AND_ASSIGN(std::optional<Split> split, enumerator->Next());
  ASSERT_OK_AND_ASSIGN(auto reader, source->CreateReader(*split, ""));
  EXPECT_FALSE(reader->SplitRemainder().has_value());
  Batch batch(source->streams()[0].schema, 2);
  ASSERT_OK_AND_ASSIGN(bool more, reader->ReadBatch(&batch));
  ASSERT_TRUE(more);
  EXPECT_EQ(reader->Position(), "{\"offset\":2}");
  std::vector<Row> rest;
  ASSERT_OK(testing::ReadSplit(*source, *split, reader->Position(), 10, &rest));
  EXPECT_THAT(rest, ElementsAre(Row{"b", "1", "\\x01"}, Row{"a", "2", "\\x02"}));
}

TEST_F(SqliteSourceTest, WhereAndColumnsShapeEveryQuery) {
  CreateNumbers(Path(), 100);
  ASSERT_OK_AND_ASSIGN(auto source,
                       MakeSource(fmt::format("path: \"{}\"\ntable: numbers\ncolumns: [label, ID]\n"
                                              "where: \"n % 20 = 0 AND id > 50\"\nsplit_rows: 10",
                                              Path())));
  ASSERT_OK(source->Open(Context()));
  EXPECT_EQ(source->streams()[0].schema->ToString(),
            "label string, id int64 not null, primary key (id)");
  ASSERT_OK_AND_ASSIGN(auto results, testing::ReadAll(*source));
  std::vector<Row> expected;
  for (int id = 52; id <= 100; id += 2) {
    expected.push_back({"row " + std::to_string(id), std::to_string(id)});
  }
  EXPECT_EQ(results[0].rows, expected);
}

TEST_F(SqliteSourceTest, BadWhereIsAConfigErrorAtTheWhereKey) {
  CreateNumbers(Path(), 10);
  ASSERT_OK_AND_ASSIGN(
      auto source,
      MakeSource(fmt::format("path: \"{}\"\ntable: numbers\nwhere: \"nope > 1\"", Path())));
  Status status = source->Open(Context());
  EXPECT_EQ(status.code(), StatusCode::kInvalidConfig);
  EXPECT_EQ(status.message(),
            "test.yaml:3:8: cannot read table 'numbers' with where 'nope > 1': table "
            "'numbers': no such column: nope");
}

TEST_F(SqliteSourceTest, TablesGlobMakesOneStreamPerTable) {
  testing::ExecOrDie(Path(),
                     "CREATE TABLE log_b (x); CREATE TABLE log_a (x); CREATE TABLE other (x);"
                     "CREATE TABLE LOG_C (x); INSERT INTO log_a VALUES (1), (2);"
                     "INSERT INTO log_b VALUES (3); INSERT INTO other VALUES (4);");
  ASSERT_OK_AND_ASSIGN(
      auto source,
      MakeSource(fmt::format("path: \"{}\"\ntables: [\"log_*\", other, log_a]", Path())));
  ASSERT_OK(source->Open(Context()));
  std::vector<std::string> names;
  for (const StreamInfo& stream : source->streams()) {
    names.push_back(stream.name);
  }
  EXPECT_THAT(names, ElementsAre("LOG_C", "log_a", "log_b", "other"));
  ASSERT_OK_AND_ASSIGN(auto results, testing::ReadAll(*source));
  EXPECT_TRUE(results[0].rows.empty());
  EXPECT_THAT(results[1].rows, ElementsAre(Row{"1"}, Row{"2"}));
  EXPECT_THAT(results[2].rows, ElementsAre(Row{"3"}));
  EXPECT_THAT(results[3].rows, ElementsAre(Row{"4"}));

  ASSERT_OK_AND_ASSIGN(auto none,
                       MakeSource(fmt::format("path: \"{}\"\ntables: [\"x*\"]", Path())));
  Status status = none->Open(Context());
  EXPECT_EQ(status.code(), StatusCode::kNotFound);
  EXPECT_EQ(status.message(), fmt::format("no table matches 'x*' in SQLite database '{}' (tables: "
                                          "LOG_C, log_a, log_b, other)",
                                          Path()));
}

TEST_F(SqliteSourceTest, TextInAnIntegerColumnIsABadRecordWithItsLocation) {
  testing::ExecOrDie(Path(),
                     "CREATE TABLE t (id INTEGER PRIMARY KEY, n INTEGER);"
                     "INSERT INTO t VALUES (1, 5), (2, 'abc'), (3, 7);");
  {
    ASSERT_OK_AND_ASSIGN(auto source, MakeSource(fmt::format("path: \"{}\"\ntable: t", Path())));
    ASSERT_OK(source->Open(Context()));
    auto results = testing::ReadAll(*source);
    ASSERT_FALSE(results.ok());
    EXPECT_EQ(results.status().code(), StatusCode::kDataError);
    EXPECT_EQ(results.status().message(), "t rowid=2 column 'n': 'abc' is not an integer");
    ASSERT_EQ(fail_.records().size(), 1u);
    EXPECT_EQ(fail_.records()[0].location, "t rowid=2 column 'n'");
    EXPECT_EQ(fail_.records()[0].stream, "t");
  }
  {
    testing::RecordAndSkip skip;
    ASSERT_OK_AND_ASSIGN(auto source, MakeSource(fmt::format("path: \"{}\"\ntable: t", Path())));
    ASSERT_OK(source->Open(MakeContext(&skip)));
    ASSERT_OK_AND_ASSIGN(auto results, testing::ReadAll(*source));
    EXPECT_THAT(results[0].rows, ElementsAre(Row{"1", "5"}, Row{"3", "7"}));
    ASSERT_EQ(skip.records().size(), 1u);
    EXPECT_EQ(skip.records()[0].location, "t rowid=2 column 'n'");
    EXPECT_EQ(skip.records()[0].reason.message(), "t rowid=2 column 'n': 'abc' is not an integer");
  }
}

TEST_F(SqliteSourceTest, StoredClassesConvertIntoTheColumnType) {
  // Dates and timestamps as text (space or 'T', with a zone), unix seconds and Julian days;
  // REALs in a NUMERIC(10,2) column through their shortest text.
  testing::ExecOrDie(
      Path(),
      "CREATE TABLE t (d DATE, ts DATETIME, tz TIMESTAMPTZ, price NUMERIC(10,2), f REAL, "
      "b BOOLEAN, untyped, s TEXT);"
      "INSERT INTO t VALUES ('2024-02-29', '2024-02-29 13:45:07.25', '2024-02-29T13:45:07+02:00',"
      " 1.98, 3, 1, 42, 12);"
      "INSERT INTO t VALUES (1709164800, 1709214307, 1709214307, 0.1, '1e3', 'true', 1.5, 2.5);"
      "INSERT INTO t VALUES (2460369.5, 2460370.0729166665, 2460369.5, 3, 'NaN', 0, x'00ff', "
      "x'41');"
      "INSERT INTO t VALUES ('2024-02-29T13:45:07Z', '2024-02-29T13:45:07Z', NULL, '1.5', NULL,"
      " NULL, 'text', NULL);");
  ASSERT_OK_AND_ASSIGN(auto source, MakeSource(fmt::format("path: \"{}\"\ntable: t", Path())));
  ASSERT_OK(source->Open(Context()));
  ASSERT_OK_AND_ASSIGN(auto results, testing::ReadAll(*source));
  auto strip_bits = [](Row row) {
    std::string& f = *row[4];
    if (row[4]) {
      f = f.substr(0, f.find('#'));
    }
    return row;
  };
  ASSERT_EQ(results[0].rows.size(), 4u);
  EXPECT_EQ(strip_bits(results[0].rows[0]),
            (Row{"2024-02-29", "2024-02-29 13:45:07.25", "2024-02-29 11:45:07+00:00", "1.98", "3",
                 "true", "42", "12"}));
  EXPECT_EQ(strip_bits(results[0].rows[1]),
            (Row{"2024-02-29", "2024-02-29 13:45:07", "2024-02-29 13:45:07+00:00", "0.10", "1000",
                 "true", "1.5", "2.5"}));
  EXPECT_EQ(strip_bits(results[0].rows[2]),
            (Row{"2024-02-29", "2024-02-29 13:45:00", "2024-02-29 00:00:00+00:00", "3.00", "NaN",
                 "false", "\\x00ff", "\\x41"}));
  EXPECT_EQ(strip_bits(results[0].rows[3]),
            (Row{"2024-02-29", "2024-02-29 13:45:07", std::nullopt, "1.50", std::nullopt,
                 std::nullopt, "text", std::nullopt}));
}

// Issue 10: a declared NUMERIC(10,2) does not stop SQLite from storing 1.005; the source used to
// round it to 1.01. It is a bad record now, as any value that does not fit its type.
TEST_F(SqliteSourceTest, Issue10NumberWithMoreDigitsThanTheDeclaredScaleIsABadRecord) {
  testing::ExecOrDie(Path(),
                     "CREATE TABLE t (id INTEGER PRIMARY KEY, price NUMERIC(10,2));"
                     "INSERT INTO t VALUES (1, 1.5), (2, 1.005), (3, '-0.125');");
  testing::RecordAndSkip skip;
  ASSERT_OK_AND_ASSIGN(auto source, MakeSource(fmt::format("path: \"{}\"\ntable: t", Path())));
  ASSERT_OK(source->Open(MakeContext(&skip)));
  ASSERT_OK_AND_ASSIGN(auto results, testing::ReadAll(*source));
  EXPECT_THAT(results[0].rows, ElementsAre(Row{"1", "1.50"}));
  ASSERT_EQ(skip.records().size(), 2u);
  EXPECT_EQ(skip.records()[0].reason.message(),
            "t rowid=2 column 'price': '1.005' would be rounded to fit decimal(10,2)");
  EXPECT_EQ(skip.records()[1].reason.message(),
            "t rowid=3 column 'price': '-0.125' would be rounded to fit decimal(10,2)");
}

TEST_F(SqliteSourceTest, LargeBlobValue) {
  testing::ExecOrDie(Path(),
                     "CREATE TABLE t (id INTEGER PRIMARY KEY, data BLOB);"
                     "INSERT INTO t VALUES (1, randomblob(1048576)), (2, zeroblob(0)), "
                     "(3, randomblob(1048576));");
  auto expected = testing::QueryOrDie(Path(), "SELECT data FROM t ORDER BY id");
  ASSERT_OK_AND_ASSIGN(auto source, MakeSource(fmt::format("path: \"{}\"\ntable: t", Path())));
  JobContext context = Context();
  context.batch_bytes = size_t{512} * 1024;  // each 1 MB value ends its batch
  ASSERT_OK(source->Open(context));
  ASSERT_OK_AND_ASSIGN(auto results, testing::ReadAll(*source));
  ASSERT_EQ(results[0].rows.size(), 3u);
  EXPECT_EQ(results[0].batches, 2u);
  for (size_t r = 0; r < 3; ++r) {
    EXPECT_EQ("BLOB:" + *results[0].rows[r][1], expected[r][0]) << "row " << r;
  }
  EXPECT_EQ(results[0].rows[0][1]->size(), 2u + 2u * 1048576u);
}

TEST_F(SqliteSourceTest, ViewsAreReadAsOneSplit) {
  CreateNumbers(Path(), 20);
  testing::ExecOrDie(Path(),
                     "CREATE VIEW evens AS SELECT id, label FROM numbers WHERE id % 2 = 0;");
  ASSERT_OK_AND_ASSIGN(auto source, MakeSource(fmt::format("path: \"{}\"\ntable: evens", Path())));
  ASSERT_OK(source->Open(Context()));
  ASSERT_OK_AND_ASSIGN(auto results, testing::ReadAll(*source, 4));
  EXPECT_EQ(Ids(results[0].rows), (std::vector<int64_t>{2, 4, 6, 8, 10, 12, 14, 16, 18, 20}));
}

TEST_F(SqliteSourceTest, CancelledJobStopsTheReader) {
  CreateNumbers(Path(), 100);
  std::atomic<bool> cancelled{false};
  ASSERT_OK_AND_ASSIGN(auto source,
                       MakeSource(fmt::format("path: \"{}\"\ntable: numbers", Path())));
  ASSERT_OK(source->Open(MakeContext(&fail_, &cancelled)));
  ASSERT_OK_AND_ASSIGN(auto enumerator, source->CreateEnumerator());
  ASSERT_OK_AND_ASSIGN(std::optional<Split> split, enumerator->Next());
  ASSERT_OK_AND_ASSIGN(auto reader, source->CreateReader(*split, ""));
  Batch batch(source->streams()[0].schema, 10);
  ASSERT_OK(reader->ReadBatch(&batch));
  cancelled = true;
  batch.Clear();
  Result<bool> more = reader->ReadBatch(&batch);
  EXPECT_EQ(more.status().code(), StatusCode::kCancelled);
}

TEST_F(SqliteSourceTest, CorruptFileIsADataErrorNamingIt) {
  sluice::testing::WriteFileOrDie(Path("junk.db"), std::string(4096, 'j'));
  ASSERT_OK_AND_ASSIGN(auto source,
                       MakeSource(fmt::format("path: \"{}\"\ntable: t", Path("junk.db"))));
  Status status = source->Open(Context());
  EXPECT_EQ(status.code(), StatusCode::kDataError);
  EXPECT_THAT(status.message(),
              HasSubstr(fmt::format("'{}' is not a valid SQLite database", Path("junk.db"))));
}

TEST_F(SqliteSourceTest, DescribeSummarisesTheSplits) {
  CreateNumbers(Path(), 100);
  ASSERT_OK_AND_ASSIGN(
      auto source, MakeSource(fmt::format("path: \"{}\"\ntable: numbers\nsplit_rows: 30", Path())));
  ASSERT_OK(source->Open(Context()));
  CheckReport report;
  source->Describe(&report);
  EXPECT_THAT(report.notes, ElementsAre("sqlite table 'numbers': rowids 1..100 (about 100 rows), "
                                        "splits of up to 30 rowids"));
}

}  // namespace
}  // namespace sluice::connectors::sqlite
