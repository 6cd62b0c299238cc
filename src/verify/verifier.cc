#include "verify/verifier.h"

#include <fmt/core.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <future>
#include <optional>
#include <set>

#include "connectors/store_digest.h"
#include "core/logging.h"
#include "runtime/job_runner.h"
#include "runtime/retry.h"
#include "verify/differences.h"
#include "verify/read_through.h"
#include "verify/side_digest.h"
#include "verify/side_plan.h"
#include "verify/store_side.h"

namespace sluice::verify {

namespace {

using connectors::StreamInfo;
using Clock = std::chrono::steady_clock;

constexpr std::string_view kComponent = "verify";

// A temporary directory for the verification runs' own state, removed on destruction.
class ScratchDir {
 public:
  /// Creates it in the system's temporary directory (TMPDIR).
  static Result<std::unique_ptr<ScratchDir>> Create() {
    constexpr std::string_view kWhat = "cannot create a temporary directory for verify in";
    std::error_code error;
    std::filesystem::path base = std::filesystem::temp_directory_path(error);
    if (error) {
      const char* tmpdir = std::getenv("TMPDIR");
      return ErrnoStatus(kWhat, tmpdir != nullptr ? tmpdir : "", error.value());
    }
    std::string pattern = (base / "sluice-verify-XXXXXX").string();
    if (mkdtemp(pattern.data()) == nullptr)
      return ErrnoStatus(kWhat, base.string(), errno);
    return std::unique_ptr<ScratchDir>(new ScratchDir(std::move(pattern)));
  }
  ~ScratchDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  explicit ScratchDir(std::string path) : path_(std::move(path)) {}

