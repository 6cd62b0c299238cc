#include "formats/jsonl/json_text.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "testing/gtest_util.h"

namespace sluice::formats {
namespace {

TEST(JsonTextTest, EscapesPerRfc8259) {
  std::string out;
  AppendJsonString("plain é😀 \"q\" back\\slash \b\f\n\r\t \x01\x1f /", &out);
  EXPECT_EQ(out, "\"plain é😀 \\\"q\\\" back\\\\slash \\b\\f\\n\\r\\t \\u0001\\u001f /\"");
  out.clear();
  AppendJsonString("", &out);
  EXPECT_EQ(out, "\"\"");
}

TEST(JsonTextTest, ValidatorAcceptsEveryKindOfJsonValue) {
  JsonValidator validator;
  for (const char* text : {"{}", "[]", "{\"a\": [1, 2.5e-3, -0, true, false, null, \"s\\n\"]}",
                           "12345678901234567890123456789", "1e400", "\"str\"", "true", "null",
                           " {\"a\":1} ", "[[[[]]]]", "\"\\ud83d\\ude00\""}) {
    Status status = validator.Validate(text);
    EXPECT_TRUE(status.ok()) << text << ": " << status.ToString();
  }
}

TEST(JsonTextTest, ValidatorRejectsBrokenJson) {
  JsonValidator validator;
  struct Case {
    const char* text;
    const char* message;
  };
  for (const Case& c : std::initializer_list<Case>{
           {"{\"a\": tru}", "invalid JSON: invalid literal 'tru'"},
           {"[nul]", "invalid JSON: invalid literal 'nul'"},
           {"[-]", "invalid JSON: invalid number '-'"},
           {"[01]", "invalid JSON: invalid number '01'"},
           {"1.", "invalid JSON: invalid number '1.'"},
           {"{\"a\":1}}", "invalid JSON: unexpected content after the JSON value"},
           {"1 2", "invalid JSON: unexpected content after the JSON value"},
           {"\"\\ud800\"", nullptr},
           {"[1,,2]", nullptr},
           {"{\"a\" 1}", nullptr},
           {"{\"a\":1", nullptr},
           {"", nullptr},
           {"abc", nullptr},
           {"\"tab\there\"", nullptr},
       }) {
    Status status = validator.Validate(c.text);
    ASSERT_FALSE(status.ok()) << c.text;
    EXPECT_EQ(status.code(), StatusCode::kDataError);
    if (c.message != nullptr) {
      EXPECT_EQ(status.message(), c.message) << c.text;
    } else {
      EXPECT_THAT(status.message(), ::testing::StartsWith("invalid JSON: ")) << c.text;
    }
  }
}

TEST(JsonTextTest, CharacterColumnCountsCodePoints) {
  std::string line = "é😀x";
  EXPECT_EQ(CharacterColumn(line.data(), line.data()), 1);
  EXPECT_EQ(CharacterColumn(line.data(), line.data() + 2), 2);
  EXPECT_EQ(CharacterColumn(line.data(), line.data() + 6), 3);
}

}  // namespace
}  // namespace sluice::formats
