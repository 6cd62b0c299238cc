// Internal to formats/avro: how a field's Avro type is read (its logical type and scale), shared
// by the schema mapping and the record decoder.
#pragma once

#include <nlohmann/json.hpp>

namespace sluice::formats::avro_internal {

enum class Logical {
  kNone,
  kDate,
  kTimeMillis,
  kTimeMicros,
  kTimestampMillis,
  kTimestampMicros,
  kLocalTimestampMillis,
  kLocalTimestampMicros,
  kDecimal,
};

struct FieldPlan {
  Logical logical = Logical::kNone;
  int scale = 0;
};

/// The non-null branch of ["null", T] (setting *nullable), or the type itself.
const nlohmann::json& NonNull(const nlohmann::json& type, bool* nullable);
/// The logical type of a field's (non-null) type.
FieldPlan PlanOf(const nlohmann::json& type);

}  // namespace sluice::formats::avro_internal
