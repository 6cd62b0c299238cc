#include "connectors/kafka/kafka_source.h"

#include <fmt/core.h>
#include <librdkafka/rdkafka.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <regex>
#include <set>
#include <thread>

#include "connectors/kafka/kafka_client.h"
#include "connectors/kafka/kafka_message_decoder.h"
#include "core/failpoint.h"
#include "core/logging.h"
#include "formats/jsonl/jsonl_reader.h"
#include "formats/jsonl/jsonl_schema.h"
#include "io/memory_stream.h"

namespace sluice::connectors::kafka {

namespace {

using Clock = std::chrono::steady_clock;
constexpr std::string_view kComponent = "source:kafka";

struct MessageDeleter {
  void operator()(rd_kafka_message_t* message) const { rd_kafka_message_destroy(message); }
};
using MessagePtr = std::unique_ptr<rd_kafka_message_t, MessageDeleter>;

// librdkafka settings of every consumer this source creates: no automatic commits (Acknowledge
// commits), an event at each partition's end (stop_at: end), and an offset that retention
// deleted is an error rather than a silent jump.
std::map<std::string, std::string> ConsumerSettings(const KafkaSourceOptions& options,
                                                    const std::string& group_id) {
  return {
      {"group.id", group_id},
      {"enable.auto.commit", "false"},
      {"enable.auto.offset.store", "false"},
      {"enable.partition.eof", "true"},
      {"auto.offset.reset", "error"},
      {"isolation.level", options.read_committed ? "read_committed" : "read_uncommitted"},
      {"topic.metadata.refresh.interval.ms", "10000"},
  };
}

}  // namespace

std::string PartitionSplitId(std::string_view topic, int32_t partition) {
  return fmt::format("{}#{}", topic, partition);
}

std::string PartitionRange::ToJson() const {
  nlohmann::json json = {{"topic", topic}, {"partition", partition}, {"start", start}};
  if (end >= 0)
    json["end"] = end;
  return json.dump();
}

Result<PartitionRange> PartitionRange::FromJson(std::string_view payload) {
  try {
    nlohmann::json json = nlohmann::json::parse(payload);
    PartitionRange out;
    out.topic = json.at("topic").get<std::string>();
    out.partition = json.at("partition").get<int32_t>();
    out.start = json.at("start").get<int64_t>();
    out.end = json.value("end", int64_t{-1});
    return out;
  } catch (const std::exception& error) {
    return Internal(fmt::format("bad kafka split payload '{}': {}", payload, error.what()));
  }
}

Result<int64_t> KafkaSource::ParsePosition(std::string_view position) {
  if (position.empty())
    return int64_t{-1};
  try {
    nlohmann::json json = nlohmann::json::parse(position);
    return json.at("offset").get<int64_t>();
  } catch (const std::exception& error) {
    return Internal(fmt::format("bad kafka position '{}': {}", position, error.what()));
  }
}

// What the source, its enumerator and its readers share. The admin handle (a consumer that
// never subscribes) answers metadata, watermark and committed-offset requests and commits the
// group's offsets.
struct KafkaSource::Shared {
  KafkaSourceOptions options;
  std::string group_id;
  std::optional<KafkaHandle> admin;
  std::map<std::string, int> stream_by_topic;
  std::vector<SchemaPtr> value_schemas;  // by stream
  std::vector<SchemaPtr> schemas;        // by stream, metadata columns included
  std::shared_ptr<const SchemaRegistry> registry;  // format avro only
  const JobContext* context = nullptr;

