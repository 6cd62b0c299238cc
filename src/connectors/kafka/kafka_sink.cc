#include "connectors/kafka/kafka_sink.h"

#include <fmt/core.h>
#include <librdkafka/rdkafka.h>

#include <nlohmann/json.hpp>

#include <atomic>
#include <chrono>
#include <map>
#include <set>
#include <thread>

#include "connectors/kafka/kafka_avro.h"
#include "connectors/kafka/kafka_client.h"
#include "core/failpoint.h"
#include "core/logging.h"
#include "core/value_text.h"
#include "formats/csv/csv_writer.h"
#include "formats/jsonl/json_text.h"
#include "formats/jsonl/jsonl_writer.h"
#include "io/memory_stream.h"

namespace sluice::connectors::kafka {

namespace {

using Clock = std::chrono::steady_clock;
constexpr std::string_view kComponent = "sink:kafka";

struct MessageDeleter {
  void operator()(rd_kafka_message_t* message) const { rd_kafka_message_destroy(message); }
};
using MessagePtr = std::unique_ptr<rd_kafka_message_t, MessageDeleter>;

struct ErrorDeleter {
  void operator()(rd_kafka_error_t* error) const { rd_kafka_error_destroy(error); }
};
using ErrorPtr = std::unique_ptr<rd_kafka_error_t, ErrorDeleter>;

std::string_view CompressionName(Compression compression) {
  switch (compression) {
    case Compression::kGzip:
      return "gzip";
    case Compression::kSnappy:
      return "snappy";
    case Compression::kLz4:
      return "lz4";
    case Compression::kZstd:
      return "zstd";
    case Compression::kNone:
      return "none";
  }
  return "none";
}

std::string_view FormatName(MessageFormat format) {
  switch (format) {
    case MessageFormat::kRaw:
      return "raw";
    case MessageFormat::kCsv:
      return "csv";
    case MessageFormat::kAvro:
      return "avro";
    case MessageFormat::kJson:
      return "json";
  }
  return "json";
}

// Progress topic keys: the job's run record and one record per split. The NUL separators keep
// one job's keys from being a prefix of another's.
std::string RunKey(std::string_view job) {
  return fmt::format("{}{}run", job, '\0');
}
std::string SplitKeyPrefix(std::string_view job) {
  return fmt::format("{}{}split{}", job, '\0', '\0');
}

std::string TransactionalId(std::string_view job, int slot) {
  return fmt::format("sluice-{}-{}", job, slot);
}

// A transactional call's error as a Status; a fenced producer is FencedOff-like (Conflict).
// A producer's fatal error: in practice fenced by a newer run's init_transactions.
Status FencedStatus(std::string_view what, std::string_view detail) {
  return Conflict(fmt::format("{}: {} (a newer run of this job fenced this one off; only the "
                              "newer run may write)",
                              what, detail));
}

Status TransactionStatus(rd_kafka_error_t* error, std::string_view what) {
  if (rd_kafka_error_is_fatal(error) || rd_kafka_error_code(error) == RD_KAFKA_RESP_ERR__FENCED ||
      rd_kafka_error_code(error) == RD_KAFKA_RESP_ERR_PRODUCER_FENCED) {
    return FencedStatus(what, rd_kafka_error_string(error));
  }
  return KafkaStatus(rd_kafka_error_code(error), what, rd_kafka_error_string(error));
}

}  // namespace

struct KafkaSink::Shared {
  KafkaSinkOptions options;
  const JobContext* context = nullptr;
  struct Target {
    std::string topic;
    std::vector<int> key_columns;
    int value_column = -1;  // raw only
    SchemaPtr schema;
    // debezium_json: `"name":` of each column (the first with the object's '{'), the key
    // columns' likewise, and the event's end: `,"source":{...}}`.
    std::vector<std::string> field_prefixes;
    std::vector<std::string> key_prefixes;
    std::string source_suffix;
    // avro: the registered value schema (AvroSchemaOf) and its id.
    std::string avro_schema;
    int32_t avro_schema_id = 0;
  };
  std::vector<Target> targets;  // by stream
  // Claim's work that the next steps reuse rather than redo: the progress records it read (for
  // the first RecoverProgress; no earlier run can write any once Claim fenced them all), and
  // the transactional producers it fenced with (for CreateWriter of the same slot).
  std::optional<std::map<std::string, std::string>> claimed_records;
  std::map<int, KafkaHandle> fenced_producers;

  bool exactly_once() const {
    return context != nullptr && context->delivery == DeliveryGuarantee::kExactlyOnce;
  }

  std::map<std::string, std::string> ProducerSettings() const {
    std::map<std::string, std::string> settings = {
        {"partitioner", "murmur2_random"},
        {"compression.codec", std::string(CompressionName(options.compression))},
        {"message.max.bytes", std::to_string(options.message_max_bytes)},
        {"enable.idempotence", "true"},
        {"acks", "all"},
        {"linger.ms", "5"},
    };
    return settings;
  }

