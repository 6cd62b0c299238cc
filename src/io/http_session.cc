#include "io/http_session.h"

#include <curl/curl.h>
#include <fmt/core.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstring>
#include <mutex>

namespace sluice::io {

namespace {

// curl_global_init is not thread-safe: once per process, before any handle.
void InitCurlOnce() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

struct EasyDeleter {
  void operator()(CURL* easy) const { curl_easy_cleanup(easy); }
};
using EasyHandle = std::unique_ptr<CURL, EasyDeleter>;

struct MultiDeleter {
  void operator()(CURLM* multi) const { curl_multi_cleanup(multi); }
};
using MultiHandle = std::unique_ptr<CURLM, MultiDeleter>;

struct HeaderListDeleter {
  void operator()(curl_slist* list) const { curl_slist_free_all(list); }
};
/// A curl_slist of request headers; the list must live until the transfer ends.
class HeaderList {
 public:
  Status Append(const std::string& line) {
    curl_slist* appended = curl_slist_append(list_.get(), line.c_str());
    if (appended == nullptr)
      return Internal("curl_slist_append failed (out of memory)");
    list_.release();
    list_.reset(appended);
    return Status::OK();
  }
  curl_slist* get() const { return list_.get(); }

 private:
  std::unique_ptr<curl_slist, HeaderListDeleter> list_;
};

// The one place libcurl's error numbers become Status codes.
Status CurlError(CURLcode code, std::string_view what, const char* detail) {
  std::string text = detail != nullptr && *detail != '\0' ? detail : curl_easy_strerror(code);
  switch (code) {
    case CURLE_URL_MALFORMAT:
    case CURLE_UNSUPPORTED_PROTOCOL:
      return InvalidConfig(fmt::format("Bad URL for {}: {}", what, text));
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CERTPROBLEM:
      return PermissionDenied(fmt::format("TLS certificate check failed for {}: {}", what, text));
    case CURLE_OUT_OF_MEMORY:
      return Internal(fmt::format("Out of memory in libcurl for {}", what));
    default:
      // Refused, reset, timed out, name not resolved, partial reply: the network or the server
      // may come back.
      return Unavailable(fmt::format("No response for {}: {}", what, text));
  }
}

size_t AppendToString(char* data, size_t size, size_t count, void* user) {
  static_cast<std::string*>(user)->append(data, size * count);
  return size * count;
}

// Collects the headers of the last response: a status line starts a new response (after a
// redirect or a 100 Continue).
size_t CollectHeader(char* data, size_t size, size_t count, void* user) {
  auto* headers = static_cast<std::map<std::string, std::string>*>(user);
  std::string_view line(data, size * count);
  if (line.starts_with("HTTP/")) {
    headers->clear();
    return size * count;
  }
  size_t colon = line.find(':');
  if (colon == std::string_view::npos)
    return size * count;
  std::string name(line.substr(0, colon));
  std::transform(name.begin(), name.end(), name.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  std::string_view value = line.substr(colon + 1);
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t'))
    value.remove_prefix(1);
  while (!value.empty() && (value.back() == '\r' || value.back() == '\n' || value.back() == ' '))
    value.remove_suffix(1);
  (*headers)[name] = std::string(value);
  return size * count;
}

// Options every request of ours shares. `error_buffer` must live as long as the handle's use.
void SetCommonOptions(CURL* easy, const HttpOptions& options, char* error_buffer) {
  curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, error_buffer);
  curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS,
                   static_cast<long>(options.connect_timeout_secs * 1000));
  // Keys like "a/../b" are names in an object store: sent as they are, not normalised.
  curl_easy_setopt(easy, CURLOPT_PATH_AS_IS, 1L);
  curl_easy_setopt(easy, CURLOPT_TCP_KEEPALIVE, 1L);
  curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR, "http,https");
}

