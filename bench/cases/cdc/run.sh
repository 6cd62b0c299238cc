# Change data capture: Sluice against Debezium's embedded engine (3.6.1.Final, its MySQL and
# PostgreSQL connectors, on Java 17 with -Xmx1g: bench/debezium) reading the same changes of the
# same run, each BENCH_ROUNDS times (default 3; the fastest counts: the machine is shared).
#   changes:  BENCH_ROWS changes (default 1,000,000) of a mixed-type orders table, written in
#             50,000-row transactions: 60% inserts, then 25% updates (every column but the key
#             kept, three changed), then 15% deletes. MariaDB: the rows come from a table made by
#             bench_mysql_table; PostgreSQL: the same shape from generate_series.
#   same binlog / WAL: before the changes are written, every reader records where its stream
#             starts: each Sluice job runs once (`--fresh`, start_from current) until it logs
#             that it streams, and is stopped; Debezium runs once with snapshot.mode=no_data
#             until its first heartbeat (it streams), and stops with that offset committed
#             (bench/debezium/DebeziumBench.java, N = 0). PostgreSQL: each reader has its own
#             slot, created then. The changes are then written with no reader running, and
#             each reader is timed alone, resuming from its recorded start, from its process'
#             start until its target holds every change: so all read exactly the same
#             binlog events (WAL records), none of them while they were being written.
#   checks:   every target holds exactly the changes written: its count, and in the files (Sluice
#             JSON Lines, Debezium) as many inserts, updates and deletes as were written.
#   sluice jsonl:  source mode cdc -> JSON Lines files (roll_rows 100,000), exactly-once, the
#             lines of all parts counted as they are written (in-progress parts included); a
#             MariaDB update is two lines (update_before, update_after), a PostgreSQL one
#             (REPLICA IDENTITY DEFAULT) one.
#   sluice kafka:  -> a 1-partition topic, format debezium_json (one event per change, like
#             Debezium's, no tombstones), at-least-once like Debezium's engine.
#   debezium: the embedded engine, JsonConverter without schemas (as Sluice's events), every
#             event's JSON value one line in a file; the program exits after N events and
#             prints its own times. Its events/s are given twice: from the JVM's start (as
#             Sluice's, whose process start is counted too) and from its first event on.
#             MariaDB: Debezium's MariaDB connector is not served by this machine's Maven
#             mirror; its MySQL connector reads MariaDB once told to ask SHOW MASTER STATUS
#             (a JDBC query interceptor in DebeziumBench).
#   latency:  a writer inserts BENCH_LATENCY_RATE rows/s (default 10,000; statements of 100
#             rows, autocommitted) for BENCH_LATENCY_SECS (default 30) into MariaDB, then
#             into PostgreSQL, each row carrying the server's clock when it was written
#             (NOW(6), clock_timestamp()); Sluice streams them into a
#             topic whose messages carry the broker's append time (LogAppendTime); p50/p99/max
#             of (append time - written time) over every row.
#   big transaction:  one UPDATE of BENCH_BIG_ROWS rows (default 10,000,000) in one
#             transaction, MariaDB and PostgreSQL, captured into JSON Lines files (roll_rows
#             1,000,000); Sluice's peak RSS must stay under 256 MB.
# Goals (issue 13): MariaDB binlog >= 4x Debezium's events/s and >= 100k changes/s;
# PostgreSQL >= 2x Debezium; latency p99 < 1 s at 10k changes/s; peak RSS < 256 MB.
rows=${BENCH_ROWS:-1000000}
rounds=${BENCH_ROUNDS:-3}
big_rows=${BENCH_BIG_ROWS:-10000000}
latency_rate=${BENCH_LATENCY_RATE:-10000}
latency_secs=${BENCH_LATENCY_SECS:-30}
bench_servers
out="$BENCH_DIR/cdc"
rm -rf "$out" && mkdir -p "$out"
cdc_py=(python3 "$CASE_DIR/cdc.py")
export BENCH_KAFKA=$SLUICE_TEST_KAFKA_BOOTSTRAP

