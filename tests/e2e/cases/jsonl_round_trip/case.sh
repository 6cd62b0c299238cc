expect_ok run "$CASE_DIR/job.yaml"
gzip -dc "$OUT_DIR/out.jsonl.gz" >"$OUT_DIR/out.jsonl"
expect_same "$OUT_DIR/out.jsonl" "$CASE_DIR/expected.jsonl"
