# The Kafka broker crashes (kill -9) and restarts while a Kafka -> Kafka job runs exactly-once:
# the job, frozen at a failpoint right after its writers' 10th commit (a checkpoint after every
# batch), goes on once the broker is back, retrying from its last checkpoint if it must, and a
# read_committed consumer of the target sees every message exactly once; no transaction of the
# job is left open.
need_servers
rows=20000  # 100 batches of 200 rows
in=fault_kafka_in_$$
out=fault_kafka_out_$$
kafka_topic "$in" 2
kafka_topic "$out" 2
seq 1 "$rows" | awk '{ printf "%d\t{\"id\":%d,\"note\":\"naïve 😀 %d\"}\n", $1, $1, $1 }' |
  kafka_produce "$in" -K $'\t'
cat >job.yaml <<YAML
name: fault_kafka_$$
source: {type: kafka, brokers: "$SLUICE_TEST_KAFKA_BOOTSTRAP", topic: $in, stop_at: end, start_from: earliest, columns: {id: int64, note: string}}
sink: {type: kafka, brokers: "$SLUICE_TEST_KAFKA_BOOTSTRAP", topic: $out, key_columns: [id], progress_topic: ${out}_progress}
parallelism: 2
batch_rows: 200
retry: {initial_backoff_secs: 1, max_backoff_secs: 2, max_attempts: 10}
YAML
SLUICE_FAILPOINTS="runtime.reader.batch=checkpoint@1+;runtime.writer.after_commit=pause@10" \
  "$SLUICE" run job.yaml --no-progress >"$OUT_DIR/job.out" 2>"$OUT_DIR/job.err" &
pid=$!
wait_until_stopped "$pid"
"$SLUICE_SCRIPTS/test-servers.sh" crash kafka "$SLUICE_TEST_SERVERS_ENV"
continue_paused "$pid"
# It runs in seconds; 300 s means a hang (seen once under stress): fail with its stacks.
wait_for_job "$pid" 300 "$OUT_DIR/job.err"
status=$JOB_STATUS
if [[ $status -ne 0 ]]; then
  cat "$OUT_DIR/job.err" >&2
  fail "the job did not survive the broker's crash (exit $status)"
fi
# A transaction's commit returns before its markers reach every partition: wait (60 s at most)
# until a read_committed consumer sees them all.
for attempt in $(seq 1 600); do
  kafka_consume "$out" $((rows + 100)) -f '%k\n' | sort >keys.txt
  (($(wc -l <keys.txt) >= rows)) && break
  sleep 0.1
done
expect_equal "$(wc -l <keys.txt)" "$rows" "messages in the target"
expect_equal "$(sort -u keys.txt | wc -l)" "$rows" "distinct keys in the target"
open=$("$SLUICE_TEST_KAFKA_RUN_CLASS" org.apache.kafka.tools.TransactionsCommand \
  --bootstrap-server "$SLUICE_TEST_KAFKA_BOOTSTRAP" list | grep "sluice-fault_kafka_$$-" || true)
[[ -n "$open" ]] || fail "the broker lists no transactional id of the job"
if grep -q Ongoing <<<"$open"; then
  echo "$open" >&2
  fail "a transaction of the job is still open"
fi
