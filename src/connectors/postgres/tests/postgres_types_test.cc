// The binary codecs without a server: what the encoders write, the decoders read back; type
// modifiers map to the right logical types.
#include "connectors/postgres/postgres_types.h"

#include <gtest/gtest.h>

#include "core/value_text.h"
#include "testing/gtest_util.h"

namespace sluice::connectors::postgres {
namespace {

// Encodes `text` (parsed as `type`) with `encoder` and decodes the field with `decoder` into a
// column of `type`; returns the canonical text read back.
std::string RoundTrip(const DataType& type, const std::string& text, Encoder encoder,
                      Decoder decoder) {
  Arena arena;
  Column in(type, 1, &arena);
  EXPECT_OK(AppendParsedValue(text, &in));
  CopyBuffer buffer;
  std::string scratch;
  EXPECT_OK(EncodeValue(encoder, in, 0, &buffer, &scratch));
  EXPECT_GE(buffer.size(), 4u);
  int32_t length;
  std::memcpy(&length, buffer.data(), 4);
  length = static_cast<int32_t>(__builtin_bswap32(static_cast<uint32_t>(length)));
  EXPECT_EQ(static_cast<size_t>(length) + 4, buffer.size());
  Column out(type, 1, &arena);
  Status decoded =
      DecodeValue(decoder, buffer.data() + 4, static_cast<size_t>(length), true, &out, &scratch);
  EXPECT_OK(decoded);
  if (!decoded.ok())
    return "";
  std::string result;
  AppendValueText(out, 0, &result);
  return result;
}

TEST(PostgresTypesTest, NumericRoundTripsThroughTheBinaryForm) {
  for (const char* text :
       {"0", "1", "-1", "10000", "9999", "123.4500", "-0.000001", "0.0001", "100000000.00000001",
        "NaN", "Infinity", "-Infinity",
        "123456789012345678901234567890123456789012345678901234567890.123456789012345"}) {
    EXPECT_EQ(RoundTrip(DataType::Decimal(0, 0), text, Encoder::kNumeric, Decoder::kNumeric), text);
  }
  for (const char* text : {"0.00", "-9999999999.99", "0.01", "1234.50"}) {
    EXPECT_EQ(RoundTrip(DataType::Decimal(12, 2), text, Encoder::kNumeric, Decoder::kNumeric),
              text);
  }
  EXPECT_EQ(RoundTrip(DataType::Decimal(38, 10), "-9999999999999999999999999999.9999999999",
                      Encoder::kNumeric, Decoder::kNumeric),
            "-9999999999999999999999999999.9999999999");
  EXPECT_EQ(RoundTrip(DataType::Decimal(38, 0), "99999999999999999999999999999999999999",
                      Encoder::kNumeric, Decoder::kNumeric),
            "99999999999999999999999999999999999999");
}

TEST(PostgresTypesTest, TemporalValuesKeepInfinitiesAndBcDates) {
  EXPECT_EQ(RoundTrip(DataType::Date(), "0044-03-15 BC", Encoder::kDate, Decoder::kDate),
            "0044-03-15 BC");
  EXPECT_EQ(RoundTrip(DataType::Date(), "-infinity", Encoder::kDate, Decoder::kDate), "-infinity");
  EXPECT_EQ(RoundTrip(DataType::TimestampTz(), "2024-02-29 12:00:00.000001+00:00",
                      Encoder::kTimestampTz, Decoder::kTimestampTz),
            "2024-02-29 12:00:00.000001+00:00");
  EXPECT_EQ(RoundTrip(DataType::Timestamp(), "infinity", Encoder::kTimestamp, Decoder::kTimestamp),
            "infinity");
  EXPECT_EQ(RoundTrip(DataType::Time(), "24:00:00", Encoder::kTime, Decoder::kTime), "24:00:00");
}

TEST(PostgresTypesTest, FloatsAndUuids) {
  EXPECT_EQ(RoundTrip(DataType::Float64(), "-0", Encoder::kFloat8, Decoder::kFloat8), "-0");
  EXPECT_EQ(RoundTrip(DataType::Float32(), "1e-45", Encoder::kFloat4, Decoder::kFloat4), "1e-45");
  EXPECT_EQ(RoundTrip(DataType::String(), "{A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11}", Encoder::kUuid,
                      Decoder::kUuid),
            "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11");
  Arena arena;
  Column in(DataType::String(), 1, &arena);
  in.AppendView("not-a-uuid");
  CopyBuffer buffer;
  std::string scratch;
  EXPECT_EQ(EncodeValue(Encoder::kUuid, in, 0, &buffer, &scratch).ToString(),
            "data error: 'not-a-uuid' is not a UUID");
}

// Issue 10: character(n)'s padding arrived as part of the value.
TEST(PostgresTypesTest, Issue10CharacterDecodesWithoutItsPadding) {
  PgType bpchar;
  bpchar.oid = bpchar.base_oid = pg_oid::kBpchar;
  bpchar.typmod = 20 + 4;
  ReadMapping mapping = MapForRead(bpchar);
  EXPECT_EQ(mapping.type, DataType::String(20));
  for (const auto& [wire, text] : std::initializer_list<std::pair<std::string, std::string>>{
           {"English             ", "English"},
           {"  lead  ", "  lead"},
           {"    ", ""},
           {"tab\t ", "tab\t"},
       }) {
    Arena arena;
    Column out(mapping.type, 1, &arena);
    std::string scratch;
    ASSERT_OK(DecodeValue(mapping.decoder, wire.data(), wire.size(), true, &out, &scratch));
    EXPECT_EQ(out.GetView(0), text);
  }
}

// Issue 10: MySQL's TINYINT(1) into an existing boolean column.
TEST(PostgresTypesTest, Issue10IntegersEncodeAsBooleansWhenZeroOrOne) {
  PgType boolean;
  boolean.oid = boolean.base_oid = pg_oid::kBool;
  for (const DataType& type : {DataType::Int8(), DataType::UInt64(), DataType::Int32()}) {
    std::optional<WriteMapping> mapping = MapForWrite(type, boolean);
    ASSERT_TRUE(mapping.has_value()) << type.ToString();
    EXPECT_EQ(mapping->encoder, Encoder::kBool);
  }
  EXPECT_EQ(RoundTrip(DataType::Int8(), "1", Encoder::kBool, Decoder::kBool), "1");
  EXPECT_EQ(RoundTrip(DataType::Int8(), "0", Encoder::kBool, Decoder::kBool), "0");
  Arena arena;
  Column in(DataType::Int8(), 1, &arena);
  in.Append<int8_t>(2);
  CopyBuffer buffer;
  std::string scratch;
  EXPECT_EQ(EncodeValue(Encoder::kBool, in, 0, &buffer, &scratch).ToString(),
            "data error: 2 is out of range for PostgreSQL boolean (0 or 1)");
  EXPECT_FALSE(MapForWrite(DataType::Float64(), boolean).has_value());
}

TEST(PostgresTypesTest, Issue10TypeModifiersOfTargetsAreCheckedValueByValue) {
  PgType numeric;
  numeric.oid = numeric.base_oid = pg_oid::kNumeric;
  numeric.typmod = ((5 << 16) | 2) + 4;
  std::optional<WriteMapping> mapping = MapForWrite(DataType::Decimal(10, 3), numeric);
  ASSERT_TRUE(mapping.has_value());
  EXPECT_TRUE(mapping->checks_values());
  Arena arena;
  Column values(DataType::Decimal(10, 3), 4, &arena);
  for (const char* text : {"1.005", "1.010", "-999.990", "1000.000"})
    ASSERT_OK(AppendParsedValue(text, &values));
  EXPECT_EQ(CheckValueFits(*mapping, values, 0).message(),
            "'1.005' would be rounded to fit decimal(5,2)");
  EXPECT_OK(CheckValueFits(*mapping, values, 1));
  EXPECT_OK(CheckValueFits(*mapping, values, 2));
  EXPECT_EQ(CheckValueFits(*mapping, values, 3).message(), "'1000.000' does not fit decimal(5,2)");
  // The same type: every value fits, nothing to check or warn about. An int32 may overflow.
  std::optional<WriteMapping> same = MapForWrite(DataType::Decimal(5, 2), numeric);
  ASSERT_TRUE(same.has_value());
  EXPECT_FALSE(same->checks_values());
  EXPECT_EQ(NarrowingWarning(DataType::Decimal(5, 2), *same), "");
  EXPECT_TRUE(MapForWrite(DataType::Int32(), numeric)->checks_values());
  // Unconstrained numeric and plain timestamps check nothing.
  numeric.typmod = -1;
  EXPECT_FALSE(MapForWrite(DataType::Decimal(10, 3), numeric)->checks_values());
  PgType timestamp;
  timestamp.oid = timestamp.base_oid = pg_oid::kTimestamp;
  timestamp.typmod = -1;
  EXPECT_FALSE(MapForWrite(DataType::Timestamp(6), timestamp)->checks_values());
  timestamp.typmod = 3;
  std::optional<WriteMapping> millis = MapForWrite(DataType::Timestamp(6), timestamp);
  ASSERT_TRUE(millis.has_value());
  Column stamps(DataType::Timestamp(6), 3, &arena);
  for (const char* text : {"2024-01-01 00:00:00.123", "2024-01-01 00:00:00.1234", "infinity"})
    ASSERT_OK(AppendParsedValue(text, &stamps));
  EXPECT_OK(CheckValueFits(*millis, stamps, 0));
  EXPECT_EQ(CheckValueFits(*millis, stamps, 1).message(),
            "'2024-01-01 00:00:00.1234' would be rounded to 3 fractional-second digits");
  EXPECT_OK(CheckValueFits(*millis, stamps, 2));
}

TEST(PostgresTypesTest, TypeModifiersMapToLogicalTypes) {
  auto read = [](uint32_t oid, int32_t typmod) {
    PgType type;
    type.oid = type.base_oid = oid;
    type.typmod = typmod;
    return MapForRead(type).type.ToString();
  };
  EXPECT_EQ(read(pg_oid::kNumeric, -1), "decimal");
  EXPECT_EQ(read(pg_oid::kNumeric, ((10 << 16) | 2) + 4), "decimal(10,2)");
  EXPECT_EQ(read(pg_oid::kNumeric, ((5 << 16) | (-2 & 0x7ff)) + 4), "decimal");  // scale -2
  EXPECT_EQ(read(pg_oid::kVarchar, 44), "string(40)");
  EXPECT_EQ(read(pg_oid::kTimestampTz, 3), "timestamp_tz(3)");
  EXPECT_EQ(read(pg_oid::kOid, -1), "uint32");
  PgType array;
  array.oid = array.base_oid = 1007;  // int4[]
  array.category = 'A';
  EXPECT_TRUE(MapForRead(array).as_text);
}

}  // namespace
}  // namespace sluice::connectors::postgres
