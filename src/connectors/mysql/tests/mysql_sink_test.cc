// The mysql sink against the real MariaDB: table creation, append/upsert/overwrite, both load
// methods, bad rows and their messages.
#include "connectors/mysql/mysql_sink.h"

#include <fmt/core.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <set>
#include <thread>

#include "connectors/mysql/mysql_client.h"
#include "connectors/mysql/tests/mysql_test_util.h"
#include "testing/gtest_util.h"
#include "testing/memory_connector.h"

namespace sluice::connectors::mysql::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

SchemaPtr OrdersSchema() {
  return std::make_shared<Schema>(std::vector<Field>{{"id", DataType::Int64(), false},
                                                     {"name", DataType::String(), true},
                                                     {"amount", DataType::Decimal(12, 2), true}},
                                  std::vector<int>{0});
}

std::unique_ptr<Batch> MakeBatch(const SchemaPtr& schema,
                                 const std::vector<sluice::testing::Row>& rows) {
  auto batch = std::make_unique<Batch>(schema, std::max<size_t>(rows.size(), 1));
  for (const auto& row : rows)
    sluice::testing::AppendRow(row, batch.get());
  return batch;
}

std::vector<StreamInfo> Streams(const SchemaPtr& schema, const std::string& name = "orders",
                                const std::string& source_type = "") {
  StreamInfo stream;
  stream.name = name;
  stream.schema = schema;
  stream.source_type = source_type;
  return {stream};
}

// Runs every test for both load methods.
class MysqlSinkTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    db_ = std::make_unique<TestDatabase>();
    if (!db_->ok())
      GTEST_SKIP() << "test servers not available (SLUICE_TEST_SERVERS_ENV)";
  }

  std::string Yaml(const std::string& extra) const {
    return db_->ConnectionYaml() + "method: " + GetParam() + "\n" + extra;
  }

  Status Write(const std::string& extra, const SchemaPtr& schema,
               const std::vector<sluice::testing::Row>& rows, BadRecordHandler* handler = nullptr,
               const std::string& source_type = "") {
    SLUICE_ASSIGN_OR_RETURN(std::unique_ptr<Sink> sink, MakeSink(Yaml(extra)));
    JobContext context = MakeContext(handler != nullptr ? handler : &fail_);
    std::unique_ptr<Batch> batch = MakeBatch(schema, rows);
    return WriteAll(*sink, context, Streams(schema, "orders", source_type), {batch.get()});
  }

  // What `sluice check` reports for writing `schema`'s stream.
  Result<CheckReport> Check(const std::string& extra, const SchemaPtr& schema,
                            const std::string& source_type = "") {
    SLUICE_ASSIGN_OR_RETURN(std::unique_ptr<Sink> sink, MakeSink(Yaml(extra)));
    JobContext context = MakeContext(&fail_);
    CheckReport report;
    SLUICE_RETURN_IF_ERROR(sink->Check(context, Streams(schema, "orders", source_type), &report));
    return report;
  }

  // "mysql host:port: table 'db.t'": how messages name table `t`.
  std::string TableName(const std::string& table) const {
    const auto& mysql = db_->servers().mysql;
    return fmt::format("mysql {}:{}: table '{}.{}'", mysql.host, mysql.port, db_->name(), table);
  }

  std::unique_ptr<TestDatabase> db_;
  RecordAndFail fail_;
};

TEST_P(MysqlSinkTest, AppendCreatesTheTableAndWritesEveryRow) {
  TestDatabase& db = *db_;
  ASSERT_OK(Write("", OrdersSchema(),
                  {{"1", "a\tb\nc\\d'e\"f", "1.50"},
                   {"2", std::nullopt, std::nullopt},
                   {"3", "", "-0.01"},
                   {"4", "\\N", "0.00"},
                   {"5", "😀 Grüße", "9999999999.99"}}));
  EXPECT_EQ(db.Exec("SHOW CREATE TABLE orders"),
            "orders\tCREATE TABLE `orders` (\\n  `id` bigint(20) NOT NULL,\\n  `name` longtext "
            "DEFAULT NULL,\\n  `amount` decimal(12,2) DEFAULT NULL,\\n  PRIMARY KEY (`id`)\\n) "
            "ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin\n");
  EXPECT_EQ(db.Exec("SELECT id, HEX(name), name IS NULL, amount FROM orders ORDER BY id"),
            "1\t6109620A635C6427652266\t0\t1.50\n"
            "2\tNULL\t1\tNULL\n"
            "3\t\t0\t-0.01\n"
            "4\t5C4E\t0\t0.00\n"
            "5\tF09F9880204772C3BCC39F65\t0\t9999999999.99\n");
}

