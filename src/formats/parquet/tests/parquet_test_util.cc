#include "formats/parquet/tests/parquet_test_util.h"

#include <fmt/core.h>
#include <sys/wait.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>

#include "core/value_text.h"
#include "formats/parquet/parquet_reader.h"
#include "testing/independent_readers.h"

namespace sluice::formats::testing {

void AppendRowTexts(const Batch& batch, std::vector<std::string>* rows) {
  sluice::testing::AppendCanonicalRows(batch, rows);
}

std::vector<std::string> LinesStartingWith(const std::string& text, const std::string& prefix) {
  return sluice::testing::LinesStartingWith(text, prefix);
}

Result<std::string> RunReadParquet(const std::string& arguments) {
  return sluice::testing::RunPythonScript("src/formats/parquet/tests/read_parquet.py", arguments);
}

Result<IndependentRead> ReadIndependently(const std::string& path) {
  SLUICE_ASSIGN_OR_RETURN(std::string output, RunReadParquet(fmt::format("check '{}'", path)));
  size_t duckdb = output.find("reader duckdb\n");
  size_t statistics = output.find("\nstatistics\n");
  if (duckdb == std::string::npos || statistics == std::string::npos)
    return Internal("read_parquet.py printed no sections: " + output.substr(0, 4000));
  std::string pyarrow_part = output.substr(0, duckdb);
  std::string duckdb_part = output.substr(duckdb, statistics - duckdb);
  std::string rest = output.substr(statistics);
  IndependentRead read;
  read.pyarrow_columns = LinesStartingWith(pyarrow_part, "column\t");
  read.pyarrow_rows = LinesStartingWith(pyarrow_part, "row\t");
  read.duckdb_columns = LinesStartingWith(duckdb_part, "column\t");
  read.duckdb_rows = LinesStartingWith(duckdb_part, "row\t");
  read.statistics = LinesStartingWith(rest, "statistics\t");
  read.chunks = LinesStartingWith(rest, "chunk\t");
  return read;
}

Result<std::vector<std::string>> ReadWithSluice(const std::string& path, SchemaPtr* schema) {
  SLUICE_ASSIGN_OR_RETURN(auto file, LocalRandomAccessFile::Open(path));
  SLUICE_ASSIGN_OR_RETURN(auto reader, ParquetReader::Open(std::move(file)));
  if (schema != nullptr)
    *schema = reader->schema();
  std::vector<std::string> rows;
  Batch batch(reader->schema(), 1000);
  while (true) {
    batch.Clear();
    SLUICE_ASSIGN_OR_RETURN(size_t appended, reader->ReadBatch(&batch));
    if (appended == 0)
      break;
    AppendRowTexts(batch, &rows);
  }
  if (static_cast<int64_t>(rows.size()) != reader->num_rows())
    return DataError(fmt::format("read {} rows of {}", rows.size(), reader->num_rows()));
  return rows;
}

}  // namespace sluice::formats::testing
