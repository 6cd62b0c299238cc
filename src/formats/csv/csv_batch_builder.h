// CsvBatchBuilder: converts CSV records into rows of a Batch.
//
// Each record field maps to a schema column (or is dropped); each value is parsed as its
// column's type with core's canonical text rules (value_text.h), with fast paths for strings
// and 64-bit integers. NULLs follow the dialect (see CsvDialect::null_marker); in addition, an
// empty field in a column of any type but string is NULL, since it can hold no value of that
// type. String and json values are checked to be valid UTF-8, json values to be valid JSON.
//
// Errors are DataErrors "<file>:<line>:<column>: <what>", e.g.
//   orders.csv:3:7: 'abc' is not an integer (column 'amount')
//   orders.csv:5:12: invalid UTF-8 in column 'name'
//   orders.csv:9:1: expected 4 fields, got 3
// and a bad record leaves no partial values in the batch.
//
// Thread-safety: none; one builder per reader.
#pragma once

#include <memory>
#include <vector>

#include "core/batch.h"
#include "formats/csv/csv_options.h"
#include "formats/csv/csv_reader.h"

namespace sluice::formats {

class JsonValidator;

class CsvBatchBuilder {
 public:
  /// `field_to_column[i]` is the column of `schema` that field i fills, or -1 to drop the
  /// field; records must have exactly field_to_column.size() fields. Columns that no field
  /// fills are NULL.
  CsvBatchBuilder(SchemaPtr schema, std::vector<int> field_to_column, CsvDialect dialect);
  ~CsvBatchBuilder();
  CsvBatchBuilder(const CsvBatchBuilder&) = delete;
  CsvBatchBuilder& operator=(const CsvBatchBuilder&) = delete;

  /// True for a record to pass over silently: a blank line where several fields are expected
  /// (with a single column, a blank line is a row whose value is empty).
  bool Skips(const CsvRecord& record) const { return record.blank() && field_count_ > 1; }

  /// Appends `record` as one row of `batch`, whose schema must be the builder's. On error the
  /// batch is left as it was.
  Status Append(const CsvRecord& record, Batch* batch);

  size_t field_count() const { return field_count_; }

 private:
  enum class Kind : uint8_t { kString, kInt64, kFloat64, kJson, kOther };
  struct Target {
    int column;  // -1: dropped
    Kind kind;
  };
  Status AppendField(const CsvRecord& record, size_t i, const Target& target, Batch* batch);
  Status FieldError(const CsvRecord& record, size_t i, int column, std::string_view what) const;

  SchemaPtr schema_;
  CsvDialect dialect_;
  size_t field_count_;
  std::vector<Target> targets_;                    // by field
  std::vector<int> unfilled_columns_;              // columns no field maps to
  std::unique_ptr<JsonValidator> json_validator_;  // only when a json column is filled
};

}  // namespace sluice::formats
