#!/usr/bin/env bash
# Builds the Flink peer (pom.xml beside this file): its jars from Maven Central by coordinates
# into target/lib (mvn dependency:copy-dependencies), the job compiled into target/classes.
# Idempotent: nothing is done while target/ is newer than pom.xml and src/. Maven runs offline
# first (-o: everything already in its repository), online only if that fails. Maven's repository
# is the one scripts/fetch-jvm-servers.sh and bench/cases/cdc use,
# ${SLUICE_CACHE_DIR:-~/.cache/sluice}/maven/repository. Prints nothing unless it fails.
#   bench/peers/flink/build.sh
set -euo pipefail
dir=$(cd "$(dirname "$0")" && pwd)
stamp=$dir/target/.built
if [[ -f "$stamp" && -d "$dir/target/lib" &&
      -z "$(find "$dir/pom.xml" "$dir/src" -newer "$stamp" -type f)" ]]; then
  exit 0
fi
command -v mvn >/dev/null || { echo "mvn not found: run scripts/install-deps.sh --servers" >&2; exit 1; }
repo=${SLUICE_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/sluice}/maven/repository
mkdir -p "$dir/target"
log=$dir/target/maven.log
# One build at a time (two benchmark runs may both ask); the check is repeated under the lock.
exec 9>"$dir/target/.lock"
flock 9
if [[ -f "$stamp" && -d "$dir/target/lib" &&
      -z "$(find "$dir/pom.xml" "$dir/src" -newer "$stamp" -type f)" ]]; then
  exit 0
fi
rm -rf "$dir/target/lib" "$stamp"
maven=(mvn -B -q -f "$dir/pom.xml" -Dmaven.repo.local="$repo")
goals=(package dependency:copy-dependencies)
if ! "${maven[@]}" -o "${goals[@]}" >"$log" 2>&1 &&
   ! "${maven[@]}" "${goals[@]}" >"$log" 2>&1; then
  cat "$log" >&2
  echo "building bench/peers/flink failed (${maven[*]} ${goals[*]})" >&2
  exit 1
fi
touch "$stamp"
