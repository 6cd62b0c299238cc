# kill -9 at every step of a commit while MariaDB -> rolling gzip CSV files runs (failpoints:
# crash_plans in tests/e2e/lib.sh), then finish: no partial file is ever visible, and the files
# hold every row exactly once.
need_servers
rows=40000  # 625 batches of 64 rows; a killed run commits a few, and rolls a part or two
mysql_exec "DROP DATABASE IF EXISTS fault_m2f; CREATE DATABASE fault_m2f"
mysql_exec fault_m2f "CREATE TABLE items (sku VARCHAR(40) PRIMARY KEY, qty INT, price DOUBLE,
  label TEXT);
  INSERT INTO items SELECT CONCAT('sku-', LPAD(seq, 9, '0')), seq % 97, seq / 3.0,
    IF(seq % 11 = 0, NULL, CONCAT('label \"', seq, '\", with comma'))
  FROM seq_1_to_$rows"

# Whatever step a run died at, every visible file is complete: it decompresses to the end.
visible_files_complete() {
  local file
  for file in "$OUT_DIR"/out/*.csv.gz; do
    [[ -e "$file" ]] || continue
    gzip -t "$file" || fail "after the crash at '$1', a visible file is not complete: $file"
  done
}
AFTER_CRASH=visible_files_complete
mapfile -t plans < <(crash_plans file.commit.before_manifest=crash@2 \
  file.commit.after_manifest=crash@3)
crash_loop "${plans[@]}" -- run "$CASE_DIR/job.yaml"
expect_equal "$KILLS" "${#plans[@]}" "runs killed at their crash point"
compgen -G "$OUT_DIR/out/*.csv.gz" >/dev/null || fail "no part was published before Finish"
expect_ok run "$CASE_DIR/job.yaml"
grep -q "resumed from checkpoint" "$OUT_DIR/.stdout" || fail "the last run did not resume"
lines=$(cat "$OUT_DIR"/out/*.csv.gz | gzip -dc | grep -vc '^sku,qty,price,label$')
expect_equal "$lines" "$rows" "data lines in the files"
ls "$OUT_DIR/out" | grep -q inprogress && fail "in-progress files left after completion"
expect_ok verify "$CASE_DIR/job.yaml"
mysql_exec "DROP DATABASE fault_m2f"
