// Schema: the ordered, named, typed columns of a stream plus its optional primary key.
//
// Immutable once built; shared between batches with std::shared_ptr<const Schema>.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/types.h"

namespace sluice {

struct Field {
  std::string name;
  DataType type;
  bool nullable = true;
  /// The source's own spelling of the type ("enum('a','b')", "bit(3)", "year"), when known.
  /// Informational: lets a sink of the same kind recreate the exact native type.
  std::string native_type;
  /// The source's collation of a text column (MySQL's COLLATION_NAME), when it has one. A sink
  /// of the same kind keeps it for key columns: keys distinct in the source stay distinct there.
  std::string collation;
  /// A metadata column the source can add to each row (a Kafka message's key, partition,
  /// offset, timestamp, headers; a change event's operation and log position). Present in the
  /// source's schema, but dropped before the sink unless the job's transform selects it by name.
  bool metadata = false;

  friend bool operator==(const Field&, const Field&) = default;
};

class Schema {
 public:
  Schema() = default;
  explicit Schema(std::vector<Field> fields, std::vector<int> primary_key = {})
      : fields_(std::move(fields)), primary_key_(std::move(primary_key)) {}

  const std::vector<Field>& fields() const { return fields_; }
  size_t num_fields() const { return fields_.size(); }
  const Field& field(size_t i) const { return fields_[i]; }
  /// Column indexes of the primary key, in key order; empty when there is none.
  const std::vector<int>& primary_key() const { return primary_key_; }

  /// Returns the index of the column named `name` (exact match), or -1.
  int FieldIndex(std::string_view name) const;
  /// "id int64 not null, name string, primary key (id)".
  std::string ToString() const;

  friend bool operator==(const Schema&, const Schema&) = default;

 private:
  std::vector<Field> fields_;
  std::vector<int> primary_key_;
};

using SchemaPtr = std::shared_ptr<const Schema>;

}  // namespace sluice
