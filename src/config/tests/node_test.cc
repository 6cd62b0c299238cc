#include "config/node.h"

#include <gtest/gtest.h>

#include <cstdlib>

#include "config/options.h"
#include "testing/gtest_util.h"

namespace sluice::config {
namespace {

TEST(NodeTest, KeepsPositionsOfKeysAndValues) {
  ASSERT_OK_AND_ASSIGN(Node root, ParseYaml("a: 1\nb:\n  c: [x, \"y\"]\n", "t.yaml"));
  ASSERT_TRUE(root.is_map());
  EXPECT_EQ(root.Find("a")->mark().ToString(), "t.yaml:1:4");
  const Node* c = root.Find("b")->Find("c");
  ASSERT_NE(c, nullptr);
  ASSERT_EQ(c->items().size(), 2u);
  EXPECT_EQ(c->items()[1].mark().ToString(), "t.yaml:3:10");
  EXPECT_FALSE(c->items()[0].quoted());
  EXPECT_TRUE(c->items()[1].quoted());
  EXPECT_EQ(root.entries()[1].key_mark.ToString(), "t.yaml:2:1");
}

TEST(NodeTest, SyntaxErrorNamesLineAndColumn) {
  Result<Node> bad = ParseYaml("a: 1\nb: [1, 2\n", "broken.yaml");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidConfig);
  EXPECT_EQ(bad.status().message().rfind("broken.yaml:3:1: invalid YAML: ", 0), 0u)
      << bad.status().message();
}

TEST(NodeTest, DuplicateKeysAreRejected) {
  Result<Node> bad = ParseYaml("a: 1\na: 2\n", "dup.yaml");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message(), "dup.yaml:2:1: duplicate key 'a'");
}

TEST(NodeTest, EnvironmentSubstitution) {
  setenv("SLUICE_TEST_DIR", "/data", 1);
  unsetenv("SLUICE_TEST_UNSET");
  setenv("SLUICE_TEST_EMPTY", "", 1);
  ASSERT_OK_AND_ASSIGN(Node root, ParseYaml("p: ${SLUICE_TEST_DIR}/x-${SLUICE_TEST_UNSET:-7}.csv\n"
                                            "q: $${LITERAL}\n"
                                            "r: ${SLUICE_TEST_EMPTY:-fallback}\n",
                                            "env.yaml"));
  ASSERT_OK(SubstituteEnvironment(&root));
  EXPECT_EQ(root.Find("p")->scalar(), "/data/x-7.csv");
  EXPECT_EQ(root.Find("q")->scalar(), "${LITERAL}");
  EXPECT_EQ(root.Find("r")->scalar(), "fallback");

  ASSERT_OK_AND_ASSIGN(Node missing, ParseYaml("a:\n  b: ${SLUICE_TEST_UNSET}\n", "env.yaml"));
  Status status = SubstituteEnvironment(&missing);
  EXPECT_EQ(status.message(),
            "env.yaml:2:6: environment variable 'SLUICE_TEST_UNSET' is not set (write "
            "${SLUICE_TEST_UNSET:-default} to give a default)");
}

TEST(NodeTest, OverridesCreateAndReplace) {
  ASSERT_OK_AND_ASSIGN(Node root, ParseYaml("sink: {table: a}\n", "o.yaml"));
  ASSERT_OK(ApplyOverride(&root, "sink.table=b"));
  ASSERT_OK(ApplyOverride(&root, "source.tables=[x, y]"));
  ASSERT_OK(ApplyOverride(&root, "parallelism=4"));
  EXPECT_EQ(root.Find("sink")->Find("table")->scalar(), "b");
  EXPECT_EQ(root.Find("source")->Find("tables")->items().size(), 2u);
  EXPECT_EQ(root.Find("parallelism")->scalar(), "4");
  EXPECT_FALSE(ApplyOverride(&root, "noequals").ok());
  EXPECT_FALSE(ApplyOverride(&root, "sink.table.x=1").ok());
}

TEST(OptionsTest, ValidatesTypesKeysAndRequired) {
  static const std::vector<OptionSpec> kTable = {
      {"path", OptionType::kString, "", "where", true},
      {"rows", OptionType::kInt, "10", "how many"},
      {"mode", OptionType::kEnum, "append", "how", false, {"append", "overwrite"}},
      {"roll_bytes", OptionType::kBytes, "64MiB", "size"},
      {"password", OptionType::kSecret, "", "secret"},
  };
  ASSERT_OK_AND_ASSIGN(Node ok_block, ParseYaml("path: x\nrows: 5\nroll_bytes: 1MB\n", "s.yaml"));
  ASSERT_OK_AND_ASSIGN(Options options, Options::Validate(ok_block, kTable, "sink"));
  EXPECT_EQ(options.GetInt("rows"), 5);
  EXPECT_EQ(options.GetString("mode"), "append");
  EXPECT_EQ(options.GetBytes("roll_bytes"), 1000000);

  struct Case {
    const char* yaml;
    const char* message;
  };
  for (const Case& c : std::initializer_list<Case>{
           {"path: x\ntabel: y\n",
            "s.yaml:2:1: unknown key 'tabel' in sink (allowed: path, rows, mode, roll_bytes, "
            "password)"},
           {"path: x\nrows: ten\n", "s.yaml:2:7: 'rows' in sink must be an integer, got 'ten'"},
           {"path: x\nmode: upsert\n",
            "s.yaml:2:7: 'mode' in sink must be one of: append, overwrite, got 'upsert'"},
           {"rows: 1\n",
            "s.yaml:1:1: missing required key 'path' in sink (allowed: path, rows, mode, "
            "roll_bytes, password)"},
           {"path: [a]\n", "s.yaml:1:7: 'path' in sink must be a string, got a list"},
           {"path: x\npassword: [hunter2]\n",
            "s.yaml:2:11: 'password' in sink must be a string, got a value"},
       }) {
    ASSERT_OK_AND_ASSIGN(Node block, ParseYaml(c.yaml, "s.yaml"));
    Result<Options> bad = Options::Validate(block, kTable, "sink");
    ASSERT_FALSE(bad.ok()) << c.yaml;
    EXPECT_EQ(bad.status().message(), c.message);
  }
}

TEST(OptionsTest, ByteSizes) {
  EXPECT_EQ(ParseByteSize("4096").value(), 4096);
  EXPECT_EQ(ParseByteSize("64MiB").value(), 64 << 20);
  EXPECT_EQ(ParseByteSize("2 gb").value(), 2000000000);
  EXPECT_FALSE(ParseByteSize("12 parsecs").ok());
  EXPECT_FALSE(ParseByteSize("MB").ok());
}

}  // namespace
}  // namespace sluice::config
