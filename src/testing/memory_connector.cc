#include "testing/memory_connector.h"

#include <fmt/core.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <thread>

#include "connectors/split_queue.h"
#include "core/value_text.h"

namespace sluice::testing {

Row RowFromBatch(const Batch& batch, size_t row) {
  Row out;
  for (size_t c = 0; c < batch.num_columns(); ++c) {
    const Column& column = batch.column(c);
    if (column.IsNull(row)) {
      out.emplace_back(std::nullopt);
    } else {
      std::string text;
      AppendValueText(column, row, &text);
      out.emplace_back(std::move(text));
    }
  }
  return out;
}

void AppendRow(const Row& row, Batch* batch) {
  for (size_t c = 0; c < row.size(); ++c) {
    if (!row[c]) {
      batch->column(c).AppendNull();
      continue;
    }
    Status status = AppendParsedValue(*row[c], &batch->column(c));
    if (!status.ok()) {
      std::fprintf(stderr, "AppendRow: %s\n", status.ToString().c_str());
      std::abort();
    }
  }
  batch->FinishRow();
}

bool MemorySinkData::WaitForCommitted(const std::string& stream, size_t rows,
                                      std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lock(mutex);
  return committed_changed.wait_for(lock, timeout, [&] { return committed[stream].size() >= rows; });
}

std::vector<std::pair<RowKind, std::string>> MemorySinkData::CommittedChanges(
    const std::string& stream) {
  std::lock_guard<std::mutex> lock(mutex);
  std::vector<std::pair<RowKind, std::string>> out;
  const std::vector<Row>& rows = committed[stream];
  const std::vector<RowKind>& kinds = committed_kinds[stream];
  for (size_t i = 0; i < rows.size(); ++i) {
    RowKind kind = i < kinds.size() ? kinds[i] : RowKind::kInsert;
    out.emplace_back(kind, rows[i].empty() ? "" : rows[i][0].value_or("NULL"));
  }
  return out;
}

std::map<std::string, Row> MemorySinkData::CommittedFolded(const std::string& stream) {
  std::lock_guard<std::mutex> lock(mutex);
  std::map<std::string, Row> folded;
  const std::vector<Row>& rows = committed[stream];
  const std::vector<RowKind>& kinds = committed_kinds[stream];
  for (size_t i = 0; i < rows.size(); ++i) {
    std::string key = rows[i].empty() ? "" : rows[i][0].value_or("NULL");
    RowKind kind = i < kinds.size() ? kinds[i] : RowKind::kInsert;
    if (kind == RowKind::kDelete || kind == RowKind::kUpdateBefore)
      folded.erase(key);
    else
      folded[key] = rows[i];
  }
  return folded;
}

void MemoryTopic::AddPartition(std::vector<Row> rows) {
  std::function<void()> wake;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    partitions_.push_back(std::move(rows));
    wake = wake_;
  }
  if (wake)
    wake();
}

void MemoryTopic::Append(size_t partition, const std::vector<Row>& rows) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto& target = partitions_.at(partition);
  target.insert(target.end(), rows.begin(), rows.end());
  changed_.notify_all();
}

size_t MemoryTopic::partitions() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return partitions_.size();
}

size_t MemoryTopic::rows(size_t partition) const {
  std::lock_guard<std::mutex> lock(mutex_);
  return partitions_.at(partition).size();
}

size_t MemoryTopic::waiting_readers() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return waiting_;
}

bool MemoryTopic::WaitForWaitingReaders(size_t count, std::chrono::milliseconds timeout) const {
  std::unique_lock<std::mutex> lock(mutex_);
  return changed_.wait_for(lock, timeout, [&] {
    return (block_until_cancelled.load() ? blocked_ : waiting_) >= count;
  });
}

std::map<std::thread::id, size_t> MemoryTopic::PartitionsPerReader() const {
  std::lock_guard<std::mutex> lock(mutex_);
  std::map<std::thread::id, size_t> counts;
  for (const auto& [partition, reader] : reader_of_partition_)
    ++counts[reader];
  return counts;
}

