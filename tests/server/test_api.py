# needs: servers
"""The REST API: authentication and teams, connections and jobs, runs with their figures and
failure reasons, stop and resume, quotas, and bad input answered with a 4xx that says what to
fix and changes nothing."""
import json
import os
import sqlite3
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from serverlib import (Server, kafka_produce, kafka_topic, metric_value, servers_env, wait_until,
                       write_csv)

CSV_JOB = """name: {name}
source: {{type: file, path: {csv}, format: csv}}
sink: {{connection: warehouse, table: {table}, mode: overwrite}}
"""


class ApiTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = Server().start()
        cls.tmp = cls.server.tmp
        cls.csv = os.path.join(cls.tmp, "people.csv")
        write_csv(cls.csv, 2500)
        cls.db = os.path.join(cls.tmp, "warehouse.db")
        cls.server.post("/api/v1/connections",
                        {"name": "warehouse", "type": "sqlite", "options": {"path": cls.db}})

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()

    # ----- authentication and teams ----------------------------------------------------------
    def test_requests_without_a_known_token_are_refused(self):
        s = self.server
        self.assertIn("Authorization: Bearer", s.error("GET", "/api/v1/jobs", status=401, token=""))
        self.assertIn("not known", s.error("GET", "/api/v1/jobs", status=401, token="slc_nope"))
        # The health check and the OpenAPI document are open.
        self.assertEqual(s.get("/api/v1/health", token="")["status"], "ok")

    def test_teams_see_only_their_own_and_need_admin_for_teams(self):
        s = self.server
        s.put("/api/v1/teams/analytics", {"max_concurrent_runs": 2})
        token = s.post("/api/v1/tokens", {"name": "analyst", "team": "analytics"})["token"]
        self.assertEqual(s.get("/api/v1/whoami", token=token),
                         {"token": "analyst", "team": "analytics", "admin": False})
        # Another team's records are invisible, and its name cannot be borrowed.
        self.assertEqual(s.get("/api/v1/connections", token=token)["connections"], [])
        self.assertIn("cannot act for team 'default'",
                      s.error("GET", "/api/v1/jobs?team=default", status=403, token=token))
        self.assertIn("needs an admin token",
                      s.error("GET", "/api/v1/teams", status=403, token=token))
        self.assertIn("needs an admin token",
                      s.error("POST", "/api/v1/tokens", {"name": "x", "team": "analytics"},
                              status=403, token=token))
        # The same name in two teams is two records.
        s.post("/api/v1/connections", {"name": "warehouse", "type": "sqlite",
                                       "options": {"path": os.path.join(self.tmp, "a.db")}},
               token=token)
        self.assertEqual(s.get("/api/v1/connections/warehouse", token=token)["options"]["path"],
                         os.path.join(self.tmp, "a.db"))
        self.assertEqual(s.get("/api/v1/connections/warehouse")["options"]["path"], self.db)
        # The admin acts for a team with ?team=.
        self.assertEqual(len(s.get("/api/v1/connections?team=analytics")["connections"]), 1)
        self.assertIn("no team named 'nowhere'",
                      s.error("POST", "/api/v1/tokens", {"name": "t", "team": "nowhere"},
                              status=404))

    # ----- bad input -------------------------------------------------------------------------
    def test_bad_input_is_a_4xx_that_says_what_to_fix_and_changes_nothing(self):
        s = self.server
        before_jobs = s.get("/api/v1/jobs")["jobs"]
        before_connections = s.get("/api/v1/connections")["connections"]
        cases = [
            ("POST", "/api/v1/connections", '{"name": "x", "type": ', 400, "malformed JSON at byte"),
            ("POST", "/api/v1/connections", {"name": "x", "type": "sqlite", "opts": {}}, 400,
             "unknown field 'opts' in a connection (allowed: name, type, options)"),
            ("POST", "/api/v1/connections", {"name": "x", "type": "oracle"}, 400,
             "unknown connector type 'oracle'"),
            ("POST", "/api/v1/connections", {"name": "x", "type": "sqlite",
                                             "options": {"pathh": "/tmp/x"}}, 400,
             "unknown option 'pathh' for a sqlite connection"),
            ("POST", "/api/v1/connections", {"name": "bad name!", "type": "sqlite"}, 400,
             "connection name 'bad name!' is not allowed"),
            ("POST", "/api/v1/connections", {"name": "warehouse", "type": "sqlite"}, 409,
             "a connection named 'warehouse' exists already"),
            ("POST", "/api/v1/jobs", {"yml": "x"}, 400, "unknown field 'yml' in a job"),
            ("GET", "/api/v1/runs?limit=zero", None, 400, "'limit' must be a whole number"),
            ("GET", "/api/v1/runs/abc", None, 400, "'abc' is not a run id"),
            ("GET", "/api/v1/runs/99999", None, 404, "no run 99999"),
            ("GET", "/api/v1/jobs/nothing", None, 404, "no job named 'nothing'"),
            ("POST", "/api/v1/jobs/nothing/runs", None, 404, "no job named 'nothing'"),
            ("DELETE", "/api/v1/connections/nothing", None, 404, "no connection named 'nothing'"),
            ("GET", "/api/v1/nothing", None, 404, "no route GET /api/v1/nothing"),
            ("PUT", "/api/v1/teams/t1", {"max_concurrent_runs": -1}, 400,
             "'max_concurrent_runs' must be an integer"),
        ]
        for method, path, body, status, expected in cases:
            with self.subTest(path=path, expected=expected):
                self.assertIn(expected, s.error(method, path, body, status=status))
        yaml_cases = [
            ("name: a\nsource: [1, 2\n", "job:3:1: invalid YAML"),
            ("name: a\nsource: {type: file, path: x, format: csv}\nsink: {connection: warehouse, "
             "table: t}\nparalelism: 2\n", "job:4:1: unknown key 'paralelism' in job"),
            ("name: a\nsource: {connection: missing_db}\nsink: {connection: warehouse, table: t}\n",
             "job:2:22: no connection named 'missing_db'"),
            ("name: a\nsource: {type: file, path: x, format: cvs}\n"
             "sink: {connection: warehouse, table: t}\n", "format"),
            ("name: a\nsource: {type: file, path: x, format: csv}\nsink: {connection: warehouse, "
             "table: t}\nschedule: {cron: '61 * * * *'}\n", "minute 61 is out of range 0-59"),
            ("name: a\nsource: {type: file, path: x, format: csv}\nsink: {connection: warehouse, "
             "table: t}\nschedule: {cron: '@daily', time_zone: Mars/Base}\n",
             "unknown time zone 'Mars/Base'"),
            ("name: a\nsource: {type: file, path: x, format: csv}\nsink: {connection: warehouse, "
             "table: t}\nschedule: {after: [ghost]}\n",
             "schedule.after names job 'ghost', which does not exist"),
            ("name: 'a b'\nsource: {type: file, path: x, format: csv}\nsink: {connection: "
             "warehouse, table: t}\n", "job name 'a b' is not allowed"),
        ]
        for text, expected in yaml_cases:
            with self.subTest(yaml=text):
                message = s.error("POST", "/api/v1/jobs", text, content_type="application/yaml")
                self.assertIn(expected, message)
        # A job named otherwise than its path.
        self.assertIn("the YAML names job 'x' but the path 'y'",
                      s.error("PUT", "/api/v1/jobs/y", CSV_JOB.format(name="x", csv=self.csv,
                                                                      table="t"),
                              content_type="application/yaml"))
        # A duplicate job.
        s.create_job(CSV_JOB.format(name="dup", csv=self.csv, table="dup"))
        self.assertIn("a job named 'dup' exists already",
                      s.error("POST", "/api/v1/jobs", CSV_JOB.format(name="dup", csv=self.csv,
                                                                     table="dup"),
                              status=409, content_type="application/yaml"))
        # A connection a job uses cannot go away under it.
        self.assertIn("job 'dup' uses connection 'warehouse'",
                      s.error("DELETE", "/api/v1/connections/warehouse", status=409))
        s.delete("/api/v1/jobs/dup")
        # Nothing half-created.
        self.assertEqual([j["name"] for j in s.get("/api/v1/jobs")["jobs"]],
                         [j["name"] for j in before_jobs])
        self.assertEqual(s.get("/api/v1/connections")["connections"], before_connections)

    # ----- runs ------------------------------------------------------------------------------
    def test_a_run_records_per_table_figures_and_a_failure_its_reason(self):
        s = self.server
        s.create_job(CSV_JOB.format(name="people", csv=self.csv, table="people"))
        run = s.start_run("people")
        self.assertEqual(run["state"], "queued")
        self.assertEqual(run["trigger"], "api")
        done = s.wait_run(run["id"])
        self.assertEqual(done["state"], "succeeded", done)
        self.assertEqual(done["rows_written"], 2500)
        self.assertEqual(done["tables"][0]["table"], "people")
        self.assertEqual(done["tables"][0]["rows_read"], 2500)
        self.assertEqual(done["tables"][0]["rows_written"], 2500)
        self.assertGreater(done["tables"][0]["bytes_written"], 0)
        self.assertIsNotNone(done["first_row_at"])
        self.assertGreaterEqual(done["duration_seconds"], 0)
        with sqlite3.connect(self.db) as db:
            self.assertEqual(db.execute("select count(*), count(distinct id) from people")
                             .fetchone(), (2500, 2500))
            self.assertEqual(db.execute("select name from people where id = 7").fetchone()[0],
                             "name-7-é")
        status = s.get("/api/v1/jobs/people/status")
        self.assertEqual(status["state"], "succeeded")
        self.assertEqual(status["tables"][0]["rows_written"], 2500)
        logs = s.get(f"/api/v1/runs/{run['id']}/logs")["lines"]
        self.assertTrue(any("file -> sqlite" in line["message"] for line in logs), logs)
        # A fresh run (re-sync) copies everything again, exactly once in the target.
        again = s.wait_run(s.start_run("people", fresh=True)["id"])
        self.assertEqual(again["state"], "succeeded")
        self.assertTrue(again["fresh"])
        with sqlite3.connect(self.db) as db:
            self.assertEqual(db.execute("select count(*) from people").fetchone()[0], 2500)

        # A source that is not there: the failure names its origin and is not retryable.
        s.create_job(CSV_JOB.format(name="missing", csv=os.path.join(self.tmp, "none.csv"),
                                    table="missing"))
        failed = s.wait_run(s.start_run("missing")["id"])
        self.assertEqual(failed["state"], "failed")
        self.assertEqual(failed["failure"]["origin"], "source")
        self.assertIn("none.csv", failed["failure"]["message"])
        self.assertFalse(failed["failure"]["retryable"])
        # A sink that refuses: the failure is the sink's, with its table.
        os.makedirs(os.path.join(self.tmp, "ro"), exist_ok=True)
        s.post("/api/v1/connections", {"name": "readonly", "type": "sqlite",
                                       "options": {"path": os.path.join(self.tmp, "ro", "x.db")}})
        with sqlite3.connect(os.path.join(self.tmp, "ro", "x.db")) as db:
            db.execute("create table clash (id integer primary key, name text not null, "
                       "other text not null)")
        s.create_job(f"name: clash\nsource: {{type: file, path: {self.csv}, format: csv}}\n"
                     f"sink: {{connection: readonly, table: clash, mode: append}}\n")
        clash = s.wait_run(s.start_run("clash")["id"])
        self.assertEqual(clash["state"], "failed", clash)
        self.assertEqual(clash["failure"]["origin"], "sink", clash)
        # Metrics: counters by job and table, no run ids.
        text = s.metrics()
        self.assertEqual(metric_value(text, "sluice_table_rows_written_total", job_name="people",
                                      table="people"), 5000)
        self.assertEqual(metric_value(text, "sluice_job_runs_total", job_name="missing",
                                      state="failed"), 1)
        self.assertNotIn("run=", text)
        runs = s.get("/api/v1/runs?job=people")["runs"]
        self.assertEqual([r["id"] for r in runs], [again["id"], run["id"]])
        self.assertEqual(s.get("/api/v1/runs?state=failed&limit=1")["runs"][0]["job"], "clash")

    @unittest.skipUnless(servers_env(), "needs the test servers (Kafka)")
    def test_stop_resume_and_team_quotas(self):
        """A stream runs until stopped; a team's quota keeps its next run queued until a slot is
        free; a stopped run resumes from its checkpoint without reading a message twice."""
        s = self.server
        env = servers_env()
        topic = f"server_api_{os.getpid()}_{int(time.time())}"
        kafka_topic(env, topic, 1)
        kafka_produce(env, topic, [json.dumps({"n": i}) for i in range(300)])
        s.put("/api/v1/teams/streams", {"max_concurrent_runs": 1})
        token = s.post("/api/v1/tokens", {"name": "streamer", "team": "streams"})["token"]
        out = os.path.join(self.tmp, "streams")
        s.post("/api/v1/connections", {"name": "bus", "type": "kafka",
                                       "options": {"brokers": env["SLUICE_TEST_KAFKA_BOOTSTRAP"]}},
               token=token)
        for name in ("stream_a", "stream_b"):
            s.post("/api/v1/jobs",
                   f"name: {name}\nsource: {{connection: bus, topic: {topic}, format: raw, "
                   f"start_from: earliest}}\n"
                   f"sink: {{type: sqlite, path: '{out}/{name}.db', table: messages}}\n"
                   "checkpoint: {interval_secs: 0.2}\n",
                   token=token, content_type="application/yaml")

        def run(run_id):
            return s.get(f"/api/v1/runs/{run_id}", token=token)

        def wait_state(run_id, state):
            return wait_until(lambda: (lambda r: r if r["state"] == state else None)(run(run_id)),
                              what=f"run {run_id} becoming {state}")

        a = s.post("/api/v1/jobs/stream_a/runs", {}, token=token)
        wait_until(lambda: run(a["id"])["rows_written"] >= 300, what="stream_a reading the topic")
        b = s.post("/api/v1/jobs/stream_b/runs", {}, token=token)
        # The quota of 1 holds stream_b back while stream_a runs (the dispatcher wakes on every
        # trigger; 1.5 s is several of its passes, not a speed assumption: b must stay queued
        # whatever happens).
        time.sleep(1.5)
        self.assertEqual(run(b["id"])["state"], "queued")
        self.assertEqual(run(a["id"])["state"], "running")
        self.assertIsNotNone(run(a["id"])["live"])
        s.post(f"/api/v1/runs/{a['id']}/stop", token=token)
        stopped = wait_state(a["id"], "stopped")
        self.assertEqual(stopped["rows_written"], 300)
        # Now b may start.
        wait_state(b["id"], "running")
        self.assertIn("only a stopped or failed run can be resumed",
                      s.error("POST", f"/api/v1/runs/{b['id']}/resume", status=409, token=token))
        s.post(f"/api/v1/runs/{b['id']}/stop", token=token)
        wait_state(b["id"], "stopped")
        # Resume a: it continues after the 300 messages it committed.
        kafka_produce(env, topic, [json.dumps({"n": i}) for i in range(300, 450)])
        resumed = s.post(f"/api/v1/runs/{a['id']}/resume", token=token)
        wait_until(lambda: run(resumed["id"])["rows_written"] >= 150,
                   what="the resumed run reading the new messages")
        s.post(f"/api/v1/runs/{resumed['id']}/stop", token=token)
        last = wait_state(resumed["id"], "stopped")
        self.assertEqual(last["rows_written"], 150)
        with sqlite3.connect(f"{out}/stream_a.db") as db:
            self.assertEqual(db.execute("select count(*), count(distinct value) from messages")
                             .fetchone(), (450, 450))
        self.assertIn("has ended already",
                      s.error("POST", f"/api/v1/runs/{a['id']}/stop", status=409, token=token))

    def test_openapi_document_is_valid_and_lists_every_route(self):
        document = self.server.get("/api/v1/openapi.json", token="")
        python = os.environ.get("SLUICE_VENV_PYTHON")
        if python:
            checked = subprocess.run(
                [python, "-c", "import json,sys\nfrom openapi_spec_validator import validate\n"
                 "validate(json.load(sys.stdin))\nprint('valid')"],
                input=json.dumps(document), text=True, capture_output=True)
            self.assertEqual(checked.stdout.strip(), "valid", checked.stderr)
        paths = document["paths"]
        for path, method in [("/api/v1/jobs", "post"), ("/api/v1/jobs/{job}/runs", "post"),
                             ("/api/v1/runs/{run}/stop", "post"), ("/api/v1/runs/{run}/logs", "get"),
                             ("/api/v1/connections/{connection}/streams", "get"),
                             ("/api/v1/schedules", "get")]:
            self.assertIn(method, paths[path], path)
        self.assertIn("401", paths["/api/v1/jobs"]["get"]["responses"])


if __name__ == "__main__":
    unittest.main(verbosity=2)
