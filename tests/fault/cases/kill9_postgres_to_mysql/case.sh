# kill -9 at every step of a commit while PostgreSQL -> MariaDB runs (composite text key;
# failpoints: crash_plans in tests/e2e/lib.sh), then finish: no key is ever committed twice, and
# the target equals the source exactly.
need_servers
rows=100000  # 1560 batches of 64 rows; a killed run commits a few
psql_exec postgres "DROP DATABASE IF EXISTS fault_p2m"
psql_exec postgres "CREATE DATABASE fault_p2m"
psql_exec fault_p2m "CREATE TABLE events (region text, seq bigint, payload text, amount numeric(14,4),
  at timestamptz, PRIMARY KEY (region, seq));
  INSERT INTO events SELECT (ARRAY['eu','us','ap','Zürich'])[1 + s % 4], s, md5(s::text) || ' 東京',
    s / 7.0, TIMESTAMPTZ '2021-06-01 00:00:00+00' + s * INTERVAL '1 second'
  FROM generate_series(1, $rows) s; ANALYZE events"
mysql_exec "DROP DATABASE IF EXISTS fault_p2m; CREATE DATABASE fault_p2m"

no_key_twice() {
  local counts
  counts=$(mysql_exec fault_p2m "SELECT COUNT(*) = COUNT(DISTINCT region, seq) FROM events" \
    2>/dev/null || echo 1)  # the table may not exist yet
  [[ "$counts" == 1 ]] || fail "after the crash at '$1', a key was committed twice"
}
AFTER_CRASH=no_key_twice
mapfile -t plans < <(crash_plans mysql.commit.after_rows=crash@2 \
  mysql.commit.before_fence_check=crash@3)
crash_loop "${plans[@]}" -- run "$CASE_DIR/job.yaml"
expect_equal "$KILLS" "${#plans[@]}" "runs killed at their crash point"
expect_ok run "$CASE_DIR/job.yaml"
grep -q "resumed from checkpoint" "$OUT_DIR/.stdout" || fail "the last run did not resume"
expect_equal "$(mysql_exec fault_p2m 'SELECT COUNT(*), COUNT(DISTINCT region, seq) FROM events')" \
  "$rows	$rows" "rows and distinct keys in MariaDB"
expect_ok verify "$CASE_DIR/job.yaml"
mysql_exec "DROP DATABASE fault_p2m"
psql_exec postgres "DROP DATABASE fault_p2m"
