// The schema registry of the `registry` fixture, seen from C++: its URL reaches the test through
// the env file and the Confluent-compatible API answers there.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "testing/gtest_util.h"
#include "testing/test_servers.h"

namespace sluice::testing {
namespace {

TEST(SchemaRegistryTestServerTest, UrlReachesTheTestAndAnswers) {
  ASSERT_OK_AND_ASSIGN(TestServers servers, TestServers::FromEnvironment());
  EXPECT_THAT(servers.schema_registry_url, ::testing::StartsWith("http://127.0.0.1:"));
  // A JSON array of subject names (empty or not: other tests may have registered some).
  ASSERT_OK_AND_ASSIGN(std::string subjects,
                       RunShell("curl -sSf '" + servers.schema_registry_url + "/subjects'"));
  EXPECT_THAT(subjects, ::testing::StartsWith("["));
}

}  // namespace
}  // namespace sluice::testing
