// The Kafka broker of the `servers` fixture, seen from C++ through librdkafka: the library links,
// the endpoints of the env file reach the test, every listener answers (SASL/PLAIN only with the
// right password, TLS to a client trusting the fixture's CA), and messages produced with
// librdkafka come back through the kcat helpers.
#include <fmt/core.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <librdkafka/rdkafka.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "testing/gtest_util.h"
#include "testing/test_servers.h"

namespace sluice::testing {
namespace {

struct KafkaDeleter {
  void operator()(rd_kafka_t* handle) const { rd_kafka_destroy(handle); }
};
using KafkaHandle = std::unique_ptr<rd_kafka_t, KafkaDeleter>;

struct MetadataDeleter {
  void operator()(const rd_kafka_metadata_t* metadata) const {
    rd_kafka_metadata_destroy(metadata);
  }
};
using KafkaMetadata = std::unique_ptr<const rd_kafka_metadata_t, MetadataDeleter>;

using Settings = std::vector<std::pair<std::string, std::string>>;

// Errors librdkafka reports through its error callback (served by rd_kafka_poll).
struct ErrorLog {
  std::atomic<bool> authentication_failed{false};
};

void OnError(rd_kafka_t* /*handle*/, int error, const char* /*reason*/, void* opaque) {
  if (error == RD_KAFKA_RESP_ERR__AUTHENTICATION)
    static_cast<ErrorLog*>(opaque)->authentication_failed = true;
}

Result<KafkaHandle> OpenProducer(const Settings& settings, ErrorLog* errors = nullptr) {
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  char error[512];
  for (const auto& [name, value] : settings) {
    if (rd_kafka_conf_set(conf, name.c_str(), value.c_str(), error, sizeof(error)) !=
        RD_KAFKA_CONF_OK) {
      rd_kafka_conf_destroy(conf);
      return InvalidConfig(fmt::format("librdkafka setting '{}': {}", name, error));
    }
  }
  if (errors != nullptr) {
    rd_kafka_conf_set_opaque(conf, errors);
    rd_kafka_conf_set_error_cb(conf, OnError);
  }
  // rd_kafka_new takes the conf only when it succeeds.
  rd_kafka_t* handle = rd_kafka_new(RD_KAFKA_PRODUCER, conf, error, sizeof(error));
  if (handle == nullptr) {
    rd_kafka_conf_destroy(conf);
    return Unavailable(fmt::format("rd_kafka_new: {}", error));
  }
  return KafkaHandle(handle);
}

Result<KafkaMetadata> FetchMetadata(rd_kafka_t* handle, int timeout_ms) {
  const rd_kafka_metadata_t* metadata = nullptr;
  rd_kafka_resp_err_t error = rd_kafka_metadata(handle, 1, nullptr, &metadata, timeout_ms);
  if (error != RD_KAFKA_RESP_ERR_NO_ERROR)
    return Unavailable(fmt::format("metadata request failed: {}", rd_kafka_err2str(error)));
  return KafkaMetadata(metadata);
}

Settings SaslSettings(const TestServers& servers, const std::string& password) {
  return {{"bootstrap.servers", servers.kafka.sasl_bootstrap},
          {"security.protocol", "SASL_PLAINTEXT"},
          {"sasl.mechanisms", servers.kafka.sasl_mechanism},
          {"sasl.username", servers.kafka.sasl_user},
          {"sasl.password", password}};
}

std::string UniqueTopic(const std::string& name) {
  return fmt::format("kafka_test_server_test.{}.{}", name, getpid());
}

TEST(KafkaTestServerTest, EndpointsReachTheTest) {
  ASSERT_OK_AND_ASSIGN(TestServers servers, TestServers::FromEnvironment());
  EXPECT_THAT(servers.kafka.bootstrap, ::testing::StartsWith("127.0.0.1:"));
  EXPECT_THAT(servers.kafka.sasl_bootstrap, ::testing::StartsWith("127.0.0.1:"));
  EXPECT_NE(servers.kafka.bootstrap, servers.kafka.sasl_bootstrap);
  EXPECT_EQ(servers.kafka.sasl_mechanism, "PLAIN");
  EXPECT_EQ(servers.kafka.sasl_user, "sluice");
  EXPECT_FALSE(servers.kafka.sasl_password.empty());
  EXPECT_FALSE(servers.kafka.run_class.empty());
}

TEST(KafkaTestServerTest, MetadataOverPlaintext) {
  ASSERT_OK_AND_ASSIGN(TestServers servers, TestServers::FromEnvironment());
  ASSERT_OK_AND_ASSIGN(KafkaHandle producer,
                       OpenProducer({{"bootstrap.servers", servers.kafka.bootstrap}}));
  ASSERT_OK_AND_ASSIGN(KafkaMetadata metadata, FetchMetadata(producer.get(), 10000));
  ASSERT_EQ(metadata->broker_cnt, 1);
  EXPECT_EQ(fmt::format("{}:{}", metadata->brokers[0].host, metadata->brokers[0].port),
            servers.kafka.bootstrap);
}

TEST(KafkaTestServerTest, SaslPlainLetsTheTestUserIn) {
  ASSERT_OK_AND_ASSIGN(TestServers servers, TestServers::FromEnvironment());
  ASSERT_OK_AND_ASSIGN(KafkaHandle producer,
                       OpenProducer(SaslSettings(servers, servers.kafka.sasl_password)));
  ASSERT_OK_AND_ASSIGN(KafkaMetadata metadata, FetchMetadata(producer.get(), 10000));
  ASSERT_EQ(metadata->broker_cnt, 1);
  EXPECT_EQ(fmt::format("{}:{}", metadata->brokers[0].host, metadata->brokers[0].port),
            servers.kafka.sasl_bootstrap);
}

TEST(KafkaTestServerTest, TlsAnswersAClientTrustingTheFixturesCa) {
  ASSERT_OK_AND_ASSIGN(TestServers servers, TestServers::FromEnvironment());
  ASSERT_THAT(servers.kafka.ssl_bootstrap, ::testing::StartsWith("127.0.0.1:"));
  ASSERT_OK_AND_ASSIGN(KafkaHandle producer,
                       OpenProducer({{"bootstrap.servers", servers.kafka.ssl_bootstrap},
                                     {"security.protocol", "SSL"},
                                     {"ssl.ca.location", servers.kafka.ssl_ca}}));
  ASSERT_OK_AND_ASSIGN(KafkaMetadata metadata, FetchMetadata(producer.get(), 10000));
  ASSERT_EQ(metadata->broker_cnt, 1);
  EXPECT_EQ(fmt::format("{}:{}", metadata->brokers[0].host, metadata->brokers[0].port),
            servers.kafka.ssl_bootstrap);
}

TEST(KafkaTestServerTest, SaslPlainRefusesAWrongPassword) {
  ASSERT_OK_AND_ASSIGN(TestServers servers, TestServers::FromEnvironment());
  ErrorLog errors;
  ASSERT_OK_AND_ASSIGN(KafkaHandle producer,
                       OpenProducer(SaslSettings(servers, "not-the-password"), &errors));
  // The producer connects at once; the broker's refusal arrives through the error callback.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!errors.authentication_failed && std::chrono::steady_clock::now() < deadline)
    rd_kafka_poll(producer.get(), 100);
  EXPECT_TRUE(errors.authentication_failed) << "no authentication error was reported";
  EXPECT_FALSE(FetchMetadata(producer.get(), 1000).ok());
}

TEST(KafkaTestServerTest, ProducedMessagesComeBack) {
  ASSERT_OK_AND_ASSIGN(TestServers servers, TestServers::FromEnvironment());
  std::string topic = UniqueTopic("round_trip");
  ASSERT_OK(KafkaCreateTopic(servers, topic, 2));
  ASSERT_OK_AND_ASSIGN(KafkaHandle producer,
                       OpenProducer({{"bootstrap.servers", servers.kafka.bootstrap},
                                     {"enable.idempotence", "true"}}));
  std::vector<std::string> expected;
  for (int i = 0; i < 100; ++i) {
    std::string key = fmt::format("key-{}", i % 7);
    std::string value = fmt::format("value-{}", i);
    rd_kafka_resp_err_t error = rd_kafka_producev(
        producer.get(), RD_KAFKA_V_TOPIC(topic.c_str()),
        RD_KAFKA_V_KEY(key.data(), key.size()),
        RD_KAFKA_V_VALUE(value.data(), value.size()), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
        RD_KAFKA_V_END);
    ASSERT_EQ(error, RD_KAFKA_RESP_ERR_NO_ERROR) << rd_kafka_err2str(error);
    expected.push_back(key + "\t" + value);
  }
  ASSERT_EQ(rd_kafka_flush(producer.get(), 30000), RD_KAFKA_RESP_ERR_NO_ERROR);

  // Two more through the kcat helper, keyed.
  ASSERT_OK(KafkaProduce(servers, topic, "key-a|from kcat\nkey-b|also from kcat\n", "|"));
  expected.push_back("key-a\tfrom kcat");
  expected.push_back("key-b\talso from kcat");

  ASSERT_OK_AND_ASSIGN(std::string consumed, KafkaConsume(servers, topic, 1000));
  std::vector<std::string> lines;
  std::istringstream in(consumed);
  for (std::string line; std::getline(in, line);)
    lines.push_back(line);
  EXPECT_THAT(lines, ::testing::UnorderedElementsAreArray(expected));
}

}  // namespace
}  // namespace sluice::testing
