# Kafka in and out: Sluice against kcat (librdkafka's own command-line client) on the same
# BENCH_ROWS (default 1,000,000) JSON lines of about 110 bytes, each BENCH_ROUNDS times (default
# 3, interleaved; the fastest counts: the machine is shared), one broker.
#   produce:       a JSON Lines file -> a 2-partition topic. kcat -P -l (one message per line, no
#                  parsing); Sluice file (jsonl, typed columns) -> kafka (json, at-least-once with
#                  the idempotent producer, and exactly-once with transactions).
#   consume:       the topic -> a file. kcat -C -e (values as they are); Sluice kafka (raw,
#                  stop_at: end) -> CSV.
#   consume json:  the topic -> a JSON Lines file, Sluice parsing each message into declared
#                  typed columns (format json, `columns`) and writing them out again.
#   consume pg:    the topic -> a PostgreSQL table of typed columns (Sluice, format json), against
#                  kcat -C -e | psql \copy into a one-column jsonb table (PostgreSQL parses the
#                  JSON, nothing splits it into columns).
#   mysql produce: a MariaDB table (bench_mysql_table) -> a topic, Sluice (json, key id,
#                  at-least-once), against kcat -P -K sending the very messages Sluice sent (its
#                  topic dumped with keys beforehand).
# kcat does no parsing or conversion, so it bounds what a client can do. Goals: produce and the
# raw consume 0.5x kcat; the typed JSON consume 0.8x kcat's dump. Each Sluice run's peak RSS is
# printed with its time.
rows=${BENCH_ROWS:-1000000}
rounds=${BENCH_ROUNDS:-3}
bench_servers
out="$BENCH_DIR/kafka"
rm -rf "$out" && mkdir -p "$out"
awk -v n="$rows" 'BEGIN { for (i = 1; i <= n; i++)
  printf "{\"id\":%d,\"customer\":\"customer %d\",\"amount\":\"%d.%02d\",\"note\":\"naïve café 😀 %d\"}\n",
    i, i % 9973, i % 1000, i % 100, i }' >"$out/orders.jsonl"
topic() {  # NAME: a fresh 2-partition topic
  "$SLUICE_TEST_KAFKA_RUN_CLASS" org.apache.kafka.tools.TopicCommand \
    --bootstrap-server "$SLUICE_TEST_KAFKA_BOOTSTRAP" --create --topic "$1" --partitions 2 \
    --replication-factor 1 >/dev/null
}
count_messages() {  # TOPIC
  kcat -C -q -b "$SLUICE_TEST_KAFKA_BOOTSTRAP" -t "$1" -o beginning -e \
    -X isolation.level=read_committed -f '\n' | wc -l
}
pg_count() {  # TABLE
  "${PSQL[@]}" -d bench -t -A -c "SELECT count(*) FROM $1" 2>/dev/null || echo missing
}
export BENCH_KAFKA=$SLUICE_TEST_KAFKA_BOOTSTRAP BENCH_IN="$out/orders.jsonl" BENCH_OUT="$out"
export BENCH_PG_DB=bench BENCH_MYSQL_DB=bench
"${PSQL[@]}" -d postgres -c "DROP DATABASE IF EXISTS bench" -c "CREATE DATABASE bench"
bench_mysql_table kafka_orders "$rows" "seq"
kcat_psql() {  # TOPIC TABLE: the competitor of Kafka -> PostgreSQL
  "${PSQL[@]}" -d bench -c "DROP TABLE IF EXISTS $2" -c "CREATE TABLE $2 (doc jsonb)"
  measure "kcat | psql copy #$round" "$rows" bash -c \
    "kcat -C -q -b '$BENCH_KAFKA' -t '$1' -o beginning -e -f '%s\n' |
     $(printf '%q ' "${PSQL[@]}") -d bench -c '\\copy $2 FROM STDIN'"
  expect_count "kcat | psql copy #$round" "$(pg_count "$2")" "$rows"
}
# A fresh broker makes its transaction state topic (50 partitions) and warms its JIT on the first
# transactional producer: a one-time cost of the broker, not of a job, that no round should pay.
head -n 100 "$out/orders.jsonl" >"$out/warmup.jsonl"
w="bench_warmup_$$"
topic "$w"
for delivery in at_least_once exactly_once; do
  BENCH_IN="$out/warmup.jsonl" BENCH_TOPIC=$w "$SLUICE" run -q --fresh "$CASE_DIR/produce.yaml" \
    --set delivery=$delivery --set state="$out/state_warmup_$delivery" >/dev/null
