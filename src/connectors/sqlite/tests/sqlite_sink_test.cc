#include "connectors/sqlite/sqlite_sink.h"

#include <fcntl.h>
#include <fmt/core.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "connectors/sqlite/tests/sqlite_test_util.h"
#include "testing/gtest_util.h"
#include "testing/temp_dir.h"

namespace sluice::connectors::sqlite {
namespace {

using testing::BatchOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using testing::MakeContext;
using testing::MakeSink;
using testing::QueryOrDie;
using testing::RawRow;
using testing::Row;

SchemaPtr OrdersSchema() {
  return std::make_shared<const Schema>(
      std::vector<Field>{{"id", DataType::Int64(), false},
                         {"name", DataType::String(20), true},
                         {"amount", DataType::Decimal(12, 2), true}},
      std::vector<int>{0});
}

StreamInfo Orders() {
  return {"orders", OrdersSchema(), std::nullopt};
}

std::vector<Row> OrderRows(int first, int count) {
  std::vector<Row> rows;
  for (int id = first; id < first + count; ++id) {
    rows.push_back(
        {std::to_string(id), "name " + std::to_string(id), fmt::format("{}.{:02d}", id, id % 100)});
  }
  return rows;
}

class SqliteSinkTest : public ::testing::Test {
 protected:
  std::string Path(const std::string& name = "sink.db") { return dir_.Join(name); }
  JobContext Context() { return MakeContext(&fail_); }

  Status Write(Sink& sink, const std::vector<StreamInfo>& streams,
               const std::vector<std::unique_ptr<Batch>>& batches) {
    std::vector<const Batch*> pointers;
    for (const auto& batch : batches) {
      pointers.push_back(batch.get());
    }
    return testing::WriteAll(sink, Context(), streams, pointers);
  }

