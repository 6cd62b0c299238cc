"""Triggers runs on a `sluice server` and prints trigger-to-first-row percentiles and RSS."""
import os
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "..", "tests", "server"))
import serverlib  # noqa: E402

sluice, out, runs = sys.argv[1], sys.argv[2], int(sys.argv[3])
serverlib.SLUICE = sluice


def rss_mb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def seconds(run):
    return run["trigger_to_first_row_seconds"]


def percentiles(values):
    values = sorted(values)
    pick = lambda q: values[min(len(values) - 1, int(q * len(values)))]
    return (f"p50 {pick(0.50) * 1000:.1f} ms, p90 {pick(0.90) * 1000:.1f} ms, "
            f"p99 {pick(0.99) * 1000:.1f} ms, max {values[-1] * 1000:.1f} ms "
            f"(mean {statistics.mean(values) * 1000:.1f} ms, n={len(values)})")


csv = os.path.join(out, "in.csv")
serverlib.write_csv(csv, 100)
with serverlib.Server(data_dir=os.path.join(out, "data")) as server:
    time.sleep(1)
    idle_start = rss_mb(server.process.pid)
    job = (f"name: {{name}}\nsource: {{{{type: file, path: {csv}, format: csv}}}}\n"
           f"sink: {{{{type: sqlite, path: '{out}/{{name}}.db', table: t, mode: overwrite}}}}\n")
    server.create_job(job.format(name="single"))
    latencies = []
    for _ in range(runs):
        run = server.start_run("single")
        done = server.wait_run(run["id"])
        assert done["state"] == "succeeded", done
        latencies.append(seconds(done))
    print(f"  {runs} runs one after another, trigger to first row: {percentiles(latencies)}")
    for i in range(50):
        server.create_job(job.format(name=f"burst_{i:02d}"))
    burst = []
    for round_number in range(5):
        ids = [server.start_run(f"burst_{i:02d}")["id"] for i in range(50)]
        burst += [seconds(server.wait_run(run_id)) for run_id in ids]
    print(f"  50 jobs triggered at once, 5 times: {percentiles(burst)}")
    time.sleep(2)
    print(f"  server RSS: {idle_start:.1f} MB idle after start, {rss_mb(server.process.pid):.1f} MB "
          f"idle after {runs + 250} runs")

# For scale: the same job as a process of its own.
walls = []
for i in range(20):
    with open(os.path.join(out, "cli.yaml"), "w") as f:
        f.write(job.format(name="cli") + f"state: {out}/cli-state\n")
    started = time.time()
    subprocess.run([sluice, "run", os.path.join(out, "cli.yaml"), "--no-progress", "-q"],
                   check=True, stdout=subprocess.DEVNULL)
    walls.append(time.time() - started)
print(f"  `sluice run` of the same job as a process, fork to exit: {percentiles(walls)}")
