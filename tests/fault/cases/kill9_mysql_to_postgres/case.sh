# kill -9 at every step of a commit while MariaDB -> PostgreSQL runs (failpoints: crash_plans in
# tests/e2e/lib.sh), then finish: no key is ever committed twice, and the target equals the source
# exactly (count, canonical checksum per key bucket via verify, no duplicate key).
need_servers
rows=100000  # 1560 batches of 64 rows; a killed run commits a few
mysql_exec "DROP DATABASE IF EXISTS fault_m2p; CREATE DATABASE fault_m2p"
mysql_exec fault_m2p "CREATE TABLE orders (id BIGINT PRIMARY KEY, customer VARCHAR(64) NOT NULL,
  amount DECIMAL(12,2), note TEXT, at DATETIME(6));
  INSERT INTO orders SELECT IF(seq <= $rows * 9 / 10, 1000000 + seq, seq * 100000),
    CONCAT('customer ', seq % 1000, ' é😀'), (seq * 7919 % 100000000) / 100,
    IF(seq % 17 = 0, NULL, MD5(seq)), TIMESTAMP '2020-01-01 00:00:00' + INTERVAL seq SECOND
  FROM seq_1_to_$rows"
psql_exec postgres "DROP DATABASE IF EXISTS fault_m2p"
psql_exec postgres "CREATE DATABASE fault_m2p"

no_key_twice() {
  local counts
  counts=$(psql_exec fault_m2p "SELECT count(*) = count(DISTINCT id) FROM orders" 2>/dev/null ||
    echo t)  # the table may not exist yet
  [[ "$counts" == t ]] || fail "after the crash at '$1', a key was committed twice"
}
AFTER_CRASH=no_key_twice
mapfile -t plans < <(crash_plans postgres.commit.after_rows=crash@2 \
  postgres.commit.before_fence_check=crash@3)
crash_loop "${plans[@]}" -- run "$CASE_DIR/job.yaml"
expect_equal "$KILLS" "${#plans[@]}" "runs killed at their crash point"
expect_ok run "$CASE_DIR/job.yaml"
grep -q "resumed from checkpoint" "$OUT_DIR/.stdout" || fail "the last run did not resume"
expect_equal "$(psql_exec fault_m2p 'SELECT count(*), count(DISTINCT id) FROM orders')" \
  "$rows	$rows" "rows and distinct keys in PostgreSQL"
expect_ok verify "$CASE_DIR/job.yaml"
mysql_exec "DROP DATABASE fault_m2p"
psql_exec postgres "DROP DATABASE fault_m2p"
