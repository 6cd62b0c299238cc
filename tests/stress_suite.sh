#!/usr/bin/env bash
# Proves the test suite on a loaded machine: runs every test N times in a row (default 3) while
# `stress --cpu <cores>` keeps every core busy (Debian's stress: scripts/install-deps.sh
# --stress). Prints each run's result and duration; exits non-zero when a run failed.
#   tests/stress_suite.sh [BUILD_DIR] [RUNS]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build/release}
runs=${2:-3}
command -v stress >/dev/null || { echo "stress is not installed (scripts/install-deps.sh --stress)" >&2; exit 2; }

stress --cpu "$(nproc)" >/dev/null 2>&1 &
stress_pid=$!
trap 'kill "$stress_pid" 2>/dev/null || true; wait "$stress_pid" 2>/dev/null || true' EXIT

failed=0
for run in $(seq 1 "$runs"); do
  log=$build/stress-run-$run.log
  start=$SECONDS
  status=0
  ctest --test-dir "$build" -j2 --output-on-failure --timeout 900 >"$log" 2>&1 || status=$?
  summary=$(grep -E '^[0-9]+% tests passed' "$log" || echo "no summary")
  echo "run $run: exit $status, $summary, $((SECONDS - start)) s (log: $log)"
  ((status == 0)) || failed=1
done
exit $failed
