# MySQL -> files: Sluice (CSV) against mydumper (same thread count; Debian's 0.10 writes SQL)
# and mysqldump (--tab: CSV written by the server; and plain SQL).
rows=${BENCH_ROWS:-5000000}
threads=2
bench_servers
bench_mysql_table orders_uniform "$rows" "seq"
out="$BENCH_DIR/mysql_to_csv"
rm -rf "$out" && mkdir -p "$out/sluice" "$out/mydumper" "$out/tab" && chmod 777 "$out/tab"
export BENCH_MYSQL_DB=bench BENCH_OUT="$out/sluice"
measure "sluice mysql->csv ($threads threads)" "$rows" "$SLUICE" run -q "$CASE_DIR/job.yaml" \
  --set parallelism=$threads
measure "mydumper ($threads threads)" "$rows" mydumper --host "$SLUICE_TEST_MYSQL_HOST" \
  --port "$SLUICE_TEST_MYSQL_PORT" --user "$SLUICE_TEST_MYSQL_USER" \
  --password "$SLUICE_TEST_MYSQL_PASSWORD" --database bench --tables-list orders_uniform \
  --threads $threads --rows 200000 --outputdir "$out/mydumper"
measure "mysqldump --tab (csv)" "$rows" mysqldump --no-defaults --protocol=TCP \
  -h "$SLUICE_TEST_MYSQL_HOST" -P "$SLUICE_TEST_MYSQL_PORT" -u "$SLUICE_TEST_MYSQL_USER" \
  --tab="$out/tab" --fields-terminated-by=, bench orders_uniform
measure "mysqldump (sql)" "$rows" bash -c "mysqldump --no-defaults --protocol=TCP \
  -h $SLUICE_TEST_MYSQL_HOST -P $SLUICE_TEST_MYSQL_PORT -u $SLUICE_TEST_MYSQL_USER --quick \
  bench orders_uniform > $out/dump.sql"

count=$(cat "$out"/sluice/*.csv | wc -l)
expect_count "sluice csv (lines incl. headers)" "$count" "$((rows + $(ls "$out"/sluice/*.csv | wc -l)))"
expect_count "mysqldump --tab" "$(wc -l <"$out/tab/orders_uniform.txt")" "$rows"
ratio "sluice mysql->csv ($threads threads)" "mydumper ($threads threads)"
ratio "sluice mysql->csv ($threads threads)" "mysqldump --tab (csv)"
ratio "sluice mysql->csv ($threads threads)" "mysqldump (sql)"
goal "sluice mysql->csv ($threads threads)" "mydumper ($threads threads)" 1.0
expect_rss_under "sluice mysql->csv ($threads threads)" 256
