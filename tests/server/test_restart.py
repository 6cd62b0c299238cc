"""A kill -9 of the server leaves no run in a non-terminal state: on restart every run it left
running resumes from its job's last checkpoint (the rows land exactly once), and queued runs
start; a graceful stop does the same without a crash."""
import os
import signal
import sqlite3
import sys
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from serverlib import Server, wait_until

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

    def test_a_graceful_stop_leaves_runs_to_resume_at_the_next_start(self):
        # The run freezes (with the whole server) at its 5th batch; SIGTERM lands then.
        server = Server(env={"SLUICE_FAILPOINTS": "runtime.reader.batch=pause@5"})
        server.start()
        try:
            db = os.path.join(server.tmp, "out.db")
            server.create_job(JOB.format(name="stopped", db=db))
            run = server.start_run("stopped")
            pid = server.process.pid
            wait_until(lambda: open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()[0]
                       == "T", what="the server pausing at the failpoint")
            os.kill(pid, signal.SIGTERM)
            os.kill(pid, signal.SIGUSR2)  # the release is meant (core/failpoint.h)
            os.kill(pid, signal.SIGCONT)
            server.process.wait(timeout=120)
            self.assertEqual(server.process.returncode, 0, server.logs())
            server.process = None
            server.env.pop("SLUICE_FAILPOINTS")
            server.start()
            done = server.wait_run(run["id"], timeout=300)
            self.assertEqual(done["state"], "succeeded", done)
            self.assertTrue(done["resumed"])
            with sqlite3.connect(db) as conn:
                self.assertEqual(conn.execute("select count(*), count(distinct id) from rows")
                                 .fetchone(), (60000, 60000))
        finally:
            server.stop()


if __name__ == "__main__":
    unittest.main(verbosity=2)
