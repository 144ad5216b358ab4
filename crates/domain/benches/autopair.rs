//! Auto-pair solvers on dense random instances; see docs/benchmarks.md ("Auto-pair solver").
//!
//! `cargo bench -p cohort-domain --bench autopair` (a name after `--` filters, e.g. `-- fast/10000`);
//! `AUTOPAIR_ONCE=10000x2500` (see `main`) solves one instance once instead.
//! Before timing, each size prints the optimum's pairs and total score once, and on the big size the
//! greedy baseline's, to compare with `bench/autopair_scipy.py`, which builds the same instances.

use std::hint::black_box;
use std::time::Instant;

use cohort_domain::autopair::{solve, solve_reference, verify, Problem};
use criterion::{criterion_group, Criterion};

/// The instances' seed; bench/autopair_scipy.py uses the same.
const SEED: u64 = 2026;

/// SplitMix64: small, and easy to repeat in Python.
struct SplitMix(u64);

impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}

/// The default instance: scores 0..=100, capacities 1..=6.
fn instance(mentees: usize, mentors: usize, seed: u64) -> Problem {
    instance_with(mentees, mentors, 100, (1, 6), seed)
}

/// Capacities `lo..=hi` (draws 0..m), then the matrix row by row: a draw divisible by 10 forbids the
/// pair (10%), else its high half modulo `max_score + 1` is the score.
fn instance_with(mentees: usize, mentors: usize, max_score: u64, (lo, hi): (u64, u64), seed: u64) -> Problem {
    let mut rng = SplitMix(seed);
    let capacity = (0..mentors).map(|_| (lo + rng.next() % (hi - lo + 1)) as u32).collect();
    let mut problem = Problem::new(mentees, capacity);
    for i in 0..mentees {
        for j in 0..mentors {
            let r = rng.next();
            let score = (!r.is_multiple_of(10)).then_some(((r >> 32) % (max_score + 1)) as i32);
            problem.set(i, j, score);
        }
    }
    problem
}

/// The baseline: every allowed pair by score, best first (ties in matrix order), taken if the
/// mentee is free and the mentor has room. Returns (pairs, total score).
fn greedy(problem: &Problem) -> (usize, i64) {
    let (n, m) = (problem.mentees(), problem.mentors());
    let mut candidates: Vec<(i32, u32, u32)> = Vec::new();
    for i in 0..n {
        for j in 0..m {
            if let Some(s) = problem.score(i, j) {
                candidates.push((s, i as u32, j as u32));
            }
        }
    }
    candidates.sort_by_key(|&(s, i, j)| (std::cmp::Reverse(s), i, j));
    let mut paired = vec![false; n];
    let mut room = problem.capacity().to_vec();
    let (mut pairs, mut total) = (0, 0i64);
    for (s, i, j) in candidates {
        let (i, j) = (i as usize, j as usize);
        if !paired[i] && room[j] > 0 {
            paired[i] = true;
            room[j] -= 1;
            pairs += 1;
            total += i64::from(s);
        }
    }
    (pairs, total)
}

fn report(label: &str, problem: &Problem, with_greedy: bool) {
    let places: u64 = problem.capacity().iter().map(|&c| u64::from(c)).sum();
    let start = Instant::now();
    let solution = solve(problem);
    let took = start.elapsed();
    let start = Instant::now();
    verify(problem, &solution).expect("the certificate verifies");
    println!(
        "{label}: {} mentees, {} mentors, {places} places; optimum pairs={} total={} \
         (solve {took:.2?}, verify {:.2?}, certificate ok)",
        problem.mentees(),
        problem.mentors(),
        solution.pairs,
        solution.total_score,
        start.elapsed(),
    );
    if with_greedy {
        let (pairs, total) = greedy(problem);
        println!(
            "{label}: greedy pairs={pairs} total={total}; gap {} pairs, {} points",
            solution.pairs - pairs,
            solution.total_score - total
        );
    }
}

fn small(c: &mut Criterion) {
    let problem = instance(1_000, 250, SEED);
    report("1000x250", &problem, true);
    let mut group = c.benchmark_group("autopair");
    group.sample_size(10);
    group.bench_function("fast/1000x250", |b| b.iter(|| solve(black_box(&problem))));
    group.bench_function("reference/1000x250", |b| {
        b.iter(|| solve_reference(black_box(&problem)))
    });
    group.finish();
}

fn big(c: &mut Criterion) {
    let problem = instance(10_000, 2_500, SEED);
    report("10000x2500", &problem, true);
    let solution = solve(&problem);
    let mut group = c.benchmark_group("autopair");
    group.sample_size(10);
    group.bench_function("fast/10000x2500", |b| b.iter(|| solve(black_box(&problem))));
    group.bench_function("verify/10000x2500", |b| {
        b.iter(|| verify(black_box(&problem), &solution))
    });
    group.finish();
}

/// Harder than the default: scores 0..=1,000,000 leave few ties, so the optimum is not "every place
/// at its best score"; with capacities 2..=6 there are about as many places as mentees.
fn wide(c: &mut Criterion) {
    let mut group = c.benchmark_group("autopair");
    group.sample_size(10);
    for (name, capacity) in [("wide/10000x2500", (1, 6)), ("wide-full/10000x2500", (2, 6))] {
        let problem = instance_with(10_000, 2_500, 1_000_000, capacity, SEED);
        report(name, &problem, true);
        group.bench_function(name, |b| b.iter(|| solve(black_box(&problem))));
    }
    group.finish();
}

criterion_group!(benches, small, big, wide);

/// `AUTOPAIR_ONCE=NAME` (1000x250, 10000x2500, wide, wide-full, or MENTEES:MENTORS:MAX_SCORE:LO:HI for
/// scores 0..=MAX_SCORE and capacities LO..=HI) builds that instance, solves and verifies it once and
/// prints the figures, without criterion: for peak memory under `/usr/bin/time -v`, or other shapes.
fn main() {
    if let Ok(name) = std::env::var("AUTOPAIR_ONCE") {
        let problem = match name.as_str() {
            "1000x250" => instance(1_000, 250, SEED),
            "10000x2500" => instance(10_000, 2_500, SEED),
            "wide" => instance_with(10_000, 2_500, 1_000_000, (1, 6), SEED),
            "wide-full" => instance_with(10_000, 2_500, 1_000_000, (2, 6), SEED),
            _ => {
                let spec: Vec<u64> = name.split(':').map(|x| x.parse().expect("a number")).collect();
                let [n, m, max_score, lo, hi] = spec[..] else {
                    panic!("AUTOPAIR_ONCE: 1000x250, 10000x2500, wide, wide-full or MENTEES:MENTORS:MAX_SCORE:LO:HI");
                };
                instance_with(n as usize, m as usize, max_score, (lo, hi), SEED)
            }
        };
        report(&name, &problem, false);
        return;
    }
    benches();
    Criterion::default().configure_from_args().final_summary();
}
