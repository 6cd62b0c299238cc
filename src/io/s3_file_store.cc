// The S3 store: a table's files under s3://bucket/prefix, through io::S3Client.
//
// A staged file is a multipart upload of its final key, invisible until Publish() completes it.
// Writes gather in memory; each full part (FileStoreOptions::s3_part_bytes) is uploaded as soon
// as it is there. Commit() cannot upload the bytes short of a part (only the last part of an
// object may be smaller than 5 MiB), so it puts them in a side object, the tail, named by the
// upload and the commit's number:
//   <prefix>/_sluice/staged/<sha256(upload id), 32 hex>-<commit>.tail
// A returned state therefore never changes: a later commit writes another tail. The state is
//   {"key", "upload_id", "parts": [{"n", "etag", "size"}], "tail": key or "", "tail_bytes",
//    "length", "commit"}
// (Hive and Spark skip `_sluice/`, as every name starting with '_'.)
//
// Tails are not deleted by Commit(): until the caller's own commit (its manifest) lands, the
// previous state may be the one it resumes from. Publish() and Discard() delete every tail of
// their upload, since no state of an upload completed or aborted is of use any more; the tails
// of an upload a crash left behind go when ListStaged() finds the upload and the caller
// discards it.
//
// Resume() reads the tail back into memory and goes on from the part after the committed ones:
// parts a crashed writer uploaded after the commit are replaced (an upload keeps the last part
// uploaded under a number) or left out of the completion. Publish() uploads the tail as the
// last part and completes the upload with exactly the committed parts; an empty file (no part,
// no tail) is put as an empty object and its upload aborted. A Publish() that finds the upload
// gone and the key there was done already (OK); that finds both, the key is someone else's
// (Conflict), except an empty object for an empty file, which is this one put before a crash
// could abort the upload.
//
// Thread-safety: small calls borrow a client from a pool (ClientPool); a staged file has a
// client of its own.
#include <fmt/core.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "io/aws_sigv4.h"
#include "io/client_pool.h"
#include "io/file_store.h"
#include "io/file_system.h"
#include "io/s3_client.h"

namespace sluice::io {

namespace {

using Json = nlohmann::json;
using Pool = ClientPool<S3Client, S3Options>;

constexpr uint64_t kMinPartBytes = 5ull << 20;
constexpr uint64_t kMaxPartBytes = 5ull << 30;
constexpr size_t kMaxParts = 10000;

struct S3State {
  std::string key;
  std::string upload_id;
  std::vector<S3Part> parts;
  std::string tail;  // the tail object's key, "" when there is no tail
  uint64_t tail_bytes = 0;
  uint64_t length = 0;
  uint64_t commit = 0;
  /// The number the next part gets: after the committed ones, or further on in a fork, whose
  /// parts must not be the numbers the original's writer goes on with (see Fork).
  int next_part = 1;
};

std::string EncodeState(const S3State& state) {
  Json parts = Json::array();
  for (const S3Part& part : state.parts)
    parts.push_back(Json{{"n", part.part_number}, {"etag", part.etag}, {"size", part.size}});
  return Json{{"key", state.key},
              {"upload_id", state.upload_id},
              {"parts", std::move(parts)},
              {"tail", state.tail},
              {"tail_bytes", state.tail_bytes},
              {"length", state.length},
              {"commit", state.commit},
              {"next_part", state.next_part}}
      .dump();
}

Result<S3State> DecodeState(std::string_view text) {
  Json json = Json::parse(text, nullptr, /*allow_exceptions=*/false);
  auto bad = [&] { return DataError(fmt::format("not the state of a staged S3 file: {}", text)); };
  if (!json.is_object())
    return bad();
  for (const char* name : {"key", "upload_id", "tail"}) {
    if (!json.contains(name) || !json[name].is_string())
      return bad();
  }
  for (const char* name : {"tail_bytes", "length", "commit"}) {
    if (!json.contains(name) || !json[name].is_number_unsigned())
      return bad();
  }
  if (!json.contains("parts") || !json["parts"].is_array())
    return bad();
  S3State state{.key = json["key"].get<std::string>(),
                .upload_id = json["upload_id"].get<std::string>(),
                .tail = json["tail"].get<std::string>(),
                .tail_bytes = json["tail_bytes"].get<uint64_t>(),
                .length = json["length"].get<uint64_t>(),
                .commit = json["commit"].get<uint64_t>()};
  for (const Json& part : json["parts"]) {
    if (!part.is_object() || !part.contains("n") || !part["n"].is_number_unsigned() ||
        !part.contains("etag") || !part["etag"].is_string() || !part.contains("size") ||
        !part["size"].is_number_unsigned()) {
      return bad();
    }
    state.parts.push_back(S3Part{.part_number = part["n"].get<int>(),
                                 .etag = part["etag"].get<std::string>(),
                                 .size = part["size"].get<uint64_t>()});
  }
  // States written before forks existed number parts after the last.
  state.next_part = state.parts.empty() ? 1 : state.parts.back().part_number + 1;
  if (json.contains("next_part") && json["next_part"].is_number_unsigned())
    state.next_part = std::max(state.next_part, json["next_part"].get<int>());
  return state;
}

/// Where one bucket's staged tails live, and their names.
class TailNames {
 public:
  explicit TailNames(const std::string& prefix)
      : directory_((prefix.empty() ? "" : prefix + "/") + "_sluice/staged/") {}

