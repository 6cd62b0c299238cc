// HiveMetastoreClient against a real Hive metastore: Hive's standalone metastore 4.0.1 of the
// `metastore` fixture, on an embedded Derby. Every test works in a Hive database of its own
// (named after the test and the process), so that tests and repeated runs do not meet; table
// locations are file: URIs in a temporary directory, which the metastore creates.
#include "catalog/hive_metastore_client.h"

#include <arpa/inet.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fmt/core.h>

#include <cctype>
#include <chrono>

#include "catalog/hive_ddl.h"
#include "testing/gtest_util.h"
#include "testing/temp_dir.h"
#include "testing/test_servers.h"

namespace sluice::catalog {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::UnorderedElementsAre;

class HiveMetastoreClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK_AND_ASSIGN(testing::TestServers servers, testing::TestServers::FromEnvironment());
    uri_ = servers.metastore.uri;
    ASSERT_FALSE(uri_.empty()) << "no Hive metastore in " << servers.env_file
                               << ": run with the `metastore` fixture";
    ASSERT_OK_AND_ASSIGN(HiveMetastoreClient client, HiveMetastoreClient::Connect(uri_));
    client_ = std::make_unique<HiveMetastoreClient>(std::move(client));
    // Hive keeps names in lower case: so does the test, and compares them as they come back.
    std::string test_name = ::testing::UnitTest::GetInstance()->current_test_info()->name();
    database_ = "sluice_";
    for (char c : test_name)
      database_ += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    database_ += fmt::format("_{}", ::getpid());
  }

  // An external Parquet table partitioned by dt and hr, in the test's database, its files under
  // the temporary directory.
  HiveTableSpec EventsSpec() const {
    HiveTableSpec spec;
    spec.database = database_;
    spec.table = "events";
    spec.columns = {{"id", HiveTypeOf(DataType::Int64())},
                    {"name", HiveTypeOf(DataType::String())},
                    {"amount", HiveTypeOf(DataType::Decimal(12, 2))},
                    {"big", HiveTypeOf(DataType::UInt64())},
                    {"at", HiveTypeOf(DataType::TimestampTz())},
                    {"payload", HiveTypeOf(DataType::Bytes())}};
    spec.partition_keys = {{"dt", "string"}, {"hr", "string"}};
    spec.format = HiveFileFormat::kParquet;
    spec.location = "file:" + files_.Join("events");
    spec.comment = "written by Sluice's tests";
    return spec;
  }

  std::string uri_;
  std::unique_ptr<HiveMetastoreClient> client_;
  std::string database_;
  testing::TempDir files_;
};

TEST_F(HiveMetastoreClientTest, CreatesDatabaseTableAndPartitionsIdempotently) {
  ASSERT_OK(client_->EnsureDatabase(database_));
  ASSERT_OK(client_->EnsureDatabase(database_));  // exists: fine
  HiveTableSpec spec = EventsSpec();
  ASSERT_OK(client_->EnsureTable(spec));
  ASSERT_OK(client_->EnsureTable(spec));  // exists with the same columns: fine

  std::vector<HivePartitionSpec> partitions = {
      {{"2026-12-04", "09"}, spec.location + "/dt=2026-12-04/hr=09"},
      {{"2026-12-04", "10"}, ""},  // the metastore derives <location>/dt=2026-12-04/hr=10
  };
  ASSERT_OK(client_->AddPartitions(database_, "events", partitions));
  // A retried commit adds them again: nothing changes, no error.
  ASSERT_OK(client_->AddPartitions(database_, "events", partitions));
  ASSERT_OK(client_->AddPartitions(database_, "events", {}));

  ASSERT_OK_AND_ASSIGN(std::vector<std::string> names,
                       client_->ListPartitionNames(database_, "events"));
  EXPECT_THAT(names, UnorderedElementsAre("dt=2026-12-04/hr=09", "dt=2026-12-04/hr=10"));
  EXPECT_EQ(HivePartitionName(spec.partition_keys, {"2026-12-04", "09"}), "dt=2026-12-04/hr=09");

  ASSERT_OK_AND_ASSIGN(std::vector<HivePartitionSpec> listed,
                       client_->ListPartitions(database_, "events"));
  ASSERT_EQ(listed.size(), 2u);
  for (const HivePartitionSpec& partition : listed) {
    ASSERT_EQ(partition.values.size(), 2u);
    EXPECT_EQ(partition.location,
              spec.location + "/" + HivePartitionName(spec.partition_keys, partition.values));
  }
}

