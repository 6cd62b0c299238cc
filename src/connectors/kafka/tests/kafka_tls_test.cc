// The kafka connector over TLS, against the test broker's SSL listener (its certificate signed by
// a CA that scripts/test-servers.sh makes at start): a sink and a source with the right CA (and a
// client certificate whose key has a password) work; a wrong CA fails at once with an error that
// names the broker and TLS; passwords (SASL, the TLS key's) appear in no error and no log line.
// And over its SASL_SSL listener (a SASL/PLAIN login inside TLS, the same certificate): a sink
// and a source with the right login work; a wrong password fails at once as a login error.
#include <fmt/core.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>

#include "config/job_config.h"
#include "connectors/kafka/tests/kafka_test_util.h"
#include "connectors/registry.h"
#include "core/logging.h"
#include "runtime/job_runner.h"
#include "testing/gtest_util.h"
#include "testing/temp_dir.h"

namespace sluice::connectors::kafka {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using sluice::testing::Row;
using sluice::testing::TestServers;
using testing::DrivenSource;
using testing::UniqueTopic;

class KafkaTlsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Result<TestServers> servers = TestServers::FromEnvironment();
    ASSERT_TRUE(servers.ok()) << servers.status().ToString();
    servers_ = *servers;
    ASSERT_FALSE(servers_.kafka.ssl_bootstrap.empty())
        << "the test servers have no TLS listener: restart them (scripts/test-servers.sh)";
    ASSERT_FALSE(servers_.kafka.sasl_ssl_bootstrap.empty())
        << "the test servers have no SASL_SSL listener: restart them (scripts/test-servers.sh)";
  }

  // The connection options of the TLS listener trusting `ca`.
  std::string Tls(const std::string& ca) const {
    return fmt::format("brokers: '{}', security_protocol: ssl, ssl_ca_location: '{}'",
                       servers_.kafka.ssl_bootstrap, ca);
  }
  // ... presenting the client certificate, its key opened with `key_password`.
  std::string TlsWithClientCertificate(const std::string& key_password) const {
    return fmt::format("{}, ssl_certificate_location: '{}', ssl_key_location: '{}', "
                       "ssl_key_password: '{}'",
                       Tls(servers_.kafka.ssl_ca), servers_.kafka.ssl_client_certificate,
                       servers_.kafka.ssl_client_key, key_password);
  }
  // The connection options of the SASL_SSL listener: user sluice logging in with `password`,
  // the broker's CA trusted.
  std::string SaslSsl(const std::string& password) const {
    return fmt::format("brokers: '{}', security_protocol: sasl_ssl, sasl_user: {}, "
                       "sasl_password: '{}', ssl_ca_location: '{}'",
                       servers_.kafka.sasl_ssl_bootstrap, servers_.kafka.sasl_user, password,
                       servers_.kafka.ssl_ca);
  }

  // Runs a job from the memory source (`rows` of one string column `v`) into `sink`.
  runtime::JobSummary RunIntoKafka(const std::string& sink, const std::vector<Row>& rows,
                                   const std::string& extra = "") {
    auto source_data = std::make_shared<sluice::testing::MemorySourceData>();
    source_data->streams = {
        {"rows", std::make_shared<Schema>(std::vector<Field>{{"v", DataType::String()}}), rows}};
    ConnectorRegistry registry;
    RegisterBuiltinConnectors(registry);
    sluice::testing::RegisterMemoryConnector(
        registry, source_data, std::make_shared<sluice::testing::MemorySinkData>());
    std::string text = fmt::format(
        "name: {}\nsource: {{type: memory}}\nsink: {{type: kafka, {}}}\nstate: '{}'\n{}",
        UniqueTopic("tls_job"), sink, state_.path(), extra);
    Result<config::JobConfig> job = config::LoadJobText(text, "test.yaml", {});
    EXPECT_TRUE(job.ok()) << job.status().ToString();
    if (!job.ok()) {
      runtime::JobSummary failed;
      failed.status = job.status();
      return failed;
    }
    return runtime::JobRunner(*job, registry).Run(nullptr);
  }

  TestServers servers_;
  sluice::testing::TempDir state_;
};

// Captures what the process writes to stderr (the log) at debug level while alive.
class CapturedLog {
 public:
  CapturedLog() : level_(log::GetLevel()) {
    log::SetLevel(log::Level::kDebug);
    ::testing::internal::CaptureStderr();
  }
  ~CapturedLog() {
    if (!taken_)
      Take();
  }
  std::string Take() {
    taken_ = true;
    log::SetLevel(level_);
    return ::testing::internal::GetCapturedStderr();
  }