std::map<std::thread::id, std::chrono::milliseconds> MemoryTopic::RoundWaitPerReader() const {
  std::lock_guard<std::mutex> lock(mutex_);
  std::map<std::thread::id, std::chrono::milliseconds> rounds;
  for (const auto& [partition, reader] : reader_of_partition_)
    rounds[reader] += wait_of_partition_.at(partition);
  return rounds;
}

void MemoryTopic::ForgetReaders() {
  std::lock_guard<std::mutex> lock(mutex_);
  reader_of_partition_.clear();
  wait_of_partition_.clear();
}

void MemoryTopic::SetWakeup(std::function<void()> wake) {
  std::lock_guard<std::mutex> lock(mutex_);
  wake_ = std::move(wake);
}

void MemoryTopic::WakeReaders() {
  std::lock_guard<std::mutex> lock(mutex_);
  changed_.notify_all();
}

Status MemoryTopic::Read(size_t partition, size_t* next, size_t limit,
                         std::chrono::milliseconds wait, const std::atomic<bool>* cancelled,
                         Batch* batch) {
  std::unique_lock<std::mutex> lock(mutex_);
  reader_of_partition_[partition] = std::this_thread::get_id();
  wait_of_partition_[partition] = wait;
  auto has_data = [&] { return *next < partitions_.at(partition).size(); };
  if (!has_data() && !cancelled->load()) {
    ++waiting_;
    changed_.notify_all();  // WaitForWaitingReaders
    auto ready = [&] { return has_data() || cancelled->load(); };
    if (block_until_cancelled.load()) {
      ++blocked_;
      changed_.notify_all();  // WaitForWaitingReaders
      changed_.wait(lock, [&] { return ready() || !block_until_cancelled.load(); });
      --blocked_;
    } else {
      changed_.wait_for(lock, wait, ready);
    }
    --waiting_;
  }
  if (cancelled->load())
    return Cancelled("memory topic reader cancelled");
  const std::vector<Row>& rows = partitions_.at(partition);
  for (size_t taken = 0; *next < rows.size() && taken < limit && !batch->full(); ++taken) {
    if (!rows[*next].empty())  // an empty Row is a record that is not a row
      AppendRow(rows[*next], batch);
    ++*next;
  }
  return Status::OK();
}

namespace {

// One partition of a MemoryTopic; never ends on its own.
class MemoryTopicReader final : public connectors::SplitReader {
 public:
  MemoryTopicReader(std::shared_ptr<MemorySourceData> data, const connectors::JobContext* context,
                    size_t partition, size_t start)
      : data_(std::move(data)), context_(context), partition_(partition), next_(start) {}

  Result<bool> ReadBatch(Batch* batch) override {
    size_t next = next_.load();
    size_t limit = data_->rows_per_read > 0 ? data_->rows_per_read : batch->capacity();
    SLUICE_RETURN_IF_ERROR(data_->topic->Read(partition_, &next, limit,
                                              read_wait_.value_or(context_->read_wait),
                                              &cancelled_, batch));
    next_.store(next);
    return true;
  }
  std::string Position() const override { return std::to_string(next_.load()); }
  void Cancel() override {
    cancelled_.store(true);
    data_->topic->WakeReaders();
  }
  void SetReadWait(std::chrono::milliseconds wait) override { read_wait_ = wait; }
  connectors::ReadLag Lag() const override {
    connectors::ReadLag lag;
    lag.rows = data_->topic->rows(partition_) - next_.load();
    lag.bytes = data_->topic->lag_bytes;
    lag.last_event_time_us = data_->topic->last_event_time_us;
    return lag;
  }

