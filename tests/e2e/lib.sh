# Helpers for end-to-end cases (sourced by run_case.sh).

fail() {
  echo "FAIL: $*" >&2
  exit 1
}

# sluice ARGS...: the binary under test, without the live progress line.
sluice() {
  "$SLUICE" "$@"
}

# expect_ok ARGS...: runs sluice and fails the case when it does not exit 0.
expect_ok() {
  local status=0
  "$SLUICE" "$@" >"$OUT_DIR/.stdout" 2>"$OUT_DIR/.stderr" || status=$?
  if [[ $status -ne 0 ]]; then
    cat "$OUT_DIR/.stdout" "$OUT_DIR/.stderr" >&2
    fail "sluice $* exited $status"
  fi
}

# expect_error CODE MESSAGE ARGS...: sluice must exit with CODE and print the line
# "sluice: MESSAGE" on stderr.
expect_error() {
  local code=$1 message=$2
  shift 2
  local status=0
  "$SLUICE" "$@" >"$OUT_DIR/.stdout" 2>"$OUT_DIR/.stderr" || status=$?
  if [[ $status -ne $code ]]; then
    cat "$OUT_DIR/.stderr" >&2
    fail "sluice $* exited $status, expected $code"
  fi
  if ! grep -qxF -- "sluice: $message" "$OUT_DIR/.stderr"; then
    echo "--- expected line:" >&2
    echo "sluice: $message" >&2
    echo "--- stderr was:" >&2
    cat "$OUT_DIR/.stderr" >&2
    fail "error text differs"
  fi
}

# expect_same ACTUAL EXPECTED: byte-for-byte equal files.
expect_same() {
  if ! cmp -s "$1" "$2"; then
    diff <(head -c 4000 "$2") <(head -c 4000 "$1") | head -40 >&2 || true
    fail "$1 differs from $2"
  fi
}

# expect_equal ACTUAL EXPECTED WHAT: equal strings.
expect_equal() {
  [[ "$1" == "$2" ]] || fail "$3: got '$1', expected '$2'"
}

# need_datasets: skips the case (exit 77) when the shared sample databases are absent.
need_datasets() {
  if [[ -z "$DATASETS" || ! -d "$DATASETS" ]]; then
    echo "SKIP: sample datasets not found (set SLUICE_DATASETS)"
    exit 77
  fi
}

# need_servers: loads the test servers' endpoints (started by the CTest fixture) into the
# environment for job files (${SLUICE_TEST_MYSQL_PORT}, ${SLUICE_TEST_KAFKA_BOOTSTRAP}, ...) for
# mysql_exec, psql_exec and the kafka_* helpers.
need_servers() {
  [[ -n "${SLUICE_TEST_SERVERS_ENV:-}" && -f "$SLUICE_TEST_SERVERS_ENV" ]] ||
    fail "test servers are not running (run through ctest, or scripts/test-servers.sh start)"
  set -a
  source "$SLUICE_TEST_SERVERS_ENV"
  set +a
}

# need_schema_registry: need_servers, and the schema registry's URL in
# ${SLUICE_TEST_SCHEMA_REGISTRY_URL} (the Confluent-compatible API: .../subjects, ...). A case
# calling it at the start of a line requires the CTest fixture `registry` (tests/CMakeLists.txt
# looks for the call), which starts the registry for the runs that include such a case.
# need_hdfs, need_s3, need_metastore: the store's server (started by its CTest fixture into
# $SLUICE_TEST_STORES_ENV, or by hand with scripts/test-servers.sh start-hdfs ENV_FILE) and its
# SLUICE_TEST_* variables.
need_store() {
  local name=$1 variable=$2
  [[ -n "${SLUICE_TEST_STORES_ENV:-}" && -f "$SLUICE_TEST_STORES_ENV" ]] ||
    fail "$name is not running (run through ctest, or scripts/test-servers.sh start-$name ENV_FILE" \
      "with SLUICE_TEST_STORES_ENV=ENV_FILE)"
  set -a
  source "$SLUICE_TEST_STORES_ENV"
  set +a
  [[ -n "${!variable:-}" ]] || fail "$name is not running: $variable is not set"
}
# venv_python: the python of the venv holding the independent readers (pyarrow, DuckDB,
# fastavro), made by scripts/python-venv.sh the first time.
E2E_REPOSITORY=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
venv_python() {
  "$E2E_REPOSITORY/scripts/python-venv.sh"
}

