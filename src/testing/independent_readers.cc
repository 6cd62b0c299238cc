#include "testing/independent_readers.h"

#include <fmt/core.h>
#include <sys/wait.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>

#include "core/value_text.h"

namespace sluice::testing {

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

}  // namespace

std::string CanonicalValueText(const Column& column, size_t row) {
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

void AppendCanonicalRows(const Batch& batch, std::vector<std::string>* rows) {
  for (size_t row = 0; row < batch.num_rows(); ++row) {
    std::string line = "row";
    for (size_t i = 0; i < batch.num_columns(); ++i) {
      line += '\t';
      line += CanonicalValueText(batch.column(i), row);
    }
    rows->push_back(std::move(line));
  }
}

Result<std::string> RunCommand(const std::string& command) {
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

Result<std::string> VenvPython() {
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
                          RunCommand(fmt::format("{}/scripts/python-venv.sh", SLUICE_SOURCE_DIR)));
  while (!output.empty() && (output.back() == '\n' || output.back() == '\r'))
    output.pop_back();
  python = output.substr(output.rfind('\n') + 1);
  return python;
}

Result<std::string> RunPythonScript(const std::string& script, const std::string& arguments) {
  SLUICE_ASSIGN_OR_RETURN(std::string python, VenvPython());
  return RunCommand(
      fmt::format("'{}' {}/{} {} 2>&1", python, SLUICE_SOURCE_DIR, script, arguments));
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

}  // namespace sluice::testing