TEST_P(MysqlSinkTest, EmptyStreamCreatesAnEmptyTable) {
  TestDatabase& db = *db_;
  ASSERT_OK(Write("", OrdersSchema(), {}));
  EXPECT_EQ(db.Exec("SELECT COUNT(*) FROM orders"), "0\n");
}

TEST_P(MysqlSinkTest, AppendReportsDuplicateKeysWithTableAndKey) {
  TestDatabase& db = *db_;
  db.Exec(
      "CREATE TABLE orders (id BIGINT PRIMARY KEY, name VARCHAR(5), amount DECIMAL(12,2)); "
      "INSERT INTO orders VALUES (2, 'old', 1)");
  Status status = Write("", OrdersSchema(), {{"1", "x", "1"}, {"2", "y", "2"}, {"3", "z", "3"}});
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.code(), StatusCode::kDataError);
  const auto& mysql = db.servers().mysql;
  EXPECT_EQ(status.message(),
            fmt::format("mysql {}:{}: table '{}.orders' key=(2): Duplicate entry '2' for key "
                        "'PRIMARY' (error 1062){}",
                        mysql.host, mysql.port, db.name(), kDuplicateKeyAdvice));
  ASSERT_EQ(fail_.records().size(), 1u);
  EXPECT_EQ(fail_.records()[0].location, db.name() + ".orders key=(2)");
  // Nothing of the failed transaction stays.
  EXPECT_EQ(db.Exec("SELECT id, name FROM orders ORDER BY id"), "2\told\n");
}

TEST_P(MysqlSinkTest, BadRowsAreSkippedUnderTheSkipPolicy) {
  TestDatabase& db = *db_;
  db.Exec(
      "CREATE TABLE orders (id BIGINT PRIMARY KEY, name VARCHAR(5), amount DECIMAL(4,2)); "
      "INSERT INTO orders VALUES (2, 'old', 1)");
  RecordAndSkip skip;
  ASSERT_OK(Write("", OrdersSchema(),
                  {{"1", "ok", "1"},
                   {"2", "dup", "2"},
                   {"3", "much too long", "3"},
                   {"4", "ok", "123.45"},
                   {"5", "ok", "5"}},
                  &skip));
  EXPECT_EQ(db.Exec("SELECT id, name, amount FROM orders ORDER BY id"),
            "1\tok\t1.00\n2\told\t1.00\n5\tok\t5.00\n");
  std::vector<BadRecord> records = skip.records();
  ASSERT_EQ(records.size(), 3u);
  const auto& mysql = db.servers().mysql;
  std::string prefix =
      fmt::format("mysql {}:{}: table '{}.orders' ", mysql.host, mysql.port, db.name());
  EXPECT_EQ(records[0].reason.message(),
            prefix + "key=(2): Duplicate entry '2' for key 'PRIMARY' (error 1062)" +
                std::string(kDuplicateKeyAdvice));
  EXPECT_EQ(records[1].reason.message(),
            prefix + (GetParam() == "insert"
                          ? "key=(3): Data too long for column 'name' at row 1 (error 1406)"
                          : "key=(3): Data truncated for column 'name' (error 1265)"));
  EXPECT_EQ(records[2].reason.message(),
            prefix + (GetParam() == "insert"
                          ? "key=(4): Out of range value for column 'amount' at row 1 (error "
                            "1264)"
                          : "key=(4): Out of range value for column 'amount' (error 1264)"));
  for (const BadRecord& record : records) {
    EXPECT_THAT(record.reason.message(), Not(HasSubstr(mysql.password)));
  }
}

