// The SQLite type mapping, both ways (see README.md for the table).
//
// SQLite stores each value with its own class (INTEGER, REAL, TEXT, BLOB, NULL) and the declared
// type of a column only sets an affinity that may convert values on insert. The sink therefore
// declares types whose affinity can never alter a Sluice value (UNSIGNED64_TEXT, DECIMAL_TEXT,
// ...), and the source converts each stored value by its class into the column's logical type.
//
// Stateless functions; thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "core/batch.h"
#include "core/schema.h"

struct sqlite3_stmt;

namespace sluice::connectors::sqlite {

/// SQLite's column affinity, from the rules in https://sqlite.org/datatype3.html (3.1).
enum class Affinity { kInteger, kText, kBlob, kReal, kNumeric };

Affinity AffinityOf(std::string_view declared_type);

/// The declared type the sink uses in CREATE TABLE for `type`.
std::string DeclaredType(const DataType& type);

/// The logical type the source reads a column of `declared_type` as.
DataType LogicalType(std::string_view declared_type);

/// The column that CreateTableSql declares INTEGER so that it becomes the rowid (a primary key
/// of one NOT NULL integer column other than uint64), or -1. Such a table needs no separate key
/// index, which makes inserts faster and the file smaller; but SQLite fills a NULL in it with a
/// new rowid, so the sink must refuse NULLs there itself.
int RowidKeyColumn(const Schema& schema);

/// "CREATE TABLE [IF NOT EXISTS] "t" ("id" INTEGER NOT NULL, "a" BIGINT, ..., PRIMARY KEY
/// ("id"))" with the declared types of DeclaredType() (see RowidKeyColumn for the key).
std::string CreateTableSql(std::string_view table, const Schema& schema, bool if_not_exists);

/// Why values of `incoming` may not land intact in a column declared `declared_type`, or "" when
/// they will. A warning, not an error: SQLite accepts any value in any column.
std::string CompatibilityWarning(const DataType& incoming, std::string_view declared_type);

/// Converts the value in result column `index` of the current row of `stmt` into the type of
/// `column` and appends it. On failure nothing is appended and a data error says why.
/// `scratch` is reused between calls to avoid allocations.
Status AppendStoredValue(sqlite3_stmt* stmt, int index, Column* column, std::string* scratch);

/// IEEE-754 bits of -0.0 and of NaNs other than the default quiet NaN cannot be kept by a
/// REAL-affinity column (SQLite folds -0.0 into integer 0 and turns NaN into NULL); the sink
/// stores them as a BLOB of the big-endian bits (8 bytes for float64, 4 for float32), which the
/// source decodes. These say whether a value needs that encoding.
bool NeedsFloatBitsBlob(double value);
bool NeedsFloatBitsBlob(float value);

}  // namespace sluice::connectors::sqlite
