// mode: cdc against the real server (wal_level=logical): pgoutput messages parsed from their
// documented byte layout; changes of every type arrive once, in commit order, across a stop
// and changes made while stopped, and fold into exactly what the snapshot source reads; the slot
// is confirmed after acknowledged checkpoints and, while idle, past WAL of tables not captured;
// an unchanged large (TOASTed) value survives an update; and the refusals say what to do.
#include <fmt/core.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <random>
#include <set>
#include <thread>

#include <unistd.h>

#include "connectors/postgres/pgoutput.h"
#include "connectors/postgres/tests/postgres_test_util.h"
#include "connectors/registry.h"
#include "core/endian.h"
#include "core/failpoint.h"
#include "testing/conformance/conformance_job.h"
#include "testing/crash_loop.h"
#include "testing/gtest_util.h"
#include "testing/memory_connector.h"
#include "testing/stop_at_batch.h"
#include "testing/temp_dir.h"

namespace sluice::connectors {
void RegisterPostgresConnector(ConnectorRegistry& registry);
}  // namespace sluice::connectors

namespace sluice::connectors::postgres {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using sluice::testing::Row;
using sluice::testing::TempDir;
using sluice::testing::conformance::BackgroundJob;
using sluice::testing::conformance::JobSpec;
using sluice::testing::conformance::YamlLinesAsFlow;
using testing::Dump;
using testing::TestDatabase;

// --- pgoutput, byte by byte -----------------------------------------------------------------

class MessageBuilder {
 public:
  MessageBuilder& Byte(char c) {
    bytes_.push_back(c);
    return *this;
  }
  template <typename T>
  MessageBuilder& Int(T value) {
    char buffer[sizeof(T)];
    WriteBigEndian(value, buffer);
    bytes_.append(buffer, sizeof(T));
    return *this;
  }
  MessageBuilder& CString(std::string_view text) {
    bytes_.append(text);
    bytes_.push_back('\0');
    return *this;
  }
  MessageBuilder& Text(std::string_view text) {
    Byte('t').Int<int32_t>(static_cast<int32_t>(text.size()));
    bytes_.append(text);
    return *this;
  }
  const std::string& bytes() const { return bytes_; }

