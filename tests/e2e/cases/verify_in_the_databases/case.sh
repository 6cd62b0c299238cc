# `sluice verify` with the digests computed by the databases themselves (only bucket totals cross
# the network), and by Sluice where SQL cannot render a type alike on both servers. The two ways
# must agree on every value of every type: MariaDB's SQL digests are compared with Sluice's own
# digests of the SQLite copy, PostgreSQL's with SQLite's, and MariaDB's with PostgreSQL's. Then
# every kind of damage is found and named, by key and key range.
need_servers
mysql_exec "DROP DATABASE IF EXISTS e2e_verify; CREATE DATABASE e2e_verify;
  DROP DATABASE IF EXISTS e2e_verify_back; CREATE DATABASE e2e_verify_back"
mysql_load e2e_verify "$CASE_DIR/tables.sql"
psql_exec postgres "DROP DATABASE IF EXISTS e2e_verify_pg"
psql_exec postgres "CREATE DATABASE e2e_verify_pg"

for route in mysql_to_postgres mysql_to_sqlite postgres_to_mysql postgres_to_sqlite filtered; do
  expect_ok run "$CASE_DIR/$route.yaml"
done

# expect_method ROUTE STREAM SOURCE_METHOD TARGET_METHOD: how `sluice verify` digested a stream.
expect_method() {
  local line
  line=$(grep -A1 "stream '$2' " "$OUT_DIR/.stdout" | tail -n 1)
  [[ "$line" == "    source: $3; target: $4" ]] ||
    fail "$1, stream $2: digested as '$line', expected 'source: $3; target: $4'"
}
in_mysql="checksums computed by mysql"
in_postgres="checksums computed by postgres"
through_sluice="rows read through sluice"

expect_ok verify "$CASE_DIR/mysql_to_postgres.yaml"
grep -q "^Verification passed" "$OUT_DIR/.stdout" || fail "mysql_to_postgres did not pass"
expect_method mysql_to_postgres typed "$in_mysql" "$in_postgres"
expect_method mysql_to_postgres tagged "$in_mysql" "$in_postgres"
expect_method mysql_to_postgres measured \
  "$through_sluice (column 'reading' (double) cannot be rendered as float64 in SQL)" \
  "$through_sluice (column 'reading' (double precision) cannot be rendered as float64 in SQL)"
expect_ok verify --read-through "$CASE_DIR/mysql_to_postgres.yaml"
expect_method "mysql_to_postgres --read-through" typed "$through_sluice" "$through_sluice"
expect_ok verify "$CASE_DIR/mysql_to_sqlite.yaml"
expect_method mysql_to_sqlite typed "$in_mysql" "$through_sluice"
expect_method mysql_to_sqlite tagged "$in_mysql" "$through_sluice"
expect_ok verify "$CASE_DIR/postgres_to_mysql.yaml"
expect_method postgres_to_mysql typed "$in_postgres" "$in_mysql"
expect_ok verify "$CASE_DIR/postgres_to_sqlite.yaml"
expect_method postgres_to_sqlite typed "$in_postgres" "$through_sluice"
expect_ok verify "$CASE_DIR/filtered.yaml"
expect_method filtered typed "$in_mysql" "$in_postgres"
expect_equal "$(grep -o "2,000 source rows, 2,000 target rows" "$OUT_DIR/.stdout")" \
  "2,000 source rows, 2,000 target rows" "rows of the filtered stream"

# Damage of every kind in the PostgreSQL copy: a changed decimal, a timestamp one microsecond
# off, an empty string turned NULL, a changed 4-byte character, deleted rows, an extra row
# beyond the source's key range, and a row missing from the composite-key table.
psql_exec e2e_verify_pg "
  UPDATE typed SET amount = amount + 0.01 WHERE id = 77;
  UPDATE typed SET dt = dt - interval '1 microsecond' WHERE id = 9223372036854775807;
  UPDATE typed SET name = NULL WHERE id = -9223372036854775808;
  UPDATE typed SET name = replace(name, '😀', '😁') WHERE id = 10;
  DELETE FROM typed WHERE id BETWEEN 500 AND 504;
  INSERT INTO typed (id, name) VALUES (5000000, 'extra');
  DELETE FROM tagged WHERE tag = 'tag-7-ß' AND n = 2107"
