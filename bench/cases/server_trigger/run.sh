# `sluice server`: from a run's trigger (POST /api/v1/jobs/{job}/runs) to its first row read,
# over BENCH_RUNS triggered runs (default 1000) of a small CSV -> SQLite job, one after another
# (each waits for the last to end: the latency of a free server, not of a queue), then the same
# with 50 jobs triggered at once (a burst), and the server's resident memory idle after start
# and after the runs. The number is the run's own record: first_row_at - queued_at, both taken
# by the server. For scale, the same job started as a process (`sluice run`, what a cron job
# does) from fork to exit. Goal: p99 < 1 s.
runs=${BENCH_RUNS:-1000}
out="$BENCH_DIR/server_trigger"
rm -rf "$out" && mkdir -p "$out"
python3 "$CASE_DIR/trigger.py" "$SLUICE" "$out" "$runs"
