# Shared helpers for bench/cases/*/run.sh (sourced by bench/run.sh).
#   measure LABEL ROWS CMD...   runs CMD once, records wall seconds and peak RSS, prints a row
#   ratio A B                   prints how many times faster A is than B (B.time / A.time)

declare -gA BENCH_SECONDS BENCH_RSS_MB BENCH_ROWS

measure() {
  local label=$1 rows=$2
  shift 2
  local report
  report=$(mktemp)
  if ! /usr/bin/time -f '%e %M' -o "$report" "$@" >"$report.out" 2>&1; then
    echo "FAILED: $label" >&2
    tail -20 "$report.out" >&2
    rm -f "$report" "$report.out"
    return 1
  fi
  local seconds rss_kb
  read -r seconds rss_kb <"$report"
  rm -f "$report" "$report.out"
  BENCH_SECONDS[$label]=$seconds
  BENCH_RSS_MB[$label]=$((rss_kb / 1024))
  BENCH_ROWS[$label]=$rows
  printf '  %-38s %8.2f s %12s rows/s %7s MB peak RSS\n' "$label" "$seconds" \
    "$(awk -v r="$rows" -v s="$seconds" 'BEGIN { printf "%.0f", (s > 0 ? r / s : 0) }')" \
    "${BENCH_RSS_MB[$label]}"
}

ratio() {
  local a=$1 b=$2
  awk -v a="${BENCH_SECONDS[$a]}" -v b="${BENCH_SECONDS[$b]}" -v na="$a" -v nb="$b" \
    'BEGIN { printf "  ratio: %s is %.2fx the speed of %s\n", na, (a > 0 ? b / a : 0), nb }'
}

# expect_count LABEL ACTUAL EXPECTED: every result's row count is checked.
expect_count() {
  if [[ "$2" != "$3" ]]; then
    echo "  ROW COUNT MISMATCH for $1: $2 rows, expected $3" >&2
    return 1
  fi
}
