"""The web apps' first load in headless Chromium: from opening a page to the page a person can use
(its form or its data on screen), with an empty cache each time (a fresh browser profile), against
the release `cohort` on SQLite with the demo data. Measured for the participant app's login page,
a demo mentee's home after logging in, and the admin dashboard's programs page.

    cargo xtask dashboard && cargo build --release -p cohort-api && python3 bench/first_load.py [runs]

Plain WebDriver over HTTP (chromedriver from Debian's chromium-driver), no Python packages.
"""
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from messages import PASSWORD, ROOT, free_port, start_cohort, wait_port  # noqa: E402

RUNS = int(sys.argv[1]) if len(sys.argv) > 1 else 10
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def webdriver(driver, method, path, body=None):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(driver + path, data=data, method=method, headers={"content-type": "application/json"})
    with urllib.request.urlopen(req) as r:
        return json.loads(r.read())["value"]


def session(driver, profile, size):
    caps = {"capabilities": {"alwaysMatch": {"goog:chromeOptions": {
        "binary": "/usr/bin/chromium", "args": FLAGS + [f"--user-data-dir={profile}", f"--window-size={size}"]}}}}
    return "/session/" + webdriver(driver, "POST", "/session", caps)["sessionId"]


def until(driver, s, selector):
    """Milliseconds from the navigation's start until `selector` is on the page (polled every 5 ms)."""
    script = "return document.querySelector(arguments[0]) ? performance.now() : null;"
    for _ in range(4000):
        at = webdriver(driver, "POST", s + "/execute/sync", {"script": script, "args": [selector]})
        if at is not None:
            return at
        time.sleep(0.005)
    raise RuntimeError(f"{selector} never appeared")


def measure(driver, base, path, selector, login=None, size="375,812"):
    profile = tempfile.mkdtemp()
    s = session(driver, profile, size)
    try:
        if login:
            webdriver(driver, "POST", s + "/url", {"url": base + "/login"})
            until(driver, s, "#email")
            for field, value in zip(["#email", "#password"], login):
                el = webdriver(driver, "POST", s + "/element", {"using": "css selector", "value": field})
                webdriver(driver, "POST", s + f"/element/{list(el.values())[0]}/value", {"text": value})
            button = webdriver(driver, "POST", s + "/element", {"using": "css selector", "value": "button[type=submit]"})
            webdriver(driver, "POST", s + f"/element/{list(button.values())[0]}/click", {})
            until(driver, s, "#main h1")
        webdriver(driver, "POST", s + "/url", {"url": base + path})
        return until(driver, s, selector)
    finally:
        webdriver(driver, "DELETE", s)
        shutil.rmtree(profile, ignore_errors=True)


def main():
    binary = os.path.join(ROOT, "target/release/cohort")
    data_dir = tempfile.mkdtemp()
    env = dict(os.environ, DATABASE_URL=f"sqlite://{data_dir}/cohort.db", COHORT_BIND="127.0.0.1:0",
               COHORT_DATA_DIR=data_dir, COHORT_ADMIN_PASSWORD=PASSWORD, COHORT_LOG="error",
               COHORT_DASHBOARD_DIR=os.path.join(ROOT, "frontend/dist"),
               COHORT_JWT_SECRET="XnlSUwhUPQ7_dGS8TMBLwG6r_tlJa85BHfu0YxR3")
    proc = subprocess.Popen([binary], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    base, participant_password = None, None
    for line in proc.stdout:
        m = re.search(r"the password (\S+): ", line)
        if m:
            participant_password = m.group(1)
        m = re.search(r"listening on (http://[0-9.:]+)", line)
        if m:
            base = m.group(1)
        if base and participant_password:
            break
    port = free_port()
    chromedriver = subprocess.Popen(["/usr/bin/chromedriver", f"--port={port}"], stdout=subprocess.DEVNULL,
                                    stderr=subprocess.DEVNULL)
    wait_port(port)
    driver = f"http://127.0.0.1:{port}"
    try:
        cases = [
            ("participant app: /login, form shown (phone)", "/login", "#email", None, "375,812"),
            ("participant app: /me, home with steps (phone, just logged in: app cached)", "/me", "#my-next-steps",
             ("amara.n@demo.cohort.test", participant_password), "375,812"),
            ("admin dashboard: /programs, list shown (just logged in: app cached)", "/programs", "table.list",
             ("admin@example.org", PASSWORD), "1280,900"),
        ]
        for label, path, selector, login, size in cases:
            times = [measure(driver, base, path, selector, login, size) for _ in range(RUNS)]
            print(f"{label}: median {statistics.median(times):.0f} ms, min {min(times):.0f}, "
                  f"max {max(times):.0f} ({RUNS} runs, empty cache)")
    finally:
        chromedriver.terminate()
        proc.terminate()


if __name__ == "__main__":
    main()