  Result<std::pair<int64_t, int64_t>> Watermarks(const std::string& topic, int32_t partition) {
    int64_t low = 0;
    int64_t high = 0;
    rd_kafka_resp_err_t error = rd_kafka_query_watermark_offsets(
        admin->get(), topic.c_str(), partition, &low, &high, options.connection.timeout_ms);
    if (error != RD_KAFKA_RESP_ERR_NO_ERROR) {
      return admin->Error(error, fmt::format("Cannot read the offsets of partition {} of topic "
                                             "'{}' on {}",
                                             partition, topic, options.connection.Describe()));
    }
    return std::make_pair(low, high);
  }
};

namespace {

// The streams' topics that exist now, with their partitions.
Result<std::vector<TopicPartitions>> MatchTopics(const KafkaHandle& admin,
                                                 const KafkaSourceOptions& options) {
  SLUICE_ASSIGN_OR_RETURN(std::vector<TopicPartitions> all, ListTopics(admin));
  // The broker lists topics in no particular order: a pattern's streams come in name order, so
  // that the same topics are the same streams in every run.
  std::sort(all.begin(), all.end(), [](const TopicPartitions& a, const TopicPartitions& b) {
    return a.topic < b.topic;
  });
  std::vector<TopicPartitions> matched;
  std::set<std::string> seen;
  for (const std::string& wanted : options.topics) {
    bool any = false;
    if (wanted.starts_with("^")) {
      std::regex pattern;
      try {
        pattern = std::regex(wanted, std::regex::ECMAScript);
      } catch (const std::regex_error& error) {
        return InvalidConfig(
            fmt::format("topic pattern '{}' is not a valid regular expression: {}", wanted,
                        error.what()));
      }
      for (const TopicPartitions& topic : all) {
        if (std::regex_match(topic.topic, pattern)) {
          any = true;
          if (seen.insert(topic.topic).second)
            matched.push_back(topic);
        }
      }
      if (!any) {
        return NotFound(fmt::format("no topic on {} matches '{}'",
                                    options.connection.Describe(), wanted));
      }
      continue;
    }
    for (const TopicPartitions& topic : all) {
      if (topic.topic == wanted) {
        any = true;
        if (seen.insert(topic.topic).second)
          matched.push_back(topic);
      }
    }
    if (!any) {
      std::string not_found =
          fmt::format("topic '{}' does not exist on {} (Sluice never creates the topics it reads)",
                      wanted, options.connection.Describe());
      if (wanted.starts_with("^"))
        return NotFound(std::move(not_found));
      return MissingTopicStatus(admin, wanted, std::move(not_found));
    }
  }
  return matched;
}

// Reads the messages of `topic` from each partition's beginning up to its end as of now, at
// most `limit` in all, each as one line of JSON text, for schema inference.
Result<std::string> SampleJson(KafkaSource::Shared* shared, const TopicPartitions& topic,
                               int64_t limit) {
  SLUICE_ASSIGN_OR_RETURN(
      KafkaHandle consumer,
      KafkaHandle::Open(KafkaHandle::Kind::kConsumer, shared->options.connection,
                        ConsumerSettings(shared->options, shared->group_id),
                        std::string(kComponent)));
  PartitionList assignment;
  std::map<int32_t, int64_t> ends;
  for (int32_t partition : topic.partitions) {
    SLUICE_ASSIGN_OR_RETURN(auto marks, shared->Watermarks(topic.topic, partition));
    if (marks.second > marks.first) {
      ends[partition] = marks.second;
      assignment.Add(topic.topic, partition, RD_KAFKA_OFFSET_BEGINNING);
    }
  }
  std::string lines;
  if (ends.empty())
    return lines;
  SLUICE_RETURN_IF_ERROR(
      consumer.Assign(assignment, fmt::format("Cannot read topic '{}'", topic.topic)));
  int64_t taken = 0;
  Clock::time_point deadline =
      Clock::now() + std::chrono::milliseconds(shared->options.connection.timeout_ms);
  while (!ends.empty() && taken < limit && Clock::now() < deadline) {
    MessagePtr message(rd_kafka_consumer_poll(consumer.get(), 100));
    if (!message)
      continue;
    int32_t partition = message->partition;
    if (message->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
      if (ends.count(partition) && message->offset >= ends[partition])
        ends.erase(partition);
      continue;
    }
    if (message->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      if (IsAuthenticationError(message->err) ||
          message->err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART) {
        return KafkaStatus(message->err, fmt::format("Cannot read topic '{}'", topic.topic),
                           rd_kafka_message_errstr(message.get()));
      }
      continue;
    }
    if (message->payload != nullptr) {
      std::string_view value(static_cast<const char*>(message->payload), message->len);
      // JSON allows a line end only where a space may stand: one message is one line.
      for (char c : value)
        lines.push_back(c == '\n' || c == '\r' ? ' ' : c);
      lines.push_back('\n');
      ++taken;
    }
    if (ends.count(partition) && message->offset + 1 >= ends[partition])
      ends.erase(partition);
  }
  return lines;
}

// The rows of the change events in `sample` (one event a line), one JSON object a line, for
// inferring the columns; events that are not valid are passed over (reading reports them).
std::string ChangeRowSample(Envelope envelope, const std::string& sample) {
  std::string out;
  std::vector<ChangeRow> rows;
  size_t start = 0;
  while (start < sample.size()) {
    size_t end = sample.find('\n', start);
    if (end == std::string::npos)
      end = sample.size();
    rows.clear();
    if (ExtractChangeRows(envelope, std::string_view(sample).substr(start, end - start), "sample",
                          &rows)
            .ok()) {
      for (const ChangeRow& row : rows) {
        out += row.object;
        out.push_back('\n');
      }
    }
    start = end + 1;
  }
  return out;
}

// Hands out one split per partition, and, for an unbounded source, finds partitions added while
// the job runs (a thread asking for metadata every partition_discovery_secs) and wakes idle
// readers for them. Thread-safe.
class KafkaEnumerator final : public SplitEnumerator {
 public:
  KafkaEnumerator(std::shared_ptr<KafkaSource::Shared> shared, std::vector<Split> splits,
                  std::set<std::string> known_ids, bool discover)
      : shared_(std::move(shared)),
        splits_(splits.begin(), splits.end()),
        known_(std::move(known_ids)) {
    for (const Split& split : splits_)
      known_.insert(split.id);
    if (discover)
      discovery_ = std::thread([this] { DiscoverLoop(); });
  }

