# MySQL -> files: Sluice (CSV) against mydumper at the same thread count (Debian's 0.10 writes
# SQL) with several chunk sizes (--rows) and without chunks, on a uniform-id and a skewed-id
# table of BENCH_ROWS rows (default 2,000,000) of about 330 bytes (bench_mysql_table ... wide).
# Each setting runs BENCH_ROUNDS times (default 3), interleaved, and counts with its fastest
# run: the machine is shared. Sluice's goal is 1.3x mydumper's best setting on each table.
# For reference, the server alone writing the table as CSV (SELECT ... INTO OUTFILE, one
# statement per thread over halves of the key range), and the bound client and server CPU put
# on Sluice's wall time when they share the machine's cores: (client + server CPU) / cores.
rows=${BENCH_ROWS:-2000000}
rounds=${BENCH_ROUNDS:-3}
threads=2
read -r -a chunk_settings <<<"${BENCH_MYDUMPER_ROWS:-50000 100000 250000 500000 none}"
bench_servers
bench_mysql_table wide_uniform "$rows" "seq" wide
# 90% of the keys packed into a narrow range, the rest spread over a huge one.
bench_mysql_table wide_skewed "$rows" \
  "IF(seq <= $rows * 9 / 10, 1000000000 + seq, seq * 1000000)" wide
out="$BENCH_DIR/mysql_to_csv"
rm -rf "$out" && mkdir -p "$out"
export BENCH_MYSQL_DB=bench
echo "  machine: $(nproc) cores, load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"

run_sluice() {  # LABEL TABLE OUTDIR
  BENCH_OUT=$3 measure "$1" "$rows" "$SLUICE" run -q --fresh "$CASE_DIR/job.yaml" \
    --set source.table="$2" --set parallelism=$threads --set state="$out/state"
}
run_mydumper() {  # LABEL TABLE CHUNK_ROWS OUTDIR
  local chunk=()
  [[ "$3" != none ]] && chunk=(--rows "$3")
  measure "$1" "$rows" mydumper --host "$SLUICE_TEST_MYSQL_HOST" \
    --port "$SLUICE_TEST_MYSQL_PORT" --user "$SLUICE_TEST_MYSQL_USER" \
    --password "$SLUICE_TEST_MYSQL_PASSWORD" --database bench --tables-list "$2" \
    --threads $threads "${chunk[@]}" --outputdir "$4"
}
# Rows in a Sluice CSV output (lines minus one header per file) and in a mydumper output (its
# data files, one row a line, each starting with "(").
sluice_rows() { echo $(($(cat "$1"/*.csv | wc -l) - $(ls "$1"/*.csv | wc -l))); }
mydumper_rows() { find "$1" -name 'bench.*.sql' ! -name '*schema*' -exec cat {} + | grep -c '^('; }
rounds_of() { for r in $(seq "$rounds"); do echo "$1 #$r"; done; }
is_faster() {
  awk -v a="${BENCH_SECONDS[$1]}" -v b="${BENCH_SECONDS[$2]}" 'BEGIN { exit !(a < b) }'
}

for table in uniform skewed; do
  echo "  -- wide_$table"
  for round in $(seq "$rounds"); do
    dir="$out/sluice"
    rm -rf "$dir" && mkdir -p "$dir"
    run_sluice "sluice $table #$round" "wide_$table" "$dir"
    expect_count "sluice $table #$round" "$(sluice_rows "$dir")" "$rows"
    for chunk in "${chunk_settings[@]}"; do
      dir="$out/mydumper"
      rm -rf "$dir" && mkdir -p "$dir"
      run_mydumper "mydumper --rows $chunk $table #$round" "wide_$table" "$chunk" "$dir"
      expect_count "mydumper --rows $chunk $table #$round" "$(mydumper_rows "$dir")" "$rows"
    done
  done
  rm -rf "$out/sluice" "$out/mydumper"

  dir="$out/outfile"
  rm -rf "$dir" && mkdir -p "$dir" && chmod 777 "$dir"
  middle=$("${MYSQL[@]}" -N -e \
    "SELECT id FROM bench.wide_$table ORDER BY id LIMIT 1 OFFSET $((rows / 2))")
  measure "server INTO OUTFILE $table" "$rows" "$CASE_DIR/outfile.sh" "$dir" "wide_$table" \
    "$middle" "${MYSQL[@]}"
  expect_count "server INTO OUTFILE $table" "$(cat "$dir"/*.csv | wc -l)" "$rows"
  rm -rf "$dir"

  mapfile -t runs < <(rounds_of "sluice $table")
  fastest "sluice $table" "${runs[@]}"
  labels=("sluice $table")
  best=""
  for chunk in "${chunk_settings[@]}"; do
    label="mydumper --rows $chunk $table"
    mapfile -t runs < <(rounds_of "$label")
    fastest "$label" "${runs[@]}"
    labels+=("$label")
    if [[ -z "$best" ]] || is_faster "$label" "$best"; then
      best=$label
    fi
  done
  fastest "mydumper best $table" "$best"
  labels+=("server INTO OUTFILE $table")
  echo "  wide_$table, fastest of $rounds rounds (best mydumper setting: ${best% $table}):"
  printf '    %-32s %8s  %6s  %-16s  %-16s  %s\n' "" "wall" "sluice" "client CPU" \
    "server CPU" "peak RSS"
  for label in "${labels[@]}"; do
    printf '    %-32s %6.2f s  %5.2fx  %12s s  %12s s  %4s MB\n' \
      "$label" "${BENCH_SECONDS[$label]}" \
      "$(awk -v a="${BENCH_SECONDS["sluice $table"]}" -v b="${BENCH_SECONDS[$label]}" \
        'BEGIN { print (a > 0 ? b / a : 0) }')" \
      "${BENCH_CPU[$label]}" "${BENCH_SERVER_CPU[$label]:-?}" "${BENCH_RSS_MB[$label]}"
  done
  awk -v c="${BENCH_CPU["sluice $table"]}" -v s="${BENCH_SERVER_CPU["sluice $table"]:-0}" \
    -v n="$(nproc)" -v w="${BENCH_SECONDS["sluice $table"]}" -v t="$table" 'BEGIN {
      printf "  CPU bound for sluice %s on %d cores: (%.2f + %.2f) / %d = %.2f s", t, n, c, s,
        n, (c + s) / n
      printf " (measured %.2f s)\n", w }'
  goal "sluice $table" "mydumper best $table" 1.3
  expect_rss_under "sluice $table" 256
done
echo "  load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"
