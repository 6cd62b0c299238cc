#include "config/options.h"

#include <gtest/gtest.h>

#include "testing/gtest_util.h"

namespace sluice::config {
namespace {

struct ValidationCase {
  const char* yaml;
  const char* message;  // "" when the value is allowed
};

// Validates each case against `table` (as block "sink" of s.yaml) and checks the outcome.
void ExpectValidation(std::span<const OptionSpec> table,
                      std::initializer_list<ValidationCase> cases) {
  for (const ValidationCase& c : cases) {
    ASSERT_OK_AND_ASSIGN(Node block, ParseYaml(c.yaml, "s.yaml"));
    Result<Options> options = Options::Validate(block, table, "sink");
    if (std::string_view(c.message).empty()) {
      EXPECT_TRUE(options.ok()) << c.yaml << ": " << options.status().ToString();
    } else {
      ASSERT_FALSE(options.ok()) << c.yaml;
      EXPECT_EQ(options.status().code(), StatusCode::kInvalidConfig);
      EXPECT_EQ(options.status().message(), c.message);
    }
  }
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

  ExpectValidation(kTable, {
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
  });
}

TEST(OptionsTest, ByteSizes) {
  EXPECT_EQ(ParseByteSize("4096").value(), 4096);
  EXPECT_EQ(ParseByteSize("64MiB").value(), 64 << 20);
  EXPECT_EQ(ParseByteSize("2 gb").value(), 2000000000);
  EXPECT_FALSE(ParseByteSize("12 parsecs").ok());
  EXPECT_FALSE(ParseByteSize("MB").ok());
}

TEST(OptionsTest, IntegerRangeIsInclusive) {
  static const std::vector<OptionSpec> kTable = {
      {.name = "rows", .type = OptionType::kInt, .default_value = "10", .min = 1, .max = 256},
  };
  ExpectValidation(kTable, {
      {"rows: 1\n", ""},
      {"rows: 256\n", ""},
      {"rows: 0\n", "s.yaml:1:7: 'rows' in sink must be between 1 and 256, got 0"},
      {"rows: 257\n", "s.yaml:1:7: 'rows' in sink must be between 1 and 256, got 257"},
      {"rows: -9223372036854775808\n",
       "s.yaml:1:7: 'rows' in sink must be between 1 and 256, got -9223372036854775808"},
  });
}

TEST(OptionsTest, OneSidedRanges) {
  static const std::vector<OptionSpec> kTable = {
      {.name = "low", .type = OptionType::kInt, .default_value = "5", .min = 0},
      {.name = "high", .type = OptionType::kInt, .default_value = "5", .max = 900},
  };
  ExpectValidation(kTable, {
      {"low: 0\nhigh: 900\n", ""},
      {"low: 9223372036854775807\nhigh: -5\n", ""},
      {"low: -1\n", "s.yaml:1:6: 'low' in sink must be at least 0, got -1"},
      {"high: 901\n", "s.yaml:1:7: 'high' in sink must be at most 900, got 901"},
  });
}

TEST(OptionsTest, DoubleRange) {
  static const std::vector<OptionSpec> kTable = {
      {.name = "lease_secs", .type = OptionType::kDouble, .default_value = "30", .min = 0.3,
       .max = 86400},
  };
  ExpectValidation(kTable, {
      {"lease_secs: 0.3\n", ""},
      {"lease_secs: 86400\n", ""},
      {"lease_secs: 1e3\n", ""},
      {"lease_secs: 0.29\n",
       "s.yaml:1:13: 'lease_secs' in sink must be between 0.3 and 86400, got 0.29"},
      {"lease_secs: 86400.5\n",
       "s.yaml:1:13: 'lease_secs' in sink must be between 0.3 and 86400, got 86400.5"},
  });
}

TEST(OptionsTest, ByteSizeRangeCountsBytes) {
  static const std::vector<OptionSpec> kTable = {
      {.name = "message_max_bytes", .type = OptionType::kBytes, .default_value = "1000000",
       .min = 1000, .max = 1'000'000'000},
  };
  ExpectValidation(kTable, {
      {"message_max_bytes: 1000\n", ""},
      {"message_max_bytes: 1GB\n", ""},
      {"message_max_bytes: 1KB\n", ""},
      {"message_max_bytes: 999\n",
       "s.yaml:1:20: 'message_max_bytes' in sink must be between 1000 and 1000000000 bytes, "
       "got 999"},
      {"message_max_bytes: 1GiB\n",
       "s.yaml:1:20: 'message_max_bytes' in sink must be between 1000 and 1000000000 bytes, "
       "got 1GiB (1073741824 bytes)"},
  });
}

TEST(OptionsTest, RangeIsNotCheckedForAbsentOptionsOrWrongTypes) {
  static const std::vector<OptionSpec> kTable = {
      {.name = "rows", .type = OptionType::kInt, .default_value = "10", .min = 1, .max = 256},
  };
  ExpectValidation(kTable, {
      {"{}\n", ""},
      {"rows: many\n",
       "s.yaml:1:7: 'rows' in sink must be an integer, got 'many'"},
  });
}

TEST(OptionsTest, RangeText) {
  EXPECT_EQ(OptionRangeText({.name = "a", .type = OptionType::kInt, .min = 1, .max = 256}),
            "1..256");
  EXPECT_EQ(OptionRangeText({.name = "a", .type = OptionType::kDouble, .min = 0.1}), ">= 0.1");
  EXPECT_EQ(OptionRangeText({.name = "a", .type = OptionType::kInt, .max = 900}), "<= 900");
  EXPECT_EQ(OptionRangeText({.name = "a", .type = OptionType::kBytes, .min = 1000,
                             .max = 1'000'000'000}),
            "1000..1000000000");
  EXPECT_EQ(OptionRangeText({.name = "a", .type = OptionType::kInt}), "");
}

}  // namespace
}  // namespace sluice::config
