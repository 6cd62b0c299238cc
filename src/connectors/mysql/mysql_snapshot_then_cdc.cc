#include "connectors/mysql/mysql_snapshot_then_cdc.h"

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include "connectors/mysql/mysql_binlog_source.h"
#include "connectors/mysql/mysql_snapshot.h"
#include "connectors/mysql/mysql_source.h"

namespace sluice::connectors::mysql {

MysqlSnapshotThenCdcSource::MysqlSnapshotThenCdcSource(const MysqlSourceOptions& options,
                                                       const config::Options& config)
    : MysqlSnapshotThenCdcSource(std::make_unique<MysqlSource>(options, config),
                                 std::make_unique<MysqlBinlogSource>(options, config)) {}

MysqlSnapshotThenCdcSource::MysqlSnapshotThenCdcSource(
    std::unique_ptr<MysqlSource> snapshot, std::unique_ptr<MysqlBinlogSource> changes)
    : SnapshotThenChangesSource(std::move(snapshot), std::move(changes),
                                std::string(kBinlogSplitPrefix)),
      snapshot_(static_cast<MysqlSource*>(&SnapshotThenChangesSource::snapshot())),
      changes_(static_cast<MysqlBinlogSource*>(&SnapshotThenChangesSource::changes())) {}

MysqlSnapshotThenCdcSource::~MysqlSnapshotThenCdcSource() = default;

Status MysqlSnapshotThenCdcSource::OpenParts(const JobContext& context,
                                             const JobContext& snapshot_context) {
  // The stream's checks first (log_bin, ROW, full images, keys): a server that cannot stream
  // fails before the snapshot takes its lock.
  SLUICE_RETURN_IF_ERROR(changes_->Open(context));
  SLUICE_RETURN_IF_ERROR(snapshot_->Open(snapshot_context));
  const SnapshotInfo& snapshot = snapshot_->snapshot_info();
  if (!snapshot.consistent || snapshot.binlog_file.empty()) {
    return PermissionDenied(
        "mode: snapshot_then_cdc needs one snapshot of every table and the binlog position it "
        "was taken at, which needs the RELOAD privilege (FLUSH TABLES WITH READ LOCK, held for "
        "milliseconds) and REPLICATION CLIENT: grant them to the job's user");
  }
  // A resumed run's start comes from its checkpoint (RestoreState, after Open).
  start_ = BinlogCoordinates{snapshot.binlog_file, snapshot.binlog_position, snapshot.gtid};
  changes_->StartAt(start_);
  return Status::OK();
}

std::string MysqlSnapshotThenCdcSource::CheckpointState() const {
  return nlohmann::json{{"binlog_start", {{"file", start_.file}, {"pos", start_.position},
                                          {"gtid", start_.gtid}}}}
      .dump();
}

Status MysqlSnapshotThenCdcSource::RestoreState(std::string_view state) {
  if (state.empty())
    return Status::OK();  // a checkpoint written before this state existed: nothing to restore
  try {
    const nlohmann::json json = nlohmann::json::parse(state);
    const nlohmann::json& start = json.at("binlog_start");
    start_ = BinlogCoordinates{start.at("file").get<std::string>(),
                               start.at("pos").get<uint64_t>(),
                               start.value("gtid", std::string())};
  } catch (const std::exception& error) {
    return Internal(fmt::format("the checkpoint's binlog start '{}' is unreadable: {}", state,
                                error.what()));
  }
  changes_->StartAt(start_);
  return Status::OK();
}

void MysqlSnapshotThenCdcSource::EndSnapshot() {
  snapshot_->EndSnapshot();
}

void MysqlSnapshotThenCdcSource::Describe(CheckReport* report) const {
  report->Note("reads the tables in one consistent snapshot, then streams their changes from "
               "the binlog position the snapshot was taken at");
  snapshot_->Describe(report);
  changes_->Describe(report);
}

}  // namespace sluice::connectors::mysql