 private:
  std::string bytes_;
};

TEST(PgOutputTest, LsnsPrintAndParseAsPostgresDoes) {
  EXPECT_EQ(FormatLsn(0x16B374D848), "16/B374D848");
  EXPECT_EQ(FormatLsn(0), "0/0");
  Lsn lsn = 0;
  ASSERT_TRUE(ParseLsn("16/B374D848", &lsn));
  EXPECT_EQ(lsn, 0x16B374D848u);
  EXPECT_FALSE(ParseLsn("16B374D848", &lsn));
  EXPECT_FALSE(ParseLsn("x/1", &lsn));
  EXPECT_FALSE(ParseLsn("1/", &lsn));
}

TEST(PgOutputTest, ParsesEachMessageOfATransaction) {
  PgOutputMessage message;
  MessageBuilder begin;
  begin.Byte('B').Int<uint64_t>(0x100).Int<int64_t>(1'000'000).Int<uint32_t>(42);
  ASSERT_OK(ParsePgOutput(begin.bytes(), &message));
  EXPECT_EQ(message.kind, PgOutputMessage::Kind::kBegin);
  EXPECT_EQ(message.lsn, 0x100u);
  EXPECT_EQ(message.commit_time_us, 1'000'000 + kPostgresEpochOffsetUs);
  EXPECT_EQ(message.xid, 42u);

  MessageBuilder relation;
  relation.Byte('R').Int<uint32_t>(16384).CString("shop").CString("orders").Byte('d');
  relation.Int<int16_t>(2);
  relation.Byte(1).CString("id").Int<uint32_t>(23).Int<int32_t>(-1);
  relation.Byte(0).CString("note").Int<uint32_t>(25).Int<int32_t>(-1);
  ASSERT_OK(ParsePgOutput(relation.bytes(), &message));
  EXPECT_EQ(message.kind, PgOutputMessage::Kind::kRelation);
  EXPECT_EQ(message.relation, 16384u);
  EXPECT_EQ(message.schema, "shop");
  EXPECT_EQ(message.table, "orders");
  ASSERT_EQ(message.columns.size(), 2u);
  EXPECT_TRUE(message.columns[0].key);
  EXPECT_EQ(message.columns[1].name, "note");
  EXPECT_FALSE(message.columns[1].key);
  EXPECT_EQ(message.columns[1].type_oid, 25u);

  MessageBuilder insert;
  insert.Byte('I').Int<uint32_t>(16384).Byte('N').Int<int16_t>(2).Text("7").Byte('n');
  ASSERT_OK(ParsePgOutput(insert.bytes(), &message));
  EXPECT_EQ(message.kind, PgOutputMessage::Kind::kInsert);
  ASSERT_EQ(message.new_tuple.size(), 2u);
  EXPECT_EQ(message.new_tuple[0].data, "7");
  EXPECT_EQ(message.new_tuple[1].kind, PgOutputValue::Kind::kNull);

  // A key-changing update: the old key, then the new row with an unchanged TOASTed value.
  MessageBuilder update;
  update.Byte('U').Int<uint32_t>(16384).Byte('K').Int<int16_t>(2).Text("7").Byte('n');
  update.Byte('N').Int<int16_t>(2).Text("8").Byte('u');
  ASSERT_OK(ParsePgOutput(update.bytes(), &message));
  EXPECT_EQ(message.kind, PgOutputMessage::Kind::kUpdate);
  EXPECT_EQ(message.old_kind, 'K');
  EXPECT_EQ(message.old_tuple[0].data, "7");
  EXPECT_EQ(message.new_tuple[0].data, "8");
  EXPECT_EQ(message.new_tuple[1].kind, PgOutputValue::Kind::kUnchangedToast);

  MessageBuilder plain_update;  // REPLICA IDENTITY DEFAULT, key unchanged: no old tuple
  plain_update.Byte('U').Int<uint32_t>(16384).Byte('N').Int<int16_t>(1).Text("8");
  ASSERT_OK(ParsePgOutput(plain_update.bytes(), &message));
  EXPECT_EQ(message.old_kind, 0);
  EXPECT_TRUE(message.old_tuple.empty());

  MessageBuilder remove;
  remove.Byte('D').Int<uint32_t>(16384).Byte('O').Int<int16_t>(2).Text("8").Text("é😀");
  ASSERT_OK(ParsePgOutput(remove.bytes(), &message));
  EXPECT_EQ(message.kind, PgOutputMessage::Kind::kDelete);
  EXPECT_EQ(message.old_kind, 'O');
  EXPECT_EQ(message.old_tuple[1].data, "é😀");

  MessageBuilder truncate;
  truncate.Byte('T').Int<int32_t>(2).Byte(0).Int<uint32_t>(1).Int<uint32_t>(2);
  ASSERT_OK(ParsePgOutput(truncate.bytes(), &message));
  EXPECT_THAT(message.truncated, ElementsAre(1u, 2u));

  MessageBuilder commit;
  commit.Byte('C').Byte(0).Int<uint64_t>(0x100).Int<uint64_t>(0x130).Int<int64_t>(5);
  ASSERT_OK(ParsePgOutput(commit.bytes(), &message));
  EXPECT_EQ(message.kind, PgOutputMessage::Kind::kCommit);
  EXPECT_EQ(message.lsn, 0x100u);
  EXPECT_EQ(message.end_lsn, 0x130u);

  MessageBuilder origin;  // recognised and skipped
  origin.Byte('O').Int<uint64_t>(1).CString("node");
  ASSERT_OK(ParsePgOutput(origin.bytes(), &message));
  EXPECT_EQ(message.kind, PgOutputMessage::Kind::kOther);
}

TEST(PgOutputTest, ATruncatedMessageIsAnError) {
  PgOutputMessage message;
  MessageBuilder insert;
  insert.Byte('I').Int<uint32_t>(16384).Byte('N').Int<int16_t>(2).Text("7");  // one of two
  Status parsed = ParsePgOutput(insert.bytes(), &message);
  EXPECT_FALSE(parsed.ok());
  EXPECT_THAT(parsed.message(), HasSubstr("truncated"));
  std::string cut = MessageBuilder().Byte('I').Int<uint32_t>(1).Byte('N').Int<int16_t>(1).bytes();
  cut += "t";
  cut += std::string("\x00\x00\x00\x09" "abc", 7);  // says 9 bytes, has 3
  EXPECT_FALSE(ParsePgOutput(cut, &message).ok());
  EXPECT_FALSE(ParsePgOutput(MessageBuilder().Byte('B').Int<uint32_t>(1).bytes(), &message).ok());
}

// --- against the server -----------------------------------------------------------------------

class PostgresCdcTest : public ::testing::Test {
 protected:
  PostgresCdcTest() : sink_(std::make_shared<sluice::testing::MemorySinkData>()) {
    RegisterPostgresConnector(registry_);
    sluice::testing::RegisterMemoryConnector(
        registry_, std::make_shared<sluice::testing::MemorySourceData>(), sink_);
  }

