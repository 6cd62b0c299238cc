// Local file-system operations for file sources and sinks: open a file as a (decompressed)
// stream, create one as a (compressing) stream, expand a glob, and the directory chores of
// writing files atomically (create parents, probe writability, rename, remove, fsync).
//
// Every error is a Status naming the path, mapped from errno by core's ErrnoStatus: a missing
// file is NotFound, EACCES/EPERM/EROFS are PermissionDenied, the rest are I/O errors.
// Thread-safety: all functions may be called from any thread.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "io/compression.h"
#include "io/stream.h"

namespace sluice::io {

/// Opens `path` for reading through the decompressor `compression` names (kAuto: by
/// extension).
Result<std::unique_ptr<InputStream>> OpenInputFile(const std::string& path,
                                                   Compression compression = Compression::kAuto);

/// Creates or truncates `path` for writing through the compressor `compression` names (kAuto:
/// by extension). `level` 0 is the codec's default. With SyncMode::kFsyncOnClose, Close()
/// returns once the bytes are on disk.
Result<std::unique_ptr<OutputStream>> CreateOutputFile(const std::string& path,
                                                       Compression compression = Compression::kAuto,
                                                       int level = 0,
                                                       SyncMode sync = SyncMode::kNone);

/// True when `pattern` contains glob characters (*, ?, [).
bool HasGlobCharacters(std::string_view pattern);

/// The regular files matching the glob `pattern` (glob(3): *, ?, [...]), sorted by name
/// (byte order). No match is NotFound("No file matches '<pattern>'").
Result<std::vector<std::string>> ExpandGlob(const std::string& pattern);

Result<uint64_t> FileSize(const std::string& path);
/// True when something exists at `path` (a dangling symlink counts).
bool PathExists(const std::string& path);

/// "out/a.csv" -> "out", "a.csv" -> ".", "/a" -> "/".
std::string ParentDirectory(std::string_view path);
/// "out/a.csv" -> "a.csv".
std::string_view BaseName(std::string_view path);

/// Creates `directory` and its missing parents (mkdir -p).
Status CreateDirectories(const std::string& directory);
/// Creates and removes a probe file in `directory`: the one check that also holds for root,
/// read-only mounts and ACLs. PermissionDenied names the directory.
Status CheckDirectoryWritable(const std::string& directory);
/// A side-effect-free guess (access(2)) at whether files can be created in `directory`, or in
/// its nearest existing ancestor when it does not exist yet. Optimistic for root.
bool LooksWritable(const std::string& directory);
/// Names of the entries of `directory` (without . and ..), unsorted.
Result<std::vector<std::string>> ListDirectory(const std::string& directory);

/// rename(2): atomically replaces `to`.
Status RenameFile(const std::string& from, const std::string& to);
/// Removes a file; a file that is already gone is fine.
Status RemoveFile(const std::string& path);
/// fsyncs a directory so that renames and creations in it survive a crash.
Status SyncDirectory(const std::string& directory);

/// Writes the first `length` bytes of `from` into a new file `to` (replaced if it exists) and
/// fsyncs it: a file that another process may still be writing is continued in a copy. Fails
/// (DataError) when `from` holds fewer bytes.
Status CopyFilePrefix(const std::string& from, const std::string& to, uint64_t length);

}  // namespace sluice::io
