# resource_lock: redis_replication
# mode: replicate end to end under kill -9: a job replicating the test servers' replica into
# SQLite (exactly once) is killed at every step of a commit, inside the full sync and in the
# command stream, and at random further points (logged in crash_loop.log), while rounds of
# commands (SET, MSET, DEL, HSET, INCR, RPUSH, SADD, EXPIRE, RENAME) go to the primary between
# runs; then a run left to stream until the last command arrives and stopped. The change log in
# SQLite holds every (offset, index) once, and folded from its last `sync` row it equals what the
# primary holds, key by key.
need_servers
export REDIS_PW=$SLUICE_TEST_REDIS_PASSWORD
prefix="kill9e2e$$"
export PREFIX=$prefix
# A full sync starts at once (not after the default 5 s wait for more replicas).
PORT=$SLUICE_TEST_REDIS_REPLICA_PORT redis CONFIG SET repl-diskless-sync-delay 0 >/dev/null

# Round N of commands: deterministic, touching every kind of change the fold knows.
round() {
  local n=$1 i
  for ((i = 0; i < 40; i++)); do
    echo "SET $prefix:s:$((i % 25)) r${n}v$i"
    echo "HSET $prefix:h:$((i % 7)) f$((i % 5)) r${n}x$i"
    echo "INCR $prefix:n:$((i % 3))"
    echo "RPUSH $prefix:l:$((i % 4)) r${n}e$i"
    echo "SADD $prefix:set m$(((n * 40 + i) % 90))"
  done
  echo "MSET $prefix:m:a r${n}a $prefix:m:b r${n}b $prefix:m:c r${n}c"
  echo "DEL $prefix:s:$((n % 25)) $prefix:h:$((n % 7))"
  echo "EXPIRE $prefix:l:$((n % 4)) 86400"
  echo "RENAME $prefix:m:a $prefix:m:renamed$((n % 3))"
}
for n in 1 2 3 4 5; do round "$n"; done | redis >/dev/null

cat >job.yaml <<YAML
name: redis_replicate_kill9_$$
source:
  type: redis
  mode: replicate
  port: \${SLUICE_TEST_REDIS_REPLICA_PORT}
  password: "\${REDIS_PW}"
  dbs: ["0"]
  keys: "\${PREFIX}:*"
sink: { type: sqlite, path: changes.db, table: changes }
batch_rows: 25
checkpoint: { interval_secs: 1 }
YAML

ROUND=5
next_round() {
  ROUND=$((ROUND + 1))
  round "$ROUND" | redis >/dev/null
}
AFTER_CRASH=next_round
every="runtime.reader.batch=checkpoint@1+"
plans=(
  "runtime.reader.batch=crash@2"
  "$every;runtime.writer.after_commit=crash@1"
  "$every;runtime.writer.after_commit=crash@2"
  "$every;runtime.writer.before_commit=crash@3"
  "$every;runtime.writer.after_commit=crash@20"
  "$every;runtime.checkpoint.before_record=crash@15"
  "$every;runtime.checkpoint.after_record=crash@12"
  "$every;redis.replicate.before_command=crash@60"
  "$every;redis.replicate.before_command=crash@1"
)
points=(runtime.writer.after_commit runtime.writer.before_commit runtime.checkpoint.after_record
        runtime.checkpoint.before_record redis.replicate.before_command)
for ((k = 0; k < 8; k++)); do
  plans+=("$every;${points[RANDOM % ${#points[@]}]}=crash@$((RANDOM % 30 + 1))")
done
crash_loop "${plans[@]}" -- run job.yaml

# The last round ends with a marker; a run streams until it is in SQLite, then stops.
next_round
redis SET "$prefix:end" 1 >/dev/null
"$SLUICE" run job.yaml --no-progress >final.log 2>&1 &
pid=$!
deadline=$((SECONDS + 300))
until [[ "$(sqlite3 changes.db "SELECT count(*) FROM changes WHERE key = '$prefix:end'" \
            2>/dev/null)" == 1 ]]; do
  ((SECONDS < deadline)) || { kill -9 "$pid"; cat final.log >&2; fail "the marker never arrived"; }
  kill -0 "$pid" 2>/dev/null || { cat final.log >&2; fail "the final run ended by itself"; }
  sleep 0.1
done
kill -INT "$pid"
status=0
wait "$pid" || status=$?
[[ $status -eq 130 ]] || { cat final.log >&2; fail "the final run exited $status, not 130"; }

expect_equal "$(sqlite3 changes.db 'SELECT count(*) FROM (SELECT 1 FROM changes
                                    GROUP BY "offset", "index" HAVING count(*) > 1)')" 0 \
  "rows delivered twice"
# The run killed after the first commit of its full sync synced again: two syncs.
syncs=$(sqlite3 changes.db "SELECT count(*) FROM changes WHERE op = 'sync'")
((syncs >= 2)) || fail "$syncs sync rows: the cut full sync was not redone"

# The primary's keys as JSON, then the log folded from its last sync: the same.
redis --scan --pattern "$prefix:*" | sort >keys.txt
while read -r key; do
  type=$(redis TYPE "$key")
  case $type in
    string) printf '%s\tstring\t%s\n' "$key" "$(redis GET "$key")" ;;
    hash) printf '%s\thash\t%s\n' "$key" "$(redis HGETALL "$key" | paste -sd '\t')" ;;
    list) printf '%s\tlist\t%s\n' "$key" "$(redis LRANGE "$key" 0 -1 | paste -sd '\t')" ;;
    set) printf '%s\tset\t%s\n' "$key" "$(redis SMEMBERS "$key" | sort | paste -sd '\t')" ;;
  esac
done <keys.txt >primary.tsv
python3 "$CASE_DIR/fold.py" changes.db >folded.tsv
if ! diff -u primary.tsv folded.tsv >fold.diff; then
  head -40 fold.diff >&2
  fail "the folded change log differs from the primary (after $KILLS kills)"
fi
echo "  $KILLS kills, $(sqlite3 changes.db 'SELECT count(*) FROM changes') rows, $(wc -l <keys.txt) keys equal"
