# The README's connector reference is generated from the option tables in the code; this fails
# when someone changes an option without regenerating it (scripts/connector-docs.py --update).
readme="$CASE_DIR/../../../../README.md"
sluice connectors --json >connectors.json
python3 "$CASE_DIR/../../../../scripts/connector-docs.py" <connectors.json >expected.md
python3 - "$readme" expected.md <<'PY'
import sys
readme = open(sys.argv[1], encoding="utf-8").read()
begin = "<!-- BEGIN GENERATED CONNECTOR OPTIONS (scripts/connector-docs.py) -->"
end = "<!-- END GENERATED CONNECTOR OPTIONS -->"
actual = readme[readme.index(begin) + len(begin):readme.index(end)].strip()
expected = open(sys.argv[2], encoding="utf-8").read().strip()
if actual != expected:
    print("README connector options are stale: run\n  build/release/bin/sluice connectors --json | "
          "scripts/connector-docs.py --update README.md", file=sys.stderr)
    sys.exit(1)
PY
