// SqliteSource: reads tables of an existing SQLite database file, one stream per table.
//
// Open() discovers the tables (by name or glob), their schemas (PRAGMA table_xinfo through the
// type mapping in sqlite_types.h) and rowid bounds. Splits are rowid ranges of about
// `split_rows` rowids, read in rowid order by readers that each open their own read-only
// connection; a WITHOUT ROWID table (or a view) is one split ordered by its primary key.
// Positions are {"rowid": <last rowid returned>} ({"offset": <rows returned>} for the
// single-split tables), so a reopened split continues with the next row.
//
// Thread-safety: Open, streams and CreateEnumerator run on the coordinator thread;
// CreateReader may be called from any thread after Open. Each reader is driven by one thread,
// except SplitRemainder and Cancel, which are thread-safe.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "config/options.h"
#include "connectors/api.h"
#include "connectors/sqlite/sqlite_client.h"
#include "connectors/sqlite/sqlite_options.h"

namespace sluice::connectors::sqlite {

class SqliteSource final : public Source {
 public:
  /// `config` is kept to point config errors found at Open (an unknown column) at the job file.
  SqliteSource(SqliteSourceOptions options, config::Options config);
  ~SqliteSource() override;

  Status Open(const JobContext& context) override;
  const std::vector<StreamInfo>& streams() const override { return streams_; }
  Result<std::unique_ptr<SplitEnumerator>> CreateEnumerator() override;
  Result<std::unique_ptr<SplitReader>> CreateReader(const Split& split,
                                                    const std::string& position) override;
  void Describe(CheckReport* report) const override;

  /// What a reader needs to know about its table, fixed at Open.
  struct Table;

 private:
  Status OpenTable(Connection& db, const std::string& name);

  SqliteSourceOptions options_;
  config::Options config_;
  JobContext context_;
  std::vector<StreamInfo> streams_;
  std::vector<std::shared_ptr<const Table>> tables_;  // parallel to streams_
};

}  // namespace sluice::connectors::sqlite
