// SnapshotThenChangesSource: a table source's snapshot, then the tables' change stream from the
// point the snapshot was taken (`mode: snapshot_then_cdc` of the SQL sources). Each database's
// subclass opens its two parts so that the stream starts exactly where the snapshot was read
// (PostgreSQL: the snapshot a replication slot's creation exports; MySQL: the binlog position
// under which every reader's snapshot was taken); this class does the handover.
//
// Both parts deliver the same changelog streams: the snapshot's rows are inserts (applied as
// upserts by key). The change stream's split is handed out only once every snapshot split is
// done and acknowledged (its rows committed by the sink), so a change never reaches the target
// before the snapshot row it changes, whatever the parallelism and across resumes. Then the
// snapshot's transactions end (EndSnapshot).
//
// Thread-safety: as Source.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "connectors/api.h"

namespace sluice::connectors {

class SnapshotThenChangesSource : public Source {
 public:
  /// Splits of `changes` have ids starting with `changes_split_prefix`; no snapshot split's does.
  SnapshotThenChangesSource(std::unique_ptr<Source> snapshot, std::unique_ptr<Source> changes,
                            std::string changes_split_prefix);
  ~SnapshotThenChangesSource() override;

  /// OpenParts, then a check that both parts describe the tables alike.
  Status Open(const JobContext& context) final;
  const std::vector<StreamInfo>& streams() const final { return changes_->streams(); }
  bool bounded() const final { return false; }
  Result<std::unique_ptr<SplitEnumerator>> CreateEnumerator() final;
  Result<std::unique_ptr<SplitEnumerator>> ResumeEnumerator(
      const std::vector<Split>& planned) final;
  Result<std::unique_ptr<SplitReader>> CreateReader(const Split& split,
                                                    const std::string& position) final;
  Status Acknowledge(uint64_t checkpoint, const std::vector<SplitProgress>& progress) final;
  /// The snapshot's chunks end; the change stream does not.
  bool SplitEnds(const Split& split) const final { return !IsChangesSplit(split.id); }

  /// Shared with the enumerator: which snapshot splits are out and not yet done.
  struct Handover;

 protected:
  /// Opens the snapshot with `snapshot_context` (the job's, noting the splits readers cut) and
  /// the change stream with `context`, in the order the database needs.
  virtual Status OpenParts(const JobContext& context, const JobContext& snapshot_context) = 0;

  /// Called once, when every snapshot split is committed: the snapshot's transactions may end
  /// (an open snapshot holds back the server's cleanup of old row versions for as long as it
  /// lives, and the change stream runs for as long as the job does).
  virtual void EndSnapshot() {}

  Source& snapshot() { return *snapshot_; }
  Source& changes() { return *changes_; }

 private:
  bool IsChangesSplit(const std::string& id) const { return id.starts_with(changes_prefix_); }
  Result<std::unique_ptr<SplitEnumerator>> Enumerator(
      Result<std::unique_ptr<SplitEnumerator>> snapshot, const std::vector<Split>& planned);

  const std::string changes_prefix_;
  const JobContext* job_ = nullptr;
  JobContext snapshot_context_;  // the job's, with offer_split noting cut splits
  std::unique_ptr<Source> snapshot_;
  std::unique_ptr<Source> changes_;
  std::shared_ptr<Handover> handover_;
};

}  // namespace sluice::connectors