  // A slot outlives its job and keeps its database from being dropped.
  ~PostgresCdcTest() override {
    Result<std::string> dropped = db_.TryExec(
        fmt::format("SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots "
                    "WHERE slot_name = '{}'",
                    SlotName()));
    EXPECT_TRUE(dropped.ok()) << dropped.status().ToString();
  }

  std::string SlotName() const { return "sluice_" + job_name_; }

  JobSpec Spec(const std::string& tables, const std::string& extra = "",
               const std::string& mode = "cdc") const {
    JobSpec spec;
    spec.name = job_name_;
    spec.source = fmt::format("{{type: postgres, {}, tables: [{}], mode: {}{}}}",
                              YamlLinesAsFlow(db_.ConnectionYaml()), tables, mode, extra);
    spec.sink = "{type: memory}";
    spec.state = state_.path();
    spec.parallelism = 1;
    spec.checkpoint_secs = 0.2;
    return spec;
  }

  // Waits until a walsender streams the job's slot: changes committed from then on are
  // captured. (A slot is also `active` while its creation waits for the transactions running
  // then to end; one of ours begun in that time would not be decoded.)
  void WaitForActiveSlot() {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (Trim(db_.Exec(fmt::format(
               "SELECT count(*) FROM pg_replication_slots s JOIN pg_stat_replication r ON "
               "r.pid = s.active_pid WHERE s.slot_name = '{}' AND r.state = 'streaming'",
               SlotName()))) != "1") {
      ASSERT_LT(std::chrono::steady_clock::now(), deadline) << "the slot never became active";
      std::this_thread::sleep_for(std::chrono::milliseconds(50));  // the next look
    }
  }

  Lsn Query(const std::string& sql) {
    Lsn lsn = 0;
    std::string text = Trim(db_.Exec(sql));
    EXPECT_TRUE(ParseLsn(text, &lsn)) << sql << " -> '" << text << "'";
    return lsn;
  }
  Lsn CurrentLsn() { return Query("SELECT pg_current_wal_lsn()"); }
  Lsn ConfirmedLsn() {
    return Query(fmt::format(
        "SELECT confirmed_flush_lsn FROM pg_replication_slots WHERE slot_name = '{}'",
        SlotName()));
  }

  static std::string Trim(std::string text) {
    while (!text.empty() && (text.back() == '\n' || text.back() == ' '))
      text.pop_back();
    return text;
  }

  std::vector<std::pair<RowKind, std::string>> KindsAndIds(const std::string& stream) {
    std::lock_guard<std::mutex> lock(sink_->mutex);
    std::vector<std::pair<RowKind, std::string>> out;
    const auto& rows = sink_->committed[stream];
    const auto& kinds = sink_->committed_kinds[stream];
    for (size_t i = 0; i < rows.size(); ++i)
      out.emplace_back(kinds[i], rows[i][0].value_or("NULL"));
    return out;
  }

