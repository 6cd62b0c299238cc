// Test helpers for the postgres connector: a database per test on the real server
// (scripts/test-servers.sh), sources and sinks built from YAML option text, drivers that plan and
// read every split or write batches through writers, and a job runner over the registry.
// Test-only; not thread-safe unless stated.
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "connectors/api.h"
#include "runtime/job_runner.h"
#include "testing/bad_records.h"
#include "testing/memory_connector.h"
#include "testing/test_servers.h"

namespace sluice::connectors::postgres::testing {

using sluice::testing::Row;

/// The servers from $SLUICE_TEST_SERVERS_ENV; fails the test when they are not running.
const sluice::testing::TestServers& Servers();

/// A database created for one test and dropped (WITH (FORCE)) when destroyed.
class TestDatabase {
 public:
  /// `name` gets the process id appended so that concurrent test binaries never collide.
  /// `options` go after CREATE DATABASE ... (e.g. "ENCODING 'SQL_ASCII' TEMPLATE template0").
  explicit TestDatabase(const std::string& name, const std::string& options = "");
  ~TestDatabase();
  TestDatabase(const TestDatabase&) = delete;
  TestDatabase& operator=(const TestDatabase&) = delete;

  const std::string& name() const { return name_; }
  /// Runs SQL through psql; fails the test (and returns "") on error.
  std::string Exec(const std::string& sql) const;
  /// Runs SQL through psql and returns the result (errors are returned, not failed).
  Result<std::string> TryExec(const std::string& sql) const;
  /// YAML option lines "host: ...\nport: ...\nuser: ...\npassword: ...\ndatabase: ...\n".
  std::string ConnectionYaml(const std::string& user = "") const;

 private:
  std::string name_;
};

using sluice::testing::RecordingBadRecords;

/// A context over `handler`; offered splits are appended to `offered` when given.
inline JobContext MakeContext(BadRecordHandler* handler, const std::atomic<bool>* cancelled,
                              int parallelism = 2, size_t batch_rows = 1000) {
  return sluice::testing::MakeTestContext(handler, cancelled, parallelism, batch_rows);
}

Result<std::unique_ptr<Source>> MakeSource(const std::string& yaml);
Result<std::unique_ptr<Sink>> MakeSink(const std::string& yaml);

struct StreamRows {
  std::vector<Row> rows;
  std::vector<std::string> split_ids;  // one per row
};

/// Plans every split (context.offer_split cuts are read too) and reads them one after the
/// other; rows grouped by stream index. The source must be open.
Result<std::vector<StreamRows>> ReadAll(Source& source, JobContext& context,
                                        size_t batch_rows = 1000);

/// Opens `sink`, writes `batches` through writer 0, then Prepare, Commit and Finish.
Status WriteAll(Sink& sink, const JobContext& context, const std::vector<StreamInfo>& streams,
                const std::vector<const Batch*>& batches);

/// Runs a job (YAML text of the whole job file) with the postgres connector registered.
runtime::JobSummary RunJob(const std::string& yaml);

/// `SELECT <columns> FROM <table> ORDER BY <order>` through psql: the server's own text of
/// every value, tab separated, one line per row.
std::string Dump(const TestDatabase& db, const std::string& table, const std::string& order,
                 const std::string& columns = "*");

}  // namespace sluice::connectors::postgres::testing
