#!/usr/bin/env bash
# ParquetWriter against pyarrow's pq.write_table on the same 200,000 mixed-type rows with the
# same codec (zstd at level 3, Sluice's default), each on one core, writing to memory: prints
# rows/s of both and Sluice's ratio (above 1.0 = Sluice faster).
#   bench/micro/parquet_vs_pyarrow.sh
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
"$root/scripts/build.sh" Release "$root/build/release" parquet_writer_benchmark >/dev/null
python=$("$root/scripts/python-venv.sh")
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT

SLUICE_PARQUET_BENCH_SAMPLE=$scratch/orders.parquet taskset -c 0 \
  "$root/build/release/bench/parquet_writer_benchmark" --benchmark_repetitions=3 \
  --benchmark_report_aggregates_only=true --benchmark_format=json >"$scratch/sluice.json"
taskset -c 0 "$python" - "$scratch/orders.parquet" "$scratch/sluice.json" <<'PY'
import json, sys, time
import pyarrow as pa
import pyarrow.parquet as pq
pa.set_cpu_count(1)
pa.set_io_thread_count(1)
table = pq.read_table(sys.argv[1])
sluice = {}
sluice_bytes = {}
for run in json.load(open(sys.argv[2]))["benchmarks"]:
    if run.get("aggregate_name") == "median":
        sluice[run["label"]] = run["items_per_second"]
        sluice_bytes[run["label"]] = run["file_bytes"]
for codec, level in (("snappy", None), ("zstd", 3)):
    best = float("inf")
    for _ in range(5):
        sink = pa.BufferOutputStream()
        start = time.perf_counter()
        pq.write_table(table, sink, compression=codec, compression_level=level)
        best = min(best, time.perf_counter() - start)
    pyarrow_rate = table.num_rows / best
    print("%-7s sluice %10.0f rows/s %6.1f MB   pyarrow %10.0f rows/s %6.1f MB   ratio %.2fx"
          % (codec, sluice[codec], sluice_bytes[codec] / 1e6, pyarrow_rate,
             sink.getvalue().size / 1e6, sluice[codec] / pyarrow_rate))
PY
