# A change data capture source's server crashes (kill -9) and restarts while a snapshot_then_cdc
# job streams from it: MariaDB's binlog into a PostgreSQL table, then PostgreSQL's replication
# slot into a MariaDB table (`mode: apply`). Each job streams changes before the crash, loses its
# connection, retries from its last checkpoint, and captures the changes made after the restart;
# the target ends equal to the source. A stream never ends, so each crash lands while it runs.
need_servers
mysql_exec "DROP DATABASE IF EXISTS fault_cdc; CREATE DATABASE fault_cdc"
psql_exec postgres "DROP DATABASE IF EXISTS fault_cdc"
psql_exec postgres "CREATE DATABASE fault_cdc"

# Writes of round N on the source (inserts, updates, deletes, a key change); both servers
# understand this SQL.
round_writes() {
  local n=$1 base=$((100000 + $1 * 100))
  echo "INSERT INTO items VALUES ($base, 'round $n a'), ($((base + 1)), 'round $n b');
        UPDATE items SET v = 'updated in $n' WHERE id % $((7 + n)) = 0;
        DELETE FROM items WHERE id % $((50 + n)) = 0;
        UPDATE items SET id = id + 500000 WHERE id = $((base + 1))"
}
mysql_dump() { mysql_exec fault_cdc "SELECT id, v FROM items ORDER BY id"; }
pg_dump() { psql_exec fault_cdc "SELECT id, v FROM items ORDER BY id"; }

# wait_until_same WHAT FROM TO: until the dumps FROM and TO (functions) are equal, 120 s at most.
wait_until_same() {
  local deadline=$((SECONDS + 120))
  until [[ "$($2)" == "$($3)" ]]; do
    if ((SECONDS >= deadline)) || ! kill -0 "$pid" 2>/dev/null; then
      cat "$OUT_DIR/job.err" >&2
      diff <($2) <($3) | head -20 >&2
      fail "$1: the target never caught up"
    fi
    sleep 0.1
  done
}

# run_crash NAME SOURCE_SERVER FROM TO SOURCE_EXEC: the job NAME.yaml streams from SOURCE_SERVER;
# rounds of writes before and after its crash arrive.
run_crash() {
  local name=$1 server=$2 from=$3 to=$4 source_exec=$5
  "$SLUICE" run "$CASE_DIR/$name.yaml" --no-progress >"$OUT_DIR/job.out" 2>"$OUT_DIR/job.err" &
  pid=$!
  wait_until_same "$name: the snapshot" "$from" "$to"
  $source_exec fault_cdc "$(round_writes 1)"
  wait_until_same "$name: the stream before the crash" "$from" "$to"
  "$SLUICE_SCRIPTS/test-servers.sh" crash "$server" "$SLUICE_TEST_SERVERS_ENV"
  $source_exec fault_cdc "$(round_writes 2)"
  wait_until_same "$name: the stream after the crash" "$from" "$to"
  kill -TERM "$pid"
  local status=0
  wait "$pid" || status=$?
  expect_equal "$status" "130" "$name: exit status after the stop (interrupted)"
  grep -q ' — retry [0-9]* of ' "$OUT_DIR/job.err" || {
    cat "$OUT_DIR/job.err" >&2
    fail "$name: no retry logged: the crash went unnoticed"
  }
}

mysql_exec fault_cdc "CREATE TABLE items (id INT PRIMARY KEY, v VARCHAR(40));
  INSERT INTO items SELECT seq, CONCAT('row ', seq) FROM seq_1_to_1000"
psql_exec fault_cdc "CREATE TABLE items (id int PRIMARY KEY, v varchar(40))"
run_crash mysql_to_postgres mysql mysql_dump pg_dump mysql_exec

# The other way: PostgreSQL's slot into MariaDB, from a fresh table on each side.
mysql_exec fault_cdc "DROP TABLE items; CREATE TABLE items (id INT PRIMARY KEY, v VARCHAR(40))"
psql_exec fault_cdc "DROP TABLE items"
psql_exec fault_cdc "CREATE TABLE items (id int PRIMARY KEY, v varchar(40));
  INSERT INTO items SELECT g, 'row ' || g FROM generate_series(1, 1000) g"
run_crash postgres_to_mysql postgres pg_dump mysql_dump psql_exec

psql_exec fault_cdc "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots
  WHERE database = 'fault_cdc'" >/dev/null
mysql_exec "DROP DATABASE fault_cdc"
psql_exec postgres "DROP DATABASE fault_cdc"
