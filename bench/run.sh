#!/usr/bin/env bash
# Runs the end-to-end benchmarks: Sluice and the tools users would pick instead, on the same
# data in the same run, printing wall time, rows/s, peak RSS and Sluice's ratio to each peer.
#   bench/run.sh                  every case under bench/cases/
#   bench/run.sh csv_to_sqlite    one case
# Env: BENCH_ROWS (rows per case, default per case), BENCH_DIR (scratch space).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/install-deps.sh" --bench
"$root/scripts/build.sh" Release "$root/build/release" sluice >/dev/null
export SLUICE="$root/build/release/bin/sluice"
export BENCH_DIR=${BENCH_DIR:-$root/out/bench}
mkdir -p "$BENCH_DIR"
export BENCH_ROOT=$root
source "$root/bench/lib.sh"

cases=("$@")
if ((${#cases[@]} == 0)); then
  for dir in "$root"/bench/cases/*/; do cases+=("$(basename "$dir")"); done
fi
for name in "${cases[@]}"; do
  echo "== $name"
  CASE_DIR="$root/bench/cases/$name" source "$root/bench/cases/$name/run.sh"
done
bench_servers_stop
