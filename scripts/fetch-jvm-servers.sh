#!/usr/bin/env bash
# Fetches the JVM servers the integration tests start, from Maven Central with Maven, by package
# name, as the small poms under scripts/jvm/ name them:
#   kafka      Apache Kafka (broker, KRaft storage tool, admin tools): jars copied into a folder
#   registry   Apicurio Registry (a Confluent-compatible schema registry): its archive unpacked
# into a cache folder, ${SLUICE_CACHE_DIR:-~/.cache/sluice}/maven/<name>/. A folder is complete
# when its .complete file holds the checksum of the pom it came from: then nothing is fetched,
# and a changed pom (a new version) fetches again. Maven's own repository for these downloads is
# .../maven/repository, so that `rm -rf ~/.cache/sluice` removes everything this script brought.
#   scripts/fetch-jvm-servers.sh [kafka] [registry]   fetch what is missing (default: both)
#   scripts/fetch-jvm-servers.sh --dir NAME           fetch NAME if missing, print its folder
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cache=${SLUICE_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/sluice}/maven

print_dir=0
names=()
for arg in "$@"; do
  case "$arg" in
    --dir) print_dir=1 ;;
    kafka | registry) names+=("$arg") ;;
    *) echo "usage: $0 [kafka] [registry] | --dir kafka|registry" >&2; exit 2 ;;
  esac
done
((${#names[@]} > 0)) || names=(kafka registry)
if ((print_dir)) && ((${#names[@]} != 1)); then
  echo "--dir takes one name" >&2
  exit 2
fi

pom_of() {
  case "$1" in
    kafka) echo "$root/scripts/jvm/kafka/pom.xml" ;;
    registry) echo "$root/scripts/jvm/schema-registry/pom.xml" ;;
  esac
}

is_complete() {
  local dest=$1 pom=$2
  [[ -f "$dest/.complete" && "$(cat "$dest/.complete")" == "$(sha256sum <"$pom" | cut -d' ' -f1)" ]]
}

fetch() {
  local name=$1 pom dest
  pom=$(pom_of "$name")
  dest=$cache/$name
  is_complete "$dest" "$pom" && return 0
  command -v mvn >/dev/null || { echo "mvn not found: run scripts/install-deps.sh --servers" >&2; return 1; }
  local tmp=$dest.partial
  rm -rf "$tmp"
  mkdir -p "$tmp"
  echo "Fetching $name from Maven Central ($pom) into $dest" >&2
  local started=$SECONDS
  # -B: no progress bars; -q: errors only (Maven's output is shown when it fails). The goals'
  # settings are in the pom.
  local maven=(mvn -B -q -f "$pom" -Dmaven.repo.local="$cache/repository") goal
  case "$name" in
    kafka) goal=(dependency:copy-dependencies -Dkafka.lib="$tmp/lib") ;;
    registry) goal=(dependency:unpack -Dregistry.dir="$tmp") ;;
  esac
  if ! "${maven[@]}" "${goal[@]}" >"$tmp.log" 2>&1; then
    cat "$tmp.log" >&2
    echo "Fetching $name failed (${maven[*]} ${goal[*]})" >&2
    return 1
  fi
  rm -rf "$tmp.log" "$tmp/.maven-markers"
  sha256sum <"$pom" | cut -d' ' -f1 >"$tmp/.complete"
  rm -rf "$dest"
  mv "$tmp" "$dest"
  echo "Fetched $name: $(du -sh "$dest" | cut -f1) in $((SECONDS - started)) s" >&2
}

mkdir -p "$cache"
# One fetch at a time (install-deps and a test run may both ask).
exec 9>"$cache/.lock"
flock 9
for name in "${names[@]}"; do
  fetch "$name"
done
if ((print_dir)); then
  echo "$cache/${names[0]}"
fi
