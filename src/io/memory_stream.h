// In-memory streams: input from a string, output into a string. For tests and benchmarks, and
// for callers that already hold the bytes.
//
// Thread-safety: none.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "io/stream.h"

namespace sluice::io {

/// Reads a string the stream owns. `max_read_bytes` > 0 caps what one Read() returns, to
/// exercise readers at chunk boundaries.
class StringInputStream final : public InputStream {
 public:
  explicit StringInputStream(std::string data, size_t max_read_bytes = 0)
      : data_(std::move(data)), max_read_bytes_(max_read_bytes) {}

  Result<size_t> Read(char* buffer, size_t n) override;
  uint64_t source_bytes_read() const override { return position_; }

 private:
  std::string data_;
  size_t max_read_bytes_;
  size_t position_ = 0;
};

/// Reads bytes owned by the caller, which must outlive the stream (no copy).
class ViewInputStream final : public InputStream {
 public:
  explicit ViewInputStream(std::string_view data, size_t max_read_bytes = 0)
      : data_(data), max_read_bytes_(max_read_bytes) {}

  Result<size_t> Read(char* buffer, size_t n) override;
  uint64_t source_bytes_read() const override { return position_; }

 private:
  std::string_view data_;
  size_t max_read_bytes_;
  size_t position_ = 0;
};

/// Appends everything written to `*out`, which must outlive the stream.
class StringOutputStream final : public OutputStream {
 public:
  explicit StringOutputStream(std::string* out) : out_(out) {}

  Status Write(std::string_view data) override;
  Status Close() override {
    closed_ = true;
    return Status::OK();
  }
  bool closed() const { return closed_; }

 private:
  std::string* out_;
  bool closed_ = false;
};

}  // namespace sluice::io