  // Reads partition 0 of the progress topic to its end (committed transactions only); returns
  // the last value of each key of `job` (a tombstone erases).
  Result<std::map<std::string, std::string>> ReadProgressTopic(const std::string& job) {
    std::map<std::string, std::string> records;
    SLUICE_ASSIGN_OR_RETURN(
        KafkaHandle consumer,
        KafkaHandle::Open(KafkaHandle::Kind::kConsumer, options.connection,
                          {{"group.id", "sluice-progress-reader"},
                           {"enable.auto.commit", "false"},
                           {"enable.partition.eof", "true"},
                           {"isolation.level", "read_committed"}},
                          std::string(kComponent)));
    int64_t low = 0;
    int64_t high = 0;
    Clock::time_point deadline =
        Clock::now() + std::chrono::milliseconds(options.connection.timeout_ms);
    while (true) {
      rd_kafka_resp_err_t error = rd_kafka_query_watermark_offsets(
          consumer.get(), options.progress_topic.c_str(), 0, &low, &high,
          options.connection.timeout_ms);
      if (error == RD_KAFKA_RESP_ERR_NO_ERROR)
        break;
      // A progress topic created a moment ago may not be served yet.
      // (The local codes: this handle's metadata does not list the new topic or partition yet.)
      if (Clock::now() > deadline || (error != RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART &&
                                      error != RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC &&
                                      error != RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION &&
                                      error != RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE &&
                                      error != RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION)) {
        return consumer.Error(error, fmt::format("Cannot read the progress topic '{}'",
                                                 options.progress_topic));
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    if (high <= low)
      return records;
    PartitionList assignment;
    assignment.Add(options.progress_topic, 0, RD_KAFKA_OFFSET_BEGINNING);
    SLUICE_RETURN_IF_ERROR(consumer.Assign(assignment, "Cannot read the progress topic"));
    std::string prefix = job + '\0';
    deadline = Clock::now() + std::chrono::milliseconds(options.connection.timeout_ms * 6);
    while (true) {
      if (Clock::now() > deadline) {
        return Unavailable(fmt::format("Reading the progress topic '{}' up to offset {} took "
                                       "too long",
                                       options.progress_topic, high));
      }
      MessagePtr message(rd_kafka_consumer_poll(consumer.get(), 100));
      if (!message)
        continue;
      if (message->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
        if (message->offset >= high)
          break;
        continue;
      }
      if (message->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        if (IsAuthenticationError(message->err) ||
            message->err == RD_KAFKA_RESP_ERR_OFFSET_OUT_OF_RANGE) {
          return KafkaStatus(message->err, "Cannot read the progress topic",
                             rd_kafka_message_errstr(message.get()));
        }
        continue;
      }
      std::string key(static_cast<const char*>(message->key), message->key_len);
      if (key.starts_with(prefix)) {
        if (message->payload == nullptr) {
          records.erase(key);
        } else {
          records[key] = std::string(static_cast<const char*>(message->payload), message->len);
        }
      }
      if (message->offset + 1 >= high)
        break;
    }
    return records;
  }

  // Sends `records` (key -> value, nullopt = tombstone) to the progress topic with a plain
  // idempotent producer and waits for them.
  Status WriteProgressRecords(
      const std::vector<std::pair<std::string, std::optional<std::string>>>& records) {
    SLUICE_ASSIGN_OR_RETURN(KafkaHandle producer,
                            KafkaHandle::Open(KafkaHandle::Kind::kProducer, options.connection,
                                              ProducerSettings(), std::string(kComponent)));
    for (const auto& [key, value] : records) {
      // The macros cast their arguments without parentheses: compute them first.
      void* value_data = value ? const_cast<char*>(value->data()) : nullptr;
      size_t value_size = value ? value->size() : 0;
      rd_kafka_resp_err_t error = rd_kafka_producev(
          producer.get(), RD_KAFKA_V_TOPIC(options.progress_topic.c_str()),
          RD_KAFKA_V_PARTITION(0), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
          RD_KAFKA_V_KEY(key.data(), key.size()), RD_KAFKA_V_VALUE(value_data, value_size),
          RD_KAFKA_V_END);
      if (error != RD_KAFKA_RESP_ERR_NO_ERROR)
        return producer.Error(error, "Cannot write to the progress topic");
    }
    rd_kafka_resp_err_t error = rd_kafka_flush(producer.get(), options.connection.timeout_ms * 3);
    if (error != RD_KAFKA_RESP_ERR_NO_ERROR)
      return producer.Error(error, "Cannot write to the progress topic");
    auto [code, text] = producer.errors().TakeDeliveryError();
    if (code != 0)
      return KafkaStatus(code, "Cannot write to the progress topic", text);
    return Status::OK();
  }
};

namespace {

// One writer slot: its own producer (transactional under exactly-once).
class KafkaWriter final : public SinkWriter {
 public:
  KafkaWriter(std::shared_ptr<KafkaSink::Shared> shared, KafkaHandle producer, int slot,
              bool transactional)
      : shared_(std::move(shared)),
        producer_(std::move(producer)),
        slot_(slot),
        transactional_(transactional) {}

  ~KafkaWriter() override { Abort(); }

  Status Write(const Batch& batch) override {
    cancelled_.store(false);
    if (failpoint::AnyArmed())
      SLUICE_RETURN_IF_ERROR(failpoint::Check("kafka.sink.write"));
    SLUICE_RETURN_IF_ERROR(BeginIfNeeded());
    const KafkaSink::Shared::Target& target =
        shared_->targets[static_cast<size_t>(batch.stream())];
    if (shared_->options.envelope == Envelope::kDebezium)
      return WriteChanges(batch, target);
    SLUICE_RETURN_IF_ERROR(EncodeValues(batch, target));
    for (size_t row = 0; row < batch.num_rows(); ++row) {
      key_.clear();
      bool has_key = false;
      for (size_t i = 0; i < target.key_columns.size(); ++i) {
        const Column& column = batch.column(static_cast<size_t>(target.key_columns[i]));
        if (i > 0)
          key_.push_back('|');
        if (column.IsValid(row)) {
          has_key = true;
          AppendValueText(column, row, &key_);
        }
      }
      const std::optional<std::string_view>& value = values_[row];
      SLUICE_RETURN_IF_ERROR(Produce(target.topic, has_key ? &key_ : nullptr, value, batch, row));
    }
    return DeliveryError();
  }

  Status Prepare() override {
    cancelled_.store(false);
    return Flush();
  }

  Status Commit(const CommitContext& commit) override {
    cancelled_.store(false);
    if (!transactional_)
      return Flush();
    SLUICE_RETURN_IF_ERROR(BeginIfNeeded());
    const std::string& job = shared_->context->job_name;
    for (const SplitProgress& progress : commit.progress) {
      std::string key = SplitKeyPrefix(job) + progress.split_id;
      std::string value = nlohmann::json{{"position", progress.position},
                                         {"done", progress.done},
                                         {"checkpoint", commit.checkpoint},
                                         {"epoch", shared_->context->run_epoch}}
                              .dump();
      SLUICE_RETURN_IF_ERROR(
          Produce(shared_->options.progress_topic, &key, std::string_view(value), 0));
    }
    // Rows and progress acknowledged first, in a wait that Cancel ends: commit_transaction's own
    // flush cannot be interrupted, and a broker holding them back would hold it for
    // transaction_timeout_secs.
    if (Status flushed = Flush(); !flushed.ok()) {
      char text[512];
      if (rd_kafka_fatal_error(producer_.get(), text, sizeof(text)) !=
          RD_KAFKA_RESP_ERR_NO_ERROR) {
        // That says more than the messages it purged.
        in_transaction_ = false;  // a fenced producer can abort nothing: the newer run did
        return FencedStatus(
            fmt::format("Cannot commit the transaction of checkpoint {}", commit.checkpoint), text);
      }
      Abort();
      return flushed;
    }
    if (failpoint::AnyArmed())
      SLUICE_RETURN_IF_ERROR(failpoint::Check("kafka.sink.before_commit"));
    ErrorPtr error(rd_kafka_commit_transaction(producer_.get(), CommitTimeoutMs()));
    if (error) {
      Status status = TransactionStatus(
          error.get(), fmt::format("Cannot commit the transaction of checkpoint {}",
                                   commit.checkpoint));
      if (rd_kafka_error_txn_requires_abort(error.get())) {
        Abort();
      } else if (rd_kafka_error_is_fatal(error.get())) {
        in_transaction_ = false;  // a fenced producer can abort nothing: the newer run did
      }
      return status;
    }
    in_transaction_ = false;
    if (failpoint::AnyArmed())
      SLUICE_RETURN_IF_ERROR(failpoint::Check("kafka.sink.after_commit"));
    return DeliveryError();
  }

  void Abort() override {
    if (!transactional_ || !in_transaction_)
      return;
    in_transaction_ = false;
    if (cancelled_.load()) {
      // The broker did not take the rows: abort_transaction would wait for them.
      rd_kafka_purge(producer_.get(), RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
    }
    ErrorPtr error(rd_kafka_abort_transaction(producer_.get(), 10000));
    if (error) {
      log::Warn(kComponent, "Cannot abort the transaction of slot {}: {} (the broker aborts it "
                "after transaction_timeout_secs, or the next run fences it)",
                slot_, rd_kafka_error_string(error.get()));
    }
  }

  void Cancel() override { cancelled_.store(true); }

 private:
  // Waits until the broker has acknowledged every message sent, in slices, so that Cancel ends
  // the wait (then the unsent messages are dropped: the run ends at its last checkpoint).
  Status Flush() {
    constexpr int kSliceMs = 100;
    const auto deadline =
        std::chrono::steady_clock::now() + std::chrono::milliseconds(FlushTimeoutMs());
    while (true) {
      rd_kafka_resp_err_t error = rd_kafka_flush(producer_.get(), kSliceMs);
      if (error == RD_KAFKA_RESP_ERR_NO_ERROR)
        return DeliveryError();
      if (error != RD_KAFKA_RESP_ERR__TIMED_OUT)
        return producer_.Error(error, "Cannot send the rows to Kafka");
      SLUICE_RETURN_IF_ERROR(DeliveryError());
      if (failpoint::AnyArmed())
        failpoint::Hit("kafka.sink.flush_waiting");
      if (cancelled_.load()) {
        rd_kafka_purge(producer_.get(), RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
        return Cancelled(fmt::format(
            "the job stopped while {} messages waited for the broker's acknowledgement",
            rd_kafka_outq_len(producer_.get())));
      }
      if (std::chrono::steady_clock::now() >= deadline)
        return producer_.Error(error, "Cannot send the rows to Kafka");
    }
  }

  int FlushTimeoutMs() const { return static_cast<int>(shared_->options.transaction_timeout_ms); }
  int CommitTimeoutMs() const { return static_cast<int>(shared_->options.transaction_timeout_ms); }

  Status BeginIfNeeded() {
    if (!transactional_ || in_transaction_)
      return Status::OK();
    ErrorPtr error(rd_kafka_begin_transaction(producer_.get()));
    if (error)
      return TransactionStatus(error.get(), "Cannot begin a Kafka transaction");
    in_transaction_ = true;
    if (failpoint::AnyArmed())
      SLUICE_RETURN_IF_ERROR(failpoint::Check("kafka.sink.after_begin"));
    return Status::OK();
  }

  Status DeliveryError() {
    auto [code, text] = producer_.errors().TakeDeliveryError();
    if (code == 0)
      return Status::OK();
    return KafkaStatus(code, "Kafka refused a message", text);
  }

  // Appends `{"name":value,...}` of `columns` (indexes, with their prefixes) at `row`.
  void AppendObject(const Batch& batch, size_t row, const std::vector<int>& columns,
                    const std::vector<std::string>& prefixes, std::string* out) {
    if (columns.empty())
      out->push_back('{');
    for (size_t i = 0; i < columns.size(); ++i) {
      out->append(prefixes[i]);
      const Column& column = batch.column(static_cast<size_t>(columns[i]));
      if (column.IsNull(row)) {
        out->append("null");
      } else {
        formats::AppendJsonValue(column, row, out, &scratch_);
      }
    }
    out->push_back('}');
  }

  // debezium_json: one event per change (an update's before and after images of one key in
  // one "u" event), keyed by the key columns as a JSON object; a tombstone after a delete.
  Status WriteChanges(const Batch& batch, const KafkaSink::Shared::Target& target) {
    if (all_columns_.size() != batch.num_columns()) {
      all_columns_.resize(batch.num_columns());
      for (size_t c = 0; c < all_columns_.size(); ++c)
        all_columns_[c] = static_cast<int>(c);
    }
    const bool keyed = !target.key_columns.empty();
    int64_t now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count();
    std::string next_key;
    for (size_t row = 0; row < batch.num_rows(); ++row) {
      std::optional<size_t> before;
      std::optional<size_t> after;
      char op = 'c';
      key_.clear();
      if (keyed)
        AppendObject(batch, row, target.key_columns, target.key_prefixes, &key_);
      switch (batch.row_kind(row)) {
        case RowKind::kInsert:
          after = row;
          break;
        case RowKind::kUpdateAfter:  // its before image did not come: before is null
          after = row;
          op = 'u';
          break;
        case RowKind::kDelete:
          before = row;
          op = 'd';
          break;
        case RowKind::kUpdateBefore: {
          before = row;
          op = 'd';  // alone (or before a key change), the old key is gone, as Debezium says
          if (row + 1 < batch.num_rows() && batch.row_kind(row + 1) == RowKind::kUpdateAfter) {
            next_key.clear();
            if (keyed)
              AppendObject(batch, row + 1, target.key_columns, target.key_prefixes, &next_key);
            if (next_key == key_) {
              after = ++row;
              op = 'u';
            }
          }
          break;
        }
      }
      text_.assign("{\"before\":");
      if (before) {
        AppendObject(batch, *before, all_columns_, target.field_prefixes, &text_);
      } else {
        text_.append("null");
      }
      text_.append(",\"after\":");
      if (after) {
        AppendObject(batch, *after, all_columns_, target.field_prefixes, &text_);
      } else {
        text_.append("null");
      }
      text_.append(",\"op\":\"");
      text_.push_back(op);
      text_.append("\",\"ts_ms\":");
      text_.append(std::to_string(now_ms));
      text_.append(target.source_suffix);
      const std::string* key = keyed ? &key_ : nullptr;
      SLUICE_RETURN_IF_ERROR(Produce(target.topic, key, std::string_view(text_), batch, row));
      if (op == 'd' && keyed && shared_->options.tombstones)
        SLUICE_RETURN_IF_ERROR(Produce(target.topic, key, std::nullopt, batch, row));
    }
    return DeliveryError();
  }

  // Fills values_ with each row's value (nullopt: a tombstone).
  Status EncodeValues(const Batch& batch, const KafkaSink::Shared::Target& target) {
    values_.assign(batch.num_rows(), std::nullopt);
    text_.clear();
    std::vector<std::pair<size_t, size_t>> spans(batch.num_rows());
    switch (shared_->options.format) {
      case MessageFormat::kAvro: {
        size_t stream = static_cast<size_t>(batch.stream());
        if (encoders_.size() <= stream)
          encoders_.resize(stream + 1);
        if (!encoders_[stream]) {
          SLUICE_ASSIGN_OR_RETURN(encoders_[stream],
                                  AvroEncoder::Make(target.avro_schema, target.avro_schema_id));
        }
        for (size_t row = 0; row < batch.num_rows(); ++row) {
          size_t start = text_.size();
          Status encoded = encoders_[stream]->Append(batch, row, &text_);
          if (!encoded.ok()) {
            return encoded.WithContext(
                fmt::format("row {} of a batch for topic '{}'", row + 1, target.topic));
          }
          spans[row] = {start, text_.size() - start};
        }
        break;
      }
      case MessageFormat::kRaw: {
        const Column& column = batch.column(static_cast<size_t>(target.value_column));
        TypeId type = column.type().id;
        bool as_is = type == TypeId::kString || type == TypeId::kBytes || type == TypeId::kJson;
        for (size_t row = 0; row < batch.num_rows(); ++row) {
          if (column.IsNull(row))
            continue;
          if (as_is) {
            values_[row] = column.GetView(row);
          } else {
            size_t start = text_.size();
            AppendValueText(column, row, &text_);
            spans[row] = {start, text_.size() - start};
          }
        }
        if (!as_is) {
          for (size_t row = 0; row < batch.num_rows(); ++row) {
            if (column.IsValid(row))
              values_[row] = std::string_view(text_).substr(spans[row].first, spans[row].second);
          }
        }
        return Status::OK();
      }
      case MessageFormat::kJson: {
        // JSON escapes line ends inside strings: one line per row.
        io::StringOutputStream output(&text_);
        formats::JsonlWriter writer(&output);
        SLUICE_RETURN_IF_ERROR(writer.WriteRows(batch, 0, batch.num_rows()));
        SLUICE_RETURN_IF_ERROR(writer.Flush());
        size_t start = 0;
        for (size_t row = 0; row < batch.num_rows(); ++row) {
          size_t end = text_.find('\n', start);
          spans[row] = {start, end - start};
          start = end + 1;
        }
        break;
      }
      case MessageFormat::kCsv: {
        // A quoted CSV value may hold line ends: one write per row.
        io::StringOutputStream output(&text_);
        formats::CsvDialect dialect;
        dialect.delimiter = shared_->options.csv_delimiter;
        formats::CsvWriter writer(&output, dialect);
        for (size_t row = 0; row < batch.num_rows(); ++row) {
          size_t start = text_.size();
          SLUICE_RETURN_IF_ERROR(writer.WriteRows(batch, row, row + 1));
          SLUICE_RETURN_IF_ERROR(writer.Flush());
          spans[row] = {start, text_.size() - start - 1};  // without the LF
        }
        break;
      }
    }
    for (size_t row = 0; row < batch.num_rows(); ++row)
      values_[row] = std::string_view(text_).substr(spans[row].first, spans[row].second);
    return Status::OK();
  }

  Status Produce(const std::string& topic, const std::string* key,
                 std::optional<std::string_view> value, const Batch& batch, size_t row) {
    Status status = Produce(topic, key, value, -1);
    if (status.code() == StatusCode::kDataError) {
      return DataError(fmt::format("a row of {} bytes as a message to topic '{}' (row {} of its "
                                   "batch): {}",
                                   value ? value->size() : 0, topic, row + 1, status.message()));
    }
    return status;
  }

  Status Produce(const std::string& topic, const std::string* key,
                 std::optional<std::string_view> value, int32_t partition) {
    // An empty value is not a tombstone: it needs a non-null pointer (an empty view may have none).
    static char kEmpty[1] = {0};
    void* value_data = !value ? nullptr
                       : value->empty() ? kEmpty
                                        : const_cast<char*>(value->data());
    size_t value_size = value ? value->size() : 0;
    const void* key_data = key != nullptr ? key->data() : nullptr;
    size_t key_size = key != nullptr ? key->size() : 0;
    int32_t target_partition = partition >= 0 ? partition : RD_KAFKA_PARTITION_UA;
    while (true) {
      rd_kafka_resp_err_t error = rd_kafka_producev(
          producer_.get(), RD_KAFKA_V_TOPIC(topic.c_str()), RD_KAFKA_V_PARTITION(target_partition),
          RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_KEY(key_data, key_size),
          RD_KAFKA_V_VALUE(value_data, value_size), RD_KAFKA_V_END);
      if (error == RD_KAFKA_RESP_ERR_NO_ERROR) {
        rd_kafka_poll(producer_.get(), 0);
        return Status::OK();
      }
      if (error == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
        if (cancelled_.load())
          return Cancelled("the job stopped while the producer's queue was full");
        // The local queue is full: serve delivery reports until there is room.
        rd_kafka_poll(producer_.get(), 100);
        continue;
      }
      return producer_.Error(error, fmt::format("Cannot send a message to topic '{}'", topic));
    }
  }

  std::shared_ptr<KafkaSink::Shared> shared_;
  KafkaHandle producer_;
  const int slot_;
  const bool transactional_;
  bool in_transaction_ = false;
  std::atomic<bool> cancelled_{false};  // Cancel: the blocked call returns; reset by the next
  std::string key_;
  std::string text_;
  std::string scratch_;
  std::vector<int> all_columns_;
  std::vector<std::unique_ptr<AvroEncoder>> encoders_;  // avro: by stream, made on first use
  std::vector<std::optional<std::string_view>> values_;
};

// `"name":` for each field of `names`, the first with the object's opening brace.
std::vector<std::string> JsonKeyPrefixes(const std::vector<std::string>& names) {
  std::vector<std::string> prefixes;
  for (const std::string& name : names) {
    std::string prefix = prefixes.empty() ? "{" : ",";
    formats::AppendJsonString(name, &prefix);
    prefix.push_back(':');
    prefixes.push_back(std::move(prefix));
  }
  return prefixes;
}

}  // namespace

KafkaSink::KafkaSink(KafkaSinkOptions options) : options_(std::move(options)) {
  shared_ = std::make_shared<Shared>();
  shared_->options = options_;
}

KafkaSink::~KafkaSink() = default;

Status KafkaSink::Open(const JobContext& context, const std::vector<StreamInfo>& streams) {
  return OpenTargets(context, streams, /*register_schemas=*/true);
}

Status KafkaSink::OpenTargets(const JobContext& context, const std::vector<StreamInfo>& streams,
                              bool register_schemas) {
  shared_->context = &context;
  std::unique_ptr<SchemaRegistry> registry;
  if (options_.format == MessageFormat::kAvro) {
    registry = std::make_unique<SchemaRegistry>(options_.schema_registry_url,
                                                options_.schema_registry_user,
                                                options_.schema_registry_password);
  }
  SLUICE_ASSIGN_OR_RETURN(KafkaHandle admin,
                          KafkaHandle::Open(KafkaHandle::Kind::kProducer, options_.connection,
                                            {}, std::string(kComponent)));
  SLUICE_ASSIGN_OR_RETURN(std::vector<TopicPartitions> topics, ListTopics(admin));
  shared_->targets.clear();
  for (const StreamInfo& stream : streams) {
    if (stream.changelog && options_.envelope != Envelope::kDebezium) {
      // json, csv, raw and avro messages carry no row kind: refused, as api.h asks.
      return InvalidConfig(fmt::format("stream '{}' is a changelog (inserts, updates, deletes), "
                                       "which format {} cannot carry: write it with format: "
                                       "debezium_json (one change event per message), or to a "
                                       "SQL sink with mode: apply",
                                       stream.name, FormatName(options_.format)));
    }
    Shared::Target target;
    target.schema = stream.schema;
    target.topic = options_.topic.empty() ? stream.name : options_.topic;
    if (size_t at = target.topic.find("{stream}"); at != std::string::npos)
      target.topic.replace(at, 8, stream.name);
    bool exists = false;
    for (const TopicPartitions& topic : topics)
      exists = exists || topic.topic == target.topic;
    if (!exists) {
      return MissingTopicStatus(
          admin, target.topic,
          fmt::format("topic '{}' does not exist on {}: create it (with the partitions and "
                      "retention it needs) before the job runs",
                      target.topic, options_.connection.Describe()));
    }
    for (const std::string& name : options_.key_columns) {
      int index = stream.schema->FieldIndex(name);
      if (index < 0) {
        return InvalidConfig(fmt::format("key column '{}' is not a column of stream '{}' "
                                         "(columns: {})",
                                         name, stream.name, stream.schema->ToString()));
      }
      target.key_columns.push_back(index);
    }
    if (options_.envelope == Envelope::kDebezium) {
      // Debezium keys events by the primary key: one key's events stay in one partition.
      if (options_.key_columns.empty())
        target.key_columns = stream.schema->primary_key();
      std::vector<std::string> names;
      for (const Field& field : stream.schema->fields())
        names.push_back(field.name);
      target.field_prefixes = JsonKeyPrefixes(names);
      names.clear();
      for (int index : target.key_columns)
        names.push_back(stream.schema->field(static_cast<size_t>(index)).name);
      target.key_prefixes = JsonKeyPrefixes(names);
      target.source_suffix = ",\"source\":{\"connector\":\"sluice\",\"name\":";
      formats::AppendJsonString(context.job_name, &target.source_suffix);
      target.source_suffix.append(",\"table\":");
      formats::AppendJsonString(stream.name, &target.source_suffix);
      target.source_suffix.append("}}");
    }
    if (options_.format == MessageFormat::kRaw) {
      if (!options_.value_column.empty()) {
        target.value_column = stream.schema->FieldIndex(options_.value_column);
        if (target.value_column < 0) {
          return InvalidConfig(fmt::format("value_column '{}' is not a column of stream '{}'",
                                           options_.value_column, stream.name));
        }
      } else if (stream.schema->num_fields() == 1) {
        target.value_column = 0;
      } else {
        return InvalidConfig(fmt::format("format raw sends one column as the value: stream '{}' "
                                         "has {}, so set value_column",
                                         stream.name, stream.schema->num_fields()));
      }
    }
    if (registry) {
      // TopicNameStrategy, as Confluent's serializers: subject <topic>-value.
      SLUICE_ASSIGN_OR_RETURN(target.avro_schema, AvroSchemaOf(*stream.schema, stream.name));
      if (register_schemas) {
        std::string subject = target.topic + "-value";
        Result<int32_t> id = registry->Register(subject, target.avro_schema);
        if (!id.ok()) {
          return id.status().WithContext(fmt::format(
              "Cannot register the Avro schema of stream '{}' under subject '{}'", stream.name,
              subject));
        }
        target.avro_schema_id = *id;
      }
    }
    shared_->targets.push_back(std::move(target));
  }
  return Status::OK();
}

Status KafkaSink::Check(const JobContext& context, const std::vector<StreamInfo>& streams,
                        CheckReport* report) {
  SLUICE_RETURN_IF_ERROR(OpenTargets(context, streams, /*register_schemas=*/false));
  for (const Shared::Target& target : shared_->targets) {
    report->Note(fmt::format("writes topic '{}'", target.topic));
    if (options_.format == MessageFormat::kAvro) {
      report->Note(fmt::format("registers its Avro value schema under subject '{}-value' at {}",
                               target.topic, options_.schema_registry_url));
    }
  }
  if (context.delivery == DeliveryGuarantee::kExactlyOnce) {
    report->Note(fmt::format("exactly-once: Kafka transactions, progress in topic '{}'",
                             options_.progress_topic));
  }
  return Status::OK();
}

Result<std::unique_ptr<SinkWriter>> KafkaSink::CreateWriter(int slot) {
  bool transactional = shared_->exactly_once();
  shared_->claimed_records.reset();  // writing begins: progress records may change from now on
  if (auto fenced = shared_->fenced_producers.find(slot);
      transactional && fenced != shared_->fenced_producers.end()) {
    KafkaHandle producer = std::move(fenced->second);  // Claim's, its transactions initialized
    shared_->fenced_producers.erase(fenced);
    return WriterFor(std::move(producer), slot, transactional);
  }
  std::map<std::string, std::string> settings = TransactionalSettings(slot, transactional);
  SLUICE_ASSIGN_OR_RETURN(
      KafkaHandle producer,
      KafkaHandle::Open(KafkaHandle::Kind::kProducer, options_.connection, settings,
                        fmt::format("{}:{}", kComponent, slot)));
  if (transactional) {
    // Fences any producer of an earlier run with this id and aborts its open transaction.
    ErrorPtr error(rd_kafka_init_transactions(producer.get(), options_.connection.timeout_ms * 3));
    if (error) {
      return TransactionStatus(
          error.get(), fmt::format("Cannot start the transactional producer '{}' on {}",
                                   settings["transactional.id"], options_.connection.Describe()));
    }
  }
  return WriterFor(std::move(producer), slot, transactional);
}

std::map<std::string, std::string> KafkaSink::TransactionalSettings(int slot,
                                                                    bool transactional) const {
  std::map<std::string, std::string> settings = shared_->ProducerSettings();
  if (transactional) {
    settings["transactional.id"] = TransactionalId(shared_->context->job_name, slot);
    settings["transaction.timeout.ms"] = std::to_string(options_.transaction_timeout_ms);
  }
  return settings;
}

Result<std::unique_ptr<SinkWriter>> KafkaSink::WriterFor(KafkaHandle producer, int slot,
                                                         bool transactional) {
  std::set<std::string> topics;
  for (const Shared::Target& target : shared_->targets)
    topics.insert(target.topic);
  if (transactional)
    topics.insert(options_.progress_topic);
  for (const std::string& topic : topics) {
    SLUICE_RETURN_IF_ERROR(
        producer.LearnTopic(topic, fmt::format("Cannot read the metadata of topic '{}'", topic)));
  }
  return std::unique_ptr<SinkWriter>(
      new KafkaWriter(shared_, std::move(producer), slot, transactional));
}

Status KafkaSink::Claim(const JobContext& context) {
  shared_->context = &context;
  if (context.delivery != DeliveryGuarantee::kExactlyOnce)
    return Status::OK();
  SLUICE_ASSIGN_OR_RETURN(KafkaHandle admin,
                          KafkaHandle::Open(KafkaHandle::Kind::kProducer, options_.connection,
                                            {}, std::string(kComponent)));
  SLUICE_RETURN_IF_ERROR(EnsureCompactedTopic(admin, options_.progress_topic));
  SLUICE_ASSIGN_OR_RETURN(auto records, shared_->ReadProgressTopic(context.job_name));
  uint64_t stored_epoch = 0;
  int64_t slots = 0;
  std::string holder;
  if (auto run = records.find(RunKey(context.job_name)); run != records.end()) {
    try {
      nlohmann::json json = nlohmann::json::parse(run->second);
      stored_epoch = json.value("epoch", uint64_t{0});
      slots = json.value("slots", int64_t{0});
      holder = json.value("owner", std::string());
    } catch (const std::exception&) {
      // A record we cannot read fences nothing.
    }
  }
  std::string target = fmt::format("kafka {} (progress topic '{}')", options_.connection.brokers,
                                   options_.progress_topic);
  if (context.run_epoch != 0 && stored_epoch > context.run_epoch)
    return FencedOff(context.job_name, target, context.run_epoch, stored_epoch, holder);
  slots = std::max<int64_t>(slots, context.parallelism);
  // init_transactions for every slot any run used: their producers are fenced and their open
  // transactions aborted before this run reads its progress.
  shared_->fenced_producers.clear();
  for (int slot = 0; slot < slots; ++slot) {
    std::map<std::string, std::string> settings = TransactionalSettings(slot, true);
    SLUICE_ASSIGN_OR_RETURN(KafkaHandle producer,
                            KafkaHandle::Open(KafkaHandle::Kind::kProducer, options_.connection,
                                              settings, fmt::format("{}:{}", kComponent, slot)));
    ErrorPtr error(rd_kafka_init_transactions(producer.get(), options_.connection.timeout_ms * 3));
    if (error) {
      return TransactionStatus(error.get(),
                               fmt::format("Cannot fence the earlier runs' producer '{}'",
                                           settings["transactional.id"]));
    }
    if (slot < context.parallelism)
      shared_->fenced_producers.emplace(slot, std::move(producer));
  }
  // Read again now that every earlier producer is fenced: a transaction an earlier run
  // committed just before it died (its markers still being written) or that the fencing
  // completed is in this read, not necessarily in the one above.
  SLUICE_ASSIGN_OR_RETURN(records, shared_->ReadProgressTopic(context.job_name));
  shared_->claimed_records = records;
  nlohmann::json run = {{"epoch", std::max(stored_epoch, context.run_epoch)},
                        {"owner", context.run_owner},
                        {"slots", slots}};
  return shared_->WriteProgressRecords({{RunKey(context.job_name), run.dump()}});
}

Result<std::vector<SplitProgress>> KafkaSink::RecoverProgress(const JobContext& context) {
  std::vector<SplitProgress> out;
  if (context.delivery != DeliveryGuarantee::kExactlyOnce)
    return out;
  std::map<std::string, std::string> records;
  if (shared_->claimed_records) {
    records = *shared_->claimed_records;
  } else {
    SLUICE_ASSIGN_OR_RETURN(records, shared_->ReadProgressTopic(context.job_name));
  }
  std::string prefix = SplitKeyPrefix(context.job_name);
  for (const auto& [key, value] : records) {
    if (!key.starts_with(prefix))
      continue;
    SplitProgress progress;
    progress.split_id = key.substr(prefix.size());
    try {
      nlohmann::json json = nlohmann::json::parse(value);
      progress.position = json.value("position", std::string());
      progress.done = json.value("done", false);
    } catch (const std::exception& error) {
      return Internal(fmt::format("progress record of split '{}' in topic '{}' is not valid: {}",
                                  progress.split_id, options_.progress_topic, error.what()));
    }
    out.push_back(std::move(progress));
  }
  return out;
}

Status KafkaSink::CheckFreshStart(const JobContext& context,
                                  const std::vector<StreamInfo>& streams) {
  SLUICE_ASSIGN_OR_RETURN(std::vector<SplitProgress> progress, RecoverProgress(context));
  if (progress.empty())
    return Status::OK();
  return InvalidConfig(fmt::format(
      "job '{}': an interrupted run already sent messages to Kafka, which a topic cannot take "
      "back, so starting over would send them twice: resume the job (run it without --fresh), "
      "or delete and recreate the target topics first",
      context.job_name));
}

Status KafkaSink::ForgetProgress(const JobContext& context) {
  if (context.delivery != DeliveryGuarantee::kExactlyOnce)
    return Status::OK();
  std::map<std::string, std::string> records;
  if (shared_->claimed_records) {
    records = std::move(*shared_->claimed_records);
    shared_->claimed_records.reset();  // the tombstones change them
  } else {
    SLUICE_ASSIGN_OR_RETURN(records, shared_->ReadProgressTopic(context.job_name));
  }
  std::vector<std::pair<std::string, std::optional<std::string>>> tombstones;
  std::string prefix = SplitKeyPrefix(context.job_name);
  for (const auto& [key, value] : records) {
    if (key.starts_with(prefix))
      tombstones.emplace_back(key, std::nullopt);
  }
  if (tombstones.empty())
    return Status::OK();
  return shared_->WriteProgressRecords(tombstones);
}

}  // namespace sluice::connectors::kafka
