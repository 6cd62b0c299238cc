// JsonlBatchBuilder: turns JSON Lines into rows of a Batch.
//
// Each line must be one JSON object. Its values go to the schema's columns by key: a missing
// key or JSON null is NULL; keys not in the schema are ignored (with one warning per file); if
// a key repeats, the last value wins. Conversion by column type:
//   - numbers are converted from their raw token text, so decimals and 64-bit unsigned
//     integers are exact;
//   - strings are unescaped, then parsed as the column's type ("123.45" fills a decimal, an
//     empty string is NULL in a non-string column);
//   - json columns take the raw JSON text of any value (objects, arrays, scalars);
//   - string columns also take numbers and booleans as their text and objects and arrays as
//     raw JSON.
// The whole line is validated, keys not in the schema included. Errors are DataErrors
// "<file>:<line>:<column>: ...", the column in characters pointing at the offending value.
//
// Thread-safety: none; one builder per reader. The builder keeps simdjson parser buffers.
#pragma once

#include <memory>
#include <string>

#include "core/batch.h"
#include "formats/jsonl/jsonl_reader.h"

namespace sluice::formats {

class JsonlBatchBuilder {
 public:
  /// `component` names the reader in log lines ("source:file:orders").
  JsonlBatchBuilder(SchemaPtr schema, std::string component);
  ~JsonlBatchBuilder();
  JsonlBatchBuilder(const JsonlBatchBuilder&) = delete;
  JsonlBatchBuilder& operator=(const JsonlBatchBuilder&) = delete;

  /// Appends `line` (from a JsonlReader, or any text followed by kJsonPadding readable bytes)
  /// as one row of `batch`, whose schema must be the builder's. On error the batch is left as
  /// it was.
  Status Append(const JsonlLine& line, Batch* batch);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace sluice::formats