  sluice::testing::TempDir dir_;
  testing::RecordAndFail fail_;
};

TEST_F(SqliteSinkTest, CreatesTheFileItsDirectoriesAndTheTable) {
  std::string path = dir_.Join("a/b/shop.db");
  ASSERT_OK_AND_ASSIGN(auto sink, MakeSink(fmt::format("path: \"{}\"", path)));
  std::vector<std::unique_ptr<Batch>> batches;
  batches.push_back(BatchOf(OrdersSchema(), OrderRows(1, 3)));
  batches.push_back(BatchOf(OrdersSchema(), {{"4", std::nullopt, std::nullopt}}));
  ASSERT_OK(Write(*sink, {Orders()}, batches));

  EXPECT_THAT(QueryOrDie(path, "SELECT sql FROM sqlite_schema WHERE name = 'orders'"),
              ElementsAre(RawRow{"TEXT:CREATE TABLE \"orders\" (\"id\" INTEGER NOT NULL, \"name\" "
                                 "VARCHAR(20), \"amount\" DECIMAL_TEXT(12,2), PRIMARY KEY "
                                 "(\"id\"))"}));
  EXPECT_THAT(QueryOrDie(path, "SELECT * FROM orders ORDER BY rowid"),
              ElementsAre(RawRow{"INTEGER:1", "TEXT:name 1", "TEXT:1.01"},
                          RawRow{"INTEGER:2", "TEXT:name 2", "TEXT:2.02"},
                          RawRow{"INTEGER:3", "TEXT:name 3", "TEXT:3.03"},
                          RawRow{"INTEGER:4", "NULL", "NULL"}));
  EXPECT_THAT(QueryOrDie(path, "PRAGMA journal_mode"), ElementsAre(RawRow{"TEXT:delete"}));
}

TEST_F(SqliteSinkTest, TableNameTemplateAndJournalMode) {
  ASSERT_OK_AND_ASSIGN(auto sink, MakeSink(fmt::format("path: \"{}\"\ntable: \"copy_{{stream}}\"\n"
                                                       "journal_mode: delete\nsynchronous: off",
                                                       Path())));
  std::vector<std::unique_ptr<Batch>> batches;
  batches.push_back(BatchOf(OrdersSchema(), OrderRows(1, 2)));
  ASSERT_OK(Write(*sink, {Orders()}, batches));
  EXPECT_THAT(QueryOrDie(Path(), "SELECT count(*) FROM copy_orders"),
              ElementsAre(RawRow{"INTEGER:2"}));
  EXPECT_THAT(QueryOrDie(Path(), "PRAGMA journal_mode"), ElementsAre(RawRow{"TEXT:delete"}));
}

TEST_F(SqliteSinkTest, AppendsToAnExistingTableByColumnName) {
  testing::ExecOrDie(Path(),
                     "CREATE TABLE Orders (note TEXT DEFAULT 'n/a', amount NUMERIC, "
                     "id INTEGER PRIMARY KEY, name TEXT);"
                     "INSERT INTO Orders (id, name, amount, note) VALUES (100, 'old', 9.5, 'x');");
  ASSERT_OK_AND_ASSIGN(auto sink, MakeSink(fmt::format("path: \"{}\"", Path())));
  std::vector<std::unique_ptr<Batch>> batches;
  batches.push_back(BatchOf(OrdersSchema(), OrderRows(1, 2)));
  ASSERT_OK(Write(*sink, {Orders()}, batches));
  EXPECT_THAT(QueryOrDie(Path(), "SELECT id, name, amount, note FROM orders ORDER BY id"),
              ElementsAre(RawRow{"INTEGER:1", "TEXT:name 1", "REAL:1.01", "TEXT:n/a"},
                          RawRow{"INTEGER:2", "TEXT:name 2", "REAL:2.02", "TEXT:n/a"},
                          RawRow{"INTEGER:100", "TEXT:old", "REAL:9.5", "TEXT:x"}));
}

TEST_F(SqliteSinkTest, FloatsIntoATextColumnKeepTheirShortestText) {
  testing::ExecOrDie(Path(), "CREATE TABLE m (v TEXT, w REAL);");
  auto schema = std::make_shared<const Schema>(
      std::vector<Field>{{"v", DataType::Float64(), true}, {"w", DataType::Float64(), true}});
  ASSERT_OK_AND_ASSIGN(auto sink, MakeSink(fmt::format("path: \"{}\"\ntable: m", Path())));
  std::vector<std::unique_ptr<Batch>> batches;
  batches.push_back(BatchOf(
      schema, {{"0.30000000000000004", "0.30000000000000004"}, {"-0", "-0"}, {"NaN", "NaN"}}));
  ASSERT_OK(Write(*sink, {{"m", schema, std::nullopt}}, batches));
  EXPECT_THAT(
      QueryOrDie(Path(), "SELECT v, w FROM m ORDER BY rowid"),
      ElementsAre(RawRow{"TEXT:0.30000000000000004", "REAL:0.30000000000000004"},
                  RawRow{"TEXT:-0", "BLOB:\\x8000000000000000"}, RawRow{"TEXT:NaN", "TEXT:NaN"}));
}

TEST_F(SqliteSinkTest, MissingColumnsInAnExistingTableAreAConfigError) {
  testing::ExecOrDie(Path(), "CREATE TABLE orders (id INTEGER, name TEXT);");
  ASSERT_OK_AND_ASSIGN(auto sink, MakeSink(fmt::format("path: \"{}\"", Path())));
  Status status = sink->Open(Context(), {Orders()});
  EXPECT_EQ(status.code(), StatusCode::kInvalidConfig);
  EXPECT_EQ(status.message(),
            fmt::format("test.yaml:1:1: table 'orders' in SQLite database '{}' has no column "
                        "'amount' (table columns: id, name; stream 'orders' columns: id, name, "
                        "amount)",
                        Path()));
}

TEST_F(SqliteSinkTest, MissingTableWithCreateFalseIsNotFound) {
  testing::ExecOrDie(Path(), "CREATE TABLE other (x);");
  ASSERT_OK_AND_ASSIGN(auto sink, MakeSink(fmt::format("path: \"{}\"\ncreate: false", Path())));
  Status status = sink->Open(Context(), {Orders()});
  EXPECT_EQ(status.code(), StatusCode::kNotFound);
  EXPECT_EQ(status.message(),
            fmt::format("table 'orders': table 'orders' not found in SQLite database '{}' "
                        "and 'create' is false",
                        Path()));
  EXPECT_THAT(QueryOrDie(Path(), "SELECT name FROM sqlite_schema"),
              ElementsAre(RawRow{"TEXT:other"}));
}

TEST_F(SqliteSinkTest, OverwriteSwapsTheTableAtomicallyAtFinish) {
  testing::ExecOrDie(Path(),
                     "CREATE TABLE orders (id INTEGER PRIMARY KEY, name TEXT NOT NULL DEFAULT '', "
                     "amount TEXT CHECK (amount <> 'bad'));"
                     "CREATE INDEX orders_by_name ON orders (name);"
                     "CREATE VIEW big_orders AS SELECT id FROM orders WHERE id > 1;"
                     "INSERT INTO orders VALUES (7, 'old 7', '7.00'), (8, 'old 8', '8.00');");
  ASSERT_OK_AND_ASSIGN(auto sink, MakeSink(fmt::format("path: \"{}\"\nmode: overwrite", Path())));
  ASSERT_OK(sink->Open(Context(), {Orders()}));
  ASSERT_OK_AND_ASSIGN(auto writer, sink->CreateWriter(0));
  ASSERT_OK(writer->Write(*BatchOf(OrdersSchema(), OrderRows(1, 3))));
  ASSERT_OK(writer->Prepare());
  ASSERT_OK(writer->Commit({}));
  writer.reset();

  // Committed into the staging table; readers still see the old rows.
  EXPECT_THAT(QueryOrDie(Path(), "SELECT id FROM orders ORDER BY id"),
              ElementsAre(RawRow{"INTEGER:7"}, RawRow{"INTEGER:8"}));
  EXPECT_THAT(QueryOrDie(Path(), "SELECT count(*) FROM _sluice_staging_orders"),
              ElementsAre(RawRow{"INTEGER:3"}));

  ASSERT_OK(sink->Finish());
  EXPECT_THAT(QueryOrDie(Path(), "SELECT * FROM orders ORDER BY id"),
              ElementsAre(RawRow{"INTEGER:1", "TEXT:name 1", "TEXT:1.01"},
                          RawRow{"INTEGER:2", "TEXT:name 2", "TEXT:2.02"},
                          RawRow{"INTEGER:3", "TEXT:name 3", "TEXT:3.03"}));
  // The definition, the index and the view survive; the staging table is gone.
  EXPECT_THAT(QueryOrDie(Path(), "SELECT type, name, tbl_name FROM sqlite_schema ORDER BY name"),
              ElementsAre(RawRow{"TEXT:view", "TEXT:big_orders", "TEXT:big_orders"},
                          RawRow{"TEXT:table", "TEXT:orders", "TEXT:orders"},
                          RawRow{"TEXT:index", "TEXT:orders_by_name", "TEXT:orders"}));
  EXPECT_THAT(QueryOrDie(Path(), "SELECT sql FROM sqlite_schema WHERE name = 'orders'")[0][0],
              HasSubstr("CHECK (amount <> 'bad')"));
  EXPECT_THAT(QueryOrDie(Path(), "SELECT id FROM big_orders ORDER BY id"),
              ElementsAre(RawRow{"INTEGER:2"}, RawRow{"INTEGER:3"}));
}

TEST_F(SqliteSinkTest, OverwriteAbortLeavesTheOldDataIntact) {
  testing::ExecOrDie(Path(),
                     "CREATE TABLE orders (id INTEGER PRIMARY KEY, name TEXT, amount TEXT);"
                     "INSERT INTO orders VALUES (7, 'old', '7.00');");
  ASSERT_OK_AND_ASSIGN(
      auto sink, MakeSink(fmt::format("path: \"{}\"\nmode: overwrite\ncommit_rows: 2", Path())));
  JobContext context = Context();
  context.delivery = DeliveryGuarantee::kAtLeastOnce;
  ASSERT_OK(sink->Open(context, {Orders()}));
  ASSERT_OK_AND_ASSIGN(auto writer, sink->CreateWriter(0));
  ASSERT_OK(writer->Write(*BatchOf(OrdersSchema(), OrderRows(1, 5))));  // commits on the way
  writer->Abort();
  writer.reset();
  sink->Abort();
  EXPECT_THAT(QueryOrDie(Path(), "SELECT * FROM orders"),
              ElementsAre(RawRow{"INTEGER:7", "TEXT:old", "TEXT:7.00"}));
  // The staging table, with what was committed to it, stays for a resumed run.
  EXPECT_THAT(QueryOrDie(Path(), "SELECT name FROM sqlite_schema ORDER BY name"),
              ElementsAre(RawRow{"TEXT:_sluice_staging_orders"}, RawRow{"TEXT:orders"}));
  EXPECT_THAT(QueryOrDie(Path(), "SELECT count(*) FROM _sluice_staging_orders"),
              ElementsAre(RawRow{"INTEGER:5"}));
}

TEST_F(SqliteSinkTest, OverwriteCreatesAMissingTable) {
  ASSERT_OK_AND_ASSIGN(auto sink, MakeSink(fmt::format("path: \"{}\"\nmode: overwrite", Path())));
  std::vector<std::unique_ptr<Batch>> batches;
  batches.push_back(BatchOf(OrdersSchema(), OrderRows(1, 2)));
  ASSERT_OK(Write(*sink, {Orders()}, batches));
  EXPECT_THAT(QueryOrDie(Path(), "SELECT id FROM orders ORDER BY id"),
              ElementsAre(RawRow{"INTEGER:1"}, RawRow{"INTEGER:2"}));
  EXPECT_THAT(QueryOrDie(Path(), "SELECT sql FROM sqlite_schema WHERE type = 'table'"),
              ElementsAre(RawRow{"TEXT:CREATE TABLE \"orders\" (\"id\" INTEGER NOT NULL, \"name\" "
                                 "VARCHAR(20), \"amount\" DECIMAL_TEXT(12,2), PRIMARY KEY "
                                 "(\"id\"))"}));
}

// A directory the test process cannot create files in: a read-only temp directory, or /sys
// when running as root (root ignores file modes).
std::string UnwritableDirectory(const sluice::testing::TempDir& dir) {
  if (geteuid() != 0) {
    std::string path = dir.Join("locked");
    mkdir(path.c_str(), 0555);
    return path;
  }
  return "/sys";
}

TEST_F(SqliteSinkTest, UnwritablePathIsPermissionDenied) {
  std::string directory = UnwritableDirectory(dir_);
  std::string file = directory + "/sluice_sink_test.db";
  int fd = open(file.c_str(), O_CREAT | O_WRONLY, 0644);
  int create_errno = errno;
  if (fd >= 0) {
    close(fd);
    unlink(file.c_str());
    GTEST_SKIP() << "'" << directory << "' is writable here; nothing to test";
  }
  std::string subdirectory = directory + "/sluice_sink_test_dir";
  int mkdir_errno = mkdir(subdirectory.c_str(), 0755) == 0 ? 0 : errno;
  if (mkdir_errno == 0) {
    rmdir(subdirectory.c_str());
  }
  ASSERT_NE(mkdir_errno, 0);

  ASSERT_OK_AND_ASSIGN(auto sink, MakeSink(fmt::format("path: \"{}\"", file)));
  Status status = sink->Open(Context(), {Orders()});
  EXPECT_EQ(status.code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(status.message(), fmt::format("cannot create SQLite database '{}': {}", file,
                                          std::strerror(create_errno)));

  std::string nested = subdirectory + "/out.db";
  ASSERT_OK_AND_ASSIGN(auto nested_sink, MakeSink(fmt::format("path: \"{}\"", nested)));
  status = nested_sink->Open(Context(), {Orders()});
  EXPECT_EQ(status.code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(status.message(),
            fmt::format("cannot create directory '{}' for SQLite database '{}': {}", subdirectory,
                        nested, std::strerror(mkdir_errno)));
}

TEST_F(SqliteSinkTest, CheckReportsWithoutChangingAnything) {
  std::string missing = Path("not_yet.db");
  {
    ASSERT_OK_AND_ASSIGN(auto sink, MakeSink(fmt::format("path: \"{}\"", missing)));
    CheckReport report;
    ASSERT_OK(sink->Check(Context(), {Orders()}, &report));
    EXPECT_THAT(report.notes,
                ElementsAre(fmt::format("SQLite database '{}' does not exist; it would be created",
                                        missing),
                            "sqlite table 'orders' would be created: CREATE TABLE \"orders\" "
                            "(\"id\" INTEGER NOT NULL, \"name\" VARCHAR(20), \"amount\" "
                            "DECIMAL_TEXT(12,2), PRIMARY KEY (\"id\"))"));
    EXPECT_FALSE(std::filesystem::exists(missing));
  }
  testing::ExecOrDie(Path(), "CREATE TABLE orders (id INTEGER, name TEXT, amount NUMERIC);");
  auto schema_before = QueryOrDie(Path(), "SELECT type, name, sql FROM sqlite_schema");
  {
    ASSERT_OK_AND_ASSIGN(auto sink, MakeSink(fmt::format("path: \"{}\"\nmode: overwrite", Path())));
    CheckReport report;
    ASSERT_OK(sink->Check(Context(), {Orders(), {"items", OrdersSchema(), std::nullopt}}, &report));
    EXPECT_THAT(
        report.notes,
        ElementsAre("sqlite table 'orders' column 'amount': decimal values with more than 15 "
                    "significant digits would be rounded by the numeric affinity of a column "
                    "declared 'NUMERIC'",
                    "sqlite table 'orders' exists; it would be replaced at the end of the job "
                    "(loaded into '_sluice_staging_orders')",
                    "sqlite table 'items' would be created: CREATE TABLE \"items\" (\"id\" "
                    "INTEGER NOT NULL, \"name\" VARCHAR(20), \"amount\" DECIMAL_TEXT(12,2), "
                    "PRIMARY KEY (\"id\"))"));
  }
  {
    auto wide = std::make_shared<const Schema>(
        std::vector<Field>{{"id", DataType::Int64(), false}, {"extra", DataType::String(), true}});
    ASSERT_OK_AND_ASSIGN(auto sink, MakeSink(fmt::format("path: \"{}\"", Path())));
    CheckReport report;
    Status status = sink->Check(Context(), {{"orders", wide, std::nullopt}}, &report);
    EXPECT_EQ(status.code(), StatusCode::kInvalidConfig);
    EXPECT_THAT(status.message(), HasSubstr("has no column 'extra'"));
  }
  {
    ASSERT_OK_AND_ASSIGN(auto sink, MakeSink(fmt::format("path: \"{}\"\ncreate: false", Path())));
    CheckReport report;
    Status status = sink->Check(Context(), {{"items", OrdersSchema(), std::nullopt}}, &report);
    EXPECT_EQ(status.code(), StatusCode::kNotFound);
  }
  EXPECT_EQ(QueryOrDie(Path(), "SELECT type, name, sql FROM sqlite_schema"), schema_before);
}

TEST_F(SqliteSinkTest, AtLeastOnceCommitsEveryCommitRowsAndKeepsCommittedRowsOnAbort) {
  ASSERT_OK_AND_ASSIGN(auto sink, MakeSink(fmt::format("path: \"{}\"\ncommit_rows: 100", Path())));
  JobContext context = Context();
  context.delivery = DeliveryGuarantee::kAtLeastOnce;
  ASSERT_OK(sink->Open(context, {Orders()}));
  ASSERT_OK_AND_ASSIGN(auto writer, sink->CreateWriter(0));
  for (int b = 0; b < 5; ++b) {
    ASSERT_OK(writer->Write(*BatchOf(OrdersSchema(), OrderRows(1 + b * 50, 50))));
  }
  // Two commits happened (after 100 and 200 rows); the last 50 rows are still uncommitted.
  EXPECT_THAT(QueryOrDie(Path(), "SELECT count(*) FROM orders"),
              ElementsAre(RawRow{"INTEGER:200"}));
  writer->Abort();
  writer.reset();
  sink->Abort();
  EXPECT_THAT(QueryOrDie(Path(), "SELECT count(*), max(id) FROM orders"),
              ElementsAre(RawRow{"INTEGER:200", "INTEGER:200"}));
}

TEST_F(SqliteSinkTest, ConstraintViolationsAreBadRecordsNamingTheKey) {
  testing::ExecOrDie(Path(),
                     "CREATE TABLE orders (id INTEGER PRIMARY KEY, name TEXT, amount TEXT);"
                     "INSERT INTO orders VALUES (3, 'existing', '0');");
  {
    testing::RecordAndSkip skip;
    ASSERT_OK_AND_ASSIGN(auto sink, MakeSink(fmt::format("path: \"{}\"", Path())));
    std::vector<const Batch*> batches;
    auto batch = BatchOf(OrdersSchema(), OrderRows(1, 100));  // a full 64-row statement
    batches.push_back(batch.get());
    ASSERT_OK(testing::WriteAll(*sink, MakeContext(&skip), {Orders()}, batches));
    ASSERT_EQ(skip.records().size(), 1u);
    EXPECT_EQ(skip.records()[0].location, "orders id=3");
    EXPECT_EQ(skip.records()[0].stream, "orders");
    EXPECT_EQ(skip.records()[0].reason.code(), StatusCode::kDataError);
    EXPECT_EQ(skip.records()[0].reason.message(),
              "orders id=3: cannot insert into table 'orders': UNIQUE constraint failed: "
              "orders.id" +
                  std::string(kDuplicateKeyAdvice));
    EXPECT_THAT(QueryOrDie(Path(), "SELECT count(*) FROM orders"),
                ElementsAre(RawRow{"INTEGER:100"}));
    EXPECT_THAT(QueryOrDie(Path(), "SELECT name FROM orders WHERE id = 3"),
                ElementsAre(RawRow{"TEXT:existing"}));
  }
  {
    ASSERT_OK_AND_ASSIGN(auto sink, MakeSink(fmt::format("path: \"{}\"", Path())));
    std::vector<const Batch*> batches;
    auto batch = BatchOf(OrdersSchema(), OrderRows(200, 1));
    auto duplicate = BatchOf(OrdersSchema(), OrderRows(5, 1));
    batches.push_back(batch.get());
    batches.push_back(duplicate.get());
    Status status = testing::WriteAll(*sink, Context(), {Orders()}, batches);
    EXPECT_EQ(status.code(), StatusCode::kDataError);
    EXPECT_EQ(status.message(),
              "orders id=5: cannot insert into table 'orders': UNIQUE constraint failed: "
              "orders.id" +
                  std::string(kDuplicateKeyAdvice));
    // The failed write was rolled back with its transaction.
    EXPECT_THAT(QueryOrDie(Path(), "SELECT count(*) FROM orders WHERE id = 200"),
                ElementsAre(RawRow{"INTEGER:0"}));
  }
}

TEST_F(SqliteSinkTest, NullInARowidKeyIsABadRecordNotANewRowid) {
  // A created table's NOT NULL integer key is its rowid, where SQLite would turn NULL into a
  // new id; the sink refuses the row instead, as a BIGINT key would.
  testing::RecordAndSkip skip;
  ASSERT_OK_AND_ASSIGN(auto sink, MakeSink(fmt::format("path: \"{}\"", Path())));
  std::vector<Row> rows = OrderRows(1, 100);
  rows[40][0] = std::nullopt;
  auto batch = BatchOf(OrdersSchema(), rows);
  ASSERT_OK(testing::WriteAll(*sink, MakeContext(&skip), {Orders()}, {batch.get()}));
  ASSERT_EQ(skip.records().size(), 1u);
  EXPECT_EQ(skip.records()[0].reason.message(),
            "orders id=NULL: cannot insert into table 'orders': NOT NULL constraint failed: "
            "orders.id");
  EXPECT_THAT(QueryOrDie(Path(), "SELECT count(*), sum(id) FROM orders"),
              ElementsAre(RawRow{"INTEGER:99", "INTEGER:5009"}));
}

// Issue 10: PostgreSQL's boolean into an existing SQLite table, and MySQL's TINYINT(1) (int8)
// into a column declared BOOLEAN: 0 and 1 only, which the source reads back as booleans.
TEST_F(SqliteSinkTest, Issue10BooleansAndTinyintOneIntoExistingBooleanColumns) {
  testing::ExecOrDie(Path(), "CREATE TABLE t (id INTEGER PRIMARY KEY, b BOOLEAN, i INTEGER, "
                             "tiny BOOLEAN);");
  auto schema = std::make_shared<const Schema>(
      std::vector<Field>{{"id", DataType::Int32(), false},
                         {"b", DataType::Bool(), true},
                         {"i", DataType::Bool(), true},
                         {"tiny", DataType::Int8(), true, "tinyint(1)"}},
      std::vector<int>{0});
  testing::RecordAndSkip skip;
  ASSERT_OK_AND_ASSIGN(auto sink, MakeSink(fmt::format("path: \"{}\"\ntable: t", Path())));
  auto batch = BatchOf(schema, {{"1", "true", "false", "1"},
                                {"2", "false", "true", "0"},
                                {"3", std::nullopt, std::nullopt, std::nullopt},
                                {"4", "true", "true", "2"}});
  ASSERT_OK(testing::WriteAll(*sink, MakeContext(&skip), {{"t", schema, std::nullopt}},
                              {batch.get()}));
  EXPECT_THAT(QueryOrDie(Path(), "SELECT id, b, i, tiny FROM t ORDER BY id"),
              ElementsAre(RawRow{"INTEGER:1", "INTEGER:1", "INTEGER:0", "INTEGER:1"},
                          RawRow{"INTEGER:2", "INTEGER:0", "INTEGER:1", "INTEGER:0"},
                          RawRow{"INTEGER:3", "NULL", "NULL", "NULL"}));
  ASSERT_EQ(skip.records().size(), 1u);
  EXPECT_EQ(skip.records()[0].reason.message(),
            "t id=4: column 'tiny' is declared BOOLEAN, and 2 is not a boolean (0 or 1)");
}

TEST_F(SqliteSinkTest, MegabyteBlobRoundTrip) {
  auto schema = std::make_shared<const Schema>(
      std::vector<Field>{{"id", DataType::Int64(), false}, {"data", DataType::Bytes(), true}});
  std::string blob(1 << 20, '\0');
  for (size_t i = 0; i < blob.size(); ++i) {
    blob[i] = static_cast<char>((i * 131 + i / 7) & 0xff);
  }
  auto batch = std::make_unique<Batch>(schema, 3);
  for (int64_t id = 1; id <= 3; ++id) {
    batch->column(0).Append<int64_t>(id);
    batch->column(1).AppendView(id == 2 ? std::string_view() : std::string_view(blob));
    batch->FinishRow();
  }
  ASSERT_OK_AND_ASSIGN(auto sink, MakeSink(fmt::format("path: \"{}\"", Path())));
  ASSERT_OK(testing::WriteAll(*sink, Context(), {{"blobs", schema, std::nullopt}}, {batch.get()}));
  EXPECT_THAT(QueryOrDie(Path(), "SELECT length(data), typeof(data) FROM blobs ORDER BY id"),
              ElementsAre(RawRow{"INTEGER:1048576", "TEXT:blob"}, RawRow{"INTEGER:0", "TEXT:blob"},
                          RawRow{"INTEGER:1048576", "TEXT:blob"}));
  ASSERT_OK_AND_ASSIGN(auto source,
                       testing::MakeSource(fmt::format("path: \"{}\"\ntable: blobs", Path())));
  ASSERT_OK(source->Open(Context()));
  ASSERT_OK_AND_ASSIGN(auto results, testing::ReadAll(*source));
  ASSERT_EQ(results[0].rows.size(), 3u);
  for (size_t r = 0; r < 3; ++r) {
    EXPECT_EQ(results[0].rows[r][1], testing::CellOf(batch->column(1), r));
  }
}

TEST_F(SqliteSinkTest, OneWriterServesSeveralStreams) {
  auto items = std::make_shared<const Schema>(
      std::vector<Field>{{"sku", DataType::String(), false}, {"qty", DataType::Int32(), true}});
  ASSERT_OK_AND_ASSIGN(auto sink, MakeSink(fmt::format("path: \"{}\"", Path())));
  std::vector<std::unique_ptr<Batch>> batches;
  batches.push_back(BatchOf(OrdersSchema(), OrderRows(1, 2), 0));
  batches.push_back(BatchOf(items, {{"a", "1"}, {"b", std::nullopt}}, 1));
  batches.push_back(BatchOf(OrdersSchema(), OrderRows(3, 1), 0));
  ASSERT_OK(Write(*sink, {Orders(), {"items", items, std::nullopt}}, batches));
  EXPECT_THAT(QueryOrDie(Path(), "SELECT count(*) FROM orders"), ElementsAre(RawRow{"INTEGER:3"}));
  EXPECT_THAT(QueryOrDie(Path(), "SELECT * FROM items ORDER BY rowid"),
              ElementsAre(RawRow{"TEXT:a", "INTEGER:1"}, RawRow{"TEXT:b", "NULL"}));
}

TEST_F(SqliteSinkTest, OptionsAreValidated) {
  auto sink = MakeSink(fmt::format("path: \"{}\"\ncommit_rows: 0", Path()));
  ASSERT_FALSE(sink.ok());
  EXPECT_EQ(sink.status().message(),
            "test.yaml:2:14: 'commit_rows' in sink (type sqlite) must be at least 1, got 0");
  sink = MakeSink(fmt::format("path: \"{}\"\nmode: replace", Path()));
  ASSERT_FALSE(sink.ok());
  EXPECT_EQ(sink.status().message(),
            "test.yaml:2:7: 'mode' in sink (type sqlite) must be one of: append, overwrite, apply, got "
            "'replace'");
}

}  // namespace
}  // namespace sluice::connectors::sqlite
