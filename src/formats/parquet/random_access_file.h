// RandomAccessFile: a file read at arbitrary offsets, what a Parquet reader needs (the footer
// first, then column chunks anywhere). io/ offers sequential streams only; this interface is
// meant to move there when the HDFS and S3 readers arrive and implement it too.
//
// Thread-safety: ReadAt() keeps no position, so one object may serve several threads at once
// (LocalRandomAccessFile uses pread). Lifetime: the object owns its handle.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "core/result.h"
#include "io/file_store.h"

namespace sluice::formats {

class RandomAccessFile {
 public:
  virtual ~RandomAccessFile() = default;

  /// Size of the file in bytes, fixed when it was opened.
  virtual uint64_t size() const = 0;
  /// Reads exactly `n` bytes at `offset` into `out`. A range past the end is a DataError (a
  /// truncated or corrupt file), a failed read an IoError; both name the file.
  virtual Status ReadAt(uint64_t offset, size_t n, char* out) const = 0;
  /// The name errors carry (usually the path).
  virtual const std::string& name() const = 0;
};

/// A local file read with pread(2).
class LocalRandomAccessFile final : public RandomAccessFile {
 public:
  /// Opens `path`; a missing file is NotFound, EACCES PermissionDenied (core's ErrnoStatus).
  static Result<std::unique_ptr<LocalRandomAccessFile>> Open(const std::string& path);
  ~LocalRandomAccessFile() override;
  LocalRandomAccessFile(const LocalRandomAccessFile&) = delete;
  LocalRandomAccessFile& operator=(const LocalRandomAccessFile&) = delete;

  uint64_t size() const override { return size_; }
  Status ReadAt(uint64_t offset, size_t n, char* out) const override;
  const std::string& name() const override { return path_; }

 private:
  LocalRandomAccessFile(std::string path, int fd, uint64_t size)
      : path_(std::move(path)), fd_(fd), size_(size) {}

  std::string path_;
  int fd_;
  uint64_t size_;
};

/// A file of a FileStore (HDFS, S3, a local directory) read with ranged requests: a Parquet
/// reader asks for the footer, then for each column chunk it reads.
class StoreRandomAccessFile final : public RandomAccessFile {
 public:
  /// Asks the store for the file's size; NotFound when it is missing.
  static Result<std::unique_ptr<StoreRandomAccessFile>> Open(io::FileStore* store,
                                                             std::string path);

  uint64_t size() const override { return size_; }
  Status ReadAt(uint64_t offset, size_t n, char* out) const override;
  const std::string& name() const override { return name_; }

 private:
  StoreRandomAccessFile(io::FileStore* store, std::string path, uint64_t size, std::string name)
      : store_(store), path_(std::move(path)), size_(size), name_(std::move(name)) {}

  io::FileStore* store_;
  std::string path_;
  uint64_t size_;
  std::string name_;
};

/// Bytes held in memory, for tests and for callers that already have the whole file.
class StringRandomAccessFile final : public RandomAccessFile {
 public:
  explicit StringRandomAccessFile(std::string data, std::string name = "memory")
      : data_(std::move(data)), name_(std::move(name)) {}

  uint64_t size() const override { return data_.size(); }
  Status ReadAt(uint64_t offset, size_t n, char* out) const override;
  const std::string& name() const override { return name_; }

 private:
  std::string data_;
  std::string name_;
};

}  // namespace sluice::formats
