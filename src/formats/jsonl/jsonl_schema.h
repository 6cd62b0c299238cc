// Schema inference for JSON Lines without a declared schema.
#pragma once

#include "core/schema.h"
#include "formats/jsonl/jsonl_reader.h"

namespace sluice::formats {

/// Infers a schema from the first `max_lines` lines `reader` returns: one column per key, in
/// the order keys are first seen, all nullable. A column is int64 when every value is an
/// integer that fits, float64 when every value is a number, bool, string, and json for
/// objects, arrays or a mix of kinds; a key that is always null is a string. Lines that are not
/// valid JSON objects are passed over (reading reports them later). No lines: no columns.
Result<Schema> InferJsonlSchema(JsonlReader* reader, size_t max_lines = 1000);

}  // namespace sluice::formats
