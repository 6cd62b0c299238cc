// S3Client against a real S3-compatible store: s3proxy of the `s3` fixture, which checks AWS
// Signature V4 and keeps its bucket in a folder. Every test uses keys under a prefix of its own.
#include "io/s3_client.h"

#include <fmt/core.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>

#include "io/tests/io_test_util.h"
#include "testing/gtest_util.h"
#include "testing/test_servers.h"

namespace sluice::io {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;

constexpr size_t kMiB = 1024 * 1024;

class S3ClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK_AND_ASSIGN(testing::TestServers servers, testing::TestServers::FromEnvironment());
    ASSERT_FALSE(servers.s3.endpoint.empty())
        << "no S3 store in " << servers.env_file << ": run with the `s3` fixture";
    server_ = servers.s3;
    options_.endpoint = server_.endpoint;
    options_.region = server_.region;
    options_.access_key_id = server_.access_key;
    options_.secret_access_key = Secret(server_.secret_key);
    ASSERT_OK_AND_ASSIGN(S3Client client, S3Client::Open(options_));
    client_ = std::make_unique<S3Client>(std::move(client));
    bucket_ = server_.bucket;
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    prefix_ = fmt::format("{}-{}/", info->name(), ::getpid());
  }

  std::string Key(std::string_view name) const { return prefix_ + std::string(name); }

  std::vector<std::string> KeysUnder(const std::string& prefix) {
    std::vector<std::string> keys;
    S3ListRequest request{.prefix = prefix};
    while (true) {
      Result<S3ListPage> page = client_->ListObjects(bucket_, request);
      EXPECT_OK(page.status());
      if (!page.ok())
        break;
      for (const S3ObjectInfo& object : page->objects)
        keys.push_back(object.key);
      if (page->next_continuation_token.empty())
        break;
      request.continuation_token = page->next_continuation_token;
    }
    return keys;
  }

  std::vector<std::string> UploadIdsOf(const std::string& key) {
    std::vector<std::string> ids;
    Result<std::vector<S3MultipartUpload>> uploads =
        client_->ListMultipartUploads(bucket_, prefix_);
    EXPECT_OK(uploads.status());
    if (uploads.ok()) {
      for (const S3MultipartUpload& upload : *uploads) {
        if (upload.key == key)
          ids.push_back(upload.upload_id);
      }
    }
    return ids;
  }

  testing::S3Endpoint server_;
  S3Options options_;
  std::unique_ptr<S3Client> client_;
  std::string bucket_;
  std::string prefix_;
};

TEST_F(S3ClientTest, PutGetHeadDelete) {
  std::string data = MakeText(100 * 1024);
  ASSERT_OK_AND_ASSIGN(std::string etag, client_->PutObject(bucket_, Key("a.csv"), data));
  EXPECT_THAT(etag, Not(IsEmpty()));
  ASSERT_OK_AND_ASSIGN(std::string read, client_->GetObject(bucket_, Key("a.csv")));
  EXPECT_TRUE(read == data);
  ASSERT_OK_AND_ASSIGN(S3ObjectInfo info, client_->HeadObject(bucket_, Key("a.csv")));
  EXPECT_EQ(info.size, data.size());
  EXPECT_EQ(info.etag, etag);
  EXPECT_THAT(info.last_modified, Not(IsEmpty()));
  // Replacing.
  ASSERT_OK(client_->PutObject(bucket_, Key("a.csv"), "short").status());
  ASSERT_OK_AND_ASSIGN(std::string replaced, client_->GetObject(bucket_, Key("a.csv")));
  EXPECT_EQ(replaced, "short");
  ASSERT_OK(client_->DeleteObject(bucket_, Key("a.csv")));
  EXPECT_EQ(client_->HeadObject(bucket_, Key("a.csv")).status().code(), StatusCode::kNotFound);
  // Deleting what is gone is fine.
  EXPECT_OK(client_->DeleteObject(bucket_, Key("a.csv")));
}

