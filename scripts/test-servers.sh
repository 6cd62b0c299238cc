#!/usr/bin/env bash
# Starts and stops the real servers the integration tests talk to, each in a temporary directory,
# listening on free loopback ports only: MariaDB and PostgreSQL from Debian's packages, and a
# single-node Apache Kafka broker (KRaft, broker and controller in one process) on Java 17 from
# Maven Central's jars (scripts/fetch-jvm-servers.sh), which starts while MariaDB and PostgreSQL
# do; a Redis primary and a replica of it (Debian's redis-server, no persistence, a password, a 64 MB replication backlog, full syncs without delay),
# and a Redis Cluster of three primaries (no replicas, the same password);
# on demand, a schema registry with Confluent's API (Apicurio Registry, in memory, Java 17).
#   scripts/test-servers.sh start ENV_FILE   start them, write ENV_FILE (ports, users, ...)
#   scripts/test-servers.sh stop ENV_FILE    stop them, delete their directory and ENV_FILE
#   scripts/test-servers.sh crash mysql|postgres|kafka|redis ENV_FILE   kill -9 one server (redis:
#                                            the primary and its replica) and start it again on
#                                            the same ports (fault-injection tests)
#   scripts/test-servers.sh start-registry ENV_FILE   start the schema registry beside the others
#                                            and add its URL to ENV_FILE (the CTest fixture
#                                            `registry`: only runs that need it pay its start)
#   scripts/test-servers.sh stop-registry ENV_FILE    stop it, take its URL out of ENV_FILE
#   scripts/test-servers.sh start-hdfs ENV_FILE       start an HDFS (Hadoop's MiniDFSCluster: one
#                                            NameNode, one DataNode, WebHDFS) and add its URLs
#   scripts/test-servers.sh start-s3 ENV_FILE         start an S3-compatible store (s3proxy on a
#                                            folder) with one bucket, and add its endpoint, keys
#                                            and bucket
#   scripts/test-servers.sh start-metastore ENV_FILE  start a Hive metastore (Hive's standalone
#                                            metastore on an embedded Derby, Thrift) and add its
#                                            URI
#   scripts/test-servers.sh stop-hdfs|stop-s3|stop-metastore ENV_FILE   stop it, take its lines
#                                            out of ENV_FILE
# start-hdfs, start-s3 and start-metastore work beside the others (after `start`) or on their
# own: without ENV_FILE they create it, and their stop deletes it again once no server is left in
# its directory (the CTest fixtures `hdfs`, `s3` and `metastore` use an env file of their own, so
# that a test needing only them does not wait for the databases).
# Tests read ENV_FILE (SLUICE_TEST_SERVERS_ENV points at it). The servers live under /tmp so
# that the unprivileged `postgres` account can reach them wherever the repository is.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
action=${1:?start|stop|crash|start-registry|stop-registry|start-hdfs|stop-hdfs|start-s3|stop-s3|start-metastore|stop-metastore}
if [[ "$action" == crash ]]; then
  which_server=${2:?mysql|postgres|kafka|redis}
  env_file=${3:?env file}
else
  env_file=${2:?env file}
fi

# free_ports N: N distinct free loopback ports (all bound at once, then released).
free_ports() {
  python3 -c 'import socket, sys
sockets = [socket.socket() for _ in range(int(sys.argv[1]))]
for s in sockets: s.bind(("127.0.0.1", 0))
print(" ".join(str(s.getsockname()[1]) for s in sockets))' "$1"
}

# env_value NAME: NAME's value in the env file.
env_value() {
  sed -n "s/^$1=//p" "$env_file"
}

# with_env_lock COMMAND...: runs COMMAND holding a lock on the env file's folder, so that
# on-demand servers starting at once (CTest runs fixtures in parallel) do not lose each other's
# lines.
with_env_lock() {
  (
    flock 8
    "$@"
  ) 8<"$(dirname "$env_file")"
}

