# Kafka in and out: Sluice against kcat (librdkafka's own command-line client) on the same
# BENCH_ROWS (default 1,000,000) JSON lines of about 110 bytes, each BENCH_ROUNDS times (default
# 3, interleaved; the fastest counts: the machine is shared).
#   produce: a JSON Lines file -> a 2-partition topic. kcat -P -l (one message per line, no
#            parsing); Sluice file (jsonl, typed columns) -> kafka (json, at-least-once with the
#            idempotent producer, and exactly-once with transactions).
#   consume: the topic -> a file. kcat -C -e (values as they are); Sluice kafka (raw,
#            stop_at: end) -> CSV.
# kcat does no parsing or conversion, so it bounds what a client can do; the goal is 0.5x kcat.
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
export BENCH_KAFKA=$SLUICE_TEST_KAFKA_BOOTSTRAP BENCH_IN="$out/orders.jsonl"
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
  BENCH_TOPIC=$t BENCH_OUT="$out" measure "sluice consume #$round" "$rows" "$SLUICE" run -q \
    --fresh "$CASE_DIR/consume.yaml" --set state="$out/state_c_$round"
  expect_count "sluice consume #$round" $(($(cat "$out"/consumed*.csv | wc -l) - \
    $(ls "$out"/consumed*.csv | wc -l))) "$rows"
done
rounds_of() { for r in $(seq "$rounds"); do echo "$1 #$r"; done; }
for label in "kcat produce" "sluice produce at_least_once" "sluice produce exactly_once" \
  "kcat consume" "sluice consume"; do
  mapfile -t runs < <(rounds_of "$label")
  fastest "$label" "${runs[@]}"
done
ratio "sluice produce at_least_once" "kcat produce"
ratio "sluice produce exactly_once" "kcat produce"
ratio "sluice consume" "kcat consume"
goal "sluice produce at_least_once" "kcat produce" 0.5
goal "sluice consume" "kcat consume" 0.5
rm -rf "$out"