TEST_P(MysqlSinkTest, UpsertInsertsAndUpdatesByPrimaryKey) {
  TestDatabase& db = *db_;
  db.Exec(
      "CREATE TABLE orders (id BIGINT PRIMARY KEY, name VARCHAR(20), amount DECIMAL(12,2), "
      "note VARCHAR(10) DEFAULT 'kept'); "
      "INSERT INTO orders (id, name, amount) VALUES (1, 'one', 1), (2, 'two', 2)");
  ASSERT_OK(Write("mode: upsert\n", OrdersSchema(),
                  {{"2", "TWO", "22"}, {"3", "three", "3"}, {"3", "THREE", "33"}}));
  EXPECT_EQ(db.Exec("SELECT id, name, amount, note FROM orders ORDER BY id"),
            "1\tone\t1.00\tkept\n2\tTWO\t22.00\tkept\n3\tTHREE\t33.00\tkept\n");
  // No temporary table survives the writer's session.
  EXPECT_EQ(db.Exec("SHOW TABLES"), "_sluice_progress\norders\n");
}

TEST_P(MysqlSinkTest, UpsertWithoutPrimaryKeyIsAConfigError) {
  TestDatabase& db = *db_;
  db.Exec("CREATE TABLE orders (id BIGINT, name VARCHAR(20), amount DECIMAL(12,2))");
  Status status = Write("mode: upsert\n", OrdersSchema(), {{"1", "a", "1"}});
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.code(), StatusCode::kInvalidConfig);
  const auto& mysql = db.servers().mysql;
  EXPECT_EQ(status.message(),
            fmt::format("mysql {}:{}: mode upsert needs a primary key, and table '{}.orders' has "
                        "none",
                        mysql.host, mysql.port, db.name()));
}

TEST_P(MysqlSinkTest, OverwriteSwapsAtomicallyAndAbortKeepsTheOldTable) {
  TestDatabase& db = *db_;
  db.Exec(
      "CREATE TABLE orders (id BIGINT PRIMARY KEY, name VARCHAR(20), amount DECIMAL(12,2)); "
      "INSERT INTO orders SELECT seq, 'old', 1 FROM seq_1_to_1000");
  SchemaPtr schema = OrdersSchema();
  std::vector<sluice::testing::Row> rows;
  for (int i = 1; i <= 3000; ++i)
    rows.push_back({std::to_string(i), "new", "2.00"});
  std::unique_ptr<Batch> batch = MakeBatch(schema, rows);

  // A reader polls the table all along: it must only ever see all old rows or all new ones.
  ConnectionOptions options;
  options.host = db.servers().mysql.host;
  options.port = db.servers().mysql.port;
  options.user = db.servers().mysql.user;
  options.password = Secret(db.servers().mysql.password);
  options.database = db.name();
  std::atomic<bool> stop{false};
  std::set<std::string> seen;
  struct Joiner {
    std::atomic<bool>& stop;
    std::thread thread;
    ~Joiner() {
      stop.store(true);
      if (thread.joinable())
        thread.join();
    }
  } watcher{stop, std::thread([&] {
              Result<Connection> connection = Connection::Open(options);
              if (!connection.ok())
                return;
              while (!stop.load()) {
                Result<std::optional<TextRow>> row = connection->QueryRow(
                    "SELECT CONCAT(COUNT(*), ' ', MIN(name), ' ', MAX(name)) FROM orders",
                    "watching");
                if (row.ok() && *row && (**row)[0])
                  seen.insert(*(**row)[0]);
              }
            })};

  // Aborted: the old table stays untouched, and so does the staging table, for a resumed run.
  {
    ASSERT_OK_AND_ASSIGN(std::unique_ptr<Sink> sink, MakeSink(Yaml("mode: overwrite\n")));
    JobContext context = MakeContext(&fail_);
    ASSERT_OK(sink->Open(context, Streams(schema)));
    EXPECT_EQ(db.Exec("SHOW TABLES"), "_sluice_progress\n_sluice_staging_orders\norders\n");
    ASSERT_OK_AND_ASSIGN(std::unique_ptr<SinkWriter> writer, sink->CreateWriter(0));
    ASSERT_OK(writer->Write(*batch));
    ASSERT_OK(writer->Prepare());
    ASSERT_OK(writer->Commit({}));
    writer.reset();
    sink->Abort();
    EXPECT_EQ(db.Exec("SHOW TABLES"), "_sluice_progress\n_sluice_staging_orders\norders\n");
    EXPECT_EQ(db.Exec("SELECT COUNT(*) FROM _sluice_staging_orders"), "3000\n");
    EXPECT_EQ(db.Exec("SELECT COUNT(*), MIN(name) FROM orders"), "1000\told\n");
  }
  // Finished (a fresh run: the staging table starts empty again): the new rows replace the old
  // ones in one step.
  {
    ASSERT_OK_AND_ASSIGN(std::unique_ptr<Sink> sink, MakeSink(Yaml("mode: overwrite\n")));
    JobContext context = MakeContext(&fail_);
    ASSERT_OK(sink->Open(context, Streams(schema)));
    ASSERT_OK_AND_ASSIGN(std::unique_ptr<SinkWriter> writer, sink->CreateWriter(0));
    ASSERT_OK(writer->Write(*batch));
    ASSERT_OK(writer->Prepare());
    ASSERT_OK(writer->Commit({}));
    writer.reset();
    EXPECT_EQ(db.Exec("SELECT COUNT(*), MIN(name) FROM orders"), "1000\told\n");
    ASSERT_OK(sink->Finish());
  }
  stop.store(true);
  watcher.thread.join();
  EXPECT_EQ(db.Exec("SHOW TABLES"), "_sluice_progress\norders\n");
  EXPECT_EQ(db.Exec("SELECT COUNT(*), MIN(name), MAX(name) FROM orders"), "3000\tnew\tnew\n");
  for (const std::string& state : seen) {
    EXPECT_TRUE(state == "1000 old old" || state == "3000 new new") << state;
  }
}