  TestDatabase db_{"cdc"};
  std::string job_name_ = "cdc_" + std::to_string(::getpid());
  std::shared_ptr<sluice::testing::MemorySinkData> sink_;
  ConnectorRegistry registry_;
  TempDir state_;
};

constexpr std::string_view kTypesTable =
    "CREATE TABLE typed (id int PRIMARY KEY, name text, amount numeric(12,2), at timestamptz, "
    "day date, flag bool, data bytea, code char(4), doc jsonb, uid uuid, ratio float8, big bigint, "
    "span interval, tags text[])";

constexpr std::string_view kFirstChanges =
    "INSERT INTO typed VALUES (1, 'naïve café 😀', 1234567890.12, '2024-02-29 23:59:59.123456+05', "
    "'1999-12-31', true, '\\x00ff10', 'ab', '{\"k\": [1, \"ü\"]}', "
    "'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', 0.1, -9223372036854775808, '1 day 02:03:04', "
    "'{a,\"b c\"}');"
    "INSERT INTO typed (id) VALUES (2);"
    "BEGIN; UPDATE typed SET name = 'second 🚀', ratio = 'NaN' WHERE id = 1;"
    "UPDATE typed SET id = 3 WHERE id = 2; COMMIT;"
    "DELETE FROM typed WHERE id = 3;";

TEST_F(PostgresCdcTest, EveryChangeArrivesOnceInOrderAcrossAStopAndFoldsIntoTheTable) {
  db_.Exec(std::string(kTypesTable));
  JobSpec spec = Spec("typed");
  {
    BackgroundJob job(spec, registry_);
    WaitForActiveSlot();
    db_.Exec(std::string(kFirstChanges));
    ASSERT_TRUE(job.WaitForCommitted(6, std::chrono::seconds(60)));
    runtime::JobSummary summary = job.Stop();
    EXPECT_TRUE(summary.interrupted) << summary.status.ToString();
  }
  // Changes while no job runs wait in the slot.
  db_.Exec("INSERT INTO typed (id, name, tags) VALUES (4, NULL, '{}');"
           "UPDATE typed SET amount = -0.01, day = '0001-01-01' WHERE id = 1;");
  {
    BackgroundJob job(spec, registry_);
    ASSERT_TRUE(job.WaitForCommitted(2, std::chrono::seconds(60)));
    runtime::JobSummary summary = job.Stop();
    EXPECT_TRUE(summary.interrupted) << summary.status.ToString();
  }
  using K = RowKind;
  EXPECT_THAT(KindsAndIds("typed"),
              ElementsAre(std::pair{K::kInsert, "1"}, std::pair{K::kInsert, "2"},
                          std::pair{K::kUpdateAfter, "1"}, std::pair{K::kUpdateBefore, "2"},
                          std::pair{K::kUpdateAfter, "3"}, std::pair{K::kDelete, "3"},
                          std::pair{K::kInsert, "4"}, std::pair{K::kUpdateAfter, "1"}));

  // Folded by key, the changes are the table as the snapshot source reads it: every type's
  // value as the binary route reads it.
  std::map<std::string, Row> folded;
  {
    std::lock_guard<std::mutex> lock(sink_->mutex);
    const auto& rows = sink_->committed["typed"];
    const auto& kinds = sink_->committed_kinds["typed"];
    for (size_t i = 0; i < rows.size(); ++i) {
      if (kinds[i] == RowKind::kDelete || kinds[i] == RowKind::kUpdateBefore)
        folded.erase(*rows[i][0]);
      else
        folded[*rows[i][0]] = rows[i];
    }
  }
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Source> snapshot,
                       testing::MakeSource(db_.ConnectionYaml() + "table: typed\n"));
  sluice::testing::RecordAndFail bad;
  std::atomic<bool> cancelled{false};
  JobContext context = testing::MakeContext(&bad, &cancelled);
  ASSERT_OK(snapshot->Open(context));
  ASSERT_OK_AND_ASSIGN(auto read, testing::ReadAll(*snapshot, context));
  std::map<std::string, Row> table;
  for (const Row& row : read[0].rows)
    table[*row[0]] = row;
  EXPECT_EQ(folded, table);
  EXPECT_EQ(folded.size(), 2u);
}

TEST_F(PostgresCdcTest, TheSlotIsConfirmedAfterCheckpointsAndWhileIdle) {
  db_.Exec("CREATE TABLE captured (id int PRIMARY KEY, v text);"
           "CREATE TABLE elsewhere (id int PRIMARY KEY, v text)");
  BackgroundJob job(Spec("captured"), registry_);
  WaitForActiveSlot();
  db_.Exec("INSERT INTO captured SELECT g, 'v' || g FROM generate_series(1, 50) g");
  Lsn after_changes = CurrentLsn();
  ASSERT_TRUE(job.WaitForCommitted(50, std::chrono::seconds(60)));
  // Acknowledged checkpoints move the slot past the captured changes...
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (ConfirmedLsn() < after_changes) {
    ASSERT_LT(std::chrono::steady_clock::now(), deadline) << "the slot stayed behind";
    std::this_thread::sleep_for(std::chrono::milliseconds(50));  // the next look
  }
  // ...and, with nothing captured waiting, past WAL of a table the job does not capture.
  db_.Exec("INSERT INTO elsewhere SELECT g, repeat('x', 1000) FROM generate_series(1, 1000) g");
  Lsn after_elsewhere = CurrentLsn();
  deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (ConfirmedLsn() < after_elsewhere) {
    ASSERT_LT(std::chrono::steady_clock::now(), deadline) << "an idle slot held WAL back";
    std::this_thread::sleep_for(std::chrono::milliseconds(50));  // the next look
  }
  EXPECT_TRUE(job.Stop().interrupted);
  EXPECT_EQ(KindsAndIds("captured").size(), 50u);
}

