#include "formats/jsonl/jsonl_reader.h"

#include <fmt/core.h>

#include <cstring>

namespace sluice::formats {

JsonlReader::JsonlReader(io::InputStream* input, std::string file_name, JsonlReadOptions options)
    : input_(input),
      file_name_(std::move(file_name)),
      options_(options),
      buffer_(input, options_.buffer_bytes, kJsonPadding) {}

Status JsonlReader::SeekTo(uint64_t offset, int64_t line) {
  scanned_ = 0;
  Status status = buffer_.SkipTo(offset);
  if (!status.ok()) {
    return status.WithContext(fmt::format("Cannot resume '{}' at offset {}", file_name_, offset));
  }
  next_line_ = line;
  return Status::OK();
}

Status JsonlReader::Fill() {
  Result<size_t> filled = buffer_.Fill();
  if (!filled.ok())
    input_error_ = filled.status();
  return filled.status();
}

Result<bool> JsonlReader::Next(JsonlLine* line) {
  if (!input_error_.ok())
    return input_error_;
  for (;;) {
    if (buffer_.size() == 0) {
      if (buffer_.eof())
        return false;
      SLUICE_RETURN_IF_ERROR(Fill());
      continue;
    }
    const char* begin = buffer_.data();
    size_t size = buffer_.size();
    const char* newline =
        static_cast<const char*>(std::memchr(begin + scanned_, '\n', size - scanned_));
    if (newline == nullptr && !buffer_.eof()) {
      scanned_ = size;
      if (size >= options_.max_line_bytes) {
        Status error =
            DataError(fmt::format("{}:{}:1: line exceeds {} bytes; skipping the rest "
                                  "of the file",
                                  file_name_, next_line_, options_.max_line_bytes));
        while (!buffer_.eof()) {
          buffer_.Consume(buffer_.size());
          SLUICE_RETURN_IF_ERROR(Fill());
        }
        buffer_.Consume(buffer_.size());
        scanned_ = 0;
        return error;
      }
      SLUICE_RETURN_IF_ERROR(Fill());
      continue;
    }
    size_t length = newline != nullptr ? static_cast<size_t>(newline - begin) : size;
    size_t consumed = newline != nullptr ? length + 1 : size;
    if (length > 0 && begin[length - 1] == '\r')
      --length;
    line->text = std::string_view(begin, length);
    line->line = next_line_++;
    line->offset = buffer_.offset();
    line->file_name = file_name_;
    // The bytes stay in place until the next Fill(), which only Next() calls.
    buffer_.Consume(consumed);
    scanned_ = 0;
    bool blank = true;
    for (char c : line->text) {
      if (c != ' ' && c != '\t') {
        blank = false;
        break;
      }
    }
    if (!blank)
      return true;
  }
}

}  // namespace sluice::formats
