# The seed's streaming job end to end: a Kafka topic of JSON events -> a Hive table of Parquet
# files on HDFS, partitioned by event hour (dt=/hr=), registered in a Hive metastore, exactly
# once. The job is killed 50 times at random steps of its commits (failpoints, seeded): after
# each kill, what a reader of the table sees (every visible file, read through WebHDFS by
# pyarrow) holds no event twice and only whole files; at the end every event is in exactly one
# file, in its hour's partition, each partition with its _SUCCESS, and DuckDB agrees.
need_servers
need_hdfs
need_metastore
python=$(venv_python)
prefix=e2e_hive_$$
count=40000
kafka_topic "$prefix" 3
"$python" "$CASE_DIR/events.py" $count >events.jsonl
kafka_produce "$prefix" <events.jsonl
table_dir=/warehouse/$prefix
cat >job.yaml <<YAML
name: $prefix
source:
  type: kafka
  brokers: "$SLUICE_TEST_KAFKA_BOOTSTRAP"
  topic: "$prefix"
  stop_at: end
  start_from: earliest
  columns: {id: int64, ts: timestamp_tz(3), user: string, country: string, amount: "decimal(10,2)", note: string}
sink:
  type: hive
  location: "webhdfs://${SLUICE_TEST_HDFS_WEBHDFS#http://}$table_dir"
  hdfs_user: "$SLUICE_TEST_HDFS_USER"
  time_partition_column: ts
  lateness_secs: 600
  target_file_bytes: 256KiB
  metastore: "$SLUICE_TEST_METASTORE_URI"
  database: $prefix
  table: events
  table_location: "$SLUICE_TEST_HDFS_NAMENODE$table_dir"
parallelism: 2
batch_rows: 200
checkpoint: {interval_secs: 0}
YAML
# 50 kills at random commit steps (seeded, so a failure replays), a checkpoint after every
# batch so that each run commits a little first; then at the two steps of the end.
RANDOM=1405
points=(runtime.writer.before_commit runtime.writer.after_commit runtime.checkpoint.before_record
  runtime.checkpoint.after_record hive.commit.before_manifest hive.commit.after_manifest
  hive.commit.after_publish)
plans=()
for i in $(seq 1 50); do
  plans+=("runtime.reader.batch=checkpoint@1+;${points[RANDOM % ${#points[@]}]}=crash@$((RANDOM % 4 + 1))")
done
plans+=("runtime.finish.before=crash@1" "hive.finish.before_remove_manifests=crash@1")
what_readers_see() {
  "$python" "$CASE_DIR/check_table.py" "$SLUICE_TEST_HDFS_WEBHDFS" "$SLUICE_TEST_HDFS_USER" \
    "$table_dir" "$OUT_DIR/table" >>"$OUT_DIR/seen.log" ||
    fail "after the kill armed with '$1' a reader of the table sees the above"
}
AFTER_CRASH=what_readers_see crash_loop "${plans[@]}" -- run job.yaml
expect_equal "$KILLS" 52 "kills"
expect_ok run job.yaml
"$python" "$CASE_DIR/check_table.py" "$SLUICE_TEST_HDFS_WEBHDFS" "$SLUICE_TEST_HDFS_USER" \
  "$table_dir" "$OUT_DIR/table" --complete $count >final.log || fail "the final table: see above"
cat final.log
# `sluice verify` reads the topic and the table back (the file source on the webhdfs:// glob)
# and finds them identical.
expect_ok verify job.yaml
