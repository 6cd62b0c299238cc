// CsvWriter: writes batch rows as CSV in canonical value text (core/value_text.h).
//
// A NULL is an empty unquoted field (or the dialect's null marker). A value is quoted when it
// contains the delimiter, the quote character, CR or LF, starts or ends with a space, is empty
// (so that "" and NULL differ) or equals the null marker; quotes inside are doubled. Lines end
// with LF. Text collects in a buffer handed to the OutputStream in chunks of about
// `flush_bytes`.
//
// Thread-safety: none. Lifetime: the output stream must outlive the writer.
#pragma once

#include <cstdint>
#include <string>

#include "core/batch.h"
#include "formats/csv/csv_options.h"
#include "io/stream.h"

namespace sluice::formats {

class CsvWriter {
 public:
  CsvWriter(io::OutputStream* output, CsvDialect dialect, size_t flush_bytes = 1 << 20);

  /// Writes the column names as a record.
  Status WriteHeader(const Schema& schema);
  /// Writes rows [begin, end) of `batch`. Without a quote character, a value that would need
  /// quoting is a DataError.
  Status WriteRows(const Batch& batch, size_t begin, size_t end);
  /// Hands the buffered text to the output stream (does not close it).
  Status Flush();
  /// Bytes of text produced so far, buffered ones included (uncompressed size).
  uint64_t bytes_written() const { return flushed_bytes_ + buffer_.size(); }

 private:
  /// Quotes the text appended to buffer_ since `start` when it needs it.
  Status QuoteIfNeeded(size_t start);

  io::OutputStream* output_;
  CsvDialect dialect_;
  size_t flush_bytes_;
  std::string buffer_;
  uint64_t flushed_bytes_ = 0;
  std::string scratch_;
  bool special_[256] = {};  // delimiter, quote, CR, LF
};

}  // namespace sluice::formats
