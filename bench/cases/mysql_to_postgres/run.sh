# MySQL -> PostgreSQL: Sluice against a raw pipe (mariadb --quick -B | psql \copy) and pgloader,
# on a uniform and a heavily skewed table of BENCH_ROWS mixed-type rows (default 5,000,000).
rows=${BENCH_ROWS:-5000000}
bench_servers
bench_mysql_table orders_uniform "$rows" "seq"
# 90% of the keys packed into a narrow range, the rest spread over a huge one.
bench_mysql_table orders_skewed "$rows" "IF(seq <= $rows * 9 / 10, 1000000000 + seq, seq * 1000000)"
"${PSQL[@]}" -d postgres -c "DROP DATABASE IF EXISTS bench" -c "CREATE DATABASE bench"
create_pg="CREATE TABLE %s (id bigint PRIMARY KEY, customer varchar(64) NOT NULL,
  amount numeric(12,2), quantity integer, price double precision, paid smallint, ordered_on date,
  created_at timestamp, note text)"
"${PSQL[@]}" -d bench -c "$(printf "$create_pg" pipe_uniform)"

export BENCH_MYSQL_DB=bench BENCH_PG_DB=bench
measure "sluice mysql->pg uniform" "$rows" "$SLUICE" run -q "$CASE_DIR/job.yaml" \
  --set source.table=orders_uniform --set sink.table=sluice_uniform
measure "sluice mysql->pg skewed" "$rows" "$SLUICE" run -q "$CASE_DIR/job.yaml" \
  --set source.table=orders_skewed --set sink.table=sluice_skewed
measure "raw pipe (mariadb -B | psql copy)" "$rows" bash -c \
  "$(printf '%q ' "${MYSQL[@]}") --quick -B -N -e 'SELECT * FROM bench.orders_uniform' |
   $(printf '%q ' "${PSQL[@]}") -d bench -c \"\\copy pipe_uniform FROM STDIN WITH (NULL 'NULL')\""
cat >"$BENCH_DIR/pgloader.load" <<LOAD
LOAD DATABASE
  FROM mysql://$SLUICE_TEST_MYSQL_USER:$SLUICE_TEST_MYSQL_PASSWORD@$SLUICE_TEST_MYSQL_HOST:$SLUICE_TEST_MYSQL_PORT/bench
  INTO postgresql://$SLUICE_TEST_PG_USER:$SLUICE_TEST_PG_PASSWORD@$SLUICE_TEST_PG_HOST:$SLUICE_TEST_PG_PORT/bench
  WITH include drop, create tables, create indexes, workers = 2, concurrency = 1
  INCLUDING ONLY TABLE NAMES MATCHING 'orders_uniform'
  ALTER SCHEMA 'bench' RENAME TO 'public';
LOAD
measure "pgloader" "$rows" pgloader "$BENCH_DIR/pgloader.load"
for table in sluice_uniform sluice_skewed pipe_uniform orders_uniform; do
  count=$("${PSQL[@]}" -d bench -t -A -c "SELECT count(*) FROM $table" 2>/dev/null || echo missing)
  expect_count "$table" "$count" "$rows"
done
ratio "sluice mysql->pg uniform" "raw pipe (mariadb -B | psql copy)"
ratio "sluice mysql->pg uniform" "pgloader"
goal "sluice mysql->pg uniform" "raw pipe (mariadb -B | psql copy)" 1.0
goal "sluice mysql->pg uniform" "pgloader" 3.0
goal "sluice mysql->pg skewed" "sluice mysql->pg uniform" 0.77  # skewed within 1.3x of uniform
expect_rss_under "sluice mysql->pg uniform" 256
expect_rss_under "sluice mysql->pg skewed" 256