TEST_P(MysqlSinkTest, ExistingTableMissingColumnsIsAConfigErrorListingBoth) {
  TestDatabase& db = *db_;
  db.Exec("CREATE TABLE orders (id BIGINT PRIMARY KEY, title VARCHAR(20))");
  Status status = Write("", OrdersSchema(), {{"1", "a", "1"}});
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.code(), StatusCode::kInvalidConfig);
  const auto& mysql = db.servers().mysql;
  EXPECT_EQ(status.message(),
            fmt::format("mysql {}:{}: table '{}.orders' has no columns name, amount (table "
                        "columns: id, title; stream 'orders' columns: id, name, amount)",
                        mysql.host, mysql.port, db.name()));
}

TEST_P(MysqlSinkTest, MissingTableWithoutCreateIsNotFound) {
  TestDatabase& db = *db_;
  Status status = Write("create: false\n", OrdersSchema(), {{"1", "a", "1"}});
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.code(), StatusCode::kNotFound);
  const auto& mysql = db.servers().mysql;
  EXPECT_EQ(status.message(),
            fmt::format("mysql {}:{}: table '{}.orders' does not exist and 'create' is false",
                        mysql.host, mysql.port, db.name()));
}

TEST_P(MysqlSinkTest, ValuesMysqlCannotHoldAreBadRecords) {
  TestDatabase& db = *db_;
  SchemaPtr schema = std::make_shared<Schema>(
      std::vector<Field>{{"id", DataType::Int32(), false}, {"x", DataType::Float64(), true}},
      std::vector<int>{0});
  RecordAndSkip skip;
  ASSERT_OK(Write("table: t\n", schema, {{"1", "NaN"}, {"2", "1.5"}, {"3", "-Infinity"}}, &skip));
  EXPECT_EQ(db.Exec("SELECT id, x FROM t ORDER BY id"), "2\t1.5\n");
  ASSERT_EQ(skip.records().size(), 2u);
  const auto& mysql = db.servers().mysql;
  EXPECT_EQ(skip.records()[0].reason.message(),
            fmt::format("mysql {}:{}: table '{}.t' key=(1): column 'x': MySQL cannot store NaN "
                        "or infinity",
                        mysql.host, mysql.port, db.name()));
}

