#include "io/file_system.h"

#include <dirent.h>
#include <fcntl.h>
#include <fmt/core.h>
#include <glob.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "io/local_file.h"

namespace sluice::io {

namespace {

// glob(3)'s error callback has no user pointer; the first error of the current call on this
// thread lands here.
thread_local int glob_errno = 0;
thread_local std::string* glob_error_path = nullptr;

int OnGlobError(const char* path, int error_number) {
  if (glob_errno == 0) {
    glob_errno = error_number;
    if (glob_error_path != nullptr)
      *glob_error_path = path;
  }
  return 0;  // keep going: an unreadable corner should not hide the files that can be read
}

struct GlobResult {
  glob_t value{};
  ~GlobResult() { globfree(&value); }
};

struct DirCloser {
  void operator()(DIR* dir) const { closedir(dir); }
};

}  // namespace

Result<std::unique_ptr<InputStream>> OpenInputFile(const std::string& path,
                                                   Compression compression) {
  SLUICE_ASSIGN_OR_RETURN(std::unique_ptr<LocalInputFile> file, LocalInputFile::Open(path));
  return MakeDecompressingStream(std::move(file), ResolveCompression(compression, path), path);
}

Result<std::unique_ptr<OutputStream>> CreateOutputFile(const std::string& path,
                                                       Compression compression, int level,
                                                       SyncMode sync) {
  SLUICE_ASSIGN_OR_RETURN(std::unique_ptr<LocalOutputFile> file,
                          LocalOutputFile::Create(path, sync));
  return MakeCompressingStream(std::move(file), ResolveCompression(compression, path), level, path);
}

bool HasGlobCharacters(std::string_view pattern) {
  return pattern.find_first_of("*?[") != std::string_view::npos;
}

Result<std::vector<std::string>> ExpandGlob(const std::string& pattern) {
  GlobResult result;
  std::string error_path;
  glob_errno = 0;
  glob_error_path = &error_path;
  int rc = ::glob(pattern.c_str(), 0, OnGlobError, &result.value);
  glob_error_path = nullptr;
  if (rc == GLOB_NOSPACE)
    return Internal("out of memory expanding a glob");
  std::vector<std::string> files;
  if (rc == 0) {
    for (size_t i = 0; i < result.value.gl_pathc; ++i) {
      const char* path = result.value.gl_pathv[i];
      struct stat info;
      if (::stat(path, &info) == 0 && S_ISREG(info.st_mode))
        files.emplace_back(path);
    }
  }
  if (files.empty()) {
    struct stat info;
    if (::stat(pattern.c_str(), &info) == 0 && S_ISDIR(info.st_mode)) {
      // A directory read as a source: say so, and how to read the files in it.
      std::string glob = pattern;
      if (!glob.empty() && glob.back() != '/')
        glob += '/';
      return InvalidConfig(fmt::format(
          "'{}' is a directory: give a file, or a glob of the files in it such as '{}*.csv'",
          pattern, glob));
    }
    if (glob_errno != 0) {
      return ErrnoStatus(fmt::format("No file matches '{}': cannot read", pattern), error_path,
                         glob_errno);
    }
    return NotFound(fmt::format("No file matches '{}'", pattern));
  }
  std::sort(files.begin(), files.end());
  return files;
}

Result<uint64_t> FileSize(const std::string& path) {
  struct stat info;
  if (::stat(path.c_str(), &info) != 0)
    return ErrnoStatus("Cannot stat", path, errno);
  return static_cast<uint64_t>(info.st_size);
}

bool PathExists(const std::string& path) {
  struct stat info;
  return ::lstat(path.c_str(), &info) == 0;
}

std::string ParentDirectory(std::string_view path) {
  size_t slash = path.find_last_of('/');
  if (slash == std::string_view::npos)
    return ".";
  while (slash > 0 && path[slash - 1] == '/')
    --slash;
  if (slash == 0)
    return "/";
  return std::string(path.substr(0, slash));
}

std::string_view BaseName(std::string_view path) {
  size_t slash = path.find_last_of('/');
  return slash == std::string_view::npos ? path : path.substr(slash + 1);
}

Status CreateDirectories(const std::string& directory) {
  struct stat info;
  if (::stat(directory.c_str(), &info) == 0) {
    if (S_ISDIR(info.st_mode))
      return Status::OK();
    return ErrnoStatus("Cannot create directory", directory, ENOTDIR);
  }
  std::string parent = ParentDirectory(directory);
  if (parent != directory && parent != "." && parent != "/") {
    SLUICE_RETURN_IF_ERROR(CreateDirectories(parent));
  }
  if (::mkdir(directory.c_str(), 0777) != 0 && errno != EEXIST) {
    return ErrnoStatus("Cannot create directory", directory, errno);
  }
  return Status::OK();
}

Status CheckDirectoryWritable(const std::string& directory) {
  std::string probe = directory + "/.sluice-write-probe-XXXXXX";
  int fd = ::mkostemp(probe.data(), O_CLOEXEC);
  if (fd < 0) {
    int error = errno;
    if (error == EACCES || error == EPERM || error == EROFS) {
      return PermissionDenied(
          fmt::format("Directory '{}' is not writable: {}", directory, std::strerror(error)));
    }
    return ErrnoStatus("Cannot create a file in directory", directory, error);
  }
  ::close(fd);
  ::unlink(probe.c_str());
  return Status::OK();
}

bool LooksWritable(const std::string& directory) {
  std::string current = directory;
  for (;;) {
    struct stat info;
    if (::stat(current.c_str(), &info) == 0) {
      return S_ISDIR(info.st_mode) && ::access(current.c_str(), W_OK | X_OK) == 0;
    }
    std::string parent = ParentDirectory(current);
    if (parent == current)
      return false;
    current = parent;
  }
}

Result<std::vector<std::string>> ListDirectory(const std::string& directory) {
  std::unique_ptr<DIR, DirCloser> dir(::opendir(directory.c_str()));
  if (!dir)
    return ErrnoStatus("Cannot list directory", directory, errno);
  std::vector<std::string> names;
  errno = 0;
  while (struct dirent* entry = ::readdir(dir.get())) {
    std::string_view name = entry->d_name;
    if (name != "." && name != "..")
      names.emplace_back(name);
  }
  if (errno != 0)
    return ErrnoStatus("Cannot list directory", directory, errno);
  return names;
}

Status RenameFile(const std::string& from, const std::string& to) {
  if (::rename(from.c_str(), to.c_str()) != 0) {
    return ErrnoStatus(fmt::format("Cannot rename '{}' to", from), to, errno);
  }
  return Status::OK();
}

Status RemoveFile(const std::string& path) {
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
    return ErrnoStatus("Cannot remove", path, errno);
  }
  return Status::OK();
}

