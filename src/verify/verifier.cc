#include "verify/verifier.h"

#include <fmt/core.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <map>
#include <mutex>
#include <set>

#include "connectors/stream_naming.h"
#include "core/logging.h"
#include "core/value_text.h"
#include "runtime/job_runner.h"

namespace sluice::verify {

namespace {

using connectors::StreamInfo;
using Clock = std::chrono::steady_clock;

constexpr std::string_view kComponent = "verify";
constexpr char kFieldSeparator = '\x1f';
constexpr std::string_view kNull = "\x00N";

uint64_t Hash(std::string_view text) {
  return std::hash<std::string_view>{}(text);
}

// What one side of the comparison produced for one stream.
struct SideDigest {
  explicit SideDigest(size_t buckets) : counts(buckets), sums(buckets) {}
  std::vector<std::atomic<uint64_t>> counts;
  std::vector<std::atomic<uint64_t>> sums;
  std::atomic<uint64_t> rows{0};
  // Second pass: the rows of the differing buckets, key text -> row texts.
  std::mutex mutex;
  std::multimap<std::string, std::string> collected;  // guarded by mutex
  std::atomic<uint64_t> collected_dropped{0};
};

// The shared state of one read of one side: the reference schemas rows are normalised to, and
// where each stream's digest goes.
struct DigestTarget {
  std::vector<SchemaPtr> reference;                   // by reference stream
  std::vector<std::unique_ptr<SideDigest>>* digests;  // by reference stream
  /// Incoming stream index -> reference stream index.
  std::vector<int> stream_map;
  /// Second pass: collect only these buckets (empty: first pass, digests only).
  std::vector<std::set<size_t>> collect;
  size_t buckets = 4096;
  size_t max_collected = 200000;
};

// Turns rows into the canonical text both sides agree on and folds them into digests.
class DigestWriter final : public connectors::SinkWriter {
 public:
  DigestWriter(std::shared_ptr<DigestTarget> target, std::vector<StreamInfo> incoming)
      : target_(std::move(target)), incoming_(std::move(incoming)) {}

