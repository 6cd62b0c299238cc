#!/usr/bin/env python3
"""Helpers of bench/cases/cdc/run.sh (bench tooling only; Sluice does not use it).

  cdc.py prime PATTERN TIMEOUT -- CMD...
      Runs CMD until a line of its output contains PATTERN (the capture has recorded where its
      stream starts), then stops it with SIGTERM and waits for it. Exit 1 on a timeout or when
      CMD ends first.
  cdc.py until lines|kafka WHERE TARGET TIMEOUT -- CMD...
      Runs CMD (a job that never ends) until its target holds TARGET records, then stops it with
      SIGTERM and waits for it. Prints `reached_secs=S count=C` (seconds from CMD's start until
      the target held them all; the stop is not counted). `lines`: WHERE is a glob of files,
      their newlines counted incrementally, each file followed by inode (a part renamed when it
      is published is the same file). `kafka`: WHERE is BOOTSTRAP/TOPIC, the end offset of its
      partition 0 (kcat -Q), the topic having one partition and no transactions.
  cdc.py write RATE SECONDS TABLE FIRST_ID [ROWS_PER_STATEMENT]
      Prints SQL for the mariadb client: RATE rows per second for SECONDS, each statement one
      autocommitted multi-row INSERT into TABLE (id, written_us, note) whose written_us is the
      server's clock (microseconds since the epoch) when the statement ran.
  cdc.py latency
      Reads `<LogAppendTime ms>\\t<Debezium JSON event>` lines (kcat -f '%T\\t%s\\n') on stdin
      and prints p50, p99 and the maximum of (time the broker appended the event - written_us).
"""
import glob
import json
import os
import signal
import subprocess
import sys
import time


def split_command(argv):
    if "--" not in argv:
        sys.exit("missing -- CMD")
    i = argv.index("--")
    return argv[:i], argv[i + 1:]


def stop(proc):
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
    try:
        return proc.wait(timeout=120)
    except subprocess.TimeoutExpired:
        proc.kill()
        return proc.wait()


def prime(argv):
    (pattern, timeout), cmd = split_command(argv)
    deadline = time.monotonic() + float(timeout)
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    fd = proc.stdout.fileno()
    os.set_blocking(fd, False)
    seen = []
    found = False
    buffer = ""
    while time.monotonic() < deadline:
        try:
            chunk = os.read(fd, 65536)
        except BlockingIOError:
            chunk = None
        if chunk:
            buffer += chunk.decode("utf-8", "replace")
            lines = buffer.split("\n")
            buffer = lines.pop()
            seen.extend(lines)
            if any(pattern in line for line in lines):
                found = True
                break
        elif chunk == b"" or proc.poll() is not None:
            break
        else:
            time.sleep(0.05)
    stop(proc)
    if not found:
        sys.stderr.write("\n".join(seen[-30:] + [buffer]) + "\n")
        sys.exit(f"prime: '{pattern}' not seen in {timeout} s: {' '.join(cmd)}")


class LineCounter:
    def __init__(self, pattern):
        self.pattern = pattern
        self.files = {}  # inode -> [bytes read, newlines]

    def count(self):
        for path in glob.glob(self.pattern):
            try:
                with open(path, "rb") as f:
                    inode = os.fstat(f.fileno()).st_ino
                    state = self.files.setdefault(inode, [0, 0])
                    f.seek(state[0])
                    while True:
                        data = f.read(1 << 22)
                        if not data:
                            break
                        state[0] += len(data)
                        state[1] += data.count(b"\n")
            except FileNotFoundError:
                pass  # renamed between the glob and the open: counted at the next look
        return sum(state[1] for state in self.files.values())


def kafka_counter(where):
    bootstrap, topic = where.split("/", 1)

    def count():
        out = subprocess.run(["kcat", "-Q", "-b", bootstrap, "-t", f"{topic}:0:-1"],
                             capture_output=True, text=True).stdout
        # "<topic> [0] offset <n>"
        for line in out.splitlines():
            parts = line.split()
            if len(parts) >= 4 and parts[-2] == "offset":
                return int(parts[-1])
        return 0

    return count


def until(argv):
    (kind, where, target, timeout), cmd = split_command(argv)
    target = int(target)
    count = LineCounter(where).count if kind == "lines" else kafka_counter(where)
    start = time.monotonic()
    deadline = start + float(timeout)
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL)
    n = 0
    reached = None
    while time.monotonic() < deadline:
        n = count()
        if n >= target:
            reached = time.monotonic() - start
            break
        if proc.poll() is not None:
            break
        time.sleep(0.1)
    code = stop(proc)
    if reached is None:
        sys.exit(f"until: {n} of {target} after {time.monotonic() - start:.1f} s "
                 f"(exit code {code}): {' '.join(cmd)}")
    print(f"reached_secs={reached:.3f} count={n}")


def write(argv):
    rate, seconds, table, first_id = int(argv[0]), float(argv[1]), argv[2], int(argv[3])
    per_statement = int(argv[4]) if len(argv) > 4 else 100
    dialect = argv[5] if len(argv) > 5 else "mysql"
    out = sys.stdout
    start = time.monotonic()
    sent = 0
    next_id = first_id
    total = int(rate * seconds)
    while sent < total:
        due = start + sent / rate
        now = time.monotonic()
        if due > now:
            time.sleep(due - now)
        n = min(per_statement, total - sent)
        if dialect == "pg":
            out.write(f"INSERT INTO {table} (id, written_us, note) SELECT g, "
                      f"(extract(epoch FROM clock_timestamp()) * 1000000)::bigint, "
                      f"'latency probe' FROM generate_series({next_id}, {next_id + n - 1}) g;\n")
        else:
            out.write(f"INSERT INTO {table} (id, written_us, note) SELECT seq, "
                      f"CAST(UNIX_TIMESTAMP(NOW(6)) * 1000000 AS UNSIGNED), 'latency probe' "
                      f"FROM seq_{next_id}_to_{next_id + n - 1};\n")
        out.flush()
        sent += n
        next_id += n


def latency(argv):
    delays = []
    for line in sys.stdin:
        ts, _, value = line.rstrip("\n").partition("\t")
        if not value:
            continue
        event = json.loads(value)
        row = event.get("after") or event.get("before")
        delays.append(int(ts) - row["written_us"] / 1000.0)
    if not delays:
        sys.exit("latency: no events")
    delays.sort()

    def pct(p):
        return delays[min(len(delays) - 1, int(p / 100.0 * len(delays)))]

    print(f"events={len(delays)} p50_ms={pct(50):.0f} p99_ms={pct(99):.0f} "
          f"max_ms={delays[-1]:.0f}")


if __name__ == "__main__":
    commands = {"prime": prime, "until": until, "write": write, "latency": latency}
    if len(sys.argv) < 2 or sys.argv[1] not in commands:
        sys.exit(__doc__)
    commands[sys.argv[1]](sys.argv[2:])
