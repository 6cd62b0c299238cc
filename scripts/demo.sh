#!/usr/bin/env bash
# Sets Sluice up from a fresh clone and runs the demo on the embedded default (files + SQLite):
#   1. installs the Debian packages it needs,
#   2. builds Release into build/release,
#   3. generates 1,000,000 mixed-type order rows as CSV (out/demo/orders.csv),
#   4. runs examples/demo/orders_csv_to_sqlite.yaml   (CSV -> out/demo/shop.db)
#   5. runs examples/demo/orders_sqlite_to_jsonl.yaml (SQLite -> out/demo/orders.jsonl.zst)
# and prints each job's summary.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

scripts/install-deps.sh
scripts/build.sh Release "$root/build/release" sluice
sluice="$root/build/release/bin/sluice"

export DEMO_DIR="$root/out/demo"
mkdir -p "$DEMO_DIR"
for job in generate_orders orders_csv_to_sqlite orders_sqlite_to_jsonl; do
  echo
  echo "== sluice run examples/demo/$job.yaml"
  "$sluice" run "examples/demo/$job.yaml"
done
echo
echo "Demo output is in out/demo/:"
ls -lh "$DEMO_DIR"
