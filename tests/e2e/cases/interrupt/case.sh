# SIGINT stops cleanly: exit 130, nothing published; the committed part and its manifest stay
# for the run that resumes the job (exactly-once), and that run completes the file. Each SIGINT
# lands while the job is frozen mid-read at a failpoint (see src/core/failpoint.h): at its 20th
# batch, then at the resumed run's first.
SLUICE_FAILPOINTS="runtime.reader.batch=pause@20" \
  "$SLUICE" run "$CASE_DIR/job.yaml" >"$OUT_DIR/.stdout" 2>"$OUT_DIR/.stderr" &
pid=$!
wait_until_stopped $pid
kill -INT $pid
continue_paused $pid
status=0
wait $pid || status=$?
expect_equal "$status" "130" "exit code after SIGINT"
grep -q "interrupted" "$OUT_DIR/.stdout" || fail "summary does not say interrupted"
[[ ! -e "$OUT_DIR/big.csv" ]] || fail "an interrupted job published its file"
compgen -G "$OUT_DIR/big.csv.e*.inprogress" >/dev/null ||
  fail "the interrupted job dropped its committed part"
[[ -e "$OUT_DIR/.sluice-interrupt_me-0.manifest" ]] || fail "no manifest records the committed part"
# The same command resumes (a smaller job would be refused as changed): stopped again at once.
SLUICE_FAILPOINTS="runtime.reader.batch=pause@1" \
  "$SLUICE" run "$CASE_DIR/job.yaml" >"$OUT_DIR/.stdout" 2>"$OUT_DIR/.stderr" &
pid=$!
wait_until_stopped $pid
kill -INT $pid
continue_paused $pid
status=0
wait $pid || status=$?
expect_equal "$status" "130" "exit code of the resumed run after SIGINT"
grep -q "resumed from checkpoint" "$OUT_DIR/.stdout" || fail "the second run did not resume"
