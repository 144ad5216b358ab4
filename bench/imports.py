"""CSV import of program participants: an N-row file (default 100,000 distinct people, half mentors,
half mentees, two profile-attribute columns), uploaded as a dry run, then applied, then both again
(the second time every row is unchanged), on SQLite and PostgreSQL against the release binary.

Reports each request's wall time and the server's peak resident memory (VmHWM) after it, with its
resident memory before the first upload, so the memory an import adds can be read off. While each
upload runs, the admin of another organisation logs in over and over: the slowest of those logins
is how long the upload kept another organisation out (on SQLite, logins write a refresh token and
wait for the writer).

    cargo build --release -p cohort-api && python3 bench/imports.py [N ...]
"""
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from messages import PASSWORD, PG_ADMIN, ROOT, call, start_cohort  # noqa: E402


def status_kib(pid, field):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def participants_file(n):
    rows = ["email,name,role,department,interests"]
    departments = ["Chemistry", "Biology", "History", "Physics", "Economics"]
    for i in range(n):
        role = "mentor" if i % 2 == 0 else "mentee"
        rows.append(f"person{i}@example.org,Person {i},{role},{departments[i % 5]},chess; reading")
    return ("\r\n".join(rows) + "\r\n").encode()


def upload(base, token, program, body, dry_run):
    url = f"{base}/api/v1/imports/participants?program_id={program}&dry_run={'true' if dry_run else 'false'}"
    req = urllib.request.Request(url, data=body, method="POST")
    req.add_header("content-type", "text/csv")
    req.add_header("authorization", "Bearer " + token)
    started = time.perf_counter()
    with urllib.request.urlopen(req, timeout=600) as r:
        report = json.loads(r.read())
    return time.perf_counter() - started, report


class LoginProbe:
    """Logs another organisation's admin in, one login after another, until stopped."""

    def __init__(self, base, email):
        self.base, self.email, self.times = base, email, []
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self.loop, daemon=True)

    def loop(self):
        while not self.stopping.is_set():
            started = time.perf_counter()
            call(self.base, "POST", "/api/v1/auth/login", body={"email": self.email, "password": PASSWORD})
            self.times.append(time.perf_counter() - started)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *_):
        self.stopping.set()
        self.thread.join()

    def summary(self):
        if not self.times:
            return "none"
        ordered = sorted(self.times)
        return f"{len(ordered)}, median {ordered[len(ordered) // 2] * 1000:.0f} ms, slowest {ordered[-1] * 1000:.0f} ms"


def run(label, database_url, binary, data_dir, n, body):
    env = dict(os.environ, DATABASE_URL=database_url, COHORT_BIND="127.0.0.1:0", COHORT_DATA_DIR=data_dir,
               COHORT_ADMIN_PASSWORD=PASSWORD, COHORT_DEMO_DATA="false", COHORT_LOG="error",
               COHORT_JWT_SECRET="XnlSUwhUPQ7_dGS8TMBLwG6r_tlJa85BHfu0YxR3", COHORT_PERSON_LIMIT="1000000",
               COHORT_IMPORT_MAX_ROWS=str(n), COHORT_LOGIN_LIMIT_PER_ACCOUNT="1000000",
               COHORT_LOGIN_LIMIT_PER_ADDRESS="1000000", COHORT_SESSION_LIMIT_PER_ADDRESS="1000000")
    proc, base = start_cohort(binary, env)
    try:
        subprocess.run([binary, "create-organization", "--name", "Other", "--admin-email", "other@example.org",
                        "--admin-password", PASSWORD], env=env, check=True, capture_output=True)
        token = call(base, "POST", "/api/v1/auth/login", body={"email": "admin@example.org", "password": PASSWORD})["access_token"]
        program = call(base, "POST", "/api/v1/programs", token, {"name": "Bench"})["id"]
        rss = status_kib(proc.pid, "VmRSS")
        for step, dry_run, expect in [("dry run", True, "created"), ("apply", False, "created"),
                                      ("dry run again", True, "unchanged"), ("apply again", False, "unchanged")]:
            with LoginProbe(base, "other@example.org") as logins:
                seconds, report = upload(base, token, program, body, dry_run)
            assert report["valid"] and report[expect] == n, report
            peak = status_kib(proc.pid, "VmHWM")
            print(f"| {label} | {n:,} | {step} | {seconds:.2f} s | {expect} {report[expect]:,} | "
                  f"{rss / 1024:.0f} MB | {peak / 1024:.0f} MB | {logins.summary()} |", flush=True)
    finally:
        proc.terminate()
        proc.wait()


def main():
    binary = os.environ.get("COHORT_BINARY", os.path.join(ROOT, "target/release/cohort"))
    sizes = [int(a) for a in sys.argv[1:]] or [100_000]
    print("| backend | rows | request | time | rows | RSS before | peak RSS after | other organisation's logins meanwhile |")
    print("| --- | ---: | --- | ---: | --- | ---: | ---: | --- |")
    for n in sizes:
        body = participants_file(n)
        data = tempfile.mkdtemp()
        run("SQLite", f"sqlite://{data}/bench.db", binary, data, n, body)
        name = f"cohort_csvbench_{os.getpid()}_{n}"
        subprocess.run(["psql", PG_ADMIN, "-qc", f"CREATE DATABASE {name}"], check=True)
        try:
            run("PostgreSQL", PG_ADMIN.rsplit("/", 1)[0] + "/" + name, binary, tempfile.mkdtemp(), n, body)
        finally:
            subprocess.run(["psql", PG_ADMIN, "-qc", f"DROP DATABASE {name} WITH (FORCE)"], check=True)
        print(f"(file: {len(body) / 1e6:.1f} MB)", flush=True)


if __name__ == "__main__":
    main()
