// MySQL values as the server hands them over, turned into Column values the same way whichever
// route they took: the binary protocol of the snapshot source (mysql_result_reader.h) and the
// row images of the binary log (mysql_binlog_rows.h). Dates and times arrive as their fields
// (MYSQL_TIME), DECIMAL as the text the server prints; zero dates follow the source's
// `zero_dates`.
//
// Stateless functions; thread-safe. mysql.h stays out: MYSQL_TIME is forward-declared.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "connectors/mysql/mysql_types.h"
#include "core/batch.h"
#include "core/decimal.h"

struct st_mysql_time;

namespace sluice::connectors::mysql {

/// MySQL's zero dates ('0000-00-00'), zero parts ('2020-00-15') and, under ALLOW_INVALID_DATES,
/// impossible days ('2020-02-30'): they have no place on a calendar.
bool IsOffCalendar(const st_mysql_time& time);
/// A DATETIME or TIMESTAMP (the session runs in UTC) on the calendar, as microseconds since the
/// Unix epoch.
int64_t DateTimeMicros(const st_mysql_time& time);
/// A TIME (signed, days folded into hours or not) as microseconds.
int64_t TimeMicros(const st_mysql_time& time);
/// The text MySQL prints for a DATE (`date_only`) or DATETIME/TIMESTAMP with `fsp` digits.
void AppendPrintedTemporal(const st_mysql_time& time, bool date_only, int fsp, std::string* out);

/// Appends a value of `column` (kind kDate, kDateTime, kTimestamp, kTime or kTemporalText) from
/// its fields. An off-calendar date is NULL under ZeroDates::kNull, and otherwise a data error
/// "column 'c': zero date '0000-00-00' (set zero_dates: null or string on the source)" with
/// nothing appended. `scratch` is reused for text.
Status AppendTemporalValue(const st_mysql_time& time, const SourceColumn& column,
                           ZeroDates zero_dates, Column* out, std::string* scratch);

/// MySQL writes DECIMAL(p, s) as "[-]digits[.digits]" with exactly s fractional digits. Reads
/// such text of at most 18 digits into `*out` (unscaled); false for anything else, which
/// AppendDecimalValue hands to ParseDecimal128.
bool ParseServerDecimal(std::string_view text, int precision, int scale, int128* out);

/// Appends the DECIMAL `text` (as the server prints it) as a value of `column`'s decimal type:
/// unscaled when it fits 128 bits, else canonical text (in `scratch`, then the arena). A value
/// the type cannot hold is a data error naming the column.
Status AppendDecimalValue(std::string_view text, const SourceColumn& column, Column* out,
                          std::string* scratch);

}  // namespace sluice::connectors::mysql
