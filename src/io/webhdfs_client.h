// WebHdfsClient: files on HDFS through the NameNode's WebHDFS REST API (/webhdfs/v1), the way
// Sluice writes warehouse files there without a JVM or libhdfs.
//
// Writing is WebHDFS's two steps: the NameNode answers CREATE or APPEND with a 307 redirect to a
// DataNode, which then takes the bytes; Create() and Append() return an OutputStream that streams
// them (chunked) while the caller writes. Reading follows OPEN's redirect the same way.
// Authentication is HDFS's "simple" kind: the user name travels as `user.name=`. No retries:
// transient errors (Unavailable) go back to the caller, whose job-level retry resumes from a
// checkpoint (runtime/retry.h); io cannot depend on runtime.
//
// Errors name the operation and the path, and map from HDFS's RemoteException (or the HTTP
// status when there is none) in one function:
//   FileNotFoundException, 404                       NotFound
//   AccessControlException, SecurityException, 401   PermissionDenied
//   FileAlreadyExistsException                       Conflict
//   RecoveryInProgressException, AlreadyBeingCreatedException, RetriableException,
//   StandbyException, SafeModeException, 503, other 5xx, no response   Unavailable
//   anything else                                    IoError
// (HDFS answers most IOExceptions with 403, so the exception's name decides before the status.)
//
// Thread-safety: none; one client per thread (each keeps one connection to the NameNode).
// Streams are independent of the client and may outlive it.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/result.h"
#include "io/http_session.h"
#include "io/stream.h"

namespace sluice::io {

struct WebHdfsOptions {
  /// The NameNode's HTTP address, e.g. http://namenode:9870 (no path; /webhdfs/v1 is added).
  std::string url;
  /// The HDFS user the requests act as (`user.name=`); required.
  std::string user;
  HttpOptions http;

  Status Validate() const;
};

/// What GETFILESTATUS and LISTSTATUS report of one file or directory.
struct HdfsFileStatus {
  std::string name;  // the entry's name in its directory; "" for GetFileStatus
  bool is_directory = false;
  uint64_t length = 0;                 // bytes; 0 for directories
  int64_t modification_time_ms = 0;   // since the epoch
  uint64_t block_size = 0;
  int replication = 0;
};

class WebHdfsClient {
 public:
  /// Checks the options; connects on first use.
  static Result<WebHdfsClient> Open(WebHdfsOptions options);

  WebHdfsClient(WebHdfsClient&&) noexcept;
  WebHdfsClient& operator=(WebHdfsClient&&) noexcept;
  ~WebHdfsClient();

  /// mkdir -p; an existing directory is fine.
  Status MakeDirectories(const std::string& path);

  /// Creates `path` (and its missing parents) and returns the stream its bytes go to. Without
  /// `overwrite`, an existing file is a Conflict (checked here; should another writer create it
  /// meanwhile, the DataNode refuses and Close() reports the Conflict). The DataNode creates the
  /// file when the stream starts; Close() returns once it has all the bytes and closed the file.
  /// Destroying the stream without Close() drops the connection: the file may keep part of the
  /// bytes; an aborting writer deletes it.
  Result<std::unique_ptr<OutputStream>> Create(const std::string& path, bool overwrite);

  /// Opens the existing file `path` to add bytes at its end, as Create() does.
  Result<std::unique_ptr<OutputStream>> Append(const std::string& path);

  /// Reads `length` bytes (nullopt: to the end) from `offset`. Fewer at the end of the file.
  Result<std::string> Read(const std::string& path, uint64_t offset,
                           std::optional<uint64_t> length = std::nullopt);

  Result<HdfsFileStatus> GetFileStatus(const std::string& path);

  /// The entries of directory `path` in HDFS's order (by name). A file lists itself.
  Result<std::vector<HdfsFileStatus>> ListDirectory(const std::string& path);

  /// Renames `from` to `to` (whose parent must exist). HDFS does not replace an existing file
  /// this way: that is a Conflict, as is any other refusal HDFS gives no reason for; a missing
  /// `from` is NotFound.
  Status Rename(const std::string& from, const std::string& to);

  /// Renames the file `from` to `to`, atomically replacing a file there (HDFS's rename with
  /// OVERWRITE: a reader sees the old file or the new one, never neither). A missing `from` is
  /// NotFound; a directory at `to` is refused.
  Status RenameReplacing(const std::string& from, const std::string& to);

  /// Deletes `path`, with `recursive` a non-empty directory too. A path that is already gone is
  /// fine.
  Status Delete(const std::string& path, bool recursive = false);

  /// Cuts `path` back to `new_length` bytes (e.g. a file's committed length after a crash).
  /// Returns true when done at once; false when HDFS still recovers the last block (a length
  /// not on a block boundary, a few seconds: the DataNode's next heartbeat): until then an
  /// append fails (Unavailable, at its Write or Close, with nothing appended), so call
  /// WaitUntilClosed() first.
  Result<bool> Truncate(const std::string& path, uint64_t new_length);

  /// Waits until no block of `path` is under construction or recovery (after a Truncate that
  /// returned false, or a writer that died), polling every 100 ms; Unavailable after
  /// `timeout_secs`. Uses GET_BLOCK_LOCATIONS, which the NameNode serves but HDFS's REST
  /// documentation does not list.
  Status WaitUntilClosed(const std::string& path, double timeout_secs);

  const WebHdfsOptions& options() const { return options_; }

 private:
  explicit WebHdfsClient(WebHdfsOptions options);
  /// .../webhdfs/v1<path>?op=<op>&user.name=...<extra>
  std::string Url(const std::string& path, std::string_view op, const std::string& extra) const;
  Result<HttpResponse> Call(const HttpRequest& request, std::string_view op,
                            const std::string& path);
  Result<std::unique_ptr<OutputStream>> StartUpload(const std::string& path, std::string_view op,
                                                    std::string_view method,
                                                    const std::string& extra);

  WebHdfsOptions options_;
  HttpSession session_;
};

}  // namespace sluice::io
