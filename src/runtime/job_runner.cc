#include "runtime/job_runner.h"

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <map>
#include <optional>
#include <thread>

#include <fmt/core.h>

#include "core/logging.h"
#include "runtime/channel.h"
#include "transforms/projection.h"

namespace sluice::runtime {

namespace {

using connectors::BadRecord;
using connectors::Split;
using connectors::SplitReader;
using connectors::StreamInfo;
using Clock = std::chrono::steady_clock;

constexpr std::string_view kComponent = "runtime";

/// `errors: fail`: the first bad record stops the job with its error.
class FailOnBadRecord final : public connectors::BadRecordHandler {
 public:
  Status Handle(const BadRecord& record) override { return record.reason; }
};

/// A free list of batches of one schema, so that steady state allocates nothing. Thread-safe.
class BatchPool {
 public:
  BatchPool(SchemaPtr schema, size_t capacity) : schema_(std::move(schema)), capacity_(capacity) {}

  std::unique_ptr<Batch> Get(int stream) {
    std::unique_ptr<Batch> batch;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (!free_.empty()) {
        batch = std::move(free_.back());
        free_.pop_back();
      }
    }
    if (!batch) batch = std::make_unique<Batch>(schema_, capacity_);
    batch->set_stream(stream);
    return batch;
  }

  void Put(std::unique_ptr<Batch> batch) {
    batch->Clear();
    std::lock_guard<std::mutex> lock(mutex_);
    free_.push_back(std::move(batch));
  }

 private:
  SchemaPtr schema_;
  size_t capacity_;
  std::mutex mutex_;
  std::vector<std::unique_ptr<Batch>> free_;  // guarded by mutex_
};

std::string GuaranteeName(connectors::DeliveryGuarantee guarantee) {
  return guarantee == connectors::DeliveryGuarantee::kExactlyOnce ? "exactly-once"
                                                                   : "at-least-once";
}

}  // namespace

// Everything that exists only while data moves: threads, channels, pools, active readers.
class JobRunner::Pipeline {
 public:
  Pipeline(const config::JobConfig& job, JobMetrics* metrics, connectors::Source* source,
           connectors::Sink* sink, std::vector<std::optional<transforms::Projection>> projections,
           connectors::JobContext* context, std::atomic<bool>* cancelled)
      : job_(job),
        metrics_(metrics),
        source_(source),
        sink_(sink),
        projections_(std::move(projections)),
        context_(context),
        cancelled_(cancelled) {}

  Status Run(const std::atomic<bool>* stop, int readers, int writers,
             connectors::SplitEnumerator* enumerator, bool* interrupted) {
    enumerator_ = enumerator;
    const auto& streams = source_->streams();
    for (size_t i = 0; i < streams.size(); ++i) {
      AddPool(streams[i].schema);
      if (projections_[i]) AddPool(projections_[i]->output_schema());
    }
    // Two batches queued per writer keep it busy while readers fill the next ones.
    for (int w = 0; w < writers; ++w) {
      channels_.push_back(std::make_unique<BoundedChannel<std::unique_ptr<Batch>>>(2));
    }
    writer_objects_.resize(static_cast<size_t>(writers));
    writer_status_.resize(static_cast<size_t>(writers));

    std::vector<std::thread> writer_threads;
    for (int w = 0; w < writers; ++w) writer_threads.emplace_back([this, w] { WriterLoop(w); });
    readers_running_ = readers;
    std::vector<std::thread> reader_threads;
    for (int r = 0; r < readers; ++r) {
      reader_threads.emplace_back([this, r, writers] { ReaderLoop(r, writers); });
    }

    // Coordinator: watch for a stop request while the readers work.
    {
      std::unique_lock<std::mutex> lock(done_mutex_);
      while (readers_running_ > 0) {
        done_cv_.wait_for(lock, std::chrono::milliseconds(100));
        if (stop != nullptr && stop->load() && !cancelled_->load()) {
          *interrupted = true;
          log::Warn(kComponent, "Stop requested: finishing the current batches and stopping");
          cancelled_->store(true);
          CancelActiveReaders();
        }
      }
    }
    for (std::thread& t : reader_threads) t.join();
    for (auto& channel : channels_) channel->Close();
    for (std::thread& t : writer_threads) t.join();

    Status failure = FirstFailure();
    bool commit = failure.ok() && !cancelled_->load();
    if (commit) {
      for (size_t w = 0; w < writer_objects_.size(); ++w) {
        if (!writer_status_[w].ok()) {
          commit = false;
          failure = writer_status_[w];
          break;
        }
      }
    }
    if (commit) {
      for (auto& writer : writer_objects_) {
        Status status = writer->Commit();
        if (!status.ok()) {
          failure = status.WithContext(fmt::format("sink {}: commit", job_.sink.type));
          commit = false;
          break;
        }
      }
    }
    if (!commit) {
      for (auto& writer : writer_objects_) {
        if (writer) writer->Abort();
      }
    }
    writer_objects_.clear();
    if (!failure.ok()) return failure;
    if (cancelled_->load()) return Cancelled("stopped on request before completion");
    return Status::OK();
  }

