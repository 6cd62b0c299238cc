// Test helpers for the sqlite connector: build sources and sinks from YAML option text, drive
// them split by split and writer by writer, run raw SQL against a database file, and turn
// batches into comparable rows. Test-only; not thread-safe unless stated.
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "connectors/api.h"
#include "core/batch.h"
#include "testing/bad_records.h"

namespace sluice::connectors::sqlite::testing {

/// One value as text: canonical text (floats: plus "#" and their bit pattern in hex, so that
/// -0.0 and NaN payloads compare exactly); nullopt for NULL.
using Cell = std::optional<std::string>;
using Row = std::vector<Cell>;

using sluice::testing::RecordAndFail;
using sluice::testing::RecordAndSkip;

/// A JobContext over `handler`, never cancelled unless `cancelled` is given.
inline JobContext MakeContext(BadRecordHandler* handler,
                              const std::atomic<bool>* cancelled = nullptr,
                              size_t batch_rows = Batch::kDefaultCapacity) {
  return sluice::testing::MakeTestContext(handler, cancelled, 1, batch_rows);
}

/// Builds a source/sink of type sqlite from YAML option text ("path: x\ntable: t") through the
/// registry, so that option validation runs as in a job. Errors name "test.yaml".
Result<std::unique_ptr<Source>> MakeSource(const std::string& yaml);
Result<std::unique_ptr<Sink>> MakeSink(const std::string& yaml);

/// Canonical cell text of `column` at `row`.
Cell CellOf(const Column& column, size_t row);
Row RowOf(const Batch& batch, size_t row);

/// A batch of `schema` holding `rows` (canonical texts, parsed by the column types; nullopt for
/// NULL) for stream index `stream`. Aborts the test on a value that does not parse.
std::unique_ptr<Batch> BatchOf(const SchemaPtr& schema, const std::vector<Row>& rows,
                               int stream = 0);

/// Rows read from one stream, with the split id each row came from.
struct ReadResult {
  std::vector<Row> rows;
  std::vector<std::string> split_ids;
  size_t batches = 0;
};

/// Plans the splits and reads them all, one after the other; rows are grouped by stream index.
Result<std::vector<ReadResult>> ReadAll(Source& source, size_t batch_rows = 1000);

/// Reads one split to its end with a fresh reader (resuming after `position`), appending rows.
Status ReadSplit(Source& source, const Split& split, const std::string& position, size_t batch_rows,
                 std::vector<Row>* rows);

/// Opens `sink` for `streams`, writes every batch through one writer, then Prepare, Commit and
/// Finish.
Status WriteAll(Sink& sink, const JobContext& context, const std::vector<StreamInfo>& streams,
                const std::vector<const Batch*>& batches);

/// Runs SQL on the database file (read-write); aborts the test on error.
void ExecOrDie(const std::string& path, const std::string& sql);

/// A raw cell as SQLite stores it: storage class name and text ("INTEGER:5", "TEXT:abc",
/// "REAL:1.5", "BLOB:<hex>", "NULL").
using RawRow = std::vector<std::string>;
/// Runs a query read-only and returns all rows as raw cells; aborts the test on error.
std::vector<RawRow> QueryOrDie(const std::string& path, const std::string& sql);

/// The datasets directory: $SLUICE_DATASETS, else ../shared/datasets next to the repository.
std::string DatasetsDirectory();

}  // namespace sluice::connectors::sqlite::testing