TEST_F(PostgresCdcTest, AnUnchangedLargeValueSurvivesAnUpdate) {
  // 200 kB that do not compress: stored out of line (TOAST), and not logged by an update that
  // leaves the column alone under REPLICA IDENTITY DEFAULT.
  db_.Exec("CREATE TABLE docs (id int PRIMARY KEY, title text, body text)");
  BackgroundJob job(Spec("docs"), registry_);
  WaitForActiveSlot();
  db_.Exec("INSERT INTO docs SELECT 1, 'first', string_agg(md5(g::text), '') "
           "FROM generate_series(1, 6250) g;"
           "UPDATE docs SET title = 'second' WHERE id = 1");
  ASSERT_TRUE(job.WaitForCommitted(2, std::chrono::seconds(60)));
  EXPECT_TRUE(job.Stop().interrupted);
  std::string body = Trim(db_.Exec("SELECT body FROM docs WHERE id = 1"));
  ASSERT_EQ(body.size(), 200000u);
  std::lock_guard<std::mutex> lock(sink_->mutex);
  const auto& rows = sink_->committed["docs"];
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[1][1], "second");
  EXPECT_EQ(rows[1][2], body);
}

TEST_F(PostgresCdcTest, TablesThatCannotBeAppliedByKeyAreRefusedSayingWhatToDo) {
  db_.Exec("CREATE TABLE keyless (v text);"
           "CREATE TABLE nothing (id int PRIMARY KEY); ALTER TABLE nothing REPLICA IDENTITY NOTHING");
  runtime::JobSummary keyless = sluice::testing::conformance::RunJob(Spec("keyless"), registry_);
  EXPECT_EQ(keyless.status.code(), StatusCode::kInvalidConfig);
  EXPECT_THAT(keyless.status.message(), HasSubstr("has no primary key"));
  runtime::JobSummary nothing = sluice::testing::conformance::RunJob(Spec("nothing"), registry_);
  EXPECT_EQ(nothing.status.code(), StatusCode::kInvalidConfig);
  EXPECT_THAT(nothing.status.message(), HasSubstr("REPLICA IDENTITY DEFAULT"));
}

TEST_F(PostgresCdcTest, ADroppedSlotFailsTheResumeSayingWhatToDo) {
  db_.Exec("CREATE TABLE t (id int PRIMARY KEY)");
  JobSpec spec = Spec("t");
  {
    BackgroundJob job(spec, registry_);
    WaitForActiveSlot();
    db_.Exec("INSERT INTO t VALUES (1)");
    ASSERT_TRUE(job.WaitForCommitted(1, std::chrono::seconds(60)));
    EXPECT_TRUE(job.Stop().interrupted);
  }
  db_.Exec(fmt::format("SELECT pg_drop_replication_slot('{}')", SlotName()));
  runtime::JobSummary resumed = sluice::testing::conformance::RunJob(spec, registry_);
  EXPECT_EQ(resumed.status.code(), StatusCode::kNotFound);
  EXPECT_THAT(resumed.status.message(), HasSubstr("is gone"));
  EXPECT_THAT(resumed.status.message(), HasSubstr("--fresh"));
}

// --- ALTER TABLE ------------------------------------------------------------------------------

// The committed changes of `stream` as "+I 1 a", "-U ...", "+U ...", "-D ..." (NULL as NULL).
std::vector<std::string> ChangeLines(sluice::testing::MemorySinkData& sink,
                                     const std::string& stream) {
  std::lock_guard<std::mutex> lock(sink.mutex);
  std::vector<std::string> out;
  const auto& rows = sink.committed[stream];
  const auto& kinds = sink.committed_kinds[stream];
  for (size_t i = 0; i < rows.size(); ++i) {
    static constexpr const char* kKinds[] = {"+I", "-U", "+U", "-D"};
    std::string line = kKinds[static_cast<int>(kinds[i])];
    for (const auto& cell : rows[i])
      line += " " + cell.value_or("NULL");
    out.push_back(std::move(line));
  }
  return out;
}

