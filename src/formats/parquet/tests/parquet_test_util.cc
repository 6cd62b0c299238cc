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

namespace sluice::formats::testing {

namespace {

std::string Escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '\\':
        out += "\\\\";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string ValueText(const Column& column, size_t row) {
  if (column.IsNull(row))
    return "\\N";
  std::string text;
  switch (column.type().id) {
    case TypeId::kFloat32: {
      float value = column.Get<float>(row);
      if (std::isnan(value))
        return "NaN";
      uint32_t bits;
      std::memcpy(&bits, &value, 4);
      return fmt::format("{:08x}", bits);
    }
    case TypeId::kFloat64: {
      double value = column.Get<double>(row);
      if (std::isnan(value))
        return "NaN";
      uint64_t bits;
      std::memcpy(&bits, &value, 8);
      return fmt::format("{:016x}", bits);
    }
    case TypeId::kBytes:
      AppendHexBytes(column.GetView(row), &text);
      return Escape(text);
    default:
      AppendValueText(column, row, &text);
      return Escape(text);
  }
}

Result<std::string> Run(const std::string& command) {
  FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr)
    return Internal(fmt::format("popen failed: {}", command));
  std::string output;
  char buffer[1 << 16];
  size_t n;
  while ((n = std::fread(buffer, 1, sizeof(buffer), pipe)) > 0)
    output.append(buffer, n);
  int status = ::pclose(pipe);
  if (status != 0) {
    size_t tail = std::min<size_t>(output.size(), 3000);
    return Internal(fmt::format("'{}' failed (status {}), its output ending: {}", command,
                                status, output.substr(output.size() - tail)));
  }
  return output;
}

// The venv's python: $SLUICE_PYTHON, else what scripts/python-venv.sh prints (it creates the
// venv the first time).
Result<std::string> Python() {
  static std::mutex mutex;
  static std::string python;
  std::lock_guard<std::mutex> lock(mutex);
  if (!python.empty())
    return python;
  if (const char* from_environment = std::getenv("SLUICE_PYTHON")) {
    python = from_environment;
    return python;
  }
  SLUICE_ASSIGN_OR_RETURN(std::string output,
                          Run(fmt::format("{}/scripts/python-venv.sh", SLUICE_SOURCE_DIR)));
  while (!output.empty() && (output.back() == '\n' || output.back() == '\r'))
    output.pop_back();
  python = output.substr(output.rfind('\n') + 1);
  return python;
}

}  // namespace

void AppendRowTexts(const Batch& batch, std::vector<std::string>* rows) {
  for (size_t row = 0; row < batch.num_rows(); ++row) {
    std::string line = "row";
    for (size_t i = 0; i < batch.num_columns(); ++i) {
      line += '\t';
      line += ValueText(batch.column(i), row);
    }
    rows->push_back(std::move(line));
  }
}

std::vector<std::string> LinesStartingWith(const std::string& text, const std::string& prefix) {
  std::vector<std::string> lines;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos)
      end = text.size();
    std::string_view line(text.data() + start, end - start);
    if (line.substr(0, prefix.size()) == prefix)
      lines.emplace_back(line);
    start = end + 1;
  }
  return lines;
}

Result<std::string> RunReadParquet(const std::string& arguments) {
  SLUICE_ASSIGN_OR_RETURN(std::string python, Python());
  return Run(fmt::format("'{}' {}/src/formats/parquet/tests/read_parquet.py {} 2>&1", python,
                         SLUICE_SOURCE_DIR, arguments));
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
