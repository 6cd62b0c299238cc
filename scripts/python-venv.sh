#!/usr/bin/env bash
# Creates (once) the Python virtual environment holding the independent readers the tests compare
# Sluice's files against, pinned, from PyPI by package name: pyarrow and DuckDB (Parquet),
# fastavro with backports.zstd for its zstandard codec (Avro container files), jsonschema with
# referencing (OpenLineage events against the spec's JSON schemas), openapi-spec-validator (the
# server's OpenAPI document against the OpenAPI 3.0 specification). Idempotent: a venv
# that already has them at the pinned versions is left alone. Prints the venv's python.
#   scripts/python-venv.sh            venv in $SLUICE_VENV or ~/.cache/sluice/venv
set -euo pipefail
venv=${SLUICE_VENV:-$HOME/.cache/sluice/venv}
requirements=(pyarrow==26.0.1 duckdb==2.0.1 fastavro==1.13.1 backports.zstd==1.8.0
              jsonschema==4.26.0 referencing==0.37.0 openapi-spec-validator==0.9.0)

python=$venv/bin/python
if [[ ! -x $python ]]; then
  python3 -m venv "$venv" >&2
fi
# pip check of the exact pins: cheap when satisfied, so repeated runs do no network I/O.
if ! "$python" - "${requirements[@]}" <<'PY' 2>/dev/null; then
import sys
from importlib.metadata import version
for requirement in sys.argv[1:]:
    name, wanted = requirement.split("==")
    if version(name) != wanted:
        sys.exit(1)
PY
  "$python" -m pip install --quiet --disable-pip-version-check "${requirements[@]}" >&2
fi
echo "$python"
