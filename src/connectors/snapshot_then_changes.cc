#include "connectors/snapshot_then_changes.h"

#include <algorithm>
#include <functional>
#include <mutex>
#include <optional>
#include <set>

namespace sluice::connectors {

struct SnapshotThenChangesSource::Handover {
  std::mutex mutex;
  std::set<std::string> outstanding;  // snapshot splits out (or left by a run), not yet done
  int planning = 0;                   // Next calls between the snapshot's Next and `outstanding`
  bool snapshot_planned = false;      // the snapshot's enumerator ran dry
  std::optional<Split> stream;        // the change stream's split, until handed out
  std::function<void()> wake;
  bool snapshot_ended = false;        // EndSnapshot was called

  bool Complete() const { return snapshot_planned && planning == 0 && outstanding.empty(); }
};

namespace {

using Handover = SnapshotThenChangesSource::Handover;

// Hands out the snapshot's splits, then the change stream's once the snapshot is complete.
class HandoverEnumerator final : public SplitEnumerator {
 public:
  HandoverEnumerator(std::unique_ptr<SplitEnumerator> snapshot,
                     std::shared_ptr<Handover> handover,
                     std::function<bool(const std::string&)> is_changes_split)
      : snapshot_(std::move(snapshot)),
        handover_(std::move(handover)),
        is_changes_split_(std::move(is_changes_split)) {}

  Result<std::optional<Split>> Next() override {
    {
      std::lock_guard<std::mutex> lock(handover_->mutex);
      if (handover_->snapshot_planned)
        return TakeStream();
      ++handover_->planning;
    }
    // Outside the lock: planning a chunk may query the server.
    Result<std::optional<Split>> next = snapshot_->Next();
    std::lock_guard<std::mutex> lock(handover_->mutex);
    --handover_->planning;
    if (!next.ok())
      return next;
    if (next->has_value()) {
      handover_->outstanding.insert((*next)->id);
      return next;
    }
    handover_->snapshot_planned = true;
    return TakeStream();
  }

  void Add(Split split) override {
    if (is_changes_split_(split.id)) {
      std::lock_guard<std::mutex> lock(handover_->mutex);
      handover_->stream = std::move(split);
      return;
    }
    {
      std::lock_guard<std::mutex> lock(handover_->mutex);
      handover_->snapshot_planned = false;
    }
    snapshot_->Add(std::move(split));
  }

  // At least one while the snapshot's enumerator has not run dry: it plans lazily (its own
  // pending() may be 0 with chunks still to plan), and an unbounded source's readers ask for
  // work only while some is pending; asking is also what tells the handover it ran dry.
  size_t pending() const override {
    std::lock_guard<std::mutex> lock(handover_->mutex);
    if (!handover_->snapshot_planned)
      return std::max<size_t>(1, snapshot_->pending());
    return handover_->stream && handover_->Complete() ? 1 : 0;
  }

  void SetWakeup(std::function<void()> wake) override {
    std::lock_guard<std::mutex> lock(handover_->mutex);
    handover_->wake = std::move(wake);
  }

 private:
  // Under the lock.
  std::optional<Split> TakeStream() {
    if (!handover_->Complete() || !handover_->stream)
      return std::nullopt;
    std::optional<Split> out = std::move(handover_->stream);
    handover_->stream.reset();
    return out;
  }

