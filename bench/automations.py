"""Automations end to end: N events (default 100,000) posted through POST /events against 50 active
automations (10 event types, 5 automations each: mixed conditions, frequency limits, zero and
2-minute delays, one or two actions), on SQLite and PostgreSQL with one and two cohort processes.

Reports events per second from the first POST until every action is done, the latency from an
event's arrival to its zero-delay action (p50 / p99, from the database's own timestamps), peak
memory per process, and the proof: runs per event as the rules predict (nothing lost), one
notification per done action (nothing ran twice).

    cargo build --release -p cohort-api && .tools/venv/bin/python bench/automations.py [N]
    BENCH_CONFIGS=sqlite:1,postgres:1,postgres:2 (the default) picks backends and process counts;
    COHORT_BINARY another build to measure (default target/release/cohort).
"""
import concurrent.futures
import http.client
import json
import os
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from messages import PASSWORD, PG_ADMIN, ROOT, call, start_cohort  # noqa: E402

N = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
PEOPLE = 1000
TYPES = 10
CLIENTS = 24


def rss_kib(pid, field):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def automations(badge):
    """Five per event type. Event payloads carry n (0..99) and plan (gold / silver)."""
    out = []
    for t in range(TYPES):
        trigger = f"custom.t{t}"
        out += [
            # Always, at once: one notification.
            {"name": f"t{t}-always", "trigger": trigger, "frequency": "every_time",
             "actions": [{"type": "send_notification", "title": "always", "body": "x"}]},
            # Half the events (n < 50), at once, two actions.
            {"name": f"t{t}-half", "trigger": trigger, "frequency": "every_time",
             "conditions": [{"field": "event.n", "operator": "less_than", "value": 50}],
             "actions": [{"type": "send_notification", "title": "half", "body": "x"},
                         {"type": "award_badge", "badge_id": badge}]},
            # Gold events, once per person.
            {"name": f"t{t}-gold-once", "trigger": trigger, "frequency": "once_per_contact",
             "conditions": [{"field": "event.plan", "operator": "is", "value": "gold"}],
             "actions": [{"type": "send_notification", "title": "gold", "body": "x"}]},
            # At most once a day per person.
            {"name": f"t{t}-daily", "trigger": trigger, "frequency": "once_per_contact_per_24h",
             "actions": [{"type": "send_notification", "title": "daily", "body": "x"}]},
            # Silver events with n >= 90, two minutes later (the benchmark brings these forward
            # once the rest is done).
            {"name": f"t{t}-late", "trigger": trigger, "frequency": "every_time",
             "conditions": [{"field": "event.plan", "operator": "is_not", "value": "gold"},
                            {"field": "event.n", "operator": "greater_than", "value": 89}],
             "actions": [{"type": "send_notification", "title": "late", "body": "x",
                          "delay": {"amount": 2, "unit": "minutes"}}]},
        ]
    return out


def event(i):
    return {"event_type": f"custom.t{i % TYPES}", "idempotency_key": f"e{i}",
            "person_id": None, "payload": {"n": i % 100, "plan": "gold" if i % 7 == 0 else "silver"}}


def expected(people):
    """Runs and done actions the rules predict for events 0..N-1."""
    runs = N * 5
    actions = 0
    gold_once, daily = set(), set()
    for i in range(N):
        t, n, gold, person = i % TYPES, i % 100, i % 7 == 0, people[i % PEOPLE]
        actions += 1  # always
        if n < 50:
            actions += 2
        if gold and (t, person) not in gold_once:
            gold_once.add((t, person))
            actions += 1
        if (t, person) not in daily:
            daily.add((t, person))
            actions += 1
        if not gold and n > 89:
            actions += 1
    return runs, actions


class Poster(threading.Thread):
    def __init__(self, base, token, indices, people):
        super().__init__()
        self.url = urllib.parse.urlparse(base)
        self.token, self.indices, self.people = token, indices, people

    def run(self):
        conn = http.client.HTTPConnection(self.url.hostname, self.url.port)
        headers = {"content-type": "application/json", "authorization": "Bearer " + self.token}
        for i in self.indices:
            body = event(i)
            body["person_id"] = self.people[i % PEOPLE]
            conn.request("POST", "/api/v1/events", json.dumps(body), headers)
            r = conn.getresponse()
            r.read()
            assert r.status == 201, r.status


def query(database_url, data_dir, sql):
    if database_url.startswith("sqlite"):
        with sqlite3.connect(os.path.join(data_dir, "bench.db")) as db:
            return db.execute(sql).fetchall()
    out = subprocess.run(["psql", database_url, "-Atc", sql], check=True, capture_output=True, text=True).stdout
    return [tuple(line.split("|")) for line in out.strip().splitlines()]


