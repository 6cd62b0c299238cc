# resource_lock: redis_replication
# One 1 GB hash (1,000,000 fields of 1 KB) on the primary read from the replica with
# `elements: rows`, by the snapshot (HSCAN pages) and by a replicate job's full sync (the RDB
# parsed as it arrives): one row per field, every field once, each run's peak RSS under 256 MB.
# Then the same key with the default `elements: json` is a bad record that says to use rows.
need_servers
export REDIS_PW=$SLUICE_TEST_REDIS_PASSWORD
prefix="bigkey$$"
export PREFIX=$prefix
fields=${BIG_KEY_FIELDS:-1000000}
cleanup_big_key() { redis UNLINK "$prefix:big" >/dev/null 2>&1 || true; }
trap 'cleanup_big_key; [[ -n "${KEEP_OUT:-}" ]] || rm -rf "$OUT_DIR"' EXIT
PORT=$SLUICE_TEST_REDIS_REPLICA_PORT redis CONFIG SET repl-diskless-sync-delay 0 >/dev/null

# Loaded in slices of 64 MB, each waited for on the replica, so that the replication stream
# never outgrows the primary's output buffer for its replica.
for ((slice = 0; slice < fields; slice += 62500)); do
  python3 - "$prefix:big" "$slice" "$((slice + 62500 < fields ? slice + 62500 : fields))" <<'PY' |
import sys
key, first, last = sys.argv[1].encode(), int(sys.argv[2]), int(sys.argv[3])
out = sys.stdout.buffer
pad = b"v" * 1000
for start in range(first, last, 1000):
    end = min(start + 1000, last)
    parts = [b"HSET", key]
    for i in range(start, end):
        parts += [b"f%07d" % i, b"%07d" % i + pad[7:]]
    out.write(b"*%d\r\n" % len(parts) + b"".join(b"$%d\r\n%s\r\n" % (len(p), p) for p in parts))
PY
    REDISCLI_AUTH=$REDIS_PW redis-cli --no-auth-warning -h "$SLUICE_TEST_REDIS_HOST" \
      -p "$SLUICE_TEST_REDIS_PORT" --pipe >/dev/null
  expect_equal "$(redis WAIT 1 120000)" 1 "the replica caught up"
done
expect_equal "$(redis HLEN "$prefix:big")" "$fields" "fields loaded"
bytes=$(redis MEMORY USAGE "$prefix:big" SAMPLES 0)
((bytes > fields * 1000)) || fail "the key holds $bytes bytes, not the 1 GB meant"

for mode in snapshot replicate; do
  cat >"$mode.yaml" <<YAML
name: redis_big_key_${mode}_$$
source:
  type: redis
  mode: $mode
  port: \${SLUICE_TEST_REDIS_REPLICA_PORT}
  password: "\${REDIS_PW}"
  keys: "\${PREFIX}:*"
  elements: rows
$([[ $mode == replicate ]] && echo "  stop_at: synced")
sink: { type: file, path: $mode.jsonl.zst }
YAML
  /usr/bin/time -f '%M' -o "$mode.rss" "$SLUICE" run "$mode.yaml" --no-progress >"$mode.log" 2>&1 ||
    { tail -5 "$mode.log" >&2; fail "the $mode run failed"; }
  rss_kb=$(tail -1 "$mode.rss")
  echo "  $mode: peak RSS $((rss_kb / 1024)) MB"
  ((rss_kb < 256 * 1024)) || fail "$mode: peak RSS $((rss_kb / 1024)) MB, not under 256 MB"
  # Every field once, with its own value.
  read -r distinct odd < <(zstdcat "$mode".jsonl.zst* | python3 -c '
import json, sys
seen, odd = set(), 0
for line in sys.stdin:
    row = json.loads(line)
    if row.get("op", "snapshot") != "snapshot":
        continue
    field, value = row["field"], row["value"]
    seen.add(field)
    odd += value[:7] != field[1:] or len(value) != 1000
print(len(seen), odd)')
  expect_equal "$distinct $odd" "$fields 0" "$mode: distinct fields and wrong values"
  expect_equal "$(zstdcat "$mode".jsonl.zst* | grep -c '"field"')" \
    "$((fields + $([[ $mode == replicate ]] && echo 2 || echo 0)))" "$mode: rows"
done

# As one JSON value the key is far over max_value_bytes: a bad record naming the way out.
cat >json.yaml <<YAML
name: redis_big_key_json_$$
source:
  type: redis
  mode: replicate
  port: \${SLUICE_TEST_REDIS_REPLICA_PORT}
  password: "\${REDIS_PW}"
  keys: "\${PREFIX}:*"
  stop_at: synced
sink: { type: file, path: json.jsonl }
YAML
status=0
"$SLUICE" run json.yaml --no-progress >json.log 2>&1 || status=$?
expect_equal "$status" 4 "exit status of the elements: json run"
grep -q "read it with elements: rows" json.log || { cat json.log >&2; fail "no hint at elements: rows"; }
