#include "runtime/job_runner.h"

#include <fmt/core.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <deque>
#include <filesystem>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <shared_mutex>
#include <thread>

#include "connectors/split_queue.h"
#include "core/failpoint.h"
#include "core/logging.h"
#include "runtime/bad_records.h"
#include "runtime/channel.h"
#include "runtime/retry.h"
#include "runtime/run_lease.h"
#include "state/state_store.h"
#include "transforms/projection.h"

namespace sluice::runtime {

namespace {

using connectors::BadRecord;
using connectors::DeliveryGuarantee;
using connectors::Split;
using connectors::SplitProgress;
using connectors::SplitReader;
using connectors::StreamInfo;
using Clock = std::chrono::steady_clock;

constexpr std::string_view kComponent = "runtime";

std::string GuaranteeName(DeliveryGuarantee guarantee) {
  return guarantee == DeliveryGuarantee::kExactlyOnce ? "exactly-once" : "at-least-once";
}

double SecondsSince(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

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
    if (!batch)
      batch = std::make_unique<Batch>(schema_, capacity_);
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

/// What travels from a reader to a writer: a batch with the position of its split after it, the
/// end of a split, or a checkpoint marker.
struct Item {
  std::unique_ptr<Batch> batch;  // null for an end-of-split or a marker
  std::string split_id;
  std::string position;
  bool split_done = false;
  uint64_t checkpoint = 0;  // non-zero: a checkpoint marker
};

/// A split to read and where to start in it.
struct Work {
  Split split;
  std::string position;
};

/// The run's supply of work: splits an earlier run left unfinished first, then what the source
/// plans, then cuts. Every split from the source is recorded in the state store before it is
/// handed out. Thread-safe.
class WorkQueue {
 public:
  WorkQueue(std::deque<Work> resumed, std::unique_ptr<connectors::SplitEnumerator> source,
            state::StateStore* store, std::string job, JobMetrics* metrics)
      : resumed_(std::move(resumed)),
        source_(std::move(source)),
        store_(store),
        job_(std::move(job)),
        metrics_(metrics) {}

  /// The next work, or nullopt when there is none now. Work handed out counts as outstanding
  /// until Done(), so that an idle reader can tell "nothing left" from "someone just took the
  /// last split and may still be cut".
  Result<std::optional<Work>> Next() {
    std::lock_guard<std::mutex> lock(mutex_);
    if (!cuts_.empty()) {
      Work work{std::move(cuts_.front()), ""};
      cuts_.pop_front();
      ++outstanding_;
      return std::optional<Work>(std::move(work));
    }
    if (!resumed_.empty()) {
      Work work = std::move(resumed_.front());
      resumed_.pop_front();
      ++outstanding_;
      return std::optional<Work>(std::move(work));
    }
    SLUICE_ASSIGN_OR_RETURN(std::optional<Split> split, source_->Next());
    if (!split)
      return std::optional<Work>();
    SLUICE_RETURN_IF_ERROR(store_->RecordSplits(job_, {*split}));
    metrics_->OnSplitPlanned();
    ++outstanding_;
    return std::optional<Work>(Work{std::move(*split), ""});
  }

  /// A reader finished (or gave up) work it got from Next().
  void Done() { --outstanding_; }
  int outstanding() const { return outstanding_.load(); }

  /// Queues a cut split (already recorded) for the next idle reader.
  void AddCut(Split split) {
    std::lock_guard<std::mutex> lock(mutex_);
    cuts_.push_back(std::move(split));
  }

  size_t pending() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return cuts_.size() + resumed_.size() + source_->pending();
  }
  /// Splits the source planned but nobody took yet (not counted in the metrics so far).
  size_t planned_not_taken() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return source_->pending();
  }

 private:
  mutable std::mutex mutex_;
  std::deque<Work> resumed_;  // guarded by mutex_
  std::deque<Split> cuts_;    // guarded by mutex_
  std::atomic<int> outstanding_{0};
  std::unique_ptr<connectors::SplitEnumerator> source_;  // guarded by mutex_
  state::StateStore* store_;
  std::string job_;
  JobMetrics* metrics_;
};

// The pieces both Run() and Check() set up: connectors, streams, projections.
struct Setup {
  std::unique_ptr<connectors::Source> source;
  std::unique_ptr<connectors::Sink> sink;
  std::vector<std::optional<transforms::Projection>> projections;
  std::vector<StreamInfo> sink_streams;
};

Result<Setup> PrepareSetup(const config::JobConfig& job,
                           const connectors::ConnectorRegistry& registry,
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
      SLUICE_ASSIGN_OR_RETURN(
          transforms::Projection projection,
          transforms::Projection::Make(*job.transform, stream.schema, stream.name));
      out.schema = projection.output_schema();
      setup.projections.emplace_back(std::move(projection));
    } else {
      setup.projections.emplace_back(std::nullopt);
    }
    setup.sink_streams.push_back(std::move(out));
  }
  return setup;
}

std::string DefaultStateDir() {
  if (const char* env = std::getenv("SLUICE_STATE_DIR"); env != nullptr && *env != '\0') {
    return env;
  }
  return ".sluice";
}

}  // namespace