Status BuildHeaders(const HttpRequest& request, HeaderList& list) {
  for (const auto& [name, value] : request.headers)
    SLUICE_RETURN_IF_ERROR(list.Append(name + ": " + value));
  // libcurl would add these unasked: "Expect: 100-continue" (a round trip of delay, and a
  // header a signature does not cover) and a form Content-Type on POST bodies.
  SLUICE_RETURN_IF_ERROR(list.Append("Expect:"));
  bool has_content_type = std::any_of(request.headers.begin(), request.headers.end(),
                                      [](const auto& header) {
                                        return strcasecmp(header.first.c_str(),
                                                          "content-type") == 0;
                                      });
  if (!has_content_type)
    SLUICE_RETURN_IF_ERROR(list.Append("Content-Type:"));
  return Status::OK();
}

}  // namespace

std::string HttpResponse::header(const std::string& name) const {
  auto it = headers.find(name);
  return it == headers.end() ? std::string() : it->second;
}

std::string PercentEncode(std::string_view text, bool keep_slash) {
  static const char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size() * 3);
  for (unsigned char c : text) {
    if (std::isalnum(c) != 0 || c == '-' || c == '_' || c == '.' || c == '~' ||
        (keep_slash && c == '/')) {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

// --- HttpSession ------------------------------------------------------------------------------

struct HttpSession::Handle {
  EasyHandle easy;
  char error_buffer[CURL_ERROR_SIZE] = {};
};

HttpSession::HttpSession(HttpOptions options) : options_(options) {}
HttpSession::~HttpSession() = default;
HttpSession::HttpSession(HttpSession&&) noexcept = default;
HttpSession& HttpSession::operator=(HttpSession&&) noexcept = default;

Result<HttpResponse> HttpSession::Perform(const HttpRequest& request, std::string_view what) {
  InitCurlOnce();
  if (handle_ == nullptr) {
    auto handle = std::make_unique<Handle>();
    handle->easy.reset(curl_easy_init());
    if (handle->easy == nullptr)
      return Internal("curl_easy_init failed");
    handle_ = std::move(handle);
  } else {
    // Forgets the previous request's options but keeps the open connection.
    curl_easy_reset(handle_->easy.get());
  }
  CURL* easy = handle_->easy.get();
  handle_->error_buffer[0] = '\0';
  SetCommonOptions(easy, options_, handle_->error_buffer);
  curl_easy_setopt(easy, CURLOPT_LOW_SPEED_LIMIT, 1L);
  curl_easy_setopt(easy, CURLOPT_LOW_SPEED_TIME,
                   std::max(1L, static_cast<long>(options_.stall_timeout_secs)));
  curl_easy_setopt(easy, CURLOPT_URL, request.url.c_str());

  HeaderList headers;
  SLUICE_RETURN_IF_ERROR(BuildHeaders(request, headers));
  curl_easy_setopt(easy, CURLOPT_HTTPHEADER, headers.get());

  if (request.method == "GET") {
    curl_easy_setopt(easy, CURLOPT_HTTPGET, 1L);
    if (request.follow_redirects) {
      curl_easy_setopt(easy, CURLOPT_FOLLOWLOCATION, 1L);
      curl_easy_setopt(easy, CURLOPT_MAXREDIRS, 5L);
    }
  } else if (request.method == "HEAD") {
    curl_easy_setopt(easy, CURLOPT_NOBODY, 1L);
  } else if (request.method == "PUT" || request.method == "POST") {
    // POSTFIELDS sends the bytes as they are with a Content-Length, for both methods.
    curl_easy_setopt(easy, CURLOPT_POSTFIELDS, request.body.data() != nullptr ? request.body.data()
                                                                              : "");
    curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE_LARGE,
                     static_cast<curl_off_t>(request.body.size()));
    curl_easy_setopt(easy, CURLOPT_CUSTOMREQUEST, request.method.c_str());
  } else {
    curl_easy_setopt(easy, CURLOPT_CUSTOMREQUEST, request.method.c_str());
  }

  HttpResponse response;
  curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, AppendToString);
  curl_easy_setopt(easy, CURLOPT_WRITEDATA, &response.body);
  curl_easy_setopt(easy, CURLOPT_HEADERFUNCTION, CollectHeader);
  curl_easy_setopt(easy, CURLOPT_HEADERDATA, &response.headers);

  CURLcode code = curl_easy_perform(easy);
  // The header list dies with this call: the handle must not point at it any more.
  curl_easy_setopt(easy, CURLOPT_HTTPHEADER, nullptr);
  if (code != CURLE_OK)
    return CurlError(code, what, handle_->error_buffer);
  curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &response.status);
  return response;
}

