// PostgresCdcSource (`mode: cdc`): the changes of tables streamed from a logical replication
// slot (pgoutput) as changelog rows, until the job stops.
//
// Open() resolves the tables like the snapshot source, checks that each can be applied by key
// (a primary key, REPLICA IDENTITY not NOTHING), creates the publication (or adds the tables it
// lacks) and the slot when missing. The whole slot is one split carrying every table's stream in
// commit order (SplitReader::NextStream). Values arrive as text and are parsed into the same
// logical types the snapshot source reads.
//
// Positions: {"commit": LSN of the last transaction whose rows were all returned, "end": the end
// of its commit record, "txn"/"rows": the transaction being returned and how many of its changes
// were}. A resumed reader restarts the slot from "end" and skips what the position covers, so
// that a checkpoint taken inside a transaction resumes inside it. The slot's confirmed LSN moves
// only on Acknowledge (a checkpoint made durable), and, while no captured change is waiting, to
// the server's WAL end on keepalives, so that an idle publication holds no WAL.
//
// Thread-safety: as Source; the reader is driven by one thread, Lag and Cancel from any.
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "config/options.h"
#include "connectors/api.h"
#include "connectors/postgres/postgres_options.h"

namespace sluice::connectors::postgres {

class PgConnection;
struct CdcTable;
struct CdcShared;

class PostgresCdcSource final : public Source {
 public:
  PostgresCdcSource(PostgresSourceOptions options, config::Options config);
  ~PostgresCdcSource() override;

  Status Open(const JobContext& context) override;
  const std::vector<StreamInfo>& streams() const override { return streams_; }
  bool bounded() const override { return false; }
  Result<std::unique_ptr<SplitEnumerator>> CreateEnumerator() override;
  Result<std::unique_ptr<SplitReader>> CreateReader(const Split& split,
                                                    const std::string& position) override;
  void Describe(CheckReport* report) const override;
  Status Acknowledge(uint64_t checkpoint, const std::vector<SplitProgress>& progress) override;

  const std::string& slot() const { return slot_; }
  const std::string& publication() const { return publication_; }

  /// snapshot_then_cdc, first run: the snapshot the slot's creation exported, the LSN the slot
  /// starts at, and the connection that keeps the snapshot alive (taken once; null otherwise).
  std::unique_ptr<PgConnection> TakeSnapshotHolder();
  const std::string& exported_snapshot() const { return exported_snapshot_; }
  const std::string& consistent_point() const { return consistent_point_; }

 private:
  Status AddTable(const std::string& schema, const std::string& name);
  Status EnsurePublication();
  Status EnsureSlot();
  // Drops the job's slot if it exists, then creates it exporting its snapshot.
  Status CreateSlotWithSnapshot();
  // Warns once the slot holds back more WAL than slot_wal_warn_mb.
  void CheckRetainedWal();

  PostgresSourceOptions options_;
  config::Options config_;
  const JobContext* context_ = nullptr;
  std::string component_;
  std::string slot_;
  std::string publication_;
  std::unique_ptr<PgConnection> control_;  // catalog, publication, slot: coordinator thread
  std::vector<StreamInfo> streams_;
  std::vector<std::shared_ptr<const CdcTable>> tables_;  // parallel to streams_
  std::shared_ptr<CdcShared> shared_;
  bool wal_warned_ = false;
  std::unique_ptr<PgConnection> snapshot_holder_;
  std::string exported_snapshot_;
  std::string consistent_point_;
};

}  // namespace sluice::connectors::postgres
