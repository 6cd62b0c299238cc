// Test-only: a schema with a column of every logical type and random rows for it, as canonical
// text, for property-style round trips through the formats and the file connector.
#pragma once

#include <cstdint>
#include <cstring>
#include <limits>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "core/decimal.h"
#include "core/schema.h"
#include "core/temporal.h"
#include "core/value_text.h"
#include "testing/memory_connector.h"

namespace sluice::testing {

/// One nullable column of every logical type (decimals in the fast, wide and unconstrained
/// forms).
inline SchemaPtr AllTypesSchema() {
  std::vector<Field> fields = {
      {"b", DataType::Bool()},
      {"i8", DataType::Int8()},
      {"i16", DataType::Int16()},
      {"i32", DataType::Int32()},
      {"i64", DataType::Int64()},
      {"u8", DataType::UInt8()},
      {"u16", DataType::UInt16()},
      {"u32", DataType::UInt32()},
      {"u64", DataType::UInt64()},
      {"f32", DataType::Float32()},
      {"f64", DataType::Float64()},
      {"dec", DataType::Decimal(12, 2)},
      {"wide", DataType::Decimal(50, 10)},
      {"num", DataType::Decimal(0, 0)},
      {"s", DataType::String()},
      {"raw", DataType::Bytes()},
      {"d", DataType::Date()},
      {"t", DataType::Time()},
      {"ts", DataType::Timestamp()},
      {"tz", DataType::TimestampTz()},
      {"j", DataType::Json()},
  };
  return std::make_shared<Schema>(std::move(fields));
}

/// Strings that stress quoting and escaping.
inline const std::vector<std::string>& TrickyStrings() {
  static const std::vector<std::string> strings = {"",
                                                   " ",
                                                   "plain",
                                                   "a,b",
                                                   "say \"hi\"",
                                                   "\"",
                                                   "\"\"",
                                                   "line1\nline2",
                                                   "crlf\r\nend",
                                                   "lone\rcr",
                                                   " lead",
                                                   "trail ",
                                                   "\\N",
                                                   "NULL",
                                                   "null",
                                                   "tab\there",
                                                   "héllo wörld",
                                                   "emoji 😀 4-byte 𝄞",
                                                   "\x01\x1f control",
                                                   "back\\slash",
                                                   "{\"not\": \"json\"}",
                                                   ",",
                                                   "\n",
                                                   "'single'",
                                                   "日本語のテキスト"};
  return strings;
}

inline const std::vector<std::string>& JsonValues() {
  static const std::vector<std::string> values = {"{\"a\":1,\"b\":[true,null,\"x\\\"y\"]}",
                                                  "[]",
                                                  "{}",
                                                  "\"str\"",
                                                  "123",
                                                  "-1.5e10",
                                                  "{\"nested\":{\"k\":\"é😀\"}}",
                                                  "12345678901234567890123",
                                                  "null",
                                                  "true",
                                                  "[1, 2, {\"spaced\" : \"out\"}]"};
  return values;
}

inline std::string RandomDigits(std::mt19937_64& random, int count) {
  std::string out;
  for (int i = 0; i < count; ++i)
    out += static_cast<char>('0' + random() % 10);
  return out;
}

/// Canonical text of a random value of `type`.
inline std::string RandomValue(const DataType& type, std::mt19937_64& random) {
  auto pick = [&](auto low, auto high) {
    using T = decltype(low);
    switch (random() % 8) {
      case 0:
        return low;
      case 1:
        return high;
      case 2:
        return T{0};
      default:
        break;
    }
    if constexpr (std::is_signed_v<T>) {
      return static_cast<T>(static_cast<int64_t>(random()));
    } else {
      return static_cast<T>(random());
    }
  };
  std::string out;
  switch (type.id) {
    case TypeId::kBool:
      return random() % 2 ? "true" : "false";
    case TypeId::kInt8:
    case TypeId::kInt16:
    case TypeId::kInt32:
    case TypeId::kInt64:
    case TypeId::kUInt8:
    case TypeId::kUInt16:
    case TypeId::kUInt32:
    case TypeId::kUInt64:
      return VisitIntegerType(type.id, [&]<typename T>(T) {
        return std::to_string(pick(std::numeric_limits<T>::min(), std::numeric_limits<T>::max()));
      });
    case TypeId::kFloat32: {
      uint32_t bits = static_cast<uint32_t>(random());
      float value;
      std::memcpy(&value, &bits, sizeof(value));
      if (random() % 10 == 0)
        value = 0.1f;
      AppendFloat(value, &out);
      return out;
    }
    case TypeId::kFloat64: {
      uint64_t bits = random();
      double value;
      std::memcpy(&value, &bits, sizeof(value));
      switch (random() % 12) {
        case 0:
          value = 0.1;
          break;
        case 1:
          value = -0.0;
          break;
        case 2:
          value = 1e300;
          break;
        default:
          break;
      }
      AppendDouble(value, &out);
      return out;
    }
    case TypeId::kDecimal: {
      std::string text = random() % 2 ? "-" : "";
      int integer_digits =
          static_cast<int>(random() % (type.precision == 0 ? 30 : type.precision - type.scale + 1));
      text += integer_digits == 0 ? "0" : RandomDigits(random, integer_digits);
      int fraction = type.precision == 0 ? static_cast<int>(random() % 20) : type.scale;
      if (fraction > 0)
        text += "." + RandomDigits(random, fraction);
      if (type.is_fast_decimal()) {
        Result<int128> value = ParseDecimal128(text, type.precision, type.scale);
        AppendDecimal128(*value, type.scale, &out);
        return out;
      }
      Status status =
          CanonicalDecimalText(text, type.precision, type.precision == 0 ? -1 : type.scale, &out);
      if (!status.ok())
        std::abort();
      return out;
    }
    case TypeId::kString: {
      const auto& strings = TrickyStrings();
      std::string text = strings[random() % strings.size()];
      if (random() % 3 == 0)
        text += strings[random() % strings.size()];
      return text;
    }
    case TypeId::kBytes: {
      std::string bytes;
      size_t length = random() % 12;
      for (size_t i = 0; i < length; ++i)
        bytes += static_cast<char>(random());
      AppendHexBytes(bytes, &out);
      return out;
    }
    case TypeId::kDate: {
      if (random() % 20 == 0)
        return random() % 2 ? "infinity" : "-infinity";
      int64_t low = DaysFromCivil(1, 1, 1);
      int64_t high = DaysFromCivil(9999, 12, 31);
      AppendDate(static_cast<int32_t>(low + static_cast<int64_t>(random() % (high - low + 1))),
                 &out);
      return out;
    }
    case TypeId::kTime: {
      int64_t span = 838LL * 3600 * kMicrosPerSecond;
      AppendTime(static_cast<int64_t>(random() % (2 * span + 1)) - span, &out);
      return out;
    }
    case TypeId::kTimestamp:
    case TypeId::kTimestampTz: {
      int64_t low = DaysFromCivil(1, 1, 1) * kMicrosPerDay;
      int64_t high = DaysFromCivil(9999, 12, 31) * kMicrosPerDay;
      int64_t micros = low + static_cast<int64_t>(random() % static_cast<uint64_t>(high - low));
      if (random() % 3 == 0)
        micros -= micros % kMicrosPerSecond;
      AppendTimestamp(micros, type.id == TypeId::kTimestampTz, &out);
      return out;
    }
    case TypeId::kJson: {
      const auto& values = JsonValues();
      return values[random() % values.size()];
    }
    case TypeId::kNull:
      return "";
  }
  return out;
}

/// `count` random rows for `schema`; about one value in `null_one_in` is NULL.
inline std::vector<testing::Row> RandomRows(const Schema& schema, size_t count, uint64_t seed,
                                            int null_one_in = 6) {
  std::mt19937_64 random(seed);
  std::vector<testing::Row> rows;
  rows.reserve(count);
  for (size_t r = 0; r < count; ++r) {
    testing::Row row;
    for (const Field& field : schema.fields()) {
      if (random() % null_one_in == 0) {
        row.emplace_back(std::nullopt);
      } else {
        row.emplace_back(RandomValue(field.type, random));
      }
    }
    rows.push_back(std::move(row));
  }
  return rows;
}

/// A batch holding `rows` (parsed with core's canonical text rules).
inline std::unique_ptr<Batch> MakeBatch(const SchemaPtr& schema,
                                        const std::vector<testing::Row>& rows) {
  auto batch = std::make_unique<Batch>(schema, std::max<size_t>(rows.size(), 1));
  for (const testing::Row& row : rows)
    testing::AppendRow(row, batch.get());
  return batch;
}

/// The rows of `batch` as canonical text.
inline std::vector<testing::Row> RowsOf(const Batch& batch) {
  std::vector<testing::Row> rows;
  for (size_t r = 0; r < batch.num_rows(); ++r)
    rows.push_back(testing::RowFromBatch(batch, r));
  return rows;
}

}  // namespace sluice::testing