  /// Every tail of the upload starts with this.
  std::string OfUpload(const std::string& upload_id) const {
    // Upload ids are long and may hold any character: a hash names them safely.
    return fmt::format("{}{}-", directory_, Sha256Hex(upload_id).substr(0, 32));
  }
  std::string Of(const std::string& upload_id, uint64_t commit) const {
    return fmt::format("{}{}.tail", OfUpload(upload_id), commit);
  }

 private:
  std::string directory_;
};

class S3StagedFile final : public StagedFile {
 public:
  S3StagedFile(std::unique_ptr<S3Client> client, std::string bucket, TailNames tails,
               uint64_t part_bytes, S3State state, std::string buffer)
      : client_(std::move(client)),
        bucket_(std::move(bucket)),
        tails_(std::move(tails)),
        part_bytes_(part_bytes),
        key_(std::move(state.key)),
        upload_id_(std::move(state.upload_id)),
        parts_(std::move(state.parts)),
        length_(state.length),
        commit_(state.commit),
        next_part_(state.next_part),
        buffer_(std::move(buffer)) {}

  Status Write(std::string_view data) override {
    if (client_ == nullptr)
      return Internal(fmt::format("write to 's3://{}/{}' after Close", bucket_, key_));
    buffer_.append(data);
    length_ += data.size();
    // A failed upload leaves the buffer as it was: the part can be uploaded again.
    while (buffer_.size() >= part_bytes_) {
      if (next_part_ > static_cast<int>(kMaxParts)) {
        return IoError(fmt::format(
            "'s3://{}/{}' would need more than {} parts: raise s3_part_bytes (now {})", bucket_,
            key_, kMaxParts, part_bytes_));
      }
      int number = next_part_;
      std::string_view part = std::string_view(buffer_).substr(0, part_bytes_);
      SLUICE_ASSIGN_OR_RETURN(std::string etag,
                              client_->UploadPart(bucket_, key_, upload_id_, number, part));
      parts_.push_back(S3Part{.part_number = number, .etag = std::move(etag), .size = part_bytes_});
      ++next_part_;
      buffer_.erase(0, part_bytes_);
    }
    return Status::OK();
  }

  uint64_t length() const override { return length_; }

  Result<std::string> Commit() override {
    if (client_ == nullptr)
      return Internal(fmt::format("commit of 's3://{}/{}' after Close", bucket_, key_));
    S3State state{.key = key_,
                  .upload_id = upload_id_,
                  .parts = parts_,
                  .tail_bytes = buffer_.size(),
                  .length = length_,
                  .commit = commit_ + 1,
                  .next_part = next_part_};
    if (!buffer_.empty()) {
      // A tail of its own per commit: earlier states stay valid (see the header comment).
      state.tail = tails_.Of(upload_id_, state.commit);
      SLUICE_RETURN_IF_ERROR(client_->PutObject(bucket_, state.tail, buffer_).status());
    }
    commit_ = state.commit;
    return EncodeState(state);
  }

  /// Drops the bytes written since the last commit (the committed ones are in the upload's
  /// parts and the commit's tail).
  Status Close() override {
    client_.reset();
    buffer_.clear();
    return Status::OK();
  }

