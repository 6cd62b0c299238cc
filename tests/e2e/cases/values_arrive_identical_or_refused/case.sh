# Issue 10: the type mappings users expect, and no value changed without a word. Each route
# either delivers a value identical (as PostgreSQL, MySQL or the file itself would print it) or
# the job stops with a data error naming table, key and column, or a config error at `check`.
need_servers
mysql_exec "DROP DATABASE IF EXISTS e2e_edges; CREATE DATABASE e2e_edges;
            DROP DATABASE IF EXISTS e2e_edges_copy; CREATE DATABASE e2e_edges_copy;
            DROP DATABASE IF EXISTS e2e_edges_ci;
            CREATE DATABASE e2e_edges_ci DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci"
psql_exec postgres "DROP DATABASE IF EXISTS e2e_edges"
psql_exec postgres "CREATE DATABASE e2e_edges"

mysql_at() {
  echo "{type: mysql, host: $SLUICE_TEST_MYSQL_HOST, port: $SLUICE_TEST_MYSQL_PORT, user: $SLUICE_TEST_MYSQL_USER, password: \"$SLUICE_TEST_MYSQL_PASSWORD\", database: $1${2:-}}"
}
postgres_at() {
  echo "{type: postgres, host: $SLUICE_TEST_PG_HOST, port: $SLUICE_TEST_PG_PORT, user: $SLUICE_TEST_PG_USER, password: \"$SLUICE_TEST_PG_PASSWORD\", database: e2e_edges${1:-}}"
}
# job NAME SOURCE SINK [MORE_YAML]: writes $OUT_DIR/NAME.yaml.
job() {
  printf 'name: %s\nsource: %s\nsink: %s\n%s\n' "$1" "$2" "$3" "${4:-}" >"$OUT_DIR/$1.yaml"
}

# character(n) arrives as PostgreSQL's own text of the value, without its padding, everywhere.
psql_exec e2e_edges "CREATE TABLE language (language_id int PRIMARY KEY, name character(20) NOT NULL);
                     INSERT INTO language VALUES (1, 'English'), (2, ' Lead'), (3, 'Trail  ')"
job char_to_mysql "$(postgres_at ", table: language")" "$(mysql_at e2e_edges)"
job char_to_sqlite "$(postgres_at ", table: language")" "{type: sqlite, path: \"$OUT_DIR/edges.db\"}"
job char_to_file "$(postgres_at ", table: language")" "{type: file, path: \"$OUT_DIR/language.jsonl\"}"
expect_ok run "$OUT_DIR/char_to_mysql.yaml"
expect_ok run "$OUT_DIR/char_to_sqlite.yaml"
expect_ok run "$OUT_DIR/char_to_file.yaml"
expect_equal "$(mysql_exec e2e_edges "SELECT CONCAT('[', name, ']') FROM language ORDER BY language_id")" \
  "$(printf '[English]\n[ Lead]\n[Trail]')" "character(20) in MySQL"
expect_equal "$(sqlite3 "$OUT_DIR/edges.db" "SELECT '[' || name || ']' FROM language ORDER BY language_id")" \
  "$(printf '[English]\n[ Lead]\n[Trail]')" "character(20) in SQLite"
expect_equal "$(cat "$OUT_DIR/language.jsonl")" \
  "$(printf '{"language_id":1,"name":"English"}\n{"language_id":2,"name":" Lead"}\n{"language_id":3,"name":"Trail"}')" \
  "character(20) in JSON Lines"

# MySQL's TINYINT(1) into an existing PostgreSQL boolean column: 0 and 1 become false and true;
# a 2 (TINYINT(1) holds -128..127) is a data error naming table, key and column.
mysql_exec e2e_edges "CREATE TABLE flags (id INT PRIMARY KEY, active TINYINT(1) NOT NULL);
                      INSERT INTO flags VALUES (1, 1), (2, 0)"
psql_exec e2e_edges "CREATE TABLE flags (id int PRIMARY KEY, active boolean NOT NULL)"
job tinyint_to_boolean "$(mysql_at e2e_edges ", table: flags")" "$(postgres_at ", create: false, mode: upsert")"
expect_ok run "$OUT_DIR/tinyint_to_boolean.yaml"
expect_equal "$(psql_exec e2e_edges "SELECT id, active FROM flags ORDER BY id")" \
  "$(printf '1\tt\n2\tf')" "TINYINT(1) in a boolean column"
mysql_exec e2e_edges "INSERT INTO flags VALUES (3, 2)"
expect_error 4 "data error: sink postgres: writer 0: public.flags id=3: column 'active': 2 is out of range for PostgreSQL boolean (0 or 1)" \
  run --fresh "$OUT_DIR/tinyint_to_boolean.yaml"

