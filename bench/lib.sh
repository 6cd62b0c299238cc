# Shared helpers for bench/cases/*/run.sh (sourced by bench/run.sh).
#   measure LABEL ROWS CMD...   runs CMD once, records wall seconds and peak RSS, prints a row
#                               with the command's CPU seconds (user + system) and, when the
#                               server's pid is known (BENCH_SERVER_PID, else BENCH_MYSQL_PID:
#                               the MariaDB server's), the server's
#   ratio A B                   prints how many times faster A is than B (B.time / A.time)
#   fastest LABEL ROUND_LABELS  records the fastest of several measured runs under LABEL
# The output of the last measured command stays in $BENCH_DIR/last.out.

declare -gA BENCH_SECONDS BENCH_RSS_MB BENCH_ROWS BENCH_CPU BENCH_SERVER_CPU

# CPU seconds (user + system) a process has used so far; empty when it cannot be read.
process_cpu_seconds() {
  [[ -n "${1:-}" && -r /proc/$1/stat ]] || return 0
  awk -v hz="$(getconf CLK_TCK)" '{ sub(/^.*\) /, ""); printf "%.2f", ($12 + $13) / hz }' \
    "/proc/$1/stat"
}

measure() {
  local label=$1 rows=$2
  shift 2
  local report server_before server_after server_pid=${BENCH_SERVER_PID:-${BENCH_MYSQL_PID:-}}
  report=$(mktemp)
  server_before=$(process_cpu_seconds "$server_pid")
  if ! /usr/bin/time -f '%e %M %U %S' -o "$report" "$@" >"$report.out" 2>&1; then
    echo "FAILED: $label" >&2
    tail -20 "$report.out" >&2
    rm -f "$report" "$report.out"
    return 1
  fi
  server_after=$(process_cpu_seconds "$server_pid")
  local seconds rss_kb user system
  read -r seconds rss_kb user system <"$report"
  mv "$report.out" "$BENCH_DIR/last.out"
  rm -f "$report"
  BENCH_SECONDS[$label]=$seconds
  BENCH_RSS_MB[$label]=$((rss_kb / 1024))
  BENCH_ROWS[$label]=$rows
  BENCH_CPU[$label]=$(awk -v u="$user" -v s="$system" 'BEGIN { printf "%.2f", u + s }')
  BENCH_SERVER_CPU[$label]=""
  if [[ -n "$server_before" && -n "$server_after" ]]; then
    BENCH_SERVER_CPU[$label]=$(awk -v a="$server_before" -v b="$server_after" \
      'BEGIN { printf "%.2f", b - a }')
  fi
  printf '  %-38s %8.2f s %12s rows/s %7s MB peak RSS %6s s CPU%s\n' "$label" "$seconds" \
    "$(awk -v r="$rows" -v s="$seconds" 'BEGIN { printf "%.0f", (s > 0 ? r / s : 0) }')" \
    "${BENCH_RSS_MB[$label]}" "${BENCH_CPU[$label]}" \
    "${BENCH_SERVER_CPU[$label]:+, server ${BENCH_SERVER_CPU[$label]} s CPU}"
}

# fastest LABEL ROUND_LABEL...: records under LABEL the fastest of the measured ROUND_LABELs
# (with its RSS and CPU figures), for cases that interleave rounds on a noisy machine.
fastest() {
  local label=$1 best=""
  shift
  for round in "$@"; do
    if [[ -z "$best" ]] || awk -v a="${BENCH_SECONDS[$round]}" -v b="${BENCH_SECONDS[$best]}" \
      'BEGIN { exit !(a < b) }'; then
      best=$round
    fi
  done
  BENCH_SECONDS[$label]=${BENCH_SECONDS[$best]}
  BENCH_RSS_MB[$label]=${BENCH_RSS_MB[$best]}
  BENCH_ROWS[$label]=${BENCH_ROWS[$best]}
  BENCH_CPU[$label]=${BENCH_CPU[$best]}
  BENCH_SERVER_CPU[$label]=${BENCH_SERVER_CPU[$best]}
}

