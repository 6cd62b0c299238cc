#include "connectors/kafka/kafka_client.h"

#include <fmt/core.h>
#include <librdkafka/rdkafka.h>

#include <algorithm>
#include <memory>
#include <set>
#include <string>

#include "core/logging.h"

namespace sluice::connectors::kafka {

namespace {

// Frees a configuration that rd_kafka_new did not take (it takes it only on success).
struct ConfDeleter {
  void operator()(rd_kafka_conf_t* conf) const { rd_kafka_conf_destroy(conf); }
};
using ConfPtr = std::unique_ptr<rd_kafka_conf_t, ConfDeleter>;

struct CallbackState {
  ErrorSink* errors;
  const std::string* component;
};

// Never throws: called from librdkafka's threads.
void OnError(rd_kafka_t* handle, int code, const char* reason, void* opaque) {
  auto* errors = static_cast<ErrorSink*>(opaque);
  if (errors == nullptr)
    return;
  std::string text = reason == nullptr ? "" : reason;
  if (text.find("Authentication failed") != std::string::npos)
    code = RD_KAFKA_RESP_ERR__AUTHENTICATION;
  if (code == RD_KAFKA_RESP_ERR__SSL || code == RD_KAFKA_RESP_ERR__TRANSPORT) {
    // A failed handshake (a certificate not verified) is a setup error; other TLS errors (a
    // connection cut) are a transport's.
    bool handshake = text.find("SSL handshake failed") != std::string::npos ||
                     text.find("certificate verify failed") != std::string::npos;
    code = handshake ? RD_KAFKA_RESP_ERR__SSL : RD_KAFKA_RESP_ERR__TRANSPORT;
    // Without librdkafka's timing suffix "(after 38ms in state SSL_HANDSHAKE, ...)".
    text = text.substr(0, text.find(" (after "));
  }
  errors->Record(code, std::move(text));
}

// Never throws: called from the thread that polls the producer.
void OnDelivery(rd_kafka_t* handle, const rd_kafka_message_t* message, void* opaque) {
  auto* errors = static_cast<ErrorSink*>(opaque);
  if (errors != nullptr && message->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    errors->RecordDelivery(message->err, fmt::format("message to topic '{}' not delivered: {}",
                                                     rd_kafka_topic_name(message->rkt),
                                                     rd_kafka_err2str(message->err)));
  }
}

void OnLog(const rd_kafka_t* handle, int level, const char* facility, const char* text) {
  // A failed login or TLS handshake may reach us only as a log line: keep it as the reason for
  // what follows.
  std::string_view line(text == nullptr ? "" : text);
  // OpenSSL's verdict comes with or without librdkafka's "SSL handshake failed" in front.
  if (line.find("SSL handshake failed") != std::string_view::npos ||
      line.find("certificate verify failed") != std::string_view::npos) {
    if (auto* errors = static_cast<ErrorSink*>(rd_kafka_opaque(handle)); errors != nullptr) {
      // "[thrd:...]: ssl://host:port/bootstrap: SSL handshake failed: ...": from the broker on.
      size_t start = line.find("ssl://");
      std::string_view reason = line.substr(start == std::string_view::npos ? 0 : start);
      reason = reason.substr(0, reason.find(" (after "));
      errors->Record(RD_KAFKA_RESP_ERR__SSL, std::string(reason));
    }
  }
  if (line.find("SASL authentication error") != std::string_view::npos ||
      line.find("Authentication failed") != std::string_view::npos) {
    if (auto* errors = static_cast<ErrorSink*>(rd_kafka_opaque(handle)); errors != nullptr) {
      size_t start = line.find("SASL authentication error");
      std::string_view reason = line.substr(start == std::string_view::npos ? 0 : start);
      // Without librdkafka's timing suffix "(after 301ms in state AUTH_REQ, ...)".
      reason = reason.substr(0, reason.find(" (after "));
      errors->Record(RD_KAFKA_RESP_ERR__AUTHENTICATION, std::string(reason));
    }
  }
  // librdkafka's own lines: warnings and worse as warnings, the rest at debug.
  if (level <= 4) {
    log::Warn("kafka", "librdkafka {}: {}", facility, text);
  } else {
    log::Debug("kafka", "librdkafka {}: {}", facility, text);
  }
}

Status Set(rd_kafka_conf_t* conf, const std::string& name, const std::string& value,
           bool secret = false) {
  char error[512];
  if (rd_kafka_conf_set(conf, name.c_str(), value.c_str(), error, sizeof(error)) !=
      RD_KAFKA_CONF_OK) {
    if (secret)
      return InvalidConfig(fmt::format("Kafka setting '{}' was refused", name));
    return InvalidConfig(fmt::format("Kafka setting '{}' = '{}': {}", name, value, error));
  }
  return Status::OK();
}

}  // namespace

std::string KafkaConnection::Describe() const {
  std::string out = fmt::format("Kafka brokers '{}'", brokers);
  if (!sasl_user.empty())
    out += fmt::format(" as user '{}'", sasl_user);
  return out;
}

void ErrorSink::Record(int code, std::string text) {
  std::lock_guard<std::mutex> lock(mutex_);
  // An authentication failure explains the time-outs that follow it: keep it.
  if (authentication_ && !IsAuthenticationError(code))
    return;
  code_ = code;
  text_ = std::move(text);
  authentication_ = IsAuthenticationError(code);
  recorded_.notify_all();
}

void ErrorSink::WaitForAuthenticationError(std::chrono::milliseconds timeout) const {
  std::unique_lock<std::mutex> lock(mutex_);
  recorded_.wait_for(lock, timeout, [this] { return authentication_; });
}

std::pair<int, std::string> ErrorSink::Last() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return {code_, text_};
}