TEST_P(MysqlSinkTest, CommitsEveryCommitRows) {
  TestDatabase& db = *db_;
  SchemaPtr schema = OrdersSchema();
  std::vector<sluice::testing::Row> rows;
  for (int i = 1; i <= 2500; ++i)
    rows.push_back({std::to_string(i), "n", "1"});
  std::unique_ptr<Batch> batch = MakeBatch(schema, rows);
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Sink> sink, MakeSink(Yaml("commit_rows: 1000\n")));
  JobContext context = MakeContext(&fail_);
  // commit_rows applies to at-least-once only: exactly-once commits at checkpoints.
  context.delivery = DeliveryGuarantee::kAtLeastOnce;
  ASSERT_OK(sink->Open(context, Streams(schema)));
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<SinkWriter> writer, sink->CreateWriter(0));
  ASSERT_OK(writer->Write(*batch));
  // 2,500 rows written in one batch: committed once past 1,000 rows, the rest still open.
  EXPECT_EQ(db.Exec("SELECT COUNT(*) > 0 AND COUNT(*) < 2500 FROM orders"), "1\n");
  writer->Abort();
  std::string kept = db.Exec("SELECT COUNT(*) FROM orders");
  EXPECT_NE(kept, "0\n");
  EXPECT_NE(kept, "2500\n");
}

SchemaPtr KeyedSchema(const Field& value) {
  return std::make_shared<Schema>(std::vector<Field>{{"id", DataType::Int32(), false}, value},
                                  std::vector<int>{0});
}

// Issue 10: a TIME of 838:59:59.999999 (MariaDB's last) was refused as outside MySQL's range.
TEST_P(MysqlSinkTest, Issue10TimeUpToMariadbsLastMicrosecondArrives) {
  TestDatabase& db = *db_;
  ASSERT_OK(Write("table: t\n", KeyedSchema({"t", DataType::Time(6), true}),
                  {{"1", "838:59:59.999999"}, {"2", "-838:59:59.999999"}, {"3", "00:00:00.5"}}));
  EXPECT_EQ(db.Exec("SELECT id, t FROM t ORDER BY id"),
            "1\t838:59:59.999999\n2\t-838:59:59.999999\n3\t00:00:00.500000\n");
}

// Issue 10: YEAR 0000 arrived as 2000 through LOAD DATA, which reads the text '0' as 2000;
// values 1..99 MySQL turns into 1970..2069 by both methods.
TEST_P(MysqlSinkTest, Issue10YearsArriveAsTheyAreOrAreRefused) {
  TestDatabase& db = *db_;
  db.Exec("CREATE TABLE t (id INT PRIMARY KEY, y YEAR)");
  RecordAndSkip skip;
  ASSERT_OK(Write("table: t\n", KeyedSchema({"y", DataType::Int16(), true}),
                  {{"1", "0"},
                   {"2", "1901"},
                   {"3", "2155"},
                   {"4", "5"},
                   {"5", "70"},
                   {"6", "1800"}},
                  &skip));
  EXPECT_EQ(db.Exec("SELECT id, y FROM t ORDER BY id"), "1\t0000\n2\t1901\n3\t2155\n");
  ASSERT_EQ(skip.records().size(), 3u);
  EXPECT_EQ(skip.records()[0].reason.message(),
            TableName("t") + " key=(4): column 'y': 5 is outside MySQL's year range (0, "
                             "1901..2155); MySQL would store 2005");
  EXPECT_EQ(skip.records()[1].reason.message(),
            TableName("t") + " key=(5): column 'y': 70 is outside MySQL's year range (0, "
                             "1901..2155); MySQL would store 1970");
}

