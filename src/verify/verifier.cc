#include "verify/verifier.h"

#include <fmt/core.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <future>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <thread>

#include "connectors/store_digest.h"
#include "connectors/stream_naming.h"
#include "core/logging.h"
#include "core/value_text.h"
#include "runtime/job_runner.h"
#include "runtime/retry.h"

namespace sluice::verify {

namespace {

using connectors::StreamInfo;
using Clock = std::chrono::steady_clock;

constexpr std::string_view kComponent = "verify";

// How one stream's rows are bucketed and rendered; both sides use the same plan.
struct StreamPlan {
  // Positions of the key fields in the reference schema; empty for keyless streams.
  std::vector<size_t> key;
  size_t buckets = 4096;
  std::optional<connectors::DigestKeyRange> range;
};

// What one side of the comparison produced for one stream.
struct SideDigest {
  explicit SideDigest(size_t buckets) : counts(buckets), sums(buckets) {}
  std::vector<std::atomic<uint64_t>> counts;
  std::vector<std::atomic<uint64_t>> sums;
  std::atomic<uint64_t> rows{0};
  // Second pass: the rows of the differing buckets, key text -> row texts.
  std::mutex mutex;
  std::multimap<std::string, std::string> collected;  // guarded by mutex

  void Set(const std::vector<connectors::BucketDigest>& digests) {
    uint64_t total = 0;
    for (size_t b = 0; b < digests.size() && b < counts.size(); ++b) {
      counts[b] = digests[b].rows;
      sums[b] = digests[b].sum;
      total += digests[b].rows;
    }
    rows = total;
  }
  void Collect(std::string_view key, std::string_view row) {
    std::lock_guard<std::mutex> lock(mutex);
    collected.emplace(std::string(key), std::string(row));
  }
};

// The shared state of one read of one side through Sluice: the reference schemas rows are
// normalised to, and where each stream's digest goes.
struct DigestTarget {
  std::vector<SchemaPtr> reference;                   // by reference stream
  std::vector<std::unique_ptr<SideDigest>>* digests;  // by reference stream
  std::vector<StreamPlan> plans;                      // by reference stream
  /// Incoming stream index -> reference stream index (-1: not digested in this read).
  std::vector<int> stream_map;
  /// Second pass: collect only these buckets (empty: first pass, digests only).
  std::vector<std::set<size_t>> collect;
};

// Turns rows into the canonical text both sides agree on and folds them into digests.
class DigestWriter final : public connectors::SinkWriter {
 public:
  DigestWriter(std::shared_ptr<DigestTarget> target, std::vector<StreamInfo> incoming)
      : target_(std::move(target)), incoming_(std::move(incoming)) {}

  Status Write(const Batch& batch) override {
    int mapped = target_->stream_map[static_cast<size_t>(batch.stream())];
    if (mapped < 0)
      return Status::OK();  // digested in its store
    auto reference_index = static_cast<size_t>(mapped);
    const Schema& reference = *target_->reference[reference_index];
    const StreamPlan& plan = target_->plans[reference_index];
    SLUICE_ASSIGN_OR_RETURN(const std::vector<int>* columns, ColumnsFor(batch.stream(), reference));
    SideDigest& digest = *(*target_->digests)[reference_index];
    const std::set<size_t>* collect =
        target_->collect.empty() ? nullptr : &target_->collect[reference_index];
    for (size_t row = 0; row < batch.num_rows(); ++row) {
      // The row text, rendered in place; the key text is cut from it.
      row_.Clear();
      for (size_t f = 0; f < reference.num_fields(); ++f) {
        const Column& column = batch.column(static_cast<size_t>((*columns)[f]));
        if (column.IsNull(row)) {
          row_.AppendNull();
        } else {
          AppendNormalized(column, row, reference.field(f).type, f, row_.BeginValue());
          row_.EndValue();
        }
      }
      if (plan.key.empty()) {
        key_ = row_.text();  // no key: rows are compared as a multiset
      } else {
        row_.KeyText(plan.key, &key_);
      }
      size_t bucket = 0;
      if (plan.range) {
        Result<__int128> key = connectors::ParseInt128(key_);
        bucket = key.ok() ? connectors::DigestRangeBucket(*key, *plan.range, plan.buckets) : 0;
      } else {
        bucket = connectors::DigestHashBucket(key_, plan.buckets);
      }
      if (collect == nullptr) {
        digest.counts[bucket].fetch_add(1, std::memory_order_relaxed);
        digest.sums[bucket].fetch_add(connectors::DigestRowHash(row_.text()),
                                      std::memory_order_relaxed);
        digest.rows.fetch_add(1, std::memory_order_relaxed);
      } else if (collect->count(bucket) != 0) {
        digest.Collect(key_, row_.text());
      }
    }
    return Status::OK();
  }
  Status Prepare() override { return Status::OK(); }
  Status Commit(const connectors::CommitContext&) override { return Status::OK(); }
  void Abort() override {}

