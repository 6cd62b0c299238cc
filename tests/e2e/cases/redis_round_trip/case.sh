# The redis connector end to end on the test servers' primary and replica: datagen rows into
# Redis hashes through a crash loop (kill -9 at every step of a commit, the redis sink's own
# points included) and a run that completes: every row's key there, with its row's fields; the
# keys snapshotted back from the replica into SQLite; a wrong password (never printed) and a sink
# pointed at the replica refused with what to do.
need_servers
export REDIS_PW=$SLUICE_TEST_REDIS_PASSWORD
prefix="e2e$$"
export PREFIX=$prefix

cat >to_redis.yaml <<YAML
name: redis_round_trip_$$
source: { type: datagen, rows: 20000, split_rows: 2500, seed: 7 }
sink:
  type: redis
  port: \${SLUICE_TEST_REDIS_PORT}
  password: "\${REDIS_PW}"
  key: "\${PREFIX}:order:{id}"
  data_type: hash
  ttl_secs: 3600
parallelism: 2
batch_rows: 200
YAML
crash_loop $(crash_plans redis.commit.after_rows=crash@2 redis.commit.before_fence_check=crash@3) \
  -- run to_redis.yaml
expect_ok run to_redis.yaml --no-progress
expect_equal "$(redis --scan --pattern "$prefix:order:*" | wc -l)" 20000 "keys written"
# The same rows into SQLite: one key's fields are its row's columns.
cat >to_sqlite.yaml <<YAML
name: redis_round_trip_reference_$$
source: { type: datagen, rows: 20000, split_rows: 2500, seed: 7 }
sink: { type: sqlite, path: reference.db, table: orders }
YAML
expect_ok run to_sqlite.yaml --no-progress
expect_equal "$(redis HGET "$prefix:order:4242" customer)" \
  "$(sqlite3 reference.db 'SELECT customer FROM orders WHERE id = 4242')" "customer of id 4242"
expect_equal "$(redis HGET "$prefix:order:4242" quantity)" \
  "$(sqlite3 reference.db 'SELECT quantity FROM orders WHERE id = 4242')" "quantity of id 4242"
ttl=$(redis TTL "$prefix:order:1")
((ttl > 3500 && ttl <= 3600)) || fail "TTL of a key: $ttl"

# Snapshot from the replica (once it has everything) back into SQLite.
expect_equal "$(redis WAIT 1 10000)" 1 "replica caught up"
cat >from_redis.yaml <<YAML
name: redis_snapshot_$$
source:
  type: redis
  port: \${SLUICE_TEST_REDIS_REPLICA_PORT}
  password: "\${REDIS_PW}"
  keys: "\${PREFIX}:order:*"
  scan_count: 300
sink: { type: sqlite, path: snapshot.db, table: redis_keys }
YAML
expect_ok run from_redis.yaml --no-progress
expect_equal "$(sqlite3 snapshot.db 'SELECT count(*), count(DISTINCT key), min(type), max(type)
                                     FROM redis_keys')" "20000|20000|hash|hash" "keys snapshotted"
expect_equal "$(sqlite3 snapshot.db "SELECT json_extract(value, '\$.customer') FROM redis_keys
                                     WHERE key = '$prefix:order:4242'")" \
  "$(sqlite3 reference.db 'SELECT customer FROM orders WHERE id = 4242')" "snapshot of id 4242"

# A wrong password: refused, saying to check it, never printing it.
cat >wrong_password.yaml <<YAML
name: redis_wrong_password_$$
source: { type: datagen, rows: 10 }
sink:
  type: redis
  port: \${SLUICE_TEST_REDIS_PORT}
  password: not-the-password-913
  key: "\${PREFIX}:x:{id}"
YAML
status=0
sluice run wrong_password.yaml --no-progress >wrong.out 2>&1 || status=$?
expect_equal "$status" 3 "exit code of a wrong password"
grep -q "check the password" wrong.out || fail "no advice in: $(cat wrong.out)"
! grep -q "not-the-password-913" wrong.out .sluice/*.log 2>/dev/null || fail "password printed"

# A sink pointed at the replica: a config error naming it.
sed -e "s/SLUICE_TEST_REDIS_PORT}/SLUICE_TEST_REDIS_REPLICA_PORT}/" \
  -e "s/not-the-password-913/\"\${REDIS_PW}\"/" \
  -e "s/redis_wrong_password/redis_replica_sink/" wrong_password.yaml >replica_sink.yaml
status=0
sluice run replica_sink.yaml --no-progress >replica.out 2>&1 || status=$?
expect_equal "$status" 2 "exit code of a sink on a replica"
grep -q "is a replica (ROLE), not a primary" replica.out ||
  fail "no replica message: $(cat replica.out)"

redis --scan --pattern "$prefix:*" | xargs -r -n 1000 env REDISCLI_AUTH="$REDIS_PW" redis-cli \
  --no-auth-warning -h "$SLUICE_TEST_REDIS_HOST" -p "$SLUICE_TEST_REDIS_PORT" DEL >/dev/null
