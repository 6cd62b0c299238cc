"""OpenLineage: each run sends START and COMPLETE (or FAIL, or ABORT for a stopped run) with the
datasets it read and wrote, their schemas and row counts; every event validates against the
OpenLineage JSON schema and its facets' schemas (tests/lineage/validate_events.py)."""
import json
import os
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from serverlib import Server, wait_until, write_csv

VALIDATOR = os.path.join(os.path.dirname(__file__), "..", "lineage", "validate_events.py")


class LineageTest(unittest.TestCase):
    def test_runs_send_valid_openlineage_events(self):
        server = Server()
        events_path = os.path.join(server.tmp, "events.jsonl")
        server.extra_args = ["--lineage", "file:" + events_path]
        with server as s:
            csv = os.path.join(s.tmp, "orders.csv")
            write_csv(csv, 321)
            db = os.path.join(s.tmp, "w.db")
            s.create_job(f"name: orders\nsource: {{type: file, path: {csv}, format: csv}}\n"
                         f"sink: {{type: sqlite, path: '{db}', table: orders}}\n")
            s.create_job(f"name: broken\nsource: {{type: file, path: {csv}.missing, format: csv}}\n"
                         f"sink: {{type: sqlite, path: '{db}', table: broken}}\n")
            ok = s.wait_run(s.start_run("orders")["id"])
            failed = s.wait_run(s.start_run("broken")["id"])
            self.assertEqual((ok["state"], failed["state"]), ("succeeded", "failed"))

            def events():
                if not os.path.exists(events_path):
                    return None
                with open(events_path) as f:
                    lines = [json.loads(line) for line in f if line.strip()]
                return lines if len(lines) >= 4 else None
            sent = wait_until(events, timeout=60, what="four lineage events")
        by_job = {}
        for event in sent:
            by_job.setdefault(event["job"]["name"], []).append(event)
        self.assertEqual([e["eventType"] for e in by_job["orders"]], ["START", "COMPLETE"])
        self.assertEqual([e["eventType"] for e in by_job["broken"]], ["START", "FAIL"])
        start, complete = by_job["orders"]
        self.assertEqual(start["run"]["runId"], complete["run"]["runId"])
        self.assertNotEqual(start["run"]["runId"], by_job["broken"][0]["run"]["runId"])
        self.assertEqual(complete["job"]["namespace"], "sluice/default")
        [output] = complete["outputs"]
        self.assertEqual(output["outputFacets"]["outputStatistics"]["rowCount"], 321)
        self.assertEqual([f["name"] for f in output["facets"]["schema"]["fields"]], ["id", "name"])
        [source] = complete["inputs"]
        self.assertEqual(source["namespace"], "file")
        self.assertEqual(source["inputFacets"]["dataQualityMetrics"]["rowCount"], 321)
        fail = by_job["broken"][1]
        self.assertIn("orders.csv.missing", fail["run"]["facets"]["errorMessage"]["message"])
        # The independent check against the official schemas.
        python = os.environ.get("SLUICE_VENV_PYTHON", "python3")
        checked = subprocess.run([python, VALIDATOR, events_path], capture_output=True, text=True)
        self.assertEqual(checked.returncode, 0, checked.stdout + checked.stderr)
        self.assertIn("ok: 4 events", checked.stdout)


if __name__ == "__main__":
    unittest.main(verbosity=2)
