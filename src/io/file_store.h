// FileStore: where a warehouse table's files go (a local directory, HDFS through WebHDFS, an S3
// bucket), behind the few operations exactly-once writing needs.
//
//  - A StagedFile is written in steps. Commit() makes every byte so far durable and returns the
//    file's committed state (JSON text), which the caller records in its own commit (a
//    manifest). After a crash, Resume(state) continues the file after exactly those bytes, and
//    Publish(state) makes it visible under its final name. Until then nobody sees it: a hidden
//    sibling ".<name>.<tag>.inprogress" renamed into place (local, HDFS), or a multipart upload
//    completed at Publish (S3; bytes short of a part wait in a small side object named by the
//    commit, so that a state never changes once returned).
//  - Small files are written whole and atomically (manifests, _SUCCESS markers).
//
// Paths are relative to the store's root (the table's `location`), '/'-separated, without a
// leading '/': "dt=2026-12-04/hr=09/events-000-00000.parquet".
//
// Thread-safety: a FileStore may be used from several threads at once (implementations keep a
// connection per call or per thread); a StagedFile by one thread.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <utility>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "core/secret.h"
#include "io/compression.h"
#include "io/http_session.h"
#include "io/stream.h"

namespace sluice::io {

class StagedFile : public OutputStream {
 public:
  /// Bytes written so far, committed or not.
  virtual uint64_t length() const = 0;
  /// Makes every byte written so far durable and returns the state Resume, Publish and Discard
  /// take. Writing may go on afterwards.
  virtual Result<std::string> Commit() = 0;
  /// Close() is not how a staged file ends: Commit() then FileStore::Publish(). Close() only
  /// releases what the file holds (connections, descriptors) and keeps the committed bytes.
};

/// A staged file found by FileStore::ListStaged: its final path and a state Discard takes.
struct StagedEntry {
  std::string path;
  std::string state;
};

class FileStore {
 public:
  virtual ~FileStore() = default;

  /// Starts a staged file to be published as `path`. `tag` ([A-Za-z0-9_-]) makes its hidden
  /// name unique to one run of one writer (e.g. "e7"), so that two runs never share one.
  virtual Result<std::unique_ptr<StagedFile>> Stage(const std::string& path,
                                                    std::string_view tag) = 0;
  /// Continues the staged file `state` (from Commit()) of `path`: bytes written after that
  /// commit are dropped. The state of a file published already is NotFound.
  virtual Result<std::unique_ptr<StagedFile>> Resume(const std::string& path,
                                                     std::string_view state) = 0;
  /// A staged file of its own for `path` holding exactly the committed bytes of `state`, for a
  /// run that takes over from one that may still write to the original: from then on the two
  /// share no bytes (local and HDFS: a copy named with `tag`; S3: the same upload, continued
  /// with part numbers and tails the original's writer never uses). Returns its committed state.
  virtual Result<std::string> Fork(const std::string& path, std::string_view state,
                                   std::string_view tag) = 0;
  /// Makes the staged file committed as `state` visible as `path`, replacing nothing: an
  /// existing `path` is a Conflict unless it is this file published already (then OK: a publish
  /// after a crash is rolled forward as often as needed).
  virtual Status Publish(const std::string& path, std::string_view state) = 0;
  /// Drops a staged file (committed or not); one gone already is fine.
  virtual Status Discard(const std::string& path, std::string_view state) = 0;
  /// The staged files under `directory` ("" for the root), at any depth, whose final name
  /// starts with `name_prefix`: what a crash left that no commit named.
  virtual Result<std::vector<StagedEntry>> ListStaged(const std::string& directory,
                                                      std::string_view name_prefix) = 0;

  /// Writes `path` whole, replacing it atomically: a reader sees the old or the new bytes.
  virtual Status WriteFile(const std::string& path, std::string_view content) = 0;
  /// The whole of `path`; NotFound when missing.
  virtual Result<std::string> ReadFile(const std::string& path) = 0;
  /// `length` bytes of `path` from `offset` (fewer at its end): what readers of big files use.
  virtual Result<std::string> ReadRange(const std::string& path, uint64_t offset,
                                        uint64_t length) = 0;
  /// The size of the file `path`; NotFound when missing.
  virtual Result<uint64_t> Size(const std::string& path) = 0;
  /// The names directly under `directory` ("" for the root; "dir" or "dir/"), sorted; a
  /// directory's name ends with '/'. Staged files are not listed. A missing directory lists
  /// nothing.
  virtual Result<std::vector<std::string>> List(const std::string& directory) = 0;
  /// Deletes the file `path`; missing is fine.
  virtual Status Delete(const std::string& path) = 0;
  virtual Result<bool> Exists(const std::string& path) = 0;

  /// `path` as other tools name it: "/abs/dir/x" (local), "webhdfs://host:port/dir/x",
  /// "s3a://bucket/prefix/x" (Hive's and Spark's scheme for S3).
  virtual std::string Uri(const std::string& path) const = 0;
};

/// Where a store is and how to reach it.
struct FileStoreOptions {
  /// A local directory ("out/table", "file:///data/table"), a WebHDFS one
  /// ("webhdfs://namenode:9870/warehouse/events") or an S3 prefix ("s3://bucket/warehouse/x").
  std::string location;
  /// HDFS: the user requests act as (`user.name`).
  std::string hdfs_user;
  /// S3: the endpoint (http(s)://host[:port]), region and credentials.
  std::string s3_endpoint;
  std::string s3_region = "us-east-1";
  std::string s3_access_key_id;
  Secret s3_secret_access_key;
  /// S3: the size of every uploaded part but the last (at least 5 MiB).
  uint64_t s3_part_bytes = 16 << 20;
  HttpOptions http;
};

/// Reads `path` of `store` from its start, `chunk` bytes per request, decompressed as
/// `compression` says (kAuto: by the name's extension). The store must outlive the stream.
Result<std::unique_ptr<InputStream>> OpenStoreInput(FileStore* store, const std::string& path,
                                                    Compression compression,
                                                    uint64_t chunk = 8 << 20);

/// The files of `store` matching the glob `pattern` ('*', '?', '[...]' in any path component;
/// names starting with '.' or '_' match only a pattern that starts so), sorted. No match is
/// NotFound("No file matches '<uri>'").
Result<std::vector<std::string>> ExpandStoreGlob(FileStore* store, const std::string& pattern);

/// Splits a URL of a remote store into the store's location and the path within it:
/// "webhdfs://nn:9870/w/t/*.parquet" -> {"webhdfs://nn:9870/", "w/t/*.parquet"},
/// "s3://bucket/w/x.csv" -> {"s3://bucket", "w/x.csv"}; nullopt for a local path.
std::optional<std::pair<std::string, std::string>> SplitStoreUrl(std::string_view url);

/// Opens the store `options.location` names. Checks the options, not the store (no I/O).
Result<std::unique_ptr<FileStore>> OpenFileStore(const FileStoreOptions& options);

/// The local store rooted at `directory` (created when missing, on first write).
std::unique_ptr<FileStore> MakeLocalFileStore(std::string directory);

/// The WebHDFS store rooted at `root` (an absolute HDFS path) of the NameNode `url`.
Result<std::unique_ptr<FileStore>> MakeWebHdfsFileStore(std::string url, std::string root,
                                                        std::string user, HttpOptions http);

/// The S3 store rooted at s3://bucket/prefix.
Result<std::unique_ptr<FileStore>> MakeS3FileStore(const FileStoreOptions& options,
                                                   std::string bucket, std::string prefix);

}  // namespace sluice::io
