// In-memory source and sink for runtime tests: push rows in, capture rows out, inject faults.
//
// Rows are vectors of optional canonical texts (nullopt = NULL), converted with core's
// AppendParsedValue / AppendValueText, so a test reads like a table. Test-only.
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "connectors/api.h"
#include "connectors/registry.h"

namespace sluice::testing {

using Row = std::vector<std::optional<std::string>>;

struct MemoryStream {
  std::string name;
  SchemaPtr schema;
  std::vector<Row> rows;
};

/// What a MemorySource serves and how it misbehaves. Shared with the test.
struct MemorySourceData {
  std::vector<MemoryStream> streams;
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
};

/// What a MemorySink captured. Shared with the test. Thread-safe.
struct MemorySinkData {
  std::mutex mutex;
  /// stream name -> rows written and committed.
  std::map<std::string, std::vector<Row>> committed;
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
