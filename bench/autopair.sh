#!/usr/bin/env bash
# The auto-pair solver's benchmark (issue 6, "Measure"), in one run: every instance of
# crates/domain/benches/autopair.rs solved RUNS times (best kept) and verified, the greedy's gap, peak
# memory of the two largest (solve + verify, under /usr/bin/time -v), and scipy's linear_sum_assignment
# on the same 5,000 x 5,000 matrix (written by the bench), timed right after ours. Prints one table.
# Usage: bench/autopair.sh   (RUNS=3 by default; PYTHON=.tools/venv/bin/python, with scipy and numpy)
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS="${RUNS:-3}"
PYTHON="${PYTHON:-.tools/venv/bin/python}"
TARGET="$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys;print(json.load(sys.stdin)["target_directory"])')"
BIN="$(cargo bench -q -p cohort-domain --bench autopair --no-run --message-format=json |
  python3 -c 'import json,sys
for line in sys.stdin:
    m = json.loads(line)
    if m.get("reason") == "compiler-artifact" and m.get("executable") and m["target"]["name"] == "autopair":
        print(m["executable"])')"
NPY="$TARGET/autopair-5000.npy"
OUT="$(mktemp -d)"
trap 'rm -rf "$OUT"' EXIT

echo "== ours: best of $RUNS ($BIN)"
AUTOPAIR_RUNS="$RUNS" AUTOPAIR_ONCE=all AUTOPAIR_NPY="$NPY" "$BIN" --bench | tee "$OUT/ours"

echo "== peak memory (solve + verify, no greedy)"
for name in dense-10000x2500 quiz-10000x2500 square-5000; do
  AUTOPAIR_GREEDY=0 AUTOPAIR_ONCE="$name" AUTOPAIR_NPY=- /usr/bin/time -v "$BIN" --bench \
    > /dev/null 2> "$OUT/time"
  kib=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$OUT/time")
  echo "$name $kib" | tee -a "$OUT/rss"
done

echo "== scipy on $NPY"
expect=$(sed -n 's/^square-5000:.*optimum pairs=\([0-9]*\) total=\([0-9-]*\);.*/\1 \2/p' "$OUT/ours")
if "$PYTHON" -c 'import scipy, numpy' 2>/dev/null; then
  # shellcheck disable=SC2086
  "$PYTHON" bench/autopair_scipy.py --file "$NPY" --runs "$RUNS" --expect $expect | tee "$OUT/scipy"
else
  echo "no scipy in $PYTHON: skipped" | tee "$OUT/scipy"
fi

echo
python3 - "$OUT" <<'EOF'
import re, sys
out = sys.argv[1]
goals = {"1000x250": 50, "5000x1250": 1000, "10000x2500": 5000, "5000x5000": None}
rss = dict(line.split() for line in open(f"{out}/rss"))
scipy = re.search(r"in ([0-9.]+) ms", open(f"{out}/scipy").read())
print("| instance | places | distinct scores | ours (best of runs) | goal | scipy | greedy gap (points, share) | peak RSS |")
print("| --- | ---: | ---: | ---: | --- | ---: | --- | ---: |")
for line in open(f"{out}/ours"):
    m = re.match(r"(\S+): (\d+x\d+), (\d+) places, ~(\d+) distinct scores; optimum pairs=(\d+) total=(-?\d+); "
                 r"solve ([0-9.]+) ms.*greedy pairs=(\d+) total=(-?\d+) gap=(-?\d+) pairs (-?\d+) points \(([0-9.]+)%\)", line)
    if not m:
        continue
    name, size, places, distinct, pairs, total, ms, gp, gt, gap_pairs, gap_points, share = m.groups()
    ms = float(ms)
    goal = goals.get(size)
    verdict = f"< {goal} ms: {'met' if ms < goal else 'MISSED'}" if goal else \
        (f"≤ 1.5 × scipy: {'met' if scipy and ms <= 1.5 * float(scipy.group(1)) else 'MISSED'}")
    sc = f"{float(scipy.group(1)):.0f} ms" if scipy and name == "square-5000" else ""
    mem = f"{int(rss[name]) / 1024:.0f} MiB" if name in rss else ""
    gap = f"{gap_pairs} pairs, {int(gap_points):,} points ({share}%)"
    print(f"| {name} | {int(places):,} | {distinct} | {ms:.1f} ms | {verdict} | {sc} | {gap} | {mem} |")
EOF
