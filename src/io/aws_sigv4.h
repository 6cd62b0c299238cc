// AWS Signature Version 4 for S3 requests, computed with OpenSSL's SHA-256 and HMAC: what
// S3Client signs every request with (and what S3-compatible stores check).
//
// The steps (canonical request, string to sign, derived key) follow AWS's "Signature Version 4
// signing process"; S3's rules apply: the path is encoded once (not twice, as other services
// want) and the payload's SHA-256 is sent as x-amz-content-sha256 and signed.
//
// Thread-safety: pure functions.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/secret.h"

namespace sluice::io {

struct AwsCredentials {
  std::string access_key_id;
  Secret secret_access_key;
};

struct SigV4Request {
  std::string method;
  /// The path as sent: already percent-encoded (PercentEncode(..., keep_slash=true)).
  std::string encoded_path;
  /// Query parameters, not encoded; a parameter without a value ("uploads") has "".
  std::vector<std::pair<std::string, std::string>> query;
  /// Every header to sign (at least host, x-amz-date and x-amz-content-sha256); names in any
  /// case, values as sent.
  std::vector<std::pair<std::string, std::string>> headers;
  /// Lower-case hex SHA-256 of the body (Sha256Hex), or "UNSIGNED-PAYLOAD".
  std::string payload_sha256;
};

/// Lower-case hex SHA-256 of `data`.
std::string Sha256Hex(std::string_view data);

/// The query string as both the signature and the URL want it: names and values encoded
/// (PercentEncode, '/' too), sorted by name then value, "name=value" joined with '&'.
std::string CanonicalQueryString(const std::vector<std::pair<std::string, std::string>>& query);

/// The value of the Authorization header for `request` at `amz_date` (YYYYMMDD'T'HHMMSS'Z',
/// also sent as x-amz-date), for `service` ("s3") in `region`.
std::string SignV4(const SigV4Request& request, const AwsCredentials& credentials,
                   std::string_view region, std::string_view service, std::string_view amz_date);

/// The current UTC time as x-amz-date wants it.
std::string AmzDateNow();

}  // namespace sluice::io
