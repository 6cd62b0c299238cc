#!/usr/bin/env bash
# The Flink peer of bench/cases/kafka_to_hive: reads Kafka topic TOPIC (all partitions, from the
# earliest offsets up to the latest ones as of the job's start) and writes Parquet files (snappy)
# OUTDIR/dt=YYYY-MM-DD/hr=HH/part-*.parquet, exactly-once, in a Flink 2.2.1 local MiniCluster in
# one JVM (-Xmx1g, parallelism 2). See README.md and src/main/java/sluice/bench/.
#   bench/peers/flink/run.sh BOOTSTRAP TOPIC OUTDIR
# Builds first (build.sh: nothing to do once built). Prints nothing but errors; Flink's log is
# OUTDIR/../flink.log. Exits 0 only when the job finished (all files committed).
set -euo pipefail
if (($# != 3)); then
  echo "usage: $0 BOOTSTRAP TOPIC OUTDIR" >&2
  exit 2
fi
dir=$(cd "$(dirname "$0")" && pwd)
"$dir/build.sh"
mkdir -p "$3"
out=$(cd "$3" && pwd)
exec java -Xmx1g -Dflink.bench.log="$(dirname "$out")/flink.log" \
  -cp "$dir/target/classes:$dir/target/lib/*" sluice.bench.FlinkKafkaToParquet "$1" "$2" "$out"
