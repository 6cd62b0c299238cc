#include "connectors/postgres/postgres_snapshot_then_cdc.h"

#include <fmt/core.h>

#include <algorithm>

#include "connectors/postgres/postgres_cdc_source.h"
#include "connectors/postgres/postgres_client.h"
#include "connectors/postgres/postgres_snapshot.h"
#include "connectors/postgres/postgres_source.h"

namespace sluice::connectors::postgres {

namespace {
constexpr std::string_view kSlotSplitPrefix = "slot:";

bool IsSlotSplit(const std::string& id) {
  return id.starts_with(kSlotSplitPrefix);
}
}  // namespace

struct PostgresSnapshotThenCdcSource::Handover {
  std::mutex mutex;
  std::set<std::string> outstanding;  // snapshot splits out (or left by a run), not yet done
  int planning = 0;                   // Next calls between the snapshot's Next and `outstanding`
  bool snapshot_planned = false;      // the snapshot's enumerator ran dry
  std::optional<Split> stream;        // the slot's split, until handed out
  std::function<void()> wake;

  bool Complete() const { return snapshot_planned && planning == 0 && outstanding.empty(); }
};

namespace {

// Hands out the snapshot's splits, then the slot's once the snapshot is complete.
class HandoverEnumerator final : public SplitEnumerator {
 public:
  HandoverEnumerator(std::unique_ptr<SplitEnumerator> snapshot,
                     std::shared_ptr<PostgresSnapshotThenCdcSource::Handover> handover)
      : snapshot_(std::move(snapshot)), handover_(std::move(handover)) {}

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
    if (IsSlotSplit(split.id)) {
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
  std::shared_ptr<PostgresSnapshotThenCdcSource::Handover> handover_;
};

}  // namespace

PostgresSnapshotThenCdcSource::PostgresSnapshotThenCdcSource(PostgresSourceOptions options,
                                                             config::Options config)
    : connection_(options.connection),
      snapshot_(std::make_unique<PostgresSource>(options, config)),
      changes_(std::make_unique<PostgresCdcSource>(options, config)),
      handover_(std::make_shared<Handover>()) {}

PostgresSnapshotThenCdcSource::~PostgresSnapshotThenCdcSource() = default;

const std::vector<StreamInfo>& PostgresSnapshotThenCdcSource::streams() const {
  return changes_->streams();
}

Status PostgresSnapshotThenCdcSource::Open(const JobContext& context) {
  job_ = &context;
  // The slot first: on a first run its creation exports the snapshot the tables are read in.
  SLUICE_RETURN_IF_ERROR(changes_->Open(context));
  if (std::unique_ptr<PgConnection> holder = changes_->TakeSnapshotHolder()) {
    snapshot_->UseSession(ReadSession::Adopt(connection_, std::move(holder),
                                             changes_->exported_snapshot(),
                                             changes_->consistent_point()));
  }
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
  SLUICE_RETURN_IF_ERROR(snapshot_->Open(snapshot_context_));
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

Result<std::unique_ptr<SplitEnumerator>> PostgresSnapshotThenCdcSource::Enumerator(
    Result<std::unique_ptr<SplitEnumerator>> snapshot, const std::vector<Split>& planned) {
  if (!snapshot.ok())
    return snapshot.status();
  SLUICE_ASSIGN_OR_RETURN(std::unique_ptr<SplitEnumerator> stream, changes_->CreateEnumerator());
  SLUICE_ASSIGN_OR_RETURN(std::optional<Split> slot_split, stream->Next());
  std::lock_guard<std::mutex> lock(handover_->mutex);
  bool stream_planned = false;
  for (const Split& split : planned) {
    if (IsSlotSplit(split.id))
      stream_planned = true;
    else
      handover_->outstanding.insert(split.id);  // until acknowledged done
  }
  if (!stream_planned)
    handover_->stream = std::move(slot_split);
  // Fields the runtime fills in after Open.
  auto offer_split = std::move(snapshot_context_.offer_split);
  snapshot_context_ = *job_;
  snapshot_context_.offer_split = std::move(offer_split);
  return std::unique_ptr<SplitEnumerator>(
      new HandoverEnumerator(std::move(*snapshot), handover_));
}

Result<std::unique_ptr<SplitEnumerator>> PostgresSnapshotThenCdcSource::CreateEnumerator() {
  return Enumerator(snapshot_->CreateEnumerator(), {});
}

Result<std::unique_ptr<SplitEnumerator>> PostgresSnapshotThenCdcSource::ResumeEnumerator(
    const std::vector<Split>& planned) {
  std::vector<Split> snapshot_planned;
  for (const Split& split : planned) {
    if (!IsSlotSplit(split.id))
      snapshot_planned.push_back(split);
  }
  return Enumerator(snapshot_->ResumeEnumerator(snapshot_planned), planned);
}

Result<std::unique_ptr<SplitReader>> PostgresSnapshotThenCdcSource::CreateReader(
    const Split& split, const std::string& position) {
  if (IsSlotSplit(split.id))
    return changes_->CreateReader(split, position);
  return snapshot_->CreateReader(split, position);
}

void PostgresSnapshotThenCdcSource::Describe(CheckReport* report) const {
  report->Note("reads the tables in the snapshot the replication slot's creation exports, then "
               "streams their changes from the slot");
  changes_->Describe(report);
}

Status PostgresSnapshotThenCdcSource::Acknowledge(uint64_t checkpoint,
                                                  const std::vector<SplitProgress>& progress) {
  std::function<void()> wake;
  {
    std::lock_guard<std::mutex> lock(handover_->mutex);
    bool was_complete = handover_->Complete();
    for (const SplitProgress& split : progress) {
      if (split.done && !IsSlotSplit(split.split_id))
        handover_->outstanding.erase(split.split_id);
    }
    if (!was_complete && handover_->Complete() && handover_->stream)
      wake = handover_->wake;
  }
  if (wake)
    wake();  // the slot's split is ready for an idle reader
  return changes_->Acknowledge(checkpoint, progress);
}

}  // namespace sluice::connectors::postgres