// Issue 10: numeric(10,3) 1.005 into an existing DECIMAL(5,2) became 1.01 and `check` was silent.
TEST_P(MysqlSinkTest, Issue10NarrowerDecimalColumnIsWarnedAndItsRoundedValuesRefused) {
  TestDatabase& db = *db_;
  db.Exec("CREATE TABLE t (id INT PRIMARY KEY, v DECIMAL(5,2), d DATETIME, day DATE)");
  auto schema = std::make_shared<Schema>(std::vector<Field>{{"id", DataType::Int32(), false},
                                                            {"v", DataType::Decimal(10, 3), true},
                                                            {"d", DataType::Timestamp(6), true},
                                                            {"day", DataType::Timestamp(6), true}},
                                         std::vector<int>{0});
  ASSERT_OK_AND_ASSIGN(CheckReport report, Check("table: t\n", schema));
  EXPECT_THAT(report.notes,
              ::testing::Contains(fmt::format(
                  "mysql table '{}.t' column 'v': decimal(10,3) values with digits beyond the 2 "
                  "fractional digits of decimal(5,2) would be rounded by MySQL: they are refused "
                  "as data errors",
                  db.name())));
  EXPECT_THAT(report.notes,
              ::testing::Contains(fmt::format(
                  "mysql table '{}.t' column 'd': timestamp values with more fractional seconds "
                  "than the 0 digits of datetime would be cut by MySQL: they are refused as data "
                  "errors",
                  db.name())));
  RecordAndSkip skip;
  ASSERT_OK(Write("table: t\n", schema,
                  {{"1", "1.005", "2024-01-01 10:00:00", "2024-01-01 00:00:00"},
                   {"2", "1.010", "2024-01-01 10:00:00.7", "2024-01-01 00:00:00"},
                   {"3", "-0.125", "2024-01-01 10:00:00", "2024-01-01 10:00:00"},
                   {"4", "-2.500", "2024-01-01 10:00:01", "2024-01-02 00:00:00"}},
                  &skip));
  EXPECT_EQ(db.Exec("SELECT id, v, d, day FROM t ORDER BY id"),
            "4\t-2.50\t2024-01-01 10:00:01\t2024-01-02\n");
  std::vector<std::string> reasons;
  for (const BadRecord& record : skip.records())
    reasons.push_back(record.reason.message());
  EXPECT_THAT(reasons,
              ::testing::ElementsAre(
                  TableName("t") + " key=(1): column 'v': 1.005 would be rounded to fit "
                                   "decimal(5,2)",
                  TableName("t") + " key=(2): column 'd': 2024-01-01 10:00:00.7 has more "
                                   "fractional seconds than datetime keeps",
                  TableName("t") + " key=(3): column 'v': -0.125 would be rounded to fit "
                                   "decimal(5,2)"));
}

// Issue 10: float64 0.1 into an existing FLOAT column became 0.10000000149 (the PostgreSQL sink
// refuses the same job at Open).
TEST_P(MysqlSinkTest, Issue10FloatColumnCannotHoldDoublesIsAConfigErrorAtOpenAndCheck) {
  TestDatabase& db = *db_;
  db.Exec("CREATE TABLE t (id INT PRIMARY KEY, x FLOAT)");
  SchemaPtr schema = KeyedSchema({"x", DataType::Float64(), true});
  std::string expected =
      TableName("t") + ": column 'x' is float, which cannot hold the stream's float64 values "
                       "exactly (it keeps 24 significant bits; use a wider column type or cast "
                       "the column in the transform)";
  Status written = Write("table: t\n", schema, {{"1", "0.1"}});
  EXPECT_EQ(written.code(), StatusCode::kInvalidConfig);
  EXPECT_EQ(written.message(), expected);
  Result<CheckReport> checked = Check("table: t\n", schema);
  EXPECT_EQ(checked.status().code(), StatusCode::kInvalidConfig);
  EXPECT_EQ(checked.status().message(), expected);
  EXPECT_EQ(db.Exec("SELECT COUNT(*) FROM t"), "0\n");
  // float32 fits FLOAT exactly.
  ASSERT_OK(Write("table: t\n", KeyedSchema({"x", DataType::Float32(), true}), {{"1", "0.1"}}));
  EXPECT_EQ(db.Exec("SELECT id, x FROM t"), "1\t0.1\n");
}

// Issue 10: PostgreSQL's float -0 arrived in MySQL as 0. MariaDB cannot store -0 in a DOUBLE (the
// probe below), so the sink refuses it unless the job accepts 0.
TEST_P(MysqlSinkTest, Issue10NegativeZeroIsRefusedUnlessTheJobAcceptsZero) {
  TestDatabase& db = *db_;
  // atan2(-0, -1) is -pi, atan2(+0, -1) is +pi: the stored zero has lost its sign.
  db.Exec("CREATE TABLE probe (d DOUBLE, f FLOAT); INSERT INTO probe VALUES (-0e0, -0e0)");
  EXPECT_EQ(db.Exec("SELECT ATAN2(-0e0, -1) < 0, ATAN2(d, -1) > 0, ATAN2(f, -1) > 0 FROM probe"),
            "1\t1\t1\n");
  SchemaPtr schema = KeyedSchema({"x", DataType::Float64(), true});
  RecordAndSkip skip;
  ASSERT_OK(Write("table: t\n", schema, {{"1", "-0"}, {"2", "0.5"}}, &skip));
  EXPECT_EQ(db.Exec("SELECT id, x FROM t ORDER BY id"), "2\t0.5\n");
  ASSERT_EQ(skip.records().size(), 1u);
  EXPECT_EQ(skip.records()[0].reason.message(),
            TableName("t") + " key=(1): column 'x': MySQL and MariaDB store a float's -0 as 0 "
                             "(set negative_zero: zero to accept that)");
  ASSERT_OK(Write("table: t\nnegative_zero: zero\n", schema, {{"3", "-0"}}));
  EXPECT_EQ(db.Exec("SELECT id, x FROM t ORDER BY id"), "2\t0.5\n3\t0\n");
}

