#include "io/s3_client.h"

#include <fmt/core.h>

#include <algorithm>
#include <cstdlib>

#include "io/s3_xml.h"

namespace sluice::io {

namespace {

std::string S3Url(const std::string& bucket, const std::string& key) {
  return key.empty() ? fmt::format("s3://{}", bucket) : fmt::format("s3://{}/{}", bucket, key);
}

// The one place S3's errors become Status codes (see the header's table). `body` is an S3 error
// document or empty (HEAD has no body). Never prints the request's headers or S3's
// StringToSign/CanonicalRequest echoes: only Code and Message.
Status S3Error(long http_status, std::string_view body, std::string_view operation,
               const std::string& location, const std::string& access_key_id) {
  std::string code = XmlText(body, "Code").value_or("");
  std::string message = XmlText(body, "Message").value_or("");
  std::string reason = code.empty() ? fmt::format("HTTP {}", http_status)
                                    : fmt::format("{} (HTTP {})", code, http_status);
  if (!message.empty())
    reason += ": " + message;
  if (code == "SignatureDoesNotMatch" || code == "InvalidAccessKeyId") {
    return PermissionDenied(
        fmt::format("S3 {} refused the credentials: {}; check the access key id '{}' and its "
                    "secret access key: {}",
                    operation, reason, access_key_id, location));
  }
  std::string text = fmt::format("S3 {} failed: {}: {}", operation, reason, location);
  if (code == "NoSuchKey" || code == "NoSuchBucket" || code == "NoSuchUpload")
    return NotFound(std::move(text));
  if (code == "SlowDown" || code == "RequestTimeout" || code == "InternalError" ||
      code == "ServiceUnavailable" || http_status == 429 || http_status >= 500)
    return Unavailable(std::move(text));
  if ((http_status == 401 || http_status == 403) && code.empty()) {
    // HEAD's answers have no body to say why.
    return PermissionDenied(fmt::format(
        "S3 {} was refused ({}): check the access key id '{}', its secret access key and the "
        "key's permissions: {}",
        operation, reason, access_key_id, location));
  }
  if (http_status == 401 || http_status == 403)
    return PermissionDenied(std::move(text));
  if (http_status == 404)
    return NotFound(std::move(text));
  if (http_status == 409 || http_status == 412)
    return Conflict(std::move(text));
  return IoError(std::move(text));
}

Result<uint64_t> ParseSize(const std::string& text, std::string_view what) {
  char* end = nullptr;
  unsigned long long value = std::strtoull(text.c_str(), &end, 10);
  if (text.empty() || *end != '\0')
    return IoError(fmt::format("S3 sent a size that is not a number ('{}') for {}", text, what));
  return static_cast<uint64_t>(value);
}

bool IsTrue(std::string_view xml, std::string_view name) {
  return XmlText(xml, name).value_or("") == "true";
}

}  // namespace

Status S3Options::Validate() const {
  if (!endpoint.starts_with("http://") && !endpoint.starts_with("https://")) {
    return InvalidConfig(
        fmt::format("S3 endpoint must start with http:// or https://: '{}'", endpoint));
  }
  size_t host_start = endpoint.find("://") + 3;
  size_t slash = endpoint.find('/', host_start);
  if (slash != std::string::npos && slash + 1 != endpoint.size())
    return InvalidConfig(fmt::format("S3 endpoint must not have a path: '{}'", endpoint));
  if (region.empty())
    return InvalidConfig("S3 region must not be empty");
  if (access_key_id.empty() || secret_access_key.empty())
    return InvalidConfig("S3 needs an access key id and a secret access key");
  return Status::OK();
}

S3Client::S3Client(S3Options options) : options_(std::move(options)), session_(options_.http) {
  host_ = options_.endpoint.substr(options_.endpoint.find("://") + 3);
}
S3Client::S3Client(S3Client&&) noexcept = default;
S3Client& S3Client::operator=(S3Client&&) noexcept = default;
S3Client::~S3Client() = default;

Result<S3Client> S3Client::Open(S3Options options) {
  SLUICE_RETURN_IF_ERROR(options.Validate());
  while (options.endpoint.ends_with('/'))
    options.endpoint.pop_back();
  return S3Client(std::move(options));
}

Result<HttpResponse> S3Client::Send(const Call& call) {
  std::string path = fmt::format("/{}", PercentEncode(call.bucket, false));
  if (!call.key.empty())
    path += fmt::format("/{}", PercentEncode(call.key, /*keep_slash=*/true));
  std::string amz_date = AmzDateNow();
  SigV4Request signing{.method = call.method,
                       .encoded_path = path,
                       .query = call.query,
                       .headers = call.headers,
                       .payload_sha256 = Sha256Hex(call.body)};
  signing.headers.emplace_back("host", host_);
  signing.headers.emplace_back("x-amz-date", amz_date);
  signing.headers.emplace_back("x-amz-content-sha256", signing.payload_sha256);
  AwsCredentials credentials{options_.access_key_id, options_.secret_access_key};
  std::string authorization = SignV4(signing, credentials, options_.region, "s3", amz_date);

  HttpRequest request{.method = call.method,
                      .url = options_.endpoint + path,
                      .headers = std::move(signing.headers),
                      .body = call.body};
  std::string query = CanonicalQueryString(call.query);
  if (!query.empty())
    request.url += "?" + query;
  // libcurl writes Host itself, from the URL: the same value.
  std::erase_if(request.headers, [](const auto& header) { return header.first == "host"; });
  request.headers.emplace_back("Authorization", std::move(authorization));

  std::string location = S3Url(call.bucket, call.key);
  SLUICE_ASSIGN_OR_RETURN(
      HttpResponse response,
      session_.Perform(request, fmt::format("S3 {} {}", call.operation, location)));
  if (response.status >= 300)
    return S3Error(response.status, response.body, call.operation, location,
                   options_.access_key_id);
  return response;
}

Result<std::string> S3Client::PutObject(const std::string& bucket, const std::string& key,
                                        std::string_view body) {
  SLUICE_ASSIGN_OR_RETURN(HttpResponse response, Send({.operation = "PutObject",
                                                       .method = "PUT",
                                                       .bucket = bucket,
                                                       .key = key,
                                                       .body = body}));
  return response.header("etag");
}

Result<std::string> S3Client::GetObject(const std::string& bucket, const std::string& key) {
  SLUICE_ASSIGN_OR_RETURN(
      HttpResponse response,
      Send({.operation = "GetObject", .method = "GET", .bucket = bucket, .key = key}));
  return std::move(response.body);
}

Result<std::string> S3Client::GetObjectRange(const std::string& bucket, const std::string& key,
                                             uint64_t offset, uint64_t length) {
  if (length == 0)
    return std::string();
  SLUICE_ASSIGN_OR_RETURN(
      HttpResponse response,
      Send({.operation = "GetObject",
            .method = "GET",
            .bucket = bucket,
            .key = key,
            .headers = {{"range", fmt::format("bytes={}-{}", offset, offset + length - 1)}}}));
  return std::move(response.body);
}

Result<std::string> S3Client::GetObjectTail(const std::string& bucket, const std::string& key,
                                            uint64_t length) {
  if (length == 0)
    return std::string();
  SLUICE_ASSIGN_OR_RETURN(HttpResponse response,
                          Send({.operation = "GetObject",
                                .method = "GET",
                                .bucket = bucket,
                                .key = key,
                                .headers = {{"range", fmt::format("bytes=-{}", length)}}}));
  return std::move(response.body);
}

Result<S3ObjectInfo> S3Client::HeadObject(const std::string& bucket, const std::string& key) {
  SLUICE_ASSIGN_OR_RETURN(
      HttpResponse response,
      Send({.operation = "HeadObject", .method = "HEAD", .bucket = bucket, .key = key}));
  S3ObjectInfo info;
  info.key = key;
  SLUICE_ASSIGN_OR_RETURN(info.size,
                          ParseSize(response.header("content-length"), S3Url(bucket, key)));
  info.etag = response.header("etag");
  info.last_modified = response.header("last-modified");
  return info;
}

Result<S3ListPage> S3Client::ListObjects(const std::string& bucket, const S3ListRequest& request) {
  Call call{.operation = "ListObjectsV2", .method = "GET", .bucket = bucket};
  call.query = {{"list-type", "2"}, {"max-keys", std::to_string(request.max_keys)}};
  if (!request.prefix.empty())
    call.query.emplace_back("prefix", request.prefix);
  if (!request.delimiter.empty())
    call.query.emplace_back("delimiter", request.delimiter);
  if (!request.continuation_token.empty())
    call.query.emplace_back("continuation-token", request.continuation_token);
  SLUICE_ASSIGN_OR_RETURN(HttpResponse response, Send(call));
  S3ListPage page;
  for (std::string_view contents : XmlElements(response.body, "Contents")) {
    S3ObjectInfo info;
    info.key = XmlText(contents, "Key").value_or("");
    SLUICE_ASSIGN_OR_RETURN(info.size, ParseSize(XmlText(contents, "Size").value_or(""),
                                                 S3Url(bucket, info.key)));
    info.etag = XmlText(contents, "ETag").value_or("");
    info.last_modified = XmlText(contents, "LastModified").value_or("");
    page.objects.push_back(std::move(info));
  }
  for (std::string_view common : XmlElements(response.body, "CommonPrefixes"))
    page.common_prefixes.push_back(XmlText(common, "Prefix").value_or(""));
  if (IsTrue(response.body, "IsTruncated")) {
    page.next_continuation_token = XmlText(response.body, "NextContinuationToken").value_or("");
    if (page.next_continuation_token.empty()) {
      return IoError(fmt::format("S3 ListObjectsV2 says the list goes on but gives no "
                                 "continuation token: {}",
                                 S3Url(bucket, request.prefix)));
    }
  }
  return page;
}

Status S3Client::DeleteObject(const std::string& bucket, const std::string& key) {
  return Send({.operation = "DeleteObject", .method = "DELETE", .bucket = bucket, .key = key})
      .status();
}

Result<std::string> S3Client::CreateMultipartUpload(const std::string& bucket,
                                                    const std::string& key) {
  SLUICE_ASSIGN_OR_RETURN(HttpResponse response, Send({.operation = "CreateMultipartUpload",
                                                       .method = "POST",
                                                       .bucket = bucket,
                                                       .key = key,
                                                       .query = {{"uploads", ""}}}));
  std::string upload_id = XmlText(response.body, "UploadId").value_or("");
  if (upload_id.empty()) {
    return IoError(fmt::format("S3 CreateMultipartUpload answered without an UploadId: {}",
                               S3Url(bucket, key)));
  }
  return upload_id;
}

Result<std::string> S3Client::UploadPart(const std::string& bucket, const std::string& key,
                                         const std::string& upload_id, int part_number,
                                         std::string_view body) {
  SLUICE_ASSIGN_OR_RETURN(
      HttpResponse response,
      Send({.operation = "UploadPart",
            .method = "PUT",
            .bucket = bucket,
            .key = key,
            .query = {{"partNumber", std::to_string(part_number)}, {"uploadId", upload_id}},
            .body = body}));
  std::string etag = response.header("etag");
  if (etag.empty()) {
    return IoError(fmt::format("S3 UploadPart answered part {} without an ETag: {}", part_number,
                               S3Url(bucket, key)));
  }
  return etag;
}

Result<std::string> S3Client::CompleteMultipartUpload(const std::string& bucket,
                                                      const std::string& key,
                                                      const std::string& upload_id,
                                                      const std::vector<S3Part>& parts) {
  std::string body = "<CompleteMultipartUpload>";
  for (const S3Part& part : parts) {
    body += fmt::format("<Part><PartNumber>{}</PartNumber><ETag>{}</ETag></Part>",
                        part.part_number, XmlEscape(part.etag));
  }
  body += "</CompleteMultipartUpload>";
  SLUICE_ASSIGN_OR_RETURN(HttpResponse response,
                          Send({.operation = "CompleteMultipartUpload",
                                .method = "POST",
                                .bucket = bucket,
                                .key = key,
                                .query = {{"uploadId", upload_id}},
                                .headers = {{"content-type", "application/xml"}},
                                .body = body}));
  // S3 answers 200 at once and may still fail while assembling: then the body is an <Error>.
  if (XmlRootName(response.body) == "Error") {
    return S3Error(response.status, response.body, "CompleteMultipartUpload",
                   S3Url(bucket, key), options_.access_key_id);
  }
  return XmlText(response.body, "ETag").value_or("");
}

Status S3Client::AbortMultipartUpload(const std::string& bucket, const std::string& key,
                                      const std::string& upload_id) {
  return Send({.operation = "AbortMultipartUpload",
               .method = "DELETE",
               .bucket = bucket,
               .key = key,
               .query = {{"uploadId", upload_id}}})
      .status();
}

Result<std::vector<S3MultipartUpload>> S3Client::ListMultipartUploads(const std::string& bucket,
                                                                      const std::string& prefix) {
  std::vector<S3MultipartUpload> uploads;
  std::string key_marker;
  std::string upload_id_marker;
  while (true) {
    Call call{.operation = "ListMultipartUploads", .method = "GET", .bucket = bucket};
    call.query = {{"uploads", ""}};
    if (!prefix.empty())
      call.query.emplace_back("prefix", prefix);
    if (!key_marker.empty())
      call.query.emplace_back("key-marker", key_marker);
    if (!upload_id_marker.empty())
      call.query.emplace_back("upload-id-marker", upload_id_marker);
    SLUICE_ASSIGN_OR_RETURN(HttpResponse response, Send(call));
    for (std::string_view upload : XmlElements(response.body, "Upload")) {
      uploads.push_back({XmlText(upload, "Key").value_or(""),
                         XmlText(upload, "UploadId").value_or(""),
                         XmlText(upload, "Initiated").value_or("")});
    }
    if (!IsTrue(response.body, "IsTruncated"))
      break;
    key_marker = XmlText(response.body, "NextKeyMarker").value_or("");
    upload_id_marker = XmlText(response.body, "NextUploadIdMarker").value_or("");
    if (key_marker.empty()) {
      return IoError(fmt::format("S3 ListMultipartUploads says the list goes on but gives no "
                                 "marker: {}",
                                 S3Url(bucket, prefix)));
    }
  }
  return uploads;
}

Result<std::vector<S3Part>> S3Client::ListParts(const std::string& bucket, const std::string& key,
                                                const std::string& upload_id) {
  std::vector<S3Part> parts;
  std::string marker;
  while (true) {
    Call call{.operation = "ListParts", .method = "GET", .bucket = bucket, .key = key};
    call.query = {{"uploadId", upload_id}};
    if (!marker.empty())
      call.query.emplace_back("part-number-marker", marker);
    SLUICE_ASSIGN_OR_RETURN(HttpResponse response, Send(call));
    for (std::string_view part : XmlElements(response.body, "Part")) {
      S3Part parsed;
      parsed.part_number = std::atoi(XmlText(part, "PartNumber").value_or("0").c_str());
      parsed.etag = XmlText(part, "ETag").value_or("");
      SLUICE_ASSIGN_OR_RETURN(parsed.size, ParseSize(XmlText(part, "Size").value_or(""),
                                                     S3Url(bucket, key)));
      parts.push_back(std::move(parsed));
    }
    if (!IsTrue(response.body, "IsTruncated"))
      break;
    std::string next = XmlText(response.body, "NextPartNumberMarker").value_or("");
    if (next.empty() || next == marker) {
      return IoError(fmt::format("S3 ListParts says the list goes on but gives no new marker: {}",
                                 S3Url(bucket, key)));
    }
    marker = next;
  }
  std::sort(parts.begin(), parts.end(),
            [](const S3Part& a, const S3Part& b) { return a.part_number < b.part_number; });
  return parts;
}

}  // namespace sluice::io
