// The MySQL type mapping, both ways (docs/TYPE_MAPPING.md, README.md).
//
// Source: a column as information_schema.COLUMNS describes it becomes a logical type plus the way
// its values travel in the binary protocol (ValueKind). Sink: a Field becomes the MySQL column
// type for CREATE TABLE, reusing Field::native_type when it is a MySQL spelling of the very same
// logical type (so a MySQL -> MySQL copy recreates `enum('a','b')`, `bit(3)`, `year`, `text`).
//
// Stateless functions and plain values; thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "connectors/mysql/mysql_options.h"
#include "core/schema.h"

namespace sluice::connectors::mysql {

/// One column as information_schema.COLUMNS (and CHECK_CONSTRAINTS) describes it.
struct ColumnInfo {
  std::string name;
  /// DATA_TYPE, lower case: "int", "varchar", "enum", "geometry", "longtext".
  std::string data_type;
  /// COLUMN_TYPE, as the server prints it: "int(10) unsigned", "enum('a','b')", "bit(3)".
  std::string column_type;
  bool nullable = true;
  /// CHARACTER_MAXIMUM_LENGTH (characters for text, bytes for binary), -1 when NULL.
  int64_t max_length = -1;
  int numeric_precision = 0;
  int numeric_scale = 0;
  int datetime_precision = 0;
  /// CHARACTER_SET_NAME; empty for non-character columns.
  std::string charset;
  /// A JSON column: MySQL's JSON type, or MariaDB's LONGTEXT with CHECK (json_valid(col)).
  bool json = false;

  bool is_unsigned() const;
};

/// How a column's values arrive in the binary protocol and become a Column value.
enum class ValueKind : uint8_t {
  kInt8,
  kInt16,
  kInt32,
  kInt64,
  kUInt8,
  kUInt16,
  kUInt32,
  kUInt64,
  kYear,          // 2-byte integer -> int16
  kBit,           // big-endian bytes -> uint64
  kFloat,         // 4 raw bytes, bit-exact
  kDouble,        // 8 raw bytes, bit-exact
  kDecimal,       // decimal text -> __int128 or canonical text
  kText,          // UTF-8 bytes -> string or json
  kBytes,         // raw bytes
  kDate,          // MYSQL_TIME -> days
  kDateTime,      // MYSQL_TIME -> timestamp (wall clock)
  kTimestamp,     // MYSQL_TIME in the session's UTC -> timestamp_tz
  kTime,          // MYSQL_TIME (signed, up to 838 h) -> microseconds
  kTemporalText,  // zero_dates: string; MYSQL_TIME -> the text MySQL prints
};

/// A source column: what it is, how to select it and how it is read.
struct SourceColumn {
  ColumnInfo info;
  DataType type;
  ValueKind kind = ValueKind::kText;
  /// The SELECT-list expression (`c`, ST_AsBinary(`c`)).
  std::string select_expression;
  bool spatial = false;
  /// fractional digits of DATETIME/TIMESTAMP/TIME (for kTemporalText).
  int fsp = 0;
  /// ENUM/SET members, in definition order (for key literals: they sort by position).
  std::vector<std::string> members;
};

/// True for geometry, point, linestring, polygon, multi*, geometrycollection.
bool IsSpatialType(std::string_view data_type);
bool IsTemporalType(std::string_view data_type);

/// Maps a column through the source's policies. Unknown types are read as text (with `*warning`
/// set to say so).
SourceColumn MapSourceColumn(const ColumnInfo& info, ZeroDates zero_dates, GeometryFormat geometry,
                             std::string* warning);

/// Parses a COLUMN_TYPE spelling ("decimal(10,2) unsigned", "varchar(20)", "enum('a','b')")
/// into the fields MapSourceColumn needs; nullopt when it is no MySQL type.
std::optional<ColumnInfo> ParseColumnType(std::string_view column_type);

/// ENUM/SET members of "enum('a','it''s')", unescaped.
std::vector<std::string> ParseMembers(std::string_view column_type);

/// Target column types for a CREATE TABLE of `schema`: the native spelling when it is MySQL's
/// for the same logical type, else the mapping table. Key columns that would be unbounded get
/// VARCHAR(768) / VARBINARY(3072), less when the key's other columns need part of InnoDB's
/// 3,072-byte key limit; VARCHAR/VARBINARY columns that would push the row past MySQL's
/// 65,535-byte row limit become LONGTEXT/LONGBLOB.
std::vector<std::string> TargetColumnTypes(const Schema& schema);

/// Text MySQL reads back exactly, for literals and LOAD DATA: "2024-02-29",
/// "2024-02-29 13:45:07.000123" (fraction only when not zero), "-838:59:59.5". Years 0..9999
/// are written with four digits (never "BC"). Returns false (appending nothing) for a value
/// MySQL cannot hold (infinity, a year beyond 9999 or before 0).
bool AppendMysqlDate(int32_t days, std::string* out);
bool AppendMysqlDateTime(int64_t micros, std::string* out);
bool AppendMysqlTime(int64_t micros, std::string* out);

/// "CREATE TABLE [IF NOT EXISTS] `db`.`t` (`a` BIGINT NOT NULL, ..., PRIMARY KEY (`a`))", plus
/// " DEFAULT CHARSET=utf8mb4" when `utf8mb4` (else the table inherits the database's).
std::string CreateTableSql(std::string_view database, std::string_view table, const Schema& schema,
                           bool if_not_exists, bool utf8mb4);

}  // namespace sluice::connectors::mysql