// Issue 10: PostgreSQL's boolean into an existing MySQL TINYINT(1) / BOOLEAN column.
TEST_P(MysqlSinkTest, Issue10BooleansGoIntoExistingTinyintColumns) {
  TestDatabase& db = *db_;
  db.Exec("CREATE TABLE t (id INT PRIMARY KEY, a TINYINT(1), b BOOLEAN)");
  auto schema = std::make_shared<Schema>(std::vector<Field>{{"id", DataType::Int32(), false},
                                                            {"a", DataType::Bool(), true},
                                                            {"b", DataType::Bool(), true}},
                                         std::vector<int>{0});
  ASSERT_OK(Write("table: t\n", schema,
                  {{"1", "true", "false"}, {"2", "false", "true"}, {"3", std::nullopt, "true"}},
                  nullptr, "postgres"));
  EXPECT_EQ(db.Exec("SELECT id, a, b FROM t ORDER BY id"), "1\t1\t0\n2\t0\t1\n3\tNULL\t1\n");
}

SchemaPtr TextKeySchema(const std::string& collation = "") {
  return std::make_shared<Schema>(
      std::vector<Field>{{"k", DataType::String(20), false, "", collation},
                         {"v", DataType::Int32(), true}},
      std::vector<int>{0});
}

const std::vector<sluice::testing::Row> kDistinctKeys = {
    {"a", "1"}, {"A", "2"}, {"a ", "3"}, {"ä", "4"}, {"b", "5"}, {"B", "6"}};

// Issue 10: in a database whose default collation is utf8mb4_general_ci, source keys 'a', 'A',
// 'a ', 'ä' collapsed into one row: mode upsert said "6 written" and the table held 2 rows.
TEST_P(MysqlSinkTest, Issue10CreatedKeyColumnsKeepSourceKeysApart) {
  TestDatabase& db = *db_;
  db.Exec(fmt::format("ALTER DATABASE `{}` DEFAULT CHARACTER SET utf8mb4 COLLATE "
                      "utf8mb4_general_ci",
                      db.name()));
  for (const char* mode : {"upsert", "append"}) {
    std::string table = std::string("t_") + mode;
    ASSERT_OK(Write(fmt::format("table: {}\nmode: {}\n", table, mode), TextKeySchema(),
                    kDistinctKeys, nullptr, "postgres"));
    EXPECT_EQ(db.Exec(fmt::format("SELECT COUNT(*), COUNT(DISTINCT CAST(k AS BINARY)) FROM {}",
                                  table)),
              "6\t6\n")
        << mode;
    EXPECT_THAT(db.Exec("SHOW CREATE TABLE " + table),
                ::testing::HasSubstr("`k` varchar(20) CHARACTER SET utf8mb4 COLLATE "
                                     "utf8mb4_nopad_bin NOT NULL"));
  }
  // Upserting the same keys again updates the six rows.
  ASSERT_OK(Write("table: t_upsert\nmode: upsert\n", TextKeySchema(), kDistinctKeys, nullptr,
                  "postgres"));
  EXPECT_EQ(db.Exec("SELECT COUNT(*), SUM(v) FROM t_upsert"), "6\t21\n");
}

