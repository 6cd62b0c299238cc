// Parquet metadata helpers shared by the writer and the reader: Thrift compact (de)serialization
// and the mapping between Sluice fields and Parquet schema elements. Internal to
// formats/parquet: it exposes the Thrift-generated types, which no header outside this folder
// includes.
//
// Thread-safety: free functions without shared state.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "core/schema.h"
#include "gen-cpp/parquet_types.h"

namespace sluice::formats::parquet_internal {

namespace format = ::sluice::formats::parquet_format;

/// Appends `value` encoded with Thrift's compact protocol.
template <typename T>
void AppendThrift(const T& value, std::string* out);

/// Decodes a `T` from the start of `bytes` (compact protocol); returns the bytes it took. A
/// malformed or truncated struct is a DataError (no context: the caller adds where).
template <typename T>
Result<size_t> ReadThrift(std::string_view bytes, T* out);

/// Bytes of a FIXED_LEN_BYTE_ARRAY holding any unscaled decimal of `precision` digits: the
/// least n with 2^(8n-1) > 10^precision - 1.
int DecimalByteWidth(int precision);

/// The schema element a Sluice field is written as (physical type, logical and converted
/// type, repetition). Types Parquet cannot hold exactly are Unsupported, naming the column.
Result<format::SchemaElement> SchemaElementForField(const Field& field);

/// The Sluice field a leaf schema element reads back as. Unsupported, naming the column, for
/// what Sluice has no exact type for (INT96, FLOAT16, decimals over 38 digits, ...).
Result<Field> FieldForSchemaElement(const format::SchemaElement& element);

/// "INT32", "BYTE_ARRAY", ...
std::string PhysicalTypeName(int type);
/// "RLE_DICTIONARY", ...
std::string EncodingName(int encoding);

}  // namespace sluice::formats::parquet_internal
