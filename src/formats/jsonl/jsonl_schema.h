// Schema inference for JSON Lines without a declared schema.
#pragma once

#include "core/schema.h"
#include "formats/jsonl/jsonl_reader.h"

namespace sluice::formats {

/// Infers a schema from the first `max_lines` lines `reader` returns: one column per key, in
/// the order keys are first seen, all nullable. Numbers get the narrowest type that holds every
/// one of them exactly, so that no value changes: int64 when all are integers that fit, uint64
/// when some exceed int64 and none is negative, float64 when a double reproduces each one
/// (integers then up to 2^53), else an unconstrained decimal (an integer beyond 64 bits, 0.1
/// written with 20 digits). Other columns are bool, string, or json for objects, arrays or a mix
/// of kinds; a key that is always null is a string. Lines that are not valid JSON objects are
/// passed over (reading reports them later). No lines: no columns.
Result<Schema> InferJsonlSchema(JsonlReader* reader, size_t max_lines = 1000);

}  // namespace sluice::formats
