// OpenFileStore (which store a location names) and the local store.
#include "io/file_store.h"

#include <fcntl.h>
#include <fnmatch.h>
#include <fmt/core.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <filesystem>
#include <cstring>

#include "io/file_system.h"
#include "io/staged_names.h"

namespace sluice::io {

namespace {

using staged::DecodeSiblingState;
using staged::EncodeSiblingState;
using staged::FinalNameOfStaged;
using staged::JoinPath;
using staged::SiblingState;
using staged::StagedSibling;
using staged::StartsWith;

class LocalStagedFile final : public StagedFile {
 public:
  LocalStagedFile(std::string root, std::string relative, int fd, uint64_t length,
                  bool new_file)
      : root_(std::move(root)),
        relative_(std::move(relative)),
        fd_(fd),
        length_(length),
        synced_directory_(!new_file) {}
  ~LocalStagedFile() override {
    if (fd_ >= 0)
      ::close(fd_);
  }

  Status Write(std::string_view data) override {
    if (fd_ < 0)
      return Internal(fmt::format("write to '{}' after Close", Path()));
    buffer_.append(data);
    length_ += data.size();
    if (buffer_.size() >= kBufferBytes)
      return FlushBuffer();
    return Status::OK();
  }

  uint64_t length() const override { return length_; }

  Result<std::string> Commit() override {
    SLUICE_RETURN_IF_ERROR(FlushBuffer());
    if (::fdatasync(fd_) != 0)
      return ErrnoStatus("Cannot sync", Path(), errno);
    if (!synced_directory_) {
      // The new file's directory entry must survive a power loss before a manifest names it.
      SLUICE_RETURN_IF_ERROR(SyncDirectory(ParentDirectory(Path())));
      synced_directory_ = true;
    }
    return EncodeSiblingState(SiblingState{relative_, length_});
  }

  Status Close() override {
    if (fd_ < 0)
      return Status::OK();
    Status flushed = FlushBuffer();
    ::close(fd_);
    fd_ = -1;
    return flushed;
  }

 private:
  static constexpr size_t kBufferBytes = 1 << 20;
  std::string Path() const { return JoinPath(root_, relative_); }

  Status FlushBuffer() {
    size_t done = 0;
    while (done < buffer_.size()) {
      ssize_t wrote = ::write(fd_, buffer_.data() + done, buffer_.size() - done);
      if (wrote < 0) {
        if (errno == EINTR)
          continue;
        return ErrnoStatus("Cannot write", Path(), errno);
      }
      done += static_cast<size_t>(wrote);
    }
    buffer_.clear();
    return Status::OK();
  }

  std::string root_;
  std::string relative_;
  int fd_;
  uint64_t length_;
  bool synced_directory_;
  std::string buffer_;
};

class LocalFileStore final : public FileStore {
 public:
  explicit LocalFileStore(std::string root) : root_(std::move(root)) {}