 private:
  // Indexes of the reference fields in an incoming stream's schema (by name).
  Result<const std::vector<int>*> ColumnsFor(int stream, const Schema& reference) {
    auto found = columns_.find(stream);
    if (found != columns_.end())
      return &found->second;
    const Schema& incoming = *incoming_[static_cast<size_t>(stream)].schema;
    std::vector<int> indexes;
    for (const Field& field : reference.fields()) {
      int index = incoming.FieldIndex(field.name);
      if (index < 0) {
        return NotFound(fmt::format("the target of stream '{}' has no column '{}' (it has: {})",
                                    incoming_[static_cast<size_t>(stream)].name, field.name,
                                    incoming.ToString()));
      }
      indexes.push_back(index);
    }
    return &columns_.emplace(stream, std::move(indexes)).first->second;
  }

  // Appends the canonical text of a value (not NULL) rendered as the reference column's type: a
  // value of another type goes through its value text into the reference type first.
  void AppendNormalized(const Column& column, size_t row, const DataType& type, size_t field,
                        std::string* out) {
    if (column.type() == type) {
      connectors::AppendDigestText(column, row, out);
      return;
    }
    text_.clear();
    AppendValueText(column, row, &text_);
    auto [it, inserted] = scratch_.try_emplace(field, nullptr);
    if (inserted)
      it->second = std::make_unique<Scratch>(type);
    Scratch& scratch = *it->second;
    scratch.column.Clear();
    scratch.arena.Reset();
    if (AppendParsedValue(text_, &scratch.column).ok()) {
      connectors::AppendDigestText(scratch.column, 0, out);
    } else {
      out->append("\x01unconvertible:");
      out->append(text_);
    }
  }

  struct Scratch {
    explicit Scratch(const DataType& type) : column(type, 1, &arena) {}
    Arena arena;
    Column column;
  };

  std::shared_ptr<DigestTarget> target_;
  std::vector<StreamInfo> incoming_;
  std::map<int, std::vector<int>> columns_;
  std::map<size_t, std::unique_ptr<Scratch>> scratch_;
  connectors::DigestRowText row_;
  std::string key_;
  std::string text_;
};

class DigestSink final : public connectors::Sink {
 public:
  explicit DigestSink(std::shared_ptr<DigestTarget> target) : target_(std::move(target)) {}

  Status Open(const connectors::JobContext&, const std::vector<StreamInfo>& streams) override {
    streams_ = streams;
    return Status::OK();
  }
  Status Check(const connectors::JobContext&, const std::vector<StreamInfo>&,
               connectors::CheckReport*) override {
    return Status::OK();
  }
  Result<std::unique_ptr<connectors::SinkWriter>> CreateWriter(int) override {
    return std::unique_ptr<connectors::SinkWriter>(new DigestWriter(target_, streams_));
  }
  Status Finish() override { return Status::OK(); }
  connectors::DeliveryGuarantee guarantee() const override {
    return connectors::DeliveryGuarantee::kAtLeastOnce;
  }