// While the job runs: a column added is left out (the stream keeps the columns it started with),
// a column dropped arrives as NULL; every change once.
TEST_F(PostgresCdcTest, ColumnsAddedAndDroppedWhileRunningAreFollowedByName) {
  db_.Exec("CREATE TABLE t (id int PRIMARY KEY, v text, old int)");
  BackgroundJob job(Spec("t"), registry_);
  WaitForActiveSlot();
  db_.Exec("INSERT INTO t VALUES (1, 'a', 10);"
           "ALTER TABLE t ADD COLUMN added int;"
           "INSERT INTO t VALUES (2, 'b', 20, 200);"
           "ALTER TABLE t DROP COLUMN old;"
           "INSERT INTO t VALUES (3, 'c', 300);"
           "DELETE FROM t WHERE id = 1");
  ASSERT_TRUE(job.WaitForCommitted(4, std::chrono::seconds(60)));
  EXPECT_TRUE(job.Stop().interrupted);
  EXPECT_THAT(ChangeLines(*sink_, "t"),
              ElementsAre("+I 1 a 10", "+I 2 b 20", "+I 3 c NULL", "-D 1 NULL NULL"));
}

// While the job is stopped: the restart reads the table as it is now (the added column in the
// stream); the changes made before the ALTER carry NULL for it.
TEST_F(PostgresCdcTest, AColumnAddedWhileStoppedIsCapturedAfterTheRestart) {
  db_.Exec("CREATE TABLE t (id int PRIMARY KEY, v text)");
  JobSpec spec = Spec("t");
  {
    BackgroundJob job(spec, registry_);
    WaitForActiveSlot();
    db_.Exec("INSERT INTO t VALUES (1, 'a')");
    ASSERT_TRUE(job.WaitForCommitted(1, std::chrono::seconds(60)));
    EXPECT_TRUE(job.Stop().interrupted);
  }
  db_.Exec("INSERT INTO t VALUES (2, 'b');"
           "ALTER TABLE t ADD COLUMN w int;"
           "INSERT INTO t VALUES (3, 'c', 30);"
           "UPDATE t SET w = 10 WHERE id = 1");
  BackgroundJob job(spec, registry_);
  ASSERT_TRUE(job.WaitForCommitted(3, std::chrono::seconds(60)));
  EXPECT_TRUE(job.Stop().interrupted);
  EXPECT_THAT(ChangeLines(*sink_, "t"),
              ElementsAre("+I 1 a", "+I 2 b NULL", "+I 3 c 30", "+U 1 a 10"));
}

// A primary key column renamed while the job runs: changes cannot be applied by key any more;
// the job stops saying so, after the changes before it.
TEST_F(PostgresCdcTest, AKeyColumnRenamedWhileRunningStopsTheJob) {
  db_.Exec("CREATE TABLE t (id int PRIMARY KEY, v int)");
  BackgroundJob job(Spec("t"), registry_);
  WaitForActiveSlot();
  db_.Exec("INSERT INTO t VALUES (1, 1)");
  ASSERT_TRUE(job.WaitForCommitted(1, std::chrono::seconds(60)));
  db_.Exec("ALTER TABLE t RENAME COLUMN id TO key_id; INSERT INTO t VALUES (2, 2)");
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (job.running() && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(50));  // the next look
  runtime::JobSummary summary = job.Stop();
  EXPECT_EQ(summary.status.code(), StatusCode::kUnsupported) << summary.status.ToString();
  EXPECT_THAT(summary.status.message(), HasSubstr("primary key column 'id' is gone"));
  EXPECT_THAT(summary.status.message(), HasSubstr("--fresh"));
  EXPECT_THAT(ChangeLines(*sink_, "t"), ElementsAre("+I 1 1"));
}

// --- snapshot_then_cdc --------------------------------------------------------------------

class PostgresHandoverTest : public PostgresCdcTest {
 protected:
  // The table as the snapshot source reads it now, by key.
  std::map<std::string, Row> TableNow(const std::string& table) {
    Result<std::unique_ptr<Source>> source =
        testing::MakeSource(db_.ConnectionYaml() + "table: " + table + "\n");
    EXPECT_OK(source.status());
    sluice::testing::RecordAndFail bad;
    std::atomic<bool> cancelled{false};
    JobContext context = testing::MakeContext(&bad, &cancelled);
    EXPECT_OK((*source)->Open(context));
    Result<std::vector<testing::StreamRows>> read = testing::ReadAll(**source, context);
    EXPECT_OK(read.status());
    std::map<std::string, Row> out;
    for (const Row& row : (*read)[0].rows)
      out[*row[0]] = row;
    return out;
  }