TEST_F(S3ClientTest, EmptyObject) {
  ASSERT_OK(client_->PutObject(bucket_, Key("empty"), "").status());
  ASSERT_OK_AND_ASSIGN(S3ObjectInfo info, client_->HeadObject(bucket_, Key("empty")));
  EXPECT_EQ(info.size, 0u);
  ASSERT_OK_AND_ASSIGN(std::string read, client_->GetObject(bucket_, Key("empty")));
  EXPECT_EQ(read, "");
  EXPECT_THAT(KeysUnder(prefix_), ElementsAre(Key("empty")));
}

TEST_F(S3ClientTest, UnicodeKeysWithSpacesAndReservedCharacters) {
  std::vector<std::string> names = {"dt=2026-12-05/ünïcødé fïlé 😀.csv", "a+b c&d=e.csv",
                                    "percent%20not-decoded.csv", "semi;colon,comma'quote.csv"};
  for (const std::string& name : names) {
    SCOPED_TRACE(name);
    ASSERT_OK(client_->PutObject(bucket_, Key(name), name).status());
    ASSERT_OK_AND_ASSIGN(std::string read, client_->GetObject(bucket_, Key(name)));
    EXPECT_EQ(read, name);
    ASSERT_OK_AND_ASSIGN(S3ObjectInfo info, client_->HeadObject(bucket_, Key(name)));
    EXPECT_EQ(info.size, name.size());
  }
  std::vector<std::string> expected;
  for (const std::string& name : names)
    expected.push_back(Key(name));
  std::sort(expected.begin(), expected.end());
  std::vector<std::string> listed = KeysUnder(prefix_);
  std::sort(listed.begin(), listed.end());
  EXPECT_EQ(listed, expected);
  // A prefix with a space and non-ASCII characters, as a query parameter.
  EXPECT_THAT(KeysUnder(Key("dt=2026-12-05/ünïcødé f")),
              ElementsAre(Key("dt=2026-12-05/ünïcødé fïlé 😀.csv")));
}

TEST_F(S3ClientTest, RangeReadsIncludingTheLastEightBytes) {
  std::string data = MakeText(300 * 1024, 5);
  ASSERT_OK(client_->PutObject(bucket_, Key("t.parquet"), data).status());
  ASSERT_OK_AND_ASSIGN(std::string tail, client_->GetObjectTail(bucket_, Key("t.parquet"), 8));
  EXPECT_EQ(tail, data.substr(data.size() - 8));
  ASSERT_OK_AND_ASSIGN(std::string middle,
                       client_->GetObjectRange(bucket_, Key("t.parquet"), 100, 100));
  EXPECT_EQ(middle, data.substr(100, 100));
  ASSERT_OK_AND_ASSIGN(std::string past_end,
                       client_->GetObjectRange(bucket_, Key("t.parquet"), data.size() - 5, 50));
  EXPECT_EQ(past_end, data.substr(data.size() - 5));
  ASSERT_OK(client_->PutObject(bucket_, Key("tiny"), "abc").status());
  ASSERT_OK_AND_ASSIGN(std::string whole, client_->GetObjectTail(bucket_, Key("tiny"), 8));
  EXPECT_EQ(whole, "abc");
}

