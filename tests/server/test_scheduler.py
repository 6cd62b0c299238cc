"""The scheduler: 1000 schedules due in the same second fire once each; fires missed while the
server was down fire once (coalesced) after a restart and none twice; a kill -9 right after a
fire was recorded neither loses nor repeats it; `after` dependencies; time zones."""
import datetime
import os
import sys
import time
import unittest
import zoneinfo

sys.path.insert(0, os.path.dirname(__file__))
from serverlib import Server, wait_until, write_csv


def job_yaml(name, csv, out_dir, schedule):
    return (f"name: {name}\nsource: {{type: file, path: {csv}, format: csv}}\n"
            f"sink: {{type: sqlite, path: '{out_dir}/{name}.db', table: t, mode: overwrite}}\n"
            f"schedule: {schedule}\n")


def schedule_runs(server, limit=100000):
    runs = server.get(f"/api/v1/runs?limit={min(limit, 10000)}")["runs"]
    return [r for r in runs if r["trigger"] == "schedule"]


def fire_seconds(run):
    return int(datetime.datetime.fromisoformat(run["fire_time"].replace("Z", "+00:00"))
               .timestamp())


class SchedulerTest(unittest.TestCase):
    def setUp(self):
        self.servers = []

    def tearDown(self):
        for server in self.servers:
            server.stop()

    def server(self, **kw):
        server = Server(**kw).start()
        self.servers.append(server)
        return server

    def test_a_thousand_schedules_due_in_one_second_fire_once_each(self):
        s = self.server(extra_args=["--max-parallel-runs", "16"])
        csv = os.path.join(s.tmp, "one.csv")
        write_csv(csv, 1)
        out = os.path.join(s.tmp, "out")
        os.makedirs(out)
        names = [f"every20s_{i:04d}" for i in range(1000)]
        for name in names:
            s.create_job(job_yaml(name, csv, out, "{cron: '*/20 * * * * *'}"))
        created = time.time()
        # The first fire after every job existed: each job fires it exactly once.
        fire = (int(created) // 20 + 1) * 20
        wait_until(lambda: time.time() > fire, timeout=60, what="the fire time")

        def fired():
            runs = [r for r in schedule_runs(s) if fire_seconds(r) == fire]
            return runs if len(runs) >= 1000 else None
        runs = wait_until(fired, timeout=120, what="1000 runs of one fire")
        self.assertEqual(sorted(r["job"] for r in runs), names)
        all_runs = schedule_runs(s)
        pairs = [(r["job"], fire_seconds(r)) for r in all_runs]
        self.assertEqual(len(pairs), len(set(pairs)), "a fire recorded twice")
        lateness = sorted(
            datetime.datetime.fromisoformat(r["queued_at"].replace("Z", "+00:00")).timestamp() -
            fire for r in runs)
        print(f"1000 fires of one second queued between {lateness[0]:.3f} s and "
              f"{lateness[-1]:.3f} s after their time")
        # Every run of that fire ends (a sqlite file each).
        wait_until(lambda: all(r["state"] == "succeeded" for r in schedule_runs(s)
                               if fire_seconds(r) == fire),
                   timeout=600, what="the 1000 runs succeeding")

    def test_restarts_neither_miss_nor_repeat_fires(self):
        s = self.server()
        csv = os.path.join(s.tmp, "one.csv")
        write_csv(csv, 3)
        out = os.path.join(s.tmp, "out")
        os.makedirs(out)
        names = [f"every4s_{i:02d}" for i in range(20)]
        for name in names:
            s.create_job(job_yaml(name, csv, out, "{cron: '*/4 * * * * *'}"))
        wait_until(lambda: {r["job"] for r in schedule_runs(s)} == set(names), timeout=60,
                   what="a first fire of every job")
        s.stop()
        stopped = time.time()
        # Down for more than two periods: those fires are missed while down.
        time.sleep(9)
        s.start()
        restarted = time.time()
        expected_catch_up = int(restarted) // 4 * 4  # the latest fire due at the restart

        def caught_up():
            runs = schedule_runs(s)
            after = [r for r in runs if fire_seconds(r) > stopped]
            return runs if {r["job"] for r in after} == set(names) else None
        runs = wait_until(caught_up, timeout=60, what="every job firing after the restart")
        s.stop()
        for name in names:
            fires = sorted(fire_seconds(r) for r in runs if r["job"] == name)
            self.assertEqual(len(fires), len(set(fires)), f"{name}: a fire recorded twice")
            before = [f for f in fires if f <= stopped]
            after = [f for f in fires if f > stopped]
            # While up, every period fired, none skipped.
            self.assertEqual(before, list(range(before[0], before[-1] + 1, 4)), name)
            # The fires missed while down came as one run, the latest due at the restart (or the
            # fire of the same second, had the restart landed on one).
            self.assertIn(after[0], (expected_catch_up, expected_catch_up + 4), (name, after))
            self.assertGreater(after[0], before[-1] + 4, name)  # some were missed, then caught up
            self.assertEqual(after, list(range(after[0], after[-1] + 1, 4)), name)

    def test_a_kill9_right_after_a_fire_is_recorded_loses_and_repeats_nothing(self):
        s = self.server(env={"SLUICE_FAILPOINTS": "server.scheduler.after_fire=crash"})
        csv = os.path.join(s.tmp, "one.csv")
        write_csv(csv, 5)
        out = os.path.join(s.tmp, "out")
        os.makedirs(out)
        s.create_job(job_yaml("crashes", csv, out, "{cron: '*/2 * * * * *'}"))
        s.process.wait(timeout=60)  # the first fire kills the server, as kill -9 does
        self.assertEqual(s.process.returncode, -9)
        s.process = None
        s.env.pop("SLUICE_FAILPOINTS")
        s.start()
        first = wait_until(lambda: next((r for r in schedule_runs(s)
                                         if r["state"] == "succeeded"), None),
                           timeout=60, what="the recorded fire's run succeeding")
        s.stop()
        # Restarted again: the fire of the crash is still the one run of its time.
        s.start()
        runs = schedule_runs(s)
        self.assertEqual([r["id"] for r in runs if fire_seconds(r) == fire_seconds(first)],
                         [first["id"]])
        fires = [fire_seconds(r) for r in runs]
        self.assertEqual(len(fires), len(set(fires)))

    def test_jobs_run_after_the_jobs_they_depend_on(self):
        s = self.server()
        csv = os.path.join(s.tmp, "one.csv")
        write_csv(csv, 10)
        out = os.path.join(s.tmp, "out")
        os.makedirs(out)
        s.create_job(job_yaml("extract", csv, out, "{cron: '0 0 1 1 *'}"))
        s.create_job(job_yaml("transform", csv, out, "{after: [extract]}"))
        s.create_job(job_yaml("report", csv, out, "{after: [extract, transform]}"))
        # A dependency cycle's first link must exist: a job cannot run after a missing one.
        self.assertIn("schedule.after names job 'ghost'",
                      s.error("POST", "/api/v1/jobs",
                              job_yaml("x", csv, out, "{after: [ghost]}"),
                              content_type="application/yaml"))
        for round_number in (1, 2):
            extract = s.start_run("extract")
            s.wait_run(extract["id"])

            def triggered(name):
                runs = [r for r in s.get(f"/api/v1/runs?job={name}")["runs"]
                        if r["trigger"] == "after"]
                return runs if len(runs) == round_number and runs[0]["state"] == "succeeded" \
                    else None
            transform = wait_until(lambda: triggered("transform"), timeout=60,
                                   what="transform after extract")
            report = wait_until(lambda: triggered("report"), timeout=60,
                                what="report after extract and transform")
            self.assertGreater(transform[0]["id"], extract["id"])
            self.assertGreater(report[0]["id"], transform[0]["id"])
        # A failed upstream starts nothing.
        s.put("/api/v1/jobs/extract", job_yaml("extract", "/nonexistent.csv", out,
                                               "{cron: '0 0 1 1 *'}"),
              content_type="application/yaml")
        failed = s.wait_run(s.start_run("extract")["id"])
        self.assertEqual(failed["state"], "failed")
        s.stop()
        s.start()  # the start-up check of dependencies queues nothing either
        time.sleep(1)
        self.assertEqual(len([r for r in s.get("/api/v1/runs?job=transform")["runs"]]), 2)

    def test_next_fire_follows_the_time_zone(self):
        s = self.server()
        csv = os.path.join(s.tmp, "one.csv")
        write_csv(csv, 1)
        s.create_job(job_yaml("nightly", csv, s.tmp,
                              "{cron: '30 2 * * *', time_zone: America/New_York}"))
        schedules = s.get("/api/v1/schedules")["schedules"]
        self.assertEqual(len(schedules), 1)
        zone = zoneinfo.ZoneInfo("America/New_York")
        now = datetime.datetime.now(zone)
        expected = now.replace(hour=2, minute=30, second=0, microsecond=0)
        if expected <= now:
            expected = (now + datetime.timedelta(days=1)).replace(hour=2, minute=30, second=0,
                                                                  microsecond=0)
        got = datetime.datetime.fromisoformat(schedules[0]["next_fire"].replace("Z", "+00:00"))
        self.assertEqual(got, expected.astimezone(datetime.timezone.utc))
        self.assertEqual(s.get("/api/v1/jobs/nightly")["schedule"]["time_zone"],
                         "America/New_York")


if __name__ == "__main__":
    unittest.main(verbosity=2)