 private:
  std::unique_ptr<S3Client> client_;
  std::string bucket_;
  TailNames tails_;
  uint64_t part_bytes_;
  std::string key_;
  std::string upload_id_;
  std::vector<S3Part> parts_;  // uploaded, each part_bytes_ long
  uint64_t length_;
  uint64_t commit_;     // the number of the last commit
  int next_part_;       // the number the next uploaded part gets
  std::string buffer_;  // written, not yet in a part (shorter than a part between writes)
};

class S3FileStore final : public FileStore {
 public:
  S3FileStore(S3Options options, std::string bucket, std::string prefix, uint64_t part_bytes)
      : pool_(std::move(options)),
        bucket_(std::move(bucket)),
        prefix_(std::move(prefix)),
        part_bytes_(part_bytes),
        tails_(prefix_) {}

  Result<std::unique_ptr<StagedFile>> Stage(const std::string& path,
                                            std::string_view /*tag*/) override {
    // The upload id is unique already: the tag is not needed to tell runs apart.
    SLUICE_ASSIGN_OR_RETURN(std::unique_ptr<S3Client> client, pool_.OpenClient());
    S3State state{.key = Key(path)};
    SLUICE_ASSIGN_OR_RETURN(state.upload_id, client->CreateMultipartUpload(bucket_, state.key));
    return std::unique_ptr<StagedFile>(std::make_unique<S3StagedFile>(
        std::move(client), bucket_, tails_, part_bytes_, std::move(state), std::string()));
  }

  Result<std::unique_ptr<StagedFile>> Resume(const std::string& path,
                                             std::string_view state_text) override {
    SLUICE_ASSIGN_OR_RETURN(S3State state, DecodeStateOf(path, state_text));
    SLUICE_ASSIGN_OR_RETURN(std::unique_ptr<S3Client> client, pool_.OpenClient());
    std::string where = fmt::format("Cannot resume '{}'", Uri(path));
    SLUICE_ASSIGN_OR_RETURN(bool upload_exists, UploadExists(*client, state));
    if (!upload_exists) {
      return NotFound(fmt::format("{}: its upload is gone (published or discarded already)",
                                  where));
    }
    Result<std::vector<S3Part>> uploaded = client->ListParts(bucket_, state.key, state.upload_id);
    SLUICE_RETURN_IF_ERROR(uploaded.status().WithContext(where));
    // The committed parts must be as the commit left them.
    for (const S3Part& part : state.parts) {
      auto found = std::find_if(uploaded->begin(), uploaded->end(), [&](const S3Part& listed) {
        return listed.part_number == part.part_number;
      });
      if (found == uploaded->end() || found->etag != part.etag) {
        return DataError(fmt::format("{}: part {} of upload {} is not the committed one", where,
                                     part.part_number, state.upload_id));
      }
    }
    SLUICE_ASSIGN_OR_RETURN(std::string tail, ReadTail(*client, state));
    return std::unique_ptr<StagedFile>(std::make_unique<S3StagedFile>(
        std::move(client), bucket_, tails_, part_bytes_, std::move(state), std::move(tail)));
  }

  Status Publish(const std::string& path, std::string_view state_text) override {
    SLUICE_ASSIGN_OR_RETURN(S3State state, DecodeStateOf(path, state_text));
    SLUICE_ASSIGN_OR_RETURN(Pool::Lease client, pool_.Borrow());
    std::string where = fmt::format("Cannot publish '{}'", Uri(path));
    SLUICE_ASSIGN_OR_RETURN(bool upload_exists, UploadExists(*client, state));
    Result<S3ObjectInfo> existing = client->HeadObject(bucket_, state.key);
    if (!existing.ok() && existing.status().code() != StatusCode::kNotFound)
      return existing.status().WithContext(where);
    if (!upload_exists) {
      if (!existing.ok()) {
        return NotFound(fmt::format("{}: its upload {} is gone and the file is not there", where,
                                    state.upload_id));
      }
      // Completed by an earlier attempt, which may have crashed before deleting the tails.
      return DeleteTails(*client, state.upload_id).WithContext(where);
    }
    bool empty_file = state.parts.empty() && state.tail_bytes == 0;
    if (existing.ok() && !(empty_file && existing->size == 0))
      return Conflict(fmt::format("{}: the file exists", where));

    if (empty_file) {
      // S3 completes no upload without parts: an empty object instead.
      if (!existing.ok()) {
        SLUICE_RETURN_IF_ERROR(
            client->PutObject(bucket_, state.key, "").status().WithContext(where));
      }
      SLUICE_RETURN_IF_ERROR(AbortUpload(*client, state).WithContext(where));
      return DeleteTails(*client, state.upload_id).WithContext(where);
    }
    std::vector<S3Part> parts = state.parts;
    if (state.tail_bytes > 0) {
      // The last part may be short. Its number may hold bytes a crashed writer uploaded after
      // the commit: this upload replaces them.
      SLUICE_ASSIGN_OR_RETURN(std::string tail, ReadTail(*client, state));
      int number = state.next_part;
      SLUICE_ASSIGN_OR_RETURN(
          std::string etag,
          client->UploadPart(bucket_, state.key, state.upload_id, number, tail));
      parts.push_back(S3Part{.part_number = number, .etag = std::move(etag), .size = tail.size()});
    }
    Result<std::string> completed =
        client->CompleteMultipartUpload(bucket_, state.key, state.upload_id, parts);
    if (!completed.ok()) {
      // Another attempt completed it meanwhile: fine when the file is there.
      bool done_elsewhere = completed.status().code() == StatusCode::kNotFound &&
                            client->HeadObject(bucket_, state.key).ok();
      if (!done_elsewhere)
        return completed.status().WithContext(where);
    }
    return DeleteTails(*client, state.upload_id).WithContext(where);
  }

