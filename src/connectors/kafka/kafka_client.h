// RAII wrappers over librdkafka's C handles, the connection settings both sides share, and the one
// function that maps librdkafka's error codes to Status codes.
//
// librdkafka handles (rd_kafka_t) are thread-safe; a KafkaHandle may be used from several threads
// (the reader polls while another thread asks for its lag). The wrappers themselves are move-only
// owners. rdkafka.h is included only by this connector's .cc files.
#pragma once

#include <cstdint>
#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "core/result.h"
#include "core/secret.h"

struct rd_kafka_s;
struct rd_kafka_conf_s;
struct rd_kafka_topic_partition_list_s;

namespace sluice::connectors::kafka {

/// How to reach and log into the brokers: the options both the source and the sink take.
struct KafkaConnection {
  /// Comma-separated host:port list.
  std::string brokers;
  /// plaintext, ssl, sasl_plaintext, sasl_ssl.
  std::string security_protocol = "plaintext";
  /// PLAIN, SCRAM-SHA-256, SCRAM-SHA-512.
  std::string sasl_mechanism = "PLAIN";
  std::string sasl_user;
  Secret sasl_password;
  std::string ssl_ca_location;
  std::string ssl_certificate_location;
  std::string ssl_key_location;
  Secret ssl_key_password;
  /// How long metadata and other blocking requests may take before the broker counts as
  /// unreachable.
  int timeout_ms = 10000;
  /// librdkafka properties passed as they are (`properties:`), for what no option covers.
  std::map<std::string, std::string> properties;

  /// "127.0.0.1:9092" (with " as user 'x'" for SASL): for error messages; never a secret.
  std::string Describe() const;
};

/// The last error librdkafka reported through its error callback (authentication failures and
/// unreachable brokers arrive only there). Thread-safe.
class ErrorSink {
 public:
  void Record(int code, std::string text);
  /// Code and text of the last recorded error; code 0 when none.
  std::pair<int, std::string> Last() const;
  /// Waits up to `timeout` for an authentication or TLS handshake failure to be recorded: a
  /// request may fail with a transport error a moment before librdkafka reports why.
  void WaitForAuthenticationError(std::chrono::milliseconds timeout) const;

  /// A producer's delivery report for a message the brokers did not take: the first one is kept
  /// until taken.
  void RecordDelivery(int code, std::string text);
  /// The first failed delivery since the last call (code 0 when none), and forgets it.
  std::pair<int, std::string> TakeDeliveryError();

 private:
  mutable std::mutex mutex_;
  mutable std::condition_variable recorded_;
  int delivery_code_ = 0;        // guarded by mutex_
  std::string delivery_text_;    // guarded by mutex_
  int code_ = 0;            // guarded by mutex_
  std::string text_;        // guarded by mutex_
  bool authentication_ = false;  // guarded by mutex_; sticky once seen
};

class PartitionList;

/// Owns an rd_kafka_t (producer or consumer) and its error sink.
class KafkaHandle {
 public:
  enum class Kind { kProducer, kConsumer };

  /// Builds the configuration from `connection` plus `settings` (librdkafka property names) and
  /// creates the handle. `component` names it in log lines.
  static Result<KafkaHandle> Open(Kind kind, const KafkaConnection& connection,
                                  const std::map<std::string, std::string>& settings,
                                  std::string component);

  KafkaHandle(KafkaHandle&&) noexcept = default;
  KafkaHandle& operator=(KafkaHandle&&) noexcept = default;
  ~KafkaHandle();

  rd_kafka_s* get() const { return handle_.get(); }
  ErrorSink& errors() const { return *errors_; }
  const KafkaConnection& connection() const { return *connection_; }

  /// The error for a failed request (`code` an rd_kafka_resp_err_t), with what the error
  /// callback learned (an authentication failure beats a time-out), `what` as context.
  Status Error(int code, std::string_view what) const;

  /// A consumer's rd_kafka_assign of `partitions`, once the handle knows their leaders: assigned
  /// at a logical offset (beginning, end) before that, librdkafka retries the offset lookup only
  /// after 500 ms, which every split, progress read and sample paid. `what` names the work in
  /// errors.
  Status Assign(const PartitionList& partitions, std::string_view what) const;

  /// Fetches the metadata of `topic` (one request), so that the handle knows its partitions and
  /// leaders before the first message: a transactional producer otherwise learns an unknown
  /// topic only at its next one-second metadata scan, and holds the messages until then.
  Status LearnTopic(const std::string& topic, std::string_view what) const;

 private:
  struct Deleter {
    void operator()(rd_kafka_s* handle) const;
  };
  KafkaHandle() = default;

  std::unique_ptr<ErrorSink> errors_;  // the callbacks' opaque: its address must not move
  std::unique_ptr<std::string> component_;
  std::unique_ptr<KafkaConnection> connection_;
  std::unique_ptr<rd_kafka_s, Deleter> handle_;
};

/// Owns an rd_kafka_topic_partition_list_t.
class PartitionList {
 public:
  explicit PartitionList(int capacity = 8);
  PartitionList(PartitionList&&) noexcept = default;
  PartitionList& operator=(PartitionList&&) noexcept = default;
  ~PartitionList();

  /// Adds `topic`/`partition` with `offset`.
  void Add(const std::string& topic, int32_t partition, int64_t offset);
  rd_kafka_topic_partition_list_s* get() const { return list_.get(); }
  int size() const;

 private:
  struct Deleter {
    void operator()(rd_kafka_topic_partition_list_s* list) const;
  };
  std::unique_ptr<rd_kafka_topic_partition_list_s, Deleter> list_;
};

/// A topic's partitions as the brokers report them.
struct TopicPartitions {
  std::string topic;
  std::vector<int32_t> partitions;
};

/// Every topic the brokers know (internal ones, starting with "__", left out), with its
/// partitions. Unavailable when no broker answers within the connection's timeout, with the
/// reason the error callback recorded; PermissionDenied as soon as a login or a TLS handshake
/// failed (not after the timeout).
Result<std::vector<TopicPartitions>> ListTopics(const KafkaHandle& handle);

/// Why `topic`, absent from ListTopics, is absent: a broker lists only the topics the user may
/// describe, so asks for it alone (never creating it) and returns PermissionDenied naming the
/// topic and the user when the user may not use it; else NotFound(`not_found`).
Status MissingTopicStatus(const KafkaHandle& handle, const std::string& topic,
                          std::string not_found);

/// Creates `topic` (one partition, the brokers' replication factor, cleanup.policy=compact)
/// unless it exists.
Status EnsureCompactedTopic(const KafkaHandle& handle, const std::string& topic);

/// Maps an rd_kafka_resp_err_t to a Status: `what` first, then librdkafka's text.
Status KafkaStatus(int code, std::string_view what, std::string_view detail = {});

/// True for the codes that mean the credentials, the ACLs or the TLS setup are wrong (a TLS
/// handshake that failed, e.g. a broker certificate that the CA does not verify): errors that
/// retrying does not mend.
bool IsAuthenticationError(int code);

}  // namespace sluice::connectors::kafka
