#!/usr/bin/env bash
# Runs the web UI's end-to-end test (ui_test.mjs) in Debian's headless Chromium.
#   tests/server/ui/run_ui_test.sh SLUICE_BINARY [SCREENSHOT_DIR]
# Installs playwright-core from the lock file (npm ci) when node_modules is missing or older than
# the lock; never downloads a browser.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
if (($# < 1)); then
  echo "usage: $0 SLUICE_BINARY [SCREENSHOT_DIR]" >&2
  exit 2
fi
export SLUICE=$(realpath "$1")
if (($# >= 2)); then
  export SCREENSHOT_DIR=$(realpath -m "$2")
fi
if [[ ! -x /usr/bin/chromium ]]; then
  echo "server.ui: /usr/bin/chromium is missing: run scripts/install-deps.sh --servers" >&2
  exit 1
fi
for tool in node npm; do
  if ! command -v "$tool" >/dev/null; then
    echo "server.ui: '$tool' is missing (Debian: apt-get install nodejs npm)" >&2
    exit 1
  fi
done
cd "$here"
# npm ci writes node_modules/.package-lock.json; a lock newer than it means the pins changed.
stamp=node_modules/.package-lock.json
if [[ ! -f $stamp || package-lock.json -nt $stamp ]]; then
  npm ci --no-audit --no-fund
fi
exec node ui_test.mjs