  /// Estimated fraction of split work done, or negative when unknown.
  double SplitFraction() const {
    MetricsSnapshot snapshot = metrics_->Snapshot();
    if (snapshot.splits_total == 0) return -1;
    double done = static_cast<double>(snapshot.splits_done);
    std::lock_guard<std::mutex> lock(active_mutex_);
    for (const std::shared_ptr<ActiveReader>& active : active_) {
      double progress = active->reader->Progress();
      if (progress < 0) return -1;
      done += progress;
    }
    return std::min(1.0, done / static_cast<double>(snapshot.splits_total));
  }

 private:
  // A reader at work, shared so that a cut request from another thread keeps it alive.
  struct ActiveReader {
    std::shared_ptr<SplitReader> reader;
    Split split;
    std::atomic<uint64_t> rows{0};
  };

  void AddPool(const SchemaPtr& schema) {
    if (pools_.count(schema.get()) == 0) {
      pools_.emplace(schema.get(), std::make_unique<BatchPool>(schema, context_->batch_rows));
    }
  }
  BatchPool& PoolFor(const Batch& batch) { return *pools_.at(&batch.schema()); }
  BatchPool& PoolFor(const SchemaPtr& schema) { return *pools_.at(schema.get()); }

  void Fail(Status status) {
    metrics_->OnError();
    {
      std::lock_guard<std::mutex> lock(failure_mutex_);
      if (failure_.ok()) failure_ = std::move(status);
    }
    cancelled_->store(true);
    CancelActiveReaders();
    for (auto& channel : channels_) channel->Close();
  }

  Status FirstFailure() {
    std::lock_guard<std::mutex> lock(failure_mutex_);
    return failure_;
  }

  void CancelActiveReaders() {
    std::lock_guard<std::mutex> lock(active_mutex_);
    for (const std::shared_ptr<ActiveReader>& active : active_) active->reader->Cancel();
  }

  void ReaderDone() {
    std::lock_guard<std::mutex> lock(done_mutex_);
    --readers_running_;
    done_cv_.notify_all();
  }

  void ReaderLoop(int index, int writers) {
    BoundedChannel<std::unique_ptr<Batch>>& channel = *channels_[index % writers];
    while (!cancelled_->load()) {
      Result<std::optional<Split>> next = enumerator_->Next();
      if (!next.ok()) {
        Fail(next.status().WithContext(fmt::format("source {}", job_.source.type)));
        break;
      }
      std::optional<Split> split = std::move(*next);
      if (!split && source_->bounded()) {
        // The plan is used up: help the biggest running split instead of going idle. Cuts that
        // a reader makes later through offer_split arrive in the enumerator.
        bool any_running = false;
        split = RequestRemainderOfRunningSplit(&any_running);
        if (!split && !any_running) break;
      }
      if (!split) {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
        continue;
      }
      Status status = ReadSplit(*split, channel);
      if (!status.ok()) {
        if (status.code() != StatusCode::kCancelled || !cancelled_->load()) Fail(status);
        break;
      }
    }
    ReaderDone();
  }

