# One run of a job at a time (issue 10), for every exactly-once sink:
#  1. a second run of a running job fails at once naming the running one (exit 6); with --wait
#     it waits for it, then runs;
#  2. a run frozen mid-job is taken over by a newer run once its lease ran out; the newer run
#     finishes the job, the frozen one, continued, cannot commit (exit 6), and the target holds
#     every row once, without a primary key to catch duplicates.
# Faults land at failpoints (pause: the process stops itself), not after guessed delays.
need_servers
rows=20000
mysql_exec "DROP DATABASE IF EXISTS one_run; CREATE DATABASE one_run"
psql_exec postgres "DROP DATABASE IF EXISTS one_run"
psql_exec postgres "CREATE DATABASE one_run"

sink_block() {
  case "$1" in
    file) echo "{ type: file, path: '$OUT_DIR/files/orders.csv' }" ;;
    sqlite) echo "{ type: sqlite, path: '$OUT_DIR/one_run.db', table: orders, mode: $2 }" ;;
    mysql) echo "{ type: mysql, host: '$SLUICE_TEST_MYSQL_HOST', port: $SLUICE_TEST_MYSQL_PORT,
      user: '$SLUICE_TEST_MYSQL_USER', password: '$SLUICE_TEST_MYSQL_PASSWORD',
      database: one_run, table: orders, mode: $2 }" ;;
    postgres) echo "{ type: postgres, host: '$SLUICE_TEST_PG_HOST', port: $SLUICE_TEST_PG_PORT,
      user: '$SLUICE_TEST_PG_USER', password: '$SLUICE_TEST_PG_PASSWORD',
      database: one_run, table: orders, mode: $2 }" ;;
  esac
}

# make_job SINK MODE [LEASE_SECS]: the job file for SINK, 20,000 rows in 10 splits. A frozen
# run's lease runs out after LEASE_SECS (default an hour: a loaded machine must not let the
# waiting run of part 1 take the job over instead of waiting).
make_job() {
  cat >"$OUT_DIR/$1.yaml" <<YAML
name: one_run_$1
source: { type: datagen, rows: $rows, split_rows: 2000, columns: { id: int64, name: string } }
sink: $(sink_block "$1" "$2")
parallelism: 2
batch_rows: 500
state: '$OUT_DIR/state'
run_lease_secs: ${3:-3600}
YAML
}

# target_counts SINK: "rows distinct-ids" in the target.
target_counts() {
  case "$1" in
    file) cat "$OUT_DIR"/files/orders*.csv | grep -v '^id,' | cut -d, -f1 |
            awk '{ n++; seen[$1] = 1 } END { printf "%d %d", n, length(seen) }' ;;
    sqlite) sqlite3 "$OUT_DIR/one_run.db" "SELECT count(*) || ' ' || count(DISTINCT id) FROM orders" ;;
    mysql) mysql_exec one_run "SELECT CONCAT(COUNT(*), ' ', COUNT(DISTINCT id)) FROM orders" ;;
    postgres) psql_exec one_run "SELECT count(*) || ' ' || count(DISTINCT id) FROM orders" ;;
  esac
}

reset_target() {
  rm -rf "$OUT_DIR/files" "$OUT_DIR/one_run.db" "$OUT_DIR/state"
  mysql_exec one_run "DROP TABLE IF EXISTS orders, _sluice_progress;
    CREATE TABLE orders (id BIGINT, name TEXT)"
  psql_exec one_run "DROP TABLE IF EXISTS orders, _sluice_progress;
    CREATE TABLE orders (id bigint, name text)"
  sqlite3 "$OUT_DIR/one_run.db" "CREATE TABLE orders (id INTEGER, name TEXT)"
}

