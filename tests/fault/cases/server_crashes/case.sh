# The MariaDB source and then the PostgreSQL target crash (kill -9) and restart while a job
# runs: the job retries from its last checkpoint and the target equals the source exactly.
need_servers
rows=2000000  # sized so that an idle machine still copies for a few seconds
mysql_exec "DROP DATABASE IF EXISTS fault_crash; CREATE DATABASE fault_crash"
mysql_exec fault_crash "CREATE TABLE orders (id BIGINT PRIMARY KEY, customer VARCHAR(64),
  amount DECIMAL(12,2), at DATETIME(6));
  INSERT INTO orders SELECT seq, CONCAT('c', seq % 1000), seq / 100, TIMESTAMP '2020-01-01 00:00:00' + INTERVAL seq SECOND
  FROM seq_1_to_$rows"
psql_exec postgres "DROP DATABASE IF EXISTS fault_crash"
psql_exec postgres "CREATE DATABASE fault_crash"

"$SLUICE" run "$CASE_DIR/job.yaml" --no-progress >"$OUT_DIR/job.out" 2>"$OUT_DIR/job.err" &
pid=$!
wait_for_rows() {  # until PostgreSQL has at least $1 rows, or the job ended
  for _ in $(seq 1 300); do
    kill -0 "$pid" 2>/dev/null || return 0
    n=$(psql_exec fault_crash "SELECT count(*) FROM orders" 2>/dev/null || echo 0)
    [[ "$n" =~ ^[0-9]+$ && "$n" -ge "$1" ]] && return 0
    sleep 0.1
  done
}
wait_for_rows 50000
if ! kill -0 "$pid" 2>/dev/null; then
  tail -n 20 "$OUT_DIR/job.err" >&2
  fail "the job ended before the first crash"
fi
"$SLUICE_SCRIPTS/test-servers.sh" crash mysql "$SLUICE_TEST_SERVERS_ENV"
wait_for_rows 250000
if ! kill -0 "$pid" 2>/dev/null; then
  tail -n 20 "$OUT_DIR/job.err" >&2
  fail "the job ended before the second crash"
fi
"$SLUICE_SCRIPTS/test-servers.sh" crash postgres "$SLUICE_TEST_SERVERS_ENV"
status=0
wait "$pid" || status=$?
if [[ $status -ne 0 ]]; then
  cat "$OUT_DIR/job.err" >&2
  fail "the job did not survive the crashes (exit $status)"
fi
grep -q "retry" "$OUT_DIR/job.err" || fail "no retry was logged"
expect_equal "$(psql_exec fault_crash 'SELECT count(*), count(DISTINCT id) FROM orders')" \
  "$rows	$rows" "rows and distinct keys in PostgreSQL"
expect_ok verify "$CASE_DIR/job.yaml"
mysql_exec "DROP DATABASE fault_crash"
psql_exec postgres "DROP DATABASE fault_crash"