// Issue 10: an existing table whose key collation would merge distinct source keys is refused at
// Open and by `check`, with the statement that fixes it.
TEST_P(MysqlSinkTest, Issue10ExistingKeyCollationThatMergesKeysIsRefusedWithTheFix) {
  TestDatabase& db = *db_;
  db.Exec(
      "CREATE TABLE t (k VARCHAR(20) NOT NULL PRIMARY KEY, v INT) DEFAULT CHARSET=utf8mb4 "
      "COLLATE=utf8mb4_general_ci");
  std::string expected = fmt::format(
      "{}: column 'k' of key 'PRIMARY' has collation utf8mb4_general_ci, which treats different "
      "keys as equal (case, accents, trailing spaces: 'a' = 'A' = 'a '): rows whose keys differ "
      "only so would be merged or refused. Give it a binary collation that keeps trailing "
      "spaces, e.g. ALTER TABLE `{}`.`t` MODIFY `k` varchar(20) CHARACTER SET utf8mb4 COLLATE "
      "utf8mb4_nopad_bin NOT NULL (with the column's other attributes)",
      TableName("t"), db.name());
  for (const char* mode : {"upsert", "append", "overwrite"}) {
    std::string extra = fmt::format("table: t\nmode: {}\n", mode);
    Status written = Write(extra, TextKeySchema(), kDistinctKeys, nullptr, "postgres");
    EXPECT_EQ(written.code(), StatusCode::kInvalidConfig) << mode;
    EXPECT_EQ(written.message(), expected) << mode;
    Result<CheckReport> checked = Check(extra, TextKeySchema(), "postgres");
    EXPECT_EQ(checked.status().message(), expected) << mode;
  }
  // A MySQL source whose key has that very collation cannot hold keys it would merge.
  ASSERT_OK(Write("table: t\nmode: upsert\n", TextKeySchema("utf8mb4_general_ci"),
                  {{"a", "1"}, {"b", "2"}}, nullptr, "mysql"));
  // utf8mb4_bin ignores trailing spaces only.
  db.Exec(
      "CREATE TABLE t2 (k VARCHAR(20) NOT NULL, v INT, UNIQUE KEY by_k (k)) COLLATE "
      "utf8mb4_bin");
  EXPECT_THAT(Write("table: t2\nmode: upsert\n", TextKeySchema(), kDistinctKeys, nullptr,
                    "postgres")
                  .message(),
              ::testing::HasSubstr("column 'k' of key 'by_k' has collation utf8mb4_bin, which "
                                   "ignores trailing spaces ('a' = 'a ')"));
  // The suggested fix lets the job through with every key.
  db.Exec("DELETE FROM t; ALTER TABLE t MODIFY k varchar(20) CHARACTER SET utf8mb4 COLLATE "
          "utf8mb4_nopad_bin NOT NULL");
  ASSERT_OK(Write("table: t\nmode: upsert\n", TextKeySchema(), kDistinctKeys, nullptr,
                  "postgres"));
  EXPECT_EQ(db.Exec("SELECT COUNT(*) FROM t"), "6\n");
}

// Issue 10: rows that the key's collation would merge never vanish silently. A stream that says
// its keys come from a utf8mb4_general_ci column gets that collation, and a bug upstream that
// sends 'a' and 'A' anyway fails the upsert instead of merging them.
TEST_P(MysqlSinkTest, Issue10UpsertRefusesToMergeRowsWhoseKeysDiffer) {
  TestDatabase& db = *db_;
  Status status = Write("table: t\nmode: upsert\n", TextKeySchema("utf8mb4_general_ci"),
                        {{"x", "1"}, {"a", "1"}, {"A", "2"}}, nullptr, "mysql");
  EXPECT_EQ(status.code(), StatusCode::kDataError);
  EXPECT_EQ(status.message(),
            TableName("t") + ": rows whose keys differ (in case, accents or trailing spaces) are "
                             "equal under the collation of key (k) and would be merged into "
                             "one, e.g. key=(a); give the key columns a binary NO PAD collation "
                             "(utf8mb4_0900_bin or utf8mb4_nopad_bin)");
  EXPECT_EQ(db.Exec("SELECT COUNT(*) FROM t"), "0\n");
  // The same key sent twice is an upsert, not a collision.
  ASSERT_OK(Write("table: t\nmode: upsert\n", TextKeySchema("utf8mb4_general_ci"),
                  {{"a", "1"}, {"a", "2"}}, nullptr, "mysql"));
  EXPECT_EQ(db.Exec("SELECT k, v FROM t"), "a\t2\n");
}

INSTANTIATE_TEST_SUITE_P(Methods, MysqlSinkTest, ::testing::Values("load_data", "insert"));

}  // namespace
}  // namespace sluice::connectors::mysql::testing