  std::unique_ptr<SplitEnumerator> snapshot_;
  std::shared_ptr<Handover> handover_;
  std::function<bool(const std::string&)> is_changes_split_;
};

}  // namespace

SnapshotThenChangesSource::SnapshotThenChangesSource(std::unique_ptr<Source> snapshot,
                                                     std::unique_ptr<Source> changes,
                                                     std::string changes_split_prefix)
    : changes_prefix_(std::move(changes_split_prefix)),
      snapshot_(std::move(snapshot)),
      changes_(std::move(changes)),
      handover_(std::make_shared<Handover>()) {}

SnapshotThenChangesSource::~SnapshotThenChangesSource() = default;

Status SnapshotThenChangesSource::Open(const JobContext& context) {
  job_ = &context;
  snapshot_context_ = context;
  std::shared_ptr<Handover> handover = handover_;
  const JobContext* job = job_;
  snapshot_context_.offer_split = [job, handover](const std::string& from, Split cut) {
    {
      std::lock_guard<std::mutex> lock(handover->mutex);
      handover->outstanding.insert(cut.id);
    }
    if (job->offer_split)
      job->offer_split(from, std::move(cut));
  };
  SLUICE_RETURN_IF_ERROR(OpenParts(context, snapshot_context_));
  const std::vector<StreamInfo>& read = snapshot_->streams();
  const std::vector<StreamInfo>& changed = changes_->streams();
  bool same = read.size() == changed.size();
  for (size_t i = 0; same && i < read.size(); ++i)
    same = read[i].name == changed[i].name && *read[i].schema == *changed[i].schema;
  if (!same) {
    return Internal("the snapshot and the change stream describe the tables differently (a "
                    "table changed while the job started?)");
  }
  return Status::OK();
}

Result<std::unique_ptr<SplitEnumerator>> SnapshotThenChangesSource::Enumerator(
    Result<std::unique_ptr<SplitEnumerator>> snapshot, const std::vector<Split>& planned) {
  if (!snapshot.ok())
    return snapshot.status();
  SLUICE_ASSIGN_OR_RETURN(std::unique_ptr<SplitEnumerator> stream, changes_->CreateEnumerator());
  SLUICE_ASSIGN_OR_RETURN(std::optional<Split> stream_split, stream->Next());
  std::lock_guard<std::mutex> lock(handover_->mutex);
  bool stream_planned = false;
  for (const Split& split : planned) {
    if (IsChangesSplit(split.id))
      stream_planned = true;
    else
      handover_->outstanding.insert(split.id);  // until acknowledged done
  }
  if (!stream_planned)
    handover_->stream = std::move(stream_split);
  // Fields the runtime fills in after Open.
  auto offer_split = std::move(snapshot_context_.offer_split);
  snapshot_context_ = *job_;
  snapshot_context_.offer_split = std::move(offer_split);
  return std::unique_ptr<SplitEnumerator>(new HandoverEnumerator(
      std::move(*snapshot), handover_,
      [this](const std::string& id) { return IsChangesSplit(id); }));
}

Result<std::unique_ptr<SplitEnumerator>> SnapshotThenChangesSource::CreateEnumerator() {
  return Enumerator(snapshot_->CreateEnumerator(), {});
}

Result<std::unique_ptr<SplitEnumerator>> SnapshotThenChangesSource::ResumeEnumerator(
    const std::vector<Split>& planned) {
  std::vector<Split> snapshot_planned;
  for (const Split& split : planned) {
    if (!IsChangesSplit(split.id))
      snapshot_planned.push_back(split);
  }
  return Enumerator(snapshot_->ResumeEnumerator(snapshot_planned), planned);
}

Result<std::unique_ptr<SplitReader>> SnapshotThenChangesSource::CreateReader(
    const Split& split, const std::string& position) {
  if (IsChangesSplit(split.id))
    return changes_->CreateReader(split, position);
  return snapshot_->CreateReader(split, position);
}

Status SnapshotThenChangesSource::Acknowledge(uint64_t checkpoint,
                                              const std::vector<SplitProgress>& progress) {
  std::function<void()> wake;
  bool end_snapshot = false;
  {
    std::lock_guard<std::mutex> lock(handover_->mutex);
    bool was_complete = handover_->Complete();
    for (const SplitProgress& split : progress) {
      if (split.done && !IsChangesSplit(split.split_id))
        handover_->outstanding.erase(split.split_id);
    }
    if (!was_complete && handover_->Complete() && handover_->stream)
      wake = handover_->wake;
    if (handover_->Complete() && !handover_->snapshot_ended) {
      handover_->snapshot_ended = true;
      end_snapshot = true;
    }
  }
  if (end_snapshot)
    EndSnapshot();  // no snapshot split is left to read: nothing reads the snapshot any more
  if (wake)
    wake();  // the change stream's split is ready for an idle reader
  return changes_->Acknowledge(checkpoint, progress);
}

}  // namespace sluice::connectors