ratio() {
  local a=$1 b=$2
  awk -v a="${BENCH_SECONDS[$a]}" -v b="${BENCH_SECONDS[$b]}" -v na="$a" -v nb="$b" \
    'BEGIN { printf "  ratio: %s is %.2fx the speed of %s\n", na, (a > 0 ? b / a : 0), nb }'
}

# expect_count LABEL ACTUAL EXPECTED: every result's row count is checked.
expect_count() {
  if [[ "$2" != "$3" ]]; then
    echo "  ROW COUNT MISMATCH for $1: $2 rows, expected $3" >&2
    return 1
  fi
}

# bench_servers: makes MYSQL_* and PG_* point at running MariaDB and PostgreSQL servers, and
# REDIS_CLI / REDIS_REPLICA_CLI (redis-cli with the password) at the Redis primary and its
# replica, starting the test servers (scripts/test-servers.sh) once per bench run when none are
# given. BENCH_REDIS_PID / BENCH_REDIS_REPLICA_PID: their pids when they run here.
bench_servers() {
  if [[ -z "${SLUICE_TEST_SERVERS_ENV:-}" ]]; then
    export SLUICE_TEST_SERVERS_ENV="$BENCH_DIR/servers.env"
    if [[ ! -f "$SLUICE_TEST_SERVERS_ENV" ]]; then
      "$BENCH_ROOT/scripts/test-servers.sh" start "$SLUICE_TEST_SERVERS_ENV" >/dev/null
      BENCH_STARTED_SERVERS=1
    fi
  fi
  set -a
  source "$SLUICE_TEST_SERVERS_ENV"
  set +a
  export MYSQL_PWD=$SLUICE_TEST_MYSQL_PASSWORD PGPASSWORD=$SLUICE_TEST_PG_PASSWORD
  # The server's pid when it runs here (test servers), so that measure can report its CPU.
  BENCH_MYSQL_PID=""
  if [[ -n "${SLUICE_TEST_SERVERS_DIR:-}" && -r "$SLUICE_TEST_SERVERS_DIR/mysql/mysql.pid" ]]; then
    BENCH_MYSQL_PID=$(cat "$SLUICE_TEST_SERVERS_DIR/mysql/mysql.pid")
  fi
  MYSQL=(mariadb --no-defaults --protocol=TCP --default-character-set=utf8mb4
         -h "$SLUICE_TEST_MYSQL_HOST" -P "$SLUICE_TEST_MYSQL_PORT"
         -u "$SLUICE_TEST_MYSQL_USER")
  PSQL=("$SLUICE_TEST_PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$SLUICE_TEST_PG_HOST"
        -p "$SLUICE_TEST_PG_PORT" -U "$SLUICE_TEST_PG_USER")
  export REDISCLI_AUTH=$SLUICE_TEST_REDIS_PASSWORD
  REDIS_CLI=(redis-cli --no-auth-warning -h "$SLUICE_TEST_REDIS_HOST" -p "$SLUICE_TEST_REDIS_PORT")
  REDIS_REPLICA_CLI=(redis-cli --no-auth-warning -h "$SLUICE_TEST_REDIS_HOST"
                     -p "$SLUICE_TEST_REDIS_REPLICA_PORT")
  BENCH_REDIS_PID="" BENCH_REDIS_REPLICA_PID=""
  if [[ -n "${SLUICE_TEST_SERVERS_DIR:-}" && -r "$SLUICE_TEST_SERVERS_DIR/redis/primary/redis.pid" ]]; then
    BENCH_REDIS_PID=$(cat "$SLUICE_TEST_SERVERS_DIR/redis/primary/redis.pid")
    BENCH_REDIS_REPLICA_PID=$(cat "$SLUICE_TEST_SERVERS_DIR/redis/replica/redis.pid")
  fi
}

