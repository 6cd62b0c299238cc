# While a job runs, every one of its connections is killed on both servers (KILL in MariaDB,
# pg_terminate_backend in PostgreSQL): the job retries and the target equals the source.
need_servers
rows=2000000  # sized so that an idle machine still copies for a few seconds
mysql_exec "DROP DATABASE IF EXISTS fault_kill; CREATE DATABASE fault_kill"
mysql_exec fault_kill "CREATE TABLE orders (id BIGINT PRIMARY KEY, customer VARCHAR(64),
  amount DECIMAL(12,2), at DATETIME(6));
  INSERT INTO orders SELECT seq, CONCAT('c', seq % 1000), seq / 100, TIMESTAMP '2020-01-01 00:00:00' + INTERVAL seq SECOND
  FROM seq_1_to_$rows"
psql_exec postgres "DROP DATABASE IF EXISTS fault_kill"
psql_exec postgres "CREATE DATABASE fault_kill"

"$SLUICE" run "$CASE_DIR/job.yaml" --no-progress >"$OUT_DIR/job.out" 2>"$OUT_DIR/job.err" &
pid=$!
rows_now() { psql_exec fault_kill "SELECT count(*) FROM orders" 2>/dev/null || echo 0; }
for target in 60000 250000; do
  for _ in $(seq 1 300); do
    kill -0 "$pid" 2>/dev/null || break
    n=$(rows_now)
    [[ "$n" =~ ^[0-9]+$ && "$n" -ge "$target" ]] && break
    sleep 0.1
  done
  if ! kill -0 "$pid" 2>/dev/null; then
    tail -n 20 "$OUT_DIR/job.err" >&2
    fail "the job ended before its connections were killed (at $(rows_now) of $rows rows)"
  fi
  for id in $(mysql_exec "SELECT id FROM information_schema.PROCESSLIST WHERE DB = 'fault_kill' AND id <> CONNECTION_ID()"); do
    mysql_exec "KILL $id" 2>/dev/null || true
  done
  psql_exec postgres "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = 'fault_kill' AND pid <> pg_backend_pid()" >/dev/null
done
status=0
wait "$pid" || status=$?
if [[ $status -ne 0 ]]; then
  cat "$OUT_DIR/job.err" >&2
  fail "the job did not survive its killed connections (exit $status)"
fi
grep -q "retry" "$OUT_DIR/job.err" || fail "no retry was logged"
expect_equal "$(psql_exec fault_kill 'SELECT count(*), count(DISTINCT id) FROM orders')" \
  "$rows	$rows" "rows and distinct keys in PostgreSQL"
expect_ok verify "$CASE_DIR/job.yaml"
mysql_exec "DROP DATABASE fault_kill"
psql_exec postgres "DROP DATABASE fault_kill"
