#include "formats/avro/avro_schema.h"

#include <fmt/core.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>

#include "formats/avro/avro_logical.h"

namespace sluice::formats {

namespace avro_internal {

const nlohmann::json& NonNull(const nlohmann::json& type, bool* nullable) {
  if (type.is_array() && type.size() == 2) {
    if (type[0] == "null") {
      *nullable = true;
      return type[1];
    }
    if (type[1] == "null") {
      *nullable = true;
      return type[0];
    }
  }
  return type;
}

FieldPlan PlanOf(const nlohmann::json& type) {
  FieldPlan plan;
  if (!type.is_object())
    return plan;
  std::string logical = type.value("logicalType", "");
  if (logical == "date") {
    plan.logical = Logical::kDate;
  } else if (logical == "time-millis") {
    plan.logical = Logical::kTimeMillis;
  } else if (logical == "time-micros") {
    plan.logical = Logical::kTimeMicros;
  } else if (logical == "timestamp-millis") {
    plan.logical = Logical::kTimestampMillis;
  } else if (logical == "timestamp-micros") {
    plan.logical = Logical::kTimestampMicros;
  } else if (logical == "local-timestamp-millis") {
    plan.logical = Logical::kLocalTimestampMillis;
  } else if (logical == "local-timestamp-micros") {
    plan.logical = Logical::kLocalTimestampMicros;
  } else if (logical == "decimal") {
    plan.logical = Logical::kDecimal;
    plan.scale = type.value("scale", 0);
  }
  return plan;
}

}  // namespace avro_internal

namespace {

using avro_internal::Logical;
using avro_internal::NonNull;
using avro_internal::PlanOf;

DataType TypeOf(const nlohmann::json& type) {
  if (type.is_string()) {
    std::string name = type.get<std::string>();
    if (name == "boolean")
      return DataType::Bool();
    if (name == "int")
      return DataType::Int32();
    if (name == "long")
      return DataType::Int64();
    if (name == "float")
      return DataType::Float32();
    if (name == "double")
      return DataType::Float64();
    if (name == "bytes")
      return DataType::Bytes();
    if (name == "string" || name == "null")
      return DataType::String();
    return DataType::Json();  // a named type defined elsewhere
  }
  if (!type.is_object())
    return DataType::Json();
  switch (PlanOf(type).logical) {
    case Logical::kDate:
      return DataType::Date();
    case Logical::kTimeMillis:
    case Logical::kTimeMicros:
      return DataType::Time();
    case Logical::kTimestampMillis:
    case Logical::kTimestampMicros:
      return DataType::TimestampTz();
    case Logical::kLocalTimestampMillis:
    case Logical::kLocalTimestampMicros:
      return DataType::Timestamp();
    case Logical::kDecimal:
      return DataType::Decimal(type.value("precision", 38), type.value("scale", 0));
    case Logical::kNone:
      break;
  }
  std::string kind = type.value("type", "");
  if (kind == "enum")
    return DataType::String();
  if (kind == "fixed")
    return DataType::Bytes();
  if (kind == "record" || kind == "array" || kind == "map")
    return DataType::Json();
  return TypeOf(type["type"]);
}

bool IsAvroName(std::string_view name) {
  if (name.empty() || std::isdigit(static_cast<unsigned char>(name[0])))
    return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
  });
}

// The Avro type of a column (without the null of a nullable one).
nlohmann::ordered_json AvroTypeOf(const DataType& type) {
  auto logical = [](const char* base, const char* name) {
    return nlohmann::ordered_json{{"type", base}, {"logicalType", name}};
  };
  auto decimal = [](int precision, int scale) {
    return nlohmann::ordered_json{
        {"type", "bytes"}, {"logicalType", "decimal"}, {"precision", precision}, {"scale", scale}};
  };
  if (type.id == TypeId::kUInt64)
    return decimal(20, 0);
  if (type.is_integer())
    return type.id == TypeId::kInt64 || type.id == TypeId::kUInt32 ? "long" : "int";
  switch (type.id) {
    case TypeId::kBool:
      return "boolean";
    case TypeId::kFloat32:
      return "float";
    case TypeId::kFloat64:
      return "double";
    case TypeId::kDecimal:
      if (type.is_fast_decimal())
        return decimal(type.precision, type.scale);
      return "string";
    case TypeId::kBytes:
      return "bytes";
    case TypeId::kDate:
      return logical("int", "date");
    case TypeId::kTime:
      return logical("long", "time-micros");
    case TypeId::kTimestamp:
      return logical("long", "local-timestamp-micros");
    case TypeId::kTimestampTz:
      return logical("long", "timestamp-micros");
    default:  // string, json; the integers above
      return "string";
  }
}

}  // namespace

Result<std::vector<Field>> AvroColumns(const std::string& schema) {
  try {
    nlohmann::json json = nlohmann::json::parse(schema);
    if (!json.is_object() || json.value("type", "") != "record")
      return InvalidConfig("the value schema is not an Avro record: declare the columns");
    std::vector<Field> fields;
    for (const nlohmann::json& field : json.at("fields")) {
      bool nullable = false;
      const nlohmann::json& type = NonNull(field.at("type"), &nullable);
      fields.push_back(Field{field.at("name").get<std::string>(), TypeOf(type), true});
    }
    return fields;
  } catch (const std::exception& error) {
    return InvalidConfig(fmt::format("the Avro schema is not understood: {}", error.what()));
  }
}

Result<std::string> AvroSchemaOf(const Schema& schema, const std::string& record_name) {
  std::string name;
  for (char c : record_name)
    name.push_back(std::isalnum(static_cast<unsigned char>(c)) ? c : '_');
  if (name.empty() || std::isdigit(static_cast<unsigned char>(name[0])))
    name.insert(name.begin(), '_');
  nlohmann::ordered_json fields = nlohmann::ordered_json::array();
  for (const Field& field : schema.fields()) {
    if (!IsAvroName(field.name)) {
      return InvalidConfig(fmt::format("column '{}' is not a valid Avro field name (letters, "
                                       "digits and '_', not starting with a digit): rename it "
                                       "with a transform",
                                       field.name));
    }
    nlohmann::ordered_json type = AvroTypeOf(field.type);
    if (field.nullable) {
      fields.push_back({{"name", field.name},
                        {"type", nlohmann::ordered_json::array({"null", type})},
                        {"default", nullptr}});
    } else {
      fields.push_back({{"name", field.name}, {"type", type}});
    }
  }
  nlohmann::ordered_json record = {
      {"type", "record"}, {"name", name}, {"namespace", "sluice"}, {"fields", fields}};
  return record.dump();
}

}  // namespace sluice::formats
