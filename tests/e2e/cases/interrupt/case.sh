# SIGINT stops cleanly: exit 130, nothing uncommitted published, no in-progress file left.
"$SLUICE" run "$CASE_DIR/job.yaml" >"$OUT_DIR/.stdout" 2>"$OUT_DIR/.stderr" &
pid=$!
for _ in $(seq 1 100); do
  ls "$OUT_DIR"/*.inprogress >/dev/null 2>&1 && break
  sleep 0.05
done
kill -INT $pid
status=0
wait $pid || status=$?
expect_equal "$status" "130" "exit code after SIGINT"
grep -q "interrupted" "$OUT_DIR/.stdout" || fail "summary does not say interrupted"
[[ ! -e "$OUT_DIR/big.csv" ]] || fail "an interrupted job published its file"
ls "$OUT_DIR" | grep -q inprogress && fail "in-progress file left behind"
true
