"""Booking under load, through the API of the release binary, with wrk.

    python3 bench/booking.py sqlite|postgres [SECONDS] [slots-only|bookings-only]   (default 20 s per run)

Set-up (through the API): one generic service ("All available Peer Mentoring": 30 minutes,
15-minute grid, 5-minute buffers both sides, 1 hour notice, 5-week horizon), 200 certified
providers spread over 7 time zones, each free Monday to Friday 09:00-17:00 in their own zone,
with 10 bookings each next week (2,000 bookings), and 64 students.

Runs:
  slots      GET /services/{id}/slots for 4 weeks in London time, 32 connections: latency. The
             server keeps answers until something they depend on changes, so this is the cached
             answer after the first request.
  slots cold The same 4 weeks, each request in another of 400 time zones, round robin: more keys
             than the cache holds, so every answer is computed (one wrk thread, so no two
             connections walk the zones together).
  contested  64 connections POST /bookings, each request one of 100 slots at random: every
             request is a full booking transaction; after the first booking of a slot the rest
             are 409. Afterwards a SQL self-join proves that no provider has overlapping bookings.
  distinct   64 connections POST /bookings, each request a different free slot: bookings made
             per second when they do not collide.

slots-only stops after the slots runs; bookings-only skips them.

Needs wrk (apt-get install -y wrk) and, for postgres, PostgreSQL on 127.0.0.1:5432.
BIN picks the binary (default target/release/cohort; build it with
`cargo build --release -p cohort-api --bin cohort`).
"""
import concurrent.futures
import datetime
import gzip
import http.client
import json
import os
import random
import re
import sqlite3
import subprocess
import sys
import tempfile
import time
import zoneinfo

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TARGET = os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target"))
BIN = os.environ.get("BIN", os.path.join(TARGET, "release", "cohort"))
BACKEND = sys.argv[1] if len(sys.argv) > 1 else "sqlite"
SECONDS = int(sys.argv[2]) if len(sys.argv) > 2 else 20
SLOTS_ONLY = "slots-only" in sys.argv[3:]
BOOKINGS_ONLY = "bookings-only" in sys.argv[3:]
PG = os.environ.get("COHORT_TEST_PG_URL", "postgres://postgres@127.0.0.1:5432")
ZONES = ["America/New_York", "America/Chicago", "America/Los_Angeles", "Europe/London",
         "Europe/Berlin", "Asia/Kolkata", "Australia/Sydney"]
PASSWORD = "bench-password-0123"


def psql(db, sql):
    return subprocess.run(["psql", "-qtA", f"{PG}/{db}", "-c", sql], check=True,
                          capture_output=True, text=True).stdout.strip()


def start_server(data_dir):
    if BACKEND == "postgres":
        db = f"cohort_bench_booking_{os.getpid()}"
        psql("postgres", f"CREATE DATABASE {db}")
        url = f"{PG}/{db}"
    else:
        db, url = None, f"sqlite://{data_dir}/cohort.db"
    env = dict(os.environ, DATABASE_URL=url, COHORT_DATA_DIR=data_dir, COHORT_BIND="127.0.0.1:0",
               COHORT_LOG="warn", COHORT_ADMIN_EMAIL="admin@bench.test",
               COHORT_ADMIN_PASSWORD=PASSWORD, COHORT_DEMO_DATA="false",
               COHORT_JWT_SECRET="XnlSUwhUPQ7_dGS8TMBLwG6r_tlJa85BHfu0YxR3", COHORT_PERSON_LIMIT="1000000",
               COHORT_DB_POOL_SIZE=os.environ.get("COHORT_DB_POOL_SIZE", "16"))
    out = open(os.path.join(data_dir, "out"), "w+")
    proc = subprocess.Popen([BIN], env=env, stdout=out, stderr=subprocess.STDOUT)
    for _ in range(300):
        out.seek(0)
        m = re.search(r"http://127\.0\.0\.1:(\d+)", out.read())
        if m:
            return proc, int(m.group(1)), db
        time.sleep(0.1)
    raise SystemExit("the server did not start")