  Status Write(const Batch& batch) override {
    size_t reference_index =
        static_cast<size_t>(target_->stream_map[static_cast<size_t>(batch.stream())]);
    const Schema& reference = *target_->reference[reference_index];
    SLUICE_ASSIGN_OR_RETURN(const std::vector<int>* columns, ColumnsFor(batch.stream(), reference));
    SideDigest& digest = *(*target_->digests)[reference_index];
    const std::set<size_t>* collect =
        target_->collect.empty() ? nullptr : &target_->collect[reference_index];
    for (size_t row = 0; row < batch.num_rows(); ++row) {
      key_.clear();
      row_.clear();
      for (size_t f = 0; f < reference.num_fields(); ++f) {
        value_.clear();
        AppendNormalized(batch.column(static_cast<size_t>((*columns)[f])), row,
                         reference.field(f).type, f);
        if (f > 0)
          row_.push_back(kFieldSeparator);
        row_.append(value_);
      }
      if (reference.primary_key().empty()) {
        key_ = row_;  // no key: rows are compared as a multiset
      } else {
        for (size_t k = 0; k < reference.primary_key().size(); ++k) {
          if (k > 0)
            key_.push_back(kFieldSeparator);
          // Re-render the key fields; cheap next to the whole row.
          int field = reference.primary_key()[k];
          value_.clear();
          AppendNormalized(
              batch.column(static_cast<size_t>((*columns)[static_cast<size_t>(field)])), row,
              reference.field(static_cast<size_t>(field)).type, static_cast<size_t>(field));
          key_.append(value_);
        }
      }
      size_t bucket = Hash(key_) % target_->buckets;
      if (collect == nullptr) {
        digest.counts[bucket].fetch_add(1, std::memory_order_relaxed);
        digest.sums[bucket].fetch_add(Hash(row_), std::memory_order_relaxed);
        digest.rows.fetch_add(1, std::memory_order_relaxed);
      } else if (collect->count(bucket) != 0) {
        std::lock_guard<std::mutex> lock(digest.mutex);
        if (digest.collected.size() < target_->max_collected) {
          digest.collected.emplace(key_, row_);
        } else {
          digest.collected_dropped.fetch_add(1, std::memory_order_relaxed);
        }
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

  // Canonical text of a value in the reference column's type: a value of another type goes
  // through its canonical text into the reference type first.
  void AppendNormalized(const Column& column, size_t row, const DataType& type, size_t field) {
    if (column.IsNull(row)) {
      value_.append(kNull);
      return;
    }
    if (column.type() == type) {
      AppendValueText(column, row, &value_);
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
      AppendValueText(scratch.column, 0, &value_);
    } else {
      value_.append("\x01unconvertible:");
      value_.append(text_);
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
  std::string key_;
  std::string row_;
  std::string value_;
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

// "id=7" / "a=x, b=2" from a key text; "(row) ..." for keyless streams.
std::string DescribeKey(const Schema& schema, const std::string& key) {
  std::vector<std::string> parts;
  size_t start = 0;
  while (true) {
    size_t end = key.find(kFieldSeparator, start);
    parts.push_back(key.substr(start, end == std::string::npos ? std::string::npos : end - start));
    if (end == std::string::npos)
      break;
    start = end + 1;
  }
  auto shown = [](const std::string& value) {
    return value == kNull ? std::string("NULL") : value;
  };
  std::string out;
  if (schema.primary_key().empty()) {
    out = "row (";
    for (size_t i = 0; i < parts.size() && i < schema.num_fields(); ++i) {
      if (i > 0)
        out += ", ";
      out += fmt::format("{}={}", schema.field(i).name, shown(parts[i]));
    }
    return out + ")";
  }
  for (size_t i = 0; i < parts.size() && i < schema.primary_key().size(); ++i) {
    if (i > 0)
      out += ", ";
    out += fmt::format("{}={}", schema.field(static_cast<size_t>(schema.primary_key()[i])).name,
                       shown(parts[i]));
  }
  return out;
}

std::vector<std::string> SplitFields(const std::string& row) {
  std::vector<std::string> out;
  size_t start = 0;
  while (true) {
    size_t end = row.find(kFieldSeparator, start);
    out.push_back(row.substr(start, end == std::string::npos ? std::string::npos : end - start));
    if (end == std::string::npos)
      return out;
    start = end + 1;
  }
}

// Folds differing integer keys into runs ("id 5..9 (5 rows)"); other keys are listed.
std::vector<std::string> FoldRanges(const Schema& schema, const std::vector<std::string>& keys,
                                    size_t limit) {
  std::vector<std::string> out;
  bool integer_key = schema.primary_key().size() == 1 &&
                     schema.field(static_cast<size_t>(schema.primary_key()[0])).type.is_integer();
  if (!integer_key) {
    for (const std::string& key : keys) {
      if (out.size() >= limit)
        break;
      out.push_back(DescribeKey(schema, key));
    }
    return out;
  }
  std::vector<long double> values;
  for (const std::string& key : keys)
    values.push_back(std::strtold(key.c_str(), nullptr));
  std::sort(values.begin(), values.end());
  const std::string& name = schema.field(static_cast<size_t>(schema.primary_key()[0])).name;
  for (size_t i = 0; i < values.size() && out.size() < limit;) {
    size_t j = i;
    while (j + 1 < values.size() && values[j + 1] == values[j] + 1)
      ++j;
    if (i == j) {
      out.push_back(fmt::format("{} {:.0f}", name, static_cast<double>(values[i])));
    } else {
      out.push_back(fmt::format("{} {:.0f}..{:.0f} ({} rows)", name, static_cast<double>(values[i]),
                                static_cast<double>(values[j]), j - i + 1));
    }
    i = j + 1;
  }
  return out;
}

// A temporary directory for the verification runs' own state, removed on destruction.
class ScratchDir {
 public:
  ScratchDir() {
    std::string pattern =
        (std::filesystem::temp_directory_path() / "sluice-verify-XXXXXX").string();
    if (mkdtemp(pattern.data()) != nullptr)
      path_ = pattern;
  }
  ~ScratchDir() {
    std::error_code ignored;
    if (!path_.empty())
      std::filesystem::remove_all(path_, ignored);
  }
  const std::string& path() const { return path_; }

 private:
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

Result<VerifyReport> Verify(const config::JobConfig& job,
                            const connectors::ConnectorRegistry& registry,
                            const std::atomic<bool>* stop, VerifyOptions options) {
  Clock::time_point start = Clock::now();
  ScratchDir scratch;
  if (scratch.path().empty())
    return IoError("cannot create a temporary directory for verify");

  // The reference: the source's streams after the transform.
  std::atomic<bool> cancelled{false};
  runtime::JobRunner probe(job, registry, runtime::RunOptions{scratch.path(), true});
  SLUICE_ASSIGN_OR_RETURN(runtime::CheckSummary checked, probe.Check());
  const std::vector<StreamInfo>& streams = checked.sink_streams;
  std::vector<SchemaPtr> reference;
  for (const StreamInfo& stream : streams)
    reference.push_back(stream.schema);

  std::vector<std::unique_ptr<SideDigest>> source_digests;
  std::vector<std::unique_ptr<SideDigest>> target_digests;
  for (size_t i = 0; i < streams.size(); ++i) {
    source_digests.push_back(std::make_unique<SideDigest>(options.buckets));
    target_digests.push_back(std::make_unique<SideDigest>(options.buckets));
  }
  auto source_target = [&](std::vector<std::set<size_t>> collect) {
    auto target = std::make_shared<DigestTarget>();
    target->reference = reference;
    target->digests = &source_digests;
    for (size_t i = 0; i < streams.size(); ++i)
      target->stream_map.push_back(static_cast<int>(i));
    target->collect = std::move(collect);
    target->buckets = options.buckets;
    target->max_collected = options.max_collected_rows;
    return target;
  };
  auto target_target = [&](size_t stream, std::vector<std::set<size_t>> collect) {
    auto target = std::make_shared<DigestTarget>();
    target->reference = reference;
    target->digests = &target_digests;
    target->stream_map = {static_cast<int>(stream)};
    target->collect = std::move(collect);
    target->buckets = options.buckets;
    target->max_collected = options.max_collected_rows;
    return target;
  };
  std::vector<config::ConnectorBlock> targets;
  for (size_t i = 0; i < streams.size(); ++i) {
    SLUICE_ASSIGN_OR_RETURN(config::ConnectorBlock block,
                            ReadBackBlock(job.sink, streams[i].name, *streams[i].schema));
    targets.push_back(std::move(block));
  }

  // Pass 1: digests of both sides.
  log::Info(kComponent, "Verifying job '{}': reading the source", job.name);
  SLUICE_RETURN_IF_ERROR(ReadSide(job, job.source, true, source_target({}), scratch.path(), stop)
                             .WithContext("verify: reading the source"));
  for (size_t i = 0; i < streams.size(); ++i) {
    log::Info(kComponent, "Verifying job '{}': reading the target of stream '{}'", job.name,
              streams[i].name);
    SLUICE_RETURN_IF_ERROR(
        ReadSide(job, targets[i], false, target_target(i, {}), scratch.path(), stop)
            .WithContext(
                fmt::format("verify: reading the target of stream '{}'", streams[i].name)));
  }

  VerifyReport report;
  std::vector<std::set<size_t>> differing(streams.size());
  bool any_differing = false;
  for (size_t i = 0; i < streams.size(); ++i) {
    StreamReport stream;
    stream.stream = streams[i].name;
    const config::Node* target_name =
        targets[i].options.Find(job.sink.type == "file" ? "path" : "table");
    stream.target = target_name != nullptr ? target_name->scalar() : streams[i].name;
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

  // Pass 2: only the rows of differing buckets, to name what differs.
  if (any_differing) {
    log::Info(kComponent, "Verifying job '{}': narrowing down the differences", job.name);
    SLUICE_RETURN_IF_ERROR(
        ReadSide(job, job.source, true, source_target(differing), scratch.path(), stop)
            .WithContext("verify: reading the source again"));
    for (size_t i = 0; i < streams.size(); ++i) {
      if (differing[i].empty())
        continue;
      std::vector<std::set<size_t>> only(streams.size());
      only[i] = differing[i];
      SLUICE_RETURN_IF_ERROR(
          ReadSide(job, targets[i], false, target_target(i, only), scratch.path(), stop)
              .WithContext(
                  fmt::format("verify: reading the target of stream '{}' again", streams[i].name)));
      StreamReport& stream = report.streams[i];
      const Schema& schema = *reference[i];
      auto& source_rows = source_digests[i]->collected;
      auto& target_rows = target_digests[i]->collected;
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
          stream.missing_count += s_set.size();
          if (stream.missing_in_target.size() < options.max_examples) {
            stream.missing_in_target.push_back(DescribeKey(schema, key));
          }
        } else if (s_set.empty()) {
          stream.extra_count += t_set.size();
          if (stream.extra_in_target.size() < options.max_examples) {
            stream.extra_in_target.push_back(DescribeKey(schema, key));
          }
        } else if (s_set.size() != t_set.size()) {
          // Same key, different number of rows: duplicates on one side.
          ++stream.different_count;
          if (stream.different.size() < options.max_examples) {
            stream.different.push_back(fmt::format("{}: {} row(s) in the source, {} in the target",
                                                   DescribeKey(schema, key), s_set.size(),
                                                   t_set.size()));
          }
        } else {
          ++stream.different_count;
          if (stream.different.size() < options.max_examples) {
            std::vector<std::string> a = SplitFields(*s_set.begin());
            std::vector<std::string> b = SplitFields(*t_set.begin());
            std::string columns;
            for (size_t f = 0; f < a.size() && f < b.size() && f < schema.num_fields(); ++f) {
              if (a[f] == b[f])
                continue;
              if (!columns.empty())
                columns += "; ";
              auto shown = [](const std::string& v) {
                return v == kNull ? std::string("NULL") : "'" + v.substr(0, 80) + "'";
              };
              columns += fmt::format("{} {} in the source, {} in the target", schema.field(f).name,
                                     shown(a[f]), shown(b[f]));
            }
            stream.different.push_back(fmt::format("{}: {}", DescribeKey(schema, key), columns));
          }
        }
      }
      stream.differing_ranges = FoldRanges(schema, differing_keys, options.max_examples);
      if (source_digests[i]->collected_dropped.load() > 0 ||
          target_digests[i]->collected_dropped.load() > 0) {
        stream.differing_ranges.push_back(fmt::format(
            "(more differences than the {} rows kept for the report)", options.max_collected_rows));
      }
    }
  }
  report.match = !any_differing;
  report.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  return report;
}

}  // namespace sluice::verify