 private:
  std::shared_ptr<MemorySourceData> data_;
  const connectors::JobContext* context_;
  const size_t partition_;
  std::atomic<size_t> next_;
  std::atomic<bool> cancelled_{false};
  std::optional<std::chrono::milliseconds> read_wait_;  // the runtime's share, else read_wait
};

// Hands out the topic's partitions in order, new ones as they appear.
class MemoryTopicEnumerator final : public connectors::SplitEnumerator {
 public:
  explicit MemoryTopicEnumerator(std::shared_ptr<MemoryTopic> topic) : topic_(std::move(topic)) {}

  Result<std::optional<connectors::Split>> Next() override {
    std::lock_guard<std::mutex> lock(mutex_);
    if (!returned_.empty()) {
      connectors::Split split = std::move(returned_.back());
      returned_.pop_back();
      return std::optional<connectors::Split>(std::move(split));
    }
    if (next_ >= topic_->partitions())
      return std::optional<connectors::Split>();
    connectors::Split split;
    split.id = fmt::format("p{}", next_);
    split.payload = fmt::format("topic:{}", next_);
    ++next_;
    return std::optional<connectors::Split>(std::move(split));
  }
  void Add(connectors::Split split) override {
    std::lock_guard<std::mutex> lock(mutex_);
    returned_.push_back(std::move(split));
  }
  size_t pending() const override {
    std::lock_guard<std::mutex> lock(mutex_);
    return returned_.size() + topic_->partitions() - next_;
  }
  void SetWakeup(std::function<void()> wake) override { topic_->SetWakeup(std::move(wake)); }

 private:
  std::shared_ptr<MemoryTopic> topic_;
  mutable std::mutex mutex_;
  size_t next_ = 0;                          // guarded by mutex_
  std::vector<connectors::Split> returned_;  // guarded by mutex_
};

// Payload: "stream:lo:hi".
connectors::Split MakeSplit(int stream, size_t lo, size_t hi) {
  connectors::Split split;
  split.id = fmt::format("{}:{}-{}", stream, lo, hi);
  split.stream = stream;
  split.payload = fmt::format("{}:{}:{}", stream, lo, hi);
  split.estimated_rows = hi - lo;
  return split;
}

class MemoryReader final : public connectors::SplitReader {
 public:
  // The split covers [lo, hi); reading starts at `start` (later than lo when resuming).
  MemoryReader(std::shared_ptr<MemorySourceData> data, const connectors::JobContext* context,
               int stream, size_t lo, size_t start, size_t hi)
      : data_(std::move(data)),
        context_(context),
        stream_(stream),
        lo_(lo),
        next_(start),
        start_(start),
        hi_(hi) {}

  Result<bool> ReadBatch(Batch* batch) override {
    while (data_->hold_read) {
      size_t next = 0;
      size_t end = 0;
      {
        std::lock_guard<std::mutex> lock(mutex_);
        next = next_;
        end = hi_;
      }
      if (!data_->hold_read(stream_, lo_, next, end))
        break;
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    if (data_->read_delay_micros > 0) {
      std::this_thread::sleep_for(std::chrono::microseconds(data_->read_delay_micros));
    }
    std::lock_guard<std::mutex> lock(mutex_);
    if (next_ >= hi_)
      return false;
    const auto& rows = data_->streams[static_cast<size_t>(stream_)].rows;
    size_t limit = data_->rows_per_read > 0 ? data_->rows_per_read : batch->capacity();
    size_t taken = 0;
    while (next_ < hi_ && taken < limit && !batch->full()) {
      if (data_->fail_at_row && stream_ == 0 && next_ == *data_->fail_at_row &&
          data_->failures_left.fetch_sub(1) > 0) {
        return data_->failure;
      }
      const std::vector<RowKind>& kinds = data_->streams[static_cast<size_t>(stream_)].kinds;
      if (!kinds.empty())
        batch->SetRowKind(kinds[next_]);
      AppendRow(rows[next_], batch);
      ++next_;
      ++taken;
    }
    return true;
  }

  std::string Position() const override {
    std::lock_guard<std::mutex> lock(mutex_);
    return std::to_string(next_);
  }

  std::string Payload() const override {
    std::lock_guard<std::mutex> lock(mutex_);
    return MakeSplit(stream_, lo_, hi_).payload;
  }

  std::optional<connectors::Split> SplitRemainder() override {
    std::lock_guard<std::mutex> lock(mutex_);
    if (hi_ - next_ < 2 * data_->min_cut_rows)
      return std::nullopt;
    size_t middle = next_ + (hi_ - next_) / 2;
    connectors::Split cut = MakeSplit(stream_, middle, hi_);
    hi_ = middle;
    return cut;
  }

  double Progress() const override {
    std::lock_guard<std::mutex> lock(mutex_);
    if (hi_ == start_)
      return 1;
    return static_cast<double>(next_ - start_) / static_cast<double>(hi_ - start_);
  }

 private:
  std::shared_ptr<MemorySourceData> data_;
  const connectors::JobContext* context_;
  int stream_;
  const size_t lo_;
  mutable std::mutex mutex_;
  size_t next_;   // guarded by mutex_
  size_t start_;  // guarded by mutex_
  size_t hi_;     // guarded by mutex_
};

// Log mode: the one split of every stream, yielding each run of one stream's rows as a batch
// of that stream.
class MemoryLogReader final : public connectors::SplitReader {
 public:
  MemoryLogReader(std::shared_ptr<MemorySourceData> data, size_t start)
      : data_(std::move(data)), next_(start) {}