class Client:
    def __init__(self, port, token=None):
        self.port, self.token = port, token

    def raw(self, path):
        """The body of a GET, as bytes."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        conn.request("GET", path, None, {"authorization": f"Bearer {self.token}"})
        r = conn.getresponse()
        data = r.read()
        conn.close()
        if r.status != 200:
            raise SystemExit(f"GET {path}: {r.status} {data[:200]}")
        return data

    def call(self, method, path, body=None):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        headers = {"content-type": "application/json"}
        if self.token:
            headers["authorization"] = f"Bearer {self.token}"
        conn.request(method, path, json.dumps(body) if body is not None else None, headers)
        r = conn.getresponse()
        data = r.read()
        conn.close()
        return r.status, (json.loads(data) if data else None)

    def ok(self, method, path, body=None):
        status, data = self.call(method, path, body)
        if status >= 300:
            raise SystemExit(f"{method} {path}: {status} {data}")
        return data


def wrk(args, lua=None):
    cmd = ["wrk", "--latency", "-d", f"{SECONDS}s", "--timeout", "10s"] + args
    if lua:
        path = tempfile.mktemp(suffix=".lua")
        with open(path, "w") as f:
            f.write(lua)
        cmd[1:1] = ["-s", path]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    pick = lambda pattern: (re.search(pattern, out) or [None, "?"])[1]
    return {"rps": pick(r"Requests/sec:\s+([\d.]+)"), "p50": pick(r"50%\s+(\S+)"),
            "p99": pick(r"99%\s+(\S+)"), "requests": pick(r"(\d+) requests in"),
            "non2xx": pick(r"Non-2xx or 3xx responses: (\d+)") if "Non-2xx" in out else "0"}


def lua_bodies(token, bodies, pick):
    rows = ",\n".join("[==[" + json.dumps(b) + "]==]" for b in bodies)
    return f"""
wrk.method = "POST"
wrk.headers["content-type"] = "application/json"
wrk.headers["authorization"] = "Bearer {token}"
local bodies = {{
{rows}
}}
local n = 0
request = function()
  n = n + 1
  {pick}
  return wrk.format(nil, "/api/v1/bookings", nil, body)
