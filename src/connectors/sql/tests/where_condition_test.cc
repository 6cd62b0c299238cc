#include "connectors/sql/where_condition.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "testing/gtest_util.h"

namespace sluice::connectors::sql {
namespace {

TEST(WhereConditionTest, SelfContainedConditionsPass) {
  for (QuoteRules rules : {QuoteRules::kMysql, QuoteRules::kPostgres}) {
    for (const char* ok :
         {"", "status = 'paid'", "(a = 1 OR b = 2) AND c IN (1, 2, (3))", "name = 'it''s ) ('",
          "name = \"a ( b\"", "f(x, g(y)) > 0", "note LIKE '%--%'", "x = ';'"}) {
      EXPECT_TRUE(CheckWhereCondition(ok, rules).ok()) << ok;
    }
  }
  EXPECT_OK(CheckWhereCondition("name = 'it\\'s (' AND `we(ird` = 1", QuoteRules::kMysql));
  EXPECT_OK(CheckWhereCondition("name = E'it\\'s (' AND \"we(ird\" = $$ ) $$ AND x = $1",
                                QuoteRules::kPostgres));
  // Standard PostgreSQL strings end at the quote, backslash or not.
  EXPECT_OK(CheckWhereCondition("path = 'C:\\' AND (a = 1)", QuoteRules::kPostgres));
}

// Issue 10: `where: "v = 1) OR (v = 2"` passed check, then made run read forever.
TEST(WhereConditionTest, Issue10ConditionsThatCouldEscapeTheirParenthesesAreRefused) {
  struct Case {
    const char* condition;
    const char* why;
  };
  for (QuoteRules rules : {QuoteRules::kMysql, QuoteRules::kPostgres}) {
    for (const Case& c : std::initializer_list<Case>{
             {"v = 1) OR (v = 2", "a ')' closes a parenthesis it did not open"},
             {"(v = 1", "a '(' is not closed"},
             {"v = 'open", "a string literal is not closed"},
             {"v = 1 -- and the rest", "it holds a -- comment"},
             {"v = 1 /* x */", "it holds a /* comment */"},
             {"v = 1; DROP TABLE t", "it holds a ';'"},
             {"name = \"x", "a double-quoted name or string is not closed"}}) {
      Status status = CheckWhereCondition(c.condition, rules);
      EXPECT_EQ(status.code(), StatusCode::kInvalidConfig) << c.condition;
      EXPECT_THAT(status.message(), ::testing::HasSubstr(c.why)) << c.condition;
    }
  }
  EXPECT_FALSE(CheckWhereCondition("v = 1 # comment", QuoteRules::kMysql).ok());
  EXPECT_FALSE(CheckWhereCondition("`open = 1", QuoteRules::kMysql).ok());
  EXPECT_FALSE(CheckWhereCondition("v = $$ open", QuoteRules::kPostgres).ok());
}

}  // namespace
}  // namespace sluice::connectors::sql