# set_env PREFIX [LINES...]: replaces the env file's lines starting with PREFIX by LINES, in one
# rename, so that a test reading the file meanwhile sees the old or the new file, never half.
set_env() {
  with_env_lock set_env_locked "$@"
}
set_env_locked() {
  local prefix=$1
  shift
  { grep -v "^$prefix" "$env_file" || true; (($# == 0)) || printf '%s\n' "$@"; } \
    >"$env_file.tmp.$$"
  mv "$env_file.tmp.$$" "$env_file"
}

# wait_until SECONDS PID WHAT COMMAND...: runs COMMAND every 0.1 s until it succeeds; fails when
# process PID ends first or SECONDS pass.
wait_until() {
  local seconds=$1 pid=$2 what=$3
  shift 3
  local deadline=$((SECONDS + seconds))
  until "$@" >/dev/null 2>&1; do
    if ! kill -0 "$pid" 2>/dev/null; then
      echo "$what exited while starting" >&2
      return 1
    fi
    if ((SECONDS >= deadline)); then
      echo "$what did not answer within $seconds s" >&2
      return 1
    fi
    sleep 0.1
  done
}

# elapsed_since EPOCHREALTIME: seconds since then, to a tenth.
elapsed_since() {
  python3 -c 'import sys, time; print(f"{time.time() - float(sys.argv[1]):.1f}")' "$1"
}

# kill_process PIDFILE SECONDS: SIGTERM, then SIGKILL when still running after SECONDS.
kill_process() {
  [[ -f "$1" ]] || return 0
  local pid
  pid=$(cat "$1")
  kill "$pid" 2>/dev/null || return 0
  local deadline=$((SECONDS + $2))
  while kill -0 "$pid" 2>/dev/null && ((SECONDS < deadline)); do sleep 0.05; done
  kill -9 "$pid" 2>/dev/null || true
  while kill -0 "$pid" 2>/dev/null; do sleep 0.05; done
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
kafka_password="sluice-kafka-test"
# The password of the TLS client key (kafka/tls/client-key.pem) that the tests present.
kafka_client_key_password="sluice-tls-key-test"

start_mysql() {
  local port=$1
  mariadbd --no-defaults --user="$(id -un)" --datadir="$dir/mysql/data" \
    --socket="$dir/mysql/mysql.sock" --pid-file="$dir/mysql/mysql.pid" \
    --port="$port" --bind-address=127.0.0.1 --skip-name-resolve \
    --log-error="$dir/mysql/error.log" --log-bin="$dir/mysql/binlog" --server-id=1 \
    --binlog-format=ROW --binlog-row-image=FULL --binlog-row-metadata=FULL \
    --local-infile=1 --max-allowed-packet=256M \
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

# --- Redis: a primary and a replica of it ----------------------------------------------------
redis_password="sluice-redis-test"

# start_redis NAME PORT [PRIMARY_PORT]: starts redis-server in $dir/redis/NAME on 127.0.0.1:PORT
# (a replica of 127.0.0.1:PRIMARY_PORT when given), in memory only, and waits until it answers.
start_redis() {
  local name=$1 port=$2 primary_port=${3:-}
  local redis_dir=$dir/redis/$name
  mkdir -p "$redis_dir"
  local args=(--bind 127.0.0.1 --port "$port" --daemonize no --dir "$redis_dir"
              --save '' --appendonly no --requirepass "$redis_password"
              --repl-diskless-sync-delay 0 --repl-backlog-size 64mb
              --logfile "$redis_dir/redis.log")
  if [[ -n "$primary_port" ]]; then
    args+=(--replicaof 127.0.0.1 "$primary_port" --masterauth "$redis_password")
  fi
  redis-server "${args[@]}" >/dev/null 2>&1 </dev/null &
  echo $! >"$redis_dir/redis.pid"
  if ! wait_until 30 $! "Redis ($name)" redis_answers "$port"; then
    echo "see $redis_dir/redis.log" >&2
    return 1
  fi
}

# redis_cli PORT ARGS...: redis-cli against 127.0.0.1:PORT with the test password (from the
# environment, not the command line).
redis_cli() {
  local port=$1
  shift
  REDISCLI_AUTH=$redis_password redis-cli --no-auth-warning -h 127.0.0.1 -p "$port" "$@"
}

redis_answers() {
  [[ "$(redis_cli "$1" PING)" == PONG ]]
}

redis_replica_linked() {
  redis_cli "$1" INFO replication | tr -d '\r' | grep -q '^master_link_status:up$'
}

# start_redis_pair PRIMARY_PORT REPLICA_PORT: the primary, then its replica, and waits until the
# replica has synchronised (master_link_status:up).
start_redis_pair() {
  local primary_port=$1 replica_port=$2
  start_redis primary "$primary_port"
  start_redis replica "$replica_port" "$primary_port"
  if ! wait_until 30 "$(cat "$dir/redis/replica/redis.pid")" "The Redis replica" \
       redis_replica_linked "$replica_port"; then
    echo "the Redis replica did not link to its primary; see $dir/redis/replica/redis.log" >&2
    return 1
  fi
}

# --- Redis Cluster: three primaries, no replicas ---------------------------------------------
# start_redis_cluster PORT... -- BUS_PORT...: one cluster-enabled redis-server per port in
# $dir/redis/cluster-N (its cluster bus on the matching BUS_PORT: the default, PORT + 10000, may
# be taken or above 65535), joined by `redis-cli --cluster create` (the slots split evenly), and
# waits until every node says cluster_state:ok (each has seen the others and every slot is
# served).
start_redis_cluster() {
  local n=0 port pids=() addresses=() ports=() bus_ports=()
  while [[ "$1" != "--" ]]; do ports+=("$1"); shift; done
  shift
  bus_ports=("$@")
  set -- "${ports[@]}"
  for port in "$@"; do
    n=$((n + 1))
    local node_dir=$dir/redis/cluster-$n
    mkdir -p "$node_dir"
    redis-server --bind 127.0.0.1 --port "$port" --daemonize no --dir "$node_dir" \
      --save '' --appendonly no --requirepass "$redis_password" \
      --masterauth "$redis_password" --cluster-enabled yes \
      --cluster-config-file "$node_dir/nodes.conf" --cluster-node-timeout 5000 \
      --cluster-port "${bus_ports[n - 1]}" \
      --logfile "$node_dir/redis.log" >/dev/null 2>&1 </dev/null &
    echo $! >"$node_dir/redis.pid"
    pids+=($!)
    addresses+=("127.0.0.1:$port")
  done
  n=0
  for port in "$@"; do
    n=$((n + 1))
    wait_until 30 "${pids[n - 1]}" "Redis Cluster node $n" redis_answers "$port" ||
      { echo "see $dir/redis/cluster-$n/redis.log" >&2; return 1; }
  done
  if ! REDISCLI_AUTH=$redis_password redis-cli --no-auth-warning --cluster create \
       "${addresses[@]}" --cluster-replicas 0 --cluster-yes >"$dir/redis/cluster-create.log" 2>&1
  then
    cat "$dir/redis/cluster-create.log" >&2
    return 1
  fi
  n=0
  for port in "$@"; do
    n=$((n + 1))
    wait_until 30 "${pids[n - 1]}" "Redis Cluster node $n" redis_cluster_ok "$port" ||
      { echo "see $dir/redis/cluster-$n/redis.log" >&2; return 1; }
  done
}

redis_cluster_ok() {
  redis_cli "$1" CLUSTER INFO | tr -d '\r' | grep -q '^cluster_state:ok$'
}

# --- Apache Kafka ---------------------------------------------------------------------------
# The broker's JVM: a heap small enough for a 2-core, shared test machine, G1 with short pauses
# as Kafka's own scripts set it.
kafka_broker_java_opts=(-Xmx512m -Xms128m -XX:+UseG1GC -XX:MaxGCPauseMillis=20
                        -XX:+ExitOnOutOfMemoryError -Djava.awt.headless=true)
# Short-lived tools (storage format, TopicCommand): the quick-starting compiler only, serial GC.
kafka_tool_java_opts=(-Xmx256m -XX:TieredStopAtLevel=1 -XX:+UseSerialGC -Djava.awt.headless=true)

check_java() {
  command -v java >/dev/null || {
    echo "java not found: run scripts/install-deps.sh --servers" >&2
    return 1
  }
  local major
  major=$(java -version 2>&1 | sed -n '1s/.*version "\([0-9]*\).*/\1/p')
  if [[ -z "$major" || "$major" -lt 17 ]]; then
    echo "Apache Kafka 4 needs Java 17 or later; 'java' is $(java -version 2>&1 | head -1)" >&2
    return 1
  fi
}

# make_kafka_tls DIR: a self-signed CA (ca.pem), the broker's certificate for 127.0.0.1 and
# localhost signed by it with its key in one PEM file (broker.pem, the broker's keystore), a
# client certificate signed by it whose key is encrypted with $kafka_client_key_password
# (client.pem, client-key.pem), and another self-signed CA that signed nothing (other-ca.pem),
# for the tests of a wrong CA. EC keys: made in milliseconds.
make_kafka_tls() {
  local tls=$1
  mkdir -p "$tls"
  (
    cd "$tls"
    local key=(-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes)
    openssl req -x509 "${key[@]}" -keyout ca-key.pem -out ca.pem -days 30 \
      -subj "/CN=Sluice test CA" 2>/dev/null
    openssl req -x509 "${key[@]}" -keyout other-ca-key.pem -out other-ca.pem -days 30 \
      -subj "/CN=Another test CA" 2>/dev/null
    openssl req "${key[@]}" -keyout broker-key.pem -out broker.csr -subj "/CN=127.0.0.1" \
      2>/dev/null
    printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\n' >broker.ext
    openssl x509 -req -in broker.csr -CA ca.pem -CAkey ca-key.pem -CAcreateserial \
      -out broker-cert.pem -days 30 -extfile broker.ext 2>/dev/null
    cat broker-key.pem broker-cert.pem >broker.pem
    openssl req "${key[@]}" -keyout client-plain-key.pem -out client.csr -subj "/CN=sluice" \
      2>/dev/null
    openssl x509 -req -in client.csr -CA ca.pem -CAkey ca-key.pem -CAcreateserial \
      -out client.pem -days 30 2>/dev/null
    openssl pkcs8 -topk8 -v2 aes-256-cbc -in client-plain-key.pem -out client-key.pem \
      -passout "pass:$kafka_client_key_password"
    rm -f client-plain-key.pem ./*.csr ./*.ext
  )
}

# write_kafka_config PORT SASL_PORT SSL_PORT SASL_SSL_PORT CONTROLLER_PORT: server.properties,
# the TLS files (make_kafka_tls), the log4j2 files and kafka-run-class.sh (runs any main class of
# the Kafka jars) in $dir/kafka.
write_kafka_config() {
  local port=$1 sasl_port=$2 ssl_port=$3 sasl_ssl_port=$4 controller_port=$5
  local kafka_dir=$dir/kafka lib
  lib=$("$root/scripts/fetch-jvm-servers.sh" --dir kafka)/lib
  mkdir -p "$kafka_dir/data"
  make_kafka_tls "$kafka_dir/tls"
  cat >"$kafka_dir/server.properties" <<PROPERTIES
# Written by scripts/test-servers.sh: one node, broker and KRaft controller in one process.
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$controller_port
controller.listener.names=CONTROLLER
listeners=PLAINTEXT://127.0.0.1:$port,SASL_PLAINTEXT://127.0.0.1:$sasl_port,SSL://127.0.0.1:$ssl_port,SASL_SSL://127.0.0.1:$sasl_ssl_port,CONTROLLER://127.0.0.1:$controller_port
advertised.listeners=PLAINTEXT://127.0.0.1:$port,SASL_PLAINTEXT://127.0.0.1:$sasl_port,SSL://127.0.0.1:$ssl_port,SASL_SSL://127.0.0.1:$sasl_ssl_port
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,SASL_PLAINTEXT:SASL_PLAINTEXT,SSL:SSL,SASL_SSL:SASL_SSL,CONTROLLER:PLAINTEXT
inter.broker.listener.name=PLAINTEXT
# SASL/PLAIN on two listeners, SASL_PLAINTEXT and SASL_SSL (over the TLS below): users sluice
# and denied (the same password), the same JAAS config on both. ACLs are checked
# (StandardAuthorizer) but a resource without any ACL is open to everyone, and the listeners
# without a login (PLAINTEXT, the controller's) are super users: only what a test denies is
# denied (a topic user denied may not touch, for the authorization errors).
sasl.enabled.mechanisms=PLAIN
listener.name.sasl_plaintext.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required user_sluice="$kafka_password" user_denied="$kafka_password";
listener.name.sasl_ssl.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required user_sluice="$kafka_password" user_denied="$kafka_password";
authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer
allow.everyone.if.no.acl.found=true
super.users=User:ANONYMOUS
# TLS on the SSL and SASL_SSL listeners: the certificate of tls/broker.pem (signed by
# tls/ca.pem); a client certificate is checked against tls/ca.pem when one is presented.
ssl.keystore.type=PEM
ssl.keystore.location=$kafka_dir/tls/broker.pem
ssl.truststore.type=PEM
ssl.truststore.location=$kafka_dir/tls/ca.pem
ssl.client.auth=requested
log.dirs=$kafka_dir/data
# Tests create their topics (kafka_topic in tests/e2e/lib.sh): a mistyped name fails, it does
# not quietly make a new topic.
auto.create.topics.enable=false
num.partitions=1
default.replication.factor=1
# One node: the internal topics have one replica, and one partition each so that the first
# consumer group and the first transaction start at once (the defaults, 50, take seconds).
offsets.topic.replication.factor=1
offsets.topic.num.partitions=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
# After a kill -9 (crash kafka) the restarted broker cannot register until the controller has
# expired the dead one's session: 4 s instead of 9 s keeps a crash test short.
broker.session.timeout.ms=4000
broker.heartbeat.interval.ms=500
PROPERTIES
  cat >"$kafka_dir/log4j2.properties" <<PROPERTIES
status = warn
appender.file.type = File
appender.file.name = file
appender.file.fileName = $kafka_dir/server.log
appender.file.layout.type = PatternLayout
appender.file.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = info
rootLogger.appenderRef.file.ref = file
PROPERTIES
  cat >"$kafka_dir/tools-log4j2.properties" <<PROPERTIES
status = warn
appender.err.type = Console
appender.err.name = err
appender.err.target = SYSTEM_ERR
appender.err.layout.type = PatternLayout
appender.err.layout.pattern = %p %m (%c)%n
rootLogger.level = warn
rootLogger.appenderRef.err.ref = err
PROPERTIES
  cat >"$kafka_dir/kafka-run-class.sh" <<SCRIPT
#!/bin/sh
# Written by scripts/test-servers.sh: runs a main class of the Apache Kafka jars the test broker
# runs from, e.g. kafka-run-class.sh org.apache.kafka.tools.TopicCommand --bootstrap-server ...
exec java ${kafka_tool_java_opts[*]} -Dlog4j2.configurationFile=$kafka_dir/tools-log4j2.properties \\
  -cp '$lib/*' "\$@"
SCRIPT
  chmod +x "$kafka_dir/kafka-run-class.sh"
}

# start_kafka PORT: starts the broker of $dir/kafka (formatted) and waits until it answers on
# PORT (kcat asks for the cluster's metadata).
start_kafka() {
  local port=$1 kafka_dir=$dir/kafka lib
  lib=$("$root/scripts/fetch-jvm-servers.sh" --dir kafka)/lib
  java "${kafka_broker_java_opts[@]}" -Dlog4j2.configurationFile="$kafka_dir/log4j2.properties" \
    -cp "$lib/*" kafka.Kafka "$kafka_dir/server.properties" \
    >>"$kafka_dir/stdout.log" 2>&1 </dev/null &
  echo $! >"$kafka_dir/kafka.pid"
  if ! wait_until 120 $! "Kafka" kafka_answers "$port"; then
    echo "see $kafka_dir/server.log and $kafka_dir/stdout.log" >&2
    return 1
  fi
}

kafka_answers() {
  kcat -b "127.0.0.1:$1" -L -m 1 2>/dev/null | grep -q '^ 1 brokers:'
}

# first_start_kafka PORT SASL_PORT SSL_PORT SASL_SSL_PORT CONTROLLER_PORT: configures, formats
# (a new cluster id) and starts the broker, then checks that the SASL/PLAIN listener lets user
# sluice in, that the TLS listener answers a client trusting tls/ca.pem, and that the SASL_SSL
# listener does both.
first_start_kafka() {
  local port=$1 sasl_port=$2 ssl_port=$3 sasl_ssl_port=$4 controller_port=$5
  local kafka_dir=$dir/kafka cluster_id started=$EPOCHREALTIME
  check_java
  write_kafka_config "$port" "$sasl_port" "$ssl_port" "$sasl_ssl_port" "$controller_port"
  # A cluster id is 16 random bytes in URL-safe base64, not starting with '-' (which the tool
  # would take for an option), as `kafka-storage random-uuid` makes them.
  cluster_id=$(python3 -c 'import base64, uuid
while True:
    text = base64.urlsafe_b64encode(uuid.uuid4().bytes).rstrip(b"=").decode()
    if not text.startswith("-"):
        print(text)
        break')
  "$kafka_dir/kafka-run-class.sh" kafka.tools.StorageTool format -t "$cluster_id" \
    -c "$kafka_dir/server.properties" >"$kafka_dir/format.log" 2>&1 ||
    { cat "$kafka_dir/format.log" >&2; return 1; }
  start_kafka "$port"
  kcat -b "127.0.0.1:$sasl_port" -X security.protocol=SASL_PLAINTEXT -X sasl.mechanisms=PLAIN \
    -X sasl.username=sluice -X sasl.password="$kafka_password" -L -m 10 >/dev/null ||
    { echo "Kafka's SASL/PLAIN listener refused user sluice" >&2; return 1; }
  kcat -b "127.0.0.1:$ssl_port" -X security.protocol=SSL \
    -X ssl.ca.location="$kafka_dir/tls/ca.pem" -L -m 10 >/dev/null ||
    { echo "Kafka's TLS listener did not answer" >&2; return 1; }
  kcat -b "127.0.0.1:$sasl_ssl_port" -X security.protocol=SASL_SSL -X sasl.mechanisms=PLAIN \
    -X sasl.username=sluice -X sasl.password="$kafka_password" \
    -X ssl.ca.location="$kafka_dir/tls/ca.pem" -L -m 10 >/dev/null ||
    { echo "Kafka's SASL_SSL listener did not let user sluice in over TLS" >&2; return 1; }
  echo "Kafka answered $(elapsed_since "$started") s after its start began"
}

# --- Schema registry: Apicurio Registry, in memory ----------------------------------------------
# start_registry: starts the registry (Confluent-compatible API under /apis/ccompat/v7) in
# $dir/registry, waits until it answers and adds SLUICE_TEST_SCHEMA_REGISTRY_URL to the env
# file. In-memory storage (the default): it starts empty every time.
start_registry() {
  [[ -f "$env_file" ]] || { echo "start the servers first: $0 start $env_file" >&2; return 1; }
  stop_registry
  dir=$(env_value SLUICE_TEST_SERVERS_DIR)
  check_java
  local port registry registry_dir=$dir/registry started=$EPOCHREALTIME
  registry=$("$root/scripts/fetch-jvm-servers.sh" --dir registry)
  port=$(free_ports 1)
  mkdir -p "$registry_dir"
  # Quarkus in JVM mode: the quick-starting compiler only and a small heap keep its start short
  # on a loaded machine (about 2.5 s of CPU).
  (cd "$registry_dir" &&
    exec java -Xmx256m -XX:TieredStopAtLevel=1 -XX:+UseSerialGC -Djava.awt.headless=true \
      -Dquarkus.http.host=127.0.0.1 -Dquarkus.http.port="$port" \
      -jar "$(ls "$registry"/apicurio-registry-app-*-runner.jar)" \
      >"$registry_dir/registry.log" 2>&1 </dev/null) &
  echo $! >"$registry_dir/registry.pid"
  local url=http://127.0.0.1:$port/apis/ccompat/v7
  if ! wait_until 180 $! "The schema registry" curl -sf -o /dev/null "$url/subjects"; then
    echo "see $registry_dir/registry.log" >&2
    kill_process "$registry_dir/registry.pid" 5
    return 1
  fi
  set_env SLUICE_TEST_SCHEMA_REGISTRY_ "SLUICE_TEST_SCHEMA_REGISTRY_URL=$url"
  echo "Schema registry (Apicurio, Confluent-compatible) at $url after $(elapsed_since "$started") s"
}

stop_registry() {
  [[ -f "$env_file" ]] || return 0
  dir=$(env_value SLUICE_TEST_SERVERS_DIR)
  set_env SLUICE_TEST_SCHEMA_REGISTRY_
  [[ -n "$dir" ]] || return 0
  kill_process "$dir/registry/registry.pid" 10
  rm -rf "$dir/registry"
}

# --- On-demand servers beside the others, or on their own ----------------------------------------
# make_server_dir NAME: the folder $dir/NAME for an on-demand server; creates the env file and the
# servers' directory first when there is none (a start on its own). Under the lock, together,
# so that a concurrent stop of another on-demand server does not take the directory away.
make_server_dir() {
  mkdir -p "$(dirname "$env_file")"
  with_env_lock make_server_dir_locked "$1"
  dir=$(env_value SLUICE_TEST_SERVERS_DIR)
}
make_server_dir_locked() {
  local servers_dir
  servers_dir=$( [[ -f "$env_file" ]] && env_value SLUICE_TEST_SERVERS_DIR || true)
  if [[ -z "$servers_dir" || ! -d "$servers_dir" ]]; then
    servers_dir=$(mktemp -d /tmp/sluice-servers-XXXXXX)
    chmod 755 "$servers_dir"
    echo "SLUICE_TEST_SERVERS_DIR=$servers_dir" >"$env_file"
  fi
  mkdir -p "$servers_dir/$1"
}

# remove_if_no_server_left: after a stop, deletes the env file and the servers' directory when no
# server has a folder there any more (what start-hdfs, start-s3 or start-metastore made on their
# own).
remove_if_no_server_left() {
  [[ -f "$env_file" ]] || return 0
  with_env_lock remove_if_no_server_left_locked
}
remove_if_no_server_left_locked() {
  # The other store's stop may have removed it between our look and the lock.
  [[ -f "$env_file" ]] || return 0
  local servers_dir
  servers_dir=$(env_value SLUICE_TEST_SERVERS_DIR)
  if [[ -n "$servers_dir" ]] && rmdir "$servers_dir" 2>/dev/null; then
    rm -f "$env_file"
  fi
}

# --- HDFS: Hadoop's MiniDFSCluster (scripts/jvm/hdfs) -------------------------------------------
hdfs_user=sluice

# start_hdfs: starts one NameNode and one DataNode (WebHDFS on, permissions off, one replica) in
# $dir/hdfs, waits for the ports file its launcher writes once the cluster is up, and adds
# SLUICE_TEST_HDFS_* to the env file.
start_hdfs() {
  stop_hdfs
  check_java
  local hdfs started=$EPOCHREALTIME
  hdfs=$("$root/scripts/fetch-jvm-servers.sh" --dir hdfs)
  make_server_dir hdfs
  local hdfs_dir=$dir/hdfs
  # A small heap and the quick-starting compiler: the tests move a few MiB; start-up is what
  # costs on a shared 2-core machine. Hadoop logs warnings and errors only (slf4j-simple).
  (cd "$hdfs_dir" &&
    exec java -Xmx256m -XX:TieredStopAtLevel=1 -XX:+UseSerialGC -Djava.awt.headless=true \
      -Djava.net.preferIPv4Stack=true -Dorg.slf4j.simpleLogger.defaultLogLevel=warn \
      -cp "$hdfs/classes:$hdfs/lib/*" HdfsMini "$hdfs_dir" \
      >"$hdfs_dir/hdfs.log" 2>&1 </dev/null) &
  echo $! >"$hdfs_dir/hdfs.pid"
  if ! wait_until 120 $! "HDFS" test -f "$hdfs_dir/ports.env"; then
    echo "see $hdfs_dir/hdfs.log" >&2
    kill_process "$hdfs_dir/hdfs.pid" 5
    return 1
  fi
  local http_port rpc_port
  http_port=$(sed -n 's/^NN_HTTP_PORT=//p' "$hdfs_dir/ports.env")
  rpc_port=$(sed -n 's/^NN_RPC_PORT=//p' "$hdfs_dir/ports.env")
  set_env SLUICE_TEST_HDFS_ "SLUICE_TEST_HDFS_WEBHDFS=http://127.0.0.1:$http_port" \
    "SLUICE_TEST_HDFS_NAMENODE=hdfs://127.0.0.1:$rpc_port" "SLUICE_TEST_HDFS_USER=$hdfs_user"
  echo "HDFS (MiniDFSCluster) with WebHDFS at http://127.0.0.1:$http_port after" \
    "$(elapsed_since "$started") s"
}

stop_hdfs() {
  [[ -f "$env_file" ]] || return 0
  dir=$(env_value SLUICE_TEST_SERVERS_DIR)
  set_env SLUICE_TEST_HDFS_
  [[ -n "$dir" ]] || return 0
  # The shutdown hook stops the DataNode and NameNode in about 2 s.
  kill_process "$dir/hdfs/hdfs.pid" 15
  rm -rf "$dir/hdfs"
}

# --- S3: s3proxy on a folder (scripts/jvm/s3proxy) ----------------------------------------------
s3_access_key=sluice-test-access
s3_secret_key=sluice-s3-test-secret
s3_bucket=sluice-test
s3_region=us-east-1

# start_s3: starts s3proxy in $dir/s3 with one bucket, waits until a signed HEAD of the bucket
# succeeds (which also proves that it checks signatures the way the tests sign) and adds
# SLUICE_TEST_S3_* to the env file.
start_s3() {
  stop_s3
  check_java
  local s3proxy port started=$EPOCHREALTIME
  s3proxy=$("$root/scripts/fetch-jvm-servers.sh" --dir s3proxy)
  make_server_dir s3
  local s3_dir=$dir/s3
  port=$(free_ports 1)
  # The filesystem backend keeps a bucket as a folder of the data directory.
  mkdir -p "$s3_dir/data/$s3_bucket"
  sed -e '/^#/d' -e "s|@PORT@|$port|" -e "s|@ACCESS_KEY@|$s3_access_key|" \
    -e "s|@SECRET_KEY@|$s3_secret_key|" -e "s|@DATA_DIR@|$s3_dir/data|" \
    "$root/scripts/jvm/s3proxy/s3proxy.properties.in" >"$s3_dir/s3proxy.properties"
  # s3proxy logs every request at DEBUG through logback: warnings only.
  cat >"$s3_dir/logback.xml" <<XML
<configuration>
  <appender name="stderr" class="ch.qos.logback.core.ConsoleAppender">
    <target>System.err</target>
    <encoder><pattern>%d %level %logger{20} %msg%n</pattern></encoder>
  </appender>
  <root level="WARN"><appender-ref ref="stderr"/></root>
</configuration>
XML
  (cd "$s3_dir" &&
    exec java -Xmx256m -XX:TieredStopAtLevel=1 -XX:+UseSerialGC -Djava.awt.headless=true \
      -Dlogback.configurationFile="$s3_dir/logback.xml" \
      -cp "$s3proxy/lib/*" org.gaul.s3proxy.Main --properties "$s3_dir/s3proxy.properties" \
      >"$s3_dir/s3proxy.log" 2>&1 </dev/null) &
  echo $! >"$s3_dir/s3proxy.pid"
  local endpoint=http://127.0.0.1:$port
  # curl signs (SigV4) but does not send the payload's hash, which S3 requires: the empty body's.
  local empty_sha256=e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855
  if ! wait_until 120 $! "s3proxy" curl -sf -o /dev/null -I \
       --aws-sigv4 "aws:amz:$s3_region:s3" --user "$s3_access_key:$s3_secret_key" \
       -H "x-amz-content-sha256: $empty_sha256" "$endpoint/$s3_bucket"; then
    echo "see $s3_dir/s3proxy.log" >&2
    kill_process "$s3_dir/s3proxy.pid" 5
    return 1
  fi
  set_env SLUICE_TEST_S3_ "SLUICE_TEST_S3_ENDPOINT=$endpoint" \
    "SLUICE_TEST_S3_ACCESS_KEY=$s3_access_key" "SLUICE_TEST_S3_SECRET_KEY=$s3_secret_key" \
    "SLUICE_TEST_S3_BUCKET=$s3_bucket" "SLUICE_TEST_S3_REGION=$s3_region"
  echo "S3 (s3proxy, filesystem) at $endpoint, bucket $s3_bucket, after" \
    "$(elapsed_since "$started") s"
}

stop_s3() {
  [[ -f "$env_file" ]] || return 0
  dir=$(env_value SLUICE_TEST_SERVERS_DIR)
  set_env SLUICE_TEST_S3_
  [[ -n "$dir" ]] || return 0
  kill_process "$dir/s3/s3proxy.pid" 10
  rm -rf "$dir/s3"
}

# --- Hive metastore: Hive's standalone metastore on Derby (scripts/jvm/metastore) ------------
# start_metastore: starts the metastore in $dir/metastore on a free port, waits for the ready file
# its launcher writes once Thrift accepts connections, and adds SLUICE_TEST_METASTORE_URI to the
# env file. A new Derby database every time: it starts with the `default` database only.
start_metastore() {
  stop_metastore
  check_java
  local metastore port started=$EPOCHREALTIME
  metastore=$("$root/scripts/fetch-jvm-servers.sh" --dir metastore)
  make_server_dir metastore
  local metastore_dir=$dir/metastore
  port=$(free_ports 1)
  # Warnings and errors only, into the launcher's log: the metastore logs every call at INFO.
  cat >"$metastore_dir/log4j2.properties" <<PROPERTIES
status = warn
appender.err.type = Console
appender.err.name = err
appender.err.target = SYSTEM_ERR
appender.err.layout.type = PatternLayout
appender.err.layout.pattern = %d{HH:mm:ss.SSS} %p %c{1}: %m%n
rootLogger.level = warn
rootLogger.appenderRef.err.ref = err
PROPERTIES
  # A small heap and the quick-starting compiler, as for HDFS: start-up (DataNucleus creating the
  # schema in Derby) is what costs on a shared 2-core machine.
  (cd "$metastore_dir" &&
    exec java -Xmx384m -XX:TieredStopAtLevel=1 -XX:+UseSerialGC -Djava.awt.headless=true \
      -Djava.net.preferIPv4Stack=true \
      -Dlog4j2.configurationFile="$metastore_dir/log4j2.properties" \
      -cp "$metastore/classes:$metastore/lib/*" MetastoreMain "$metastore_dir" "$port" \
      >"$metastore_dir/metastore.log" 2>&1 </dev/null) &
  echo $! >"$metastore_dir/metastore.pid"
  if ! wait_until 180 $! "The Hive metastore" test -f "$metastore_dir/ready"; then
    echo "see $metastore_dir/metastore.log" >&2
    kill_process "$metastore_dir/metastore.pid" 5
    return 1
  fi
  set_env SLUICE_TEST_METASTORE_ "SLUICE_TEST_METASTORE_URI=thrift://127.0.0.1:$port"
  echo "Hive metastore (standalone, Derby) at thrift://127.0.0.1:$port after" \
    "$(elapsed_since "$started") s"
}

stop_metastore() {
  [[ -f "$env_file" ]] || return 0
  dir=$(env_value SLUICE_TEST_SERVERS_DIR)
  set_env SLUICE_TEST_METASTORE_
  [[ -n "$dir" ]] || return 0
  # SIGTERM ends it in well under a second.
  kill_process "$dir/metastore/metastore.pid" 10
  rm -rf "$dir/metastore"
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
    kafka)
      # Same ports, same log directories: the broker recovers its logs as after a power cut.
      local pid port
      pid=$(cat "$dir/kafka/kafka.pid")
      port=$(env_value SLUICE_TEST_KAFKA_BOOTSTRAP)
      port=${port##*:}
      kill -9 "$pid"
      while kill -0 "$pid" 2>/dev/null; do sleep 0.05; done
      start_kafka "$port"
      ;;
    redis)
      # The primary and the replica both, then the pair again on the same ports (in memory only:
      # they come back empty, as after a crash without persistence).
      local primary_port replica_port pid
      primary_port=$(env_value SLUICE_TEST_REDIS_PORT)
      replica_port=$(env_value SLUICE_TEST_REDIS_REPLICA_PORT)
      for pid in $(cat "$dir/redis/primary/redis.pid" "$dir/redis/replica/redis.pid"); do
        kill -9 "$pid" 2>/dev/null || true
        while kill -0 "$pid" 2>/dev/null; do sleep 0.05; done
      done
      start_redis_pair "$primary_port" "$replica_port"
      ;;
    *) echo "crash: mysql, postgres, kafka or redis" >&2; return 2 ;;
  esac
}

start() {
  [[ -f "$env_file" ]] && stop
  mkdir -p "$(dirname "$env_file")"
  dir=$(mktemp -d /tmp/sluice-servers-XXXXXX)
  chmod 755 "$dir"
  # Written at once, so that `stop` finds the servers of a start that failed half-way.
  echo "SLUICE_TEST_SERVERS_DIR=$dir" >"$env_file"
  local mysql_port pg_port kafka_port kafka_sasl_port kafka_ssl_port kafka_sasl_ssl_port
  local kafka_controller_port redis_port redis_replica_port redis_cluster_1 redis_cluster_2
  local redis_cluster_3 redis_bus_1 redis_bus_2 redis_bus_3
  read -r mysql_port pg_port kafka_port kafka_sasl_port kafka_ssl_port kafka_sasl_ssl_port \
    kafka_controller_port redis_port redis_replica_port redis_cluster_1 redis_cluster_2 \
    redis_cluster_3 redis_bus_1 redis_bus_2 redis_bus_3 < <(free_ports 15)

  # --- Kafka, in the background while MariaDB and PostgreSQL start (it is mostly a JVM warming
  # up); its output goes to kafka/start.log.
  mkdir -p "$dir/kafka"
  first_start_kafka "$kafka_port" "$kafka_sasl_port" "$kafka_ssl_port" "$kafka_sasl_ssl_port" \
    "$kafka_controller_port" >"$dir/kafka/start.log" 2>&1 &
  local kafka_job=$!

  # --- MariaDB: binary log on in ROW format with full row images and column names (snapshot
  # positions and change data capture), LOCAL INFILE allowed.
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

  # --- Redis: a primary with a replica linked to it (the source reads from a replica).
  start_redis_pair "$redis_port" "$redis_replica_port"
  # --- Redis Cluster: three primaries (the sink's `cluster: true`).
  start_redis_cluster "$redis_cluster_1" "$redis_cluster_2" "$redis_cluster_3" -- \
    "$redis_bus_1" "$redis_bus_2" "$redis_bus_3"

  if ! wait "$kafka_job"; then
    cat "$dir/kafka/start.log" >&2
    echo "Kafka did not start" >&2
    return 1
  fi

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
SLUICE_TEST_KAFKA_BOOTSTRAP=127.0.0.1:$kafka_port
SLUICE_TEST_KAFKA_SASL_BOOTSTRAP=127.0.0.1:$kafka_sasl_port
SLUICE_TEST_KAFKA_SASL_MECHANISM=PLAIN
SLUICE_TEST_KAFKA_SASL_USER=sluice
SLUICE_TEST_KAFKA_SASL_PASSWORD=$kafka_password
SLUICE_TEST_KAFKA_SSL_BOOTSTRAP=127.0.0.1:$kafka_ssl_port
SLUICE_TEST_KAFKA_SSL_CA=$dir/kafka/tls/ca.pem
SLUICE_TEST_KAFKA_SSL_OTHER_CA=$dir/kafka/tls/other-ca.pem
SLUICE_TEST_KAFKA_SSL_CLIENT_CERT=$dir/kafka/tls/client.pem
SLUICE_TEST_KAFKA_SSL_CLIENT_KEY=$dir/kafka/tls/client-key.pem
SLUICE_TEST_KAFKA_SSL_CLIENT_KEY_PASSWORD=$kafka_client_key_password
SLUICE_TEST_KAFKA_SASL_SSL_BOOTSTRAP=127.0.0.1:$kafka_sasl_ssl_port
SLUICE_TEST_KAFKA_DIR=$dir/kafka
SLUICE_TEST_KAFKA_RUN_CLASS=$dir/kafka/kafka-run-class.sh
SLUICE_TEST_REDIS_HOST=127.0.0.1
SLUICE_TEST_REDIS_PORT=$redis_port
SLUICE_TEST_REDIS_REPLICA_PORT=$redis_replica_port
SLUICE_TEST_REDIS_PASSWORD=$redis_password
SLUICE_TEST_REDIS_CLUSTER_PORTS=$redis_cluster_1,$redis_cluster_2,$redis_cluster_3
ENV
  cat "$dir/kafka/start.log"
  echo "MariaDB on 127.0.0.1:$mysql_port, PostgreSQL on 127.0.0.1:$pg_port," \
    "Kafka on 127.0.0.1:$kafka_port (SASL/PLAIN on $kafka_sasl_port, TLS on $kafka_ssl_port," \
    "SASL/PLAIN over TLS on $kafka_sasl_ssl_port)," \
    "Redis on 127.0.0.1:$redis_port (replica on $redis_replica_port), Redis Cluster on" \
    "127.0.0.1:$redis_cluster_1,$redis_cluster_2,$redis_cluster_3 (env: $env_file)"
}

stop() {
  [[ -f "$env_file" ]] || return 0
  dir=$(sed -n 's/^SLUICE_TEST_SERVERS_DIR=//p' "$env_file")
  rm -f "$env_file"
  [[ -n "$dir" && -d "$dir" ]] || return 0
  # The JVMs first (their files go with the directory anyway); they stop while the others do.
  for pid_file in "$dir/registry/registry.pid" "$dir/kafka/kafka.pid" "$dir/hdfs/hdfs.pid" \
                  "$dir/s3/s3proxy.pid" "$dir/metastore/metastore.pid"; do
    [[ -f "$pid_file" ]] && kill "$(cat "$pid_file")" 2>/dev/null || true
  done
  if [[ -f "$dir/mysql/mysql.pid" ]]; then
    kill "$(cat "$dir/mysql/mysql.pid")" 2>/dev/null || true
    for _ in $(seq 1 100); do [[ -f "$dir/mysql/mysql.pid" ]] || break; sleep 0.1; done
  fi
  if [[ -f "$dir/pg/data/postmaster.pid" ]]; then
    as_postgres "$pg_bin/pg_ctl" -D "$dir/pg/data" -m immediate -w stop >/dev/null 2>&1 || true
  fi
  kill_process "$dir/redis/replica/redis.pid" 10
  kill_process "$dir/redis/primary/redis.pid" 10
  for n in 1 2 3; do kill_process "$dir/redis/cluster-$n/redis.pid" 10; done
  kill_process "$dir/registry/registry.pid" 10
  kill_process "$dir/kafka/kafka.pid" 10
  kill_process "$dir/hdfs/hdfs.pid" 15
  kill_process "$dir/s3/s3proxy.pid" 10
  kill_process "$dir/metastore/metastore.pid" 10
  rm -rf "$dir"
}

case "$action" in
  start) start ;;
  stop) stop ;;
  crash) crash ;;
  start-registry) start_registry ;;
  stop-registry) stop_registry ;;
  start-hdfs) start_hdfs ;;
  stop-hdfs) stop_hdfs; remove_if_no_server_left ;;
  start-s3) start_s3 ;;
  stop-s3) stop_s3; remove_if_no_server_left ;;
  start-metastore) start_metastore ;;
  stop-metastore) stop_metastore; remove_if_no_server_left ;;
  *) echo "usage: $0 start|stop|start-registry|stop-registry|start-hdfs|stop-hdfs|start-s3|stop-s3" \
          "|start-metastore|stop-metastore" \
          "ENV_FILE" \
          "| crash mysql|postgres|kafka|redis ENV_FILE" >&2
     exit 2 ;;
esac
