# MySQL -> Parquet against the MySQL -> CSV route, on the wide table of the mysql_to_csv case
# (BENCH_ROWS rows, default 2,000,000, about 330 bytes each), BENCH_ROUNDS times (default 3;
# the fastest counts), 2 threads:
#   sluice -> parquet:       MariaDB straight to snappy Parquet files (typed columns).
#   sluice -> csv:           MariaDB to CSV files, the route many pipelines take first.
#   csv -> parquet (pyarrow): that route's second step, pyarrow.csv + write_table on the CSVs
#                            (types as pyarrow infers them), so that "csv + pyarrow" is the
#                            whole CSV route to Parquet.
rows=${BENCH_ROWS:-2000000}
rounds=${BENCH_ROUNDS:-3}
bench_servers
bench_mysql_table wide_uniform "$rows" "seq" wide
out="$BENCH_DIR/mysql_to_parquet"
rm -rf "$out" && mkdir -p "$out"
python=$("$BENCH_ROOT/scripts/python-venv.sh")
export BENCH_MYSQL_DB=bench
parquet_rows() {
  "$python" -c "import sys, pyarrow.dataset as ds; print(ds.dataset(sys.argv[1], format='parquet').count_rows())" "$1"
}
for round in $(seq "$rounds"); do
  for format in parquet csv; do
    dir="$out/$format"
    rm -rf "$dir" && mkdir -p "$dir"
    BENCH_OUT=$dir BENCH_FORMAT=$format measure "sluice -> $format #$round" "$rows" \
      "$SLUICE" run -q --fresh "$CASE_DIR/job.yaml" --set state="$out/state_$format"
  done
  expect_count "sluice -> parquet #$round" "$(parquet_rows "$out/parquet")" "$rows"
  expect_count "sluice -> csv #$round" \
    $(($(cat "$out"/csv/*.csv | wc -l) - $(ls "$out"/csv/*.csv | wc -l))) "$rows"
  rm -rf "$out/converted" && mkdir -p "$out/converted"
  measure "csv -> parquet (pyarrow) #$round" "$rows" "$python" "$CASE_DIR/csv_to_parquet.py" \
    "$out/converted" "$out"/csv/*.csv
  expect_count "csv -> parquet (pyarrow) #$round" "$(parquet_rows "$out/converted")" "$rows"
done
rounds_of() { for r in $(seq "$rounds"); do echo "$1 #$r"; done; }
for label in "sluice -> parquet" "sluice -> csv" "csv -> parquet (pyarrow)"; do
  mapfile -t runs < <(rounds_of "$label")
  fastest "$label" "${runs[@]}"
done
BENCH_SECONDS["csv route"]=$(awk -v a="${BENCH_SECONDS[sluice -> csv]}" \
  -v b="${BENCH_SECONDS[csv -> parquet (pyarrow)]}" 'BEGIN { printf "%.2f", a + b }')
echo "  csv route (sluice -> csv, then pyarrow): ${BENCH_SECONDS[csv route]} s"
echo "  sizes: parquet $(du -sm "$out/parquet" | cut -f1) MB, csv $(du -sm "$out/csv" | cut -f1) MB"
ratio "sluice -> parquet" "sluice -> csv"
ratio "sluice -> parquet" "csv route"
expect_rss_under "sluice -> parquet" 256
rm -rf "$out/csv" "$out/converted"