connectors::DeliveryGuarantee EffectiveGuarantee(const config::JobConfig& job,
                                                 const connectors::Sink& sink,
                                                 std::string* reason) {
  if (!job.exactly_once) {
    *reason =
        "delivery: at_least_once asked for; a resume may repeat the rows written since the "
        "last checkpoint";
    return DeliveryGuarantee::kAtLeastOnce;
  }
  if (sink.guarantee() == DeliveryGuarantee::kExactlyOnce) {
    *reason = fmt::format("the {} sink commits each split's progress atomically with its rows",
                          job.sink.type);
    return DeliveryGuarantee::kExactlyOnce;
  }
  *reason = fmt::format("the {} sink can only replay rows after a failure", job.sink.type);
  return DeliveryGuarantee::kAtLeastOnce;
}

// Everything that exists only while data moves: threads, channels, pools, active readers,
// checkpoints.
class JobRunner::Pipeline {
 public:
  struct Parts {
    const config::JobConfig* job;
    JobMetrics* metrics;
    connectors::Source* source;
    connectors::Sink* sink;
    std::vector<std::optional<transforms::Projection>> projections;
    connectors::JobContext* context;
    state::StateStore* store;
    BadRecordPolicy* bad_records;
    uint64_t last_checkpoint;  // the state store's; this run continues the numbering
    const RunLeaseKeeper* lease;  // turns lost when another run takes the job over
  };

  Pipeline(Parts parts, std::atomic<bool>* cancelled)
      : parts_(std::move(parts)), job_(*parts_.job), cancelled_(cancelled) {}

  /// Moves the data. `*progress_made` is set once a checkpoint committed.
  Status Run(const std::atomic<bool>* stop, int readers, int writers, WorkQueue* work,
             bool* interrupted, bool* progress_made) {
    work_ = work;
    next_checkpoint_ = parts_.last_checkpoint + 1;
    const auto& streams = parts_.source->streams();
    for (size_t i = 0; i < streams.size(); ++i) {
      AddPool(streams[i].schema);
      if (parts_.projections[i])
        AddPool(parts_.projections[i]->output_schema());
    }
    // Two batches queued per writer keep it busy while readers fill the next ones.
    for (int w = 0; w < writers; ++w) {
      channels_.push_back(std::make_unique<BoundedChannel<Item>>(2));
    }
    writers_ = writers;
    std::vector<std::thread> writer_threads;
    for (int w = 0; w < writers; ++w)
      writer_threads.emplace_back([this, w] { WriterLoop(w); });
    readers_running_ = readers;
    std::vector<std::thread> reader_threads;
    for (int r = 0; r < readers; ++r) {
      reader_threads.emplace_back([this, r, writers] { ReaderLoop(r, writers); });
    }

    // Coordinator: checkpoints at intervals, and a watch for stop requests.
    Clock::time_point last_checkpoint = Clock::now();
    const double interval = job_.checkpoint_interval_secs;
    const auto tick = std::chrono::milliseconds(
        interval > 0 ? std::clamp<int64_t>(static_cast<int64_t>(interval * 500), 1, 50) : 50);
    while (true) {
      {
        std::unique_lock<std::mutex> lock(done_mutex_);
        if (readers_running_ == 0)
          break;
        done_cv_.wait_for(lock, tick);
        if (readers_running_ == 0)
          break;
      }
      if (parts_.lease->lost() && !failed_.load()) {
        // Another run owns the job now: stop without another commit (they would be refused).
        Fail(parts_.lease->reason());
      }
      if ((stop != nullptr && stop->load()) || stop_requested_.load())
        BeginStopping(interrupted);
      bool requested = false;
      {
        std::lock_guard<std::mutex> lock(done_mutex_);
        requested = std::exchange(checkpoint_requested_, false);
      }
      if (!failed_.load() && !stopping_.load() &&
          (requested || (interval > 0 && SecondsSince(last_checkpoint) >= interval))) {
        if (TakeCheckpoint().ok())
          *progress_made = true;
        last_checkpoint = Clock::now();
        std::lock_guard<std::mutex> lock(done_mutex_);
        ++checkpoints_recorded_;
        done_cv_.notify_all();
      }
    }
    // A reader that asked to stop (the `stop` failpoint) may have ended, and with it the loop,
    // before the loop saw its request: the job still stops, it must not finish.
    if (stop_requested_.load())
      BeginStopping(interrupted);
    {
      // Readers waiting for a checkpoint that will not come now.
      std::lock_guard<std::mutex> lock(done_mutex_);
      done_cv_.notify_all();
    }
    for (std::thread& t : reader_threads)
      t.join();
    if (stop_requested_.load() && !stopping_.load() && !failed_.load()) {
      // The readers stopped on request before the coordinator saw it: still an interruption.
      *interrupted = true;
      stopping_.store(true);
    }

    // The readers are done (or stopping): commit what was read, then let the writers finish.
    Status final_checkpoint;
    if (!failed_.load()) {
      final_checkpoint = TakeCheckpoint();
      if (final_checkpoint.ok())
        *progress_made = true;
    }
    for (auto& channel : channels_)
      channel->Close();
    for (std::thread& t : writer_threads)
      t.join();
    for (auto& writer : writer_objects_) {
      if (writer)
        writer->Abort();  // a no-op after the final commit; rolls back after a failure
    }
    writer_objects_.clear();

    Status failure = FirstFailure();
    if (!failure.ok())
      return failure;
    SLUICE_RETURN_IF_ERROR(final_checkpoint);
    if (stopping_.load())
      return Cancelled("stopped on request; the next run resumes here");
    return Status::OK();
  }