  // The same upload, its committed parts kept. The original's writer numbers its next parts and
  // commits after its own; the fork's parts start kForkPartGap further on and its commits (which
  // name its tails) 2^32 further on, so neither writes over what the other uploads.
  Result<std::string> Fork(const std::string& path, std::string_view state_text,
                           std::string_view tag) override {
    constexpr int kForkPartGap = 1000;
    SLUICE_ASSIGN_OR_RETURN(S3State state, DecodeStateOf(path, state_text));
    SLUICE_ASSIGN_OR_RETURN(Pool::Lease client, pool_.Borrow());
    std::string where = fmt::format("Cannot continue '{}' for this run", Uri(path));
    if (state.next_part + kForkPartGap > static_cast<int>(kMaxParts)) {
      return IoError(fmt::format("{}: its upload has no part numbers left for a second writer",
                                 where));
    }
    S3State fork = state;
    fork.next_part = state.next_part + kForkPartGap;
    fork.commit = state.commit + (uint64_t{1} << 32);
    if (state.tail_bytes > 0) {
      // The tail gets a name of the fork's: the original's writer may replace its own.
      SLUICE_ASSIGN_OR_RETURN(std::string tail, ReadTail(*client, state));
      fork.tail = tails_.Of(state.upload_id, fork.commit);
      SLUICE_RETURN_IF_ERROR(
          client->PutObject(bucket_, fork.tail, tail).status().WithContext(where));
    }
    return EncodeState(fork);
  }

  Status Discard(const std::string& path, std::string_view state_text) override {
    SLUICE_ASSIGN_OR_RETURN(S3State state,
                            DecodeStateOf(path, state_text, /*committed=*/false));
    SLUICE_ASSIGN_OR_RETURN(Pool::Lease client, pool_.Borrow());
    std::string where = fmt::format("Cannot discard '{}'", Uri(path));
    SLUICE_RETURN_IF_ERROR(AbortUpload(*client, state).WithContext(where));
    return DeleteTails(*client, state.upload_id).WithContext(where);
  }

  Result<std::vector<StagedEntry>> ListStaged(const std::string& directory,
                                              std::string_view name_prefix) override {
    SLUICE_ASSIGN_OR_RETURN(Pool::Lease client, pool_.Borrow());
    SLUICE_ASSIGN_OR_RETURN(std::vector<S3MultipartUpload> uploads,
                            client->ListMultipartUploads(bucket_, DirectoryPrefix(directory)));
    std::string root = DirectoryPrefix("");
    std::vector<StagedEntry> found;
    for (const S3MultipartUpload& upload : uploads) {
      if (upload.key.size() <= root.size() || upload.key.compare(0, root.size(), root) != 0)
        continue;
      std::string path = upload.key.substr(root.size());
      if (!BaseName(path).starts_with(name_prefix))
        continue;
      Result<std::vector<S3Part>> parts = client->ListParts(bucket_, upload.key, upload.upload_id);
      if (!parts.ok() && parts.status().code() == StatusCode::kNotFound)
        continue;  // completed or aborted meanwhile
      SLUICE_RETURN_IF_ERROR(parts.status());
      // What the upload holds, without a tail and with commit 0: enough for Discard(), refused
      // by Resume() and Publish().
      S3State state{.key = upload.key, .upload_id = upload.upload_id, .parts = *parts};
      for (const S3Part& part : state.parts)
        state.length += part.size;
      found.push_back(StagedEntry{std::move(path), EncodeState(state)});
    }
    std::stable_sort(found.begin(), found.end(),
                     [](const StagedEntry& a, const StagedEntry& b) { return a.path < b.path; });
    return found;
  }

