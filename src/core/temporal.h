// Dates, times and timestamps: conversions between civil fields, Sluice's integer encodings
// (see types.h) and canonical text.
//
// Canonical text (what CSV and JSON Lines carry, and what verification compares):
//   date          2024-02-29                 infinity / -infinity
//   time          13:45:07.25  -838:59:59    hours may exceed 24 and be negative
//   timestamp     2024-02-29 13:45:07.000123
//   timestamp_tz  2024-02-29 13:45:07.000123+00:00 (always rendered in UTC)
// Fractions keep up to 6 digits with trailing zeros dropped. Years 0..9999; PostgreSQL's BC
// dates are written with a " BC" suffix, as PostgreSQL does.
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>

#include "core/result.h"

namespace sluice {

inline constexpr int64_t kMicrosPerSecond = 1'000'000;
inline constexpr int64_t kMicrosPerDay = 86'400 * kMicrosPerSecond;
inline constexpr int32_t kDateInfinity = std::numeric_limits<int32_t>::max();
inline constexpr int32_t kDateMinusInfinity = std::numeric_limits<int32_t>::min();
inline constexpr int64_t kTimestampInfinity = std::numeric_limits<int64_t>::max();
inline constexpr int64_t kTimestampMinusInfinity = std::numeric_limits<int64_t>::min();

/// Days since 1970-01-01 of the proleptic Gregorian date y-m-d (year 0 = 1 BC).
int64_t DaysFromCivil(int64_t year, unsigned month, unsigned day);
/// Inverse of DaysFromCivil.
void CivilFromDays(int64_t days, int64_t* year, unsigned* month, unsigned* day);
bool IsValidCivilDate(int64_t year, unsigned month, unsigned day);

/// Room the Write* functions below need: the longest text they write.
inline constexpr size_t kMaxTemporalText = 48;

Result<int32_t> ParseDate(std::string_view text);
void AppendDate(int32_t days, std::string* out);
/// Writes what AppendDate appends at `out` (room for kMaxTemporalText bytes); returns the end.
char* WriteDate(int32_t days, char* out);

/// "[-]H+:MM:SS[.ffffff]" (also "HH:MM"), to microseconds.
Result<int64_t> ParseTime(std::string_view text);
void AppendTime(int64_t micros, std::string* out);
/// Writes what AppendTime appends at `out` (room for kMaxTemporalText bytes); returns the end.
char* WriteTime(int64_t micros, char* out);

/// "YYYY-MM-DD[ T]HH:MM[:SS[.ffffff]]" or a bare date, with an optional zone suffix "Z", "+HH",
/// "+HH:MM", "+HHMM". With `with_zone` the result is UTC (a missing zone means UTC); without,
/// a zone suffix is an error because the wall-clock value would be ambiguous.
Result<int64_t> ParseTimestamp(std::string_view text, bool with_zone);
void AppendTimestamp(int64_t micros, bool with_zone, std::string* out);
/// Writes what AppendTimestamp appends at `out` (room for kMaxTemporalText bytes); returns the
/// end.
char* WriteTimestamp(int64_t micros, bool with_zone, char* out);

}  // namespace sluice
