#include "runtime/pipeline.h"

#include <fmt/core.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <map>
#include <optional>
#include <shared_mutex>
#include <thread>

#include "core/failpoint.h"
#include "core/logging.h"
#include "runtime/batch_pool.h"
#include "runtime/cancel_on_stop.h"
#include "runtime/channel.h"
#include "runtime/channel_item.h"
#include "runtime/checkpoint_coordinator.h"
#include "runtime/key_routing.h"
#include "runtime/run_lease.h"
#include "runtime/work_queue.h"
#include "state/state_store.h"

namespace sluice::runtime {

namespace {

using connectors::Split;
using connectors::SplitProgress;
using connectors::SplitReader;
using connectors::StreamInfo;
using Clock = std::chrono::steady_clock;
using Item = ChannelItem;

constexpr std::string_view kComponent = "runtime";

double SecondsSince(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

}  // namespace

class Pipeline::Impl {
 public:
  using Parts = Pipeline::Parts;

  Impl(Parts parts, std::atomic<bool>* cancelled)
      : parts_(std::move(parts)), job_(*parts_.job), cancelled_(cancelled) {}

  /// Moves the data. `*progress_made` is set once a checkpoint committed.
  Status Run(const std::atomic<bool>* stop, int readers, int writers, WorkQueue* work,
             bool* interrupted, bool* progress_made) {
    work_ = work;
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
    std::vector<BoundedChannel<Item>*> channels;
    for (auto& channel : channels_)
      channels.push_back(channel.get());
    checkpoints_ = std::make_unique<CheckpointCoordinator>(
        CheckpointCoordinator::Parts{job_.name, parts_.store, parts_.source, parts_.bad_records,
                                     parts_.metrics, parts_.last_checkpoint},
        std::move(channels));
    std::vector<std::thread> writer_threads;
    for (int w = 0; w < writers; ++w)
      writer_threads.emplace_back([this, w, tag = log::CurrentTag()] {
        log::ScopedTag tagged(tag);
        WriterLoop(w);
      });
    // A stop must end the job even when a writer is blocked in the sink (a lock someone else
    // holds, a server that stopped answering), where the final checkpoint would wait forever:
    // after checkpoint.stop_timeout_secs the writers' calls are cancelled and the run ends at
    // its last recorded checkpoint.
    // Watches the stop itself, not only the coordinator's reaction to it: the coordinator may
    // be the one waiting, for a checkpoint's acks from a blocked writer.
    auto watchdog = std::make_unique<CancelOnStop>(
        [this, stop] {
          return stopping_.load() || stop_requested_.load() || (stop != nullptr && stop->load());
        },
        job_.stop_timeout_secs, [this] { CancelBlockedWriters(); });
    readers_running_ = readers;
    std::vector<std::thread> reader_threads;
    for (int r = 0; r < readers; ++r) {
      reader_threads.emplace_back([this, r, writers, tag = log::CurrentTag()] {
        log::ScopedTag tagged(tag);
        ReaderLoop(r, writers);
      });
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
      SampleLag();
      bool requested = false;
      {
        std::lock_guard<std::mutex> lock(done_mutex_);
        requested = std::exchange(checkpoint_requested_, false);
      }
      if (!failed_.load() && !stopping_.load() &&
          (requested || (interval > 0 && SecondsSince(last_checkpoint) >= interval))) {
        if (checkpoints_->Take().ok())
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
    SampleLag();  // as the readers left their splits
    if (stop_requested_.load() && !stopping_.load() && !failed_.load()) {
      // The readers stopped on request before the coordinator saw it: still an interruption.
      *interrupted = true;
      stopping_.store(true);
    }

    // The readers are done (or stopping): commit what was read, then let the writers finish.
    Status final_checkpoint;
    if (!failed_.load()) {
      final_checkpoint = checkpoints_->Take();
      if (final_checkpoint.ok())
        *progress_made = true;
    }
    for (auto& channel : channels_)
      channel->Close();
    for (std::thread& t : writer_threads)
      t.join();
    watchdog.reset();  // before the writers it may cancel are destroyed
    if (cancelled_on_stop_.load())
      *interrupted = true;  // a stop, though the cancel made it fail
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
  // How the rows of one stream travel from a reader to the writers.
  struct StreamPath {
    BatchPool* input_pool = nullptr;  // null until the split first yields the stream
    const transforms::Projection* projection = nullptr;  // null without a transform
    // A changelog stream's key columns (after the projection): its rows go to writers by key.
    // Empty: the whole batch goes to the reader's own writer.
    std::vector<int> routing_key;
  };

  struct ActiveReader {
    std::shared_ptr<SplitReader> reader;
    Split split;
    std::atomic<uint64_t> rows{0};
    Clock::time_point start;
    // Indexed by stream; a split carrying several streams (SplitReader::NextStream) fills one
    // per stream it yields.
    std::vector<StreamPath> paths;
    // The split's rows go to writers by key (its streams are changelogs, with several writers).
    bool routed = false;
    // The position last sent to the writers (with a batch or alone): the reader's thread only.
    std::string sent_position;
  };

  StreamPath& PathOf(ActiveReader& active, int stream) {
    StreamPath& path = active.paths.at(static_cast<size_t>(stream));
    if (path.input_pool != nullptr)
      return path;
    const connectors::StreamInfo& info = parts_.source->streams()[static_cast<size_t>(stream)];
    path.input_pool = &PoolFor(info.schema);
    if (parts_.projections[static_cast<size_t>(stream)])
      path.projection = &*parts_.projections[static_cast<size_t>(stream)];
    if (info.changelog && channels_.size() > 1) {
      const Schema& out =
          path.projection != nullptr ? *path.projection->output_schema() : *info.schema;
      path.routing_key = out.primary_key();
    }
    return path;
  }

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
    CloseWork();
    for (auto& channel : channels_)
      channel->Close();
    if (checkpoints_)
      checkpoints_->Abort();
    std::lock_guard<std::mutex> lock(done_mutex_);
    done_cv_.notify_all();  // readers waiting for a checkpoint (CheckpointNow)
  }

  Status FirstFailure() {
    std::lock_guard<std::mutex> lock(failure_mutex_);
    return failure_;
  }

  // Publishes each stream's lag: the open splits' now, the others' as they were left.
  void SampleLag() {
    std::lock_guard<std::mutex> lock(lag_mutex_);
    {
      std::lock_guard<std::mutex> active(active_mutex_);
      for (const auto& reader : active_)
        split_lag_[reader->split.id] = {reader->split.stream, reader->reader->Lag()};
    }
    std::map<int, StreamLag> streams;
    for (const auto& [id, entry] : split_lag_) {
      const connectors::ReadLag& lag = entry.second;
      if (!lag.rows && !lag.bytes && !lag.last_event_time_us)
        continue;
      StreamLag& total = streams[entry.first];
      if (lag.rows)
        total.rows = total.rows.value_or(0) + *lag.rows;
      if (lag.bytes)
        total.bytes = total.bytes.value_or(0) + *lag.bytes;
      if (lag.last_event_time_us) {
        total.last_event_time_us =
            std::min(total.last_event_time_us.value_or(*lag.last_event_time_us),
                     *lag.last_event_time_us);
      }
    }
    if (streams.empty() && !lag_reported_)
      return;  // sources that know no lag cost nothing more
    lag_reported_ = true;
    std::vector<StreamLag> out;
    for (auto& [stream, total] : streams) {
      total.stream = parts_.source->streams()[static_cast<size_t>(stream)].name;
      out.push_back(std::move(total));
    }
    parts_.metrics->OnLag(std::move(out));
  }

  // Idle readers waiting for work give up.
  void CloseWork() {
    if (WorkQueue* work = work_.load())
      work->Close();
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

  // CancelOnStop's action: the first time, fail the run (its channels close, the coordinator
  // stops waiting for acks); every time, cancel each writer's blocked call.
  void CancelBlockedWriters() {
    if (!failed_.load()) {
      cancelled_on_stop_.store(true);
      log::Warn(kComponent,
                "The final checkpoint did not end within {:g} s of the stop "
                "(checkpoint.stop_timeout_secs): cancelling the sink's writes; the next run "
                "resumes from the last checkpoint",
                job_.stop_timeout_secs);
      Fail(Cancelled("stopped on request; the sink's blocked writes were cancelled, the next "
                     "run resumes from the last checkpoint"));
    }
    std::lock_guard<std::mutex> writers(writers_mutex_);
    for (connectors::SinkWriter* writer : live_writers_)
      writer->Cancel();
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
    CloseWork();
  }

  // A stop asked from inside the pipeline (the `stop` failpoint), as SIGINT asks it: this
  // reader stops at once, the others at their next batch, the coordinator checkpoints.
  void RequestStop() {
    stop_requested_.store(true);
    cancelled_->store(true);
    // Readers blocked waiting for data or work end now, not at their next batch.
    CancelActiveReaders();
    CloseWork();
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
    if (parts_.source->bounded()) {
      ReadBounded(channel);
    } else {
      ReadUnbounded(channel);
    }
    ReaderDone();
  }

  // A bounded source: one split at a time, read to its end; when the plan runs dry, help the
  // busiest running split instead of going idle.
  void ReadBounded(BoundedChannel<Item>& channel) {
    WorkQueue& queue = *work_.load();
    while (!cancelled_->load()) {
      const uint64_t seen = queue.generation();
      Result<std::optional<Work>> next = queue.Next();
      if (!next.ok()) {
        Fail(next.status().WithContext(fmt::format("source {}", job_.source.type)));
        break;
      }
      std::optional<Work> work = std::move(*next);
      const bool from_queue = work.has_value();
      if (!work) {
        // Cuts that a reader makes later through offer_split arrive in the work queue.
        bool any_running = false;
        std::optional<Split> cut = RequestCut(&any_running);
        if (cut)
          work = Work{std::move(*cut), ""};
        if (!work && !any_running)
          break;
      }
      if (!work) {
        // Woken by a cut, a split that ends or starts (a new candidate), a stop or a failure.
        queue.WaitForChange(seen);
        continue;
      }
      Status status = ReadSplit(*work, channel);
      if (from_queue)
        queue.Done();
      if (!status.ok()) {
        ReaderFailed(status);
        break;
      }
    }
  }

  // An unbounded source: the reader holds up to its fair share of the splits and serves them in
  // turn, one batch each (an idle split's ReadBatch returns empty after JobContext::read_wait).
  // With nothing to hold it waits for the enumerator's wake-up, a stop or a failure.
  void ReadUnbounded(BoundedChannel<Item>& channel) {
    WorkQueue& queue = *work_.load();
    std::vector<std::shared_ptr<ActiveReader>> held;
    Status status;
    while (!cancelled_->load() && status.ok()) {
      const uint64_t seen = queue.generation();
      const size_t readers = static_cast<size_t>(parts_.context->parallelism);
      // A split that ends (a snapshot's chunk) is read alone to its end before another is taken.
      auto holds_ending = [&] {
        return std::any_of(held.begin(), held.end(), [&](const auto& active) {
          return parts_.source->SplitEnds(active->split);
        });
      };
      while (held.size() * readers < static_cast<size_t>(queue.outstanding()) + queue.pending() &&
             !holds_ending() && !cancelled_->load()) {
        Result<std::optional<Work>> next = queue.Next();
        if (!next.ok()) {
          status = next.status().WithContext(fmt::format("source {}", job_.source.type));
          break;
        }
        if (!*next)
          break;
        Result<std::shared_ptr<ActiveReader>> opened = OpenSplit(**next);
        if (!opened.ok()) {
          queue.Done();
          status = opened.status();
          break;
        }
        held.push_back(std::move(*opened));
      }
      if (!status.ok())
        break;
      if (held.empty()) {
        queue.WaitForChange(seen);
        continue;
      }
      ShareReadWait(held);
      for (size_t i = 0; i < held.size() && !cancelled_->load();) {
        ReadOutcome outcome = ReadOne(*held[i], channel, &status);
        if (outcome == ReadOutcome::kStopped)
          break;
        if (outcome == ReadOutcome::kFinished) {
          CloseSplit(held[i], /*finished=*/true, channel);
          queue.Done();
          held.erase(held.begin() + static_cast<std::ptrdiff_t>(i));
          continue;
        }
        ++i;
      }
    }
    for (std::shared_ptr<ActiveReader>& active : held) {
      CloseSplit(active, /*finished=*/false, channel);
      queue.Done();
    }
    if (!status.ok())
      ReaderFailed(status);
  }

  // Each held split may wait its share of read_wait for data (at least 1 ms, so that a reader
  // holding hundreds of idle partitions does not spin), so that one round over them takes about
  // read_wait and a row arriving in any of them waits about that long, not read_wait per split.
  void ShareReadWait(const std::vector<std::shared_ptr<ActiveReader>>& held) {
    std::chrono::milliseconds share = std::max(
        std::chrono::milliseconds(1),
        parts_.context->read_wait / static_cast<std::chrono::milliseconds::rep>(held.size()));
    for (const std::shared_ptr<ActiveReader>& active : held)
      active->reader->SetReadWait(share);
  }

  // A reader's error stops the job, unless it is the cancellation the job asked for.
  void ReaderFailed(const Status& status) {
    bool expected = status.code() == StatusCode::kCancelled && cancelled_->load();
    if (!expected) {
      parts_.metrics->NoteFailureSite(FailureOrigin::kSource, -1);
      Fail(status);
    }
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

  // Opens the reader of `work` and registers it as active (a candidate for cuts, cancelled on a
  // stop).
  Result<std::shared_ptr<ActiveReader>> OpenSplit(const Work& work) {
    const Split& split = work.split;
    Result<std::unique_ptr<SplitReader>> opened = parts_.source->CreateReader(split, work.position);
    if (!opened.ok()) {
      return opened.status().WithContext(
          fmt::format("source {}: split '{}'", job_.source.type, split.id));
    }
    auto active = std::make_shared<ActiveReader>();
    active->reader = std::move(*opened);
    active->split = split;
    active->start = Clock::now();
    active->paths.resize(parts_.source->streams().size());
    active->routed = !PathOf(*active, split.stream).routing_key.empty();
    {
      std::lock_guard<std::mutex> lock(active_mutex_);
      active_.push_back(active);
    }
    // An idle reader waiting for a cut has a new candidate.
    work_.load()->Wake();
    return active;
  }

  enum class ReadOutcome {
    kBatch,     // a batch went to the writer
    kNoData,    // an unbounded split had nothing new in time
    kFinished,  // the split is exhausted
    kStopped,   // an error (in *status), or the pipeline closed
  };

  // Reads one batch of `active`'s split, projects it and pushes it to `channel`.
  ReadOutcome ReadOne(ActiveReader& active, BoundedChannel<Item>& channel, Status* status) {
    const Split& split = active.split;
    int stream = active.reader->NextStream();
    if (stream < 0)
      stream = split.stream;
    if (static_cast<size_t>(stream) >= active.paths.size()) {
      *status = Internal(fmt::format("source {}: split '{}' yields stream {} of {}",
                                     job_.source.type, split.id, stream, active.paths.size()));
      return ReadOutcome::kStopped;
    }
    StreamPath& path = PathOf(active, stream);
    if (path.routing_key.empty() == active.routed) {
      *status = Internal(fmt::format(
          "source {}: split '{}' mixes changelog streams with others ('{}')", job_.source.type,
          split.id, parts_.source->streams()[static_cast<size_t>(stream)].name));
      return ReadOutcome::kStopped;
    }
    std::unique_ptr<Batch> batch = path.input_pool->Get(stream);
    Result<bool> more = active.reader->ReadBatch(batch.get());
    if (!more.ok()) {
      path.input_pool->Put(std::move(batch));
      *status = more.status().WithContext(
          fmt::format("source {}: split '{}'", job_.source.type, split.id));
      parts_.metrics->NoteFailureSite(FailureOrigin::kSource, stream);
      return ReadOutcome::kStopped;
    }
    if (!*more) {
      path.input_pool->Put(std::move(batch));
      return ReadOutcome::kFinished;
    }
    if (batch->empty()) {
      path.input_pool->Put(std::move(batch));
      // The position may move without rows (a change log's commit after its last row, records
      // the job does not capture): the next checkpoint must hold it, or the source could never
      // be told that what it read is safe to forget.
      std::string position = active.reader->Position();
      if (position != active.sent_position && !SendPosition(active, channel, position))
        return ReadOutcome::kStopped;
      return ReadOutcome::kNoData;
    }
    active.rows.fetch_add(batch->num_rows(), std::memory_order_relaxed);
    parts_.metrics->OnBatchRead(batch->num_rows(), batch->ByteSize());
    parts_.metrics->OnStreamRead(stream, batch->num_rows(), batch->ByteSize());
    if (path.projection != nullptr) {
      std::unique_ptr<Batch> projected = PoolFor(path.projection->output_schema()).Get(stream);
      Status applied = path.projection->Apply(*batch, projected.get(), parts_.context->bad_records);
      path.input_pool->Put(std::move(batch));
      if (!applied.ok()) {
        PoolFor(*projected).Put(std::move(projected));
        *status = applied;
        return ReadOutcome::kStopped;
      }
      batch = std::move(projected);
    }
    if (active.routed) {
      if (!PushRouted(active, path.routing_key, std::move(batch)))
        return ReadOutcome::kStopped;  // closed: the job is failing
    } else {
      Item item{std::move(batch), split.id, active.reader->Position()};
      active.sent_position = item.position;
      if (!channel.Push(item)) {
        PoolFor(*item.batch).Put(std::move(item.batch));
        return ReadOutcome::kStopped;  // closed: the job is failing
      }
    }
    if (failpoint::AnyArmed()) {
      failpoint::Action action = failpoint::Hit("runtime.reader.batch");
      if (action == failpoint::Action::kStop)
        RequestStop();
      if (action == failpoint::Action::kCheckpoint)
        CheckpointNow();
    }
    return ReadOutcome::kBatch;
  }

  // Sends `position` of `active`'s split without rows: to every writer with the next marker
  // (routed), or through the reader's channel. Returns false when the pipeline closed.
  bool SendPosition(ActiveReader& active, BoundedChannel<Item>& channel, std::string position) {
    active.sent_position = position;
    if (active.routed) {
      checkpoints_->BeginRoutedPush();
      checkpoints_->EndRoutedPush(active.split.id, std::move(position), /*done=*/false);
      return true;
    }
    Item item{nullptr, active.split.id, std::move(position), false};
    return channel.Push(item);
  }

  // Splits `batch` of a changelog split into one batch per writer by a hash of each row's key,
  // keeping the rows' order and kinds, and pushes the parts as one step against checkpoint
  // markers. Returns false when the pipeline closed.
  bool PushRouted(ActiveReader& active, const std::vector<int>& routing_key,
                  std::unique_ptr<Batch> batch) {
    const size_t writers = channels_.size();
    BatchPool& pool = PoolFor(*batch);
    std::vector<std::unique_ptr<Batch>> parts = RouteByKey(*batch, routing_key, writers, pool);
    pool.Put(std::move(batch));
    std::string position = active.reader->Position();
    active.sent_position = position;
    bool open = true;
    checkpoints_->BeginRoutedPush();
    for (size_t w = 0; w < writers; ++w) {
      if (!parts[w])
        continue;
      Item item{std::move(parts[w]), active.split.id, position};
      item.routed = true;
      if (!open || !channels_[w]->Push(item)) {
        pool.Put(std::move(item.batch));
        open = false;
      }
    }
    checkpoints_->EndRoutedPush(active.split.id, std::move(position), /*done=*/false);
    return open;
  }

  // Unregisters `active`; a finished split's end travels to its writer, which commits it as
  // done (a routed split's, to every writer with the next marker).
  void CloseSplit(const std::shared_ptr<ActiveReader>& active, bool finished,
                  BoundedChannel<Item>& channel) {
    if (finished && active->routed) {
      checkpoints_->BeginRoutedPush();
      checkpoints_->EndRoutedPush(active->split.id, active->reader->Position(), /*done=*/true);
    } else if (finished) {
      Item done{nullptr, active->split.id, active->reader->Position(), true};
      if (!channel.Push(done))
        finished = false;
    }
    {
      std::lock_guard<std::mutex> lock(active_mutex_);
      active_.erase(std::find(active_.begin(), active_.end(), active));
    }
    {
      // A finished split is behind by nothing; one left open stays as far behind as it was.
      std::lock_guard<std::mutex> lock(lag_mutex_);
      if (finished) {
        split_lag_.erase(active->split.id);
      } else {
        split_lag_[active->split.id] = {active->split.stream, active->reader->Lag()};
      }
    }
    // An idle reader waiting for a cut may have nothing left to wait for (a cut it was handed
    // directly is not queue work, so no Done() follows).
    work_.load()->Wake();
    if (finished) {
      parts_.metrics->OnSplitDone(
          SplitTiming{active->split.id, active->rows.load(), SecondsSince(active->start)});
    }
  }

  // Reads one split to its end (or until the job stops or fails).
  Status ReadSplit(const Work& work, BoundedChannel<Item>& channel) {
    SLUICE_ASSIGN_OR_RETURN(std::shared_ptr<ActiveReader> active, OpenSplit(work));
    Status status;
    bool finished = false;
    while (!cancelled_->load()) {
      ReadOutcome outcome = ReadOne(*active, channel, &status);
      if (outcome == ReadOutcome::kFinished)
        finished = true;
      if (outcome == ReadOutcome::kFinished || outcome == ReadOutcome::kStopped)
        break;
    }
    CloseSplit(active, finished, channel);
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
      // Alive until Run() clears writer_objects_, after the stop watchdog ended.
      std::lock_guard<std::mutex> lock(writers_mutex_);
      live_writers_.push_back(writer.get());
    } else {
      parts_.metrics->NoteFailureSite(FailureOrigin::kSink, -1);
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
          if (item.routed_progress) {
            progress.insert(progress.end(), item.routed_progress->begin(),
                            item.routed_progress->end());
          }
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
            parts_.metrics->NoteFailureSite(FailureOrigin::kSink, -1);
            Fail(status.WithContext(context()));
          }
        }
        checkpoints_->WriterCommitted(item.checkpoint, failed, std::move(progress));
        continue;
      }
      if (item.batch) {
        if (!failed && !failed_.load()) {
          const uint64_t skipped = BadRecordPolicy::SkippedOnThisThread();
          Status status = writer->Write(*item.batch);
          if (status.ok()) {
            parts_.metrics->OnBatchWritten(item.batch->num_rows(), item.batch->ByteSize());
            parts_.metrics->OnStreamWritten(item.batch->stream(), item.batch->num_rows(),
                                            item.batch->ByteSize());
            // Rows the sink refused and the policy skipped were not written.
            const uint64_t refused = BadRecordPolicy::SkippedOnThisThread() - skipped;
            if (refused > 0)
              parts_.metrics->OnRowsRefusedBySink(refused);
            pending_rows += item.batch->num_rows() - refused;
          } else {
            failed = true;
            parts_.metrics->NoteFailureSite(FailureOrigin::kSink, item.batch->stream());
            Fail(status.WithContext(context()));
          }
        }
        PoolFor(*item.batch).Put(std::move(item.batch));
      }
      if (item.routed)
        continue;
      SplitProgress& entry = pending[item.split_id];
      entry.split_id = item.split_id;
      entry.position = item.position;
      entry.done = entry.done || item.split_done;
    }
    std::lock_guard<std::mutex> lock(writers_mutex_);
    writer_objects_.push_back(std::move(writer));
  }

