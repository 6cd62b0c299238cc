#include "runtime/job_runner.h"

#include <fmt/core.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <deque>
#include <filesystem>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <thread>

#include "connectors/split_queue.h"
#include "core/failpoint.h"
#include "core/logging.h"
#include "runtime/bad_records.h"
#include "runtime/cancel_on_stop.h"
#include "runtime/pipeline.h"
#include "runtime/retry.h"
#include "runtime/run_lease.h"
#include "runtime/work_queue.h"
#include "state/state_store.h"
#include "transforms/projection.h"

namespace sluice::runtime {

namespace {

using connectors::DeliveryGuarantee;
using connectors::Split;
using connectors::SplitProgress;
using connectors::StreamInfo;
using Clock = std::chrono::steady_clock;

constexpr std::string_view kComponent = "runtime";

std::string GuaranteeName(DeliveryGuarantee guarantee) {
  return guarantee == DeliveryGuarantee::kExactlyOnce ? "exactly-once" : "at-least-once";
}

// The pieces both Run() and Check() set up: connectors, streams, projections.
struct Setup {
  std::unique_ptr<connectors::Source> source;
  std::unique_ptr<connectors::Sink> sink;
  std::vector<std::optional<transforms::Projection>> projections;
  std::vector<StreamInfo> sink_streams;
};

Result<Setup> PrepareSetup(const config::JobConfig& job,
                           const connectors::ConnectorRegistry& registry,
                           const connectors::JobContext& context, JobMetrics* metrics) {
  Setup setup;
  SLUICE_ASSIGN_OR_RETURN(setup.source, registry.CreateSource(job.source));
  SLUICE_ASSIGN_OR_RETURN(setup.sink, registry.CreateSink(job.sink));
  if (Status opened = setup.source->Open(context); !opened.ok()) {
    metrics->NoteFailureSite(FailureOrigin::kSource, -1);
    return opened.WithContext(fmt::format("source {}", job.source.type));
  }
  for (const StreamInfo& stream : setup.source->streams()) {
    StreamInfo out = stream;
    out.source_type = job.source.type;
    const bool has_metadata =
        std::any_of(stream.schema->fields().begin(), stream.schema->fields().end(),
                    [](const Field& field) { return field.metadata; });
    if (job.transform || has_metadata) {
      // Metadata columns reach the sink only when the transform selects them by name.
      SLUICE_ASSIGN_OR_RETURN(
          transforms::Projection projection,
          job.transform ? transforms::Projection::Make(*job.transform, stream.schema, stream.name)
                        : transforms::Projection::WithoutMetadata(stream.schema, stream.name));
      out.schema = projection.output_schema();
      setup.projections.emplace_back(std::move(projection));
    } else {
      setup.projections.emplace_back(std::nullopt);
    }
    if (out.changelog && out.schema->primary_key().empty()) {
      return InvalidConfig(fmt::format(
          "stream '{}' is a changelog (its rows update and delete by key) but has no primary "
          "key{}: the runtime routes each key's changes to one writer, in order",
          stream.name,
          job.transform ? " after the transform: keep every key column in transform.columns"
                        : ": give the source table a primary key"));
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

// The positions a resumed run continues from are durable (the sink committed them, the store
// recorded them): acknowledged again, so that an acknowledgement a crash cut off (after the
// record, before Source::Acknowledge) does not stay behind for a split that never moves again
// (a Kafka group's offsets showing lag that is not there).
void AcknowledgeRecovered(connectors::Source& source, const state::JobState& state) {
  std::vector<connectors::SplitProgress> progress;
  for (const auto& [id, entry] : state.progress) {
    if (!entry.position.empty() || entry.done)
      progress.push_back(entry);
  }
  if (progress.empty())
    return;
  Status acknowledged = source.Acknowledge(state.checkpoint, progress);
  if (!acknowledged.ok()) {
    log::Warn(kComponent, "The source could not acknowledge the positions of checkpoint {}: {}",
              state.checkpoint, acknowledged.ToString());
  }
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
  summary.stream_metrics = metrics_.StreamSnapshot();
  summary.failure_site = metrics_.failure_site();
  summary.slowest_splits = metrics_.SlowestSplits(3);
  summary.lag = metrics_.Lag();
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

  SLUICE_ASSIGN_OR_RETURN(Setup setup, PrepareSetup(job_, registry_, context, &metrics_));
  summary->streams = setup.sink_streams;
  summary->source_streams = setup.source->streams();
  {
    std::vector<std::string> names;
    for (const StreamInfo& stream : setup.source->streams())
      names.push_back(stream.name);
    metrics_.SetStreamNames(std::move(names));
  }
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
  // A stop while the sink's setup waits in the store (a table someone locked) ends that wait.
  auto setup_watch = std::make_unique<CancelOnStop>(stop, job_.stop_timeout_secs,
                                                    [&setup] { setup.sink->Cancel(); });
  // A sink step's error is the sink's (the run's failure reason says so).
  auto in_sink = [this](Status status) {
    if (!status.ok())
      metrics_.NoteFailureSite(FailureOrigin::kSink, -1);
    return status.WithContext(fmt::format("sink {}", job_.sink.type));
  };
  SLUICE_RETURN_IF_ERROR(in_sink(setup.sink->Claim(context)));
  std::deque<Work> resumed_work;
  size_t done_before = 0;
  std::unique_ptr<connectors::SplitEnumerator> planner;
  // An exactly-once sink's own record of what it committed is the truth: the state store may lag
  // behind it by a checkpoint, or (after a power loss that took the sink's last commit) run
  // ahead of it. Only what the sink holds counts.
  auto recover = [&]() -> Status {
    if (!exactly_once)
      return Status::OK();
    std::map<std::string, SplitProgress> recorded = std::move(state.progress);
    state.progress.clear();
    Result<std::vector<SplitProgress>> committed = setup.sink->RecoverProgress(context);
    if (!committed.ok()) {
      return committed.status().WithContext(
          fmt::format("sink {}: recovering progress", job_.sink.type));
    }
    for (SplitProgress& entry : *committed)
      state.progress[entry.split_id] = std::move(entry);
    // A changelog split's rows went to every writer, which commit separately: after a crash
    // between their commits the sink may hold a later position than some writer committed
    // rows for. The state store records a checkpoint only once every writer committed it, so
    // its position is the older one; re-applying changes from there is idempotent (by key).
    // A sink that never runs more than one writer (max_writers() 1, known before Open) holds
    // the exact position, which a sink that cannot apply twice (Kafka) needs.
    for (const Split& split : state.splits) {
      if (setup.sink->max_writers() == 1)
        break;
      const auto& streams = setup.source->streams();
      if (split.stream < 0 || static_cast<size_t>(split.stream) >= streams.size() ||
          !streams[static_cast<size_t>(split.stream)].changelog) {
        continue;
      }
      auto found = recorded.find(split.id);
      if (found != recorded.end()) {
        state.progress[split.id] = found->second;
      } else {
        state.progress.erase(split.id);
      }
    }
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
    // An unbounded source's splits hold where its stream began (a binlog position read at
    // the first run's start): starting over would begin at a later one and lose the changes
    // made in between, so such a run is resumed even when it committed nothing.
    if (!finishing && !committed_anything() && setup.source->bounded()) {
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
      SLUICE_RETURN_IF_ERROR(in_sink(setup.sink->CheckFreshStart(context, setup.sink_streams)));
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
      SLUICE_RETURN_IF_ERROR(setup.source->RestoreState(state.source_state)
                                 .WithContext(fmt::format("source {}: restoring its state from "
                                                          "checkpoint {}",
                                                          job_.source.type, state.checkpoint)));
      SLUICE_ASSIGN_OR_RETURN(planner, setup.source->ResumeEnumerator(state.splits));
      SLUICE_RETURN_IF_ERROR(store->MarkRunning(job_.name));
      AcknowledgeRecovered(*setup.source, state);
    }
  } else {
    SLUICE_RETURN_IF_ERROR(store->Reset(job_.name, job_.fingerprint));
    SLUICE_RETURN_IF_ERROR(
        setup.sink->ForgetProgress(context).WithContext(fmt::format("sink {}", job_.sink.type)));
    SLUICE_ASSIGN_OR_RETURN(planner, setup.source->CreateEnumerator());
  }
  {
    // A state the source took while opening (the binlog position its snapshot was read at) must
    // be durable before a row read under it is committed: a crash before the first checkpoint
    // would otherwise resume with rows of one snapshot and the position of another.
    const std::string source_state = setup.source->CheckpointState();
    if (!source_state.empty() && source_state != state.source_state) {
      SLUICE_RETURN_IF_ERROR(store->RecordSourceState(job_.name, source_state)
                                 .WithContext("recording the source's state"));
    }
  }
  SLUICE_RETURN_IF_ERROR(in_sink(setup.sink->Open(context, setup.sink_streams)));
  setup_watch.reset();
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
    if (!status.ok())
      metrics_.NoteFailureSite(FailureOrigin::kSink, -1);
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
  SLUICE_ASSIGN_OR_RETURN(Setup setup, PrepareSetup(job_, registry_, context, &metrics_));
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
