// Canonical text of values: the one spelling of each type that CSV and JSON Lines carry, casts
// go through, and verification compares.
//
//   bool          true / false (input also: t, f, 1, 0, yes, no, on, off; any case)
//   integers      decimal digits, optional sign
//   floats        shortest text that reads back bit-exactly ("0.1", "1e+300");
//                 NaN, Infinity, -Infinity
//   decimal       see decimal.h
//   bytes         \x followed by lower-case hex ("\x00ff"), as PostgreSQL writes bytea
//   temporal      see temporal.h
//   string, json  the text itself
#pragma once

#include <string>
#include <string_view>

#include "core/batch.h"

namespace sluice {

/// Appends the canonical text of the non-null value at `row` of `column`.
void AppendValueText(const Column& column, size_t row, std::string* out);

/// Room WriteFixedValueText needs: the longest text of a value whose type HasFixedValueText.
inline constexpr size_t kMaxFixedValueText = 64;
/// True when the text of every value of `type` fits kMaxFixedValueText bytes: every type but
/// string, json, bytes and decimals beyond the int128 form.
bool HasFixedValueText(const DataType& type);
/// Writes what AppendValueText appends for the non-null value at `row` of `column`, whose type
/// HasFixedValueText, at `out` (room for kMaxFixedValueText bytes); returns the end. For writers
/// that fill their own buffers.
char* WriteFixedValueText(const Column& column, size_t row, char* out);

/// Parses `text` as a value of the column's type and appends it. On failure nothing is appended
/// and the returned data error says what was expected (the caller adds where).
Status AppendParsedValue(std::string_view text, Column* column);

/// Appends "\x" + hex of `bytes`.
void AppendHexBytes(std::string_view bytes, std::string* out);
/// Appends the lowercase hex digits of `bytes`, two per byte, without a prefix.
void AppendHexDigits(std::string_view bytes, std::string* out);
/// Decodes "\x..." hex (or plain hex without the prefix) into `out` (cleared first).
Status DecodeHexBytes(std::string_view text, std::string* out);

/// Appends a float/double in shortest round-trip form.
void AppendDouble(double value, std::string* out);
void AppendFloat(float value, std::string* out);

/// True when `text` is valid UTF-8 (no overlongs, no surrogates, nothing above U+10FFFF).
bool IsValidUtf8(std::string_view text);
/// Byte offset of the first invalid UTF-8 sequence in `text`, or npos.
size_t FindInvalidUtf8(std::string_view text);

}  // namespace sluice
