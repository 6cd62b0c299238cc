#!/usr/bin/env bash
# Runs one server test file (Python, stdlib unittest) against the sluice binary:
#   tests/server/run_test.sh SLUICE_BINARY tests/server/test_x.py
# The venv's python (scripts/python-venv.sh: jsonschema, openapi-spec-validator) is handed to
# the tests as SLUICE_VENV_PYTHON for their independent checks.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
export SLUICE=$1
SLUICE_VENV_PYTHON=$("$root/scripts/python-venv.sh")
export SLUICE_VENV_PYTHON
exec python3 -X dev -W error::ResourceWarning "$2" -v