  size_t Committed(const std::string& stream) {
    std::lock_guard<std::mutex> lock(sink_->mutex);
    return sink_->committed[stream].size();
  }

  // Waits until the memory sink holds `rows` rows of `stream`.
  void WaitForRows(const std::string& stream, size_t rows) {
    ASSERT_TRUE(sink_->WaitForCommitted(stream, rows, std::chrono::seconds(120)))
        << Committed(stream) << " of " << rows << " rows arrived";
  }

  static constexpr const char* kWrites =
      "INSERT INTO items SELECT g, 'new ' || g FROM generate_series(100001, 100050) g;"
      "UPDATE items SET v = 'changed ' || id WHERE id % 97 = 0;"
      "DELETE FROM items WHERE id % 89 = 0;"
      "UPDATE items SET id = id + 200000 WHERE id IN (5, 6, 7);";
};

TEST_F(PostgresHandoverTest, ChangesMadeWhileTheSnapshotIsReadComeOnceFromTheSlot) {
  db_.Exec("CREATE TABLE items (id int PRIMARY KEY, v text);"
           "INSERT INTO items SELECT g, 'row ' || g FROM generate_series(1, 3000) g");
  JobSpec spec = Spec("items", ", split_rows: 500, page_rows: 100", "snapshot_then_cdc");
  spec.parallelism = 2;
  // The writes land while the snapshot is being read: after its first batch, before the rest.
  failpoint::ArmCallback("runtime.reader.batch", 2, [this] {
    db_.Exec(kWrites);
    return Status::OK();
  });
  BackgroundJob job(spec, registry_);
  // 3000 snapshot rows, then from the slot what kWrites did: 50 inserts, an update per id
  // divisible by 97, a delete per id divisible by 89, 3 key changes of two rows each.
  size_t expected = 3000 + 50 + 6;
  for (int id = 1; id <= 100050; id = id == 3000 ? 100001 : id + 1)
    expected += (id % 97 == 0 ? 1 : 0) + (id % 89 == 0 ? 1 : 0);
  WaitForRows("items", expected);
  // The stream runs: no session of the job holds a snapshot any more (which would keep VACUUM
  // from removing row versions for as long as the job streams).
  EXPECT_EQ(Trim(db_.Exec("SELECT count(*) FROM pg_stat_activity WHERE datname = "
                          "current_database() AND pid <> pg_backend_pid() AND backend_xmin IS "
                          "NOT NULL")),
            "0")
      << db_.Exec("SELECT pid, backend_type, state, backend_xmin, query FROM pg_stat_activity "
                  "WHERE datname = current_database()");
  runtime::JobSummary summary = job.Stop();
  failpoint::DisarmAll();
  EXPECT_TRUE(summary.interrupted) << summary.status.ToString();
  std::vector<std::pair<RowKind, std::string>> changes = KindsAndIds("items");
  ASSERT_EQ(changes.size(), expected);
  size_t inserts = 0;
  for (size_t i = 0; i < 3000; ++i)
    inserts += changes[i].first == RowKind::kInsert ? 1 : 0;
  EXPECT_EQ(inserts, 3000u) << "the snapshot's rows come first, all inserts";
  EXPECT_EQ(sink_->CommittedFolded("items"), TableNow("items"));
}
// A run stopped inside the snapshot: the resumed run finishes the chunk it was left, then
// hands over to the slot. With one reader nobody else asks for work, so the handover must say
// work is pending until the snapshot's enumerator was asked and ran dry.
TEST_F(PostgresHandoverTest, ARunResumedInsideTheSnapshotHandsOverToTheSlot) {
  db_.Exec("CREATE TABLE items (id int PRIMARY KEY, v text);"
           "INSERT INTO items SELECT g, 'row ' || g FROM generate_series(1, 1000) g");
  JobSpec spec = Spec("items", ", split_rows: 500, page_rows: 50", "snapshot_then_cdc");
  spec.parallelism = 1;
  {
    sluice::testing::StopAtBatch stop(4);
    runtime::JobSummary stopped = sluice::testing::conformance::RunJob(spec, registry_);
    ASSERT_TRUE(stopped.interrupted) << stopped.status.ToString();
  }
  db_.Exec("INSERT INTO items VALUES (5000, 'after the stop'); DELETE FROM items WHERE id = 1");
  BackgroundJob job(spec, registry_);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (sink_->CommittedFolded("items") != TableNow("items")) {
    ASSERT_LT(std::chrono::steady_clock::now(), deadline) << "the stream never took over";
    std::this_thread::sleep_for(std::chrono::milliseconds(100));  // the next look
  }
  EXPECT_TRUE(job.Stop().interrupted);
}