  Result<std::unique_ptr<StagedFile>> Stage(const std::string& path,
                                            std::string_view tag) override {
    std::string relative = StagedSibling(path, tag);
    std::string full = Full(relative);
    SLUICE_RETURN_IF_ERROR(CreateDirectories(ParentDirectory(full)));
    int fd = ::open(full.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
    if (fd < 0)
      return ErrnoStatus("Cannot create", full, errno);
    return std::unique_ptr<StagedFile>(
        std::make_unique<LocalStagedFile>(root_, std::move(relative), fd, 0, true));
  }

  Result<std::unique_ptr<StagedFile>> Resume(const std::string& path,
                                             std::string_view state) override {
    SLUICE_ASSIGN_OR_RETURN(SiblingState staged, DecodeSiblingState(state, "local"));
    std::string full = Full(staged.file);
    int fd = ::open(full.c_str(), O_WRONLY | O_CLOEXEC);
    if (fd < 0)
      return ErrnoStatus("Cannot open", full, errno);
    struct stat info;
    if (::fstat(fd, &info) != 0 || static_cast<uint64_t>(info.st_size) < staged.length) {
      ::close(fd);
      return DataError(fmt::format("'{}' holds fewer than its {} committed bytes", full,
                                   staged.length));
    }
    if (::ftruncate(fd, static_cast<off_t>(staged.length)) != 0 ||
        ::lseek(fd, static_cast<off_t>(staged.length), SEEK_SET) < 0) {
      int error = errno;
      ::close(fd);
      return ErrnoStatus("Cannot cut back", full, error);
    }
    return std::unique_ptr<StagedFile>(
        std::make_unique<LocalStagedFile>(root_, staged.file, fd, staged.length, false));
  }

  Status Publish(const std::string& path, std::string_view state) override {
    SLUICE_ASSIGN_OR_RETURN(SiblingState staged, DecodeSiblingState(state, "local"));
    std::string from = Full(staged.file);
    std::string to = Full(path);
    bool staged_exists = PathExists(from);
    if (PathExists(to)) {
      if (!staged_exists)
        return Status::OK();  // published by an earlier attempt
      return Conflict(fmt::format("Cannot publish '{}': the file exists", to));
    }
    if (!staged_exists)
      return NotFound(fmt::format("Cannot publish '{}': its staged file '{}' is gone", to, from));
    // Bytes a crashed writer added after the commit are not part of the file.
    if (::truncate(from.c_str(), static_cast<off_t>(staged.length)) != 0)
      return ErrnoStatus("Cannot cut back", from, errno);
    SLUICE_RETURN_IF_ERROR(RenameFile(from, to));
    return SyncDirectory(ParentDirectory(to));
  }

  Result<std::string> Fork(const std::string& path, std::string_view state,
                           std::string_view tag) override {
    SLUICE_ASSIGN_OR_RETURN(SiblingState staged, DecodeSiblingState(state, "local"));
    std::string relative = StagedSibling(path, tag);
    if (relative == staged.file)
      return std::string(state);  // forked already (a retried takeover)
    SLUICE_RETURN_IF_ERROR(CopyFilePrefix(Full(staged.file), Full(relative), staged.length));
    SLUICE_RETURN_IF_ERROR(SyncDirectory(ParentDirectory(Full(relative))));
    return EncodeSiblingState(SiblingState{relative, staged.length});
  }

  Status Discard(const std::string& path, std::string_view state) override {
    SLUICE_ASSIGN_OR_RETURN(SiblingState staged, DecodeSiblingState(state, "local"));
    return RemoveFile(Full(staged.file));
  }

  Result<std::vector<StagedEntry>> ListStaged(const std::string& directory,
                                              std::string_view name_prefix) override {
    std::vector<StagedEntry> found;
    std::error_code error;
    std::filesystem::path start = Full(directory);
    if (!std::filesystem::is_directory(start, error))
      return found;
    for (auto it = std::filesystem::recursive_directory_iterator(start, error);
         !error && it != std::filesystem::recursive_directory_iterator(); it.increment(error)) {
      if (!it->is_regular_file(error))
        continue;
      std::string name = it->path().filename().string();
      std::optional<std::string> final_name = FinalNameOfStaged(name);
      if (!final_name || !StartsWith(*final_name, name_prefix))
        continue;
      std::string relative = std::filesystem::relative(it->path(), root_, error).string();
      std::string parent = ParentDirectory(relative);
      std::string final_path = parent == "." ? *final_name : JoinPath(parent, *final_name);
      uint64_t size = it->file_size(error);
      found.push_back(StagedEntry{final_path, EncodeSiblingState(SiblingState{relative, size})});
    }
    if (error)
      return ErrnoStatus("Cannot list", start.string(), error.value());
    std::sort(found.begin(), found.end(),
              [](const StagedEntry& a, const StagedEntry& b) { return a.path < b.path; });
    return found;
  }

  Status WriteFile(const std::string& path, std::string_view content) override {
    std::string full = Full(path);
    SLUICE_RETURN_IF_ERROR(CreateDirectories(ParentDirectory(full)));
    // A temporary name of its own per call: two writers of one file never share it.
    static std::atomic<uint64_t> calls{0};
    std::string temp = StagedSibling(full, fmt::format("tmp{}-{}", ::getpid(), calls++));
    {
      SLUICE_ASSIGN_OR_RETURN(std::unique_ptr<OutputStream> out,
                              CreateOutputFile(temp, Compression::kNone, 0,
                                               SyncMode::kFsyncOnClose));
      SLUICE_RETURN_IF_ERROR(out->Write(content));
      SLUICE_RETURN_IF_ERROR(out->Close());
    }
    SLUICE_RETURN_IF_ERROR(RenameFile(temp, full));
    return SyncDirectory(ParentDirectory(full));
  }

  Result<std::string> ReadFile(const std::string& path) override {
    SLUICE_ASSIGN_OR_RETURN(std::unique_ptr<InputStream> in,
                            OpenInputFile(Full(path), Compression::kNone));
    std::string content;
    char buffer[65536];
    for (;;) {
      SLUICE_ASSIGN_OR_RETURN(size_t got, in->Read(buffer, sizeof(buffer)));
      if (got == 0)
        break;
      content.append(buffer, got);
    }
    return content;
  }

  Result<std::string> ReadRange(const std::string& path, uint64_t offset,
                                uint64_t length) override {
    std::string full = Full(path);
    int fd = ::open(full.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0)
      return ErrnoStatus("Cannot open", full, errno);
    std::string bytes(length, '\0');
    uint64_t got = 0;
    while (got < length) {
      ssize_t n = ::pread(fd, bytes.data() + got, length - got, static_cast<off_t>(offset + got));
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0) {
        int error = errno;
        ::close(fd);
        return ErrnoStatus("Cannot read", full, error);
      }
      if (n == 0)
        break;
      got += static_cast<uint64_t>(n);
    }
    ::close(fd);
    bytes.resize(got);
    return bytes;
  }