# MySQL -> MySQL through LOAD DATA: YEAR 0000 stays 0000 (LOAD DATA reads '0' as 2000), and TIME
# keeps MariaDB's whole range, to 838:59:59.999999.
mysql_exec e2e_edges "CREATE TABLE edges (id INT PRIMARY KEY, y YEAR, t TIME(6));
                      INSERT INTO edges VALUES (1, 0, '838:59:59.999999'), (2, 1901, '-838:59:59.999999'),
                                               (3, 2155, '00:00:00'), (4, NULL, NULL)"
job mysql_to_mysql "$(mysql_at e2e_edges ", table: edges")" "$(mysql_at e2e_edges_copy)"
expect_ok run "$OUT_DIR/mysql_to_mysql.yaml"
expect_equal "$(mysql_exec e2e_edges_copy "SELECT id, y, t FROM edges ORDER BY id")" \
  "$(mysql_exec e2e_edges "SELECT id, y, t FROM edges ORDER BY id")" "YEAR and TIME copied"
expect_equal "$(mysql_exec e2e_edges_copy "SELECT y FROM edges WHERE id = 1")" "0000" "YEAR 0000"

# JSON Lines without a schema: integers beyond int64 and beyond 64 bits keep every digit.
printf '{"id":1,"big":18446744073709551615,"huge":123456789012345678901234567890,"f":0.1}\n{"id":2,"big":7,"huge":-1,"f":2.5}\n' >"$OUT_DIR/numbers.jsonl"
job jsonl_numbers "{type: file, path: \"$OUT_DIR/numbers.jsonl\"}" "{type: file, path: \"$OUT_DIR/numbers_out.csv\"}"
expect_ok run "$OUT_DIR/jsonl_numbers.yaml"
expect_equal "$(cat "$OUT_DIR/numbers_out.csv")" \
  "$(printf 'id,big,huge,f\n1,18446744073709551615,123456789012345678901234567890,0.1\n2,7,-1,2.5')" \
  "JSON Lines numbers"

# A cast to decimal(12,2) never rounds: 1.005 is a data error naming stream, key and column.
psql_exec e2e_edges "CREATE TABLE prices (id int PRIMARY KEY, amount numeric(10,3));
                     INSERT INTO prices VALUES (1, 2.500), (2, 1.005)"
job cast_prices "$(postgres_at ", table: prices")" "{type: file, path: \"$OUT_DIR/prices.csv\"}" \
  'transform: {columns: {id: id, amount: "amount::decimal(12,2)"}}'
expect_error 4 "data error: stream 'prices' id=2 column 'amount': cannot cast to decimal(12,2): '1.005' would be rounded to fit decimal(12,2)" \
  run "$OUT_DIR/cast_prices.yaml"

# numeric(10,3) into an existing DECIMAL(5,2): `check` warns, `run` refuses 1.005.
mysql_exec e2e_edges "CREATE TABLE prices (id INT PRIMARY KEY, amount DECIMAL(5,2))"
job narrow_prices "$(postgres_at ", table: prices")" "$(mysql_at e2e_edges)"
expect_ok check "$OUT_DIR/narrow_prices.yaml"
grep -qxF "  mysql table 'e2e_edges.prices' column 'amount': decimal(10,3) values with digits beyond the 2 fractional digits of decimal(5,2) would be rounded by MySQL: they are refused as data errors" \
  "$OUT_DIR/.stdout" || { cat "$OUT_DIR/.stdout" >&2; fail "check does not warn about DECIMAL(5,2)"; }
expect_error 4 "data error: sink mysql: writer 0: mysql $SLUICE_TEST_MYSQL_HOST:$SLUICE_TEST_MYSQL_PORT: table 'e2e_edges.prices' key=(2): column 'amount': 1.005 would be rounded to fit decimal(5,2)" \
  run "$OUT_DIR/narrow_prices.yaml"
expect_equal "$(mysql_exec e2e_edges "SELECT COUNT(*) FROM prices")" "0" "rows of the failed run"
# The same into an existing PostgreSQL numeric(5,2).
psql_exec e2e_edges "CREATE TABLE prices_narrow (id int PRIMARY KEY, amount numeric(5,2))"
job narrow_prices_pg "$(postgres_at ", table: prices")" "$(postgres_at ", table: prices_narrow")"
expect_ok check "$OUT_DIR/narrow_prices_pg.yaml"
grep -qxF "  table public.prices_narrow column 'amount' (numeric(5,2)): decimal(10,3) values with digits beyond the scale of numeric(5,2) would be rounded by PostgreSQL: they are refused as data errors" \
  "$OUT_DIR/.stdout" || { cat "$OUT_DIR/.stdout" >&2; fail "check does not warn about numeric(5,2)"; }
