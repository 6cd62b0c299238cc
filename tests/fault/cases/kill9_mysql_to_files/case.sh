# kill -9 at random moments while MariaDB -> rolling gzip CSV files runs, then finish: the files
# hold every row exactly once, and no partial file was ever visible.
need_servers
rows=2000000
mysql_exec "DROP DATABASE IF EXISTS fault_m2f; CREATE DATABASE fault_m2f"
mysql_exec fault_m2f "CREATE TABLE items (sku VARCHAR(40) PRIMARY KEY, qty INT, price DOUBLE,
  label TEXT);
  INSERT INTO items SELECT CONCAT('sku-', LPAD(seq, 9, '0')), seq % 97, seq / 3.0,
    IF(seq % 11 = 0, NULL, CONCAT('label \"', seq, '\", with comma'))
  FROM seq_1_to_$rows"

kill_loop 7 run "$CASE_DIR/job.yaml"
echo "kills: $KILLS"
[[ $KILLS -ge 5 ]] || fail "only $KILLS runs were killed mid-job"
# Every visible file is complete: it decompresses to the end.
for file in "$OUT_DIR"/out/*.csv.gz; do
  [[ -e "$file" ]] || continue
  gzip -t "$file" || fail "a visible file is not a complete gzip file: $file"
done
finish_job run "$CASE_DIR/job.yaml"
lines=$(cat "$OUT_DIR"/out/*.csv.gz | gzip -dc | grep -vc '^sku,qty,price,label$')
expect_equal "$lines" "$rows" "data lines in the files"
ls "$OUT_DIR/out" | grep -q inprogress && fail "in-progress files left after completion"
expect_ok verify "$CASE_DIR/job.yaml"
mysql_exec "DROP DATABASE fault_m2f"