  ~KafkaEnumerator() override {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stopping_ = true;
    }
    stop_cv_.notify_all();
    if (discovery_.joinable())
      discovery_.join();
  }

  Result<std::optional<Split>> Next() override {
    std::lock_guard<std::mutex> lock(mutex_);
    if (splits_.empty())
      return std::optional<Split>();
    Split split = std::move(splits_.front());
    splits_.pop_front();
    return std::optional<Split>(std::move(split));
  }

  void Add(Split split) override {
    std::lock_guard<std::mutex> lock(mutex_);
    splits_.push_front(std::move(split));
  }

  size_t pending() const override {
    std::lock_guard<std::mutex> lock(mutex_);
    return splits_.size();
  }

  void SetWakeup(std::function<void()> wake) override {
    std::lock_guard<std::mutex> lock(mutex_);
    wake_ = std::move(wake);
  }

 private:
  void DiscoverLoop() {
    std::unique_lock<std::mutex> lock(mutex_);
    while (!stopping_) {
      stop_cv_.wait_for(lock, std::chrono::milliseconds(shared_->options.partition_discovery_ms));
      if (stopping_)
        break;
      lock.unlock();
      size_t found = DiscoverOnce();
      lock.lock();
      if (found > 0 && wake_)
        wake_();
    }
  }

  // Looks for partitions not handed out yet; returns how many it queued.
  size_t DiscoverOnce() {
    Result<std::vector<TopicPartitions>> topics = ListTopics(*shared_->admin);
    if (!topics.ok()) {
      log::Warn(kComponent, "Cannot look for new partitions: {}", topics.status().ToString());
      return 0;
    }
    std::vector<Split> found;
    for (const TopicPartitions& topic : *topics) {
      auto stream = shared_->stream_by_topic.find(topic.topic);
      if (stream == shared_->stream_by_topic.end())
        continue;
      for (int32_t partition : topic.partitions) {
        std::string id = PartitionSplitId(topic.topic, partition);
        {
          std::lock_guard<std::mutex> lock(mutex_);
          if (known_.count(id))
            continue;
        }
        // A partition born while the job runs holds only new messages: all of them are read.
        PartitionRange range{topic.topic, partition, RD_KAFKA_OFFSET_BEGINNING, -1};
        Split split;
        split.id = id;
        split.stream = stream->second;
        split.payload = range.ToJson();
        found.push_back(std::move(split));
      }
    }
    std::lock_guard<std::mutex> lock(mutex_);
    for (Split& split : found) {
      log::Info(kComponent, "New partition '{}': reading it from its beginning", split.id);
      known_.insert(split.id);
      splits_.push_back(std::move(split));
    }
    return found.size();
  }

  std::shared_ptr<KafkaSource::Shared> shared_;
  mutable std::mutex mutex_;
  std::condition_variable stop_cv_;
  std::deque<Split> splits_;      // guarded by mutex_
  std::set<std::string> known_;   // guarded by mutex_: every split id handed out or planned
  std::function<void()> wake_;    // guarded by mutex_
  bool stopping_ = false;         // guarded by mutex_
  std::thread discovery_;
};

// Reads one partition. Its consumer is assigned that partition alone (no group membership:
// Sluice's checkpoints say where to resume, not the group).
class KafkaReader final : public SplitReader {
 public:
  KafkaReader(std::shared_ptr<KafkaSource::Shared> shared, int stream, PartitionRange range,
              KafkaHandle consumer, int64_t next_offset)
      : shared_(std::move(shared)),
        range_(std::move(range)),
        consumer_(std::move(consumer)),
        decoder_(shared_->options, shared_->value_schemas[static_cast<size_t>(stream)],
                 shared_->schemas[static_cast<size_t>(stream)],
                 fmt::format("source:kafka:{}", range_.topic), shared_->registry),
        stream_name_(range_.topic),
        start_offset_(next_offset),
        next_offset_(next_offset) {}

