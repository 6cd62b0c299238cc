# ${VAR:-default}, --set and the --json summary.
expect_ok run "$CASE_DIR/job.yaml" --json --set parallelism=1
[[ -f "$OUT_DIR/default.jsonl" ]] || fail "default file name not used"
python3 - "$OUT_DIR/.stdout" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
assert s["status"] == "succeeded" and s["exit_code"] == 0, s
assert s["rows_read"] == 12345 and s["rows_written"] == 12345, s
assert s["readers"] == 1 and s["writers"] == 1, s
assert s["splits"]["total"] == s["splits"]["done"] == 13, s
assert s["bad_records"] == 0 and s["source"] == "datagen" and s["sink"] == "file", s
PY
expect_equal "$(wc -l <"$OUT_DIR/default.jsonl")" "12345" "rows in the file"
FILE_NAME=named expect_ok run "$CASE_DIR/job.yaml" --set sink.path="$OUT_DIR/{stream}-set.jsonl" --set source.rows=10
# Three writers: the one that got the only split writes generated-set-<slot>-00000.jsonl.
expect_equal "$(cat "$OUT_DIR"/generated-set-00?-00000.jsonl | wc -l)" "10" "rows under the --set path"
# A failed job's JSON says why.
expect_error 2 "config error: --set: empty key in 'sink..path'" run "$CASE_DIR/job.yaml" --json --set sink..path=x
python3 -c 'import json,sys; s=json.load(open(sys.argv[1])); assert s["status"]=="failed" and s["exit_code"]==2 and s["error"]["code"]=="config error", s' "$OUT_DIR/.stdout"
# --set before the job file: one value per --set (it once swallowed the job file too).
expect_ok run --set source.rows=7 --set parallelism=1 "$CASE_DIR/job.yaml" --json
python3 -c 'import json,sys; s=json.load(open(sys.argv[1])); assert s["rows_written"] == 7, s' "$OUT_DIR/.stdout"
