#include "connectors/api.h"

#include <fmt/core.h>

#include <algorithm>
#include <atomic>
#include <mutex>
#include <set>

#include "connectors/stream_naming.h"
#include "core/value_text.h"

namespace sluice::connectors {

BadRecord RefusedRow(std::string stream, std::string location, const Batch& batch, size_t row,
                     const Status& reason) {
  BadRecord record;
  record.stream = std::move(stream);
  record.location = std::move(location);
  for (size_t c = 0; c < batch.num_columns(); ++c) {
    if (c > 0)
      record.raw += ',';
    AppendValueText(batch.column(c), row, &record.raw);
  }
  record.raw.resize(std::min<size_t>(record.raw.size(), 1024));
  record.reason = DataError(fmt::format("{}: {}", record.location, reason.message()));
  return record;
}

void AppendKeyLocation(const Batch& batch, size_t row, const std::vector<int>& key,
                       const std::vector<std::string>& names, std::string* out) {
  for (int column : key) {
    const Column& values = batch.column(static_cast<size_t>(column));
    out->push_back(' ');
    out->append(names[static_cast<size_t>(column)]);
    out->push_back('=');
    if (values.IsNull(row)) {
      out->append("NULL");
    } else {
      AppendValueText(values, row, out);
    }
  }
}

Status FencedOff(std::string_view job, std::string_view target, uint64_t mine, uint64_t current,
                 std::string_view holder) {
  return Conflict(fmt::format(
      "{}: a newer run of job '{}' (run epoch {}{}{}) has taken over this target, so this run "
      "(epoch {}) may no longer commit; it stops, and the newer run carries on",
      target, job, current, holder.empty() ? "" : ", ", holder, mine));
}

Status FreshStartWouldDuplicate(std::string_view job, std::string_view table) {
  return InvalidConfig(fmt::format(
      "--fresh would append again the rows that the interrupted run of job '{}' committed to "
      "{}, which holds rows: resume that run instead (run the job without --fresh), or empty "
      "the table first, or set mode: upsert or overwrite",
      job, table));
}

Status CommittedRowsGone(std::string_view job, std::string_view table, bool missing) {
  return NotFound(fmt::format(
      "{} {} although the interrupted run of job '{}' committed rows to it (it was {} since): "
      "resuming would load only the rest; run the job with --fresh to load it all again",
      table, missing ? "is gone" : "is empty", job, missing ? "dropped" : "emptied"));
}

namespace {

// Hands out what `inner` plans, minus the splits an earlier run already handed out.
class SkipPlannedEnumerator final : public SplitEnumerator {
 public:
  SkipPlannedEnumerator(std::unique_ptr<SplitEnumerator> inner, std::set<std::string> planned)
      : inner_(std::move(inner)), planned_(std::move(planned)) {}

  Result<std::optional<Split>> Next() override {
    while (true) {
      SLUICE_ASSIGN_OR_RETURN(std::optional<Split> split, inner_->Next());
      if (!split || planned_.count(split->id) == 0)
        return split;
      ++skipped_;
    }
  }
  void Add(Split split) override { inner_->Add(std::move(split)); }
  // Without the planned splits still ahead in the inner plan: an unbounded job's readers size
  // their share of the splits by it.
  size_t pending() const override {
    const size_t inner = inner_->pending();
    const size_t ahead = planned_.size() - std::min(planned_.size(), skipped_.load());
    return inner > ahead ? inner - ahead : 0;
  }
  void SetWakeup(std::function<void()> wake) override { inner_->SetWakeup(std::move(wake)); }

 private:
  std::unique_ptr<SplitEnumerator> inner_;
  const std::set<std::string> planned_;
  std::atomic<size_t> skipped_{0};  // planned splits the inner plan handed out and we dropped
};

}  // namespace

Result<std::unique_ptr<SplitEnumerator>> Source::ResumeEnumerator(
    const std::vector<Split>& planned) {
  SLUICE_ASSIGN_OR_RETURN(std::unique_ptr<SplitEnumerator> inner, CreateEnumerator());
  std::set<std::string> ids;
  for (const Split& split : planned)
    ids.insert(split.id);
  return std::unique_ptr<SplitEnumerator>(new SkipPlannedEnumerator(std::move(inner), ids));
}

std::string ExpandStreamName(std::string_view pattern, std::string_view stream) {
  if (pattern.empty())
    return std::string(stream);
  static constexpr std::string_view kPlaceholder = "{stream}";
  std::string out(pattern);
  for (size_t at = out.find(kPlaceholder); at != std::string::npos;
       at = out.find(kPlaceholder, at + stream.size())) {
    out.replace(at, kPlaceholder.size(), stream);
  }
  return out;
}

}  // namespace sluice::connectors