TEST_F(HiveMetastoreClientTest, TableReadBackEqualsTheSpec) {
  ASSERT_OK(client_->EnsureDatabase(database_));
  HiveTableSpec spec = EventsSpec();
  ASSERT_OK(client_->EnsureTable(spec));
  ASSERT_OK_AND_ASSIGN(HiveTableSpec got, client_->GetTable(database_, "events"));
  EXPECT_EQ(got, spec) << CreateTableDdl(got) << "\n" << CreateTableDdl(spec);

  HiveTableSpec avro = EventsSpec();
  avro.table = "events_avro";
  avro.format = HiveFileFormat::kAvro;
  avro.partition_keys.clear();
  avro.location = "file:" + files_.Join("events_avro");
  avro.comment.clear();
  ASSERT_OK(client_->EnsureTable(avro));
  ASSERT_OK_AND_ASSIGN(HiveTableSpec got_avro, client_->GetTable(database_, "events_avro"));
  EXPECT_EQ(got_avro, avro) << CreateTableDdl(got_avro) << "\n" << CreateTableDdl(avro);
}

TEST_F(HiveMetastoreClientTest, ExistingTableWithOtherColumnsIsAConflictSayingWhat) {
  ASSERT_OK(client_->EnsureDatabase(database_));
  ASSERT_OK(client_->EnsureTable(EventsSpec()));

  HiveTableSpec other_type = EventsSpec();
  other_type.columns[2].type = "decimal(18,4)";
  Status status = client_->EnsureTable(other_type);
  EXPECT_EQ(status.code(), StatusCode::kConflict) << status.ToString();
  EXPECT_THAT(status.message(), HasSubstr("column 3 is `amount` decimal(12,2) in the metastore "
                                          "but `amount` decimal(18,4) in the job"));

  HiveTableSpec extra_column = EventsSpec();
  extra_column.columns.push_back({"extra", "int"});
  status = client_->EnsureTable(extra_column);
  EXPECT_EQ(status.code(), StatusCode::kConflict) << status.ToString();
  EXPECT_THAT(status.message(), HasSubstr("the metastore has 6 columns"));

  HiveTableSpec other_keys = EventsSpec();
  other_keys.partition_keys = {{"dt", "string"}};
  status = client_->EnsureTable(other_keys);
  EXPECT_EQ(status.code(), StatusCode::kConflict) << status.ToString();
  EXPECT_THAT(status.message(), HasSubstr("partition keys"));

  HiveTableSpec other_format = EventsSpec();
  other_format.format = HiveFileFormat::kAvro;
  status = client_->EnsureTable(other_format);
  EXPECT_EQ(status.code(), StatusCode::kConflict) << status.ToString();
  EXPECT_THAT(status.message(), HasSubstr("stored as parquet, the job writes avro"));

  // Names compare as Hive keeps them: in lower case.
  HiveTableSpec upper = EventsSpec();
  upper.columns[0].name = "ID";
  EXPECT_OK(client_->EnsureTable(upper));
}

TEST_F(HiveMetastoreClientTest, MissingObjectsAreNotFound) {
  Status status = client_->GetTable(database_, "nothing").status();
  EXPECT_EQ(status.code(), StatusCode::kNotFound) << status.ToString();
  EXPECT_THAT(status.message(), HasSubstr(database_ + ".nothing"));

  ASSERT_OK(client_->EnsureDatabase(database_));
  status = client_->GetTable(database_, "nothing").status();
  EXPECT_EQ(status.code(), StatusCode::kNotFound) << status.ToString();
  status = client_->AddPartitions(database_, "nothing", {{{"2026-12-04", "09"}, ""}});
  EXPECT_EQ(status.code(), StatusCode::kNotFound) << status.ToString();

  // A table in a database that does not exist: Hive 4 refuses it as an invalid object ("There is
  // no database hive.<name>"), a configuration to fix.
  HiveTableSpec spec = EventsSpec();
  spec.database = database_ + "_missing";
  status = client_->EnsureTable(spec);
  EXPECT_EQ(status.code(), StatusCode::kInvalidConfig) << status.ToString();
  EXPECT_THAT(status.message(), HasSubstr(spec.database));
}

