// The mapping between Sluice's columns and Avro record schemas (JSON text), shared by the
// Kafka connector's registry-framed messages and Avro container files.
//
// Thread-safety: pure functions.
#pragma once

#include <string>
#include <vector>

#include "core/schema.h"

namespace sluice::formats {

/// The columns of an Avro record schema (its JSON text): nullable unions ["null", T] become
/// nullable T; logical types their types (date, time, timestamp_tz, timestamp, decimal(p,s));
/// enums strings; fixed bytes; records, arrays, maps and other unions json.
Result<std::vector<Field>> AvroColumns(const std::string& schema);

/// The Avro record schema (JSON text) of `schema`'s columns: named `record_name` (made a valid
/// Avro name) in namespace "sluice"; a nullable column is ["null", T] with default null. bool
/// boolean; int8..int32, uint8, uint16 int; int64, uint32 long; uint64 decimal(20,0); float32
/// float; float64 double; decimal(p<=38,s) bytes decimal(p,s); wider and unconstrained decimals
/// string (their canonical text: no fixed scale fits them); string and json string; bytes bytes;
/// date int date; time long time-micros; timestamp long local-timestamp-micros; timestamp_tz long
/// timestamp-micros. A column name that is not a valid Avro name is InvalidConfig.
Result<std::string> AvroSchemaOf(const Schema& schema, const std::string& record_name);

}  // namespace sluice::formats