 private:
  log::Level level_;
  bool taken_ = false;
};

TEST_F(KafkaTlsTest, ASinkAndASourceWithTheBrokersCaWork) {
  std::string topic = UniqueTopic("tls");
  ASSERT_OK(sluice::testing::KafkaCreateTopic(servers_, topic, 2));
  std::vector<Row> rows;
  for (int i = 0; i < 500; ++i)
    rows.push_back(Row{fmt::format("über TLS {}", i)});
  const std::string key_password = servers_.kafka.ssl_client_key_password;
  CapturedLog log;
  // Exactly-once: transactions and the progress topic over TLS too; with a client certificate.
  runtime::JobSummary written = RunIntoKafka(
      fmt::format("{}, topic: {}, format: raw, progress_topic: {}_progress",
                  TlsWithClientCertificate(key_password), topic, topic),
      rows);
  ASSERT_OK(written.status);
  ASSERT_OK(testing::WaitForCommittedMessages(servers_, topic, rows.size()));

  for (bool client_certificate : {false, true}) {
    SCOPED_TRACE(client_certificate);
    DrivenSource source;
    ASSERT_OK(source.Open(fmt::format(
        "{}, topic: {}, stop_at: end, start_from: earliest, format: raw",
        client_certificate ? TlsWithClientCertificate(key_password) : Tls(servers_.kafka.ssl_ca),
        topic)));
    ASSERT_OK_AND_ASSIGN(std::vector<Row> back, source.ReadAll());
    std::sort(back.begin(), back.end());
    std::vector<Row> expected = rows;
    std::sort(expected.begin(), expected.end());
    EXPECT_EQ(back, expected);
  }
  EXPECT_THAT(log.Take(), Not(HasSubstr(key_password)));
}

// A CA that did not sign the broker's certificate: PermissionDenied within moments (not after
// timeout_secs, and not retried), naming the broker and the failed certificate verification.
TEST_F(KafkaTlsTest, AWrongCaFailsAtOnceNamingTheBrokerAndTheCertificateCheck) {
  std::string topic = UniqueTopic("tls_wrong_ca");
  ASSERT_OK(sluice::testing::KafkaCreateTopic(servers_, topic, 1));
  auto expect_clear = [&](const Status& status) {
    EXPECT_EQ(status.code(), StatusCode::kPermissionDenied) << status.ToString();
    EXPECT_THAT(status.message(), HasSubstr(servers_.kafka.ssl_bootstrap));
    EXPECT_THAT(status.message(), HasSubstr("certificate verify failed"));
    EXPECT_THAT(status.message(), HasSubstr("TLS certificate verification"));
    EXPECT_THAT(status.message(), HasSubstr("check ssl_ca_location"));
  };
  auto started = std::chrono::steady_clock::now();
  DrivenSource source;
  expect_clear(source.Open(fmt::format("{}, topic: {}, timeout_secs: 60",
                                       Tls(servers_.kafka.ssl_other_ca), topic)));
  runtime::JobSummary sink = RunIntoKafka(
      fmt::format("{}, topic: {}, format: raw, timeout_secs: 60",
                  Tls(servers_.kafka.ssl_other_ca), topic),
      {Row{"a"}});
  expect_clear(sink.status);
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(20));
}

// Wrong passwords, of the TLS client key and of a SASL login: errors without them, and no log
// line with them either.
TEST_F(KafkaTlsTest, PasswordsAppearInNoErrorAndNoLogLine) {
  std::string topic = UniqueTopic("tls_secrets");
  ASSERT_OK(sluice::testing::KafkaCreateTopic(servers_, topic, 1));
  const std::string wrong_key_password = "not-The-Key-Pass-9";
  const std::string wrong_sasl_password = "not-The-Sasl-Pass-8";
  CapturedLog log;
  DrivenSource source;
  Status key = source.Open(fmt::format("{}, topic: {}",
                                       TlsWithClientCertificate(wrong_key_password), topic));
  EXPECT_FALSE(key.ok());
  EXPECT_THAT(key.ToString(), Not(HasSubstr(wrong_key_password)));
  runtime::JobSummary sink = RunIntoKafka(
      fmt::format("{}, topic: {}, format: raw", TlsWithClientCertificate(wrong_key_password),
                  topic),
      {Row{"a"}});
  EXPECT_FALSE(sink.status.ok());
  EXPECT_THAT(sink.status.ToString(), Not(HasSubstr(wrong_key_password)));
  runtime::JobSummary sasl = RunIntoKafka(
      fmt::format("brokers: '{}', topic: {}, format: raw, security_protocol: sasl_plaintext, "
                  "sasl_user: {}, sasl_password: '{}', timeout_secs: 5",
                  servers_.kafka.sasl_bootstrap, topic, servers_.kafka.sasl_user,
                  wrong_sasl_password),
      {Row{"a"}}, "delivery: at_least_once\n");
  EXPECT_EQ(sasl.status.code(), StatusCode::kPermissionDenied) << sasl.status.ToString();
  EXPECT_THAT(sasl.status.ToString(), Not(HasSubstr(wrong_sasl_password)));
  std::string lines = log.Take();
  EXPECT_THAT(lines, Not(HasSubstr(wrong_key_password)));
  EXPECT_THAT(lines, Not(HasSubstr(wrong_sasl_password)));
  EXPECT_THAT(lines, HasSubstr("Job 'tls_job_"));  // the capture saw the jobs' lines
}

