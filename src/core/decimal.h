// Exact decimal numbers: the __int128 fast path (precision <= 38) and canonical text beyond.
//
// Text accepted on input: optional sign, digits, optional '.' and digits, optional exponent
// ("-12.5", "+3", ".5", "1.25e3"). A value must fit its type exactly: a non-zero digit beyond
// the scale (1.005 for decimal(12,2)) or more integer digits than precision - scale is a data
// error, never a rounding, because a value arrives identical or the job says why (MySQL and
// PostgreSQL would round half away from zero on insert). Zeros beyond the scale are dropped
// ("1.500" is 1.50). PostgreSQL's NaN, Infinity and -Infinity are kept in the text form only.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "core/result.h"

namespace sluice {

using int128 = __int128;

/// 10^n for n in 0..38.
int128 Pow10Int128(int n);

/// Parses `text` into an unscaled integer with `scale` fractional digits, checking that it fits
/// decimal(precision, scale) exactly.
Result<int128> ParseDecimal128(std::string_view text, int precision, int scale);

/// Checks that `unscaled` / 10^value_scale fits decimal(precision, scale) exactly (no non-zero
/// digit beyond `scale`, at most precision - scale integer digits); a data error saying why
/// otherwise. For writing a decimal into a narrower column of a database that would round it.
Status CheckDecimal128Fits(int128 unscaled, int value_scale, int precision, int scale);

/// Appends the canonical text of `unscaled` / 10^scale: "-0.05", "120.00", "7".
void AppendDecimal128(int128 unscaled, int scale, std::string* out);

/// Room WriteDecimal128 and WriteInt128 need: the longest text they write.
inline constexpr size_t kMaxDecimal128Text = 48;
/// The largest scale WriteDecimal128 takes (AppendDecimal128 takes any).
inline constexpr int kMaxDecimal128Scale = 38;
/// Writes what AppendDecimal128 appends at `out` (room for kMaxDecimal128Text bytes) for a
/// scale up to kMaxDecimal128Scale; returns the end.
char* WriteDecimal128(int128 unscaled, int scale, char* out);

/// Canonical text of a decimal of any size. With `scale` >= 0 the result has exactly that many
/// fractional digits (a value that needs more is a data error); with scale < 0 (unconstrained)
/// the digits are kept as written, minus redundant leading zeros and '+'. `precision` > 0 caps
/// the total digit count. Writes into `out` (cleared first).
Status CanonicalDecimalText(std::string_view text, int precision, int scale, std::string* out);

/// Appends the decimal digits of `value` (no grouping).
void AppendInt128(int128 value, std::string* out);
/// Writes what AppendInt128 appends at `out` (room for kMaxDecimal128Text bytes); returns the
/// end.
char* WriteInt128(int128 value, char* out);

}  // namespace sluice