TEST_F(HiveMetastoreClientTest, PartitionWithTheWrongNumberOfValuesIsAConfigError) {
  ASSERT_OK(client_->EnsureDatabase(database_));
  ASSERT_OK(client_->EnsureTable(EventsSpec()));
  Status status = client_->AddPartitions(database_, "events", {{{"2026-12-04"}, ""}});
  EXPECT_EQ(status.code(), StatusCode::kInvalidConfig) << status.ToString();
  EXPECT_THAT(status.message(), HasSubstr("has 1 values, the table has 2 partition keys"));
}

TEST_F(HiveMetastoreClientTest, InvalidColumnTypeIsRefusedWithTheServersMessage) {
  ASSERT_OK(client_->EnsureDatabase(database_));
  HiveTableSpec spec = EventsSpec();
  spec.columns[0].type = "no_such_type";
  Status status = client_->EnsureTable(spec);
  EXPECT_EQ(status.code(), StatusCode::kInvalidConfig) << status.ToString();
  EXPECT_THAT(status.message(), HasSubstr("create_table of Hive table " + database_ + ".events"));
  EXPECT_THAT(status.message(), HasSubstr("Invalid column type: no_such_type"));
}

TEST_F(HiveMetastoreClientTest, UnreachablePortIsUnavailableQuickly) {
  // Port 1 (tcpmux, long obsolete): nothing listens there, the kernel refuses at once.
  auto started = std::chrono::steady_clock::now();
  Result<HiveMetastoreClient> client = HiveMetastoreClient::Connect(
      "thrift://127.0.0.1:1", {.connect = std::chrono::milliseconds(2000)});
  auto elapsed = std::chrono::steady_clock::now() - started;
  ASSERT_FALSE(client.ok());
  EXPECT_EQ(client.status().code(), StatusCode::kUnavailable) << client.status().ToString();
  EXPECT_THAT(client.status().message(), HasSubstr("thrift://127.0.0.1:1"));
  EXPECT_LT(elapsed, std::chrono::seconds(2));
}

TEST_F(HiveMetastoreClientTest, ServerThatNeverAnswersIsUnavailableAfterTheCallTimeout) {
  // A listening socket nobody accepts on: the kernel completes the connection (the backlog), the
  // request is sent, and no reply ever comes.
  int listener = ::socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(listener, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(listener, reinterpret_cast<sockaddr*>(&address), sizeof(address)), 0);
  ASSERT_EQ(::listen(listener, 4), 0);
  socklen_t length = sizeof(address);
  ASSERT_EQ(::getsockname(listener, reinterpret_cast<sockaddr*>(&address), &length), 0);
  std::string silent_uri = fmt::format("thrift://127.0.0.1:{}", ntohs(address.sin_port));

  ASSERT_OK_AND_ASSIGN(
      HiveMetastoreClient silent,
      HiveMetastoreClient::Connect(silent_uri, {.call = std::chrono::milliseconds(300)}));
  auto started = std::chrono::steady_clock::now();
  Status status = silent.EnsureDatabase(database_);
  auto elapsed = std::chrono::steady_clock::now() - started;
  ::close(listener);
  EXPECT_EQ(status.code(), StatusCode::kUnavailable) << status.ToString();
  EXPECT_THAT(status.message(), HasSubstr(silent_uri));
  EXPECT_LT(elapsed, std::chrono::seconds(5));
}

TEST(HiveMetastoreUriTest, BadUrisAreConfigErrors) {
  for (const char* uri : {"http://127.0.0.1:9083", "thrift://", "thrift://host:0",
                          "thrift://host:port", "thrift://[::1"}) {
    Result<HiveMetastoreClient> client = HiveMetastoreClient::Connect(uri);
    ASSERT_FALSE(client.ok()) << uri;
    EXPECT_EQ(client.status().code(), StatusCode::kInvalidConfig)
        << uri << ": " << client.status().ToString();
  }
}

}  // namespace
}  // namespace sluice::catalog
