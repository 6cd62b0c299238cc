# needs: servers
"""The server's store in PostgreSQL (--db postgres://...): connections, jobs and run history
outlive a restart (and are nowhere in the data folder); two servers on one database with the same
schedule record each fire once. The password comes from PGPASSWORD, never from the URL."""
import datetime
import os
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from serverlib import Server, servers_env, wait_until, write_csv

# Both servers seal with the same key: a team's servers share SLUICE_SERVER_KEY.
SERVER_KEY = "5e" * 32


def psql(env, database, sql):
    result = subprocess.run(
        [os.path.join(env["SLUICE_TEST_PG_BIN"], "psql"), "-X", "-q", "-v", "ON_ERROR_STOP=1",
         "-A", "-t", "-h", env["SLUICE_TEST_PG_HOST"], "-p", env["SLUICE_TEST_PG_PORT"],
         "-U", env["SLUICE_TEST_PG_USER"], "-d", database, "-c", sql],
        env=dict(os.environ, PGPASSWORD=env["SLUICE_TEST_PG_PASSWORD"]),
        check=True, capture_output=True, text=True)
    return result.stdout


def fire_seconds(run):
    return int(datetime.datetime.fromisoformat(run["fire_time"].replace("Z", "+00:00"))
               .timestamp())


@unittest.skipUnless(servers_env(), "needs the test servers (PostgreSQL)")
class PostgresStoreTest(unittest.TestCase):
    def setUp(self):
        self.env = servers_env()
        self.database = f"sluice_server_e2e_{os.getpid()}_{time.time_ns() % 10**9}"
        psql(self.env, "postgres", f"CREATE DATABASE {self.database}")
        self.addCleanup(psql, self.env, "postgres",
                        f"DROP DATABASE IF EXISTS {self.database} WITH (FORCE)")
        self.servers = []
        self.addCleanup(self.stop_servers)
        # No password in the URL: libpq reads PGPASSWORD.
        env = self.env
        self.url = (f"postgres://{env['SLUICE_TEST_PG_USER']}@{env['SLUICE_TEST_PG_HOST']}"
                    f":{env['SLUICE_TEST_PG_PORT']}/{self.database}")

    def stop_servers(self):
        for server in self.servers:
            server.stop()

    def server(self, data_dir=None):
        server = Server(data_dir=data_dir, extra_args=["--db", self.url],
                        env={"PGPASSWORD": self.env["SLUICE_TEST_PG_PASSWORD"],
                             "SLUICE_SERVER_KEY": SERVER_KEY})
        self.servers.append(server)
        return server.start()

    def second_server(self, first):
        """Another server on the same database, with a data folder of its own; the admin token
        is the first server's (it is in the database already, so no new one is made)."""
        data_dir = os.path.join(first.tmp, "second-data")
        os.makedirs(data_dir)
        with open(os.path.join(data_dir, "admin.token"), "w") as f:
            f.write(first.token + "\n")
        return self.server(data_dir=data_dir)

    def test_connections_jobs_and_runs_outlive_a_restart(self):
        s = self.server()
        csv = os.path.join(s.tmp, "people.csv")
        write_csv(csv, 500)
        db = os.path.join(s.tmp, "warehouse.db")
        s.post("/api/v1/connections", {"name": "warehouse", "type": "sqlite",
                                       "options": {"path": db}})
        s.create_job(f"name: people\nsource: {{type: file, path: {csv}, format: csv}}\n"
                     "sink: {connection: warehouse, table: people, mode: overwrite}\n")
        run = s.wait_run(s.start_run("people")["id"])
        self.assertEqual(run["state"], "succeeded", run)
        self.assertEqual(run["rows_written"], 500, run)

        # Kept in PostgreSQL, sealed: nothing in the data folder, no plaintext in the columns.
        self.assertFalse(os.path.exists(os.path.join(s.data_dir, "server.db")))
        for column, table in (("sealed_options", "connections"), ("sealed_yaml", "jobs")):
            values = psql(self.env, self.database,
                          f"SELECT {column} FROM sluice_server_{table}").split()
            self.assertEqual(len(values), 1)
            self.assertTrue(values[0].startswith("sv1:"), values)
            self.assertNotIn("people", values[0])
            self.assertNotIn(db, values[0])

        s.stop()
        s.start()
        self.assertEqual(s.get("/api/v1/connections/warehouse")["options"]["path"], db)
        self.assertEqual([j["name"] for j in s.get("/api/v1/jobs")["jobs"]], ["people"])
        runs = s.get("/api/v1/runs")["runs"]
        self.assertEqual([(r["id"], r["state"], r["rows_written"]) for r in runs],
                         [(run["id"], "succeeded", 500)])
        # And it still runs.
        again = s.wait_run(s.start_run("people")["id"])
        self.assertEqual(again["state"], "succeeded", again)
        self.assertGreater(again["id"], run["id"])
        self.assertNotIn(self.env["SLUICE_TEST_PG_PASSWORD"], s.logs())

    def test_two_servers_on_one_database_record_each_fire_once(self):
        a = self.server()
        csv = os.path.join(a.tmp, "one.csv")
        write_csv(csv, 1)
        out = os.path.join(a.tmp, "out")
        os.makedirs(out)
        a.create_job(f"name: ticker\nsource: {{type: file, path: {csv}, format: csv}}\n"
                     f"sink: {{type: sqlite, path: '{out}/ticker.db', table: t, mode: overwrite}}\n"
                     "schedule: {cron: '*/2 * * * * *'}\n")
        # The second server loads the job (with its schedule) from the database at its start.
        b = self.second_server(a)
        self.assertEqual([j["name"] for j in b.get("/api/v1/jobs")["jobs"]], ["ticker"])
        both_up = time.time()

        def schedule_runs(server):
            return [r for r in server.get("/api/v1/runs?limit=10000")["runs"]
                    if r["trigger"] == "schedule"]

        # Three fires or more while both servers run (about 6 s).
        wait_until(lambda: len([r for r in schedule_runs(a) if fire_seconds(r) > both_up]) >= 3,
                   timeout=30, what="three fires with both servers up")
        for server in (a, b):
            fires = [fire_seconds(r) for r in schedule_runs(server)]
            self.assertEqual(len(fires), len(set(fires)), f"a fire recorded twice: {sorted(fires)}")
            self.assertTrue(all(f % 2 == 0 for f in fires), fires)
        self.assertEqual(sorted(r["id"] for r in schedule_runs(a)),
                         sorted(r["id"] for r in schedule_runs(b)))
        # The same from the database itself.
        self.assertEqual(psql(self.env, self.database,
                              "SELECT fire FROM sluice_server_runs WHERE trigger = 'schedule' "
                              "GROUP BY fire HAVING count(*) > 1"), "")


if __name__ == "__main__":
    unittest.main()
