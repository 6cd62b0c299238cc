// ReadBuffer: a growable window over an InputStream, the chunked buffer under the CSV and JSON
// Lines readers.
//
// A reader parses records straight out of data()..data()+size(); when a record runs past the
// end it calls Fill(), which keeps the unconsumed bytes (moving them to the front, doubling the
// buffer when they already fill it) and appends what the stream has next. The reader then
// parses the record again from its start, so one record may be as large as memory allows while
// the buffer stays at its initial size for ordinary data. offset() maps buffer positions back
// to offsets in the (decompressed) stream, for resume positions.
//
// Lifetime: pointers into the buffer are valid until the next Fill() or SkipTo(). `padding`
// extra bytes are always allocated (and readable) after the data, for parsers such as simdjson
// that read a little past the end of their input.
// Thread-safety: none.
#pragma once

#include <cstdint>
#include <memory>

#include "io/stream.h"

namespace sluice::io {

class ReadBuffer {
 public:
  /// `input` must outlive the buffer.
  ReadBuffer(InputStream* input, size_t initial_capacity, size_t padding = 0);
  ReadBuffer(const ReadBuffer&) = delete;
  ReadBuffer& operator=(const ReadBuffer&) = delete;

  const char* data() const { return buffer_.get() + begin_; }
  char* mutable_data() { return buffer_.get() + begin_; }
  size_t size() const { return end_ - begin_; }
  /// True once the stream has ended: size() bytes are all that is left.
  bool eof() const { return eof_; }
  /// Offset in the stream of data()[0].
  uint64_t offset() const { return offset_; }
  size_t capacity() const { return capacity_; }

  /// Drops the first `n` bytes of data().
  void Consume(size_t n) {
    begin_ += n;
    offset_ += n;
  }

  /// Appends more bytes from the stream, keeping the unconsumed ones. Returns how many were
  /// added; 0 means the stream has ended (eof() is then true).
  Result<size_t> Fill();

  /// Moves to stream offset `offset` (not before offset()): drops buffered bytes and skips the
  /// rest in the stream (a seek for plain files).
  Status SkipTo(uint64_t offset);

 private:
  InputStream* input_;
  std::unique_ptr<char[]> buffer_;
  size_t capacity_;
  size_t padding_;
  size_t begin_ = 0;
  size_t end_ = 0;
  uint64_t offset_ = 0;
  bool eof_ = false;
};

}  // namespace sluice::io
