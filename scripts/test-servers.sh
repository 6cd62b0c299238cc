#!/usr/bin/env bash
# Starts and stops the real database servers the integration tests talk to: MariaDB and
# PostgreSQL from Debian's packages, each in a temporary directory, listening on a free loopback
# port only.
#   scripts/test-servers.sh start ENV_FILE   start both, write ENV_FILE (ports, users, ...)
#   scripts/test-servers.sh stop ENV_FILE    stop both, delete their directory and ENV_FILE
#   scripts/test-servers.sh crash mysql|postgres ENV_FILE   kill -9 one server and start it again
#                                            (fault-injection tests)
# Tests read ENV_FILE (SLUICE_TEST_SERVERS_ENV points at it). The servers live under /tmp so
# that the unprivileged `postgres` account can reach them wherever the repository is.
set -euo pipefail
action=${1:?start|stop|crash}
if [[ "$action" == crash ]]; then
  which_server=${2:?mysql|postgres}
  env_file=${3:?env file}
else
  env_file=${2:?env file}
fi

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# PostgreSQL refuses to run as root: use the `postgres` account the package created.
as_postgres() {
  if [[ $(id -u) -eq 0 ]]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

pg_bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
mysql_password="sluice-mysql-test"
pg_password="sluice-pg-test"

start_mysql() {
  local port=$1
  mariadbd --no-defaults --user="$(id -un)" --datadir="$dir/mysql/data" \
    --socket="$dir/mysql/mysql.sock" --pid-file="$dir/mysql/mysql.pid" \
    --port="$port" --bind-address=127.0.0.1 --skip-name-resolve \
    --log-error="$dir/mysql/error.log" --log-bin="$dir/mysql/binlog" --server-id=1 \
    --binlog-format=ROW --local-infile=1 --max-allowed-packet=256M \
    --innodb-buffer-pool-size=512M --innodb-log-file-size=256M \
    --innodb-flush-log-at-trx-commit=2 --character-set-server=utf8mb4 \
    --collation-server=utf8mb4_bin --sql-mode=STRICT_ALL_TABLES,NO_ENGINE_SUBSTITUTION \
    >/dev/null 2>&1 &
  for _ in $(seq 1 150); do
    [[ -S "$dir/mysql/mysql.sock" ]] && mariadb --no-defaults -S "$dir/mysql/mysql.sock" -uroot \
      -e 'SELECT 1' >/dev/null 2>&1 && return 0
    sleep 0.2
  done
  echo "MariaDB did not start; see $dir/mysql/error.log" >&2
  return 1
}

# fsync off for speed, but commits are written to the OS before they are acknowledged
# (synchronous_commit stays on): a killed server then keeps every commit it acknowledged, as a
# real one does, which the crash tests rely on.
start_postgres() {
  local port=$1
  as_postgres "$pg_bin/pg_ctl" -D "$dir/pg/data" -l "$dir/pg/server.log" -w -t 60 \
    -o "-p $port -k $dir/pg -c listen_addresses=127.0.0.1 -c wal_level=logical \
        -c max_prepared_transactions=20 -c max_wal_senders=10 -c max_replication_slots=10 \
        -c fsync=off -c full_page_writes=off \
        -c shared_buffers=256MB -c max_connections=200" start >/dev/null
}

# kill -9 one server (a crash, not a clean shutdown) and start it again on the same port.
crash() {
  [[ -f "$env_file" ]] || { echo "no servers described by $env_file" >&2; return 1; }
  dir=$(sed -n 's/^SLUICE_TEST_SERVERS_DIR=//p' "$env_file")
  case "$which_server" in
    mysql)
      local pid port
      pid=$(cat "$dir/mysql/mysql.pid")
      port=$(sed -n 's/^SLUICE_TEST_MYSQL_PORT=//p' "$env_file")
      kill -9 "$pid"
      while kill -0 "$pid" 2>/dev/null; do sleep 0.05; done
      rm -f "$dir/mysql/mysql.sock" "$dir/mysql/mysql.pid"
      start_mysql "$port"
      ;;
    postgres)
      local pid port
      pid=$(head -1 "$dir/pg/data/postmaster.pid")
      port=$(sed -n 's/^SLUICE_TEST_PG_PORT=//p' "$env_file")
      # The whole server at once, as a crash takes it: a postmaster killed alone leaves its
      # backends serving (and acknowledging) for a while.
      local children
      children=$(pgrep -P "$pid" || true)
      kill -9 "$pid" $children 2>/dev/null || true
      while kill -0 "$pid" $children 2>/dev/null; do sleep 0.05; done
      start_postgres "$port"
      ;;
    *) echo "crash: mysql or postgres" >&2; return 2 ;;
  esac
}

