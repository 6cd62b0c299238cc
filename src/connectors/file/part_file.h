// PartFile: one output file of the file sink, written as a series of segments that each end
// where the file is complete and valid. Plain text can end anywhere; a gzip file may hold several
// members and a zstd file several frames, which every decompressor reads back to back (as
// `cat a.gz b.gz` shows). The exactly-once sink ends a segment at every commit, so a part that a
// crash interrupted can be cut back to its last committed length and continued with a new
// segment, and its decompressed text is the same as if it had been written in one go.
//
// Thread-safety: none; one writer thread. Lifetime: owns its file descriptor, closed on
// destruction without flushing (what was not handed to the kernel is lost: the abort path);
// stream() is valid as long as the PartFile.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "core/result.h"
#include "io/compression.h"
#include "io/stream.h"

namespace sluice::connectors::file {

class PartFile {
 public:
  /// Creates (or truncates) `path` for writing through `compression` (resolved: not kAuto).
  static Result<std::unique_ptr<PartFile>> Create(std::string path, io::Compression compression);
  /// Opens the existing `path` to continue after its first `length` bytes, which must end a
  /// segment; anything after them is cut off. Fails when the file holds fewer bytes.
  static Result<std::unique_ptr<PartFile>> Reopen(std::string path, io::Compression compression,
                                                  uint64_t length);
  ~PartFile();
  PartFile(const PartFile&) = delete;
  PartFile& operator=(const PartFile&) = delete;

  /// The stream format writers write to. The first write after EndSegment() starts a segment.
  io::OutputStream* stream();
  /// Ends the current segment (the codec's trailer) and hands every byte to the kernel. Does
  /// nothing when nothing was written since the last segment ended.
  Status EndSegment();
  /// fsyncs the file when bytes were written since the last Sync().
  Status Sync();
  /// EndSegment(), Sync() and close(2).
  Status Close();
  /// Cuts the file back to `length` bytes (at most length(); the end of a segment) and
  /// continues writing there: drops what was written after a commit.
  Status Truncate(uint64_t length);

  /// Bytes handed to the kernel; after EndSegment() the length of a valid file.
  uint64_t length() const { return length_; }
  const std::string& path() const { return path_; }

 private:
  class FileOutput;
  class SegmentStream;

  PartFile(std::string path, io::Compression compression, int fd, uint64_t length);
  Status WriteToFile(std::string_view data);
  /// Starts the disk writes of every kWritebackBytes written, so that the data of a big part
  /// drains while it is written instead of all at Sync() (the commit would wait for it).
  void StartWriteback();
  static constexpr uint64_t kWritebackBytes = 8 << 20;

  std::string path_;
  io::Compression compression_;
  int fd_;
  uint64_t length_;
  uint64_t writeback_from_ = 0;  // bytes before this offset have had their writeback started
  bool unsynced_ = false;
  std::unique_ptr<SegmentStream> segment_;
};

/// Cuts the closed file `path` back to `length` bytes and fsyncs it. Fails (DataError) when
/// the file holds fewer bytes than that.
Status TruncateFile(const std::string& path, uint64_t length);


}  // namespace sluice::connectors::file
