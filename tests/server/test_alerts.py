# needs: servers
"""Alert rules: a failed job, a stream whose source pauses (rows stalled), and a changed source
schema arrive as webhooks in Alertmanager's format, with `for` semantics: not before the
condition held `for`, and within `for` plus one evaluation interval; a cleared condition is sent
as resolved."""
import datetime
import http.server
import json
import os
import sqlite3
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from serverlib import Server, kafka_produce, kafka_topic, servers_env, wait_until

FOR_SECS = 2
INTERVAL_SECS = 1


class Receiver(http.server.BaseHTTPRequestHandler):
    received = []  # (time, payload)

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        Receiver.received.append((time.time(), json.loads(body)))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


def parse_time(text):
    return datetime.datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


class AlertsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.http = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
        threading.Thread(target=cls.http.serve_forever, daemon=True).start()
        cls.tmp_rules = os.path.join(os.environ.get("TMPDIR", "/tmp"),
                                     f"sluice-alerts-{os.getpid()}.yaml")
        with open(cls.tmp_rules, "w") as f:
            f.write(f"webhook: http://127.0.0.1:{cls.http.server_port}/hook\n"
                    f"evaluation_interval_secs: {INTERVAL_SECS}\n"
                    "rules:\n"
                    "  - {name: JobFailed, kind: failure, severity: critical}\n"
                    f"  - {{name: RowsStalled, kind: stalled, jobs: 'stream_*', "
                    f"for_secs: {FOR_SECS}}}\n"
                    "  - {name: SchemaChanged, kind: schema_change, window_secs: 3600}\n")
        cls.server = Server(extra_args=["--alerts", cls.tmp_rules]).start()

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()
        cls.http.shutdown()
        cls.http.server_close()
        os.unlink(cls.tmp_rules)

    def alerts(self, name, status, job):
        """Every alert named `name` with `status` about `job` received so far: (received at,
        alert, payload)."""
        found = []
        for received_at, payload in list(Receiver.received):
            for alert in payload["alerts"]:
                if alert["labels"]["alertname"] == name and alert["status"] == status and \
                        alert["labels"]["job"] == job:
                    found.append((received_at, alert, payload))
        return found

    def check_payload(self, payload):
        self.assertEqual(payload["version"], "4")
        self.assertEqual(payload["receiver"], "sluice")
        self.assertIn(payload["status"], ("firing", "resolved"))
        for key in ("groupKey", "groupLabels", "commonLabels", "commonAnnotations", "externalURL",
                    "truncatedAlerts"):
            self.assertIn(key, payload)
        for alert in payload["alerts"]:
            for key in ("status", "labels", "annotations", "startsAt", "endsAt", "generatorURL",
                        "fingerprint"):
                self.assertIn(key, alert)
            parse_time(alert["startsAt"])

    def test_a_failed_run_fires_and_its_fix_resolves(self):
        s = self.server
        s.create_job("name: failing\nsource: {type: file, path: /nonexistent/in.csv, format: csv}\n"
                     f"sink: {{type: sqlite, path: '{s.tmp}/f.db', table: t}}\n")
        s.wait_run(s.start_run("failing")["id"])
        _, alert, payload = wait_until(lambda: next(iter(self.alerts("JobFailed", "firing", "failing")), None),
                                       timeout=60, what="the JobFailed alert")
        self.check_payload(payload)
        self.assertEqual(alert["labels"]["job"], "failing")
        self.assertEqual(alert["labels"]["team"], "default")
        self.assertEqual(alert["labels"]["severity"], "critical")
        csv = os.path.join(s.tmp, "in.csv")
        with open(csv, "w") as f:
            f.write("id\n1\n")
        s.put("/api/v1/jobs/failing",
              f"name: failing\nsource: {{type: file, path: {csv}, format: csv}}\n"
              f"sink: {{type: sqlite, path: '{s.tmp}/f.db', table: t}}\n",
              content_type="application/yaml")
        s.wait_run(s.start_run("failing")["id"])
        _, resolved, payload = wait_until(
            lambda: next(iter(self.alerts("JobFailed", "resolved", "failing")), None), timeout=60,
            what="the JobFailed alert resolving")
        self.check_payload(payload)
        self.assertGreater(parse_time(resolved["endsAt"]), parse_time(resolved["startsAt"]))

    def test_a_paused_source_fires_rows_stalled_within_for_plus_one_interval(self):
        s = self.server
        env = servers_env()
        topic = f"server_alerts_{os.getpid()}_{int(time.time())}"
        kafka_topic(env, topic, 1)
        kafka_produce(env, topic, [json.dumps({"n": i}) for i in range(100)])
        s.create_job(f"name: stream_orders\nsource: {{type: kafka, brokers: "
                     f"'{env['SLUICE_TEST_KAFKA_BOOTSTRAP']}', topic: {topic}, format: raw, "
                     f"start_from: earliest}}\n"
                     f"sink: {{type: sqlite, path: '{s.tmp}/stream.db', table: messages}}\n")
        run = s.start_run("stream_orders")
        # The producer pauses after 100 messages: once they are written, nothing moves.
        wait_until(lambda: s.get(f"/api/v1/runs/{run['id']}")["rows_written"] >= 100,
                   what="the stream reading the 100 messages")
        paused_at = time.time()
        received_at, alert, payload = wait_until(
            lambda: next(iter(self.alerts("RowsStalled", "firing", "stream_orders")), None), timeout=60,
            what="the RowsStalled alert")
        self.check_payload(payload)
        self.assertEqual(alert["labels"]["job"], "stream_orders")
        waited = received_at - paused_at
        pending_for = received_at - parse_time(alert["startsAt"])
        print(f"RowsStalled arrived {waited:.2f} s after the source paused "
              f"(for {FOR_SECS} s, evaluated every {INTERVAL_SECS} s); pending for "
              f"{pending_for:.2f} s")
        # `for`: it was pending at least that long before firing...
        self.assertGreaterEqual(pending_for, FOR_SECS - 0.01)
        # ...and came within `for` plus one evaluation interval of the pause (plus the webhook's
        # own delivery, allowed one more interval on a loaded machine).
        self.assertLessEqual(waited, FOR_SECS + INTERVAL_SECS + INTERVAL_SECS)
        # The source resumes: the alert resolves.
        kafka_produce(env, topic, [json.dumps({"n": i}) for i in range(100, 110)])
        wait_until(lambda: next(iter(self.alerts("RowsStalled", "resolved", "stream_orders")), None), timeout=60,
                   what="the RowsStalled alert resolving")
        s.post(f"/api/v1/runs/{run['id']}/stop")
        s.wait_run(run["id"])

    def test_a_changed_source_schema_fires_and_shows_in_the_catalog(self):
        s = self.server
        source = os.path.join(s.tmp, "source.db")
        with sqlite3.connect(source) as db:
            db.execute("create table customers (id integer primary key, name text)")
            db.execute("insert into customers values (1, 'Ada'), (2, 'Zoë')")
        s.post("/api/v1/connections", {"name": "crm", "type": "sqlite",
                                       "options": {"path": source}})
        s.create_job("name: customers\nsource: {connection: crm, table: customers}\n"
                     f"sink: {{type: sqlite, path: '{s.tmp}/copy.db', table: customers, "
                     "mode: overwrite}\n")
        s.wait_run(s.start_run("customers")["id"])
        streams = s.get("/api/v1/connections/crm/streams")["streams"]
        self.assertEqual([x["stream"] for x in streams], ["customers"])
        self.assertEqual([c["name"] for c in streams[0]["schema"]], ["id", "name"])
        self.assertIsNone(streams[0]["changed_at"])
        self.assertEqual(self.alerts("SchemaChanged", "firing", "customers"), [])
        with sqlite3.connect(source) as db:
            db.execute("alter table customers add column email text")
        # The copy's table lacks the new column, so this run fails in the sink; the source's
        # schema was read all the same.
        s.wait_run(s.start_run("customers")["id"])
        streams = s.get("/api/v1/connections/crm/streams")["streams"]
        self.assertEqual([c["name"] for c in streams[0]["schema"]], ["id", "name", "email"])
        self.assertEqual([c["name"] for c in streams[0]["previous_schema"]], ["id", "name"])
        self.assertIsNotNone(streams[0]["changed_at"])
        _, alert, payload = wait_until(
            lambda: next(iter(self.alerts("SchemaChanged", "firing", "customers")), None), timeout=60,
            what="the SchemaChanged alert")
        self.check_payload(payload)
        self.assertEqual(alert["labels"]["table"], "customers")
        self.assertEqual(alert["labels"]["job"], "customers")


if __name__ == "__main__":
    unittest.main(verbosity=2)