  int NextStream() const override {
    size_t next = next_.load();
    return next < data_->log.size() ? data_->log[next].stream : -1;
  }
  Result<bool> ReadBatch(Batch* batch) override {
    size_t next = next_.load();
    if (next >= data_->log.size())
      return false;
    size_t limit = data_->rows_per_read > 0 ? data_->rows_per_read : batch->capacity();
    for (size_t taken = 0; next < data_->log.size() && taken < limit && !batch->full();
         ++taken, ++next) {
      const MemorySourceData::LogEntry& entry = data_->log[next];
      if (entry.stream != batch->stream())
        break;  // the next batch is of that stream
      if (data_->streams[static_cast<size_t>(entry.stream)].changelog)
        batch->SetRowKind(entry.kind);
      AppendRow(entry.row, batch);
    }
    next_.store(next);
    return true;
  }
  std::string Position() const override { return std::to_string(next_.load()); }
  double Progress() const override {
    return data_->log.empty() ? 1
                              : static_cast<double>(next_.load()) /
                                    static_cast<double>(data_->log.size());
  }

 private:
  std::shared_ptr<MemorySourceData> data_;
  std::atomic<size_t> next_;
};

class MemorySource final : public connectors::Source {
 public:
  explicit MemorySource(std::shared_ptr<MemorySourceData> data) : data_(std::move(data)) {}

  Status Open(const connectors::JobContext& context) override {
    context_ = &context;
    for (const MemoryStream& stream : data_->streams) {
      streams_.push_back({stream.name, stream.schema, stream.rows.size()});
      streams_.back().changelog = stream.changelog;
    }
    if (data_->topic)
      streams_.at(0).estimated_rows.reset();
    if (!data_->log.empty()) {
      for (connectors::StreamInfo& stream : streams_)
        stream.estimated_rows = 0;
      for (const MemorySourceData::LogEntry& entry : data_->log)
        ++*streams_.at(static_cast<size_t>(entry.stream)).estimated_rows;
    }
    return Status::OK();
  }
  const std::vector<connectors::StreamInfo>& streams() const override { return streams_; }
  bool bounded() const override { return data_->topic == nullptr; }

  Status Acknowledge(uint64_t checkpoint,
                     const std::vector<connectors::SplitProgress>& progress) override {
    if (data_->on_acknowledge)
      data_->on_acknowledge(checkpoint, progress);
    return data_->acknowledge_result;
  }
  std::string CheckpointState() const override {
    return data_->checkpoint_state ? data_->checkpoint_state() : std::string();
  }
  Status RestoreState(std::string_view state) override {
    std::lock_guard<std::mutex> lock(data_->mutex);
    data_->restored_states.emplace_back(state);
    return Status::OK();
  }