// --- HttpUploadStream -------------------------------------------------------------------------

namespace {
// Write() lets libcurl send once this much is buffered: large enough that a pump costs little,
// small enough to bound the memory of many open files.
constexpr size_t kPumpBytes = 1 << 20;
}  // namespace

struct HttpUploadStream::Transfer {
  std::string what;
  HttpOptions options;
  MultiHandle multi;
  EasyHandle easy;
  HeaderList headers;
  std::string url;
  std::string method;
  char error_buffer[CURL_ERROR_SIZE] = {};
  HttpResponse response;
  // The body's bytes not yet taken by libcurl: pending[offset..].
  std::string pending;
  size_t offset = 0;
  uint64_t bytes_taken = 0;
  bool end_of_body = false;  // Finish() was called: the read callback ends the body
  bool paused = false;       // the read callback found nothing and paused the transfer
  bool done = false;         // the transfer ended (response or failure)
  CURLcode result = CURLE_OK;
  bool finished = false;     // Finish() returned

  ~Transfer() {
    if (multi != nullptr && easy != nullptr)
      curl_multi_remove_handle(multi.get(), easy.get());
  }

  static size_t ReadBody(char* buffer, size_t size, size_t count, void* user) {
    auto* transfer = static_cast<Transfer*>(user);
    size_t available = transfer->pending.size() - transfer->offset;
    if (available == 0) {
      if (transfer->end_of_body)
        return 0;
      transfer->paused = true;
      return CURL_READFUNC_PAUSE;
    }
    size_t n = std::min(available, size * count);
    std::memcpy(buffer, transfer->pending.data() + transfer->offset, n);
    transfer->offset += n;
    transfer->bytes_taken += n;
    if (transfer->offset == transfer->pending.size()) {
      transfer->pending.clear();
      transfer->offset = 0;
    }
    return n;
  }
};

HttpUploadStream::HttpUploadStream(std::unique_ptr<Transfer> transfer)
    : transfer_(std::move(transfer)) {}
HttpUploadStream::~HttpUploadStream() = default;

Result<std::unique_ptr<HttpUploadStream>> HttpUploadStream::Start(const HttpRequest& request,
                                                                  const HttpOptions& options,
                                                                  std::string what) {
  InitCurlOnce();
  auto transfer = std::make_unique<Transfer>();
  transfer->what = std::move(what);
  transfer->options = options;
  transfer->url = request.url;
  transfer->method = request.method;
  transfer->multi.reset(curl_multi_init());
  transfer->easy.reset(curl_easy_init());
  if (transfer->multi == nullptr || transfer->easy == nullptr)
    return Internal("curl_multi_init or curl_easy_init failed");
  CURL* easy = transfer->easy.get();
  SetCommonOptions(easy, options, transfer->error_buffer);
  curl_easy_setopt(easy, CURLOPT_URL, transfer->url.c_str());
  SLUICE_RETURN_IF_ERROR(BuildHeaders(request, transfer->headers));
  curl_easy_setopt(easy, CURLOPT_HTTPHEADER, transfer->headers.get());
  // UPLOAD without a size: a chunked body, read through ReadBody; the method as asked (PUT is
  // UPLOAD's own, POST is named).
  curl_easy_setopt(easy, CURLOPT_UPLOAD, 1L);
  curl_easy_setopt(easy, CURLOPT_CUSTOMREQUEST, transfer->method.c_str());
  curl_easy_setopt(easy, CURLOPT_READFUNCTION, Transfer::ReadBody);
  curl_easy_setopt(easy, CURLOPT_READDATA, transfer.get());
  curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, AppendToString);
  curl_easy_setopt(easy, CURLOPT_WRITEDATA, &transfer->response.body);
  curl_easy_setopt(easy, CURLOPT_HEADERFUNCTION, CollectHeader);
  curl_easy_setopt(easy, CURLOPT_HEADERDATA, &transfer->response.headers);
  if (curl_multi_add_handle(transfer->multi.get(), easy) != CURLM_OK)
    return Internal("curl_multi_add_handle failed");
  std::unique_ptr<HttpUploadStream> stream(new HttpUploadStream(std::move(transfer)));
  // Connect and send the headers now, so that a refused connection fails here.
  SLUICE_RETURN_IF_ERROR(stream->Pump(/*to_end=*/false));
  if (stream->transfer_->done && stream->transfer_->result != CURLE_OK) {
    return CurlError(stream->transfer_->result, stream->transfer_->what,
                     stream->transfer_->error_buffer);
  }
  return stream;
}