Status SyncDirectory(const std::string& directory) {
  int fd = ::open(directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    return ErrnoStatus("Cannot open directory", directory, errno);
  Status status;
  if (::fsync(fd) != 0 && errno != EINVAL) {
    status = ErrnoStatus("Cannot sync directory", directory, errno);
  }
  ::close(fd);
  return status;
}

Status CopyFilePrefix(const std::string& from, const std::string& to, uint64_t length) {
  int in = ::open(from.c_str(), O_RDONLY | O_CLOEXEC);
  if (in < 0)
    return ErrnoStatus("Cannot open", from, errno);
  int out = ::open(to.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
  if (out < 0) {
    int error = errno;
    ::close(in);
    return ErrnoStatus("Cannot create", to, error);
  }
  Status status;
  uint64_t copied = 0;
  while (status.ok() && copied < length) {
    // In the kernel (a reflink on file systems that share extents); no bytes through user space.
    ssize_t moved = ::copy_file_range(in, nullptr, out, nullptr, length - copied, 0);
    if (moved < 0 && errno == EINTR)
      continue;
    if (moved < 0) {
      status = ErrnoStatus("Cannot copy into", to, errno);
    } else if (moved == 0) {
      status = DataError(fmt::format("'{}' holds {} bytes, fewer than the {} committed to it",
                                     from, copied, length));
    } else {
      copied += static_cast<uint64_t>(moved);
    }
  }
  if (status.ok() && ::fsync(out) != 0)
    status = ErrnoStatus("Cannot sync", to, errno);
  ::close(in);
  if (::close(out) != 0 && status.ok())
    status = ErrnoStatus("Cannot close", to, errno);
  return status;
}


}  // namespace sluice::io
