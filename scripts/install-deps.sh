#!/usr/bin/env bash
# Installs the Debian 12 packages Sluice needs to build, test and benchmark.
# Skips apt-get entirely when everything is already installed.
set -euo pipefail

packages=(
  # build
  g++ cmake ninja-build ccache pkg-config
  # libraries (see README, "Dependencies")
  libyaml-cpp-dev libcli11-dev libspdlog-dev libfmt-dev nlohmann-json3-dev libsimdjson-dev
  libsqlite3-dev zlib1g-dev libzstd-dev
  # tests and benchmarks
  libgtest-dev libgmock-dev libbenchmark-dev sqlite3 python3
)
if [[ "${1:-}" == "--servers" ]]; then
  packages+=(libmariadb-dev libpq-dev mariadb-server mariadb-client postgresql postgresql-client)
fi

missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" ||
    missing+=("$package")
done
if ((${#missing[@]} == 0)); then
  exit 0
fi

echo "Installing: ${missing[*]}"
sudo_cmd=()
if [[ $(id -u) -ne 0 ]]; then
  sudo_cmd=(sudo)
fi
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -q
"${sudo_cmd[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
