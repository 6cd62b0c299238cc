# Twice while a job runs, every one of its connections is killed on both servers (KILL in MariaDB,
# pg_terminate_backend in PostgreSQL): the job retries from its last checkpoint, twice exactly,
# and the target equals the source. The kills land while the job is frozen at failpoints (see
# src/core/failpoint.h), with a checkpoint after every batch: right after the 20th commit of its
# writers (the 10th checkpoint), and right after the 100th checkpoint recorded, which the first
# attempt, its connections gone, cannot reach: the retry does.
need_servers
rows=100000  # 500 batches of 200 rows
mysql_exec "DROP DATABASE IF EXISTS fault_kill; CREATE DATABASE fault_kill"
mysql_exec fault_kill "CREATE TABLE orders (id BIGINT PRIMARY KEY, customer VARCHAR(64),
  amount DECIMAL(12,2), at DATETIME(6));
  INSERT INTO orders SELECT seq, CONCAT('c', seq % 1000), seq / 100, TIMESTAMP '2020-01-01 00:00:00' + INTERVAL seq SECOND
  FROM seq_1_to_$rows"
psql_exec postgres "DROP DATABASE IF EXISTS fault_kill"
psql_exec postgres "CREATE DATABASE fault_kill"

SLUICE_FAILPOINTS="runtime.reader.batch=checkpoint@1+;runtime.writer.after_commit=pause@20;runtime.checkpoint.after_record=pause@100" \
  "$SLUICE" run "$CASE_DIR/job.yaml" --no-progress >"$OUT_DIR/job.out" 2>"$OUT_DIR/job.err" &
pid=$!
for round in 1 2; do
  wait_until_stopped "$pid"
  killed=0
  for id in $(mysql_exec "SELECT id FROM information_schema.PROCESSLIST WHERE DB = 'fault_kill' AND id <> CONNECTION_ID()"); do
    mysql_exec "KILL $id" 2>/dev/null && killed=$((killed + 1))
  done
  ((killed > 0)) || fail "round $round: no MariaDB connection of the job to kill"
  killed=$(psql_exec postgres "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = 'fault_kill' AND pid <> pg_backend_pid()")
  ((killed > 0)) || fail "round $round: no PostgreSQL connection of the job to kill"
  continue_paused "$pid"
done
status=0
wait "$pid" || status=$?
if [[ $status -ne 0 ]]; then
  cat "$OUT_DIR/job.err" >&2
  fail "the job did not survive its killed connections (exit $status)"
fi
expect_equal "$(grep -c ' — retry [0-9]* of ' "$OUT_DIR/job.err")" "2" "retries logged"
expect_equal "$(psql_exec fault_kill 'SELECT count(*), count(DISTINCT id) FROM orders')" \
  "$rows	$rows" "rows and distinct keys in PostgreSQL"
expect_ok verify "$CASE_DIR/job.yaml"
mysql_exec "DROP DATABASE fault_kill"
psql_exec postgres "DROP DATABASE fault_kill"