TEST_F(S3ClientTest, ListWithPrefixDelimiterAndPages) {
  for (std::string_view name : {"dt=1/a.csv", "dt=1/b.csv", "dt=2/c.csv", "top.csv", "z.csv"})
    ASSERT_OK(client_->PutObject(bucket_, Key(name), "x").status());
  ASSERT_OK_AND_ASSIGN(S3ListPage by_folder,
                       client_->ListObjects(bucket_, {.prefix = prefix_, .delimiter = "/"}));
  std::vector<std::string> keys;
  for (const S3ObjectInfo& object : by_folder.objects)
    keys.push_back(object.key);
  EXPECT_THAT(keys, ElementsAre(Key("top.csv"), Key("z.csv")));
  EXPECT_THAT(by_folder.common_prefixes, ElementsAre(Key("dt=1/"), Key("dt=2/")));
  EXPECT_EQ(by_folder.next_continuation_token, "");
  EXPECT_EQ(by_folder.objects[0].size, 1u);

  // Two keys a page: three pages, every key once, in order.
  std::vector<std::string> paged;
  S3ListRequest request{.prefix = prefix_, .max_keys = 2};
  int pages = 0;
  while (true) {
    ASSERT_OK_AND_ASSIGN(S3ListPage page, client_->ListObjects(bucket_, request));
    ++pages;
    EXPECT_LE(page.objects.size(), 2u);
    for (const S3ObjectInfo& object : page.objects)
      paged.push_back(object.key);
    if (page.next_continuation_token.empty())
      break;
    request.continuation_token = page.next_continuation_token;
    ASSERT_LT(pages, 10);
  }
  EXPECT_EQ(pages, 3);
  EXPECT_THAT(paged, ElementsAre(Key("dt=1/a.csv"), Key("dt=1/b.csv"), Key("dt=2/c.csv"),
                                 Key("top.csv"), Key("z.csv")));
  EXPECT_THAT(KeysUnder(Key("nothing-here/")), IsEmpty());
}

TEST_F(S3ClientTest, MultipartUploadOfTwoFullPartsAndATail) {
  std::string key = Key("big.parquet");
  std::vector<std::string> parts = {MakeText(5 * kMiB, 1), MakeText(5 * kMiB, 2),
                                    MakeText(kMiB + 17, 3)};
  ASSERT_OK_AND_ASSIGN(std::string upload_id, client_->CreateMultipartUpload(bucket_, key));
  std::vector<S3Part> uploaded;
  for (size_t i = 0; i < parts.size(); ++i) {
    int number = static_cast<int>(i) + 1;
    ASSERT_OK_AND_ASSIGN(std::string etag,
                         client_->UploadPart(bucket_, key, upload_id, number, parts[i]));
    uploaded.push_back({number, etag, parts[i].size()});
  }
  // Not an object until completed: invisible to listings and HEAD, but listed as an upload.
  EXPECT_THAT(KeysUnder(prefix_), IsEmpty());
  EXPECT_EQ(client_->HeadObject(bucket_, key).status().code(), StatusCode::kNotFound);
  EXPECT_THAT(UploadIdsOf(key), ElementsAre(upload_id));
  ASSERT_OK_AND_ASSIGN(std::vector<S3Part> listed, client_->ListParts(bucket_, key, upload_id));
  ASSERT_EQ(listed.size(), 3u);
  for (size_t i = 0; i < listed.size(); ++i) {
    EXPECT_EQ(listed[i].part_number, uploaded[i].part_number);
    EXPECT_EQ(listed[i].etag, uploaded[i].etag);
    EXPECT_EQ(listed[i].size, parts[i].size());
  }

  ASSERT_OK_AND_ASSIGN(std::string etag,
                       client_->CompleteMultipartUpload(bucket_, key, upload_id, uploaded));
  EXPECT_THAT(etag, Not(IsEmpty()));
  std::string whole = parts[0] + parts[1] + parts[2];
  ASSERT_OK_AND_ASSIGN(S3ObjectInfo info, client_->HeadObject(bucket_, key));
  EXPECT_EQ(info.size, whole.size());
  ASSERT_OK_AND_ASSIGN(std::string read, client_->GetObject(bucket_, key));
  EXPECT_TRUE(read == whole) << "read " << read.size() << " bytes of " << whole.size();
  ASSERT_OK_AND_ASSIGN(std::string tail, client_->GetObjectTail(bucket_, key, 8));
  EXPECT_EQ(tail, whole.substr(whole.size() - 8));
  EXPECT_THAT(UploadIdsOf(key), IsEmpty());
}

