// The WebHDFS store: a table's files in an HDFS directory, through io::WebHdfsClient.
//
// A staged file is the hidden sibling ".<name>.<tag>.inprogress" (as in the local store), created
// empty by Stage() so that ListStaged() finds it at once. Writes gather in memory and go to HDFS
// as one APPEND per 8 MiB, and Commit() appends what is left: once the DataNode has answered an
// APPEND, HDFS has closed the file with those bytes, so the state {"file", "length"} (the
// sibling relative to the root, and its committed length) is durable. No upload stays open
// between writes: a writer that pauses (a stream waiting for rows) holds no connection that
// could time out, and a dead writer leaves a closed file behind.
//
// Resume() and Publish() cut the sibling back to the committed length with TRUNCATE. A file a
// dead writer still holds (its lease) or whose last block is being recovered is waited for, up
// to kRecoverySecs: TRUNCATE also asks the NameNode to recover an expired lease.
//
// WriteFile() writes a hidden temporary sibling and renames it over the file with HDFS's
// OVERWRITE rename, which replaces atomically: a reader sees the old or the new file.
//
// Thread-safety: small calls borrow a client from a pool (ClientPool); a staged file has a
// client of its own.
#include <fmt/core.h>

#include <algorithm>
#include <chrono>
#include <mutex>
#include <random>
#include <thread>

#include "io/client_pool.h"
#include "io/file_store.h"
#include "io/staged_names.h"
#include "io/webhdfs_client.h"

namespace sluice::io {

namespace {

using staged::DecodeSiblingState;
using staged::EncodeSiblingState;
using staged::FinalNameOfStaged;
using staged::JoinPath;
using staged::SiblingState;
using staged::StagedSibling;
using staged::StartsWith;

using Pool = ClientPool<WebHdfsClient, WebHdfsOptions>;

/// Bytes gathered before they go to HDFS in one APPEND.
constexpr size_t kAppendBytes = 8 << 20;
/// How long Resume() and Publish() wait for HDFS to release a file a dead writer left open
/// (its lease expires after 60 s) or to recover its last block after a TRUNCATE (seconds).
constexpr double kRecoverySecs = 90;

Result<bool> ExistsOn(WebHdfsClient& client, const std::string& full) {
  Result<HdfsFileStatus> status = client.GetFileStatus(full);
  if (status.ok())
    return true;
  if (status.status().code() == StatusCode::kNotFound)
    return false;
  return status.status();
}

/// True for the refusals that end once HDFS has recovered the file: another (dead) writer's
/// lease, a block under recovery.
bool WaitsForRecovery(const Status& status) {
  return status.code() == StatusCode::kUnavailable &&
         (status.message().find("AlreadyBeingCreatedException") != std::string::npos ||
          status.message().find("RecoveryInProgressException") != std::string::npos);
}

/// Cuts `full` back to `length` bytes, dropping what a crashed writer added after its commit,
/// and waits until the file takes appends again. A file shorter than `length` is a DataError.
Status CutBack(WebHdfsClient& client, const std::string& full, uint64_t length) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(kRecoverySecs);
  auto seconds_left = [&] {
    return std::max(
        1.0, std::chrono::duration<double>(deadline - std::chrono::steady_clock::now()).count());
  };
  while (true) {
    Result<bool> done_at_once = client.Truncate(full, length);
    if (done_at_once.ok()) {
      // false: the last block is being recovered; an append would fail until it is.
      return *done_at_once ? Status::OK() : client.WaitUntilClosed(full, seconds_left());
    }
    Status status = std::move(done_at_once).status();
    if (WaitsForRecovery(status) && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
      continue;
    }
    if (status.code() == StatusCode::kNotFound || status.IsTransient())
      return status;
    // TRUNCATE refuses a length past the end: say that the committed bytes are missing.
    Result<HdfsFileStatus> file = client.GetFileStatus(full);
    if (file.ok() && file->length < length) {
      return DataError(
          fmt::format("'{}' holds {} bytes, fewer than its {} committed", full, file->length,
                      length));
    }
    return status;
  }
}

class WebHdfsStagedFile final : public StagedFile {
 public:
  WebHdfsStagedFile(std::unique_ptr<WebHdfsClient> client, std::string full,
                    std::string relative, uint64_t length)
      : client_(std::move(client)),
        full_(std::move(full)),
        relative_(std::move(relative)),
        length_(length) {}

