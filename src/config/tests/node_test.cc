#include "config/node.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>

#include "testing/gtest_util.h"
#include "testing/temp_dir.h"

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

TEST(NodeTest, SecretReferencesReadTheEnvironmentAndFiles) {
  testing::TempDir dir;
  const std::string path = dir.path() + "/pg_password";
  {
    std::ofstream out(path);
    out << "s3cr\u00e9t-canary\n";
  }
  setenv("SLUICE_TEST_PASSWORD", "from-env", 1);
  ASSERT_OK_AND_ASSIGN(Node root, ParseYaml("a: ${env:SLUICE_TEST_PASSWORD}\n"
                                            "b: ${file:" + path + "}\n"
                                            "c: ${file:/nonexistent/x:-dflt}\n",
                                            "secrets.yaml"));
  ASSERT_OK(SubstituteEnvironment(&root));
  EXPECT_EQ(root.Find("a")->scalar(), "from-env");
  EXPECT_EQ(root.Find("b")->scalar(), "s3cr\u00e9t-canary");  // the trailing newline dropped
  EXPECT_EQ(root.Find("c")->scalar(), "dflt");

  ASSERT_OK_AND_ASSIGN(Node missing, ParseYaml("p: ${file:/nonexistent/secret}\n", "s.yaml"));
  EXPECT_EQ(SubstituteEnvironment(&missing).message(),
            "s.yaml:1:4: cannot read the file '/nonexistent/secret' named by "
            "'${file:/nonexistent/secret}'");
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

}  // namespace
}  // namespace sluice::config
