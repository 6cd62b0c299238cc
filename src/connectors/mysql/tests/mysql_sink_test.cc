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

std::vector<StreamInfo> Streams(const SchemaPtr& schema, const std::string& name = "orders") {
  StreamInfo stream;
  stream.name = name;
  stream.schema = schema;
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
               const std::vector<sluice::testing::Row>& rows, BadRecordHandler* handler = nullptr) {
    SLUICE_ASSIGN_OR_RETURN(std::unique_ptr<Sink> sink, MakeSink(Yaml(extra)));
    JobContext context = MakeContext(handler != nullptr ? handler : &fail_);
    std::unique_ptr<Batch> batch = MakeBatch(schema, rows);
    return WriteAll(*sink, context, Streams(schema), {batch.get()});
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
                        "'PRIMARY' (error 1062)",
                        mysql.host, mysql.port, db.name()));
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
            prefix + "key=(2): Duplicate entry '2' for key 'PRIMARY' (error 1062)");
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

INSTANTIATE_TEST_SUITE_P(Methods, MysqlSinkTest, ::testing::Values("load_data", "insert"));

}  // namespace
}  // namespace sluice::connectors::mysql::testing