Status HttpUploadStream::Pump(bool to_end) {
  Transfer& transfer = *transfer_;
  using Clock = std::chrono::steady_clock;
  // Progress: body bytes taken by libcurl, or response bytes arrived. (libcurl's own low-speed
  // limit would also count the time the transfer is paused waiting for the writer.)
  auto progress = [&transfer] { return transfer.bytes_taken + transfer.response.body.size(); };
  auto last_progress = Clock::now();
  uint64_t last_seen = progress();
  if (transfer.paused) {
    transfer.paused = false;
    curl_easy_pause(transfer.easy.get(), CURLPAUSE_CONT);
  }
  while (!transfer.done) {
    int running = 0;
    CURLMcode multi_code = curl_multi_perform(transfer.multi.get(), &running);
    if (multi_code != CURLM_OK) {
      return Internal(fmt::format("curl_multi_perform failed for {}: {}", transfer.what,
                                  curl_multi_strerror(multi_code)));
    }
    int queued = 0;
    while (CURLMsg* message = curl_multi_info_read(transfer.multi.get(), &queued)) {
      if (message->msg == CURLMSG_DONE) {
        transfer.done = true;
        transfer.result = message->data.result;
      }
    }
    if (transfer.done)
      break;
    // Everything buffered is with libcurl, which waits for more: back to the writer.
    if (!to_end && transfer.paused && transfer.pending.empty())
      break;
    if (progress() != last_seen) {
      last_seen = progress();
      last_progress = Clock::now();
    } else if (Clock::now() - last_progress >
               std::chrono::duration<double>(transfer.options.stall_timeout_secs)) {
      return Unavailable(fmt::format("No progress for {} s sending {}",
                                     transfer.options.stall_timeout_secs, transfer.what));
    }
    curl_multi_poll(transfer.multi.get(), nullptr, 0, 100, nullptr);
  }
  return Status::OK();
}

Status HttpUploadStream::Write(std::string_view data) {
  Transfer& transfer = *transfer_;
  if (transfer.finished || transfer.end_of_body)
    return Internal(fmt::format("Write after Finish for {}", transfer.what));
  if (transfer.done) {
    if (transfer.result != CURLE_OK)
      return CurlError(transfer.result, transfer.what, transfer.error_buffer);
    return Unavailable(
        fmt::format("The server answered before the end of the body of {}", transfer.what));
  }
  transfer.pending.append(data);
  if (transfer.pending.size() - transfer.offset < kPumpBytes)
    return Status::OK();
  return Pump(/*to_end=*/false);
}

Result<HttpResponse> HttpUploadStream::Finish() {
  Transfer& transfer = *transfer_;
  if (transfer.finished)
    return Internal(fmt::format("Finish called twice for {}", transfer.what));
  transfer.end_of_body = true;
  SLUICE_RETURN_IF_ERROR(Pump(/*to_end=*/true));
  transfer.finished = true;
  if (transfer.result != CURLE_OK)
    return CurlError(transfer.result, transfer.what, transfer.error_buffer);
  curl_easy_getinfo(transfer.easy.get(), CURLINFO_RESPONSE_CODE, &transfer.response.status);
  return std::move(transfer.response);
}

}  // namespace sluice::io
