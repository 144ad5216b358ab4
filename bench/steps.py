"""Publishing one instant step to a program of N participants (default 50,000): the time from the
POST until every delivery (and its notification, written in the same transaction) is recorded, and
the server's peak memory (VmHWM), on SQLite and PostgreSQL.

    cargo build --release -p cohort-api && .tools/venv/bin/python bench/steps.py [N]
"""
import concurrent.futures
import os
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from messages import PASSWORD, PG_ADMIN, ROOT, call, start_cohort  # noqa: E402

N = int(sys.argv[1]) if len(sys.argv) > 1 else 50_000


def rss_kib(pid, field):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def run(label, database_url, binary, data_dir):
    env = dict(os.environ, DATABASE_URL=database_url, COHORT_BIND="127.0.0.1:0", COHORT_DATA_DIR=data_dir,
               COHORT_ADMIN_PASSWORD=PASSWORD, COHORT_DEMO_DATA="false", COHORT_LOG=os.environ.get("COHORT_LOG", "error"),
               COHORT_JWT_SECRET="XnlSUwhUPQ7_dGS8TMBLwG6r_tlJa85BHfu0YxR3", COHORT_PERSON_LIMIT="1000000")
    proc, base = start_cohort(binary, env, stderr=None)
    try:
        token = call(base, "POST", "/api/v1/auth/login",
                     body={"email": "admin@example.org", "password": PASSWORD})["access_token"]
        program = call(base, "POST", "/api/v1/programs", token, {"name": "Bench", "time_zone": "UTC"})["id"]
        started = time.time()
        with concurrent.futures.ThreadPoolExecutor(16) as pool:
            people = list(pool.map(lambda i: call(base, "POST", "/api/v1/people", token,
                                                  {"email": f"p{i}@bench.test", "name": f"Person {i}"})["id"],
                                   range(N)))
            chunks = [people[i:i + 1000] for i in range(0, N, 1000)]
            list(pool.map(lambda chunk: call(base, "POST", f"/api/v1/programs/{program}/participants/bulk", token,
                                             {"participants": [{"person_id": p, "role": "mentee"} for p in chunk]}),
                          chunks))
        setup = time.time() - started
        before = rss_kib(proc.pid, "VmRSS")
        started = time.time()
        step = call(base, "POST", f"/api/v1/programs/{program}/steps", token,
                    {"title": "Welcome", "viewer_type": "all", "action_type": "go_to_learning",
                     "publish_type": "instant"})["id"]
        while True:
            counts = call(base, "GET", f"/api/v1/programs/{program}/steps/{step}", token)["counts"]
            if counts["delivered"] >= N:
                break
            time.sleep(0.01)
        elapsed = time.time() - started
        peak = rss_kib(proc.pid, "VmHWM")
        log = call(base, "GET", "/api/v1/notification-log?limit=1", token)
        assert counts["delivered"] == N, counts
        assert log["items"] and log["items"][0]["notification"]["title"] == "Welcome", log
        print(f"| {label} | {N} | {setup:.0f} s | {elapsed:.2f} s | {before / 1024:.0f} MiB | {peak / 1024:.0f} MiB |")
        sys.stdout.flush()
    finally:
        proc.terminate()
        proc.wait()


def main():
    binary = os.path.join(ROOT, "target/release/cohort")
    print("| backend | participants | setup (API) | step published to all | RSS before | peak RSS |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    backends = os.environ.get("BENCH_BACKENDS", "sqlite,postgres").split(",")
    data = tempfile.mkdtemp()
    if "sqlite" in backends:
        run("SQLite", f"sqlite://{data}/bench.db", binary, data)
    if "postgres" not in backends:
        return
    name = f"cohort_stepbench_{os.getpid()}"
    subprocess.run(["psql", PG_ADMIN, "-qc", f"CREATE DATABASE {name}"], check=True)
    try:
        run("PostgreSQL", PG_ADMIN.rsplit("/", 1)[0] + "/" + name, binary, tempfile.mkdtemp())
    finally:
        subprocess.run(["psql", PG_ADMIN, "-qc", f"DROP DATABASE {name} WITH (FORCE)"], check=True)


if __name__ == "__main__":
    main()
