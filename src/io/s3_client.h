// S3Client: objects in Amazon S3 or an S3-compatible store (MinIO, s3proxy, Ceph, ...), the calls
// a warehouse writer needs: whole and ranged reads, listings, and multipart uploads that can be
// resumed after a crash (ListMultipartUploads, ListParts).
//
// Every request is signed with AWS Signature V4 (io/aws_sigv4.h) over libcurl, addressed
// path-style (endpoint/bucket/key), which every S3-compatible store understands. Bodies are in
// memory: one object or one part at a time (parts are 5 MiB to 5 GiB, except the last).
//
// No retries: transient errors (Unavailable) go back to the caller, whose job-level retry
// resumes from a checkpoint (runtime/retry.h); io cannot depend on runtime.
//
// Errors name the call and s3://bucket/key and map in one function:
//   SignatureDoesNotMatch, InvalidAccessKeyId (403)  PermissionDenied, saying to check the access
//                                                    key id and the secret (never printed)
//   AccessDenied, other 401/403                      PermissionDenied
//   NoSuchKey, NoSuchBucket, NoSuchUpload, 404       NotFound
//   5xx, SlowDown, RequestTimeout, 429, no response  Unavailable
//   409, 412                                         Conflict
//   anything else (EntityTooSmall, InvalidPart, ...) IoError
// CompleteMultipartUpload can fail after answering 200: its body is checked for an <Error>.
//
// Thread-safety: none; one client per thread (each keeps one connection open).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "core/secret.h"
#include "io/aws_sigv4.h"
#include "io/http_session.h"

namespace sluice::io {

struct S3Options {
  /// http(s)://host[:port] of the store, e.g. https://s3.eu-west-1.amazonaws.com or
  /// http://127.0.0.1:9000. No path.
  std::string endpoint;
  /// The region requests are signed for; S3-compatible stores mostly accept any.
  std::string region = "us-east-1";
  std::string access_key_id;
  Secret secret_access_key;
  HttpOptions http;

  Status Validate() const;
};

struct S3ObjectInfo {
  std::string key;
  uint64_t size = 0;
  std::string etag;           // as S3 gives it, with its quotes
  std::string last_modified;  // as S3 gives it (ISO 8601 in listings, HTTP date from HEAD)
};

struct S3ListRequest {
  std::string prefix;
  /// With "/", keys below the next "/" after the prefix are summed up as common prefixes.
  std::string delimiter;
  /// From the previous page's next_continuation_token; "" for the first page.
  std::string continuation_token;
  int max_keys = 1000;
};

struct S3ListPage {
  std::vector<S3ObjectInfo> objects;
  std::vector<std::string> common_prefixes;
  /// "" on the last page.
  std::string next_continuation_token;
};

struct S3MultipartUpload {
  std::string key;
  std::string upload_id;
  std::string initiated;
};

struct S3Part {
  int part_number = 0;
  std::string etag;  // with its quotes, as UploadPart returned it
  uint64_t size = 0;
};

class S3Client {
 public:
  /// Checks the options; connects on first use.
  static Result<S3Client> Open(S3Options options);

  S3Client(S3Client&&) noexcept;
  S3Client& operator=(S3Client&&) noexcept;
  ~S3Client();

  /// Stores `body` as `key`, replacing any object there. Returns its ETag.
  Result<std::string> PutObject(const std::string& bucket, const std::string& key,
                                std::string_view body);

  /// The whole object.
  Result<std::string> GetObject(const std::string& bucket, const std::string& key);
  /// `length` bytes from `offset` (fewer at the end of the object).
  Result<std::string> GetObjectRange(const std::string& bucket, const std::string& key,
                                     uint64_t offset, uint64_t length);
  /// The last `length` bytes (the whole object when shorter): a Parquet footer without knowing
  /// the size.
  Result<std::string> GetObjectTail(const std::string& bucket, const std::string& key,
                                    uint64_t length);

  /// Size, ETag and time of `key`; NotFound when there is no such object.
  Result<S3ObjectInfo> HeadObject(const std::string& bucket, const std::string& key);

  /// One page of ListObjectsV2.
  Result<S3ListPage> ListObjects(const std::string& bucket, const S3ListRequest& request);

  /// Deletes `key`; a missing key is fine (S3 answers 204 either way).
  Status DeleteObject(const std::string& bucket, const std::string& key);

  /// Starts a multipart upload of `key`; returns its upload id. Nothing is visible under `key`
  /// until CompleteMultipartUpload.
  Result<std::string> CreateMultipartUpload(const std::string& bucket, const std::string& key);
  /// Uploads part `part_number` (1..10000) of the upload; returns its ETag (keep it for
  /// Complete). Every part but the last must be at least 5 MiB.
  Result<std::string> UploadPart(const std::string& bucket, const std::string& key,
                                 const std::string& upload_id, int part_number,
                                 std::string_view body);
  /// Assembles `parts` (ascending part numbers, with UploadPart's ETags) into the object; returns
  /// its ETag.
  Result<std::string> CompleteMultipartUpload(const std::string& bucket, const std::string& key,
                                              const std::string& upload_id,
                                              const std::vector<S3Part>& parts);
  /// Drops the upload and its parts.
  Status AbortMultipartUpload(const std::string& bucket, const std::string& key,
                              const std::string& upload_id);
  /// The uploads started and neither completed nor aborted, of keys starting with `prefix`
  /// (all pages).
  Result<std::vector<S3MultipartUpload>> ListMultipartUploads(const std::string& bucket,
                                                              const std::string& prefix);
  /// The parts uploaded so far (all pages), by part number: what a resumed upload keeps.
  Result<std::vector<S3Part>> ListParts(const std::string& bucket, const std::string& key,
                                        const std::string& upload_id);

  const S3Options& options() const { return options_; }

 private:
  struct Call {
    std::string_view operation;  // "PutObject", for messages
    std::string method;
    std::string bucket;
    std::string key;  // "" for bucket-level calls
    std::vector<std::pair<std::string, std::string>> query;
    std::vector<std::pair<std::string, std::string>> headers;  // signed and sent
    std::string_view body;
  };

  explicit S3Client(S3Options options);
  /// Signs and sends `call`; a status of 300 or more is an error (S3Error).
  Result<HttpResponse> Send(const Call& call);

  S3Options options_;
  std::string host_;  // the Host header: the endpoint without its scheme
  HttpSession session_;
};

}  // namespace sluice::io
