// AWS Signature V4 against the worked examples of AWS's S3 documentation ("Signature
// Calculations for the Authorization Header"), whose signatures are published.
#include "io/aws_sigv4.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace sluice::io {
namespace {

const AwsCredentials kExampleCredentials{"AKIAIOSFODNN7EXAMPLE",
                                         Secret("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")};
constexpr char kEmptySha256[] = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

TEST(AwsSigV4Test, Sha256OfNothingIsTheKnownDigest) {
  EXPECT_EQ(Sha256Hex(""), kEmptySha256);
}

TEST(AwsSigV4Test, SignsAwsGetObjectExampleWithRange) {
  SigV4Request request{.method = "GET",
                       .encoded_path = "/test.txt",
                       .headers = {{"Host", "examplebucket.s3.amazonaws.com"},
                                   {"Range", "bytes=0-9"},
                                   {"x-amz-content-sha256", kEmptySha256},
                                   {"x-amz-date", "20130524T000000Z"}},
                       .payload_sha256 = kEmptySha256};
  EXPECT_EQ(SignV4(request, kExampleCredentials, "us-east-1", "s3", "20130524T000000Z"),
            "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, "
            "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, "
            "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
}

TEST(AwsSigV4Test, SignsAwsListObjectsExampleWithSortedQuery) {
  // The query given out of order: the canonical form sorts it.
  SigV4Request request{.method = "GET",
                       .encoded_path = "/",
                       .query = {{"prefix", "J"}, {"max-keys", "2"}},
                       .headers = {{"host", "examplebucket.s3.amazonaws.com"},
                                   {"x-amz-content-sha256", kEmptySha256},
                                   {"x-amz-date", "20130524T000000Z"}},
                       .payload_sha256 = kEmptySha256};
  EXPECT_THAT(SignV4(request, kExampleCredentials, "us-east-1", "s3", "20130524T000000Z"),
              ::testing::EndsWith(
                  "Signature=34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7"));
}

TEST(AwsSigV4Test, CanonicalQueryEncodesSlashesSpacesAndBareNames) {
  EXPECT_EQ(CanonicalQueryString({{"uploads", ""}, {"prefix", "a b/ü"}, {"delimiter", "/"}}),
            "delimiter=%2F&prefix=a%20b%2F%C3%BC&uploads=");
}

TEST(AwsSigV4Test, SignatureNeverContainsTheSecret) {
  SigV4Request request{.method = "PUT",
                       .encoded_path = "/bucket/key",
                       .headers = {{"host", "127.0.0.1:9000"}},
                       .payload_sha256 = Sha256Hex("body")};
  std::string header = SignV4(request, kExampleCredentials, "us-east-1", "s3", "20260101T000000Z");
  EXPECT_THAT(header, ::testing::Not(::testing::HasSubstr("wJalrXUtnFEMI")));
}

}  // namespace
}  // namespace sluice::io
