// CsvWriter: writes batch rows as CSV in canonical value text (core/value_text.h).
//
// A NULL is an empty unquoted field (or the dialect's null marker). A value is quoted when it
// contains the delimiter, the quote character, CR or LF, starts or ends with a space, is empty
// (so that "" and NULL differ) or equals the null marker; quotes inside are doubled. Lines end
// with LF. Text collects in a buffer handed to the OutputStream in chunks of about
// `flush_bytes`.
//
// The quoting rule is checked only where it can apply: strings are scanned 16 bytes at a time
// before they are copied, and numbers, dates and times are not scanned at all unless the dialect
// uses a character their text can hold (a '.' or ' ' delimiter, a "0" null marker).
//
// Thread-safety: none. Lifetime: the output stream must outlive the writer.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

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
  uint64_t bytes_written() const { return flushed_bytes_ + size_; }

 private:
  // How the values of one column are written, chosen once per schema.
  enum class Form : uint8_t {
    kText,   // string, json, wide decimal: the bytes as they are, scanned for quoting
    kBytes,  // "\x" and hex digits
    kFixed,  // bounded canonical text (numbers, dates, times)
    kOther,  // through AppendValueText (decimals with a scale beyond the int128 form)
    // kFixed for the commonest types, written without WriteFixedValueText's dispatch.
    kInt32,
    kInt64,
    kDecimal,
    kDate,
    kTimestamp,
    kTimestampTz,
  };
  // Whether the text of a kFixed or kBytes column must be checked against the quoting rule
  // (kText and kOther values always are).
  enum class Check : uint8_t {
    kNone,    // its text never holds a special character and never is the null marker
    kMarker,  // only equality with the null marker
    kFull,    // the whole rule
  };
  struct ColumnPlan {
    Form form;
    Check check;
  };

  void Plan(SchemaPtr schema);
  /// Makes room for `bytes` more bytes after size_.
  void Reserve(size_t bytes) {
    if (capacity_ - size_ < bytes)
      Grow(bytes);
  }
  void Grow(size_t bytes);
  void Put(char c) { buffer_[size_++] = c; }
  void PutBytes(std::string_view bytes);
  /// Writes `text`, quoted when the rule asks for it.
  Status WriteText(std::string_view text);
  /// Quotes the text written since `start` when it needs it.
  Status QuoteIfNeeded(size_t start);
  bool NeedsQuotes(std::string_view text) const;
  bool HasSpecial(std::string_view text) const;
  Status Unquotable(std::string_view text) const;
  void WriteQuoted(std::string_view text);

  io::OutputStream* output_;
  CsvDialect dialect_;
  size_t flush_bytes_;
  std::unique_ptr<char[]> buffer_;
  size_t size_ = 0;
  size_t capacity_ = 0;
  uint64_t flushed_bytes_ = 0;
  std::string scratch_;
  bool special_[256] = {};  // delimiter, quote, CR, LF
  SchemaPtr planned_for_;  // held, so that its address cannot come back as another schema
  std::vector<ColumnPlan> plans_;
};

}  // namespace sluice::formats
