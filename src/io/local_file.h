// Local files through read(2)/write(2): the bottom of every file stream.
//
// LocalInputFile reads straight into the caller's buffer for large reads (record readers ask
// for a megabyte at a time) and through an internal buffer for small ones. LocalOutputFile
// gathers small writes in a 1 MiB buffer so that a codec or a format writer emitting many small
// pieces still costs one system call per megabyte.
//
// Both own their file descriptor (opened O_CLOEXEC) and close it in the destructor.
// Thread-safety: none. Errors name the path.
#pragma once

#include <memory>
#include <string>

#include "io/stream.h"

namespace sluice::io {

class LocalInputFile final : public InputStream {
 public:
  /// Opens `path` for reading. A missing file is NotFound, EACCES is PermissionDenied, a
  /// directory is an I/O error; every message names the path.
  static Result<std::unique_ptr<LocalInputFile>> Open(const std::string& path);
  ~LocalInputFile() override;
  LocalInputFile(const LocalInputFile&) = delete;
  LocalInputFile& operator=(const LocalInputFile&) = delete;

  Result<size_t> Read(char* buffer, size_t n) override;
  /// Seeks; fails when the target lies past the end of the file.
  Status Skip(uint64_t n) override;
  uint64_t source_bytes_read() const override { return position_; }

  /// Size of the file when it was opened.
  uint64_t size() const { return size_; }
  const std::string& path() const { return path_; }

 private:
  LocalInputFile(std::string path, int fd, uint64_t size)
      : path_(std::move(path)), fd_(fd), size_(size) {}
  Result<size_t> ReadFromFile(char* buffer, size_t n);

  std::string path_;
  int fd_;
  uint64_t size_;
  uint64_t position_ = 0;  // bytes handed to the caller or skipped
  // Small reads are served from here; allocated on the first small read.
  std::unique_ptr<char[]> buffer_;
  size_t buffer_begin_ = 0;
  size_t buffer_end_ = 0;
};

class LocalOutputFile final : public OutputStream {
 public:
  /// Creates or truncates `path` (mode 0666 minus the umask).
  static Result<std::unique_ptr<LocalOutputFile>> Create(const std::string& path, SyncMode sync);
  ~LocalOutputFile() override;
  LocalOutputFile(const LocalOutputFile&) = delete;
  LocalOutputFile& operator=(const LocalOutputFile&) = delete;

  Status Write(std::string_view data) override;
  Status Close() override;

  const std::string& path() const { return path_; }

 private:
  LocalOutputFile(std::string path, int fd, SyncMode sync);
  Status WriteToFile(const char* data, size_t n);
  Status FlushBuffer();

  static constexpr size_t kBufferBytes = 1 << 20;
  std::string path_;
  int fd_;
  SyncMode sync_;
  std::unique_ptr<char[]> buffer_;
  size_t buffered_ = 0;
};

}  // namespace sluice::io