 private:
  std::shared_ptr<DigestTarget> target_;
  std::vector<StreamInfo> streams_;
};

config::Mark VerifyMark(const std::string& what) {
  return config::Mark{std::make_shared<const std::string>(what), 0, 0};
}

// Reads one side of the comparison into `digests` with a job of its own.
Status ReadSide(const config::JobConfig& job, const config::ConnectorBlock& source,
                bool with_transform, std::shared_ptr<DigestTarget> target,
                const std::string& state_dir, const std::atomic<bool>* stop) {
  connectors::ConnectorRegistry registry;
  connectors::RegisterBuiltinConnectors(registry);
  connectors::ConnectorInfo digest;
  digest.type = "verify_digest";
  digest.description = "internal: folds rows into verification digests";
  digest.create_sink =
      [target](const config::Options&) -> Result<std::unique_ptr<connectors::Sink>> {
    return std::unique_ptr<connectors::Sink>(new DigestSink(target));
  };
  registry.Register(std::move(digest));

  config::JobConfig side;
  side.name = job.name + "-verify";
  side.origin = job.origin;
  side.source = source;
  side.sink.type = "verify_digest";
  side.sink.options = config::Node::Map(VerifyMark("verify"));
  if (with_transform)
    side.transform = job.transform;
  side.parallelism = job.parallelism;
  side.batch_rows = job.batch_rows;
  side.checkpoint_interval_secs = 0;
  side.retry = job.retry;
  side.fingerprint = "verify";
  runtime::RunOptions options;
  options.state_dir = state_dir;
  options.fresh = true;
  runtime::JobRunner runner(std::move(side), registry, options);
  runtime::JobSummary summary = runner.Run(stop);
  return summary.status;
}

// A row text element for people: "NULL" or the value.
std::string ShowElement(const std::string& element) {
  return element == connectors::kDigestNullElement ? std::string("NULL") : element.substr(1);
}

// "id=7" / "a=x, b=2" from a key text; "row (...)" for keyless streams, whose key is the row.
std::string DescribeKey(const Schema& schema, const StreamPlan& plan, const std::string& key) {
  std::vector<std::string> parts = connectors::SplitDigestText(key);
  std::string out;
  if (plan.key.empty()) {
    out = "row (";
    for (size_t i = 0; i < parts.size() && i < schema.num_fields(); ++i) {
      if (i > 0)
        out += ", ";
      out += fmt::format("{}={}", schema.field(i).name, ShowElement(parts[i]));
    }
    return out + ")";
  }
  for (size_t i = 0; i < parts.size() && i < plan.key.size(); ++i) {
    if (i > 0)
      out += ", ";
    out += fmt::format("{}={}", schema.field(plan.key[i]).name, parts[i]);
  }
  return out;
}

// Folds differing integer keys into runs ("id 5..9 (5 rows)"); other keys are listed.
std::vector<std::string> FoldRanges(const Schema& schema, const StreamPlan& plan,
                                    const std::vector<std::string>& keys, size_t limit) {
  std::vector<std::string> out;
  bool integer_key = plan.key.size() == 1 && schema.field(plan.key[0]).type.is_integer();
  if (!integer_key) {
    for (const std::string& key : keys) {
      if (out.size() >= limit)
        break;
      out.push_back(DescribeKey(schema, plan, key));
    }
    return out;
  }
  std::vector<__int128> values;
  for (const std::string& key : keys) {
    Result<__int128> value = connectors::ParseInt128(key);
    if (value.ok())
      values.push_back(*value);
  }
  std::sort(values.begin(), values.end());
  const std::string& name = schema.field(plan.key[0]).name;
  for (size_t i = 0; i < values.size() && out.size() < limit;) {
    size_t j = i;
    while (j + 1 < values.size() && values[j + 1] == values[j] + 1)
      ++j;
    if (i == j) {
      out.push_back(fmt::format("{} {}", name, connectors::Int128ToString(values[i])));
    } else {
      out.push_back(fmt::format("{} {}..{} ({} rows)", name, connectors::Int128ToString(values[i]),
                                connectors::Int128ToString(values[j]), j - i + 1));
    }
    i = j + 1;
  }
  return out;
}

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

}  // namespace

Result<config::ConnectorBlock> ReadBackBlock(const config::ConnectorBlock& sink,
                                             const std::string& stream, const Schema& schema) {
  config::Mark mark = VerifyMark(fmt::format("verify: the target of the {} sink", sink.type));
  config::ConnectorBlock block;
  block.type = sink.type;
  block.type_mark = mark;
  block.options = config::Node::Map(mark);
  auto copy = [&](std::string_view key) {
    if (const config::Node* value = sink.options.Find(key)) {
      block.options.Set(std::string(key), mark, *value);
    }
  };
  auto set = [&](std::string_view key, const std::string& value) {
    block.options.Set(std::string(key), mark, config::Node::Scalar(value, mark));
  };
  auto option = [&](std::string_view key) -> std::string {
    const config::Node* value = sink.options.Find(key);
    return value != nullptr && value->is_scalar() ? value->scalar() : std::string();
  };
  if (sink.type == "sqlite") {
    copy("path");
    set("table", connectors::ExpandStreamName(option("table"), stream));
  } else if (sink.type == "mysql" || sink.type == "postgres") {
    for (std::string_view key : {"host", "port", "user", "password", "database"})
      copy(key);
    set("table", connectors::ExpandStreamName(option("table"), stream));
  } else if (sink.type == "file") {
    // The sink writes `path`, or `path` with -<slot>-<part> before the extensions.
    std::filesystem::path path(connectors::ExpandStreamName(option("path"), stream));
    std::string name = path.filename().string();
    size_t dot = name.find('.');
    std::string stem = dot == std::string::npos ? name : name.substr(0, dot);
    std::string extensions = dot == std::string::npos ? "" : name.substr(dot);
    set("path", (path.parent_path() / (stem + "*" + extensions)).string());
    for (std::string_view key :
         {"format", "compression", "header", "delimiter", "quote", "null_marker"}) {
      copy(key);
    }
    config::Node types = config::Node::Map(mark);
    for (const Field& field : schema.fields()) {
      types.Set(field.name, mark, config::Node::Scalar(field.type.ToString(), mark));
    }
    block.options.Set("schema", mark, std::move(types));
    set("stream", stream);
  } else {
    return Unsupported(fmt::format(
        "verify cannot read back a '{}' sink (supported: sqlite, mysql, postgres, file)",
        sink.type));
  }
  return block;
}

namespace {

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

// Cancels the queries of the digesters in use once `stop` is set (SIGINT/SIGTERM): a digest
// query can run for minutes on a big table, and an interrupted verify must not wait for it.
class QueryCanceller {
 public:
  explicit QueryCanceller(const std::atomic<bool>* stop) : stop_(stop) {
    if (stop_ != nullptr)
      thread_ = std::thread([this] { Watch(); });
  }
  ~QueryCanceller() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      done_ = true;
    }
    wake_.notify_all();
    if (thread_.joinable())
      thread_.join();
  }
  QueryCanceller(const QueryCanceller&) = delete;
  QueryCanceller& operator=(const QueryCanceller&) = delete;

