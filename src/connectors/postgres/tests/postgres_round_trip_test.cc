// Every PostgreSQL type of docs/TYPE_MAPPING.md through source -> Sluice -> sink into another
// database, compared by the server's own text of every value and by the bits of every float.
#include <fmt/core.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "connectors/postgres/tests/postgres_test_util.h"
#include "testing/gtest_util.h"

namespace sluice::connectors::postgres {
namespace {

using testing::Dump;
using testing::RunJob;
using testing::TestDatabase;

struct ColumnSpec {
  std::string name;
  std::string type;
  std::vector<std::string> values;  // SQL literals, one per row (rows after them get NULL)
};

// Emoji and other 4-byte UTF-8 from the gemoji dataset (falls back to a few literal ones).
std::string EmojiSample() {
  std::string path = sluice::testing::DatasetsDir() + "/gemoji/emoji.json";
  std::ifstream in(path);
  std::string out;
  if (in) {
    std::stringstream buffer;
    buffer << in.rdbuf();
    std::string json = buffer.str();
    const std::string key = "\"emoji\": \"";
    for (size_t at = json.find(key); at != std::string::npos && out.size() < 4000;
         at = json.find(key, at + 1)) {
      size_t start = at + key.size();
      size_t end = json.find('"', start);
      out += json.substr(start, end - start);
    }
  }
  if (out.empty())
    out = "\xF0\x9F\x98\x80\xF0\x9F\x91\x8D\xF0\x9D\x84\x9E";
  return out;
}

std::string Quote(const std::string& text) {
  std::string out = "'";
  for (char c : text) {
    if (c == '\'')
      out += '\'';
    out += c;
  }
  return out + "'";
}

std::string AllBytes() {
  std::string hex = "'\\x";
  for (int b = 0; b < 256; ++b)
    hex += fmt::format("{:02x}", b);
  return hex + "'";
}

std::vector<ColumnSpec> Columns() {
  std::string digits;
  for (int i = 0; i < 12; ++i)
    digits += "1234567890";
  return {
      {"c_bool", "boolean", {"true", "false"}},
      {"c_int2", "smallint", {"-32768", "32767", "0"}},
      {"c_int4", "integer", {"-2147483648", "2147483647"}},
      {"c_int8", "bigint", {"-9223372036854775808", "9223372036854775807"}},
      {"c_oid", "oid", {"0", "4294967295"}},
      {"c_float4",
       "real",
       {"'-0'", "'NaN'", "'Infinity'", "'-Infinity'", "'3.4028235e38'", "'1.4e-45'",
        "'1.17549435e-38'", "'0.1'"}},
      {"c_float8",
       "double precision",
       {"'-0'", "'NaN'", "'Infinity'", "'-Infinity'", "'1.7976931348623157e308'", "'5e-324'",
        "'2.2250738585072014e-308'", "'0.1'"}},
      {"c_numeric",
       "numeric",
       {"'" + digits + "." + digits + "'", "'NaN'", "'Infinity'", "'-Infinity'", "'0'",
        "'-0.000001'", "'123.4500'", "'1e-50'", "'-" + digits + "'", "'0.00'"}},
      {"c_num38",
       "numeric(38,10)",
       {"'9999999999999999999999999999.9999999999'", "'-0.0000000001'", "'0'",
        "'-9999999999999999999999999999.9999999999'"}},
      {"c_num65",
       "numeric(65,30)",
       {"'99999999999999999999999999999999999.999999999999999999999999999999'",
        "'-12345678901234567890123456789012345.123456789012345678901234567890'",
        "'0.000000000000000000000000000001'"}},
      {"c_num_small", "numeric(5,2)", {"'999.99'", "'-999.99'", "'0.01'", "'0'"}},
      {"c_text",
       "text",
       {"''", Quote(EmojiSample()), "'it''s \"quoted\" \\ back'", "E'tab\\tnew\\nline\\r'",
        "repeat('x', 100000)"}},
      {"c_varchar", "character varying(20)", {"'short'", "''"}},
      {"c_char", "character(5)", {"'ab'", "'abcde'"}},
      {"c_name", "name", {"'pg_class'"}},
      {"c_bytea", "bytea", {AllBytes(), "'\\x'", "'\\x00'"}},
      {"c_date",
       "date",
       {"'1970-01-01'", "'2024-02-29'", "'infinity'", "'-infinity'", "'0044-03-15 BC'",
        "'4713-01-01 BC'", "'5874897-12-31'"}},
      {"c_time",
       "time without time zone",
       {"'00:00:00'", "'23:59:59.999999'", "'24:00:00'", "'12:34:56.5'"}},
      {"c_time3", "time(3) without time zone", {"'01:02:03.456'"}},
      {"c_ts",
       "timestamp without time zone",
       {"'2024-02-29 12:34:56.789012'", "'infinity'", "'-infinity'", "'0044-03-15 12:00:00 BC'",
        "'99999-12-31 23:59:59.999999'", "'1969-12-31 23:59:59.999999'"}},
      {"c_tstz",
       "timestamp with time zone",
       {"'2024-02-29 12:34:56.000001+05:30'", "'infinity'", "'-infinity'",
        "'0044-03-15 12:00:00+00 BC'", "'1969-12-31 23:59:59.999999+00'"}},
      {"c_json", "json", {"'{\"a\": [1, 2.50, \"x\"],   \"b\": null}'", "'[]'", "'\"\\u00e9\"'"}},
      {"c_jsonb",
       "jsonb",
       {"'{\"b\": 1, \"a\": [true, null]}'", "'\"\xF0\x9F\x98\x80\"'", "'123.450'"}},
      {"c_uuid",
       "uuid",
       {"'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'", "'00000000-0000-0000-0000-000000000000'"}},
      {"c_interval", "interval", {"'1 year 2 mons 3 days 04:05:06.789'", "'-838:59:59'", "'0'"}},
      {"c_mood", "mood", {"'happy'", "'sad'"}},
      {"c_int_array", "integer[]", {"'{1,2,NULL}'", "'{}'", "'{{1,2},{3,4}}'"}},
      {"c_text_array", "text[]", {"'{\"a b\",\"c,d\",NULL,\"\\\"q\\\"\"}'"}},
      {"c_tsvector", "tsvector", {"'a fat cat:3A sat'"}},
      {"c_money", "money", {"'12.34'", "'-1000000.01'"}},
      {"c_inet", "inet", {"'192.168.0.1/24'", "'::1'"}},
      {"c_cidr", "cidr", {"'10.0.0.0/8'"}},
      {"c_macaddr", "macaddr", {"'08:00:2b:01:02:03'"}},
      {"c_point", "point", {"'(1.5,-2)'"}},
      {"c_range", "int4range", {"'[1,10)'", "'empty'"}},
      {"c_bit", "bit(4)", {"B'1010'"}},
      {"c_varbit", "bit varying(8)", {"B'101'"}},
      {"c_xml", "xml", {"'<a>x</a>'"}},
      {"c_timetz", "time with time zone", {"'12:00:00+05:30'"}},
      {"c_posint", "posint", {"1", "2147483647"}},
      {"c_amount", "amount", {"'1234567890.12'", "'-0.01'"}},
  };
}

constexpr const char* kCustomTypes =
    "CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy'); "
    "CREATE DOMAIN posint AS integer CHECK (VALUE > 0); "
    "CREATE DOMAIN amount AS numeric(12,2);";

void CreateTypesTable(const TestDatabase& db) {
  db.Exec(kCustomTypes);
  std::string columns = "id integer PRIMARY KEY";
  size_t rows = 0;
  for (const ColumnSpec& spec : Columns()) {
    columns += fmt::format(", {} {}", spec.name, spec.type);
    rows = std::max(rows, spec.values.size());
  }
  db.Exec(fmt::format("CREATE TABLE types ({})", columns));
  // Row 0: every value NULL.
  db.Exec("INSERT INTO types (id) VALUES (0)");
  for (size_t r = 0; r < rows; ++r) {
    std::string names = "id";
    std::string values = std::to_string(r + 1);
    for (const ColumnSpec& spec : Columns()) {
      if (r >= spec.values.size())
        continue;
      names += ", " + spec.name;
      values += ", " + spec.values[r];
    }
    db.Exec(fmt::format("INSERT INTO types ({}) VALUES ({})", names, values));
  }
}

std::string JobYaml(const TestDatabase& from, const std::string& source_extra,
                    const TestDatabase& to, const std::string& sink_extra, int parallelism) {
  auto indent = [](const std::string& lines) {
    std::string out;
    std::istringstream in(lines);
    for (std::string line; std::getline(in, line);)
      out += "  " + line + "\n";
    return out;
  };
  return fmt::format(
      "name: round_trip\nparallelism: {}\nsource:\n  type: postgres\n{}{}"
      "sink:\n  type: postgres\n{}{}",
      parallelism, indent(from.ConnectionYaml()), indent(source_extra), indent(to.ConnectionYaml()),
      indent(sink_extra));
}

TEST(PostgresRoundTripTest, EveryTypeArrivesIdentical) {
  TestDatabase from("rt_from");
  TestDatabase to("rt_to");
  CreateTypesTable(from);
  // The target knows the enum and domains, so the sink recreates the native types.
  to.Exec(kCustomTypes);
  runtime::JobSummary summary =
      RunJob(JobYaml(from, "table: types\nsplit_rows: 3\npage_rows: 2\n", to, "", 2));
  ASSERT_OK(summary.status);
  EXPECT_EQ(Dump(to, "types", "id"), Dump(from, "types", "id"));
  // Bits of floats (NaN, -0, subnormals) and numerics exactly.
  const char* exact =
      "id, float4send(c_float4), float8send(c_float8), c_numeric::text, "
      "numeric_send(c_numeric), c_num65::text";
  EXPECT_EQ(Dump(to, "types", "id", exact), Dump(from, "types", "id", exact));
  // Column types recreated as they were.
  const char* types =
      "SELECT attname, format_type(atttypid, atttypmod), attnotnull FROM pg_attribute "
      "WHERE attrelid = 'types'::regclass AND attnum > 0 ORDER BY attnum";
  EXPECT_EQ(to.Exec(types), from.Exec(types));
  EXPECT_EQ(to.Exec("SELECT count(*) FROM types"), "11\n");
}

TEST(PostgresRoundTripTest, WithoutCustomTypesTheTargetUsesTheLogicalMapping) {
  TestDatabase from("rt2_from");
  TestDatabase to("rt2_to");
  CreateTypesTable(from);
  runtime::JobSummary summary = RunJob(JobYaml(from, "table: types\n", to, "", 1));
  ASSERT_OK(summary.status);
  EXPECT_EQ(Dump(to, "types", "id"), Dump(from, "types", "id"));
  EXPECT_EQ(to.Exec("SELECT format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = "
                    "'types'::regclass AND attname IN ('c_mood', 'c_posint', 'c_amount') ORDER "
                    "BY attnum"),
            "text\ninteger\nnumeric(12,2)\n");
}

TEST(PostgresRoundTripTest, SixteenMegabyteBytea) {
  TestDatabase from("rt_big_from");
  TestDatabase to("rt_big_to");
  from.Exec(
      "CREATE TABLE blobs (id int PRIMARY KEY, b bytea); INSERT INTO blobs SELECT i, "
      "decode(repeat(md5(i::text), 1048576), 'hex') FROM generate_series(1, 3) i");
  runtime::JobSummary summary = RunJob(JobYaml(from, "table: blobs\n", to, "", 2));
  ASSERT_OK(summary.status);
  const char* digest = "id, length(b), md5(b)";
  EXPECT_EQ(Dump(to, "blobs", "id", digest), Dump(from, "blobs", "id", digest));
  EXPECT_THAT(Dump(to, "blobs", "id", digest), ::testing::HasSubstr("16777216"));
}

}  // namespace
}  // namespace sluice::connectors::postgres
