#include "connectors/postgres/postgres_snapshot_then_cdc.h"

#include "connectors/postgres/postgres_cdc_source.h"
#include "connectors/postgres/postgres_client.h"
#include "connectors/postgres/postgres_snapshot.h"
#include "connectors/postgres/postgres_source.h"

namespace sluice::connectors::postgres {

namespace {
// The id prefix of the slot's split (PostgresCdcSource).
constexpr std::string_view kSlotSplitPrefix = "slot:";
}  // namespace

PostgresSnapshotThenCdcSource::PostgresSnapshotThenCdcSource(PostgresSourceOptions options,
                                                             config::Options config)
    : PostgresSnapshotThenCdcSource(options,
                                    std::make_unique<PostgresSource>(options, config),
                                    std::make_unique<PostgresCdcSource>(options, config)) {}

PostgresSnapshotThenCdcSource::PostgresSnapshotThenCdcSource(
    PostgresSourceOptions options, std::unique_ptr<PostgresSource> snapshot,
    std::unique_ptr<PostgresCdcSource> changes)
    : SnapshotThenChangesSource(std::move(snapshot), std::move(changes),
                                std::string(kSlotSplitPrefix)),
      connection_(options.connection),
      snapshot_(static_cast<PostgresSource*>(&SnapshotThenChangesSource::snapshot())),
      changes_(static_cast<PostgresCdcSource*>(&SnapshotThenChangesSource::changes())) {}

PostgresSnapshotThenCdcSource::~PostgresSnapshotThenCdcSource() = default;

Status PostgresSnapshotThenCdcSource::OpenParts(const JobContext& context,
                                                const JobContext& snapshot_context) {
  // The slot first: on a first run its creation exports the snapshot the tables are read in.
  SLUICE_RETURN_IF_ERROR(changes_->Open(context));
  if (std::unique_ptr<PgConnection> holder = changes_->TakeSnapshotHolder()) {
    snapshot_->UseSession(ReadSession::Adopt(connection_, std::move(holder),
                                             changes_->exported_snapshot(),
                                             changes_->consistent_point()));
  }
  return snapshot_->Open(snapshot_context);
}

void PostgresSnapshotThenCdcSource::EndSnapshot() {
  snapshot_->EndSnapshot();
}

void PostgresSnapshotThenCdcSource::Describe(CheckReport* report) const {
  report->Note("reads the tables in the snapshot the replication slot's creation exports, then "
               "streams their changes from the slot");
  changes_->Describe(report);
}

}  // namespace sluice::connectors::postgres
