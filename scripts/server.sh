#!/usr/bin/env bash
# The server quick start: installs what Sluice needs, builds it, starts `sluice server` on
# http://127.0.0.1:8080 (data in out/server/), puts the example jobs of examples/server/ on it
# with `sluice apply`, starts the first, and opens the web UI (or prints its address). Runs
# until Ctrl-C; running it again keeps the jobs, their history and the admin token.
#   scripts/server.sh [--listen HOST:PORT]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
listen=127.0.0.1:8080
if [[ "${1:-}" == "--listen" ]]; then
  listen=$2
fi

scripts/install-deps.sh
scripts/build.sh Release "$root/build/release" sluice
sluice="$root/build/release/bin/sluice"
data="$root/out/server"
export SLUICE_DEMO_DIR="$data/demo"
mkdir -p "$SLUICE_DEMO_DIR"

log="$data/server.out"
# A session of its own: Ctrl-C reaches this script only, which passes one SIGTERM on (a second
# signal would make the server exit at once, without its final checkpoints).
setsid "$sluice" server --listen "$listen" --data "$data" --open >"$log" &
server=$!
stopped=0
stop_server() {  # once: a second SIGTERM would make the server exit without its checkpoint
  ((stopped)) || kill -TERM $server 2>/dev/null || true
  stopped=1
}
trap stop_server INT TERM EXIT
for _ in $(seq 1 600); do
  grep -q "admin token:" "$log" && break
  kill -0 $server 2>/dev/null || { cat "$log"; exit 1; }
  sleep 0.1
done
cat "$log"
url="http://$listen"
"$sluice" apply examples/server --server "$url" --token-file "$data/admin.token"
python3 - "$url" "$data/admin.token" <<'PY'
import sys, urllib.request
url, token_file = sys.argv[1], sys.argv[2]
token = open(token_file).read().strip()
request = urllib.request.Request(url + "/api/v1/jobs/demo_orders/runs", data=b"{}", method="POST",
                                 headers={"Authorization": "Bearer " + token,
                                          "Content-Type": "application/json"})
urllib.request.urlopen(request).read()
PY
echo
echo "Started demo_orders; demo_export follows when it succeeds. Open the UI address above."
echo "Ctrl-C stops the server (running runs stop at a checkpoint and resume at the next start)."
# `wait` returns when a trapped signal arrives; then the server gets its stop and is waited for.
wait $server || true
wait $server 2>/dev/null || true