  Result<bool> ReadBatch(Batch* batch) override {
    const JobContext& context = *shared_->context;
    Clock::time_point deadline = Clock::now() + read_wait_.value_or(context.read_wait);
    while (true) {
      if (done_)
        return !batch->empty();
      if (batch->full() || batch->arena_bytes() >= context.batch_bytes)
        return true;
      if (cancelled_.load() || context.cancelled->load())
        return true;
      if (ReachedEnd(next_offset_.load())) {
        done_ = true;
        continue;
      }
      MessagePtr message = std::move(held_);
      if (!message) {
        auto left =
            std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
        if (left.count() <= 0)
          return true;
        message.reset(rd_kafka_consumer_poll(consumer_.get(), 0));
        if (!message) {
          // Short waits, so that Cancel() is seen soon.
          int timeout = static_cast<int>(std::min<int64_t>(left.count(), 100));
          WakeFetcherIfBehind(timeout);
          message.reset(rd_kafka_consumer_poll(consumer_.get(), timeout));
        }
        if (!message)
          continue;
      }
      if (message->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
        high_watermark_.store(message->offset);
        if (ReachedEnd(message->offset))
          done_ = true;
        continue;
      }
      if (message->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        SLUICE_RETURN_IF_ERROR(ConsumerError(message.get()));
        continue;
      }
      if (ReachedEnd(message->offset)) {
        done_ = true;
        continue;
      }
      if (failpoint::AnyArmed())
        SLUICE_RETURN_IF_ERROR(failpoint::Check("kafka.source.message"));
      SLUICE_ASSIGN_OR_RETURN(bool fitted, Decode(message.get(), batch));
      if (!fitted) {
        // A change event whose rows do not fit: it opens the next batch.
        held_ = std::move(message);
        return true;
      }
      next_offset_.store(message->offset + 1);
      UpdateLag(message.get());
    }
  }

  std::string Position() const override {
    int64_t next = next_offset_.load();
    if (next < 0)
      return {};
    return fmt::format(R"({{"offset":{}}})", next);
  }

  double Progress() const override {
    if (range_.end < 0)
      return -1;
    int64_t start = start_offset_ < 0 ? 0 : start_offset_;
    if (range_.end <= start)
      return 1;
    int64_t next = std::max<int64_t>(next_offset_.load(), start);
    return std::min(1.0, static_cast<double>(next - start) / static_cast<double>(range_.end - start));
  }

  void Cancel() override { cancelled_.store(true); }
  void SetReadWait(std::chrono::milliseconds wait) override { read_wait_ = wait; }

  ReadLag Lag() const override {
    ReadLag lag;
    int64_t high = high_watermark_.load();
    int64_t next = next_offset_.load();
    if (high >= 0 && next >= 0)
      lag.rows = static_cast<uint64_t>(std::max<int64_t>(0, high - next));
    int64_t time = last_timestamp_ms_.load();
    if (time >= 0)
      lag.last_event_time_us = time * 1000;
    return lag;
  }

 private:
  bool ReachedEnd(int64_t offset) const { return range_.end >= 0 && offset >= range_.end; }

  Status ConsumerError(rd_kafka_message_t* message) {
    std::string what = fmt::format("Cannot read partition {} of topic '{}'", range_.partition,
                                   range_.topic);
    switch (message->err) {
      case RD_KAFKA_RESP_ERR__AUTO_OFFSET_RESET:
      case RD_KAFKA_RESP_ERR_OFFSET_OUT_OF_RANGE:
        return NotFound(fmt::format(
            "{}: offset {} is no longer (or not yet) in the partition: retention deleted it, or "
            "the topic was recreated; run the job with --fresh to start over ({})",
            what, next_offset_.load(), rd_kafka_message_errstr(message)));
      case RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART:
      case RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC:
      case RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION:
        return NotFound(fmt::format("{}: the topic or partition was deleted", what));
      default:
        if (IsAuthenticationError(message->err))
          return KafkaStatus(message->err, what, rd_kafka_message_errstr(message));
        // Brokers restarting, connections lost: librdkafka reconnects and fetches again.
        log::Warn(kComponent, "{}: {} (retrying)", what, rd_kafka_message_errstr(message));
        return Status::OK();
    }
  }

