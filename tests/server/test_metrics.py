"""A real Prometheus (Debian's) scrapes the server's /metrics: the values it stores match the
runs' figures, the exposition passes promtool's lint, and no series carries a run id."""
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import unittest
import urllib.parse
import urllib.request

sys.path.insert(0, os.path.dirname(__file__))
from serverlib import Server, wait_until, write_csv


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PrometheusTest(unittest.TestCase):
    def setUp(self):
        if not shutil.which("prometheus"):
            self.fail("prometheus is not installed: run scripts/install-deps.sh --servers")
        self.server = Server().start()
        self.tmp = tempfile.mkdtemp(prefix="sluice-prometheus-")
        self.port = free_port()
        config = os.path.join(self.tmp, "prometheus.yml")
        with open(config, "w") as f:
            f.write("global: {scrape_interval: 1s, evaluation_interval: 1s}\n"
                    "scrape_configs:\n"
                    "  - job_name: sluice\n"
                    f"    static_configs: [{{targets: ['127.0.0.1:{self.server.port}']}}]\n")
        self.log = open(os.path.join(self.tmp, "prometheus.log"), "w")
        self.prometheus = subprocess.Popen(
            ["prometheus", f"--config.file={config}",
             f"--storage.tsdb.path={os.path.join(self.tmp, 'tsdb')}",
             f"--web.listen-address=127.0.0.1:{self.port}"],
            stdout=self.log, stderr=self.log)

    def tearDown(self):
        self.prometheus.terminate()
        self.prometheus.wait(timeout=60)
        self.log.close()
        self.server.stop()

    def query(self, expression):
        url = (f"http://127.0.0.1:{self.port}/api/v1/query?" +
               urllib.parse.urlencode({"query": expression}))
        try:
            with urllib.request.urlopen(url, timeout=10) as response:
                body = json.loads(response.read())
        except OSError:
            return None  # not up yet
        return body["data"]["result"]

    def value(self, expression):
        result = self.query(expression)
        return float(result[0]["value"][1]) if result else None

    def test_prometheus_scrapes_the_runs_figures(self):
        s = self.server
        csv = os.path.join(s.tmp, "in.csv")
        write_csv(csv, 1234)
        s.post("/api/v1/connections", {"name": "warehouse", "type": "sqlite",
                                       "options": {"path": os.path.join(s.tmp, "w.db")}})
        s.create_job(f"name: orders\nsource: {{type: file, path: {csv}, format: csv}}\n"
                     "sink: {connection: warehouse, table: orders, mode: overwrite}\n")
        s.create_job("name: broken\nsource: {type: file, path: /nonexistent.csv, format: csv}\n"
                     "sink: {connection: warehouse, table: b}\n")
        for _ in range(2):
            s.wait_run(s.start_run("orders")["id"])
        s.wait_run(s.start_run("broken")["id"])

        wait_until(lambda: self.value('up{job="sluice"}') == 1, timeout=120,
                   what="Prometheus scraping the server")
        wait_until(lambda: self.value(
            'sluice_table_rows_written_total{job_name="orders",table="in"}') == 2468,
                   timeout=120, what="the rows written reaching Prometheus")
        self.assertEqual(self.value('sluice_table_rows_read_total{job_name="orders"}'), 2468)
        self.assertEqual(self.value('sluice_job_runs_total{job_name="orders",state="succeeded"}'),
                         2)
        wait_until(lambda: self.value('sluice_job_last_run_failed{job_name="broken"}') == 1,
                   what="the failed run reaching Prometheus")
        self.assertEqual(self.value('sluice_job_running{job_name="orders"}'), 0)
        self.assertEqual(self.value("sluice_run_trigger_to_first_row_seconds_count"), 2)
        self.assertGreater(self.value("process_resident_memory_bytes"), 0)
        # Series are bounded by jobs x tables: no label names a run.
        labels = set()
        for series in self.query('{__name__=~"sluice_.+"}'):
            labels.update(series["metric"].keys())
        self.assertFalse({"run", "run_id", "id"} & labels, labels)
        self.assertLessEqual(labels, {"__name__", "instance", "job", "team", "job_name", "table",
                                      "state", "le"})
        # The exposition itself passes promtool's lint.
        checked = subprocess.run(["promtool", "check", "metrics"], input=s.metrics(), text=True,
                                 capture_output=True)
        self.assertEqual(checked.returncode, 0, checked.stdout + checked.stderr)


if __name__ == "__main__":
    unittest.main(verbosity=2)