def run(label, database_url, processes, binary, data_dir):
    env = dict(os.environ, DATABASE_URL=database_url, COHORT_BIND="127.0.0.1:0", COHORT_DATA_DIR=data_dir,
               COHORT_ADMIN_PASSWORD=PASSWORD, COHORT_DEMO_DATA="false", COHORT_LOG=os.environ.get("COHORT_LOG", "error"),
               COHORT_JWT_SECRET="XnlSUwhUPQ7_dGS8TMBLwG6r_tlJa85BHfu0YxR3", COHORT_PERSON_LIMIT="1000000")
    servers = [start_cohort(binary, env, stderr=None)]
    for _ in range(processes - 1):
        servers.append(start_cohort(binary, env, stderr=None))
    base = servers[0][1]
    try:
        token = call(base, "POST", "/api/v1/auth/login",
                     body={"email": "admin@example.org", "password": PASSWORD})["access_token"]
        with concurrent.futures.ThreadPoolExecutor(16) as pool:
            people = list(pool.map(lambda i: call(base, "POST", "/api/v1/people", token,
                                                  {"email": f"p{i}@bench.test", "name": f"Person {i}"})["id"],
                                   range(PEOPLE)))
        badge = call(base, "POST", "/api/v1/badges", token, {"name": "Bench"})["id"]
        ids = []
        for a in automations(badge):
            a["active"] = True
            ids.append(call(base, "POST", "/api/v1/automations", token, a)["id"])
        want_runs, want_actions = expected(people)

        started = time.time()
        posters = [Poster(servers[c % len(servers)][1], token, range(c, N, CLIENTS), people) for c in range(CLIENTS)]
        for p in posters:
            p.start()
        for p in posters:
            p.join()
        posted = time.time() - started
        # Delayed actions are due 2 minutes after their event; move them to now once everything
        # else is done, so the run measures throughput rather than the delay.
        while True:
            done = int(query(database_url, data_dir,
                             "SELECT count(*) FROM automation_run_actions WHERE state = 'done'")[0][0])
            pending = int(query(database_url, data_dir,
                                "SELECT count(*) FROM automation_run_actions WHERE state IN ('scheduled', 'waiting') "
                                "AND (due_at IS NULL OR due_at <= CURRENT_TIMESTAMP)")[0][0])
            runs = int(query(database_url, data_dir, "SELECT count(*) FROM automation_runs")[0][0])
            if runs >= want_runs and pending == 0:
                query(database_url, data_dir,
                      "UPDATE jobs SET run_at = '2000-01-01 00:00:00' WHERE kind = 'automation.action' AND status = 'queued'")
            if done >= want_actions:
                break
            time.sleep(1)
        elapsed = time.time() - started
        peaks = [rss_kib(p.pid, "VmHWM") for p, _ in servers]
        # Latency: event stored → its zero-delay action done, for the "always" automations.
        if database_url.startswith("sqlite"):
            latency_sql = ("SELECT (julianday(a.done_at) - julianday(e.created_at)) * 86400000 FROM automation_run_actions a "
                           "JOIN automation_runs r ON r.id = a.run_id JOIN events e ON e.id = r.event_id "
                           "JOIN automations m ON m.id = r.automation_id WHERE m.name LIKE '%-always' ORDER BY 1")
        else:
            latency_sql = ("SELECT extract(epoch FROM a.done_at - e.created_at) * 1000 FROM automation_run_actions a "
                           "JOIN automation_runs r ON r.id = a.run_id JOIN events e ON e.id = r.event_id "
                           "JOIN automations m ON m.id = r.automation_id WHERE m.name LIKE '%-always' ORDER BY 1")
        latencies = [float(x[0]) for x in query(database_url, data_dir, latency_sql)]
        p50 = latencies[len(latencies) // 2]
        p99 = latencies[int(len(latencies) * 0.99)]
        runs = int(query(database_url, data_dir, "SELECT count(*) FROM automation_runs")[0][0])
        notes = int(query(database_url, data_dir, "SELECT count(*) FROM notifications WHERE kind = 'automation'")[0][0])
        badges = int(query(database_url, data_dir, "SELECT count(*) FROM person_badges")[0][0])
        done = int(query(database_url, data_dir,
                         "SELECT count(*) FROM automation_run_actions WHERE state = 'done'")[0][0])
        twice = int(query(database_url, data_dir,
                          "SELECT count(*) FROM (SELECT run_id, position FROM automation_run_actions "
                          "GROUP BY run_id, position HAVING count(*) > 1) x")[0][0])
        badge_actions = int(query(database_url, data_dir,
                                  "SELECT count(*) FROM automation_run_actions WHERE state = 'done' AND action LIKE '%award_badge%'")[0][0])
        ok = runs == want_runs and done == want_actions and notes == done - badge_actions and twice == 0
        print(f"| {label} | {processes} | {N} | {posted:.0f} s | {elapsed:.0f} s | {N / elapsed:.0f} ev/s "
              f"| {p50:.0f} ms / {p99:.0f} ms | {' + '.join(f'{p / 1024:.0f}' for p in peaks)} MiB "
              f"| {runs}/{want_runs} runs, {done}/{want_actions} actions, {notes} notifications + {badges} badges, "
              f"{'ok' if ok else 'MISMATCH'} |")
        sys.stdout.flush()
        assert ok, "something was lost or ran twice"
    finally:
        for proc, _ in servers:
            proc.terminate()
            proc.wait()


def main():
    binary = os.environ.get("COHORT_BINARY", os.path.join(ROOT, "target/release/cohort"))
    print("| backend | processes | events | posting | all actions done | throughput | zero-delay latency p50 / p99 "
          "| peak RSS | proof |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |")
    for config in os.environ.get("BENCH_CONFIGS", "sqlite:1,postgres:1,postgres:2").split(","):
        backend, processes = config.split(":")
        if backend == "sqlite":
            data = tempfile.mkdtemp()
            run("SQLite", f"sqlite://{data}/bench.db", 1, binary, data)
            continue
        name = f"cohort_autobench_{os.getpid()}_{processes}"
        subprocess.run(["psql", PG_ADMIN, "-qc", f"CREATE DATABASE {name}"], check=True)
        try:
            run("PostgreSQL", PG_ADMIN.rsplit("/", 1)[0] + "/" + name, int(processes), binary, tempfile.mkdtemp())
        finally:
            subprocess.run(["psql", PG_ADMIN, "-qc", f"DROP DATABASE {name} WITH (FORCE)"], check=True)


if __name__ == "__main__":
    main()