  Result<uint64_t> Size(const std::string& path) override { return FileSize(Full(path)); }

  Result<std::vector<std::string>> List(const std::string& directory) override {
    std::string full = Full(directory);
    std::vector<std::string> names;
    if (!PathExists(full))
      return names;
    SLUICE_ASSIGN_OR_RETURN(std::vector<std::string> entries, ListDirectory(full));
    for (std::string& name : entries) {
      if (FinalNameOfStaged(name))
        continue;
      struct stat info;
      if (::stat(JoinPath(full, name).c_str(), &info) == 0 && S_ISDIR(info.st_mode))
        name += '/';
      names.push_back(std::move(name));
    }
    std::sort(names.begin(), names.end());
    return names;
  }

  Status Delete(const std::string& path) override { return RemoveFile(Full(path)); }

  Result<bool> Exists(const std::string& path) override { return PathExists(Full(path)); }

  std::string Uri(const std::string& path) const override {
    std::error_code error;
    std::filesystem::path absolute = std::filesystem::absolute(Full(path), error);
    return (error ? std::filesystem::path(Full(path)) : absolute.lexically_normal()).string();
  }

 private:
  std::string Full(std::string_view path) const { return JoinPath(root_, path); }

  std::string root_;
};

}  // namespace

namespace {

// A store's file read front to back, a chunk per request.
class StoreInputStream final : public InputStream {
 public:
  StoreInputStream(FileStore* store, std::string path, uint64_t size, uint64_t chunk)
      : store_(store), path_(std::move(path)), size_(size), chunk_(chunk) {}

  Result<size_t> Read(char* buffer, size_t n) override {
    if (begin_ == chunk_bytes_.size()) {
      if (fetched_ >= size_)
        return size_t{0};
      SLUICE_ASSIGN_OR_RETURN(chunk_bytes_,
                              store_->ReadRange(path_, fetched_, std::min(chunk_, size_ - fetched_)));
      if (chunk_bytes_.empty()) {
        return DataError(fmt::format("'{}' ended at {} bytes, before its {}",
                                     store_->Uri(path_), fetched_, size_));
      }
      fetched_ += chunk_bytes_.size();
      begin_ = 0;
    }
    size_t copied = std::min(n, chunk_bytes_.size() - begin_);
    std::memcpy(buffer, chunk_bytes_.data() + begin_, copied);
    begin_ += copied;
    consumed_ += copied;
    return copied;
  }

  Status Skip(uint64_t n) override {
    uint64_t in_chunk = std::min<uint64_t>(n, chunk_bytes_.size() - begin_);
    begin_ += in_chunk;
    consumed_ += in_chunk;
    n -= in_chunk;
    if (n == 0)
      return Status::OK();
    // Past the chunk: no need to fetch what is skipped.
    if (fetched_ + n > size_) {
      return DataError(fmt::format("Cannot skip to byte {} of '{}': it holds {}",
                                   fetched_ + n, store_->Uri(path_), size_));
    }
    fetched_ += n;
    consumed_ += n;
    return Status::OK();
  }

  uint64_t source_bytes_read() const override { return consumed_; }