end
"""


def main():
    data_dir = tempfile.mkdtemp(prefix="cohort-bench-booking-")
    proc, port, pg_db = start_server(data_dir)
    try:
        run(port, data_dir, pg_db, proc.pid)
    finally:
        proc.terminate()
        proc.wait()
        if pg_db and not os.environ.get("KEEP_DB"):
            psql("postgres", f"DROP DATABASE {pg_db}")


def run(port, data_dir, pg_db, pid):
    anon = Client(port)
    token = anon.ok("POST", "/api/v1/auth/login", {"email": "admin@bench.test", "password": PASSWORD})["access_token"]
    api = Client(port, token)
    service = api.ok("POST", "/api/v1/services", {
        "name": "All available Peer Mentoring", "duration_minutes": 30, "interval_minutes": 15,
        "buffer_before_minutes": 5, "buffer_after_minutes": 5, "horizon_days": 35,
        "minimum_notice": {"amount": 1, "unit": "hours"}})["id"]
    weekdays = ["monday", "tuesday", "wednesday", "thursday", "friday"]
    weekly = [{"weekday": d, "start": "09:00", "end": "17:00"} for d in weekdays]

    def provider(i):
        person = api.ok("POST", "/api/v1/people", {"email": f"provider{i}@bench.test", "name": f"Provider {i}",
                                                   "bio": f"Peer mentor number {i}."})["id"]
        api.ok("POST", "/api/v1/providers", {"person_id": person, "service_ids": [service]})
        api.ok("PUT", f"/api/v1/providers/{person}/availability",
               {"time_zone": ZONES[i % len(ZONES)], "weekly": weekly})
        return person

    def student(i):
        return api.ok("POST", "/api/v1/people", {"email": f"student{i}@bench.test", "name": f"Student {i}"})["id"]

    started = time.time()
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        providers = list(pool.map(provider, range(200)))
        students = list(pool.map(student, range(64)))
    today = datetime.date.today()
    next_monday = today + datetime.timedelta(days=7 - today.weekday())
    week = api.ok("GET", f"/api/v1/services/{service}/slots?from={next_monday}&to={next_monday + datetime.timedelta(days=6)}&time_zone=UTC")
    by_provider = {}
    for slot in week["items"]:
        for p in free_at(week, slot):
            by_provider.setdefault(p, []).append(slot["starts_at"])
    rng = random.Random(7)

    def book_ten(p):
        made = 0
        for at in rng.sample(by_provider.get(p, []), min(30, len(by_provider.get(p, [])))):
            status, _ = api.call("POST", "/api/v1/bookings", {
                "service_id": service, "provider_id": p, "starts_at": at, "format": "in_person",
                "student_id": students[made % len(students)]})
            made += status == 201
            if made == 10:
                break
        return made

    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        booked = sum(pool.map(book_ten, providers))
    print(f"## {BACKEND}: set-up {time.time() - started:.0f} s: 200 providers, {booked} bookings, 64 students")

    if not BOOKINGS_ONLY:
        slots_runs(api, port, token, service, today)
    if not SLOTS_ONLY:
        booking_runs(api, port, token, service, students, next_monday, rng, pg_db, data_dir)
    overlaps = count(pg_db, data_dir, """
        SELECT COUNT(*) FROM bookings a JOIN bookings b
          ON a.provider_id = b.provider_id AND a.id < b.id
         AND a.status <> 'cancelled' AND b.status <> 'cancelled'
         AND a.blocked_from < b.blocked_until AND b.blocked_from < a.blocked_until""")
    total = count(pg_db, data_dir, "SELECT COUNT(*) FROM bookings")
    with open(f"/proc/{pid}/status") as f:
        hwm = re.search(r"VmHWM:\s+(\d+) kB", f.read()).group(1)
    print(f"proof: {total} bookings, {overlaps} overlapping pairs (buffers included); server peak memory {int(hwm) // 1024} MiB")


def slots_runs(api, port, token, service, today):
    frm = today + datetime.timedelta(days=1)
    to = frm + datetime.timedelta(days=27)
    path = f"/api/v1/services/{service}/slots?from={frm}&to={to}&time_zone=Europe/London"
    body = api.raw(path)
    sample = json.loads(body)
    entries = sum(len(s["providers"]) for s in sample["items"])
    r = wrk(["-t2", "-c32", "-H", f"Authorization: Bearer {token}", f"http://127.0.0.1:{port}{path}"])
    print(f"slots, 4 weeks, 200 providers ({len(sample['items'])} slots, {entries} provider entries, "
          f"{len(body) // 1024} KiB): 32 connections, cached: {r['rps']} req/s, p50 {r['p50']}, p99 {r['p99']}, "
          f"non-2xx {r['non2xx']}")
    r = wrk(["-t2", "-c32", "-H", f"Authorization: Bearer {token}", "-H", "Accept-Encoding: gzip",
             f"http://127.0.0.1:{port}{path}"])
    print(f"slots, the same, asking for gzip as browsers do (about {len(gzip.compress(body)) // 1024} KiB): "
          f"32 connections, cached: {r['rps']} req/s, p50 {r['p50']}, p99 {r['p99']}, non-2xx {r['non2xx']}")
    zones = sorted(z for z in zoneinfo.available_timezones()
                   if z.split("/")[0] in ("Africa", "America", "Asia", "Atlantic", "Australia", "Europe",
                                          "Indian", "Pacific") and z != "Europe/London")[:400]
    paths = [f"/api/v1/services/{service}/slots?from={frm}&to={to}&time_zone={z}" for z in zones]
    lua = f"""