  Status Write(std::string_view data) override {
    SLUICE_RETURN_IF_ERROR(CheckUsable());
    buffer_.append(data);
    length_ += data.size();
    if (buffer_.size() >= kAppendBytes)
      return Flush();
    return Status::OK();
  }

  uint64_t length() const override { return length_; }

  Result<std::string> Commit() override {
    SLUICE_RETURN_IF_ERROR(CheckUsable());
    SLUICE_RETURN_IF_ERROR(Flush());
    return EncodeSiblingState(SiblingState{relative_, length_});
  }

  /// Drops the bytes written since the last commit: they would be cut off by any Resume() or
  /// Publish() anyway.
  Status Close() override {
    client_.reset();
    buffer_.clear();
    return Status::OK();
  }

 private:
  Status CheckUsable() const {
    if (client_ == nullptr)
      return Internal(fmt::format("write to '{}' after Close", full_));
    // After a failed APPEND the file may hold part of the buffer: only a Resume() from the last
    // commit knows where it stands.
    if (!failure_.ok())
      return failure_.WithContext("an earlier append failed; resume from the last commit");
    return Status::OK();
  }

  Status Flush() {
    if (buffer_.empty())
      return Status::OK();
    Status appended = [&]() -> Status {
      SLUICE_ASSIGN_OR_RETURN(std::unique_ptr<OutputStream> stream, client_->Append(full_));
      SLUICE_RETURN_IF_ERROR(stream->Write(buffer_));
      return stream->Close();
    }();
    if (!appended.ok()) {
      failure_ = appended;
      return appended;
    }
    buffer_.clear();
    return Status::OK();
  }

  std::unique_ptr<WebHdfsClient> client_;
  std::string full_;      // the sibling's HDFS path
  std::string relative_;  // the sibling relative to the store's root, as the state names it
  uint64_t length_;
  std::string buffer_;  // written, not yet appended
  Status failure_;
};

class WebHdfsFileStore final : public FileStore {
 public:
  WebHdfsFileStore(WebHdfsOptions options, std::string root)
      : pool_(std::move(options)), root_(std::move(root)) {}

  Result<std::unique_ptr<StagedFile>> Stage(const std::string& path,
                                            std::string_view tag) override {
    SLUICE_ASSIGN_OR_RETURN(std::unique_ptr<WebHdfsClient> client, pool_.OpenClient());
    std::string relative = StagedSibling(path, tag);
    std::string full = Full(relative);
    // Created empty now (with its parents), so that a crash before the first commit leaves a
    // file ListStaged() finds. A sibling of an earlier attempt with the same tag is replaced.
    SLUICE_ASSIGN_OR_RETURN(std::unique_ptr<OutputStream> created,
                            client->Create(full, /*overwrite=*/true));
    SLUICE_RETURN_IF_ERROR(created->Close());
    return std::unique_ptr<StagedFile>(
        std::make_unique<WebHdfsStagedFile>(std::move(client), full, std::move(relative), 0));
  }

  Result<std::unique_ptr<StagedFile>> Resume(const std::string& path,
                                             std::string_view state) override {
    SLUICE_ASSIGN_OR_RETURN(SiblingState staged, DecodeSiblingState(state, "HDFS"));
    SLUICE_ASSIGN_OR_RETURN(std::unique_ptr<WebHdfsClient> client, pool_.OpenClient());
    std::string full = Full(staged.file);
    SLUICE_RETURN_IF_ERROR(CutBack(*client, full, staged.length)
                               .WithContext(fmt::format("Cannot resume '{}'", Full(path))));
    return std::unique_ptr<StagedFile>(std::make_unique<WebHdfsStagedFile>(
        std::move(client), std::move(full), staged.file, staged.length));
  }