  // False when the message's rows do not fit in `batch` (nothing appended).
  Result<bool> Decode(rd_kafka_message_t* message, Batch* batch) {
    MessageView view;
    view.topic = stream_name_;
    view.partition = message->partition;
    view.offset = message->offset;
    if (message->key != nullptr)
      view.key = std::string_view(static_cast<const char*>(message->key), message->key_len);
    if (message->payload != nullptr)
      view.value = std::string_view(static_cast<const char*>(message->payload), message->len);
    rd_kafka_timestamp_type_t type;
    int64_t timestamp = rd_kafka_message_timestamp(message, &type);
    if (type != RD_KAFKA_TIMESTAMP_NOT_AVAILABLE && timestamp >= 0)
      view.timestamp_ms = timestamp;
    rd_kafka_headers_t* headers = nullptr;
    if (wants_headers_ && rd_kafka_message_headers(message, &headers) ==
                              RD_KAFKA_RESP_ERR_NO_ERROR) {
      const char* name = nullptr;
      const void* value = nullptr;
      size_t size = 0;
      for (size_t i = 0; rd_kafka_header_get_all(headers, i, &name, &value, &size) ==
                         RD_KAFKA_RESP_ERR_NO_ERROR;
           ++i) {
        std::optional<std::string_view> text;
        if (value != nullptr)
          text = std::string_view(static_cast<const char*>(value), size);
        view.headers.emplace_back(name, text);
      }
    }
    Result<bool> decoded = decoder_.Append(view, batch);
    if (decoded.ok())
      return decoded;
    Status appended = decoded.status();
    if (appended.code() != StatusCode::kDataError)
      return appended;
    BadRecord record;
    record.stream = stream_name_;
    record.location = MessageLocation(range_.topic, message->partition, message->offset);
    if (view.value)
      record.raw = std::string(view.value->substr(0, 64 * 1024));
    record.reason = appended;
    SLUICE_RETURN_IF_ERROR(shared_->context->bad_records->Handle(record));
    return true;
  }

  // librdkafka 2.0 (Debian 12's) stops fetching a partition whose local queue passed
  // queued.min.messages and looks at it again only when its broker thread wakes, up to a second
  // later: a reader that drained the queue then waited for nothing, and a 1M-message topic took
  // 2.2 s to read instead of 0.7. A request to the partition's leader wakes that thread, so a
  // reader that finds the queue empty while the partition has more asks for the watermarks
  // (which also refreshes the lag), waiting at most `timeout_ms` (a broker that is down must not
  // hold up a stop). Not when caught up: an idle stream costs no requests.
  void WakeFetcherIfBehind(int timeout_ms) {
    const int64_t high = high_watermark_.load();
    if (high >= 0 && next_offset_.load() >= high)
      return;
    int64_t low = 0;
    int64_t fresh_high = 0;
    if (rd_kafka_query_watermark_offsets(consumer_.get(), range_.topic.c_str(), range_.partition,
                                         &low, &fresh_high, timeout_ms) ==
        RD_KAFKA_RESP_ERR_NO_ERROR) {
      high_watermark_.store(fresh_high);
    }
  }

  void UpdateLag(rd_kafka_message_t* message) {
    int64_t low = 0;
    int64_t high = 0;
    // No I/O: what the last fetch said.
    if (rd_kafka_get_watermark_offsets(consumer_.get(), range_.topic.c_str(), range_.partition,
                                       &low, &high) == RD_KAFKA_RESP_ERR_NO_ERROR &&
        high >= 0) {
      high_watermark_.store(high);
    }
    rd_kafka_timestamp_type_t type;
    int64_t timestamp = rd_kafka_message_timestamp(message, &type);
    if (timestamp >= 0)
      last_timestamp_ms_.store(timestamp);
  }

  std::shared_ptr<KafkaSource::Shared> shared_;
  PartitionRange range_;
  KafkaHandle consumer_;
  MessageDecoder decoder_;
  std::string stream_name_;
  const bool wants_headers_ =
      std::find(shared_->options.metadata_columns.begin(), shared_->options.metadata_columns.end(),
                "headers") != shared_->options.metadata_columns.end();
  const int64_t start_offset_;  // -2: the partition's beginning
  bool done_ = false;
  MessagePtr held_;  // a message read but left for the next batch
  std::optional<std::chrono::milliseconds> read_wait_;  // the runtime's share, else read_wait
  std::atomic<int64_t> next_offset_;  // -2 until the first message
  std::atomic<int64_t> high_watermark_{-1};
  std::atomic<int64_t> last_timestamp_ms_{-1};
  std::atomic<bool> cancelled_{false};
};

}  // namespace

KafkaSource::KafkaSource(KafkaSourceOptions options) : options_(std::move(options)) {}

KafkaSource::~KafkaSource() = default;

