"""`sluice apply DIR`: the server's jobs become the folder's, the difference shown first; a
second apply changes nothing; a folder with one bad job changes nothing at all."""
import os
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from serverlib import SLUICE, Server, write_csv


def job(name, csv, db, extra=""):
    return (f"name: {name}\nsource: {{type: file, path: {csv}, format: csv}}\n"
            f"sink: {{type: sqlite, path: '{db}', table: {name}}}\n{extra}")


class ApplyTest(unittest.TestCase):
    def apply(self, server, folder, *args):
        token_file = os.path.join(server.data_dir, "admin.token")
        return subprocess.run([SLUICE, "apply", folder, "--server", server.url, "--token-file",
                               token_file, *args], capture_output=True, text=True)

    def test_apply_makes_the_servers_jobs_equal_the_folder(self):
        with Server() as s:
            csv = os.path.join(s.tmp, "in.csv")
            write_csv(csv, 10)
            db = os.path.join(s.tmp, "w.db")
            folder = os.path.join(s.tmp, "jobs")
            os.makedirs(folder)
            s.create_job(job("stale", csv, db))  # on the server, not in the folder
            files = {
                "load.yaml": job("load", csv, db, "schedule: {cron: '0 3 * * *'}\n"),
                # runs after `load`, which does not exist on the server yet
                "report.yml": job("report", csv, db, "schedule: {after: [load]}\n"),
            }
            for name, text in files.items():
                with open(os.path.join(folder, name), "w") as f:
                    f.write(text)
            with open(os.path.join(folder, "README.md"), "w") as f:
                f.write("not a job\n")

            dry = self.apply(s, folder, "--dry-run")
            self.assertEqual(dry.returncode, 0, dry.stderr)
            self.assertIn("+ job load (new)", dry.stdout)
            self.assertIn("+ job report (new)", dry.stdout)
            self.assertIn("- job stale (not in", dry.stdout)
            self.assertIn("2 to create, 0 to change, 1 to delete, 0 unchanged", dry.stdout)
            self.assertEqual(sorted(j["name"] for j in s.get("/api/v1/jobs")["jobs"]), ["stale"])

            first = self.apply(s, folder)
            self.assertEqual(first.returncode, 0, first.stdout + first.stderr)
            self.assertEqual(sorted(j["name"] for j in s.get("/api/v1/jobs")["jobs"]),
                             ["load", "report"])
            self.assertEqual(s.get("/api/v1/jobs/report")["schedule"]["after"], ["load"])
            self.assertEqual(s.get("/api/v1/jobs/load")["yaml"], files["load.yaml"])

            again = self.apply(s, folder)
            self.assertEqual(again.returncode, 0, again.stderr)
            self.assertEqual(again.stdout.strip(),
                             "0 to create, 0 to change, 0 to delete, 2 unchanged")

            # A change shows as a line diff.
            with open(os.path.join(folder, "load.yaml"), "w") as f:
                f.write(job("load", csv, db, "schedule: {cron: '0 4 * * *'}\n"))
            changed = self.apply(s, folder)
            self.assertEqual(changed.returncode, 0, changed.stderr)
            self.assertIn("~ job load", changed.stdout)
            self.assertIn("    - schedule: {cron: '0 3 * * *'}", changed.stdout)
            self.assertIn("    + schedule: {cron: '0 4 * * *'}", changed.stdout)
            self.assertIn("0 4 * * *", s.get("/api/v1/jobs/load")["yaml"])

            # One bad job: every job is checked first, and nothing changes.
            with open(os.path.join(folder, "load.yaml"), "w") as f:
                f.write(job("load", csv, db, "schedule: {cron: '0 5 * * *'}\n"))
            with open(os.path.join(folder, "bad.yaml"), "w") as f:
                f.write(job("bad", csv, db, "paralelism: 2\n"))
            refused = self.apply(s, folder)
            self.assertEqual(refused.returncode, 2, refused.stdout + refused.stderr)
            self.assertIn("job 'bad'", refused.stderr)
            self.assertIn("unknown key 'paralelism'", refused.stderr)
            self.assertIn("nothing changed", refused.stderr)
            self.assertIn("0 4 * * *", s.get("/api/v1/jobs/load")["yaml"])
            self.assertEqual(sorted(j["name"] for j in s.get("/api/v1/jobs")["jobs"]),
                             ["load", "report"])

            # A malformed file names its line and column; no token is an error too.
            with open(os.path.join(folder, "bad.yaml"), "w") as f:
                f.write("name: bad\nsource: [1, 2\n")
            malformed = self.apply(s, folder)
            self.assertEqual(malformed.returncode, 2)
            self.assertIn("bad.yaml:3:1: invalid YAML", malformed.stderr)
            no_token = subprocess.run([SLUICE, "apply", folder, "--server", s.url],
                                      capture_output=True, text=True,
                                      env={k: v for k, v in os.environ.items()
                                           if k != "SLUICE_TOKEN"})
            self.assertEqual(no_token.returncode, 2)
            self.assertIn("SLUICE_TOKEN", no_token.stderr)


if __name__ == "__main__":
    unittest.main(verbosity=2)
