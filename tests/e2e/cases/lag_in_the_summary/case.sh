# A stream's lag is in the run summary and in --json: a run reading a Kafka topic as a stream
# (stop_at: never), stopped by SIGINT, is behind the topic's head by the messages it did not read
# (rows read + rows behind = the topic's 1000), and its last event is the timestamp of the last
# message it read, which kcat set when it produced (between the clock readings around kcat).
need_servers
topic=e2e_lag_$$
kafka_topic "$topic" 1
before=$(date -u +%s)
seq 1 1000 | kafka_produce "$topic"
after=$(($(date -u +%s) + 1))
cat >job.yaml <<YAML
name: $topic
source: {type: kafka, brokers: "$SLUICE_TEST_KAFKA_BOOTSTRAP", topic: "$topic", format: raw, start_from: earliest}
sink: {type: file, path: "$OUT_DIR/{stream}.jsonl", format: jsonl}
batch_rows: 100
state: $OUT_DIR/state
YAML
# run_stopped ARGS...: runs the job, SIGINT once it froze at its 3rd batch; exit 130 expected.
run_stopped() {
  SLUICE_FAILPOINTS="runtime.reader.batch=pause@3" \
    "$SLUICE" run job.yaml --fresh "$@" >"$OUT_DIR/.stdout" 2>"$OUT_DIR/.stderr" &
  local pid=$! status=0
  wait_until_stopped $pid
  kill -INT $pid
  continue_paused $pid
  wait $pid || status=$?
  if [[ $status -ne 130 ]]; then
    cat "$OUT_DIR/.stdout" "$OUT_DIR/.stderr" >&2
    fail "exit code after SIGINT: $status"
  fi
}

# The summary: "  lag of TOPIC: 0 rows behind, last event 2026-12-05 04:50:01.123+00:00".
run_stopped
line=$(grep "^  lag of " "$OUT_DIR/.stdout") || {
  cat "$OUT_DIR/.stdout" >&2
  fail "no lag line in the summary"
}
[[ $line =~ ^"  lag of $topic: "([0-9,]+)" rows behind, last event "([0-9-]{10}" "[0-9:]{8})(\.[0-9]+)?"+00:00"$ ]] ||
  fail "lag line: '$line'"
behind=${BASH_REMATCH[1]//,/}
event=$(date -u -d "${BASH_REMATCH[2]}" +%s)
read=$(sed -n 's/^  rows: \([0-9,]*\) read.*/\1/p' "$OUT_DIR/.stdout" | tr -d ,)
expect_equal "$((behind + read))" 1000 "rows behind ($behind) plus rows read ($read)"
((event >= before && event <= after)) ||
  fail "last event ${BASH_REMATCH[2]} is not when kcat produced ($before..$after)"

# --json: the same lag as data.
run_stopped --json
python3 - "$OUT_DIR/.stdout" "$topic" "$before" "$after" <<'PY'
import datetime, json, sys
summary = json.load(open(sys.argv[1]))
topic, before, after = sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
lag = summary["lag"]
assert [entry["stream"] for entry in lag] == [topic], lag
assert lag[0]["rows"] + summary["rows_read"] == 1000, (lag, summary)
assert lag[0]["bytes"] is None, lag
text = lag[0]["last_event_time"]
event = datetime.datetime.strptime(text[:19], "%Y-%m-%d %H:%M:%S").replace(
    tzinfo=datetime.timezone.utc)
assert text.endswith("+00:00") and before <= event.timestamp() <= after, (text, before, after)
PY