  // Watches `digester` while the returned guard lives.
  auto Watching(connectors::StoreDigester* digester) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      active_.insert(digester);
    }
    auto forget = [this](connectors::StoreDigester* gone) {
      std::lock_guard<std::mutex> lock(mutex_);
      active_.erase(gone);
      cancelled_.erase(gone);
    };
    return std::unique_ptr<connectors::StoreDigester, decltype(forget)>(digester, forget);
  }

 private:
  void Watch() {
    std::unique_lock<std::mutex> lock(mutex_);
    while (!done_) {
      wake_.wait_for(lock, std::chrono::milliseconds(100));
      if (done_ || !stop_->load())
        continue;
      for (connectors::StoreDigester* digester : active_) {
        if (cancelled_.insert(digester).second)
          digester->Cancel();
      }
    }
  }

  const std::atomic<bool>* stop_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool done_ = false;                               // guarded by mutex_
  std::set<connectors::StoreDigester*> active_;     // guarded by mutex_
  std::set<connectors::StoreDigester*> cancelled_;  // guarded by mutex_
  std::thread thread_;
};

// A source opened only so that its store computes digests.
struct DigestSource {
  std::atomic<bool> cancelled{false};
  connectors::FailOnBadRecord bad_records;  // a store computing digests reads no records
  connectors::JobContext context;
  std::unique_ptr<connectors::Source> source;
  connectors::StoreDigester* digester = nullptr;
};