  Status Publish(const std::string& path, std::string_view state) override {
    SLUICE_ASSIGN_OR_RETURN(SiblingState staged, DecodeSiblingState(state, "HDFS"));
    SLUICE_ASSIGN_OR_RETURN(Pool::Lease client, pool_.Borrow());
    std::string from = Full(staged.file);
    std::string to = Full(path);
    SLUICE_ASSIGN_OR_RETURN(bool staged_exists, ExistsOn(*client, from));
    SLUICE_ASSIGN_OR_RETURN(bool target_exists, ExistsOn(*client, to));
    if (target_exists) {
      if (!staged_exists)
        return Status::OK();  // published by an earlier attempt
      return Conflict(fmt::format("Cannot publish '{}': the file exists", to));
    }
    if (!staged_exists)
      return NotFound(fmt::format("Cannot publish '{}': its staged file '{}' is gone", to, from));
    // Bytes a crashed writer added after the commit are not part of the file.
    SLUICE_RETURN_IF_ERROR(
        CutBack(*client, from, staged.length).WithContext(fmt::format("Cannot publish '{}'", to)));
    return client->Rename(from, to).WithContext(fmt::format("Cannot publish '{}'", to));
  }

  Result<std::string> Fork(const std::string& path, std::string_view state,
                           std::string_view tag) override {
    SLUICE_ASSIGN_OR_RETURN(SiblingState staged, DecodeSiblingState(state, "HDFS"));
    if (StagedSibling(path, tag) == staged.file)
      return std::string(state);  // forked already (a retried takeover)
    // The committed bytes, read back a chunk at a time into a sibling of this run's.
    SLUICE_ASSIGN_OR_RETURN(std::unique_ptr<StagedFile> copy, Stage(path, tag));
    SLUICE_ASSIGN_OR_RETURN(Pool::Lease client, pool_.Borrow());
    constexpr uint64_t kChunk = 8 << 20;
    for (uint64_t offset = 0; offset < staged.length;) {
      uint64_t want = std::min(kChunk, staged.length - offset);
      SLUICE_ASSIGN_OR_RETURN(std::string bytes,
                              client->Read(Full(staged.file), offset, want));
      if (bytes.empty()) {
        return DataError(fmt::format("'{}' holds {} bytes, fewer than the {} committed to it",
                                     Full(staged.file), offset, staged.length));
      }
      SLUICE_RETURN_IF_ERROR(copy->Write(bytes));
      offset += bytes.size();
    }
    SLUICE_ASSIGN_OR_RETURN(std::string forked, copy->Commit());
    SLUICE_RETURN_IF_ERROR(copy->Close());
    return forked;
  }

  Status Discard(const std::string& path, std::string_view state) override {
    SLUICE_ASSIGN_OR_RETURN(SiblingState staged, DecodeSiblingState(state, "HDFS"));
    SLUICE_ASSIGN_OR_RETURN(Pool::Lease client, pool_.Borrow());
    return client->Delete(Full(staged.file));
  }

  Result<std::vector<StagedEntry>> ListStaged(const std::string& directory,
                                              std::string_view name_prefix) override {
    SLUICE_ASSIGN_OR_RETURN(Pool::Lease client, pool_.Borrow());
    std::vector<StagedEntry> found;
    std::vector<std::string> pending = {directory};  // relative to the root
    while (!pending.empty()) {
      std::string relative = std::move(pending.back());
      pending.pop_back();
      Result<std::vector<HdfsFileStatus>> entries = client->ListDirectory(Full(relative));
      if (!entries.ok() && entries.status().code() == StatusCode::kNotFound)
        continue;  // a missing directory holds nothing (or went away meanwhile)
      SLUICE_RETURN_IF_ERROR(entries.status());
      for (const HdfsFileStatus& entry : *entries) {
        if (entry.is_directory) {
          pending.push_back(JoinPath(relative, entry.name));
          continue;
        }
        std::optional<std::string> final_name = FinalNameOfStaged(entry.name);
        if (!final_name || !StartsWith(*final_name, name_prefix))
          continue;
        found.push_back(StagedEntry{
            JoinPath(relative, *final_name),
            EncodeSiblingState(SiblingState{JoinPath(relative, entry.name), entry.length})});
      }
    }
    std::sort(found.begin(), found.end(),
              [](const StagedEntry& a, const StagedEntry& b) { return a.path < b.path; });
    return found;
  }

