// Hive's storage classes per file format and the mapping of Sluice's types to Hive's.
#include "catalog/hive_table.h"

#include <fmt/core.h>

namespace sluice::catalog {

std::string_view HiveFileFormatName(HiveFileFormat format) {
  return format == HiveFileFormat::kAvro ? "avro" : "parquet";
}

HiveStorageClasses StorageClassesOf(HiveFileFormat format) {
  // What Hive itself records for STORED AS PARQUET / STORED AS AVRO.
  switch (format) {
    case HiveFileFormat::kAvro:
      return {"org.apache.hadoop.hive.ql.io.avro.AvroContainerInputFormat",
              "org.apache.hadoop.hive.ql.io.avro.AvroContainerOutputFormat",
              "org.apache.hadoop.hive.serde2.avro.AvroSerDe"};
    case HiveFileFormat::kParquet:
      break;
  }
  return {"org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat",
          "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat",
          "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe"};
}

std::optional<HiveFileFormat> FileFormatOfSerde(std::string_view serde) {
  for (HiveFileFormat format : {HiveFileFormat::kParquet, HiveFileFormat::kAvro}) {
    if (StorageClassesOf(format).serde == serde)
      return format;
  }
  return std::nullopt;
}

std::string HiveTypeOf(const DataType& type) {
  switch (type.id) {
    case TypeId::kBool:
      return "boolean";
    case TypeId::kInt8:
      return "tinyint";
    case TypeId::kInt16:
    case TypeId::kUInt8:
      return "smallint";
    case TypeId::kInt32:
    case TypeId::kUInt16:
      return "int";
    case TypeId::kInt64:
    case TypeId::kUInt32:
      return "bigint";
    case TypeId::kUInt64:
      return "decimal(20,0)";  // 18446744073709551615 has 20 digits
    case TypeId::kFloat32:
      return "float";
    case TypeId::kFloat64:
      return "double";
    case TypeId::kDecimal:
      // Hive's decimal holds 1..38 digits with 0 <= scale <= precision. Wider or unconstrained
      // decimals keep every digit only as text.
      if (type.precision >= 1 && type.precision <= 38 && type.scale >= 0 &&
          type.scale <= type.precision) {
        return fmt::format("decimal({},{})", type.precision, type.scale);
      }
      return "string";
    case TypeId::kBytes:
      return "binary";
    case TypeId::kDate:
      return "date";
    case TypeId::kTimestamp:
    case TypeId::kTimestampTz:
      return "timestamp";
    case TypeId::kString:
    case TypeId::kJson:
    case TypeId::kTime:  // no time of day type in Hive: "12:34:56.789"
    case TypeId::kNull:
      break;
  }
  return "string";
}

}  // namespace sluice::catalog
