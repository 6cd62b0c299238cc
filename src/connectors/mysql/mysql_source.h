// MysqlSource: reads tables of a MySQL, MariaDB or MySQL-compatible (TiDB) database, one stream
// per table.
//
// Open() resolves `table`/`tables` (names or globs) to base tables, reads their columns from
// information_schema through the type mapping (mysql_types.h), picks each table's key (PRIMARY
// KEY, else the first UNIQUE index whose columns are all NOT NULL) and opens the connection pool
// (mysql_snapshot.h), which takes the job's consistent snapshot. Chunks come from
// sql::KeyChunkEnumerator on the pool's planner connection: boundaries from the real key
// distribution, planned lazily. Each chunk is read by sql::KeysetReader page by page through a
// MysqlCursor on a pooled reader connection (binary protocol, unbuffered), which can resume after
// the last key and cut its remainder for idle readers. A table without a usable key is one split
// read by a full scan.
//
// Thread-safety: Open, streams, CreateEnumerator and Describe run on the coordinator thread;
// CreateReader may be called from any thread after Open. Each reader is driven by one thread,
// except SplitRemainder, Progress and Cancel, which are thread-safe.
// Lifetime: the JobContext given to Open must outlive the source and its readers (its
// offer_split is set by the runtime after Open).
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "config/options.h"
#include "connectors/api.h"
#include "connectors/mysql/mysql_options.h"

namespace sluice::connectors::mysql {

class Connection;
class ConnectionPool;
struct SnapshotInfo;

class MysqlSource final : public Source {
 public:
  /// `config` is kept to point config errors found at Open (an unknown column) at the job file.
  MysqlSource(MysqlSourceOptions options, config::Options config);
  ~MysqlSource() override;

  Status Open(const JobContext& context) override;
  const std::vector<StreamInfo>& streams() const override { return streams_; }
  Result<std::unique_ptr<SplitEnumerator>> CreateEnumerator() override;
  Result<std::unique_ptr<SplitEnumerator>> ResumeEnumerator(
      const std::vector<Split>& planned) override;
  Result<std::unique_ptr<SplitReader>> CreateReader(const Split& split,
                                                    const std::string& position) override;
  void Describe(CheckReport* report) const override;
  StoreDigester* digester() override;

  /// After Open: the snapshot the readers share and the binlog position it was taken at.
  const SnapshotInfo& snapshot_info() const;
  /// Ends the snapshot's transactions once nothing will read in it again (ConnectionPool).
  void EndSnapshot();

  /// What a reader needs to know about its table, fixed at Open.
  struct Table;

 private:
  Result<std::unique_ptr<SplitEnumerator>> MakeEnumerator(const std::vector<Split>& planned);
  Result<std::shared_ptr<Table>> DescribeTable(Connection& connection, const std::string& name,
                                               std::optional<uint64_t> estimated_rows,
                                               const std::string& engine);

  MysqlSourceOptions options_;
  config::Options config_;
  const JobContext* context_ = nullptr;
  std::string component_;
  bool tidb_ = false;
  std::vector<StreamInfo> streams_;
  std::vector<std::shared_ptr<const Table>> tables_;  // parallel to streams_
  std::shared_ptr<ConnectionPool> pool_;
  std::unique_ptr<StoreDigester> digester_;  // made on first use
};

}  // namespace sluice::connectors::mysql