# Both ways of digesting name the same differences.
for how in "" --read-through; do
  expect_error 5 "verification failed: the target differs from the source" \
    verify $how "$CASE_DIR/mysql_to_postgres.yaml"
  if [[ -z "$how" ]]; then
    expect_method mysql_to_postgres typed "$in_mysql" "$in_postgres"
  fi
  for line in \
    "    5 missing in the target, 1 extra in the target, 4 different" \
    "    different: id=77: amount '-499.23' in the source, '-499.22' in the target" \
    "    different: id=9223372036854775807: dt '9999-12-31 23:59:59.999999' in the source, '9999-12-31 23:59:59.999998' in the target" \
    "    different: id=-9223372036854775808: name '' in the source, NULL in the target" \
    "    different: id=10: name 'name 10 ünïcödé 😀' in the source, 'name 10 ünïcödé 😁' in the target" \
    "    missing in the target: id=500" \
    "    extra in the target: id=5000000" \
    "    differing keys: id 500..504 (5 rows)" \
    "    missing in the target: tag=tag-7-ß, n=2107"; do
    grep -qxF -- "$line" "$OUT_DIR/.stdout" || {
      cat "$OUT_DIR/.stdout" >&2
      fail "verify $how did not report: $line"
    }
  done
done

# An interrupted verify stops at once, even while a server is still computing: PostgreSQL's
# digest query waits behind a lock here until SIGINT cancels it.
PGAPPNAME=verify_locker PGPASSWORD=$SLUICE_TEST_PG_PASSWORD "$SLUICE_TEST_PG_BIN/psql" -X -q \
  -h "$SLUICE_TEST_PG_HOST" -p "$SLUICE_TEST_PG_PORT" -U "$SLUICE_TEST_PG_USER" -d e2e_verify_pg \
  -c "BEGIN; LOCK TABLE typed IN ACCESS EXCLUSIVE MODE; SELECT pg_sleep(600); COMMIT;" \
  >/dev/null 2>&1 &
locker=$!
release_lock() {
  psql_exec postgres "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
    WHERE application_name = 'verify_locker'" >/dev/null
  wait "$locker" 2>/dev/null || true
}
deadline=$((SECONDS + 300))
until [[ "$(psql_exec postgres "SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a USING (pid)
    WHERE a.application_name = 'verify_locker' AND l.mode = 'AccessExclusiveLock'")" != 0 ]]; do
  ((SECONDS < deadline)) || { release_lock; fail "the locker never held its lock"; }
  sleep 0.1
done
"$SLUICE" verify "$CASE_DIR/mysql_to_postgres.yaml" >"$OUT_DIR/interrupted.out" \
  2>"$OUT_DIR/interrupted.err" &
verifier=$!
# Until PostgreSQL's digest query waits for the lock. (pg_stat_activity keeps only the first
# 1024 bytes of a query: a long digest query shows its beginning, not its GROUP BY.)
until [[ "$(psql_exec postgres "SELECT count(*) FROM pg_stat_activity
    WHERE wait_event_type = 'Lock' AND query LIKE 'SELECT b, COUNT(*), SUM(h) FROM %'")" != 0 ]]; do
  kill -0 "$verifier" 2>/dev/null || { release_lock; fail "verify ended although the target was locked"; }
  ((SECONDS < deadline)) || { release_lock; fail "verify's digest query never waited for the lock"; }
  sleep 0.1
done
kill -0 "$verifier" 2>/dev/null || { release_lock; fail "verify ended although the target was locked"; }
kill -INT "$verifier"
started=$SECONDS
status=0
wait "$verifier" || status=$?
waited=$((SECONDS - started))
release_lock
[[ $status -eq 130 ]] || { cat "$OUT_DIR/interrupted.err" >&2; fail "interrupted verify exited $status, expected 130"; }
((waited <= 5)) || fail "the interrupted verify took $waited s to stop"

mysql_exec "DROP DATABASE e2e_verify; DROP DATABASE e2e_verify_back"
psql_exec postgres "DROP DATABASE e2e_verify_pg"