  /// Estimated fraction of split work done, or negative when unknown.
  double SplitFraction() const {
    MetricsSnapshot snapshot = parts_.metrics->Snapshot();
    WorkQueue* work = work_.load();
    const double total = static_cast<double>(snapshot.splits_total) +
                         static_cast<double>(work ? work->planned_not_taken() : 0);
    if (total == 0)
      return -1;
    double done = static_cast<double>(snapshot.splits_done);
    std::lock_guard<std::mutex> lock(active_mutex_);
    for (const auto& active : active_) {
      double progress = active->reader->Progress();
      if (progress < 0)
        return -1;
      done += progress;
    }
    return std::min(1.0, done / total);
  }

  /// JobContext::offer_split: a reader cut its own remainder.
  void OfferCut(const std::string& from, Split cut) {
    std::unique_lock<std::shared_mutex> plan(plan_mutex_);
    std::vector<Split> record;
    if (std::shared_ptr<ActiveReader> parent = FindActive(from)) {
      Split shrunk = parent->split;
      std::string payload = parent->reader->Payload();
      if (!payload.empty())
        shrunk.payload = std::move(payload);
      record.push_back(std::move(shrunk));
    }
    record.push_back(cut);
    Status status = parts_.store->RecordSplits(job_.name, record);
    if (status.ok() && failpoint::AnyArmed())
      status = failpoint::Check("runtime.cut.after_record");
    if (!status.ok()) {
      Fail(status.WithContext("recording a cut split"));
      return;
    }
    parts_.metrics->OnSplitCut();
    log::Debug(kComponent, "Split '{}' gave its remainder to new split '{}'", from, cut.id);
    work_.load()->AddCut(std::move(cut));
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
      pools_.emplace(schema.get(), std::make_unique<BatchPool>(schema, parts_.context->batch_rows));
    }
  }
  BatchPool& PoolFor(const Batch& batch) { return *pools_.at(&batch.schema()); }
  BatchPool& PoolFor(const SchemaPtr& schema) { return *pools_.at(schema.get()); }

  void Fail(Status status) {
    parts_.metrics->OnError();
    {
      std::lock_guard<std::mutex> lock(failure_mutex_);
      if (failure_.ok())
        failure_ = std::move(status);
    }
    failed_.store(true);
    cancelled_->store(true);
    CancelActiveReaders();
    for (auto& channel : channels_)
      channel->Close();
    ack_cv_.notify_all();
    std::lock_guard<std::mutex> lock(done_mutex_);
    done_cv_.notify_all();  // readers waiting for a checkpoint (CheckpointNow)
  }

  Status FirstFailure() {
    std::lock_guard<std::mutex> lock(failure_mutex_);
    return failure_;
  }

  void CancelActiveReaders() {
    std::lock_guard<std::mutex> lock(active_mutex_);
    for (const auto& active : active_)
      active->reader->Cancel();
  }

  std::shared_ptr<ActiveReader> FindActive(const std::string& split_id) {
    std::lock_guard<std::mutex> lock(active_mutex_);
    for (const auto& active : active_) {
      if (active->split.id == split_id)
        return active;
    }
    return nullptr;
  }

  // A checkpoint asked from a reader (the `checkpoint` failpoint): the coordinator takes it at
  // once; this reader waits until it is recorded (or the job stops), so that what it read so
  // far is committed before it reads on.
  void CheckpointNow() {
    std::unique_lock<std::mutex> lock(done_mutex_);
    uint64_t before = checkpoints_recorded_;
    checkpoint_requested_ = true;
    done_cv_.notify_all();
    // Also woken by a failure or a stop; the timeout only guards against a missed wake-up.
    while (!(checkpoints_recorded_ > before || failed_.load() || stopping_.load() ||
             stop_requested_.load())) {
      done_cv_.wait_for(lock, std::chrono::milliseconds(50));
    }
  }

  // Coordinator: the job stops after a final checkpoint (once; not after a failure).
  void BeginStopping(bool* interrupted) {
    if (stopping_.load() || failed_.load())
      return;
    *interrupted = true;
    log::Warn(kComponent, "Stop requested: taking a final checkpoint");
    stopping_.store(true);
    cancelled_->store(true);
    CancelActiveReaders();
  }

  // A stop asked from inside the pipeline (the `stop` failpoint), as SIGINT asks it: this
  // reader stops at once, the others at their next batch, the coordinator checkpoints.
  void RequestStop() {
    stop_requested_.store(true);
    cancelled_->store(true);
    std::lock_guard<std::mutex> lock(done_mutex_);
    done_cv_.notify_all();
  }

  void ReaderDone() {
    std::lock_guard<std::mutex> lock(done_mutex_);
    --readers_running_;
    done_cv_.notify_all();
  }

  // ----- readers ------------------------------------------------------------------------------

  void ReaderLoop(int index, int writers) {
    BoundedChannel<Item>& channel = *channels_[static_cast<size_t>(index % writers)];
    while (!cancelled_->load()) {
      Result<std::optional<Work>> next = work_.load()->Next();
      if (!next.ok()) {
        Fail(next.status().WithContext(fmt::format("source {}", job_.source.type)));
        break;
      }
      std::optional<Work> work = std::move(*next);
      const bool from_queue = work.has_value();
      if (!work && parts_.source->bounded()) {
        // The plan is used up: help the busiest running split instead of going idle. Cuts that a
        // reader makes later through offer_split arrive in the work queue.
        bool any_running = false;
        std::optional<Split> cut = RequestCut(&any_running);
        if (cut)
          work = Work{std::move(*cut), ""};
        if (!work && !any_running)
          break;
      }
      if (!work) {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
        continue;
      }
      Status status = ReadSplit(*work, channel);
      if (from_queue)
        work_.load()->Done();
      if (!status.ok()) {
        bool expected = status.code() == StatusCode::kCancelled && cancelled_->load();
        if (!expected)
          Fail(status);
        break;
      }
    }
    ReaderDone();
  }

  // Asks the running reader with the most work left to give up its remainder. Returns the cut
  // when the reader made it at once (it is then recorded, with the shrunk parent, before
  // anyone reads it). *any_running says whether waiting for a later cut can still pay off.
  std::optional<Split> RequestCut(bool* any_running) {
    std::vector<std::shared_ptr<ActiveReader>> candidates;
    {
      std::lock_guard<std::mutex> lock(active_mutex_);
      candidates = active_;
    }
    // A reader that just took work from the queue may not be registered yet: count it too.
    *any_running = !candidates.empty() || work_.load()->outstanding() > 0;
    auto remaining = [](const ActiveReader& a) {
      double progress = a.reader->Progress();
      double estimate = static_cast<double>(a.split.estimated_rows.value_or(0));
      if (progress >= 0 && estimate > 0)
        return (1 - progress) * estimate;
      return estimate - static_cast<double>(a.rows.load());
    };
    std::sort(candidates.begin(), candidates.end(),
              [&](const std::shared_ptr<ActiveReader>& a, const std::shared_ptr<ActiveReader>& b) {
                return remaining(*a) > remaining(*b);
              });
    for (const std::shared_ptr<ActiveReader>& candidate : candidates) {
      // Exclusive: no writer commits progress between the cut and its record, so a parent can
      // never be committed as done over a range it no longer owns without the child on record.
      std::unique_lock<std::shared_mutex> plan(plan_mutex_);
      std::optional<Split> cut = candidate->reader->SplitRemainder();
      if (!cut)
        continue;
      Split shrunk = candidate->split;
      std::string payload = candidate->reader->Payload();
      if (!payload.empty())
        shrunk.payload = std::move(payload);
      Status status = parts_.store->RecordSplits(job_.name, {shrunk, *cut});
      if (status.ok() && failpoint::AnyArmed())
        status = failpoint::Check("runtime.cut.after_record");
      if (!status.ok()) {
        Fail(status.WithContext("recording a cut split"));
        return std::nullopt;
      }
      parts_.metrics->OnSplitCut();
      log::Debug(kComponent, "Cut split '{}' from running split '{}'", cut->id,
                 candidate->split.id);
      return cut;
    }
    return std::nullopt;
  }

  Status ReadSplit(const Work& work, BoundedChannel<Item>& channel) {
    const Split& split = work.split;
    Clock::time_point start = Clock::now();
    auto context = [&] { return fmt::format("source {}: split '{}'", job_.source.type, split.id); };
    Result<std::unique_ptr<SplitReader>> opened = parts_.source->CreateReader(split, work.position);
    if (!opened.ok())
      return opened.status().WithContext(context());
    auto active = std::make_shared<ActiveReader>();
    active->reader = std::move(*opened);
    active->split = split;
    SplitReader* reader = active->reader.get();
    const StreamInfo& stream = parts_.source->streams()[static_cast<size_t>(split.stream)];
    const std::optional<transforms::Projection>& projection =
        parts_.projections[static_cast<size_t>(split.stream)];
    {
      std::lock_guard<std::mutex> lock(active_mutex_);
      active_.push_back(active);
    }
    Status status;
    bool finished = false;
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
        finished = true;
        break;
      }
      if (batch->empty()) {
        input_pool.Put(std::move(batch));
        continue;
      }
      active->rows.fetch_add(batch->num_rows(), std::memory_order_relaxed);
      parts_.metrics->OnBatchRead(batch->num_rows(), batch->ByteSize());
      if (projection) {
        std::unique_ptr<Batch> projected = PoolFor(projection->output_schema()).Get(split.stream);
        Status applied = projection->Apply(*batch, projected.get(), parts_.context->bad_records);
        input_pool.Put(std::move(batch));
        if (!applied.ok()) {
          PoolFor(*projected).Put(std::move(projected));
          status = applied;
          break;
        }
        batch = std::move(projected);
      }
      Item item{std::move(batch), split.id, reader->Position()};
      if (!channel.Push(item)) {
        PoolFor(*item.batch).Put(std::move(item.batch));
        break;  // closed: the job is failing
      }
      if (failpoint::AnyArmed()) {
        failpoint::Action action = failpoint::Hit("runtime.reader.batch");
        if (action == failpoint::Action::kStop)
          RequestStop();
        if (action == failpoint::Action::kCheckpoint)
          CheckpointNow();
      }
    }
    if (finished) {
      // Every row of the split is on its way: its writer commits it as done.
      Item done{nullptr, split.id, reader->Position(), true};
      if (!channel.Push(done))
        finished = false;
    }
    {
      std::lock_guard<std::mutex> lock(active_mutex_);
      active_.erase(std::find(active_.begin(), active_.end(), active));
    }
    if (finished) {
      parts_.metrics->OnSplitDone(SplitTiming{split.id, active->rows.load(), SecondsSince(start)});
    }
    return status;
  }

  // ----- writers ------------------------------------------------------------------------------

  void WriterLoop(int slot) {
    BoundedChannel<Item>& channel = *channels_[static_cast<size_t>(slot)];
    auto context = [&] { return fmt::format("sink {}: writer {}", job_.sink.type, slot); };
    Result<std::unique_ptr<connectors::SinkWriter>> created = parts_.sink->CreateWriter(slot);
    std::unique_ptr<connectors::SinkWriter> writer;
    if (created.ok()) {
      writer = std::move(*created);
    } else {
      Fail(created.status().WithContext(context()));
    }
    bool failed = !writer;
    // Progress of the splits written since the last commit, by split id, and their rows.
    std::map<std::string, SplitProgress> pending;
    uint64_t pending_rows = 0;
    while (std::optional<Item> popped = channel.Pop()) {
      Item item = std::move(*popped);
      if (item.checkpoint != 0) {
        std::vector<SplitProgress> progress;
        if (!failed && !failed_.load()) {
          for (auto& [id, entry] : pending)
            progress.push_back(std::move(entry));
          pending.clear();
          // A sink that sends its rows at Prepare or Commit finds bad ones only then.
          const uint64_t skipped = BadRecordPolicy::SkippedOnThisThread();
          Status status = writer->Prepare();
          if (status.ok() && failpoint::AnyArmed())
            status = failpoint::Check("runtime.writer.before_commit");
          if (status.ok()) {
            std::shared_lock<std::shared_mutex> plan(plan_mutex_);
            status = writer->Commit(connectors::CommitContext{item.checkpoint, progress});
          }
          const uint64_t refused = BadRecordPolicy::SkippedOnThisThread() - skipped;
          if (refused > 0)
            parts_.metrics->OnRowsRefusedBySink(refused);
          if (status.ok()) {
            parts_.metrics->OnRowsCommitted(pending_rows - std::min(pending_rows, refused));
            pending_rows = 0;
          }
          if (status.ok() && failpoint::AnyArmed())
            status = failpoint::Check("runtime.writer.after_commit");
          if (!status.ok()) {
            failed = true;
            Fail(status.WithContext(context()));
          }
        }
        Acknowledge(item.checkpoint, failed, std::move(progress));
        continue;
      }
      if (item.batch) {
        if (!failed && !failed_.load()) {
          const uint64_t skipped = BadRecordPolicy::SkippedOnThisThread();
          Status status = writer->Write(*item.batch);
          if (status.ok()) {
            parts_.metrics->OnBatchWritten(item.batch->num_rows(), item.batch->ByteSize());
            // Rows the sink refused and the policy skipped were not written.
            const uint64_t refused = BadRecordPolicy::SkippedOnThisThread() - skipped;
            if (refused > 0)
              parts_.metrics->OnRowsRefusedBySink(refused);
            pending_rows += item.batch->num_rows() - refused;
          } else {
            failed = true;
            Fail(status.WithContext(context()));
          }
        }
        PoolFor(*item.batch).Put(std::move(item.batch));
      }
      SplitProgress& entry = pending[item.split_id];
      entry.split_id = item.split_id;
      entry.position = item.position;
      entry.done = entry.done || item.split_done;
    }
    std::lock_guard<std::mutex> lock(ack_mutex_);
    writer_objects_.push_back(std::move(writer));
  }

  void Acknowledge(uint64_t checkpoint, bool failed, std::vector<SplitProgress> progress) {
    std::lock_guard<std::mutex> lock(ack_mutex_);
    CheckpointAcks& acks = acks_[checkpoint];
    ++acks.count;
    acks.failed = acks.failed || failed;
    for (SplitProgress& entry : progress)
      acks.progress.push_back(std::move(entry));
    ack_cv_.notify_all();
  }

  // ----- checkpoints --------------------------------------------------------------------------

  // Puts a marker into every writer's channel, waits until every writer committed up to it,
  // then records the checkpoint in the state store.
  Status TakeCheckpoint() {
    const uint64_t number = next_checkpoint_++;
    Clock::time_point start = Clock::now();
    for (auto& channel : channels_) {
      Item marker;
      marker.checkpoint = number;
      if (!channel->PushControl(marker))
        return FirstFailureOr("the pipeline closed");
    }
    CheckpointAcks acks;
    {
      std::unique_lock<std::mutex> lock(ack_mutex_);
      ack_cv_.wait(lock, [&] { return acks_[number].count == writers_ || failed_.load(); });
      acks = std::move(acks_[number]);
      acks_.erase(number);
    }
    if (acks.failed || acks.count < writers_)
      return FirstFailureOr("a writer failed");
    SLUICE_FAILPOINT("runtime.checkpoint.before_record");
    uint64_t bad = parts_.bad_records->count();
    SLUICE_RETURN_IF_ERROR(parts_.store->CommitCheckpoint(job_.name, number, acks.progress, bad)
                               .WithContext(fmt::format("recording checkpoint {}", number)));
    SLUICE_FAILPOINT("runtime.checkpoint.after_record");
    double seconds = SecondsSince(start);
    parts_.metrics->OnCheckpoint(seconds);
    log::Debug(kComponent, "Checkpoint {} committed in {:.3f} s ({} splits advanced)", number,
               seconds, acks.progress.size());
    return Status::OK();
  }

  Status FirstFailureOr(std::string_view fallback) {
    Status failure = FirstFailure();
    return failure.ok() ? Internal(std::string(fallback)) : failure;
  }

  struct CheckpointAcks {
    int count = 0;
    bool failed = false;
    std::vector<SplitProgress> progress;
  };

  Parts parts_;
  const config::JobConfig& job_;
  std::atomic<bool>* cancelled_;
  std::atomic<WorkQueue*> work_{nullptr};  // set by Run; read by the progress line too
  int writers_ = 0;
  uint64_t next_checkpoint_ = 1;  // coordinator thread only

  std::map<const Schema*, std::unique_ptr<BatchPool>> pools_;  // built before threads start
  std::vector<std::unique_ptr<BoundedChannel<Item>>> channels_;

  std::atomic<bool> failed_{false};
  std::atomic<bool> stopping_{false};
  std::atomic<bool> stop_requested_{false};
  std::mutex failure_mutex_;
  Status failure_;  // guarded by failure_mutex_

  // Writers commit progress holding it shared; a cut and its record hold it exclusively.
  std::shared_mutex plan_mutex_;

  mutable std::mutex active_mutex_;
  std::vector<std::shared_ptr<ActiveReader>> active_;  // guarded by active_mutex_

  std::mutex ack_mutex_;
  std::condition_variable ack_cv_;
  std::map<uint64_t, CheckpointAcks> acks_;                              // guarded by ack_mutex_
  std::vector<std::unique_ptr<connectors::SinkWriter>> writer_objects_;  // guarded by ack_mutex_

  std::mutex done_mutex_;
  std::condition_variable done_cv_;
  int readers_running_ = 0;  // guarded by done_mutex_
  bool checkpoint_requested_ = false;  // guarded by done_mutex_
  uint64_t checkpoints_recorded_ = 0;  // guarded by done_mutex_
};