Result<std::unique_ptr<DigestSource>> OpenDigestSource(
    const connectors::ConnectorRegistry& registry, const config::ConnectorBlock& block,
    const config::JobConfig& job, const std::atomic<bool>* stop) {
  auto opened = std::make_unique<DigestSource>();
  opened->context.job_name = job.name + "-verify";
  opened->context.parallelism = 1;
  opened->context.cancelled = stop != nullptr ? stop : &opened->cancelled;
  opened->context.bad_records = &opened->bad_records;
  SLUICE_ASSIGN_OR_RETURN(opened->source, registry.CreateSource(block));
  SLUICE_RETURN_IF_ERROR(opened->source->Open(opened->context));
  opened->digester = opened->source->digester();
  return opened;
}

// How one side digests one stream.
struct SidePlan {
  bool pushed = false;  // false: read through Sluice
  /// While its store is open (the source's for the whole run, a target's while in use).
  connectors::StoreDigester* digester = nullptr;
  connectors::DigestRequest request;
  std::string method;
};

// The request for `stream` of an opened side, whose fields are found by `input_name`; Unsupported
// when a field has no plain counterpart there.
Result<connectors::DigestRequest> MakeRequest(
    int stream, const Schema& side_schema, const Schema& reference, const StreamPlan& plan,
    const std::function<Result<std::string>(const Field&)>& input_name) {
  connectors::DigestRequest request;
  request.stream = stream;
  for (const Field& field : reference.fields()) {
    SLUICE_ASSIGN_OR_RETURN(std::string name, input_name(field));
    int index = side_schema.FieldIndex(name);
    if (index < 0)
      return Unsupported(fmt::format("no column '{}'", name));
    request.columns.push_back(connectors::DigestColumn{index, field.type});
  }
  request.key = plan.key;
  request.buckets = plan.buckets;
  return request;
}

// Decides whether `opened` computes the digests of `stream` itself.
SidePlan PlanSide(DigestSource* opened, const Status& open_status, int stream,
                  const Schema& reference, const StreamPlan& plan, const std::string& store,
                  const std::function<Result<std::string>(const Field&)>& input_name) {
  SidePlan side;
  auto read_through = [&](const Status& why) {
    side.pushed = false;
    side.method = fmt::format("rows read through sluice ({})", why.message());
  };
  if (!open_status.ok()) {
    read_through(open_status);
  } else if (opened == nullptr || opened->digester == nullptr) {
    side.method = "rows read through sluice";
  } else if (stream < 0) {
    read_through(Unsupported("stream not found"));
  } else {
    const Schema& schema = *opened->source->streams()[static_cast<size_t>(stream)].schema;
    Result<connectors::DigestRequest> request =
        MakeRequest(stream, schema, reference, plan, input_name);
    Status can = request.ok() ? opened->digester->CanDigest(*request) : request.status();
    if (can.ok()) {
      side.pushed = true;
      side.digester = opened->digester;
      side.request = std::move(*request);
      side.method = fmt::format("checksums computed by {}", store);
    } else {
      read_through(can);
    }
  }
  return side;
}

int FindStream(const connectors::Source& source, const std::string& name, size_t fallback) {
  const std::vector<StreamInfo>& streams = source.streams();
  for (size_t i = 0; i < streams.size(); ++i) {
    if (streams[i].name == name)
      return static_cast<int>(i);
  }
  return fallback < streams.size() ? static_cast<int>(fallback) : -1;
}

