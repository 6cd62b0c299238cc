# Checkpoint overhead: the same MySQL -> PostgreSQL copy with checkpoints off, every 10 s (the
# default) and every second, in three interleaved rounds (the machine is shared and noisy); the
# fastest run of each setting is compared.
rows=${BENCH_ROWS:-5000000}
bench_servers
bench_mysql_table orders_uniform "$rows" "seq"
"${PSQL[@]}" -d postgres -c "DROP DATABASE IF EXISTS bench_ckpt" -c "CREATE DATABASE bench_ckpt"
export BENCH_MYSQL_DB=bench BENCH_PG_DB=bench_ckpt
settings=("checkpoints off:0" "checkpoints every 10 s:10" "checkpoints every 1 s:1")
for round in 1 2 3; do
  for setting in "${settings[@]}"; do
    label=${setting%%:*} interval=${setting##*:}
    measure "$label (round $round)" "$rows" "$SLUICE" run -q \
      "$BENCH_ROOT/bench/cases/mysql_to_postgres/job.yaml" --set sink.table=ckpt \
      --set checkpoint.interval_secs="$interval" --fresh --set state="$BENCH_DIR/ckpt-state"
  done
done
for setting in "${settings[@]}"; do
  label=${setting%%:*}
  BENCH_SECONDS[$label]=$(printf '%s\n' "${BENCH_SECONDS["$label (round 1)"]}" \
    "${BENCH_SECONDS["$label (round 2)"]}" "${BENCH_SECONDS["$label (round 3)"]}" | sort -g | head -1)
  echo "  fastest of three, $label: ${BENCH_SECONDS[$label]} s"
done
expect_count "ckpt" "$("${PSQL[@]}" -d bench_ckpt -t -A -c 'SELECT count(*) FROM ckpt')" "$rows"
ratio "checkpoints every 10 s" "checkpoints off"
ratio "checkpoints every 1 s" "checkpoints off"
goal "checkpoints every 10 s" "checkpoints off" 0.95