JobRunner::JobRunner(config::JobConfig job, const connectors::ConnectorRegistry& registry,
                     RunOptions options)
    : job_(std::move(job)), registry_(registry), options_(std::move(options)) {}

JobRunner::~JobRunner() = default;

std::string JobRunner::StatePath() const {
  std::string dir = !options_.state_dir.empty() ? options_.state_dir
                    : !job_.state_dir.empty()   ? job_.state_dir
                                                : DefaultStateDir();
  return (std::filesystem::path(dir) / "state.db").string();
}

JobSummary JobRunner::Run(const std::atomic<bool>* stop) {
  JobSummary summary;
  summary.job_name = job_.name;
  summary.source_type = job_.source.type;
  summary.sink_type = job_.sink.type;
  summary.state_path = StatePath();

  auto run = [&]() -> Status {
    SLUICE_ASSIGN_OR_RETURN(std::unique_ptr<state::StateStore> store,
                            state::OpenSqliteStateStore(summary.state_path));
    // One run of a job at a time: nothing is read or changed before the lease is ours.
    LeaseOptions lease_options{job_.run_lease_secs, options_.wait, summary.state_path};
    SLUICE_ASSIGN_OR_RETURN(std::unique_ptr<RunLeaseKeeper> lease,
                            RunLeaseKeeper::Acquire(store.get(), job_.name, lease_options, stop));
    lease_ = lease.get();
    struct ClearLease {
      const RunLeaseKeeper** lease;
      ~ClearLease() { *lease = nullptr; }
    } clear_lease{&lease_};
    SLUICE_ASSIGN_OR_RETURN(std::optional<state::JobState> previous, store->Load(job_.name));
    bool resume = false;
    const bool unfinished = previous && previous->status != state::JobStatus::kSucceeded &&
                            !previous->splits.empty();
    fresh_over_unfinished_ = unfinished && options_.fresh;
    changed_since_unfinished_ = unfinished && previous->fingerprint != job_.fingerprint;
    if (unfinished && !options_.fresh) {
      resume = true;
      summary.resumed = true;
      summary.resumed_from_checkpoint = previous->checkpoint;
    }
    // The store stays open across attempts; each attempt opens its own connectors.
    int attempt = 0;
    while (true) {
      bool progress_made = false;
      Status status = RunAttempt(stop, resume, store.get(), &summary, &progress_made);
      if (status.ok() && failpoint::AnyArmed())
        status = failpoint::Check("runtime.finish.after");
      if (status.ok()) {
        (void)store->SetStatus(job_.name, state::JobStatus::kSucceeded);
        return status;
      }
      if (lease->lost()) {
        // Another run owns the job now: that is why this one failed (its sessions ended, its
        // commits refused). Leave the state to it.
        return lease->reason();
      }
      if (status.code() == StatusCode::kConflict)
        return status;
      bool stopping = stop != nullptr && stop->load();
      if (stopping || summary.interrupted) {
        (void)store->SetStatus(job_.name, state::JobStatus::kInterrupted);
        return status;
      }
      if (!status.IsTransient()) {
        (void)store->SetStatus(job_.name, state::JobStatus::kFailed);
        return status;
      }
      if (progress_made)
        attempt = 0;
      if (attempt >= job_.retry.max_attempts) {
        (void)store->SetStatus(job_.name, state::JobStatus::kFailed);
        return status.WithContext(fmt::format("giving up after {} retries", attempt));
      }
      const double backoff = BackoffSeconds(job_.retry, attempt);
      ++attempt;
      metrics_.OnRetry();
      log::Warn(kComponent, "{} — retry {} of {} in {:.1f} s, resuming from the last checkpoint",
                status.ToString(), attempt, job_.retry.max_attempts, backoff);
      if (!SleepUnlessStopped(backoff, stop)) {
        summary.interrupted = true;
        (void)store->SetStatus(job_.name, state::JobStatus::kInterrupted);
        return Cancelled("stopped on request while waiting to retry; the next run resumes");
      }
      // Resume what the failed attempt recorded; one that failed before planning anything
      // (say, while connecting) starts fresh again.
      if (!resume) {
        SLUICE_ASSIGN_OR_RETURN(std::optional<state::JobState> now, store->Load(job_.name));
        resume = now && !now->splits.empty();
        summary.resumed = resume;
      }
    }
  };

  summary.status = run();
  if (stop != nullptr && stop->load() && !summary.status.ok())
    summary.interrupted = true;
  summary.metrics = metrics_.Snapshot();
  summary.slowest_splits = metrics_.SlowestSplits(3);
  return summary;
}

