"""Login rate limit under a burst: concurrent clients send failing logins to a fresh
`cohort` (SQLite, default limits: 10 a minute per email, 30 a minute per client
address) for a while, and the answers are counted per 60-second window.

Two scenarios, each against its own server:
  address  every request names another email: the per-address limit bites
  account  every request names the admin's email: the per-account limit bites

    python3 bench/login_limit.py [SECONDS] [CLIENTS]      (default 125 s, 16 clients)

BIN picks the binary (default target/debug/cohort: the limiter's arithmetic is the
same in every build; only the argon2 cost of the allowed attempts differs).
"""
import collections
import http.client
import json
import os
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TARGET = os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target"))
BIN = os.environ.get("BIN", os.path.join(TARGET, "debug", "cohort"))
SECONDS = float(sys.argv[1]) if len(sys.argv) > 1 else 125
CLIENTS = int(sys.argv[2]) if len(sys.argv) > 2 else 16
WINDOW = 60


def start_server(data_dir):
    env = dict(
        os.environ,
        DATABASE_URL=f"sqlite://{data_dir}/cohort.db",
        COHORT_DATA_DIR=data_dir,
        COHORT_BIND="127.0.0.1:0",
        COHORT_LOG="warn",
        COHORT_ADMIN_EMAIL="admin@bench.test",
        COHORT_ADMIN_PASSWORD="bench-password-0123",
        COHORT_DEMO_DATA="false",
    )
    proc = subprocess.Popen([BIN], env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    for line in proc.stdout:
        if "listening on http://" in line:
            host, port = line.split("http://", 1)[1].strip().split(":")
            return proc, host, int(port)
    raise RuntimeError("cohort did not start")


def burst(host, port, email_of):
    """Runs CLIENTS threads for SECONDS; returns [(seconds since start, status, retry_after)]."""
    results = []
    lock = threading.Lock()
    start = time.monotonic()
    counter = iter(range(10**9))

    def client():
        conn = http.client.HTTPConnection(host, port, timeout=30)
        mine = []
        while (now := time.monotonic() - start) < SECONDS:
            body = json.dumps({"email": email_of(next(counter)), "password": "wrong-password-0"})
            conn.request("POST", "/api/v1/auth/login", body, {"content-type": "application/json"})
            response = conn.getresponse()
            response.read()
            mine.append((now, response.status, response.getheader("retry-after")))
        with lock:
            results.extend(mine)

    threads = [threading.Thread(target=client) for _ in range(CLIENTS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def report(name, results):
    windows = collections.defaultdict(collections.Counter)
    for at, status, _ in results:
        windows[int(at // WINDOW)][status] += 1
    retry_afters = sorted({int(r) for _, s, r in results if s == 429 and r})
    print(f"### {name}: {len(results)} requests from {CLIENTS} clients in {SECONDS:.0f} s")
    print("| window | allowed (401) | limited (429) | other |")
    print("| --- | ---: | ---: | ---: |")
    for w in sorted(windows):
        c = windows[w]
        other = sum(n for s, n in c.items() if s not in (401, 429))
        end = min((w + 1) * WINDOW, SECONDS)
        print(f"| {w * WINDOW}-{end:.0f} s | {c[401]} | {c[429]} | {other} |")
    allowed = sorted(at for at, s, _ in results if s == 401)
    print(f"Retry-After values seen: {retry_afters[0]} to {retry_afters[-1]} s" if retry_afters else "no 429")
    later = [t for t in allowed if t >= 1.0]
    print(f"allowed in the first second: {len(allowed) - len(later)}; after it: {len(later)}", end="")
    if len(later) > 1:
        print(f", one every {(later[-1] - later[0]) / (len(later) - 1):.2f} s", end="")
    print()
    rate = len(results) / SECONDS
    print(f"throughput: {rate:.0f} requests/s (almost all of them 429s, which cost no password check)\n")


def main():
    scenarios = [
        ("address: a new email each request, one client address (limit 30/min)", lambda i: f"user{i}@bench.test"),
        ("account: the admin's email each request (limit 10/min)", lambda i: "admin@bench.test"),
    ]
    for name, email_of in scenarios:
        with tempfile.TemporaryDirectory() as data_dir:
            proc, host, port = start_server(data_dir)
            try:
                report(name, burst(host, port, email_of))
            finally:
                proc.terminate()
                proc.wait()


if __name__ == "__main__":
    main()
