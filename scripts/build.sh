#!/usr/bin/env bash
# Configures and builds Sluice with CMake + Ninja (ccache when installed).
#   scripts/build.sh [Release|Debug|RelWithDebInfo] [build-dir] [targets...]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
type=${1:-Release}
dir=${2:-$root/build/$(echo "$type" | tr '[:upper:]' '[:lower:]')}
shift $(($# > 2 ? 2 : $#))
cmake -S "$root" -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE="$type" >/dev/null
ninja -C "$dir" -j "$(nproc)" "$@"
