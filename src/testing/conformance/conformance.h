// The connector conformance suite: one parameterized GoogleTest suite for sinks and one for
// sources, which every connector joins with a few lines in its tests folder, so that each
// guarantee the runtime promises (docs/ARCHITECTURE.md) is tested the same way everywhere:
//
//   - a job stopped mid-way (StopAtBatch) and resumed writes every row exactly once;
//   - kill -9 at every commit step (RunCrashLoop: the runtime's failpoints and the connector's
//     own) and a final run end with every row exactly once;
//   - a crash just before or after Sink::Finish, then a resumed run, publishes nothing twice;
//   - at_least_once delivers every row and stores no progress in the target;
//   - --fresh forgets an interrupted run (or refuses, saying why, where that would duplicate);
//   - bad records under each `errors:` policy (fail, skip, dead_letter, max_count);
//   - a stop while a read (or a write) is blocked in the store ends the job promptly;
//   - `sluice verify` finds a completed job's target identical to its source;
//   - empty input.
//
// Unbounded sources (Kafka, change data capture) have cases of their own (StreamConformanceTest),
// whose jobs run until stopped as a streaming job does:
//   - the job keeps running once it delivered what was there, and rows added while it runs
//     arrive (ConformanceStore::AppendRows);
//   - a stop (the job's stop token, the path SIGINT and SIGTERM take) ends it interrupted after a
//     final checkpoint, and a run resumed after it, with rows added meanwhile, delivers every row
//     exactly once;
//   - kill -9 at every commit step (the crash loop, without the points around Sink::Finish,
//     which a stream never reaches), then a resumed run stopped once every row arrived: every
//     row exactly once;
//   - Source::Acknowledge only after a checkpoint is durable: after each kill the positions the
//     store was told it may forget (a consumer group's committed offsets) are never ahead of
//     the progress the sink committed, and after a stop they equal it; a run resumed after a
//     kill between a checkpoint's record and its acknowledgement acknowledges it, although no
//     split moves again.
//
// Sinks are fed by the memory source (testing/memory_connector.h); sources feed a SQLite sink,
// whose exactly-once commits survive the forked children of the crash loop. What a sink holds is
// read back through the source its connector registers for `sluice verify`
// (ConnectorInfo::read_back), so a sink joins by saying how to write a fresh target.
//
// To join (see src/connectors/README.md, "The conformance suite"):
//
//   INSTANTIATE_TEST_SUITE_P(Sqlite, SinkConformanceTest,
//                            ::testing::Values(SqliteSinkUnderTest()), ConformanceName());
//
// and link the test binary with `sluice_conformance`. Test-only; each case runs on the test's
// main thread (the crash loop forks).
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

#include "connectors/registry.h"
#include "core/result.h"
#include "testing/memory_connector.h"
#include "testing/temp_dir.h"

namespace sluice::testing::conformance {

/// The stream every case moves, "orders": id int64 NOT NULL (1, 2, ... unique), name string
/// (NULL every 7th row, some with quotes, commas, newlines and non-ASCII), amount string (a
/// decimal's canonical text such as "12.05", NULL every 5th row). Without a primary key, so that
/// a row delivered twice shows up twice.
SchemaPtr OrdersSchema();
/// Rows of OrdersSchema() with ids [first_id, first_id + count).
std::vector<Row> OrdersRows(size_t count, int64_t first_id = 1);

/// How a sink writes a fresh target.
enum class WriteMode { kAppend, kOverwrite };

/// A split's acknowledged positions (Source::Acknowledge), by split id, each as the number of
/// the split's rows before it (ConformanceStore::PositionIndex).
using AcknowledgedPositions = std::map<std::string, int64_t>;

/// One fresh place for one test case (a temporary directory, a database): made before the
/// case, destroyed after it. Every target name the suite passes is fresh within it
/// ([a-z][a-z0-9_]*).
class ConformanceStore {
 public:
  virtual ~ConformanceStore() = default;

  /// Sinks: the `sink:` block, a YAML flow map with `type:` ("{type: sqlite, path: ...}"),
  /// writing the stream "orders" into `target` in `mode`.
  virtual std::string SinkBlock(const std::string& target, WriteMode mode) { return {}; }

