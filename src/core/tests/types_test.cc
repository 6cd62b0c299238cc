#include "core/types.h"

#include <gtest/gtest.h>

#include <type_traits>

#include "testing/gtest_util.h"

namespace sluice {
namespace {

TEST(TypesTest, ParseAndPrintRoundTrip) {
  for (const char* spelled :
       {"bool",       "int8",         "int16",         "int32",          "int64",
        "uint8",      "uint16",       "uint32",        "uint64",         "float32",
        "float64",    "decimal",      "decimal(12,2)", "decimal(65,30)", "string",
        "string(40)", "bytes",        "date",          "time",           "time(3)",
        "timestamp",  "timestamp(0)", "timestamp_tz",  "json",           "null"}) {
    ASSERT_OK_AND_ASSIGN(DataType type, ParseDataType(spelled));
    EXPECT_EQ(type.ToString(), spelled);
  }
}

TEST(TypesTest, AliasesAndCase) {
  ASSERT_OK_AND_ASSIGN(DataType type, ParseDataType(" BIGINT "));
  EXPECT_EQ(type, DataType::Int64());
  ASSERT_OK_AND_ASSIGN(type, ParseDataType("Numeric(10, 3)"));
  EXPECT_EQ(type, DataType::Decimal(10, 3));
  ASSERT_OK_AND_ASSIGN(type, ParseDataType("decimal(7)"));
  EXPECT_EQ(type, DataType::Decimal(7, 0));
}

TEST(TypesTest, BadSpellingsNameTheProblem) {
  Result<DataType> bad = ParseDataType("int65");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidConfig);
  EXPECT_NE(bad.status().message().find("unknown type 'int65'"), std::string::npos);
  EXPECT_FALSE(ParseDataType("decimal(3,4)").ok());
  EXPECT_FALSE(ParseDataType("decimal(0,0)").ok());
  EXPECT_FALSE(ParseDataType("time(7)").ok());
  EXPECT_FALSE(ParseDataType("decimal(12,2").ok());
  EXPECT_FALSE(ParseDataType("int64(3)").ok());
}

// Issue 10: a MySQL LONGTEXT is string(4294967295); verify spells a file target's schema with
// ToString() and parses it back, so every length a column can have must parse.
TEST(TypesTest, EveryLengthAColumnCanHaveRoundTrips) {
  for (uint32_t length : {1u, 255u, 65535u, 16777215u, 2147483647u, 2147483648u, 4294967295u}) {
    for (DataType type : {DataType::String(length), DataType::Bytes(length)}) {
      ASSERT_OK_AND_ASSIGN(DataType parsed, ParseDataType(type.ToString()));
      EXPECT_EQ(parsed, type) << type.ToString();
    }
  }
  for (const char* bad : {"string(0)", "string(-1)", "string(4294967296)", "bytes(1e3)",
                          "string(99999999999999999999)"}) {
    Result<DataType> parsed = ParseDataType(bad);
    ASSERT_FALSE(parsed.ok()) << bad;
    EXPECT_NE(parsed.status().message().find("length"), std::string::npos) << bad;
  }
}

TEST(TypesTest, PhysicalLayout) {
  EXPECT_TRUE(DataType::Decimal(38, 10).is_fast_decimal());
  EXPECT_FALSE(DataType::Decimal(39, 10).is_fast_decimal());
  EXPECT_FALSE(DataType::Decimal(0, 0).is_fast_decimal());
  EXPECT_TRUE(DataType::Decimal(65, 30).is_variable_width());
  EXPECT_EQ(DataType::Decimal(18, 2).physical_width(), 16);
  EXPECT_EQ(DataType::Date().physical_width(), 4);
  EXPECT_EQ(DataType::TimestampTz().physical_width(), 8);
  EXPECT_TRUE(DataType::Json().is_variable_width());
}

}  // namespace
}  // namespace sluice

namespace sluice {
namespace {

TEST(VisitIntegerTypeTest, GivesEachIntegerTypeItsStorage) {
  auto width = [](TypeId id) { return VisitIntegerType(id, []<typename T>(T) { return sizeof(T); }); };
  auto is_signed = [](TypeId id) {
    return VisitIntegerType(id, []<typename T>(T) { return std::is_signed_v<T>; });
  };
  for (TypeId id : {TypeId::kInt8, TypeId::kInt16, TypeId::kInt32, TypeId::kInt64, TypeId::kUInt8,
                    TypeId::kUInt16, TypeId::kUInt32, TypeId::kUInt64}) {
    DataType type{id};
    EXPECT_EQ(static_cast<int>(width(id)), type.physical_width()) << TypeIdName(id);
    EXPECT_EQ(is_signed(id), !type.is_unsigned()) << TypeIdName(id);
  }
}

}  // namespace
}  // namespace sluice