void ErrorSink::RecordDelivery(int code, std::string text) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (delivery_code_ != 0)
    return;
  delivery_code_ = code;
  delivery_text_ = std::move(text);
}

std::pair<int, std::string> ErrorSink::TakeDeliveryError() {
  std::lock_guard<std::mutex> lock(mutex_);
  std::pair<int, std::string> out{delivery_code_, std::move(delivery_text_)};
  delivery_code_ = 0;
  delivery_text_.clear();
  return out;
}

void KafkaHandle::Deleter::operator()(rd_kafka_t* handle) const {
  rd_kafka_destroy(handle);
}

KafkaHandle::~KafkaHandle() = default;

Result<KafkaHandle> KafkaHandle::Open(Kind kind, const KafkaConnection& connection,
                                      const std::map<std::string, std::string>& settings,
                                      std::string component) {
  KafkaHandle out;
  out.errors_ = std::make_unique<ErrorSink>();
  out.component_ = std::make_unique<std::string>(std::move(component));
  out.connection_ = std::make_unique<KafkaConnection>(connection);
  ConfPtr conf(rd_kafka_conf_new());
  SLUICE_RETURN_IF_ERROR(Set(conf.get(), "bootstrap.servers", connection.brokers));
  SLUICE_RETURN_IF_ERROR(Set(conf.get(), "security.protocol", connection.security_protocol));
  SLUICE_RETURN_IF_ERROR(Set(conf.get(), "client.id", "sluice"));
  if (connection.security_protocol.starts_with("sasl")) {
    SLUICE_RETURN_IF_ERROR(Set(conf.get(), "sasl.mechanisms", connection.sasl_mechanism));
    SLUICE_RETURN_IF_ERROR(Set(conf.get(), "sasl.username", connection.sasl_user));
    SLUICE_RETURN_IF_ERROR(
        Set(conf.get(), "sasl.password", connection.sasl_password.Reveal(), /*secret=*/true));
  }
  if (!connection.ssl_ca_location.empty())
    SLUICE_RETURN_IF_ERROR(Set(conf.get(), "ssl.ca.location", connection.ssl_ca_location));
  if (!connection.ssl_certificate_location.empty()) {
    SLUICE_RETURN_IF_ERROR(
        Set(conf.get(), "ssl.certificate.location", connection.ssl_certificate_location));
  }
  if (!connection.ssl_key_location.empty())
    SLUICE_RETURN_IF_ERROR(Set(conf.get(), "ssl.key.location", connection.ssl_key_location));
  if (!connection.ssl_key_password.empty()) {
    SLUICE_RETURN_IF_ERROR(Set(conf.get(), "ssl.key.password",
                               connection.ssl_key_password.Reveal(), /*secret=*/true));
  }
  for (const auto& [name, value] : settings)
    SLUICE_RETURN_IF_ERROR(Set(conf.get(), name, value));
  // The user's `properties:` last, so that they can override ours; they may hold secrets.
  for (const auto& [name, value] : connection.properties)
    SLUICE_RETURN_IF_ERROR(Set(conf.get(), name, value, /*secret=*/true));
  rd_kafka_conf_set_error_cb(conf.get(), OnError);
  rd_kafka_conf_set_log_cb(conf.get(), OnLog);
  if (kind == Kind::kProducer)
    rd_kafka_conf_set_dr_msg_cb(conf.get(), OnDelivery);
  rd_kafka_conf_set_opaque(conf.get(), out.errors_.get());
  char error[512];
  rd_kafka_t* handle =
      rd_kafka_new(kind == Kind::kProducer ? RD_KAFKA_PRODUCER : RD_KAFKA_CONSUMER, conf.get(),
                   error, sizeof(error));
  if (handle == nullptr)
    return InvalidConfig(fmt::format("Cannot create a Kafka client: {}", error));
  conf.release();  // rd_kafka_new took it
  out.handle_.reset(handle);
  return out;
}