for sink in file sqlite mysql postgres; do
  echo "--- $sink"
  # 1. A second run fails at once; --wait waits. Overwrite, so that the waited run's redo of the
  #    whole job leaves the same table.
  reset_target
  make_job "$sink" overwrite
  SLUICE_FAILPOINTS="runtime.reader.batch=pause@3" "$SLUICE" run "$OUT_DIR/$sink.yaml" \
    --no-progress >"$OUT_DIR/first.out" 2>&1 &
  first=$!
  wait_until_stopped $first
  status=0
  "$SLUICE" run "$OUT_DIR/$sink.yaml" >"$OUT_DIR/.stdout" 2>"$OUT_DIR/.stderr" || status=$?
  expect_equal "$status" 6 "exit code of a second run"
  grep -q "^sluice: conflict: job 'one_run_$sink' is already running (pid $first on host $(hostname) since .* UTC, run epoch [0-9]*; state in '$OUT_DIR/state/state.db'): wait for it with \`sluice run --wait\`, or stop that run first" \
    "$OUT_DIR/.stderr" || { cat "$OUT_DIR/.stderr"; fail "the refusal does not name the running run"; }
  # A fresh file: the last sink's, which says it waited, must not answer the loop below.
  : >"$OUT_DIR/waited.out"
  "$SLUICE" run "$OUT_DIR/$sink.yaml" --wait --no-progress >"$OUT_DIR/waited.out" 2>&1 &
  waiting=$!
  # Until the waiting run says it waits: on a loaded machine it could otherwise start only after
  # the first one, continued, had ended, and not wait at all.
  deadline=$((SECONDS + 300))
  until grep -q "waiting for it to end (--wait)" "$OUT_DIR/waited.out"; do
    kill -0 $waiting 2>/dev/null || { cat "$OUT_DIR/waited.out"; fail "--wait did not wait"; }
    ((SECONDS < deadline)) || fail "the waiting run did not say it waits in 300 s"
    sleep 0.05
  done
  continue_paused $first
  wait $first || { cat "$OUT_DIR/first.out"; fail "the first run failed"; }
  wait $waiting || { cat "$OUT_DIR/waited.out"; fail "the waiting run failed"; }
  grep -q "waiting for it to end (--wait)" "$OUT_DIR/waited.out" || fail "--wait did not wait"
  expect_equal "$(target_counts "$sink")" "$rows $rows" "$sink rows after a waited run"

  # 2. Frozen mid-job (SQLite: between two transactions, since one frozen inside a transaction
  #    holds the file's only write lock), taken over after its lease, fenced off. One reader,
  #    which waits for each checkpoint, so that nothing but the frozen commit is under way.
  reset_target
  make_job "$sink" append 1
  point="runtime.writer.before_commit=pause@3"
  [[ $sink == sqlite ]] && point="runtime.writer.after_commit=pause@3"
  SLUICE_FAILPOINTS="runtime.reader.batch=checkpoint@1+;$point" "$SLUICE" run \
    "$OUT_DIR/$sink.yaml" --set parallelism=1 --no-progress >"$OUT_DIR/frozen.out" 2>&1 &
  frozen=$!
  wait_until_stopped $frozen
  sleep 1.5  # the frozen run's lease (run_lease_secs: 1) runs out: real time, not speed
  expect_ok run "$OUT_DIR/$sink.yaml" --set parallelism=1 --no-progress
  grep -q "Took job 'one_run_$sink' over from pid $frozen on host" "$OUT_DIR/.stderr" ||
    { cat "$OUT_DIR/.stderr"; fail "the newer run did not say it took over"; }
  continue_paused $frozen
  status=0
  wait $frozen || status=$?
  expect_equal "$status" 6 "exit code of the run that was taken over"
  grep -Eq "(has taken over this target|was taken over by a newer run)" "$OUT_DIR/frozen.out" ||
    { cat "$OUT_DIR/frozen.out"; fail "the frozen run did not say it was taken over"; }
  expect_equal "$(target_counts "$sink")" "$rows $rows" "$sink rows after a takeover"
done
mysql_exec "DROP DATABASE one_run"
psql_exec postgres "DROP DATABASE one_run"