  Result<std::unique_ptr<connectors::SplitEnumerator>> CreateEnumerator() override {
    if (data_->topic) {
      return std::unique_ptr<connectors::SplitEnumerator>(
          new MemoryTopicEnumerator(data_->topic));
    }
    std::vector<connectors::Split> splits;
    if (!data_->log.empty()) {
      connectors::Split log;
      log.id = "log";
      log.payload = "log";
      log.stream = data_->log.front().stream;
      log.estimated_rows = data_->log.size();
      splits.push_back(std::move(log));
    }
    for (size_t s = 0; s < data_->streams.size() && data_->log.empty(); ++s) {
      size_t total = data_->streams[s].rows.size();
      size_t lo = 0;
      auto first = data_->first_split_rows.find(static_cast<int>(s));
      if (first != data_->first_split_rows.end() && total > 0) {
        size_t hi = std::min(total, first->second);
        splits.push_back(MakeSplit(static_cast<int>(s), 0, hi));
        lo = hi;
      }
      while (lo < total) {
        size_t hi = std::min(total, lo + data_->split_rows);
        splits.push_back(MakeSplit(static_cast<int>(s), lo, hi));
        lo = hi;
      }
    }
    return std::unique_ptr<connectors::SplitEnumerator>(
        new connectors::SplitQueue(std::move(splits)));
  }

  Result<std::unique_ptr<connectors::SplitReader>> CreateReader(
      const connectors::Split& split, const std::string& position) override {
    size_t partition = 0;
    if (std::sscanf(split.payload.c_str(), "topic:%zu", &partition) == 1) {
      size_t start = position.empty() ? 0 : std::stoul(position);
      return std::unique_ptr<connectors::SplitReader>(
          new MemoryTopicReader(data_, context_, partition, start));
    }
    if (split.payload == "log") {
      return std::unique_ptr<connectors::SplitReader>(
          new MemoryLogReader(data_, position.empty() ? 0 : std::stoul(position)));
    }
    int stream = 0;
    size_t lo = 0;
    size_t hi = 0;
    if (std::sscanf(split.payload.c_str(), "%d:%zu:%zu", &stream, &lo, &hi) != 3) {
      return Internal("bad memory split payload");
    }
    size_t start = position.empty() ? lo : std::stoul(position);
    return std::unique_ptr<connectors::SplitReader>(
        new MemoryReader(data_, context_, stream, lo, start, hi));
  }

 private:
  std::shared_ptr<MemorySourceData> data_;
  const connectors::JobContext* context_ = nullptr;
  std::vector<connectors::StreamInfo> streams_;
};

class MemoryWriter final : public connectors::SinkWriter {
 public:
  MemoryWriter(std::shared_ptr<MemorySinkData> data, std::vector<connectors::StreamInfo> streams,
               int slot)
      : data_(std::move(data)), streams_(std::move(streams)), slot_(slot) {}

