# The README's connector reference is generated from the option tables in the code; this fails
# when someone changes an option without regenerating it (scripts/connector-docs.py --update).
sluice connectors --json >connectors.json
python3 "$CASE_DIR/../../../../scripts/connector-docs.py" --check "$CASE_DIR/../../../../README.md" \
  <connectors.json
# Every default lies in its option's range (a range and a default are declared side by side).
python3 - connectors.json <<'PY'
import json, sys
for connector in json.load(open(sys.argv[1])):
    for side in ("source", "sink"):
        for option in connector[side] or []:
            if "min" not in option and "max" not in option:
                continue
            try:
                value = float(option["default"])  # sizes with a unit are left out
            except ValueError:
                continue
            low, high = option.get("min", value), option.get("max", value)
            assert low <= value <= high, (connector["type"], side, option)
PY
