#!/usr/bin/env bash
# Fetches the JVM servers the integration tests start, from Maven Central with Maven, by package
# name, as the small poms under scripts/jvm/ name them:
#   kafka      Apache Kafka (broker, KRaft storage tool, admin tools): jars copied into a folder
#   registry   Apicurio Registry (a Confluent-compatible schema registry): its archive unpacked
#   hdfs       Apache Hadoop's MiniDFSCluster: jars copied, and the launcher
#              (scripts/jvm/hdfs/src/HdfsMini.java) compiled against them into classes/
#   s3proxy    s3proxy, an S3-compatible object store on a local folder: jars copied
#   metastore  Apache Hive's standalone metastore (Derby inside): jars copied, and the launcher
#              (scripts/jvm/metastore/src/MetastoreMain.java) compiled against them into classes/
# into a cache folder, ${SLUICE_CACHE_DIR:-~/.cache/sluice}/maven/<name>/. A folder is complete
# when its .complete file holds the checksum of the pom it came from (for hdfs and metastore, of the
# pom and the launcher's source): then nothing is fetched, and a changed pom (a new version) fetches again. Maven's own repository for these downloads is
# .../maven/repository, so that `rm -rf ~/.cache/sluice` removes everything this script brought.
#   scripts/fetch-jvm-servers.sh [kafka] [registry] [hdfs] [s3proxy] [metastore]
#                                                      fetch what is missing (default: all)
#   scripts/fetch-jvm-servers.sh --dir NAME           fetch NAME if missing, print its folder
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cache=${SLUICE_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/sluice}/maven

print_dir=0
names=()
for arg in "$@"; do
  case "$arg" in
    --dir) print_dir=1 ;;
    kafka | registry | hdfs | s3proxy | metastore) names+=("$arg") ;;
    *) echo "usage: $0 [kafka] [registry] [hdfs] [s3proxy] [metastore]" \
            "| --dir kafka|registry|hdfs|s3proxy|metastore" >&2
       exit 2 ;;
  esac
done
((${#names[@]} > 0)) || names=(kafka registry hdfs s3proxy metastore)
if ((print_dir)) && ((${#names[@]} != 1)); then
  echo "--dir takes one name" >&2
  exit 2
fi

pom_of() {
  case "$1" in
    kafka) echo "$root/scripts/jvm/kafka/pom.xml" ;;
    registry) echo "$root/scripts/jvm/schema-registry/pom.xml" ;;
    hdfs) echo "$root/scripts/jvm/hdfs/pom.xml" ;;
    s3proxy) echo "$root/scripts/jvm/s3proxy/pom.xml" ;;
    metastore) echo "$root/scripts/jvm/metastore/pom.xml" ;;
  esac
}

# launcher_dir NAME: the folder of NAME's launcher sources (src/ beside its pom), for the servers
# started by a launcher of our own; nothing for the others.
launcher_dir() {
  case "$1" in
    hdfs | metastore) echo "$root/scripts/jvm/$1/src" ;;
  esac
}

# checksum NAME: of what the folder is made from (the pom; for hdfs and metastore also the
# launcher's source).
checksum() {
  local pom launcher
  pom=$(pom_of "$1")
  launcher=$(launcher_dir "$1")
  case "$1" in
    hdfs | metastore) cat "$pom" "$launcher"/*.java | sha256sum | cut -d' ' -f1 ;;
    *) sha256sum <"$pom" | cut -d' ' -f1 ;;
  esac
}

is_complete() {
  local dest=$1 name=$2
  [[ -f "$dest/.complete" && "$(cat "$dest/.complete")" == "$(checksum "$name")" ]]
}

fetch() {
  local name=$1 pom dest
  pom=$(pom_of "$name")
  dest=$cache/$name
  is_complete "$dest" "$name" && return 0
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
    hdfs) goal=(dependency:copy-dependencies -Dhdfs.lib="$tmp/lib") ;;
    s3proxy) goal=(dependency:copy-dependencies -Ds3proxy.lib="$tmp/lib") ;;
    metastore) goal=(dependency:copy-dependencies -Dmetastore.lib="$tmp/lib") ;;
  esac
  if ! "${maven[@]}" "${goal[@]}" >"$tmp.log" 2>&1; then
    cat "$tmp.log" >&2
    echo "Fetching $name failed (${maven[*]} ${goal[*]})" >&2
    return 1
  fi
  local launcher
  launcher=$(launcher_dir "$name")
  if [[ -n "$launcher" ]] &&
    ! javac -nowarn -d "$tmp/classes" -cp "$tmp/lib/*" "$launcher"/*.java >"$tmp.log" 2>&1; then
    cat "$tmp.log" >&2
    echo "Compiling the $name launcher failed (javac: run scripts/install-deps.sh --servers)" >&2
    return 1
  fi
  rm -rf "$tmp.log" "$tmp/.maven-markers"
  checksum "$name" >"$tmp/.complete"
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
