// In-memory source and sink for runtime tests: push rows in, capture rows out, inject faults.
//
// Rows are vectors of optional canonical texts (nullopt = NULL), converted with core's
// AppendParsedValue / AppendValueText, so a test reads like a table. Test-only.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "connectors/api.h"
#include "connectors/registry.h"

namespace sluice::testing {

using Row = std::vector<std::optional<std::string>>;

struct MemoryStream {
  std::string name;
  SchemaPtr schema;
  std::vector<Row> rows;
  /// A changelog stream (StreamInfo::changelog): `kinds` gives each row's RowKind (parallel to
  /// `rows`; empty: inserts).
  bool changelog = false;
  std::vector<RowKind> kinds;
};

/// An unbounded source's data: a topic whose partitions grow, and new partitions appear, while
/// the job runs. Each partition is one split ("p<N>"); its position is the next row's index.
/// Thread-safe.
class MemoryTopic {
 public:
  /// Adds a partition holding `rows` and wakes the enumerator (SplitEnumerator::SetWakeup).
  void AddPartition(std::vector<Row> rows = {});
  /// Appends `rows` to `partition` and wakes the readers waiting for data. An empty Row stands
  /// for a record that is not a row (a transaction marker, a change to a table not captured):
  /// it moves the reader's position and yields nothing.
  void Append(size_t partition, const std::vector<Row>& rows);
  size_t partitions() const;

  /// While true, a reader with nothing to read waits until data comes or it is cancelled,
  /// ignoring JobContext::read_wait: a reader blocked for good unless Cancel() works.
  std::atomic<bool> block_until_cancelled{false};
  /// Readers waiting for data right now.
  size_t waiting_readers() const;
  /// Blocks until `count` readers wait for data at once (while block_until_cancelled: wait for
  /// good), or `timeout` passes; returns whether they did.
  bool WaitForWaitingReaders(size_t count, std::chrono::milliseconds timeout) const;
  /// Reported by every reader's Lag(): messages behind the head is computed per partition.
  std::optional<int64_t> last_event_time_us;
  std::optional<uint64_t> lag_bytes;

  /// How many partitions each reader thread read from (since ForgetReaders).
  std::map<std::thread::id, size_t> PartitionsPerReader() const;
  /// Per reader thread, the waits for data its partitions' last reads were allowed, summed: how
  /// long one round over its idle partitions takes.
  std::map<std::thread::id, std::chrono::milliseconds> RoundWaitPerReader() const;
  void ForgetReaders();

  // For the memory source.
  /// Appends rows of `partition` from `*next` to `batch` (at most `limit`), advancing `*next`;
  /// with none there, waits for some up to `wait` (see block_until_cancelled) or until
  /// `*cancelled`, which returns Cancelled.
  Status Read(size_t partition, size_t* next, size_t limit, std::chrono::milliseconds wait,
              const std::atomic<bool>* cancelled, Batch* batch);
  /// Wakes readers waiting in Read (a Cancel).
  void WakeReaders();
  void SetWakeup(std::function<void()> wake);
  size_t rows(size_t partition) const;

 private:
  mutable std::mutex mutex_;
  mutable std::condition_variable changed_;
  std::vector<std::vector<Row>> partitions_;  // guarded by mutex_
  std::function<void()> wake_;                // guarded by mutex_
  size_t waiting_ = 0;                        // guarded by mutex_
  size_t blocked_ = 0;  // of them, waiting until cancelled (block_until_cancelled); mutex_
  std::map<size_t, std::thread::id> reader_of_partition_;         // guarded by mutex_
  std::map<size_t, std::chrono::milliseconds> wait_of_partition_;  // guarded by mutex_
};

/// What a MemorySource serves and how it misbehaves. Shared with the test.
struct MemorySourceData {
  /// Unbounded mode: stream 0 (its name and schema; its rows are ignored) is read from this
  /// topic, one split per partition, and the job runs until stopped.
  std::shared_ptr<MemoryTopic> topic;
  std::vector<MemoryStream> streams;
  /// Log mode (when not empty): one split ("log") carries every stream, its rows in this order,
  /// as a database's change log interleaves its tables (SplitReader::NextStream); the streams'
  /// own `rows` and `kinds` are ignored. Positions are indexes into the log.
  struct LogEntry {
    int stream = 0;
    Row row;
    RowKind kind = RowKind::kInsert;
  };
  std::vector<LogEntry> log;
  /// Rows per planned split.
  size_t split_rows = 1000;
  /// Stream index -> rows in its first split (the rest are split_rows each): skew on demand.
  std::map<int, size_t> first_split_rows;
  /// Rows a reader returns per ReadBatch at most (0 = fill the batch).
  size_t rows_per_read = 0;
  /// Sleep per ReadBatch, microseconds.
  int read_delay_micros = 0;
  /// Asked before every ReadBatch, outside the reader's lock: while it returns true the reader
  /// waits (asking again every millisecond), so that a test can hold a reader at a place in its
  /// data until something happened elsewhere (a cut of its split lowers `end_row`). Arguments:
  /// the stream, the split's first row, the next row to read, the split's end (exclusive).
  std::function<bool(int stream, size_t first_row, size_t next_row, size_t end_row)> hold_read;
  /// Fail with this status when a reader reaches this absolute row of stream 0.
  std::optional<size_t> fail_at_row;
  Status failure = Unavailable("injected source failure");
  /// Fail at fail_at_row only this many times (then read on): a transient failure.
  std::atomic<int> failures_left{1000000};
  /// Smallest remainder SplitRemainder will cut.
  size_t min_cut_rows = 16;