# --- Debezium's embedded engine, built once (offline when Maven has everything already).
dbz_dir=$BENCH_ROOT/bench/debezium
maven=(mvn -B -q -f "$dbz_dir/pom.xml"
       -Dmaven.repo.local="${SLUICE_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/sluice}/maven/repository")
if [[ ! -f "$dbz_dir/target/classes/sluice/bench/DebeziumBench.class" ||
      -n "$(find "$dbz_dir/pom.xml" "$dbz_dir/src" -newer "$dbz_dir/target/classes/sluice/bench/DebeziumBench.class" -type f)" ]]; then
  "${maven[@]}" -o package dependency:copy-dependencies >"$out/maven.log" 2>&1 ||
    "${maven[@]}" package dependency:copy-dependencies >"$out/maven.log" 2>&1 ||
    { cat "$out/maven.log" >&2; echo "building bench/debezium failed" >&2; return 1; }
fi
debezium=(timeout 1800 java -Xmx1g -Dorg.slf4j.simpleLogger.defaultLogLevel=warn
          -cp "$dbz_dir/target/classes:$dbz_dir/target/lib/*" sluice.bench.DebeziumBench)

inserts=$((rows * 6 / 10))
updates=$((rows / 4))
deletes=$((rows - inserts - updates))
chunk=50000

topic() {  # NAME [CONFIG...]: a fresh 1-partition topic
  local name=$1
  shift
  "$SLUICE_TEST_KAFKA_RUN_CLASS" org.apache.kafka.tools.TopicCommand \
    --bootstrap-server "$SLUICE_TEST_KAFKA_BOOTSTRAP" --create --topic "$name" --partitions 1 \
    --replication-factor 1 "$@" >/dev/null
}
topic_count() {  # TOPIC: its messages (1 partition, no transactions: the end offset)
  kcat -Q -b "$SLUICE_TEST_KAFKA_BOOTSTRAP" -t "$1:0:-1" | awk '{ print $NF }'
}
lines_of() {  # GLOB...
  cat "$@" 2>/dev/null | wc -l
}

# expect_ops LABEL GLOB INSERT UPDATE DELETE: the files hold as many lines of each kind (the
# pattern that marks it) as inserts, updates and deletes were written.
expect_ops() {
  local label=$1 files=$2 kind expected
  shift 2
  for kind in insert update delete; do
    expected=$inserts
    [[ $kind == update ]] && expected=$updates
    [[ $kind == delete ]] && expected=$deletes
    # shellcheck disable=SC2086  # files is a glob
    expect_count "$label ($kind)" "$(cat $files | grep -c -F -- "$1")" "$expected"
    shift
  done
}
# took LABEL CHANGES: the measured run's own time until its target held every change (the
# `reached_secs` cdc.py until printed; the stop after it is not counted) replaces the wall time.
took() {
  local label=$1 changes=$2 seconds
  seconds=$(sed -n 's/^reached_secs=\([0-9.]*\).*/\1/p' "$BENCH_DIR/last.out")
  [[ -n "$seconds" ]] || { echo "  no time for $label" >&2; return 1; }
  BENCH_SECONDS[$label]=$seconds
  print_rate "$label" "$changes" "$seconds"
}
print_rate() {  # LABEL CHANGES SECONDS
  printf '  %-38s %8.2f s %12s changes/s until the target held all %s changes\n' "$1" "$3" \
    "$(awk -v r="$2" -v s="$3" 'BEGIN { printf "%.0f", (s > 0 ? r / s : 0) }')" "$2"
}
# debezium_times LABEL FIRST_LABEL CHANGES: Debezium's own times (the program prints them):
# under LABEL until its N-th event was written, from the JVM's start; under FIRST_LABEL from its
# first event on.
debezium_times() {
  local label=$1 first=$2 changes=$3 line elapsed steady
  line=$(grep '^events=' "$BENCH_DIR/last.out")
  elapsed=$(sed 's/.*elapsed_ms=\([0-9]*\).*/\1/' <<<"$line")
  steady=$(sed 's/.*steady_ms=\([0-9]*\).*/\1/' <<<"$line")
  BENCH_SECONDS[$label]=$(awk -v ms="$elapsed" 'BEGIN { printf "%.3f", ms / 1000 }')
  print_rate "$label" "$changes" "${BENCH_SECONDS[$label]}"
  BENCH_SECONDS[$first]=$(awk -v ms="$steady" 'BEGIN { printf "%.3f", ms / 1000 }')
  BENCH_RSS_MB[$first]=${BENCH_RSS_MB[$label]}
  BENCH_ROWS[$first]=$changes
  BENCH_CPU[$first]=${BENCH_CPU[$label]}
  BENCH_SERVER_CPU[$first]=${BENCH_SERVER_CPU[$label]}
  print_rate "$first" "$changes" "${BENCH_SECONDS[$first]}"
}