  std::string path_;
};

// Runs `attempt`, again after transient failures (a lost connection, a restarted server) as the
// job's retry policy allows, with the jobs' backoff.
Status Retrying(const config::RetryPolicy& policy, const std::atomic<bool>* stop,
                std::string_view what, const std::function<Status()>& attempt) {
  for (int failures = 0;; ++failures) {
    Status status = attempt();
    if (status.ok() || !status.IsTransient() || failures >= policy.max_attempts)
      return status;
    const double backoff = runtime::BackoffSeconds(policy, failures);
    log::Warn(kComponent, "{} failed ({}); retry {} of {} in {:.1f} s", what, status.ToString(),
              failures + 1, policy.max_attempts, backoff);
    if (!runtime::SleepUnlessStopped(backoff, stop))
      return Cancelled("verify interrupted");
  }
}

}  // namespace

Result<VerifyReport> Verify(const config::JobConfig& job,
                            const connectors::ConnectorRegistry& registry,
                            const std::atomic<bool>* stop, VerifyOptions options) {
  Clock::time_point start = Clock::now();
  SLUICE_ASSIGN_OR_RETURN(std::unique_ptr<ScratchDir> scratch_dir, ScratchDir::Create());
  const ScratchDir& scratch = *scratch_dir;

  // The reference: the source's streams after the transform.
  runtime::JobRunner probe(job, registry, runtime::RunOptions{scratch.path(), true});
  SLUICE_ASSIGN_OR_RETURN(runtime::CheckSummary checked, probe.Check());
  const std::vector<StreamInfo>& streams = checked.sink_streams;
  const size_t count = streams.size();
  std::vector<SchemaPtr> reference;
  std::vector<StreamPlan> plans(count);
  for (size_t i = 0; i < count; ++i) {
    reference.push_back(streams[i].schema);
    for (int field : streams[i].schema->primary_key())
      plans[i].key.push_back(static_cast<size_t>(field));
    plans[i].buckets = options.buckets;
  }
  // Each target is read back as its connector registered (ConnectorInfo::read_back).
  std::vector<config::ConnectorBlock> targets;
  std::vector<std::string> target_names;
  for (size_t i = 0; i < count; ++i) {
    SLUICE_ASSIGN_OR_RETURN(
        connectors::ReadBack read_back,
        registry.ReadBackSource(job.sink, streams[i].name, *streams[i].schema));
    targets.push_back(std::move(read_back.source));
    target_names.push_back(std::move(read_back.target));
  }

  // Which sides compute their digests in their store. A side that cannot be opened here is read
  // through Sluice, whose errors then say what is wrong.
  std::unique_ptr<DigestSource> source_store;
  Status source_open = Status::OK();
  if (options.push_down) {
    SLUICE_RETURN_IF_ERROR(Retrying(job.retry, stop, "verify: opening the source", [&]() -> Status {
                             Result<std::unique_ptr<DigestSource>> opened =
                                 OpenDigestSource(registry, job.source, job, stop);
                             if (opened.ok())
                               source_store = std::move(*opened);
                             return opened.status();
                           }).WithContext("verify: opening the source"));
  }
  QueryCanceller canceller(stop);  // after source_store: stops watching before it closes
  std::optional<QueryCanceller::Guard> source_watch;
  if (source_store && source_store->digester != nullptr)
    source_watch.emplace(canceller.Watching(source_store->digester));
  // Targets are opened one at a time, while in use: a job over hundreds of tables must not hold
  // hundreds of connections. A target that cannot be opened (nothing written yet) is read
  // through Sluice, whose errors then say what is missing.
  auto open_target = [&](size_t i, std::unique_ptr<DigestSource>* store) -> Status {
    return Retrying(job.retry, stop, "verify: opening the target", [&]() -> Status {
      Result<std::unique_ptr<DigestSource>> opened =
          OpenDigestSource(registry, targets[i], job, stop);
      if (opened.ok())
        *store = std::move(*opened);
      return opened.status();
    });
  };
  // Runs `use` with the digester of target `i`, opened for the purpose.
  auto with_target = [&](size_t i,
                         const std::function<Status(connectors::StoreDigester&)>& use) -> Status {
    std::unique_ptr<DigestSource> store;
    SLUICE_RETURN_IF_ERROR(open_target(i, &store));
    if (store->digester == nullptr)
      return Internal("verify: the target's store no longer computes digests");
    auto watch = canceller.Watching(store->digester);
    return use(*store->digester);
  };
  // The source's input column for a reference field: through the transform, which must not
  // change values (a cast is evaluated by Sluice only).
  auto source_input = [&](const Field& field) -> Result<std::string> {
    if (!job.transform)
      return field.name;
    for (const config::ColumnMapping& mapping : job.transform->columns) {
      if (mapping.output != field.name)
        continue;
      if (mapping.cast)
        return Unsupported(fmt::format("the transform casts column '{}'", field.name));
      return mapping.input;
    }
    return Unsupported(fmt::format("column '{}' is not in the transform", field.name));
  };
  auto target_input = [](const Field& field) -> Result<std::string> { return field.name; };
  std::vector<SidePlan> source_sides(count);
  std::vector<SidePlan> target_sides(count);
  std::vector<int> source_stream(count, -1);
  for (size_t i = 0; i < count; ++i) {
    if (source_store)
      source_stream[i] = FindStream(*source_store->source, streams[i].name, i);
    source_sides[i] = PlanSide(source_store.get(), source_open, source_stream[i], *reference[i],
                               plans[i], job.source.type, source_input);
    std::unique_ptr<DigestSource> target_store;
    Status target_open = options.push_down ? open_target(i, &target_store) : Status::OK();
    target_sides[i] = PlanSide(target_store.get(), target_open, 0, *reference[i], plans[i],
                               job.sink.type, target_input);
    // Key-range buckets when the key is one integer column and a store can tell its range.
    if (plans[i].key.size() == 1 && reference[i]->field(plans[i].key[0]).type.is_integer()) {
      SidePlan* bounded = source_sides[i].pushed   ? &source_sides[i]
                          : target_sides[i].pushed ? &target_sides[i]
                                                   : nullptr;
      if (bounded != nullptr) {
        const connectors::DigestRequest& request = bounded->request;
        std::optional<std::pair<__int128, __int128>> bounds;
        SLUICE_RETURN_IF_ERROR(Retrying(job.retry, stop, "verify: reading the key range", [&] {
          Result<std::optional<std::pair<__int128, __int128>>> read =
              bounded->digester->KeyBounds(request.stream, request.columns[plans[i].key[0]].field);
          if (read.ok())
            bounds = *read;
          return read.status();
        }));
        if (bounds) {
          __int128 span = bounds->second - bounds->first + 1;
          __int128 buckets = static_cast<__int128>(plans[i].buckets);
          plans[i].range =
              connectors::DigestKeyRange{bounds->first, (span + buckets - 1) / buckets};
        }
      }
    }
    for (SidePlan* side : {&source_sides[i], &target_sides[i]}) {
      side->request.range = plans[i].range;
      side->request.parallelism = static_cast<size_t>(std::max(1, job.parallelism));
    }
    target_sides[i].digester = nullptr;  // closed with target_store
    log::Info(kComponent, "Verifying stream '{}': source: {}; target: {}", streams[i].name,
              source_sides[i].method, target_sides[i].method);
  }

  std::vector<std::unique_ptr<SideDigest>> source_digests;
  std::vector<std::unique_ptr<SideDigest>> target_digests;
  for (size_t i = 0; i < count; ++i) {
    source_digests.push_back(std::make_unique<SideDigest>(options.buckets));
    target_digests.push_back(std::make_unique<SideDigest>(options.buckets));
  }
  // Reads the source through Sluice for the streams its store does not digest (`only`: further
  // limited to these reference streams and buckets).
  auto read_source = [&](const std::vector<std::set<size_t>>& collect) -> Status {
    auto target = std::make_shared<DigestTarget>();
    target->reference = reference;
    target->digests = &source_digests;
    target->plans = plans;
    target->collect = collect;
    bool any = false;
    size_t source_streams = source_store ? source_store->source->streams().size() : count;
    target->stream_map.assign(std::max(source_streams, count), -1);
    for (size_t i = 0; i < count; ++i) {
      if (source_sides[i].pushed || (!collect.empty() && collect[i].empty()))
        continue;
      size_t incoming = source_stream[i] >= 0 ? static_cast<size_t>(source_stream[i]) : i;
      target->stream_map[incoming] = static_cast<int>(i);
      any = true;
    }
    if (!any)
      return Status::OK();
    std::filesystem::path state = std::filesystem::path(scratch.path()) / "source";
    return ReadSide(job, registry, job.source, true, target, state.string(), stop);
  };
  auto read_target = [&](size_t i, const std::vector<std::set<size_t>>& collect) -> Status {
    auto target = std::make_shared<DigestTarget>();
    target->reference = reference;
    target->digests = &target_digests;
    target->plans = plans;
    target->collect = collect;
    target->stream_map = {static_cast<int>(i)};
    std::filesystem::path state =
        std::filesystem::path(scratch.path()) / fmt::format("target-{}", i);
    return ReadSide(job, registry, targets[i], false, target, state.string(), stop);
  };

  // Pass 1: digests of both sides (the two sides at once: they are different stores).
  log::Info(kComponent, "Verifying job '{}': digesting the source and the target", job.name);
  auto source_pass = [&]() -> Status {
    for (size_t i = 0; i < count; ++i) {
      if (!source_sides[i].pushed)
        continue;
      std::vector<connectors::BucketDigest> digests;
      SLUICE_RETURN_IF_ERROR(Retrying(job.retry, stop, "verify: digesting the source", [&] {
        return source_sides[i].digester->Digest(source_sides[i].request, &digests);
      }));
      source_digests[i]->Set(digests);
    }
    return read_source({});
  };
  auto target_pass = [&]() -> Status {
    for (size_t i = 0; i < count; ++i) {
      if (target_sides[i].pushed) {
        std::vector<connectors::BucketDigest> digests;
        SLUICE_RETURN_IF_ERROR(with_target(i, [&](connectors::StoreDigester& digester) {
          return Retrying(job.retry, stop, "verify: digesting the target",
                          [&] { return digester.Digest(target_sides[i].request, &digests); });
        }));
        target_digests[i]->Set(digests);
      } else {
        SLUICE_RETURN_IF_ERROR(read_target(i, {}).WithContext(
            fmt::format("verify: reading the target of stream '{}'", streams[i].name)));
      }
    }
    return Status::OK();
  };
  std::future<Status> target_done = std::async(std::launch::async, target_pass);
  Status source_status = source_pass().WithContext("verify: reading the source");
  Status target_status = target_done.get();
  SLUICE_RETURN_IF_ERROR(source_status);
  SLUICE_RETURN_IF_ERROR(target_status);

  VerifyReport report;
  std::vector<std::set<size_t>> differing(count);
  bool any_differing = false;
  for (size_t i = 0; i < count; ++i) {
    StreamReport stream;
    stream.stream = streams[i].name;
    stream.target = target_names[i].empty() ? streams[i].name : target_names[i];
    stream.source_method = source_sides[i].method;
    stream.target_method = target_sides[i].method;
    stream.source_rows = source_digests[i]->rows.load();
    stream.target_rows = target_digests[i]->rows.load();
    for (size_t b = 0; b < options.buckets; ++b) {
      if (source_digests[i]->counts[b].load() != target_digests[i]->counts[b].load() ||
          source_digests[i]->sums[b].load() != target_digests[i]->sums[b].load()) {
        differing[i].insert(b);
      }
    }
    stream.match = differing[i].empty();
    any_differing = any_differing || !stream.match;
    report.streams.push_back(std::move(stream));
  }

  // Pass 2: only the rows of (a bounded number of) differing buckets, to name what differs.
  if (any_differing) {
    log::Info(kComponent, "Verifying job '{}': narrowing down the differences", job.name);
    std::vector<std::set<size_t>> chosen(count);
    std::vector<bool> truncated(count, false);
    for (size_t i = 0; i < count; ++i) {
      bool cut = false;
      chosen[i] = NarrowedBuckets(*source_digests[i], *target_digests[i], differing[i],
                                  options.max_collected_rows, &cut);
      truncated[i] = cut;
    }
    for (size_t i = 0; i < count; ++i) {
      if (chosen[i].empty() || !source_sides[i].pushed)
        continue;
      std::vector<size_t> buckets(chosen[i].begin(), chosen[i].end());
      SideDigest& digest = *source_digests[i];
      SLUICE_RETURN_IF_ERROR(Retrying(job.retry, stop, "verify: reading differing rows", [&] {
        return source_sides[i].digester->Rows(
            source_sides[i].request, buckets,
            [&](std::string_view key, std::string_view row) -> Status {
              digest.Collect(key, row);
              return Status::OK();
            });
      }));
    }
    SLUICE_RETURN_IF_ERROR(read_source(chosen).WithContext("verify: reading the source again"));
    for (size_t i = 0; i < count; ++i) {
      if (chosen[i].empty())
        continue;
      if (target_sides[i].pushed) {
        std::vector<size_t> buckets(chosen[i].begin(), chosen[i].end());
        SideDigest& digest = *target_digests[i];
        SLUICE_RETURN_IF_ERROR(with_target(i, [&](connectors::StoreDigester& digester) {
          return Retrying(job.retry, stop, "verify: reading differing rows", [&] {
            return digester.Rows(target_sides[i].request, buckets,
                                 [&](std::string_view key, std::string_view row) -> Status {
                                   digest.Collect(key, row);
                                   return Status::OK();
                                 });
          });
        }));
      } else {
        std::vector<std::set<size_t>> only(count);
        only[i] = chosen[i];
        SLUICE_RETURN_IF_ERROR(read_target(i, only).WithContext(
            fmt::format("verify: reading the target of stream '{}' again", streams[i].name)));
      }
      CompareCollectedRows(*reference[i], plans[i], *source_digests[i], *target_digests[i],
                           options, &report.streams[i]);
      if (truncated[i]) {
        report.streams[i].differing_ranges.push_back(
            fmt::format("(more differences beyond the {} rows fetched for the report)",
                        options.max_collected_rows));
      }
    }
  }
  report.match = !any_differing;
  report.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  return report;
}

}  // namespace sluice::verify
