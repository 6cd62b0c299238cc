# The README's API reference is generated from the server's route table (the OpenAPI document
# `sluice server --openapi` prints, the same /api/v1/openapi.json serves); this fails when a
# route changed without regenerating it (scripts/api-docs.py --update README.md).
sluice server --openapi | python3 "$CASE_DIR/../../../../scripts/api-docs.py" \
  --check "$CASE_DIR/../../../../README.md"
