// InputStream and OutputStream: the byte streams that formats read and write, whatever sits
// underneath (a local file, a gzip or zstd codec over one, a string in a test).
//
// Streams are sequential and unbuffered from the caller's point of view: record readers pull
// large chunks (see io/read_buffer.h) and writers push large chunks, so the streams themselves
// only need buffers where a system call or a codec wants them.
//
// Thread-safety: none; a stream is used by one thread at a time.
// Lifetime: a wrapping stream owns the stream it wraps.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "core/result.h"

namespace sluice::io {

class InputStream {
 public:
  virtual ~InputStream() = default;

  /// Reads up to `n` bytes into `buffer`; returns how many were read, 0 only at end of stream.
  /// May return fewer than `n` before the end.
  virtual Result<size_t> Read(char* buffer, size_t n) = 0;

  /// Moves `n` bytes forward, as if they had been read. Seeks when the stream can (plain
  /// files); otherwise reads and discards (compressed streams). Skipping past the end is an
  /// error, so that resuming in a file that shrank fails loudly.
  virtual Status Skip(uint64_t n);

  /// Bytes taken from the underlying file so far: compressed bytes for a codec stream. Drives
  /// progress against the file size. Returns 0 when unknown.
  virtual uint64_t source_bytes_read() const { return 0; }
};

class OutputStream {
 public:
  virtual ~OutputStream() = default;

  /// Writes all of `data` (buffered or not, depending on the stream).
  virtual Status Write(std::string_view data) = 0;

  /// Ends the stream: writes the codec trailer, flushes buffers, fsyncs when the stream was
  /// created to, and releases the handle. Further calls return OK and do nothing. Destroying a
  /// stream that was not closed discards what is still buffered (the abort path).
  virtual Status Close() = 0;
};

/// Whether OutputStream::Close() of a file waits for the data to reach the disk.
enum class SyncMode { kNone, kFsyncOnClose };

}  // namespace sluice::io
