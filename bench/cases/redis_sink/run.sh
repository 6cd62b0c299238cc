# A CSV file -> Redis: Sluice's redis sink against `redis-cli --pipe` sending the same commands,
# on BENCH_ROWS rows (default 2,000,000) of id, name, score (about 60 bytes a line), each
# BENCH_ROUNDS times (default 2, interleaved; the fastest counts: the machine is shared), into
# the test servers' Redis primary (its replica follows, for every tool alike).
#   string: SET user:<id> <name> (data_type: string, value_column: name)
#   hash:   DEL user:<id>, HSET user:<id> id <id> name <name> score <score> (data_type: hash;
#           the sink deletes before HSET so that a hash holds exactly its row's fields)
# Sluice runs exactly-once (the default: WATCH/MULTI/EXEC per checkpoint, with a progress key)
# and at-least-once (pipelined, no MULTI). The peer is redis-cli --pipe on a file of the same
# commands in RESP, made beforehand (only the load is timed). FLUSHDB before each run; the
# user:* keys are counted after each (DBSIZE less Sluice's sluice:* keys) and a few values
# compared with the file. Goal: Sluice >= 0.8x redis-cli --pipe. The Redis primary's CPU is
# printed with each run (the server, single-threaded, is what bounds every client here).
rows=${BENCH_ROWS:-2000000}
rounds=${BENCH_ROUNDS:-2}
bench_servers
out="$BENCH_DIR/redis_sink"
rm -rf "$out" && mkdir -p "$out"
export BENCH_IN="$out/users.csv"
# The rows, and the peer's commands for them in RESP (byte counts: the text is ASCII).
LC_ALL=C awk -v n="$rows" -v csv="$BENCH_IN" -v strings="$out/string.resp" \
  -v hashes="$out/hash.resp" '
  function bulk(s) { return "$" length(s) "\r\n" s "\r\n" }
  BEGIN {
    print "id,name,score" >csv
    for (i = 1; i <= n; i++) {
      name = sprintf("customer %07d of North Springfield %05d", i, (i * 7919) % 100000)
      score = sprintf("%d.%02d", (i * 31) % 100000, i % 100)
      key = "user:" i
      print i "," name "," score >csv
      printf "*3\r\n%s%s%s", bulk("SET"), bulk(key), bulk(name) >strings
      printf "*2\r\n%s%s*8\r\n%s%s%s%s%s%s%s%s", bulk("DEL"), bulk(key), bulk("HSET"), \
        bulk(key), bulk("id"), bulk(i), bulk("name"), bulk(name), bulk("score"), \
        bulk(score) >hashes
    }
  }'
echo "  $(wc -c <"$BENCH_IN") bytes of CSV, $(awk -v b="$(wc -c <"$BENCH_IN")" -v n="$rows" \
  'BEGIN { printf "%.0f", b / n }') bytes per row; RESP: $(wc -c <"$out/string.resp") bytes" \
  "(string), $(wc -c <"$out/hash.resp") bytes (hash)"
BENCH_SERVER_PID=$BENCH_REDIS_PID

# user:* keys in the primary: DBSIZE less the sink's own sluice:run / sluice:progress keys.
user_keys() {
  local total own
  total=$("${REDIS_CLI[@]}" DBSIZE)
  own=$("${REDIS_CLI[@]}" --scan --pattern 'sluice:*' | wc -l)
  echo $((total - own))
}
# Spot checks: the first, a middle and the last row's key hold what the file says.
check_values() {  # LABEL TYPE
  local id line name score got want
  for id in 1 $(((rows + 1) / 2)) "$rows"; do
    line=$(sed -n "$((id + 1))p" "$BENCH_IN")
    IFS=, read -r _ name score <<<"$line"
    if [[ "$2" == string ]]; then
      got=$("${REDIS_CLI[@]}" GET "user:$id")
      want=$name
    else
      got=$("${REDIS_CLI[@]}" HMGET "user:$id" id name score | paste -sd,)
      want="$id,$name,$score"
    fi
    if [[ "$got" != "$want" ]]; then
      echo "  VALUE MISMATCH for $1, user:$id: '$got', expected '$want'" >&2
      return 1
    fi
  done
}
flush() { "${REDIS_CLI[@]}" FLUSHDB >/dev/null; }
run_pipe() {  # LABEL TYPE
  flush
  measure "$1" "$rows" sh -c "$(printf '%q ' "${REDIS_CLI[@]}") --pipe <'$out/$2.resp'"
  grep -q 'errors: 0' "$BENCH_DIR/last.out" || { cat "$BENCH_DIR/last.out" >&2; return 1; }
  expect_count "$1" "$(user_keys)" "$rows"
  check_values "$1" "$2"
}
run_sluice() {  # LABEL TYPE DELIVERY
  flush
  measure "$1" "$rows" "$SLUICE" run -q --fresh "$CASE_DIR/$2.yaml" --set delivery="$3" \
    --set state="$out/state"
  expect_count "$1" "$(user_keys)" "$rows"
  check_values "$1" "$2"
}
rounds_of() { for r in $(seq "$rounds"); do echo "$1 #$r"; done; }

for type in string hash; do
  echo "  -- $type"
  for round in $(seq "$rounds"); do
    run_pipe "redis-cli --pipe $type #$round" "$type"
    run_sluice "sluice $type exactly_once #$round" "$type" exactly_once
    run_sluice "sluice $type at_least_once #$round" "$type" at_least_once
  done
  for label in "redis-cli --pipe $type" "sluice $type exactly_once" \
               "sluice $type at_least_once"; do
    mapfile -t runs < <(rounds_of "$label")
    fastest "$label" "${runs[@]}"
  done
  ratio "sluice $type exactly_once" "redis-cli --pipe $type"
  ratio "sluice $type at_least_once" "redis-cli --pipe $type"
  goal "sluice $type exactly_once" "redis-cli --pipe $type" 0.8
  goal "sluice $type at_least_once" "redis-cli --pipe $type" 0.8
  expect_rss_under "sluice $type exactly_once" 256
done
flush
unset BENCH_SERVER_PID
rm -f "$out"/*.resp "$BENCH_IN"