need_hdfs() { need_store hdfs SLUICE_TEST_HDFS_WEBHDFS; }
need_s3() { need_store s3 SLUICE_TEST_S3_ENDPOINT; }
need_metastore() { need_store metastore SLUICE_TEST_METASTORE_URI; }

need_schema_registry() {
  need_servers
  [[ -n "${SLUICE_TEST_SCHEMA_REGISTRY_URL:-}" ]] ||
    fail "the schema registry is not running (run through ctest, or" \
      "scripts/test-servers.sh start-registry \$SLUICE_TEST_SERVERS_ENV)"
}

# redis ARGS...: redis-cli against the test servers' Redis primary (PORT=... for another of
# them), logged in with the test password.
redis() {
  REDISCLI_AUTH=$SLUICE_TEST_REDIS_PASSWORD redis-cli --no-auth-warning \
    -h "$SLUICE_TEST_REDIS_HOST" -p "${PORT:-$SLUICE_TEST_REDIS_PORT}" "$@"
}

# mysql_exec [DATABASE] SQL: runs SQL through the mariadb client; tab-separated output.
mysql_exec() {
  local database=""
  if (($# > 1)); then database=$1; shift; fi
  MYSQL_PWD=$SLUICE_TEST_MYSQL_PASSWORD mariadb --no-defaults --protocol=TCP \
    -h "$SLUICE_TEST_MYSQL_HOST" -P "$SLUICE_TEST_MYSQL_PORT" -u "$SLUICE_TEST_MYSQL_USER" \
    --default-character-set=utf8mb4 -N -B $database -e "$1"
}

# mysql_load DATABASE FILE: runs a .sql file.
mysql_load() {
  MYSQL_PWD=$SLUICE_TEST_MYSQL_PASSWORD mariadb --no-defaults --protocol=TCP \
    -h "$SLUICE_TEST_MYSQL_HOST" -P "$SLUICE_TEST_MYSQL_PORT" -u "$SLUICE_TEST_MYSQL_USER" \
    --default-character-set=utf8mb4 "$1" <"$2"
}

# psql_exec DATABASE SQL: runs SQL through psql; unaligned, tab-separated output.
psql_exec() {
  PGPASSWORD=$SLUICE_TEST_PG_PASSWORD "$SLUICE_TEST_PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -A -t \
    -F $'\t' -h "$SLUICE_TEST_PG_HOST" -p "$SLUICE_TEST_PG_PORT" -U "$SLUICE_TEST_PG_USER" \
    -d "$1" -c "$2"
}

psql_load() {
  PGPASSWORD=$SLUICE_TEST_PG_PASSWORD "$SLUICE_TEST_PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 \
    -h "$SLUICE_TEST_PG_HOST" -p "$SLUICE_TEST_PG_PORT" -U "$SLUICE_TEST_PG_USER" -d "$1" \
    -f "$2" >/dev/null
}

# kafka_topic NAME PARTITIONS: creates a topic (replication factor 1) with Kafka's TopicCommand
# and waits until every partition has a leader. The test broker creates no topic by itself.
kafka_topic() {
  local topic=$1 partitions=$2
  "$SLUICE_TEST_KAFKA_RUN_CLASS" org.apache.kafka.tools.TopicCommand \
    --bootstrap-server "$SLUICE_TEST_KAFKA_BOOTSTRAP" --create --topic "$topic" \
    --partitions "$partitions" --replication-factor 1 >/dev/null ||
    fail "could not create topic $topic"
  local i leaders
  for i in $(seq 1 300); do
    leaders=$(kcat -b "$SLUICE_TEST_KAFKA_BOOTSTRAP" -L -t "$topic" -m 5 2>/dev/null |
      grep -c 'partition .*, leader 1,' || true)
    [[ $leaders == "$partitions" ]] && return 0
    sleep 0.1
  done
  fail "topic $topic: $leaders of $partitions partitions have a leader after 30 s"
}

# kafka_produce TOPIC [KCAT_ARGS...] < LINES: one message per line, acks from all replicas.
# KCAT_ARGS add to kcat's: -K $'\t' (each line KEY<tab>VALUE), -p N (one partition),
# -X transactional.id=ID (all lines in one transaction, committed at the end of the input).
kafka_produce() {
  local topic=$1
  shift
  kcat -P -q -b "$SLUICE_TEST_KAFKA_BOOTSTRAP" -t "$topic" -X acks=all -m 30 "$@" ||
    fail "kcat could not produce to $topic"
}

# kafka_consume TOPIC COUNT [KCAT_ARGS...]: prints up to COUNT messages of TOPIC, every partition
# from the beginning, committed transactions only (read_committed), one line each as KEY<tab>VALUE
# (kcat -f '...' in KCAT_ARGS changes that), partitions interleaved in no set order; stops early
# at the end of the topic, and fails after 120 s.
kafka_consume() {
  local topic=$1 count=$2
  shift 2
  timeout 120 kcat -C -q -b "$SLUICE_TEST_KAFKA_BOOTSTRAP" -t "$topic" -o beginning -e \
    -c "$count" -X isolation.level=read_committed -f '%k\t%s\n' "$@" ||
    fail "kcat could not consume $topic"
}

# dump_jsonl NAME SOURCE_YAML: runs a job copying SOURCE_YAML (a flow map) to one JSON Lines
# file per stream under $OUT_DIR/NAME/, each sorted, so that routes can be compared file by file.
dump_jsonl() {
  local name=$1 source=$2
  mkdir -p "$OUT_DIR/$name"
  cat >"$OUT_DIR/$name.yaml" <<YAML
name: dump_$name
source: $source
sink: { type: file, path: "$OUT_DIR/$name/{stream}.jsonl" }
YAML
  expect_ok run "$OUT_DIR/$name.yaml"
  for file in "$OUT_DIR/$name"/*.jsonl; do
    LC_ALL=C sort -o "$file" "$file"
  done
}

# expect_same_dumps A B: two dump_jsonl outputs hold the same streams with the same lines.
expect_same_dumps() {
  local a=$OUT_DIR/$1 b=$OUT_DIR/$2
  expect_equal "$(cd "$b" && ls)" "$(cd "$a" && ls)" "streams of $2 vs $1"
  for file in "$a"/*.jsonl; do
    expect_same "$b/$(basename "$file")" "$file"
  done
}

# crash_plans SINK_POINT...: prints the failpoint plans (SLUICE_FAILPOINTS values, see
# src/core/failpoint.h) of a crash loop, one a line: a crash mid-read before any checkpoint, then
# at every step of a commit (the runtime's and the sink's own points, each "name=crash@N") with a
# checkpoint after every batch read, so that each run commits a few batches at known places
# first, then just before and just after the sink's Finish (those runs copy the rest of the job
# at its own pace).
crash_plans() {
  local every="runtime.reader.batch=checkpoint@1+" point
  echo "runtime.reader.batch=crash@2"
  for point in runtime.writer.before_commit=crash@3 runtime.writer.after_commit=crash@1 \
    runtime.writer.after_commit=crash@4 runtime.checkpoint.before_record=crash@2 \
    runtime.checkpoint.after_record=crash@3 "$@"; do
    echo "$every;$point"
  done
  echo "runtime.finish.before=crash@1"
  echo "runtime.finish.after=crash@1"
}

# crash_loop PLAN... -- ARGS...: runs `sluice ARGS...` once per PLAN, armed with
# SLUICE_FAILPOINTS=PLAN, and expects each run to crash at its point (SIGKILL, as kill -9 does):
# a run that ends otherwise fails the case. KILLS counts the crashes; after each one the function
# named by AFTER_CRASH (if set) runs with the plan, e.g. to check what a reader of the target
# sees. The plans are logged to crash_loop.log.
crash_loop() {
  local plans=() plan status
  while (($# > 0)) && [[ "$1" != "--" ]]; do
    plans+=("$1")
    shift
  done
  shift
  KILLS=0
  for plan in "${plans[@]}"; do
    echo "armed: $plan" >>"$OUT_DIR/crash_loop.log"
    status=0
    SLUICE_FAILPOINTS=$plan "$SLUICE" "$@" --no-progress >>"$OUT_DIR/crash_loop.log" 2>&1 ||
      status=$?
    if [[ $status -ne 137 ]]; then
      tail -n 20 "$OUT_DIR/crash_loop.log" >&2
      fail "sluice $* armed with '$plan' exited $status instead of crashing there"
    fi
    KILLS=$((KILLS + 1))
    if [[ -n "${AFTER_CRASH:-}" ]]; then
      "$AFTER_CRASH" "$plan"
    fi
  done
}

# wait_for_job PID SECONDS LOG: waits for the job PID started in the background; when it has not
# ended within SECONDS, prints what it was doing (the tail of LOG, each thread's stack when gdb
# is there) and kills it, so that a hang fails with a trace instead of a silent CTest timeout.
# Sets JOB_STATUS to the job's exit status.
wait_for_job() {
  local pid=$1 seconds=$2 log=$3 deadline=$((SECONDS + $2))
  while kill -0 "$pid" 2>/dev/null && ((SECONDS < deadline)); do
    sleep 0.2
  done
  if kill -0 "$pid" 2>/dev/null; then
    echo "--- the job (pid $pid) still runs after $seconds s; the end of its log:" >&2
    tail -n 30 "$log" >&2
    if command -v gdb >/dev/null; then
      gdb -p "$pid" -batch -ex "thread apply all bt 12" 2>/dev/null | grep -E '^(#|Thread)' >&2
    fi
    kill -9 "$pid"
  fi
  JOB_STATUS=0
  wait "$pid" || JOB_STATUS=$?
}

# wait_until_stopped PID: waits until process PID froze itself at a `pause` failpoint (state T
# in /proc/PID/stat), for 300 s at most; fails the case when it ended (or is a zombie) instead.
# Continue it with `continue_paused PID`.
wait_until_stopped() {
  local pid=$1 deadline=$((SECONDS + 300)) state
  while true; do
    state=$(sed -n 's/^.*) \([A-Za-z]\) .*$/\1/p' "/proc/$pid/stat" 2>/dev/null || true)
    [[ "$state" == T ]] && return 0
    if [[ -z "$state" || "$state" == Z ]]; then
      fail "process $pid ended instead of pausing"
    fi
    ((SECONDS < deadline)) || fail "process $pid did not pause in 300 s"
    sleep 0.05
  done
}

# mysql_checksum DB TABLE: an order-independent checksum of every row, key included.
mysql_checksum() {
  mysql_exec "$1" "SELECT COUNT(*), SUM(CRC32(CONCAT_WS('|', $3))) FROM $2"
}

# continue_paused PID: releases a process frozen at a `pause` failpoint: SIGUSR2 says the
# release is meant, SIGCONT wakes it (a SIGCONT alone, as the kernel sends to the stopped
# members of an orphaned process group, leaves it paused).
continue_paused() {
  kill -USR2 "$1" && kill -CONT "$1"
}