// SASL_SSL: an exactly-once sink (transactions and the progress topic) and a source, both logged
// in as sluice over TLS; the password is in no log line.
TEST_F(KafkaTlsTest, ASinkAndASourceOverSaslSslWork) {
  std::string topic = UniqueTopic("sasl_ssl");
  ASSERT_OK(sluice::testing::KafkaCreateTopic(servers_, topic, 2));
  std::vector<Row> rows;
  for (int i = 0; i < 500; ++i)
    rows.push_back(Row{fmt::format("über SASL_SSL {}", i)});
  const std::string password = servers_.kafka.sasl_password;
  CapturedLog log;
  runtime::JobSummary written = RunIntoKafka(
      fmt::format("{}, topic: {}, format: raw, progress_topic: {}_progress", SaslSsl(password),
                  topic, topic),
      rows);
  ASSERT_OK(written.status);
  ASSERT_OK(testing::WaitForCommittedMessages(servers_, topic, rows.size()));

  DrivenSource source;
  ASSERT_OK(source.Open(fmt::format(
      "{}, topic: {}, stop_at: end, start_from: earliest, format: raw", SaslSsl(password), topic)));
  ASSERT_OK_AND_ASSIGN(std::vector<Row> back, source.ReadAll());
  std::sort(back.begin(), back.end());
  std::vector<Row> expected = rows;
  std::sort(expected.begin(), expected.end());
  EXPECT_EQ(back, expected);
  std::string lines = log.Take();
  EXPECT_THAT(lines, Not(HasSubstr(password)));
  EXPECT_THAT(lines, HasSubstr("Job 'tls_job_"));  // the capture saw the job's lines
}

// A wrong SASL password over SASL_SSL (the TLS handshake succeeds, the login inside it fails):
// PermissionDenied within moments (not after timeout_secs), naming the broker and user and
// pointing at the login, not at TLS; the password is in no error and no log line.
TEST_F(KafkaTlsTest, AWrongSaslPasswordOverSaslSslIsAPermissionErrorWithoutThePassword) {
  std::string topic = UniqueTopic("sasl_ssl_wrong");
  ASSERT_OK(sluice::testing::KafkaCreateTopic(servers_, topic, 1));
  const std::string wrong_password = "not-The-SaslSsl-Pass-7";
  auto expect_clear = [&](const Status& status) {
    EXPECT_EQ(status.code(), StatusCode::kPermissionDenied) << status.ToString();
    EXPECT_THAT(status.message(),
                HasSubstr(fmt::format("Kafka brokers '{}' as user '{}'",
                                      servers_.kafka.sasl_ssl_bootstrap,
                                      servers_.kafka.sasl_user)));
    EXPECT_THAT(status.message(), HasSubstr("check sasl_user, sasl_password"));
    EXPECT_THAT(status.message(), Not(HasSubstr("TLS certificate verification")));
    EXPECT_THAT(status.ToString(), Not(HasSubstr(wrong_password)));
  };
  CapturedLog log;
  auto started = std::chrono::steady_clock::now();
  DrivenSource source;
  expect_clear(source.Open(
      fmt::format("{}, topic: {}, timeout_secs: 60", SaslSsl(wrong_password), topic)));
  runtime::JobSummary sink = RunIntoKafka(
      fmt::format("{}, topic: {}, format: raw, timeout_secs: 60", SaslSsl(wrong_password), topic),
      {Row{"a"}});
  expect_clear(sink.status);
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(20));
  std::string lines = log.Take();
  EXPECT_THAT(lines, Not(HasSubstr(wrong_password)));
  EXPECT_THAT(lines, HasSubstr("Job 'tls_job_"));  // the capture saw the job's lines
}

}  // namespace
}  // namespace sluice::connectors::kafka