# debezium_props FILE KIND NAME: the engine's configuration for MariaDB (mysql) or PostgreSQL.
debezium_props() {
  local file=$1 kind=$2 name=$3
  {
    echo "name=$name"
    echo "topic.prefix=bench"
    echo "snapshot.mode=no_data"
    echo "offset.storage=org.apache.kafka.connect.storage.FileOffsetBackingStore"
    echo "offset.storage.file.filename=$out/$name.offsets"
    echo "offset.flush.interval.ms=1000"
    echo "schema.history.internal=io.debezium.storage.file.history.FileSchemaHistory"
    echo "schema.history.internal.file.filename=$out/$name.history"
    echo "heartbeat.interval.ms=500"
    echo "tombstones.on.delete=false"
    echo "converter.schemas.enable=false"
    echo "include.schema.changes=false"
    if [[ $kind == mysql ]]; then
      echo "connector.class=io.debezium.connector.mysql.MySqlConnector"
      echo "database.hostname=$SLUICE_TEST_MYSQL_HOST"
      echo "database.port=$SLUICE_TEST_MYSQL_PORT"
      echo "database.user=$SLUICE_TEST_MYSQL_USER"
      echo "database.password=$SLUICE_TEST_MYSQL_PASSWORD"
      echo "database.server.id=5400"
      echo "database.include.list=bench"
      echo "table.include.list=bench.cdc_orders"
      echo 'driver.propertiesTransform=sluice.bench.DebeziumBench$MariaDbProperties'
    else
      echo "connector.class=io.debezium.connector.postgresql.PostgresConnector"
      echo "database.hostname=$SLUICE_TEST_PG_HOST"
      echo "database.port=$SLUICE_TEST_PG_PORT"
      echo "database.user=$SLUICE_TEST_PG_USER"
      echo "database.password=$SLUICE_TEST_PG_PASSWORD"
      echo "database.dbname=bench_cdc"
      echo "plugin.name=pgoutput"
      echo "slot.name=bench_debezium"
      echo "publication.name=bench_debezium"
      echo "publication.autocreate.mode=filtered"
      echo "table.include.list=public.cdc_orders"
    fi
  } >"$file"
  rm -f "$out/$name.offsets" "$out/$name.history"
}

