# The README's API reference is generated from the server's route table (the OpenAPI document
# `sluice server --openapi` prints, the same /api/v1/openapi.json serves); this fails when a
# route changed without regenerating it (scripts/api-docs.py --update README.md).
readme="$CASE_DIR/../../../../README.md"
sluice server --openapi >openapi.json
python3 "$CASE_DIR/../../../../scripts/api-docs.py" <openapi.json >expected.md
python3 - "$readme" expected.md <<'PY'
import sys
readme = open(sys.argv[1], encoding="utf-8").read()
begin = "<!-- BEGIN GENERATED API REFERENCE (scripts/api-docs.py) -->"
end = "<!-- END GENERATED API REFERENCE -->"
actual = readme[readme.index(begin) + len(begin):readme.index(end)].strip()
expected = open(sys.argv[2], encoding="utf-8").read().strip()
if actual != expected:
    print("README API reference is stale: run\n  build/release/bin/sluice server --openapi | "
          "scripts/api-docs.py --update README.md", file=sys.stderr)
    sys.exit(1)
PY
