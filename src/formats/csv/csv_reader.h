// CsvReader: streams RFC 4180 records out of an InputStream.
//
// Records are parsed in place from a chunked buffer (io::ReadBuffer): a field is a view of the
// buffer, except a quoted field with doubled quotes, which is unescaped into a scratch buffer
// that is reused from record to record. Nothing is allocated per field once the buffers have
// grown to the largest record. A record that runs past the end of the buffer is parsed again
// after a refill, so records (and single fields) may be many megabytes long.
//
// Accepted input: LF or CRLF line ends (a CR inside quotes, or a lone CR, is data); a UTF-8
// byte order mark at the start of the stream (skipped); a last line with or without a line
// end; quoted fields holding delimiters, line breaks and doubled quotes. A quote inside an
// unquoted field is taken literally. Every record remembers where it starts (line, byte offset)
// and where each of its fields starts (line, column in characters), so errors read
// "orders.csv:17:4: ...".
//
// Lifetime: a record and its field views are valid until the next Next() or SeekTo().
// Thread-safety: none; one reader per thread.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "formats/csv/csv_options.h"
#include "io/read_buffer.h"
#include "io/stream.h"

namespace sluice::formats {

struct CsvReadOptions {
  CsvDialect dialect;
  /// Initial size of the chunk buffer; it doubles for records that do not fit.
  size_t buffer_bytes = 1 << 20;
  /// A record larger than this is an error (usually an unterminated quote swallowing the
  /// file); the rest of the stream is then skipped.
  size_t max_record_bytes = size_t{256} << 20;
};

/// One field of a record.
struct CsvField {
  /// The field's value: quotes removed, doubled quotes unescaped.
  std::string_view text;
  /// True when the field was quoted ("" is then the empty string, never NULL).
  bool quoted = false;
  /// 1-based line on which the field starts.
  int64_t line = 0;

 private:
  friend class CsvReader;
  friend class CsvRecord;
  const char* line_start_ = nullptr;  // start of the line the field starts on
  const char* raw_begin_ = nullptr;   // first byte of the field (its opening quote if quoted)
  bool needs_unescape_ = false;
};

/// The fields of one record plus where it came from.
class CsvRecord {
 public:
  size_t size() const { return fields_.size(); }
  const CsvField& operator[](size_t i) const { return fields_[i]; }
  const std::vector<CsvField>& fields() const { return fields_; }

  /// 1-based line on which the record starts.
  int64_t line() const { return line_; }
  /// Byte offset of the record in the (decompressed) stream.
  uint64_t offset() const { return offset_; }
  /// The record as written, without its line end (for bad-record reports).
  std::string_view raw() const { return raw_; }
  /// The file name errors carry.
  std::string_view file_name() const { return file_name_; }
  /// True for an empty line: one unquoted empty field.
  bool blank() const {
    return fields_.size() == 1 && !fields_[0].quoted && fields_[0].text.empty();
  }

  /// 1-based column, in characters, at which field `i` starts.
  int64_t Column(size_t i) const;
  /// "<file>:<line>:<column>" of field `i`.
  std::string Location(size_t i) const;
  /// "<file>:<line>:1", the start of the record.
  std::string Location() const;

 private:
  friend class CsvReader;
  std::vector<CsvField> fields_;
  int64_t line_ = 0;
  uint64_t offset_ = 0;
  std::string_view raw_;
  std::string_view file_name_;
};

class CsvReader {
 public:
  /// Reads `input` (not owned; must outlive the reader) from its current position, which is
  /// taken as offset 0 and line 1. `file_name` appears in error locations.
  CsvReader(io::InputStream* input, std::string file_name, CsvReadOptions options = {});
  CsvReader(const CsvReader&) = delete;
  CsvReader& operator=(const CsvReader&) = delete;

  /// Parses the next record into record(). Returns false at the end of the input. A malformed
  /// record (an unterminated quote, text after a closing quote) is a DataError
  /// "<file>:<line>:<column>: ..."; record().raw() and record().line() then describe it, the
  /// reader has moved past it, and the next call continues with the following record.
  Result<bool> Next();
  const CsvRecord& record() const { return record_; }

  /// Reads the first record as column names (copied). Empty when the input is empty. Call
  /// before anything else.
  Result<std::vector<std::string>> ReadHeader();

  /// Continues at stream offset `offset`, numbering lines from `line`: a position saved from
  /// next_offset() / next_line(). Must not move backwards.
  Status SeekTo(uint64_t offset, int64_t line);

  /// Stream offset and line of the record the next Next() returns: a resume position.
  uint64_t next_offset() const { return buffer_.offset(); }
  int64_t next_line() const { return next_line_; }
  /// Bytes taken from the underlying file (compressed bytes for compressed files).
  uint64_t source_bytes_read() const { return input_->source_bytes_read(); }
  /// True once the input stream failed (an I/O error, corrupt compressed data): unlike a
  /// malformed record, that is not something to skip; Next() keeps returning the error.
  bool input_failed() const { return !input_error_.ok(); }

  const std::string& file_name() const { return file_name_; }

 private:
  enum class Scan { kRecord, kNeedMore, kMalformed };
  Scan ScanRecord(bool eof, size_t* record_bytes, size_t* raw_bytes);
  Status MalformedError(int64_t line, const char* line_start, const char* at,
                        std::string_view what) const;
  void UnescapeFields();
  Status SkipByteOrderMark();
  Status Fill();

  io::InputStream* input_;
  std::string file_name_;
  CsvReadOptions options_;
  io::ReadBuffer buffer_;
  int quote_;  // the quote byte, or -1 when quoting is off
  // Bytes that end an unquoted field: the delimiter, CR and LF.
  std::array<bool, 256> special_{};
  int64_t next_line_ = 1;
  bool started_ = false;
  CsvRecord record_;
  std::string unescaped_;      // scratch for fields with doubled quotes
  Status malformed_;           // set by ScanRecord along with Scan::kMalformed
  std::string oversized_raw_;  // the head of a record too large to keep
  Status input_error_;         // the input stream's first error, returned from then on
  bool any_unescape_ = false;  // set by ScanRecord: some field has doubled quotes
};

}  // namespace sluice::formats