Status KafkaSource::Open(const JobContext& context) {
  context_ = &context;
  shared_ = std::make_shared<Shared>();
  shared_->options = options_;
  shared_->context = &context;
  shared_->group_id =
      options_.group_id.empty() ? "sluice-" + context.job_name : options_.group_id;
  SLUICE_ASSIGN_OR_RETURN(
      KafkaHandle admin,
      KafkaHandle::Open(KafkaHandle::Kind::kConsumer, options_.connection,
                        ConsumerSettings(options_, shared_->group_id), std::string(kComponent)));
  shared_->admin.emplace(std::move(admin));
  SLUICE_ASSIGN_OR_RETURN(std::vector<TopicPartitions> topics,
                          MatchTopics(*shared_->admin, options_));
  if (options_.format == MessageFormat::kAvro) {
    shared_->registry = std::make_shared<SchemaRegistry>(options_.schema_registry_url,
                                                         options_.schema_registry_user,
                                                         options_.schema_registry_password);
  }
  for (const TopicPartitions& topic : topics) {
    std::vector<Field> value_fields;
    if (options_.format == MessageFormat::kRaw) {
      value_fields = RawValueFields(options_);
    } else if (!options_.columns.empty()) {
      value_fields = options_.columns;
    } else if (options_.format == MessageFormat::kAvro) {
      Result<std::pair<int32_t, std::string>> latest =
          shared_->registry->Latest(topic.topic + "-value");
      if (!latest.ok()) {
        return latest.status().WithContext(
            fmt::format("topic '{}': the columns come from the registry's subject '{}-value' "
                        "unless declared",
                        topic.topic, topic.topic));
      }
      SLUICE_ASSIGN_OR_RETURN(value_fields, AvroColumns(latest->second));
    } else {
      SLUICE_ASSIGN_OR_RETURN(std::string sample,
                              SampleJson(shared_.get(), topic, options_.infer_messages));
      if (options_.envelope != Envelope::kNone)
        sample = ChangeRowSample(options_.envelope, sample);
      io::StringInputStream input(std::move(sample));
      formats::JsonlReader reader(&input, topic.topic);
      Result<Schema> inferred = formats::InferJsonlSchema(&reader, options_.infer_messages);
      if (!inferred.ok())
        return inferred.status().WithContext(fmt::format("topic '{}'", topic.topic));
      if (inferred->num_fields() == 0) {
        return InvalidConfig(fmt::format(
            "topic '{}' has no JSON object message to infer the columns from: declare them "
            "with 'columns' (name -> type)",
            topic.topic));
      }
      value_fields = inferred->fields();
      for (const Field& field : value_fields) {
        if (std::find(options_.metadata_columns.begin(), options_.metadata_columns.end(),
                      field.name) != options_.metadata_columns.end()) {
          return InvalidConfig(fmt::format(
              "topic '{}' has messages with a key '{}', the name of a metadata column: drop it "
              "from metadata_columns or declare the columns",
              topic.topic, field.name));
        }
      }
      log::Info(kComponent, "Topic '{}': columns inferred from its messages: {}", topic.topic,
                Schema(value_fields).ToString());
    }
    std::vector<int> primary_key;
    for (const std::string& name : options_.primary_key) {
      int index = Schema(value_fields).FieldIndex(name);
      if (index < 0) {
        return InvalidConfig(fmt::format("primary_key column '{}' is not a column of topic '{}' "
                                         "({})",
                                         name, topic.topic, Schema(value_fields).ToString()));
      }
      primary_key.push_back(index);
    }
    auto value_schema = std::make_shared<const Schema>(value_fields);
    auto schema = std::make_shared<const Schema>(
        WithMetadataFields(options_, std::move(value_fields)), std::move(primary_key));
    shared_->stream_by_topic[topic.topic] = static_cast<int>(streams_.size());
    shared_->value_schemas.push_back(value_schema);
    shared_->schemas.push_back(schema);
    StreamInfo stream;
    stream.name = topic.topic;
    stream.schema = schema;
    stream.changelog = options_.envelope != Envelope::kNone;
    streams_.push_back(std::move(stream));
  }
  return Status::OK();
}

namespace {

// The split reading `range` of stream `stream`.
Split RangeSplit(const PartitionRange& range, int stream) {
  Split split;
  split.id = PartitionSplitId(range.topic, range.partition);
  split.stream = stream;
  split.payload = range.ToJson();
  if (range.end >= 0 && range.start >= 0)
    split.estimated_rows = static_cast<uint64_t>(std::max<int64_t>(0, range.end - range.start));
  return split;
}

}  // namespace

