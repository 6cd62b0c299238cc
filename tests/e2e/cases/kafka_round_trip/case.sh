# Kafka end to end with the real binary: sakila's tables MariaDB -> Kafka exactly-once through a
# crash loop (SIGKILL at the runtime's and the Kafka sink's transaction steps), then Kafka ->
# JSON Lines with inferred columns: every table's rows arrive once and identical to a direct
# dump. gemoji's 1870 emoji (4-byte UTF-8, arrays) go through a topic unchanged. A wrong SASL
# password is a clear error (exit 3) that never shows the password.
need_servers
need_datasets
prefix=e2e_kafka_$$
db=e2e_kafka_sakila
sed "s/\bsakila\b/$db/g" "$DATASETS/sakila/sakila-schema.sql" >schema.sql
sed "s/\bsakila\b/$db/g" "$DATASETS/sakila/sakila-data.sql" >data.sql
mysql_load "" schema.sql
mysql_load "$db" data.sql
tables=(actor category customer film payment rental)
for table in "${tables[@]}"; do
  kafka_topic "${prefix}_$table" 3
done
mysql_source="{type: mysql, host: $SLUICE_TEST_MYSQL_HOST, port: $SLUICE_TEST_MYSQL_PORT, user: $SLUICE_TEST_MYSQL_USER, password: \"$SLUICE_TEST_MYSQL_PASSWORD\", database: $db, tables: [$(IFS=,; echo "${tables[*]}")], split_rows: 2000, page_rows: 500}"
cat >to_kafka.yaml <<YAML
name: ${prefix}_to_kafka
source: $mysql_source
sink: {type: kafka, brokers: "$SLUICE_TEST_KAFKA_BOOTSTRAP", topic: "${prefix}_{stream}", progress_topic: "${prefix}_progress", compression: zstd}
parallelism: 2
batch_rows: 500
checkpoint: {interval_secs: 0}
YAML
mapfile -t plans < <(crash_plans kafka.sink.before_commit=crash@2 kafka.sink.after_commit=crash@3 kafka.sink.write=crash@4)
# After each kill a read_committed consumer sees no row twice.
no_duplicates() {
  local table count distinct
  for table in "${tables[@]}"; do
    kafka_consume "${prefix}_$table" 100000 -f '%s\n' >seen.jsonl
    count=$(wc -l <seen.jsonl)
    distinct=$(sort -u seen.jsonl | wc -l)
    expect_equal "$distinct" "$count" "distinct rows of $table after '$1'"
  done
}
AFTER_CRASH=no_duplicates crash_loop "${plans[@]}" -- run to_kafka.yaml
expect_ok run to_kafka.yaml
AFTER_CRASH= 

dump_jsonl direct "$mysql_source"
# A transaction's commit returns before its markers reach every partition: wait (60 s at most)
# until a read_committed consumer sees each table's rows, then dump the topics up to their ends.
for table in "${tables[@]}"; do
  want=$(wc -l <"$OUT_DIR/direct/$table.jsonl")
  for attempt in $(seq 1 600); do
    got=$(kafka_consume "${prefix}_$table" $((want + 1)) -f '%o\n' | wc -l)
    [[ $got -ge $want ]] && break
    sleep 0.1
  done
  expect_equal "$got" "$want" "committed messages of $table"
done
dump_jsonl kafka "{type: kafka, brokers: \"$SLUICE_TEST_KAFKA_BOOTSTRAP\", topics: [\"^${prefix}_(actor|category|customer|film|payment|rental)\"], stop_at: end, start_from: earliest, infer_messages: 100000}"
for table in "${tables[@]}"; do
  mv "$OUT_DIR/kafka/${prefix}_$table.jsonl" "$OUT_DIR/kafka/$table.jsonl"
done
expect_same_dumps direct kafka
expect_equal "$(wc -l <"$OUT_DIR/kafka/rental.jsonl")" 16044 "rentals through Kafka"

# gemoji: 4-byte UTF-8 and arrays, one message each, read back with inferred columns.
python3 - "$DATASETS/gemoji/emoji.json" >emoji.jsonl <<'PY'
import json, sys
for entry in json.load(open(sys.argv[1], encoding="utf-8")):
    print(json.dumps(entry, ensure_ascii=False, separators=(",", ":")))
PY
kafka_topic "${prefix}_emoji" 1
kafka_produce "${prefix}_emoji" <emoji.jsonl
cat >emoji.yaml <<YAML
name: ${prefix}_emoji
source: {type: kafka, brokers: "$SLUICE_TEST_KAFKA_BOOTSTRAP", topic: "${prefix}_emoji", stop_at: end, start_from: earliest, infer_messages: 5000}
sink: {type: file, path: "$OUT_DIR/emoji_back.jsonl"}
YAML
expect_ok run emoji.yaml
python3 - emoji.jsonl "$OUT_DIR/emoji_back.jsonl" <<'PY'
import json, sys
sent = [json.loads(line) for line in open(sys.argv[1], encoding="utf-8")]
back = [json.loads(line) for line in open(sys.argv[2], encoding="utf-8")]
assert len(back) == len(sent) == 1870, (len(back), len(sent))
for expected, actual in zip(sent, back):
    # Keys a message lacks come back as null: the columns are the union of every message's keys.
    actual = {k: v for k, v in actual.items() if v is not None or k in expected}
    assert actual == expected, (expected, actual)
assert any(len(e["emoji"].encode("utf-8")) == 4 for e in back)
PY

# A wrong SASL password: exit 3, the reason, never the password.
cat >sasl.yaml <<YAML
name: ${prefix}_sasl
source: {type: kafka, brokers: "$SLUICE_TEST_KAFKA_SASL_BOOTSTRAP", topic: "${prefix}_emoji", security_protocol: sasl_plaintext, sasl_user: "$SLUICE_TEST_KAFKA_SASL_USER", sasl_password: "Wrong-Pass-e2e", timeout_secs: 5}
sink: {type: file, path: "$OUT_DIR/never.jsonl"}
YAML
expect_error 3 "permission denied: source kafka: Cannot list the topics of Kafka brokers '$SLUICE_TEST_KAFKA_SASL_BOOTSTRAP' as user '$SLUICE_TEST_KAFKA_SASL_USER': SASL authentication error: Authentication failed: Invalid username or password (check sasl_user, sasl_password and sasl_mechanism)" \
  run sasl.yaml
if grep -q "Wrong-Pass-e2e" "$OUT_DIR/.stderr" "$OUT_DIR/.stdout"; then
  fail "the password was printed"
fi
mysql_exec "DROP DATABASE $db"