# --- The changes --------------------------------------------------------------------------
bench_mysql_table cdc_src "$inserts" "seq"
mysql_fresh_table() {
  "${MYSQL[@]}" -e "DROP TABLE IF EXISTS bench.cdc_orders;
    CREATE TABLE bench.cdc_orders LIKE bench.cdc_src"
}
mysql_changes() {
  local sql="" a
  for ((a = 1; a <= inserts; a += chunk)); do
    sql+="INSERT INTO cdc_orders SELECT * FROM cdc_src WHERE id BETWEEN $a AND $((a + chunk - 1 < inserts ? a + chunk - 1 : inserts));"
  done
  for ((a = deletes + 1; a <= deletes + updates; a += chunk)); do
    sql+="UPDATE cdc_orders SET amount = amount + 1, quantity = quantity + 1,
      note = CONCAT('updated ', id) WHERE id BETWEEN $a AND $((a + chunk - 1 < deletes + updates ? a + chunk - 1 : deletes + updates));"
  done
  for ((a = 1; a <= deletes; a += chunk)); do
    sql+="DELETE FROM cdc_orders WHERE id BETWEEN $a AND $((a + chunk - 1 < deletes ? a + chunk - 1 : deletes));"
  done
  "${MYSQL[@]}" -D bench -e "$sql"
}
export PGOPTIONS="-c client_min_messages=warning"
PG=("${PSQL[@]}" -d bench_cdc)
pg_drop_slots() {  # the slots of this case, so that nothing holds the database; a slot stays
  # active for a moment after its reader stopped (the server's walsender ends): retried.
  local slots="'bench_debezium', 'sluice_bench_cdc_pg_jsonl', 'sluice_bench_cdc_pg_kafka',
    'sluice_bench_cdc_big_pg'" left
  for _ in $(seq 100); do
    left=$("${PSQL[@]}" -d postgres -t -A -c "SELECT count(pg_drop_replication_slot(slot_name))
      FROM pg_replication_slots WHERE slot_name IN ($slots) AND NOT active" \
      -c "SELECT count(*) FROM pg_replication_slots WHERE slot_name IN ($slots)" | tail -1)
    [[ "$left" == 0 ]] && return 0
    sleep 0.2
  done
  echo "replication slots still active: $left" >&2
  return 1
}
pg_drop_slots
"${PSQL[@]}" -d postgres -c "DROP DATABASE IF EXISTS bench_cdc" -c "CREATE DATABASE bench_cdc"
pg_fresh_table() {
  pg_drop_slots
  "${PG[@]}" -c "DROP PUBLICATION IF EXISTS bench_debezium" \
    -c "DROP PUBLICATION IF EXISTS sluice_bench_cdc_pg_jsonl" \
    -c "DROP PUBLICATION IF EXISTS sluice_bench_cdc_pg_kafka" \
    -c "DROP TABLE IF EXISTS cdc_orders" \
    -c "CREATE TABLE cdc_orders (id bigint PRIMARY KEY, customer varchar(64) NOT NULL,
          amount numeric(12,2), quantity integer, price double precision, paid smallint,
          ordered_on date, created_at timestamp(6), note text)"
}
pg_changes() {
  local a args=()
  for ((a = 1; a <= inserts; a += chunk)); do
    args+=(-c "INSERT INTO cdc_orders SELECT seq, 'customer ' || seq % 100000 || ' é😀',
      (seq * 7919 % 100000000) / 100.0, seq % 1000, (seq * 31 % 100000) / 7.0, seq % 2,
      DATE '2015-01-01' + (seq % 3650)::int,
      TIMESTAMP '2015-01-01 00:00:00' + (seq * 37 % 315360000) * INTERVAL '1 second'
        + (seq % 1000000) * INTERVAL '1 microsecond',
      CASE WHEN seq % 20 = 0 THEN NULL ELSE 'note ' || md5(seq::text) END
      FROM generate_series(${a}::bigint, $((a + chunk - 1 < inserts ? a + chunk - 1 : inserts))) AS seq")
  done
  for ((a = deletes + 1; a <= deletes + updates; a += chunk)); do
    args+=(-c "UPDATE cdc_orders SET amount = amount + 1, quantity = quantity + 1,
      note = 'updated ' || id WHERE id BETWEEN $a AND $((a + chunk - 1 < deletes + updates ? a + chunk - 1 : deletes + updates))")
  done
  for ((a = 1; a <= deletes; a += chunk)); do
    args+=(-c "DELETE FROM cdc_orders WHERE id BETWEEN $a AND $((a + chunk - 1 < deletes ? a + chunk - 1 : deletes))")
  done
  "${PG[@]}" "${args[@]}"
}

# --- Rounds -------------------------------------------------------------------------------
export BENCH_TABLE=cdc_orders
# sluice_prime JOB_FILE OUT STATE [TOPIC]: the job's first run, stopped once it streams: MariaDB
# logs where the binlog stream starts (the position it recorded); PostgreSQL created the slot in
# Open, before the runtime logs the job's line.
sluice_prime() {
  local pattern="Streaming the binlog"
  [[ $(basename "$1") == *pg* ]] && pattern="': postgres -> "
  BENCH_OUT=$2 BENCH_STATE=$3 BENCH_TOPIC=${4:-unused} "${cdc_py[@]}" prime "$pattern" 120 -- \
    "$SLUICE" run --fresh "$1"
}
for round in $(seq "$rounds"); do
  for db in mysql pg; do
    if [[ $db == mysql ]]; then
      mysql_fresh_table
      lines=$((inserts + 2 * updates + deletes))
    else
      pg_fresh_table
      lines=$rows
    fi
    j="$out/${db}_jsonl_$round" t="bench_cdc_${db}_${round}_$$" d="debezium_${db}_$round"
    mkdir -p "$j"
    topic "$t"
    sluice_prime "$CASE_DIR/${db}_jsonl.yaml" "$j" "$out/state_${db}_jsonl_$round"
    sluice_prime "$CASE_DIR/${db}_kafka.yaml" "$out" "$out/state_${db}_kafka_$round" "$t"
    debezium_props "$out/$d.properties" "$db" "$d"
    "${debezium[@]}" "$out/$d.properties" 0 "$out/$d.primed" >"$out/$d.prime.log" 2>&1 ||
      { cat "$out/$d.prime.log" >&2; return 1; }
    [[ -s "$out/$d.offsets" ]] || { echo "Debezium recorded no offset when primed" >&2; return 1; }
    "${db}_changes" >/dev/null
    label="debezium $db #$round"
    measure "$label" "$rows" "${debezium[@]}" "$out/$d.properties" "$rows" "$out/$d.jsonl"
    debezium_times "$label" "debezium $db (first event on) #$round" "$rows"
    expect_count "$label" "$(lines_of "$out/$d.jsonl")" "$rows"
    expect_ops "$label" "$out/$d.jsonl" '"op":"c"' '"op":"u"' '"op":"d"'
    rm -f "$out/$d.jsonl"
    label="sluice $db jsonl #$round"
    BENCH_OUT=$j BENCH_STATE="$out/state_${db}_jsonl_$round" measure "$label" "$rows" \
      "${cdc_py[@]}" until lines "$j/changes*" "$lines" 600 -- \
      "$SLUICE" run -q "$CASE_DIR/${db}_jsonl.yaml"
    took "$label" "$rows"
    expect_count "$label" "$(lines_of "$j"/changes*)" "$lines"
    expect_ops "$label" "$j/changes*" '"_op":"insert"' '"_op":"update_after"' '"_op":"delete"'
    rm -rf "$j"
    label="sluice $db kafka #$round"
    BENCH_OUT=$out BENCH_STATE="$out/state_${db}_kafka_$round" BENCH_TOPIC=$t \
      measure "$label" "$rows" "${cdc_py[@]}" until kafka "$BENCH_KAFKA/$t" "$rows" 600 -- \
      "$SLUICE" run -q "$CASE_DIR/${db}_kafka.yaml"
    took "$label" "$rows"
    expect_count "$label" "$(topic_count "$t")" "$rows"
  done
done
rounds_of() { for r in $(seq "$rounds"); do echo "$1 #$r"; done; }
for db in mysql pg; do
  for label in "debezium $db" "debezium $db (first event on)" "sluice $db jsonl" \
    "sluice $db kafka"; do
    mapfile -t runs < <(rounds_of "$label")
    fastest "$label" "${runs[@]}"
  done
done
pg_drop_slots

# --- Latency at a steady rate: MariaDB -> Kafka --------------------------------------------
"${MYSQL[@]}" -e "DROP TABLE IF EXISTS bench.cdc_latency;
  CREATE TABLE bench.cdc_latency (id BIGINT PRIMARY KEY, written_us BIGINT NOT NULL,
    note VARCHAR(64)) ENGINE=InnoDB"
lt="bench_cdc_latency_$$"
topic "$lt" --config message.timestamp.type=LogAppendTime
latency_rows=$((latency_rate * latency_secs))
export BENCH_TABLE=cdc_latency
sluice_prime "$CASE_DIR/mysql_kafka.yaml" "$out" "$out/state_latency" "$lt"
# The job runs (resumed from its recorded start) while the writer writes, and stops once the
# topic holds every row.
( sleep 2
  "${cdc_py[@]}" write "$latency_rate" "$latency_secs" cdc_latency 1 | "${MYSQL[@]}" -D bench
) &
writer=$!
BENCH_OUT=$out BENCH_STATE="$out/state_latency" BENCH_TOPIC=$lt \
  measure "sluice latency run" "$latency_rows" "${cdc_py[@]}" until kafka "$BENCH_KAFKA/$lt" \
  "$latency_rows" $((latency_secs + 300)) -- "$SLUICE" run -q "$CASE_DIR/mysql_kafka.yaml"
wait "$writer"
expect_count "sluice latency run" "$(topic_count "$lt")" "$latency_rows"
latency=$(kcat -C -q -b "$BENCH_KAFKA" -t "$lt" -o beginning -e -f '%T\t%s\n' |
  "${cdc_py[@]}" latency)
echo "  latency at $latency_rate changes/s for $latency_secs s (MariaDB -> Kafka): $latency"
p99=$(sed 's/.*p99_ms=\([0-9-]*\).*/\1/' <<<"$latency")

# The same through PostgreSQL's slot -> Kafka.
"${PG[@]}" -q -c "DROP TABLE IF EXISTS cdc_latency" -c "CREATE TABLE cdc_latency (id bigint
  PRIMARY KEY, written_us bigint NOT NULL, note varchar(64))"
plt="bench_cdc_pg_latency_$$"
topic "$plt" --config message.timestamp.type=LogAppendTime
sluice_prime "$CASE_DIR/pg_kafka.yaml" "$out" "$out/state_pg_latency" "$plt"
( sleep 2
  "${cdc_py[@]}" write "$latency_rate" "$latency_secs" cdc_latency 1 100 pg | "${PG[@]}" -q >/dev/null
) &
writer=$!
BENCH_OUT=$out BENCH_STATE="$out/state_pg_latency" BENCH_TOPIC=$plt \
  measure "sluice pg latency run" "$latency_rows" "${cdc_py[@]}" until kafka \
  "$BENCH_KAFKA/$plt" "$latency_rows" $((latency_secs + 300)) -- "$SLUICE" run -q \
  "$CASE_DIR/pg_kafka.yaml"
wait "$writer"
expect_count "sluice pg latency run" "$(topic_count "$plt")" "$latency_rows"
pg_latency=$(kcat -C -q -b "$BENCH_KAFKA" -t "$plt" -o beginning -e -f '%T\t%s\n' |
  "${cdc_py[@]}" latency)
echo "  latency at $latency_rate changes/s for $latency_secs s (PostgreSQL -> Kafka): $pg_latency"
pg_p99=$(sed 's/.*p99_ms=\([0-9-]*\).*/\1/' <<<"$pg_latency")
pg_drop_slots

# --- One big transaction ------------------------------------------------------------------
export BENCH_TABLE=cdc_big
"${MYSQL[@]}" -e "DROP TABLE IF EXISTS bench.cdc_big;
  CREATE TABLE bench.cdc_big (id BIGINT PRIMARY KEY, v INT NOT NULL, note VARCHAR(32))
    ENGINE=InnoDB"
for ((a = 1; a <= big_rows; a += 1000000)); do
  "${MYSQL[@]}" -D bench -e "INSERT INTO cdc_big SELECT seq, seq % 1000, 'row' FROM
    seq_${a}_to_$((a + 999999 < big_rows ? a + 999999 : big_rows))"
done
bj="$out/big_mysql"
mkdir -p "$bj"
sed 's/roll_rows: 100000/roll_rows: 1000000/; s/bench_cdc_mysql_jsonl/bench_cdc_big_mysql/' \
  "$CASE_DIR/mysql_jsonl.yaml" >"$out/big_mysql.yaml"
sluice_prime "$out/big_mysql.yaml" "$bj" "$out/state_big_mysql"
"${MYSQL[@]}" -D bench -e "UPDATE cdc_big SET v = v + 1"
BENCH_OUT=$bj BENCH_STATE="$out/state_big_mysql" measure "sluice mysql big transaction" \
  "$big_rows" "${cdc_py[@]}" until lines "$bj/changes*" $((2 * big_rows)) 1800 -- \
  "$SLUICE" run -q "$out/big_mysql.yaml"
took "sluice mysql big transaction" "$big_rows"
expect_count "sluice mysql big transaction" "$(lines_of "$bj"/changes*)" $((2 * big_rows))
rm -rf "$bj"
"${MYSQL[@]}" -e "DROP TABLE bench.cdc_big"

"${PG[@]}" -c "DROP TABLE IF EXISTS cdc_big" \
  -c "CREATE TABLE cdc_big (id bigint PRIMARY KEY, v integer NOT NULL, note varchar(32))" \
  -c "INSERT INTO cdc_big SELECT seq, seq % 1000, 'row' FROM generate_series(1, $big_rows) seq"
bj="$out/big_pg"
mkdir -p "$bj"
sed 's/roll_rows: 100000/roll_rows: 1000000/; s/bench_cdc_pg_jsonl/bench_cdc_big_pg/' \
  "$CASE_DIR/pg_jsonl.yaml" >"$out/big_pg.yaml"
sluice_prime "$out/big_pg.yaml" "$bj" "$out/state_big_pg"
"${PG[@]}" -c "UPDATE cdc_big SET v = v + 1"
BENCH_OUT=$bj BENCH_STATE="$out/state_big_pg" measure "sluice pg big transaction" \
  "$big_rows" "${cdc_py[@]}" until lines "$bj/changes*" "$big_rows" 1800 -- \
  "$SLUICE" run -q "$out/big_pg.yaml"
took "sluice pg big transaction" "$big_rows"
expect_count "sluice pg big transaction" "$(lines_of "$bj"/changes*)" "$big_rows"
rm -rf "$bj"
pg_drop_slots
"${PG[@]}" -c "DROP TABLE cdc_big"

# --- Summary ------------------------------------------------------------------------------
for db in mysql pg; do
  ratio "sluice $db jsonl" "debezium $db"
  ratio "sluice $db kafka" "debezium $db"
  ratio "sluice $db jsonl" "debezium $db (first event on)"
  ratio "sluice $db kafka" "debezium $db (first event on)"
done
goal "sluice mysql jsonl" "debezium mysql" 4
goal "sluice mysql kafka" "debezium mysql" 4
goal "sluice pg jsonl" "debezium pg" 2
goal "sluice pg kafka" "debezium pg" 2
for label in "sluice mysql jsonl" "sluice mysql kafka"; do
  awk -v n="$rows" -v s="${BENCH_SECONDS[$label]}" -v l="$label" 'BEGIN {
    r = (s > 0 ? n / s : 0)
    printf "  goal: %s >= 100000 changes/s: %.0f %s\n", l, r, (r >= 100000 ? "MET" : "MISSED") }'