Status JobRunner::RunAttempt(const std::atomic<bool>* stop, bool resume, state::StateStore* store,
                             JobSummary* summary, bool* progress_made) {
  std::atomic<bool> cancelled{false};
  connectors::JobContext context;
  context.job_name = job_.name;
  context.parallelism = job_.parallelism;
  context.batch_rows = static_cast<size_t>(job_.batch_rows);
  context.cancelled = &cancelled;
  context.resuming = resume;
  context.run_owner = lease_->owner().Describe();
  context.run_epoch = lease_->lease().epoch;
  context.earlier_run_may_be_alive = lease_->lease().took_over_from.has_value();

  // The previous runs' state: what was planned and how far it got.
  state::JobState state;
  if (resume) {
    SLUICE_ASSIGN_OR_RETURN(std::optional<state::JobState> loaded, store->Load(job_.name));
    if (loaded)
      state = std::move(*loaded);
  }
  BadRecordPolicy bad_records(job_.name, job_.errors, &metrics_, state.bad_records);
  SLUICE_RETURN_IF_ERROR(bad_records.Open());
  context.bad_records = &bad_records;

  SLUICE_ASSIGN_OR_RETURN(Setup setup, PrepareSetup(job_, registry_, context));
  summary->streams = setup.sink_streams;
  std::string reason;
  summary->guarantee = EffectiveGuarantee(job_, *setup.sink, &reason);
  context.delivery = summary->guarantee;
  const bool exactly_once = summary->guarantee == DeliveryGuarantee::kExactlyOnce;

  uint64_t estimated = 0;
  for (const StreamInfo& stream : setup.source->streams()) {
    if (!stream.estimated_rows) {
      estimated = 0;
      break;
    }
    estimated += *stream.estimated_rows;
  }
  estimated_rows_.store(estimated);

  // Fences off every earlier run that may still be alive somewhere, before reading what the
  // sink committed. A retry makes sure the job is still its own first: a run that lost it must
  // not claim the targets again.
  SLUICE_RETURN_IF_ERROR(store->RenewRun(job_.name));
  SLUICE_RETURN_IF_ERROR(
      setup.sink->Claim(context).WithContext(fmt::format("sink {}", job_.sink.type)));
  std::deque<Work> resumed_work;
  size_t done_before = 0;
  std::unique_ptr<connectors::SplitEnumerator> planner;
  // An exactly-once sink's own record of what it committed is the truth: the state store may lag
  // behind it by a checkpoint, or (after a power loss that took the sink's last commit) run
  // ahead of it. Only what the sink holds counts.
  auto recover = [&]() -> Status {
    if (!exactly_once)
      return Status::OK();
    state.progress.clear();
    Result<std::vector<SplitProgress>> committed = setup.sink->RecoverProgress(context);
    if (!committed.ok()) {
      return committed.status().WithContext(
          fmt::format("sink {}: recovering progress", job_.sink.type));
    }
    for (SplitProgress& entry : *committed)
      state.progress[entry.split_id] = std::move(entry);
    return Status::OK();
  };
  auto committed_anything = [&] {
    return std::any_of(state.progress.begin(), state.progress.end(), [](const auto& entry) {
      return entry.second.done || !entry.second.position.empty();
    });
  };
  if (resume) {
    SLUICE_RETURN_IF_ERROR(recover());
    // A run that died in or after the sink's Finish had committed every split.
    const bool finishing = state.status == state::JobStatus::kFinishing;
    if (!finishing && !committed_anything()) {
      // Nothing to continue: start over, so that a job that failed before its first commit
      // (a duplicate key, say) is not stuck resuming it, and may be changed to fix the cause.
      log::Info(kComponent, "The earlier run of job '{}' committed nothing: starting over",
                job_.name);
      resume = false;
      context.resuming = false;
      summary->resumed = false;
    } else if (changed_since_unfinished_) {
      return InvalidConfig(fmt::format(
          "job '{}' changed since its unfinished run, which committed rows (state in '{}'): run "
          "it with --fresh to start over, or restore the job file to resume",
          job_.name, StatePath()));
    }
  } else if (fresh_over_unfinished_) {
    // --fresh discards an interrupted run: refuse when the rows it committed would stay in the
    // targets beside a new copy of them (an append into tables).
    SLUICE_ASSIGN_OR_RETURN(std::optional<state::JobState> earlier, store->Load(job_.name));
    if (earlier)
      state = std::move(*earlier);
    SLUICE_RETURN_IF_ERROR(recover());
    if (committed_anything()) {
      SLUICE_RETURN_IF_ERROR(setup.sink->CheckFreshStart(context, setup.sink_streams)
                                 .WithContext(fmt::format("sink {}", job_.sink.type)));
    }
  }
  if (resume && exactly_once) {
    // The streams that earlier runs committed rows of: their targets must still hold them.
    std::set<int> committed_streams;
    for (const Split& split : state.splits) {
      auto found = state.progress.find(split.id);
      if (found != state.progress.end() && !found->second.position.empty())
        committed_streams.insert(split.stream);
    }
    std::vector<StreamInfo> streams;
    for (int index : committed_streams)
      streams.push_back(setup.sink_streams[static_cast<size_t>(index)]);
    if (!streams.empty()) {
      SLUICE_RETURN_IF_ERROR(setup.sink->CheckCommittedTargets(context, streams)
                                 .WithContext(fmt::format("sink {}", job_.sink.type)));
    }
  }
  if (!resume)
    state = state::JobState{};  // a fresh plan, numbered from the first checkpoint
  if (resume) {
    const bool finishing = state.status == state::JobStatus::kFinishing;
    size_t& done = done_before;
    for (const Split& split : state.splits) {
      auto found = state.progress.find(split.id);
      if (finishing || (found != state.progress.end() && found->second.done)) {
        ++done;
        continue;
      }
      resumed_work.push_back(
          Work{split, found != state.progress.end() ? found->second.position : ""});
    }
    log::Info(kComponent,
              "Resuming job '{}' from checkpoint {}: {} splits done, {} to finish or redo{}",
              job_.name, state.checkpoint, done, resumed_work.size(),
              finishing ? "; finishing what the sink committed" : "");
    if (finishing) {
      planner = std::make_unique<connectors::SplitQueue>(std::vector<Split>());
    } else {
      SLUICE_ASSIGN_OR_RETURN(planner, setup.source->ResumeEnumerator(state.splits));
      SLUICE_RETURN_IF_ERROR(store->MarkRunning(job_.name));
    }
  } else {
    SLUICE_RETURN_IF_ERROR(store->Reset(job_.name, job_.fingerprint));
    SLUICE_RETURN_IF_ERROR(
        setup.sink->ForgetProgress(context).WithContext(fmt::format("sink {}", job_.sink.type)));
    SLUICE_ASSIGN_OR_RETURN(planner, setup.source->CreateEnumerator());
  }
  SLUICE_RETURN_IF_ERROR(setup.sink->Open(context, setup.sink_streams)
                             .WithContext(fmt::format("sink {}", job_.sink.type)));
  const uint64_t resumed_splits = resumed_work.size();
  WorkQueue work(std::move(resumed_work), std::move(planner), store, job_.name, &metrics_);
  metrics_.OnAttemptStart(done_before + resumed_splits, done_before);

  int readers = job_.parallelism;
  int writers = job_.parallelism;
  if (setup.sink->max_writers() > 0)
    writers = std::min(writers, setup.sink->max_writers());
  summary->readers = readers;
  summary->writers = writers;
  log::Info(kComponent, "Job '{}': {} -> {}, {} reader{}, {} writer{}, {}", job_.name,
            job_.source.type, job_.sink.type, readers, readers == 1 ? "" : "s", writers,
            writers == 1 ? "" : "s", GuaranteeName(summary->guarantee));

  Pipeline pipeline(Pipeline::Parts{&job_, &metrics_, setup.source.get(), setup.sink.get(),
                                    std::move(setup.projections), &context, store, &bad_records,
                                    state.checkpoint, lease_},
                    &cancelled);
  context.offer_split = [&pipeline](const std::string& from, Split cut) {
    pipeline.OfferCut(from, std::move(cut));
  };
  {
    std::lock_guard<std::mutex> lock(pipeline_mutex_);
    pipeline_ = &pipeline;
  }
  Status status = pipeline.Run(stop, readers, writers, &work, &summary->interrupted, progress_made);
  {
    std::lock_guard<std::mutex> lock(pipeline_mutex_);
    pipeline_ = nullptr;
  }
  if (status.ok()) {
    // Every split is committed: a run resuming from here only has Finish left to do.
    status = store->SetStatus(job_.name, state::JobStatus::kFinishing);
  }
  if (status.ok() && failpoint::AnyArmed())
    status = failpoint::Check("runtime.finish.before");
  if (status.ok() && lease_->lost())
    status = lease_->reason();
  if (status.ok()) {
    status = setup.sink->Finish().WithContext(fmt::format("sink {}: finish", job_.sink.type));
  }
  if (!status.ok())
    setup.sink->Abort();
  return status;
}

