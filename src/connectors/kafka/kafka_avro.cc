#include "connectors/kafka/kafka_avro.h"

#include <curl/curl.h>
#include <fmt/core.h>

#include <nlohmann/json.hpp>

namespace sluice::connectors::kafka {

namespace {

size_t OnBody(char* data, size_t size, size_t count, void* opaque) {
  static_cast<std::string*>(opaque)->append(data, size * count);
  return size * count;
}

}  // namespace

SchemaRegistry::SchemaRegistry(std::string url, std::string user, Secret password)
    : url_(std::move(url)), user_(std::move(user)), password_(std::move(password)) {
  while (!url_.empty() && url_.back() == '/')
    url_.pop_back();
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

Result<std::string> SchemaRegistry::Get(const std::string& path,
                                        const std::string* post_body) const {
  std::unique_ptr<CURL, void (*)(CURL*)> curl(curl_easy_init(), curl_easy_cleanup);
  if (!curl)
    return Internal("cannot create a libcurl handle");
  std::string url = url_ + path;
  std::string body;
  curl_easy_setopt(curl.get(), CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl.get(), CURLOPT_WRITEFUNCTION, OnBody);
  curl_easy_setopt(curl.get(), CURLOPT_WRITEDATA, &body);
  curl_easy_setopt(curl.get(), CURLOPT_TIMEOUT, 30L);
  curl_easy_setopt(curl.get(), CURLOPT_NOSIGNAL, 1L);
  std::unique_ptr<curl_slist, void (*)(curl_slist*)> headers(nullptr, curl_slist_free_all);
  if (post_body != nullptr) {
    headers.reset(
        curl_slist_append(nullptr, "Content-Type: application/vnd.schemaregistry.v1+json"));
    curl_easy_setopt(curl.get(), CURLOPT_HTTPHEADER, headers.get());
    curl_easy_setopt(curl.get(), CURLOPT_POSTFIELDS, post_body->c_str());
    curl_easy_setopt(curl.get(), CURLOPT_POSTFIELDSIZE, static_cast<long>(post_body->size()));
  }
  std::string credentials;
  if (!user_.empty()) {
    credentials = user_ + ":" + password_.Reveal();
    curl_easy_setopt(curl.get(), CURLOPT_USERPWD, credentials.c_str());
  }
  CURLcode code = curl_easy_perform(curl.get());
  if (code != CURLE_OK) {
    return Unavailable(fmt::format("Cannot reach the schema registry at '{}': {}", url,
                                   curl_easy_strerror(code)));
  }
  long status = 0;
  curl_easy_getinfo(curl.get(), CURLINFO_RESPONSE_CODE, &status);
  if (status == 401 || status == 403) {
    return PermissionDenied(fmt::format("The schema registry refused '{}' (HTTP {}): check "
                                        "schema_registry_user and schema_registry_password",
                                        url, status));
  }
  if (status == 404)
    return NotFound(fmt::format("The schema registry has no '{}' (HTTP 404)", url));
  if (status == 409 || status == 422) {
    return InvalidConfig(fmt::format("The schema registry refused the schema for '{}' (HTTP {}, "
                                     "e.g. incompatible with the subject's earlier versions): {}",
                                     url, status, body.substr(0, 300)));
  }
  if (status != 200) {
    return Unavailable(fmt::format("The schema registry answered HTTP {} to '{}': {}", status,
                                   url, body.substr(0, 300)));
  }
  return body;
}

Result<std::pair<int32_t, std::string>> SchemaRegistry::Latest(const std::string& subject) const {
  SLUICE_ASSIGN_OR_RETURN(std::string body, Get("/subjects/" + subject + "/versions/latest"));
  try {
    nlohmann::json json = nlohmann::json::parse(body);
    int32_t id = json.at("id").get<int32_t>();
    std::string schema = json.at("schema").get<std::string>();
    std::lock_guard<std::mutex> lock(mutex_);
    by_id_[id] = schema;
    return std::make_pair(id, schema);
  } catch (const std::exception& error) {
    return Unavailable(fmt::format("The schema registry's answer for subject '{}' is not "
                                   "understood: {}",
                                   subject, error.what()));
  }
}

Result<std::string> SchemaRegistry::ById(int32_t id) const {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (auto it = by_id_.find(id); it != by_id_.end())
      return it->second;
  }
  SLUICE_ASSIGN_OR_RETURN(std::string body, Get(fmt::format("/schemas/ids/{}", id)));
  try {
    std::string schema = nlohmann::json::parse(body).at("schema").get<std::string>();
    std::lock_guard<std::mutex> lock(mutex_);
    by_id_[id] = schema;
    return schema;
  } catch (const std::exception& error) {
    return Unavailable(fmt::format("The schema registry's answer for schema id {} is not "
                                   "understood: {}",
                                   id, error.what()));
  }
}

Result<int32_t> SchemaRegistry::Register(const std::string& subject,
                                         const std::string& schema) const {
  std::string body = nlohmann::json{{"schema", schema}}.dump();
  SLUICE_ASSIGN_OR_RETURN(std::string answer, Get("/subjects/" + subject + "/versions", &body));
  try {
    int32_t id = nlohmann::json::parse(answer).at("id").get<int32_t>();
    std::lock_guard<std::mutex> lock(mutex_);
    by_id_[id] = schema;
    return id;
  } catch (const std::exception& error) {
    return Unavailable(fmt::format("The schema registry's answer to registering subject '{}' is "
                                   "not understood: {}",
                                   subject, error.what()));
  }
}

AvroEncoder::AvroEncoder(std::unique_ptr<formats::AvroRecordEncoder> records, int32_t id)
    : records_(std::move(records)), id_(id) {}
AvroEncoder::~AvroEncoder() = default;

Result<std::unique_ptr<AvroEncoder>> AvroEncoder::Make(const std::string& schema, int32_t id) {
  Result<std::unique_ptr<formats::AvroRecordEncoder>> records =
      formats::AvroRecordEncoder::Make(schema);
  if (!records.ok())
    return records.status().WithContext("the value schema");
  return std::unique_ptr<AvroEncoder>(new AvroEncoder(std::move(*records), id));
}

Status AvroEncoder::Append(const Batch& batch, size_t row, std::string* out) {
  const size_t start = out->size();
  uint32_t id = static_cast<uint32_t>(id_);
  out->push_back('\0');
  for (int shift = 24; shift >= 0; shift -= 8)
    out->push_back(static_cast<char>((id >> shift) & 0xff));
  Status appended = records_->Append(batch, row, out);
  if (!appended.ok())
    out->resize(start);
  return appended;
}

AvroDecoder::AvroDecoder(std::shared_ptr<const SchemaRegistry> registry, SchemaPtr value_schema)
    : registry_(std::move(registry)), value_schema_(std::move(value_schema)) {}

AvroDecoder::~AvroDecoder() = default;

Result<formats::AvroRecordDecoder*> AvroDecoder::DecoderFor(int32_t id) {
  if (auto it = decoders_.find(id); it != decoders_.end())
    return it->second.get();
  SLUICE_ASSIGN_OR_RETURN(std::string text, registry_->ById(id));
  Result<std::unique_ptr<formats::AvroRecordDecoder>> made = formats::AvroRecordDecoder::Make(text);
  if (!made.ok())
    return DataError(fmt::format("schema id {}: {}", id, made.status().message()));
  formats::AvroRecordDecoder* decoder = made->get();
  decoders_[id] = std::move(*made);
  return decoder;
}

Status AvroDecoder::Append(std::string_view message, const std::string& location, Batch* batch) {
  if (message.size() < 5 || message[0] != 0) {
    return DataError(fmt::format("{}: not an Avro message of the schema registry's wire format "
                                 "(a 0 byte and a 4-byte schema id first)",
                                 location));
  }
  int32_t id = static_cast<int32_t>((static_cast<uint32_t>(static_cast<uint8_t>(message[1])) << 24) |
                                    (static_cast<uint32_t>(static_cast<uint8_t>(message[2])) << 16) |
                                    (static_cast<uint32_t>(static_cast<uint8_t>(message[3])) << 8) |
                                    static_cast<uint32_t>(static_cast<uint8_t>(message[4])));
  Result<formats::AvroRecordDecoder*> found = DecoderFor(id);
  if (!found.ok()) {
    if (found.status().code() == StatusCode::kDataError)
      return DataError(fmt::format("{}: {}", location, found.status().message()));
    return found.status().WithContext(location);
  }
  (*found)->Reset(message.substr(5));
  Status appended = (*found)->Append(1, batch);
  if (!appended.ok()) {
    return DataError(fmt::format("{}: the Avro body does not match schema id {}: {}", location,
                                 id, appended.message()));
  }
  return Status::OK();
}

}  // namespace sluice::connectors::kafka