Status KafkaHandle::Error(int code, std::string_view what) const {
  if (code == RD_KAFKA_RESP_ERR__TRANSPORT && connection_->security_protocol != "plaintext" &&
      !IsAuthenticationError(errors_->Last().first)) {
    // A failed TLS handshake or login fails the request at once, and its reason comes from the
    // broker thread's log a moment later on a busy machine: give it that moment.
    errors_->WaitForAuthenticationError(std::chrono::milliseconds(1000));
  }
  auto [last_code, last_text] = errors_->Last();
  if (last_code != 0 &&
      (IsAuthenticationError(last_code) || code == RD_KAFKA_RESP_ERR__TIMED_OUT ||
       code == RD_KAFKA_RESP_ERR__TRANSPORT)) {
    return KafkaStatus(last_code, what, last_text);
  }
  return KafkaStatus(code, what);
}

PartitionList::PartitionList(int capacity)
    : list_(rd_kafka_topic_partition_list_new(capacity)) {}

PartitionList::~PartitionList() = default;

void PartitionList::Deleter::operator()(rd_kafka_topic_partition_list_t* list) const {
  rd_kafka_topic_partition_list_destroy(list);
}

namespace {

// rd_kafka_metadata for `topic` (null: all topics) within timeout_secs, in slices, so that a
// failed login or TLS handshake (known within milliseconds) ends the wait at once.
rd_kafka_resp_err_t MetadataInSlices(const KafkaHandle& handle, rd_kafka_topic_t* topic,
                                     const rd_kafka_metadata_t** metadata) {
  constexpr int kSliceMs = 500;
  int left_ms = handle.connection().timeout_ms;
  while (true) {
    int slice_ms = std::min(left_ms, kSliceMs);
    rd_kafka_resp_err_t error =
        rd_kafka_metadata(handle.get(), topic == nullptr ? 1 : 0, topic, metadata, slice_ms);
    left_ms -= slice_ms;
    if (error != RD_KAFKA_RESP_ERR__TIMED_OUT || left_ms <= 0 ||
        IsAuthenticationError(handle.errors().Last().first)) {
      return error;
    }
  }
}

}  // namespace

Status KafkaHandle::LearnTopic(const std::string& topic, std::string_view what) const {
  // Metadata for just this topic: one request, which also teaches the handle the leaders.
  std::unique_ptr<rd_kafka_topic_t, void (*)(rd_kafka_topic_t*)> handle(
      rd_kafka_topic_new(handle_.get(), topic.c_str(), nullptr), rd_kafka_topic_destroy);
  const rd_kafka_metadata_t* metadata = nullptr;
  rd_kafka_resp_err_t error = MetadataInSlices(*this, handle.get(), &metadata);
  if (metadata != nullptr)
    rd_kafka_metadata_destroy(metadata);
  if (error != RD_KAFKA_RESP_ERR_NO_ERROR)
    return Error(error, what);
  return Status::OK();
}

Status KafkaHandle::Assign(const PartitionList& partitions, std::string_view what) const {
  std::set<std::string> topics;
  for (int i = 0; i < partitions.size(); ++i)
    topics.insert(partitions.get()->elems[i].topic);
  for (const std::string& topic : topics)
    SLUICE_RETURN_IF_ERROR(LearnTopic(topic, what));
  rd_kafka_resp_err_t error = rd_kafka_assign(handle_.get(), partitions.get());
  if (error != RD_KAFKA_RESP_ERR_NO_ERROR)
    return Error(error, what);
  return Status::OK();
}

