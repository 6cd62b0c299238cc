"""Starts `sluice server` for the server tests and talks to its API (stdlib only).

The server listens on a free loopback port (--listen 127.0.0.1:0) with a data folder in a
temporary directory; its stdout and stderr go to files the tests search for secrets.
"""
import json
import os
import re
import signal
import subprocess
import tempfile
import time
import urllib.error
import urllib.request

SLUICE = os.environ.get("SLUICE", "build/release/bin/sluice")


class ApiError(Exception):
    def __init__(self, status, body):
        super().__init__(f"HTTP {status}: {body}")
        self.status = status
        self.body = body


class Server:
    """One `sluice server` process. Use as a context manager."""

    def __init__(self, data_dir=None, extra_args=(), env=None, port=0):
        self.tmp = tempfile.mkdtemp(prefix="sluice-server-test-")
        self.data_dir = data_dir or os.path.join(self.tmp, "data")
        self.extra_args = list(extra_args)
        self.env = dict(os.environ, **(env or {}))
        self.port = port
        self.process = None
        self.url = None
        self.token = None
        self.responses = []  # every API answer's text, for the secret checks

    def start(self):
        self.stdout_path = os.path.join(self.tmp, f"stdout-{time.time_ns()}.txt")
        self.stderr_path = os.path.join(self.tmp, f"stderr-{time.time_ns()}.txt")
        listen = f"127.0.0.1:{self.port}"
        with open(self.stdout_path, "w") as out, open(self.stderr_path, "w") as err:
            self.process = subprocess.Popen(
                [SLUICE, "server", "--listen", listen, "--data", self.data_dir] + self.extra_args,
                stdout=out, stderr=err, env=self.env)
        deadline = time.time() + 60
        while time.time() < deadline:
            with open(self.stdout_path) as f:
                text = f.read()
            match = re.search(r"Sluice server on (http://[0-9.]+:(\d+))", text)
            if match and "admin token:" in text:
                self.url = match.group(1)
                self.port = int(match.group(2))
                break
            if self.process.poll() is not None:
                raise RuntimeError("the server exited: " + self.logs())
            time.sleep(0.05)
        else:
            raise RuntimeError("the server did not start in 60 s")
        with open(os.path.join(self.data_dir, "admin.token")) as f:
            self.token = f.read().strip()
        return self

    def stop(self, sig=signal.SIGTERM, timeout=120):
        if self.process and self.process.poll() is None:
            self.process.send_signal(sig)
            self.process.wait(timeout=timeout)
        self.process = None

    def kill9(self):
        self.stop(signal.SIGKILL)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def logs(self):
        text = ""
        for path in (self.stdout_path, self.stderr_path):
            if os.path.exists(path):
                with open(path, errors="replace") as f:
                    text += f.read()
        return text

    # ----- HTTP ---------------------------------------------------------------------------------
    def request(self, method, path, body=None, token=None, content_type=None, expect=None):
        data = None
        headers = {}
        token = self.token if token is None else token
        if token:
            headers["Authorization"] = "Bearer " + token
        if body is not None:
            if isinstance(body, (dict, list)):
                data = json.dumps(body).encode()
                headers["Content-Type"] = "application/json"
            else:
                data = body.encode() if isinstance(body, str) else body
                headers["Content-Type"] = content_type or "application/json"
        elif method in ("POST", "PUT"):
            data = b""
        req = urllib.request.Request(self.url + path, data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(req, timeout=60) as response:
                status, text = response.status, response.read().decode()
        except urllib.error.HTTPError as error:
            status, text = error.code, error.read().decode()
        self.responses.append(text)
        parsed = json.loads(text) if text else None
        if expect is not None:
            if status != expect:
                raise ApiError(status, text)
        elif status >= 400:
            raise ApiError(status, text)
        return parsed if expect is None or status < 400 else (status, parsed)

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, body=None, **kw):
        return self.request("POST", path, body, **kw)

    def put(self, path, body=None, **kw):
        return self.request("PUT", path, body, **kw)

    def delete(self, path, **kw):
        return self.request("DELETE", path, **kw)

    def error(self, method, path, body=None, status=400, **kw):
        """Sends a request that must fail with `status`; returns the error message."""
        got_status, parsed = self.request(method, path, body, expect=status, **kw)
        assert got_status == status, (got_status, parsed)
        return parsed["error"]["message"]

    def metrics(self):
        with urllib.request.urlopen(self.url + "/metrics", timeout=30) as response:
            text = response.read().decode()
        self.responses.append(text)
        return text

    # ----- helpers ------------------------------------------------------------------------------
    def create_job(self, yaml_text):
        return self.post("/api/v1/jobs", yaml_text, content_type="application/yaml")

    def start_run(self, job, fresh=False):
        return self.post(f"/api/v1/jobs/{job}/runs", {"fresh": fresh} if fresh else {})

    def wait_run(self, run_id, states=("succeeded", "failed", "stopped"), timeout=120):
        deadline = time.time() + timeout
        while time.time() < deadline:
            run = self.get(f"/api/v1/runs/{run_id}")
            if run["state"] in states:
                return run
            time.sleep(0.05)
        raise AssertionError(f"run {run_id} did not reach {states} in {timeout} s: {run}")


def metric_value(text, name, **labels):
    """The value of one series in Prometheus text, or None."""
    for line in text.splitlines():
        if not line.startswith(name + "{") and not line.startswith(name + " "):
            continue
        series, _, value = line.rpartition(" ")
        if all(f'{k}="{v}"' in series for k, v in labels.items()):
            return float(value)
    return None


def write_csv(path, rows):
    with open(path, "w", encoding="utf-8") as f:
        f.write("id,name\n")
        for i in range(rows):
            f.write(f"{i},name-{i}-é\n")


# ----- the shared test servers (scripts/test-servers.sh, the `servers` CTest fixture) -------------
def servers_env():
    """The test servers' settings (SLUICE_TEST_SERVERS_ENV), or None when not started."""
    path = os.environ.get("SLUICE_TEST_SERVERS_ENV")
    if not path or not os.path.exists(path):
        return None
    env = {}
    with open(path) as f:
        for line in f:
            key, sep, value = line.strip().partition("=")
            if sep:
                env[key] = value
    return env


def kafka_topic(env, topic, partitions=1):
    subprocess.run([env["SLUICE_TEST_KAFKA_RUN_CLASS"], "org.apache.kafka.tools.TopicCommand",
                    "--bootstrap-server", env["SLUICE_TEST_KAFKA_BOOTSTRAP"], "--create",
                    "--topic", topic, "--partitions", str(partitions),
                    "--replication-factor", "1"], check=True, stdout=subprocess.DEVNULL)


def kafka_produce(env, topic, lines):
    subprocess.run(["kcat", "-P", "-q", "-b", env["SLUICE_TEST_KAFKA_BOOTSTRAP"], "-t", topic,
                    "-X", "acks=all"], input="\n".join(lines) + "\n", text=True, check=True)


def wait_until(predicate, timeout=120, what="a condition"):
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"{what} did not happen in {timeout} s")