TEST_F(S3ClientTest, ResumesAnUploadAfterACrashByListingItsParts) {
  std::string key = Key("resumed.parquet");
  std::vector<std::string> parts = {MakeText(5 * kMiB, 4), MakeText(5 * kMiB, 5),
                                    MakeText(100, 6)};
  {
    // The writer that crashes after two parts: only the key survives (in its checkpoint).
    ASSERT_OK_AND_ASSIGN(S3Client writer, S3Client::Open(options_));
    ASSERT_OK_AND_ASSIGN(std::string upload_id, writer.CreateMultipartUpload(bucket_, key));
    ASSERT_OK(writer.UploadPart(bucket_, key, upload_id, 1, parts[0]).status());
    ASSERT_OK(writer.UploadPart(bucket_, key, upload_id, 2, parts[1]).status());
  }
  // The restarted writer finds the upload by its key, and what it already holds.
  std::vector<std::string> ids = UploadIdsOf(key);
  ASSERT_EQ(ids.size(), 1u);
  ASSERT_OK_AND_ASSIGN(std::vector<S3Part> done, client_->ListParts(bucket_, key, ids[0]));
  ASSERT_EQ(done.size(), 2u);
  EXPECT_EQ(done[0].size, parts[0].size());
  EXPECT_EQ(done[1].size, parts[1].size());
  ASSERT_OK_AND_ASSIGN(std::string etag, client_->UploadPart(bucket_, key, ids[0], 3, parts[2]));
  done.push_back({3, etag, parts[2].size()});
  ASSERT_OK(client_->CompleteMultipartUpload(bucket_, key, ids[0], done).status());
  ASSERT_OK_AND_ASSIGN(std::string read, client_->GetObject(bucket_, key));
  EXPECT_TRUE(read == parts[0] + parts[1] + parts[2]);
}

TEST_F(S3ClientTest, AbortDropsAnUpload) {
  std::string key = Key("aborted.parquet");
  ASSERT_OK_AND_ASSIGN(std::string upload_id, client_->CreateMultipartUpload(bucket_, key));
  ASSERT_OK(client_->UploadPart(bucket_, key, upload_id, 1, MakeText(5 * kMiB)).status());
  ASSERT_OK(client_->AbortMultipartUpload(bucket_, key, upload_id));
  EXPECT_THAT(UploadIdsOf(key), IsEmpty());
  EXPECT_EQ(client_->HeadObject(bucket_, key).status().code(), StatusCode::kNotFound);
  EXPECT_THAT(KeysUnder(prefix_), IsEmpty());
  // Completing it now: no such upload.
  Status late = client_->CompleteMultipartUpload(bucket_, key, upload_id, {{1, "\"x\"", 0}})
                    .status();
  EXPECT_EQ(late.code(), StatusCode::kNotFound) << late.ToString();
}

TEST_F(S3ClientTest, CompleteWithAWrongETagFails) {
  std::string key = Key("bad-etag");
  ASSERT_OK_AND_ASSIGN(std::string upload_id, client_->CreateMultipartUpload(bucket_, key));
  ASSERT_OK(client_->UploadPart(bucket_, key, upload_id, 1, "only part").status());
  Status status =
      client_->CompleteMultipartUpload(bucket_, key, upload_id,
                                       {{1, "\"00000000000000000000000000000000\"", 0}})
          .status();
  EXPECT_FALSE(status.ok());
  EXPECT_THAT(status.message(), HasSubstr("CompleteMultipartUpload"));
  EXPECT_THAT(status.message(), HasSubstr("s3://" + bucket_ + "/" + key));
  EXPECT_EQ(client_->HeadObject(bucket_, key).status().code(), StatusCode::kNotFound);
  EXPECT_OK(client_->AbortMultipartUpload(bucket_, key, upload_id));
}