  // Asks the running reader with the most work left to give up its remainder. Returns the cut
  // when the reader could make it at once; otherwise the reader offers it later, or never when
  // the remainder is too small. *any_running says whether some reader is still busy (or a cut is
  // on its way), i.e. whether waiting can still pay off.
  std::optional<Split> RequestRemainderOfRunningSplit(bool* any_running) {
    std::vector<std::shared_ptr<ActiveReader>> candidates;
    {
      std::lock_guard<std::mutex> lock(active_mutex_);
      candidates = active_;
    }
    *any_running = !candidates.empty();
    auto remaining = [](const ActiveReader& a) {
      double progress = a.reader->Progress();
      double estimate = static_cast<double>(a.split.estimated_rows.value_or(0));
      if (progress >= 0 && estimate > 0) return (1 - progress) * estimate;
      return estimate - static_cast<double>(a.rows.load());
    };
    std::sort(candidates.begin(), candidates.end(),
              [&](const std::shared_ptr<ActiveReader>& a, const std::shared_ptr<ActiveReader>& b) {
                return remaining(*a) > remaining(*b);
              });
    for (const std::shared_ptr<ActiveReader>& candidate : candidates) {
      std::optional<Split> cut = candidate->reader->SplitRemainder();
      if (cut) {
        metrics_->OnSplitCut();
        log::Debug(kComponent, "Cut split '{}' from running split '{}'", cut->id,
                   candidate->split.id);
        return cut;
      }
    }
    return std::nullopt;
  }

  Status ReadSplit(const Split& split, BoundedChannel<std::unique_ptr<Batch>>& channel) {
    Clock::time_point start = Clock::now();
    auto context = [&] {
      return fmt::format("source {}: split '{}'", job_.source.type, split.id);
    };
    Result<std::unique_ptr<SplitReader>> opened = source_->CreateReader(split, "");
    if (!opened.ok()) return opened.status().WithContext(context());
    auto active = std::make_shared<ActiveReader>();
    active->reader = std::move(*opened);
    active->split = split;
    SplitReader* reader = active->reader.get();
    const StreamInfo& stream = source_->streams()[static_cast<size_t>(split.stream)];
    const std::optional<transforms::Projection>& projection =
        projections_[static_cast<size_t>(split.stream)];
    {
      std::lock_guard<std::mutex> lock(active_mutex_);
      active_.push_back(active);
    }
    Status status;
    BatchPool& input_pool = PoolFor(stream.schema);
    while (!cancelled_->load()) {
      std::unique_ptr<Batch> batch = input_pool.Get(split.stream);
      Result<bool> more = reader->ReadBatch(batch.get());
      if (!more.ok()) {
        input_pool.Put(std::move(batch));
        status = more.status().WithContext(context());
        break;
      }
      if (!*more) {
        input_pool.Put(std::move(batch));
        break;
      }
      if (batch->empty()) {
        input_pool.Put(std::move(batch));
        continue;
      }
      active->rows.fetch_add(batch->num_rows(), std::memory_order_relaxed);
      metrics_->OnBatchRead(batch->num_rows(), batch->ByteSize());
      if (projection) {
        std::unique_ptr<Batch> projected = PoolFor(projection->output_schema()).Get(split.stream);
        Status applied = projection->Apply(*batch, projected.get(), context_->bad_records);
        input_pool.Put(std::move(batch));
        if (!applied.ok()) {
          PoolFor(*projected).Put(std::move(projected));
          status = applied;
          break;
        }
        batch = std::move(projected);
      }
      if (!channel.Push(batch)) {
        PoolFor(*batch).Put(std::move(batch));
        break;  // closed: the job is failing or stopping
      }
    }
    {
      std::lock_guard<std::mutex> lock(active_mutex_);
      active_.erase(std::find(active_.begin(), active_.end(), active));
    }
    if (status.ok() && !cancelled_->load()) {
      double seconds = std::chrono::duration<double>(Clock::now() - start).count();
      metrics_->OnSplitDone(SplitTiming{split.id, active->rows.load(), seconds});
    }
    return status;
  }

