# kill -9 at random moments while MariaDB -> PostgreSQL runs, then finish: the target equals the
# source exactly (count, canonical checksum per key bucket via verify, no duplicate key).
need_servers
rows=2000000
mysql_exec "DROP DATABASE IF EXISTS fault_m2p; CREATE DATABASE fault_m2p"
mysql_exec fault_m2p "CREATE TABLE orders (id BIGINT PRIMARY KEY, customer VARCHAR(64) NOT NULL,
  amount DECIMAL(12,2), note TEXT, at DATETIME(6));
  INSERT INTO orders SELECT IF(seq <= $rows * 9 / 10, 1000000 + seq, seq * 100000),
    CONCAT('customer ', seq % 1000, ' é😀'), (seq * 7919 % 100000000) / 100,
    IF(seq % 17 = 0, NULL, MD5(seq)), TIMESTAMP '2020-01-01 00:00:00' + INTERVAL seq SECOND
  FROM seq_1_to_$rows"
psql_exec postgres "DROP DATABASE IF EXISTS fault_m2p"
psql_exec postgres "CREATE DATABASE fault_m2p"

kill_loop 8 run "$CASE_DIR/job.yaml"
echo "kills: $KILLS"
[[ $KILLS -ge 6 ]] || fail "only $KILLS runs were killed mid-job"
finish_job run "$CASE_DIR/job.yaml"
expect_equal "$(psql_exec fault_m2p 'SELECT count(*), count(DISTINCT id) FROM orders')" \
  "$rows	$rows" "rows and distinct keys in PostgreSQL"
expect_ok verify "$CASE_DIR/job.yaml"
mysql_exec "DROP DATABASE fault_m2p"
psql_exec postgres "DROP DATABASE fault_m2p"