  /// Sources: creates `target` holding `rows` (OrdersSchema()) and returns the `source:` block
  /// (a YAML flow map with `type:`) reading exactly that one stream. A source that cannot be
  /// seeded with given rows (datagen) returns a block of its own rows and says so in
  /// SourceUnderTest::seeds_given_rows.
  virtual Result<std::string> SeedSource(const std::string& target, const std::vector<Row>& rows) {
    return Unsupported("not a source");
  }
  /// Sources: as SeedSource, plus one record the source itself reports as bad (a value that is
  /// not of its column's type, a ragged line) right after the row with id `bad_after_id`.
  /// Unsupported when the store cannot hold such a record.
  virtual Result<std::string> SeedSourceWithBadRecord(const std::string& target,
                                                      const std::vector<Row>& rows,
                                                      int64_t bad_after_id) {
    return Unsupported("this store cannot hold a bad record");
  }
  /// Sources: as SeedSource, but every read of the rows blocks in the store (a view whose rows
  /// wait in the server) until EndBlockedReads: a read that only cancellation can end.
  /// Unsupported when the store cannot block a read.
  virtual Result<std::string> SeedBlockingSource(const std::string& target,
                                                 const std::vector<Row>& rows) {
    return Unsupported("this store cannot block a read");
  }
  /// Waits, within a deadline, until a read of SeedBlockingSource's source is blocked in the
  /// store (the server shows it waiting).
  virtual Status WaitUntilReadBlocked() { return Unsupported("this store cannot block a read"); }
  /// Ends the reads that are still blocked (cancels their queries): the way out when
  /// cancellation failed, so that the case reports it instead of hanging.
  virtual void EndBlockedReads() {}

  /// Streams: appends `rows` (OrdersSchema()) to `target`, which SeedSource made, while a job
  /// may be reading it (a topic's partitions grow). Unsupported for a source that never grows.
  virtual Status AppendRows(const std::string& target, const std::vector<Row>& rows) {
    return Unsupported("this store cannot add rows to a running source");
  }
  /// Streams: the positions of `target`'s splits that the source acknowledged last
  /// (Source::Acknowledge: a consumer group's committed offsets), as PositionIndex gives them.
  /// Splits never acknowledged are absent. Unsupported when the store does not record them.
  virtual Result<AcknowledgedPositions> Acknowledged(const std::string& target) {
    return Unsupported("this store does not record acknowledgements");
  }
  /// Streams: how many rows of its split come before the position token `position`
  /// (SplitReader::Position of a reader of SeedSource's source), so that positions compare.
  virtual Result<int64_t> PositionIndex(const std::string& position) {
    return Unsupported("this store cannot compare positions");
  }

  /// Sinks: what a job that completed must not have left in the store of `target`: staging
  /// tables, in-progress parts, manifests (names, for the failure message). Empty by default.
  virtual std::vector<std::string> Leftovers(const std::string& target) { return {}; }