void PartitionList::Add(const std::string& topic, int32_t partition, int64_t offset) {
  rd_kafka_topic_partition_list_add(list_.get(), topic.c_str(), partition)->offset = offset;
}

int PartitionList::size() const {
  return list_->cnt;
}

Result<std::vector<TopicPartitions>> ListTopics(const KafkaHandle& handle) {
  const rd_kafka_metadata_t* metadata = nullptr;
  rd_kafka_resp_err_t error = MetadataInSlices(handle, nullptr, &metadata);
  if (error != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return handle.Error(error,
                        fmt::format("Cannot list the topics of {}", handle.connection().Describe()));
  }
  std::unique_ptr<const rd_kafka_metadata_t, void (*)(const rd_kafka_metadata_t*)> owned(
      metadata, rd_kafka_metadata_destroy);
  std::vector<TopicPartitions> topics;
  for (int t = 0; t < metadata->topic_cnt; ++t) {
    const rd_kafka_metadata_topic_t& topic = metadata->topics[t];
    std::string name = topic.topic;
    if (name.starts_with("__"))
      continue;
    if (topic.err == RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED) {
      return KafkaStatus(topic.err, fmt::format("Cannot read topic '{}'", name));
    }
    TopicPartitions entry{name, {}};
    for (int p = 0; p < topic.partition_cnt; ++p)
      entry.partitions.push_back(topic.partitions[p].id);
    std::sort(entry.partitions.begin(), entry.partitions.end());
    topics.push_back(std::move(entry));
  }
  return topics;
}

Status MissingTopicStatus(const KafkaHandle& handle, const std::string& topic,
                          std::string not_found) {
  // A consumer that may not create topics: a producer's metadata request may ask the broker to.
  Result<KafkaHandle> asking = KafkaHandle::Open(
      KafkaHandle::Kind::kConsumer, handle.connection(), {{"allow.auto.create.topics", "false"}},
      "kafka");
  if (!asking.ok())
    return NotFound(std::move(not_found));
  std::unique_ptr<rd_kafka_topic_t, void (*)(rd_kafka_topic_t*)> one(
      rd_kafka_topic_new(asking->get(), topic.c_str(), nullptr), rd_kafka_topic_destroy);
  const rd_kafka_metadata_t* metadata = nullptr;
  rd_kafka_resp_err_t error = MetadataInSlices(*asking, one.get(), &metadata);
  std::unique_ptr<const rd_kafka_metadata_t, void (*)(const rd_kafka_metadata_t*)> owned(
      metadata, rd_kafka_metadata_destroy);
  if (error == RD_KAFKA_RESP_ERR_NO_ERROR && metadata != nullptr && metadata->topic_cnt == 1 &&
      metadata->topics[0].err == RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED) {
    return PermissionDenied(fmt::format(
        "{} may not use topic '{}' (the broker refused it: grant the user Kafka ACLs to "
        "describe, read or write it)",
        handle.connection().Describe(), topic));
  }
  return NotFound(std::move(not_found));
}

