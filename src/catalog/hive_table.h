// What Sluice registers in a Hive metastore: a table (columns, partition keys, file format,
// location) and its partitions, as plain values independent of the metastore's Thrift structs,
// plus the mapping of Sluice's logical types to Hive's column types.
//
// A Hive table written by Sluice is EXTERNAL by default: Sluice owns the files, and dropping the
// table in Hive must not delete them. Its files are laid out the Hive way, one directory per
// partition: <location>/dt=2026-12-04/hr=09/part-0.parquet.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/types.h"

namespace sluice::catalog {

/// The file formats Sluice writes for Hive tables.
enum class HiveFileFormat { kParquet, kAvro };

/// "parquet" or "avro".
std::string_view HiveFileFormatName(HiveFileFormat format);

/// The Hadoop classes Hive reads and writes a format with (the table's storage descriptor).
struct HiveStorageClasses {
  std::string_view input_format;
  std::string_view output_format;
  std::string_view serde;
};
HiveStorageClasses StorageClassesOf(HiveFileFormat format);
/// The format whose SerDe class is `serde`; nullopt for any other (ORC, text, ...).
std::optional<HiveFileFormat> FileFormatOfSerde(std::string_view serde);

/// A column or a partition key: its name and Hive's spelling of its type ("bigint",
/// "decimal(12,2)").
struct HiveColumn {
  std::string name;
  std::string type;
  std::string comment;  // optional; not compared by EnsureTable

  friend bool operator==(const HiveColumn&, const HiveColumn&) = default;
};

struct HiveTableSpec {
  std::string database;
  std::string table;
  std::vector<HiveColumn> columns;
  /// The partition columns, outermost directory first (dt, then hr). Not among `columns`: Hive
  /// keeps partition values in the directory names, not in the files.
  std::vector<HiveColumn> partition_keys;
  HiveFileFormat format = HiveFileFormat::kParquet;
  /// The table's root directory as a URI the metastore's readers resolve: hdfs://nn:8020/w/t,
  /// s3a://bucket/w/t, file:/data/w/t.
  std::string location;
  std::string comment;
  /// EXTERNAL_TABLE (Sluice's files stay when the table is dropped) or MANAGED_TABLE.
  bool external = true;

  friend bool operator==(const HiveTableSpec&, const HiveTableSpec&) = default;
};

/// One partition of a table: its values in the order of the table's partition keys (dt, hr), and
/// its directory. An empty location lets the metastore derive <table location>/dt=.../hr=....
struct HivePartitionSpec {
  std::vector<std::string> values;
  std::string location;

  friend bool operator==(const HivePartitionSpec&, const HivePartitionSpec&) = default;
};

/// Hive's column type for a Sluice type:
///   bool boolean; int8 tinyint; int16 smallint; int32 int; int64 bigint;
///   uint8 smallint, uint16 int, uint32 bigint (the next wider signed type holds every value);
///   uint64 decimal(20,0) (no Hive integer holds 2^64-1);
///   float32 float; float64 double;
///   decimal(p,s) decimal(p,s) when 1 <= p <= 38 and 0 <= s <= p; otherwise string: Hive's
///     decimals stop at 38 digits, and an unconstrained decimal (any scale per value) has no
///     Hive type that keeps every value exactly, while its canonical text does;
///   string, json string; bytes binary; date date;
///   timestamp, timestamp_tz timestamp (Hive's timestamp has no zone; timestamp_tz values are
///     UTC instants);
///   time string (Hive has no time of day type); null string.
std::string HiveTypeOf(const DataType& type);

}  // namespace sluice::catalog
