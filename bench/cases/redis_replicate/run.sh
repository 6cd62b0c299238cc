# Redis -> a JSON Lines file: reading a whole dataset out of a replica, on BENCH_ROWS keys
# (default 2,000,000): 96% strings of about 40 bytes, 1% each hashes, lists, sets and sorted
# sets of 8 elements, loaded into the primary with redis-cli --pipe (timed: the load's figure).
# Each run BENCH_ROUNDS times (default 2, interleaved; the fastest counts: the machine is shared):
#   redis-cli --rdb:   the full sync's RDB file, fetched from the replica as a sub-replica would
#                      (SYNC; the replica's repl-diskless-sync-delay set to 0 for the case, so
#                      that no client waits 5 s for others to join the transfer)
#   sluice replicate:  mode: replicate on the replica, stop_at: synced: PSYNC, the RDB parsed as
#                      it arrives, one `snapshot` row per key, then the job ends
#   sluice snapshot:   mode: snapshot on the replica (SCAN, then TYPE, PTTL and GET pipelined per
#                      page, a collection read by type), BENCH_SNAPSHOT_ROUNDS times (default 1)
# Goals (issue 15): replaying >= 200,000 keys/s, peak RSS < 256 MB, also with a 1 GB key: after
# the rounds, a list of BENCH_BIG_KEY_MB (default 1024; 0 skips it) elements of 1 KiB is added
# and Sluice reads that key alone (keys: big:*, elements: rows: one row per element) by
# replicate (which still receives the whole RDB) and by snapshot.
rows=${BENCH_ROWS:-2000000}
rounds=${BENCH_ROUNDS:-2}
big_mb=${BENCH_BIG_KEY_MB:-1024}
bench_servers
out="$BENCH_DIR/redis_replicate"
rm -rf "$out" && mkdir -p "$out"
export BENCH_OUT=$out BENCH_KEYS='*'
# The dataset in RESP: key k:<i>; i % 100 = 0..3: a hash, list, set or sorted set of 8 elements.
LC_ALL=C awk -v n="$rows" '
  function bulk(s) { return "$" length(s) "\r\n" s "\r\n" }
  BEGIN {
    for (i = 1; i <= n; i++) {
      key = "k:" i
      t = i % 100
      if (t > 3) {
        printf "*3\r\n%s%s%s", bulk("SET"), bulk(key),
          bulk(sprintf("value %07d of North Springfield %05d", i, (i * 7919) % 100000))
        continue
      }
      cmd = (t == 0 ? "HSET" : t == 1 ? "RPUSH" : t == 2 ? "SADD" : "ZADD")
      args = 2 + (t == 0 || t == 3 ? 16 : 8)
      line = "*" args "\r\n" bulk(cmd) bulk(key)
      for (e = 0; e < 8; e++) {
        if (t == 0) line = line bulk("field" e) bulk("value " i "." e)
        else if (t == 3) line = line bulk(e * 1.5) bulk("member " i "." e)
        else line = line bulk("element " i "." e)
      }
      printf "%s", line
    }
  }' >"$out/load.resp"
flush() {
  "${REDIS_CLI[@]}" FLUSHALL >/dev/null
}
# Waits until the replica has applied everything the primary has sent.
wait_replica() {
  local primary replica
  for _ in $(seq 600); do
    primary=$("${REDIS_CLI[@]}" INFO replication | tr -d '\r' | sed -n 's/^master_repl_offset://p')
    replica=$("${REDIS_REPLICA_CLI[@]}" INFO replication | tr -d '\r' |
      sed -n 's/^slave_repl_offset://p')
    [[ "$primary" == "$replica" ]] && return 0
    sleep 0.2
  done
  echo "  the replica did not catch up ($replica of $primary)" >&2
  return 1
}
flush
BENCH_SERVER_PID=$BENCH_REDIS_PID
measure "redis-cli --pipe load" "$rows" sh -c \
  "$(printf '%q ' "${REDIS_CLI[@]}") --pipe <'$out/load.resp'"
grep -q 'errors: 0' "$BENCH_DIR/last.out" || { cat "$BENCH_DIR/last.out" >&2; return 1; }
rm -f "$out/load.resp"
wait_replica
expect_count "replica keys" "$("${REDIS_REPLICA_CLI[@]}" DBSIZE)" "$rows"
types=""
for key in k:4 k:100 k:1 k:2 k:3; do types+=" $key=$("${REDIS_REPLICA_CLI[@]}" TYPE "$key")"; done
echo "  primary: $("${REDIS_CLI[@]}" INFO memory | tr -d '\r' | sed -n 's/^used_memory_human://p')" \
  "used; types:$types"
