# `check` validates, opens both ends and compares schemas, and moves nothing.
expect_ok check "$CASE_DIR/job.yaml"
cat >expected.txt <<TXT
Job 'check_me' is valid: file -> sqlite, exactly-once
  delivery: exactly-once because the sqlite sink commits each split's progress atomically with its rows
  stream 'orders'
    source: id int64, amount decimal(12,2), placed date
    sink:   order_id int64, amount decimal(12,2), placed_on string
  1 file matches '$CASE_DIR/orders.csv' (35 bytes), read as csv
  schema of stream 'orders': declared in the job
  SQLite database '$OUT_DIR/check.db' does not exist; it would be created
  sqlite table 'orders' would be created: CREATE TABLE "orders" ("order_id" BIGINT, "amount" DECIMAL_TEXT(12,2), "placed_on" TEXT)
TXT
expect_same "$OUT_DIR/.stdout" expected.txt
[[ ! -e "$OUT_DIR/check.db" ]] || fail "check created the database"
expect_ok check "$CASE_DIR/job.yaml" --json
python3 - "$OUT_DIR/.stdout" <<'PY'
import json, sys
result = json.load(open(sys.argv[1]))
assert result["ok"] is True, result
assert result["streams"][0]["sink_schema"] == "order_id int64, amount decimal(12,2), placed_on string", result
PY
