#include "io/webhdfs_client.h"

#include <fmt/core.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <thread>

namespace sluice::io {

namespace {

using Json = nlohmann::json;

/// Parses a JSON reply without throwing; a discarded value when it is not JSON.
Json ParseJson(const std::string& body) {
  return Json::parse(body, /*cb=*/nullptr, /*allow_exceptions=*/false);
}

// The one place HDFS's errors become Status codes (see the header's table).
Status WebHdfsError(const HttpResponse& response, std::string_view op, const std::string& path) {
  std::string exception;
  std::string message;
  Json reply = ParseJson(response.body);
  if (reply.is_object() && reply.contains("RemoteException") &&
      reply["RemoteException"].is_object()) {
    const Json& remote = reply["RemoteException"];
    exception = remote.value("exception", "");
    message = remote.value("message", "");
    // Some messages go on with the server's Java stack trace: the first line says it all.
    message = message.substr(0, message.find('\n'));
  }
  // HDFS's message usually names the path already; ours names it last in any case.
  std::string text = exception.empty()
                         ? fmt::format("WebHDFS {} failed with HTTP {}: {}", op, response.status,
                                       path)
                         : fmt::format("WebHDFS {} failed: {}: {}: {}", op, exception, message,
                                       path);
  if (exception == "FileNotFoundException")
    return NotFound(std::move(text));
  if (exception == "AccessControlException" || exception == "SecurityException" ||
      exception == "AuthorizationException")
    return PermissionDenied(std::move(text));
  if (exception == "FileAlreadyExistsException")
    return Conflict(std::move(text));
  if (exception == "RecoveryInProgressException" || exception == "AlreadyBeingCreatedException" ||
      exception == "RetriableException" || exception == "StandbyException" ||
      exception == "SafeModeException")
    return Unavailable(std::move(text));
  if (!exception.empty())
    return IoError(std::move(text));
  if (response.status == 404)
    return NotFound(std::move(text));
  if (response.status == 401 || response.status == 403)
    return PermissionDenied(std::move(text));
  if (response.status >= 500)
    return Unavailable(std::move(text));
  return IoError(std::move(text));
}

Result<Json> ParseReply(const HttpResponse& response, std::string_view op,
                        const std::string& path) {
  Json reply = ParseJson(response.body);
  if (reply.is_discarded() || !reply.is_object()) {
    return IoError(fmt::format("WebHDFS {} answered with something other than a JSON object: {}",
                               op, path));
  }
  return reply;
}

HdfsFileStatus ToFileStatus(const Json& status) {
  HdfsFileStatus out;
  out.name = status.value("pathSuffix", "");
  out.is_directory = status.value("type", "") == "DIRECTORY";
  out.length = status.value("length", uint64_t{0});
  out.modification_time_ms = status.value("modificationTime", int64_t{0});
  out.block_size = status.value("blockSize", uint64_t{0});
  out.replication = status.value("replication", 0);
  return out;
}

/// HDFS paths are absolute; a relative one would be resolved against a home directory, which a
/// warehouse path never means.
Status CheckPath(const std::string& path, std::string_view op) {
  if (path.empty() || path.front() != '/')
    return InvalidConfig(fmt::format("WebHDFS {} needs an absolute path: '{}'", op, path));
  return Status::OK();
}

/// The stream Create() and Append() return: the DataNode's request, whose response Close()
/// checks.
class WebHdfsOutputStream : public OutputStream {
 public:
  WebHdfsOutputStream(std::unique_ptr<HttpUploadStream> upload, std::string op, std::string path,
                      long expected_status)
      : upload_(std::move(upload)),
        op_(std::move(op)),
        path_(std::move(path)),
        expected_status_(expected_status) {}

  Status Write(std::string_view data) override {
    if (upload_ == nullptr)
      return Internal(fmt::format("WebHDFS {}: write after close: {}", op_, path_));
    Status status = upload_->Write(data);
    if (!status.ok()) {
      // The DataNode may have answered early with the reason.
      Result<HttpResponse> response = upload_->Finish();
      upload_.reset();
      if (response.ok() && response->status != expected_status_)
        return WebHdfsError(*response, op_, path_);
    }
    return status;
  }

