// PostgresSource: reads tables of a PostgreSQL database, one stream per table.
//
// Open() exports the job's snapshot (see postgres_snapshot.h), resolves the tables (names or
// globs) and describes them from pg_catalog: columns through the type mapping in
// postgres_types.h, the key (primary key, else the first unique index on NOT NULL columns, else
// none), the row estimate. Chunks come from sql::KeyChunkEnumerator, planned lazily on the
// planner connection from the real key distribution; each chunk is read by sql::KeysetReader
// page by page through a PgKeysetCursor that runs
//   COPY (SELECT ... WHERE <range> AND (<where>) ORDER BY <key> LIMIT <page_rows>)
//     TO STDOUT (FORMAT binary)
// and decodes the binary tuples straight into the batch. A table without a key is one split
// read by a single full scan. Readers borrow their connection from a pool of `parallelism`
// connections (all in the snapshot) and give it back when destroyed.
//
// Thread-safety: Open, streams, CreateEnumerator and Describe run on the coordinator thread;
// CreateReader may be called from any thread after Open. Each reader is driven by one thread,
// except SplitRemainder, Progress and Cancel, which are thread-safe.
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "config/options.h"
#include "connectors/api.h"
#include "connectors/postgres/postgres_options.h"

namespace sluice::connectors::postgres {

class ReadSession;
class ConnectionPool;
class PgConnection;
class CutNames;
struct SourceTable;

class PostgresSource final : public Source {
 public:
  /// `config` is kept to point errors found at Open (an unknown column) at the job file.
  PostgresSource(PostgresSourceOptions options, config::Options config);
  ~PostgresSource() override;

  /// Reads in `session` instead of exporting a snapshot of its own (call before Open): the
  /// snapshot a replication slot's creation exported, so that its changes continue it exactly.
  void UseSession(std::shared_ptr<ReadSession> session);

  /// Keeps a pointer to `context`, which must outlive the source (the runtime sets its
  /// offer_split after Open).
  Status Open(const JobContext& context) override;
  const std::vector<StreamInfo>& streams() const override { return streams_; }
  Result<std::unique_ptr<SplitEnumerator>> CreateEnumerator() override;
  Result<std::unique_ptr<SplitEnumerator>> ResumeEnumerator(
      const std::vector<Split>& planned) override;
  Result<std::unique_ptr<SplitReader>> CreateReader(const Split& split,
                                                    const std::string& position) override;
  void Describe(CheckReport* report) const override;
  StoreDigester* digester() override;

  /// Ends the snapshot's transactions (the pool's idle connections, the planner's, the
  /// coordinator's) once nothing will read in it again; a split read after fails.
  void EndSnapshot();

  /// The consistency in force after Open (per_split when exporting the snapshot failed).
  Consistency consistency() const;
  /// The WAL LSN the snapshot was taken at ("" without a snapshot): where change data capture
  /// will start.
  std::string snapshot_lsn() const;

 private:
  Status AddTable(PgConnection& conn, const std::string& schema, const std::string& name,
                  bool validate_utf8);
  // The context readers get: the job's, with offer_split renaming cuts through cut_names_.
  const JobContext* ReaderContext();

  PostgresSourceOptions options_;
  config::Options config_;
  const JobContext* context_ = nullptr;
  std::string component_;
  std::shared_ptr<const ReadSession> session_;
  std::shared_ptr<ConnectionPool> pool_;
  std::shared_ptr<PgConnection> planner_;  // catalog and chunk boundaries, in the snapshot
  std::vector<StreamInfo> streams_;
  std::vector<std::shared_ptr<const SourceTable>> tables_;  // parallel to streams_
  std::shared_ptr<CutNames> cut_names_;
  std::mutex reader_context_mutex_;
  std::unique_ptr<JobContext> reader_context_;  // guarded by reader_context_mutex_; set once
  std::unique_ptr<StoreDigester> digester_;     // made on first use
};

}  // namespace sluice::connectors::postgres
