# Kafka -> Hive-partitioned Parquet: the seed's streaming job on BENCH_ROWS (default 2,000,000)
# JSON events of about 100 bytes in a 2-partition topic, each BENCH_ROUNDS times (default 2;
# the fastest counts). Sluice writes dt=/hr= partitions of snappy Parquet exactly once with a
# checkpoint every 10 s, to HDFS (Hadoop's MiniDFSCluster through WebHDFS, on this machine) and
# to a local directory; Apache Flink 2.2.1 (bench/peers/flink, a local MiniCluster, Kafka
# source bounded at the ends, FileSink of Parquet, exactly-once checkpoints every 10 s) writes
# the same table to a local directory. kcat -C -e dumping the topic bounds any consumer.
# Goals: >= 250,000 messages/s to HDFS with peak RSS < 256 MB.
rows=${BENCH_ROWS:-2000000}
rounds=${BENCH_ROUNDS:-2}
bench_servers
out="$BENCH_DIR/kafka_to_hive"
rm -rf "$out" && mkdir -p "$out"
stores_env="$out/stores.env"
"$BENCH_ROOT/scripts/test-servers.sh" start-hdfs "$stores_env" >/dev/null
source "$stores_env"
"$BENCH_ROOT/scripts/python-venv.sh" >"$out/python" && python=$(cat "$out/python")
awk -v n="$rows" 'BEGIN { split("DE FR IT ES PL NL SE PT", countries, " ");
  for (i = 0; i < n; i++) { s = 9 * 3600 + int(i * 6 * 3600 / n)
    printf "{\"id\":%d,\"ts\":\"2026-12-04T%02d:%02d:%02d.%03dZ\",\"user\":\"user-%05d\",\"country\":\"%s\",\"amount\":\"%d.%02d\",\"note\":\"n%d\"}\n",
      i, int(s / 3600), int(s / 60) % 60, s % 60, i % 1000, (i * 7919) % 50000, countries[i % 8 + 1], i % 1000, i % 100, i % 97 } }' \
  >"$out/events.jsonl"
echo "  $(wc -c <"$out/events.jsonl") bytes, $(awk -v b="$(wc -c <"$out/events.jsonl")" -v n="$rows" 'BEGIN { printf "%.0f", b / n }') bytes per message"
topic="bench_hive_$$"
"$SLUICE_TEST_KAFKA_RUN_CLASS" org.apache.kafka.tools.TopicCommand \
  --bootstrap-server "$SLUICE_TEST_KAFKA_BOOTSTRAP" --create --topic "$topic" --partitions 2 \
  --replication-factor 1 >/dev/null
kcat -P -q -b "$SLUICE_TEST_KAFKA_BOOTSTRAP" -t "$topic" -X linger.ms=5 -l "$out/events.jsonl"
export BENCH_KAFKA=$SLUICE_TEST_KAFKA_BOOTSTRAP BENCH_TOPIC=$topic
export BENCH_HDFS_USER=$SLUICE_TEST_HDFS_USER
# Rows in a table: what pyarrow reads from the visible files (HDFS: through WebHDFS).
table_rows() {  # DIR (local) or webhdfs path
  "$python" - "$1" <<'PY'
import sys, pyarrow.dataset as ds
print(ds.dataset(sys.argv[1], format="parquet", partitioning="hive",
                 ignore_prefixes=[".", "_"]).count_rows())
PY
}
hdfs_rows() {  # TABLE_PATH: copies the visible files out of HDFS, then counts them
  local copy="$out/hdfs_copy"
  rm -rf "$copy"
  "$python" "$BENCH_ROOT/tests/e2e/cases/kafka_to_hive_on_hdfs/check_table.py" \
    "$SLUICE_TEST_HDFS_WEBHDFS" "$SLUICE_TEST_HDFS_USER" "$1" "$copy" >/dev/null
  table_rows "$copy"
}
flink=""
if [[ -x "$BENCH_ROOT/bench/peers/flink/run.sh" ]]; then
  "$BENCH_ROOT/bench/peers/flink/build.sh" >/dev/null && flink=1
fi
for round in $(seq "$rounds"); do
  measure "kcat -C dump #$round" "$rows" sh -c \
    "kcat -C -q -b '$BENCH_KAFKA' -t '$topic' -o beginning -e >'$out/kcat.out'"
  expect_count "kcat -C dump #$round" "$(wc -l <"$out/kcat.out")" "$rows"
  rm -f "$out/kcat.out"
  path=/bench/hive_${round}_$$
  BENCH_LOCATION="webhdfs://${SLUICE_TEST_HDFS_WEBHDFS#http://}$path" \
    measure "sluice -> hdfs #$round" "$rows" "$SLUICE" run -q --fresh "$CASE_DIR/job.yaml" \
    --set state="$out/state_h_$round"
  expect_count "sluice -> hdfs #$round" "$(hdfs_rows "$path")" "$rows"
  rm -rf "$out/local"
  BENCH_LOCATION="$out/local" measure "sluice -> local #$round" "$rows" "$SLUICE" run -q \
    --fresh "$CASE_DIR/job.yaml" --set state="$out/state_l_$round"
  expect_count "sluice -> local #$round" "$(table_rows "$out/local")" "$rows"
  if [[ -n "$flink" ]]; then
    rm -rf "$out/flink"
    measure "flink -> local #$round" "$rows" "$BENCH_ROOT/bench/peers/flink/run.sh" \
      "$BENCH_KAFKA" "$topic" "$out/flink"
    expect_count "flink -> local #$round" "$(table_rows "$out/flink")" "$rows"
  fi
done
rounds_of() { for r in $(seq "$rounds"); do echo "$1 #$r"; done; }
labels=("kcat -C dump" "sluice -> hdfs" "sluice -> local")
[[ -n "$flink" ]] && labels+=("flink -> local")
for label in "${labels[@]}"; do
  mapfile -t runs < <(rounds_of "$label")
  fastest "$label" "${runs[@]}"
done
ratio "sluice -> hdfs" "kcat -C dump"
ratio "sluice -> local" "kcat -C dump"
if [[ -n "$flink" ]]; then
  ratio "sluice -> local" "flink -> local"
  ratio "sluice -> hdfs" "flink -> local"
fi
awk -v s="${BENCH_SECONDS[sluice -> hdfs]}" -v n="$rows" 'BEGIN { r = n / s;
  printf "  goal: sluice -> hdfs >= 250000 messages/s: %.0f %s\n", r, (r >= 250000 ? "MET" : "MISSED") }'
expect_rss_under "sluice -> hdfs" 256
"$BENCH_ROOT/scripts/test-servers.sh" stop-hdfs "$stores_env" >/dev/null