done
for db in MariaDB PostgreSQL; do
  p=$p99
  [[ $db == PostgreSQL ]] && p=$pg_p99
  awk -v p="$p" -v db="$db" 'BEGIN {
    printf "  goal: %s latency p99 < 1000 ms at the steady rate: %s ms %s\n", db, p,
      (p != "" && p < 1000 ? "MET" : "MISSED") }'
done
for label in "sluice mysql jsonl" "sluice mysql kafka" "sluice pg jsonl" "sluice pg kafka" \
  "sluice latency run" "sluice pg latency run" "sluice mysql big transaction" \
  "sluice pg big transaction" "debezium mysql" "debezium pg"; do
  echo "  peak RSS: $label ${BENCH_RSS_MB[$label]} MB"
done
for label in "sluice mysql jsonl" "sluice mysql kafka" "sluice pg jsonl" "sluice pg kafka" \
  "sluice latency run" "sluice pg latency run" "sluice mysql big transaction" \
  "sluice pg big transaction"; do
  expect_rss_under "$label" 256
done
awk -v a="${BENCH_RSS_MB[sluice mysql big transaction]}" \
  -v b="${BENCH_RSS_MB[sluice pg big transaction]}" -v n="$big_rows" 'BEGIN {
  printf "  goal: one %d-row transaction under 256 MB: MariaDB %d MB %s, PostgreSQL %d MB %s\n",
    n, a, (a < 256 ? "MET" : "MISSED"), b, (b < 256 ? "MET" : "MISSED") }'
rm -rf "$out"