  void WriterLoop(int slot) {
    BoundedChannel<std::unique_ptr<Batch>>& channel = *channels_[static_cast<size_t>(slot)];
    auto context = [&] { return fmt::format("sink {}: writer {}", job_.sink.type, slot); };
    Result<std::unique_ptr<connectors::SinkWriter>> created = sink_->CreateWriter(slot);
    std::unique_ptr<connectors::SinkWriter> writer;
    if (created.ok()) {
      writer = std::move(*created);
    } else {
      Fail(created.status().WithContext(context()));
    }
    bool failed = !writer;
    while (std::optional<std::unique_ptr<Batch>> batch = channel.Pop()) {
      std::unique_ptr<Batch> owned = std::move(*batch);
      if (!failed && !cancelled_->load()) {
        Status status = writer->Write(*owned);
        if (status.ok()) {
          metrics_->OnBatchWritten(owned->num_rows(), owned->ByteSize());
        } else {
          failed = true;
          Fail(status.WithContext(context()));
        }
      }
      PoolFor(*owned).Put(std::move(owned));
    }
    if (writer && !failed && !cancelled_->load()) {
      Status status = writer->Prepare();
      if (!status.ok()) {
        writer_status_[static_cast<size_t>(slot)] = status.WithContext(context());
        Fail(writer_status_[static_cast<size_t>(slot)]);
      }
    }
    writer_objects_[static_cast<size_t>(slot)] = std::move(writer);
  }

  const config::JobConfig& job_;
  JobMetrics* metrics_;
  connectors::Source* source_;
  connectors::Sink* sink_;
  std::vector<std::optional<transforms::Projection>> projections_;
  connectors::JobContext* context_;
  std::atomic<bool>* cancelled_;
  connectors::SplitEnumerator* enumerator_ = nullptr;

  std::map<const Schema*, std::unique_ptr<BatchPool>> pools_;  // built before threads start
  std::vector<std::unique_ptr<BoundedChannel<std::unique_ptr<Batch>>>> channels_;
  std::vector<std::unique_ptr<connectors::SinkWriter>> writer_objects_;  // one slot per writer
  std::vector<Status> writer_status_;  // each slot written by its writer thread only

  std::mutex failure_mutex_;
  Status failure_;  // guarded by failure_mutex_

  mutable std::mutex active_mutex_;
  std::vector<std::shared_ptr<ActiveReader>> active_;  // guarded by active_mutex_

  std::mutex done_mutex_;
  std::condition_variable done_cv_;
  int readers_running_ = 0;  // guarded by done_mutex_
};

JobRunner::JobRunner(config::JobConfig job, const connectors::ConnectorRegistry& registry)
    : job_(std::move(job)), registry_(registry) {}

JobRunner::~JobRunner() = default;

namespace {

// The pieces both Run() and Check() set up: connectors, streams, projections.
struct Setup {
  std::unique_ptr<connectors::Source> source;
  std::unique_ptr<connectors::Sink> sink;
  std::vector<std::optional<transforms::Projection>> projections;
  std::vector<StreamInfo> sink_streams;
};

Result<Setup> Prepare(const config::JobConfig& job, const connectors::ConnectorRegistry& registry,
                      const connectors::JobContext& context) {
  Setup setup;
  SLUICE_ASSIGN_OR_RETURN(setup.source, registry.CreateSource(job.source));
  SLUICE_ASSIGN_OR_RETURN(setup.sink, registry.CreateSink(job.sink));
  SLUICE_RETURN_IF_ERROR(
      setup.source->Open(context).WithContext(fmt::format("source {}", job.source.type)));
  for (const StreamInfo& stream : setup.source->streams()) {
    StreamInfo out = stream;
    out.source_type = job.source.type;
    if (job.transform) {
      SLUICE_ASSIGN_OR_RETURN(transforms::Projection projection,
                              transforms::Projection::Make(*job.transform, stream.schema,
                                                           stream.name));
      out.schema = projection.output_schema();
      setup.projections.emplace_back(std::move(projection));
    } else {
      setup.projections.emplace_back(std::nullopt);
    }
    setup.sink_streams.push_back(std::move(out));
  }
  return setup;
}

}  // namespace