  /// Called by Source::Acknowledge (on the coordinator thread) before it returns
  /// `acknowledge_result`.
  std::function<void(uint64_t checkpoint, const std::vector<connectors::SplitProgress>&)>
      on_acknowledge;
  Status acknowledge_result;
  /// What Source::CheckpointState() returns (called at every checkpoint); "" when unset.
  std::function<std::string()> checkpoint_state;
  /// Every Source::RestoreState() argument, in order. Guarded by `mutex`.
  std::vector<std::string> restored_states;
  std::mutex mutex;
};

/// What a MemorySink captured. Shared with the test. Thread-safe.
struct MemorySinkData {
  std::mutex mutex;
  /// stream name -> rows written and committed.
  std::map<std::string, std::vector<Row>> committed;
  /// stream name -> the kind of each committed row, and the writer slot that wrote it (parallel
  /// to `committed`).
  std::map<std::string, std::vector<RowKind>> committed_kinds;
  std::map<std::string, std::vector<int>> committed_slots;
  std::vector<connectors::StreamInfo> opened_streams;
  int max_writers = 0;
  int write_delay_micros = 0;
  std::optional<size_t> fail_after_rows;  // total rows before Write fails
  std::atomic<size_t> rows_seen{0};
  std::atomic<int> prepares{0};
  std::atomic<int> commits{0};
  std::atomic<int> aborts{0};
  std::atomic<int> finishes{0};
  std::atomic<int> sink_aborts{0};
  std::function<void()> on_write;  // called at every Write, e.g. to sample metrics
  /// Commit progress with the rows (an exactly-once sink) or not (at-least-once).
  bool exactly_once = true;
  /// Progress committed with the rows, by split id (exactly-once only).
  std::map<std::string, connectors::SplitProgress> committed_progress;
  std::atomic<int> forgets{0};
  std::atomic<bool> opened_resuming{false};
  /// Notified (under `mutex`) after every commit.
  std::condition_variable committed_changed;

  /// Blocks until `stream` has at least `rows` committed rows, or `timeout` passes; returns
  /// whether it has.
  bool WaitForCommitted(const std::string& stream, size_t rows, std::chrono::milliseconds timeout);

  /// A changelog stream's committed rows as (kind, first column's text, "NULL" for NULL): the
  /// sequence of changes by key, when the key is the first column.
  std::vector<std::pair<RowKind, std::string>> CommittedChanges(const std::string& stream);
  /// A changelog stream's committed rows folded by their first column (the key): each key's
  /// last image; a delete or an update_before removes the key.
  std::map<std::string, Row> CommittedFolded(const std::string& stream);
};

/// Registers type "memory" (source and sink) serving `source` and capturing into `sink`.
void RegisterMemoryConnector(connectors::ConnectorRegistry& registry,
                             std::shared_ptr<MemorySourceData> source,
                             std::shared_ptr<MemorySinkData> sink);

/// Converts a batch row to a Row of canonical texts.
Row RowFromBatch(const Batch& batch, size_t row);
/// Appends `row` to `batch` (values parsed by the column types); aborts the test on bad text.
void AppendRow(const Row& row, Batch* batch);

}  // namespace sluice::testing