done
for round in $(seq "$rounds"); do
  t="bench_kcat_${round}_$$"
  topic "$t"
  measure "kcat produce #$round" "$rows" kcat -P -q -b "$BENCH_KAFKA" -t "$t" -X acks=all \
    -X enable.idempotence=true -X linger.ms=5 -l "$out/orders.jsonl"
  expect_count "kcat produce #$round" "$(count_messages "$t")" "$rows"
  for delivery in at_least_once exactly_once; do
    s="bench_sluice_${delivery}_${round}_$$"
    topic "$s"
    BENCH_TOPIC=$s measure "sluice produce $delivery #$round" "$rows" "$SLUICE" run -q --fresh \
      "$CASE_DIR/produce.yaml" --set delivery=$delivery --set state="$out/state_$s"
    expect_count "sluice produce $delivery #$round" "$(count_messages "$s")" "$rows"
  done
  measure "kcat consume #$round" "$rows" sh -c \
    "kcat -C -q -b '$BENCH_KAFKA' -t '$t' -o beginning -e >'$out/kcat.out'"
  expect_count "kcat consume #$round" "$(wc -l <"$out/kcat.out")" "$rows"
  rm -f "$out"/consumed*.csv
  BENCH_TOPIC=$t measure "sluice consume #$round" "$rows" "$SLUICE" run -q \
    --fresh "$CASE_DIR/consume.yaml" --set state="$out/state_c_$round"
  expect_count "sluice consume #$round" $(($(cat "$out"/consumed*.csv | wc -l) - \
    $(ls "$out"/consumed*.csv | wc -l))) "$rows"
  rm -f "$out"/consumed*.jsonl
  BENCH_TOPIC=$t measure "sluice consume json #$round" "$rows" "$SLUICE" run -q \
    --fresh "$CASE_DIR/consume_json.yaml" --set state="$out/state_j_$round"
  expect_count "sluice consume json #$round" "$(cat "$out"/consumed*.jsonl | wc -l)" "$rows"
  BENCH_TOPIC=$t BENCH_PG_TABLE=sluice_$round measure "sluice consume pg #$round" "$rows" \
    "$SLUICE" run -q --fresh "$CASE_DIR/consume_postgres.yaml" --set state="$out/state_p_$round"
  expect_count "sluice consume pg #$round" "$(pg_count "sluice_$round")" "$rows"
  kcat_psql "$t" "kcat_$round"
  # MariaDB -> Kafka; kcat then sends the messages Sluice sent, keys included.
  m="bench_mysql_${round}_$$"
  topic "$m"
  BENCH_TOPIC=$m BENCH_MYSQL_TABLE=kafka_orders measure "sluice mysql produce #$round" "$rows" \
    "$SLUICE" run -q --fresh "$CASE_DIR/mysql_produce.yaml" --set delivery=at_least_once \
    --set state="$out/state_m_$m"
  expect_count "sluice mysql produce #$round" "$(count_messages "$m")" "$rows"
  kcat -C -q -b "$BENCH_KAFKA" -t "$m" -o beginning -e -f '%k\t%s\n' >"$out/mysql_messages.txt"
  k="bench_mysql_kcat_${round}_$$"
  topic "$k"
  measure "kcat produce mysql messages #$round" "$rows" kcat -P -q -b "$BENCH_KAFKA" -t "$k" \
    -X acks=all -X enable.idempotence=true -X linger.ms=5 -K $'\t' -l "$out/mysql_messages.txt"
  expect_count "kcat produce mysql messages #$round" "$(count_messages "$k")" "$rows"
done
rounds_of() { for r in $(seq "$rounds"); do echo "$1 #$r"; done; }
for label in "kcat produce" "sluice produce at_least_once" "sluice produce exactly_once" \
  "kcat consume" "sluice consume" "sluice consume json" "sluice consume pg" "kcat | psql copy" \
  "sluice mysql produce" "kcat produce mysql messages"; do
  mapfile -t runs < <(rounds_of "$label")
  fastest "$label" "${runs[@]}"
done
ratio "sluice produce at_least_once" "kcat produce"
ratio "sluice produce exactly_once" "kcat produce"
ratio "sluice produce exactly_once" "sluice produce at_least_once"
ratio "sluice consume" "kcat consume"
ratio "sluice consume json" "kcat consume"
ratio "sluice consume pg" "kcat consume"
ratio "sluice consume pg" "kcat | psql copy"
ratio "sluice mysql produce" "kcat produce mysql messages"
goal "sluice produce at_least_once" "kcat produce" 0.5
goal "sluice consume" "kcat consume" 0.5
goal "sluice consume json" "kcat consume" 0.8
goal "sluice produce exactly_once" "sluice produce at_least_once" 0.85
for label in "sluice produce at_least_once" "sluice produce exactly_once" "sluice consume" \
  "sluice consume json" "sluice consume pg" "sluice mysql produce"; do
  echo "  peak RSS: $label ${BENCH_RSS_MB[$label]} MB"
done
rm -rf "$out"
