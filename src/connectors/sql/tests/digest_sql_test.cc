// The digest definition (connectors/store_digest.h) on Sluice's side, and the SQL built around a
// dialect's pieces. The SQL side is checked against real servers in
// tests/e2e/cases/verify_in_the_databases, where both ways must give equal digests.
#include "connectors/sql/digest_sql.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>
#include <optional>

#include "core/arena.h"
#include "testing/gtest_util.h"

namespace sluice::connectors::sql {
namespace {

using ::testing::HasSubstr;

std::string Text(const DataType& type, auto append) {
  Arena arena;
  Column column(type, 1, &arena);
  append(column);
  std::string out;
  AppendDigestText(column, 0, &out);
  return out;
}

TEST(DigestTextTest, EveryTypeHasTheCanonicalTextSqlCanProduce) {
  EXPECT_EQ(Text(DataType::Bool(), [](Column& c) { c.Append<uint8_t>(1); }), "1");
  EXPECT_EQ(Text(DataType::Bool(), [](Column& c) { c.Append<uint8_t>(0); }), "0");
  EXPECT_EQ(Text(DataType::Int64(), [](Column& c) { c.Append<int64_t>(INT64_MIN); }),
            "-9223372036854775808");
  EXPECT_EQ(Text(DataType::UInt64(), [](Column& c) { c.Append<uint64_t>(UINT64_MAX); }),
            "18446744073709551615");
  // Trailing fractional zeros go, and the point with them; integer digits stay.
  EXPECT_EQ(Text(DataType::Decimal(12, 2), [](Column& c) { c.Append<__int128>(15000); }), "150");
  EXPECT_EQ(Text(DataType::Decimal(12, 2), [](Column& c) { c.Append<__int128>(15010); }), "150.1");
  EXPECT_EQ(Text(DataType::Decimal(12, 2), [](Column& c) { c.Append<__int128>(-1); }), "-0.01");
  EXPECT_EQ(Text(DataType::Decimal(12, 2), [](Column& c) { c.Append<__int128>(0); }), "0");
  EXPECT_EQ(Text(DataType::Decimal(0, 0), [](Column& c) { c.AppendView("100.500"); }), "100.5");
  EXPECT_EQ(Text(DataType::Decimal(0, 0), [](Column& c) { c.AppendView("100"); }), "100");
  EXPECT_EQ(Text(DataType::String(), [](Column& c) { c.AppendView("é 😀"); }), "é 😀");
  EXPECT_EQ(
      Text(DataType::Bytes(), [](Column& c) { c.AppendView(std::string("\x00\xff\x1f", 3)); }),
      "00ff1f");
  EXPECT_EQ(Text(DataType::Date(), [](Column& c) { c.Append<int32_t>(0); }), "1970-01-01");
  EXPECT_EQ(Text(DataType::Timestamp(), [](Column& c) { c.Append<int64_t>(1500000); }),
            "1970-01-01 00:00:01.5");
  EXPECT_EQ(Text(DataType::TimestampTz(), [](Column& c) { c.Append<int64_t>(1); }),
            "1970-01-01 00:00:00.000001");
  EXPECT_EQ(Text(DataType::TimestampTz(), [](Column& c) { c.Append<int64_t>(0); }),
            "1970-01-01 00:00:00");
}

TEST(DigestTextTest, HashesAreMd5PrefixesAsTheServersComputeThem) {
  // MD5("abc") = 900150983cd24fb0d6963f7d28e17f72.
  EXPECT_EQ(DigestRowHash("abc"), 0x900150983cd24fbULL);
  EXPECT_EQ(DigestHashBucket("abc", 1000), 0x90015098ULL % 1000);
  // MD5("") = d41d8cd98f00b204e9800998ecf8427e.
  EXPECT_EQ(DigestRowHash(""), 0xd41d8cd98f00b20ULL);
}

TEST(DigestTextTest, RangeBucketsClampKeysOutsideTheRange) {
  DigestKeyRange range{-100, 10};
  EXPECT_EQ(DigestRangeBucket(-100, range, 8), 0u);
  EXPECT_EQ(DigestRangeBucket(-91, range, 8), 0u);
  EXPECT_EQ(DigestRangeBucket(-90, range, 8), 1u);
  EXPECT_EQ(DigestRangeBucket(-1000, range, 8), 0u);
  EXPECT_EQ(DigestRangeBucket(static_cast<__int128>(UINT64_MAX), range, 8), 7u);
  auto [first, last] = DigestBucketKeys(1, range, 8);
  EXPECT_EQ(*first, -90);
  EXPECT_EQ(*last, -81);
  EXPECT_FALSE(DigestBucketKeys(0, range, 8).first.has_value());
  EXPECT_FALSE(DigestBucketKeys(7, range, 8).second.has_value());
}

TEST(DigestTextTest, SumsAreTakenModulo2To64) {
  ASSERT_OK_AND_ASSIGN(uint64_t small, ParseDigestSum("12345"));
  EXPECT_EQ(small, 12345u);
  ASSERT_OK_AND_ASSIGN(uint64_t wrapped, ParseDigestSum("18446744073709551617"));  // 2^64 + 1
  EXPECT_EQ(wrapped, 1u);
  ASSERT_OK_AND_ASSIGN(uint64_t empty, ParseDigestSum(""));
  EXPECT_EQ(empty, 0u);
  EXPECT_FALSE(ParseDigestSum("1.5").ok());
  ASSERT_OK_AND_ASSIGN(__int128 low, ParseInt128("-9223372036854775808"));
  EXPECT_EQ(Int128ToString(low), "-9223372036854775808");
  EXPECT_EQ(Int128ToString(static_cast<__int128>(UINT64_MAX)), "18446744073709551615");
  EXPECT_FALSE(ParseInt128("12a").ok());
}

// The row text of `values` (nullopt: NULL) as Sluice's side builds it.
std::string RowText(const std::vector<std::optional<std::string>>& values) {
  DigestRowText row;
  row.Clear();
  for (const auto& value : values) {
    if (value) {
      row.BeginValue()->append(*value);
      row.EndValue();
    } else {
      row.AppendNull();
    }
  }
  return std::string(row.text());
}

// Issue 10: values joined with an unescaped separator could stand for a column boundary.
TEST(DigestTextTest, Issue10RowTextsAreUnambiguous) {
  const std::string us(1, kDigestSeparator);
  const std::string esc(1, kDigestEscape);
  EXPECT_NE(RowText({"x" + us + "vy", "z"}), RowText({"x", "y" + us + "vz"}));
  EXPECT_EQ(RowText({"x" + us + "vy", "z"}), "vx" + esc + us + "vy" + us + "vz");
  EXPECT_EQ(RowText({std::nullopt, ""}), "n" + us + "v");
  // Rows of up to three elements drawn from texts made of the framing characters: all distinct
  // rows have distinct row texts, and each splits back into its elements.
  const std::vector<std::optional<std::string>> pieces = {
      std::nullopt, "", "n", "v", "NULL", us, esc, esc + us, us + esc, esc + esc, us + us,
      "x" + us + "vy", "x" + esc, "a" + us + "n", "v" + us + "v"};
  std::map<std::string, std::vector<std::optional<std::string>>> seen;
  for (size_t width = 1; width <= 3; ++width) {
    std::vector<size_t> pick(width, 0);
    while (true) {
      std::vector<std::optional<std::string>> row;
      for (size_t index : pick)
        row.push_back(pieces[index]);
      std::string text = RowText(row);
      auto [it, inserted] = seen.emplace(text, row);
      EXPECT_TRUE(inserted) << "two rows share the row text of the row #" << seen.size();
      std::vector<std::string> elements = SplitDigestText(text);
      ASSERT_EQ(elements.size(), row.size());
      for (size_t i = 0; i < row.size(); ++i)
        EXPECT_EQ(elements[i], row[i] ? "v" + *row[i] : std::string(kDigestNullElement));
      size_t position = 0;
      while (position < width && ++pick[position] == pieces.size())
        pick[position++] = 0;
      if (position == width)
        break;
    }
  }
}

TEST(DigestTextTest, KeyTextsAreTheKeyValuesEscapedTexts) {
  const std::string us(1, kDigestSeparator);
  const std::string esc(1, kDigestEscape);
  DigestRowText row;
  row.Clear();
  row.BeginValue()->append("7");
  row.EndValue();
  row.AppendNull();
  row.BeginValue()->append("a" + us + "b");
  row.EndValue();
  std::string key;
  row.KeyText({0}, &key);
  EXPECT_EQ(key, "7");  // an integer key parses as one (key-range buckets)
  row.KeyText({2, 0}, &key);
  EXPECT_EQ(key, "a" + esc + us + "b" + us + "7");
  EXPECT_THAT(SplitDigestText(key), ::testing::ElementsAre("a" + us + "b", "7"));
  row.KeyText({1}, &key);
  EXPECT_EQ(key, "");  // a NULL key value is an empty element
}

TEST(DigestTextTest, OnlyTextsThatMayHoldTheFramingAreEscapedInSql) {
  for (const DataType& type : {DataType::Bool(), DataType::Int8(), DataType::UInt64(),
                               DataType::Decimal(12, 2), DataType::Bytes(), DataType::Date(),
                               DataType::Timestamp(), DataType::TimestampTz()}) {
    EXPECT_FALSE(DigestTextMayNeedEscaping(type)) << type.ToString();
  }
  for (const DataType& type : {DataType::String(), DataType::String(4294967295u), DataType::Json(),
                               DataType::Time(), DataType::Float64()}) {
    EXPECT_TRUE(DigestTextMayNeedEscaping(type)) << type.ToString();
  }
}

// Spells every dialect piece recognisably, to check how the builder assembles them.
class SpelledDialect final : public DigestDialect {
 public:
  std::string Concat(const std::vector<std::string>& parts) const override {
    std::string out = "cat(";
    for (size_t i = 0; i < parts.size(); ++i)
      out += (i > 0 ? "," : "") + parts[i];
    return out + ")";
  }
  std::string Coalesce(std::string_view expr, std::string_view fallback) const override {
    return "nvl(" + std::string(expr) + "," + std::string(fallback) + ")";
  }
  std::string Literal(std::string_view characters) const override {
    std::string out;
    for (char c : characters)
      out += c == kDigestEscape ? "ESC" : c == kDigestSeparator ? "US" : std::string(1, c);
    return out;
  }
  std::string Replace(std::string_view expr, std::string_view from,
                      std::string_view to) const override {
    return "rep(" + std::string(expr) + "," + std::string(from) + "," + std::string(to) + ")";
  }
  std::string Md5Prefix(std::string_view text, int hex_digits) const override {
    return "md5_" + std::to_string(hex_digits) + "(" + std::string(text) + ")";
  }
  std::string Exact(std::string_view expr) const override {
    return "exact(" + std::string(expr) + ")";
  }
  std::string IntDiv(std::string_view a, std::string_view b) const override {
    return "div(" + std::string(a) + "," + std::string(b) + ")";
  }
};

TEST(DigestSqlTest, RowsKeysAndBucketsFollowTheDefinition) {
  DigestRequest request;
  request.columns = {{0, DataType::Int64()}, {1, DataType::String()}};
  request.key = {0};
  request.buckets = 16;
  DigestExpressions hashed =
      BuildDigestExpressions(SpelledDialect(), {"a_text", "b_text"}, {"a"}, request);
  // Only the string's text can hold the escape or the separator: it alone is escaped, the
  // escape character first.
  EXPECT_EQ(hashed.row_text,
            "cat(nvl(cat('v',a_text),'n'),US,"
            "nvl(cat('v',rep(rep(b_text,ESC,ESCESC),US,ESCUS)),'n'))");
  EXPECT_EQ(hashed.row_hash, "md5_15(" + hashed.row_text + ")");
  EXPECT_EQ(hashed.key_text, "a_text");
  EXPECT_EQ(hashed.bucket, "(md5_8(a_text) % 16)");

  request.range = DigestKeyRange{-5, 100};
  DigestExpressions ranged =
      BuildDigestExpressions(SpelledDialect(), {"a_text", "b_text"}, {"a"}, request);
  EXPECT_EQ(ranged.bucket, "LEAST(div(LEAST(GREATEST(exact(a) - (-5), 0), 1600),100), 15)");
  std::string rows = DigestRowsQuery(ranged, "t", "a > 0", request, {0, 3, 15});
  EXPECT_EQ(rows,
            "SELECT a_text, " + ranged.row_text +
                " FROM t WHERE (a > 0) AND ((a <= 94) OR (a >= 295 AND a <= 394) OR (a >= 1495))");
  EXPECT_THAT(DigestQuery(ranged, "t", ""), HasSubstr("GROUP BY b"));

  request.key.clear();  // keyless: the row is the key
  request.range.reset();
  DigestExpressions keyless =
      BuildDigestExpressions(SpelledDialect(), {"a_text", "b_text"}, {}, request);
  EXPECT_EQ(keyless.key_text, keyless.row_text);
  EXPECT_THAT(DigestRowsQuery(keyless, "t", "", request, {2, 5}),
              HasSubstr("WHERE ((md5_8(" + keyless.row_text + ") % 16) IN (2, 5))"));

  request.key = {1, 0};  // a composite key: escaped texts joined by the separator
  DigestExpressions composite =
      BuildDigestExpressions(SpelledDialect(), {"a_text", "b_text"}, {"b", "a"}, request);
  EXPECT_EQ(composite.key_text, "cat(rep(rep(b_text,ESC,ESCESC),US,ESCUS),US,a_text)");
}

TEST(DigestSqlTest, DigestRowsAddUpAndBadRowsAreErrors) {
  std::vector<BucketDigest> digests(4);
  ASSERT_OK(AddDigestRow("2", "3", "18446744073709551616", &digests));
  EXPECT_EQ(digests[2], (BucketDigest{3, 0}));
  EXPECT_FALSE(AddDigestRow("4", "1", "1", &digests).ok());  // no such bucket
  EXPECT_FALSE(AddDigestRow("x", "1", "1", &digests).ok());
}

}  // namespace
}  // namespace sluice::connectors::sql