delay=$("${REDIS_REPLICA_CLI[@]}" CONFIG GET repl-diskless-sync-delay | sed -n 2p)
"${REDIS_REPLICA_CLI[@]}" CONFIG SET repl-diskless-sync-delay 0 >/dev/null
BENCH_SERVER_PID=$BENCH_REDIS_REPLICA_PID
snapshot_rounds=${BENCH_SNAPSHOT_ROUNDS:-1}
export BENCH_ELEMENTS=json
# Rows of a key (or element) in Sluice's output: replicate writes sync/snapshot/synced rows.
snapshot_rows() { grep -c '"op":"snapshot"' "$out/keys.jsonl" || true; }
for round in $(seq "$rounds"); do
  rm -f "$out/dump.rdb"
  measure "redis-cli --rdb #$round" "$rows" "${REDIS_REPLICA_CLI[@]}" --rdb "$out/dump.rdb"
  [[ -s "$out/dump.rdb" ]] || { echo "  no RDB file" >&2; return 1; }
  rdb_bytes=$(wc -c <"$out/dump.rdb")
  rm -f "$out/dump.rdb" "$out/keys.jsonl"
  measure "sluice replicate #$round" "$rows" "$SLUICE" run -q --fresh \
    "$CASE_DIR/replicate.yaml" --set state="$out/state"
  expect_count "sluice replicate #$round" "$(snapshot_rows)" "$rows"
  replicate_bytes=$(wc -c <"$out/keys.jsonl")
  rm -f "$out/keys.jsonl"
  if ((round <= snapshot_rounds)); then
    measure "sluice snapshot #$round" "$rows" "$SLUICE" run -q --fresh \
      "$CASE_DIR/snapshot.yaml" --set state="$out/state"
    expect_count "sluice snapshot #$round" "$(wc -l <"$out/keys.jsonl")" "$rows"
    rm -f "$out/keys.jsonl"
  fi
done
echo "  RDB: $rdb_bytes bytes; Sluice's JSON Lines (replicate): $replicate_bytes bytes"
rounds_of() { for r in $(seq "$1"); do echo "$2 #$r"; done; }
mapfile -t runs < <(rounds_of "$rounds" "redis-cli --rdb")
fastest "redis-cli --rdb" "${runs[@]}"
mapfile -t runs < <(rounds_of "$rounds" "sluice replicate")
fastest "sluice replicate" "${runs[@]}"
ratio "sluice replicate" "redis-cli --rdb"
if ((snapshot_rounds > 0)); then
  mapfile -t runs < <(rounds_of "$((snapshot_rounds < rounds ? snapshot_rounds : rounds))" \
    "sluice snapshot")
  fastest "sluice snapshot" "${runs[@]}"
  ratio "sluice snapshot" "redis-cli --rdb"
fi
awk -v s="${BENCH_SECONDS[sluice replicate]}" -v n="$rows" 'BEGIN { r = n / s;
  printf "  goal: sluice replicate >= 200000 keys/s: %.0f %s\n", r, (r >= 200000 ? "MET" : "MISSED") }'
expect_rss_under "sluice replicate" 256

if ((big_mb > 0)); then
  # One list of big_mb elements of 1 KiB, built by the primary (a script: no 1 GB file here).
  "${REDIS_CLI[@]}" EVAL "local e = string.rep('x', 1024)
    for i = 1, tonumber(ARGV[1]), 1000 do
      local batch = {}
      for j = i, math.min(i + 999, tonumber(ARGV[1])) do batch[#batch + 1] = e end
      redis.call('RPUSH', KEYS[1], unpack(batch))
    end
    return redis.call('LLEN', KEYS[1])" 1 big:list "$((big_mb * 1024))" >/dev/null
  wait_replica
  elements=$("${REDIS_REPLICA_CLI[@]}" LLEN big:list)
  echo "  big:list: $elements elements of 1 KiB on the replica"
  export BENCH_ELEMENTS=rows BENCH_KEYS='big:*'
  for mode in replicate snapshot; do
    label="sluice $mode, 1 key of ${big_mb} MB"
    rm -f "$out/keys.jsonl"
    measure "$label" "$elements" "$SLUICE" run -q --fresh "$CASE_DIR/$mode.yaml" \
      --set state="$out/state"
    if [[ $mode == replicate ]]; then
      expect_count "$label" "$(snapshot_rows)" "$elements"
    else
      expect_count "$label" "$(wc -l <"$out/keys.jsonl")" "$elements"
    fi
    expect_rss_under "$label" 256
    rm -f "$out/keys.jsonl"
  done
  export BENCH_ELEMENTS=json BENCH_KEYS='*'
  rm -f "$out/dump.rdb"
  measure "redis-cli --rdb, with the ${big_mb} MB key" "$((rows + 1))" \
    "${REDIS_REPLICA_CLI[@]}" --rdb "$out/dump.rdb"
  rm -f "$out/dump.rdb"
fi
"${REDIS_REPLICA_CLI[@]}" CONFIG SET repl-diskless-sync-delay "$delay" >/dev/null
flush
unset BENCH_SERVER_PID
