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
#include "core/batch.h"
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
  /// COLLATION_NAME; empty for non-character columns.
  std::string collation;
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

/// The information_schema.COLUMNS query of table `database`.`table` that ColumnInfoFromRow reads,
/// columns in table order.
std::string ColumnInfoQuery(std::string_view database, std::string_view table);
/// A row of ColumnInfoQuery(); `json` is left false (MariaDB's JSON is a CHECK constraint).
ColumnInfo ColumnInfoFromRow(const std::vector<std::optional<std::string>>& row);

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

/// Appends `value` in decimal, zero-padded to `width` digits.
void AppendDigits(uint64_t value, int width, std::string* out);

/// Text MySQL reads back exactly, for literals and LOAD DATA: "2024-02-29",
/// "2024-02-29 13:45:07.000123" (fraction only when not zero), "-838:59:59.5". Years 0..9999
/// are written with four digits (never "BC"). Returns false (appending nothing) for a value
/// MySQL cannot hold (infinity, a year beyond 9999 or before 0).
bool AppendMysqlDate(int32_t days, std::string* out);
bool AppendMysqlDateTime(int64_t micros, std::string* out);
bool AppendMysqlTime(int64_t micros, std::string* out);

/// How CREATE TABLE spells the character sets and collations of a new table's text columns.
struct TableCollations {
  /// Adds " DEFAULT CHARSET=utf8mb4" (else the table inherits the database's character set).
  bool utf8mb4 = false;
  /// The collation of key text columns: binary and NO PAD (kNoPadBinaryCollations), so that
  /// keys distinct in the source ('a', 'A', 'a ', 'ä') stay distinct, as the default collation
  /// of a database (utf8mb4_general_ci) would not keep them. Empty: the table's default.
  std::string key_collation;
  /// Collations the server has: a key column whose source collation (Field::collation) is one
  /// of them keeps it, so a MySQL table keeps its keys' semantics.
  std::vector<std::string> known;
};

/// MySQL's and MariaDB's binary NO PAD collations of utf8mb4, in order of preference.
inline constexpr std::string_view kNoPadBinaryCollations[] = {"utf8mb4_0900_bin",
                                                              "utf8mb4_nopad_bin"};
/// A collation that tells any two different strings apart (binary, NO PAD).
bool IsNoPadBinaryCollation(std::string_view collation);
/// Whether a key column of collation `target` keeps apart every two keys that a source column
/// keeps apart: `source_collation` is the source's MySQL collation, empty when the source is no
/// MySQL table (its strings are then compared byte by byte, as PostgreSQL and files do).
bool CollationKeepsKeysApart(std::string_view target, std::string_view source_collation);

/// The collation CreateTableSql gives key column `field` of type `target_type` (from
/// TargetColumnTypes): its source collation when the server has it, else the key collation; ""
/// for columns that are no text.
std::string KeyColumnCollation(const Field& field, std::string_view target_type,
                               const TableCollations& collations);

/// "CREATE TABLE [IF NOT EXISTS] `db`.`t` (`a` BIGINT NOT NULL, ..., PRIMARY KEY (`a`))", with
/// key text columns in `collations.key_collation` (or their source collation when known).
std::string CreateTableSql(std::string_view database, std::string_view table, const Schema& schema,
                           bool if_not_exists, const TableCollations& collations);

/// How a stream column's values reach a table column beyond their plain text.
enum class ColumnLoad : uint8_t {
  kDirect,
  kGeometryFromWkb,  // bytes -> ST_GeomFromWKB
  kGeometryFromWkt,  // string -> ST_GeomFromText
  kBit,              // integer -> BIT (LOAD DATA would store the digits' bytes)
  kYear,             // integer -> YEAR, four digits: LOAD DATA reads '0' as 2000, '5' as 2005
};

/// A stream column written into one MySQL column: how its values travel, and the values that
/// the column would change without an error even in strict mode (MySQL rounds decimals and
/// fractional seconds with at most a note, drops a DATE's time of day, reads YEAR 1..99 as
/// 1970..2069, stores a float's -0 as 0). Such values are refused one by one as data errors.
struct ColumnWrite {
  ColumnLoad load = ColumnLoad::kDirect;
  /// DECIMAL(p,s) or an integer column (s = 0): values need no non-zero digit beyond this scale
  /// (-1: no check). Too many integer digits the server refuses itself in strict mode.
  int decimal_scale = -1;
  /// DATETIME, TIMESTAMP, TIME(fsp): fractional-second digits kept (6: no check).
  int fraction_digits = 6;
  /// DATE fed timestamps: the time of day must be midnight.
  bool date_only = false;
  /// FLOAT or DOUBLE: MySQL and MariaDB store -0 as 0.
  bool folds_negative_zero = false;
  /// The column's type as the server spells it, for messages ("decimal(5,2)").
  std::string column_type;

  /// Whether ValueChange has anything to check.
  bool checks_values() const {
    return decimal_scale >= 0 || fraction_digits < kMaxTimePrecision || date_only ||
           load == ColumnLoad::kYear || folds_negative_zero;
  }
};

/// How `incoming` values are written into `target` (a column of an existing table, or one
/// CreateTableSql makes), or an InvalidConfig status naming the column when no value would
/// arrive exactly (a float64 into FLOAT, a bigint into DOUBLE: they hold fewer digits).
Result<ColumnWrite> PlanColumnWrite(const DataType& incoming, const ColumnInfo& target);

/// Why `target` would change some `incoming` values that PlanColumnWrite lets through (the
/// values are refused one by one then), for `sluice check` to warn; "" when it changes none.
std::string NarrowingWarning(const DataType& incoming, const ColumnWrite& write);

/// Why the non-null value at `row` of `column` would not arrive unchanged through `write`, or ""
/// when it does. `negative_zero_as_zero`: the job accepts a float's -0 stored as 0.
std::string ValueChange(const Column& column, size_t row, const ColumnWrite& write,
                        bool negative_zero_as_zero);

}  // namespace sluice::connectors::mysql