Result<CheckSummary> JobRunner::Check() {
  std::atomic<bool> cancelled{false};
  BadRecordPolicy bad_records(job_.name, config::ErrorPolicy{}, &metrics_, 0);
  connectors::JobContext context;
  context.job_name = job_.name;
  context.parallelism = job_.parallelism;
  context.batch_rows = static_cast<size_t>(job_.batch_rows);
  context.cancelled = &cancelled;
  context.bad_records = &bad_records;
  SLUICE_ASSIGN_OR_RETURN(Setup setup, PrepareSetup(job_, registry_, context));
  CheckSummary summary;
  summary.source_streams = setup.source->streams();
  summary.sink_streams = setup.sink_streams;
  summary.guarantee = EffectiveGuarantee(job_, *setup.sink, &summary.guarantee_reason);
  context.delivery = summary.guarantee;
  setup.source->Describe(&summary.report);
  SLUICE_RETURN_IF_ERROR(setup.sink->Check(context, setup.sink_streams, &summary.report)
                             .WithContext(fmt::format("sink {}", job_.sink.type)));
  return summary;
}

double JobRunner::Fraction() const {
  uint64_t estimated = estimated_rows_.load();
  if (estimated > 0) {
    return std::min(
        1.0, static_cast<double>(metrics_.Snapshot().rows_read) / static_cast<double>(estimated));
  }
  std::lock_guard<std::mutex> lock(pipeline_mutex_);
  return pipeline_ ? pipeline_->SplitFraction() : -1;
}

}  // namespace sluice::runtime