  Status WriteFile(const std::string& path, std::string_view content) override {
    SLUICE_ASSIGN_OR_RETURN(Pool::Lease client, pool_.Borrow());
    std::string target = Full(path);
    // A temporary name of its own per call: two writers of one file never share it.
    std::string temp = Full(StagedSibling(path, fmt::format("tmp{:016x}", RandomTag())));
    Status written = [&]() -> Status {
      SLUICE_ASSIGN_OR_RETURN(std::unique_ptr<OutputStream> out,
                              client->Create(temp, /*overwrite=*/true));
      SLUICE_RETURN_IF_ERROR(out->Write(content));
      SLUICE_RETURN_IF_ERROR(out->Close());
      return client->RenameReplacing(temp, target);
    }();
    if (!written.ok()) {
      (void)client->Delete(temp);  // best effort: ListStaged() shows a leftover anyway
      return written.WithContext(fmt::format("Cannot write '{}'", target));
    }
    return Status::OK();
  }

  Result<std::string> ReadFile(const std::string& path) override {
    SLUICE_ASSIGN_OR_RETURN(Pool::Lease client, pool_.Borrow());
    return client->Read(Full(path), 0);
  }

  Result<std::string> ReadRange(const std::string& path, uint64_t offset,
                                uint64_t length) override {
    SLUICE_ASSIGN_OR_RETURN(Pool::Lease client, pool_.Borrow());
    return client->Read(Full(path), offset, length);
  }

  Result<uint64_t> Size(const std::string& path) override {
    SLUICE_ASSIGN_OR_RETURN(Pool::Lease client, pool_.Borrow());
    SLUICE_ASSIGN_OR_RETURN(HdfsFileStatus status, client->GetFileStatus(Full(path)));
    if (status.is_directory)
      return IoError(fmt::format("'{}' is a directory, not a file", Uri(path)));
    return status.length;
  }

  Result<std::vector<std::string>> List(const std::string& directory) override {
    SLUICE_ASSIGN_OR_RETURN(Pool::Lease client, pool_.Borrow());
    std::vector<std::string> names;
    Result<std::vector<HdfsFileStatus>> entries = client->ListDirectory(Full(directory));
    if (!entries.ok() && entries.status().code() == StatusCode::kNotFound)
      return names;
    SLUICE_RETURN_IF_ERROR(entries.status());
    for (const HdfsFileStatus& entry : *entries) {
      if (FinalNameOfStaged(entry.name))
        continue;
      names.push_back(entry.is_directory ? entry.name + "/" : entry.name);
    }
    std::sort(names.begin(), names.end());
    return names;
  }

  Status Delete(const std::string& path) override {
    SLUICE_ASSIGN_OR_RETURN(Pool::Lease client, pool_.Borrow());
    return client->Delete(Full(path));
  }

  Result<bool> Exists(const std::string& path) override {
    SLUICE_ASSIGN_OR_RETURN(Pool::Lease client, pool_.Borrow());
    return ExistsOn(*client, Full(path));
  }

  std::string Uri(const std::string& path) const override {
    // http://host:port -> webhdfs://host:port (swebhdfs:// for https, as Hadoop names them).
    std::string_view url = pool_.options().url;
    bool tls = StartsWith(url, "https://");
    std::string_view authority = url.substr(url.find("://") + 3);
    return fmt::format("{}://{}{}", tls ? "swebhdfs" : "webhdfs", authority, Full(path));
  }

 private:
  /// The HDFS path of `path` (relative to the root).
  std::string Full(std::string_view path) const {
    if (path.empty())
      return root_;
    return root_ == "/" ? fmt::format("/{}", path) : JoinPath(root_, path);
  }

  uint64_t RandomTag() {
    std::lock_guard<std::mutex> lock(random_mutex_);
    return random_();
  }

  Pool pool_;
  std::string root_;  // absolute, without a trailing '/' (but "/" itself)
  std::mutex random_mutex_;
  std::mt19937_64 random_{std::random_device{}()};
};

}  // namespace

Result<std::unique_ptr<FileStore>> MakeWebHdfsFileStore(std::string url, std::string root,
                                                        std::string user, HttpOptions http) {
  WebHdfsOptions options{.url = std::move(url), .user = std::move(user), .http = http};
  SLUICE_RETURN_IF_ERROR(options.Validate());
  while (options.url.ends_with('/'))
    options.url.pop_back();
  if (root.empty() || root.front() != '/')
    return InvalidConfig(fmt::format("an HDFS store's root must be an absolute path: '{}'", root));
  while (root.size() > 1 && root.back() == '/')
    root.pop_back();
  return std::unique_ptr<FileStore>(
      std::make_unique<WebHdfsFileStore>(std::move(options), std::move(root)));
}

}  // namespace sluice::io