  Status WriteFile(const std::string& path, std::string_view content) override {
    // A PUT replaces an object atomically.
    SLUICE_ASSIGN_OR_RETURN(Pool::Lease client, pool_.Borrow());
    return client->PutObject(bucket_, Key(path), content).status();
  }

  Result<std::string> ReadFile(const std::string& path) override {
    SLUICE_ASSIGN_OR_RETURN(Pool::Lease client, pool_.Borrow());
    return client->GetObject(bucket_, Key(path));
  }

  Result<std::string> ReadRange(const std::string& path, uint64_t offset,
                                uint64_t length) override {
    if (length == 0)
      return std::string();
    SLUICE_ASSIGN_OR_RETURN(Pool::Lease client, pool_.Borrow());
    return client->GetObjectRange(bucket_, Key(path), offset, length);
  }

  Result<uint64_t> Size(const std::string& path) override {
    SLUICE_ASSIGN_OR_RETURN(Pool::Lease client, pool_.Borrow());
    SLUICE_ASSIGN_OR_RETURN(S3ObjectInfo info, client->HeadObject(bucket_, Key(path)));
    return info.size;
  }

  Result<std::vector<std::string>> List(const std::string& directory) override {
    SLUICE_ASSIGN_OR_RETURN(Pool::Lease client, pool_.Borrow());
    std::string prefix = DirectoryPrefix(directory);
    std::vector<std::string> names;
    S3ListRequest request{.prefix = prefix, .delimiter = "/"};
    while (true) {
      SLUICE_ASSIGN_OR_RETURN(S3ListPage page, client->ListObjects(bucket_, request));
      for (const S3ObjectInfo& object : page.objects) {
        // A key equal to the prefix is a "folder" marker some tools create, not a file.
        if (object.key.size() > prefix.size())
          names.push_back(object.key.substr(prefix.size()));
      }
      for (const std::string& common : page.common_prefixes) {
        if (common.size() > prefix.size())
          names.push_back(common.substr(prefix.size()));
      }
      if (page.next_continuation_token.empty())
        break;
      request.continuation_token = std::move(page.next_continuation_token);
    }
    std::sort(names.begin(), names.end());
    names.erase(std::unique(names.begin(), names.end()), names.end());
    return names;
  }

  Status Delete(const std::string& path) override {
    SLUICE_ASSIGN_OR_RETURN(Pool::Lease client, pool_.Borrow());
    return client->DeleteObject(bucket_, Key(path));
  }

  Result<bool> Exists(const std::string& path) override {
    SLUICE_ASSIGN_OR_RETURN(Pool::Lease client, pool_.Borrow());
    Result<S3ObjectInfo> info = client->HeadObject(bucket_, Key(path));
    if (info.ok())
      return true;
    if (info.status().code() == StatusCode::kNotFound)
      return false;
    return info.status();
  }

  std::string Uri(const std::string& path) const override {
    return fmt::format("s3a://{}/{}", bucket_, Key(path));
  }

 private:
  std::string Key(std::string_view path) const {
    if (prefix_.empty())
      return std::string(path);
    return path.empty() ? prefix_ : fmt::format("{}/{}", prefix_, path);
  }
  /// The key prefix of everything under `directory`: "prefix/dir/" ("" for the bucket's root).
  std::string DirectoryPrefix(std::string_view directory) const {
    while (!directory.empty() && directory.back() == '/')
      directory.remove_suffix(1);  // "dir/" names the same directory as "dir"
    std::string key = Key(directory);
    return key.empty() ? key : key + "/";
  }