JobSummary JobRunner::Run(const std::atomic<bool>* stop) {
  JobSummary summary;
  summary.job_name = job_.name;
  summary.source_type = job_.source.type;
  summary.sink_type = job_.sink.type;
  std::atomic<bool> cancelled{false};
  FailOnBadRecord bad_records;
  connectors::JobContext context;
  context.job_name = job_.name;
  context.parallelism = job_.parallelism;
  context.batch_rows = static_cast<size_t>(job_.batch_rows);
  context.cancelled = &cancelled;
  context.bad_records = &bad_records;

  auto run = [&]() -> Status {
    SLUICE_ASSIGN_OR_RETURN(Setup setup, Prepare(job_, registry_, context));
    summary.streams = setup.sink_streams;
    summary.guarantee = setup.sink->guarantee();
    uint64_t estimated = 0;
    for (const StreamInfo& stream : setup.source->streams()) {
      if (!stream.estimated_rows) {
        estimated = 0;
        break;
      }
      estimated += *stream.estimated_rows;
    }
    estimated_rows_.store(estimated);
    SLUICE_RETURN_IF_ERROR(setup.sink->Open(context, setup.sink_streams)
                               .WithContext(fmt::format("sink {}", job_.sink.type)));
    Result<std::unique_ptr<connectors::SplitEnumerator>> enumerator =
        setup.source->CreateEnumerator();
    if (!enumerator.ok()) {
      setup.sink->Abort();
      return enumerator.status().WithContext(fmt::format("source {}", job_.source.type));
    }
    metrics_.OnSplitsPlanned((*enumerator)->pending());
    connectors::SplitEnumerator* splits = enumerator->get();
    context.offer_split = [this, splits](Split cut) {
      metrics_.OnSplitCut();
      log::Debug(kComponent, "Reader offered split '{}' cut from its remainder", cut.id);
      splits->Add(std::move(cut));
    };
    int readers = job_.parallelism;
    int writers = job_.parallelism;
    if (setup.sink->max_writers() > 0) writers = std::min(writers, setup.sink->max_writers());
    summary.readers = readers;
    summary.writers = writers;
    log::Info(kComponent, "Job '{}': {} -> {}, {} readers, {} writers, {} splits planned, {}",
              job_.name, job_.source.type, job_.sink.type, readers, writers,
              (*enumerator)->pending(), GuaranteeName(summary.guarantee));

    Pipeline pipeline(job_, &metrics_, setup.source.get(), setup.sink.get(),
                      std::move(setup.projections), &context, &cancelled);
    {
      std::lock_guard<std::mutex> lock(pipeline_mutex_);
      pipeline_ = &pipeline;
    }
    Status status = pipeline.Run(stop, readers, writers, enumerator->get(), &summary.interrupted);
    {
      std::lock_guard<std::mutex> lock(pipeline_mutex_);
      pipeline_ = nullptr;
    }
    if (status.ok()) {
      status = setup.sink->Finish().WithContext(fmt::format("sink {}: finish", job_.sink.type));
    }
    if (!status.ok()) setup.sink->Abort();
    return status;
  };

  summary.status = run();
  if (stop != nullptr && stop->load() && !summary.status.ok()) summary.interrupted = true;
  summary.metrics = metrics_.Snapshot();
  summary.slowest_splits = metrics_.SlowestSplits(3);
  return summary;
}

Result<CheckSummary> JobRunner::Check() {
  std::atomic<bool> cancelled{false};
  FailOnBadRecord bad_records;
  connectors::JobContext context;
  context.job_name = job_.name;
  context.parallelism = job_.parallelism;
  context.batch_rows = static_cast<size_t>(job_.batch_rows);
  context.cancelled = &cancelled;
  context.bad_records = &bad_records;
  SLUICE_ASSIGN_OR_RETURN(Setup setup, Prepare(job_, registry_, context));
  CheckSummary summary;
  summary.source_streams = setup.source->streams();
  summary.sink_streams = setup.sink_streams;
  summary.guarantee = setup.sink->guarantee();
  setup.source->Describe(&summary.report);
  SLUICE_RETURN_IF_ERROR(setup.sink->Check(context, setup.sink_streams, &summary.report)
                             .WithContext(fmt::format("sink {}", job_.sink.type)));
  return summary;
}

double JobRunner::Fraction() const {
  uint64_t estimated = estimated_rows_.load();
  if (estimated > 0) {
    return std::min(1.0, static_cast<double>(metrics_.Snapshot().rows_read) /
                             static_cast<double>(estimated));
  }
  std::lock_guard<std::mutex> lock(pipeline_mutex_);
  return pipeline_ ? pipeline_->SplitFraction() : -1;
}

}  // namespace sluice::runtime
