// Test helpers for the mysql connector: a database per test on the real MariaDB, sources and
// sinks built from YAML option text through the registry, drivers that read every split or run a
// whole job, and rows as comparable text. Test-only; not thread-safe unless stated.
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "connectors/api.h"
#include "connectors/registry.h"
#include "core/batch.h"
#include "runtime/job_runner.h"
#include "testing/bad_records.h"
#include "testing/test_servers.h"

namespace sluice::connectors::mysql::testing {

/// One value as text: canonical text (floats: plus "#" and their bits in hex, so that -0.0 and
/// every NaN compare exactly); nullopt for NULL.
using Cell = std::optional<std::string>;
using Row = std::vector<Cell>;

Cell CellOf(const Column& column, size_t row);
Row RowOf(const Batch& batch, size_t row);

using sluice::testing::RecordAndFail;
using sluice::testing::RecordAndSkip;

/// A JobContext over `handler`; never cancelled unless `cancelled` is given.
inline JobContext MakeContext(BadRecordHandler* handler, int parallelism = 1,
                              const std::atomic<bool>* cancelled = nullptr,
                              size_t batch_rows = Batch::kDefaultCapacity) {
  return sluice::testing::MakeTestContext(handler, cancelled, parallelism, batch_rows);
}

/// The registry with the mysql (and datagen) connectors.
const ConnectorRegistry& Registry();

/// Builds a source/sink of type mysql from YAML option text through the registry.
Result<std::unique_ptr<Source>> MakeSource(const std::string& yaml);
Result<std::unique_ptr<Sink>> MakeSink(const std::string& yaml);

/// A database of its own for the running test: `sluice_test_<suite>_<test>` (lower case),
/// created empty at construction and dropped at destruction. `suffix` gives a test a second one.
class TestDatabase {
 public:
  explicit TestDatabase(const std::string& suffix = "");
  ~TestDatabase();
  TestDatabase(const TestDatabase&) = delete;
  TestDatabase& operator=(const TestDatabase&) = delete;

  /// False when the servers are not available (the test should skip).
  bool ok() const { return ok_; }
  const std::string& name() const { return name_; }
  const sluice::testing::TestServers& servers() const { return servers_; }

  /// Runs SQL in this database through the mariadb client; fails the test on error and returns
  /// the output (tab separated, no headers).
  std::string Exec(const std::string& sql) const;
  /// Same, returning the error instead of failing.
  Result<std::string> TryExec(const std::string& sql) const;
  /// Loads a .sql file into this database.
  Status Load(const std::string& path) const;
  /// "host: ..\nport: ..\nuser: ..\npassword: ..\ndatabase: <name>\n" for source/sink YAML.
  std::string ConnectionYaml(const std::string& user = "") const;

 private:
  bool ok_ = false;
  std::string name_;
  sluice::testing::TestServers servers_;
};

/// The connection options of `db` as one line of a YAML flow map ("host: .., port: .., ...").
std::string FlowConnection(const TestDatabase& db);

/// Skips the test when the servers are not running.
#define MYSQL_TEST_DATABASE(db, ...)                                  \
  ::sluice::connectors::mysql::testing::TestDatabase db{__VA_ARGS__}; \
  if (!db.ok())                                                       \
  GTEST_SKIP() << "test servers not available (SLUICE_TEST_SERVERS_ENV)"

/// A lock on a file beside the server's data: shared by tests whose change data capture jobs
/// resume from the binlog, exclusive for a test that purges it (or changes how the server logs)
/// and would pull it from under the others' stopped jobs.
class BinlogLock {
 public:
  BinlogLock(const std::string& datadir, bool exclusive);
  ~BinlogLock();
  BinlogLock(const BinlogLock&) = delete;
  BinlogLock& operator=(const BinlogLock&) = delete;

 private:
  int fd_ = -1;
};

/// Rows read from one stream, with the split each came from.
struct ReadResult {
  std::vector<Row> rows;
  std::vector<std::string> split_ids;
  std::vector<size_t> split_rows;  // rows per split, in reading order
};

/// Plans the splits and reads them all one after the other; results by stream index.
Result<std::vector<ReadResult>> ReadAll(Source& source, size_t batch_rows = 1000);

/// Opens `sink` for `streams`, writes every batch through one writer, then Prepare, Commit and
/// Finish (or Abort everything on the first error).
Status WriteAll(Sink& sink, const JobContext& context, const std::vector<StreamInfo>& streams,
                const std::vector<const Batch*>& batches);

/// Runs a job file text with the test registry and a fresh state store.
runtime::JobSummary RunJob(const std::string& job_yaml);

/// Sorted rows of `sql` as the mariadb client prints them.
std::vector<std::string> Lines(const std::string& output);

/// Indents YAML `text` by `spaces` (to nest a connection block under source:/sink:).
std::string Indent(const std::string& text, int spaces);

}  // namespace sluice::connectors::mysql::testing