 private:
  FileStore* store_;
  std::string path_;
  uint64_t size_;
  uint64_t chunk_;
  std::string chunk_bytes_;
  size_t begin_ = 0;
  uint64_t fetched_ = 0;   // bytes of the file fetched (or skipped) so far
  uint64_t consumed_ = 0;  // bytes handed out or skipped
};

bool GlobMatches(const std::string& pattern, const std::string& name) {
  return ::fnmatch(pattern.c_str(), name.c_str(), FNM_PERIOD) == 0;
}

Status ExpandComponents(FileStore* store, const std::vector<std::string>& components,
                        size_t index, const std::string& directory,
                        std::vector<std::string>* found) {
  const std::string& component = components[index];
  bool last = index + 1 == components.size();
  if (!HasGlobCharacters(component)) {
    std::string path = JoinPath(directory, component);
    if (!last)
      return ExpandComponents(store, components, index + 1, path, found);
    SLUICE_ASSIGN_OR_RETURN(bool exists, store->Exists(path));
    if (exists)
      found->push_back(path);
    return Status::OK();
  }
  SLUICE_ASSIGN_OR_RETURN(std::vector<std::string> names, store->List(directory));
  for (std::string name : names) {
    bool is_directory = !name.empty() && name.back() == '/';
    if (is_directory)
      name.pop_back();
    // Hidden and underscore names (staged files, _SUCCESS, _sluice) only when asked for.
    if ((name[0] == '_' && component[0] != '_') || !GlobMatches(component, name))
      continue;
    if (last && !is_directory)
      found->push_back(JoinPath(directory, name));
    else if (!last && is_directory)
      SLUICE_RETURN_IF_ERROR(ExpandComponents(store, components, index + 1,
                                              JoinPath(directory, name), found));
  }
  return Status::OK();
}

}  // namespace

Result<std::unique_ptr<InputStream>> OpenStoreInput(FileStore* store, const std::string& path,
                                                    Compression compression, uint64_t chunk) {
  SLUICE_ASSIGN_OR_RETURN(uint64_t size, store->Size(path));
  auto raw = std::make_unique<StoreInputStream>(store, path, size, chunk);
  return MakeDecompressingStream(std::move(raw), ResolveCompression(compression, path),
                                 store->Uri(path));
}

Result<std::vector<std::string>> ExpandStoreGlob(FileStore* store, const std::string& pattern) {
  std::vector<std::string> components;
  size_t start = 0;
  while (start <= pattern.size()) {
    size_t slash = pattern.find('/', start);
    if (slash == std::string::npos)
      slash = pattern.size();
    if (slash > start)
      components.push_back(pattern.substr(start, slash - start));
    start = slash + 1;
  }
  std::vector<std::string> found;
  if (!components.empty())
    SLUICE_RETURN_IF_ERROR(ExpandComponents(store, components, 0, "", &found));
  if (found.empty())
    return NotFound(fmt::format("No file matches '{}'", store->Uri(pattern)));
  std::sort(found.begin(), found.end());
  return found;
}

std::optional<std::pair<std::string, std::string>> SplitStoreUrl(std::string_view url) {
  for (std::string_view scheme : {"webhdfs://", "s3://", "s3a://"}) {
    if (!StartsWith(url, scheme))
      continue;
    std::string_view rest = url.substr(scheme.size());
    size_t slash = rest.find('/');
    std::string authority(rest.substr(0, slash));
    std::string path = slash == std::string_view::npos ? "" : std::string(rest.substr(slash + 1));
    // WebHDFS stores are rooted at "/", S3 ones at the bucket.
    std::string location = fmt::format("{}{}{}", scheme, authority,
                                       scheme == "webhdfs://" ? "/" : "");
    return std::make_pair(location, path);
  }
  return std::nullopt;
}

std::unique_ptr<FileStore> MakeLocalFileStore(std::string directory) {
  while (directory.size() > 1 && directory.back() == '/')
    directory.pop_back();
  return std::make_unique<LocalFileStore>(std::move(directory));
}

Result<std::unique_ptr<FileStore>> OpenFileStore(const FileStoreOptions& options) {
  std::string_view location = options.location;
  if (location.empty())
    return InvalidConfig("the store's location is empty");
  if (StartsWith(location, "file://"))
    return MakeLocalFileStore(std::string(location.substr(7)));
  if (StartsWith(location, "webhdfs://")) {
    // webhdfs://host:port/path: the NameNode's HTTP address, then the table's directory.
    std::string_view rest = location.substr(10);
    size_t slash = rest.find('/');
    std::string authority(rest.substr(0, slash));
    std::string root = slash == std::string_view::npos ? "/" : std::string(rest.substr(slash));
    if (authority.empty()) {
      return InvalidConfig(
          fmt::format("'{}' names no NameNode: write webhdfs://host:port/path", location));
    }
    if (options.hdfs_user.empty())
      return InvalidConfig("an HDFS location needs hdfs_user (the user HDFS requests act as)");
    return MakeWebHdfsFileStore("http://" + authority, std::move(root), options.hdfs_user,
                                options.http);
  }
  if (StartsWith(location, "s3://") || StartsWith(location, "s3a://")) {
    std::string_view rest = location.substr(location.find("://") + 3);
    size_t slash = rest.find('/');
    std::string bucket(rest.substr(0, slash));
    std::string prefix = slash == std::string_view::npos ? "" : std::string(rest.substr(slash + 1));
    while (!prefix.empty() && prefix.back() == '/')
      prefix.pop_back();
    if (bucket.empty())
      return InvalidConfig(fmt::format("'{}' names no bucket: write s3://bucket/prefix", location));
    return MakeS3FileStore(options, std::move(bucket), std::move(prefix));
  }
  if (location.find("://") != std::string_view::npos) {
    return InvalidConfig(fmt::format(
        "'{}': the store must be a local directory, webhdfs://host:port/path or "
        "s3://bucket/prefix (hdfs:// RPC is not spoken: use the NameNode's HTTP port with "
        "webhdfs://)",
        location));
  }
  return MakeLocalFileStore(std::string(location));
}

}  // namespace sluice::io