  /// `committed`: the state must come from Commit(), not ListStaged() (whose states lack the
  /// tail, so they are only good for Discard()).
  Result<S3State> DecodeStateOf(const std::string& path, std::string_view text,
                                bool committed = true) const {
    SLUICE_ASSIGN_OR_RETURN(S3State state, DecodeState(text));
    if (committed && state.commit == 0) {
      return DataError(fmt::format(
          "the state of 's3://{}/{}' is what ListStaged found, not a commit: it can only be "
          "discarded",
          bucket_, state.key));
    }
    // The upload was started for one key: it can become no other file.
    if (state.key != Key(path)) {
      return DataError(fmt::format("the staged state of 's3://{}/{}' does not belong to '{}'",
                                   bucket_, state.key, Uri(path)));
    }
    return state;
  }

  Result<std::string> ReadTail(S3Client& client, const S3State& state) const {
    if (state.tail_bytes == 0)
      return std::string();
    Result<std::string> tail = client.GetObject(bucket_, state.tail);
    if (!tail.ok() && tail.status().code() == StatusCode::kNotFound) {
      return DataError(fmt::format("the committed tail 's3://{}/{}' of '{}' is gone", bucket_,
                                   state.tail, state.key));
    }
    SLUICE_RETURN_IF_ERROR(tail.status());
    if (tail->size() != state.tail_bytes) {
      return DataError(fmt::format("the committed tail 's3://{}/{}' holds {} bytes, not {}",
                                   bucket_, state.tail, tail->size(), state.tail_bytes));
    }
    return tail;
  }

  /// Whether the upload is still in progress (neither completed nor aborted). Asked of
  /// ListMultipartUploads: some S3-compatible stores still list the parts of an aborted upload.
  Result<bool> UploadExists(S3Client& client, const S3State& state) const {
    SLUICE_ASSIGN_OR_RETURN(std::vector<S3MultipartUpload> uploads,
                            client.ListMultipartUploads(bucket_, state.key));
    return std::any_of(uploads.begin(), uploads.end(), [&](const S3MultipartUpload& upload) {
      return upload.key == state.key && upload.upload_id == state.upload_id;
    });
  }

  Status AbortUpload(S3Client& client, const S3State& state) const {
    Status aborted = client.AbortMultipartUpload(bucket_, state.key, state.upload_id);
    return aborted.code() == StatusCode::kNotFound ? Status::OK() : aborted;  // gone: fine
  }

  /// Deletes every tail of the upload (any commit's): see the header comment for why this is
  /// safe once the upload is completed or aborted.
  Status DeleteTails(S3Client& client, const std::string& upload_id) const {
    S3ListRequest request{.prefix = tails_.OfUpload(upload_id)};
    while (true) {
      SLUICE_ASSIGN_OR_RETURN(S3ListPage page, client.ListObjects(bucket_, request));
      for (const S3ObjectInfo& object : page.objects)
        SLUICE_RETURN_IF_ERROR(client.DeleteObject(bucket_, object.key));
      if (page.next_continuation_token.empty())
        return Status::OK();
      request.continuation_token = std::move(page.next_continuation_token);
    }
  }

  Pool pool_;
  std::string bucket_;
  std::string prefix_;  // without a leading or trailing '/'; "" for the whole bucket
  uint64_t part_bytes_;
  TailNames tails_;
};

}  // namespace

Result<std::unique_ptr<FileStore>> MakeS3FileStore(const FileStoreOptions& options,
                                                   std::string bucket, std::string prefix) {
  if (bucket.empty())
    return InvalidConfig("an S3 store needs a bucket: write s3://bucket/prefix");
  if (options.s3_part_bytes < kMinPartBytes || options.s3_part_bytes > kMaxPartBytes) {
    return InvalidConfig(fmt::format(
        "s3_part_bytes must be between 5 MiB and 5 GiB (S3's limits on a part): {}",
        options.s3_part_bytes));
  }
  while (!prefix.empty() && prefix.front() == '/')
    prefix.erase(0, 1);
  while (!prefix.empty() && prefix.back() == '/')
    prefix.pop_back();
  S3Options s3{.endpoint = options.s3_endpoint,
               .region = options.s3_region,
               .access_key_id = options.s3_access_key_id,
               .secret_access_key = options.s3_secret_access_key,
               .http = options.http};
  SLUICE_RETURN_IF_ERROR(s3.Validate().WithContext(fmt::format("S3 store s3://{}", bucket)));
  return std::unique_ptr<FileStore>(std::make_unique<S3FileStore>(
      std::move(s3), std::move(bucket), std::move(prefix), options.s3_part_bytes));
}

}  // namespace sluice::io
