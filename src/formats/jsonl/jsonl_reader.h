// JsonlReader: splits an InputStream into JSON Lines, one JSON text per line.
//
// Lines are views into a chunked buffer (io::ReadBuffer) that keeps kJsonPadding readable bytes
// after any line, as simdjson requires, so lines are parsed in place without a copy. Blank
// lines (only spaces and tabs) are skipped; a CR before the LF is dropped; the last line needs
// no line end.
//
// Lifetime: a line's text is valid until the next Next() or SeekTo().
// Thread-safety: none; one reader per thread.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "io/read_buffer.h"
#include "io/stream.h"

namespace sluice::formats {

/// Readable bytes guaranteed after every JsonlLine's text (simdjson's SIMDJSON_PADDING).
inline constexpr size_t kJsonPadding = 64;

struct JsonlReadOptions {
  /// Initial chunk buffer size; it doubles for longer lines.
  size_t buffer_bytes = 1 << 20;
  /// A longer line is an error; the rest of the stream is then skipped.
  size_t max_line_bytes = size_t{256} << 20;
};

struct JsonlLine {
  /// The line without its line end, followed by kJsonPadding readable bytes.
  std::string_view text;
  /// 1-based line number.
  int64_t line = 0;
  /// Byte offset of the line in the (decompressed) stream.
  uint64_t offset = 0;
  /// The file name errors carry.
  std::string_view file_name;
};

class JsonlReader {
 public:
  /// Reads `input` (not owned; must outlive the reader) from its current position, taken as
  /// offset 0 and line 1.
  JsonlReader(io::InputStream* input, std::string file_name, JsonlReadOptions options = {});
  JsonlReader(const JsonlReader&) = delete;
  JsonlReader& operator=(const JsonlReader&) = delete;

  /// Fills `line` with the next non-blank line; returns false at the end of the input. A line
  /// over max_line_bytes is a DataError "<file>:<line>:1: ...", after which the rest of the
  /// input is skipped.
  Result<bool> Next(JsonlLine* line);

  /// Continues at stream offset `offset`, numbering lines from `line` (a saved position).
  Status SeekTo(uint64_t offset, int64_t line);

  /// Offset and line number of the line the next Next() returns: a resume position.
  uint64_t next_offset() const { return buffer_.offset(); }
  int64_t next_line() const { return next_line_; }
  uint64_t source_bytes_read() const { return input_->source_bytes_read(); }
  const std::string& file_name() const { return file_name_; }
  /// True once the input stream failed (an I/O error, corrupt compressed data): unlike a bad
  /// line, that is not something to skip; Next() keeps returning the error.
  bool input_failed() const { return !input_error_.ok(); }

 private:
  io::InputStream* input_;
  std::string file_name_;
  JsonlReadOptions options_;
  io::ReadBuffer buffer_;
  int64_t next_line_ = 1;
  size_t scanned_ = 0;  // bytes of data() already searched for a line end
  Status input_error_;  // the input stream's first error, returned from then on

  Status Fill();
};

}  // namespace sluice::formats
