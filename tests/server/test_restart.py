# needs: servers
"""A kill -9 of the server leaves no run in a non-terminal state: on restart every run it left
running resumes from its job's last checkpoint (the rows land exactly once), and queued runs
start; a graceful stop does the same without a crash."""
import json
import os
import sqlite3
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from serverlib import Server, kafka_produce, kafka_topic, servers_env, wait_until

JOB = """name: {name}
source: {{type: datagen, rows: 60000, split_rows: 10000, columns: {{id: int64, note: string}}}}
sink: {{type: sqlite, path: '{db}', table: rows}}
checkpoint: {{interval_secs: 0}}
batch_rows: 1000
"""


class RestartTest(unittest.TestCase):
    def test_kill9_mid_run_resumes_from_the_checkpoint_on_restart(self):
        server = Server(env={
            # Every batch is followed by a checkpoint, and the server dies (SIGKILL) right after
            # the third commit: rows are committed, more are not.
            "SLUICE_FAILPOINTS": "runtime.reader.batch=checkpoint@1+;"
                                 "runtime.writer.after_commit=crash@3"})
        server.start()
        try:
            db = os.path.join(server.tmp, "out.db")
            server.create_job(JOB.format(name="big", db=db))
            run = server.start_run("big")
            server.process.wait(timeout=120)
            self.assertEqual(server.process.returncode, -9)
            server.process = None
            with sqlite3.connect(db) as conn:
                committed = conn.execute("select count(*) from rows").fetchone()[0]
            self.assertGreater(committed, 0)
            self.assertLess(committed, 60000)
            server.env.pop("SLUICE_FAILPOINTS")
            server.start()
            done = server.wait_run(run["id"], timeout=300)
            self.assertEqual(done["state"], "succeeded", done)
            self.assertTrue(done["resumed"])
            with sqlite3.connect(db) as conn:
                self.assertEqual(conn.execute("select count(*), count(distinct id) from rows")
                                 .fetchone(), (60000, 60000))
            logs = [line["message"] for line in server.get(f"/api/v1/runs/{run['id']}/logs")["lines"]]
            self.assertTrue(any("resumes from the job's last checkpoint" in m for m in logs), logs)
            # No run is left queued or running.
            states = {r["state"] for r in server.get("/api/v1/runs")["runs"]}
            self.assertEqual(states, {"succeeded"})
        finally:
            server.stop()

    @unittest.skipUnless(servers_env(), "needs the test servers (Kafka)")
    def test_a_graceful_stop_leaves_runs_to_resume_at_the_next_start(self):
        """A stream never ends by itself: SIGTERM to the server stops its run at a checkpoint,
        the next start resumes the same run, and no message lands twice."""
        env = servers_env()
        topic = f"server_restart_{os.getpid()}_{int(time.time())}"
        kafka_topic(env, topic, 2)
        kafka_produce(env, topic, [json.dumps({"n": i}) for i in range(200)])
        server = Server()
        server.start()
        try:
            db = os.path.join(server.tmp, "out.db")
            server.create_job(f"name: stream\nsource: {{type: kafka, brokers: "
                              f"'{env['SLUICE_TEST_KAFKA_BOOTSTRAP']}', topic: {topic}, "
                              f"format: raw, start_from: earliest}}\n"
                              f"sink: {{type: sqlite, path: '{db}', table: messages}}\n"
                              "checkpoint: {interval_secs: 0.2}\n")
            run = server.start_run("stream")
            wait_until(lambda: server.get(f"/api/v1/runs/{run['id']}")["rows_written"] >= 200,
                       what="the run reading the topic")
            server.stop()  # SIGTERM: returns once the process ended
            server.start()
            resumed = wait_until(
                lambda: (lambda r: r if r["state"] == "running" else None)(
                    server.get(f"/api/v1/runs/{run['id']}")), what="the run running again")
            self.assertTrue(resumed["resumed"], resumed)
            kafka_produce(env, topic, [json.dumps({"n": i}) for i in range(200, 300)])
            wait_until(lambda: server.get(f"/api/v1/runs/{run['id']}")["rows_written"] >= 300,
                       what="the resumed run reading the new messages")
            server.post(f"/api/v1/runs/{run['id']}/stop")
            done = server.wait_run(run["id"])
            self.assertEqual(done["state"], "stopped")
            # Both attempts count, and the resumed one read only what the first had not
            # committed.
            self.assertEqual(done["rows_written"], 300)
            self.assertEqual(done["tables"][0]["rows_written"], 300)
            with sqlite3.connect(db) as conn:
                self.assertEqual(conn.execute("select count(*), count(distinct value) from "
                                              "messages").fetchone(), (300, 300))
        finally:
            server.stop()


if __name__ == "__main__":
    unittest.main(verbosity=2)