bench_servers_stop() {
  if [[ -n "${BENCH_STARTED_SERVERS:-}" ]]; then
    "$BENCH_ROOT/scripts/test-servers.sh" stop "$SLUICE_TEST_SERVERS_ENV" >/dev/null
  fi
}

# The mixed-type orders table in MariaDB, generated server-side with the SEQUENCE engine.
# bench_mysql_table NAME ROWS KEY_EXPRESSION (over `seq`) [wide]
#   wide: seven more columns (e-mail, ENUM status, nullable TIMESTAMP, an address holding a comma
#   that CSV quotes, DECIMAL(5,2), FLOAT, a longer comment): about 330 bytes per CSV line, the
#   size of the field test's rows (the plain shape is about 125).
bench_mysql_table() {
  local name=$1 rows=$2 key=$3 shape=${4:-}
  local columns="" values=""
  if [[ "$shape" == wide ]]; then
    columns=", email VARCHAR(128) NOT NULL,
      status ENUM('new','paid','shipped','delivered','cancelled') NOT NULL,
      shipped_at TIMESTAMP NULL, address VARCHAR(255), discount DECIMAL(5,2), weight FLOAT,
      comment TEXT"
    values=", CONCAT('customer', seq % 100000, '@example.com'), 1 + seq % 5,
      IF(seq % 3 = 0, NULL,
         TIMESTAMP '2016-01-01 00:00:00' + INTERVAL (seq * 53 % 300000000) SECOND),
      CONCAT(seq % 9973, ' Main Street, Springfield ', LPAD(seq % 99991, 5, '0'), ' ',
             MD5(seq * 3)),
      (seq % 5000) / 100, (seq % 10000) / 8.0, CONCAT(MD5(seq * 7), ' ', SHA1(seq * 11))"
  fi
  if [[ "$("${MYSQL[@]}" -N -e "SELECT COUNT(*) FROM bench.$name" 2>/dev/null)" == "$rows" ]]; then
    return 0
  fi
  "${MYSQL[@]}" -e "CREATE DATABASE IF NOT EXISTS bench; USE bench; DROP TABLE IF EXISTS bench.$name;
    CREATE TABLE bench.$name (
      id BIGINT PRIMARY KEY, customer VARCHAR(64) NOT NULL, amount DECIMAL(12,2),
      quantity INT, price DOUBLE, paid TINYINT(1), ordered_on DATE, created_at DATETIME(6),
      note TEXT $columns) ENGINE=InnoDB;
    SET SESSION unique_checks = 0;
    INSERT INTO bench.$name SELECT $key, CONCAT('customer ', seq % 100000, ' é😀'),
      (seq * 7919 % 100000000) / 100, seq % 1000, (seq * 31 % 100000) / 7.0, seq % 2,
      DATE '2015-01-01' + INTERVAL (seq % 3650) DAY,
      TIMESTAMP '2015-01-01 00:00:00' + INTERVAL (seq * 37 % 315360000) SECOND
        + INTERVAL (seq % 1000000) MICROSECOND,
      IF(seq % 20 = 0, NULL, CONCAT('note ', MD5(seq))) $values
    FROM seq_1_to_$rows;"
}

# Peak RSS check: Sluice must stay under 256 MB whatever the table size.
expect_rss_under() {
  if ((${BENCH_RSS_MB[$1]} >= $2)); then
    echo "  RSS GOAL MISSED: $1 peaked at ${BENCH_RSS_MB[$1]} MB (goal < $2 MB)" >&2
  fi
}

# goal LABEL_A LABEL_B MIN_RATIO: prints whether A is at least MIN_RATIO times as fast as B.
goal() {
  awk -v a="${BENCH_SECONDS[$1]}" -v b="${BENCH_SECONDS[$2]}" -v min="$3" -v na="$1" -v nb="$2" \
    'BEGIN { r = (a > 0 ? b / a : 0); printf "  goal: %s >= %.2fx %s: %.2fx %s\n", na, min, nb, r, (r >= min ? "MET" : "MISSED") }'
}
