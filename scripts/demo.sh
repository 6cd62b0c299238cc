#!/usr/bin/env bash
# Sets Sluice up from a fresh clone and runs the demo on the embedded default (files + SQLite):
#   1. installs the Debian packages it needs,
#   2. builds Release into build/release,
#   3. generates 1,000,000 mixed-type order rows as CSV (out/demo/orders.csv),
#   4. runs examples/demo/orders_csv_to_sqlite.yaml   (CSV -> out/demo/shop.db)
#   5. runs examples/demo/orders_sqlite_to_jsonl.yaml (SQLite -> out/demo/orders.jsonl.zst)
# and prints each job's summary; then
#   6. starts `sluice server` for a moment, puts examples/server/ on it with `sluice apply`,
#      starts demo_orders, lets demo_export follow it, prints their run history, stops it
#      (scripts/server.sh keeps a server running with its web UI).
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
echo "== sluice server: examples/server/ applied, demo_orders started, demo_export after it"
export SLUICE_DEMO_DIR="$DEMO_DIR/server/demo"
rm -rf "$DEMO_DIR/server" && mkdir -p "$SLUICE_DEMO_DIR"
"$sluice" server --listen 127.0.0.1:0 --data "$DEMO_DIR/server" >"$DEMO_DIR/server.out" \
  2>"$DEMO_DIR/server.log" &
server=$!
trap 'kill -TERM $server 2>/dev/null || true' EXIT
until url=$(sed -n 's/^Sluice server on //p' "$DEMO_DIR/server.out") && [[ -n $url ]] &&
  grep -q "admin token:" "$DEMO_DIR/server.out"; do
  kill -0 $server || { cat "$DEMO_DIR/server.log"; exit 1; }
  sleep 0.1
done
"$sluice" apply examples/server --server "$url" --token-file "$DEMO_DIR/server/admin.token"
python3 - "$url" "$DEMO_DIR/server/admin.token" <<'PY'
import json, sys, time, urllib.request
url, token = sys.argv[1], open(sys.argv[2]).read().strip()
def call(method, path, body=None):
    request = urllib.request.Request(url + path, method=method,
                                     data=None if body is None else json.dumps(body).encode(),
                                     headers={"Authorization": "Bearer " + token,
                                              "Content-Type": "application/json"})
    return json.load(urllib.request.urlopen(request))
call("POST", "/api/v1/jobs/demo_orders/runs", {})
for _ in range(1200):
    runs = call("GET", "/api/v1/runs")["runs"]
    if any(r["job"] == "demo_export" and r["state"] != "queued" and r["state"] != "running"
           for r in runs):
        break
    time.sleep(0.1)
print(f"{'run':>4}  {'job':<12} {'trigger':<9} {'state':<10} {'rows':>8}  trigger to first row")
for r in reversed(runs):
    latency = r.get("trigger_to_first_row_seconds")
    print(f"{r['id']:>4}  {r['job']:<12} {r['trigger']:<9} {r['state']:<10} {r['rows_written']:>8}  "
          + (f"{latency * 1000:.0f} ms" if latency is not None else "-"))
PY
kill -TERM $server && wait $server
trap - EXIT

echo
echo "Demo output is in out/demo/:"
ls -lh "$DEMO_DIR"
