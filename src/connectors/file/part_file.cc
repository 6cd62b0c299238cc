#include "connectors/file/part_file.h"

#include <fcntl.h>
#include <fmt/core.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

namespace sluice::connectors::file {

// The codec's sink: writes straight to the part's descriptor. Close() ends nothing but the
// codec's use of it; the descriptor stays open for the next segment.
class PartFile::FileOutput final : public io::OutputStream {
 public:
  explicit FileOutput(PartFile* part) : part_(part) {}
  Status Write(std::string_view data) override { return part_->WriteToFile(data); }
  Status Close() override { return Status::OK(); }

 private:
  PartFile* part_;
};

// What format writers hold on to for the whole part, while codecs come and go per segment.
class PartFile::SegmentStream final : public io::OutputStream {
 public:
  explicit SegmentStream(PartFile* part) : part_(part) {}

  Status Write(std::string_view data) override {
    if (data.empty()) {
      return Status::OK();
    }
    if (part_->compression_ == io::Compression::kNone) {
      return part_->WriteToFile(data);
    }
    if (!codec_) {
      SLUICE_ASSIGN_OR_RETURN(codec_,
                              io::MakeCompressingStream(std::make_unique<FileOutput>(part_),
                                                        part_->compression_, 0, part_->path_));
    }
    return codec_->Write(data);
  }

  Status Close() override { return End(); }

  Status End() {
    if (!codec_) {
      return Status::OK();
    }
    Status status = codec_->Close();  // the member's or frame's trailer
    codec_.reset();
    return status;
  }

 private:
  PartFile* part_;
  std::unique_ptr<io::OutputStream> codec_;  // the open segment's compressor, if any
};

PartFile::PartFile(std::string path, io::Compression compression, int fd, uint64_t length)
    : path_(std::move(path)),
      compression_(compression),
      fd_(fd),
      length_(length),
      writeback_from_(length),
      segment_(std::make_unique<SegmentStream>(this)) {}

PartFile::~PartFile() {
  segment_.reset();
  if (fd_ >= 0) {
    ::close(fd_);
  }
}

Result<std::unique_ptr<PartFile>> PartFile::Create(std::string path, io::Compression compression) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
  if (fd < 0) {
    return ErrnoStatus("Cannot create", path, errno);
  }
  return std::unique_ptr<PartFile>(new PartFile(std::move(path), compression, fd, 0));
}

Result<std::unique_ptr<PartFile>> PartFile::Reopen(std::string path, io::Compression compression,
                                                   uint64_t length) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) {
    return ErrnoStatus("Cannot reopen", path, errno);
  }
  std::unique_ptr<PartFile> part(new PartFile(std::move(path), compression, fd, length));
  struct stat info;
  if (::fstat(fd, &info) != 0) {
    return ErrnoStatus("Cannot stat", part->path_, errno);
  }
  if (static_cast<uint64_t>(info.st_size) < length) {
    return DataError(fmt::format("'{}' holds {} bytes, fewer than the {} committed to it",
                                 part->path_, static_cast<uint64_t>(info.st_size), length));
  }
  if (static_cast<uint64_t>(info.st_size) > length) {
    SLUICE_RETURN_IF_ERROR(part->Truncate(length));
  }
  if (::lseek(fd, static_cast<off_t>(length), SEEK_SET) < 0) {
    return ErrnoStatus("Cannot seek in", part->path_, errno);
  }
  return part;
}

io::OutputStream* PartFile::stream() {
  return segment_.get();
}

Status PartFile::WriteToFile(std::string_view data) {
  if (fd_ < 0) {
    return Internal(fmt::format("write to '{}' after close", path_));
  }
  while (!data.empty()) {
    ssize_t written = ::write(fd_, data.data(), data.size());
    if (written < 0) {
      if (errno == EINTR) {
        continue;
      }
      return ErrnoStatus("Cannot write", path_, errno);
    }
    data.remove_prefix(static_cast<size_t>(written));
    length_ += static_cast<uint64_t>(written);
    unsynced_ = true;
  }
  StartWriteback();
  return Status::OK();
}

void PartFile::StartWriteback() {
  if (length_ < writeback_from_ + kWritebackBytes)
    return;
#if defined(__linux__)
  // Only starts the disk writes of what was written since the last call, without waiting: a
  // hint (its errors are Sync()'s to report), so that Sync() at a commit finds little left.
  (void)::sync_file_range(fd_, static_cast<off_t>(writeback_from_),
                          static_cast<off_t>(length_ - writeback_from_), SYNC_FILE_RANGE_WRITE);
#endif
  writeback_from_ = length_;
}

Status PartFile::EndSegment() {
  return segment_->End();
}

Status PartFile::Sync() {
  if (!unsynced_ || fd_ < 0) {
    return Status::OK();
  }
  if (::fsync(fd_) != 0) {
    return ErrnoStatus("Cannot sync", path_, errno);
  }
  unsynced_ = false;
  return Status::OK();
}

Status PartFile::Close() {
  if (fd_ < 0) {
    return Status::OK();
  }
  SLUICE_RETURN_IF_ERROR(EndSegment());
  SLUICE_RETURN_IF_ERROR(Sync());
  // close(2) can report a deferred write error (NFS); the descriptor is released regardless.
  int rc = ::close(fd_);
  fd_ = -1;
  if (rc != 0) {
    return ErrnoStatus("Cannot close", path_, errno);
  }
  return Status::OK();
}

Status PartFile::Truncate(uint64_t length) {
  if (fd_ < 0) {
    return Internal(fmt::format("truncate of '{}' after close", path_));
  }
  // The open segment (if any) belongs to the bytes dropped here.
  segment_ = std::make_unique<SegmentStream>(this);
  if (::ftruncate(fd_, static_cast<off_t>(length)) != 0) {
    return ErrnoStatus("Cannot truncate", path_, errno);
  }
  if (::lseek(fd_, static_cast<off_t>(length), SEEK_SET) < 0) {
    return ErrnoStatus("Cannot seek in", path_, errno);
  }
  length_ = length;
  writeback_from_ = std::min(writeback_from_, length_);
  unsynced_ = true;
  return Status::OK();
}

Status TruncateFile(const std::string& path, uint64_t length) {
  SLUICE_ASSIGN_OR_RETURN(std::unique_ptr<PartFile> part,
                          PartFile::Reopen(path, io::Compression::kNone, length));
  return part->Close();
}

}  // namespace sluice::connectors::file