Status EnsureCompactedTopic(const KafkaHandle& handle, const std::string& topic) {
  SLUICE_ASSIGN_OR_RETURN(std::vector<TopicPartitions> topics, ListTopics(handle));
  for (const TopicPartitions& existing : topics) {
    if (existing.topic == topic)
      return Status::OK();
  }
  char error[512];
  rd_kafka_NewTopic_t* request =
      rd_kafka_NewTopic_new(topic.c_str(), 1, /*replication_factor=*/-1, error, sizeof(error));
  if (request == nullptr)
    return InvalidConfig(fmt::format("Cannot create topic '{}': {}", topic, error));
  std::unique_ptr<rd_kafka_NewTopic_t, void (*)(rd_kafka_NewTopic_t*)> owned(
      request, rd_kafka_NewTopic_destroy);
  rd_kafka_NewTopic_set_config(request, "cleanup.policy", "compact");
  std::unique_ptr<rd_kafka_queue_t, void (*)(rd_kafka_queue_t*)> queue(
      rd_kafka_queue_new(handle.get()), rd_kafka_queue_destroy);
  rd_kafka_NewTopic_t* requests[] = {request};
  rd_kafka_CreateTopics(handle.get(), requests, 1, nullptr, queue.get());
  std::unique_ptr<rd_kafka_event_t, void (*)(rd_kafka_event_t*)> event(
      rd_kafka_queue_poll(queue.get(), handle.connection().timeout_ms + 1000),
      rd_kafka_event_destroy);
  std::string what = fmt::format("Cannot create topic '{}' on {}", topic,
                                 handle.connection().Describe());
  if (!event)
    return Unavailable(what + ": no answer in time");
  if (rd_kafka_event_error(event.get()) != RD_KAFKA_RESP_ERR_NO_ERROR)
    return handle.Error(rd_kafka_event_error(event.get()), what);
  const rd_kafka_CreateTopics_result_t* result = rd_kafka_event_CreateTopics_result(event.get());
  size_t count = 0;
  const rd_kafka_topic_result_t** results = rd_kafka_CreateTopics_result_topics(result, &count);
  for (size_t i = 0; i < count; ++i) {
    rd_kafka_resp_err_t code = rd_kafka_topic_result_error(results[i]);
    if (code != RD_KAFKA_RESP_ERR_NO_ERROR && code != RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS) {
      const char* text = rd_kafka_topic_result_error_string(results[i]);
      return KafkaStatus(code, what, text == nullptr ? "" : text);
    }
  }
  return Status::OK();
}

bool IsAuthenticationError(int code) {
  switch (code) {
    case RD_KAFKA_RESP_ERR__AUTHENTICATION:
    case RD_KAFKA_RESP_ERR_SASL_AUTHENTICATION_FAILED:
    case RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED:
    case RD_KAFKA_RESP_ERR_GROUP_AUTHORIZATION_FAILED:
    case RD_KAFKA_RESP_ERR_CLUSTER_AUTHORIZATION_FAILED:
    case RD_KAFKA_RESP_ERR_TRANSACTIONAL_ID_AUTHORIZATION_FAILED:
    case RD_KAFKA_RESP_ERR__SSL:  // a failed handshake only (OnError)
      return true;
    default:
      return false;
  }
}

Status KafkaStatus(int code, std::string_view what, std::string_view detail) {
  auto error = static_cast<rd_kafka_resp_err_t>(code);
  std::string text = detail.empty() ? rd_kafka_err2str(error) : std::string(detail);
  std::string message = fmt::format("{}: {}", what, text);
  switch (error) {
    case RD_KAFKA_RESP_ERR__AUTHENTICATION:
    case RD_KAFKA_RESP_ERR_SASL_AUTHENTICATION_FAILED:
      return PermissionDenied(message + " (check sasl_user, sasl_password and sasl_mechanism)");
    case RD_KAFKA_RESP_ERR__SSL:
      return PermissionDenied(message +
                              " (TLS certificate verification or handshake with the broker "
                              "failed: check ssl_ca_location, the CA that signed the broker's "
                              "certificate, and ssl_certificate_location/ssl_key_location)");
    case RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED:
    case RD_KAFKA_RESP_ERR_GROUP_AUTHORIZATION_FAILED:
    case RD_KAFKA_RESP_ERR_CLUSTER_AUTHORIZATION_FAILED:
    case RD_KAFKA_RESP_ERR_TRANSACTIONAL_ID_AUTHORIZATION_FAILED:
      return PermissionDenied(message + " (the user lacks a Kafka ACL for this)");
    case RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART:
    case RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC:
    case RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION:
      return NotFound(message);
    case RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE:
      return DataError(message +
                       " (raise message_max_bytes, and the topic's max.message.bytes on the "
                       "broker, or send smaller rows)");
    case RD_KAFKA_RESP_ERR_PRODUCER_FENCED:
    case RD_KAFKA_RESP_ERR__FENCED:
    case RD_KAFKA_RESP_ERR_INVALID_PRODUCER_EPOCH:
      return Conflict(message +
                      " (a newer run of this job took over its transactional producer)");
    case RD_KAFKA_RESP_ERR__INVALID_ARG:
    case RD_KAFKA_RESP_ERR__UNSUPPORTED_FEATURE:
    case RD_KAFKA_RESP_ERR_INVALID_CONFIG:
      return InvalidConfig(message);
    default:
      return Unavailable(message);
  }
}

}  // namespace sluice::connectors::kafka
