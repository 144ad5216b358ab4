"""Message throughput: N emails (to aiosmtpd) and N webhooks (to a local receiver) through
the outbox and job queue, on SQLite and PostgreSQL, with one and two cohort processes.
Counts what arrived: none may be lost, none duplicated (by delivery key / webhook-id).

    .tools/venv/bin/python bench/messages.py [N]      (cargo xtask bench runs it)
"""
import concurrent.futures
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PY = os.path.join(ROOT, ".tools/venv/bin/python")
N = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
PG_ADMIN = os.environ.get("COHORT_TEST_PG_URL", "postgres://postgres@127.0.0.1:5432/postgres")
PASSWORD = "bench-password-1"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port):
    for _ in range(200):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listens on {port}")


def call(base, method, path, token=None, body=None):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(base + path, data=data, method=method)
    req.add_header("content-type", "application/json")
    if token:
        req.add_header("authorization", "Bearer " + token)
    with urllib.request.urlopen(req) as r:
        text = r.read()
        return json.loads(text) if text else None


def start_cohort(binary, env, stderr=subprocess.DEVNULL):
    proc = subprocess.Popen([binary], env=env, stdout=subprocess.PIPE, stderr=stderr, text=True)
    for line in proc.stdout:
        m = re.search(r"listening on (http://[0-9.:]+)", line)
        if m:
            return proc, m.group(1)
    raise RuntimeError("cohort did not start")


def run(label, database_url, processes, binary, data_dir):
    work = tempfile.mkdtemp()
    smtp_port, hook_port = free_port(), free_port()
    smtp = subprocess.Popen([PY, "-m", "aiosmtpd", "-n", "-l", f"127.0.0.1:{smtp_port}", "-c",
                             "aiosmtpd.handlers.Mailbox", os.path.join(work, "maildir")], stderr=subprocess.DEVNULL)
    hooks = subprocess.Popen([PY, os.path.join(ROOT, "tests/webhook_receiver.py"), "serve", str(hook_port), work])
    wait_port(smtp_port)
    wait_port(hook_port)
    env = dict(os.environ, DATABASE_URL=database_url, COHORT_BIND="127.0.0.1:0", COHORT_DATA_DIR=data_dir,
               COHORT_ADMIN_PASSWORD=PASSWORD, COHORT_DEMO_DATA="false", COHORT_LOG="error",
               COHORT_JWT_SECRET="XnlSUwhUPQ7_dGS8TMBLwG6r_tlJa85BHfu0YxR3", COHORT_PERSON_LIMIT="1000000",
               COHORT_SMTP_URL=f"smtp://127.0.0.1:{smtp_port}", COHORT_WEBHOOKS_ALLOW_PRIVATE="true")
    servers = [start_cohort(binary, env)]
    for _ in range(processes - 1):
        servers.append(start_cohort(binary, env))
    base = servers[0][1]
    token = call(base, "POST", "/api/v1/auth/login", body={"email": "admin@example.org", "password": PASSWORD})["access_token"]
    hook = call(base, "POST", "/api/v1/webhooks", token, {"url": f"http://127.0.0.1:{hook_port}/hook"})
    endpoint = hook["endpoint"]["id"]

    started = time.time()
    with concurrent.futures.ThreadPoolExecutor(16) as pool:
        list(pool.map(lambda i: call(servers[i % len(servers)][1], "POST", f"/api/v1/webhooks/{endpoint}/test", token), range(N)))
        list(pool.map(lambda i: call(servers[i % len(servers)][1], "POST", "/api/v1/email-templates/test/test", token), range(N)))
    enqueued = time.time() - started

    maildir = os.path.join(work, "maildir", "new")
    requests_file = os.path.join(work, "requests.jsonl")

    def counts():
        mails = len(os.listdir(maildir)) if os.path.isdir(maildir) else 0
        reqs = sum(1 for _ in open(requests_file)) if os.path.exists(requests_file) else 0
        return mails, reqs

    last, stalled = (0, 0), 0
    while True:
        now = counts()
        if now[0] >= N and now[1] >= N:
            break
        stalled = stalled + 1 if now == last else 0
        if stalled > 100:
            break
        last = now
        time.sleep(0.1)
    elapsed = time.time() - started
    time.sleep(1)
    mails, reqs = counts()
    mail_ids = set()
    for name in os.listdir(maildir):
        with open(os.path.join(maildir, name)) as f:
            m = re.search(r"Message-ID: <([^>]+)>", f.read(), re.I)
            mail_ids.add(m.group(1) if m else name)
    hook_ids = set()
    with open(requests_file) as f:
        for line in f:
            hook_ids.add(json.loads(line)["headers"]["webhook-id"])
    for proc, _ in servers:
        proc.terminate()
        proc.wait()
    smtp.terminate()
    hooks.terminate()
    shutil.rmtree(work, ignore_errors=True)
    print(f"| {label} | {processes} | {2 * N} | {enqueued:.1f} s | {elapsed:.1f} s | {2 * N / elapsed:.0f} msg/s "
          f"| {len(mail_ids)}/{N} emails, {mails - len(mail_ids)} repeats | {len(hook_ids)}/{N} webhooks, {reqs - len(hook_ids)} repeats |")
    sys.stdout.flush()
    assert len(mail_ids) == N and len(hook_ids) == N, "messages were lost"


def main():
    binary = os.path.join(ROOT, "target/release/cohort")
    print("| backend | processes | messages | enqueue (API) | all delivered after | throughput | emails unique/sent | webhooks unique/sent |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | --- | --- |")
    data = tempfile.mkdtemp()
    run("SQLite", f"sqlite://{data}/bench.db", 1, binary, data)
    for processes in (1, 2):
        name = f"cohort_msgbench_{os.getpid()}_{processes}"
        subprocess.run(["psql", PG_ADMIN, "-qc", f"CREATE DATABASE {name}"], check=True)
        try:
            run("PostgreSQL", PG_ADMIN.rsplit("/", 1)[0] + "/" + name, processes, binary, tempfile.mkdtemp())
        finally:
            subprocess.run(["psql", PG_ADMIN, "-qc", f"DROP DATABASE {name} WITH (FORCE)"], check=True)


if __name__ == "__main__":
    main()
