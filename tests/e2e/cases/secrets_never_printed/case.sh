# Secrets never appear in errors, summaries or logs, whatever path reaches the error (issue 10:
# an error about a --set override once echoed the whole override, password included).
need_servers
canary='hunter2-canary-Zq9'
job="$OUT_DIR/job.yaml"
cat >"$job" <<YAML
name: secrets
source: { type: mysql, host: '$SLUICE_TEST_MYSQL_HOST', port: $SLUICE_TEST_MYSQL_PORT,
          user: '$SLUICE_TEST_MYSQL_USER', password: '$canary', database: mysql, table: user }
sink: { type: file, path: '$OUT_DIR/out.csv' }
YAML

# expect_exit CODE ARGS...: sluice exits CODE, and the canary is nowhere in what it printed.
expect_exit() {
  local code=$1
  shift
  local status=0
  "$SLUICE" "$@" >"$OUT_DIR/.stdout" 2>"$OUT_DIR/.stderr" || status=$?
  [[ $status -eq $code ]] || { cat "$OUT_DIR/.stderr"; fail "sluice $* exited $status, expected $code"; }
  if grep -q "$canary" "$OUT_DIR/.stdout" "$OUT_DIR/.stderr"; then
    cat "$OUT_DIR/.stdout" "$OUT_DIR/.stderr" >&2
    fail "a password was printed by: sluice $*"
  fi
}

# An unknown key in an override that also holds a password (the field test's case).
expect_exit 2 run "$job" --set "source={type: mysql, host: h, password: '$canary', tabel: pwt}"
grep -q "unknown key 'tabel' in source" "$OUT_DIR/.stderr" || fail "the error does not name the key"
expect_exit 2 run "$job" --json --set "source={type: mysql, password: '$canary', tabel: pwt}"
# An override without '=', which may be a password pasted in the wrong place.
expect_exit 2 run "$job" --set "$canary"
# Malformed YAML in an override holding a password.
expect_exit 2 run "$job" --set "source={type: mysql, password: $canary"
# A bad value next to a password given by --set.
expect_exit 2 run "$job" --set "source.password=$canary" --set source.port=not-a-port
# The wrong password: the server refuses it; neither the error, the summary nor a trace-level
# log repeats it.
expect_exit 3 run "$job" --log-level trace
grep -qi "access denied" "$OUT_DIR/.stderr" || fail "the refusal does not say why"
expect_exit 3 run "$job" --json
expect_exit 3 check "$job"
expect_exit 3 verify "$job"
# The connector listing shows no default secret either, and `check` of a PostgreSQL source too.
cat >"$OUT_DIR/pg.yaml" <<YAML
name: secrets_pg
source: { type: postgres, host: '$SLUICE_TEST_PG_HOST', port: $SLUICE_TEST_PG_PORT,
          user: '$SLUICE_TEST_PG_USER', password: '$canary', database: postgres, table: pg_am }
sink: { type: file, path: '$OUT_DIR/pg.csv' }
YAML
expect_exit 3 run "$OUT_DIR/pg.yaml" --log-level trace
expect_exit 3 check "$OUT_DIR/pg.yaml" --json
