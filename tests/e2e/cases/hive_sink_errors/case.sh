# The hive sink's bad inputs fail with a clear error and lose nothing: a wrong S3 secret fails
# fast (exit 3) naming what to check and never printing the secret, an unreachable NameNode is
# an error naming it, a location Sluice cannot write and partition columns that cannot work are
# configuration errors (exit 2) naming the option, and `sluice check` shows the layout and the
# DDL file before anything is written.
need_s3
canary='s3cr3t-canary-Xq7'
cat >s3.yaml <<YAML
name: hive_errors
source: { type: datagen, rows: 100 }
sink: { type: hive, location: "s3://$SLUICE_TEST_S3_BUCKET/e2e_errors_$$", s3_endpoint: "$SLUICE_TEST_S3_ENDPOINT",
        s3_access_key_id: "$SLUICE_TEST_S3_ACCESS_KEY", s3_secret_access_key: "$canary" }
YAML
status=0
"$SLUICE" run s3.yaml >out.txt 2>err.txt || status=$?
expect_equal "$status" 3 "exit status with a wrong S3 secret"
grep -q "permission denied" err.txt || { cat err.txt >&2; fail "a wrong secret is not called a permission problem"; }
grep -qi "secret" err.txt || { cat err.txt >&2; fail "the error does not say to check the secret"; }
if grep -q "$canary" out.txt err.txt; then
  fail "the S3 secret was printed"
fi

# Nothing listens on port 1 of loopback: the NameNode is named, retries end, exit 3.
cat >hdfs.yaml <<YAML
name: hive_errors_hdfs
source: { type: datagen, rows: 100 }
sink: { type: hive, location: "webhdfs://127.0.0.1:1/warehouse/t", hdfs_user: etl }
retry: { max_attempts: 2, initial_backoff_secs: 0.01 }
YAML
status=0
"$SLUICE" run hdfs.yaml >out.txt 2>err.txt || status=$?
expect_equal "$status" 3 "exit status with an unreachable NameNode"
grep -q "on http://127.0.0.1:1" err.txt || { cat err.txt >&2; fail "the unreachable NameNode is not named"; }

cat >bad.yaml <<YAML
name: hive_errors_bad
source: { type: datagen, rows: 10 }
sink: { type: hive, location: "$OUT_DIR/t" }
YAML
expect_error 2 "config error: sink hive: 'hdfs://nn:8020/w': the store must be a local directory, webhdfs://host:port/path or s3://bucket/prefix (hdfs:// RPC is not spoken: use the NameNode's HTTP port with webhdfs://)" \
  run bad.yaml --set sink.location=hdfs://nn:8020/w
expect_error 2 "config error: sink hive: an HDFS location needs hdfs_user (the user HDFS requests act as)" \
  run bad.yaml --set sink.location=webhdfs://127.0.0.1:9870/w
expect_error 2 "config error: sink hive: stream 'generated': time_partition_column 'customer' is string: it must be a timestamp, timestamp_tz or date" \
  run bad.yaml --set sink.time_partition_column=customer
expect_error 2 "config error: sink hive: stream 'generated': partition_by 'nope' is not a column of the stream" \
  run bad.yaml --set "sink.partition_by=[nope]"
[[ ! -e "$OUT_DIR/t" ]] || fail "a refused job wrote into the table's directory"

expect_ok check bad.yaml --set sink.time_partition_column=created_at
grep -q "would be written to $OUT_DIR/t as parquet files, partitioned by dt, hr" "$OUT_DIR/.stdout" ||
  { cat "$OUT_DIR/.stdout" >&2; fail "check does not show the layout"; }
grep -q "no metastore: the DDL goes to $OUT_DIR/t/_sluice/hive_errors_bad/generated.sql" "$OUT_DIR/.stdout" ||
  { cat "$OUT_DIR/.stdout" >&2; fail "check does not show where the DDL goes"; }