expect_error 4 "data error: sink postgres: writer 0: public.prices_narrow id=2: column 'amount': '1.005' would be rounded to fit decimal(5,2)" \
  run "$OUT_DIR/narrow_prices_pg.yaml"

# MariaDB stores a float's -0 as 0: refused by default, stored as 0 when the job says so.
psql_exec e2e_edges "CREATE TABLE zeros (id int PRIMARY KEY, x float8);
                     INSERT INTO zeros VALUES (1, 0.5), (2, '-0')"
job negative_zero "$(postgres_at ", table: zeros")" "$(mysql_at e2e_edges)"
expect_error 4 "data error: sink mysql: writer 0: mysql $SLUICE_TEST_MYSQL_HOST:$SLUICE_TEST_MYSQL_PORT: table 'e2e_edges.zeros' key=(2): column 'x': MySQL and MariaDB store a float's -0 as 0 (set negative_zero: zero to accept that)" \
  run "$OUT_DIR/negative_zero.yaml"
expect_ok run --fresh "$OUT_DIR/negative_zero.yaml" --set sink.negative_zero=zero
expect_equal "$(mysql_exec e2e_edges "SELECT id, x FROM zeros ORDER BY id")" "$(printf '1\t0.5\n2\t0')" \
  "-0 stored as 0 on request"

# A float64 column into an existing FLOAT column would round every value: a config error.
mysql_exec e2e_edges "CREATE TABLE reals (id INT PRIMARY KEY, x FLOAT)"
job doubles_into_float "$(postgres_at ", table: zeros")" "$(mysql_at e2e_edges ", table: reals")"
expect_error 2 "config error: sink mysql: mysql $SLUICE_TEST_MYSQL_HOST:$SLUICE_TEST_MYSQL_PORT: table 'e2e_edges.reals': column 'x' is float, which cannot hold the stream's float64 values exactly (it keeps 24 significant bits; use a wider column type or cast the column in the transform)" \
  check "$OUT_DIR/doubles_into_float.yaml"

# Keys distinct in PostgreSQL stay distinct in a utf8mb4_general_ci database: six keys, six rows.
psql_exec e2e_edges "CREATE TABLE words (k text PRIMARY KEY, v int);
                     INSERT INTO words VALUES ('key', 1), ('KEY', 2), ('key ', 3), ('kéy', 4), ('k', 5), ('K', 6)"
job keys_upsert "$(postgres_at ", table: words")" "$(mysql_at e2e_edges_ci ", mode: upsert")"
expect_ok run "$OUT_DIR/keys_upsert.yaml"
expect_equal "$(mysql_exec e2e_edges_ci "SELECT COUNT(*), COUNT(DISTINCT CAST(k AS BINARY)), SUM(v) FROM words")" \
  "$(printf '6\t6\t21')" "distinct keys in MySQL"
# An existing table whose key collation merges them is refused, with the statement that fixes it.
mysql_exec e2e_edges_ci "CREATE TABLE words_ci (k VARCHAR(20) NOT NULL PRIMARY KEY, v INT)"
job keys_into_ci "$(postgres_at ", table: words")" "$(mysql_at e2e_edges_ci ", table: words_ci, mode: upsert")"
expect_error 2 "config error: sink mysql: mysql $SLUICE_TEST_MYSQL_HOST:$SLUICE_TEST_MYSQL_PORT: table 'e2e_edges_ci.words_ci': column 'k' of key 'PRIMARY' has collation utf8mb4_general_ci, which treats different keys as equal (case, accents, trailing spaces: 'a' = 'A' = 'a '): rows whose keys differ only so would be merged or refused. Give it a binary collation that keeps trailing spaces, e.g. ALTER TABLE \`e2e_edges_ci\`.\`words_ci\` MODIFY \`k\` varchar(20) CHARACTER SET utf8mb4 COLLATE utf8mb4_nopad_bin NOT NULL (with the column's other attributes)" \
  check "$OUT_DIR/keys_into_ci.yaml"
mysql_exec e2e_edges_ci "ALTER TABLE words_ci MODIFY k varchar(20) CHARACTER SET utf8mb4 COLLATE utf8mb4_nopad_bin NOT NULL"
expect_ok run "$OUT_DIR/keys_into_ci.yaml"
expect_equal "$(mysql_exec e2e_edges_ci "SELECT COUNT(*) FROM words_ci")" "6" "keys after the fix"

mysql_exec "DROP DATABASE e2e_edges; DROP DATABASE e2e_edges_copy; DROP DATABASE e2e_edges_ci"
psql_exec postgres "DROP DATABASE e2e_edges"