wrk.headers["authorization"] = "Bearer {token}"
local paths = {{
{",".join('"' + p + '"' for p in paths)}
}}
local n = 0
request = function()
  n = n + 1
  return wrk.format("GET", paths[(n - 1) % #paths + 1])
end
"""
    r = wrk(["-t1", "-c32", f"http://127.0.0.1:{port}/"], lua)
    print(f"slots, same 4 weeks in {len(zones)} zones round robin, 32 connections, computed: {r['rps']} req/s, "
          f"p50 {r['p50']}, p99 {r['p99']}, non-2xx {r['non2xx']}")


def booking_runs(api, port, token, service, students, next_monday, rng, pg_db, data_dir):
    # 100 contested slots in the week after next, each with its first free provider.
    later = next_monday + datetime.timedelta(days=7)
    week2 = api.ok("GET", f"/api/v1/services/{service}/slots?from={later}&to={later + datetime.timedelta(days=4)}&time_zone=UTC")
    slots = week2["items"]
    contested = [{"service_id": service, "provider_id": free_at(week2, s)[0], "starts_at": s["starts_at"],
                  "format": "in_person", "student_id": students[i % 64]}
                 for i, s in enumerate(rng.sample(slots, 100))]
    before = count(pg_db, data_dir, "SELECT COUNT(*) FROM bookings")
    r = wrk(["-t2", "-c64", f"http://127.0.0.1:{port}/"],
            lua_bodies(token, contested, "local body = bodies[math.random(#bodies)]"))
    made = count(pg_db, data_dir, "SELECT COUNT(*) FROM bookings") - before
    print(f"contested, 64 connections on 100 slots: {r['rps']} requests/s ({r['requests']} requests, "
          f"{made} bookings made, {r['non2xx']} refused), p50 {r['p50']}, p99 {r['p99']}")

    # Distinct free slots: every request another (provider, start) in weeks 3 and 4.
    week3 = next_monday + datetime.timedelta(days=14)
    free = api.ok("GET", f"/api/v1/services/{service}/slots?from={week3}&to={week3 + datetime.timedelta(days=11)}&time_zone=UTC")
    distinct = []
    for s in free["items"]:
        # On the hour only: a booking blocks 40 minutes, so these never collide with each other.
        if s["starts_at"][14:16] != "00":
            continue
        for p in free_at(free, s):
            distinct.append({"service_id": service, "provider_id": p, "starts_at": s["starts_at"],
                             "format": "in_person", "student_id": students[len(distinct) % 64]})
    rng.shuffle(distinct)
    distinct = distinct[:60000]
    before = count(pg_db, data_dir, "SELECT COUNT(*) FROM bookings")
    r = wrk(["-t1", "-c64", f"http://127.0.0.1:{port}/"],
            lua_bodies(token, distinct, "local body = bodies[(n - 1) % #bodies + 1]"))
    made = count(pg_db, data_dir, "SELECT COUNT(*) FROM bookings") - before
    print(f"distinct, 64 connections: {r['rps']} requests/s ({r['requests']} requests, {made} bookings made, "
          f"{r['non2xx']} refused, {made / SECONDS:.0f} bookings/s), p50 {r['p50']}, p99 {r['p99']}")


def free_at(answer, slot):
    """The ids of the providers free at one slot of a slots answer (named by position)."""
    return [answer["providers"][i]["id"] for i in slot["providers"]]


def count(pg_db, data_dir, sql):
    if pg_db:
        return int(psql(pg_db, sql))
    db = sqlite3.connect(os.path.join(data_dir, "cohort.db"), timeout=30)
    try:
        return db.execute(sql).fetchone()[0]
    finally:
        db.close()


if __name__ == "__main__":
    main()
