#!/usr/bin/env bash
# Configures and builds Sluice with CMake + Ninja.
#   scripts/build.sh [Release|Debug|RelWithDebInfo] [build-dir]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
type=${1:-Release}
dir=${2:-$root/build/$(echo "$type" | tr '[:upper:]' '[:lower:]')}
cmake -S "$root" -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE="$type" >/dev/null
# Two compile jobs per core is the sweet spot on small machines with ccache.
ninja -C "$dir" -j "$(nproc)"
