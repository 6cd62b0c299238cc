// Test helpers for the Parquet format: the canonical row text that read_parquet.py prints, and
// running that script (pyarrow and DuckDB, from the venv scripts/python-venv.sh makes).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "core/batch.h"
#include "core/result.h"

namespace sluice::formats::testing {

/// "row\t<value>\t..." for each row of `batch`, in read_parquet.py's canonical text.
void AppendRowTexts(const Batch& batch, std::vector<std::string>* rows);

/// What read_parquet.py's `check` mode reports about a file.
struct IndependentRead {
  std::vector<std::string> pyarrow_columns;  // "column\t<name>\t<physical>\t<logical>\t..."
  std::vector<std::string> pyarrow_rows;
  std::vector<std::string> duckdb_columns;  // "column\t<name>\t<DuckDB type>"
  std::vector<std::string> duckdb_rows;
  std::vector<std::string> statistics;  // "statistics\t<group>\t<column>\tok" or the problem
  std::vector<std::string> chunks;      // "chunk\t<group>\t<column>\t<codec>\t<encodings>"
};

/// Runs read_parquet.py with `arguments` (shell-quoted by the caller) and returns its stdout;
/// an error with its output when it fails.
Result<std::string> RunReadParquet(const std::string& arguments);

/// Reads `path` with pyarrow and DuckDB.
Result<IndependentRead> ReadIndependently(const std::string& path);

/// Reads `path` with ParquetReader into canonical rows.
Result<std::vector<std::string>> ReadWithSluice(const std::string& path,
                                                SchemaPtr* schema = nullptr);

/// Lines of `text` that start with `prefix`.
std::vector<std::string> LinesStartingWith(const std::string& text, const std::string& prefix);

}  // namespace sluice::formats::testing
