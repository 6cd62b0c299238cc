#!/usr/bin/env bash
# Installs what the tests need, builds Sluice (Release, build/release) and runs every test with
# CTest. Exits non-zero on any failure.
#   scripts/test.sh            all tests
#   scripts/test.sh -L unit    only a label (unit, integration, e2e, slow); args go to ctest
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

scripts/install-deps.sh --servers
# pyarrow, DuckDB and fastavro, the independent readers of the file tests (a venv, pinned, once).
scripts/python-venv.sh >/dev/null
scripts/build.sh Release "$root/build/release"
ctest --test-dir "$root/build/release" --output-on-failure --timeout 900 -j "$(nproc)" "$@"
