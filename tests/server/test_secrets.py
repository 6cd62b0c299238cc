# needs: servers
"""Secrets: a canary password in every secret option of every connector, given literally, as
${env:NAME} and as ${file:/path}, reaches the databases (they refuse it) and appears nowhere
else: not in the server's log, any API answer, the metrics, the lineage events, the alert
payloads, the UI's files, nor in clear in any file of the server's data folder."""
import http.server
import json
import os
import secrets
import subprocess
import sys
import threading
import unittest
import urllib.request

sys.path.insert(0, os.path.dirname(__file__))
from serverlib import SLUICE, Server, servers_env, wait_until

CANARY = "CANARY-" + secrets.token_hex(8)


class Hook(http.server.BaseHTTPRequestHandler):
    bodies = []

    def do_POST(self):
        Hook.bodies.append(self.rfile.read(int(self.headers["Content-Length"])).decode())
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


def secret_options():
    """(type, option) for every secret option of every connector, from `sluice connectors`."""
    listing = json.loads(subprocess.run([SLUICE, "connectors", "--json"], capture_output=True,
                                        text=True, check=True).stdout)
    found = set()
    for connector in listing:
        for side in ("source", "sink"):
            for option in connector.get(side) or []:
                if option["type"] == "secret":
                    found.add((connector["type"], option["name"]))
    return sorted(found)


class SecretsTest(unittest.TestCase):
    def test_a_canary_password_appears_nowhere_but_where_it_is_used(self):
        env = servers_env()
        hook = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Hook)
        threading.Thread(target=hook.serve_forever, daemon=True).start()
        server = Server(env={"SLUICE_CANARY_PASSWORD": CANARY})
        rules = os.path.join(server.tmp, "alerts.yaml")
        with open(rules, "w") as f:
            f.write(f"webhook: http://127.0.0.1:{hook.server_port}/\n"
                    "evaluation_interval_secs: 0.5\n"
                    "rules: [{name: Failed, kind: failure}]\n")
        lineage = os.path.join(server.tmp, "lineage.jsonl")
        server.extra_args = ["--alerts", rules, "--lineage", "file:" + lineage]
        secret_file = os.path.join(server.tmp, "pg_password")
        with open(secret_file, "w") as f:
            f.write(CANARY + "\n")
        server.start()
        try:
            self.exercise(server, env, secret_file)
            wait_until(lambda: len(Hook.bodies) > 0, timeout=60, what="an alert payload")
        finally:
            server.stop()
            hook.shutdown()
            hook.server_close()
        # Everything the server said, wrote or answered.
        self.assertGreater(len(server.responses), 20)
        with open(lineage) as f:
            events = f.read()
        places = {"server log": server.logs(), "lineage events": events,
                  "alert payloads": "\n".join(Hook.bodies),
                  "API answers and metrics": "\n".join(server.responses)}
        for name, text in places.items():
            with self.subTest(place=name):
                self.assertNotIn(CANARY, text)
                self.assertGreater(len(text), 0)
        for folder, _, files in os.walk(server.data_dir):
            for name in files:
                with open(os.path.join(folder, name), "rb") as f:
                    self.assertNotIn(CANARY.encode(), f.read(), os.path.join(folder, name))

    def exercise(self, s, env, secret_file):
        # Every secret option of every connector, stored literally.
        options = secret_options()
        self.assertIn(("postgres", "password"), options)
        self.assertIn(("kafka", "sasl_password"), options)
        for index, (connector, option) in enumerate(options):
            s.post("/api/v1/connections", {"name": f"c{index}_{connector}", "type": connector,
                                           "options": {option: CANARY}})
            shown = s.get(f"/api/v1/connections/c{index}_{connector}")["options"][option]
            self.assertEqual(shown, "**REDACTED**")
        # Connections to the real servers with the canary as their password: they refuse it.
        pg = {"host": env["SLUICE_TEST_PG_HOST"], "port": int(env["SLUICE_TEST_PG_PORT"]),
              "user": env["SLUICE_TEST_PG_USER"], "database": "postgres"}
        mysql = {"host": env["SLUICE_TEST_MYSQL_HOST"], "port": int(env["SLUICE_TEST_MYSQL_PORT"]),
                 "user": env["SLUICE_TEST_MYSQL_USER"], "database": "mysql"}
        connections = {
            "pg_literal": ("postgres", dict(pg, password=CANARY)),
            "pg_env": ("postgres", dict(pg, password="${env:SLUICE_CANARY_PASSWORD}")),
            "pg_file": ("postgres", dict(pg, password="${file:" + secret_file + "}")),
            "mysql_literal": ("mysql", dict(mysql, password=CANARY)),
            "kafka_sasl": ("kafka", {"brokers": env["SLUICE_TEST_KAFKA_SASL_BOOTSTRAP"],
                                     "security_protocol": "sasl_plaintext",
                                     "sasl_mechanism": "PLAIN",
                                     "sasl_user": env["SLUICE_TEST_KAFKA_SASL_USER"],
                                     "sasl_password": CANARY}),
            "redis_literal": ("redis", {"host": env["SLUICE_TEST_REDIS_HOST"],
                                        "port": int(env["SLUICE_TEST_REDIS_PORT"]),
                                        "password": CANARY}),
        }
        for name, (connector, opts) in connections.items():
            s.post("/api/v1/connections", {"name": name, "type": connector, "options": opts})
        # A reference is shown as written: it holds no secret.
        self.assertEqual(s.get("/api/v1/connections/pg_env")["options"]["password"],
                         "${env:SLUICE_CANARY_PASSWORD}")
        sources = {
            "pg_literal": "table: pg_class",
            "pg_env": "table: pg_class",
            "pg_file": "table: pg_class",
            "mysql_literal": "table: user",
            "kafka_sasl": "topic: anything, format: raw, stop_at: end",
            "redis_literal": "keys: '*'",
        }
        failures = {}
        for name, source in sources.items():
            s.create_job(f"name: job_{name}\nsource: {{connection: {name}, {source}}}\n"
                         f"sink: {{type: sqlite, path: '{s.tmp}/{name}.db', table: t}}\n"
                         "retry: {max_attempts: 0}\n")
            run = s.wait_run(s.start_run(f"job_{name}")["id"], timeout=180)
            self.assertEqual(run["state"], "failed", run)
            failures[name] = run["failure"]
            s.get(f"/api/v1/runs/{run['id']}/logs")
        # The servers saw the canary and refused it: it was used, then kept out of the message.
        for name in ("pg_literal", "pg_env", "pg_file"):
            self.assertIn("password", failures[name]["message"].lower(), failures[name])
            self.assertEqual(failures[name]["origin"], "source")
            self.assertFalse(failures[name]["retryable"])
        for path in ("/api/v1/jobs", "/api/v1/connections", "/api/v1/runs?limit=1000",
                     "/api/v1/catalog/streams", "/api/v1/schedules", "/api/v1/alerts",
                     "/api/v1/openapi.json", "/api/v1/whoami"):
            s.get(path)
        for name in ("pg_literal", "pg_env", "pg_file", "mysql_literal", "kafka_sasl"):
            s.get(f"/api/v1/jobs/job_{name}")
            s.get(f"/api/v1/jobs/job_{name}/status")
        s.metrics()
        for asset in ("/", "/app.js", "/style.css"):
            with urllib.request.urlopen(s.url + asset, timeout=30) as response:
                s.responses.append(response.read().decode())


if __name__ == "__main__":
    unittest.main(verbosity=2)
