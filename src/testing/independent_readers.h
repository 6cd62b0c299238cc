// Test-only: running the independent readers (pyarrow, DuckDB, fastavro; Python scripts in the
// venv scripts/python-venv.sh makes) and the canonical text they and the C++ tests print values
// in, so that a file Sluice writes is compared value for value with what another implementation
// reads from it. The Python side of the text is src/testing/canonical_text.py.
//
// Canonical text: NULL is \N; floats are their IEEE bits in hex ("NaN" for any NaN); bytes \x and
// hex; everything else as core/value_text.h writes it; backslash, tab, CR and LF escaped as
// \\ \t \r \n.
#pragma once

#include <string>
#include <vector>

#include "core/batch.h"
#include "core/result.h"

namespace sluice::testing {

/// The canonical text of the value at `row` of `column`.
std::string CanonicalValueText(const Column& column, size_t row);
/// "row\t<value>\t..." for each row of `batch`.
void AppendCanonicalRows(const Batch& batch, std::vector<std::string>* rows);

/// Runs `command` with the shell; its stdout, or an error with the end of its output when it
/// exits non-zero.
Result<std::string> RunCommand(const std::string& command);
/// The venv's python: $SLUICE_PYTHON, else what scripts/python-venv.sh prints (it creates the
/// venv the first time).
Result<std::string> VenvPython();
/// Runs the repository's Python script `script` (a path from the repository root) with the venv's
/// python and `arguments` (shell-quoted by the caller); stderr is merged into the output.
Result<std::string> RunPythonScript(const std::string& script, const std::string& arguments);

/// Lines of `text` that start with `prefix`.
std::vector<std::string> LinesStartingWith(const std::string& text, const std::string& prefix);

}  // namespace sluice::testing
