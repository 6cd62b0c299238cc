# Issue 10, "verify misses a real difference": values holding the row text's separator could
# stand for a column boundary, so ('x<US>vy', 'z') and ('x', 'y<US>vz') digested alike. Each row
# of `pairs` is set to its partner on one side; every one must be reported, whether the servers
# compute the digests in SQL or Sluice reads the rows through (--read-through), MySQL -> PostgreSQL
# and PostgreSQL -> MySQL. Before that, both ways must agree on the undamaged copies, including a
# file target, where the servers' SQL digests meet Sluice's own.
#
# Also: a MySQL LONGTEXT is string(4294967295), which verify could not parse back when reading a
# file target; JSON columns go through files too; and `run` with `verify: true` says clearly when
# the copy succeeded but the verification could not run, and exits with that failure's code.
need_servers
mysql_exec "DROP DATABASE IF EXISTS e2e_issue10; CREATE DATABASE e2e_issue10;
  DROP DATABASE IF EXISTS e2e_issue10_back; CREATE DATABASE e2e_issue10_back"
mysql_load e2e_issue10 "$CASE_DIR/tables.sql"
psql_exec postgres "DROP DATABASE IF EXISTS e2e_issue10_pg"
psql_exec postgres "CREATE DATABASE e2e_issue10_pg"

us=$'\x1f'
rs=$'\x1e'

# LONGTEXT, MEDIUMTEXT, LONGBLOB and JSON through files: `verify: true` reads them back.
for route in mysql_to_jsonl mysql_to_csv; do
  expect_ok run "$CASE_DIR/$route.yaml"
  grep -q "^Verification passed" "$OUT_DIR/.stdout" || {
    cat "$OUT_DIR/.stdout" "$OUT_DIR/.stderr" >&2
    fail "$route: the verification did not pass"
  }
done
# The servers' SQL digests (mysql) against Sluice's (the file) on values holding US and RS.
line=$(grep -A1 "stream 'pairs' " "$OUT_DIR/.stdout" | tail -n 1)
expect_equal "$line" "    source: checksums computed by mysql; target: rows read through sluice" \
  "how mysql_to_csv digested pairs"

expect_ok run "$CASE_DIR/mysql_to_postgres.yaml"
expect_ok run "$CASE_DIR/postgres_to_mysql.yaml"
expect_ok run "$CASE_DIR/postgres_to_jsonl.yaml"
grep -q "^Verification passed" "$OUT_DIR/.stdout" || fail "postgres_to_jsonl did not pass"
for route in mysql_to_postgres postgres_to_mysql; do
  for how in "" --read-through; do
    expect_ok verify $how "$CASE_DIR/$route.yaml"
    grep -q "^Verification passed" "$OUT_DIR/.stdout" || fail "verify $how $route did not pass"
  done
done

# Each row of the PostgreSQL copy becomes its partner: MySQL -> PostgreSQL finds the copy
# changed, PostgreSQL -> MySQL finds its source changed (source and target swap roles).
psql_exec e2e_issue10_pg "
  UPDATE pairs SET a = 'x', b = 'y' || chr(31) || 'vz' WHERE id = 0;
  UPDATE pairs SET a = 'x' || chr(30) || chr(31), b = 'y' WHERE id = 1;
  UPDATE pairs SET a = chr(30) || chr(30), b = '' WHERE id = 2;
  UPDATE pairs SET a = '' WHERE id = 3;
  UPDATE pairs SET a = 'n' WHERE id = 4;
  UPDATE pairs SET a = 'NULL' WHERE id = 5;
  UPDATE pairs SET a = 'a', b = NULL WHERE id = 6"
for route in mysql_to_postgres postgres_to_mysql; do
  if [[ $route == mysql_to_postgres ]]; then
    first="'x${us}vy' in the source, 'x' in the target"
    second="'z' in the source, 'y${us}vz' in the target"
    null_vs_n="NULL in the source, 'n' in the target"
  else
    first="'x' in the source, 'x${us}vy' in the target"
    second="'y${us}vz' in the source, 'z' in the target"
    null_vs_n="'n' in the source, NULL in the target"
  fi
  for how in "" --read-through; do
    expect_error 5 "verification failed: the target differs from the source" \
      verify $how "$CASE_DIR/$route.yaml"
    for expected in \
      "    0 missing in the target, 0 extra in the target, 7 different" \
      "    different: id=0: a $first; b $second" \
      "    different: id=4: a $null_vs_n"; do
      grep -qxF -- "$expected" "$OUT_DIR/.stdout" || {
        cat "$OUT_DIR/.stdout" >&2
        fail "verify $how $route did not report: $expected"
      }
    done
  done
done

# A copy that succeeds while its verification cannot run (no temporary directory for it): the
# summary says the copy succeeded, the error says the verification could not run and why, and the
# exit code is that failure's (3: a resource), not 0 and not a configuration error.
no_tmpdir="$OUT_DIR/no-such-dir"
could_not_run="the copy succeeded, but the verification could not run: not found: cannot create a \
temporary directory for verify in '$no_tmpdir': No such file or directory"
TMPDIR=$no_tmpdir expect_error 3 "$could_not_run" run "$CASE_DIR/mysql_to_jsonl.yaml"
grep -q "^Job 'issue10_mysql_to_jsonl' succeeded" "$OUT_DIR/.stdout" ||
  fail "the summary of the copy is missing"
# --json: one document, the copy's summary with the verification's outcome and the exit code.
TMPDIR=$no_tmpdir expect_error 3 "$could_not_run" run "$CASE_DIR/mysql_to_jsonl.yaml" --json
python3 - "$OUT_DIR/.stdout" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
assert s["status"] == "succeeded" and s["exit_code"] == 3, s
assert s["verification"]["error"]["code"] == "not found", s
PY
expect_ok run "$CASE_DIR/mysql_to_jsonl.yaml" --json
python3 -c 'import json, sys; s = json.load(open(sys.argv[1]))
assert s["exit_code"] == 0 and s["verification"]["match"], s' "$OUT_DIR/.stdout"

mysql_exec "DROP DATABASE e2e_issue10; DROP DATABASE e2e_issue10_back"
psql_exec postgres "DROP DATABASE e2e_issue10_pg"
