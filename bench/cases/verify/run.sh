# sluice verify on a copied MySQL -> PostgreSQL table of BENCH_ROWS rows (default 5,000,000):
# checksums computed by the two servers (only bucket totals cross the network) against reading
# both sides through Sluice (--read-through). Both must find the copy identical.
rows=${BENCH_ROWS:-5000000}
bench_servers
bench_mysql_table orders_uniform "$rows" "seq"
"${PSQL[@]}" -d postgres -c "DROP DATABASE IF EXISTS bench_verify" -c "CREATE DATABASE bench_verify"
export BENCH_MYSQL_DB=bench BENCH_PG_DB=bench_verify
measure "copy (for scale)" "$rows" "$SLUICE" run -q "$CASE_DIR/job.yaml" --fresh \
  --set state="$BENCH_DIR/verify-state"
measure "verify, checksums in the servers" "$rows" "$SLUICE" verify -q "$CASE_DIR/job.yaml"
grep -q "checksums computed by mysql; target: checksums computed by postgres" \
  "$BENCH_DIR/last.out" || echo "  WARNING: the servers did not compute the checksums"
measure "verify --read-through" "$rows" "$SLUICE" verify -q --read-through "$CASE_DIR/job.yaml"
expect_count "verified" "$("${PSQL[@]}" -d bench_verify -t -A -c 'SELECT count(*) FROM verified')" "$rows"
ratio "verify, checksums in the servers" "verify --read-through"