  Parts parts_;
  const config::JobConfig& job_;
  std::atomic<bool>* cancelled_;
  std::atomic<WorkQueue*> work_{nullptr};  // set by Run; read by the progress line too
  std::unique_ptr<CheckpointCoordinator> checkpoints_;  // set by Run before threads start

  std::map<const Schema*, std::unique_ptr<BatchPool>> pools_;  // built before threads start
  std::vector<std::unique_ptr<BoundedChannel<Item>>> channels_;

  std::atomic<bool> failed_{false};
  std::atomic<bool> stopping_{false};
  std::atomic<bool> stop_requested_{false};
  std::atomic<bool> cancelled_on_stop_{false};  // the stop watchdog failed the run
  std::mutex failure_mutex_;
  Status failure_;  // guarded by failure_mutex_

  // Writers commit progress holding it shared; a cut and its record hold it exclusively.
  std::shared_mutex plan_mutex_;

  mutable std::mutex active_mutex_;
  std::vector<std::shared_ptr<ActiveReader>> active_;  // guarded by active_mutex_

  std::mutex lag_mutex_;
  // Split id -> its stream and last known lag.
  std::map<std::string, std::pair<int, connectors::ReadLag>> split_lag_;  // guarded by lag_mutex_
  bool lag_reported_ = false;                                              // guarded by lag_mutex_

  std::mutex writers_mutex_;
  std::vector<std::unique_ptr<connectors::SinkWriter>> writer_objects_;  // guarded by writers_mutex_
  std::vector<connectors::SinkWriter*> live_writers_;  // guarded by writers_mutex_

  std::mutex done_mutex_;
  std::condition_variable done_cv_;
  int readers_running_ = 0;  // guarded by done_mutex_
  bool checkpoint_requested_ = false;  // guarded by done_mutex_
  uint64_t checkpoints_recorded_ = 0;  // guarded by done_mutex_
};

Pipeline::Pipeline(Parts parts, std::atomic<bool>* cancelled)
    : impl_(std::make_unique<Impl>(std::move(parts), cancelled)) {}

Pipeline::~Pipeline() = default;

Status Pipeline::Run(const std::atomic<bool>* stop, int readers, int writers, WorkQueue* work,
                     bool* interrupted, bool* progress_made) {
  return impl_->Run(stop, readers, writers, work, interrupted, progress_made);
}

double Pipeline::SplitFraction() const { return impl_->SplitFraction(); }

void Pipeline::OfferCut(const std::string& from, connectors::Split cut) {
  impl_->OfferCut(from, std::move(cut));
}

}  // namespace sluice::runtime
