# CSV -> SQLite: Sluice against `sqlite3 .import` of the same file.
# .import stores every column as TEXT; "sluice (as text)" does the same work, "sluice (typed)"
# also converts to integers, decimals, floats, dates and timestamps on the way.
rows=${BENCH_ROWS:-1000000}
work="$BENCH_DIR/csv_to_sqlite"
rm -rf "$work" && mkdir -p "$work"
export BENCH_WORK="$work" BENCH_ROWS_N="$rows"
"$SLUICE" run -q "$CASE_DIR/generate.yaml" >/dev/null
ls -l "$work"/orders.csv | awk '{ printf "  input: %s rows, %.0f MB of CSV\n", ENVIRON["BENCH_ROWS_N"], $5 / 1e6 }'

import_script="$work/import.sql"
printf '.mode csv\n.import %s orders\n' "$work/orders.csv" >"$import_script"
measure "sqlite3 .import" "$rows" sqlite3 "$work/import.db" ".read $import_script"
measure "sluice (as text)" "$rows" "$SLUICE" run -q "$CASE_DIR/as_text.yaml"
measure "sluice (typed)" "$rows" "$SLUICE" run -q "$CASE_DIR/typed.yaml"
measure "sluice (typed, sync full)" "$rows" "$SLUICE" run -q "$CASE_DIR/typed.yaml" \
  --set sink.synchronous=full --set sink.path="$work/typed_full.db"
measure "sluice (typed, wal)" "$rows" "$SLUICE" run -q "$CASE_DIR/typed.yaml" \
  --set sink.journal_mode=wal --set sink.path="$work/typed_wal.db"

for db in import as_text typed typed_full typed_wal; do
  count=$(sqlite3 "$work/$db.db" "SELECT count(*) FROM orders")
  # .import reads the header line as column names, like Sluice.
  expect_count "$db" "$count" "$rows"
done
ratio "sluice (as text)" "sqlite3 .import"
ratio "sluice (typed)" "sqlite3 .import"
ratio "sluice (typed, sync full)" "sqlite3 .import"
ratio "sluice (typed, wal)" "sqlite3 .import"
