# PostgreSQL -> MySQL: Sluice against psql \copy TO STDOUT piped into LOAD DATA LOCAL INFILE.
rows=${BENCH_ROWS:-5000000}
bench_servers
bench_mysql_table orders_uniform "$rows" "seq"
"${PSQL[@]}" -d postgres -c "DROP DATABASE IF EXISTS bench_pg" -c "CREATE DATABASE bench_pg"
# The source table in PostgreSQL, generated server-side.
"${PSQL[@]}" -d bench_pg -c "CREATE TABLE orders (id bigint PRIMARY KEY, customer varchar(64) NOT NULL,
  amount numeric(12,2), quantity integer, price double precision, paid smallint, ordered_on date,
  created_at timestamp, note text)" -c "INSERT INTO orders SELECT s, 'customer ' || s % 100000 || ' é😀',
  (s::bigint * 7919 % 100000000) / 100.0, s % 1000, (s::bigint * 31 % 100000) / 7.0, s % 2,
  DATE '2015-01-01' + (s % 3650), TIMESTAMP '2015-01-01' + (s::bigint * 37 % 315360000) * INTERVAL '1 second',
  CASE WHEN s % 20 = 0 THEN NULL ELSE 'note ' || md5(s::text) END
  FROM generate_series(1, $rows) s" -c "VACUUM ANALYZE orders"
"${MYSQL[@]}" -e "DROP DATABASE IF EXISTS bench_my; CREATE DATABASE bench_my;
  CREATE TABLE bench_my.pipe (id BIGINT PRIMARY KEY, customer VARCHAR(64) NOT NULL,
  amount DECIMAL(12,2), quantity INT, price DOUBLE, paid SMALLINT, ordered_on DATE,
  created_at DATETIME(6), note TEXT)"

export BENCH_PG_DB=bench_pg BENCH_MYSQL_DB=bench_my
measure "sluice pg->mysql" "$rows" "$SLUICE" run -q "$CASE_DIR/job.yaml"
measure "psql copy | LOAD DATA LOCAL INFILE" "$rows" bash -c \
  "$(printf '%q ' "${PSQL[@]}") -d bench_pg -c '\\copy orders TO STDOUT' |
   $(printf '%q ' "${MYSQL[@]}") --local-infile=1 -e \"LOAD DATA LOCAL INFILE '/dev/stdin' INTO TABLE bench_my.pipe CHARACTER SET utf8mb4\""
for table in sluice pipe; do
  expect_count "$table" "$("${MYSQL[@]}" -N -e "SELECT COUNT(*) FROM bench_my.$table")" "$rows"
done
ratio "sluice pg->mysql" "psql copy | LOAD DATA LOCAL INFILE"
goal "sluice pg->mysql" "psql copy | LOAD DATA LOCAL INFILE" 1.0
expect_rss_under "sluice pg->mysql" 256
