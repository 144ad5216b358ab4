#!/bin/bash
# Usage: bench/audit.sh DATABASE_URL — start cohort with demo data, write 1,000 audited changes,
# then time a person's export and erasure.
set -e
DIR=$(mktemp -d)
DATABASE_URL="$1" COHORT_DATA_DIR=$DIR COHORT_BIND=127.0.0.1:18087 COHORT_ADMIN_EMAIL=admin@demo.test \
  COHORT_ADMIN_PASSWORD=admin-password-0123 COHORT_JWT_SECRET=XnlSUwhUPQ7_dGS8TMBLwG6r_tlJa85BHfu0YxR3 COHORT_PERSON_LIMIT=1000000 \
  COHORT_LOG=warn COHORT_API_KEY_LIMIT=100000 ${COHORT_BIN:-target/debug/cohort} > $DIR/out.log 2>&1 &
PID=$!
trap "kill $PID" EXIT
for i in $(seq 50); do curl -sf http://127.0.0.1:18087/healthz >/dev/null && break; sleep 0.2; done
T=$(curl -s -X POST http://127.0.0.1:18087/api/v1/auth/login -H 'content-type: application/json' \
  -d '{"email":"admin@demo.test","password":"admin-password-0123"}' | python3 -c 'import sys,json;print(json.load(sys.stdin)["access_token"])')
H="Authorization: Bearer $T"
P=$(curl -s "http://127.0.0.1:18087/api/v1/programs" -H "$H" | python3 -c 'import sys,json;print(json.load(sys.stdin)["items"][0]["id"])')
start=$(date +%s.%N)
for i in $(seq 1000); do
  curl -s -o /dev/null -X PATCH "http://127.0.0.1:18087/api/v1/programs/$P" -H "$H" -H 'content-type: application/json' -d "{\"description\":\"change $i\"}"
done
end=$(date +%s.%N)
echo "1000 audited PATCHes (sequential curl): $(python3 -c "print(round($end-$start,2))") s"
PERSON=$(curl -s "http://127.0.0.1:18087/api/v1/people?is_admin=false&limit=1" -H "$H" | python3 -c 'import sys,json;p=json.load(sys.stdin)["items"][0];print(p["id"], p["email"])')
set -- $PERSON
curl -s -o /dev/null -w "export: %{http_code} in %{time_total} s, %{size_download} bytes\n" "http://127.0.0.1:18087/api/v1/people/$1/export" -H "$H"
curl -s -o /dev/null -w "erase: %{http_code} in %{time_total} s\n" -X POST "http://127.0.0.1:18087/api/v1/people/$1/erase" -H "$H" -H 'content-type: application/json' -d "{\"confirm\":\"$2\"}"
curl -s -o /dev/null -w "audit-log page of 50: %{http_code} in %{time_total} s\n" "http://127.0.0.1:18087/api/v1/audit-log?limit=50&object_type=program" -H "$H"
curl -s -o /dev/null -w "audit-log CSV export: %{http_code} in %{time_total} s, %{size_download} bytes\n" "http://127.0.0.1:18087/api/v1/audit-log/export" -H "$H"