  Status Close() override {
    if (upload_ == nullptr)
      return Status::OK();
    Result<HttpResponse> response = upload_->Finish();
    upload_.reset();
    if (!response.ok())
      return response.status();
    if (response->status != expected_status_)
      return WebHdfsError(*response, op_, path_);
    return Status::OK();
  }

 private:
  std::unique_ptr<HttpUploadStream> upload_;
  std::string op_;
  std::string path_;
  long expected_status_;
};

}  // namespace

Status WebHdfsOptions::Validate() const {
  if (!url.starts_with("http://") && !url.starts_with("https://"))
    return InvalidConfig(fmt::format("WebHDFS url must start with http:// or https://: '{}'", url));
  if (user.empty())
    return InvalidConfig("WebHDFS needs a user name (user.name)");
  return Status::OK();
}

WebHdfsClient::WebHdfsClient(WebHdfsOptions options)
    : options_(std::move(options)), session_(options_.http) {}
WebHdfsClient::WebHdfsClient(WebHdfsClient&&) noexcept = default;
WebHdfsClient& WebHdfsClient::operator=(WebHdfsClient&&) noexcept = default;
WebHdfsClient::~WebHdfsClient() = default;

Result<WebHdfsClient> WebHdfsClient::Open(WebHdfsOptions options) {
  SLUICE_RETURN_IF_ERROR(options.Validate());
  while (options.url.ends_with('/'))
    options.url.pop_back();
  return WebHdfsClient(std::move(options));
}

std::string WebHdfsClient::Url(const std::string& path, std::string_view op,
                               const std::string& extra) const {
  return fmt::format("{}/webhdfs/v1{}?op={}&user.name={}{}", options_.url,
                     PercentEncode(path, /*keep_slash=*/true), op,
                     PercentEncode(options_.user, false), extra);
}

Result<HttpResponse> WebHdfsClient::Call(const HttpRequest& request, std::string_view op,
                                         const std::string& path) {
  // The NameNode's address in the description: a connection refused names where it went.
  SLUICE_ASSIGN_OR_RETURN(
      HttpResponse response,
      session_.Perform(request, fmt::format("WebHDFS {} {} on {}", op, path, options_.url)));
  if (response.status >= 300)
    return WebHdfsError(response, op, path);
  return response;
}

Status WebHdfsClient::MakeDirectories(const std::string& path) {
  SLUICE_RETURN_IF_ERROR(CheckPath(path, "MKDIRS"));
  HttpRequest request{.method = "PUT", .url = Url(path, "MKDIRS", "")};
  SLUICE_ASSIGN_OR_RETURN(HttpResponse response, Call(request, "MKDIRS", path));
  SLUICE_ASSIGN_OR_RETURN(Json reply, ParseReply(response, "MKDIRS", path));
  if (!reply.value("boolean", false))
    return IoError(fmt::format("WebHDFS MKDIRS refused (is a parent a file?): {}", path));
  return Status::OK();
}

Result<std::unique_ptr<OutputStream>> WebHdfsClient::StartUpload(const std::string& path,
                                                                 std::string_view op,
                                                                 std::string_view method,
                                                                 const std::string& extra) {
  SLUICE_RETURN_IF_ERROR(CheckPath(path, op));
  // Step 1: the NameNode picks a DataNode and redirects there (no body is sent to it).
  HttpRequest ask{.method = std::string(method), .url = Url(path, op, extra)};
  SLUICE_ASSIGN_OR_RETURN(
      HttpResponse redirect,
      session_.Perform(ask,
                       fmt::format("WebHDFS {} {} (NameNode {})", op, path, options_.url)));
  if (redirect.status != 307)
    return redirect.status >= 300
               ? WebHdfsError(redirect, op, path)
               : IoError(fmt::format("WebHDFS {}: the NameNode answered {} instead of a redirect "
                                     "to a DataNode: {}",
                                     op, redirect.status, path));
  std::string location = redirect.header("location");
  if (location.empty()) {
    return IoError(
        fmt::format("WebHDFS {}: the NameNode's redirect has no Location: {}", op, path));
  }
  // Step 2: the bytes go to the DataNode, streamed as the caller writes them.
  HttpRequest upload{.method = std::string(method),
                     .url = location,
                     .headers = {{"Content-Type", "application/octet-stream"}}};
  SLUICE_ASSIGN_OR_RETURN(
      std::unique_ptr<HttpUploadStream> stream,
      HttpUploadStream::Start(upload, options_.http,
                              fmt::format("WebHDFS {} {} (DataNode)", op, path)));
  long expected_status = op == "CREATE" ? 201 : 200;
  return std::unique_ptr<OutputStream>(std::make_unique<WebHdfsOutputStream>(
      std::move(stream), std::string(op), path, expected_status));
}

Result<std::unique_ptr<OutputStream>> WebHdfsClient::Create(const std::string& path,
                                                            bool overwrite) {
  if (!overwrite) {
    // The NameNode redirects without looking; the DataNode refuses only once the stream runs.
    // Asking first reports the usual case here (the DataNode's check still decides a race).
    Result<HdfsFileStatus> existing = GetFileStatus(path);
    if (existing.ok())
      return Conflict(fmt::format("WebHDFS CREATE: the file exists (overwrite is off): {}", path));
    if (existing.status().code() != StatusCode::kNotFound)
      return existing.status();
  }
  return StartUpload(path, "CREATE", "PUT",
                     fmt::format("&overwrite={}", overwrite ? "true" : "false"));
}

Result<std::unique_ptr<OutputStream>> WebHdfsClient::Append(const std::string& path) {
  return StartUpload(path, "APPEND", "POST", "");
}

Result<std::string> WebHdfsClient::Read(const std::string& path, uint64_t offset,
                                        std::optional<uint64_t> length) {
  SLUICE_RETURN_IF_ERROR(CheckPath(path, "OPEN"));
  std::string extra = fmt::format("&offset={}", offset);
  if (length) {
    // HDFS reads nothing for length=0 only when asked not to read at all.
    if (*length == 0)
      return std::string();
    extra += fmt::format("&length={}", *length);
  }
  HttpRequest request{.method = "GET", .url = Url(path, "OPEN", extra), .follow_redirects = true};
  SLUICE_ASSIGN_OR_RETURN(HttpResponse response, Call(request, "OPEN", path));
  return std::move(response.body);
}

Result<HdfsFileStatus> WebHdfsClient::GetFileStatus(const std::string& path) {
  SLUICE_RETURN_IF_ERROR(CheckPath(path, "GETFILESTATUS"));
  HttpRequest request{.method = "GET", .url = Url(path, "GETFILESTATUS", "")};
  SLUICE_ASSIGN_OR_RETURN(HttpResponse response, Call(request, "GETFILESTATUS", path));
  SLUICE_ASSIGN_OR_RETURN(Json reply, ParseReply(response, "GETFILESTATUS", path));
  if (!reply.contains("FileStatus") || !reply["FileStatus"].is_object())
    return IoError(fmt::format("WebHDFS GETFILESTATUS: no FileStatus in the reply: {}", path));
  return ToFileStatus(reply["FileStatus"]);
}

Result<std::vector<HdfsFileStatus>> WebHdfsClient::ListDirectory(const std::string& path) {
  SLUICE_RETURN_IF_ERROR(CheckPath(path, "LISTSTATUS"));
  HttpRequest request{.method = "GET", .url = Url(path, "LISTSTATUS", "")};
  SLUICE_ASSIGN_OR_RETURN(HttpResponse response, Call(request, "LISTSTATUS", path));
  SLUICE_ASSIGN_OR_RETURN(Json reply, ParseReply(response, "LISTSTATUS", path));
  const Json* list = nullptr;
  if (reply.contains("FileStatuses") && reply["FileStatuses"].is_object() &&
      reply["FileStatuses"].contains("FileStatus")) {
    list = &reply["FileStatuses"]["FileStatus"];
  }
  if (list == nullptr || !list->is_array())
    return IoError(fmt::format("WebHDFS LISTSTATUS: no FileStatuses in the reply: {}", path));
  std::vector<HdfsFileStatus> entries;
  entries.reserve(list->size());
  for (const Json& entry : *list)
    entries.push_back(ToFileStatus(entry));
  return entries;
}

Status WebHdfsClient::Rename(const std::string& from, const std::string& to) {
  SLUICE_RETURN_IF_ERROR(CheckPath(from, "RENAME"));
  SLUICE_RETURN_IF_ERROR(CheckPath(to, "RENAME"));
  HttpRequest request{
      .method = "PUT",
      .url = Url(from, "RENAME", "&destination=" + PercentEncode(to, /*keep_slash=*/false))};
  SLUICE_ASSIGN_OR_RETURN(HttpResponse response, Call(request, "RENAME", from));
  SLUICE_ASSIGN_OR_RETURN(Json reply, ParseReply(response, "RENAME", from));
  if (reply.value("boolean", false))
    return Status::OK();
  // HDFS says only "false": find out why, so that the caller knows what to do.
  Result<HdfsFileStatus> source = GetFileStatus(from);
  if (!source.ok() && source.status().code() == StatusCode::kNotFound)
    return NotFound(fmt::format("WebHDFS RENAME: the source does not exist: {}", from));
  Result<HdfsFileStatus> destination = GetFileStatus(to);
  if (destination.ok()) {
    return Conflict(fmt::format("WebHDFS RENAME does not replace an existing file: {} -> {}",
                                from, to));
  }
  return Conflict(fmt::format(
      "WebHDFS RENAME refused (does the destination's parent exist?): {} -> {}", from, to));
}

Status WebHdfsClient::RenameReplacing(const std::string& from, const std::string& to) {
  SLUICE_RETURN_IF_ERROR(CheckPath(from, "RENAME"));
  SLUICE_RETURN_IF_ERROR(CheckPath(to, "RENAME"));
  // With rename options the NameNode calls rename2, which answers failures with an exception
  // (mapped by WebHdfsError) and success with an empty body, not a boolean.
  HttpRequest request{.method = "PUT",
                      .url = Url(from, "RENAME",
                                 "&destination=" + PercentEncode(to, /*keep_slash=*/false) +
                                     "&renameoptions=OVERWRITE")};
  return Call(request, "RENAME", from).status();
}

Status WebHdfsClient::Delete(const std::string& path, bool recursive) {
  SLUICE_RETURN_IF_ERROR(CheckPath(path, "DELETE"));
  HttpRequest request{
      .method = "DELETE",
      .url = Url(path, "DELETE", fmt::format("&recursive={}", recursive ? "true" : "false"))};
  // {"boolean": false} means nothing was there: fine. A non-empty directory without
  // `recursive` is an exception, hence an error.
  return Call(request, "DELETE", path).status();
}

Result<bool> WebHdfsClient::Truncate(const std::string& path, uint64_t new_length) {
  SLUICE_RETURN_IF_ERROR(CheckPath(path, "TRUNCATE"));
  HttpRequest request{.method = "POST",
                      .url = Url(path, "TRUNCATE", fmt::format("&newlength={}", new_length))};
  SLUICE_ASSIGN_OR_RETURN(HttpResponse response, Call(request, "TRUNCATE", path));
  SLUICE_ASSIGN_OR_RETURN(Json reply, ParseReply(response, "TRUNCATE", path));
  if (!reply.contains("boolean") || !reply["boolean"].is_boolean())
    return IoError(fmt::format("WebHDFS TRUNCATE: no boolean in the reply: {}", path));
  return reply["boolean"].get<bool>();
}

Status WebHdfsClient::WaitUntilClosed(const std::string& path, double timeout_secs) {
  SLUICE_RETURN_IF_ERROR(CheckPath(path, "GET_BLOCK_LOCATIONS"));
  auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(timeout_secs);
  while (true) {
    HttpRequest request{.method = "GET",
                        .url = Url(path, "GET_BLOCK_LOCATIONS", "&offset=0&length=1")};
    SLUICE_ASSIGN_OR_RETURN(HttpResponse response, Call(request, "GET_BLOCK_LOCATIONS", path));
    SLUICE_ASSIGN_OR_RETURN(Json reply, ParseReply(response, "GET_BLOCK_LOCATIONS", path));
    const Json* blocks = reply.contains("LocatedBlocks") ? &reply["LocatedBlocks"] : nullptr;
    if (blocks == nullptr || !blocks->is_object() || !blocks->contains("isUnderConstruction")) {
      return IoError(fmt::format(
          "WebHDFS GET_BLOCK_LOCATIONS: no LocatedBlocks.isUnderConstruction in the reply: {}",
          path));
    }
    if (!blocks->value("isUnderConstruction", true))
      return Status::OK();
    if (std::chrono::steady_clock::now() >= deadline) {
      return Unavailable(fmt::format(
          "WebHDFS: the file is still being written or recovered after {} s: {}", timeout_secs,
          path));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

}  // namespace sluice::io