Result<std::vector<Split>> KafkaSource::Plan(const std::vector<std::string>& skip_ids) {
  SLUICE_ASSIGN_OR_RETURN(std::vector<TopicPartitions> topics,
                          MatchTopics(*shared_->admin, options_));
  std::vector<Split> splits;
  std::vector<PartitionRange> ranges;
  for (const TopicPartitions& topic : topics) {
    if (!shared_->stream_by_topic.count(topic.topic))
      continue;  // matched a pattern only since Open: its schema is unknown
    for (int32_t partition : topic.partitions) {
      std::string id = PartitionSplitId(topic.topic, partition);
      if (std::find(skip_ids.begin(), skip_ids.end(), id) != skip_ids.end())
        continue;
      ranges.push_back(PartitionRange{topic.topic, partition, RD_KAFKA_OFFSET_BEGINNING, -1});
    }
  }
  // Where each partition starts is fixed now and recorded in its split, so that a resumed run
  // starts where this one planned even when it never read a message.
  if (options_.start_from == StartFrom::kCommitted && !ranges.empty()) {
    PartitionList list;
    for (const PartitionRange& range : ranges)
      list.Add(range.topic, range.partition, RD_KAFKA_OFFSET_INVALID);
    rd_kafka_resp_err_t error =
        rd_kafka_committed(shared_->admin->get(), list.get(), options_.connection.timeout_ms);
    if (error != RD_KAFKA_RESP_ERR_NO_ERROR) {
      return shared_->admin->Error(
          error, fmt::format("Cannot read the committed offsets of consumer group '{}'",
                             shared_->group_id));
    }
    for (int i = 0; i < list.size(); ++i) {
      const rd_kafka_topic_partition_t& entry = list.get()->elems[i];
      if (entry.err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        return KafkaStatus(entry.err, fmt::format("Cannot read the committed offset of '{}'",
                                                  PartitionSplitId(entry.topic, entry.partition)));
      }
      if (entry.offset >= 0)
        ranges[static_cast<size_t>(i)].start = entry.offset;
    }
  } else if (options_.start_from == StartFrom::kLatest) {
    for (PartitionRange& range : ranges) {
      SLUICE_ASSIGN_OR_RETURN(auto marks, shared_->Watermarks(range.topic, range.partition));
      range.start = marks.second;
    }
  } else if (options_.start_from == StartFrom::kTimestamp && !ranges.empty()) {
    PartitionList list;
    for (const PartitionRange& range : ranges)
      list.Add(range.topic, range.partition, options_.start_timestamp_ms);
    rd_kafka_resp_err_t error = rd_kafka_offsets_for_times(shared_->admin->get(), list.get(),
                                                           options_.connection.timeout_ms);
    if (error != RD_KAFKA_RESP_ERR_NO_ERROR) {
      return shared_->admin->Error(error, "Cannot look up the offsets for start_timestamp_ms");
    }
    for (int i = 0; i < list.size(); ++i) {
      PartitionRange& range = ranges[static_cast<size_t>(i)];
      int64_t offset = list.get()->elems[i].offset;
      if (offset < 0) {
        // No message at or after that time yet: start at the end.
        SLUICE_ASSIGN_OR_RETURN(auto marks, shared_->Watermarks(range.topic, range.partition));
        offset = marks.second;
      }
      range.start = offset;
    }
  }
  for (PartitionRange& range : ranges) {
    if (options_.stop_at_end) {
      SLUICE_ASSIGN_OR_RETURN(auto marks, shared_->Watermarks(range.topic, range.partition));
      range.end = marks.second;
    }
    splits.push_back(RangeSplit(range, shared_->stream_by_topic[range.topic]));
  }
  return splits;
}

void KafkaSource::KeepPlan(const std::vector<Split>& splits) {
  std::lock_guard<std::mutex> lock(plan_mutex_);
  plan_.clear();
  for (const Split& split : splits)
    plan_.push_back(split.payload);
}

std::string KafkaSource::CheckpointState() const {
  std::lock_guard<std::mutex> lock(plan_mutex_);
  if (plan_.empty())
    return {};
  nlohmann::json plan = nlohmann::json::array();
  for (const std::string& payload : plan_)
    plan.push_back(nlohmann::json::parse(payload));
  return nlohmann::json{{"plan", std::move(plan)}}.dump();
}

Status KafkaSource::RestoreState(std::string_view state) {
  restored_plan_.clear();
  if (state.empty() || !options_.stop_at_end)
    return Status::OK();
  try {
    for (const nlohmann::json& range : nlohmann::json::parse(state).at("plan"))
      restored_plan_.push_back(range.dump());
  } catch (const std::exception& error) {
    return Internal(fmt::format("bad kafka source state '{}': {}", state, error.what()));
  }
  return Status::OK();
}