// Writes of round `round`: inserts, updates, deletes and key changes, different every round,
// in one transaction holding the table (a killed child's psql may still be running).
std::string RoundWrites(int round) {
  int base = 1'000'000 + round * 1000;
  return fmt::format(
      "BEGIN; LOCK TABLE items IN EXCLUSIVE MODE;"
      "INSERT INTO items SELECT g, 'round {0} ' || g FROM generate_series({1}, {1} + 19) g;"
      "UPDATE items SET v = 'updated in {0}' WHERE id % {2} = 0;"
      "DELETE FROM items WHERE id % {3} = 0 AND id < 1000000;"
      "UPDATE items SET id = id + 5000000 WHERE id = (SELECT min(id) FROM items WHERE id > {1});"
      "COMMIT;",
      round, base, 7 + round % 13, 50 + round);
}

// kill -9 at random steps of the snapshot, the handover and the stream, with writes landing in
// every phase (in each child after its third batch, and between children): the run that
// finally catches up leaves the target table exactly as the source table is.
TEST_F(PostgresHandoverTest, KilledRepeatedlyOverSnapshotHandoverAndStreamEndsExact) {
  TestDatabase target("cdc_target");
  db_.Exec("CREATE TABLE items (id int PRIMARY KEY, v text);"
           "INSERT INTO items SELECT g, 'row ' || g FROM generate_series(1, 1000) g");
  JobSpec spec = Spec("items", ", split_rows: 500, page_rows: 100", "snapshot_then_cdc");
  spec.sink = fmt::format("{{type: postgres, {}, table: items, mode: apply}}",
                          YamlLinesAsFlow(target.ConnectionYaml()));
  spec.parallelism = 2;
  // Timed checkpoints too: the handover waits for one that holds the snapshot's last rows, and
  // past the snapshot no batch may come to take one.
  spec.checkpoint_secs = 0.2;
  const unsigned seed = std::random_device()();
  SCOPED_TRACE(fmt::format("crash loop seed {}", seed));
  int round = 0;
  sluice::testing::CrashLoopOptions options;
  options.kills = 100;
  options.seed = seed;
  options.finish_points = false;
  options.connector_points = {"postgres.commit.after_rows=crash@2",
                              "postgres.commit.before_fence_check=crash@3"};
  options.in_child = [&](const std::string&) {
    alarm(300);  // a child that never reaches its point fails instead of hanging
    failpoint::ArmCallback("runtime.reader.batch", 3, [&] {
      db_.Exec(RoundWrites(1000 + round));
      return Status::OK();
    });
  };
  options.after_kill = [&](const std::string&) { db_.Exec(RoundWrites(++round)); };
  sluice::testing::CrashLoopResult crashes = sluice::testing::RunCrashLoop(
      [&] { return sluice::testing::conformance::RunJob(spec, registry_).status.ok() ? 0 : 1; },
      options);
  ASSERT_EQ(crashes.kills, options.kills);
  // The first children died in the snapshot (20 batches and more, a few per child); the last
  // ones while streaming: the slot's split has committed progress.
  EXPECT_EQ(Trim(target.Exec("SELECT count(*) FROM _sluice_progress WHERE split_id LIKE 'slot:%'")),
            "1");
  const std::string want = Dump(db_, "items", "id");
  BackgroundJob job(spec, registry_);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (Dump(target, "items", "id") != want) {
    if (std::chrono::steady_clock::now() > deadline || !job.running()) {
      runtime::JobSummary summary = job.Stop();
      FAIL() << "the target never caught up (the job: " << summary.status.ToString() << "):\n"
             << sluice::testing::LineDifferences(want, Dump(target, "items", "id")) << "slot: "
             << db_.Exec("SELECT slot_name, active, confirmed_flush_lsn, pg_current_wal_lsn() "
                         "FROM pg_replication_slots")
             << "\nprogress in the target: " << target.Exec("SELECT * FROM _sluice_progress");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200));  // the next look
  }
  EXPECT_TRUE(job.Stop().interrupted);
  EXPECT_EQ(Dump(target, "items", "id"), want);
}
}  // namespace
}  // namespace sluice::connectors::postgres
