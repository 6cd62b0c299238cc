// MysqlSnapshotThenCdcSource (`mode: snapshot_then_cdc`): the tables read by the parallel
// chunked snapshot (MysqlSource, `consistency: snapshot`), then their changes from the binary
// log (MysqlBinlogSource) starting at the position under which every reader's snapshot was
// taken: no change is missed or applied twice at the handover. The snapshot holds the global
// read lock only while the readers' transactions start (milliseconds, ConnectionPool), none
// while the tables are read; its transactions end once every chunk is committed. The handover
// (the binlog's split only after every snapshot split is committed) is
// SnapshotThenChangesSource's.
//
// The binlog must still hold the snapshot's position when the stream starts: a snapshot longer
// than the server's binlog expiry fails at the handover with what to do.
//
// A run resumed during the snapshot phase reads the chunks left in a new snapshot; the binlog
// still starts at the first snapshot's position (kept in the checkpoint's source state), so changes made in between are applied again
// on top of rows that already hold them: apply targets end in the source's state, and changelog
// targets (Kafka, files) may see such a change twice. A resume in the streaming phase repeats
// nothing.
//
// Thread-safety: as Source.
#pragma once

#include <memory>

#include "config/options.h"
#include "connectors/mysql/mysql_catalog.h"
#include "connectors/mysql/mysql_options.h"
#include "connectors/snapshot_then_changes.h"

namespace sluice::connectors::mysql {

class MysqlSource;
class MysqlBinlogSource;

class MysqlSnapshotThenCdcSource final : public SnapshotThenChangesSource {
 public:
  MysqlSnapshotThenCdcSource(const MysqlSourceOptions& options, const config::Options& config);
  ~MysqlSnapshotThenCdcSource() override;

  void Describe(CheckReport* report) const override;
  /// Where the binlog starts (the first run's snapshot position), kept in every checkpoint: the
  /// binlog's split is planned only at the handover, and a run resumed before it must start the
  /// stream where the chunks already committed were read, not where its own snapshot is.
  std::string CheckpointState() const override;
  Status RestoreState(std::string_view state) override;

 private:
  MysqlSnapshotThenCdcSource(std::unique_ptr<MysqlSource> snapshot,
                             std::unique_ptr<MysqlBinlogSource> changes);
  Status OpenParts(const JobContext& context, const JobContext& snapshot_context) override;
  void EndSnapshot() override;

  BinlogCoordinates start_;           // where the binlog's split starts
  MysqlSource* const snapshot_;       // owned by the base
  MysqlBinlogSource* const changes_;  // owned by the base
};

}  // namespace sluice::connectors::mysql