// Differing buckets, in order, until their rows reach `max_rows` (at least one bucket).
std::set<size_t> NarrowedBuckets(const SideDigest& a, const SideDigest& b,
                                 const std::set<size_t>& differing, size_t max_rows,
                                 bool* truncated) {
  std::set<size_t> chosen;
  uint64_t rows = 0;
  for (size_t bucket : differing) {
    uint64_t more = std::max(a.counts[bucket].load(), b.counts[bucket].load());
    if (!chosen.empty() && rows + more > max_rows) {
      *truncated = true;
      break;
    }
    chosen.insert(bucket);
    rows += more;
  }
  return chosen;
}

// Compares the collected rows of one stream and fills the report's differences.
void Compare(const Schema& schema, const StreamPlan& plan, const SideDigest& source,
             const SideDigest& target, const VerifyOptions& options, StreamReport* stream) {
  const auto& source_rows = source.collected;
  const auto& target_rows = target.collected;
  std::vector<std::string> differing_keys;
  std::set<std::string> keys;
  for (const auto& [key, row] : source_rows)
    keys.insert(key);
  for (const auto& [key, row] : target_rows)
    keys.insert(key);
  for (const std::string& key : keys) {
    auto [s_begin, s_end] = source_rows.equal_range(key);
    auto [t_begin, t_end] = target_rows.equal_range(key);
    std::multiset<std::string> s_set;
    std::multiset<std::string> t_set;
    for (auto it = s_begin; it != s_end; ++it)
      s_set.insert(it->second);
    for (auto it = t_begin; it != t_end; ++it)
      t_set.insert(it->second);
    if (s_set == t_set)
      continue;
    differing_keys.push_back(key);
    if (t_set.empty()) {
      stream->missing_count += s_set.size();
      if (stream->missing_in_target.size() < options.max_examples)
        stream->missing_in_target.push_back(DescribeKey(schema, plan, key));
    } else if (s_set.empty()) {
      stream->extra_count += t_set.size();
      if (stream->extra_in_target.size() < options.max_examples)
        stream->extra_in_target.push_back(DescribeKey(schema, plan, key));
    } else if (s_set.size() != t_set.size()) {
      // Same key, different number of rows: duplicates on one side.
      ++stream->different_count;
      if (stream->different.size() < options.max_examples) {
        stream->different.push_back(fmt::format("{}: {} row(s) in the source, {} in the target",
                                                DescribeKey(schema, plan, key), s_set.size(),
                                                t_set.size()));
      }
    } else {
      ++stream->different_count;
      if (stream->different.size() < options.max_examples) {
        std::vector<std::string> a = connectors::SplitDigestText(*s_set.begin());
        std::vector<std::string> b = connectors::SplitDigestText(*t_set.begin());
        std::string columns;
        for (size_t f = 0; f < a.size() && f < b.size() && f < schema.num_fields(); ++f) {
          if (a[f] == b[f])
            continue;
          if (!columns.empty())
            columns += "; ";
          auto shown = [](const std::string& element) {
            return element == connectors::kDigestNullElement
                       ? std::string("NULL")
                       : "'" + element.substr(1, 80) + "'";
          };
          columns += fmt::format("{} {} in the source, {} in the target", schema.field(f).name,
                                 shown(a[f]), shown(b[f]));
        }
        stream->different.push_back(fmt::format("{}: {}", DescribeKey(schema, plan, key), columns));
      }
    }
  }
  stream->differing_ranges = FoldRanges(schema, plan, differing_keys, options.max_examples);
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
  std::vector<config::ConnectorBlock> targets;
  for (size_t i = 0; i < count; ++i) {
    SLUICE_ASSIGN_OR_RETURN(config::ConnectorBlock block,
                            ReadBackBlock(job.sink, streams[i].name, *streams[i].schema));
    targets.push_back(std::move(block));
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
  std::optional<decltype(canceller.Watching(nullptr))> source_watch;
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
    return ReadSide(job, job.source, true, target, state.string(), stop);
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
    return ReadSide(job, targets[i], false, target, state.string(), stop);
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
    const config::Node* target_name =
        targets[i].options.Find(job.sink.type == "file" ? "path" : "table");
    stream.target = target_name != nullptr ? target_name->scalar() : streams[i].name;
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
      Compare(*reference[i], plans[i], *source_digests[i], *target_digests[i], options,
              &report.streams[i]);
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
