#include "verify/read_through.h"

#include <fmt/core.h>

#include <map>

#include "core/value_text.h"
#include "runtime/job_runner.h"

namespace sluice::verify {

namespace {

using connectors::StreamInfo;

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

}  // namespace

// Reads one side of the comparison into `digests` with a job of its own.
Status ReadSide(const config::JobConfig& job, const connectors::ConnectorRegistry& connectors,
                const config::ConnectorBlock& source, bool with_transform,
                std::shared_ptr<DigestTarget> target, const std::string& state_dir,
                const std::atomic<bool>* stop) {
  connectors::ConnectorRegistry registry;
  registry.RegisterAll(connectors);
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

}  // namespace sluice::verify
