"""The floor under a participants import on SQLite: the rows an N-row apply writes (one person, one
participant and one `participant.joined` event per row, ids in time order as Cohort makes them),
inserted by SQLite alone (`executemany`, one transaction, foreign keys on) into Cohort's own schema.
No application, no HTTP, no CSV: what is left is the tables' indexes and foreign-key checks, which
is how long any single-transaction apply must hold SQLite's one writer.

    cargo build --release -p cohort-api && python3 bench/imports_floor_sqlite.py [N]
"""
import json
import os
import sqlite3
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from messages import PASSWORD, ROOT, call, start_cohort  # noqa: E402

N = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
ATTRIBUTES = '{"department":{"type":"text","value":"Chemistry"},"interests":{"type":"list","value":["chess","reading"]}}'


def main():
    data = tempfile.mkdtemp()
    env = dict(os.environ, DATABASE_URL=f"sqlite://{data}/floor.db", COHORT_BIND="127.0.0.1:0",
               COHORT_DATA_DIR=data, COHORT_ADMIN_PASSWORD=PASSWORD, COHORT_DEMO_DATA="false", COHORT_LOG="error",
               COHORT_JWT_SECRET="XnlSUwhUPQ7_dGS8TMBLwG6r_tlJa85BHfu0YxR3")
    binary = os.environ.get("COHORT_BINARY", os.path.join(ROOT, "target/release/cohort"))
    proc, base = start_cohort(binary, env)
    try:
        token = call(base, "POST", "/api/v1/auth/login",
                     body={"email": "admin@example.org", "password": PASSWORD})["access_token"]
        program = call(base, "POST", "/api/v1/programs", token, {"name": "Floor"})["id"]
    finally:
        proc.terminate()
        proc.wait()
    db = sqlite3.connect(f"{data}/floor.db", isolation_level=None)
    db.execute("PRAGMA foreign_keys = ON")
    org = db.execute("SELECT organization_id FROM programs WHERE id = ?", (program,)).fetchone()[0]
    now = "2026-12-07 21:00:00.000000"
    people, participants, events = [], [], []
    for i in range(N):
        person, participant, event = (f"019b0000-0000-7000-8000-{k:012d}" for k in (3 * i, 3 * i + 1, 3 * i + 2))
        people.append((person, org, f"person{i}@example.org", f"Person {i}", ATTRIBUTES, now, now))
        participants.append((participant, org, program, person, "mentor" if i % 2 == 0 else "mentee", "active", now))
        payload = json.dumps({"participant_id": participant, "role": "mentee"})
        events.append((event, org, "participant.joined", program, person, payload,
                       f"participant.joined:{participant}:2026-12-07T21:00:00+00:00", now, now))
    started = time.perf_counter()
    db.execute("BEGIN IMMEDIATE")
    for table, columns, rows in [
        ("people", "id, organization_id, email, name, attributes, created_at, updated_at", people),
        ("participants", "id, organization_id, program_id, person_id, role, status, joined_at", participants),
        ("events", "id, organization_id, event_type, program_id, person_id, payload, dedupe_key, occurred_at, "
                   "created_at", events),
    ]:
        at = time.perf_counter()
        db.executemany(f"INSERT INTO {table} ({columns}) VALUES ({', '.join('?' * len(rows[0]))})", rows)
        print(f"{table}: {time.perf_counter() - at:.2f} s")
    db.execute("COMMIT")
    print(f"{N:,} rows of each, one transaction: {time.perf_counter() - started:.2f} s")


if __name__ == "__main__":
    main()
