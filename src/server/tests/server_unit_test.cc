// The server's pieces that need no server: sealing, alert rule files, names, JSON to options.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>

#include "server/alerts.h"
#include "server/definitions.h"
#include "server/secret_box.h"
#include "testing/gtest_util.h"
#include "testing/temp_dir.h"

namespace sluice::server {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

TEST(SecretBoxTest, SealsAndOpensAndRefusesTamperingOrAnotherKey) {
  testing::TempDir dir;
  unsetenv("SLUICE_SERVER_KEY");
  ASSERT_OK_AND_ASSIGN(SecretBox box, SecretBox::Load(dir.path() + "/secret.key"));
  struct stat info {};
  ASSERT_EQ(stat((dir.path() + "/secret.key").c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0600u);
  EXPECT_EQ(info.st_size, 32);
  const std::string secret = "p@ss wörd \xF0\x9F\x94\x91 with ${braces}";
  ASSERT_OK_AND_ASSIGN(std::string sealed, box.Seal(secret));
  EXPECT_EQ(sealed.rfind("sv1:", 0), 0u);
  EXPECT_THAT(sealed, Not(HasSubstr("wörd")));
  ASSERT_OK_AND_ASSIGN(std::string again, box.Seal(secret));
  EXPECT_NE(sealed, again);  // a fresh nonce every time
  ASSERT_OK_AND_ASSIGN(std::string opened, box.Open(sealed));
  EXPECT_EQ(opened, secret);
  ASSERT_OK_AND_ASSIGN(std::string empty, box.Seal(""));
  ASSERT_OK_AND_ASSIGN(std::string empty_opened, box.Open(empty));
  EXPECT_EQ(empty_opened, "");
  // The same key file opens what it sealed; another key does not.
  ASSERT_OK_AND_ASSIGN(SecretBox reloaded, SecretBox::Load(dir.path() + "/secret.key"));
  ASSERT_OK_AND_ASSIGN(opened, reloaded.Open(sealed));
  EXPECT_EQ(opened, secret);
  ASSERT_OK_AND_ASSIGN(SecretBox other, SecretBox::Load(dir.path() + "/other.key"));
  EXPECT_EQ(other.Open(sealed).status().code(), StatusCode::kDataError);
  std::string tampered = sealed;
  tampered[10] = tampered[10] == 'A' ? 'B' : 'A';
  EXPECT_EQ(box.Open(tampered).status().code(), StatusCode::kDataError);
  EXPECT_EQ(box.Open("plain text").status().code(), StatusCode::kDataError);
}

TEST(SecretBoxTest, KeyFromTheEnvironment) {
  testing::TempDir dir;
  setenv("SLUICE_SERVER_KEY", std::string(64, 'a').c_str(), 1);
  ASSERT_OK_AND_ASSIGN(SecretBox a, SecretBox::Load(dir.path() + "/unused.key"));
  ASSERT_OK_AND_ASSIGN(SecretBox b, SecretBox::Load(dir.path() + "/other.key"));
  ASSERT_OK_AND_ASSIGN(std::string sealed, a.Seal("x"));
  ASSERT_OK_AND_ASSIGN(std::string opened, b.Open(sealed));
  EXPECT_EQ(opened, "x");
  setenv("SLUICE_SERVER_KEY", "not-hex", 1);
  EXPECT_THAT(SecretBox::Load(dir.path() + "/k").status().message(),
              HasSubstr("SLUICE_SERVER_KEY must be 64 hex digits"));
  unsetenv("SLUICE_SERVER_KEY");
}

Status LoadRules(const testing::TempDir& dir, const std::string& text) {
  std::ofstream(dir.path() + "/alerts.yaml") << text;
  return LoadAlertConfig(dir.path() + "/alerts.yaml").status();
}

TEST(AlertConfigTest, ReadsRulesAndNamesFileLineAndColumnOfMistakes) {
  testing::TempDir dir;
  std::ofstream(dir.path() + "/alerts.yaml")
      << "webhook: http://127.0.0.1:9/hook\nevaluation_interval_secs: 2\nrules:\n"
         "  - {name: Failed, kind: failure, severity: critical, labels: {team_owner: data}}\n"
         "  - {name: Lag, kind: lag, threshold_rows: 10, for_secs: 30, jobs: 'cdc_*'}\n";
  ASSERT_OK_AND_ASSIGN(AlertConfig config, LoadAlertConfig(dir.path() + "/alerts.yaml"));
  EXPECT_EQ(config.evaluation_interval_secs, 2);
  ASSERT_EQ(config.rules.size(), 2u);
  EXPECT_EQ(config.rules[0].labels.at("team_owner"), "data");
  EXPECT_EQ(config.rules[1].kind, AlertRule::Kind::kLag);
  EXPECT_EQ(config.rules[1].threshold_rows, 10u);
  EXPECT_EQ(config.rules[1].for_secs, 30);

  EXPECT_THAT(LoadRules(dir, "webhook: http://x/\nrules:\n  - {name: A, kind: lagg}\n").message(),
              HasSubstr("alerts.yaml:3:"));
  EXPECT_THAT(LoadRules(dir, "webhook: http://x/\nrules:\n  - {name: A, kind: lag}\n").message(),
              HasSubstr("a lag rule needs threshold_rows or threshold_bytes"));
  EXPECT_THAT(LoadRules(dir, "webhook: ftp://x/\nrules: []\n").message(),
              HasSubstr("alerts.yaml:1:10: 'webhook' must be an http:// or https:// address"));
  EXPECT_THAT(LoadRules(dir, "webhok: http://x/\nrules: []\n").message(),
              HasSubstr("unknown key 'webhok'"));
  EXPECT_THAT(LoadRules(dir, "webhook: http://x/\nrules: {a: 1}\n").message(),
              HasSubstr("'rules' must be a list of rules"));
}

TEST(DefinitionsTest, NamesAndJsonOptions) {
  EXPECT_OK(CheckName("job", "orders_2024.v1-eu"));
  for (const char* bad : {"", "_x", "-x", ".x", "a b", "a/b", "ä"}) {
    EXPECT_THAT(CheckName("job", bad).message(), HasSubstr("is not allowed")) << bad;
  }
  EXPECT_THAT(CheckName("job", std::string(129, 'a')).message(), HasSubstr("is not allowed"));
  config::Node node = NodeFromJson(
      nlohmann::json::parse(R"({"host": "h", "port": 5432, "tls": true, "tables": ["a", "b"],
                                "nested": {"x": null}})"),
      "connection c");
  EXPECT_EQ(node.Find("host")->scalar(), "h");
  EXPECT_EQ(node.Find("port")->scalar(), "5432");
  EXPECT_EQ(node.Find("tls")->scalar(), "true");
  EXPECT_EQ(node.Find("tables")->items().size(), 2u);
  EXPECT_TRUE(node.Find("nested")->Find("x")->is_null());
}

}  // namespace
}  // namespace sluice::server