Result<std::unique_ptr<SplitEnumerator>> KafkaSource::CreateEnumerator() {
  SLUICE_ASSIGN_OR_RETURN(std::vector<Split> splits, Plan({}));
  if (options_.stop_at_end)
    KeepPlan(splits);
  return std::unique_ptr<SplitEnumerator>(
      new KafkaEnumerator(shared_, std::move(splits), {}, !options_.stop_at_end));
}

Result<std::unique_ptr<SplitEnumerator>> KafkaSource::ResumeEnumerator(
    const std::vector<Split>& planned) {
  std::vector<std::string> ids;
  std::set<std::string> known;
  for (const Split& split : planned) {
    ids.push_back(split.id);
    known.insert(split.id);
  }
  std::vector<Split> splits;
  if (!options_.stop_at_end) {
    SLUICE_ASSIGN_OR_RETURN(splits, Plan(ids));
  } else if (!restored_plan_.empty()) {
    // A bounded run reads the partitions of its first run's plan, up to the ends fixed then:
    // those handed out (`planned`) and those still waiting when it stopped, which only the
    // recorded plan knows (the runtime records a split when it is handed out).
    std::vector<Split> whole;
    for (const std::string& payload : restored_plan_) {
      SLUICE_ASSIGN_OR_RETURN(PartitionRange range, PartitionRange::FromJson(payload));
      auto stream = shared_->stream_by_topic.find(range.topic);
      if (stream == shared_->stream_by_topic.end())
        continue;  // a pattern's topic gone since
      Split split = RangeSplit(range, stream->second);
      whole.push_back(split);
      if (!known.count(split.id))
        splits.push_back(std::move(split));
    }
    KeepPlan(whole);
  } else {
    // No plan recorded (no checkpoint yet): the partitions not handed out are planned now, up
    // to their ends as of this run's start.
    SLUICE_ASSIGN_OR_RETURN(splits, Plan(ids));
    std::vector<Split> whole = planned;
    whole.insert(whole.end(), splits.begin(), splits.end());
    KeepPlan(whole);
  }
  return std::unique_ptr<SplitEnumerator>(
      new KafkaEnumerator(shared_, std::move(splits), std::move(known), !options_.stop_at_end));
}

Result<std::unique_ptr<SplitReader>> KafkaSource::CreateReader(const Split& split,
                                                               const std::string& position) {
  SLUICE_ASSIGN_OR_RETURN(PartitionRange range, PartitionRange::FromJson(split.payload));
  SLUICE_ASSIGN_OR_RETURN(int64_t resume, ParsePosition(position));
  int64_t start = resume >= 0 ? resume : range.start;
  SLUICE_ASSIGN_OR_RETURN(
      KafkaHandle consumer,
      KafkaHandle::Open(KafkaHandle::Kind::kConsumer, options_.connection,
                        ConsumerSettings(options_, shared_->group_id),
                        fmt::format("source:kafka:{}", split.id)));
  PartitionList assignment;
  assignment.Add(range.topic, range.partition, start);
  SLUICE_RETURN_IF_ERROR(
      consumer.Assign(assignment, fmt::format("Cannot read partition '{}'", split.id)));
  return std::unique_ptr<SplitReader>(
      new KafkaReader(shared_, split.stream, std::move(range), std::move(consumer), start));
}

void KafkaSource::Describe(CheckReport* report) const {
  report->Note(fmt::format("consumer group '{}' (offsets committed after each checkpoint)",
                           shared_ ? shared_->group_id : options_.group_id));
  if (options_.stop_at_end)
    report->Note("stop_at: end: each partition is read up to its end as of the job's start");
}

Status KafkaSource::Acknowledge(uint64_t checkpoint, const std::vector<SplitProgress>& progress) {
  if (!shared_ || progress.empty())
    return Status::OK();
  PartitionList list;
  for (const SplitProgress& split : progress) {
    SLUICE_ASSIGN_OR_RETURN(int64_t offset, ParsePosition(split.position));
    size_t hash = split.split_id.rfind('#');
    if (offset < 0 || hash == std::string::npos)
      continue;
    int32_t partition = std::atoi(split.split_id.c_str() + hash + 1);
    list.Add(split.split_id.substr(0, hash), partition, offset);
  }
  if (list.size() == 0)
    return Status::OK();
  if (failpoint::AnyArmed())
    SLUICE_RETURN_IF_ERROR(failpoint::Check("kafka.source.acknowledge"));
  rd_kafka_resp_err_t error = rd_kafka_commit(shared_->admin->get(), list.get(), /*async=*/0);
  if (error != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return shared_->admin->Error(
        error, fmt::format("Cannot commit the offsets of checkpoint {} to consumer group '{}'",
                           checkpoint, shared_->group_id));
  }
  return Status::OK();
}

}  // namespace sluice::connectors::kafka
