// PostgresSnapshotThenCdcSource (`mode: snapshot_then_cdc`): the tables read by the parallel
// chunked snapshot (PostgresSource) in the snapshot that creating the replication slot exported,
// then their changes from that slot (PostgresCdcSource), which starts exactly where the snapshot
// was taken: no change is missed or applied twice at the handover, and no lock is held.
//
// Both parts deliver the same changelog streams: the snapshot's rows are inserts (applied as
// upserts by key). The slot's split is handed out only once every snapshot split is done and
// acknowledged (its rows committed by the sink), so a change never reaches the target before
// the snapshot row it changes, whatever the parallelism and across resumes.
//
// A run resumed during the snapshot phase reads the chunks left in a new snapshot (the exported
// one died with the crashed run); the slot still starts at the first snapshot's point, so
// changes made in between are applied again on top of rows that already hold them: apply
// targets end in the source's state, and changelog targets (Kafka, files) may see such a change
// twice. A resume in the streaming phase repeats nothing.
//
// Thread-safety: as Source.
#pragma once

#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "config/options.h"
#include "connectors/api.h"
#include "connectors/postgres/postgres_options.h"

namespace sluice::connectors::postgres {

class PostgresSource;
class PostgresCdcSource;

class PostgresSnapshotThenCdcSource final : public Source {
 public:
  PostgresSnapshotThenCdcSource(PostgresSourceOptions options, config::Options config);
  ~PostgresSnapshotThenCdcSource() override;

  Status Open(const JobContext& context) override;
  const std::vector<StreamInfo>& streams() const override;
  bool bounded() const override { return false; }
  Result<std::unique_ptr<SplitEnumerator>> CreateEnumerator() override;
  Result<std::unique_ptr<SplitEnumerator>> ResumeEnumerator(
      const std::vector<Split>& planned) override;
  Result<std::unique_ptr<SplitReader>> CreateReader(const Split& split,
                                                    const std::string& position) override;
  void Describe(CheckReport* report) const override;
  Status Acknowledge(uint64_t checkpoint, const std::vector<SplitProgress>& progress) override;

  /// Shared with the enumerator: which snapshot splits are out and not yet done.
  struct Handover;

 private:
  Result<std::unique_ptr<SplitEnumerator>> Enumerator(
      Result<std::unique_ptr<SplitEnumerator>> snapshot, const std::vector<Split>& planned);

  const ConnectionOptions connection_;
  const JobContext* job_ = nullptr;
  JobContext snapshot_context_;  // the job's, with offer_split noting cut splits
  std::unique_ptr<PostgresSource> snapshot_;
  std::unique_ptr<PostgresCdcSource> changes_;
  std::shared_ptr<Handover> handover_;
};

}  // namespace sluice::connectors::postgres
