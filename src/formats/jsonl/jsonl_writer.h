// JsonlWriter: writes batch rows as JSON Lines, one object per row, keys in schema order.
//
// Values: bool as true/false; integers and floats as JSON numbers (NaN and the infinities,
// which JSON cannot spell as numbers, as the strings "NaN", "Infinity", "-Infinity"); decimals,
// bytes (\x-hex), dates, times and timestamps as JSON strings of their canonical text; json
// columns embedded as they are (an empty json value is written as null); strings escaped per
// RFC 8259; NULL as null. Lines end with LF. A json value that is the JSON literal null is
// written as null too, so it reads back as NULL.
//
// Text collects in a buffer handed to the OutputStream in chunks of about `flush_bytes`.
// Thread-safety: none. Lifetime: the output stream must outlive the writer.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/batch.h"
#include "io/stream.h"

namespace sluice::formats {

/// Appends the JSON text of the non-null value at `row` of `column`, as JsonlWriter writes it
/// (see above); `scratch` is working space. For writers of other JSON shapes (Kafka's Debezium
/// envelope) whose values must read back as JSON Lines values do.
void AppendJsonValue(const Column& column, size_t row, std::string* out, std::string* scratch);

class JsonlWriter {
 public:
  explicit JsonlWriter(io::OutputStream* output, size_t flush_bytes = 1 << 20);

  /// Writes rows [begin, end) of `batch`.
  Status WriteRows(const Batch& batch, size_t begin, size_t end);
  /// Hands the buffered text to the output stream (does not close it).
  Status Flush();
  /// Bytes of text produced so far, buffered ones included (uncompressed size).
  uint64_t bytes_written() const { return flushed_bytes_ + buffer_.size(); }

 private:
  void PrepareKeys(const Schema& schema);

  io::OutputStream* output_;
  size_t flush_bytes_;
  std::string buffer_;
  uint64_t flushed_bytes_ = 0;
  // `{"id":` / `,"name":` for each column of the schema last seen.
  const Schema* keys_schema_ = nullptr;
  std::vector<std::string> key_prefixes_;
  std::string scratch_;
};

}  // namespace sluice::formats