  /// Sinks: creates `target` (as SinkBlock(target, kAppend) writes it) and holds it so that
  /// writes into it block in the store (a lock another session holds) until EndBlockedWrites.
  /// Unsupported when the store cannot block a write.
  virtual Status BlockWrites(const std::string& target) {
    return Unsupported("this store cannot block a write");
  }
  /// Waits, within a deadline, until a write into the target is blocked in the store.
  virtual Status WaitUntilWriteBlocked() { return Unsupported("this store cannot block a write"); }
  /// Lets the blocked writes go on (releases the lock).
  virtual void EndBlockedWrites() {}
};

/// A sink joining the suite.
struct SinkUnderTest {
  /// The instantiation's name in test names: "sqlite", "file_csv".
  std::string name;
  /// Registers the connector under test (and what it needs) into a test registry.
  std::function<void(connectors::ConnectorRegistry&)> register_connectors;
  /// Makes the store of one case; a failure fails the case with its message.
  std::function<Result<std::unique_ptr<ConformanceStore>>()> open_store;
  /// Capabilities.
  bool exactly_once = true;
  /// Supports WriteMode::kOverwrite (replaces the target atomically at Finish).
  bool overwrite = false;
  /// A fresh run (--fresh) over an interrupted append is refused rather than loading the rows
  /// twice (Sink::CheckFreshStart).
  bool refuses_fresh_append = true;
  /// Rows an append commits are visible in the target at once (not only after Finish): the crash
  /// loop then checks after each kill that the target holds what the killed run committed.
  bool visible_at_commit = true;
  /// A row (of OrdersSchema(), its id aside) the sink itself refuses as a bad record (a value
  /// its store cannot hold); empty when it holds anything the stream can carry.
  std::optional<Row> refused_row;
  /// Given no rows, the sink may leave no target at all (a rolling file sink writes no part).
  bool empty_input_may_leave_no_target = false;
  /// Sink::max_writers() (0: no limit).
  int max_writers = 0;
  /// The connector's own crash points for the crash loop, each "name=crash@N"
  /// (docs/FAILPOINTS.md).
  std::vector<std::string> crash_points;
};

/// A source joining the suite.
struct SourceUnderTest {
  std::string name;
  std::function<void(connectors::ConnectorRegistry&)> register_connectors;
  std::function<Result<std::unique_ptr<ConformanceStore>>()> open_store;
  /// False when SeedSource ignores the rows (datagen): the suite then takes what an
  /// uninterrupted run delivers as the expected rows.
  bool seeds_given_rows = true;
  /// Source::bounded(). SourceConformanceTest runs jobs to their end: an unbounded source (Kafka,
  /// change data capture) skips it and joins StreamConformanceTest instead (which a bounded
  /// source skips).
  bool bounded = true;
  /// The source's own crash points (such as "sql.cut.before_offer=crash@1").
  std::vector<std::string> crash_points;
  /// The stream is a changelog keyed by `id` (change data capture: the seeded rows come from the
  /// snapshot, AppendRows' from the change log): the stream cases write it into SQLite with
  /// `mode: apply`, where a change delivered twice is absorbed, and count the rows written.
  bool changelog = false;
};

/// Test names and failure messages show the connector's name.
inline void PrintTo(const SinkUnderTest& sink, std::ostream* out) {
  *out << "sink " << sink.name;
}
inline void PrintTo(const SourceUnderTest& source, std::ostream* out) {
  *out << "source " << source.name;
}

/// Names each instantiated case after the connector's `name` (pass `ConformanceName()`).
struct ConformanceName {
  std::string operator()(const ::testing::TestParamInfo<SinkUnderTest>& info) const {
    return info.param.name;
  }
  std::string operator()(const ::testing::TestParamInfo<SourceUnderTest>& info) const {
    return info.param.name;
  }
};

class SinkConformanceTest : public ::testing::TestWithParam<SinkUnderTest> {
 protected:
  void SetUp() override;
  void TearDown() override;

  connectors::ConnectorRegistry registry_;
  std::shared_ptr<MemorySourceData> source_;
  std::shared_ptr<MemorySinkData> unused_sink_;
  std::unique_ptr<ConformanceStore> store_;
};

class SourceConformanceTest : public ::testing::TestWithParam<SourceUnderTest> {
 protected:
  void SetUp() override { Prepare(/*bounded=*/true); }
  void TearDown() override;
  /// Registers the connectors, skips the case unless SourceUnderTest::bounded is `bounded`, and
  /// opens the store.
  void Prepare(bool bounded);

  connectors::ConnectorRegistry registry_;
  std::unique_ptr<ConformanceStore> store_;
  /// Holds the SQLite database the source's rows go to.
  std::unique_ptr<TempDir> out_;
};

/// The stream cases (stream_conformance.cc), for unbounded sources (SourceUnderTest::bounded
/// false); their store also implements AppendRows, Acknowledged and PositionIndex.
class StreamConformanceTest : public SourceConformanceTest {
 protected:
  void SetUp() override { Prepare(/*bounded=*/false); }
};

}  // namespace sluice::testing::conformance