start() {
  [[ -f "$env_file" ]] && stop
  mkdir -p "$(dirname "$env_file")"
  dir=$(mktemp -d /tmp/sluice-servers-XXXXXX)
  chmod 755 "$dir"
  local mysql_port pg_port
  mysql_port=$(free_port)
  pg_port=$(free_port)
  while [[ $pg_port == "$mysql_port" ]]; do pg_port=$(free_port); done

  # --- MariaDB: binary log on (snapshot positions for CDC), LOCAL INFILE allowed.
  mkdir -p "$dir/mysql"
  mariadb-install-db --no-defaults --datadir="$dir/mysql/data" --user="$(id -un)" \
    --auth-root-authentication-method=normal --skip-test-db >"$dir/mysql/install.log" 2>&1
  start_mysql "$mysql_port"
  mariadb --no-defaults -S "$dir/mysql/mysql.sock" -uroot <<SQL
CREATE USER 'sluice'@'127.0.0.1' IDENTIFIED BY '$mysql_password';
GRANT ALL PRIVILEGES ON *.* TO 'sluice'@'127.0.0.1' WITH GRANT OPTION;
CREATE USER 'sluice'@'localhost' IDENTIFIED BY '$mysql_password';
GRANT ALL PRIVILEGES ON *.* TO 'sluice'@'localhost' WITH GRANT OPTION;
-- A user without RELOAD/LOCK privileges: tests the snapshot fallback.
CREATE USER 'limited'@'127.0.0.1' IDENTIFIED BY '$mysql_password';
GRANT SELECT, INSERT, UPDATE, DELETE, CREATE, DROP, ALTER, INDEX ON *.* TO 'limited'@'127.0.0.1';
FLUSH PRIVILEGES;
SQL

  # --- PostgreSQL: logical WAL (for CDC later), prepared transactions (two-phase commit).
  mkdir -p "$dir/pg"
  chown -R postgres "$dir/pg" 2>/dev/null || true
  echo "$pg_password" >"$dir/pg/pwfile"
  chmod 600 "$dir/pg/pwfile"
  [[ $(id -u) -eq 0 ]] && chown postgres "$dir/pg/pwfile"
  as_postgres "$pg_bin/initdb" -D "$dir/pg/data" -U sluice --pwfile="$dir/pg/pwfile" \
    --auth=scram-sha-256 --encoding=UTF8 --locale=C.UTF-8 >"$dir/pg/initdb.log" 2>&1
  start_postgres "$pg_port"
  PGPASSWORD=$pg_password "$pg_bin/psql" -h 127.0.0.1 -p "$pg_port" -U sluice -d postgres -q \
    -c "CREATE ROLE limited LOGIN PASSWORD '$pg_password'" >/dev/null

  cat >"$env_file" <<ENV
SLUICE_TEST_SERVERS_DIR=$dir
SLUICE_TEST_MYSQL_HOST=127.0.0.1
SLUICE_TEST_MYSQL_PORT=$mysql_port
SLUICE_TEST_MYSQL_USER=sluice
SLUICE_TEST_MYSQL_PASSWORD=$mysql_password
SLUICE_TEST_MYSQL_SOCKET=$dir/mysql/mysql.sock
SLUICE_TEST_MYSQL_DATADIR=$dir/mysql/data
SLUICE_TEST_PG_HOST=127.0.0.1
SLUICE_TEST_PG_PORT=$pg_port
SLUICE_TEST_PG_USER=sluice
SLUICE_TEST_PG_PASSWORD=$pg_password
SLUICE_TEST_PG_DATADIR=$dir/pg/data
SLUICE_TEST_PG_BIN=$pg_bin
ENV
  echo "MariaDB on 127.0.0.1:$mysql_port, PostgreSQL on 127.0.0.1:$pg_port (env: $env_file)"
}

stop() {
  [[ -f "$env_file" ]] || return 0
  dir=$(sed -n 's/^SLUICE_TEST_SERVERS_DIR=//p' "$env_file")
  rm -f "$env_file"
  [[ -n "$dir" && -d "$dir" ]] || return 0
  if [[ -f "$dir/mysql/mysql.pid" ]]; then
    kill "$(cat "$dir/mysql/mysql.pid")" 2>/dev/null || true
    for _ in $(seq 1 100); do [[ -f "$dir/mysql/mysql.pid" ]] || break; sleep 0.1; done
  fi
  if [[ -f "$dir/pg/data/postmaster.pid" ]]; then
    as_postgres "$pg_bin/pg_ctl" -D "$dir/pg/data" -m immediate -w stop >/dev/null 2>&1 || true
  fi
  rm -rf "$dir"
}

case "$action" in
  start) start ;;
  stop) stop ;;
  crash) crash ;;
  *) echo "usage: $0 start|stop ENV_FILE | crash mysql|postgres ENV_FILE" >&2; exit 2 ;;
esac
