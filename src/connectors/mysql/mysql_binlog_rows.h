// The row images of the binary log's row events, read against their TABLE_MAP, and their values
// turned into the logical types and canonical values the snapshot source reads for the same
// columns (mysql_types.h): integers from their little-endian bytes (signed or not as the column
// is declared), DECIMAL from its binary form through the text MySQL prints, dates and times
// from their packed forms (DATETIME2, TIMESTAMP2 in UTC, TIME2 and MySQL 5.5's older ones)
// through mysql_values.h, ENUM and SET from their index and bitmask to the member names, CHAR
// and BINARY as the server pads them on read, latin1 text as UTF-8, spatial values as WKB.
//
// Stateless functions; thread-safe. Views point into the event's bytes.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "connectors/mysql/mysql_binlog_events.h"
#include "connectors/mysql/mysql_types.h"
#include "core/batch.h"

namespace sluice::connectors::mysql {

/// One column's value in a row image.
struct ImageValue {
  enum class State : uint8_t {
    kAbsent,  // not in the image (binlog_row_image MINIMAL or NOBLOB)
    kNull,
    kValue,
  };
  State state = State::kAbsent;
  /// kValue: the value's bytes as stored (length prefixes included).
  std::string_view bytes;
};

/// Reads the row image at `*offset` of `rows` whose columns-present bitmap is `present`, with the
/// column types of its TABLE_MAP, into `values` (one per table column), and moves `*offset`
/// past it. A type whose size is unknown is Unsupported naming it; an image that runs past the
/// event is Internal.
Status ReadRowImage(std::string_view rows, size_t* offset, std::string_view present,
                    const std::vector<binlog::ColumnType>& columns,
                    std::vector<ImageValue>* values);

/// Why values of `column` cannot be read from the binary log (MySQL's binary JSON, MariaDB's
/// UUID/INET types, spatial columns as WKT, text in a character set other than utf8mb4, utf8mb3,
/// ascii and latin1), or "" when they can.
std::string BinlogReadRefusal(const SourceColumn& column);

/// Whether values of binlog type `type` are values of `column` as it was described: false when
/// the table changed since (another type, another DECIMAL precision, ...).
bool BinlogTypeFits(const binlog::ColumnType& type, const SourceColumn& column);

/// Whether AppendBinlogValue turns values of binlog type `type` into values of `column`: when
/// the type fits, and across a change of the column that loses nothing by itself (a table
/// altered since `column` was described): a DECIMAL of another precision or scale, through its
/// text (a value that does not fit `column` is a data error), and FLOAT into DOUBLE.
bool BinlogValueConverts(const binlog::ColumnType& type, const SourceColumn& column);

/// Reused buffers for AppendBinlogValue: nothing is allocated per value.
struct BinlogScratch {
  std::string text;
  std::string other;
};

/// Appends `value` (an ImageValue's bytes) of a column of binlog type `type`, which fits
/// `column` (BinlogTypeFits) or converts to it (BinlogValueConverts), as a value of `column`. Zero dates follow `zero_dates` (a data
/// error "column 'c': zero date ..." with nothing appended under kError).
Status AppendBinlogValue(const binlog::ColumnType& type, std::string_view value,
                         const SourceColumn& column, ZeroDates zero_dates, Column* out,
                         BinlogScratch* scratch);

/// The text MySQL prints for a DECIMAL(precision, scale) stored in `bytes` in its binary form
/// ("-12.50"); Internal when the bytes do not hold one.
Status DecodeBinlogDecimal(std::string_view bytes, int precision, int scale, std::string* out);

}  // namespace sluice::connectors::mysql
