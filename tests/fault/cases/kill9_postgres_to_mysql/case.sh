# kill -9 at random moments while PostgreSQL -> MariaDB runs (composite text key), then finish:
# the target equals the source exactly.
need_servers
rows=1000000
psql_exec postgres "DROP DATABASE IF EXISTS fault_p2m"
psql_exec postgres "CREATE DATABASE fault_p2m"
psql_exec fault_p2m "CREATE TABLE events (region text, seq bigint, payload text, amount numeric(14,4),
  at timestamptz, PRIMARY KEY (region, seq));
  INSERT INTO events SELECT (ARRAY['eu','us','ap','Zürich'])[1 + s % 4], s, md5(s::text) || ' 東京',
    s / 7.0, TIMESTAMPTZ '2021-06-01 00:00:00+00' + s * INTERVAL '1 second'
  FROM generate_series(1, $rows) s; ANALYZE events"
mysql_exec "DROP DATABASE IF EXISTS fault_p2m; CREATE DATABASE fault_p2m"

kill_loop 7 run "$CASE_DIR/job.yaml"
echo "kills: $KILLS"
[[ $KILLS -ge 5 ]] || fail "only $KILLS runs were killed mid-job"
finish_job run "$CASE_DIR/job.yaml"
expect_equal "$(mysql_exec fault_p2m 'SELECT COUNT(*), COUNT(DISTINCT region, seq) FROM events')" \
  "$rows	$rows" "rows and distinct keys in MariaDB"
expect_ok verify "$CASE_DIR/job.yaml"
mysql_exec "DROP DATABASE fault_p2m"
psql_exec postgres "DROP DATABASE fault_p2m"
