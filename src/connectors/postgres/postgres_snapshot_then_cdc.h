// PostgresSnapshotThenCdcSource (`mode: snapshot_then_cdc`): the tables read by the parallel
// chunked snapshot (PostgresSource) in the snapshot that creating the replication slot exported,
// then their changes from that slot (PostgresCdcSource), which starts exactly where the snapshot
// was taken: no change is missed or applied twice at the handover, and no lock is held. The
// handover itself (the slot's split only after every snapshot split is committed) is
// SnapshotThenChangesSource's.
//
// A run resumed during the snapshot phase reads the chunks left in a new snapshot (the exported
// one died with the crashed run); the slot still starts at the first snapshot's point, so
// changes made in between are applied again on top of rows that already hold them: apply
// targets end in the source's state, and changelog targets (Kafka, files) may see such a change
// twice. A resume in the streaming phase repeats nothing.
//
// Thread-safety: as Source.
#pragma once

#include "config/options.h"
#include "connectors/postgres/postgres_options.h"
#include "connectors/snapshot_then_changes.h"

namespace sluice::connectors::postgres {

class PostgresSource;
class PostgresCdcSource;

class PostgresSnapshotThenCdcSource final : public SnapshotThenChangesSource {
 public:
  PostgresSnapshotThenCdcSource(PostgresSourceOptions options, config::Options config);
  ~PostgresSnapshotThenCdcSource() override;

  void Describe(CheckReport* report) const override;

 private:
  PostgresSnapshotThenCdcSource(PostgresSourceOptions options,
                                std::unique_ptr<PostgresSource> snapshot,
                                std::unique_ptr<PostgresCdcSource> changes);
  Status OpenParts(const JobContext& context, const JobContext& snapshot_context) override;
  void EndSnapshot() override;

  const ConnectionOptions connection_;
  PostgresSource* const snapshot_;     // owned by the base
  PostgresCdcSource* const changes_;   // owned by the base
};

}  // namespace sluice::connectors::postgres
