"""The auto-pair benchmark's instances, solved by scipy's linear_sum_assignment, to compare with ours.

    .tools/venv/bin/python bench/autopair_scipy.py --file target/autopair-5000.npy [--runs N] [--expect PAIRS TOTAL]
    .tools/venv/bin/python bench/autopair_scipy.py [MENTEES MENTORS] [--max-score N] [--capacity LO HI]
        [--expect PAIRS TOTAL]

With --file: reads the matrix the Rust bench wrote (`.npy`, int32, i32::MIN for a forbidden pair, one
place per mentor: the `square-5000` instance), and times linear_sum_assignment on it, best of --runs.
Without: older dense instances, rebuilt here:

Builds the same instance as crates/domain/benches/autopair.rs (SplitMix64 from seed 2026: capacities
LO..=HI first, then the matrix row by row; a draw divisible by 10 forbids the pair, else its high half
modulo MAX_SCORE + 1 is the score), expands each mentor into as many slots as its capacity, and solves
the mentee x slot matrix with linear_sum_assignment(maximize=True). An allowed pair weighs
score + BONUS, a forbidden one 0 (a slot or mentee that ends there is simply unpaired), so more pairs
beat any score, as in Cohort's solver. Prints pairs, total score and the time of the solve alone;
with --expect, exits 1 unless they equal ours (the bench prints "optimum pairs=... total=...").
"""

import argparse
import sys
import time

import numpy as np
from scipy.optimize import linear_sum_assignment

SEED = 2026
GAMMA = 0x9E3779B97F4A7C15
MASK = (1 << 64) - 1


def splitmix(seed: int, first: int, count: int) -> np.ndarray:
    """Draws first..first+count of SplitMix64 from `seed` (draw k uses state seed + (k+1) * GAMMA)."""
    k = np.arange(first + 1, first + count + 1, dtype=np.uint64)
    z = np.uint64(seed) + k * np.uint64(GAMMA)
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


def instance(mentees: int, mentors: int, max_score: int, lo: int, hi: int):
    """(capacity, scores, allowed) as the Rust bench builds them."""
    capacity = (np.uint64(lo) + splitmix(SEED, 0, mentors) % np.uint64(hi - lo + 1)).astype(np.int64)
    r = splitmix(SEED, mentors, mentees * mentors).reshape(mentees, mentors)
    allowed = r % np.uint64(10) != 0
    scores = ((r >> np.uint64(32)) % np.uint64(max_score + 1)).astype(np.int64)
    return capacity, scores, allowed


def from_file(args) -> int:
    scores = np.load(args.file)
    allowed = scores != np.iinfo(np.int32).min
    n = scores.shape[0]
    max_score = int(np.abs(scores[allowed]).max()) if allowed.any() else 0
    bonus = (2 * n + 1) * max_score + 1
    # With every pair allowed (square-5000) this is the score matrix itself, shifted by a constant.
    weight = np.where(allowed, scores.astype(np.float64) + bonus, 0.0)
    best = float("inf")
    for _ in range(max(args.runs, 1)):
        start = time.perf_counter()
        rows, cols = linear_sum_assignment(weight, maximize=True)
        best = min(best, time.perf_counter() - start)
    paired = allowed[rows, cols]
    pairs = int(paired.sum())
    total = int(scores[rows[paired], cols[paired]].astype(np.int64).sum())
    print(f"scipy linear_sum_assignment {scores.shape[0]}x{scores.shape[1]}: pairs={pairs} total={total} "
          f"in {best * 1e3:.1f} ms (best of {max(args.runs, 1)})")
    if args.expect is not None:
        same = tuple(args.expect) == (pairs, total)
        print(f"ours: pairs={args.expect[0]} total={args.expect[1]}: {'equal' if same else 'DIFFERENT'}")
        return 0 if same else 1
    return 0


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("mentees", type=int, nargs="?", default=10_000)
    parser.add_argument("mentors", type=int, nargs="?", default=2_500)
    parser.add_argument("--max-score", type=int, default=100)
    parser.add_argument("--capacity", type=int, nargs=2, default=(1, 6), metavar=("LO", "HI"))
    parser.add_argument("--expect", type=int, nargs=2, metavar=("PAIRS", "TOTAL"))
    parser.add_argument("--file", help="a capacity-1 matrix written by the Rust bench (.npy, int32)")
    parser.add_argument("--runs", type=int, default=1, help="with --file: time the best of this many")
    args = parser.parse_args()
    if args.file is not None:
        return from_file(args)
    n, m = args.mentees, args.mentors

    start = time.perf_counter()
    capacity, scores, allowed = instance(n, m, args.max_score, *args.capacity)
    # Any k + 1 pairs outweigh k pairs: (2k + 1) * max_score < bonus for k <= n. Weights stay exact
    # in float64 (sums far below 2**53).
    bonus = (2 * n + 1) * args.max_score + 1
    slot_mentor = np.repeat(np.arange(m), capacity)
    weight = np.where(allowed, scores + bonus, 0)[:, slot_mentor].astype(np.float64)
    built = time.perf_counter() - start
    print(f"{n}x{m}: {int(capacity.sum())} places, matrix {weight.shape[0]}x{weight.shape[1]} "
          f"({weight.nbytes / 2**20:.0f} MiB) built in {built:.1f} s", flush=True)

    start = time.perf_counter()
    rows, cols = linear_sum_assignment(weight, maximize=True)
    took = time.perf_counter() - start

    mentors = slot_mentor[cols]
    paired = allowed[rows, mentors]
    pairs = int(paired.sum())
    total = int(scores[rows[paired], mentors[paired]].sum())
    print(f"scipy linear_sum_assignment: pairs={pairs} total={total} in {took:.2f} s")
    if args.expect is not None:
        ours = tuple(args.expect)
        same = ours == (pairs, total)
        print(f"ours: pairs={ours[0]} total={ours[1]}: {'equal' if same else 'DIFFERENT'}")
        return 0 if same else 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
