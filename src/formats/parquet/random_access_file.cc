#include "formats/parquet/random_access_file.h"

#include <fcntl.h>
#include <fmt/core.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace sluice::formats {

namespace {

Status PastEnd(const std::string& name, uint64_t offset, size_t n, uint64_t size) {
  return DataError(fmt::format("'{}': read of {} bytes at offset {} runs past the end ({} bytes); "
                               "the file is truncated or corrupt",
                               name, n, offset, size));
}

}  // namespace

Result<std::unique_ptr<LocalRandomAccessFile>> LocalRandomAccessFile::Open(
    const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return ErrnoStatus("Cannot open", path, errno);
  struct stat info {};
  if (::fstat(fd, &info) != 0) {
    int error = errno;
    ::close(fd);
    return ErrnoStatus("Cannot stat", path, error);
  }
  if (S_ISDIR(info.st_mode)) {
    ::close(fd);
    return IoError(fmt::format("Cannot read '{}': it is a directory", path));
  }
  return std::unique_ptr<LocalRandomAccessFile>(
      new LocalRandomAccessFile(path, fd, static_cast<uint64_t>(info.st_size)));
}

LocalRandomAccessFile::~LocalRandomAccessFile() {
  ::close(fd_);
}

Status LocalRandomAccessFile::ReadAt(uint64_t offset, size_t n, char* out) const {
  if (offset > size_ || n > size_ - offset)
    return PastEnd(path_, offset, n, size_);
  while (n > 0) {
    ssize_t got = ::pread(fd_, out, n, static_cast<off_t>(offset));
    if (got < 0) {
      if (errno == EINTR)
        continue;
      return ErrnoStatus("Cannot read", path_, errno);
    }
    if (got == 0)  // shrank since it was opened
      return PastEnd(path_, offset, n, size_);
    out += got;
    offset += static_cast<uint64_t>(got);
    n -= static_cast<size_t>(got);
  }
  return Status::OK();
}

Status StringRandomAccessFile::ReadAt(uint64_t offset, size_t n, char* out) const {
  if (offset > data_.size() || n > data_.size() - offset)
    return PastEnd(name_, offset, n, data_.size());
  std::memcpy(out, data_.data() + offset, n);
  return Status::OK();
}

Result<std::unique_ptr<StoreRandomAccessFile>> StoreRandomAccessFile::Open(io::FileStore* store,
                                                                         std::string path) {
  SLUICE_ASSIGN_OR_RETURN(uint64_t size, store->Size(path));
  std::string name = store->Uri(path);
  return std::unique_ptr<StoreRandomAccessFile>(
      new StoreRandomAccessFile(store, std::move(path), size, std::move(name)));
}

Status StoreRandomAccessFile::ReadAt(uint64_t offset, size_t n, char* out) const {
  if (offset + n > size_) {
    return DataError(fmt::format("'{}' is {} bytes: cannot read {} bytes at {}", name_, size_, n,
                                 offset));
  }
  SLUICE_ASSIGN_OR_RETURN(std::string bytes, store_->ReadRange(path_, offset, n));
  if (bytes.size() != n) {
    return DataError(fmt::format("'{}' gave {} of the {} bytes at {}", name_, bytes.size(), n,
                                 offset));
  }
  std::memcpy(out, bytes.data(), n);
  return Status::OK();
}

}  // namespace sluice::formats
