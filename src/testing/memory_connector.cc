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

namespace {

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

class MemorySource final : public connectors::Source {
 public:
  explicit MemorySource(std::shared_ptr<MemorySourceData> data) : data_(std::move(data)) {}

  Status Open(const connectors::JobContext& context) override {
    context_ = &context;
    for (const MemoryStream& stream : data_->streams) {
      streams_.push_back({stream.name, stream.schema, stream.rows.size()});
    }
    return Status::OK();
  }
  const std::vector<connectors::StreamInfo>& streams() const override { return streams_; }

  Result<std::unique_ptr<connectors::SplitEnumerator>> CreateEnumerator() override {
    std::vector<connectors::Split> splits;
    for (size_t s = 0; s < data_->streams.size(); ++s) {
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
  MemoryWriter(std::shared_ptr<MemorySinkData> data, std::vector<connectors::StreamInfo> streams)
      : data_(std::move(data)), streams_(std::move(streams)) {}

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
    for (size_t r = 0; r < batch.num_rows(); ++r) {
      pending_[streams_[static_cast<size_t>(batch.stream())].name].push_back(
          RowFromBatch(batch, r));
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
    }
    pending_.clear();
    // Rows and progress in one step: what an exactly-once sink does in one transaction.
    if (data_->exactly_once) {
      for (const connectors::SplitProgress& entry : commit.progress) {
        data_->committed_progress[entry.split_id] = entry;
      }
    }
    return Status::OK();
  }
  void Abort() override {
    ++data_->aborts;
    pending_.clear();
  }

 private:
  std::shared_ptr<MemorySinkData> data_;
  std::vector<connectors::StreamInfo> streams_;
  std::map<std::string, std::vector<Row>> pending_;
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
  Result<std::unique_ptr<connectors::SinkWriter>> CreateWriter(int) override {
    return std::unique_ptr<connectors::SinkWriter>(new MemoryWriter(data_, streams_));
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