TEST_F(S3ClientTest, MissingObjectAndBucketAreNotFound) {
  Status get = client_->GetObject(bucket_, Key("missing")).status();
  EXPECT_EQ(get.code(), StatusCode::kNotFound) << get.ToString();
  EXPECT_THAT(get.message(), HasSubstr("NoSuchKey"));
  EXPECT_THAT(get.message(), HasSubstr(Key("missing")));
  Status head = client_->HeadObject(bucket_, Key("missing")).status();
  EXPECT_EQ(head.code(), StatusCode::kNotFound) << head.ToString();
  Status bucket = client_->PutObject("no-such-bucket-sluice", "k", "x").status();
  EXPECT_EQ(bucket.code(), StatusCode::kNotFound) << bucket.ToString();
  EXPECT_THAT(bucket.message(), HasSubstr("NoSuchBucket"));
}

TEST_F(S3ClientTest, WrongSecretIsPermissionDeniedWithoutTheSecret) {
  S3Options options = options_;
  std::string wrong_secret = "not-the-secret-" + std::to_string(::getpid());
  options.secret_access_key = Secret(wrong_secret);
  ASSERT_OK_AND_ASSIGN(S3Client client, S3Client::Open(options));
  for (Status status : {client.PutObject(bucket_, Key("x"), "x").status(),
                        client.GetObject(bucket_, Key("x")).status(),
                        client.ListObjects(bucket_, {}).status()}) {
    EXPECT_EQ(status.code(), StatusCode::kPermissionDenied) << status.ToString();
    EXPECT_THAT(status.message(), HasSubstr("check the access key id"));
    EXPECT_THAT(status.message(), HasSubstr(server_.access_key));
    EXPECT_THAT(status.message(), Not(HasSubstr(wrong_secret)));
    EXPECT_THAT(status.message(), Not(HasSubstr(server_.secret_key)));
  }
  // HEAD has no body to say why: still PermissionDenied.
  Status head = client.HeadObject(bucket_, Key("x")).status();
  EXPECT_EQ(head.code(), StatusCode::kPermissionDenied) << head.ToString();
  EXPECT_THAT(head.message(), HasSubstr("check the access key id"));
  EXPECT_THAT(head.message(), Not(HasSubstr(wrong_secret)));

  options.access_key_id = "unknown-access-key";
  ASSERT_OK_AND_ASSIGN(S3Client unknown, S3Client::Open(options));
  Status status = unknown.GetObject(bucket_, Key("x")).status();
  EXPECT_EQ(status.code(), StatusCode::kPermissionDenied) << status.ToString();
  EXPECT_THAT(status.message(), HasSubstr("unknown-access-key"));
}

TEST_F(S3ClientTest, UnreachableEndpointIsUnavailable) {
  S3Options options = options_;
  options.endpoint = fmt::format("http://127.0.0.1:{}", ClosedLoopbackPort());
  ASSERT_OK_AND_ASSIGN(S3Client client, S3Client::Open(options));
  Status status = client.PutObject(bucket_, Key("x"), "x").status();
  EXPECT_EQ(status.code(), StatusCode::kUnavailable) << status.ToString();
  EXPECT_TRUE(status.IsTransient());
  EXPECT_THAT(status.message(), HasSubstr("s3://" + bucket_ + "/" + Key("x")));
  EXPECT_THAT(status.message(), Not(HasSubstr(server_.secret_key)));
}

TEST_F(S3ClientTest, OptionsAreChecked) {
  S3Options options = options_;
  options.endpoint = "127.0.0.1:9000";
  EXPECT_EQ(S3Client::Open(options).status().code(), StatusCode::kInvalidConfig);
  options = options_;
  options.endpoint += "/path";
  EXPECT_EQ(S3Client::Open(options).status().code(), StatusCode::kInvalidConfig);
  options = options_;
  options.secret_access_key = Secret();
  EXPECT_EQ(S3Client::Open(options).status().code(), StatusCode::kInvalidConfig);
}

}  // namespace
}  // namespace sluice::io
