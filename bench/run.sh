#!/usr/bin/env bash
# Load benchmark of the release binary on loopback with wrk, on SQLite and PostgreSQL.
# Usage: bench/run.sh   (needs wrk: apt-get install -y wrk; PostgreSQL on 127.0.0.1:5432)
set -euo pipefail
cd "$(dirname "$0")/.."
command -v wrk >/dev/null || { echo "install wrk: apt-get install -y wrk" >&2; exit 1; }
cargo build --release -q -p cohort-api --bin cohort
BIN="$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys;print(json.load(sys.stdin)["target_directory"])')/release/cohort"
PG_ADMIN="${COHORT_TEST_PG_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
DURATION="${BENCH_DURATION:-15s}"
PASSWORD=bench-password-1

bench_backend() {
  local backend=$1 url=$2 dir
  dir=$(mktemp -d)
  DATABASE_URL="$url" COHORT_DATA_DIR="$dir" COHORT_BIND=127.0.0.1:0 COHORT_LOG=warn \
    COHORT_ADMIN_PASSWORD=$PASSWORD COHORT_JWT_SECRET=XnlSUwhUPQ7_dGS8TMBLwG6r_tlJa85BHfu0YxR3 COHORT_PERSON_LIMIT=1000000 COHORT_DEMO_DATA=true "$BIN" > "$dir/out" 2> "$dir/err" &
  local pid=$!
  for _ in $(seq 100); do grep -q 'listening on' "$dir/out" 2>/dev/null && break; sleep 0.1; done
  local base
  base=$(grep -o 'http://[0-9.:]*' "$dir/out" | head -1)
  local token
  token=$(curl -sf "$base/api/v1/auth/login" -H 'content-type: application/json' \
    -d "{\"email\":\"admin@example.org\",\"password\":\"$PASSWORD\"}" | python3 -c 'import json,sys;print(json.load(sys.stdin)["access_token"])')
  local program
  program=$(curl -sf "$base/api/v1/programs" -H "authorization: Bearer $token" | python3 -c 'import json,sys;print(json.load(sys.stdin)["items"][0]["id"])')
  # Make the page of 50 full: 60 more mentees.
  local ids
  ids=$(for i in $(seq 60); do
    curl -sf "$base/api/v1/people" -H "authorization: Bearer $token" -H 'content-type: application/json' \
      -d "{\"email\":\"mentee$i@bench.test\",\"name\":\"Mentee $i\"}" | python3 -c 'import json,sys;print(json.load(sys.stdin)["id"])'
  done | python3 -c 'import sys,json;print(json.dumps({"participants":[{"person_id":l.strip(),"role":"mentee"} for l in sys.stdin]}))')
  curl -sf "$base/api/v1/programs/$program/participants/bulk" -H "authorization: Bearer $token" \
    -H 'content-type: application/json' -d "$ids" > /dev/null
  echo "## $backend"
  echo "### GET /healthz (no auth, no database)"
  wrk -t1 -c64 -d"$DURATION" --latency "$base/healthz" | grep -E 'Requests/sec|50%|99%|Non-2xx'
  echo "### GET /api/v1/me (auth + 3 small queries)"
  wrk -t1 -c64 -d"$DURATION" --latency -H "Authorization: Bearer $token" "$base/api/v1/me" | grep -E 'Requests/sec|50%|99%|Non-2xx'
  echo "### GET /api/v1/programs/{id}/participants?limit=50"
  wrk -t1 -c64 -d"$DURATION" --latency -H "Authorization: Bearer $token" \
    "$base/api/v1/programs/$program/participants?limit=50" | grep -E 'Requests/sec|50%|99%|Non-2xx'
  echo "### POST /api/v1/people"
  wrk -t1 -c64 -d"$DURATION" --latency -s bench/post_person.lua "$base" -- "$token" "$$" | grep -E 'Requests/sec|50%|99%|Non-2xx' 
  kill "$pid"; wait "$pid" 2>/dev/null || true
  rm -rf "$dir"
}

bench_backend sqlite "sqlite://$(mktemp -d)/bench.db"
db="cohort_bench_$$"
psql "$PG_ADMIN" -qc "CREATE DATABASE $db" >/dev/null
bench_backend postgres "${PG_ADMIN%/*}/$db"
psql "$PG_ADMIN" -qc "DROP DATABASE $db WITH (FORCE)" >/dev/null
