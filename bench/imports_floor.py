"""The floor under a participants import on PostgreSQL: the rows a 100,000-row apply writes (one
person, one participant and one `participant.joined` event per row), written by PostgreSQL alone
with `INSERT … SELECT` from a temporary table in one transaction, into Cohort's own schema. No
application, no network, no CSV: what is left is the tables' indexes and foreign-key checks.

Each write is also timed with its table's foreign keys dropped (inside a savepoint that is rolled
back), to show what the checks cost.

    cargo build --release -p cohort-api && python3 bench/imports_floor.py [N]
"""
import os
import re
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from messages import PASSWORD, PG_ADMIN, ROOT, call, start_cohort  # noqa: E402

N = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000

PEOPLE = """INSERT INTO people (id, organization_id, email, name, attributes, created_at, updated_at)
SELECT person, :'org', 'person' || i || '@example.org', 'Person ' || i,
       '{"department":{"type":"text","value":"Chemistry"},"interests":{"type":"list","value":["chess","reading"]}}',
       now(), now() FROM s;"""
PARTICIPANTS = """INSERT INTO participants (id, organization_id, program_id, person_id, role, status, joined_at)
SELECT participant, :'org', :'program', person, CASE WHEN i % 2 = 0 THEN 'mentor' ELSE 'mentee' END,
       'active', now() FROM s;"""
EVENTS = """INSERT INTO events (id, organization_id, event_type, program_id, person_id, payload, dedupe_key,
                    occurred_at, created_at)
SELECT event, :'org', 'participant.joined', :'program', person,
       '{"participant_id":"' || participant || '","role":"mentee"}',
       'participant.joined:' || participant || ':2026-12-06T22:00:00+00:00', now(), now() FROM s;"""


def without_foreign_keys(table, insert):
    return f"""SAVEPOINT bare;
SELECT 'ALTER TABLE {table} ' || string_agg('DROP CONSTRAINT ' || quote_ident(conname), ', ') AS drop_keys
  FROM pg_constraint WHERE conrelid = '{table}'::regclass AND contype = 'f' \\gset
:drop_keys;
\\echo {table} without foreign keys
{insert}
ROLLBACK TO bare;"""


def script():
    return f"""\\timing on
SELECT organization_id AS org FROM programs WHERE id = :'program' \\gset
CHECKPOINT;
BEGIN;
CREATE TEMP TABLE s ON COMMIT DROP AS
  SELECT gen_random_uuid()::text person, gen_random_uuid()::text participant, gen_random_uuid()::text event, i
  FROM generate_series(1, {N}) i;
\\echo people
{PEOPLE}
{without_foreign_keys('participants', PARTICIPANTS)}
\\echo participants
{PARTICIPANTS}
{without_foreign_keys('events', EVENTS)}
\\echo events
{EVENTS}
ROLLBACK;
"""


def main():
    name = f"cohort_importfloor_{os.getpid()}"
    subprocess.run(["psql", PG_ADMIN, "-qc", f"CREATE DATABASE {name}"], check=True)
    url = PG_ADMIN.rsplit("/", 1)[0] + "/" + name
    try:
        env = dict(os.environ, DATABASE_URL=url, COHORT_BIND="127.0.0.1:0", COHORT_DATA_DIR=tempfile.mkdtemp(),
                   COHORT_ADMIN_PASSWORD=PASSWORD, COHORT_DEMO_DATA="false", COHORT_LOG="error",
                   COHORT_JWT_SECRET="XnlSUwhUPQ7_dGS8TMBLwG6r_tlJa85BHfu0YxR3", COHORT_PERSON_LIMIT="1000000")
        proc, base = start_cohort(os.path.join(ROOT, "target/release/cohort"), env)
        try:
            token = call(base, "POST", "/api/v1/auth/login",
                         body={"email": "admin@example.org", "password": PASSWORD})["access_token"]
            program = call(base, "POST", "/api/v1/programs", token, {"name": "Floor"})["id"]
        finally:
            proc.terminate()
            proc.wait()
        out = subprocess.run(["psql", url, "-X", "-q", "-v", "ON_ERROR_STOP=1", "-v", f"program={program}"],
                             input=script(), check=True, capture_output=True, text=True).stdout
        label, total = None, 0.0
        print(f"| write ({N:,} rows, one transaction) | time |")
        print("| --- | ---: |")
        for line in out.splitlines():
            if re.match(r"^(people|participants|events)", line):
                label = line.strip()
            elif line.startswith("Time:") and label:
                ms = float(line.split()[1])
                if ms > 50:
                    print(f"| {label} | {ms / 1000:.2f} s |")
                    if "without" not in label:
                        total += ms
                    label = None
        print(f"| **people + participants + events** | **{total / 1000:.2f} s** |")
    finally:
        subprocess.run(["psql", PG_ADMIN, "-qc", f"DROP DATABASE {name} WITH (FORCE)"], check=True)


if __name__ == "__main__":
    main()
