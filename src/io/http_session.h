// HttpSession and HttpUploadStream: the libcurl layer under the remote stores (WebHDFS, S3).
//
// An HttpSession sends one request at a time and keeps its connection open between requests
// (keep-alive); an HttpUploadStream sends one request whose body the caller writes piece by
// piece (chunked transfer encoding), so that a file of any size streams through a bounded
// buffer. Neither follows redirects unless asked, adds headers of its own beyond Host,
// Content-Length or Transfer-Encoding, nor retries.
//
// Errors: a request that got no HTTP response (connection refused, reset, timed out, name not
// resolved) is Unavailable, transient; a malformed URL or unsupported scheme is InvalidConfig;
// TLS certificate failures are PermissionDenied. Any HTTP status is a response, not an error:
// the store clients map statuses in their own error function. Messages name `what` (the
// caller's description of the request: operation and path), never the URL's query string or a
// header, where credentials may live.
//
// Thread-safety: none; each session or stream is used by one thread at a time. Different
// sessions may be used from different threads at once (libcurl is initialised once, up front).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/result.h"

namespace sluice::io {

struct HttpOptions {
  /// Seconds to wait for a TCP (and TLS) connection.
  double connect_timeout_secs = 10;
  /// Seconds without any byte moving, either way, before a request is given up (Unavailable).
  /// Not a limit on the whole request: a large upload may take as long as it needs.
  double stall_timeout_secs = 60;
};

struct HttpRequest {
  std::string method = "GET";  // GET, HEAD, PUT, POST, DELETE
  std::string url;             // already percent-encoded
  std::vector<std::pair<std::string, std::string>> headers;
  /// Sent with a Content-Length; for PUT and POST an empty body is sent as Content-Length: 0.
  /// Not owned: it must outlive Perform().
  std::string_view body;
  /// Follow 3xx redirects (GET only; WebHDFS OPEN goes to a DataNode).
  bool follow_redirects = false;
};

struct HttpResponse {
  long status = 0;
  std::string body;
  /// Headers of the final response, names in lower case.
  std::map<std::string, std::string> headers;

  /// The header's value, or "" when absent. `name` in lower case.
  std::string header(const std::string& name) const;
};

class HttpSession {
 public:
  explicit HttpSession(HttpOptions options = {});
  ~HttpSession();
  HttpSession(HttpSession&&) noexcept;
  HttpSession& operator=(HttpSession&&) noexcept;

  /// Sends `request` and returns the response, whatever its status; see the header comment for
  /// the errors. `what` names the request in error messages ("WebHDFS CREATE /a/b.parquet").
  Result<HttpResponse> Perform(const HttpRequest& request, std::string_view what);

 private:
  struct Handle;
  HttpOptions options_;
  std::unique_ptr<Handle> handle_;  // created on first use
};

/// One request whose body is written in pieces (Transfer-Encoding: chunked). Write() hands data
/// to libcurl, which sends it while Write() waits; at most about 1 MiB is held here.
class HttpUploadStream {
 public:
  /// Connects and sends the request line and headers of `request` (its body is ignored).
  static Result<std::unique_ptr<HttpUploadStream>> Start(const HttpRequest& request,
                                                         const HttpOptions& options,
                                                         std::string what);
  ~HttpUploadStream();
  HttpUploadStream(const HttpUploadStream&) = delete;
  HttpUploadStream& operator=(const HttpUploadStream&) = delete;

  /// Sends `data`. Fails when the server has already answered (an early error response: call
  /// Finish() for it) or the connection broke.
  Status Write(std::string_view data);
  /// Ends the body and waits for the response. Call once.
  Result<HttpResponse> Finish();

 private:
  struct Transfer;
  explicit HttpUploadStream(std::unique_ptr<Transfer> transfer);
  /// Lets libcurl send until everything buffered is sent (or, with `to_end`, until the response
  /// has arrived).
  Status Pump(bool to_end);
  std::unique_ptr<Transfer> transfer_;
};

/// Percent-encodes every byte of `text` except A-Z a-z 0-9 - _ . ~ (and '/' when
/// `keep_slash`), with upper-case hex: the encoding both S3's signatures and WebHDFS paths use.
std::string PercentEncode(std::string_view text, bool keep_slash);

}  // namespace sluice::io
