#!/usr/bin/env bash
# Runs one end-to-end case: tests/e2e/run_case.sh <case-dir>
# The case's case.sh runs with these variables and the helpers of lib.sh:
#   SLUICE    the binary under test      CASE_DIR  the case folder (job files, expected output)
#   OUT_DIR   a fresh temporary folder   DATASETS  the shared sample databases
set -euo pipefail
export CASE_DIR=$(cd "$1" && pwd)
export OUT_DIR=$(mktemp -d "${TMPDIR:-/tmp}/sluice-e2e-XXXXXX")
export DATASETS=${SLUICE_DATASETS:-${SLUICE_DATASETS_DEFAULT:-}}
: "${SLUICE:?set SLUICE to the sluice binary}"
[[ -n "${KEEP_OUT:-}" ]] || trap 'rm -rf "$OUT_DIR"' EXIT
source "$(dirname "$0")/lib.sh"
cd "$OUT_DIR"
source "$CASE_DIR/case.sh"
echo "PASS $(basename "$CASE_DIR")"
