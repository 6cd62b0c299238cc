# Every MySQL type family with its edge values arrives identical in PostgreSQL and SQLite and,
# through PostgreSQL, back in an identical MySQL table: each route dumped through Sluice as
# canonical CSV, compared byte for byte.
need_servers
mysql_exec "DROP DATABASE IF EXISTS e2e_types; CREATE DATABASE e2e_types;
            DROP DATABASE IF EXISTS e2e_types_back; CREATE DATABASE e2e_types_back"
mysql_load e2e_types "$CASE_DIR/mysql_types.sql"
mysql_exec e2e_types_back "$(sed -n '/^CREATE TABLE/,/CHARSET/p' "$CASE_DIR/mysql_types.sql")"
psql_exec postgres "DROP DATABASE IF EXISTS e2e_types"
psql_exec postgres "CREATE DATABASE e2e_types"

expect_ok run "$CASE_DIR/to_postgres.yaml"
expect_ok run "$CASE_DIR/to_sqlite.yaml"
expect_ok run "$CASE_DIR/back_to_mysql.yaml"
# Every type family also passes `sluice verify` on every route (floats and json are digested on
# Sluice's side, the rest wherever the store can).
expect_ok verify "$CASE_DIR/to_postgres.yaml"
expect_ok verify "$CASE_DIR/to_sqlite.yaml"
expect_ok verify "$CASE_DIR/back_to_mysql.yaml"

mysql_source() {
  echo "{type: mysql, host: $SLUICE_TEST_MYSQL_HOST, port: $SLUICE_TEST_MYSQL_PORT, user: $SLUICE_TEST_MYSQL_USER, password: \"$SLUICE_TEST_MYSQL_PASSWORD\", database: $1, table: every_type}"
}
dump_csv() {
  cat >"$OUT_DIR/dump_$1.yaml" <<YAML
name: dump_$1
source: $2
sink: { type: file, path: "$OUT_DIR/$1.csv" }
YAML
  expect_ok run "$OUT_DIR/dump_$1.yaml"
}
dump_csv mysql "$(mysql_source e2e_types)"
dump_csv postgres "{type: postgres, host: $SLUICE_TEST_PG_HOST, port: $SLUICE_TEST_PG_PORT, user: $SLUICE_TEST_PG_USER, password: \"$SLUICE_TEST_PG_PASSWORD\", database: e2e_types, table: every_type}"
dump_csv sqlite "{type: sqlite, path: \"$OUT_DIR/types.db\", table: every_type}"
dump_csv mysql_back "$(mysql_source e2e_types_back)"
expect_same "$OUT_DIR/postgres.csv" "$OUT_DIR/mysql.csv"
expect_same "$OUT_DIR/sqlite.csv" "$OUT_DIR/mysql.csv"
expect_same "$OUT_DIR/mysql_back.csv" "$OUT_DIR/mysql.csv"
# Floats are bit-exact, not just equal in print.
expect_equal "$(mysql_exec e2e_types_back 'SELECT HEX(d), HEX(f) FROM every_type ORDER BY id' | md5sum)" \
  "$(mysql_exec e2e_types 'SELECT HEX(d), HEX(f) FROM every_type ORDER BY id' | md5sum)" "float bits"

# A NUL byte cannot go into PostgreSQL text: a data error naming table, column and row.
expect_error 4 "data error: sink postgres: writer 0: public.with_nul row 2: column 'name': PostgreSQL text cannot contain NUL (0x00) bytes" \
  run "$CASE_DIR/nul_to_postgres.yaml"

mysql_exec "DROP DATABASE e2e_types; DROP DATABASE e2e_types_back"
psql_exec postgres "DROP DATABASE e2e_types"
