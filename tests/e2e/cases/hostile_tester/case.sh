# What a hostile tester found in the batch half (issue 10, items 3 and 6), each through the real
# binary: every case failed before its fix.
need_servers
mysql_exec "DROP DATABASE IF EXISTS hostile; CREATE DATABASE hostile"
mysql_exec hostile "CREATE TABLE t (id INT PRIMARY KEY, v INT);
  INSERT INTO t SELECT seq, seq % 3 FROM seq_1_to_10000;
  CREATE TABLE dst (id INT PRIMARY KEY, v INT)"
psql_exec postgres "DROP DATABASE IF EXISTS hostile"
psql_exec postgres "CREATE DATABASE hostile"
psql_exec hostile "CREATE TABLE t AS SELECT g AS id, g % 3 AS v FROM generate_series(1, 10000) g;
  ALTER TABLE t ADD PRIMARY KEY (id); CREATE TABLE cased (id int PRIMARY KEY, \"Val\" int, val int);
  INSERT INTO cased VALUES (1, 2, 3)"
mysql_source="{ type: mysql, host: '$SLUICE_TEST_MYSQL_HOST', port: $SLUICE_TEST_MYSQL_PORT,
  user: '$SLUICE_TEST_MYSQL_USER', password: '$SLUICE_TEST_MYSQL_PASSWORD', database: hostile"
pg_source="{ type: postgres, host: '$SLUICE_TEST_PG_HOST', port: $SLUICE_TEST_PG_PORT,
  user: '$SLUICE_TEST_PG_USER', password: '$SLUICE_TEST_PG_PASSWORD', database: hostile"
job() {  # job NAME SOURCE SINK [EXTRA]: writes $OUT_DIR/NAME.yaml
  printf 'name: %s\nsource: %s\nsink: %s\nstate: %s\n%s\n' "$1" "$2" "$3" "$OUT_DIR/state" \
    "${4:-}" >"$OUT_DIR/$1.yaml"
}

echo "--- where: with parentheses that escape Sluice's, or an unknown function: exit 2"
for source in mysql pg; do
  src=$mysql_source
  [[ $source == pg ]] && src=$pg_source
  job "where_$source" "$src, table: t, where: 'v = 1) OR (v = 2' }" "{ type: file, path: '$OUT_DIR/w.csv' }"
  type=mysql
  [[ $source == pg ]] && type=postgres
  for command in check run; do
    status=0
    "$SLUICE" $command "$OUT_DIR/where_$source.yaml" >/dev/null 2>"$OUT_DIR/.stderr" || status=$?
    expect_equal "$status" 2 "exit code of $command with an escaping where ($source)"
    grep -qx "sluice: config error: $OUT_DIR/where_$source.yaml:3:[0-9]*: 'where' in source (type $type) must be one condition on its own (a ')' closes a parenthesis it did not open): Sluice puts it in parentheses beside its own conditions" \
      "$OUT_DIR/.stderr" || { cat "$OUT_DIR/.stderr"; fail "the where error differs"; }
  done
  status=0
  "$SLUICE" run "$OUT_DIR/where_$source.yaml" --set "source.where=nosuchfunc(v) = 1" \
    >/dev/null 2>"$OUT_DIR/.stderr" || status=$?
  expect_equal "$status" 2 "exit code of a where calling an unknown function ($source)"
  grep -q "cannot read table '.*' with where 'nosuchfunc(v) = 1'" "$OUT_DIR/.stderr" ||
    { cat "$OUT_DIR/.stderr"; fail "the error does not blame the where"; }
done

echo "--- a finished append job run again: says what to do, and is not stuck"
job again "$mysql_source, table: t }" "$mysql_source, table: dst }"
expect_ok run "$OUT_DIR/again.yaml"
for _ in 1 2; do
  status=0
  "$SLUICE" run "$OUT_DIR/again.yaml" --no-progress >"$OUT_DIR/.stdout" 2>"$OUT_DIR/.stderr" || status=$?
  expect_equal "$status" 4 "exit code of a rerun into a full table"
  grep -q "Duplicate entry .* (the table already holds a row with this key: to load into a table that holds rows, set mode: upsert to replace rows by key or mode: overwrite to replace the table, or empty it and run the job with --fresh)" "$OUT_DIR/.stderr" ||
    { cat "$OUT_DIR/.stderr"; fail "the duplicate key error does not say what to do"; }
  grep -q "resumed from checkpoint" "$OUT_DIR/.stdout" && fail "a run that committed nothing was resumed"
  grep -q "10,000 written (0 committed)" "$OUT_DIR/.stdout" || { cat "$OUT_DIR/.stdout"; fail "the summary claims rows it did not commit"; }
done
# Switching to upsert needs no --fresh: the failed runs committed nothing.
expect_ok run "$OUT_DIR/again.yaml" --set sink.mode=upsert
expect_equal "$(mysql_exec hostile 'SELECT COUNT(*) FROM dst')" 10000 "rows after the upsert"

echo "--- --fresh over a stopped append run refuses to append its rows again"
mysql_exec hostile "TRUNCATE dst"
job fresh "$mysql_source, table: t, split_rows: 1000 }" "$mysql_source, table: dst }" "batch_rows: 500"
status=0
SLUICE_FAILPOINTS="runtime.reader.batch=checkpoint@1+;runtime.reader.batch=stop@4" \
  "$SLUICE" run "$OUT_DIR/fresh.yaml" --no-progress >/dev/null 2>&1 || status=$?
expect_equal "$status" 130 "exit code of the stopped run"
committed=$(mysql_exec hostile "SELECT COUNT(*) FROM dst")
[[ $committed -gt 0 && $committed -lt 10000 ]] || fail "the stopped run committed $committed rows"
expect_error 2 "config error: sink mysql: --fresh would append again the rows that the interrupted run of job 'fresh' committed to table 'hostile.dst', which holds rows: resume that run instead (run the job without --fresh), or empty the table first, or set mode: upsert or overwrite" \
  run "$OUT_DIR/fresh.yaml" --fresh
expect_equal "$(mysql_exec hostile 'SELECT COUNT(*) FROM dst')" "$committed" "rows after the refusal"

echo "--- a target emptied between an interrupted run and its resume"
mysql_exec hostile "TRUNCATE dst"
expect_error 3 "not found: sink mysql: table 'hostile.dst' is empty although the interrupted run of job 'fresh' committed rows to it (it was emptied since): resuming would load only the rest; run the job with --fresh to load it all again" \
  run "$OUT_DIR/fresh.yaml"
# Emptied: --fresh loads it all.
expect_ok run "$OUT_DIR/fresh.yaml" --fresh
expect_equal "$(mysql_exec hostile 'SELECT COUNT(*), COUNT(DISTINCT id) FROM dst')" "10000	10000" "rows after --fresh"

echo "--- the summary of a resume counts what the run did"
mysql_exec hostile "TRUNCATE dst"
rm -rf "$OUT_DIR/state"
SLUICE_FAILPOINTS="runtime.reader.batch=checkpoint@1+;runtime.reader.batch=stop@5" \
  "$SLUICE" run "$OUT_DIR/fresh.yaml" --no-progress >/dev/null 2>&1 || true
expect_ok run "$OUT_DIR/fresh.yaml" --json
python3 - "$OUT_DIR/.stdout" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
splits = s["splits"]
assert s["resumed"], s
assert splits["done"] == splits["total"], splits
assert 0 < splits["done_before"] < splits["total"], splits
assert s["rows_written"] == s["rows_committed"] < 10000, s
PY
expect_equal "$(mysql_exec hostile 'SELECT COUNT(*), COUNT(DISTINCT id) FROM dst')" "10000	10000" "rows after the resume"

echo "--- errors: skip counts only the rows the target holds as written"
mysql_exec hostile "CREATE TABLE strict (id INT PRIMARY KEY, v INT NOT NULL)"
printf '{"id": 1, "v": 1}\n{"id": 2, "v": null}\n{"id": 3, "v": 3}\n{"id": 4, "v": null}\n' >"$OUT_DIR/nulls.jsonl"
job skip "{ type: file, path: '$OUT_DIR/nulls.jsonl', schema: { id: int64, v: int64 } }" \
  "$mysql_source, table: strict }" "errors: { mode: skip }"
expect_ok run "$OUT_DIR/skip.yaml" --json
python3 -c 'import json,sys; s=json.load(open(sys.argv[1])); assert s["rows_written"] == 2 and s["rows_committed"] == 2 and s["bad_records"] == 2, s' "$OUT_DIR/.stdout"
expect_equal "$(mysql_exec hostile 'SELECT COUNT(*) FROM strict')" 2 "rows in the target"

echo "--- columns that MySQL cannot keep apart, a directory as a file source, zero_dates: null"
job cased "$pg_source, table: cased }" "$mysql_source, table: cased }"
expect_error 2 "config error: sink mysql: mysql $SLUICE_TEST_MYSQL_HOST:$SLUICE_TEST_MYSQL_PORT: stream 'cased' has columns 'Val' and 'val', which are one column in MySQL (its column names ignore case): rename one with a transform, e.g. \`transform: {columns: {val_2: \"val\", ...}}\`" \
  run "$OUT_DIR/cased.yaml"
mkdir -p "$OUT_DIR/indir"
job dir "{ type: file, path: '$OUT_DIR/indir', format: csv }" "{ type: file, path: '$OUT_DIR/d.csv' }"
expect_error 2 "config error: source file: '$OUT_DIR/indir' is a directory: give a file, or a glob of the files in it such as '$OUT_DIR/indir/*.csv'" \
  run "$OUT_DIR/dir.yaml"
job zero "$mysql_source, table: t, zero_dates: null }" "{ type: file, path: '$OUT_DIR/z.csv' }"
status=0
"$SLUICE" check "$OUT_DIR/zero.yaml" >/dev/null 2>"$OUT_DIR/.stderr" || status=$?
expect_equal "$status" 2 "exit code of zero_dates: null unquoted"
grep -q "got a null (write \"null\" in quotes for the choice null: unquoted, YAML reads it as no value)" "$OUT_DIR/.stderr" ||
  { cat "$OUT_DIR/.stderr"; fail "the zero_dates error does not say to quote null"; }

mysql_exec "DROP DATABASE hostile"
psql_exec postgres "DROP DATABASE hostile"