  Status Write(const Batch& batch) override {
    if (data_->on_write)
      data_->on_write();
    if (data_->write_delay_micros > 0) {
      std::this_thread::sleep_for(std::chrono::microseconds(data_->write_delay_micros));
    }
    size_t seen = data_->rows_seen.fetch_add(batch.num_rows()) + batch.num_rows();
    if (data_->fail_after_rows && seen > *data_->fail_after_rows) {
      return IoError("injected sink failure");
    }
    const std::string& name = streams_[static_cast<size_t>(batch.stream())].name;
    for (size_t r = 0; r < batch.num_rows(); ++r) {
      pending_[name].push_back(RowFromBatch(batch, r));
      pending_kinds_[name].push_back(batch.row_kind(r));
    }
    return Status::OK();
  }
  Status Prepare() override {
    ++data_->prepares;
    return Status::OK();
  }
  Status Commit(const connectors::CommitContext& commit) override {
    ++data_->commits;
    std::lock_guard<std::mutex> lock(data_->mutex);
    for (auto& [stream, rows] : pending_) {
      auto& target = data_->committed[stream];
      target.insert(target.end(), rows.begin(), rows.end());
      auto& kinds = data_->committed_kinds[stream];
      kinds.insert(kinds.end(), pending_kinds_[stream].begin(), pending_kinds_[stream].end());
      data_->committed_slots[stream].resize(target.size(), slot_);
    }
    pending_.clear();
    pending_kinds_.clear();
    // Rows and progress in one step: what an exactly-once sink does in one transaction.
    if (data_->exactly_once) {
      for (const connectors::SplitProgress& entry : commit.progress) {
        data_->committed_progress[entry.split_id] = entry;
      }
    }
    data_->committed_changed.notify_all();
    return Status::OK();
  }
  void Abort() override {
    ++data_->aborts;
    pending_.clear();
    pending_kinds_.clear();
  }

 private:
  std::shared_ptr<MemorySinkData> data_;
  std::vector<connectors::StreamInfo> streams_;
  const int slot_;
  std::map<std::string, std::vector<Row>> pending_;
  std::map<std::string, std::vector<RowKind>> pending_kinds_;
};

class MemorySink final : public connectors::Sink {
 public:
  explicit MemorySink(std::shared_ptr<MemorySinkData> data) : data_(std::move(data)) {}

  Status Open(const connectors::JobContext& context,
              const std::vector<connectors::StreamInfo>& streams) override {
    streams_ = streams;
    data_->opened_streams = streams;
    data_->opened_resuming = context.resuming;
    return Status::OK();
  }
  Result<std::vector<connectors::SplitProgress>> RecoverProgress(
      const connectors::JobContext&) override {
    std::lock_guard<std::mutex> lock(data_->mutex);
    std::vector<connectors::SplitProgress> out;
    for (const auto& [id, entry] : data_->committed_progress)
      out.push_back(entry);
    return out;
  }
  Status ForgetProgress(const connectors::JobContext&) override {
    ++data_->forgets;
    std::lock_guard<std::mutex> lock(data_->mutex);
    data_->committed_progress.clear();
    return Status::OK();
  }
  Status Check(const connectors::JobContext&, const std::vector<connectors::StreamInfo>&,
               connectors::CheckReport* report) override {
    report->Note("memory sink: nothing to check");
    return Status::OK();
  }
  int max_writers() const override { return data_->max_writers; }
  Result<std::unique_ptr<connectors::SinkWriter>> CreateWriter(int slot) override {
    return std::unique_ptr<connectors::SinkWriter>(new MemoryWriter(data_, streams_, slot));
  }
  Status Finish() override {
    ++data_->finishes;
    return Status::OK();
  }
  void Abort() override { ++data_->sink_aborts; }
  connectors::DeliveryGuarantee guarantee() const override {
    return data_->exactly_once ? connectors::DeliveryGuarantee::kExactlyOnce
                               : connectors::DeliveryGuarantee::kAtLeastOnce;
  }

 private:
  std::shared_ptr<MemorySinkData> data_;
  std::vector<connectors::StreamInfo> streams_;
};

}  // namespace

void RegisterMemoryConnector(connectors::ConnectorRegistry& registry,
                             std::shared_ptr<MemorySourceData> source,
                             std::shared_ptr<MemorySinkData> sink) {
  connectors::ConnectorInfo info;
  info.type = "memory";
  info.description = "In-memory rows for tests.";
  info.create_source =
      [source](const config::Options&) -> Result<std::unique_ptr<connectors::Source>> {
    return std::unique_ptr<connectors::Source>(new MemorySource(source));
  };
  info.create_sink = [sink](const config::Options&) -> Result<std::unique_ptr<connectors::Sink>> {
    return std::unique_ptr<connectors::Sink>(new MemorySink(sink));
  };
  registry.Register(std::move(info));
}

}  // namespace sluice::testing
