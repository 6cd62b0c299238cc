#include "io/local_file.h"

#include <fcntl.h>
#include <fmt/core.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace sluice::io {

namespace {

// Reads smaller than this go through the internal buffer.
constexpr size_t kSmallRead = 64 * 1024;
constexpr size_t kInputBufferBytes = 256 * 1024;

}  // namespace

Result<std::unique_ptr<LocalInputFile>> LocalInputFile::Open(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return ErrnoStatus("Cannot open", path, errno);
  struct stat info;
  if (::fstat(fd, &info) != 0) {
    int error = errno;
    ::close(fd);
    return ErrnoStatus("Cannot stat", path, error);
  }
  if (S_ISDIR(info.st_mode)) {
    ::close(fd);
    return ErrnoStatus("Cannot open", path, EISDIR);
  }
  // The kernel may read ahead more aggressively for a sequential scan.
  (void)::posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
  uint64_t size = S_ISREG(info.st_mode) ? static_cast<uint64_t>(info.st_size) : 0;
  return std::unique_ptr<LocalInputFile>(new LocalInputFile(path, fd, size));
}

LocalInputFile::~LocalInputFile() {
  if (fd_ >= 0)
    ::close(fd_);
}

Result<size_t> LocalInputFile::ReadFromFile(char* buffer, size_t n) {
  for (;;) {
    ssize_t got = ::read(fd_, buffer, n);
    if (got >= 0)
      return static_cast<size_t>(got);
    if (errno == EINTR)
      continue;
    return ErrnoStatus("Cannot read", path_, errno);
  }
}

Result<size_t> LocalInputFile::Read(char* buffer, size_t n) {
  if (n == 0)
    return size_t{0};
  size_t copied = 0;
  if (buffer_begin_ < buffer_end_) {
    copied = std::min(n, buffer_end_ - buffer_begin_);
    std::memcpy(buffer, buffer_.get() + buffer_begin_, copied);
    buffer_begin_ += copied;
    position_ += copied;
    return copied;
  }
  if (n >= kSmallRead) {
    SLUICE_ASSIGN_OR_RETURN(size_t got, ReadFromFile(buffer, n));
    position_ += got;
    return got;
  }
  if (!buffer_)
    buffer_ = std::make_unique<char[]>(kInputBufferBytes);
  SLUICE_ASSIGN_OR_RETURN(size_t got, ReadFromFile(buffer_.get(), kInputBufferBytes));
  buffer_begin_ = 0;
  buffer_end_ = got;
  copied = std::min(n, got);
  std::memcpy(buffer, buffer_.get(), copied);
  buffer_begin_ = copied;
  position_ += copied;
  return copied;
}

Status LocalInputFile::Skip(uint64_t n) {
  uint64_t buffered = buffer_end_ - buffer_begin_;
  if (n <= buffered) {
    buffer_begin_ += static_cast<size_t>(n);
    position_ += n;
    return Status::OK();
  }
  uint64_t target = position_ + n;
  struct stat info;
  if (::fstat(fd_, &info) == 0 && S_ISREG(info.st_mode) &&
      target > static_cast<uint64_t>(info.st_size)) {
    return DataError(fmt::format("Cannot seek to offset {} in '{}': the file has {} bytes", target,
                                 path_, static_cast<uint64_t>(info.st_size)));
  }
  if (::lseek(fd_, static_cast<off_t>(target), SEEK_SET) < 0) {
    if (errno == ESPIPE)
      return InputStream::Skip(n);  // a pipe or FIFO: read and discard
    return ErrnoStatus("Cannot seek in", path_, errno);
  }
  buffer_begin_ = buffer_end_ = 0;
  position_ = target;
  return Status::OK();
}

Result<std::unique_ptr<LocalOutputFile>> LocalOutputFile::Create(const std::string& path,
                                                                 SyncMode sync) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
  if (fd < 0)
    return ErrnoStatus("Cannot create", path, errno);
  return std::unique_ptr<LocalOutputFile>(new LocalOutputFile(path, fd, sync));
}

LocalOutputFile::LocalOutputFile(std::string path, int fd, SyncMode sync)
    : path_(std::move(path)), fd_(fd), sync_(sync), buffer_(new char[kBufferBytes]) {}

LocalOutputFile::~LocalOutputFile() {
  if (fd_ >= 0)
    ::close(fd_);
}

Status LocalOutputFile::WriteToFile(const char* data, size_t n) {
  while (n > 0) {
    ssize_t written = ::write(fd_, data, n);
    if (written < 0) {
      if (errno == EINTR)
        continue;
      return ErrnoStatus("Cannot write", path_, errno);
    }
    data += written;
    n -= static_cast<size_t>(written);
  }
  return Status::OK();
}

Status LocalOutputFile::FlushBuffer() {
  if (buffered_ == 0)
    return Status::OK();
  Status status = WriteToFile(buffer_.get(), buffered_);
  buffered_ = 0;
  return status;
}

Status LocalOutputFile::Write(std::string_view data) {
  if (fd_ < 0)
    return Internal(fmt::format("write to '{}' after close", path_));
  if (buffered_ + data.size() <= kBufferBytes) {
    std::memcpy(buffer_.get() + buffered_, data.data(), data.size());
    buffered_ += data.size();
    return Status::OK();
  }
  SLUICE_RETURN_IF_ERROR(FlushBuffer());
  if (data.size() >= kBufferBytes / 2)
    return WriteToFile(data.data(), data.size());
  std::memcpy(buffer_.get(), data.data(), data.size());
  buffered_ = data.size();
  return Status::OK();
}

Status LocalOutputFile::Close() {
  if (fd_ < 0)
    return Status::OK();
  Status status = FlushBuffer();
  if (status.ok() && sync_ == SyncMode::kFsyncOnClose && ::fsync(fd_) != 0) {
    status = ErrnoStatus("Cannot sync", path_, errno);
  }
  // close(2) can report a deferred write error (NFS); the descriptor is released regardless.
  if (::close(fd_) != 0 && status.ok())
    status = ErrnoStatus("Cannot close", path_, errno);
  fd_ = -1;
  return status;
}

}  // namespace sluice::io
